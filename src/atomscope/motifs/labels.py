"""Motif labels from a 2D layout, distances to class averages and class-average patches.

The default reads motifs as the authors' ``seg_lbs`` does (github.com/jiadongdan/motif-learn,
``clustering/auto_clustering.py``): the layout is drawn onto a 256 x 256 grid, every point
dilated into a disk of radius 3 cells, and each connected patch of ink is a motif. No number of
motifs is asked for; points the layout leaves isolated become motifs of their own. k-means and
a Gaussian mixture with a given number of motifs are the alternatives.

References
----------
J. Dan et al., Sci. Adv. 8, eabk1005 (2022), doi:10.1126/sciadv.abk1005.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from atomscope._shared.validation import make_rng

__all__ = ["LABELLINGS", "class_averages", "class_distances", "motif_labels"]

#: How :func:`motif_labels` reads motifs from a layout.
LABELLINGS = ("components", "kmeans", "gmm")

_GRID = 256  # cells per side of the drawing (seg_lbs: size=256)
_FILL = 0.9  # fraction of the grid the layout spans (seg_lbs: size * 0.9)
_DISK = 3  # radius of each point's disk [cells] (seg_lbs: disk(3))


def motif_labels(
    layout: np.ndarray,
    *,
    method: str = "components",
    n_motifs: int | None = None,
    rng: int | tuple[int, ...] | np.random.Generator = 0,
) -> np.ndarray:
    """Motif label of each point of a 2D layout.

    Parameters
    ----------
    layout : ndarray, shape (M, 2)
        E.g. from :func:`atomscope.motifs.force_relaxed_layout`.
    method : {'components', 'kmeans', 'gmm'}
        ``components``: connected components of the dilated layout (seg_lbs); both axes
        scaled by one factor to 90 % of a 256-cell grid, disks of radius 3 cells,
        8-connectivity. ``kmeans`` / ``gmm``: k-means or a full-covariance Gaussian mixture
        with ``n_motifs`` classes.
    n_motifs : int or None
        Number of motifs for ``kmeans`` and ``gmm`` (required there, >= 1); ignored by
        ``components``.
    rng : int, tuple of int or numpy.random.Generator
        Seeds k-means and the mixture.

    Returns
    -------
    ndarray, shape (M,), int
        0 for the most populous motif, 1 for the next, and so on.
    """
    layout = np.asarray(layout, dtype=np.float64)
    if layout.ndim != 2 or layout.shape[1] != 2 or not np.all(np.isfinite(layout)):
        raise ValueError(f"`layout` must be a finite (M, 2) array, got shape {layout.shape}")
    if method == "components":
        return _rank_by_size(_component_labels(layout))
    if method not in LABELLINGS:
        raise ValueError(f"`method` must be one of {LABELLINGS}, got {method!r}")
    if n_motifs is None or int(n_motifs) != n_motifs or not 1 <= n_motifs < len(layout):
        raise ValueError(f"`n_motifs` must be an integer in [1, {len(layout) - 1}] for method {method!r}, got {n_motifs!r}")
    seed = int(make_rng(rng).integers(2**31))
    if method == "kmeans":
        model = KMeans(n_clusters=int(n_motifs), n_init=10, random_state=seed)
    else:
        model = GaussianMixture(n_components=int(n_motifs), covariance_type="full", n_init=3, random_state=seed)
    return _rank_by_size(model.fit(layout).predict(layout))


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
    features = np.asarray(features, dtype=np.float64)
    means, inverse = _class_means(features.reshape(len(features), -1), labels)
    return np.linalg.norm(features - means[inverse], axis=1)


def class_averages(patches: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean patch of each motif (Dan et al.'s mean motifs, motif-learn's ``get_mean_motifs``).

    Parameters
    ----------
    patches : ndarray, shape (M, S, S)
    labels : ndarray, shape (M,), int

    Returns
    -------
    averages : ndarray, shape (K, S, S), float64
        One mean patch per motif, in the order of ``motifs``.
    motifs : ndarray, shape (K,), int
        The sorted distinct labels.
    """
    patches = np.asarray(patches, dtype=np.float64)
    means, _ = _class_means(patches.reshape(len(patches), -1), labels)
    return means.reshape(len(means), *patches.shape[1:]), np.unique(labels)


def _class_means(rows: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    if labels.shape != (len(rows),):
        raise ValueError(f"`labels` must have shape ({len(rows)},), got {labels.shape}")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    sums = np.zeros((len(counts), rows.shape[1]))
    np.add.at(sums, inverse, rows)
    return sums / counts[:, None], inverse


def _component_labels(layout: np.ndarray) -> np.ndarray:
    """Connected component of each point after drawing every point as a disk on a grid."""
    low, high = layout.min(), layout.max()
    half = (_GRID * _FILL) // 2
    scaled = (layout - low) / (high - low) * 2 * half - half if high > low else np.zeros_like(layout)
    cells = (scaled + _GRID // 2).astype(np.intp)
    ink = np.zeros((_GRID, _GRID), dtype=bool)
    ink[cells[:, 1], cells[:, 0]] = True
    offsets = np.arange(-_DISK, _DISK + 1)
    disk = np.hypot(*np.meshgrid(offsets, offsets)) <= _DISK
    components, _ = ndimage.label(ndimage.binary_dilation(ink, structure=disk), structure=np.ones((3, 3)))
    return components[cells[:, 1], cells[:, 0]]


def _rank_by_size(labels: np.ndarray) -> np.ndarray:
    values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    rank = np.empty(len(values), dtype=np.intp)
    rank[np.argsort(-counts, kind="stable")] = np.arange(len(values))
    return rank[inverse]
