"""Shipped models: trained networks committed under resources/models/ (``NAME.safetensors``,
each with its model card ``NAME.md``), found by name so that a user analyses an image without
training anything.

The folder is the repository's resources/models (the package is installed editable, as the
README says), or the folder named by the environment variable ``ATOMSCOPE_MODELS``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_MODEL", "MONOLAYER_MODELS", "models_dir", "resolve_model", "resolve_monolayer_model", "shipped_models"]

#: The model ``atomscope analyse`` uses when none is named.
DEFAULT_MODEL = "carbon_hrtem"
#: Shipped models whose monolayer is drawn by another shipped model, on a coarser grid that sees
#: more of the image (inference.monolayer_model: auto): carbon_hrtem's 0.112 Å/px grid gives its
#: monolayer head 14-29 Å of context, carbon_hrtem_monolayer's 0.26 Å/px about 50 Å
#: (benchmarks/detection/monolayer.md).
MONOLAYER_MODELS = {"carbon_hrtem": "carbon_hrtem_monolayer"}
_SUFFIX = ".safetensors"


def models_dir() -> Path:
    """The folder of the shipped models (``ATOMSCOPE_MODELS``, else the repository's resources/models)."""
    return Path(os.environ.get("ATOMSCOPE_MODELS") or Path(__file__).resolve().parents[3] / "resources" / "models")


def shipped_models() -> dict[str, Path]:
    """Name -> model file of every shipped model, sorted by name."""
    folder = models_dir()
    return {path.name[: -len(_SUFFIX)]: path for path in sorted(folder.glob(f"*{_SUFFIX}"))} if folder.is_dir() else {}


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """The model file a name or path stands for: an existing file, else a shipped model's name.

    Raises FileNotFoundError naming what was asked and the shipped models there are.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_models()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise FileNotFoundError(
        f"{name_or_path}: neither a model file nor a shipped model; shipped models: {sorted(shipped) or 'none'} "
        f"(in {models_dir()}; `atomscope models` lists them)"
    )


def resolve_monolayer_model(setting: str | None, model: str | os.PathLike) -> Path | None:
    """The model file whose ``monolayer`` head draws the monolayer of ``model`` (a model file), or
    None for ``model``'s own head.

    ``setting`` is ``inference.monolayer_model``: ``none`` (or None): the model's own head; ``auto``:
    the shipped companion of a shipped model (:data:`MONOLAYER_MODELS`) where it is there, else the
    model's own head; otherwise a shipped model's name or a model file (:func:`resolve_model`).
    """
    if setting in (None, "none"):
        return None
    if setting != "auto":
        return resolve_model(setting)
    shipped = shipped_models()
    name = next((name for name, path in shipped.items() if path.resolve() == Path(model).resolve()), None)
    return shipped.get(MONOLAYER_MODELS.get(name, ""))
