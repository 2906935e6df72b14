"""Detection scores: one-to-one matching of detected and true sites within a radius."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from atomscope._shared.validation import check_positive
from atomscope.io import ImageGrid

__all__ = ["detection_scores", "scores_in_view", "score_sites", "species_scores"]


def detection_scores(detected: np.ndarray, truth: np.ndarray, *, radius: float) -> dict[str, float]:
    """Precision, recall, F1 and localisation error of detections against ground truth.

    Each true site is matched to at most one detection (and vice versa) by minimum total
    distance (Hungarian algorithm) among pairs closer than ``radius``.

    Parameters
    ----------
    detected, truth : ndarray of shape (N, 2) and (M, 2)
        Positions (x, y), in any one length unit.
    radius : float
        Largest distance of a match, in the same unit.

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn``, ``precision``, ``recall``, ``f1`` and ``rmse`` (root mean square
        distance of matched pairs; NaN without matches).
    """
    check_positive(radius, "radius")
    detected = np.asarray(detected, dtype=float).reshape(-1, 2)
    truth = np.asarray(truth, dtype=float).reshape(-1, 2)
    _, _, distances = _matches(detected, truth, radius)
    return _tally(len(distances), len(detected), len(truth), distances)


def _matches(detected: np.ndarray, truth: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the matched detections and true sites, and their distances (Hungarian, < radius)."""
    if len(detected) and len(truth):
        # ndarray output keeps pairs at distance 0, which a sparse matrix would drop
        pairs = cKDTree(detected).sparse_distance_matrix(cKDTree(truth), radius, output_type="ndarray")
        if len(pairs):
            rows, row_index = np.unique(pairs["i"], return_inverse=True)
            cols, col_index = np.unique(pairs["j"], return_inverse=True)
            cost = np.full((len(rows), len(cols)), 2 * radius)
            cost[row_index, col_index] = pairs["v"]
            r, c = linear_sum_assignment(cost)
            keep = cost[r, c] <= radius
            return rows[r[keep]], cols[c[keep]], cost[r, c][keep]
    return np.zeros(0, int), np.zeros(0, int), np.empty(0)


def _tally(tp: int, detected: int, truth: int, distances: np.ndarray) -> dict[str, float]:
    """The scores of ``tp`` matches among ``detected`` detections and ``truth`` true sites."""
    fp, fn = detected - tp, truth - tp
    precision = tp / detected if detected else 0.0
    recall = tp / truth if truth else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else 1.0
    rmse = float(np.sqrt(np.mean(distances**2))) if tp else float("nan")
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1, "rmse": rmse}


def score_sites(
    sites: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    grid: ImageGrid,
    match_radius: float,
    border: float,
) -> pd.DataFrame:
    """Detection scores per kind of site, ignoring sites within ``border`` [Å] of the image edge.

    ``sites`` and ``truth`` hold ``kind``, ``x``, ``y`` [Å]; ``grid`` is the image's pixel
    grid, whose edge is the outer edge of its outer pixels. Returns one row per kind present
    in ``truth``.
    """
    return _scores_by(sites, "kind", truth, "kind", sorted(truth["kind"].unique()), grid, match_radius, border)


def species_scores(
    sites: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    grid: ImageGrid,
    match_radius: float,
    border: float,
) -> pd.DataFrame:
    """Detection scores per species class, ignoring sites within ``border`` [Å] of the image edge.

    ``sites`` hold ``species``, ``x``, ``y`` [Å] (atoms and vacancies of a classes head);
    ``truth`` holds ``species_class``, ``x``, ``y``. A site counts for its class only: a Mo
    column called S2 is a false S2 and a missed Mo. Returns one row per class found in either
    (column ``species``), with ``tp``, ``fp``, ``fn`` (to pool over images) and the scores of
    :func:`detection_scores`.
    """
    sites = sites[sites["species"].fillna("").astype(str).ne("")]
    names = sorted(set(sites["species"]) | set(truth["species_class"]))
    return _scores_by(sites, "species", truth, "species_class", names, grid, match_radius, border).rename(columns={"species_class": "species"})


def scores_in_view(detected: np.ndarray, truth: np.ndarray, *, grid: ImageGrid, radius: float, border: float) -> dict[str, float]:
    """:func:`detection_scores` of the sites farther than ``border`` [Å] inside the edge of
    ``grid``. Detections and true sites (x, y) [Å] are matched across the whole image first: a
    pair counts when its true site is inside the border, an unmatched detection or true site when
    it is inside; a detection just inside the border whose true site lies just outside is neither
    found nor false (cutting first would count it false and miss its partner)."""
    found = np.asarray(detected, dtype=float).reshape(-1, 2)
    true = np.asarray(truth, dtype=float).reshape(-1, 2)
    found_in = np.asarray(grid.contains(found[:, 0], found[:, 1], margin=border), bool)
    true_in = np.asarray(grid.contains(true[:, 0], true[:, 1], margin=border), bool)
    i, j, distances = _matches(found, true, check_positive(radius, "radius"))
    counted = true_in[j]
    matched_found = np.zeros(len(found), bool)
    matched_found[i] = True
    tp = int(counted.sum())
    return _tally(tp, tp + int((found_in & ~matched_found).sum()), int(true_in.sum()), distances[counted])


def _scores_by(sites, site_key, truth, truth_key, names, grid, match_radius, border) -> pd.DataFrame:
    """:func:`scores_in_view` of the sites and truth whose ``*_key`` column is each of ``names``."""
    rows = []
    for name in names:
        found = sites.loc[sites[site_key] == name, ["x", "y"]].to_numpy(float)
        true = truth.loc[truth[truth_key] == name, ["x", "y"]].to_numpy(float)
        rows.append({truth_key: name, **scores_in_view(found, true, grid=grid, radius=match_radius, border=border)})
    return pd.DataFrame(rows)
