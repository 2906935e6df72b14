"""Mixed-scale dense network (Pelt & Sethian, PNAS 115, 254, 2018, doi:10.1073/pnas.1715832114),
which Larsen et al. find better than a U-Net at low dose.

Layer i convolves ALL earlier feature maps (the input and layers 0 .. i-1) with a 3x3 kernel
dilated by (i mod max_dilation) + 1, adds a bias and applies ReLU; the output is a 1x1
convolution over the input and every layer. Hand-written: neither torchvision nor another
maintained package ships it.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MSDNet"]


class MSDNet(nn.Module):
    """Mixed-scale dense network; output has the input's height and width (any size).

    Parameters
    ----------
    in_channels, out_channels : int
        Image channels and output maps.
    depth : int, optional
        Number of layers (default 100, as in Pelt & Sethian).
    width : int, optional
        Feature maps per layer (default 1).
    max_dilation : int, optional
        Dilations cycle through 1 .. max_dilation (default 10).
    """

    def __init__(self, in_channels: int, out_channels: int, *, depth: int = 100, width: int = 1, max_dilation: int = 10) -> None:
        super().__init__()
        if min(depth, width, max_dilation) < 1:
            raise ValueError(f"`depth`, `width` and `max_dilation` must be >= 1, got {depth}, {width}, {max_dilation}")
        self.layers = nn.ModuleList(
            nn.Conv2d(in_channels + i * width, width, 3, padding=d, dilation=d)
            for i, d in ((i, i % max_dilation + 1) for i in range(depth))
        )
        self.size_multiple = 1  # any input size
        self.norm = nn.BatchNorm2d(in_channels)  # the input's scale, learnt: what the paper's per-channel normalisation does
        self.head = nn.Conv2d(in_channels + depth * width, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.norm(x)
        for layer in self.layers:
            features = torch.cat([features, torch.relu(layer(features))], dim=1)
        return self.head(features)
