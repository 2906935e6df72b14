"""Command line: ``atomscope analyse FILE... [--model NAME|PATH]``, the workflow's per-image steps
(inference, triangulation, statistics) without Snakemake, with a shipped model by default;
``atomscope triangulate SITES`` re-analyses a sites table or another tool's position list;
``atomscope models`` lists the shipped models."""

from __future__ import annotations

import argparse
import glob
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from atomscope.config import defaults

__all__ = ["main"]

log = logging.getLogger("atomscope")

#: Output formats of ``analyse --format``: Parquet tables always, CSV and extended XYZ copies on request.
FORMATS = ("parquet", "csv", "extxyz")

EXIT_CODES = """exit codes:
  0  every file was analysed
  1  an unexpected failure, a bug: its traceback is printed (please report it)
  2  a usage error, or bad input in at least one file: one line per such file names it, the
     problem and the fix; the other files are still analysed"""

# Errors atomscope raises for bad input; their messages name the file, the problem and the fix.
BAD_INPUT = (ValueError, FileNotFoundError, TypeError)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line, like every other error of atomscope."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Arguments; the defaults are those of the config schema's ``inference`` and ``geometry`` sections."""
    inference, geometry = defaults("inference"), defaults("geometry")
    parser = _Parser(prog="atomscope", description=__doc__, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    analyse = commands.add_parser(
        "analyse", help="detect atoms and rings in micrographs", description="Detect atoms, bonds and rings in each micrograph.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyse.add_argument(
        "images", nargs="+", metavar="FILE",
        help="micrograph files (.tif .npy .dm3 .dm4 .emd .ser .hspy .png), or quoted glob patterns ('data/*.dm4')",
    )
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
        help="pixel size [Å/px, 0.005-5] for every file, needed where a file has none, or auto:graphene (auto:hBN, auto:MoS2, "
        "auto:MoSe2, auto:WS2, auto:A for a lattice constant A [Å]) to measure it from each file's lattice",
    )
    analyse.add_argument(
        "--out", type=Path, default=None,
        help="output folder; with several files, the folder that holds one subfolder per file, named after it "
        "(default: FILE's name + '_atomscope', beside each file)",
    )
    analyse.add_argument(
        "--format", type=_formats, default=("parquet",), metavar="FORMATS",
        help="comma-separated: parquet (always), csv (sites, bonds, angles, rings and summary also as CSV), "
        "extxyz (sites as extended XYZ for ASE and OVITO), e.g. --format csv,extxyz",
    )
    add = analyse.add_argument
    add("--threshold", type=float, default=inference["threshold"], help="smallest heat-map peak that counts (default %(default)s)")
    add("--min-distance", type=float, default=inference["min_distance"], help="smallest distance between sites [Å] (default %(default)s)")
    add("--monolayer-threshold", type=_probability, default=inference["monolayer_threshold"],
        help="models with a monolayer head: the monolayer is where its p(monolayer) is at least this; higher marks more as contamination (default %(default)s)")
    add("--monolayer-model", default=inference["monolayer_model"], metavar="NAME|PATH",
        help="the model whose monolayer head draws the monolayer: auto (a shipped model's coarse-grid companion where it has one: "
        "carbon_hrtem_monolayer for carbon_hrtem; else the model's own head), none (the model's own head), or a shipped model's name "
        "or a model file (default %(default)s)")
    add("--tile-px", type=int, default=inference["tile_px"], help="tile side [px] (default %(default)s)")
    add("--overlap-px", type=int, default=inference["overlap_px"], help="tile overlap [px] (default %(default)s)")
    add("--elements", type=_elements, default=None, metavar="SYMBOLS",
        help="comma-separated chemical symbols the sample holds, e.g. Mo,S,Se: a species model never calls a class of another element")
    add("--augment", action="store_true", help="test-time augmentation: average the maps over the 8 rotations and flips (8x slower) and give each site sigma_x, sigma_y [Å]")
    _add_geometry_options(analyse, geometry)
    triangulate = commands.add_parser(
        "triangulate", help="bonds, rings, defects and statistics of a sites table or a position list",
        description="Bonds, angles, rings, named defects, strain maps and statistics of positions found elsewhere: "
        "atomscope's sites.parquet, or another tool's list (CSV or Parquet with x, y in Å, or in px with --pixel-size; "
        "Atomap HDF5; extended XYZ).",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    triangulate.add_argument("positions", type=Path, metavar="SITES", help="sites.parquet, or a position list (.csv .parquet .hdf5 .extxyz)")
    triangulate.add_argument("--pixel-size", type=float, default=None, help="the positions are pixels of this size [Å/px] (default: Å)")
    triangulate.add_argument("--out", type=Path, default=None, help="output folder (default: SITES's name + '_geometry', beside it)")
    triangulate.add_argument("--format", type=_formats, default=("parquet",), metavar="FORMATS", help="parquet (always), csv: the tables also as CSV")
    _add_geometry_options(triangulate, geometry)
    commands.add_parser("models", help="list the shipped models: what each was trained for, its pixel size and scores")
    return parser


def _add_geometry_options(parser: argparse.ArgumentParser, geometry: dict[str, Any]) -> None:
    """The geometry options both ``analyse`` and ``triangulate`` take, with the config's defaults."""
    from atomscope.geometry import RING_METHODS

    add = parser.add_argument
    add("--min-bond", type=float, default=geometry["min_bond"], help="shortest bond [Å] (default %(default)s)")
    add("--max-bond", type=float, default=geometry["max_bond"], help="longest bond [Å] (default %(default)s)")
    add(
        "--rings", choices=RING_METHODS, default=geometry["rings"],
        help="rings from polygon centres, as faces of the atoms' bond graph, or auto: centres when there are any (default %(default)s)",
    )
    add("--bond-factor", type=float, default=geometry["bond_factor"], help="first shell in typical bonds (default %(default)s)")


def geometry_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`atomscope.geometry.analyse_frames` that the command line sets."""
    geometry = defaults("geometry")
    return {
        "min_bond": args.min_bond, "max_bond": args.max_bond, "rings": args.rings, "bond_factor": args.bond_factor,
        "max_coordination": geometry["max_coordination"], "max_ring_size": geometry["max_ring_size"], "r_max": geometry["pdf"]["r_max"],
        "dr": geometry["pdf"]["dr"],
    }


def _pixel_size(text: str) -> float | str:
    """``--pixel-size``: a number [Å/px] in the atomic range or ``auto:...`` text for the reader to measure."""
    from atomscope.io import parse_pixel_size

    try:
        return parse_pixel_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def _formats(text: str) -> tuple[str, ...]:
    """``--format``: comma-separated names of :data:`FORMATS`; Parquet is always among them."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown)}: not a format; choose from {', '.join(FORMATS)}")
    return tuple(name for name in FORMATS if name == "parquet" or name in names)


def _elements(text: str) -> list[str]:
    """``--elements``: comma-separated chemical symbols (Mo,S,Se)."""
    from atomscope.io import parse_elements

    try:
        return parse_elements(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _probability(text: str) -> float:
    """``--monolayer-threshold``: a number strictly between 0 and 1."""
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not strictly between 0 and 1 (a probability the monolayer head's map is compared with)")
    return value


def expand_images(patterns: list[str]) -> tuple[list[Path], list[str]]:
    """The files the arguments name: each glob pattern (``*``, ``?``, ``[``) expanded to its files in
    sorted order, other arguments as they are; and one error line per pattern that matches no file."""
    images, errors = [], []
    for pattern in patterns:
        if not glob.has_magic(pattern):
            images.append(Path(pattern))
            continue
        matches = sorted(Path(match) for match in glob.glob(pattern, recursive=True) if Path(match).is_file())
        if not matches:
            errors.append(f"{pattern}: no file matches this pattern; check the folder and the quotes around it")
        images.extend(matches)
    return images, errors


def output_folders(images: list[Path], out: Path | None) -> list[Path]:
    """Each image's output folder: ``out`` itself for one image, else ``out/STEM`` (or, without
    ``out``, ``STEM_atomscope`` beside each image). Two images with one folder are an error."""
    if out is not None and len(images) == 1:
        return [out]
    folders = [out / image.stem if out is not None else image.with_name(image.stem + "_atomscope") for image in images]
    seen: dict[Path, Path] = {}
    for image, folder in zip(images, folders):
        if folder in seen and seen[folder] != image:
            raise ValueError(f"{seen[folder]} and {image} would both write to {folder}; rename one, or analyse them in two runs with --out")
        seen.setdefault(folder, image)
    return folders


def analyse(args: argparse.Namespace) -> int:
    """Analyse every file of ``args.images`` (see :func:`analyse_file`) with one model, a progress bar
    over the files; bad input in one file is one line on stderr and the others go on. Returns the exit code."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from atomscope.inference import allowed_classes
    from atomscope.nets import DEFAULT_MODEL, load_model, resolve_model, resolve_monolayer_model

    images, failures = expand_images(args.images)
    for line in failures:
        print(f"atomscope: error: {line}", file=sys.stderr)
    images = list(dict.fromkeys(images))  # a file named twice (by a pattern and by name) once
    if not images:
        return 2
    folders = output_folders(images, args.out)
    model = resolve_model(args.model or DEFAULT_MODEL)
    spec, net = load_model(model)
    try:
        allowed_classes(spec, args.elements)
    except ValueError as error:
        print(f"atomscope: error: --elements: {error} (model {model.name})", file=sys.stderr)
        return 2
    try:
        monolayer_file = resolve_monolayer_model(args.monolayer_model, model)
    except FileNotFoundError as error:
        print(f"atomscope: error: --monolayer-model: {error}", file=sys.stderr)
        return 2
    monolayer_from = None if monolayer_file is None else (monolayer_file, load_model(monolayer_file))
    code = 2 if failures else 0
    with logging_redirect_tqdm():
        for image, out in zip(tqdm(images, desc="micrographs", unit="file", disable=None if len(images) > 1 else True), folders):
            try:
                analyse_file(image, out, args, model, spec, net, monolayer_from)
            except BAD_INPUT as error:
                tqdm.write(f"atomscope: error: {_one_line(error, image)}", file=sys.stderr)
                code = code or 2
            except Exception:  # a bug: report it with its traceback, then go on with the other files
                log.exception("%s: unexpected failure, please report it", image)
                code = 1
    return code


def _one_line(error: BaseException, image: Path | None = None) -> str:
    """The error's message on one line, starting with ``image`` when it does not name it."""
    message = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return message if image is None or str(image) in message else f"{image}: {message}"


def analyse_file(image: Path, out: Path, args: argparse.Namespace, model: Path, spec: Any, net: Any, monolayer_from: tuple[Path, Any] | None = None) -> Path:
    """Run inference and geometry on one image; write sites, maps (maps.h5, as the workflow's),
    geometry tables and an overlay figure to ``out`` (and the copies ``args.format`` asks for).
    With a model that has a monolayer head, only the monolayer is analysed (sites outside are left
    out, rings reaching out of it are incomplete); ``monolayer_from`` (a model file and its loaded spec
    and network) draws it instead of the model's own head. Nothing is written when the image is refused."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from atomscope.geometry import analyse_frames, local_maps
    from atomscope.inference import analyse_micrograph, class_channels, drift_table, lattice_evidence, map_names, maps_attrs, monolayer_mask, read_micrograph
    from atomscope.io import ImageGrid, write_arrays, write_csv, write_extxyz, write_table
    from atomscope.nets import pick_device
    from atomscope.report import minority_sites, network_maps_figure, overlay_figure, species_counts, species_figure, time_series_figure

    micrograph = read_micrograph(image, pixel_size=args.pixel_size, pixel_size_from="cli")
    inference = {
        "threshold": args.threshold, "min_distance": args.min_distance, "tile_px": args.tile_px, "overlap_px": args.overlap_px,
        "monolayer_threshold": args.monolayer_threshold, "monolayer_model": args.monolayer_model, "augment": args.augment, "elements": args.elements,
    }
    monolayer_file, monolayer_model = monolayer_from or (None, None)
    images, maps, sites = analyse_micrograph(micrograph, spec, net, inference, device=pick_device(), monolayer_model=monolayer_model)
    names = map_names(spec)
    monolayer = monolayer_mask(maps, names, args.monolayer_threshold)
    grid = ImageGrid(micrograph.frames.shape[1:], micrograph.sampling)
    options = geometry_options(args)
    tables = analyse_frames(sites, region=grid.region(), monolayer=monolayer, monolayer_sampling=spec.pixel_size, **options)
    first = {name: tables[name][tables[name]["frame"] == 0] for name in ("bonds", "rings", "defects")}
    first_sites = sites[sites["frame"] == 0].reset_index(drop=True)
    figure = overlay_figure(
        images[0, 0], spec.pixel_size, first_sites, first["bonds"], first["rings"], monolayer=None if monolayer is None else monolayer[0],
    )
    drift = drift_table(sites)
    series = time_series_figure(tables["summary"], drift) if len(images) > 1 else None
    model_grid = ImageGrid(images.shape[-2:], spec.pixel_size)
    maps_figure = network_maps_figure(
        images[0, 0], model_grid, first_sites, first["rings"], first["defects"], local_maps(first_sites, first["bonds"], first["rings"], model_grid)
    )
    figures = {"overlay": figure, "network": maps_figure, **({"time_series": series} if series is not None else {})}
    if class_channels(spec) is not None:  # a species head: counts, concentrations, minority sites
        counts = species_counts(sites)
        tables = {**tables, "species": counts, "species_sites": minority_sites(sites, counts)}
        figures["species"] = species_figure(images[0, 0], spec.pixel_size, first_sites, counts[counts["frame"] == 0])

    def write(folder: Path) -> None:
        write_table(
            sites, folder / "sites.parquet",
            config={"inference": inference, "model": str(model), "pixel_size": micrograph.pixel_size_record(), "lattice": lattice_evidence(sites)},
            units={"x": "Å", "y": "Å", "x_px": "px", "y_px": "px", "x_corrected": "Å", "y_corrected": "Å", "sigma_x": "Å", "sigma_y": "Å"},
        )
        write_arrays(folder / "maps.h5", {"images": images, "maps": maps}, attrs=maps_attrs(micrograph, spec, maps, model, monolayer_file), config={"inference": inference})
        for name, table in tables.items():
            write_table(table, folder / f"{name}.parquet", config={"geometry": options})
        if "csv" in args.format:
            for name, table in {"sites": sites, **tables}.items():
                write_csv(table, folder / f"{name}.csv")
        if "extxyz" in args.format:
            write_extxyz(sites, folder / "sites.extxyz")
        for name, fig in figures.items():
            fig.savefig(folder / f"{name}.png", dpi=120)
        if series is not None:
            write_table(drift, folder / "drift.parquet", units={"dx": "Å", "dy": "Å"})

    try:
        _write_all(out, write)
    finally:
        for fig in figures.values():
            plt.close(fig)
    summary = tables["summary"].iloc[0]
    log.info(
        "%s (%s): %d atoms, %d bonds, mean bond %.3f Å, %d complete rings -> %s",
        image, model.name, summary["n_atoms"], summary["n_bonds"], summary["bond_length_mean"], summary["n_complete_rings"], out,
    )
    return out


def triangulate(args: argparse.Namespace) -> Path:
    """Bonds, rings, defects and statistics of ``args.positions`` (see :func:`atomscope.io.read_positions`),
    every frame in its own bounding box; the tables and ``network.png`` (first frame) to ``args.out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from atomscope.geometry import FRAME_TABLES, analyse_frames, local_maps, nearest_distances
    from atomscope.io import ImageGrid, read_positions, write_csv, write_table
    from atomscope.report import network_maps_figure

    sites = read_positions(args.positions, pixel_size=args.pixel_size)
    distances = nearest_distances(sites)
    spacing = float(np.median(distances)) if len(distances) else float("nan")
    if not 0.5 <= spacing <= 5.0:
        unit = "px" if args.pixel_size is None else "Å"
        raise ValueError(
            f"{args.positions}: the atoms' median nearest-neighbour distance is {spacing:.3g} Å, not the 0.5-5 Å of atoms; "
            + ("are the positions in pixels? give their size with --pixel-size" if unit == "px" else "check --pixel-size")
        )
    out = args.out or args.positions.with_name(args.positions.stem + "_geometry")
    options = geometry_options(args)
    try:
        tables = analyse_frames(sites, **options)
    except ValueError as error:
        raise ValueError(f"{args.positions}: {error}") from None
    frame = sites["frame"].min()
    first = {name: tables[name][tables[name]["frame"] == frame] for name in ("bonds", "rings", "defects")}
    first_sites = sites[sites["frame"] == frame].reset_index(drop=True)
    spacing = 0.1  # [Å/px] of the maps
    grid = ImageGrid(tuple(int(np.ceil(v / spacing)) + 1 for v in first_sites[["y", "x"]].max().clip(lower=spacing)), spacing)
    maps = local_maps(first_sites, first["bonds"], first["rings"], grid)
    figure = network_maps_figure(None, grid, first_sites, first["rings"], first["defects"], maps)

    def write(folder: Path) -> None:
        for name in (*FRAME_TABLES, "summary"):
            write_table(tables[name], folder / f"{name}.parquet", config={"geometry": options, "positions": str(args.positions)})
            if "csv" in args.format:
                write_csv(tables[name], folder / f"{name}.csv")
        figure.savefig(folder / "network.png", dpi=120)

    try:
        _write_all(out, write)
    finally:
        plt.close(figure)
    summary = tables["summary"]
    log.info(
        "%s: %d frame(s), %d atoms, %d bonds (mean %.3f Å), %d complete rings, defects %s -> %s",
        args.positions, len(summary), summary["n_atoms"].sum(), summary["n_bonds"].sum(), tables["bonds"]["length"].mean(),
        summary["n_complete_rings"].sum(), tables["defects"]["defect"].value_counts().to_dict(), out,
    )
    return out


def _write_all(out: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a hidden folder beside ``out``, then move its files into ``out``: a
    failure while writing leaves no partial output (and keeps an earlier run's)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    try:
        write(staging)
        out.mkdir(exist_ok=True)
        for file in staging.iterdir():
            os.replace(file, out / file.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
    """Entry point of the ``atomscope`` command; the exit codes are :data:`EXIT_CODES`."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)  # it logs a damaged file, which our one line reports
    args = build_parser().parse_args(argv)
    try:
        if args.command == "models":
            print("\n".join(models()))
            return 0
        if args.command == "triangulate":
            triangulate(args)
            return 0
        return analyse(args)
    except BAD_INPUT as error:  # a model or --out that no file can be analysed with
        print(f"atomscope: error: {_one_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
