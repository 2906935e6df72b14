"""File contracts: one writer and one reader per kind of file, and the image grid.

Parquet tables and HDF5 arrays (:mod:`.files`), the model file (:mod:`.model`), the sample
sheet (:mod:`.samples`), the pixel grid every stage shares (:mod:`.grid`) and position lists
exchanged with other tools (:mod:`.positions`). The lowest
layer of atomscope: it imports no other stage.
"""

from atomscope.io.files import (
    DETECTED_KINDS,
    SITE_KINDS,
    atomic_path,
    read_arrays,
    read_table,
    read_table_meta,
    write_arrays,
    write_csv,
    write_micrograph_tiff,
    write_table,
)
from atomscope.io.grid import ImageGrid, rescale_to_sampling
from atomscope.io.positions import POSITION_FORMATS, read_positions, write_extxyz
from atomscope.io.model import HEAD_KINDS, MODEL_FORMAT, Head, HeadClass, InputChannel, ModelSpec, Recipe, config_hash, read_model, write_model
from atomscope.io.samples import (
    ATOMIC_PIXEL_SIZES,
    SAMPLE_SHEET_OPTIONAL,
    SAMPLE_SHEET_REQUIRED,
    check_pixel_size,
    parse_elements,
    parse_pixel_size,
    read_sample_sheet,
)

__all__ = [
    "ATOMIC_PIXEL_SIZES",
    "DETECTED_KINDS",
    "HEAD_KINDS",
    "MODEL_FORMAT",
    "POSITION_FORMATS",
    "SAMPLE_SHEET_OPTIONAL",
    "SAMPLE_SHEET_REQUIRED",
    "SITE_KINDS",
    "Head",
    "HeadClass",
    "ImageGrid",
    "InputChannel",
    "ModelSpec",
    "Recipe",
    "atomic_path",
    "check_pixel_size",
    "config_hash",
    "parse_elements",
    "parse_pixel_size",
    "read_arrays",
    "read_model",
    "read_positions",
    "read_sample_sheet",
    "read_table",
    "read_table_meta",
    "rescale_to_sampling",
    "write_arrays",
    "write_csv",
    "write_extxyz",
    "write_micrograph_tiff",
    "write_model",
    "write_table",
]
