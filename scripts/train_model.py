"""Train the network on the simulated train dataset.

Inputs: simulation shards (HDF5, streamed crop by crop) and their structures. A checkpoint
(``checkpoint.pt`` beside the model) lets a killed job resume where it stopped. Outputs: ``model`` (model.safetensors:
the weights and, in its header, the model spec: architecture, input channels, heads with
their species, pixel size, normalisation, recipe, scores) and ``metrics`` (Parquet: one row
per validation). Config: ``training``; ``preset`` (recorded in the recipe).
"""

import torch

from atomscope.logs import configure_logging
from atomscope.training import train_files

if __name__ == "__main__":
    configure_logging(snakemake.log[0])  # noqa: F821
    torch.set_num_threads(snakemake.threads)
    train_files(
        snakemake.input.images,
        snakemake.input.sites,
        snakemake.input.models,
        snakemake.params.training,
        model_path=snakemake.output.model,
        metrics_path=snakemake.output.metrics,
        preset=snakemake.params.preset,
    )
