"""Fully convolutional networks that map micrographs to per-pixel heat maps."""

from atomscope.nets.device import pick_device
from atomscope.nets.model_file import load_model, network_from_spec
from atomscope.nets.msdnet import MSDNet
from atomscope.nets.shipped import DEFAULT_MODEL, models_dir, resolve_model, shipped_models
from atomscope.nets.unet import ARCHITECTURE_ARGS, ResUNet, build_network

__all__ = [
    "ARCHITECTURE_ARGS",
    "DEFAULT_MODEL",
    "MSDNet",
    "ResUNet",
    "build_network",
    "load_model",
    "models_dir",
    "network_from_spec",
    "pick_device",
    "resolve_model",
    "shipped_models",
]
