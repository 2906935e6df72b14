"""File contracts: one writer and one reader per kind of file (Parquet tables, HDF5 arrays).

Every file carries the atomscope version, the config section that made it (JSON) and the
units of its columns or datasets. Writers write to a temporary file in the same folder and
rename it into place, so an interrupted job never leaves a partial file behind.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import h5py
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from atomscope import __version__
from atomscope._shared.validation import check_int, check_positive

__all__ = [
    "write_table",
    "read_table",
    "read_table_meta",
    "write_arrays",
    "read_arrays",
    "write_micrograph_tiff",
    "read_sample_sheet",
    "atomic_path",
    "ImageGrid",
]

_META_KEY = b"atomscope"


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _metadata(config: Mapping[str, Any] | None, units: Mapping[str, str] | None) -> dict[str, Any]:
    return {"atomscope_version": __version__, "config": dict(config or {}), "units": dict(units or {})}


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike,
    *,
    config: Mapping[str, Any] | None = None,
    units: Mapping[str, str] | None = None,
) -> None:
    """Write ``df`` to Parquet with atomscope metadata (version, config section, column units)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(_metadata(config, units), default=_json_default).encode()
    table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: str | os.PathLike, *, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet table written by :func:`write_table`; missing ``columns`` are an error naming the file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such table; run the workflow step that writes it first")
    df = pq.read_table(path).to_pandas()
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"{path}: table lacks the columns {missing}; it has {list(df.columns)}")
        df = df[columns]
    return df


def read_table_meta(path: str | os.PathLike) -> dict[str, Any]:
    """Return the atomscope metadata (version, config, units) stored in a Parquet table."""
    meta = pq.read_schema(path).metadata or {}
    if _META_KEY not in meta:
        return _metadata(None, None) | {"atomscope_version": None}
    return json.loads(meta[_META_KEY])


def write_arrays(
    path: str | os.PathLike,
    arrays: Mapping[str, np.ndarray],
    *,
    attrs: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    units: Mapping[str, str] | None = None,
    compression: str | None = "gzip",
) -> None:
    """Write named arrays to HDF5; ``attrs`` (JSON-able) and atomscope metadata go on the root."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for name, arr in arrays.items():
                arr = np.asarray(arr)
                comp = compression if arr.ndim >= 2 else None
                f.create_dataset(name, data=arr, compression=comp)
            for key, value in _metadata(config, units).items():
                f.attrs[key] = json.dumps(value, default=_json_default)
            for key, value in (attrs or {}).items():
                f.attrs[key] = json.dumps(value, default=_json_default)


def read_arrays(
    path: str | os.PathLike, names: list[str] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read arrays (all, or ``names``) and decoded root attributes from an HDF5 file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such HDF5 file; run the workflow step that writes it first")
    with h5py.File(path, "r") as f:
        keys = list(f.keys()) if names is None else names
        missing = [k for k in keys if k not in f]
        if missing:
            raise ValueError(f"{path}: lacks the datasets {missing}; it has {list(f.keys())}")
        arrays = {k: f[k][()] for k in keys}
        attrs = {k: json.loads(v) for k, v in f.attrs.items()}
    return arrays, attrs


def write_micrograph_tiff(path: str | os.PathLike, image: np.ndarray, sampling: float) -> None:
    """Write a (H, W) image as a TIFF whose calibration (nm per pixel) rosettasciio reads back.

    Micrographs are read with :func:`atomscope.inference.readers.read_micrograph`.
    """
    from rsciio.tiff import file_writer

    height, width = image.shape
    axes = [
        {"name": name, "size": size, "scale": sampling / 10, "offset": 0.0, "units": "nm", "navigate": False}
        for name, size in (("y", height), ("x", width))
    ]
    with atomic_path(Path(path)) as tmp:
        # rsciio picks the writer by the extension, so the temporary name keeps ".tif"
        named = tmp.with_suffix(".tif")
        try:
            file_writer(str(named), {"data": np.asarray(image, dtype=np.float32), "axes": axes, "metadata": {}, "original_metadata": {}})
            os.replace(named, tmp)
        finally:
            named.unlink(missing_ok=True)


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


# The sample sheet: required columns, then optional ones with the type of a given value.
SAMPLE_SHEET_REQUIRED = ("sample", "path")
SAMPLE_SHEET_OPTIONAL = ("pixel_size", "truth")
# Cell values that mean "not given" in an optional column, besides an empty or blank cell:
# what pandas, R and spreadsheets write for a missing value.
_NOT_GIVEN = {"na", "n/a", "nan", "none", "null", "<na>"}


def read_sample_sheet(path: str | os.PathLike) -> pd.DataFrame:
    """Read the tab-separated sample sheet: one row per image to analyse.

    Every cell is read as text and stripped. An optional column (:data:`SAMPLE_SHEET_OPTIONAL`)
    that is absent, or a cell that is empty, blank or a missing-value spelling (NA, NaN, None,
    null), means "not given" and becomes ``None``, whatever pandas would have made of it;
    ``pixel_size`` [Å/px] becomes a float. Lines starting with ``#`` are comments.

    Returns
    -------
    pandas.DataFrame
        Columns ``sample``, ``path``, ``pixel_size`` (float or None), ``truth`` (str or None),
        then any further columns as text, indexed by ``sample``.

    Raises
    ------
    ValueError
        If a required column or value is missing, a sample name repeats, or a pixel size is
        not a number; the message names the sheet, the sample and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such sample sheet; create it or set `samples` in the config")
    sheet = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#", skip_blank_lines=True)
    sheet = sheet.rename(columns=str.strip).apply(lambda column: column.str.strip()).astype(object)
    missing = [c for c in SAMPLE_SHEET_REQUIRED if c not in sheet]
    if missing:
        raise ValueError(f"{path}: the sample sheet lacks the columns {missing}; its header must start with sample<TAB>path")
    for column in SAMPLE_SHEET_REQUIRED:
        empty = sheet.index[sheet[column] == ""]
        if len(empty):
            raise ValueError(f"{path}: rows {[int(i) + 2 for i in empty]} have no `{column}`; fill it in or delete the row")
    repeated = sorted(set(sheet["sample"][sheet["sample"].duplicated()]))
    if repeated:
        raise ValueError(f"{path}: sample names {repeated} appear more than once; give each row its own name")
    given = {}
    for column in SAMPLE_SHEET_OPTIONAL:
        values = sheet[column] if column in sheet else [""] * len(sheet)
        given[column] = [None if not value or value.lower() in _NOT_GIVEN else value for value in values]
    given["pixel_size"] = [
        None if text is None else _sheet_pixel_size(text, sample, path) for text, sample in zip(given["pixel_size"], sheet["sample"])
    ]
    # object columns: pandas would turn None into NaN (and NaN is truthy) in a float or str column
    columns = {name: sheet[name].tolist() for name in SAMPLE_SHEET_REQUIRED} | given
    columns |= {name: sheet[name].tolist() for name in sheet.columns if name not in columns}
    sheet = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    return sheet.set_index("sample", drop=False)


def _sheet_pixel_size(text: str, sample: str, path: Path) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"{path}: sample {sample!r} has pixel_size {text!r}; write a positive number of Å/px "
            "(e.g. 0.108), or leave the cell empty when the file is calibrated"
        )
    return value


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in file metadata")
