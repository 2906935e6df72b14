"""Command line: ``atomscope analyse IMAGE [--model NAME|PATH]``, the workflow's per-image steps
(inference, triangulation, statistics) without Snakemake, with a shipped model by default;
``atomscope models`` lists the shipped models."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from atomscope.config import defaults

__all__ = ["main"]

log = logging.getLogger("atomscope")


def build_parser() -> argparse.ArgumentParser:
    """Arguments; the defaults are those of the config schema's ``inference`` and ``geometry`` sections."""
    inference, geometry = defaults("inference"), defaults("geometry")
    parser = argparse.ArgumentParser(prog="atomscope", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    analyse = commands.add_parser("analyse", help="detect atoms and rings in one micrograph")
    analyse.add_argument("image", type=Path, help="micrograph file (.tif .npy .dm3 .dm4 .emd .ser .hspy .png)")
    analyse.add_argument(
        "--model",
        default=None,
        help="a shipped model's name (`atomscope models` lists them; default: carbon_hrtem) or a model file "
        "(model.safetensors from the train rule)",
    )
    analyse.add_argument(
        "--pixel-size",
        type=_pixel_size,
        default=None,
        help="pixel size [Å/px] if the file has none, or auto:graphene (auto:hBN, auto:MoS2, auto:MoSe2, auto:WS2, "
        "auto:A for a lattice constant A [Å]) to measure it from the lattice",
    )
    analyse.add_argument("--out", type=Path, default=None, help="output folder (default: IMAGE's name + '_atomscope')")
    add = analyse.add_argument
    add("--threshold", type=float, default=inference["threshold"], help="smallest heat-map peak that counts (default %(default)s)")
    add("--min-distance", type=float, default=inference["min_distance"], help="smallest distance between sites [Å] (default %(default)s)")
    add("--tile-px", type=int, default=inference["tile_px"], help="tile side [px] (default %(default)s)")
    add("--overlap-px", type=int, default=inference["overlap_px"], help="tile overlap [px] (default %(default)s)")
    add("--augment", action="store_true", help="average the maps over the 8 rotations and flips (8x slower; smoother on noisy images)")
    add("--min-bond", type=float, default=geometry["min_bond"], help="shortest bond [Å] (default %(default)s)")
    add("--max-bond", type=float, default=geometry["max_bond"], help="longest bond [Å] (default %(default)s)")
    commands.add_parser("models", help="list the shipped models: what each was trained for, its pixel size and scores")
    return parser


def _pixel_size(text: str) -> float | str:
    """``--pixel-size``: a number [Å/px] or ``auto:...`` text for the reader to measure."""
    from atomscope.io import parse_pixel_size

    try:
        return parse_pixel_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def analyse(args: argparse.Namespace) -> Path:
    """Run inference and geometry on one image; write sites, maps (maps.h5, as the workflow's),
    geometry tables and an overlay figure to ``args.out``. With a model that has a monolayer head, only the monolayer is
    analysed (sites outside are left out, rings reaching out of it are incomplete)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from atomscope.geometry import analyse_frames
    from atomscope.inference import analyse_micrograph, maps_attrs, read_micrograph
    from atomscope.io import ImageGrid, write_arrays, write_table
    from atomscope.labels import MONOLAYER
    from atomscope.nets import DEFAULT_MODEL, load_model, pick_device, resolve_model
    from atomscope.report import overlay_figure

    out = args.out or args.image.with_name(args.image.stem + "_atomscope")
    micrograph = read_micrograph(args.image, pixel_size=args.pixel_size, pixel_size_from="cli")
    model = resolve_model(args.model or DEFAULT_MODEL)
    spec, net = load_model(model)
    inference = {
        "threshold": args.threshold, "min_distance": args.min_distance, "tile_px": args.tile_px, "overlap_px": args.overlap_px,
        "augment": args.augment,
    }
    images, maps, sites = analyse_micrograph(micrograph, spec, net, inference, device=pick_device())
    monolayer = maps[:, spec.head_names.index(MONOLAYER)] >= 0.5 if MONOLAYER in spec.head_names else None
    grid = ImageGrid(micrograph.frames.shape[1:], micrograph.sampling)
    tables = analyse_frames(
        sites, min_bond=args.min_bond, max_bond=args.max_bond, region=grid.region(), monolayer=monolayer, monolayer_sampling=spec.pixel_size
    )
    write_table(
        sites, out / "sites.parquet",
        config={"inference": inference, "model": str(model), "pixel_size": micrograph.pixel_size_record()}, units={"x": "Å", "y": "Å"},
    )
    write_arrays(out / "maps.h5", {"images": images, "maps": maps}, attrs=maps_attrs(micrograph, spec, maps, model), config={"inference": inference})
    for name, table in tables.items():
        write_table(table, out / f"{name}.parquet", config={"min_bond": args.min_bond, "max_bond": args.max_bond})
    first = {name: tables[name][tables[name]["frame"] == 0] for name in ("bonds", "rings")}
    figure = overlay_figure(
        images[0, 0], spec.pixel_size, sites[sites["frame"] == 0].reset_index(drop=True), first["bonds"], first["rings"],
        monolayer=None if monolayer is None else monolayer[0],
    )
    figure.savefig(out / "overlay.png", dpi=120)
    plt.close(figure)
    summary = tables["summary"].iloc[0]
    log.info(
        "%s (%s): %d atoms, %d bonds, mean bond %.3f Å, %d complete rings -> %s",
        args.image, model.name, summary["n_atoms"], summary["n_bonds"], summary["bond_length_mean"], summary["n_complete_rings"], out,
    )
    return out


def models() -> list[str]:
    """One line per shipped model: name, preset, input, pixel size, heads, validation F1, card."""
    from atomscope.io import read_model
    from atomscope.nets import DEFAULT_MODEL, models_dir, shipped_models

    shipped = shipped_models()
    if not shipped:
        return [f"no shipped models in {models_dir()}"]
    lines = []
    for name, path in shipped.items():
        spec, _ = read_model(path)
        f1 = ", ".join(f"{k[:-3]} F1 {v:.3f}" for k, v in spec.scores.items() if k.endswith("_f1"))
        default = " (default)" if name == DEFAULT_MODEL else ""
        lines.append(
            f"{name}{default}: {spec.architecture}, input {'+'.join(spec.channel_names)} at {spec.pixel_size:.3f} Å/px, "
            f"{spec.normalisation} normalisation, heads {', '.join(spec.head_names)}; validation {f1}; card {path.with_suffix('.md')}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``atomscope`` command; bad input gives one line on stderr and exit 2."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "models":
            print("\n".join(models()))
        else:
            analyse(args)
    except (ValueError, FileNotFoundError, TypeError) as error:
        print(f"atomscope: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
