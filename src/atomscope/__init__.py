"""atomscope: atoms, bonds, rings and motifs from atomic-resolution micrographs of 2D materials."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("atomscope")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["__version__"]
