"""The sample sheet: the images a workflow run analyses, one row each."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pandas as pd

__all__ = ["ATOMIC_PIXEL_SIZES", "SAMPLE_SHEET_OPTIONAL", "SAMPLE_SHEET_REQUIRED", "check_pixel_size", "parse_elements", "parse_pixel_size", "read_sample_sheet"]

# The sample sheet: required columns, then optional ones with the type of a given value.
SAMPLE_SHEET_REQUIRED = ("sample", "path")
SAMPLE_SHEET_OPTIONAL = ("pixel_size", "truth", "model", "elements")
# Cell values that mean "not given" in an optional column, besides an empty or blank cell:
# what pandas, R and spreadsheets write for a missing value.
_NOT_GIVEN = {"na", "n/a", "nan", "none", "null", "<na>"}

#: Pixel sizes [Å/px] of atomic-resolution images: outside this range a value is a unit slip
#: (nm for Å, a calibration of another image), and rescaling to the model's grid would make an
#: image of millions of megapixels (--pixel-size 50 asked for 112 GiB) or of a few pixels.
ATOMIC_PIXEL_SIZES = (0.005, 5.0)


def read_sample_sheet(path: str | os.PathLike) -> pd.DataFrame:
    """Read the tab-separated sample sheet: one row per image to analyse.

    Every cell is read as text and stripped. An optional column (:data:`SAMPLE_SHEET_OPTIONAL`)
    that is absent, or a cell that is empty, blank or a missing-value spelling (NA, NaN, None,
    null), means "not given" and becomes ``None``, whatever pandas would have made of it;
    ``pixel_size`` [Å/px] becomes a float, or stays ``auto:...`` text (measured from the lattice
    at inference). Lines starting with ``#`` are comments.

    Returns
    -------
    pandas.DataFrame
        Columns ``sample``, ``path``, ``pixel_size`` (float, ``auto:...`` or None), ``truth`` (str or None),
        ``model`` (a shipped model's name or a model file, or None), ``elements`` (the chemical
        symbols the sample holds, comma-separated text such as ``Mo,S,Se``, or None), then any further columns as text, indexed by ``sample``.

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
    given["elements"] = [None if text is None else _sheet_elements(text, sample, path) for text, sample in zip(given["elements"], sheet["sample"])]
    # object columns: pandas would turn None into NaN (and NaN is truthy) in a float or str column
    columns = {name: sheet[name].tolist() for name in SAMPLE_SHEET_REQUIRED} | given
    columns |= {name: sheet[name].tolist() for name in sheet.columns if name not in columns}
    sheet = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    return sheet.set_index("sample", drop=False)


def check_pixel_size(value: float) -> float:
    """``value`` [Å/px] as a float, if it lies in :data:`ATOMIC_PIXEL_SIZES`.

    Raises
    ------
    ValueError
        Giving the value and the accepted range; the caller adds the file and where to fix it.
    """
    low, high = ATOMIC_PIXEL_SIZES
    value = float(value)
    if not low <= value <= high:  # NaN fails too
        raise ValueError(f"{value:.6g} Å/px is outside the {low}-{high} Å/px of atomic-resolution images (a unit slip? 1 nm = 10 Å)")
    return value


def parse_pixel_size(text: str) -> float | str:
    """A pixel size as users write it, in the sheet or on the command line: a positive number
    [Å/px] within :data:`ATOMIC_PIXEL_SIZES`, or ``auto:...`` text (kept as text; the reader
    measures it from the lattice).

    Raises
    ------
    ValueError
        If ``text`` is neither, or the number is outside the range; the message says what to write.
    """
    if text.lower().startswith("auto:"):
        return text
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            "write a positive number of Å/px (e.g. 0.108), or auto:graphene (auto:MoS2, auto:2.46, ...) "
            "to measure it from the lattice"
        )
    return check_pixel_size(value)


def _sheet_pixel_size(text: str, sample: str, path: Path) -> float | str:
    try:
        return parse_pixel_size(text)
    except ValueError as error:
        raise ValueError(
            f"{path}: sample {sample!r} has pixel_size {text!r}; {error}, or leave the cell empty when the file is calibrated"
        ) from None


def parse_elements(text: str) -> list[str]:
    """Chemical symbols as users write them, comma-separated (``Mo,S,Se``), as a list.

    Raises
    ------
    ValueError
        If ``text`` holds no symbol or something that is not one; the message says what to write.
    """
    symbols = [symbol.strip() for symbol in text.split(",") if symbol.strip()]
    bad = [symbol for symbol in symbols if not re.fullmatch(r"[A-Z][a-z]?", symbol)]
    if not symbols or bad:
        raise ValueError(f"{', '.join(bad) or repr(text)}: not chemical symbols; give e.g. Mo,S,Se")
    return symbols


def _sheet_elements(text: str, sample: str, path: Path) -> str:
    """The sheet's elements cell checked and written canonically (``Mo,S,Se``): text, as the
    workflow's schema check of the sheet takes no list cells."""
    try:
        return ",".join(parse_elements(text))
    except ValueError as error:
        raise ValueError(f"{path}: sample {sample!r} has elements {text!r}; {error}, or leave the cell empty for all") from None
