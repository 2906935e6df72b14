"""Bonds, angles and rings by Delaunay triangulation of atoms and polygon centres, and their statistics."""

from atomscope.geometry.statistics import adjacent_ring_pairs, analyse_frames, rings_away_from, pair_distribution, ring_size_fractions, summarise
from atomscope.geometry.triangulate import Network, triangulate

__all__ = ["adjacent_ring_pairs", "rings_away_from", "Network", "triangulate", "pair_distribution", "ring_size_fractions", "summarise", "analyse_frames"]
