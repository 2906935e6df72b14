"""The model file: weights as safetensors, the :class:`ModelSpec` as JSON in its string header.

Nothing here unpickles: a file from a stranger can hold wrong numbers, never code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Mapping

from atomscope._shared.normalisation import check_normalisation, normalised_channels
from atomscope.io.files import _json_default, _metadata, atomic_path

__all__ = ["HEAD_KINDS", "MODEL_FORMAT", "Head", "HeadClass", "InputChannel", "ModelSpec", "Recipe", "config_hash", "read_model", "write_model"]

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
        """Image channels the model reads: 1, or the frames of a focal series."""
        return len(self.input_channels)

    @property
    def network_in_channels(self) -> int:
        """Input channels of the network: the image's, as many again for a normalisation that adds context."""
        return normalised_channels(self.normalisation, self.in_channels)

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
