"""Run a tile-sized predictor over an image of any size and blend the tiles without seams.

The image is cut into tiles that lie inside it and overlap by at least ``overlap`` pixels,
predicted in batches and blended with a separable window that rises as sin² over ``overlap``
pixels from each tile edge. Normalising by the summed window makes the blend exact wherever the
tiles agree, and gives the pixels near an inner tile edge, where a convolutional network sees
its zero padding, almost no weight. At the image's own edges the network sees what it saw at the
edges of its training crops (its zero padding), not a mirrored image: a mirror seam is a
structure no training image holds (a shipped TMD model called a row of vacancies along it). An
axis shorter than one tile gets a tile as long as the image allows (a whole number of
``multiple`` pixels, the network's size step); only an axis shorter than ``multiple`` is padded.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from atomscope._shared.validation import check_image, check_int

__all__ = ["predict_tiled"]


def predict_tiled(
    image: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    *,
    tile: int = 256,
    overlap: int = 32,
    batch_size: int = 4,
    multiple: int = 1,
) -> np.ndarray:
    """Apply ``predict`` tile by tile to ``image`` and blend the tiles into whole-image maps.

    Parameters
    ----------
    image : numpy.ndarray
        Input (C, H, W) [arbitrary units]; cast to float32. Any H, W >= 1.
    predict : callable
        Maps a float32 batch (B, C, tile, tile) to an array (B, K, tile, tile), e.g. a
        network's probability maps.
    tile : int
        Tile edge [px], a multiple of ``multiple``; shorter along an axis where the image is.
    overlap : int
        Minimum overlap of neighbouring tiles [px], 0 <= overlap < tile; the blending window
        rises over this many pixels from each tile edge (at most half a shortened tile).
        Choose it larger than the distance over which the predictor's output is spoiled by a
        tile edge.
    batch_size : int
        Tiles per call of ``predict``.
    multiple : int
        The tile sizes ``predict`` accepts are multiples of this [px] (2**depth for a U-Net).

    Returns
    -------
    numpy.ndarray
        float32 (K, H, W), aligned with ``image``.

    Raises
    ------
    ValueError
        If ``image`` is not a finite 3D array, an option is out of range, or ``predict``
        returns an array of the wrong shape.
    """
    image = check_image(image, "image", ndim=3).astype(np.float32, copy=False)
    tile = check_int(tile, "tile", 1)
    overlap = check_int(overlap, "overlap", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    multiple = check_int(multiple, "multiple", 1)
    if overlap >= tile:
        raise ValueError(f"`overlap` ({overlap} px, inference.overlap_px or --overlap-px) must be smaller than `tile` ({tile} px, inference.tile_px or --tile-px)")
    if tile % multiple:
        raise ValueError(f"`tile` ({tile} px, inference.tile_px) must be a multiple of {multiple} px, the sizes the network takes")

    padded = _pad(image, multiple)
    height, width = padded.shape[1:]
    (tile_h, overlap_h), (tile_w, overlap_w) = (_axis_tile(n, tile, overlap, multiple) for n in (height, width))
    window = np.outer(_ramp(tile_h, overlap_h), _ramp(tile_w, overlap_w)).astype(np.float32)
    corners = [(r, c) for r in _starts(height, tile_h, overlap_h) for c in _starts(width, tile_w, overlap_w)]

    weight = np.zeros((height, width), np.float32)
    total = None  # (K, height, width) once the first batch tells K
    for chunk in _chunks(corners, batch_size):
        batch = np.stack([padded[:, r : r + tile_h, c : c + tile_w] for r, c in chunk])
        maps = _call(predict, batch)
        if total is None:
            total = np.zeros((maps.shape[1], height, width), np.float32)
        for (r, c), tile_maps in zip(chunk, maps):
            total[:, r : r + tile_h, c : c + tile_w] += tile_maps * window
            weight[r : r + tile_h, c : c + tile_w] += window
    total /= weight
    return total[:, : image.shape[1], : image.shape[2]]


def _pad(image: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad an axis shorter than ``multiple`` at its end up to ``multiple``."""
    pads = [(0, 0)] + [(0, max(0, multiple - n)) for n in image.shape[1:]]
    return np.pad(image, pads, mode="reflect") if any(p for _, p in pads) else image


def _axis_tile(n: int, tile: int, overlap: int, multiple: int) -> tuple[int, int]:
    """Tile length and overlap [px] along an axis of ``n`` >= ``multiple`` px: ``tile``, or the
    longest multiple of ``multiple`` that fits in ``n``, with the overlap capped at half of it."""
    length = min(tile, n // multiple * multiple)
    return length, min(overlap, length // 2)


def _starts(n: int, tile: int, overlap: int) -> list[int]:
    """Tile origins along an axis of length ``n`` >= ``tile``: stride tile - overlap, last flush."""
    return [*range(0, n - tile, tile - overlap), n - tile]


def _ramp(tile: int, overlap: int) -> np.ndarray:
    """1D blending weight: sin² rise over ``overlap`` px from each edge, 1 between, > 0 everywhere."""
    if overlap == 0:
        return np.ones(tile)
    i = np.arange(tile)
    edge_distance = np.minimum(i, tile - 1 - i) + 0.5
    return np.sin(0.5 * np.pi * np.minimum(edge_distance / overlap, 1.0)) ** 2


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _call(predict: Callable[[np.ndarray], np.ndarray], batch: np.ndarray) -> np.ndarray:
    maps = np.asarray(predict(batch), dtype=np.float32)
    b, _, h, w = batch.shape
    if maps.ndim != 4 or maps.shape[0] != b or maps.shape[2:] != (h, w):
        raise ValueError(
            f"`predict` returned shape {maps.shape} for a batch of shape {batch.shape}; "
            f"it must return (B, K, height, width) = ({b}, K, {h}, {w})"
        )
    return maps
