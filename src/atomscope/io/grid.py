"""The pixel grid of an image and the one pixel-centre convention: px <-> Å, extent, region, resampling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from scipy import ndimage

from atomscope._shared.validation import check_image, check_int, check_positive

__all__ = ["ImageGrid", "rescale_to_sampling"]


@dataclass(frozen=True)
class ImageGrid:
    """The pixel grid of an image: its shape and pixel size, and the one pixel-centre convention.

    Pixel (r, c) of an array indexed [row, col] = [y, x] is centred at x = c * sampling,
    y = r * sampling [Å]; it covers [x - sampling / 2, x + sampling / 2). Every stage that
    turns pixels into Å or back (simulation targets, training labels, inference, evaluation,
    geometry, figures) does it here.

    Attributes
    ----------
    shape : tuple of int
        (H, W) [px].
    sampling : float
        Pixel size [Å/px], the same along rows and columns.

    Examples
    --------
    >>> grid = ImageGrid((100, 200), 0.1)
    >>> grid.region()
    (-0.05, 19.95, -0.05, 9.95)
    >>> grid.to_angstrom(10, 5)
    (1.0, 0.5)
    """

    shape: tuple[int, int]
    sampling: float

    def __post_init__(self) -> None:
        if len(self.shape) != 2:
            raise ValueError(f"`shape` must be (height, width) [px], got {self.shape!r}")
        object.__setattr__(self, "shape", (check_int(self.shape[0], "shape[0]", 1), check_int(self.shape[1], "shape[1]", 1)))
        object.__setattr__(self, "sampling", check_positive(self.sampling, "sampling"))

    @property
    def extent(self) -> tuple[float, float]:
        """(width, height) [Å] of the area the pixels cover."""
        height, width = self.shape
        return width * self.sampling, height * self.sampling

    def region(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) [Å] of the area the pixels cover, shrunk by ``margin`` [Å] on every side."""
        height, width = self.shape
        half = 0.5 * self.sampling
        return (-half + margin, width * self.sampling - half - margin, -half + margin, height * self.sampling - half - margin)

    def imshow_extent(self) -> tuple[float, float, float, float]:
        """(left, right, bottom, top) [Å] for matplotlib's ``imshow`` with the origin at the top left."""
        xmin, xmax, ymin, ymax = self.region()
        return xmin, xmax, ymax, ymin

    def contains(self, x: np.ndarray, y: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        """Boolean mask of the positions (x, y) [Å] inside :meth:`region` with ``margin`` [Å]."""
        xmin, xmax, ymin, ymax = self.region(margin)
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return (x >= xmin) & (x < xmax) & (y >= ymin) & (y < ymax)

    def to_px(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Positions (x, y) [Å] as (x_px, y_px) in pixel-index units (column, row)."""
        return x / self.sampling, y / self.sampling

    def nearest_pixel(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the pixels whose centres are nearest to (x, y) [Å], clipped into the grid."""
        height, width = self.shape
        cols, rows = self.to_px(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.clip(np.rint(rows).astype(int), 0, height - 1), np.clip(np.rint(cols).astype(int), 0, width - 1)

    def take(self, values: np.ndarray, source: "ImageGrid") -> np.ndarray:
        """``values`` (H', W') on the ``source`` grid, sampled at this grid's pixels (nearest
        source pixel): e.g. a mask on the model's grid seen on the input image's grid."""
        rows, cols = np.indices(self.shape)
        r, c = source.nearest_pixel(*self.to_angstrom(cols, rows))
        return np.asarray(values)[r, c]

    def to_angstrom(self, x_px: Any, y_px: Any) -> tuple[Any, Any]:
        """Positions (x_px, y_px) in pixel-index units as (x, y) [Å]."""
        return x_px * self.sampling, y_px * self.sampling

    def to_attrs(self) -> dict[str, Any]:
        """The grid as JSON-able attributes (for HDF5 and Parquet metadata)."""
        return {"shape": list(self.shape), "sampling": self.sampling}

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> "ImageGrid":
        """The grid written by :meth:`to_attrs`."""
        return cls(tuple(attrs["shape"]), attrs["sampling"])


def rescale_to_sampling(image: np.ndarray, sampling: float, target_sampling: float) -> np.ndarray:
    """Resample a (H, W) image from ``sampling`` to ``target_sampling`` [Å/px].

    Output pixel (r, c) samples the input at (r, c) * target_sampling / sampling, so pixel 0
    stays at the origin (DESIGN.md's convention). Hand-written because skimage's rescale
    and ndimage.zoom align pixel edges or end pixels, which shifts positions by up to half
    a pixel. Down-sampling first applies skimage's default anti-aliasing Gaussian,
    sigma = (ratio - 1) / 2.
    """
    image = check_image(image).astype(np.float32, copy=False)
    check_positive(sampling, "sampling")
    check_positive(target_sampling, "target_sampling")
    ratio = target_sampling / sampling
    if abs(ratio - 1) < 1e-6:
        return image
    if ratio > 1:
        image = ndimage.gaussian_filter(image, sigma=(ratio - 1) / 2)
    shape = tuple(int(np.floor((n - 1) / ratio)) + 1 for n in image.shape)
    # output (r, c) samples the input at (r, c) * ratio; the spline coefficients in float32 and
    # no coordinate grids keep an 8192 x 8192 image to two float32 copies
    coefficients = ndimage.spline_filter(image, order=3, output=np.float32, mode="reflect")
    return ndimage.affine_transform(
        coefficients, [ratio, ratio], output_shape=shape, order=3, mode="reflect", prefilter=False, output=np.float32
    )
