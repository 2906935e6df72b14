"""Position lists exchanged with other tools: one reader (CSV, Parquet, Atomap HDF5, extended
XYZ) into a sites table, and a writer to extended XYZ for ASE and OVITO.

A sites table has one row per site: ``frame``, ``kind`` (:data:`~atomscope.io.DETECTED_KINDS`),
``x``, ``y`` [Å] and ``species`` (an element symbol, or "" when unknown), the columns
:func:`atomscope.geometry.triangulate` reads; any further columns of the file follow them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import pandas as pd

from atomscope.io.files import DETECTED_KINDS, atomic_path, read_table, read_table_meta
from atomscope.io.samples import check_pixel_size

__all__ = ["POSITION_FORMATS", "read_positions", "write_extxyz"]

_FIRST = ["frame", "kind", "x", "y", "species"]


def read_positions(path: str | os.PathLike, *, pixel_size: float | None = None) -> pd.DataFrame:
    """Read a list of atom positions from another tool, or from atomscope, as a sites table.

    Parameters
    ----------
    path : str or os.PathLike
        A file with one of :data:`POSITION_FORMATS`:

        - ``.csv``: a header line, columns ``x``, ``y`` and optionally ``kind`` (atom / centre,
          default atom), ``species`` (element symbol) and ``frame`` (integer, default 0);
          ``x_px``, ``y_px`` are pixel positions (as atomscope's sites files carry beside x, y).
        - ``.parquet``: the same columns (atomscope's ``sites.parquet`` reads as it is).
        - ``.hdf5``, ``.h5``: an Atomap Atom_Lattice file: one group per sublattice with
          ``atom_positions`` (N, 2) = (x, y) [px]; the sublattice's name becomes the
          ``sublattice`` column, and its ``species`` when it is an element symbol.
        - ``.extxyz``, ``.xyz``: extended XYZ (ASE), positions [Å], one frame per image; as
          :func:`write_extxyz` writes it, or from ASE and OVITO.
    pixel_size : float, optional
        [Å/px]. When given, the positions are in pixels, pixel (r, c) centred at
        (x, y) = (c, r) * pixel_size: the ``x_px``, ``y_px`` columns if the file has them,
        else ``x``, ``y``. Needed for Atomap files; refused for extended XYZ (always Å).

    Returns
    -------
    pandas.DataFrame
        ``frame`` (int), ``kind``, ``x``, ``y`` [Å], ``species``, then the file's other columns.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming the file, the problem and the fix: an unknown extension, no x/y columns,
        positions in px without a pixel size (or one given for positions in Å), values that
        are not finite numbers, unknown kinds, no positions at all.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; check the path of the position list")
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise ValueError(f"{path}: unsupported position list {suffix or '(no extension)'!r}; write it as one of {', '.join(POSITION_FORMATS)}")
    if pixel_size is not None:
        try:
            pixel_size = check_pixel_size(pixel_size)
        except ValueError as error:
            raise ValueError(f"{path}: pixel size given: {error}") from None
    return _checked(_READERS[suffix](path, pixel_size), path)


def write_extxyz(sites: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write sites to extended XYZ (ASE's ``ase.io.write``), one image per frame, z = 0.

    Atoms get their ``species`` (carbon, ``C``, where it is missing or ""), polygon centres
    ASE's dummy symbol ``X``; each site's ``kind`` (and ``score``, if present) is a per-atom
    column, and each image's ``info["frame"]`` its frame. :func:`read_positions` reads it back.
    """
    from ase import Atoms
    from ase.io import write

    sites = _checked(_from_table(pd.DataFrame(sites), None, "`sites`"), "`sites`")
    images = []
    for frame, part in sites.groupby("frame", sort=True):
        symbols = np.where(part["kind"] == "centre", "X", part["species"].replace("", "C"))
        atoms = Atoms(symbols=list(symbols), positions=np.column_stack([part["x"], part["y"], np.zeros(len(part))]), pbc=False)
        atoms.new_array("kind", part["kind"].to_numpy(dtype=str))
        if "score" in part:
            atoms.new_array("score", part["score"].to_numpy(dtype=float))
        atoms.info["frame"] = int(frame)
        images.append(atoms)
    path = Path(path)
    with atomic_path(path) as tmp:
        write(tmp, images, format="extxyz")


def _from_table(table: pd.DataFrame, pixel_size: float | None, name: str | Path, units: dict | None = None) -> pd.DataFrame:
    """Sites from a table with x, y [Å] or, with ``pixel_size``, x_px, y_px or x, y [px]."""
    table = table.rename(columns=lambda column: str(column).strip())
    has_xy, has_px = {"x", "y"} <= set(table.columns), {"x_px", "y_px"} <= set(table.columns)
    if pixel_size is None:
        if not has_xy:
            hint = "; they are in px (x_px, y_px): give the pixel size (Å/px)" if has_px else ""
            raise ValueError(f"{name}: no `x` and `y` columns (it has {list(table.columns)}){hint}")
        return table
    if has_px:
        columns = ("x_px", "y_px")
    elif not has_xy:
        raise ValueError(f"{name}: no `x` and `y` (or `x_px` and `y_px`) columns; it has {list(table.columns)}")
    elif (units or {}).get("x") == "Å":
        raise ValueError(f"{name}: `x`, `y` are in Å (the file's metadata says so); leave out the pixel size")
    else:
        columns = ("x", "y")
    px = table[list(columns)].apply(pd.to_numeric, errors="coerce")
    table = table.drop(columns=[c for c in ("x", "y") if c in table])
    return table.assign(x=px[columns[0]] * pixel_size, y=px[columns[1]] * pixel_size)


def _checked(table: pd.DataFrame, name: str | Path) -> pd.DataFrame:
    """The sites table with its columns in order, defaults filled in and every value checked."""
    if table.empty:
        raise ValueError(f"{name}: holds no positions; check that it is the right file")
    table = table.reset_index(drop=True)
    for axis in ("x", "y"):
        values = pd.to_numeric(table[axis], errors="coerce").astype(float)
        bad = np.flatnonzero(~np.isfinite(values.to_numpy()))
        if len(bad):
            raise ValueError(f"{name}: {len(bad)} rows (the first: row {bad[0] + 1}) have no finite number in `{axis}`; remove or correct them")
        table[axis] = values
    table["kind"] = table["kind"].fillna("atom").astype(str).str.strip().str.lower() if "kind" in table else "atom"
    unknown = sorted(set(table["kind"]) - set(DETECTED_KINDS))
    if unknown:
        raise ValueError(f"{name}: kinds {unknown} in the `kind` column; atomscope knows {list(DETECTED_KINDS)} (leave the column out for atoms only)")
    table["species"] = table["species"].fillna("").astype(str).str.strip() if "species" in table else ""
    if "frame" in table:
        frames = pd.to_numeric(table["frame"], errors="coerce")
        if not (np.isfinite(frames) & (frames == np.round(frames))).all():
            raise ValueError(f"{name}: the `frame` column must hold whole numbers")
        table["frame"] = frames.astype(int)
    else:
        table["frame"] = 0
    return table[_FIRST + [c for c in table.columns if c not in _FIRST]]


def _read_csv(path: Path, pixel_size: float | None) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, comment="#", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read it as CSV ({type(error).__name__}: {error}); write a header line and comma-separated rows") from None
    return _from_table(table, pixel_size, path)


def _read_parquet(path: Path, pixel_size: float | None) -> pd.DataFrame:
    return _from_table(read_table(path), pixel_size, path, read_table_meta(path)["units"])


def _read_atomap(path: Path, pixel_size: float | None) -> pd.DataFrame:
    """Atomap's Atom_Lattice HDF5 (``save_atom_lattice_to_hdf5``): per sublattice group,
    ``atom_positions`` (N, 2) = (x, y) [px] and the attributes ``name``, ``pixel_size``."""
    try:
        file = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(f"{path}: cannot read it as HDF5 ({error}); check that it is complete") from None
    with file:
        groups = [group for group in file.values() if isinstance(group, h5py.Group) and "atom_positions" in group]
        if not groups:
            raise ValueError(f"{path}: no Atomap sublattices (groups with `atom_positions`); save the Atom_Lattice with Atomap's save()")
        groups.sort(key=lambda group: int(group.attrs.get("sublattice_index", 0)))
        if pixel_size is None:
            stored = groups[0].attrs.get("pixel_size")
            raise ValueError(
                f"{path}: Atomap stores positions in px and its pixel_size attribute ({stored}) has no unit; "
                "give the pixel size (Å/px)"
            )
        tables = [_atomap_sublattice(group) for group in groups]
    return _from_table(pd.concat(tables, ignore_index=True), pixel_size, path)


def _atomap_sublattice(group: h5py.Group) -> pd.DataFrame:
    from ase.data import chemical_symbols

    name = group.attrs.get("name", group.name.strip("/").removesuffix("_sublattice"))
    name = name.decode() if isinstance(name, bytes) else str(name)
    xy = np.asarray(group["atom_positions"], dtype=float).reshape(-1, 2)
    species = name if name in chemical_symbols[1:] else ""
    return pd.DataFrame({"x_px": xy[:, 0], "y_px": xy[:, 1], "species": species, "sublattice": name})


def _read_extxyz(path: Path, pixel_size: float | None) -> pd.DataFrame:
    from ase.io import read

    if pixel_size is not None:
        raise ValueError(f"{path}: extended XYZ positions are in Å; leave out the pixel size")
    try:
        images = read(path, index=":")
    except Exception as error:  # ASE raises its own types for a damaged file
        raise ValueError(f"{path}: cannot read it as extended XYZ ({type(error).__name__}: {error}); check that it is complete") from None
    tables = []
    for index, atoms in enumerate(images):
        kind = atoms.arrays["kind"] if "kind" in atoms.arrays else np.where(atoms.numbers == 0, "centre", "atom")
        symbols = np.array(atoms.get_chemical_symbols())
        table = {"frame": atoms.info.get("frame", index), "kind": kind, "x": atoms.positions[:, 0], "y": atoms.positions[:, 1]}
        table["species"] = np.where(symbols == "X", "", symbols)
        if "score" in atoms.arrays:
            table["score"] = atoms.arrays["score"]
        tables.append(pd.DataFrame(table))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


_READERS: dict[str, Callable[[Path, float | None], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".parquet": _read_parquet,
    ".hdf5": _read_atomap,
    ".h5": _read_atomap,
    ".extxyz": _read_extxyz,
    ".xyz": _read_extxyz,
}
#: Extensions :func:`read_positions` reads.
POSITION_FORMATS: tuple[str, ...] = tuple(_READERS)
