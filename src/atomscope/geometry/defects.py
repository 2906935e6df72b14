"""Defects by name, read from the ring graph (ring patterns) and the species of the sites."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from atomscope.geometry.adjacency import ring_pairs

__all__ = ["DEFECT_PATTERNS", "find_defects"]

#: Clusters of bond-sharing non-hexagonal rings, by their sorted ring sizes, and their names
#: in graphene (Banhart, Kotakoski & Krasheninnikov, ACS Nano 5, 26 (2011)).
DEFECT_PATTERNS: dict[tuple[int, ...], str] = {
    (5, 5, 7, 7): "Stone-Wales",
    (5, 5, 8): "5-8-5",
    (5, 5, 5, 7, 7, 7): "555-777",
    (5, 9): "single vacancy (5-9)",
    (5, 7): "5-7 pair",
}

#: Name of a cluster of three or more 5- and 7-rings that is none of the patterns: a grain
#: boundary (a chain of 5-7 dislocation cores) or a dislocation array.
CHAIN = "5-7 chain"

_COLUMNS = ["defect", "x", "y", "sizes", "rings", "whole", "site", "species", "coordination"]


def find_defects(sites: pd.DataFrame, rings: pd.DataFrame, bonds: pd.DataFrame, *, pairs: np.ndarray | None = None) -> pd.DataFrame:
    """Named defects of one frame: ring patterns among the complete rings, and dopant sites.

    Parameters
    ----------
    sites : pandas.DataFrame
        The frame's sites (rows as indexed by ``rings`` and ``bonds``); with a ``species``
        column, atoms of any species but the most common one are dopants.
    rings, bonds : pandas.DataFrame
        As in :class:`~atomscope.geometry.Network`.
    pairs : ndarray, optional
        :func:`~atomscope.geometry.adjacency.ring_pairs` of ``rings``, if already computed.

    Returns
    -------
    pandas.DataFrame
        One row per defect: ``defect`` (a name of :data:`DEFECT_PATTERNS`, ``'5-7 chain'``,
        ``'other'`` or ``'dopant'``), ``x``, ``y`` [Å] (mean of its ring positions, or the
        dopant site), ``sizes`` (its ring sizes, e.g. '5-5-7-7'), ``rings`` (ring rows),
        ``whole`` (False when a ring of it borders a ring that is not complete, e.g. at the
        image edge, so the pattern may be cut), ``site``, ``species`` and ``coordination``
        (dopants: the site row, its species and bonds; -1, '' and -1 for ring defects).

    Notes
    -----
    A cluster is a connected set of complete rings other than hexagons, joined through
    shared bonds. Amorphous regions make one large cluster, named 'other'.
    """
    pairs = ring_pairs(rings) if pairs is None else pairs
    size = rings["size"].to_numpy()
    complete = rings["complete"].to_numpy(dtype=bool)
    both = np.concatenate([pairs, pairs[:, ::-1]])
    bordered = np.bincount(both[:, 0], minlength=len(size)) == size  # every bond shared with a complete ring
    odd = np.flatnonzero(complete & (size != 6))
    rows = _ring_defects(rings, odd, pairs, bordered)
    rows += _dopants(sites, bonds)
    return pd.DataFrame(rows, columns=_COLUMNS).astype({"site": np.int64, "coordination": np.int64, "whole": bool})


def _ring_defects(rings: pd.DataFrame, odd: np.ndarray, pairs: np.ndarray, bordered: np.ndarray) -> list[dict]:
    """One record per connected cluster of the non-hexagonal complete rings ``odd``."""
    if len(odd) == 0:
        return []
    index = np.full(len(rings), -1)
    index[odd] = np.arange(len(odd))
    linked = pairs[(index[pairs[:, 0]] >= 0) & (index[pairs[:, 1]] >= 0)]
    graph = sparse.coo_matrix((np.ones(len(linked)), (index[linked[:, 0]], index[linked[:, 1]])), shape=(len(odd), len(odd)))
    n_clusters, cluster = connected_components(graph, directed=False)
    size, xy = rings["size"].to_numpy(), rings[["x", "y"]].to_numpy()
    records = []
    for k in range(n_clusters):
        members = odd[cluster == k]
        sizes = tuple(sorted(int(s) for s in size[members]))
        records.append(
            {
                "defect": _name(sizes),
                "x": float(xy[members, 0].mean()),
                "y": float(xy[members, 1].mean()),
                "sizes": "-".join(map(str, sizes)),
                "rings": members.tolist(),
                "whole": bool(bordered[members].all()),
                "site": -1,
                "species": "",
                "coordination": -1,
            }
        )
    return records


def _name(sizes: tuple[int, ...]) -> str:
    if sizes in DEFECT_PATTERNS:
        return DEFECT_PATTERNS[sizes]
    if len(sizes) >= 3 and set(sizes) <= {5, 7}:
        return CHAIN
    return "other"


def _dopants(sites: pd.DataFrame, bonds: pd.DataFrame) -> list[dict]:
    """One record per atom whose species is not the frame's most common one."""
    if "species" not in sites.columns:
        return []
    atoms = sites[(sites["kind"] == "atom") & sites["species"].notna()]
    if atoms.empty:
        return []
    host = atoms["species"].value_counts().index[0]
    degree = np.bincount(bonds[["i", "j"]].to_numpy().ravel(), minlength=len(sites))
    return [
        {
            "defect": "dopant",
            "x": float(row.x),
            "y": float(row.y),
            "sizes": "",
            "rings": [],
            "whole": True,
            "site": int(index),
            "species": str(row.species),
            "coordination": int(degree[index]),
        }
        for index, row in atoms[atoms["species"] != host].iterrows()
    ]
