"""Train a network from simulated shards as the ``training`` config section describes."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
import torch

from atomscope._shared.seeding import stage_rng
from atomscope.nets import build_network
from atomscope.simulation.shards import sites_in_view
from atomscope.simulation.targets import channel_sites
from atomscope.training.dataset import standardise
from atomscope.training.loop import evaluate, pick_device, seed_torch, train

__all__ = ["fit"]


def _validation_truth(
    sites: pd.DataFrame,
    models: pd.DataFrame,
    model_ids: np.ndarray,
    shape: tuple[int, int],
    sampling: np.ndarray,
    target_names: list[str],
) -> list[dict[str, np.ndarray]]:
    """True (x, y) [Å] per peak channel (all but the monolayer mask) for each validation image."""
    cells = models.set_index("model")
    peaks = [name for name in target_names if name != "monolayer"]
    truth = []
    for model, s in zip(model_ids, sampling):
        view = sites_in_view(sites[sites["model"] == model], (cells.at[model, "cell_x"], cells.at[model, "cell_y"]), shape, s)
        truth.append({name: view.loc[channel_sites(view, name), ["x", "y"]].to_numpy() for name in peaks})
    return truth


def fit(
    arrays: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any],
    sites: pd.DataFrame,
    models: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    device: torch.device | None = None,
) -> tuple[torch.nn.Module, dict[str, Any], pd.DataFrame]:
    """Train on all but the last ``validation.images`` images and validate on those.

    Returns the trained network, the checkpoint metadata (architecture, channel and target
    names, input sampling [Å/px] = mean of the training images', normalisation, config) and
    the metrics table (one row per evaluation).
    """
    device = device or pick_device()
    validation = config["validation"]
    n_val = validation["images"]
    n = len(arrays["images"])
    if n_val >= n:
        raise ValueError(f"training.validation.images={n_val} leaves no training images out of {n}; raise datasets.train.images")
    images = np.stack([standardise(image) for image in arrays["images"]])
    targets = arrays["targets"]
    target_names = list(attrs["target_names"])
    sampling = arrays["sampling"]
    truth = _validation_truth(sites, models, arrays["model"][-n_val:], images.shape[-2:], sampling[-n_val:], target_names)
    seed_torch(config["seed"])
    net = build_network(config["architecture"], images.shape[1], len(target_names)).to(device)

    def evaluate_fn(net: torch.nn.Module) -> dict[str, float]:
        return evaluate(
            net,
            images[-n_val:],
            truth,
            sampling[-n_val:],
            target_names=target_names,
            device=device,
            threshold=validation["threshold"],
            min_distance=validation["min_distance"],
            match_radius=validation["match_radius"],
        )

    rows = train(
        net,
        images[:-n_val],
        targets[:-n_val],
        steps=config["steps"],
        batch_size=config["batch_size"],
        crop_px=config["crop_px"],
        learning_rate=config["learning_rate"],
        eval_every=config["eval_every"],
        evaluate_fn=evaluate_fn,
        rng=stage_rng(config["seed"], "training"),
        device=device,
    )
    meta = {
        "architecture": dict(config["architecture"]),
        "in_channels": int(images.shape[1]),
        "channel_names": list(attrs["channel_names"]),
        "target_names": target_names,
        "sampling": float(np.mean(sampling[:-n_val])),
        "normalisation": "per-image standardisation (zero mean, unit std per channel)",
        "species": {"atom": "C"},
        "config": dict(config),
        "device": str(device),
    }
    return net.cpu(), meta, pd.DataFrame(rows)
