"""Command line: ``atomscope analyse IMAGE --model MODEL``, the workflow's per-image steps
(inference, triangulation, statistics) without Snakemake."""

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
    analyse.add_argument("--model", type=Path, required=True, help="trained model (model.safetensors from the train rule)")
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
    add("--min-bond", type=float, default=geometry["min_bond"], help="shortest bond [Å] (default %(default)s)")
    add("--max-bond", type=float, default=geometry["max_bond"], help="longest bond [Å] (default %(default)s)")
    return parser


def _pixel_size(text: str) -> float | str:
    """``--pixel-size``: a number [Å/px] or ``auto:...`` text for the reader to measure."""
    from atomscope.io import parse_pixel_size

    try:
        return parse_pixel_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def analyse(args: argparse.Namespace) -> Path:
    """Run inference and geometry on one image; write sites and geometry tables to ``args.out``."""
    from atomscope.geometry import analyse_frames
    from atomscope.inference import analyse_micrograph, read_micrograph
    from atomscope.io import ImageGrid, write_table
    from atomscope.nets import load_model, pick_device

    out = args.out or args.image.with_name(args.image.stem + "_atomscope")
    micrograph = read_micrograph(args.image, pixel_size=args.pixel_size, pixel_size_from="cli")
    spec, net = load_model(args.model)
    inference = {"threshold": args.threshold, "min_distance": args.min_distance, "tile_px": args.tile_px, "overlap_px": args.overlap_px}
    _, _, sites = analyse_micrograph(micrograph, spec, net, inference, device=pick_device())
    grid = ImageGrid(micrograph.frames.shape[1:], micrograph.sampling)
    tables = analyse_frames(sites, min_bond=args.min_bond, max_bond=args.max_bond, region=grid.region())
    write_table(sites, out / "sites.parquet", config={"inference": inference, "pixel_size": micrograph.pixel_size_record()}, units={"x": "Å", "y": "Å"})
    for name, table in tables.items():
        write_table(table, out / f"{name}.parquet", config={"min_bond": args.min_bond, "max_bond": args.max_bond})
    summary = tables["summary"].iloc[0]
    log.info(
        "%s: %d atoms, %d bonds, mean bond %.3f Å, %d complete rings -> %s",
        args.image, summary["n_atoms"], summary["n_bonds"], summary["bond_length_mean"], summary["n_complete_rings"], out,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``atomscope`` command; bad input gives one line on stderr and exit 2."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    try:
        analyse(args)
    except (ValueError, FileNotFoundError, TypeError) as error:
        print(f"atomscope: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
