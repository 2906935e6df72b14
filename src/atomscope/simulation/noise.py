"""Detector noise: shot noise for a finite electron dose."""

from __future__ import annotations

import numpy as np

from atomscope._shared.validation import check_image, check_positive, make_rng

__all__ = ["poisson_noise"]


def poisson_noise(
    image: np.ndarray, *, dose: float, sampling: float, rng: np.random.Generator | int | None
) -> np.ndarray:
    """Counted electrons per pixel for an image recorded with ``dose``.

    Parameters
    ----------
    image : ndarray of shape (H, W)
        Intensity relative to the incident beam (vacuum = 1), non-negative.
    dose : float
        Electron dose [e/Å²].
    sampling : float
        Pixel size [Å/px].
    rng : numpy.random.Generator or int or None
        Random source.

    Returns
    -------
    ndarray of shape (H, W), float32
        Poisson-distributed counts [e/px] with mean ``image * dose * sampling**2``.
    """
    image = check_image(image)
    check_positive(dose, "dose")
    check_positive(sampling, "sampling")
    if image.min() < 0:
        raise ValueError(f"`image` must be a non-negative intensity, got minimum {image.min():.3g}")
    rng = make_rng(rng)
    expected = image.astype(np.float64) * (dose * sampling**2)
    return rng.poisson(expected).astype(np.float32)
