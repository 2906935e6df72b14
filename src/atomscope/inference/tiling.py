"""Run a tile-sized predictor over an image of any size and blend the tiles without seams.

The image is reflect-padded by half the overlap on every side (and up to one tile where it is
smaller), cut into tiles that overlap by at least ``overlap`` pixels, predicted in batches and
blended with a separable window that rises as sin² over ``overlap`` pixels from each tile edge.
Normalising by the summed window makes the blend exact wherever the tiles agree, and gives the
pixels near a tile edge, where a convolutional network sees its zero padding, almost no weight.
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
        Tile edge [px].
    overlap : int
        Minimum overlap of neighbouring tiles [px], 0 <= overlap < tile; the blending window
        rises over this many pixels from each tile edge. Choose it larger than the distance
        over which the predictor's output is spoiled by a tile edge.
    batch_size : int
        Tiles per call of ``predict``.

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
    if overlap >= tile:
        raise ValueError(f"`overlap` ({overlap}) must be smaller than `tile` ({tile})")

    margin = overlap // 2
    padded = _pad(image, tile, margin)
    window = np.outer(_ramp(tile, overlap), _ramp(tile, overlap)).astype(np.float32)
    height, width = padded.shape[1:]
    corners = [(r, c) for r in _starts(height, tile, overlap) for c in _starts(width, tile, overlap)]

    weight = np.zeros((height, width), np.float32)
    total = None  # (K, height, width) once the first batch tells K
    for chunk in _chunks(corners, batch_size):
        batch = np.stack([padded[:, r : r + tile, c : c + tile] for r, c in chunk])
        maps = _call(predict, batch)
        if total is None:
            total = np.zeros((maps.shape[1], height, width), np.float32)
        for (r, c), tile_maps in zip(chunk, maps):
            total[:, r : r + tile, c : c + tile] += tile_maps * window
            weight[r : r + tile, c : c + tile] += window
    total /= weight
    return total[:, margin : margin + image.shape[1], margin : margin + image.shape[2]]


def _pad(image: np.ndarray, tile: int, margin: int) -> np.ndarray:
    """Reflect-pad by ``margin`` on every side, and at the end up to at least one tile."""
    pads = [(0, 0)] + [(margin, margin + max(0, tile - n - 2 * margin)) for n in image.shape[1:]]
    return np.pad(image, pads, mode="reflect")


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
    b, _, t, _ = batch.shape
    if maps.ndim != 4 or maps.shape[0] != b or maps.shape[2:] != (t, t):
        raise ValueError(
            f"`predict` returned shape {maps.shape} for a batch of shape {batch.shape}; "
            f"it must return (B, K, tile, tile) = ({b}, K, {t}, {t})"
        )
    return maps
