"""Parquet tables and HDF5 arrays: one writer and one reader each, with atomscope metadata.

Every file carries the atomscope version, the config section that made it (JSON) and the
units of its columns or datasets. Writers write to a temporary file in the same folder and
rename it into place, so an interrupted job never leaves a partial file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

import h5py
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from atomscope import __version__

__all__ = [
    "DETECTED_KINDS",
    "SITE_KINDS",
    "atomic_path",
    "read_arrays",
    "read_table",
    "read_table_meta",
    "write_arrays",
    "write_csv",
    "write_micrograph_tiff",
    "write_table",
]

_META_KEY = b"atomscope"

#: Kinds of site a network detects (the ``kind`` column of a sites table from inference).
DETECTED_KINDS = ("atom", "centre")
#: Kinds of site in a structures table: the detected kinds and empty columns of a crystal.
SITE_KINDS = (*DETECTED_KINDS, "vacancy")


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


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` as CSV for other tools (spreadsheets, Atomap, OVITO scripts): a header line,
    no index, list cells (a ring's members) as space-separated values. Units are those of the
    Parquet table it copies (lengths in Å, pixel positions ``_px``); CSV has no place for them."""
    df = df.copy()
    for column in df.columns:
        if df[column].map(lambda value: isinstance(value, (list, tuple, np.ndarray))).any():
            df[column] = df[column].map(lambda value: " ".join(map(str, value)))
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


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
                # a stack of images is chunked image by image: reading one decompresses one
                chunks = (1, *arr.shape[1:]) if arr.ndim >= 3 and arr.shape[0] > 0 else (True if comp else None)
                # shuffle groups the bytes of each value, which gzip packs tighter (float16 shards: 1.4x)
                f.create_dataset(name, data=arr, compression=comp, chunks=chunks, shuffle=comp is not None)
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


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in file metadata")
