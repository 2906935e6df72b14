"""Minimum images, wrapping and pair distances in a periodic rectangular cell (Lx, Ly) [Å]."""

from __future__ import annotations

import numpy as np

__all__ = ["minimum_image", "pair_distances", "wrap"]


def minimum_image(d: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Difference vectors ``d`` (..., 2) [Å] mapped to their shortest periodic image."""
    return d - box * np.round(d / box)


def wrap(pos: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Positions wrapped into [0, L); ``np.mod`` alone can return L for tiny negative values."""
    out = pos - box * np.floor(pos / box)
    return np.where(out >= box, 0.0, out)


def pair_distances(pos: np.ndarray, pairs: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Minimum-image distances [Å] of the index ``pairs`` (m, 2) of ``pos`` (n, 2)."""
    d = minimum_image(pos[pairs[:, 1]] - pos[pairs[:, 0]], box)
    return np.sqrt(np.einsum("ij,ij->i", d, d))
