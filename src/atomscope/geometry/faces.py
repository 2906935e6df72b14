"""Rings without polygon centres: the faces of the planar bond graph of the atoms.

For ADF-STEM of graphene, crystals such as TMDs and models without a centre head. The bonds
are the Delaunay edges of the atoms no longer than ``bond_factor`` times the median
nearest-neighbour distance (the first coordination shell: 1.35 separates the honeycomb's
first neighbours at d from its second at 1.73 d, a 5-ring's at 1.62 d). The bond graph is a
subgraph of a Delaunay triangulation, so it is planar with straight edges, and its faces are
the minimal cycles: walking each half-edge u -> v on to the bond of v that comes next
clockwise after v -> u keeps the face on the left, so bounded faces run counter-clockwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from atomscope.geometry._graph import MAX_RING_GAP, cyclic_prev, detected_twice, displacement, distance_to_edge, first_shell, ring_table, sort_by_azimuth

__all__ = ["face_bonds", "face_rings"]


def face_bonds(
    xy: np.ndarray, a: np.ndarray, b: np.ndarray, *, min_bond: float, max_bond: float, bond_factor: float, max_coordination: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bonds (i < j) among the Delaunay edges ``a``-``b`` (each once) of atoms ``xy`` [Å],
    and the mask of the second detections of atoms found twice.

    An edge is a bond when ``min_bond <= length <= min(max_bond, bond_factor * d_nn)`` [Å],
    with d_nn the median over atoms of the nearest Delaunay neighbour's distance. An atom
    with more than ``max_coordination`` such bonds (a spurious detection inside a ring, which
    reaches most of the ring's atoms) keeps none, so the ring stays one face. The second
    detection of an atom found twice (:func:`~atomscope.geometry._graph.detected_twice`) would
    close 3-rings with the first, and has taken some of its Delaunay edges: the caller
    triangulates again without it.
    """
    length = np.hypot(*displacement(xy, a, b).T)
    nearest = np.full(len(xy), np.inf)
    np.minimum.at(nearest, a, length)
    np.minimum.at(nearest, b, length)
    shell = first_shell(nearest[np.isfinite(nearest)], length, bond_factor)
    cutoff = min(max_bond, shell)
    keep = (length >= min_bond) & (length <= cutoff)
    i, j = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    degree = np.bincount(np.concatenate([i, j]), minlength=len(xy))
    crowded = degree > max_coordination
    keep = ~(crowded[i] | crowded[j])
    return i[keep], j[keep], detected_twice(xy, a, b, length, shell / bond_factor)


def face_rings(
    xy: np.ndarray, i: np.ndarray, j: np.ndarray, *, region: tuple[float, float, float, float], max_ring_size: int
) -> tuple[pd.DataFrame, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The bounded faces of the bond graph (bonds ``i``-``j`` between rows of ``xy`` [Å]) as rings.

    Returns the rings table of :class:`~atomscope.geometry.Network` with ``centre`` -1 and
    ``x``, ``y`` the centroid of the members, the mask of the bonds kept, and the kept bonds'
    half-edges (owner, other), sorted by owner, then azimuth (for the angles). A face is a
    complete ring when it has 3 to ``max_ring_size`` members, no bond walked both ways (a
    dangling bond inside), no member gap of ``MAX_RING_GAP`` or more seen from its centroid,
    and no member outside ``region``. (A ring cut by the region's edge misses the atoms
    beyond it and closes no face; bonds longer than the first shell cannot close it.)
    Faces larger than ``max_ring_size`` (pores, holes) are kept as incomplete rings; the
    unbounded outer face of each part is no ring.

    A bond between two triangles is the short diagonal of a squeezed 4-ring (1.41 d in a
    square, less in a rhombus, inside the first shell) and is dropped: sp2 networks and
    projected TMD lattices have no pairs of 3-rings sharing a bond.
    """
    walk = _walk(xy, i, j)
    kept = ~_shared_by_triangles(walk, len(i))
    if not kept.all():
        walk = _walk(xy, i[kept], j[kept])
    owner, face_all, twin, area, _ = walk
    bounded = area > 1e-9
    face_id = np.cumsum(bounded) - 1
    take = bounded[face_all]
    face, member = face_id[face_all[take]], owner[take]
    n_rings = int(bounded.sum())
    size = np.bincount(face, minlength=n_rings)
    centroid = np.stack([np.bincount(face, weights=xy[member, k], minlength=n_rings) for k in range(2)], -1) / np.maximum(size, 1)[:, None]
    bridge = (face_all == face_all[twin]) & bounded[face_all]  # a bond walked both ways by one face
    bridges = np.bincount(face_id[face_all[bridge]], minlength=n_rings)
    rings, _, widest, _ = ring_table(xy, face, member, centroid, np.full(n_rings, -1))
    rings["area"] = area[bounded]
    # a ring cut by the image edge lacks the atoms beyond it, so it closes no face: only a face
    # with a member outside the region (detections past the image) is cut
    outside = np.bincount(face, weights=distance_to_edge(xy[member], region) < 0, minlength=n_rings) > 0
    rings["complete"] = (size >= 3) & (size <= max_ring_size) & (bridges == 0) & (widest < MAX_RING_GAP) & ~outside
    return rings, kept, (owner, owner[twin])


def _walk(xy: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, ...]:
    """Walk the faces of bonds ``i``-``j``: per half-edge (sorted by owner, then azimuth) its owner,
    face and twin; per face its signed area [Å²] (positive: bounded, counter-clockwise); and the
    sorting order (half-edge k of the unsorted list, bond k % len(i), sits at ``order == k``)."""
    owner, other = np.concatenate([i, j]), np.concatenate([j, i])
    n_half, m = len(owner), len(i)
    order = sort_by_azimuth(owner, displacement(xy, owner, other))
    owner, other = owner[order], other[order]
    position = np.empty(n_half, dtype=np.int64)
    position[order] = np.arange(n_half)
    twin = position[np.concatenate([np.arange(m, 2 * m), np.arange(m)])[order]]
    nxt = cyclic_prev(owner)[twin]  # the bond after v -> u clockwise at v
    graph = sparse.csr_matrix((np.ones(n_half, dtype=np.int8), nxt, np.arange(n_half + 1)), shape=(n_half, n_half))  # one entry per row
    n_faces, face = connected_components(graph, directed=True, connection="weak")
    origin = xy.mean(axis=0) if len(xy) else np.zeros(2)
    p, q = np.take(xy, owner, axis=0) - origin, np.take(xy, other, axis=0) - origin
    area = 0.5 * np.bincount(face, weights=p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0], minlength=n_faces)
    return owner, face, twin, area, order


def _shared_by_triangles(walk, m: int) -> np.ndarray:
    """Mask of the ``m`` bonds whose two half-edges both lie on bounded faces of three half-edges."""
    _, face, twin, area, order = walk
    triangle = (np.bincount(face, minlength=len(area)) == 3) & (area > 1e-9)
    on = triangle[face] & triangle[face[twin]]
    shared = np.zeros(m, dtype=bool)
    shared[order[on] % m] = True
    return shared
