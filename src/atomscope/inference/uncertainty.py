"""Uncertainty by test-time augmentation: the 8 rotations and flips of the square.

A micrograph has no preferred orientation, so a network's answer should not change when the
image is turned or mirrored. Each of the 8 symmetries of the square is predicted on its own
(one whole-image pass each, so memory stays that of one pass) and turned back; the mean is
the heat map, the spread of each site's position over the 8 is its ``sigma_x``, ``sigma_y``
[Å] (scaled by :data:`SIGMA_SCALE`, calibrated on simulated images), and the disagreement of
the 8 maps is the image's out-of-distribution score.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import pandas as pd
import torch
from scipy.spatial import cKDTree

__all__ = ["OOD_WARNING", "SIGMA_FLOOR", "SIGMA_SCALE", "calibrated_sigma", "SYMMETRIES", "disagreement", "each_symmetry", "position_spread", "symmetric_forward"]

#: The 8 symmetries of the square as (flip left-right first?, quarter turns).
SYMMETRIES = tuple((flip, k) for flip in (False, True) for k in range(4))

#: Calibration of the spread of a site's position over the 8 symmetries (s, per coordinate)
#: into its error: sigma = sqrt(SIGMA_FLOOR² + (SIGMA_SCALE s)²) [Å]. The 8 passes share the
#: network's bias, so the spread misses an error that does not turn with the image (the
#: floor) and underestimates the rest. Fitted to the errors of carbon_hrtem on 8 simulated
#: test images (the default workflow's simulation, seed 3000) and checked on 8 more and on the
#: default workflow's 4 (benchmarks/inference/results.md); never fitted on real images.
SIGMA_FLOOR = 0.081  # [Å]
SIGMA_SCALE = 1.09

#: Out-of-distribution score (see :func:`disagreement`) above which an image is reported as
#: unlike the training data. Measured with the shipped models on 256 px images: simulated test
#: images 0.05-0.08, real graphene (HRTEM, MAADF, contaminated HRTEM) 0.04-0.11, Gaussian
#: noise 0.57 (benchmarks/inference/results.md).
OOD_WARNING = 0.3


def symmetric_forward(net: torch.nn.Module, device: torch.device, flip: bool, turns: int) -> Callable[[np.ndarray], np.ndarray]:
    """A tile predictor for :func:`~atomscope.inference.tiling.predict_tiled`: the network's
    maps of the tiles flipped left-right (if ``flip``) then turned ``turns`` quarter turns,
    turned and flipped back so that they lie on the tiles as given."""

    @torch.inference_mode()
    def forward(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch).to(device)
        x = x.flip(-1) if flip else x
        y = torch.rot90(net(torch.rot90(x, turns, dims=(-2, -1))).float(), -turns, dims=(-2, -1))
        return (y.flip(-1) if flip else y).cpu().numpy()

    return forward


def each_symmetry(net: torch.nn.Module, device: torch.device) -> Iterator[Callable[[np.ndarray], np.ndarray]]:
    """:func:`symmetric_forward` for each of :data:`SYMMETRIES`."""
    for flip, turns in SYMMETRIES:
        yield symmetric_forward(net, device, flip, turns)


def position_spread(sites: pd.DataFrame, passes: list[pd.DataFrame], radius: float) -> pd.DataFrame:
    """``sigma_x``, ``sigma_y`` [Å] of each site: :func:`calibrated_sigma` of the standard
    deviation of the positions of the same kind found within ``radius`` [Å] of it in each
    pass; NaN where fewer than two passes found it. Also ``found``: the fraction of passes
    that found it (a detection score from 0 to 1)."""
    sigma = np.full((len(sites), 2), np.nan)
    found = np.zeros(len(sites))
    for kind in sites["kind"].unique():
        rows = np.flatnonzero(sites["kind"].to_numpy() == kind)
        centre = sites[["x", "y"]].to_numpy()[rows]
        positions = np.full((len(passes), len(rows), 2), np.nan)
        for p, table in enumerate(passes):
            mine = table[table["kind"] == kind][["x", "y"]].to_numpy()
            if len(mine):
                distance, nearest = cKDTree(mine).query(centre, distance_upper_bound=radius)
                hit = np.isfinite(distance)
                positions[p, hit] = mine[nearest[hit]]
        count = np.isfinite(positions[..., 0]).sum(axis=0)
        found[rows] = count / len(passes)
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = np.nanstd(positions, axis=0, ddof=1) if len(passes) > 1 else np.full((len(rows), 2), np.nan)
        sigma[rows] = np.where(count[:, None] >= 2, calibrated_sigma(spread), np.nan)
    return sites.assign(sigma_x=sigma[:, 0], sigma_y=sigma[:, 1], found=found)


def calibrated_sigma(spread: np.ndarray, floor: float | None = None, scale: float | None = None) -> np.ndarray:
    """sqrt(floor² + (scale spread)²) [Å] of a spread [Å]; :data:`SIGMA_FLOOR`, :data:`SIGMA_SCALE` by default."""
    floor = SIGMA_FLOOR if floor is None else floor
    scale = SIGMA_SCALE if scale is None else scale
    return np.sqrt(floor**2 + (scale * np.asarray(spread)) ** 2)


def disagreement(sites: pd.DataFrame) -> float:
    """Out-of-distribution score of an image: the fraction of its sites that at least one of
    the passes misses (``found`` < 1; NaN without sites). The disagreement of the passes'
    maps themselves does not tell noise from atoms (a network answers noise with flat maps,
    which agree); whether they find the same sites does (benchmarks/inference/results.md)."""
    return float((sites["found"] < 1).mean()) if len(sites) else float("nan")
