"""Detect atoms and polygon centres in one sample with the trained model.

Inputs: ``image`` (any supported micrograph file, or the co-registered files of a focal
series for a model of several input channels), ``model`` (model.safetensors: the sample's
own, a shipped one, or the one the train rule makes). Outputs: ``maps``
(HDF5: preprocessed frames and heat maps at the model's pixel size) and ``sites`` (Parquet:
one row per detected site; its metadata records the pixel size and ``lattice``, how much the
detections look like atoms, which is also logged as a warning when they look like noise).
Config: ``inference``; the sample sheet's ``pixel_size``.
"""

import torch

from atomscope.inference import analyse_micrograph, lattice_evidence, maps_attrs, read_focal_series
from atomscope.io import write_arrays, write_table
from atomscope.logs import configure_logging
from atomscope.nets import load_model, pick_device

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    torch.set_num_threads(snakemake.threads)
    cfg = snakemake.params.inference
    # one file, or the files of a focal series listed in one sample-sheet row
    micrograph = read_focal_series(snakemake.input.image, pixel_size=snakemake.params.pixel_size, pixel_size_from="sheet")
    spec, net = load_model(snakemake.input.model)
    frames = micrograph.frames
    log.info("%s: %d frame(s) of %s px at %.4f Å/px (pixel size from the %s)", micrograph.path, len(frames), frames.shape[1:], micrograph.sampling, micrograph.source)
    images, maps, sites = analyse_micrograph(micrograph, spec, net, cfg, device=pick_device())
    attrs = maps_attrs(micrograph, spec, maps, snakemake.input.model)
    write_arrays(snakemake.output.maps, {"images": images, "maps": maps}, attrs=attrs, config={"inference": cfg}, units={"images": "1", "maps": "1"})
    write_table(sites, snakemake.output.sites, config={"inference": cfg, "pixel_size": micrograph.pixel_size_record(), "lattice": lattice_evidence(sites)}, units={"x": "Å", "y": "Å", "x_px": "px", "y_px": "px", "x_corrected": "Å", "y_corrected": "Å", "sigma_x": "Å", "sigma_y": "Å"})
    log.info("detected %s", sites.groupby("kind").size().to_dict())
