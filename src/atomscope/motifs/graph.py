"""The weighted k-nearest-neighbour graph of feature vectors that the force-relaxed layout pulls on.

As motif-learn's ``compute_graph`` (ForceGraph8, github.com/jiadongdan/motif-learn,
``manifold/force_relaxed.py``), written here with numpy and scikit-learn: the k nearest
neighbours of each feature vector, itself included, by correlation distance; UMAP-like
memberships per point; the fuzzy union of both directions; every edge in both directions.

References
----------
J. Dan et al., Sci. Adv. 8, eabk1005 (2022), doi:10.1126/sciadv.abk1005.
L. McInnes, J. Healy, J. Melville, arXiv:1802.03426 (2018): the fuzzy union.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

__all__ = ["METRICS", "knn_graph"]

#: Distances between feature vectors the graph can use.
METRICS = ("correlation", "euclidean")

_BISECTION_STEPS = 100  # as motif-learn's binary search
_MIN_WEIGHT = np.finfo(np.float64).eps  # memberships are floored here, as in motif-learn


def knn_graph(
    features: np.ndarray, *, n_neighbors: int = 10, metric: str = "correlation"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """k-nearest-neighbour graph with fuzzy weights, as directed edges in both directions.

    1. The ``n_neighbors`` nearest vectors of each vector i, i itself first (so k - 1 others,
       as motif-learn's ``kneighbors(X)``), by correlation distance 1 - r(x_i, x_j) (or
       Euclidean distance).
    2. Memberships p_ij = exp(-(d_ij - rho_i) beta_i), floored at machine epsilon, with rho_i
       the distance to the nearest other vector and beta_i found by bisection so that the
       k - 1 memberships of i sum to log2(k); p_ii = 0.
    3. Union w_ij = p_ij + p_ji - p_ij p_ji; every nonzero w_ij is an edge i -> j and j -> i.

    Parameters
    ----------
    features : ndarray, shape (M, D)
        Finite feature vectors, M > n_neighbors.
    n_neighbors : int
        k, neighbours per vector counting itself (Dan et al.: 10), >= 2.
    metric : {'correlation', 'euclidean'}
        Distance between feature vectors (motif-learn: correlation).

    Returns
    -------
    neighbours : ndarray, shape (M, k), int
        Row i: i, then its k - 1 nearest others, nearest first. These never repel i.
    heads, tails : ndarray, shape (E,), int
        Directed edges, sorted by head then tail; (i, j) and (j, i) are both present.
    weights : ndarray, shape (E,), float64
        w_ij in (0, 1].
    """
    if metric not in METRICS:
        raise ValueError(f"`metric` must be one of {METRICS}, got {metric!r}")
    if int(n_neighbors) != n_neighbors or n_neighbors < 2:
        raise ValueError(f"`n_neighbors` must be an integer >= 2, got {n_neighbors!r}")
    if len(features) <= n_neighbors:
        raise ValueError(f"`features` needs more than n_neighbors={n_neighbors} rows, got {len(features)}")
    points = _correlation_space(features) if metric == "correlation" else np.asarray(features, dtype=np.float64)
    distances, others = NearestNeighbors(n_neighbors=int(n_neighbors) - 1).fit(points).kneighbors()
    if metric == "correlation":
        distances = 0.5 * distances**2  # |u - v|^2 / 2 = 1 - r for centred unit vectors
    n_points = len(points)
    neighbours = np.column_stack([np.arange(n_points), others])
    memberships = _memberships(distances, target=np.log2(n_neighbors))
    rows = np.repeat(np.arange(n_points), n_neighbors - 1)
    directed = sparse.csr_matrix((memberships.ravel(), (rows, others.ravel())), shape=(n_points, n_points))
    union = (directed + directed.T - directed.multiply(directed.T)).tocoo()
    order = np.lexsort((union.col, union.row))
    return neighbours, union.row[order].astype(np.intp), union.col[order].astype(np.intp), union.data[order]


def _correlation_space(features: np.ndarray) -> np.ndarray:
    """Rows centred and scaled to unit length: there |u - v|^2 = 2 (1 - r(u, v))."""
    centred = np.asarray(features, dtype=np.float64)
    centred = centred - centred.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.where(norms > 0, norms, 1.0)


def _memberships(distances: np.ndarray, *, target: float) -> np.ndarray:
    """exp(-(d - rho) beta) per row with beta such that the row sums to ``target`` (bisection)."""
    gaps = np.maximum(distances - distances[:, :1], 0.0)
    low = np.zeros(len(gaps))
    high = np.full(len(gaps), np.inf)
    beta = np.ones(len(gaps))
    for _ in range(_BISECTION_STEPS):
        too_wide = np.exp(-gaps * beta[:, None]).sum(axis=1) > target
        low = np.where(too_wide, beta, low)
        high = np.where(too_wide, high, beta)
        beta = np.where(too_wide, np.where(np.isinf(high), 2.0 * beta, 0.5 * (beta + high)), 0.5 * (beta + low))
    return np.maximum(np.exp(-gaps * beta[:, None]), _MIN_WEIGHT)
