"""Motifs (Dan et al. 2022): atom-centred patches, Zernike features, force-relaxed layout, labels."""

from __future__ import annotations

from atomscope.motifs.analyse import analyse_motifs
from atomscope.motifs.layout import DAN2022_FORCES, class_distances, force_relaxed_layout, motif_labels
from atomscope.motifs.patches import extract_patches
from atomscope.motifs.zernike import zernike_basis, zernike_indices, zernike_moments

__all__ = [
    "DAN2022_FORCES",
    "analyse_motifs",
    "class_distances",
    "extract_patches",
    "force_relaxed_layout",
    "motif_labels",
    "zernike_basis",
    "zernike_indices",
    "zernike_moments",
]
