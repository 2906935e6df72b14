"""Simulated shards as training data: loading, per-image standardisation, random augmented crops."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from atomscope._shared.normalisation import standardise
from atomscope.io import read_arrays

__all__ = ["load_shards", "standardise", "random_batch"]


def load_shards(paths: Sequence[str | os.PathLike]) -> tuple[dict[str, np.ndarray], dict]:
    """Concatenate simulation shards.

    Returns
    -------
    arrays : dict
        ``images`` (N, C, H, W) float32, ``targets`` (N, K, H, W) float32, ``sampling`` (N,)
        [Å/px] and ``model`` (N,), the structure model of each image.
    attrs : dict
        Root attributes of the first shard (channel and target names).
    """
    if not paths:
        raise ValueError("`paths` is empty: no simulation shards to train on")
    names = ["images", "targets", "sampling", "model"]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    attrs: dict = {}
    for path in paths:
        arrays, shard_attrs = read_arrays(path, names)
        if attrs and shard_attrs.get("target_names") != attrs.get("target_names"):
            raise ValueError(f"{path}: target channels {shard_attrs.get('target_names')} differ from {attrs['target_names']}")
        attrs = attrs or shard_attrs
        for name in names:
            parts[name].append(arrays[name])
    return {name: np.concatenate(values) for name, values in parts.items()}, attrs


def random_batch(
    images: np.ndarray, targets: np.ndarray, *, batch_size: int, crop_px: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random crops with random flips and 90-degree rotations (the symmetries of a micrograph).

    ``images`` must already be standardised. Returns float32 arrays (B, C, crop, crop) and
    (B, K, crop, crop).
    """
    n, _, height, width = images.shape
    if crop_px > min(height, width):
        raise ValueError(f"`crop_px`={crop_px} exceeds the image size {height}x{width}")
    xs, ys = [], []
    for index in rng.integers(0, n, batch_size):
        r = rng.integers(0, height - crop_px + 1)
        c = rng.integers(0, width - crop_px + 1)
        x = images[index, :, r : r + crop_px, c : c + crop_px]
        y = targets[index, :, r : r + crop_px, c : c + crop_px]
        k = rng.integers(0, 4)
        x, y = np.rot90(x, k, axes=(1, 2)), np.rot90(y, k, axes=(1, 2))
        if rng.random() < 0.5:
            x, y = x[:, :, ::-1], y[:, :, ::-1]
        xs.append(x)
        ys.append(y)
    return np.ascontiguousarray(np.stack(xs)), np.ascontiguousarray(np.stack(ys))
