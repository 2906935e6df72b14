"""The workflow's per-sample steps, files to files: infer, evaluate, triangulate, motifs, figures.

Each per-sample rule's script calls one step with its job's paths. A batch job
(``analysis.samples_per_job`` > 0) calls them all for each of its samples (:func:`analyse_sample`),
into one folder per sample whose file names are :data:`FILES`; so both ways write the same files
from the same code. ``inputs`` and ``outputs`` are mappings of names to paths (a Snakemake job's
``input`` and ``output``, or dicts).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from atomscope.io import ImageGrid, read_arrays, read_table, write_arrays, write_table

__all__ = ["FILES", "analyse_batch", "analyse_sample", "evaluate", "find_motifs", "infer", "plot_sample", "sample_files", "triangulate"]

log = logging.getLogger(__name__)

# the files each step writes, by output name (the per-sample rules' output names)
FILES: dict[str, dict[str, str]] = {
    "infer": {"maps": "maps.h5", "sites": "sites.parquet"},
    "evaluate": {"scores": "scores.parquet"},
    "triangulate": {name: f"{name}.parquet" for name in ("bonds", "angles", "rings", "adjacency", "defects", "summary")},
    "motifs": {"features": "features.parquet", "motifs": "motifs.parquet", "averages": "averages.h5", "hierarchy": "hierarchy.parquet"},
    "figures": {
        **{name: f"{name}.png" for name in ("overlay", "network", "statistics", "motifs", "symmetry", "hierarchy", "species", "frames")},
        "species_counts": "species.parquet",
        "species_sites": "species_sites.parquet",
    },
}
SITE_UNITS = {"x": "Å", "y": "Å", "x_px": "px", "y_px": "px", "x_corrected": "Å", "y_corrected": "Å", "sigma_x": "Å", "sigma_y": "Å"}


def sample_files(folder: str | Path, step: str) -> dict[str, Path]:
    """The paths of ``step``'s files in a batch job's ``folder`` of one sample."""
    return {name: Path(folder) / file for name, file in FILES[step].items()}


def infer(images: list[str], model: str | Path, outputs: Mapping, inference: dict, pixel_size: float | str | None, threads: int = 1) -> None:
    """Detect the sites of one sample (one file, or the co-registered files of a focal series) with
    ``model``; write ``maps`` (HDF5: preprocessed frames and heat maps at the model's pixel size) and
    ``sites`` (Parquet; its metadata records the pixel size and the ``lattice`` evidence)."""
    import torch

    from atomscope.inference import analyse_micrograph, lattice_evidence, maps_attrs, read_focal_series
    from atomscope.nets import load_model, pick_device, resolve_monolayer_model

    torch.set_num_threads(threads)
    micrograph = read_focal_series(images, pixel_size=pixel_size, pixel_size_from="sheet")
    spec, net = load_model(model)
    monolayer_file = resolve_monolayer_model(inference["monolayer_model"], model)
    frames = micrograph.frames
    log.info("%s: %d frame(s) of %s px at %.4f Å/px (pixel size from the %s)", micrograph.path, len(frames), frames.shape[1:], micrograph.sampling, micrograph.source)
    if monolayer_file is not None:
        log.info("monolayer drawn by %s", monolayer_file)
    monolayer_model = None if monolayer_file is None else load_model(monolayer_file)
    maps_images, maps, sites = analyse_micrograph(micrograph, spec, net, inference, device=pick_device(), monolayer_model=monolayer_model)
    attrs = maps_attrs(micrograph, spec, maps, model, monolayer_file)
    write_arrays(outputs["maps"], {"images": maps_images, "maps": maps}, attrs=attrs, config={"inference": inference}, units={"images": "1", "maps": "1"})
    record = {"inference": inference, "pixel_size": micrograph.pixel_size_record(), "lattice": lattice_evidence(sites)}
    write_table(sites, outputs["sites"], config=record, units=SITE_UNITS)
    log.info("detected %s", sites.groupby("kind").size().to_dict())


def evaluate(inputs: Mapping, truth: str | Path, outputs: Mapping, evaluation: dict, sample: str) -> None:
    """Score the detected ``sites`` against the ``truth`` table (kind, x, y [Å]) per frame and kind:
    precision, recall, F1 and localisation RMSE [Å], written to ``scores``."""
    from atomscope.labels import score_sites

    sites = read_table(inputs["sites"])
    true_sites = read_table(truth, columns=["kind", "x", "y"])
    grid = ImageGrid.from_attrs(read_arrays(inputs["maps"], [])[1]["image_grid"])
    tables = [
        score_sites(frame_sites, true_sites, grid=grid, match_radius=evaluation["match_radius"], border=evaluation["border"]).assign(frame=frame)
        for frame, frame_sites in sites.groupby("frame")
    ]
    scores = pd.concat(tables, ignore_index=True).assign(sample=sample)
    write_table(scores, outputs["scores"], config={"evaluation": evaluation}, units={"rmse": "Å"})
    log.info("%s", scores[["kind", "precision", "recall", "f1", "rmse"]].to_string(index=False))


def triangulate(inputs: Mapping, outputs: Mapping, geometry: dict) -> None:
    """Bonds, angles, rings, adjacency, defects and the per-frame summary of the detected ``sites``;
    with a monolayer head in ``maps`` only the monolayer is analysed (Leist et al. 2022)."""
    from atomscope.geometry import FRAME_TABLES, analyse_frames
    from atomscope.inference import recorded_monolayer
    from atomscope.labels import MONOLAYER

    sites = read_table(inputs["sites"])
    _, attrs = read_arrays(inputs["maps"], [])
    monolayer = None
    if MONOLAYER in attrs["target_names"]:
        monolayer = recorded_monolayer(read_arrays(inputs["maps"], ["maps"])[0]["maps"], attrs)
        log.info("monolayer head: %.1f %% of the field of view is monolayer", 100 * monolayer.mean())
    tables = analyse_frames(
        sites,
        min_bond=geometry["min_bond"],
        max_bond=geometry["max_bond"],
        r_max=geometry["pdf"]["r_max"],
        dr=geometry["pdf"]["dr"],
        region=ImageGrid.from_attrs(attrs["image_grid"]).region(),
        monolayer=monolayer,
        monolayer_sampling=ImageGrid.from_attrs(attrs["model_grid"]).sampling,
        rings=geometry["rings"],
        bond_factor=geometry["bond_factor"],
        max_coordination=geometry["max_coordination"],
        max_ring_size=geometry["max_ring_size"],
    )
    units = {"length": "Å", "angle": "deg", "area": "Å^2", "x": "Å", "y": "Å", "bond_length_mean": "Å", "bond_length_std": "Å", "angle_mean": "deg", "angle_std": "deg", "pdf_r": "Å"}
    for name in (*FRAME_TABLES, "summary"):
        write_table(tables[name], outputs[name], config={"geometry": geometry}, units=units)
    log.info("%s", tables["summary"].drop(columns=["pdf_r", "pdf_g"]).T.to_string())
    log.info("defects: %s", tables["defects"]["defect"].value_counts().to_dict())


def find_motifs(inputs: Mapping, outputs: Mapping, motifs: dict) -> None:
    """Zernike ``features`` of the atoms, their motif layout and labels (``motifs``), the class
    ``averages`` and the motif-cell ``hierarchy`` (Dan et al. 2022)."""
    from atomscope.motifs import analyse_motifs, frame_hierarchies, level_entropy

    arrays, attrs = read_arrays(inputs["maps"], ["images"])
    sampling = ImageGrid.from_attrs(attrs["model_grid"]).sampling
    features, table, averages = analyse_motifs(arrays["images"][:, 0], sampling, read_table(inputs["sites"]), motifs)
    table, kinds = frame_hierarchies(table, dominant=motifs["dominant"])
    write_table(features, outputs["features"], config={"motifs": motifs}, units={"x": "Å", "y": "Å"})
    write_table(table, outputs["motifs"], config={"motifs": motifs}, units={"x": "Å", "y": "Å"})
    units = {"patches": "normalised image (zero mean, unit std per frame)", "pixel_size": "Å/px"}
    write_arrays(outputs["averages"], averages, attrs={"pixel_size": sampling}, config={"motifs": motifs}, units=units)
    write_table(kinds, outputs["hierarchy"], config={"motifs": motifs})
    log.info("%d atoms in %d motifs: %s", len(table), table["motif"].nunique(), table["motif"].value_counts().to_dict())
    log.info("motif-cell hierarchy (frames with a lattice): %s", level_entropy(kinds).to_dict("records") if len(kinds) else "no lattice")


def plot_sample(inputs: Mapping, outputs: Mapping, report: dict) -> None:
    """The eight figures of one sample (first frame; the last one frame by frame), its species
    counts with counting errors and its minority sites (vacancies, substitutions, dopants)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from atomscope.geometry import local_maps
    from atomscope.inference import drift_table, recorded_monolayer
    from atomscope.motifs import level_entropy
    from atomscope.report import (
        hierarchy_figure,
        minority_sites,
        motif_figure,
        network_maps_figure,
        overlay_figure,
        species_counts,
        species_figure,
        statistics_figure,
        symmetry_figure,
        time_series_figure,
    )

    arrays, attrs = read_arrays(inputs["maps"], ["images", "maps"])
    image, sampling = arrays["images"][0, 0], ImageGrid.from_attrs(attrs["model_grid"]).sampling
    monolayer = recorded_monolayer(arrays["maps"][:1], attrs)
    monolayer = None if monolayer is None else monolayer[0]  # the first frame's
    tables = {name: read_table(inputs[name]) for name in ("sites", "bonds", "angles", "rings", "defects", "summary", "motifs", "hierarchy")}
    first = {name: tables[name][tables[name]["frame"] == 0] for name in ("sites", "bonds", "rings", "defects", "motifs", "hierarchy")}
    sites = first["sites"].reset_index(drop=True)
    kinds = first["hierarchy"].reset_index(drop=True)
    grid = ImageGrid(image.shape, sampling)
    counts = species_counts(tables["sites"])
    cmap = report["ring_colormap"]
    figures = {
        "overlay": overlay_figure(image, sampling, sites, first["bonds"], first["rings"], cmap=cmap, monolayer=monolayer),
        "network": network_maps_figure(image, grid, sites, first["rings"], first["defects"], local_maps(sites, first["bonds"], first["rings"], grid), cmap=cmap),
        "statistics": statistics_figure(tables["bonds"], tables["angles"], tables["rings"], tables["summary"]),
        "motifs": motif_figure(image, sampling, first["motifs"], averages=read_arrays(inputs["averages"])[0]),
        "symmetry": symmetry_figure(image, sampling, first["motifs"]),
        "hierarchy": hierarchy_figure(image, sampling, first["motifs"], kinds, level_entropy(kinds)),
        "species": species_figure(image, sampling, sites, counts[counts["frame"] == 0]),
        "frames": time_series_figure(tables["summary"], drift_table(tables["sites"])),
    }
    write_table(counts, outputs["species_counts"])
    write_table(minority_sites(tables["sites"], counts), outputs["species_sites"], units={"x": "Å", "y": "Å", "x_px": "px", "y_px": "px"})
    for name, figure in figures.items():
        figure.savefig(outputs[name], dpi=report["dpi"])
        plt.close(figure)
    log.info("wrote %s", list(figures))


def analyse_sample(sample: str, spec: Mapping[str, Any], folder: str | Path, sections: Mapping[str, dict], threads: int = 1) -> None:
    """Every per-sample step of one sample into ``folder`` (the files of :data:`FILES`; scores
    only with a truth). ``spec``: ``images`` (one file, or a focal series' files), ``pixel_size``
    (the sheet's: [Å/px], auto:NAME or None), ``truth`` (a path or None), ``model`` (a model
    file) and ``inference`` (the section, with the sheet's elements); ``sections``: evaluation,
    geometry, motifs and report. Bad input raises with the sample's name before its message."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    found = sample_files(folder, "infer")
    try:
        infer(spec["images"], spec["model"], found, spec["inference"], spec["pixel_size"], threads=threads)
    except (ValueError, FileNotFoundError, TypeError) as error:
        raise type(error)(f"sample {sample!r}: {error}") from error
    if spec["truth"] is not None:
        evaluate(found, spec["truth"], sample_files(folder, "evaluate"), sections["evaluation"], sample)
    geometry, motifs = sample_files(folder, "triangulate"), sample_files(folder, "motifs")
    triangulate(found, geometry, sections["geometry"])
    find_motifs(found, motifs, sections["motifs"])
    plot_sample({**found, **geometry, **motifs}, sample_files(folder, "figures"), sections["report"])


def analyse_batch(samples: Mapping[str, Mapping[str, Any]], folder: str | Path, sections: Mapping[str, dict], threads: int = 1) -> None:
    """:func:`analyse_sample` for each of ``samples`` (name -> spec) into ``folder``/name, in order."""
    for number, (sample, spec) in enumerate(samples.items(), start=1):
        log.info("sample %d of %d: %s", number, len(samples), sample)
        analyse_sample(sample, spec, Path(folder) / sample, sections, threads=threads)
