"""Train the heat-map network on the simulated train dataset.

Inputs: simulation shards (HDF5, streamed crop by crop) and their structures. A checkpoint
(``checkpoint.pt`` beside the model) lets a killed job resume where it stopped. Outputs: ``model`` (model.safetensors:
the weights and, in its header, the model spec: architecture, input channels, heads with
their species, pixel size, normalisation, recipe, scores) and ``metrics`` (Parquet: one row
per validation). Config: ``training``; ``preset`` (recorded in the recipe).
"""

from pathlib import Path

import pandas as pd
import torch

from atomscope.io import read_table, read_table_meta, write_model, write_table
from atomscope.logs import configure_logging
from atomscope.training import fit, index_shards

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    torch.set_num_threads(snakemake.threads)
    cfg = snakemake.params.training
    index = index_shards(snakemake.input.images)
    sites = pd.concat([read_table(p) for p in snakemake.input.sites], ignore_index=True)
    models = pd.concat([read_table(p) for p in snakemake.input.models], ignore_index=True)
    # the sections that made the data, as the shards recorded them: structures, simulation, dataset
    data_config = {**read_table_meta(snakemake.input.sites[0])["config"], **index.attrs.get("config", {})}
    log.info("training on %d images of %s px", len(index), index.shape[-2:])
    # not a declared output: Snakemake would delete it when the job fails, and it is what a rerun resumes from
    checkpoint = Path(snakemake.output.model).with_name("checkpoint.pt")
    net, spec, metrics = fit(index, sites, models, cfg, data_config=data_config, preset=snakemake.params.preset, checkpoint=checkpoint)
    write_model(snakemake.output.model, net, spec, config={"training": cfg})
    write_table(metrics, snakemake.output.metrics, config={"training": cfg}, units={"seconds": "s", "atoms_rmse": "Å", "centres_rmse": "Å"})
    checkpoint.unlink(missing_ok=True)
    log.info("heads %s; final validation: %s", {h.name: h.classes[0].species for h in spec.heads}, metrics.iloc[-1].to_dict())
