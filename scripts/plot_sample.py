"""Figures of one sample: overlay of atoms, bonds and rings; rings, defects and strain maps;
statistics; motifs, their symmetry maps and motif-cell hierarchy; columns by species (first
frame); atoms, ring fractions, mean bond and drift frame by frame (a stack or movie).

Inputs: inference maps and sites, geometry tables, motifs, their class averages and hierarchy. Outputs:
eight PNG figures; the species counts per frame (with counting errors) and the minority sites
(vacancies, substitutions, dopants) as Parquet.
Config: ``report``.
"""

import matplotlib.pyplot as plt

from atomscope.geometry import local_maps
from atomscope.inference import drift_table
from atomscope.io import ImageGrid, read_arrays, read_table, write_table
from atomscope.labels import MONOLAYER
from atomscope.logs import configure_logging
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

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    cfg = snakemake.params.report
    arrays, attrs = read_arrays(snakemake.input.maps, ["images", "maps"])
    image, sampling = arrays["images"][0, 0], ImageGrid.from_attrs(attrs["model_grid"]).sampling
    heads = attrs["target_names"]
    monolayer = arrays["maps"][0, heads.index(MONOLAYER)] >= 0.5 if MONOLAYER in heads else None
    tables = {name: read_table(snakemake.input[name]) for name in ("sites", "bonds", "angles", "rings", "defects", "summary", "motifs", "hierarchy")}
    first = {name: tables[name][tables[name]["frame"] == 0] for name in ("sites", "bonds", "rings", "defects", "motifs", "hierarchy")}
    sites = first["sites"].reset_index(drop=True)
    kinds = first["hierarchy"].reset_index(drop=True)
    grid = ImageGrid(image.shape, sampling)
    counts = species_counts(tables["sites"])
    figures = {
        "overlay": overlay_figure(
            image, sampling, sites, first["bonds"], first["rings"], cmap=cfg["ring_colormap"], monolayer=monolayer,
        ),
        "network": network_maps_figure(
            image, grid, sites, first["rings"], first["defects"], local_maps(sites, first["bonds"], first["rings"], grid), cmap=cfg["ring_colormap"]
        ),
        "statistics": statistics_figure(tables["bonds"], tables["angles"], tables["rings"], tables["summary"]),
        "motifs": motif_figure(image, sampling, first["motifs"], averages=read_arrays(snakemake.input.averages)[0]),
        "symmetry": symmetry_figure(image, sampling, first["motifs"]),
        "hierarchy": hierarchy_figure(image, sampling, first["motifs"], kinds, level_entropy(kinds)),
        "species": species_figure(image, sampling, sites, counts[counts["frame"] == 0]),
        "frames": time_series_figure(tables["summary"], drift_table(tables["sites"])),
    }
    write_table(counts, snakemake.output.species_counts)
    write_table(minority_sites(tables["sites"], counts), snakemake.output.species_sites, units={"x": "Å", "y": "Å", "x_px": "px", "y_px": "px"})
    for name, figure in figures.items():
        figure.savefig(snakemake.output[name], dpi=cfg["dpi"])
        plt.close(figure)
    log.info("wrote %s", list(figures))
