"""The training loss of a network's heads: mean squared error on heat maps and masks, cross-entropy on the classes head."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import torch
from torch.nn import functional as F

from atomscope.labels.classes import class_labels, head_layout

__all__ = ["head_loss"]


def head_loss(
    target_names: Sequence[str], class_weight: float, species_weights: Mapping[str, float] | None = None
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Loss of predictions (N, P + C, H, W) against shard targets (N, K, H, W).

    The P peak and mask targets are compared with the first P output channels by mean squared
    error; the species targets, turned into per-pixel classes
    (:func:`atomscope.labels.classes.class_labels`), with the C class logits by cross-entropy
    times ``class_weight``. ``species_weights`` weighs the pixels of the named classes in the
    cross-entropy (1 for classes not named and the background), so that a rare class (Si among
    graphene's C) is not drowned out. Without species targets it is the mean squared error alone.
    """
    peaks, species, classes = head_layout(target_names)
    if not species:
        return F.mse_loss
    species_weights = dict(species_weights or {})
    unknown = sorted(set(species_weights) - set(classes[1:]))
    if unknown:
        raise ValueError(f"training.species_weights names {unknown}, which are not species classes of the data {classes[1:]}")
    weights = torch.tensor([float(species_weights.get(name, 1.0)) for name in classes]) if species_weights else None

    def loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        mse = F.mse_loss(prediction[:, : len(peaks)], target[:, peaks])
        logits = prediction[:, len(peaks) :]
        weight = None if weights is None else weights.to(device=logits.device, dtype=logits.dtype)
        return mse + class_weight * F.cross_entropy(logits, class_labels(target[:, species]), weight=weight)

    return loss
