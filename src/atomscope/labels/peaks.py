"""Sub-pixel peak positions in a heat map.

Local maxima come from :func:`skimage.feature.peak_local_max`; each is then refined by a
weighted least-squares fit of a 2D quadratic to the logarithm of the heat map in a
(2r+1) x (2r+1) window, with weights equal to the squared heat-map values (the Gaussian fit
of Guo, IEEE Signal Process. Mag. 28, 134, 2011). The logarithm of a Gaussian is a quadratic,
so the fit is exact for isolated Gaussian peaks of any width and orientation; the weights
keep the noisy low values on the flanks from dominating. On synthetic Gaussian peaks of
sigma 2-5 px its error was < 0.001 px, against up to 0.036 px for a quadratic fit to the values
themselves (3x3) and 0.1-0.5 px for a local centre of mass (window truncation); with white
noise, a window radius near sigma was 2.5-4.5 times more accurate than a 3x3 window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.feature import peak_local_max

from atomscope._shared.validation import check_image, check_int, check_positive

__all__ = ["find_peaks"]

# Heat-map values below this fraction of the peak value enter the fit at this floor: their
# logarithm is meaningless, and with weights (value²) of 1e-6 they hardly count.
_FLOOR = 1e-3


def find_peaks(
    heatmap: np.ndarray,
    *,
    min_distance_px: int = 2,
    threshold: float = 0.3,
    exclude_border_px: int = 0,
    refine_radius_px: int = 2,
) -> pd.DataFrame:
    """Find the peaks of a heat map with sub-pixel positions.

    Parameters
    ----------
    heatmap : numpy.ndarray
        2D map (H, W) [probability or any non-negative score], e.g. one channel of a
        network's output.
    min_distance_px : int
        Minimum separation of two peaks [px] (Chebyshev distance, as in
        :func:`skimage.feature.peak_local_max`); of two closer maxima the higher is kept.
    threshold : float
        Peaks must be higher than this [heat-map units], >= 0.
    exclude_border_px : int
        Drop peaks closer than this to the image border [px]; 0 keeps all.
    refine_radius_px : int
        Half-width r of the (2r+1) x (2r+1) window of the sub-pixel fit [px]. About the
        peaks' Gaussian sigma is best against noise; keep it below half the distance between
        neighbouring peaks. Near the border the fit uses the window's pixels inside the map.

    Returns
    -------
    pandas.DataFrame
        One row per peak, highest first: ``x_px``, ``y_px`` [px] (pixel-index units: the
        centre of column c is x_px = c) and ``score``, the heat-map value at the peak's pixel.
        Where the fit finds no maximum within the window (e.g. on a plateau), the pixel's own
        position is kept. A local maximum on the outermost pixels whose fitted maximum lies
        beyond the map's edge (x_px < -0.5 or > W - 0.5) is the flank of a peak outside the
        field of view and is left out.

    Raises
    ------
    ValueError
        If ``heatmap`` is not a finite 2D array or an option is out of range.
    """
    heatmap = check_image(heatmap, "heatmap", ndim=2)
    # float32 maps stay float32 (an 8192 x 8192 map is 0.27 GB, not 0.54); the fit is float64
    heatmap = heatmap.astype(np.result_type(heatmap.dtype, np.float32), copy=False)
    min_distance_px = check_int(min_distance_px, "min_distance_px", 1)
    exclude_border_px = check_int(exclude_border_px, "exclude_border_px", 0)
    refine_radius_px = check_int(refine_radius_px, "refine_radius_px", 1)
    threshold = check_positive(threshold, "threshold", allow_zero=True)

    rows, cols = peak_local_max(
        heatmap,
        min_distance=min_distance_px,
        threshold_abs=threshold,
        exclude_border=exclude_border_px,
    ).T
    dy, dx, maximum = _fitted_maxima(heatmap, rows, cols, refine_radius_px)
    y, x = rows + dy, cols + dx
    height, width = heatmap.shape
    beyond = maximum & ((x < -0.5) | (x > width - 0.5) | (y < -0.5) | (y > height - 0.5))
    near = maximum & (np.abs(dx) <= refine_radius_px) & (np.abs(dy) <= refine_radius_px)
    x, y = np.where(near, x, cols), np.where(near, y, rows)
    return pd.DataFrame({"x_px": x[~beyond], "y_px": y[~beyond], "score": heatmap[rows, cols][~beyond]})


def _fitted_maxima(
    heatmap: np.ndarray, rows: np.ndarray, cols: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets [px] of the fitted maxima from the pixels (rows, cols), and whether the fit has
    a maximum at all (offsets are NaN or meaningless where it has not)."""
    d = np.arange(-radius, radius + 1)
    wy, wx = (g.ravel() for g in np.meshgrid(d, d, indexing="ij"))
    design = np.column_stack([np.ones_like(wx), wx, wy, wx * wx, wy * wy, wx * wy]).astype(float)  # (n, 6)

    # Pixels outside the map get weight 0 (no mirroring: a mirrored flank would pin a peak cut by
    # the edge onto the outermost pixel, up to a peak width from where it is).
    padded = np.pad(heatmap, radius, mode="constant")
    inside = np.pad(np.ones(heatmap.shape, bool), radius, mode="constant")
    window = (rows[:, None] + radius + wy, cols[:, None] + radius + wx)
    values = padded[window].astype(np.float64)
    peak = heatmap[rows, cols][:, None].astype(np.float64)
    values = np.maximum(values, _FLOOR * peak)  # (P, n), > 0 since peak > threshold >= 0

    # A quadratic needs three rows and three columns: a radius-1 window on the edge has two, and
    # its peak keeps its pixel (coefficients 0: no maximum).
    height, width = heatmap.shape
    spans = [np.minimum(i, radius) + 1 + np.minimum(n - 1 - i, radius) for i, n in ((rows, height), (cols, width))]
    fits = (spans[0] >= 3) & (spans[1] >= 3)
    weights = values[fits] ** 2 * inside[window][fits]
    normal = np.einsum("pn,ni,nj->pij", weights, design, design)
    rhs = np.einsum("pn,ni,pn->pi", weights, design, np.log(values[fits]))
    coefficients = np.zeros((len(rows), 6))
    coefficients[fits] = np.linalg.solve(normal, rhs[..., None])[..., 0]
    _, bx, by, axx, ayy, axy = coefficients.T

    # Maximum of c + bx x + by y + axx x² + ayy y² + axy x y: solve the zero gradient.
    det = 4 * axx * ayy - axy**2
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = (axy * by - 2 * ayy * bx) / det
        dy = (axy * bx - 2 * axx * by) / det
    return dy, dx, (axx < 0) & (det > 0) & np.isfinite(dx) & np.isfinite(dy)
