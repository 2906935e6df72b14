"""Zernike features and force-relaxed motif layout of the atoms of one sample (Dan et al. 2022).

Inputs: ``sites`` and ``maps`` (preprocessed frames) of the sample. Outputs: ``features``
(Parquet: Zernike moments per atom), ``motifs`` (Parquet: layout, motif, distance to the
class average, symmetry scores, lattice cell and higher-level motif-cell), ``averages`` (HDF5:
class-average patch, label and count of each motif) and ``hierarchy`` (Parquet: the kinds of
higher-level motif-cells per frame with level, count, pattern and containment).
Config: ``motifs``.
"""

from atomscope.io import ImageGrid, read_arrays, read_table, write_arrays, write_table
from atomscope.logs import configure_logging
from atomscope.motifs import analyse_motifs, frame_hierarchies, level_entropy

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    cfg = snakemake.params.motifs
    arrays, attrs = read_arrays(snakemake.input.maps, ["images"])
    sampling = ImageGrid.from_attrs(attrs["model_grid"]).sampling
    features, motifs, averages = analyse_motifs(arrays["images"][:, 0], sampling, read_table(snakemake.input.sites), cfg)
    motifs, kinds = frame_hierarchies(motifs, dominant=cfg["dominant"])
    write_table(features, snakemake.output.features, config={"motifs": cfg}, units={"x": "Å", "y": "Å"})
    write_table(motifs, snakemake.output.motifs, config={"motifs": cfg}, units={"x": "Å", "y": "Å"})
    write_arrays(snakemake.output.averages, averages, attrs={"pixel_size": sampling}, config={"motifs": cfg}, units={"patches": "normalised image (zero mean, unit std per frame)", "pixel_size": "Å/px"})
    write_table(kinds, snakemake.output.hierarchy, config={"motifs": cfg})
    log.info("%d atoms in %d motifs: %s", len(motifs), motifs["motif"].nunique(), motifs["motif"].value_counts().to_dict())
    log.info("motif-cell hierarchy (frames with a lattice): %s", level_entropy(kinds).to_dict("records") if len(kinds) else "no lattice")
