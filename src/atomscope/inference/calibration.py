"""Pixel size from the crystal lattice in the image: the first-order spots of its Fourier transform.

A 2D hexagonal crystal (graphene, hBN, 2H TMDs) seen along its c axis gives six first-order
spots {100} at |g| = 2 / (sqrt(3) a) in the Fourier transform; with the lattice constant a
known, their distance from the centre [cycles/px] gives the pixel size [Å/px]. Which order is
the strongest depends on the microscope (HRTEM contrast transfer, ADF-STEM probe), so the
first order is taken as the lowest-frequency set of spots 60 degrees apart (four of the six at
least: two directions and their Friedel mates), not the
strongest peak; a hexagonal lattice has no set below it. Scan drift shears the lattice, so
the spots are fitted with one 2x2 reciprocal lattice and the pixel size comes from its area
(the geometric mean over directions). Grains of other orientations give further sets at the
same |g|, which are averaged.

Hand-written: no maintained library estimates a pixel size from a 2D lattice (scikit-image
and scipy supply the FFT and the peak finder used here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.feature import peak_local_max

from atomscope._shared.validation import check_image, check_positive

__all__ = ["LATTICE_CONSTANTS", "LatticeCalibration", "lattice_pixel_size", "parse_lattice"]

#: In-plane lattice constants a [Å] of the hexagonal crystals ``auto:NAME`` knows.
LATTICE_CONSTANTS = {"graphene": 2.46, "hBN": 2.50, "MoS2": 3.16, "MoSe2": 3.29, "WS2": 3.18}

_PAD = 4  # zero-padding of the FFT: spot positions to 1/4 of a frequency bin
_PEAKS = 30  # strongest Fourier peaks searched for hexagonal sets
_MIN_CYCLES = 4  # cycles per image: below, the spectrum is the image's slow variations
_BACKGROUND_CYCLES = 3  # width (cycles per image) of the smooth background under the spots
_TOLERANCE = 0.06  # a set member lies within 6 % of |g| of the rotated spot (drift skews the lattice a little)
_SAME_ORDER = 0.1  # sets within 10 % of the lowest |g| are its other grains
# Spot strength in median absolute deviations above the median of the high-passed log
# spectrum. A set of spots is a lattice when its strongest stands above _SIGNIFICANCE and the
# others above _MEMBER_SIGNIFICANCE. Measured: the strongest peaks of white-noise images reach
# 4.0 (no lattice in 60 images of 256-1024 px); in the weakest real images (HRTEM of graphene
# under contamination, graphene_contamination/) first-order spots stand 4.3-6.9 high, the
# strongest of a set 4.8 at least.
_SIGNIFICANCE = 4.6
_MEMBER_SIGNIFICANCE = 4.2


@dataclass(frozen=True)
class LatticeCalibration:
    """A pixel size measured from the lattice.

    Attributes
    ----------
    pixel_size : float
        [Å/px].
    uncertainty : float
        Standard error [Å/px] from the scatter of the spots about the fitted lattice(s).
    lattice_constant : float
        The a [Å] it was measured with.
    n_spots : int
        First-order spots used (6 per grain orientation found).
    """

    pixel_size: float
    uncertainty: float
    lattice_constant: float
    n_spots: int


def parse_lattice(text: str) -> float:
    """The lattice constant [Å] of ``auto:NAME`` (a key of :data:`LATTICE_CONSTANTS`) or ``auto:A`` (a in Å).

    Raises
    ------
    ValueError
        Naming the known crystals, when ``text`` is neither.
    """
    name = text.split(":", 1)[1].strip() if text.lower().startswith("auto:") else ""
    known = {key.lower(): value for key, value in LATTICE_CONSTANTS.items()}
    if name.lower() in known:
        return known[name.lower()]
    try:
        return check_positive(float(name), "lattice constant")
    except ValueError:
        raise ValueError(
            f"cannot read the lattice of {text!r}: write auto:NAME with NAME one of {', '.join(LATTICE_CONSTANTS)}, "
            "or auto:A with the lattice constant A in Å (e.g. auto:2.46)"
        ) from None


def lattice_pixel_size(image: np.ndarray, lattice_constant: float) -> LatticeCalibration:
    """Measure the pixel size of an image of a hexagonal 2D crystal from its first-order spots.

    Parameters
    ----------
    image : ndarray of shape (H, W)
        The micrograph, any real dtype; illumination gradients and contamination are
        removed by subtracting a 20 px Gaussian blur before the Hann-windowed FFT.
    lattice_constant : float
        In-plane lattice constant a [Å] (graphene 2.46, MoS2 3.16, ...).

    Returns
    -------
    LatticeCalibration

    Raises
    ------
    ValueError
        If no set of four significant spots 60 degrees apart is found (no crystal, a lattice
        finer than the pixels resolve, or too much noise).
    """
    image = check_image(image).astype(np.float64)
    lattice_constant = check_positive(lattice_constant, "lattice_constant")
    spectrum, size = _spectrum(image)
    spots, strength = _strong_spots(spectrum, size)
    # four of the six spots suffice (two directions 60 degrees apart and their Friedel mates,
    # where contamination or a second grain hides the third); within the first order, grains
    # with five or six spots, when there are any, are measured without the four-spot ones
    sets = _hexagonal_sets(spots, strength, 4)
    if not sets:
        raise ValueError(
            "no hexagonal lattice in the Fourier transform (no four significant spots 60 degrees apart)"
        )
    lowest = min(g for g, _ in sets)
    first = [(g, residual) for g, residual in sets if g < lowest * (1 + _SAME_ORDER)]
    least = min(5, max(len(residual) for _, residual in first))
    first = [(g, residual) for g, residual in first if len(residual) >= least]
    g = np.array([g for g, _ in first])
    residuals = np.concatenate([residual for _, residual in first])
    d100 = lattice_constant * np.sqrt(3) / 2
    pixel_size = d100 * float(g.mean())
    # spread of the spots about their fitted lattices (at least the FFT bin's quantisation,
    # 1 / (size sqrt(12)) per coordinate), and of the grains' |g| about their mean
    quantisation = 1 / (size * np.sqrt(12))
    scatter = np.hypot(np.sqrt(np.mean(residuals**2)), quantisation) / np.sqrt(len(residuals))
    between = g.std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else 0.0
    uncertainty = d100 * float(np.hypot(scatter, between))
    return LatticeCalibration(pixel_size, uncertainty, lattice_constant, int(sum(len(r) for _, r in first)))


def _spectrum(image: np.ndarray) -> tuple[np.ndarray, int]:
    """High-passed log power spectrum, centred, zero-padded to a square of side ``size``."""
    flat = image - ndimage.gaussian_filter(image, 20)
    height, width = flat.shape
    window = np.outer(np.hanning(height), np.hanning(width))
    size = _PAD * max(height, width)
    power = np.abs(np.fft.fftshift(np.fft.fft2((flat - flat.mean()) * window, s=(size, size)))) ** 2
    log_power = np.log1p(power)
    return log_power - ndimage.gaussian_filter(log_power, _BACKGROUND_CYCLES * _PAD), size


def _strong_spots(spectrum: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(fx, fy) [cycles/px] of the strongest local maxima away from the centre above
    ``_MEMBER_SIGNIFICANCE``, and their strength [median absolute deviations above the median]."""
    centre = size // 2
    rows, cols = np.ogrid[:size, :size]
    spectrum = spectrum.copy()
    low = np.hypot(rows - centre, cols - centre) < _MIN_CYCLES * _PAD
    median = np.median(spectrum[~low])
    mad = np.median(np.abs(spectrum[~low] - median))
    spectrum[low] = spectrum.min()
    peaks = peak_local_max(
        spectrum, min_distance=3 * _PAD, num_peaks=_PEAKS, threshold_abs=median + _MEMBER_SIGNIFICANCE * mad, exclude_border=False
    )
    return (peaks[:, ::-1] - centre) / size, (spectrum[tuple(peaks.T)] - median) / mad


def _hexagonal_sets(spots: np.ndarray, strength: np.ndarray, least: int) -> list[tuple[float, np.ndarray]]:
    """Every set of at least ``least`` spots at the six 60-degree rotations of one spot, the
    strongest of them at least ``_SIGNIFICANCE``.

    Returns, per distinct set, the |g| of its fitted hexagonal lattice [cycles/px] (from the
    area of the reciprocal cell) and the residuals [cycles/px] of its spots about that lattice.
    """
    found: dict[frozenset, tuple[float, np.ndarray]] = {}
    for spot in spots:
        radius = np.hypot(*spot)
        members = []
        for k in range(6):
            c, s = np.cos(k * np.pi / 3), np.sin(k * np.pi / 3)
            rotated = np.array([c * spot[0] - s * spot[1], s * spot[0] + c * spot[1]])
            distance = np.hypot(*(spots - rotated).T)
            nearest = int(np.argmin(distance))
            if distance[nearest] < _TOLERANCE * radius:
                members.append((k, nearest))
        key = frozenset(index for _, index in members)
        if len(key) >= least and key not in found and strength[list(key)].max() >= _SIGNIFICANCE:
            found[key] = _fit_hexagon(np.array([k for k, _ in members]), spots[[index for _, index in members]])
    return list(found.values())


def _fit_hexagon(turns: np.ndarray, points: np.ndarray) -> tuple[float, np.ndarray]:
    """Least-squares reciprocal lattice G of spots at ``turns`` x 60 degrees: |g| from its area."""
    # Miller indices of the six {100} spots in order of rotation
    hk = np.array([(1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)], dtype=float)[turns]
    lattice, *_ = np.linalg.lstsq(hk, points, rcond=None)
    residuals = np.hypot(*(points - hk @ lattice).T)
    return float(np.sqrt(abs(np.linalg.det(lattice)) / np.sin(np.pi / 3))), residuals
