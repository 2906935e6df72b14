"""Train the heat-map network on the simulated train dataset.

Inputs: simulation shards (HDF5, streamed crop by crop) and their structures. A checkpoint
(``checkpoint.pt`` beside the model) lets a killed job resume where it stopped. Outputs: ``model`` (model.safetensors:
the weights and, in its header, the model spec: architecture, input channels, heads with
their species, pixel size, normalisation, recipe, scores) and ``metrics`` (Parquet: one row
per validation). Config: ``training`` (with ``gpus`` > 1: one process per GPU, data-parallel,
started by torchrun); ``preset`` (recorded in the recipe).
"""

from atomscope.logs import configure_logging
from atomscope.training import launch

if __name__ == "__main__":
    configure_logging(snakemake.log[0])  # noqa: F821
    job = {
        "images": list(snakemake.input.images),  # noqa: F821
        "sites": list(snakemake.input.sites),  # noqa: F821
        "models": list(snakemake.input.models),  # noqa: F821
        "training": snakemake.params.training,  # noqa: F821
        "preset": snakemake.params.preset,  # noqa: F821
        "model": snakemake.output.model,  # noqa: F821
        "metrics": snakemake.output.metrics,  # noqa: F821
        "log": snakemake.log[0],  # noqa: F821
        "threads": snakemake.threads,  # noqa: F821
    }
    launch(job, processes=max(1, snakemake.params.training["gpus"]))  # noqa: F821
