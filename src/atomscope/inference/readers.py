"""Read micrographs from microscope and image files into float32 frames with a pixel size in Å.

Reading is delegated to RosettaSciIO (TIFF, DigitalMicrograph, EMD, TIA, HyperSpy), numpy
(.npy) and imageio (.png); this module picks the image out of the file, converts the
calibration to Å per pixel and checks that the result is something the workflow can analyse.
Every error names the file, the problem and what to do about it.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import imageio.v3 as iio
import numpy as np
from rsciio.utils.rgb import is_rgbx, rgbx2regular_array

from atomscope.inference.calibration import LatticeCalibration, lattice_pixel_size, parse_lattice
from atomscope.io import ATOMIC_PIXEL_SIZES, check_pixel_size

__all__ = ["ATOMIC_PIXEL_SIZES", "Micrograph", "read_focal_series", "read_micrograph", "SUPPORTED_EXTENSIONS"]

# Where a user gives what the file lacks, by where read_micrograph was called from: the
# workflow's sample sheet, the command line, or Python.
PixelSizeFrom = Literal["sheet", "cli", "argument"]
_HOW_TO_GIVE = {
    "sheet": ("add a `pixel_size` (Å/px) for this sample in the sample sheet (config/samples.tsv)", "check the image path in the sample sheet"),
    "cli": ("pass --pixel-size (Å/px)", "check the image path"),
    "argument": ("pass pixel_size (Å/px) to read_micrograph", "check the image path"),
}

log = logging.getLogger(__name__)

# Length units as written by microscope software and RosettaSciIO, in Å.
_ANGSTROM_PER_UNIT = {
    "m": 1e10,
    "mm": 1e7,
    "µm": 1e4,  # micro sign
    "μm": 1e4,  # Greek mu
    "um": 1e4,
    "micron": 1e4,
    "nm": 10.0,
    "å": 1.0,
    "a": 1.0,
    "angstrom": 1.0,
    "pm": 1e-2,
}
# Units that mean "not calibrated".
_NO_UNIT = {"", "<undefined>", "px", "pixel", "pixels"}

# A signal as RosettaSciIO returns it: {"data": ndarray, "axes": [axis dicts] or None}.
_Signal = dict[str, Any]


@dataclass(frozen=True)
class Micrograph:
    """An image or image series ready for inference.

    Attributes
    ----------
    frames : numpy.ndarray
        float32 array (F, H, W) [counts, arbitrary]; a single image has F = 1.
    sampling : float
        Pixel size [Å/px], the same along rows and columns.
    path : pathlib.Path
        The file the frames came from.
    source : {"file", "lattice", "sheet", "cli", "argument"}
        Where ``sampling`` came from: the file's calibration, the crystal lattice in the image
        (``auto:...``), or the value given through the sample sheet, the command line or the
        Python call.
    calibration : LatticeCalibration or None
        The lattice measurement (pixel size, its uncertainty, the lattice constant), when
        ``source`` is "lattice".
    """

    frames: np.ndarray
    sampling: float
    path: Path
    source: Literal["file", "lattice"] | PixelSizeFrom
    calibration: LatticeCalibration | None = None

    def pixel_size_record(self) -> dict[str, Any]:
        """The pixel size, where it came from and its uncertainty [Å/px] (lattice only), for file metadata."""
        uncertainty = self.calibration.uncertainty if self.calibration else None
        return {"value": self.sampling, "source": self.source, "uncertainty": uncertainty}


def read_micrograph(
    path: str | os.PathLike, *, pixel_size: float | str | None = None, pixel_size_from: PixelSizeFrom = "argument"
) -> Micrograph:
    """Read an image or image series and its pixel size.

    Parameters
    ----------
    path : str or os.PathLike
        A file with one of :data:`SUPPORTED_EXTENSIONS`. A 2D image is one frame, a 3D stack
        (F, H, W) an image series; colour images are converted to grey (ITU-R 601 luma). When
        the file holds several datasets (e.g. the detectors of a Velox .emd file), the first
        image among them is read.
    pixel_size : float or str, optional
        Pixel size [Å/px] given by the user. It overrides the file's calibration and is
        required when the file has none (.npy, .png, uncalibrated TIFF, unitless scales).
        ``"auto:NAME"`` (graphene, hBN, MoS2, MoSe2, WS2) or ``"auto:A"`` (lattice constant
        A [Å]) measures it from the crystal lattice in the first frame
        (:func:`~atomscope.inference.calibration.lattice_pixel_size`); when the file has a
        pixel size too and the two differ by more than 3 %, a warning gives both.
    pixel_size_from : {"argument", "sheet", "cli"}
        Where the user gives ``pixel_size``: the Python call (default), the workflow's sample
        sheet or the command line. Error messages name that place, and ``source`` records it.

    Returns
    -------
    Micrograph
        float32 frames (F, H, W), the pixel size [Å/px] and where it came from.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the extension is not supported, the file cannot be read, it holds no 2D image or
        3D image series, the image is in colour, the data are empty, constant, complex or not
        finite, the pixels are not square, or there is no pixel size in the file nor in
        ``pixel_size``, or the pixel size is outside :data:`ATOMIC_PIXEL_SIZES` (0.005-5 Å/px;
        a given one is refused before the file is read).
    """
    path = Path(path)
    fix, check_path = _HOW_TO_GIVE[pixel_size_from]
    if isinstance(pixel_size, str):
        try:
            lattice_constant = parse_lattice(pixel_size)
        except ValueError as error:
            raise ValueError(f"{path}: {error}; {fix}") from None
    elif pixel_size is not None and not (math.isfinite(pixel_size) and pixel_size > 0):
        raise ValueError(f"{path}: the pixel size must be a positive number of Å/px, got {pixel_size!r}; {fix}")
    elif pixel_size is not None:
        _check_atomic_scale(pixel_size, "given", path, fix)
    data, axes = _first_image(_read_signals(path, check_path), path)
    frames = _as_frames(data, path)
    if isinstance(pixel_size, str):
        micrograph = _from_lattice(frames, axes, path, lattice_constant, fix)
    elif pixel_size is None:
        micrograph = Micrograph(frames, _sampling_from_axes(axes, path, fix), path, "file")
    else:
        return Micrograph(frames, float(pixel_size), path, pixel_size_from)
    _check_atomic_scale(micrograph.sampling, {"file": "in the file", "lattice": "from the lattice"}[micrograph.source], path, fix)
    return micrograph


#: Largest relative difference of the pixel sizes of the files of one focal series.
SERIES_TOLERANCE = 0.01


def read_focal_series(
    paths: str | os.PathLike | Sequence[str | os.PathLike], *, pixel_size: float | str | None = None, pixel_size_from: PixelSizeFrom = "argument"
) -> Micrograph:
    """Read a focal series, co-registered frames in the order of the model's defocus offsets:
    one file stacking them (as :func:`read_micrograph`), or several files of one image each.

    Several files must have one frame each, the same size and pixel sizes within 1 %; the
    series takes the first file's pixel size and path. ``pixel_size`` applies to every file.
    Errors name the file and the fix.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    parts = [read_micrograph(p, pixel_size=pixel_size, pixel_size_from=pixel_size_from) for p in paths]
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    for part in parts:
        if len(part.frames) != 1:
            raise ValueError(f"{part.path}: holds {len(part.frames)} frames; a focal series given as several files takes one image per file")
        if part.frames.shape != first.frames.shape:
            raise ValueError(
                f"{part.path}: {part.frames.shape[1:]} px, but {first.path} is {first.frames.shape[1:]} px; "
                "the frames of a focal series must be co-registered images of one size"
            )
        if abs(part.sampling / first.sampling - 1) > SERIES_TOLERANCE:
            raise ValueError(
                f"{part.path}: {part.sampling:.5g} Å/px, but {first.path} has {first.sampling:.5g} Å/px; "
                "the frames of a focal series must share one pixel size (give it as pixel_size)"
            )
    return Micrograph(np.concatenate([p.frames for p in parts]), first.sampling, first.path, first.source, first.calibration)


#: Largest disagreement between the file's pixel size and the lattice's that passes unremarked.
LATTICE_FILE_TOLERANCE = 0.03


def _from_lattice(frames: np.ndarray, axes: list[dict] | None, path: Path, lattice_constant: float, fix: str) -> Micrograph:
    """The micrograph with the pixel size its lattice gives; a warning when the file's differs > 3 %."""
    try:
        calibration = lattice_pixel_size(frames[0], lattice_constant)
    except ValueError as error:
        raise ValueError(f"{path}: {error}; give the pixel size as a number instead: {fix}") from None
    log.info(
        "%s: pixel size %.5f +- %.5f Å/px from %d lattice spots (a = %.3f Å)",
        path, calibration.pixel_size, calibration.uncertainty, calibration.n_spots, lattice_constant,
    )
    try:
        in_file = _sampling_from_axes(axes, path, fix)
    except ValueError:
        in_file = None
    if in_file is not None and abs(in_file / calibration.pixel_size - 1) > LATTICE_FILE_TOLERANCE:
        log.warning(
            "%s: the file says %.5f Å/px, the lattice (a = %.3f Å) %.5f Å/px (%+.1f %%); using the lattice's",
            path, in_file, lattice_constant, calibration.pixel_size, 100 * (in_file / calibration.pixel_size - 1),
        )
    return Micrograph(frames, calibration.pixel_size, path, "lattice", calibration)


def _check_atomic_scale(sampling: float, given: str, path: Path, fix: str) -> None:
    """Refuse a pixel size outside :data:`ATOMIC_PIXEL_SIZES`, naming the file, where it came from and ``fix``."""
    try:
        check_pixel_size(sampling)
    except ValueError as error:
        raise ValueError(f"{path}: pixel size {given}: {error}; {fix}") from None


def _rsciio_reader(plugin: str, **kwargs: Any) -> Callable[[Path], list[_Signal]]:
    def read(path: Path) -> list[_Signal]:
        return importlib.import_module(f"rsciio.{plugin}").file_reader(str(path), **kwargs)

    return read


def _read_npy(path: Path) -> list[_Signal]:
    return [{"data": np.load(path, allow_pickle=False), "axes": None}]


def _read_png(path: Path) -> list[_Signal]:
    # as stored: (H, W) grey, (H, W, 2) grey + alpha, (H, W, 3 or 4) RGB(A), palettes applied
    return [{"data": iio.imread(path, plugin="pillow"), "axes": None}]


_READERS: dict[str, Callable[[Path], list[_Signal]]] = {
    ".tif": _rsciio_reader("tiff"),
    ".tiff": _rsciio_reader("tiff"),
    ".npy": _read_npy,
    ".dm3": _rsciio_reader("digitalmicrograph"),
    ".dm4": _rsciio_reader("digitalmicrograph"),
    ".emd": _rsciio_reader("emd", select_type="images"),
    ".ser": _rsciio_reader("tia"),
    ".hspy": _rsciio_reader("hspy"),
    ".hdf5": _rsciio_reader("hspy"),
    ".png": _read_png,
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_READERS)


def _read_signals(path: Path, check_path: str) -> list[_Signal]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; {check_path}")
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise ValueError(
            f"{path}: unsupported file type {suffix or '(no extension)'!r}; "
            f"convert the image to one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    try:
        return _READERS[suffix](path)
    except Exception as err:  # each library raises its own types for a damaged file
        raise ValueError(
            f"{path}: cannot read the file as {suffix} ({type(err).__name__}: {err}); "
            f"check that it is complete and really a {suffix} file, and export it again if not"
        ) from err


def _first_image(signals: list[_Signal], path: Path) -> tuple[np.ndarray, list[dict] | None]:
    """Return the data and the two signal axes of the first dataset that is an image."""
    if not signals:
        raise ValueError(f"{path}: the file holds no data; export the image again")
    for signal in signals:
        if signal["axes"] is None:
            return signal["data"], None
        image_axes = [ax for ax in signal["axes"] if not ax.get("navigate", False)]
        if len(image_axes) == 2:
            return signal["data"], image_axes
    shapes = [np.shape(s["data"]) for s in signals]
    raise ValueError(
        f"{path}: holds no image (datasets of shape {shapes} with other than two image axes); "
        "export a 2D image or a 3D image series (frames, height, width)"
    )


def _as_frames(data: np.ndarray, path: Path) -> np.ndarray:
    """Check the data and return float32 frames (F, H, W)."""
    data = _grey(np.asarray(data), path)
    if data.ndim not in (2, 3):
        raise ValueError(
            f"{path}: data of shape {data.shape} is neither an image (height, width) nor an "
            "image series (frames, height, width); export one of those"
        )
    if data.size == 0:
        raise ValueError(f"{path}: the image is empty (shape {data.shape}); export it again")
    if np.iscomplexobj(data) or not np.issubdtype(data.dtype, np.number):
        raise ValueError(
            f"{path}: holds {data.dtype} values, not real intensities; "
            "export the intensity (e.g. the modulus of a complex wave) as a real image"
        )
    with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
        frames = np.ascontiguousarray(data.reshape((-1, *data.shape[-2:])), dtype=np.float32)
    bad = np.count_nonzero(~np.isfinite(frames))
    if bad:
        raise ValueError(
            f"{path}: {bad} pixels are NaN or infinite (after conversion to float32); "
            "crop them away or replace them before analysis"
        )
    constant = np.flatnonzero(np.ptp(frames, axis=(1, 2)) == 0)
    if constant.size:
        raise ValueError(
            f"{path}: frames {constant.tolist()} are constant (no contrast); "
            "check the acquisition and leave such frames out"
        )
    return frames


def _grey(data: np.ndarray, path: Path) -> np.ndarray:
    """The grey image of colour data whose channels are equal; other data unchanged.

    Colour is RosettaSciIO's structured RGB(A) dtype, or a last axis of 2 (grey + alpha), 3 or
    4 (RGB(A)) shorter than the two before it (an image series is (F, H, W), frames first).
    """
    if is_rgbx(data):
        data = rgbx2regular_array(data)
    elif not (data.ndim in (3, 4) and data.shape[-1] in (2, 3, 4) and data.shape[-1] < min(data.shape[-3:-1])):
        return data
    colour = data[..., : 1 if data.shape[-1] == 2 else 3]  # alpha left out
    if not all(np.array_equal(colour[..., 0], colour[..., k]) for k in range(1, colour.shape[-1])):
        raise ValueError(
            f"{path}: a colour image (shape {data.shape}) whose channels differ, and atomscope reads intensities, not colours; "
            "save the micrograph as a greyscale (single-channel) image"
        )
    return colour[..., 0]


def _sampling_from_axes(axes: list[dict] | None, path: Path, fix: str) -> float:
    """Pixel size [Å/px] from the file's two image axes (rows, columns); ``fix`` says how to give one."""
    no_pixel_size = f"{path}: no pixel size in the file and none given; {fix}"
    if axes is None:
        raise ValueError(no_pixel_size)
    if any("scale" not in ax for ax in axes):
        raise ValueError(f"{path}: the image axes are not uniformly calibrated; {fix}")
    units = [_normalise_unit(ax.get("units")) for ax in axes]
    scales = [float(ax["scale"]) for ax in axes]
    if all(unit in _NO_UNIT for unit in units):
        if all(scale == 1.0 for scale in scales):
            raise ValueError(no_pixel_size)
        raise ValueError(
            f"{path}: the file gives a pixel size of {scales[1]:.6g} without a unit, so it cannot "
            f"be converted to Å; {fix} (if the unit is nm, that is {10 * scales[1]:.6g} Å/px)"
        )
    unknown = sorted({unit for unit in units if unit not in _ANGSTROM_PER_UNIT})
    if unknown:
        raise ValueError(
            f"{path}: the image axes are in {unknown}, not a length (m, mm, µm, nm, Å or pm); "
            f"only real-space images can be analysed; if this is one, {fix}"
        )
    sy, sx = (scale * _ANGSTROM_PER_UNIT[unit] for scale, unit in zip(scales, units))
    if not (math.isfinite(sy) and math.isfinite(sx) and sy > 0 and sx > 0):
        raise ValueError(f"{path}: invalid pixel size in the file ({sy!r}, {sx!r} Å); {fix}")
    if not math.isclose(sy, sx, rel_tol=1e-3):
        raise ValueError(
            f"{path}: non-square pixels ({sy:.6g} Å along rows, {sx:.6g} Å along columns); "
            "resample the image to square pixels first"
        )
    return sx


def _normalise_unit(unit: Any) -> str:
    # NFC folds the Ångström sign (U+212B) and A + combining ring into "Å"; lower() makes "å".
    return unicodedata.normalize("NFC", str(unit or "")).strip().lower()
