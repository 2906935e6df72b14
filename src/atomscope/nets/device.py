"""Where networks run: the one place that chooses the torch device."""

from __future__ import annotations

import torch

__all__ = ["pick_device"]


def pick_device() -> torch.device:
    """CUDA when present, CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
