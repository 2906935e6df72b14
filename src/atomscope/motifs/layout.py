"""Force-relaxed (FR) layout of motif features, motif labels and class averages (Dan et al. 2022).

Dan et al. embed the Zernike features of all patches in 2D with a two-stage force scheme that
generalises UMAP: features that are k-nearest neighbours in feature space attract each other,
random non-neighbours repel, first in a repulsion-dominated stage that pulls the classes apart,
then in an attraction-dominated stage that makes each class compact. The motifs are the clusters
of this layout.

Hand-written because no library implements the FR scheme (umap-learn's optimiser has one fixed
force law and one stage). The authors' code (github.com/jiadongdan/motif-learn,
``manifold/force_relaxed.py``, class ``ForceGraph8``) applies the forces pair by pair in a
numba loop; here all pairs move at once per iteration (numpy), see
:func:`force_relaxed_layout`.

References
----------
J. Dan et al., "Learning motifs and their hierarchies in atomic resolution microscopy",
Sci. Adv. 8, eabk1005 (2022), doi:10.1126/sciadv.abk1005 (Materials and Methods, "FR clustering").
L. McInnes, J. Healy, J. Melville, "UMAP: Uniform manifold approximation and projection for
dimension reduction", arXiv:1802.03426 (2018): the fuzzy kNN graph used for the weights.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from atomscope._shared.validation import make_rng

__all__ = ["DAN2022_FORCES", "class_distances", "force_relaxed_layout", "motif_labels"]

#: (alpha, beta, n, m) of the repulsion-dominated and the attraction-dominated stage, the
#: defaults of Dan et al. 2022 (Materials and Methods, "FR clustering"). The paper lists them
#: as "attraction-dominated and repulsion-dominated ... respectively", but its text runs the
#: repulsion stage first and ForceGraph8 runs (n=0, m=2, alpha=1, beta=1) first; ForceGraph8's
#: second stage defaults to (n=2, m=4, alpha=5, beta=2), the paper's to (2, 5, 5, 1), used here.
DAN2022_FORCES: tuple[tuple[float, float, float, float], ...] = ((1.0, 1.0, 0.0, 2.0), (5.0, 1.0, 2.0, 5.0))

_MAX_STEP = 4.0  # per-pair clip of each displacement component, as in UMAP and ForceGraph8
_INIT_EXTENT = 10.0  # the PCA start is scaled to [-10, 10], as in ForceGraph8
_AUTO_CANDIDATES = range(2, 9)  # numbers of motifs tried when n_motifs is None
_SILHOUETTE_SAMPLE = 2000  # points scored when choosing the number of motifs (cost ~ sample^2)


def force_relaxed_layout(
    features: np.ndarray,
    *,
    n_neighbors: int = 10,
    n_negative: int = 5,
    n_iter: tuple[int, ...] = (200, 200),
    forces: tuple[tuple[float, float, float, float], ...] = DAN2022_FORCES,
    learning_rate: float = 1.0,
    rng: int | tuple[int, ...] | np.random.Generator,
) -> np.ndarray:
    """Two-stage force-relaxed 2D layout of feature vectors (Dan et al. 2022).

    1. Start from the first two principal components of ``features``, scaled so that the
       largest coordinate is 10.
    2. Build the k-nearest-neighbour graph once in feature space (Euclidean) and weight its
       edges as UMAP does: w_ij = exp(-(d_ij - rho_i) / sigma_i), with rho_i the distance to
       the nearest neighbour and sigma_i such that sum_j w_ij = log2(k), symmetrised as
       w_ij + w_ji - w_ij w_ji. Similar features get weights near 1.
    3. Per stage with hyperparameters (alpha, beta, n, m) and T iterations, move every point at
       iteration t = 0..T-1 by eta_t = learning_rate * (1 - t / T) (relaxed from a maximum)
       times::

           (2 / c_i) sum_{j in kNN(i)} w_ij clip(alpha (y_j - y_i) / (|y_j - y_i|^n + 1))
           + sum_{r random} clip(beta (y_i - y_r) / (|y_i - y_r|^m + 1))

       where c_i is the number of graph edges at i, clip limits each component to +-4, and
       ``n_negative`` random points r per point (redrawn each iteration, kNN neighbours
       excluded) repel, pushing r back equally. The force magnitudes are those of ForceGraph8
       in motif-learn (``apply_attraction_force``, ``apply_repulsion_force``): attraction
       alpha d / (d^n + 1) weighted by w_ij, repulsion beta d / (d^m + 1) unweighted. The
       authors move one pair at a time; here all pairs act at once and the attraction is
       averaged over the c_i edges of a point (each edge counted from both ends, hence the 2),
       so that the balance per point is theirs: about 2 n_negative repulsions per pass.

    With the defaults, stage 1 (n = 0, m = 2) is a spring attraction against a long-range
    1/d repulsion, which spreads the classes apart; stage 2 (alpha = 5, n = 2, m = 5) has a
    short-range repulsion, so the attraction contracts each class without contracting the
    whole layout.

    Parameters
    ----------
    features : ndarray, shape (M, D)
        One feature vector per patch (e.g. Zernike moments), D >= 2, M > n_neighbors.
    n_neighbors : int
        k, the number of nearest neighbours that attract (Dan et al.: 10).
    n_negative : int
        k', the number of random non-neighbours that repel each point per iteration
        (Dan et al.: 5).
    n_iter : tuple of int
        Iterations of each stage.
    forces : tuple of (alpha, beta, n, m)
        Attraction strength, repulsion strength, attraction exponent and repulsion exponent
        of each stage, one tuple per entry of ``n_iter``. Default: Dan et al.'s
        ((1, 1, 0, 2), (5, 1, 2, 5)).
    learning_rate : float
        Maximum step factor eta at the start of each stage, > 0.
    rng : int, tuple of int or numpy.random.Generator
        Source of the random repelling pairs, e.g. ``(seed, stage, shard)``.

    Returns
    -------
    ndarray, shape (M, 2), float64
        Layout coordinates in arbitrary units (the force laws set the length scale 1).
    """
    features = _check_features(features)
    n_neighbors = _check_count(n_neighbors, "n_neighbors", minimum=1)
    n_negative = _check_count(n_negative, "n_negative", minimum=0)
    stages = _check_stages(n_iter, forces)
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be > 0, got {learning_rate!r}")
    if len(features) <= n_neighbors:
        raise ValueError(f"`features` needs more than n_neighbors={n_neighbors} rows, got {len(features)}")
    rng = make_rng(rng)

    distances, neighbours = NearestNeighbors(n_neighbors=n_neighbors).fit(features).kneighbors()
    heads, tails, weights = _fuzzy_edges(distances, neighbours)
    # Internally coordinates are (2, M): contiguous x and y rows make every step below faster.
    layout = np.ascontiguousarray(_pca_start(features).T)
    incidence = _averaging_incidence(heads, tails, weights, len(features))
    for iterations, (alpha, beta, n, m) in stages:
        for t in range(iterations):
            step = learning_rate * (1.0 - t / iterations)
            delta = np.take(layout, tails, axis=1) - np.take(layout, heads, axis=1)
            pull = incidence @ _clipped_force(delta, alpha, n).T
            push = _repulsion(layout, neighbours, n_negative, beta, m, rng)
            layout += step * (pull.T + push)
    return np.ascontiguousarray(layout.T)


def motif_labels(
    layout: np.ndarray,
    *,
    n_motifs: int | None = None,
    rng: int | tuple[int, ...] | np.random.Generator,
) -> np.ndarray:
    """Cluster a 2D FR layout into motifs with a Gaussian mixture.

    The FR layout turns each motif into a compact blob whose size and population differ
    between motifs (defects are rare); a Gaussian mixture (full covariances, mixing weights)
    fits blobs of unequal size and population, where k-means would split a large class to
    balance the sizes. When ``n_motifs`` is None, mixtures with 2..8 components are fitted and
    the one with the highest silhouette score (on at most 2,000 points) is kept. Not the BIC:
    the attraction-dominated stage packs each blob into a near-uniform disk, and small blobs
    into near-points, which the BIC rewards with ever more components (on synthetic layouts it
    kept falling up to 8 components where 5 were true; the silhouette peaked at 5).

    Parameters
    ----------
    layout : ndarray, shape (M, 2)
        Output of :func:`force_relaxed_layout`.
    n_motifs : int or None
        Number of motifs, >= 1; None chooses it by silhouette score.
    rng : int, tuple of int or numpy.random.Generator
        Seeds the mixture's initialisation and the silhouette subsample.

    Returns
    -------
    ndarray, shape (M,), int
        Motif label per point, 0 for the most populous motif, 1 for the next, and so on.
    """
    layout = np.asarray(layout, dtype=np.float64)
    if layout.ndim != 2 or layout.shape[1] != 2 or not np.all(np.isfinite(layout)):
        raise ValueError(f"`layout` must be a finite (M, 2) array, got shape {layout.shape}")
    candidates = _AUTO_CANDIDATES if n_motifs is None else [_check_count(n_motifs, "n_motifs", minimum=1)]
    candidates = [n for n in candidates if n < len(layout)]
    if not candidates:
        raise ValueError(f"`layout` has {len(layout)} points, too few for the motifs asked for")
    rng = make_rng(rng)
    seed = int(rng.integers(2**31))
    labels = [_mixture_labels(layout, n, seed) for n in candidates]
    if len(labels) == 1:
        return labels[0]
    scored = np.sort(rng.permutation(len(layout))[:_SILHOUETTE_SAMPLE])
    scores = [
        silhouette_score(layout[scored], found[scored]) if np.unique(found[scored]).size > 1 else -1.0
        for found in labels
    ]
    return labels[int(np.argmax(scores))]


def class_distances(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Euclidean distance of each feature vector to the average of its class.

    The class averages are Dan et al.'s denoised motifs; the distance tells how typical a
    patch is of its motif (large: an outlier or a mislabelled patch).

    Parameters
    ----------
    features : ndarray, shape (M, D)
        Feature vectors (e.g. Zernike moments).
    labels : ndarray, shape (M,)
        Class of each vector (e.g. from :func:`motif_labels`).

    Returns
    -------
    ndarray, shape (M,), float64
        Distances, in the units of ``features``.
    """
    features = _check_features(features)
    labels = np.asarray(labels)
    if labels.shape != (len(features),):
        raise ValueError(f"`labels` must have shape ({len(features)},), got {labels.shape}")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    sums = np.zeros((len(counts), features.shape[1]))
    np.add.at(sums, inverse, features)
    means = sums / counts[:, None]
    return np.linalg.norm(features - means[inverse], axis=1)


def _fuzzy_edges(distances: np.ndarray, neighbours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UMAP's fuzzy kNN graph as undirected edges (heads < tails) with weights in (0, 1].

    Written out in numpy because umap-learn's version (``fuzzy_simplicial_set``) is numba code
    that takes seconds to compile in every fresh process.
    """
    n_points, k = distances.shape
    gaps = np.maximum(distances - distances[:, :1], 0.0)
    floor = 1e-3 * np.maximum(distances.mean(axis=1), distances.mean())  # as UMAP's MIN_K_DIST_SCALE
    sigma = _bandwidths(gaps, target=np.log2(k), floor=floor)
    membership = np.exp(-gaps / sigma[:, None])
    rows = np.repeat(np.arange(n_points), k)
    directed = sparse.csr_matrix((membership.ravel(), (rows, neighbours.ravel())), shape=(n_points, n_points))
    transpose = directed.T
    union = sparse.triu(directed + transpose - directed.multiply(transpose), k=1).tocoo()
    return union.row.astype(np.intp), union.col.astype(np.intp), union.data


def _bandwidths(gaps: np.ndarray, *, target: float, floor: np.ndarray, steps: int = 64) -> np.ndarray:
    """Per row, sigma with sum_j exp(-gaps_j / sigma) = target, by bisection (all rows at once)."""
    low = np.zeros(len(gaps))
    high = np.full(len(gaps), np.inf)
    sigma = np.maximum(gaps.mean(axis=1), floor)
    sigma = np.where(sigma > 0, sigma, 1.0)
    for _ in range(steps):
        too_wide = np.exp(-gaps / sigma[:, None]).sum(axis=1) > target
        high = np.where(too_wide, sigma, high)
        low = np.where(too_wide, low, sigma)
        sigma = np.where(np.isinf(high), 2.0 * sigma, 0.5 * (low + high))
    return np.maximum(sigma, np.maximum(floor, np.finfo(float).tiny))


def _pca_start(features: np.ndarray) -> np.ndarray:
    start = PCA(n_components=2, svd_solver="covariance_eigh").fit_transform(features)
    extent = np.abs(start).max()
    return start * (_INIT_EXTENT / extent) if extent > 0 else start


def _averaging_incidence(heads, tails, weights, n_points: int) -> sparse.csr_matrix:
    """Sparse (M, E) matrix taking per-edge pulls (head to tail) to 2 / c_i sum_j w_ij pull_ij."""
    edge_count = np.bincount(heads, minlength=n_points) + np.bincount(tails, minlength=n_points)
    edges = np.arange(len(heads))
    entries = np.concatenate([weights, -weights]) * 2.0 / edge_count[np.concatenate([heads, tails])]
    shape = (n_points, len(heads))
    return sparse.csr_matrix((entries, (np.concatenate([heads, tails]), np.concatenate([edges, edges]))), shape=shape)


def _repulsion(layout, neighbours, n_negative, beta, m, rng) -> np.ndarray:
    """Push of ``n_negative`` random non-neighbours on each point, and the equal push back."""
    n_points = layout.shape[1]
    others = rng.integers(n_points, size=(n_points, n_negative))
    repel = others != np.arange(n_points)[:, None]
    for rank in neighbours.T:  # a loop over the k neighbour ranks, not over points
        repel &= others != rank[:, None]
    others = others.ravel()
    delta = np.repeat(layout, n_negative, axis=1) - np.take(layout, others, axis=1)
    push = _clipped_force(delta, beta, m) * repel.ravel()
    back = [np.bincount(others, weights=component, minlength=n_points) for component in push]
    return push.reshape(2, n_points, n_negative).sum(axis=2) - np.stack(back)


def _clipped_force(delta: np.ndarray, strength: float, exponent: float) -> np.ndarray:
    """clip(strength * delta / (|delta|^exponent + 1)) for 2D vectors, ``delta`` shaped (2, N)."""
    squared = delta[0] * delta[0] + delta[1] * delta[1]
    force = delta * (strength / (_power(squared, exponent) + 1.0))
    return np.clip(force, -_MAX_STEP, _MAX_STEP, out=force)


def _power(squared: np.ndarray, exponent: float) -> np.ndarray:
    """|d|^exponent from d^2; products for integer exponents, several times faster than pow."""
    if exponent != int(exponent):
        return squared ** (exponent / 2.0)
    result = np.sqrt(squared) if int(exponent) % 2 else np.ones_like(squared)
    for _ in range(int(exponent) // 2):
        result *= squared
    return result


def _mixture_labels(layout: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    mixture = GaussianMixture(
        n_components=n_components, covariance_type="full", init_params="k-means++", n_init=3, random_state=seed
    )
    return _rank_by_size(mixture.fit(layout).predict(layout))


def _rank_by_size(labels: np.ndarray) -> np.ndarray:
    values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    rank = np.empty(len(values), dtype=np.intp)
    rank[np.argsort(-counts, kind="stable")] = np.arange(len(values))
    return rank[inverse]


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
