"""Square image patches centred on detected sites (Dan et al. 2022, Fig. 1B)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from atomscope._shared.validation import check_image

__all__ = ["extract_patches"]


def extract_patches(
    image: np.ndarray,
    x_px: np.ndarray,
    y_px: np.ndarray,
    *,
    size_px: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a square patch around each site.

    Each patch is centred on the pixel nearest to the site, ``image[round(y_px), round(x_px)]``.
    Sites whose patch would leave the image (closer than ``size_px // 2`` pixels to a border)
    are skipped; ``kept`` says which sites have a patch.

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
    rows = np.rint(y_px).astype(np.intp)
    cols = np.rint(x_px).astype(np.intp)
    height, width = image.shape
    inside = (rows >= half) & (rows < height - half) & (cols >= half) & (cols < width - half)
    kept = np.flatnonzero(inside)
    if kept.size == 0:  # also covers images smaller than one patch
        return np.empty((0, size_px, size_px), dtype=np.float32), kept
    # windows[r, c] is the S x S view whose top-left pixel is (r, c); fancy indexing copies.
    windows = sliding_window_view(image, (size_px, size_px))
    patches = windows[rows[kept] - half, cols[kept] - half].astype(np.float32)
    return patches, kept


def _check_coordinates(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"`{name}` must be a 1D array, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`{name}` contains NaN or infinite values")
    return values
