"""Motifs (Dan et al. 2022): atom-centred patches, Zernike features, force-relaxed layout, labels."""

from __future__ import annotations

from atomscope.motifs.analyse import analyse_motifs, patch_size_px
from atomscope.motifs.domains import feature_divergence
from atomscope.motifs.graph import knn_graph
from atomscope.motifs.hierarchy import cell_indices, frame_hierarchies, level_entropy, motif_cell_hierarchy
from atomscope.motifs.labels import class_averages, class_distances, motif_labels
from atomscope.motifs.layout import DAN2022_FORCES, force_relaxed_layout, layout_features, pca_layout, umap_layout
from atomscope.motifs.patches import extract_patches, lattice_vectors, normalise_image, repeat_length
from atomscope.motifs.zernike import mirror_symmetry, rotational_symmetry, zernike_basis, zernike_indices, zernike_moments, zernike_reconstruct

__all__ = [
    "DAN2022_FORCES",
    "analyse_motifs",
    "class_averages",
    "cell_indices",
    "class_distances",
    "extract_patches",
    "feature_divergence",
    "frame_hierarchies",
    "force_relaxed_layout",
    "knn_graph",
    "lattice_vectors",
    "layout_features",
    "level_entropy",
    "mirror_symmetry",
    "motif_cell_hierarchy",
    "motif_labels",
    "normalise_image",
    "patch_size_px",
    "pca_layout",
    "repeat_length",
    "rotational_symmetry",
    "umap_layout",
    "zernike_basis",
    "zernike_indices",
    "zernike_moments",
    "zernike_reconstruct",
]
