"""Train a network from simulated shards as the ``training`` config section describes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import torch

from atomscope._shared.normalisation import normalised_channels
from atomscope.config import defaults, with_defaults
from atomscope.io import Head, HeadClass, ImageGrid, InputChannel, ModelSpec, Recipe, config_hash
from atomscope.labels import KIND_CHANNELS, MONOLAYER, SPECIES_PREFIX, channel_sites, projected_columns, sites_in_view
from atomscope.labels.classes import SPECIES_HEAD, head_layout
from atomscope.nets import ARCHITECTURE_ARGS, build_network
from atomscope.training.dataset import CropDataset, ShardIndex, read_images
from atomscope.training.distributed import join_world, rank_crops, rank_images, wrap
from atomscope.training.losses import head_loss
from atomscope.training.loop import evaluate, seed_torch, train

__all__ = ["fit", "model_heads", "input_channels"]

#: Metrics columns that are not validation scores.
_NOT_SCORES = {"step", "train_loss", "seconds"}


def model_heads(target_names: list[str], sites: pd.DataFrame) -> tuple[Head, ...]:
    """The output heads of a network trained on ``target_names``, with the elements each stands for.

    Peak targets (atoms, centres) are heat-map heads, the monolayer a mask head, in target
    order; species targets (``species:<class>``) make one classes head, ``species``:
    background, then the classes (:func:`atomscope.labels.classes.head_layout`). The species
    come from the training structures themselves: a class holds the elements of the atoms it
    marks (every atom of the material for ``atoms``, the atoms of its species class for a
    species class), so a MoS2 model's atoms stand for Mo and S and its class S2 for S.
    Centres, vacancies, the background and the monolayer mask hold none.
    """
    peaks, species, classes = head_layout(target_names)
    heads = []
    for name in [target_names[k] for k in peaks]:
        if name == MONOLAYER:
            heads.append(Head(name, "mask", (HeadClass(MONOLAYER),)))
            continue
        heads.append(Head(name, "heatmap", (HeadClass(KIND_CHANNELS[name], _elements(sites, name)),)))
    if species:
        members = [HeadClass(classes[0])] + [HeadClass(c, _elements(sites, SPECIES_PREFIX + c)) for c in classes[1:]]
        heads.append(Head(SPECIES_HEAD, "classes", tuple(members)))
    return tuple(heads)


def _elements(sites: pd.DataFrame, name: str) -> tuple[str, ...]:
    """The elements of the atoms that target ``name`` marks, sorted."""
    marked = sites[channel_sites(sites, name) & (sites["kind"] == "atom")]
    return tuple(sorted(set(marked["element"])))


def input_channels(channel_names: list[str], simulation: Mapping[str, Any] | None) -> tuple[InputChannel, ...]:
    """The input channels with their defocus offsets [Å] when the simulation section made a focal series."""
    offsets = list((simulation or {}).get("defocus_offsets", []))
    if len(channel_names) < 2 or len(offsets) != len(channel_names):
        return tuple(InputChannel(name) for name in channel_names)
    return tuple(InputChannel(name, float(offset)) for name, offset in zip(channel_names, offsets))


def _validation_truth(
    sites: pd.DataFrame,
    models: pd.DataFrame,
    model_ids: np.ndarray,
    shape: tuple[int, int],
    sampling: np.ndarray,
    target_names: list[str],
) -> list[dict[str, np.ndarray]]:
    """True (x, y) [Å] per peak channel (all but the monolayer mask) for each validation image, one per projected column."""
    cells = models.set_index("model")
    peaks = [name for name in target_names if name != MONOLAYER]
    truth = []
    for model, s in zip(model_ids, sampling):
        # one true site per projected column: the two S atoms of an S2 column are one detection
        view = projected_columns(sites_in_view(sites[sites["model"] == model], (cells.at[model, "cell_x"], cells.at[model, "cell_y"]), ImageGrid(shape, s)))
        truth.append({name: view.loc[channel_sites(view, name), ["x", "y"]].to_numpy() for name in peaks})
    return truth


def fit(
    index: ShardIndex,
    sites: pd.DataFrame,
    models: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    device: torch.device | None = None,
    data_config: Mapping[str, Any] | None = None,
    preset: str | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> tuple[torch.nn.Module, ModelSpec, pd.DataFrame]:
    """Train on all but the last ``validation.images`` images and validate on those.

    Parameters
    ----------
    index : ShardIndex
        The simulation shards (:func:`atomscope.training.index_shards`); training crops are
        streamed from them by a DataLoader with ``config["workers"]`` worker processes.
    sites, models : DataFrame
        The structures of the shards' images (truth for validation, species for the heads).
    config : mapping
        The ``training`` config section.
    device : torch.device, optional
        Default: CUDA when present, else CPU. Under torchrun each process trains on its GPU (or
        the CPU) and its own shards, data-parallel (:mod:`atomscope.training.distributed`).
    data_config : mapping, optional
        The config sections that made the data (``structures``, ``simulation``, ``dataset``),
        hashed into the model's recipe; default: the config stored in the shards' ``attrs``.
    preset : str, optional
        Name of the config preset, recorded in the recipe.
    checkpoint : path, optional
        Checkpoint file: written every ``checkpoint_every`` steps, resumed from when it holds
        this run (same training config and data); see :func:`atomscope.training.train`.

    Returns
    -------
    net : torch.nn.Module
        The trained network, on the CPU.
    spec : ModelSpec
        Architecture, input channels, heads with their species, input pixel size [Å/px] (mean
        of the training images'), normalisation, recipe and final validation scores.
    metrics : DataFrame
        One row per evaluation.
    """
    world = join_world(device)
    device = world.device
    config = with_defaults(config, defaults("training"))
    validation, normalisation = config["validation"], config["normalisation"]
    train_numbers, val_numbers = index.split(validation["images"])
    target_names = list(index.attrs["target_names"])
    val_images = read_images(index, val_numbers, normalisation)
    val_sampling = index.sampling[val_numbers]
    truth = _validation_truth(sites, models, index.model[val_numbers], index.shape[-2:], val_sampling, target_names)
    seed_torch(config["seed"])
    heads = model_heads(target_names, sites)
    net = build_network(config["architecture"], normalised_channels(normalisation, index.shape[0]), sum(h.channels for h in heads)).to(device)
    data_config = dict(index.attrs.get("config", {}) if data_config is None else data_config)
    crops = CropDataset(
        index, rank_images(index, train_numbers, world), normalisation=normalisation, crop_px=config["crop_px"], seed=config["seed"],
        length=config["steps"] * config["batch_size"], cache_mb=config["cache_mb"],
    )

    def batches(start: int) -> torch.utils.data.DataLoader:
        """This process's batches from step ``start`` + 1 on: its share of crops start * batch_size, ... in order."""
        subset = torch.utils.data.Subset(crops, rank_crops(start, config["steps"], config["batch_size"], world))
        return torch.utils.data.DataLoader(
            subset, batch_size=config["batch_size"] // world.size, shuffle=False, num_workers=config["workers"],
            pin_memory=device.type == "cuda", persistent_workers=False,
        )

    def evaluate_fn(net: torch.nn.Module) -> dict[str, float]:
        return evaluate(
            net,
            val_images,
            truth,
            val_sampling,
            target_names=target_names,
            device=device,
            threshold=validation["threshold"],
            min_distance=validation["min_distance"],
            match_radius=validation["match_radius"],
        )

    rows = train(
        wrap(net, world),
        batches,
        steps=config["steps"],
        learning_rate=config["learning_rate"],
        eval_every=config["eval_every"],
        evaluate_fn=evaluate_fn,
        device=device,
        checkpoint=checkpoint,
        checkpoint_every=config["checkpoint_every"],
        world=world,
        run_key=config_hash({"training": config, "data": data_config, "shards": [Path(p).name for p in index.paths]}),
        loss_fn=head_loss(target_names, config["class_weight"], config["species_weights"]),
    )
    kind = config["architecture"]["kind"]
    spec = ModelSpec(
        architecture=kind,
        architecture_args={key: config["architecture"][key] for key in ARCHITECTURE_ARGS[kind]},
        input_channels=input_channels(list(index.attrs["channel_names"]), data_config.get("simulation")),
        heads=heads,
        pixel_size=float(np.mean(index.sampling[train_numbers])),
        normalisation=normalisation,
        recipe=Recipe(preset=preset, data_hash=config_hash(data_config) if data_config else None, training=dict(config)),
        scores={k: v for k, v in rows[-1].items() if k not in _NOT_SCORES},
    )
    return net.cpu(), spec, pd.DataFrame(rows)
