"""A periodic 2D network of atoms, bonds and rings (one layer), and the operations on it.

Every carbon layer (amorphous, graphene, graphene with defects or grain boundaries) is built
as a :class:`Sheet`; rings are faces of the planar periodic graph, each with a polygon centre
that becomes a ``centre`` site.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from atomscope.structures._periodic import minimum_image, wrap
from atomscope.structures.sites import make_sites

__all__ = ["Sheet", "bonds_by_distance", "cut", "make_sheet", "ring_centres", "sheet_sites", "trace_rings"]


@dataclass(frozen=True)
class Sheet:
    """Atoms, bonds and rings of one periodic layer.

    Attributes
    ----------
    pos : ndarray (n, 2)
        Atom positions [Å], wrapped into the cell.
    bonds : ndarray (m, 2)
        Bonded atom index pairs.
    box : ndarray (2,)
        Cell sides (Lx, Ly) [Å].
    elements : ndarray (n,) of str
        Chemical symbol per atom.
    owner, member : ndarray (c,)
        Rings as flat corner lists: corner k belongs to ring ``owner[k]`` and is atom ``member[k]``.
    centres : ndarray (r, 2)
        Polygon centre of each ring [Å] (mean of its atoms), wrapped.
    edge : ndarray (n,) of bool
        Atom belonged to a ring removed by :func:`cut` (pore or flake edge).
    """

    pos: np.ndarray
    bonds: np.ndarray
    box: np.ndarray
    elements: np.ndarray
    owner: np.ndarray
    member: np.ndarray
    centres: np.ndarray
    edge: np.ndarray

    @property
    def ring_size(self) -> np.ndarray:
        return np.bincount(self.owner, minlength=len(self.centres))

    def moved(self, pos: np.ndarray) -> Sheet:
        """The same network with new atom positions [Å] and its ring centres recomputed."""
        pos = wrap(pos, self.box)
        return replace(self, pos=pos, centres=ring_centres(pos, self.owner, self.member, self.box, self.centres))


def make_sheet(
    pos: np.ndarray, bonds: np.ndarray, box: np.ndarray, elements: np.ndarray | str = "C", *, rings=None, reference=None
) -> Sheet:
    """A :class:`Sheet`; rings are traced from the bonds unless ``rings`` = (owner, member) is given.

    ``reference`` (one point per ring, inside it) anchors the minimum images of its centre;
    by default each ring's first atom does.
    """
    box = np.asarray(box, dtype=float)
    pos = wrap(np.asarray(pos, dtype=float), box)
    owner, member = trace_rings(pos, bonds, box) if rings is None else rings
    elements = np.broadcast_to(np.asarray(elements, dtype=object), len(pos)).copy()
    return Sheet(
        pos=pos,
        bonds=np.asarray(bonds, dtype=np.int64).reshape(-1, 2),
        box=box,
        elements=elements,
        owner=owner,
        member=member,
        centres=ring_centres(pos, owner, member, box, reference),
        edge=np.zeros(len(pos), bool),
    )


def bonds_by_distance(pos: np.ndarray, box: np.ndarray, cutoff: float) -> np.ndarray:
    """Index pairs (i < j) closer than ``cutoff`` [Å] under periodic boundaries."""
    tree = cKDTree(wrap(pos, box), boxsize=box)
    return tree.query_pairs(cutoff, output_type="ndarray").astype(np.int64).reshape(-1, 2)


def trace_rings(pos: np.ndarray, bonds: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rings (faces) of a planar periodic graph as flat (owner, member) corner lists.

    Every bond is followed in both directions; leaving atom j that was entered from atom i,
    the walk takes the bond of j that precedes j->i counter-clockwise, which keeps the face
    on its left. Faces whose turning angles sum to +2 pi are rings; the outline of a pore or
    of a flake turns by -2 pi and is dropped. Rings are numbered by their smallest half-edge.
    """
    src = np.concatenate([bonds[:, 0], bonds[:, 1]])
    dst = np.concatenate([bonds[:, 1], bonds[:, 0]])
    d = minimum_image(pos[dst] - pos[src], box)
    order = np.lexsort((np.arctan2(d[:, 1], d[:, 0]), src))
    src, dst, d = src[order], dst[order], d[order]
    n_half = len(src)
    starts = np.searchsorted(src, np.arange(len(pos)))
    counts = np.bincount(src, minlength=len(pos))
    rank = np.arange(n_half) - starts[src]
    # position of each half-edge's reverse in the sorted list
    key = src * len(pos) + dst
    sorter = np.argsort(key)
    reverse = sorter[np.searchsorted(key[sorter], dst * len(pos) + src)]
    # next half-edge of the face: at dst, the bond that precedes the reverse counter-clockwise
    j = dst
    nxt = starts[j] + (rank[reverse] - 1) % counts[j]
    turn = np.arctan2(d[:, 0] * d[nxt, 1] - d[:, 1] * d[nxt, 0], np.einsum("ij,ij->i", d, d[nxt]))
    face = _cycle_labels(nxt)
    labels, face = np.unique(face, return_inverse=True)
    total = np.bincount(face, weights=turn, minlength=len(labels))
    ring = total > np.pi  # +2 pi for rings, -2 pi for outlines
    keep = ring[face]
    renumber = np.cumsum(ring) - 1
    corner = np.lexsort((np.arange(n_half)[keep], renumber[face[keep]]))
    return renumber[face[keep]][corner], src[keep][corner]


def _cycle_labels(nxt: np.ndarray) -> np.ndarray:
    """Smallest index on each cycle of the permutation ``nxt`` (pointer doubling)."""
    label, jump = np.arange(len(nxt)), nxt.copy()
    for _ in range(int(np.ceil(np.log2(max(len(nxt), 2)))) + 1):
        label = np.minimum(label, label[jump])
        jump = jump[jump]
    return label


def ring_centres(
    pos: np.ndarray, owner: np.ndarray, member: np.ndarray, box: np.ndarray, reference: np.ndarray | None = None
) -> np.ndarray:
    """Mean position of each ring's atoms, minimum images taken around ``reference`` (default: its first atom)."""
    n_rings = int(owner.max()) + 1 if len(owner) else 0
    if reference is None:
        first = np.full(n_rings, -1)
        first[owner[::-1]] = member[::-1]
        reference = pos[first]
    d = minimum_image(pos[member] - reference[owner], box)
    count = np.bincount(owner, minlength=n_rings)[:, None]
    mean = np.stack([np.bincount(owner, d[:, 0], n_rings), np.bincount(owner, d[:, 1], n_rings)], axis=1)
    return wrap(reference + mean / count, box)


def cut(sheet: Sheet, removed: np.ndarray) -> Sheet:
    """Remove the atoms flagged in ``removed`` (n,), their bonds and every ring that loses an atom.

    Atoms of a removed ring that stay are flagged in ``edge``.
    """
    n_rings = len(sheet.centres)
    lost = np.bincount(sheet.owner, removed[sheet.member], n_rings) > 0
    edge = sheet.edge.copy()
    edge[sheet.member[lost[sheet.owner]]] = True
    keep = ~removed
    new_index = np.cumsum(keep) - 1
    ring_index = np.cumsum(~lost) - 1
    corners = ~lost[sheet.owner]
    bonds = sheet.bonds[keep[sheet.bonds].all(axis=1)]
    return Sheet(
        pos=sheet.pos[keep],
        bonds=new_index[bonds],
        box=sheet.box,
        elements=sheet.elements[keep],
        owner=ring_index[sheet.owner[corners]],
        member=new_index[sheet.member[corners]],
        centres=sheet.centres[~lost],
        edge=edge[keep],
    )


def sheet_sites(sheet: Sheet, *, layer: int = 0, z: float = 0.0) -> pd.DataFrame:
    """Sites table of a sheet: its atoms (species class = element) then its ring centres."""
    n_a, n_c = len(sheet.pos), len(sheet.centres)
    return make_sites(
        kind=np.r_[np.full(n_a, "atom"), np.full(n_c, "centre")],
        xyz=np.column_stack([np.concatenate([sheet.pos, sheet.centres]), np.full(n_a + n_c, float(z))]),
        element=np.r_[sheet.elements.astype(str), np.full(n_c, "X")],
        layer=layer,
        ring_size=np.r_[np.zeros(n_a, int), sheet.ring_size],
        species_class=np.r_[sheet.elements.astype(str), np.full(n_c, "centre")],
        at_pore_edge=np.r_[sheet.edge, np.zeros(n_c, bool)],
    )
