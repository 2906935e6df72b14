"""The training loss of a network's heads: mean squared error on heat maps and masks, cross-entropy on the classes head."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch.nn import functional as F

from atomscope.labels.classes import class_labels, head_layout

__all__ = ["head_loss"]


def head_loss(target_names: Sequence[str], class_weight: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Loss of predictions (N, P + C, H, W) against shard targets (N, K, H, W).

    The P peak and mask targets are compared with the first P output channels by mean squared
    error; the species targets, turned into per-pixel classes
    (:func:`atomscope.labels.classes.class_labels`), with the C class logits by cross-entropy
    times ``class_weight``. Without species targets it is the mean squared error alone.
    """
    peaks, species, _ = head_layout(target_names)
    if not species:
        return F.mse_loss

    def loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        mse = F.mse_loss(prediction[:, : len(peaks)], target[:, peaks])
        return mse + class_weight * F.cross_entropy(prediction[:, len(peaks) :], class_labels(target[:, species]))

    return loss
