"""Inference: read micrographs, run a network tile by tile, find sub-pixel peaks in its maps."""

from __future__ import annotations

from atomscope.inference.drift import correct_drift, drift_table, frame_drift
from atomscope.inference.predict import MIN_SIDE_PX, allowed_classes, analyse_micrograph, check_micrograph, class_channels, lattice_evidence, map_names, maps_attrs, monolayer_mask, recorded_monolayer
from atomscope.inference.readers import SUPPORTED_EXTENSIONS, Micrograph, read_focal_series, read_micrograph
from atomscope.inference.tiling import predict_tiled

__all__ = [
    "correct_drift",
    "drift_table",
    "frame_drift",
    "MIN_SIDE_PX",
    "allowed_classes",
    "analyse_micrograph",
    "check_micrograph",
    "class_channels",
    "lattice_evidence",
    "map_names",
    "maps_attrs",
    "monolayer_mask",
    "recorded_monolayer",
    "Micrograph",
    "SUPPORTED_EXTENSIONS",
    "read_focal_series",
    "read_micrograph",
    "predict_tiled",
]
