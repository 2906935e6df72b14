"""Checks at the entry points of the library: each names the parameter and what is allowed."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_finite", "check_image", "check_positive", "check_int", "make_rng"]


def check_finite(value: float, name: str) -> float:
    """Return ``value`` as float, raising ``ValueError`` naming ``name`` if it is NaN or infinite."""
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    return value


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as float, raising ``ValueError`` naming ``name`` if it is not > 0 (>= 0)."""
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not np.isfinite(value) or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be finite and {bound}, got {value!r}")
    return value


def check_int(value: int, name: str, minimum: int) -> int:
    """Return ``value`` as int, raising ``ValueError`` naming ``name`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_image(image: np.ndarray, name: str = "image", *, ndim: int | tuple[int, ...] = 2) -> np.ndarray:
    """Check that ``image`` is a finite, non-empty real array with ``ndim`` dimensions."""
    image = np.asarray(image)
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if image.ndim not in ndims:
        raise ValueError(f"`{name}` must be a {' or '.join(map(str, ndims))}-dimensional array, got shape {image.shape}")
    if image.size == 0:
        raise ValueError(f"`{name}` is empty (shape {image.shape})")
    if not np.issubdtype(image.dtype, np.number) or np.iscomplexobj(image):
        raise TypeError(f"`{name}` must hold real numbers, got dtype {image.dtype}")
    if not np.all(np.isfinite(image)):
        raise ValueError(f"`{name}` contains NaN or infinite values")
    return image


def make_rng(seed: int | tuple[int, ...] | np.random.Generator | None) -> np.random.Generator:
    """Normalise ``seed`` (an int, a tuple of ints such as (seed, stage, shard), or a Generator)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, tuple):
        seed = [int(s) for s in seed]
    return np.random.default_rng(seed)
