"""Maps of one frame's network on an image grid: local bond length (strain) and hexagon fraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from atomscope._shared.validation import check_positive
from atomscope.io import ImageGrid

__all__ = ["local_maps"]


def local_maps(sites: pd.DataFrame, bonds: pd.DataFrame, rings: pd.DataFrame, grid: ImageGrid, *, sigma: float = 4.0) -> dict[str, np.ndarray]:
    """Gaussian-weighted local averages of one frame's bonds and rings on ``grid``.

    Parameters
    ----------
    sites, bonds, rings : pandas.DataFrame
        One frame's sites (positions [Å]) and its network, as from
        :func:`~atomscope.geometry.triangulate`.
    grid : ImageGrid
        Pixels of the maps (e.g. the micrograph's).
    sigma : float
        Width [Å] of the Gaussian weight (default 4 Å: about ten bonds of graphene).

    Returns
    -------
    dict of str to ndarray (H, W)
        ``bond_length`` [Å]: weighted mean length of the bonds whose midpoints are near;
        ``strain``: ``bond_length`` over the frame's median bond, minus 1; ``hexagon_fraction``:
        weighted fraction of the complete rings near that are hexagons. NaN where the weights
        sum to less than that of one bond (or ring) at ``sigma``, i.e. no data.
    """
    sigma = check_positive(sigma, "sigma")
    xy = sites[["x", "y"]].to_numpy(dtype=float)
    i, j = bonds["i"].to_numpy(), bonds["j"].to_numpy()
    length = bonds["length"].to_numpy(dtype=float)
    bond_length = _smoothed(0.5 * (xy[i] + xy[j]), length, grid, sigma)
    complete = rings[rings["complete"].astype(bool)]
    hexagons = _smoothed(complete[["x", "y"]].to_numpy(dtype=float), (complete["size"] == 6).to_numpy(dtype=float), grid, sigma)
    median = float(np.median(length)) if len(length) else np.nan
    return {"bond_length": bond_length, "strain": bond_length / median - 1.0, "hexagon_fraction": hexagons}


def _smoothed(points: np.ndarray, values: np.ndarray, grid: ImageGrid, sigma: float) -> np.ndarray:
    """Gaussian-weighted mean of ``values`` at ``points`` [Å] on every pixel of ``grid``."""
    total, weight = np.zeros(grid.shape), np.zeros(grid.shape)
    if len(points):
        rows, cols = grid.nearest_pixel(points[:, 0], points[:, 1])
        inside = grid.contains(points[:, 0], points[:, 1])
        np.add.at(total, (rows[inside], cols[inside]), values[inside])
        np.add.at(weight, (rows[inside], cols[inside]), 1.0)
    width = sigma / grid.sampling  # [px]
    total, weight = ndimage.gaussian_filter(total, width, mode="constant"), ndimage.gaussian_filter(weight, width, mode="constant")
    one = 1.0 / (2 * np.pi * width**2)  # the weight of one point at its own pixel
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight >= one * np.exp(-0.5), total / weight, np.nan)
