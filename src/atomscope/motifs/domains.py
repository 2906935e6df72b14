"""How different two regions or two images are: KL divergence of their Zernike-feature
histograms (Dan et al. 2022, Fig. 5F-H).

Dan et al. bin the features of each domain identically, dimension by dimension (one histogram
per Zernike feature), and compare two domains by the Kullback-Leibler divergence of these
histograms. Hand-written because scipy.stats.entropy gives the divergence of two given
distributions but not the shared binning and the empty-bin handling of two feature sets.

References
----------
J. Dan et al., Sci. Adv. 8, eabk1005 (2022), doi:10.1126/sciadv.abk1005.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import entropy

__all__ = ["feature_divergence"]

_PSEUDO_COUNT = 0.5  # per bin (Jeffreys prior): an empty bin of q is rare, not impossible


def feature_divergence(features_p: np.ndarray, features_q: np.ndarray, *, n_bins: int = 20) -> float:
    """KL divergence D(P || Q) [nats] of two sets of feature vectors, averaged over the features.

    Each feature (column) is binned on ``n_bins`` equal bins spanning both sets, so P and Q
    share the bins; counts get 0.5 per bin before normalising (no bin of Q is empty); the
    divergence sum_b p_b ln(p_b / q_b) of each feature's histograms is averaged over features.

    Parameters
    ----------
    features_p, features_q : ndarray, shape (N_p, D) and (N_q, D)
        Feature vectors of two regions or images (e.g. the ``Z{n}_{m}`` columns of the
        features table), the same D columns in the same order, N >= 2 each.
    n_bins : int
        Bins per feature, >= 2.

    Returns
    -------
    float
        >= 0; 0 for identical histograms. Not symmetric in P and Q.
    """
    p, q = (np.asarray(f, dtype=np.float64) for f in (features_p, features_q))
    if p.ndim != 2 or q.ndim != 2 or p.shape[1] != q.shape[1] or min(len(p), len(q)) < 2:
        raise ValueError(f"features must be (N, D) arrays with the same D and N >= 2, got shapes {p.shape} and {q.shape}")
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        raise ValueError("features contain NaN or infinite values")
    if int(n_bins) != n_bins or n_bins < 2:
        raise ValueError(f"`n_bins` must be an integer >= 2, got {n_bins!r}")
    low = np.minimum(p.min(axis=0), q.min(axis=0))
    high = np.maximum(p.max(axis=0), q.max(axis=0))
    width = np.where(high > low, high - low, 1.0)
    divergences = [
        entropy(_histogram(p[:, d], low[d], width[d], int(n_bins)), _histogram(q[:, d], low[d], width[d], int(n_bins)))
        for d in range(p.shape[1])
    ]
    return float(np.mean(divergences))


def _histogram(values: np.ndarray, low: float, width: float, n_bins: int) -> np.ndarray:
    """Counts in n_bins equal bins of [low, low + width] (the top edge in the last bin), plus the pseudo-count."""
    index = np.minimum(((values - low) / width * n_bins).astype(np.intp), n_bins - 1)
    return np.bincount(index, minlength=n_bins) + _PSEUDO_COUNT
