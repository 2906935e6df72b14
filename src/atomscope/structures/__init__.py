"""Atomic models of 2D materials for image simulation: atoms plus polygon centres."""

from atomscope.structures.amorphous import amorphous_carbon, poisson_disk
from atomscope.structures.sites import label_monolayer, label_sites, monolayer_map, sites_to_atoms, to_extxyz

__all__ = [
    "amorphous_carbon",
    "label_monolayer",
    "label_sites",
    "monolayer_map",
    "poisson_disk",
    "sites_to_atoms",
    "to_extxyz",
]
