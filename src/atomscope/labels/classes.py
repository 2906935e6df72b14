"""The species classes head: its per-pixel targets, and species of sites from its probability maps.

A network with species targets (``species:<class>`` channels of the shards) has one classes
head instead: a softmax over ``background`` and the recipe's species classes, in the order of
the targets. Its per-pixel target is derived from the species heat maps the shards hold: a
pixel belongs to the class whose peak there is highest when that peak is at least
:data:`CLASS_LEVEL` (within 1.18 sigma = 0.47 Å of a column for sigma 0.4 Å: disks of
neighbouring columns, 1.4-1.8 Å apart in graphene and TMDs, do not touch), else to the background.

Sites: an atom (a peak of the atoms head) takes the class of highest mean probability in a
disk of :data:`SITE_RADIUS` around it, among the classes that hold atoms; empty columns
(``vacancy``, which no atoms head marks) are the peaks of their own probability map.
Training's validation, inference and the benchmarks all decode sites here.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from atomscope.labels.channels import SPECIES_PREFIX
from atomscope.labels.peaks import find_peaks

__all__ = [
    "BACKGROUND",
    "CLASS_LEVEL",
    "EMPTY_CLASSES",
    "SITE_RADIUS",
    "SPECIES_HEAD",
    "class_labels",
    "classify_sites",
    "disk_means",
    "empty_sites",
    "head_layout",
    "softmax",
]

#: Name of the classes head in a model file and of the class of pixels that hold no site.
SPECIES_HEAD = "species"
BACKGROUND = "background"
#: Species heat-map level above which a pixel takes the peak's class (see module docstring).
CLASS_LEVEL = 0.5
#: Radius [Å] of the disk around a site whose mean class probabilities give its species.
SITE_RADIUS = 0.3
#: Species classes of sites without atoms: found as peaks of their own probability map.
EMPTY_CLASSES = ("vacancy",)


def head_layout(target_names: Sequence[str]) -> tuple[list[int], list[int], list[str]]:
    """Where the shards' target channels go in a network with a classes head.

    Returns the indices of the peak and mask targets (trained as they are, on the first
    output channels), the indices of the species targets (turned into the classes head's
    labels) and the head's classes: ``background`` then the species, in target order.
    """
    peaks = [k for k, n in enumerate(target_names) if not n.startswith(SPECIES_PREFIX)]
    species = [k for k, n in enumerate(target_names) if n.startswith(SPECIES_PREFIX)]
    return peaks, species, [BACKGROUND, *(target_names[k][len(SPECIES_PREFIX) :] for k in species)]


def class_labels(species_maps: torch.Tensor, level: float = CLASS_LEVEL) -> torch.Tensor:
    """Per-pixel class (0 background, 1 + i species i) from species heat maps (..., S, H, W); int64 (..., H, W)."""
    peak, index = species_maps.max(dim=-3)
    return torch.where(peak >= level, index + 1, torch.zeros_like(index))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities over axis 0 of logits (C, H, W); float32."""
    shifted = logits - logits.max(axis=0, keepdims=True)
    e = np.exp(shifted)
    return (e / e.sum(axis=0, keepdims=True)).astype(np.float32)


def disk_means(probs: np.ndarray, xy_px: np.ndarray, radius_px: float) -> np.ndarray:
    """Mean of each map (C, H, W) (class probabilities, or an image as C = 1) over a disk of
    ``radius_px`` around each (x, y) [px], clipped at the edges; (N, C)."""
    r = max(0, int(np.floor(radius_px)))
    d = np.arange(-r, r + 1)
    dy, dx = (g.ravel() for g in np.meshgrid(d, d, indexing="ij"))
    keep = dx**2 + dy**2 <= max(radius_px, 0.5) ** 2
    dy, dx = dy[keep], dx[keep]
    height, width = probs.shape[-2:]
    centre = np.rint(np.asarray(xy_px, dtype=float).reshape(-1, 2)).astype(int)
    rows = np.clip(centre[:, 1, None] + dy, 0, height - 1)
    cols = np.clip(centre[:, 0, None] + dx, 0, width - 1)
    return probs[:, rows, cols].mean(axis=-1).T


def classify_sites(probs: np.ndarray, xy_px: np.ndarray, classes: Sequence[str], sampling: float) -> pd.DataFrame:
    """Species of atoms at (x, y) [px] from the class probability maps (C, H, W) at ``sampling`` [Å/px].

    Returns one row per site: ``species`` (the class of highest mean probability within
    :data:`SITE_RADIUS` among the classes that hold atoms) and ``p_<class>`` for every
    class, background included (the mean probabilities; they sum to 1).
    """
    means = disk_means(probs, xy_px, SITE_RADIUS / sampling)
    atom_classes = [i for i, c in enumerate(classes) if c != BACKGROUND and c not in EMPTY_CLASSES]
    table = pd.DataFrame(means, columns=[f"p_{c}" for c in classes])
    if not atom_classes:
        raise ValueError(f"the classes {list(classes)} hold no atom class")
    best = np.asarray(atom_classes)[np.argmax(means[:, atom_classes], axis=1)] if len(means) else np.empty(0, int)
    table.insert(0, "species", np.asarray(classes, dtype=object)[best].astype(str) if len(best) else np.empty(0, str))
    return table


def empty_sites(probs: np.ndarray, classes: Sequence[str], sampling: float, *, min_distance: float) -> pd.DataFrame:
    """Sites of the empty classes (vacancies): peaks above 0.5 of their probability map.

    Returns ``x_px``, ``y_px`` [px of the maps], ``score`` (the probability at the peak),
    ``species`` and the ``p_<class>`` columns of :func:`classify_sites`.
    """
    tables = []
    for name in EMPTY_CLASSES:
        if name not in classes:
            continue
        peaks = find_peaks(probs[list(classes).index(name)], min_distance_px=max(1, int(min_distance / sampling)), threshold=0.5)
        means = disk_means(probs, peaks[["x_px", "y_px"]].to_numpy(), SITE_RADIUS / sampling)
        tables.append(pd.concat([peaks.assign(species=name), pd.DataFrame(means, columns=[f"p_{c}" for c in classes])], axis=1))
    columns = ["x_px", "y_px", "score", "species", *(f"p_{c}" for c in classes)]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
