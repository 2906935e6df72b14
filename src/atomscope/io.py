"""File contracts: one writer and one reader per kind of file (Parquet tables, HDF5 arrays,
the model file: safetensors weights with a JSON :class:`ModelSpec`).

Every file carries the atomscope version, the config section that made it (JSON) and the
units of its columns or datasets. Writers write to a temporary file in the same folder and
rename it into place, so an interrupted job never leaves a partial file behind.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
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
    "DETECTED_KINDS",
    "SITE_KINDS",
    "MODEL_FORMAT",
    "HEAD_KINDS",
    "InputChannel",
    "HeadClass",
    "Head",
    "Recipe",
    "ModelSpec",
    "config_hash",
    "write_model",
    "read_model",
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


# ---------------------------------------------------------------------------------------
# The model file: weights as safetensors, the ModelSpec as JSON in its string header.
# Nothing here unpickles: a file from a stranger can hold wrong numbers, never code.

#: Version of the model file's layout; :func:`read_model` refuses others.
MODEL_FORMAT = 1
#: Key of the spec (JSON) in the safetensors header.
_MODEL_SPEC_KEY = "atomscope_model_spec"
#: Key of the usual atomscope metadata (version, config, units) in the safetensors header.
_MODEL_META_KEY = "atomscope"
#: Head kinds: one heat-map channel (peaks at sites), one mask channel (0..1 per pixel), or
#: one channel per class (scores over the classes).
HEAD_KINDS = ("heatmap", "mask", "classes")
_RETRAIN = "retrain it with the train rule (`snakemake results/models/<model>/model.safetensors`)"


@dataclass(frozen=True)
class InputChannel:
    """One image channel the network reads.

    Parameters
    ----------
    name : str
        Channel name, e.g. ``hrtem``, ``adf`` or ``hrtem_df+50`` in a focal series.
    defocus_offset : float or None
        Defocus of this channel relative to the series' drawn defocus [Å]
        (``simulation.defocus_offsets``); None for a single image.
    """

    name: str
    defocus_offset: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "defocus_offset": self.defocus_offset}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> InputChannel:
        offset = d.get("defocus_offset")
        return cls(name=str(d["name"]), defocus_offset=None if offset is None else float(offset))


@dataclass(frozen=True)
class HeadClass:
    """What one class of an output head stands for.

    Parameters
    ----------
    name : str
        The class: a site kind (``atom``, ``centre``), a species class (``Mo``, ``S2``,
        ``vacancy``) or a region (``monolayer``).
    species : tuple of str
        The chemical elements the class's sites hold, e.g. ``("S",)`` for S2 columns,
        ``("Mo", "S")`` for all atoms of MoS2; empty for centres, vacancies and regions.
    """

    name: str
    species: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "species", tuple(str(s) for s in self.species))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "species": list(self.species)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HeadClass:
        return cls(name=str(d["name"]), species=tuple(d.get("species", ())))


@dataclass(frozen=True)
class Head:
    """One output head of a network: its output channels and what they mean.

    Parameters
    ----------
    name : str
        Head name as in the shards' ``target_names``: ``atoms``, ``centres``, ``monolayer``,
        ``species:<class>``.
    kind : {'heatmap', 'mask', 'classes'}
        ``heatmap``: one channel with a peak at every site of its class; ``mask``: one
        channel, 1 inside the region; ``classes``: one channel per class.
    classes : tuple of HeadClass
        One for a heatmap or mask head, one per channel for a classes head.
    """

    name: str
    kind: str
    classes: tuple[HeadClass, ...]

    def __post_init__(self) -> None:
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"head {self.name!r}: unknown kind {self.kind!r}; known: {list(HEAD_KINDS)}")
        object.__setattr__(self, "classes", tuple(self.classes))
        if self.kind != "classes" and len(self.classes) != 1:
            raise ValueError(f"head {self.name!r}: a {self.kind} head has one class, got {len(self.classes)}")
        if not self.classes:
            raise ValueError(f"head {self.name!r}: a classes head needs at least one class")

    @property
    def channels(self) -> int:
        """Output channels of the network this head takes."""
        return len(self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "classes": [c.to_dict() for c in self.classes]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Head:
        return cls(name=str(d["name"]), kind=str(d["kind"]), classes=tuple(HeadClass.from_dict(c) for c in d["classes"]))


@dataclass(frozen=True)
class Recipe:
    """How a model was made.

    Parameters
    ----------
    preset : str or None
        Name of the config preset the run started from (``config/presets/<preset>.yaml``).
    data_hash : str or None
        SHA-256 of the config sections that made the training data (structures, simulation,
        dataset; :func:`config_hash`): two models with the same hash saw the same images.
    training : dict
        The ``training`` config section.
    """

    preset: str | None = None
    data_hash: str | None = None
    training: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "training", _plain_json(self.training, "recipe.training"))

    def to_dict(self) -> dict[str, Any]:
        return {"preset": self.preset, "data_hash": self.data_hash, "training": copy.deepcopy(dict(self.training))}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Recipe:
        return cls(preset=d.get("preset"), data_hash=d.get("data_hash"), training=d.get("training", {}))


@dataclass(frozen=True)
class ModelSpec:
    """Everything besides the weights that running a trained network needs; plain JSON.

    Parameters
    ----------
    architecture : str
        Network kind, e.g. ``resunet`` (``training.architecture.kind``).
    architecture_args : dict
        Its keyword arguments, e.g. ``{"base_channels": 16, "depth": 3}``.
    input_channels : tuple of InputChannel
        The image channels, in the order the network reads them.
    heads : tuple of Head
        The output heads, in the order of the network's output channels.
    pixel_size : float
        Pixel size the network was trained at [Å/px]; images are resampled to it.
    normalisation : str
        Name of the image normalisation (a key of
        :data:`atomscope._shared.normalisation.NORMALISATIONS`, e.g. ``standardise``).
    recipe : Recipe
        Preset, hash of the data's config and the training config.
    scores : dict of str to float
        Validation scores of the final evaluation (e.g. ``atoms_f1``); None where undefined.
    """

    architecture: str
    architecture_args: Mapping[str, Any]
    input_channels: tuple[InputChannel, ...]
    heads: tuple[Head, ...]
    pixel_size: float
    normalisation: str = "standardise"
    recipe: Recipe = field(default_factory=Recipe)
    scores: Mapping[str, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from atomscope._shared.normalisation import check_normalisation

        set_ = partial(object.__setattr__, self)
        set_("architecture_args", _plain_json(self.architecture_args, "architecture_args"))
        set_("input_channels", tuple(self.input_channels))
        set_("heads", tuple(self.heads))
        set_("scores", {str(k): _finite_or_none(v) for k, v in dict(self.scores).items()})
        if not self.input_channels:
            raise ValueError("a model needs at least one input channel")
        if not self.heads:
            raise ValueError("a model needs at least one output head")
        names = [h.name for h in self.heads]
        if len(set(names)) != len(names):
            raise ValueError(f"head names must be distinct, got {names}")
        if not (isinstance(self.pixel_size, (int, float)) and math.isfinite(self.pixel_size) and self.pixel_size > 0):
            raise ValueError(f"`pixel_size` must be a positive number of Å/px, got {self.pixel_size!r}")
        set_("pixel_size", float(self.pixel_size))
        check_normalisation(self.normalisation)

    @property
    def in_channels(self) -> int:
        """Input channels of the network."""
        return len(self.input_channels)

    @property
    def out_channels(self) -> int:
        """Output channels of the network (all heads)."""
        return sum(h.channels for h in self.heads)

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.input_channels]

    @property
    def head_names(self) -> list[str]:
        return [h.name for h in self.heads]

    def head(self, name: str) -> Head:
        """The head called ``name``; KeyError lists the heads."""
        for h in self.heads:
            if h.name == name:
                return h
        raise KeyError(f"no head {name!r}; the model has {self.head_names}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "architecture": self.architecture,
            "architecture_args": copy.deepcopy(dict(self.architecture_args)),
            "input_channels": [c.to_dict() for c in self.input_channels],
            "heads": [h.to_dict() for h in self.heads],
            "pixel_size": self.pixel_size,
            "normalisation": self.normalisation,
            "recipe": self.recipe.to_dict(),
            "scores": dict(self.scores),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSpec:
        """Inverse of :meth:`to_dict`; a missing key or another format is a ValueError."""
        if d.get("format") != MODEL_FORMAT:
            raise ValueError(f"model spec format {d.get('format')!r}, this atomscope reads format {MODEL_FORMAT}")
        try:
            return cls(
                architecture=str(d["architecture"]),
                architecture_args=d["architecture_args"],
                input_channels=tuple(InputChannel.from_dict(c) for c in d["input_channels"]),
                heads=tuple(Head.from_dict(h) for h in d["heads"]),
                pixel_size=d["pixel_size"],
                normalisation=d["normalisation"],
                recipe=Recipe.from_dict(d.get("recipe", {})),
                scores=d.get("scores", {}),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"model spec lacks or mistypes {error}") from None

    def to_json(self) -> str:
        """The spec as strict JSON (no NaN)."""
        return json.dumps(self.to_dict(), allow_nan=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"model spec is not JSON ({error})") from None
        if not isinstance(d, dict):
            raise ValueError(f"model spec must be a JSON object, got {type(d).__name__}")
        return cls.from_dict(d)


def config_hash(sections: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of config sections as canonical JSON (sorted keys): equal configs, equal hash."""
    text = json.dumps(sections, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()


def write_model(path: str | os.PathLike, net_or_state_dict: Any, spec: ModelSpec, *, config: Mapping[str, Any] | None = None) -> None:
    """Write a model file: the weights as safetensors, ``spec`` as JSON in its header.

    Parameters
    ----------
    path : path-like
        Output file, conventionally ``model.safetensors``.
    net_or_state_dict : torch.nn.Module or mapping of str to torch.Tensor
        The network, or its ``state_dict()``.
    spec : ModelSpec
        What the weights mean.
    config : mapping, optional
        Config sections that made the model, stored with the atomscope version as in every
        atomscope file.
    """
    import torch
    from safetensors.torch import save_file

    state = net_or_state_dict.state_dict() if isinstance(net_or_state_dict, torch.nn.Module) else net_or_state_dict
    tensors = {str(k): v.detach().to("cpu").contiguous() for k, v in state.items()}
    metadata = {
        _MODEL_SPEC_KEY: spec.to_json(),
        _MODEL_META_KEY: json.dumps(_metadata(config, {"pixel_size": "Å/px", "defocus_offset": "Å"}), default=_json_default),
        "format": "pt",
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_model(path: str | os.PathLike) -> tuple[ModelSpec, dict[str, Any]]:
    """Read a model file written by :func:`write_model`, without running any code from it.

    Returns
    -------
    spec : ModelSpec
    state_dict : dict of str to torch.Tensor
        The weights, on the CPU.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is a PyTorch pickle (the layout before safetensors, or anyone's
        ``torch.save``; never unpickled), not a safetensors file, or a safetensors file
        without a valid atomscope spec. The message names the file and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model; train one with the train rule or pass the path of a model.safetensors")
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            state = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as error:  # safetensors raises its own error type for every malformed header
        with open(path, "rb") as f:
            head = f.read(2)
        if head == b"PK" or head[:1] == b"\x80":  # torch.save's zip, or a binary pickle
            raise ValueError(
                f"{path}: a PyTorch pickle (the model.pt layout of earlier atomscope versions, or any torch.save file); "
                f"atomscope does not unpickle models, since a pickle can run code when loaded; {_RETRAIN}"
            ) from None
        raise ValueError(f"{path}: not an atomscope model file (a safetensors file with a model spec): {error}; {_RETRAIN}") from None
    if _MODEL_SPEC_KEY not in metadata:
        raise ValueError(f"{path}: a safetensors file without an atomscope model spec; {_RETRAIN}")
    try:
        spec = ModelSpec.from_json(metadata[_MODEL_SPEC_KEY])
    except ValueError as error:
        raise ValueError(f"{path}: invalid model spec: {error}; {_RETRAIN}") from None
    return spec, state


def _plain_json(value: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A deep copy of ``value`` through JSON, so a spec holds plain JSON and nothing shared."""
    try:
        return json.loads(json.dumps(dict(value), default=_json_default, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{name}` must be plain JSON: {error}") from None


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
