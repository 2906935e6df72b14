"""Target channels: their names, and which sites of a sites table each one marks.

- ``atoms``: every atom (kind "atom") of the specimen, not of surface contamination (its
  hydrocarbon is amorphous and 3D: no resolved columns to find); ``centres``: every polygon
  centre (kind "centre");
- ``monolayer``: the mask where exactly one layer covers the pixel (Leist et al. 2022);
- ``species:<class>``: the sites whose ``species_class`` is <class>, e.g. ``species:Mo``,
  ``species:S2``, ``species:S`` or ``species:vacancy`` in a TMD (Larsen et al.).

Simulation renders these channels as targets, training scores them, inference decodes them
into sites: all three read the names here.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from atomscope.io import DETECTED_KINDS

__all__ = ["KIND_CHANNELS", "MONOLAYER", "SPECIES_PREFIX", "channel_sites", "target_names"]

#: Prefix of the species-class channels.
SPECIES_PREFIX = "species:"
#: Site kind marked by each kind channel (the channels every model has).
KIND_CHANNELS = dict(zip(("atoms", "centres"), DETECTED_KINDS))
#: Species class of surface contamination atoms, which no peak channel marks as atoms.
CONTAMINATION = "contamination"
#: The channel of the monolayer mask.
MONOLAYER = "monolayer"


def target_names(*, monolayer: bool = False, species: Sequence[str] = ()) -> list[str]:
    """The target channels, in order: atoms, centres, then monolayer and species classes if asked.

    Parameters
    ----------
    monolayer : bool, optional
        Add the monolayer mask channel (default False).
    species : sequence of str, optional
        Species classes (values of the sites' ``species_class``) that get a channel each,
        e.g. ("Mo", "S2", "S"); order kept, duplicates rejected.
    """
    species = list(species)
    if len(set(species)) != len(species) or not all(isinstance(s, str) and s for s in species):
        raise ValueError(f"`species` must be distinct non-empty class names, got {species!r}")
    return [*KIND_CHANNELS, *([MONOLAYER] if monolayer else []), *(SPECIES_PREFIX + s for s in species)]


def channel_sites(sites: pd.DataFrame, name: str) -> pd.Series:
    """Which rows of ``sites`` a peak channel marks: by ``kind`` (atoms, centres) or ``species_class``."""
    if name in KIND_CHANNELS:
        marked = sites["kind"] == KIND_CHANNELS[name]
        if name == "atoms" and "species_class" in sites.columns:
            marked &= sites["species_class"] != CONTAMINATION
        return marked
    if name.startswith(SPECIES_PREFIX):
        return sites["species_class"] == name[len(SPECIES_PREFIX) :]
    raise ValueError(f"unknown peak target {name!r}: use atoms, centres or species:<class>")
