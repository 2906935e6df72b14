"""The true sites of a simulated image: a periodic model's label sites where they appear in its grid."""

from __future__ import annotations

import pandas as pd

from atomscope.io import ImageGrid
from atomscope.structures import label_sites

__all__ = ["periodic_sites", "projected_columns", "sites_in_view"]


def periodic_sites(sites: pd.DataFrame, cell: tuple[float, float]) -> pd.DataFrame:
    """Label sites (configuration 0) of a periodic model and their copies in the eight neighbouring cells.

    ``cell`` is (Lx, Ly) [Å]; the copies are shifted by whole cells in x and y.
    """
    labels = label_sites(sites)
    return pd.concat(
        [labels.assign(x=labels["x"] + i * cell[0], y=labels["y"] + j * cell[1]) for i in (-1, 0, 1) for j in (-1, 0, 1)],
        ignore_index=True,
    )


def sites_in_view(sites: pd.DataFrame, cell: tuple[float, float], grid: ImageGrid) -> pd.DataFrame:
    """Sites of a periodic model that fall inside the image ``grid``.

    The image is the top-left corner of the cell, on the grid's pixel-centre convention;
    periodic copies of sites are included where they appear in view. Only the equilibrium
    rows (configuration 0) are labels; frozen-phonon copies are dropped.
    """
    every = periodic_sites(sites, cell)
    return every[grid.contains(every["x"], every["y"])].reset_index(drop=True)


#: Sites of one kind closer than this in x and y [Å] are one projected column.
COLUMN_TOLERANCE = 1e-3


def projected_columns(sites: pd.DataFrame) -> pd.DataFrame:
    """One row per projected column: sites of one kind at the same (x, y) (within
    :data:`COLUMN_TOLERANCE`) collapse to the first, e.g. the two S atoms above and below a
    MoS2 layer's S2 column, which a micrograph shows, and a detector finds, as one site."""
    key = pd.DataFrame({"kind": sites["kind"].to_numpy(), "x": (sites["x"] / COLUMN_TOLERANCE).round().to_numpy(), "y": (sites["y"] / COLUMN_TOLERANCE).round().to_numpy()})
    return sites[~key.duplicated().to_numpy()].reset_index(drop=True)
