"""Hierarchies of motif-cells (Dan et al. 2022, Fig. 2 and Materials and Methods,
"Automatic construction of motif-cell hierarchy").

1. The sites are binned into the cells of their lattice (lattice vectors from neighbour
   statistics, :func:`atomscope.motifs.lattice_vectors`); a cell's composition is the multiset of
   the motifs of its sites (a motif-cell).
2. Compositions holding at least ``dominant`` of the cells are the crystal's unit cells and are
   set aside, as are cells on the edge of the frame or of a hole (a von Neumann neighbour
   without sites: such a cell may be cut); the other (minority) cells are joined with their von Neumann neighbours (cells
   (i +- 1, j) and (i, j +- 1) on the lattice-index grid) into connected higher-level motif-cells.
3. Each connected motif-cell is a kind: its pattern of compositions on the index grid, the same
   kind up to a 90 degree rotation of that grid (as the paper); its level is its number of cells.
4. A kind contains a smaller kind if the smaller one's pattern occurs inside it at some
   translation (any of its 90 degree turns, since kinds are only defined up to them); the
   hierarchy links each kind to the kinds it contains at the nearest lower level.
5. The configurational entropy of a level is -sum p ln p over the kinds of that level,
   p = occurrences of the kind / occurrences of all kinds of the level.

Hand-written: no library builds motif-cell hierarchies; the connected components are
scipy.ndimage.label's.

References
----------
J. Dan et al., Sci. Adv. 8, eabk1005 (2022), doi:10.1126/sciadv.abk1005.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from scipy import ndimage

from atomscope.motifs.patches import lattice_vectors

__all__ = ["cell_indices", "frame_hierarchies", "level_entropy", "motif_cell_hierarchy"]

_VON_NEUMANN = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])


def cell_indices(x: np.ndarray, y: np.ndarray, vectors: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Lattice-cell index (i, j) of each site: floor of its fractional coordinates.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Site positions [Å].
    vectors : ndarray, shape (2, 2)
        Lattice vectors a1, a2 (rows) [Å].
    origin : array_like, shape (2,)
        A corner of cell (0, 0) [Å]; best placed so that no site sits on a cell edge.

    Returns
    -------
    ndarray, shape (N, 2), int
    """
    fractional = np.linalg.solve(np.asarray(vectors, dtype=np.float64).T, (np.column_stack([x, y]) - origin).T).T
    return np.floor(fractional).astype(np.intp)


def motif_cell_hierarchy(
    cells: np.ndarray, motifs: np.ndarray, *, dominant: float = 0.1
) -> tuple[np.ndarray, pd.DataFrame]:
    """Higher-level motif-cells of one frame: kinds, counts, levels and containment.

    Parameters
    ----------
    cells : ndarray, shape (N, 2), int
        Lattice-cell index (i, j) of each site (:func:`cell_indices`).
    motifs : ndarray, shape (N,), int
        Motif label of each site.
    dominant : float
        Compositions holding at least this fraction of the cells are the crystal's and are
        not part of any higher-level motif-cell, in (0, 1]. Nor are cells with a von Neumann
        neighbour that holds no site (the frame's edge, holes).

    Returns
    -------
    site_kind : ndarray, shape (N,), int
        Index into ``kinds`` of the higher-level motif-cell each site belongs to; -1 for sites
        in dominant cells and in cells on an edge.
    kinds : pandas.DataFrame
        One row per kind, by level then count (most frequent first): ``level`` (cells),
        ``count`` (occurrences), ``pattern`` (its compositions on the index grid, rows joined
        by ``/``, ``.`` for no cell, each cell's motifs joined by ``+``) and ``contains``
        (indices of the kinds of the nearest lower level found inside it, a list).
    """
    cells = np.asarray(cells, dtype=np.intp)
    motifs = np.asarray(motifs)
    if cells.ndim != 2 or cells.shape[1] != 2 or motifs.shape != (len(cells),):
        raise ValueError(f"`cells` must be (N, 2) and `motifs` (N,), got {cells.shape} and {motifs.shape}")
    if not 0 < dominant <= 1:
        raise ValueError(f"`dominant` must be in (0, 1], got {dominant!r}")
    cell_keys, site_cell = np.unique(cells, axis=0, return_inverse=True)
    site_cell = site_cell.ravel()
    names = np.array(["+".join(map(str, sorted(motifs[site_cell == c]))) for c in range(len(cell_keys))])
    compositions, cell_comp, comp_counts = np.unique(names, return_inverse=True, return_counts=True)
    low = cell_keys.min(axis=0)
    occupied = np.zeros(tuple(cell_keys.max(axis=0) - low + 3), dtype=bool)  # one empty cell of margin
    occupied[tuple((cell_keys - low + 1).T)] = True
    # a cell with an empty von Neumann neighbour lies on the frame's edge or a hole: it may be cut
    inner = ndimage.binary_erosion(occupied, structure=_VON_NEUMANN)[tuple((cell_keys - low + 1).T)]
    minority = inner & (comp_counts[cell_comp] < dominant * len(cell_keys))

    # the minority cells on the (i, j) grid, labelled 1 + composition; 0: no cell or a dominant one
    grid = np.zeros(tuple(cell_keys.max(axis=0) - low + 1), dtype=np.intp)
    grid[tuple((cell_keys[minority] - low).T)] = cell_comp[minority] + 1
    components, _ = ndimage.label(grid > 0, structure=_VON_NEUMANN)
    patterns = [_canonical(np.where(components[box] == k + 1, grid[box], 0)) for k, box in enumerate(ndimage.find_objects(components))]

    keys = [(p.shape, p.tobytes()) for p in patterns]
    examples = dict(zip(keys, patterns))
    occurrences = Counter(keys)
    order = sorted(examples, key=lambda key: (int((examples[key] > 0).sum()), -occurrences[key], key))
    unique = [examples[key] for key in order]
    kind_of = {key: k for k, key in enumerate(order)}
    component_kind = np.array([kind_of[key] for key in keys], dtype=np.intp)
    # component 0 (no minority cell) maps to the appended -1
    site_kind = np.append(component_kind, -1)[components[tuple((cells - low).T)] - 1]

    levels = np.array([int((p > 0).sum()) for p in unique], dtype=np.intp)
    kinds = pd.DataFrame({
        "level": levels,
        "count": np.bincount(component_kind, minlength=len(unique)),
        "pattern": [_pattern_text(p, compositions) for p in unique],
        "contains": _containment(unique, levels),
    })
    return site_kind, kinds


def level_entropy(kinds: pd.DataFrame) -> pd.DataFrame:
    """Configurational entropy of each level of a hierarchy (``kinds`` of :func:`motif_cell_hierarchy`).

    Returns
    -------
    pandas.DataFrame
        ``level``, ``kinds`` (distinct motif-cells), ``count`` (occurrences) and ``entropy``
        (-sum p ln p over the kinds [nats]; 0 for a single kind).
    """
    rows = []
    for level, part in kinds.groupby("level", sort=True):
        p = part["count"].to_numpy(dtype=np.float64) / part["count"].sum()
        rows.append({"level": int(level), "kinds": len(part), "count": int(part["count"].sum()), "entropy": float(-(p * np.log(p)).sum()) + 0.0})
    return pd.DataFrame(rows, columns=["level", "kinds", "count", "entropy"])


def _canonical(pattern: np.ndarray) -> np.ndarray:
    """The pattern's 90 degree turn that sorts first (shape, then values): equal up to rotation <=> equal."""
    return min((np.ascontiguousarray(np.rot90(pattern, k)) for k in range(4)), key=lambda p: (p.shape, p.tobytes()))


def _contains(outer: np.ndarray, inner: np.ndarray) -> bool:
    """Whether some 90 degree turn of ``inner`` matches ``outer`` cell for cell at some translation."""
    for turned in (np.rot90(inner, k) for k in range(4)):
        filled = turned > 0
        rows, cols = outer.shape[0] - turned.shape[0] + 1, outer.shape[1] - turned.shape[1] + 1
        for r in range(max(rows, 0)):
            for c in range(max(cols, 0)):
                if np.array_equal(outer[r : r + turned.shape[0], c : c + turned.shape[1]][filled], turned[filled]):
                    return True
    return False


def _containment(patterns: list[np.ndarray], levels: np.ndarray) -> list[list[int]]:
    """For each pattern, the patterns of the nearest lower level that it contains."""
    contains = []
    for k, outer in enumerate(patterns):
        found: list[int] = []
        for level in sorted({int(v) for v in levels if v < levels[k]}, reverse=True):
            found = [j for j in np.flatnonzero(levels == level) if _contains(outer, patterns[j])]
            if found:
                break
        contains.append([int(j) for j in found])
    return contains


def _pattern_text(pattern: np.ndarray, compositions: np.ndarray) -> str:
    return "/".join(" ".join(compositions[v - 1] if v else "." for v in row) for row in pattern)


def frame_hierarchies(motifs: pd.DataFrame, *, dominant: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Motif-cell hierarchy of each frame of a motifs table (:func:`atomscope.motifs.analyse_motifs`).

    Per frame: lattice vectors of its atoms (:func:`atomscope.motifs.lattice_vectors`), cell (0, 0)
    with its corner 0.15 (a1 + a2) before the atom nearest the frame's centre (so a honeycomb's
    two sites sit inside their cell, not on its edges), then :func:`motif_cell_hierarchy`.
    A frame without a lattice (amorphous) gets no cells and no kinds.

    Returns
    -------
    motifs : pandas.DataFrame
        The input with ``cell_i``, ``cell_j`` (lattice-cell index; <NA> without a lattice) and
        ``cell_kind`` (row of the frame's kinds its higher-level motif-cell is; -1: a dominant
        cell or no lattice).
    kinds : pandas.DataFrame
        ``frame``, ``kind`` and the columns of :func:`motif_cell_hierarchy`'s kinds
        (``contains`` as comma-separated kind numbers).
    """
    motifs = motifs.assign(cell_i=pd.array([pd.NA] * len(motifs), dtype="Int64"), cell_j=pd.array([pd.NA] * len(motifs), dtype="Int64"), cell_kind=-1)
    tables = []
    for frame, part in motifs.groupby("frame", sort=True):
        xy = part[["x", "y"]].to_numpy()
        try:
            vectors = lattice_vectors(xy[:, 0], xy[:, 1])
        except ValueError:
            continue  # no lattice: no cells
        centre = xy[np.argmin(np.linalg.norm(xy - xy.mean(axis=0), axis=1))]
        cells = cell_indices(xy[:, 0], xy[:, 1], vectors, centre - 0.15 * vectors.sum(axis=0))
        site_kind, kinds = motif_cell_hierarchy(cells, part["motif"].to_numpy(), dominant=dominant)
        motifs.loc[part.index, "cell_i"] = cells[:, 0]
        motifs.loc[part.index, "cell_j"] = cells[:, 1]
        motifs.loc[part.index, "cell_kind"] = site_kind
        kinds = kinds.assign(contains=[",".join(map(str, c)) for c in kinds["contains"]])
        tables.append(kinds.rename_axis("kind").reset_index().assign(frame=frame))
    columns = ["frame", "kind", "level", "count", "pattern", "contains"]
    kinds = pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)
    return motifs, kinds
