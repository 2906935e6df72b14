"""2D layouts of motif features: Dan et al.'s force-relaxed (FR) layout, UMAP and PCA.

Dan et al. embed the Zernike features of all patches in 2D with a two-stage force scheme that
generalises UMAP: features that are k-nearest neighbours in feature space attract each other,
random non-neighbours repel, first in a repulsion-dominated stage that pulls the classes apart,
then in an attraction-dominated stage that makes each class compact. The motifs are the
clusters of this layout (:mod:`atomscope.motifs.labels`).

The default follows the authors' code (github.com/jiadongdan/motif-learn,
``manifold/force_relaxed.py``, ``ForceGraph8``, as their MoSe2 notebook runs it: 10
neighbours by correlation, 5 negative samples, 100 iterations split 50 + 50, forces
(n, m, alpha, beta) = (0, 2, 1, 1) then (2, 5, 5, 1)): edge by edge, each edge moving its
points in place before the next one reads them (``update='in_place'``, compiled with numba).
``update='batched'`` is a numpy variant that computes all moves of an iteration from the same
positions; it is not the authors' scheme (benchmarks/motifs/results.md compares the two).

Hand-written because no library implements the FR scheme (umap-learn's optimiser has one fixed
force law and one stage); UMAP itself is umap-learn's.

References
----------
J. Dan et al., "Learning motifs and their hierarchies in atomic resolution microscopy",
Sci. Adv. 8, eabk1005 (2022), doi:10.1126/sciadv.abk1005 (Materials and Methods, "FR clustering").
L. McInnes, J. Healy, J. Melville, "UMAP: Uniform manifold approximation and projection for
dimension reduction", arXiv:1802.03426 (2018).
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from atomscope._shared.validation import make_rng
from atomscope.motifs._fr_kernel import in_place_pass
from atomscope.motifs.graph import knn_graph

__all__ = ["DAN2022_FORCES", "LAYOUTS", "UPDATES", "force_relaxed_layout", "layout_features", "pca_layout", "umap_layout"]

#: (alpha, beta, n, m) of the repulsion-dominated and the attraction-dominated stage. The paper
#: (Materials and Methods) gives {alpha=1, beta=1, n=0, m=2} and {alpha=5, beta=1, n=2, m=5}
#: and runs the repulsion-dominated stage first; the authors' MoSe2 notebook passes the same
#: two sets to ForceGraph8 as force_params (n, m, alpha, beta) = (0, 2, 1, 1), (2, 5, 5, 1).
#: (ForceGraph8's own default second stage, (2, 4, 5, 2), is not used there.)
DAN2022_FORCES: tuple[tuple[float, float, float, float], ...] = ((1.0, 1.0, 0.0, 2.0), (5.0, 1.0, 2.0, 5.0))

#: How a force-relaxed iteration applies its moves.
UPDATES = ("in_place", "batched")
#: The 2D layouts :func:`layout_features` can make.
LAYOUTS = ("fr", "umap", "pca")

_MAX_STEP = 4.0  # clip of each displacement component, as in UMAP and ForceGraph8
_INIT_EXTENT = 10.0  # the PCA start is scaled to [-10, 10], as in ForceGraph8


def force_relaxed_layout(
    features: np.ndarray,
    *,
    n_neighbors: int = 10,
    n_negative: int = 5,
    n_iter: tuple[int, ...] = (50, 50),
    forces: tuple[tuple[float, float, float, float], ...] = DAN2022_FORCES,
    learning_rate: float = 1.0,
    metric: str = "correlation",
    update: str = "in_place",
    rng: int | tuple[int, ...] | np.random.Generator,
) -> np.ndarray:
    """Two-stage force-relaxed 2D layout of feature vectors (Dan et al. 2022).

    1. Start from the first two principal components, scaled so the largest coordinate is 10.
    2. Build the weighted kNN graph once in feature space (:func:`knn_graph`: correlation
       distance, k counting the point itself, every edge in both directions).
    3. Per stage (alpha, beta, n, m) with T iterations, the step factor restarts at
       ``learning_rate`` and relaxes as motif-learn's: eta = learning_rate for iterations 0
       and 1, then learning_rate (1 - (t - 1) / T) for iteration t. Per iteration, every
       directed edge (i, j) in turn: i and j attract by clip(alpha d / (|d|^n + 1)) eta w_ij,
       then ``n_negative`` random points r (drawn per edge, skipped when among i's k
       neighbours) and i repel by clip(beta d / (|d|^m + 1)) eta; clip limits each component
       to +-4 and d is the current separation, so every move sees the moves before it
       (``update='in_place'``).

    ``update='batched'`` draws the same negatives but computes all moves of an iteration from
    the positions at its start, each edge's moves (on i, j and its negatives) divided by the
    number of edges leaving i, so that a point moves about once per iteration, and applies
    their sum: vectorised, but a different dynamics (Jacobi rather than Gauss-Seidel).

    Parameters
    ----------
    features : ndarray, shape (M, D)
        One feature vector per patch (e.g. Zernike moments), D >= 2, M > n_neighbors.
    n_neighbors : int
        k, neighbours per point counting itself (Dan et al.: 10), >= 2.
    n_negative : int
        k', random points drawn per directed edge to repel its head (Dan et al.: 5).
    n_iter : tuple of int
        Iterations of each stage (Dan et al.: 50 and 50).
    forces : tuple of (alpha, beta, n, m)
        Attraction strength, repulsion strength, attraction exponent and repulsion exponent
        of each stage, one tuple per entry of ``n_iter``.
    learning_rate : float
        Step factor eta at the start of each stage, > 0.
    metric : {'correlation', 'euclidean'}
        Distance of the kNN graph in feature space.
    update : {'in_place', 'batched'}
        Edge by edge (the authors' scheme) or all moves of an iteration at once.
    rng : int, tuple of int or numpy.random.Generator
        Source of the negative samples, e.g. ``(seed, stage, shard)``.

    Returns
    -------
    ndarray, shape (M, 2), float64
        Layout coordinates in arbitrary units (the force laws set the length scale 1).
    """
    features = _check_features(features)
    n_negative = _check_count(n_negative, "n_negative", minimum=0)
    stages = _check_stages(n_iter, forces)
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be > 0, got {learning_rate!r}")
    if update not in UPDATES:
        raise ValueError(f"`update` must be one of {UPDATES}, got {update!r}")
    rng = make_rng(rng)
    neighbours, heads, tails, weights = knn_graph(features, n_neighbors=n_neighbors, metric=metric)
    xy = np.ascontiguousarray(_pca_start(features))
    out_degree = np.bincount(heads, minlength=len(xy)).astype(np.float64)
    for iterations, (alpha, beta, n, m) in stages:
        for t in range(iterations):
            step = learning_rate * (1.0 - max(t - 1, 0) / iterations)
            negatives = rng.integers(len(xy), size=(len(heads), n_negative))
            if update == "in_place":
                in_place_pass(xy, heads, tails, weights, neighbours, negatives, step, alpha, beta, n, m)
            else:
                xy += step * _batched_moves(xy, (heads, tails, weights), neighbours, negatives, out_degree, (alpha, beta, n, m))
    return xy


def umap_layout(
    features: np.ndarray,
    *,
    n_neighbors: int = 10,
    metric: str = "correlation",
    rng: int | tuple[int, ...] | np.random.Generator,
) -> np.ndarray:
    """UMAP embedding in 2D (umap-learn, default min_dist 0.1), seeded: deterministic, one thread.

    Parameters
    ----------
    features : ndarray, shape (M, D)
        Feature vectors, M > n_neighbors.
    n_neighbors : int
        UMAP's neighbours (counting the point itself, as in :func:`force_relaxed_layout`).
    metric : {'correlation', 'euclidean'}
        Distance in feature space.
    rng : int, tuple of int or numpy.random.Generator
        Draws umap-learn's ``random_state``.

    Returns
    -------
    ndarray, shape (M, 2), float64
    """
    import umap  # numba compilation on import costs seconds; only this layout pays it

    features = _check_features(features)
    seed = int(make_rng(rng).integers(2**31))
    reducer = umap.UMAP(n_neighbors=int(n_neighbors), n_components=2, metric=metric, random_state=seed)
    return reducer.fit_transform(features).astype(np.float64)


def pca_layout(features: np.ndarray) -> np.ndarray:
    """The first two principal components of the features (the baseline layout).

    Parameters
    ----------
    features : ndarray, shape (M, D)

    Returns
    -------
    ndarray, shape (M, 2), float64
    """
    return PCA(n_components=2, svd_solver="full").fit_transform(_check_features(features))


def layout_features(features: np.ndarray, config, *, rng) -> np.ndarray:
    """The 2D layout named by ``config['layout']`` ({'fr', 'umap', 'pca'}) with the config's keys.

    Parameters
    ----------
    features : ndarray, shape (M, D)
    config : mapping
        The ``motifs`` config section (layout, n_neighbors, n_negative, n_iter,
        learning_rate, metric, update).
    rng : int, tuple of int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (M, 2), float64
    """
    kind = config["layout"]
    if kind == "fr":
        return force_relaxed_layout(
            features, n_neighbors=config["n_neighbors"], n_negative=config["n_negative"], n_iter=tuple(config["n_iter"]),
            learning_rate=config["learning_rate"], metric=config["metric"], update=config["update"], rng=rng,
        )
    if kind == "umap":
        return umap_layout(features, n_neighbors=config["n_neighbors"], metric=config["metric"], rng=rng)
    if kind == "pca":
        return pca_layout(features)
    raise ValueError(f"`layout` must be one of {LAYOUTS}, got {kind!r}")


def _pca_start(features: np.ndarray) -> np.ndarray:
    start = PCA(n_components=2, svd_solver="full").fit_transform(features)
    extent = np.abs(start).max()
    return start * (_INIT_EXTENT / extent) if extent > 0 else start


def _batched_moves(xy, edges, neighbours, negatives, out_degree, force) -> np.ndarray:
    """Sum of all moves of one iteration from the same positions, each edge's scaled by 1 / out-degree."""
    heads, tails, weights = edges
    alpha, beta, n, m = force
    scale = 1.0 / out_degree[heads]
    pull = _clipped_force(xy[heads] - xy[tails], alpha, n) * (weights * scale)[:, None]
    moves = _scatter(tails, pull, len(xy)) - _scatter(heads, pull, len(xy))
    repel = np.ones(negatives.shape, dtype=bool)
    for rank in neighbours.T:  # a loop over the k neighbour ranks, not over points
        repel &= negatives != rank[heads][:, None]
    owners = np.repeat(heads, negatives.shape[1])
    push = _clipped_force(xy[owners] - xy[negatives.ravel()], beta, m) * (repel.ravel() * np.repeat(scale, negatives.shape[1]))[:, None]
    return moves + _scatter(owners, push, len(xy)) - _scatter(negatives.ravel(), push, len(xy))


def _scatter(index: np.ndarray, values: np.ndarray, n_points: int) -> np.ndarray:
    return np.column_stack([np.bincount(index, weights=values[:, c], minlength=n_points) for c in (0, 1)])


def _clipped_force(delta: np.ndarray, strength: float, exponent: float) -> np.ndarray:
    """clip(strength * delta / (|delta|^exponent + 1)) for 2D vectors, ``delta`` shaped (N, 2)."""
    distance = np.hypot(delta[:, 0], delta[:, 1])
    force = delta * (strength / (distance**exponent + 1.0))[:, None]
    return np.clip(force, -_MAX_STEP, _MAX_STEP, out=force)


def _check_features(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[1] < 2:
        raise ValueError(f"`features` must be an (M, D) array with D >= 2, got shape {features.shape}")
    if not np.issubdtype(features.dtype, np.number) or np.iscomplexobj(features):
        raise ValueError(f"`features` must hold real numbers, got dtype {features.dtype}")
    if not np.all(np.isfinite(features)):
        raise ValueError("`features` contains NaN or infinite values")
    return features.astype(np.float64, copy=False)


def _check_count(value: int, name: str, *, minimum: int) -> int:
    if int(value) != value or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_stages(n_iter, forces) -> list[tuple[int, tuple[float, float, float, float]]]:
    n_iter = [_check_count(iterations, "n_iter", minimum=0) for iterations in n_iter]
    forces = [tuple(float(value) for value in stage) for stage in forces]
    if len(n_iter) != len(forces) or any(len(stage) != 4 for stage in forces):
        raise ValueError("`forces` must hold one (alpha, beta, n, m) tuple per entry of `n_iter`")
    if any(not np.all(np.isfinite(stage)) or min(stage) < 0 for stage in forces):
        raise ValueError(f"`forces` must hold finite values >= 0, got {forces!r}")
    return list(zip(n_iter, forces))
