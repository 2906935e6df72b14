"""Figures of one sample: overlay of atoms, bonds and rings; rings, defects and strain maps;
statistics; motifs, their symmetry maps and motif-cell hierarchy; columns by species (first
frame); atoms, ring fractions, mean bond and drift frame by frame (a stack or movie).

Inputs: inference maps and sites, geometry tables, motifs, their class averages and hierarchy. Outputs:
eight PNG figures; the species counts per frame (with counting errors) and the minority sites
(vacancies, substitutions, dopants) as Parquet.
Config: ``report``.
"""

from atomscope.logs import configure_logging
from atomscope.steps import plot_sample

if __name__ == "__main__":
    configure_logging(snakemake.log[0])  # noqa: F821
    plot_sample(snakemake.input, snakemake.output, snakemake.params.report)
