"""Zernike moments of image patches (Dan et al. 2022, Fig. 1C).

The Zernike polynomials are orthogonal on the unit disk, so their coefficients (moments)
describe a patch without redundancy, and rotating the patch by an angle ``phi`` only turns
each pair of moments (n, +m), (n, -m) by ``m * phi``: the modulus of each pair is a
rotation-invariant feature.

Hand-written because neither scikit-image nor scikit-learn computes Zernike moments;
mahotas has ``mahotas.features.zernike_moments`` (moduli of one image at a time, in a loop)
but is not a dependency of this project, and the matrix form below does all patches at once,
as Dan et al. do ("matrix approximation").

References
----------
A. Khotanzad and Y. H. Hong, "Invariant image recognition by Zernike moments",
IEEE Trans. Pattern Anal. Mach. Intell. 12, 489-497 (1990), doi:10.1109/34.55109.
J. Dan et al., "Learning motifs and their hierarchies in atomic resolution microscopy",
Sci. Adv. 8, eabk1005 (2022), doi:10.1126/sciadv.abk1005.
"""

from __future__ import annotations

import numpy as np
from scipy.special import eval_jacobi

__all__ = ["mirror_symmetry", "rotational_symmetry", "zernike_basis", "zernike_indices", "zernike_moments", "zernike_reconstruct"]


def zernike_indices(n_max: int, *, rotation_invariant: bool = False) -> list[tuple[int, int]]:
    """List the (n, m) index pairs of the Zernike polynomials up to radial order ``n_max``.

    Parameters
    ----------
    n_max : int
        Highest radial order, >= 0.
    rotation_invariant : bool
        If True, only m >= 0 (one entry per rotation-invariant modulus).

    Returns
    -------
    list of (int, int)
        (n, m) with n = 0..n_max and m = -n, -n+2, ..., n (ANSI/OSA order,
        j = (n (n + 2) + m) / 2), or m = n % 2, ..., n when ``rotation_invariant``.
    """
    n_max = _check_n_max(n_max)
    return [
        (n, m)
        for n in range(n_max + 1)
        for m in range(-n, n + 1, 2)
        if m >= 0 or not rotation_invariant
    ]


def zernike_basis(size_px: int, n_max: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Real Zernike polynomials sampled on the disk inscribed in an S x S patch.

    Pixel (row, col) sits at x = (col - c) / R, y = (row - c) / R with c = (S - 1) / 2 and
    R = S / 2 (the disk touches the patch edges); polar angle theta = arctan2(y, x), so y grows
    with the row index as everywhere in atomscope. Outside the disk the basis is 0.

    Z_nm = sqrt(2 (n + 1) / (1 + delta_m0)) R_n^|m|(rho) * (cos(m theta) if m >= 0 else
    sin(|m| theta)), normalised so that the integral of Z_j Z_k over the unit disk is
    pi * delta_jk.

    Parameters
    ----------
    size_px : int
        Side length S of the patches in pixels, >= 3.
    n_max : int
        Highest radial order, >= 0.

    Returns
    -------
    basis : ndarray, shape (J, S, S), float64
        One polynomial per (n, m), J = (n_max + 1)(n_max + 2) / 2.
    indices : list of (int, int)
        The (n, m) of each polynomial, as ``zernike_indices(n_max)``.
    """
    if int(size_px) != size_px or size_px < 3:
        raise ValueError(f"`size_px` must be an integer >= 3, got {size_px!r}")
    indices = zernike_indices(n_max)
    rho, theta = _polar_grid(int(size_px))
    inside = rho <= 1.0
    basis = np.empty((len(indices), *rho.shape))
    for j, (n, m) in enumerate(indices):
        norm = np.sqrt(2.0 * (n + 1) / (1.0 + (m == 0)))
        angular = np.cos(m * theta) if m >= 0 else np.sin(-m * theta)
        basis[j] = np.where(inside, norm * _radial(n, abs(m), rho) * angular, 0.0)
    return basis, indices


def zernike_moments(
    patches: np.ndarray,
    *,
    n_max: int = 10,
    rotation_invariant: bool = True,
) -> np.ndarray:
    """Zernike moments of each patch, all patches in one matrix product with a precomputed basis.

    The patches are used as they are (Dan et al. cut raw patches from a globally normalised
    image, :func:`atomscope.motifs.normalise_image`), so brightness differences between
    patches (vacancies, dopants) stay in the moments, A_00 first of all. The moment of
    polynomial Z_j is A_j = (1 / pi) * sum over disk pixels of f * Z_j * (1 / R^2), the
    pixel-sum approximation of the projection on the orthonormal basis; then
    f ~ sum_j A_j Z_j inside the disk (:func:`zernike_reconstruct`).

    Parameters
    ----------
    patches : ndarray, shape (M, S, S)
        Image patches (any real dtype), e.g. from :func:`extract_patches`.
    n_max : int
        Highest radial order, >= 0. Dan et al. use n_max = 10 (j <= 65, 66 polynomials).
    rotation_invariant : bool
        If True, return what motif-learn's ``rotinv`` keeps: for m = 0 the signed moment
        A_n0 (a rotation leaves it unchanged), for m > 0 the modulus
        sqrt(A_{n,m}^2 + A_{n,-m}^2), which a rotation does not change either. If False,
        return the cosine and sine moments A_{n,+m}, A_{n,-m} themselves, which keep the
        orientation (the complex moment of Khotanzad & Hong is
        sqrt((n + 1) / 2) * (A_{n,+m} - i A_{n,-m})).

    Returns
    -------
    ndarray, shape (M, J'), float64
        Moments in the units of the patch values, columns ordered as
        ``zernike_indices(n_max, rotation_invariant=rotation_invariant)``.

    Examples
    --------
    >>> zernike_moments(np.ones((1, 5, 5)), n_max=2).round(2)[0, :2]  # A_00 of a constant 1
    array([0.89, 0.  ])
    """
    patches = _check_patches(patches)
    size = patches.shape[1]
    basis, indices = zernike_basis(size, n_max)
    flat = patches.reshape(len(patches), -1).astype(np.float64, copy=False)
    pixel_area = (2.0 / size) ** 2  # 1 / R^2 in unit-disk coordinates
    moments = flat @ basis.reshape(len(indices), -1).T * (pixel_area / np.pi)
    if not rotation_invariant:
        return moments
    pairs = _pair_matrix(indices)
    invariant = np.sqrt(moments**2 @ pairs)
    radial = [j for j, (n, m) in enumerate(indices) if m == 0]
    invariant[:, pairs[radial].argmax(axis=1)] = moments[:, radial]  # A_n0 keeps its sign
    return invariant


def zernike_reconstruct(moments: np.ndarray, size_px: int, n_max: int) -> np.ndarray:
    """Patches rebuilt from their oriented moments, f ~ sum_j A_j Z_j inside the disk.

    Parameters
    ----------
    moments : ndarray, shape (M, J) or (J,)
        Output of :func:`zernike_moments` with ``rotation_invariant=False``.
    size_px : int
        Side S of the patches [px].
    n_max : int
        Highest radial order of ``moments``; J = (n_max + 1)(n_max + 2) / 2.

    Returns
    -------
    ndarray, shape (M, S, S) or (S, S), float64
        The rebuilt patches, 0 outside the inscribed disk.
    """
    moments = np.asarray(moments, dtype=np.float64)
    basis, indices = zernike_basis(size_px, n_max)
    if moments.shape[-1] != len(indices):
        raise ValueError(f"`moments` must have {len(indices)} columns for n_max={n_max}, got shape {moments.shape}")
    return np.tensordot(moments, basis, axes=1)


def rotational_symmetry(moments: np.ndarray, n_max: int, folds: tuple[int, ...] = (2, 3, 4, 6)) -> np.ndarray:
    """n-fold rotational symmetry score of each patch from its oriented moments (motif-learn's rot_maps).

    Of the power P = sum of A_nm^2 over the moments with |m| > 1 (m = 0 and |m| = 1 do not
    count: every patch has them), the score counts +1 where |m| is a multiple of n (the
    angular orders an n-fold symmetric patch can have) and -1 / (n - 1) elsewhere, divided by P.
    1: all that power in the orders of n-fold symmetry; about 0: spread evenly; negative: none.

    Parameters
    ----------
    moments : ndarray, shape (M, J)
        Output of :func:`zernike_moments` with ``rotation_invariant=False``.
    n_max : int
        Highest radial order of ``moments``.
    folds : tuple of int
        The symmetries n to score, each >= 2.

    Returns
    -------
    ndarray, shape (M, len(folds)), float64
        Scores in [-1 / (n - 1), 1] (dimensionless); 0 for a patch without power at |m| > 1.
    """
    moments, orders = _check_oriented(moments, n_max)
    if any(int(n) != n or n < 2 for n in folds):
        raise ValueError(f"`folds` must be integers >= 2, got {folds!r}")
    weights = np.array([np.where(orders <= 1, 0.0, np.where(orders % n == 0, 1.0, -1.0 / (n - 1))) for n in folds])
    power = moments**2 @ (orders > 1).astype(np.float64)
    return moments**2 @ weights.T / np.where(power > 0, power, 1.0)[:, None]


def mirror_symmetry(moments: np.ndarray, n_max: int, *, n_angles: int = 360) -> tuple[np.ndarray, np.ndarray]:
    """Mirror symmetry score and mirror axis of each patch from its oriented moments (motif-learn's mirror_map).

    With c_nm = A_{n,+m} - i A_{n,-m} = |c_nm| exp(i phi_nm), a reflection about the axis at
    angle alpha turns c_nm into conj(c_nm) exp(-2 i m alpha), so the overlap of a patch with
    its mirror image, relative to its power, is
    S(alpha) = sum |c_nm|^2 cos(2 phi_nm + 2 m alpha) / sum |c_nm|^2 over m > 0 (m = 0 moments
    are their own mirror image for every axis and do not count). The score is the largest
    S over ``n_angles`` axes in [0, 180) degrees.

    Parameters
    ----------
    moments : ndarray, shape (M, J)
        Output of :func:`zernike_moments` with ``rotation_invariant=False``.
    n_max : int
        Highest radial order of ``moments``.
    n_angles : int
        Axes tried, evenly spaced in [0, pi).

    Returns
    -------
    score : ndarray, shape (M,), float64
        In [-1, 1] (dimensionless): 1 for a mirror-symmetric patch, 0 where it has no power at m > 0.
    axis : ndarray, shape (M,), float64
        Angle of the best mirror axis [rad] in [0, pi), from the x axis towards y (rows).
    """
    moments, orders = _check_oriented(moments, n_max)
    indices = zernike_indices(n_max)
    plus = [j for j, (n, m) in enumerate(indices) if m > 0]
    minus = [indices.index((n, -m)) for n, m in (indices[j] for j in plus)]
    c = moments[:, plus] - 1j * moments[:, minus]
    m = orders[plus]
    alpha = np.arange(int(n_angles)) * np.pi / int(n_angles)
    # Re(c^2 exp(2 i m alpha)) = |c|^2 cos(2 phi + 2 m alpha), for all axes in one product
    overlap = (c.real**2 - c.imag**2) @ np.cos(2 * np.outer(m, alpha)) - (2 * c.real * c.imag) @ np.sin(2 * np.outer(m, alpha))
    power = (np.abs(c) ** 2).sum(axis=1)
    best = overlap.argmax(axis=1)
    score = overlap[np.arange(len(c)), best] / np.where(power > 0, power, 1.0)
    return np.where(power > 0, score, 0.0), alpha[best]


def _check_oriented(moments: np.ndarray, n_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Oriented moments as float64 (M, J), checked against n_max, and the |m| of each column."""
    indices = zernike_indices(n_max)
    moments = np.atleast_2d(np.asarray(moments, dtype=np.float64))
    if moments.shape[-1] != len(indices):
        raise ValueError(f"`moments` must have {len(indices)} columns for n_max={n_max}, got shape {moments.shape}")
    return moments, np.array([abs(m) for _, m in indices])


def _radial(n: int, m: int, rho: np.ndarray) -> np.ndarray:
    """Zernike radial polynomial R_n^m(rho), m >= 0, n - m even.

    Uses R_n^m(rho) = (-1)^k rho^m P_k^(m, 0)(1 - 2 rho^2), k = (n - m) / 2, with the Jacobi
    polynomial from scipy: stable at high order, unlike the factorial sum.
    """
    k = (n - m) // 2
    return (-1) ** k * rho**m * eval_jacobi(k, m, 0, 1.0 - 2.0 * rho**2)


def _polar_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    centre = (size - 1) / 2.0
    coords = (np.arange(size) - centre) / (size / 2.0)
    y, x = np.meshgrid(coords, coords, indexing="ij")
    return np.hypot(x, y), np.arctan2(y, x)


def _pair_matrix(indices: list[tuple[int, int]]) -> np.ndarray:
    """0/1 matrix (J, J') that sums the squares of A_{n,+m} and A_{n,-m} into column (n, |m|)."""
    invariant = [(n, m) for n, m in indices if m >= 0]
    column = {nm: i for i, nm in enumerate(invariant)}
    pairs = np.zeros((len(indices), len(invariant)))
    for j, (n, m) in enumerate(indices):
        pairs[j, column[(n, abs(m))]] = 1.0
    return pairs


def _check_n_max(n_max: int) -> int:
    if int(n_max) != n_max or n_max < 0:
        raise ValueError(f"`n_max` must be an integer >= 0, got {n_max!r}")
    return int(n_max)


def _check_patches(patches: np.ndarray) -> np.ndarray:
    patches = np.asarray(patches)
    if patches.ndim != 3 or patches.shape[1] != patches.shape[2]:
        raise ValueError(f"`patches` must have shape (M, S, S), got {patches.shape}")
    if not np.issubdtype(patches.dtype, np.number) or np.iscomplexobj(patches):
        raise ValueError(f"`patches` must hold real numbers, got dtype {patches.dtype}")
    if not np.all(np.isfinite(patches)):
        raise ValueError("`patches` contains NaN or infinite values")
    return patches
