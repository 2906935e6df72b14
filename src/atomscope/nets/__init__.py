"""Fully convolutional networks that map micrographs to per-pixel heat maps."""

from atomscope.nets.unet import ResUNet, build_network

__all__ = ["ResUNet", "build_network"]
