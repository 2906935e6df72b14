"""Inference: read micrographs, run a network tile by tile, find sub-pixel peaks in its maps."""

from __future__ import annotations

from atomscope.inference.peaks import find_peaks
from atomscope.inference.readers import SUPPORTED_EXTENSIONS, Micrograph, read_micrograph
from atomscope.inference.tiling import predict_tiled

__all__ = ["Micrograph", "SUPPORTED_EXTENSIONS", "read_micrograph", "predict_tiled", "find_peaks"]
