"""Simulated shards as training data, streamed: an index of the images, and random augmented crops
read image by image from the HDF5 shards (never the whole dataset in memory).

Crop k of a training run is drawn from its own random generator, seeded with (seed, k): the
same crops come out whatever the number of DataLoader workers, and a resumed run draws the
crops the interrupted one would have drawn next.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import h5py
import numpy as np
import torch

from atomscope._shared.normalisation import check_normalisation, normalise, standardise
from atomscope.io import read_arrays

__all__ = ["ShardIndex", "CropDataset", "augment", "index_shards", "read_images", "standardise"]


@dataclass(frozen=True)
class ShardIndex:
    """Where each image of a set of shards lives, with its pixel size and structure model.

    ``paths[shard[i]]`` holds image i as its ``image[i]``-th entry; ``sampling`` [Å/px] and
    ``model`` are per image; ``attrs`` are the root attributes of the first shard (channel and
    target names, the config that made the data); ``shape`` is (C, K, H, W): image channels,
    target channels, height and width.
    """

    paths: tuple[str, ...]
    shard: np.ndarray
    image: np.ndarray
    sampling: np.ndarray
    model: np.ndarray
    attrs: dict
    shape: tuple[int, int, int, int]

    def __len__(self) -> int:
        return len(self.shard)

    def split(self, n_last: int) -> tuple[np.ndarray, np.ndarray]:
        """Image numbers of all but the last ``n_last`` images, and of those last ones."""
        if not 0 < n_last < len(self):
            raise ValueError(f"cannot hold out {n_last} of {len(self)} images: raise datasets.train.images or lower training.validation.images")
        numbers = np.arange(len(self))
        return numbers[:-n_last], numbers[-n_last:]


def index_shards(paths: Sequence[str | os.PathLike]) -> ShardIndex:
    """Index simulation shards (reads only their small arrays and attributes).

    Raises ValueError when there are no shards, or when shards differ in their image or
    target channels or image size (they would not train one network).
    """
    if not paths:
        raise ValueError("`paths` is empty: no simulation shards to train on")
    shard, image, sampling, model, attrs, shape = [], [], [], [], {}, None
    for number, path in enumerate(paths):
        arrays, shard_attrs = read_arrays(path, ["sampling", "model"])
        with h5py.File(path, "r") as f:
            n, c, h, w = f["images"].shape
            k = f["targets"].shape[1]
        if attrs and (shard_attrs.get("target_names") != attrs.get("target_names") or (c, k, h, w) != shape):
            raise ValueError(
                f"{path}: target channels {shard_attrs.get('target_names')} and shape {(c, k, h, w)} differ from "
                f"{attrs['target_names']} and {shape} of the first shard; simulate all shards with one config"
            )
        attrs, shape = attrs or shard_attrs, shape or (c, k, h, w)
        shard.append(np.full(n, number))
        image.append(np.arange(n))
        sampling.append(arrays["sampling"])
        model.append(arrays["model"])
    return ShardIndex(
        paths=tuple(str(p) for p in paths),
        shard=np.concatenate(shard),
        image=np.concatenate(image),
        sampling=np.concatenate(sampling).astype(float),
        model=np.concatenate(model),
        attrs=attrs,
        shape=shape,
    )


def read_images(index: ShardIndex, numbers: Sequence[int], normalisation: str) -> np.ndarray:
    """Normalised images (N, C, H, W), float32, of the given image numbers (e.g. the validation images)."""
    images = []
    for number in numbers:
        with h5py.File(index.paths[index.shard[number]], "r") as f:
            images.append(normalise(f["images"][index.image[number]], normalisation))
    return np.stack(images)


def augment(image: np.ndarray, target: np.ndarray, *, crop_px: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random crop of an image (C, H, W) and its target (K, H, W), randomly rotated by a multiple
    of 90 degrees and flipped (the symmetries of a micrograph), both transformed alike."""
    height, width = image.shape[-2:]
    if crop_px > min(height, width):
        raise ValueError(f"`crop_px`={crop_px} exceeds the image size {height}x{width}")
    r = rng.integers(0, height - crop_px + 1)
    c = rng.integers(0, width - crop_px + 1)
    x, y = image[:, r : r + crop_px, c : c + crop_px], target[:, r : r + crop_px, c : c + crop_px]
    k = rng.integers(0, 4)
    x, y = np.rot90(x, k, axes=(1, 2)), np.rot90(y, k, axes=(1, 2))
    if rng.random() < 0.5:
        x, y = x[:, :, ::-1], y[:, :, ::-1]
    return np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(y, dtype=np.float32)


class CropDataset(torch.utils.data.Dataset):
    """Crop k (k = 0 .. ``length`` - 1): an image drawn from ``numbers``, read from its shard,
    normalised as ``normalisation`` says, then :func:`augment`-ed; all drawn from the random
    generator seeded with (``seed``, k). Up to ``cache_mb`` MiB of normalised images stay in
    memory (least recently used out first): every image is cropped many times in a run."""

    def __init__(
        self, index: ShardIndex, numbers: np.ndarray, *, normalisation: str, crop_px: int, seed: int, length: int, cache_mb: float = 0.0
    ) -> None:
        if len(numbers) == 0:
            raise ValueError("no training images to crop from")
        self.index, self.numbers = index, np.asarray(numbers)
        self.normalisation = check_normalisation(normalisation)
        self.crop_px, self.seed, self.length = crop_px, seed, length
        channels, targets, height, width = index.shape
        self.cache_size = int(cache_mb * 2**20 // (4 * (channels + targets) * height * width))
        self._files: dict[int, h5py.File] = {}  # opened lazily, per DataLoader worker process
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, k])
        image, target = self._read(int(self.numbers[rng.integers(len(self.numbers))]))
        x, y = augment(image, target, crop_px=self.crop_px, rng=rng)
        return torch.from_numpy(x), torch.from_numpy(y)

    def _read(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``number`` normalised, and its targets; the last ``cache_size`` read are kept (LRU)."""
        if number in self._cache:
            self._cache.move_to_end(number)
            return self._cache[number]
        shard = int(self.index.shard[number])
        if shard not in self._files:
            self._files[shard] = h5py.File(self.index.paths[shard], "r")
        f, i = self._files[shard], self.index.image[number]
        pair = normalise(f["images"][i], self.normalisation), np.asarray(f["targets"][i], dtype=np.float32)
        if self.cache_size:
            self._cache[number] = pair
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return pair

    def __getstate__(self) -> dict:
        # file handles and the cache stay in the process that made them
        return {**self.__dict__, "_files": {}, "_cache": OrderedDict()}
