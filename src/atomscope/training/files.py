"""Training from files to files: what the train rule runs, and what a bare GPU machine without
Snakemake runs (``benchmarks/species/train_gpu.sh``), so both train the same way."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import torch
import torch.distributed as dist

from atomscope.io import ModelSpec, read_table, read_table_meta, write_model, write_table
from atomscope.training.dataset import index_shards
from atomscope.training.fit import fit

__all__ = ["train_files"]

log = logging.getLogger(__name__)


def train_files(
    images: Sequence[str | os.PathLike],
    sites: Sequence[str | os.PathLike],
    models: Sequence[str | os.PathLike],
    training: Mapping[str, Any],
    *,
    model_path: str | os.PathLike,
    metrics_path: str | os.PathLike,
    preset: str | None = None,
    device: torch.device | None = None,
) -> tuple[ModelSpec, pd.DataFrame]:
    """Train on simulation shards (HDF5) with their structures (sites, models Parquet) and write
    the model file and its metrics (one row per validation).

    A checkpoint (``checkpoint.pt`` beside the model; not an output, so a scheduler that
    deletes failed outputs keeps it) lets a killed run resume where it stopped, and is
    removed when the model is written. ``training`` is the ``training`` config section.
    Under torchrun (several processes, :mod:`atomscope.training.distributed`) only rank 0 writes.
    """
    index = index_shards(list(images))
    site_table = pd.concat([read_table(p) for p in sites], ignore_index=True)
    model_table = pd.concat([read_table(p) for p in models], ignore_index=True)
    # the sections that made the data, as the shards recorded them: structures, simulation, dataset
    data_config = {**read_table_meta(sites[0])["config"], **index.attrs.get("config", {})}
    log.info("training on %d images of %s px", len(index), index.shape[-2:])
    checkpoint = Path(model_path).with_name("checkpoint.pt")
    net, spec, metrics = fit(
        index, site_table, model_table, training, device=device, data_config=data_config, preset=preset, checkpoint=checkpoint
    )
    if dist.is_initialized() and dist.get_rank() != 0:
        return spec, metrics
    write_model(model_path, net, spec, config={"training": dict(training)})
    units = {"seconds": "s", **{c: "Å" for c in metrics.columns if c.endswith("_rmse")}}
    write_table(metrics, metrics_path, config={"training": dict(training)}, units=units)
    checkpoint.unlink(missing_ok=True)
    log.info("heads %s; final validation: %s", {h.name: [c.name for c in h.classes] for h in spec.heads}, metrics.iloc[-1].to_dict())
    return spec, metrics
