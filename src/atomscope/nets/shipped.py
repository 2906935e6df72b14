"""Shipped models: trained networks committed under resources/models/ (``NAME.safetensors``,
each with its model card ``NAME.md``), found by name so that a user analyses an image without
training anything.

The folder is the repository's resources/models (the package is installed editable, as the
README says), or the folder named by the environment variable ``ATOMSCOPE_MODELS``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_MODEL", "models_dir", "resolve_model", "shipped_models"]

#: The model ``atomscope analyse`` uses when none is named.
DEFAULT_MODEL = "carbon_hrtem"
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
