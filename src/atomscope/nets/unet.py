"""Residual U-Net (Ronneberger et al. 2015, doi:10.1007/978-3-319-24574-4_28, with the
residual blocks of Leist et al. 2022, doi:10.1021/acsnano.2c06807)."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

__all__ = ["ARCHITECTURE_ARGS", "ResUNet", "build_network"]

#: The ``training.architecture`` keys each kind reads (and its model file records).
ARCHITECTURE_ARGS = {"resunet": ("base_channels", "depth"), "msdnet": ("depth", "width", "max_dilation")}


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a 1x1-projected identity shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = (
            nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1, bias=False)
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class ResUNet(nn.Module):
    """U-Net with residual blocks; output has the input's height and width.

    Parameters
    ----------
    in_channels : int
        Image channels (1 for a single micrograph, N for a focal series).
    out_channels : int
        Heat-map channels (e.g. atoms, centres).
    base_channels : int, optional
        Feature maps at full resolution; doubled at every level (default 16).
    depth : int, optional
        Number of 2x down-samplings (default 3); inputs must be divisible by 2**depth.
    """

    def __init__(self, in_channels: int, out_channels: int, *, base_channels: int = 16, depth: int = 3) -> None:
        super().__init__()
        if depth < 1 or base_channels < 1:
            raise ValueError(f"`depth` and `base_channels` must be >= 1, got {depth} and {base_channels}")
        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.size_multiple = 2**depth  # input height and width must be multiples of it
        self.stem = ResidualBlock(in_channels, widths[0])
        self.down = nn.ModuleList(ResidualBlock(widths[i], widths[i + 1]) for i in range(depth))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in reversed(range(depth))
        )
        self.merge = nn.ModuleList(ResidualBlock(2 * widths[i], widths[i]) for i in reversed(range(depth)))
        self.head = nn.Conv2d(widths[0], out_channels, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        factor = self.size_multiple
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"input height and width must be divisible by {factor}, got {tuple(x.shape[-2:])}")
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(self.pool(skips[-1])))
        y = skips.pop()
        for up, merge in zip(self.up, self.merge):
            y = merge(torch.cat([up(y), skips.pop()], dim=1))
        return self.head(y)


def build_network(architecture: Mapping[str, Any], in_channels: int, out_channels: int) -> nn.Module:
    """Build the network described by the ``training.architecture`` config section.

    ``resunet`` reads ``base_channels`` and ``depth`` (down-samplings, 1-6); ``msdnet`` reads
    ``depth`` (layers), ``width`` and ``max_dilation`` (:class:`atomscope.nets.msdnet.MSDNet`).
    """
    from atomscope.nets.msdnet import MSDNet

    kind = architecture["kind"]
    if kind == "resunet":
        if not 1 <= int(architecture["depth"]) <= 6:
            raise ValueError(f"resunet: `depth` counts down-samplings, 1-6; got {architecture['depth']}")
        return ResUNet(
            in_channels,
            out_channels,
            base_channels=int(architecture["base_channels"]),
            depth=int(architecture["depth"]),
        )
    if kind == "msdnet":
        return MSDNet(
            in_channels,
            out_channels,
            depth=int(architecture["depth"]),
            width=int(architecture.get("width", 1)),
            max_dilation=int(architecture.get("max_dilation", 10)),
        )
    raise ValueError(f"unknown architecture kind {kind!r}; supported: 'resunet', 'msdnet'")
