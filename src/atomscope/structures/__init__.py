"""Atomic models of 2D materials for image simulation: atoms, polygon centres and column labels.

Amorphous carbon (:mod:`.amorphous`), crystalline graphene and 2H TMD layers (:mod:`.crystals`),
their defects (:mod:`.defects`), stacked layers and contamination (:mod:`.stacking`),
relaxation (:mod:`.relax`), frozen phonons (:mod:`.vibrations`), and the shared sites table
with its monolayer label and extxyz export (:mod:`.sites`).
"""

from atomscope._shared.seeding import stage_rng
from atomscope.structures._sheet import Sheet, sheet_sites
from atomscope.structures.amorphous import amorphous_carbon, poisson_disk
from atomscope.structures.crystals import graphene_sheet, tmd_layer, tmd_sites
from atomscope.structures.defects import graphene_bicrystal, graphene_defects, tmd_defects
from atomscope.structures.relax import relax_sheet
from atomscope.structures.materials import MATERIALS, build_shard
from atomscope.structures.sites import label_monolayer, label_sites, monolayer_map, sites_to_atoms, to_extxyz
from atomscope.structures.stacking import coincidence_cell, contamination, second_layer
from atomscope.structures.vibrations import frozen_phonons

__all__ = [
    "MATERIALS",
    "build_shard",
    "Sheet",
    "amorphous_carbon",
    "coincidence_cell",
    "contamination",
    "frozen_phonons",
    "graphene_bicrystal",
    "graphene_defects",
    "graphene_sheet",
    "label_monolayer",
    "label_sites",
    "monolayer_map",
    "poisson_disk",
    "relax_sheet",
    "second_layer",
    "sheet_sites",
    "stage_rng",
    "sites_to_atoms",
    "tmd_defects",
    "tmd_layer",
    "tmd_sites",
    "to_extxyz",
]
