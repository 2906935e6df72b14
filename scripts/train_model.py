"""Train the heat-map network on the simulated train dataset.

Inputs: simulation shards (HDF5) and their structures. Outputs: ``model`` (model.pt: weights
plus everything inference needs) and ``metrics`` (Parquet: one row per validation).
Config: ``training``.
"""

import pandas as pd
import torch

from atomscope import __version__
from atomscope._shared.logs import configure_logging
from atomscope.io import read_table, write_table
from atomscope.training.dataset import load_shards
from atomscope.training.fit import fit
from atomscope.training.loop import save_checkpoint

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    torch.set_num_threads(snakemake.threads)
    cfg = snakemake.params.training
    arrays, attrs = load_shards(snakemake.input.images)
    sites = pd.concat([read_table(p) for p in snakemake.input.sites], ignore_index=True)
    models = pd.concat([read_table(p) for p in snakemake.input.models], ignore_index=True)
    log.info("training on %d images of %s px", len(arrays["images"]), arrays["images"].shape[-2:])
    net, meta, metrics = fit(arrays, attrs, sites, models, cfg)
    save_checkpoint(snakemake.output.model, net, {**meta, "atomscope_version": __version__})
    write_table(metrics, snakemake.output.metrics, config={"training": cfg}, units={"seconds": "s", "atoms_rmse": "Å", "centres_rmse": "Å"})
    log.info("final validation: %s", metrics.iloc[-1].to_dict())
