"""Image normalisations by name: the one a model was trained with is stored in its file
(:class:`atomscope.io.ModelSpec`) and the same one runs before inference."""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["NORMALISATIONS", "check_normalisation", "normalise", "standardise"]


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


#: The normalisations a model file may name, each a function (C, H, W) -> float32 (C, H, W).
NORMALISATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"standardise": standardise}


def check_normalisation(name: str) -> str:
    """Return ``name`` if it is a known normalisation; otherwise a ValueError lists the known ones."""
    if name not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {name!r}; known: {sorted(NORMALISATIONS)}")
    return name


def normalise(image: np.ndarray, name: str) -> np.ndarray:
    """Apply the normalisation called ``name`` (see :data:`NORMALISATIONS`) to a (C, H, W) image."""
    return NORMALISATIONS[check_normalisation(name)](image)
