"""Bonds, bond angles and rings of one frame of detected sites, by Delaunay triangulation.

Two ring methods. With polygon centres (Leist et al. 2022), the atoms are triangulated
together with the centres: a centre inside each polygon stops atoms bonding across it,
bonds are the atom-atom edges of physical length, and the ring size of a centre is the
number of atoms it is joined to. Without centres, the rings are the faces of the planar
bond graph of the atoms (:mod:`atomscope.geometry.faces`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import Delaunay, QhullError, cKDTree

from atomscope._shared.validation import check_positive
from atomscope.geometry._graph import MAX_RING_GAP, cyclic_next, detected_twice, displacement, distance_to_edge, first_shell, flat_members, members_column, pair_codes, ring_table, sort_by_azimuth
from atomscope.geometry.faces import face_bonds, face_rings
from atomscope.io import DETECTED_KINDS

__all__ = ["Network", "RING_METHODS", "triangulate"]

#: How rings are found: from polygon centres, as faces of the bond graph, or 'auto' (centres
#: when the frame has any, else faces).
RING_METHODS = ("auto", "centres", "faces")


@dataclass(frozen=True)
class Network:
    """Bonds, bond angles and rings of one frame; indices are row positions in its sites.

    Attributes
    ----------
    bonds : pandas.DataFrame
        One row per bond: ``i`` < ``j`` (atom rows) and ``length`` [Å].
    angles : pandas.DataFrame
        One row per angle below 180 deg between azimuthally consecutive bonds of an atom:
        ``vertex`` (atom row), ``i`` and ``j`` (the bonded atoms, ``j`` counter-clockwise
        from ``i``) and ``angle`` [deg].
    rings : pandas.DataFrame
        One row per ring: ``centre`` (row of its centre site; -1 for rings found as faces),
        ``x``, ``y`` [Å] (the centre, or the centroid of the members), ``size`` (number of
        atoms), ``area`` [Å²] of the polygon of its ``members`` (atom rows, counter-clockwise)
        and ``complete`` (False for rings cut by an edge, pores and open rings, which
        statistics skip).
    """

    bonds: pd.DataFrame
    angles: pd.DataFrame
    rings: pd.DataFrame


def triangulate(
    sites: pd.DataFrame,
    *,
    min_bond: float = 0.5,
    max_bond: float = 3.0,
    region: tuple[float, float, float, float] | None = None,
    rings: str = "auto",
    bond_factor: float = 1.35,
    max_coordination: int = 5,
    max_ring_size: int = 12,
) -> Network:
    """Triangulate atoms (and polygon centres) of one frame into bonds, angles and rings.

    Parameters
    ----------
    sites : pandas.DataFrame
        Columns ``x``, ``y`` [Å] and ``kind`` ('atom' or 'centre'); an optional ``frame``
        column must hold a single value. Row positions (after ``reset_index(drop=True)``)
        are the indices in the output.
    min_bond, max_bond : float
        Atom-atom edges are bonds when ``min_bond <= length <= max_bond`` [Å]
        (default 0.5 and 3.0, Leist et al. 2022).
    region : tuple of float, optional
        Field of view ``(xmin, xmax, ymin, ymax)`` [Å] (default: bounding box of the sites).
        A ring is incomplete when the circle about its centre through its farthest member
        crosses the region's edge.
    rings : {'auto', 'centres', 'faces'}
        Ring method: from the polygon centres, as faces of the atoms' bond graph (centres
        ignored), or 'auto' (default): centres when the frame has any.
    bond_factor : float
        The first shell is ``bond_factor`` times the median nearest-neighbour distance of
        the atoms (default 1.35). Faces: bonds are no longer (nor than ``max_bond``).
        Centres: a ring whose consecutive members are farther apart is incomplete.
    max_coordination : int
        An atom with more neighbours in the first shell is a spurious detection (inside a
        ring it reaches most of the ring's atoms): it gets no bonds and is in no ring (default 5: carbon bonds to 4 at most; a false
        detection within 0.4 Å of a hexagon centre has all 6 ring atoms in reach). Of two
        atoms closer than 0.6 typical bonds (one atom found twice), the later row is spurious too.
    max_ring_size : int
        Faces only: larger faces (pores, holes) are incomplete rings (default 12).

    Returns
    -------
    Network
        Bonds, angles and rings; see :class:`Network`.

    Notes
    -----
    With polygon centres, an atom-atom edge is a bond only if it borders
    a complete ring: one of its two Delaunay triangles has the centre of a complete ring as
    third vertex. Every C-C bond borders two rings, or one at a pore edge; edges across
    pores (no centre there) and chords of rings cut by the edge of the field of view are no
    bonds, nor are the few true bonds at that edge that border only cut rings. With
    'centres' and no centre in the frame, every edge in range is a bond.

    A ring is also incomplete when its centre or any member lies on the convex hull of all
    sites, where Delaunay joins points that are no neighbours, when it has fewer than
    3 members, or when it is open: seen from its centre, two azimuthally consecutive members
    are 150 degrees or more apart (a ring cut by the edge of the detections, whatever
    ``region`` says).

    References
    ----------
    Leist, C. et al. Deep learning pipeline for statistical quantification of amorphous
    two-dimensional materials. ACS Nano 16, 20488-20496 (2022).

    Examples
    --------
    >>> import pandas as pd
    >>> sites = pd.DataFrame({"x": [0.0, 1.42, 0.71, 0.71], "y": [0.0, 0.0, 1.23, 0.41],
    ...                       "kind": ["atom", "atom", "atom", "centre"]})
    >>> triangulate(sites).rings[["centre", "size"]].values.tolist()
    [[3, 3]]
    >>> triangulate(sites, rings="faces").rings[["centre", "size"]].values.tolist()
    [[-1, 3]]
    """
    sites = check_sites(sites)
    min_bond = check_positive(min_bond, "min_bond", allow_zero=True)
    max_bond = check_positive(max_bond, "max_bond")
    if min_bond >= max_bond:
        raise ValueError(f"`min_bond` ({min_bond} Å) must be smaller than `max_bond` ({max_bond} Å)")
    if rings not in RING_METHODS:
        raise ValueError(f"`rings` must be one of {RING_METHODS}, got {rings!r}")
    xy = sites[["x", "y"]].to_numpy(dtype=float)
    region = check_region(region, xy)
    is_atom = (sites["kind"] == "atom").to_numpy()
    bond_factor = check_positive(bond_factor, "bond_factor")
    if rings == "centres" or (rings == "auto" and not is_atom.all()):
        spurious, shell = _spurious_atoms(xy, is_atom, bond_factor, int(max_coordination))
        kept = np.flatnonzero(~spurious)
        bonds, ring_rows = _centre_network(xy[kept], is_atom[kept], min_bond, max_bond, shell, region)
        return renumbered(Network(bonds=bonds, angles=angle_table(xy[kept], bonds), rings=ring_rows), kept)
    atoms = np.flatnonzero(is_atom)
    if len(atoms) < 3:
        raise ValueError(f"`sites` needs at least 3 atoms to find rings as faces, got {len(atoms)}")
    options = dict(min_bond=min_bond, max_bond=max_bond, bond_factor=bond_factor, max_coordination=int(max_coordination))
    i, j, twice = face_bonds(xy[atoms], *delaunay_edges(delaunay(xy[atoms])), **options)
    if twice.any():  # again without the second detections, which took Delaunay edges of the first
        atoms = atoms[~twice]
        i, j, _ = face_bonds(xy[atoms], *delaunay_edges(delaunay(xy[atoms])), **options)
    ring_rows, kept, half_edges = face_rings(xy, atoms[i], atoms[j], region=region, max_ring_size=int(max_ring_size))
    bonds = bond_table(xy, atoms[i[kept]], atoms[j[kept]])
    return Network(bonds=bonds, angles=consecutive_angles(xy, *half_edges), rings=ring_rows)


def check_sites(sites: pd.DataFrame, *, one_frame: bool = True) -> pd.DataFrame:
    """Check a sites table (columns, kinds, finite positions) and return it re-indexed 0..N-1."""
    if not isinstance(sites, pd.DataFrame):
        raise TypeError(f"`sites` must be a pandas DataFrame, got {type(sites).__name__}")
    missing = [c for c in ("x", "y", "kind") if c not in sites.columns]
    if missing:
        raise ValueError(f"`sites` lacks the columns {missing}; it has {list(sites.columns)}")
    if one_frame and "frame" in sites.columns and sites["frame"].nunique() > 1:
        frames = sorted(sites["frame"].unique().tolist())
        raise ValueError(f"`sites` holds the frames {frames}; pass one frame at a time")
    unknown = [kind for kind in sites["kind"].unique() if kind not in DETECTED_KINDS]
    if unknown:
        raise ValueError(f"`sites` column 'kind' must be one of {DETECTED_KINDS}, got {unknown}")
    if not np.isfinite(sites[["x", "y"]].to_numpy(dtype=float)).all():
        raise ValueError("`sites` columns 'x' and 'y' contain NaN or infinite values")
    if len(sites) < 3:
        raise ValueError(f"`sites` needs at least 3 sites to triangulate, got {len(sites)}")
    return sites.reset_index(drop=True)


def check_region(
    region: tuple[float, float, float, float] | None, xy: np.ndarray
) -> tuple[float, float, float, float]:
    """Return ``region`` (xmin, xmax, ymin, ymax) [Å] as floats, or the bounding box of ``xy``."""
    if region is None:
        (xmin, ymin), (xmax, ymax) = xy.min(axis=0), xy.max(axis=0)
        region = (xmin, xmax, ymin, ymax)
    values = np.asarray(region, dtype=float)
    if values.shape != (4,) or not np.isfinite(values).all():
        raise ValueError(f"`region` must be 4 finite numbers (xmin, xmax, ymin, ymax) [Å], got {region!r}")
    xmin, xmax, ymin, ymax = values.tolist()
    if xmin >= xmax or ymin >= ymax:
        raise ValueError(f"`region` must have xmin < xmax and ymin < ymax, got {region!r}")
    return xmin, xmax, ymin, ymax


def _spurious_atoms(xy: np.ndarray, is_atom: np.ndarray, factor: float, max_coordination: int) -> tuple[np.ndarray, float]:
    """The mask of spurious detections and the first shell's edge [Å] among the atoms
    (:func:`first_shell`); one KD-tree. Spurious are the atoms with more than ``max_coordination``
    other atoms within the shell, and the second detections of atoms found twice (:func:`detected_twice`)."""
    crowded = np.zeros(len(xy), dtype=bool)
    atoms = np.flatnonzero(is_atom)
    k = min(4, len(atoms))
    if k < 2:
        return crowded, np.inf
    tree = cKDTree(xy[atoms], balanced_tree=False, compact_nodes=False)  # 3x faster to build, as fast to query here
    # the shell from the three nearest neighbours of up to 5,000 atoms (a fixed seed): its median is as good
    probe = np.random.default_rng(0).choice(len(atoms), size=min(len(atoms), 5000), replace=False)
    distance, _ = tree.query(xy[atoms[probe]], k=k)
    cutoff = first_shell(distance[:, 1], distance[:, 1:].ravel(), factor)
    pairs = tree.query_pairs(cutoff, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    crowded[atoms] = np.bincount(pairs.ravel(), minlength=len(atoms)) > max_coordination
    crowded[atoms] |= detected_twice(xy[atoms], i, j, np.hypot(*displacement(xy, atoms[i], atoms[j]).T), cutoff / factor)
    return crowded, cutoff


def renumbered(network: Network, kept: np.ndarray) -> Network:
    """``network`` of the sites ``kept`` (rows of a larger table) with its row positions turned into rows of that table."""
    if np.array_equal(kept, np.arange(len(kept))):
        return network
    bonds = network.bonds.assign(i=kept[network.bonds["i"].to_numpy()], j=kept[network.bonds["j"].to_numpy()])
    angles = network.angles.assign(**{k: kept[network.angles[k].to_numpy()] for k in ("vertex", "i", "j")})
    centre = network.rings["centre"].to_numpy()
    values, offsets = flat_members(network.rings["members"])
    rings = network.rings.assign(centre=np.where(centre >= 0, kept[np.maximum(centre, 0)], -1), members=members_column(kept[values], offsets).to_numpy())
    return Network(bonds=bonds, angles=angles, rings=rings)


def delaunay(xy: np.ndarray) -> Delaunay:
    """scipy's Delaunay triangulation of ``xy`` [Å], with a clear error for degenerate input."""
    try:
        return Delaunay(xy)
    except QhullError as err:
        raise ValueError(f"`sites` cannot be triangulated (all on one line?): {err}") from err


def delaunay_edges(tri: Delaunay) -> tuple[np.ndarray, np.ndarray]:
    """Every Delaunay edge once, as vertex arrays (i, j).

    The side opposite vertex k of a triangle is taken from the triangle with the lower index
    of the two that share it (or the only one, on the hull): no sort, 4x faster than scipy's
    ``vertex_neighbor_vertices``.
    """
    simplices, neighbours = tri.simplices, tri.neighbors
    once = (neighbours < 0) | (np.arange(len(simplices))[:, None] < neighbours)
    i = np.concatenate([simplices[once[:, k], (k + 1) % 3] for k in range(3)])
    j = np.concatenate([simplices[once[:, k], (k + 2) % 3] for k in range(3)])
    return i.astype(np.int64), j.astype(np.int64)


def bond_table(xy: np.ndarray, i: np.ndarray, j: np.ndarray) -> pd.DataFrame:
    """Bonds ``i`` < ``j`` (site rows) with their ``length`` [Å]."""
    i, j = np.minimum(i, j), np.maximum(i, j)
    return pd.DataFrame({"i": i, "j": j, "length": np.hypot(*displacement(xy, i, j).T)})


def _centre_network(xy, is_atom, min_bond, max_bond, shell, region) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bonds and rings of atoms and polygon centres by one Delaunay triangulation (Leist et al.)."""
    tri = delaunay(xy)
    a, b = delaunay_edges(tri)
    on_hull = np.zeros(len(xy), dtype=bool)
    on_hull[tri.convex_hull.ravel()] = True
    keep = is_atom[a] & is_atom[b]
    i, j = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    length = np.hypot(*displacement(xy, i, j).T)
    keep = (length >= min_bond) & (length <= max_bond)
    i, j, length = i[keep], j[keep], length[keep]
    spoke = is_atom[a] != is_atom[b]  # centre-atom edges
    centre, atom = np.where(is_atom[a], b, a)[spoke], np.where(is_atom[a], a, b)[spoke]
    rings = _centre_rings(xy, is_atom, centre, atom, on_hull, region, shell)
    if not is_atom.all():
        complete = np.zeros(len(xy), dtype=bool)
        complete[rings["centre"].to_numpy()[rings["complete"].to_numpy()]] = True
        keep = _borders_ring(tri, complete, is_atom, i, j, len(xy))
        i, j, length = i[keep], j[keep], length[keep]
    return pd.DataFrame({"i": i, "j": j, "length": length}), rings


def _centre_rings(xy, is_atom, centre, atom, on_hull, region, max_side) -> pd.DataFrame:
    """One ring per centre: its Delaunay atom neighbours (the ``centre``-``atom`` edges), counter-clockwise, and its completeness.

    A ring is complete only when consecutive members are no farther apart than ``max_side``
    [Å] (the first shell): a missed atom leaves a 2.46 Å gap in graphene, not a 5-ring.
    """
    centres = np.flatnonzero(~is_atom)
    rank = np.cumsum(~is_atom) - 1  # ring number of each centre row
    rings, radius, widest, longest = ring_table(xy, rank[centre], atom, xy[centres], centres)
    on_hull_member = np.bincount(rank[centre], weights=on_hull[atom], minlength=len(centres)) > 0
    border = on_hull[centres] | on_hull_member
    cut = distance_to_edge(xy[centres], region) < radius
    rings["complete"] = (rings["size"].to_numpy() >= 3) & ~(border | cut | (widest >= MAX_RING_GAP) | (longest > max_side))
    return rings


def _borders_ring(tri: Delaunay, complete: np.ndarray, is_atom: np.ndarray, i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Mask of the bonds ``i``-``j`` that are the side opposite a complete ring's centre in a Delaunay triangle."""
    simplices = tri.simplices.astype(np.int64)
    codes = []
    for k in range(3):  # the side opposite vertex k of every triangle whose vertex k is a complete centre
        a, b = simplices[:, (k + 1) % 3], simplices[:, (k + 2) % 3]
        side = complete[simplices[:, k]] & is_atom[a] & is_atom[b]
        codes.append(pair_codes(a[side], b[side], n))
    bordered = np.sort(np.concatenate(codes))  # duplicates do no harm to searchsorted
    code = pair_codes(i, j, n)
    at = np.minimum(np.searchsorted(bordered, code), max(len(bordered) - 1, 0))
    return (bordered[at] == code) if len(bordered) else np.zeros(len(code), dtype=bool)


def angle_table(xy: np.ndarray, bonds: pd.DataFrame) -> pd.DataFrame:
    """Angles below 180 deg between azimuthally consecutive bonds of each atom, see :class:`Network`."""
    i, j = bonds["i"].to_numpy(), bonds["j"].to_numpy()
    owner, other = np.concatenate([i, j]), np.concatenate([j, i])
    order = sort_by_azimuth(owner, displacement(xy, owner, other))
    return consecutive_angles(xy, owner[order], other[order])


def consecutive_angles(xy: np.ndarray, vertex: np.ndarray, other: np.ndarray) -> pd.DataFrame:
    """:func:`angle_table` of the bonds' half-edges ``vertex`` -> ``other``, sorted by vertex, then azimuth."""
    d = displacement(xy, vertex, other)
    nxt = cyclic_next(vertex)
    azimuth = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    angle = (azimuth[nxt] - azimuth) % 360.0
    keep = (nxt != np.arange(len(nxt))) & (angle < 180.0)
    return pd.DataFrame({"vertex": vertex[keep], "i": other[keep], "j": other[nxt][keep], "angle": angle[keep]})
