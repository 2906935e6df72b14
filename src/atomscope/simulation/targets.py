"""Training targets: heat maps with a Gaussian peak at every site."""

from __future__ import annotations

import numpy as np

from atomscope._shared.validation import check_positive

__all__ = ["gaussian_heatmap"]


def gaussian_heatmap(
    xy: np.ndarray,
    shape: tuple[int, int],
    sampling: float,
    *,
    sigma: float = 0.4,
    period: tuple[float, float] | None = None,
) -> np.ndarray:
    """Render a Gaussian of height 1 at every position; overlapping peaks take the maximum.

    Parameters
    ----------
    xy : ndarray of shape (N, 2)
        Site positions (x, y) [Å]; pixel (r, c) samples x = c * sampling, y = r * sampling.
    shape : tuple of int
        (H, W) of the heat map [px].
    sampling : float
        Pixel size [Å/px].
    sigma : float, optional
        Standard deviation of each peak [Å] (default 0.4, Leist et al. 2022).
    period : tuple of float, optional
        (Lx, Ly) [Å] of a periodic cell: peaks near one edge wrap to the other, as they do
        in a multislice image of a periodic cell. None (default) draws no images.

    Returns
    -------
    ndarray of shape (H, W), float32
    """
    check_positive(sampling, "sampling")
    check_positive(sigma, "sigma")
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    height, width = shape
    if period is not None:
        shifts = np.array([(i * period[0], j * period[1]) for i in (-1, 0, 1) for j in (-1, 0, 1)])
        xy = (xy[None, :, :] + shifts[:, None, :]).reshape(-1, 2)
    heatmap = np.zeros(height * width, dtype=np.float64)
    radius = int(np.ceil(4 * sigma / sampling))
    offsets = np.arange(-radius, radius + 1)
    centre_px = np.rint(xy / sampling).astype(np.int64)  # (N, 2) as (col, row)
    cols = centre_px[:, 0, None] + offsets[None, :]  # (N, w)
    rows = centre_px[:, 1, None] + offsets[None, :]
    gx = np.exp(-((cols * sampling - xy[:, 0, None]) ** 2) / (2 * sigma**2))
    gy = np.exp(-((rows * sampling - xy[:, 1, None]) ** 2) / (2 * sigma**2))
    values = gy[:, :, None] * gx[:, None, :]  # (N, w, w)
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
    flat = rows[:, :, None] * width + cols[:, None, :]
    np.maximum.at(heatmap, flat[inside], values[inside])
    return heatmap.reshape(height, width).astype(np.float32)
