"""Periodic Voronoi networks: atoms at the vertices, bonds along the edges, one ring per seed."""

from __future__ import annotations

import numpy as np
from scipy.spatial import Delaunay

from atomscope.structures._periodic import wrap

__all__ = ["voronoi_network"]


def voronoi_network(seeds: np.ndarray, box: np.ndarray, margin: float) -> tuple[np.ndarray, ...]:
    """Atoms, bonds and polygons of the periodic Voronoi tessellation of ``seeds``.

    Built from the dual Delaunay triangulation of the seeds and their periodic images within
    ``margin`` [Å] of the cell (the triangulation that qhull computes for
    ``scipy.spatial.Voronoi``): an atom is the circumcentre of a triangle, a bond joins two
    triangles that share an edge, and the polygon of a seed is the fan of triangles around it.
    Periodic images of a triangle are identified exactly, by the indices of its seeds and their
    relative image shifts, so that no distance tolerance can merge two distinct vertices.

    Returns atom positions (n, 2) [Å], bonds (m, 2) as atom index pairs, and the polygons as
    two flat arrays ``owner`` (seed index) and ``member`` (atom index), one entry per corner.
    """
    n_seeds = len(seeds)
    points, source, shift = _periodic_images(seeds, box, margin)
    tri = Delaunay(points)
    tid = np.unique(_triangle_keys(tri.simplices, source, shift), axis=0, return_inverse=True)[1]
    kept = np.flatnonzero(np.any(tri.simplices < n_seeds, axis=1))  # triangles touching the cell's seeds
    atoms, first = np.unique(tid[kept], return_index=True)
    atom_of = np.full(tid.max() + 1, -1)
    atom_of[atoms] = np.arange(len(atoms))
    pos = wrap(_circumcentres(points[tri.simplices[kept[first]]]), box)

    nbr = tri.neighbors[kept]
    rows, cols = np.nonzero(nbr >= 0)
    pairs = atom_of[np.stack([tid[kept[rows]], tid[nbr[rows, cols]]], axis=1)]
    rows, cols = np.nonzero(tri.simplices[kept] < n_seeds)
    owner, member = tri.simplices[kept[rows], cols], atom_of[tid[kept[rows]]]
    if np.any(pairs < 0):
        raise RuntimeError("Delaunay triangle outside the periodic margin; widen the margin")
    bonds = np.unique(np.sort(pairs, axis=1), axis=0)
    if np.any(np.bincount(bonds.ravel(), minlength=len(atoms)) != 3):
        raise RuntimeError("Voronoi network is not three-fold; the cell is too small for the seeds")
    return pos, bonds, owner, member


def _periodic_images(points: np.ndarray, box: np.ndarray, margin: float) -> tuple[np.ndarray, ...]:
    """``points`` then their images within ``margin`` of the cell; source index and image shift of each."""
    shifts = np.array([(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)])
    shifts = shifts[np.argsort(np.abs(shifts).sum(axis=1), kind="stable")]  # (0, 0) first
    images = points[None] + (shifts * box)[:, None]
    inside = np.all((images > -margin) & (images < box + margin), axis=2)
    inside[0] = True
    index = np.broadcast_to(np.arange(len(points)), inside.shape)[inside]
    which = np.broadcast_to(np.arange(len(shifts))[:, None], inside.shape)[inside]
    return images[inside], index, shifts[which]


def _triangle_keys(simplices: np.ndarray, source: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Key per triangle equal for all its periodic images: seed indices sorted, shifts relative to the first."""
    order = np.argsort(source[simplices], axis=1)
    corners = np.take_along_axis(simplices, order, axis=1)
    rel = shift[corners[:, 1:]] - shift[corners[:, :1]]
    return np.concatenate([source[corners], rel.reshape(len(corners), 4)], axis=1)


def _circumcentres(tri: np.ndarray) -> np.ndarray:
    """Circumcentres of triangles given as corner coordinates, shape (n, 3, 2)."""
    b, c = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    b2, c2 = np.einsum("ij,ij->i", b, b), np.einsum("ij,ij->i", c, c)
    d = 2.0 * (b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0])
    u = np.stack([c[:, 1] * b2 - b[:, 1] * c2, b[:, 0] * c2 - c[:, 0] * b2], axis=1) / d[:, None]
    return tri[:, 0] + u
