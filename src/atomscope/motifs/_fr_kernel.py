"""One in-place pass of the force-relaxed layout over all directed edges (numba).

The pass is sequential by nature: each edge moves its two points before the next edge reads
them, as in motif-learn's ``optimize_stage``; numba compiles the loop (cached on disk, so only
the first process pays the compilation, about a second).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["in_place_pass"]

_MAX_STEP = 4.0  # clip of each displacement component before the step factor, as in motif-learn


@numba.njit(cache=True)
def _clip(value: float) -> float:
    return min(max(value, -_MAX_STEP), _MAX_STEP)


@numba.njit(cache=True)
def in_place_pass(
    xy: np.ndarray,
    heads: np.ndarray,
    tails: np.ndarray,
    weights: np.ndarray,
    neighbours: np.ndarray,
    negatives: np.ndarray,
    step: float,
    alpha: float,
    beta: float,
    n: float,
    m: float,
) -> None:
    """Move ``xy`` (M, 2) in place: per edge e = (i, j) an attraction, then its negatives repel i.

    Attraction: i and j move towards each other by clip(alpha d / (|d|^n + 1)) * step * w_e.
    Repulsion: for each r in ``negatives[e]`` that is not among ``neighbours[i]``, i and r move
    apart by clip(beta d / (|d|^m + 1)) * step (not weighted). d is the current separation.
    """
    for e in range(heads.shape[0]):
        i = heads[e]
        j = tails[e]
        dx = xy[i, 0] - xy[j, 0]
        dy = xy[i, 1] - xy[j, 1]
        force = alpha / (np.hypot(dx, dy) ** n + 1.0)
        sx = _clip(dx * force) * step * weights[e]
        sy = _clip(dy * force) * step * weights[e]
        xy[i, 0] -= sx
        xy[i, 1] -= sy
        xy[j, 0] += sx
        xy[j, 1] += sy
        for s in range(negatives.shape[1]):
            r = negatives[e, s]
            near = False
            for q in range(neighbours.shape[1]):
                if neighbours[i, q] == r:
                    near = True
            if near:
                continue
            dx = xy[i, 0] - xy[r, 0]
            dy = xy[i, 1] - xy[r, 1]
            force = beta / (np.hypot(dx, dy) ** m + 1.0)
            sx = _clip(dx * force) * step
            sy = _clip(dy * force) * step
            xy[i, 0] += sx
            xy[i, 1] += sy
            xy[r, 0] -= sx
            xy[r, 1] -= sy
