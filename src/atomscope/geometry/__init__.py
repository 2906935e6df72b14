"""Bonds, angles and rings of detected sites (Delaunay with polygon centres, or faces of the bond graph), their statistics and named defects."""

from atomscope.geometry.adjacency import aboav_weaire, ring_adjacency, ring_pairs
from atomscope.geometry.defects import DEFECT_PATTERNS, find_defects
from atomscope.geometry.maps import local_maps
from atomscope.geometry.statistics import (
    FRAME_TABLES,
    adjacent_ring_pairs,
    analyse_frames,
    coordination,
    nearest_distances,
    pair_distribution,
    ring_size_fractions,
    rings_away_from,
    summarise,
)
from atomscope.geometry.triangulate import RING_METHODS, Network, triangulate

__all__ = [
    "DEFECT_PATTERNS",
    "FRAME_TABLES",
    "Network",
    "RING_METHODS",
    "aboav_weaire",
    "adjacent_ring_pairs",
    "analyse_frames",
    "coordination",
    "find_defects",
    "local_maps",
    "nearest_distances",
    "pair_distribution",
    "ring_adjacency",
    "ring_pairs",
    "ring_size_fractions",
    "rings_away_from",
    "summarise",
    "triangulate",
]
