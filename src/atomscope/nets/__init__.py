"""Fully convolutional networks that map micrographs to per-pixel heat maps.

The names load lazily (PEP 562, as scikit-image does): the workflow's Snakefile looks up
shipped models through :mod:`atomscope.nets.shipped` on every run, and importing torch for
that cost about 1.4 s of each ``snakemake`` call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: Public name -> submodule that defines it.
_SUBMODULE = {
    "pick_device": "device",
    "load_model": "model_file",
    "network_from_spec": "model_file",
    "MSDNet": "msdnet",
    "DEFAULT_MODEL": "shipped",
    "MONOLAYER_MODELS": "shipped",
    "models_dir": "shipped",
    "resolve_model": "shipped",
    "resolve_monolayer_model": "shipped",
    "shipped_models": "shipped",
    "ARCHITECTURE_ARGS": "unet",
    "ResUNet": "unet",
    "build_network": "unet",
}

__all__ = sorted(_SUBMODULE)

if TYPE_CHECKING:
    from atomscope.nets.device import pick_device
    from atomscope.nets.model_file import load_model, network_from_spec
    from atomscope.nets.msdnet import MSDNet
    from atomscope.nets.shipped import DEFAULT_MODEL, MONOLAYER_MODELS, models_dir, resolve_model, resolve_monolayer_model, shipped_models
    from atomscope.nets.unet import ARCHITECTURE_ARGS, ResUNet, build_network


def __getattr__(name: str):
    if name not in _SUBMODULE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_SUBMODULE[name]}"), name)


def __dir__() -> list[str]:
    return __all__
