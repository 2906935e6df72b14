"""Square image patches centred on detected sites, their image's normalisation and their size
(Dan et al. 2022, Fig. 1B and Materials and Methods, "Determination of motif patch size")."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from atomscope._shared.validation import check_image

__all__ = ["extract_patches", "lattice_vectors", "normalise_image", "repeat_length"]

_MATCH_FRACTION = 0.8  # sites that must find a partner for a translation to be a lattice vector
_MATCH_TOLERANCE = 0.2  # partner search radius, in nearest-neighbour distances
_INSIDE = 1.5  # a translated site with no site this close (in d) has left the sample and is not counted
_SEARCH_RADIUS = 3.5  # longest translation tried, in nearest-neighbour distances
_SEED_SITES = 5  # sites nearest the centre whose neighbours give the candidate translations
_SHELL = 6  # fallback: radius holding this many neighbours (cumulative coordination of g(r))


def extract_patches(
    image: np.ndarray,
    x_px: np.ndarray,
    y_px: np.ndarray,
    *,
    size_px: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a square patch centred on each site at its sub-pixel position.

    Patch pixel (r, c) samples the image at (y_px + r - S // 2, x_px + c - S // 2) by cubic
    spline interpolation (scipy.ndimage.map_coordinates), so the site sits exactly at the
    patch centre: columns of one kind at different sub-pixel offsets give the same patch
    (cutting at the nearest pixel, as motif-learn does, shifts them by up to half a pixel,
    which splits one kind of column into several motifs). Sites whose patch would leave the
    image (closer than ``S // 2`` pixels to a border) are skipped; ``kept`` says which sites
    have a patch.

    Parameters
    ----------
    image : ndarray, shape (H, W)
        The micrograph, indexed [row, col] = [y, x].
    x_px, y_px : array_like, shape (N,)
        Site positions in pixel-index units (the centre of column ``c`` is ``x_px = c``).
    size_px : int
        Side length S of the patches in pixels; odd and >= 3 so that a pixel sits at the centre.

    Returns
    -------
    patches : ndarray, shape (M, S, S), float32
        One patch per kept site, in the order of the inputs.
    kept : ndarray, shape (M,), int
        Indices into ``x_px`` / ``y_px`` of the sites that have a patch.

    Raises
    ------
    ValueError
        If ``image`` is not a finite 2D array, ``x_px`` and ``y_px`` are not finite 1D arrays
        of equal length, or ``size_px`` is not an odd integer >= 3.
    """
    image = check_image(image, "image", ndim=2)
    x_px = _check_coordinates(x_px, "x_px")
    y_px = _check_coordinates(y_px, "y_px")
    if x_px.shape != y_px.shape:
        raise ValueError(f"`x_px` and `y_px` must have the same length, got {x_px.size} and {y_px.size}")
    if int(size_px) != size_px or size_px < 3 or size_px % 2 == 0:
        raise ValueError(f"`size_px` must be an odd integer >= 3, got {size_px!r}")
    size_px = int(size_px)

    half = size_px // 2
    height, width = image.shape
    inside = (y_px >= half) & (y_px <= height - 1 - half) & (x_px >= half) & (x_px <= width - 1 - half)
    kept = np.flatnonzero(inside)
    if kept.size == 0:  # also covers images smaller than one patch
        return np.empty((0, size_px, size_px), dtype=np.float32), kept
    offsets = np.arange(size_px) - half
    rows = y_px[kept, None, None] + offsets[None, :, None]
    cols = x_px[kept, None, None] + offsets[None, None, :]
    # the spline coefficients once for the whole image, then only the samples per patch
    coefficients = ndimage.spline_filter(image.astype(np.float64), order=3, mode="mirror")
    shape = (kept.size, size_px, size_px)
    samples = ndimage.map_coordinates(
        coefficients, [np.broadcast_to(rows, shape).ravel(), np.broadcast_to(cols, shape).ravel()], order=3, mode="mirror", prefilter=False
    )
    return samples.reshape(shape).astype(np.float32), kept


def _check_coordinates(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"`{name}` must be a 1D array, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`{name}` contains NaN or infinite values")
    return values


def normalise_image(image: np.ndarray, *, background_px: float | None = None) -> np.ndarray:
    """The whole frame to zero mean and unit standard deviation (one scale for all its patches).

    Dan et al. cut raw patches from one normalised image, so that a dim or bright column
    (vacancy, dopant) stays dim or bright in its patch; a constant frame becomes all zeros.

    Parameters
    ----------
    image : ndarray, shape (H, W)
        The micrograph, any real dtype.
    background_px : float or None
        If given, a Gaussian blur of this sigma [px] is subtracted first, removing uneven
        illumination or thickness on scales above it (sigma ~ one lattice constant averages
        a unit cell, so the columns' contrast stays).

    Returns
    -------
    ndarray, shape (H, W), float64
    """
    image = check_image(image, "image", ndim=2).astype(np.float64)
    if background_px is not None:
        image = image - ndimage.gaussian_filter(image, float(background_px))
    std = image.std()
    return (image - image.mean()) / (std if std > 0 else 1.0)


def repeat_length(x: np.ndarray, y: np.ndarray) -> float:
    """Length of the repeating unit of a set of sites [units of x, y], for the patch size.

    Dan et al. set the patch side to the average length of the repeating unit. Here: the
    shortest translation v (among the separations of the sites nearest the centre to their
    neighbours within 3.5 nearest-neighbour distances d) that maps at least 80 % of the sites
    whose image stays inside the sample (a site within 1.5 d) onto a site within 0.2 d, its
    length averaged over the matched pairs: the lattice constant of a crystal. Sites with no such translation (amorphous, too few) get the radius
    that holds their first six neighbours on average (the cumulative coordination of g(r)
    reaching 6), which equals the lattice constant of a honeycomb or a triangular lattice.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Site positions (e.g. [Å]), N >= 7.

    Returns
    -------
    float
        The repeat length, in the units of ``x`` and ``y``.
    """
    points = _check_sites(x, y)
    vector = next(_lattice_translations(points), None)
    if vector is not None:
        return float(np.hypot(*vector))
    distances, _ = cKDTree(points).query(points, k=_SHELL + 1)  # no lattice: the first six neighbours' radius
    return float(np.mean(distances[:, _SHELL]))


def lattice_vectors(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Two primitive lattice vectors of a set of sites [units of x, y], from neighbour statistics.

    The shortest translation that maps the sites onto themselves (as :func:`repeat_length`)
    and the shortest one not parallel to it (at least 30 degrees apart), each refined to the
    mean separation of the pairs it matches.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Site positions (e.g. [Å]), N >= 7.

    Returns
    -------
    ndarray, shape (2, 2)
        Rows a1, a2, with a1 x a2 > 0.

    Raises
    ------
    ValueError
        If the sites have no two independent lattice translations (not a crystal).
    """
    first = None
    for vector in _lattice_translations(_check_sites(x, y)):
        if first is None:
            first = vector
            continue
        cross = first[0] * vector[1] - first[1] * vector[0]
        if abs(cross) > 0.5 * np.hypot(*first) * np.hypot(*vector):  # sin > 0.5
            return np.array([first, vector if cross > 0 else -vector])
    raise ValueError("no two independent lattice translations map the sites onto themselves: not a crystal")


def _check_sites(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Finite site coordinates as an (N, 2) array, N > 6."""
    x = _check_coordinates(x, "x")
    y = _check_coordinates(y, "y")
    if x.shape != y.shape or x.size <= _SHELL:
        raise ValueError(f"`x` and `y` need the same length > {_SHELL}, got {x.size} and {y.size}")
    return np.column_stack([x, y])


def _lattice_translations(points: np.ndarray):
    """Translations that map >= 80 % of the sites onto sites, shortest first, refined."""
    tree = cKDTree(points)
    spacing = float(np.median(tree.query(points, k=2)[0][:, 1]))
    for vector in _candidate_translations(points, tree, spacing):
        fraction, refined = _match(points, tree, vector, spacing)
        if fraction >= _MATCH_FRACTION:
            yield refined


def _candidate_translations(points: np.ndarray, tree: cKDTree, spacing: float) -> np.ndarray:
    """Separations from the sites nearest the centre to their neighbours, shortest first."""
    _, seeds = tree.query(points.mean(axis=0), k=min(_SEED_SITES, len(points)))
    vectors = [points[tree.query_ball_point(points[s], _SEARCH_RADIUS * spacing)] - points[s] for s in np.atleast_1d(seeds)]
    vectors = np.concatenate(vectors)
    lengths = np.hypot(vectors[:, 0], vectors[:, 1])
    keep = lengths > 0.5 * spacing
    return vectors[keep][np.argsort(lengths[keep], kind="stable")]


def _match(points: np.ndarray, tree: cKDTree, vector: np.ndarray, spacing: float) -> tuple[float, np.ndarray]:
    """Fraction of the translated sites inside the sample (a site within 1.5 d) that land on a
    site (within 0.2 d), and the mean separation of those matched pairs (the refined vector)."""
    distances, partners = tree.query(points + vector, distance_upper_bound=_INSIDE * spacing)
    inside = np.isfinite(distances)
    matched = inside & (distances <= _MATCH_TOLERANCE * spacing)
    if not matched.any():
        return 0.0, vector
    return float(matched.sum() / inside.sum()), (points[partners[matched]] - points[matched]).mean(axis=0)
