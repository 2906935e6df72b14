"""Bonds, bond angles and rings from atoms and polygon centres by Delaunay triangulation.

Leist et al. (2022) triangulate the detected atoms together with the detected polygon
centres: a centre inside each polygon stops atoms bonding across it, bonds are the atom-atom
edges of physical length, and the ring size of a centre is the number of atoms it is joined to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import Delaunay, QhullError

from atomscope._shared.validation import check_positive
from atomscope.io import DETECTED_KINDS

__all__ = ["Network", "triangulate"]



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
        One row per centre: ``centre`` (row), ``size`` (number of atoms joined to it),
        ``area`` [Å²] of the polygon of its ``members`` (atom rows, counter-clockwise) and
        ``complete`` (False for rings at the border, which statistics skip).
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
) -> Network:
    """Triangulate atoms and polygon centres of one frame into bonds, angles and rings.

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

    Returns
    -------
    Network
        Bonds, angles and rings; see :class:`Network`.

    Notes
    -----
    When the sites include polygon centres, an atom-atom edge is a bond only if it borders
    a complete ring: one of its two Delaunay triangles has the centre of a complete ring as
    third vertex. Every C-C bond borders two rings, or one at a pore edge; edges across
    pores (no centre there) and chords of rings cut by the edge of the field of view are no
    bonds, nor are the few true bonds at that edge that border only cut rings. Without
    centres, every edge in range is a bond.

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
    """
    sites = check_sites(sites)
    min_bond = check_positive(min_bond, "min_bond", allow_zero=True)
    max_bond = check_positive(max_bond, "max_bond")
    if min_bond >= max_bond:
        raise ValueError(f"`min_bond` ({min_bond} Å) must be smaller than `max_bond` ({max_bond} Å)")
    xy = sites[["x", "y"]].to_numpy(dtype=float)
    region = check_region(region, xy)
    is_atom = (sites["kind"] == "atom").to_numpy()
    tri = _delaunay(xy)
    owner, other = _half_edges(tri)
    on_hull = np.zeros(len(xy), dtype=bool)
    on_hull[tri.convex_hull.ravel()] = True
    bonds = _bonds(xy, is_atom, owner, other, min_bond, max_bond)
    rings = _rings(xy, is_atom, owner, other, on_hull, region)
    if not is_atom.all():
        complete = rings.loc[rings["complete"], "centre"].to_numpy()
        bonds = bonds[_borders_ring(tri, complete, bonds, len(xy))].reset_index(drop=True)
    return Network(bonds=bonds, angles=_angles(xy, bonds), rings=rings)


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


def _delaunay(xy: np.ndarray) -> Delaunay:
    try:
        return Delaunay(xy)
    except QhullError as err:
        raise ValueError(f"`sites` cannot be triangulated (all on one line?): {err}") from err


def _half_edges(tri: Delaunay) -> tuple[np.ndarray, np.ndarray]:
    """Every Delaunay edge in both directions as (owner, other) vertex arrays, owner sorted."""
    indptr, other = tri.vertex_neighbor_vertices
    owner = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    return owner, other.astype(np.int64)


def _cyclic_next(groups: np.ndarray) -> np.ndarray:
    """Index of the next element in the same run of sorted ``groups``, wrapping to the run's first."""
    n = len(groups)
    is_last = np.append(groups[1:] != groups[:-1], True)
    starts = np.flatnonzero(np.insert(is_last[:-1], 0, True))
    first = np.repeat(starts, np.diff(np.append(starts, n)))
    return np.where(is_last, first, np.arange(1, n + 1))


def _sort_by_azimuth(xy: np.ndarray, owner: np.ndarray, other: np.ndarray):
    """Order half-edges by owner, then by the azimuth of ``other`` seen from the owner."""
    d = xy[other] - xy[owner]
    order = np.lexsort((np.arctan2(d[:, 1], d[:, 0]), owner))
    return owner[order], other[order], d[order]


def _bonds(xy, is_atom, owner, other, min_bond, max_bond) -> pd.DataFrame:
    keep = (owner < other) & is_atom[owner] & is_atom[other]
    i, j = owner[keep], other[keep]
    length = np.hypot(*(xy[j] - xy[i]).T)
    keep = (length >= min_bond) & (length <= max_bond)
    return pd.DataFrame({"i": i[keep], "j": j[keep], "length": length[keep]})


def _borders_ring(tri: Delaunay, centres: np.ndarray, bonds: pd.DataFrame, n: int) -> np.ndarray:
    """Mask of the bonds that are an edge of a Delaunay triangle with one of ``centres``."""
    # int64: scipy's int32 simplices made i * n + j overflow above ~46,000 sites, and bonds vanished
    simplices = tri.simplices[np.isin(tri.simplices, centres).any(axis=1)].astype(np.int64)
    pairs = np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    pairs.sort(axis=1)
    return np.isin(bonds["i"].to_numpy() * n + bonds["j"].to_numpy(), pairs[:, 0] * n + pairs[:, 1])


def _angles(xy: np.ndarray, bonds: pd.DataFrame) -> pd.DataFrame:
    i, j = bonds["i"].to_numpy(), bonds["j"].to_numpy()
    vertex, other, d = _sort_by_azimuth(xy, np.concatenate([i, j]), np.concatenate([j, i]))
    nxt = _cyclic_next(vertex)
    azimuth = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    angle = (azimuth[nxt] - azimuth) % 360.0
    keep = (nxt != np.arange(len(nxt))) & (angle < 180.0)
    return pd.DataFrame({"vertex": vertex[keep], "i": other[keep], "j": other[nxt][keep], "angle": angle[keep]})


def _rings(xy, is_atom, owner, other, on_hull, region) -> pd.DataFrame:
    n = len(xy)
    centres = np.flatnonzero(~is_atom)
    keep = ~is_atom[owner] & is_atom[other]
    centre, member, d = _sort_by_azimuth(xy, owner[keep], other[keep])
    nxt = _cyclic_next(centre)
    twice_area = d[:, 0] * d[nxt, 1] - d[:, 1] * d[nxt, 0]
    size = np.bincount(centre, minlength=n)[centres]
    radius = np.zeros(n)
    np.maximum.at(radius, centre, np.hypot(d[:, 0], d[:, 1]))
    border = on_hull[centres] | (np.bincount(centre, weights=on_hull[member], minlength=n)[centres] > 0)
    cut = _distance_to_edge(xy[centres], region) < radius[centres]
    azimuth = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    gap = np.where(nxt == np.arange(len(nxt)), 360.0, (azimuth[nxt] - azimuth) % 360.0)
    widest = np.zeros(n)
    np.maximum.at(widest, centre, gap)
    open_ = widest[centres] >= _MAX_RING_GAP
    return pd.DataFrame(
        {
            "centre": centres,
            "size": size,
            "area": 0.5 * np.bincount(centre, weights=twice_area, minlength=n)[centres],
            "members": [m.tolist() for m in np.split(member, np.cumsum(size))[:-1]],
            "complete": (size >= 3) & ~(border | cut | open_),
        }
    )


#: Widest angle [deg] between azimuthally consecutive members of a closed ring, seen from its
#: centre. In amorphous-carbon models (radius_spread 0.2) 3- to 8-rings stay below 110 deg; the
#: centre of a ring cut open by the edge of the detections sees a gap of 180 deg or more.
_MAX_RING_GAP = 150.0


def _distance_to_edge(xy: np.ndarray, region: tuple[float, float, float, float]) -> np.ndarray:
    """Distance [Å] from each point to the nearest edge of ``region``; negative outside."""
    xmin, xmax, ymin, ymax = region
    x, y = xy[:, 0], xy[:, 1]
    return np.minimum.reduce([x - xmin, xmax - x, y - ymin, ymax - y])
