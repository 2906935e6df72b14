"""Bonds, rings and statistics of the detected sites of one sample.

Inputs: ``sites`` (Parquet), ``maps`` (the field of view, and the monolayer head if the model
has one: sites outside the monolayer are left out, rings leaving it are incomplete). Outputs:
``bonds``, ``angles``, ``rings``, ``adjacency`` (ring sizes that neighbour), ``defects`` (by
name) and ``summary`` (per frame: counts, bond/angle moments, ring fractions with errors,
coordination, Aboav-Weaire, g(r)). Config: ``geometry``.
"""

from atomscope.logs import configure_logging
from atomscope.steps import triangulate

if __name__ == "__main__":
    configure_logging(snakemake.log[0])  # noqa: F821
    triangulate(snakemake.input, snakemake.output, snakemake.params.geometry)
