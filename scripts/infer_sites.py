"""Detect atoms and polygon centres in one sample with the trained model.

Inputs: ``image`` (any supported micrograph file, or the co-registered files of a focal
series for a model of several input channels), ``model`` (model.safetensors: the sample's
own, a shipped one, or the one the train rule makes), ``monolayer_model`` (the model that
draws the monolayer, inference.monolayer_model; none where the model's own head does). Outputs: ``maps``
(HDF5: preprocessed frames and heat maps at the model's pixel size) and ``sites`` (Parquet:
one row per detected site; its metadata records the pixel size and ``lattice``, how much the
detections look like atoms, which is also logged as a warning when they look like noise).
Config: ``inference``; the sample sheet's ``pixel_size``.
"""

from atomscope.logs import configure_logging
from atomscope.steps import infer

if __name__ == "__main__":
    configure_logging(snakemake.log[0])  # noqa: F821
    infer(snakemake.input.image, snakemake.input.model, snakemake.output, snakemake.params.inference, snakemake.params.pixel_size, threads=snakemake.threads)
