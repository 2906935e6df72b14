"""Test-only re-statement of motif-learn's ForceGraph8 algorithm, to hold atomscope's FR layout to.

Written from the description of github.com/jiadongdan/motif-learn ``manifold/force_relaxed.py``
(``compute_graph``, ``optimize_stage``) and ``seg_lbs``, in plain Python loops, as independent of
atomscope's code as possible: sklearn's brute-force correlation kNN (itself included), per-row
binary search of the bandwidth with motif-learn's tolerance and step rule, scipy's fuzzy union
in its own edge order, motif-learn's xorshift ("tau_rand") negative sampling and learning-rate
schedule. Slow (pure Python): for fixtures of a few hundred points.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

_EPS = np.finfo(np.double).eps


def reference_graph(features: np.ndarray, n_neighbors: int):
    """Neighbours (self first) and the symmetric fuzzy graph as motif-learn's compute_graph."""
    distances, neighbours = NearestNeighbors(n_neighbors=n_neighbors, metric="correlation").fit(features).kneighbors(features)
    target = math.log2(n_neighbors)
    gaps = np.maximum(distances - distances[:, 1:2], 0.0)
    weights = np.zeros_like(gaps)
    for row, gap in enumerate(gaps):
        beta, low, high = 1.0, 0.0, math.inf
        for _ in range(100):
            total = float(np.exp(-gap[1:] * beta).sum())
            if abs(total - target) < 1e-5:
                break
            if total > target:
                low = beta
                beta = beta * 2.0 if high == math.inf else (beta + high) / 2.0
            else:
                high = beta
                beta = (beta + low) / 2.0
        weights[row] = np.maximum(np.exp(-gap * beta), _EPS)
    weights[:, 0] = 0.0
    n = len(features)
    directed = sparse.csr_matrix((weights.ravel(), neighbours.ravel(), range(0, n * n_neighbors + 1, n_neighbors)), shape=(n, n))
    graph = (directed + directed.T - directed.multiply(directed.T)).tocoo()
    return neighbours, list(zip(graph.row.tolist(), graph.col.tolist(), graph.data.tolist()))


def _tau_rand(state: list[int]) -> int:
    state[0] = (((state[0] & 4294967294) << 12) & 0xFFFFFFFF) ^ ((((state[0] << 13) & 0xFFFFFFFF) ^ state[0]) >> 19)
    state[1] = (((state[1] & 4294967288) << 4) & 0xFFFFFFFF) ^ ((((state[1] << 2) & 0xFFFFFFFF) ^ state[1]) >> 25)
    state[2] = (((state[2] & 4294967280) << 17) & 0xFFFFFFFF) ^ ((((state[2] << 3) & 0xFFFFFFFF) ^ state[2]) >> 11)
    return state[0] ^ state[1] ^ state[2]


def _clip(value: float) -> float:
    return 4.0 if value > 4.0 else (-4.0 if value < -4.0 else value)


def reference_fr_layout(features: np.ndarray, *, n_neighbors=10, n_negative=5, iterations=100, seed=48,
                        stages=((0, 2, 1, 1), (2, 5, 5, 1))) -> np.ndarray:
    """ForceGraph8(n_neighbors, num_iterations, num_negative_samples, force_params1/2).fit_transform."""
    neighbours, pairs = reference_graph(features, n_neighbors)
    start = PCA(n_components=2).fit_transform(features)
    start = start / np.abs(start).max() * 10
    xs, ys = start[:, 0].tolist(), start[:, 1].tolist()
    near = [set(row.tolist()) for row in neighbours]
    state = [int(v) for v in np.random.RandomState(seed).randint(-(2**31) + 1, 2**31 - 1, 3)]
    n_points = len(xs)
    half = int(iterations * 0.5)
    for n_exp, m_exp, alpha, beta in stages:
        lr = 1.0
        for it in range(half):
            for i, j, w in pairs:
                dx, dy = xs[i] - xs[j], ys[i] - ys[j]
                f = alpha / (math.hypot(dx, dy) ** n_exp + 1)
                sx, sy = _clip(dx * f) * lr * w, _clip(dy * f) * lr * w
                xs[i] -= sx; ys[i] -= sy; xs[j] += sx; ys[j] += sy  # noqa: E702
                for _ in range(n_negative):
                    r = _tau_rand(state) % n_points
                    if r in near[i]:
                        continue
                    dx, dy = xs[i] - xs[r], ys[i] - ys[r]
                    f = beta / (math.hypot(dx, dy) ** m_exp + 1)
                    sx, sy = _clip(dx * f) * lr, _clip(dy * f) * lr
                    xs[i] += sx; ys[i] += sy; xs[r] -= sx; ys[r] -= sy  # noqa: E702
            lr = 1.0 * (1.0 - it / half)
    return np.column_stack([xs, ys])
