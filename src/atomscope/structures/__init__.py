"""Atomic models of 2D materials for image simulation: atoms plus polygon centres."""

from atomscope.structures.amorphous import amorphous_carbon, poisson_disk, sites_to_atoms

__all__ = ["amorphous_carbon", "poisson_disk", "sites_to_atoms"]
