"""Write one simulated image as a calibrated TIFF, with its true sites, to analyse like real data.

Inputs: the simulation shard (HDF5) and its structures. Outputs: ``image`` (TIFF, nm/px
calibration in the file) and ``truth`` (Parquet: kind, x, y [Å] of every site in view).
"""

from atomscope.io import ImageGrid, read_arrays, read_table, write_micrograph_tiff, write_table
from atomscope.labels import projected_columns, sites_in_view
from atomscope.logs import configure_logging

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    index = int(snakemake.wildcards.index)
    arrays, _ = read_arrays(snakemake.input.images, ["images", "sampling", "model"])
    if index >= len(arrays["images"]):
        raise ValueError(f"{snakemake.input.images}: has {len(arrays['images'])} images, no image {index}; fix the path in the sample sheet")
    image, sampling = arrays["images"][index, 0], float(arrays["sampling"][index])
    models = read_table(snakemake.input.models).set_index("model")
    model = models.loc[int(arrays["model"][index])]
    sites = read_table(snakemake.input.sites)
    sites = sites[sites["model"] == model.name]
    # one true site per projected column (the two S atoms of an S2 column are one site in the image)
    truth = projected_columns(sites_in_view(sites, (model["cell_x"], model["cell_y"]), ImageGrid(image.shape, sampling)))[["kind", "x", "y", "element"]]
    write_micrograph_tiff(snakemake.output.image, image, sampling)
    write_table(truth, snakemake.output.truth, units={"x": "Å", "y": "Å"})
    log.info("image %s px at %.4f Å/px with %d true atoms", image.shape, sampling, int((truth["kind"] == "atom").sum()))
