"""Delaunay triangulation of the detected atoms and centres of one sample, and its statistics.

Inputs: ``sites`` (Parquet), ``maps`` (for the field of view). Outputs: ``bonds``, ``angles``,
``rings`` and ``summary`` (per frame: counts, bond/angle moments, ring fractions, g(r)).
Config: ``geometry``.
"""

from atomscope.geometry import analyse_frames
from atomscope.io import ImageGrid, read_arrays, read_table, write_table
from atomscope.logs import configure_logging

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    cfg = snakemake.params.geometry
    sites = read_table(snakemake.input.sites)
    _, attrs = read_arrays(snakemake.input.maps, [])
    region = ImageGrid.from_attrs(attrs["image_grid"]).region()
    tables = analyse_frames(
        sites, min_bond=cfg["min_bond"], max_bond=cfg["max_bond"], r_max=cfg["pdf"]["r_max"], dr=cfg["pdf"]["dr"], region=region
    )
    units = {"length": "Å", "angle": "deg", "area": "Å^2", "bond_length_mean": "Å", "bond_length_std": "Å", "angle_mean": "deg", "angle_std": "deg", "pdf_r": "Å"}
    for name in ("bonds", "angles", "rings", "summary"):
        write_table(tables[name], snakemake.output[name], config={"geometry": cfg}, units=units)
    log.info("%s", tables["summary"].drop(columns=["pdf_r", "pdf_g"]).to_string(index=False))
