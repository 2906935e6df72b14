"""Half-edge helpers shared by the two ring methods: azimuthal order, cyclic neighbours, ring tables.

Written by hand because no well-kept library walks the faces of a straight-line planar
graph in vectorised form (networkx's PlanarEmbedding does it one Python dict at a time,
about 100x slower at 10^6 sites).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.spatial import cKDTree

#: Widest angle [deg] between azimuthally consecutive members of a closed ring, seen from its
#: centre. In amorphous-carbon models (radius_spread 0.2) 3- to 8-rings stay below 110 deg; the
#: centre of a ring cut open by the edge of the detections sees a gap of 180 deg or more.
MAX_RING_GAP = 150.0

def displacement(xy: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Offsets ``xy[j] - xy[i]`` (K, 2) [Å]; ``np.take`` gathers rows 3-4x faster than fancy indexing."""
    return np.take(xy, j, axis=0) - np.take(xy, i, axis=0)


def cyclic_next(groups: np.ndarray) -> np.ndarray:
    """Index of the next element in the same run of sorted ``groups``, wrapping to the run's first."""
    n = len(groups)
    is_last = np.append(groups[1:] != groups[:-1], True)
    starts = np.flatnonzero(np.insert(is_last[:-1], 0, True))
    first = np.repeat(starts, np.diff(np.append(starts, n)))
    return np.where(is_last, first, np.arange(1, n + 1))


def cyclic_prev(groups: np.ndarray) -> np.ndarray:
    """Index of the previous element in the same run of sorted ``groups``, wrapping to the run's last."""
    nxt = cyclic_next(groups)
    prev = np.empty_like(nxt)
    prev[nxt] = np.arange(len(nxt))
    return prev


def sort_by_azimuth(owner: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Order that sorts entries by ``owner``, then by the azimuth of the offsets ``d`` (N, 2) [Å]."""
    # one float key, owner + azimuth / 2 pi in [0, 1): a third of lexsort's time at 10^6 sites,
    # and float64 resolves azimuths to 1e-9 rad for owners up to 10^6
    turn = (np.arctan2(d[:, 1], d[:, 0]) + np.pi) / (2 * np.pi)
    return np.argsort(np.asarray(owner, dtype=float) + np.minimum(turn, 1 - 1e-12))


def members_column(values: np.ndarray, offsets: np.ndarray) -> pd.Series:
    """Ring members (one array of site rows per ring) from flat ``values`` and ``offsets`` (len rings + 1).

    The column holds numpy arrays, as pandas reads a Parquet list column back; Arrow builds
    it in one call, without a Python list per ring.
    """
    array = pa.LargeListArray.from_arrays(pa.array(np.asarray(offsets, dtype=np.int64), pa.int64()), pa.array(np.asarray(values, dtype=np.int64)))
    return pd.Series(array.to_pandas() if len(array) else [], dtype=object)


def flat_members(members: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Flat member rows and ring offsets (len rings + 1) of a members column (arrays or lists)."""
    array = pa.array(list(members), type=pa.large_list(pa.int64()))
    offsets = np.asarray(array.offsets, dtype=np.int64)
    return np.asarray(array.values, dtype=np.int64), offsets


def ring_table(
    xy: np.ndarray, ring: np.ndarray, member: np.ndarray, ref: np.ndarray, centre: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Rings from (ring, member) entries, members ordered counter-clockwise about each ring's reference point.

    Parameters
    ----------
    xy : ndarray (N, 2)
        Site positions [Å].
    ring, member : ndarray of int
        One entry per (ring, member site); rings numbered 0..R-1, every ring with one entry at least.
    ref : ndarray (R, 2)
        Reference point of each ring [Å]: its centre site, or the centroid of its members.
    centre : ndarray of int (R,)
        Row of each ring's centre site (-1 for rings found as faces).

    Returns
    -------
    rings : pandas.DataFrame
        ``centre``, ``x``, ``y`` [Å], ``size``, ``area`` [Å²] and ``members``.
    radius : ndarray (R,)
        Distance [Å] from each reference point to its farthest member.
    widest : ndarray (R,)
        Widest azimuthal gap [deg] between consecutive members, seen from the reference point.
    longest : ndarray (R,)
        Longest side [Å]: distance between consecutive members.
    """
    n_rings = len(ref)
    d = np.take(xy, member, axis=0) - np.take(ref, ring, axis=0)
    order = sort_by_azimuth(ring, d)
    ring, member, d = ring[order], member[order], np.take(d, order, axis=0)
    nxt = cyclic_next(ring)
    size = np.bincount(ring, minlength=n_rings)
    dx, dy = d[:, 0], d[:, 1]
    twice_area = dx * dy[nxt] - dy * dx[nxt]
    azimuth = np.degrees(np.arctan2(dy, dx))
    gap = np.where(nxt == np.arange(len(nxt)), 360.0, (azimuth[nxt] - azimuth) % 360.0)
    radius = _group_max(np.hypot(dx, dy), ring, n_rings)
    widest = _group_max(gap, ring, n_rings)
    longest = _group_max(np.hypot(*(np.take(d, nxt, axis=0) - d).T), ring, n_rings)
    rings = pd.DataFrame(
        {
            "centre": np.asarray(centre, dtype=np.int64),
            "x": ref[:, 0],
            "y": ref[:, 1],
            "size": size,
            "area": 0.5 * np.bincount(ring, weights=twice_area, minlength=n_rings),
            "members": members_column(member, np.concatenate([[0], np.cumsum(size)])),
        }
    )
    return rings, radius, widest, longest


def _group_max(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Largest of ``values`` per group of sorted ``group`` (0 for an empty group)."""
    out = np.zeros(n_groups)
    if len(values):
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        out[group[starts]] = np.maximum.reduceat(values, starts)
    return out


def first_shell(nearest: np.ndarray, length: np.ndarray, factor: float) -> float:
    """Upper edge [Å] of the first coordination shell: ``factor`` times the typical bond.

    ``nearest`` [Å] is each atom's nearest-neighbour distance, ``length`` [Å] the lengths of
    candidate bonds (e.g. its Delaunay edges). The typical bond is the median length of the
    candidates up to ``factor`` times the median nearest-neighbour distance (the nearest of three jittered bonds is biased short: at
    0.1 Å of jitter it is 0.09 Å below the mean bond). 1.35 separates the honeycomb's first
    neighbours at d from its second at 1.73 d (a 5-ring's at 1.62 d, a 7-ring's at 1.80 d).
    """
    if len(nearest) == 0 or len(length) == 0:
        return 0.0
    typical_nearest = float(np.median(nearest))
    return factor * float(np.median(length[length <= factor * typical_nearest]))


#: Two detections closer than this fraction of a bond are one atom found twice (a noisy heat
#: map split into two peaks): no two atoms of a projected monolayer are closer than about one
#: bond (graphene 1.42 Å, a TMD's metal to chalcogen columns 1.84 Å), and 0.6 leaves room for
#: 0.2 Å of position error on each.
TWICE_DETECTED = 0.6


def detected_twice(xy: np.ndarray, i: np.ndarray, j: np.ndarray, length: np.ndarray, bond: float) -> np.ndarray:
    """Mask (one per row of ``xy``, atoms [Å]) of the second detections of atoms found twice.

    Of the pairs ``i``-``j`` (rows of ``xy``, ``length`` [Å] apart), those closer than
    :data:`TWICE_DETECTED` times the typical ``bond`` and than :data:`TWICE_DETECTED` times the
    next-nearest neighbour distance of one member at least (a pair of true atoms among farther
    neighbours, where the typical bond misleads, has its next-nearest neighbours at a bond
    too); of each, the later row.
    """
    twice = np.zeros(len(xy), dtype=bool)
    close = np.flatnonzero(length < TWICE_DETECTED * bond)
    if len(close) == 0:
        return twice
    i, j, length = i[close], j[close], length[close]
    rows = np.unique(np.concatenate([i, j]))
    k = min(3, len(xy))  # itself, its nearest and its next-nearest neighbour
    next_nearest = np.full(len(xy), np.inf)
    next_nearest[rows] = cKDTree(xy).query(xy[rows], k=k)[0][:, k - 1]
    same = length < TWICE_DETECTED * np.maximum(next_nearest[i], next_nearest[j])
    twice[np.maximum(i[same], j[same])] = True
    return twice


def distance_to_edge(xy: np.ndarray, region: tuple[float, float, float, float]) -> np.ndarray:
    """Distance [Å] from each point to the nearest edge of ``region``; negative outside."""
    xmin, xmax, ymin, ymax = region
    x, y = xy[:, 0], xy[:, 1]
    return np.minimum.reduce([x - xmin, xmax - x, y - ymin, ymax - y])


def pair_codes(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """One int64 code per unordered pair of rows below ``n`` (int64: int32 overflows above ~46,000 sites)."""
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    return np.minimum(i, j) * n + np.maximum(i, j)
