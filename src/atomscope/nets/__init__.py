"""Fully convolutional networks that map micrographs to per-pixel heat maps."""

from atomscope.nets.device import pick_device
from atomscope.nets.model_file import load_model, network_from_spec
from atomscope.nets.msdnet import MSDNet
from atomscope.nets.unet import ARCHITECTURE_ARGS, ResUNet, build_network

__all__ = ["ARCHITECTURE_ARGS", "MSDNet", "ResUNet", "build_network", "network_from_spec", "load_model", "pick_device"]
