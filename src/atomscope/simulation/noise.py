"""Detector noise and imaging artefacts: shot noise, detector MTF, illumination and background,
STEM scan drift and line jitter.

Each function is pure: an image or a shape in, a new array out; randomness only through ``rng``.
Images are indexed [row, col] = [y, x]; angles are measured from the x axis (columns)
towards y (rows) [rad].
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from atomscope._shared.validation import check_image, check_int, check_positive, make_rng

__all__ = ["line_jitter", "linear_gradient", "mtf_blur", "poisson_noise", "scan_drift", "smooth_field"]


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


def mtf_blur(image: np.ndarray, *, sigma: float) -> np.ndarray:
    """Blur by a detector modulation transfer function MTF(f) = exp(-2 pi^2 sigma^2 f^2).

    The Gaussian point spread of a scintillator-coupled camera, applied in Fourier space
    (the image is treated as periodic), so the mean is kept exactly.

    Parameters
    ----------
    image : ndarray of shape (H, W)
        Any real image.
    sigma : float
        Standard deviation of the point spread function [px]; 0 returns a copy.

    Returns
    -------
    ndarray of shape (H, W), float32 or float64 as the input (integers give float64)
        A cosine of f cycles/px comes out multiplied by MTF(f).
    """
    image = check_image(image)
    sigma = check_positive(sigma, "sigma", allow_zero=True)
    dtype = image.dtype if image.dtype in (np.float32, np.float64) else np.float64
    if sigma == 0:
        return image.astype(dtype, copy=True)
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.rfftfreq(image.shape[1])[None, :]
    mtf = np.exp(-2 * np.pi**2 * sigma**2 * (fx**2 + fy**2))
    return np.fft.irfft2(np.fft.rfft2(image) * mtf, s=image.shape).astype(dtype)


def linear_gradient(shape: tuple[int, int], *, amplitude: float, angle: float) -> np.ndarray:
    """A linear ramp across an image: a tilted illumination or a background slope.

    Parameters
    ----------
    shape : tuple of int
        (H, W) [px].
    amplitude : float
        Half the peak-to-peak range [same unit as the field, e.g. relative intensity].
    angle : float
        Direction in which the ramp rises, from the x axis (columns) towards y (rows) [rad].

    Returns
    -------
    ndarray of shape (H, W), float64
        Zero mean; the two corners farthest along ``angle`` reach -amplitude and +amplitude.
    """
    check_positive(amplitude, "amplitude", allow_zero=True)
    height, width = (check_int(n, "shape", 1) for n in shape)
    rows, cols = np.mgrid[0:height, 0:width]
    cos, sin = np.cos(angle), np.sin(angle)
    along = (cols - (width - 1) / 2) * cos + (rows - (height - 1) / 2) * sin
    half_extent = (width - 1) / 2 * abs(cos) + (height - 1) / 2 * abs(sin)
    return amplitude * along / half_extent if half_extent > 0 else np.zeros(shape)


def smooth_field(
    shape: tuple[int, int], *, amplitude: float, length: float, rng: np.random.Generator | int | None
) -> np.ndarray:
    """A smooth random field: white noise low-pass filtered, for uneven illumination or background.

    Parameters
    ----------
    shape : tuple of int
        (H, W) [px].
    amplitude : float
        Standard deviation of the field over the image [same unit as the field].
    length : float
        Correlation length: sigma of the Gaussian filter [px], at most a quarter of the
        larger side; the field is periodic.
    rng : numpy.random.Generator or int or None
        Random source.

    Returns
    -------
    ndarray of shape (H, W), float64
        Mean exactly 0 and standard deviation exactly ``amplitude`` (0 gives zeros and draws
        no random numbers).
    """
    check_positive(amplitude, "amplitude", allow_zero=True)
    check_positive(length, "length")
    height, width = (check_int(n, "shape", 1) for n in shape)
    if amplitude == 0:  # draws nothing, so a disabled field leaves the other draws alone
        return np.zeros((height, width))
    # Filtered in Fourier space: exactly periodic, and free of the row/column artefacts that a
    # truncated, wrapped spatial kernel leaves when `length` approaches the image size (which
    # the rescaling to `amplitude` below then amplifies into stripes). The length is capped at
    # a quarter of the larger side, where the field is already one smooth undulation.
    sigma = min(length, max(height, width) / 4)
    noise = np.fft.fft2(make_rng(rng).standard_normal((height, width)))
    field = np.fft.ifft2(ndimage.fourier_gaussian(noise, sigma)).real
    field -= field.mean()
    return field * (amplitude / field.std())


def scan_drift(n_rows: int, *, drift: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of each scan line from a constant specimen drift during a STEM scan.

    Row r is scanned r line-times after row 0, so a drift of ``drift`` px per line shifts it
    by r * drift along ``angle``: a shear (x component) and a stretch of the row spacing
    (y component) of the recorded image.

    Parameters
    ----------
    n_rows : int
        Number of scan lines (image rows).
    drift : float
        Drift speed [px per scan line], >= 0.
    angle : float
        Direction of the drift from the x axis towards y [rad].

    Returns
    -------
    dx, dy : ndarray of shape (n_rows,), float64
        Where line r was actually scanned, relative to its nominal position [px]: pixel
        (r, c) samples the specimen at (c + dx[r], r + dy[r]) px.
    """
    n_rows = check_int(n_rows, "n_rows", 1)
    check_positive(drift, "drift", allow_zero=True)
    rows = np.arange(n_rows, dtype=np.float64)
    return drift * np.cos(angle) * rows, drift * np.sin(angle) * rows


def line_jitter(n_rows: int, *, jitter: float, rng: np.random.Generator | int | None) -> np.ndarray:
    """Random x offset of each scan line: the line-to-line jitter of a STEM scan (flyback noise).

    Parameters
    ----------
    n_rows : int
        Number of scan lines (image rows).
    jitter : float
        Standard deviation of the offsets [px], >= 0.
    rng : numpy.random.Generator or int or None
        Random source.

    Returns
    -------
    ndarray of shape (n_rows,), float64
        Independent normal offsets [px] to add to the ``dx`` of :func:`scan_drift`.
    """
    n_rows = check_int(n_rows, "n_rows", 1)
    jitter = check_positive(jitter, "jitter", allow_zero=True)
    return make_rng(rng).normal(0.0, jitter, n_rows) if jitter > 0 else np.zeros(n_rows)
