"""Training targets: heat maps with a Gaussian peak at every site, per species class, and the monolayer mask.

Target channels are named (:mod:`atomscope.labels.channels` defines the names and which
sites each marks); the names travel with the shards (HDF5 attr ``target_names``) and the
trained model:

- ``atoms``: every atom (kind "atom"); ``centres``: every polygon centre (kind "centre");
- ``monolayer``: 1 where exactly one layer covers the pixel (Leist et al. 2022), else 0;
- ``species:<class>``: the sites whose ``species_class`` is <class>, e.g. ``species:Mo``,
  ``species:S2``, ``species:S`` or ``species:vacancy`` in a TMD (Larsen et al.).

"atoms" and "centres" always come first, so networks and readers that know only those two
keep working.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from atomscope._shared.validation import check_positive
from atomscope.labels import channel_sites

__all__ = ["gaussian_heatmap", "render_targets"]

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
    reach = (radius + 1) * sampling  # peaks farther than this outside the image leave no pixel in it
    near = (xy > -reach) & (xy < np.array([width - 1, height - 1]) * sampling + reach)
    xy = xy[near.all(axis=1)]
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


def render_targets(
    sites: pd.DataFrame,
    names: Sequence[str],
    shape: tuple[int, int],
    sampling: float,
    *,
    sigma: float = 0.4,
    period: tuple[float, float] | None = None,
    monolayer: np.ndarray | None = None,
) -> np.ndarray:
    """The target heat maps of one image.

    Parameters
    ----------
    sites : DataFrame
        Label sites (configuration 0) with ``kind``, ``x``, ``y`` [Å] and, for species
        channels, ``species_class``; x and y are where the sites appear in the image.
    names : sequence of str
        Channels from :func:`target_names`.
    shape : tuple of int
        (H, W) [px].
    sampling : float
        Pixel size [Å/px]; pixel (r, c) is at x = c * sampling, y = r * sampling.
    sigma : float, optional
        Standard deviation of the peaks [Å] (default 0.4).
    period : tuple of float, optional
        (Lx, Ly) [Å] of the periodic cell, see :func:`gaussian_heatmap`.
    monolayer : ndarray of bool, shape (H, W), optional
        The monolayer mask; required when ``names`` holds "monolayer".

    Returns
    -------
    ndarray of shape (K, H, W), float32
        One channel per name; peaks of height 1, the mask 0 or 1.
    """
    channels = []
    for name in names:
        if name == "monolayer":
            if monolayer is None or np.shape(monolayer) != tuple(shape):
                raise ValueError(f"target 'monolayer' needs a `monolayer` mask of shape {tuple(shape)}")
            channels.append(np.asarray(monolayer, dtype=np.float32))
            continue
        xy = sites.loc[channel_sites(sites, name), ["x", "y"]].to_numpy()
        channels.append(gaussian_heatmap(xy, shape, sampling, sigma=sigma, period=period))
    return np.stack(channels)
