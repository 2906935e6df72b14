"""Drift between the frames of a movie or stack, by cross-correlation, and its removal from positions.

Each frame is registered to the one before it with scikit-image's phase cross-correlation
(sub-pixel by upsampled DFT, Guizar-Sicairos et al., Opt. Lett. 33, 156 (2008)); the steps
are summed into each frame's drift from the first. Consecutive frames share the most content
(atoms move, beam damage grows), so the drift is found where a whole movie's first frame would
no longer overlap the last. Phase correlation of a perfect crystal is ambiguous by a lattice
vector, so a drift of more than half a lattice spacing per frame is found only where the
field holds defects, edges or amorphous regions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from atomscope._shared.validation import check_image, check_positive

__all__ = ["correct_drift", "drift_table", "frame_drift"]

_ITERATIONS = 5  # registrations per frame pair at most (two or three suffice, see _register)


def frame_drift(frames: np.ndarray, sampling: float, *, upsample: int = 50) -> pd.DataFrame:
    """Drift of every frame from the first, by phase cross-correlation of consecutive frames.

    Parameters
    ----------
    frames : ndarray of shape (F, H, W)
        The frames, best the network's atom maps (denoised); any real dtype. Each is Hann-
        windowed so that the image edges, where new content drifts in, do not correlate.
    sampling : float
        Pixel size [Å/px].
    upsample : int
        Sub-pixel precision of the registration: 1 / ``upsample`` px.

    Returns
    -------
    pandas.DataFrame
        One row per frame: ``frame``, ``dx``, ``dy`` [Å] (the image content of frame k sits at
        its position in frame 0 plus (dx, dy); 0 for frame 0), and ``step`` [Å] (the length of
        the drift since the frame before).
    """
    frames = check_image(frames, "frames", ndim=3).astype(np.float64)
    check_positive(sampling, "sampling")
    window = np.outer(np.hanning(frames.shape[1]), np.hanning(frames.shape[2]))
    steps = np.zeros((len(frames), 2))
    for k in range(1, len(frames)):
        steps[k] = -_register(frames[k - 1], frames[k], window, upsample)[::-1] * sampling
    drift = np.cumsum(steps, axis=0)
    return pd.DataFrame({"frame": np.arange(len(frames)), "dx": drift[:, 0], "dy": drift[:, 1], "step": np.hypot(*steps.T)})


def _register(reference: np.ndarray, moving: np.ndarray, window: np.ndarray, upsample: int) -> np.ndarray:
    """The shift (row, col) [px] that registers ``moving`` onto ``reference``.

    The window stays with the frame while the content moves, which pulls a single
    registration towards zero shift; registering ``moving`` again after shifting it by the
    estimate, until the correction is below the precision, removes that bias."""
    reference = (reference - reference.mean()) * window
    shift = np.zeros(2)
    for _ in range(_ITERATIONS):
        moved = ndimage.shift(moving, shift, order=3, mode="nearest")
        correction, _, _ = phase_cross_correlation(reference, (moved - moved.mean()) * window, upsample_factor=upsample, normalization=None)
        shift += correction
        if np.abs(correction).max() <= 1 / upsample:
            break
    return shift


def correct_drift(sites: pd.DataFrame, drift: pd.DataFrame) -> pd.DataFrame:
    """Sites with ``x_corrected``, ``y_corrected`` [Å]: their ``x``, ``y`` less their frame's
    drift, i.e. where they sit in the first frame's coordinates. ``x``, ``y`` (and ``x_px``,
    ``y_px``) stay in the frame's own coordinates, where the image, its region and masks lie."""
    offsets = drift.set_index("frame").loc[sites["frame"], ["dx", "dy"]].to_numpy()
    return sites.assign(x_corrected=sites["x"].to_numpy() - offsets[:, 0], y_corrected=sites["y"].to_numpy() - offsets[:, 1])


def drift_table(sites: pd.DataFrame) -> pd.DataFrame:
    """Each frame's drift ``dx``, ``dy`` [Å] as :func:`correct_drift` removed it from ``sites``
    (all 0 for sites without ``x_corrected``: a single image), for frames that have sites."""
    if "x_corrected" not in sites:
        return pd.DataFrame({"frame": np.unique(sites["frame"]), "dx": 0.0, "dy": 0.0})
    offsets = sites.assign(dx=sites["x"] - sites["x_corrected"], dy=sites["y"] - sites["y_corrected"])
    return offsets.groupby("frame", as_index=False)[["dx", "dy"]].first()
