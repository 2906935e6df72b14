"""Image normalisations by name: the one a model was trained with is stored in its file
(:class:`atomscope.io.ModelSpec`) and the same one runs before inference."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import ndimage

__all__ = [
    "LOCAL_SIGMA_PX",
    "NORMALISATIONS",
    "check_normalisation",
    "local_context",
    "local_standardise",
    "normalise",
    "normalised_channels",
    "standardise",
]

#: Width of the local window of :func:`local_standardise` [px] (3.2 Å at 0.1 Å/px: a few lattice periods).
LOCAL_SIGMA_PX = 32.0
#: Bound of the locally standardised values: contamination edges and hot pixels stay within it.
_LOCAL_CLIP = 5.0


def standardise(image: np.ndarray) -> np.ndarray:
    """Zero mean and unit standard deviation per channel of a (C, H, W) image, as float32.

    The same normalisation runs before training and before inference, so a network sees
    the same statistics whatever the dose, detector gain or file dtype.
    """
    image = np.asarray(image, dtype=np.float32)
    mean = image.mean(axis=(-2, -1), keepdims=True)
    std = image.std(axis=(-2, -1), keepdims=True)
    if np.any(std == 0):
        raise ValueError("image has a constant channel: nothing to detect")
    return (image - mean) / std


def local_standardise(image: np.ndarray) -> np.ndarray:
    """Zero local mean and unit local standard deviation per channel of a (C, H, W) image, as float32.

    The local mean and variance are Gaussian-weighted over :data:`LOCAL_SIGMA_PX` pixels, so
    a bright contamination region, vacuum, an illumination ramp or a thickness gradient each
    look like their own neighbourhood, not like the image's global statistics (which one
    bright corner dominates). Values are clipped to +-5.
    """
    return _local_statistics(image)[0]


def local_context(image: np.ndarray) -> np.ndarray:
    """:func:`local_standardise` of a (C, H, W) image, followed by C context channels: float32 (2C, H, W).

    Context channel c is the local mean of channel c less its median over the image, in units
    of the median local standard deviation (the image's typical texture and noise), clipped to
    +-5. Local standardisation alone removes what tells thick from thin in ADF-STEM: brightness
    on scales above :data:`LOCAL_SIGMA_PX`. This channel keeps it, free of detector gain and
    offset: bright contamination is positive, vacuum negative, the majority region near 0.
    """
    standardised, mean, std = _local_statistics(image)
    context = (mean - np.median(mean, axis=(-2, -1), keepdims=True)) / np.median(std, axis=(-2, -1), keepdims=True)
    return np.concatenate([standardised, np.clip(context, -_LOCAL_CLIP, _LOCAL_CLIP).astype(np.float32)])


def _local_statistics(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The locally standardised (C, H, W) image, clipped, and its local mean and (floored) local std."""
    image = np.asarray(image, dtype=np.float32)
    if np.any(image.std(axis=(-2, -1)) == 0):
        raise ValueError("image has a constant channel: nothing to detect")
    mean = _local_mean(image)
    residual = image - mean
    local_std = np.sqrt(_local_mean(residual**2))
    floor = 1e-3 * np.median(local_std, axis=(-2, -1), keepdims=True) + np.finfo(np.float32).tiny
    local_std = np.maximum(local_std, floor)
    return np.clip(residual / local_std, -_LOCAL_CLIP, _LOCAL_CLIP).astype(np.float32), mean, local_std


def _local_mean(image: np.ndarray) -> np.ndarray:
    """Gaussian-weighted local mean (sigma :data:`LOCAL_SIGMA_PX`) of each channel of a (C, H, W) image.

    Three box filters of width w with 3 (w^2 - 1) / 12 = sigma^2 make a Gaussian to within
    a few % (central limit theorem) at a cost independent of sigma: about 7x faster than
    ``ndimage.gaussian_filter`` here, which matters because every training crop's image is
    normalised as it is read.
    """
    width = int(np.sqrt(4 * LOCAL_SIGMA_PX**2 + 1)) | 1  # odd, so the window is centred
    for _ in range(3):
        image = ndimage.uniform_filter(image, (0, width, width), mode="reflect")
    return image


#: The normalisations a model file may name, each a function (C, H, W) -> float32 (C, H, W).
NORMALISATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "standardise": standardise,
    "local": local_standardise,
    "local_context": local_context,
}
#: Network input channels each image channel becomes under a normalisation (1 where not listed).
_CHANNELS_PER_CHANNEL = {"local_context": 2}


def check_normalisation(name: str) -> str:
    """Return ``name`` if it is a known normalisation; otherwise a ValueError lists the known ones."""
    if name not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {name!r}; known: {sorted(NORMALISATIONS)}")
    return name


def normalised_channels(name: str, channels: int) -> int:
    """Channels of a ``channels``-channel image after the normalisation called ``name``: the network's input."""
    return channels * _CHANNELS_PER_CHANNEL.get(check_normalisation(name), 1)


def normalise(image: np.ndarray, name: str) -> np.ndarray:
    """Apply the normalisation called ``name`` (see :data:`NORMALISATIONS`) to a (C, H, W) image."""
    return NORMALISATIONS[check_normalisation(name)](image)
