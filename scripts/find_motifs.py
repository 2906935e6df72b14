"""Zernike features and force-relaxed motif layout of the atoms of one sample (Dan et al. 2022).

Inputs: ``sites`` and ``maps`` (preprocessed frames) of the sample. Outputs: ``features``
(Parquet: Zernike moments per atom), ``motifs`` (Parquet: layout, motif, distance to the
class average, symmetry scores, lattice cell and higher-level motif-cell), ``averages`` (HDF5:
class-average patch, label and count of each motif) and ``hierarchy`` (Parquet: the kinds of
higher-level motif-cells per frame with level, count, pattern and containment).
Config: ``motifs``.
"""

from atomscope.logs import configure_logging
from atomscope.steps import find_motifs

if __name__ == "__main__":
    configure_logging(snakemake.log[0])  # noqa: F821
    find_motifs(snakemake.input, snakemake.output, snakemake.params.motifs)
