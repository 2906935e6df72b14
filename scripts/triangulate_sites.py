"""Bonds, rings and statistics of the detected sites of one sample.

Inputs: ``sites`` (Parquet), ``maps`` (the field of view, and the monolayer head if the model
has one: sites outside the monolayer are left out, rings leaving it are incomplete). Outputs:
``bonds``, ``angles``, ``rings``, ``adjacency`` (ring sizes that neighbour), ``defects`` (by
name) and ``summary`` (per frame: counts, bond/angle moments, ring fractions with errors,
coordination, Aboav-Weaire, g(r)). Config: ``geometry``.
"""

from atomscope.geometry import FRAME_TABLES, analyse_frames
from atomscope.io import ImageGrid, read_arrays, read_table, write_table
from atomscope.labels import MONOLAYER
from atomscope.logs import configure_logging

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    cfg = snakemake.params.geometry
    sites = read_table(snakemake.input.sites)
    _, attrs = read_arrays(snakemake.input.maps, [])
    region = ImageGrid.from_attrs(attrs["image_grid"]).region()
    # a model with a monolayer head: only monolayer regions are analysed (Leist et al. 2022)
    monolayer = None
    if MONOLAYER in attrs["target_names"]:
        maps = read_arrays(snakemake.input.maps, ["maps"])[0]["maps"]
        monolayer = maps[:, attrs["target_names"].index(MONOLAYER)] >= 0.5
        log.info("monolayer head: %.1f %% of the field of view is monolayer", 100 * monolayer.mean())
    tables = analyse_frames(
        sites,
        min_bond=cfg["min_bond"],
        max_bond=cfg["max_bond"],
        r_max=cfg["pdf"]["r_max"],
        dr=cfg["pdf"]["dr"],
        region=region,
        monolayer=monolayer,
        monolayer_sampling=ImageGrid.from_attrs(attrs["model_grid"]).sampling,
        rings=cfg["rings"],
        bond_factor=cfg["bond_factor"],
        max_coordination=cfg["max_coordination"],
        max_ring_size=cfg["max_ring_size"],
    )
    units = {"length": "Å", "angle": "deg", "area": "Å^2", "x": "Å", "y": "Å", "bond_length_mean": "Å", "bond_length_std": "Å", "angle_mean": "deg", "angle_std": "deg", "pdf_r": "Å"}
    for name in (*FRAME_TABLES, "summary"):
        write_table(tables[name], snakemake.output[name], config={"geometry": cfg}, units=units)
    log.info("%s", tables["summary"].drop(columns=["pdf_r", "pdf_g"]).T.to_string())
    log.info("defects: %s", tables["defects"]["defect"].value_counts().to_dict())
