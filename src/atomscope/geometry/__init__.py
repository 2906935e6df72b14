"""Bonds, angles and rings by Delaunay triangulation of atoms and polygon centres, and their statistics."""

from atomscope.geometry.statistics import analyse_frames, pair_distribution, ring_size_fractions, summarise
from atomscope.geometry.triangulate import Network, triangulate

__all__ = ["Network", "triangulate", "pair_distribution", "ring_size_fractions", "summarise", "analyse_frames"]
