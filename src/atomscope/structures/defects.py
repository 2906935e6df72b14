"""Defects: graphene point defects, dopants and grain boundaries; TMD vacancies and substitutions.

TMD defects act on the projected columns of a layer from
:func:`atomscope.structures.crystals.tmd_layer`: a chalcogen column loses one atom (class
e.g. "S") or both (an empty column, a "vacancy" row), a metal column its atom, and
substituted atoms change the class of their column (e.g. "SSe", "Fe").

Graphene defects are edits of the bond graph of a :class:`~atomscope.structures._sheet.Sheet`
(Stone-Wales bond rotation, removal of atoms and rebonding of their neighbours, change of
element), after which the rings are traced again and the valence force field relaxes the
positions. Each defect is recorded as a dict ``{"type", "x", "y"}`` [Å] (plus ``"angle"`` [deg]
for grain boundaries).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from ase.data import atomic_numbers

from atomscope._shared.validation import check_positive, make_rng
from atomscope.structures._periodic import minimum_image, wrap
from atomscope.structures._sheet import Sheet, make_sheet
from atomscope.structures._voronoi import voronoi_network
from atomscope.structures.crystals import CHALCOGENS, LATTICE_CONSTANTS, MAX_CELL_GROWTH
from atomscope.structures.relax import relax_sheet

#: Grains meet where their hexagon centres come closer than this many lattice constants:
#: those of the second grain are dropped (nearest centres in a grain are 1 a apart).
_GRAIN_GAP_PER_A = 0.7

__all__ = ["GRAPHENE_DEFECTS", "graphene_bicrystal", "graphene_defects", "grain_boundary_angles", "tmd_defects"]

#: Graphene defect types, in the order they are placed, and the site each one takes: a bond
#: (two atoms) or an atom.
GRAPHENE_DEFECTS = {
    "divacancy_555777": "bond",
    "divacancy_585": "bond",
    "stone_wales": "bond",
    "si4": "bond",
    "vacancy": "atom",
    "si3": "atom",
    "nitrogen": "atom",
}


class _Graph:
    """Mutable bond graph of a sheet for defect edits; :meth:`sheet` rebuilds the sheet."""

    def __init__(self, sheet: Sheet):
        self.box = sheet.box
        self.pos = [p for p in sheet.pos.copy()]
        self.elements = list(sheet.elements)
        self.adj = [set() for _ in self.pos]
        for i, j in sheet.bonds.tolist():
            self.adj[i].add(j)
            self.adj[j].add(i)
        self.removed: set[int] = set()

    def ccw(self, p: int, start: int) -> list[int]:
        """Neighbours of ``p`` counter-clockwise, beginning with ``start``."""
        nbrs = sorted(self.adj[p])
        d = minimum_image(np.array([self.pos[n] for n in nbrs]) - self.pos[p], self.box)
        azimuth = np.arctan2(d[:, 1], d[:, 0])
        return [nbrs[k] for k in np.argsort(np.mod(azimuth - azimuth[nbrs.index(start)], 2 * np.pi))]

    def bond(self, i: int, j: int) -> None:
        self.adj[i].add(j)
        self.adj[j].add(i)

    def unbond(self, i: int, j: int) -> None:
        self.adj[i].discard(j)
        self.adj[j].discard(i)

    def remove(self, p: int) -> list[int]:
        """Remove atom ``p``; returns its former neighbours counter-clockwise."""
        nbrs = self.ccw(p, next(iter(self.adj[p])))
        for n in nbrs:
            self.unbond(p, n)
        self.removed.add(p)
        return nbrs

    def midpoint(self, p: int, q: int) -> np.ndarray:
        return self.pos[p] + 0.5 * minimum_image(self.pos[q] - self.pos[p], self.box)

    def stone_wales(self, p: int, q: int) -> None:
        """Rotate bond p-q by 90° counter-clockwise: p hands its next neighbour after q to q, and vice versa."""
        x1 = self.ccw(p, q)[1]
        y1 = self.ccw(q, p)[1]
        self.unbond(p, x1)
        self.unbond(q, y1)
        self.bond(q, x1)
        self.bond(p, y1)
        mid = self.midpoint(p, q)
        for atom in (p, q):
            d = minimum_image(self.pos[atom] - mid, self.box)
            self.pos[atom] = mid + np.array([-d[1], d[0]])

    def divacancy(self, p: int, q: int) -> None:
        """Remove p and q; the two neighbours of each close a pentagon (5-8-5)."""
        for atom, other in ((p, q), (q, p)):
            nbrs = [n for n in self.remove(atom) if n != other]
            self.bond(*nbrs)

    def vacancy(self, p: int, rng: np.random.Generator) -> None:
        """Remove p; two of its three neighbours bond (5-9 reconstruction), the third keeps a dangling bond."""
        nbrs = self.remove(p)
        pair = rng.choice(3, size=2, replace=False)
        self.bond(nbrs[pair[0]], nbrs[pair[1]])

    def si4(self, p: int, q: int) -> None:
        """Replace the dimer p-q by one Si bonded to its four neighbours."""
        mid = self.midpoint(p, q)
        nbrs = [n for n in self.remove(p) + self.remove(q) if n not in (p, q)]
        self.pos.append(mid)
        self.elements.append("Si")
        self.adj.append(set())
        for n in nbrs:
            self.bond(len(self.pos) - 1, n)

    def sheet(self) -> Sheet:
        keep = np.array([i not in self.removed for i in range(len(self.pos))])
        index = np.cumsum(keep) - 1
        bonds = {(min(i, j), max(i, j)) for i in range(len(self.pos)) for j in self.adj[i]}
        bonds = index[np.array(sorted(bonds), dtype=np.int64).reshape(-1, 2)]
        return make_sheet(np.array(self.pos)[keep], bonds, self.box, np.array(self.elements, dtype=object)[keep])


def graphene_defects(
    sheet: Sheet,
    counts: Mapping[str, int],
    *,
    rng: int | np.random.Generator | None,
    min_separation: float = 8.0,
    existing: tuple[dict, ...] = (),
) -> tuple[Sheet, list[dict]]:
    """Put point defects and dopants into pristine regions of a graphene sheet and relax it.

    Parameters
    ----------
    sheet
        Graphene (possibly with grain boundaries).
    counts
        Number of defects per type of :data:`GRAPHENE_DEFECTS`: ``stone_wales`` (5-7-7-5),
        ``divacancy_585`` (5-8-5), ``divacancy_555777`` (555-777), ``vacancy`` (5-9
        reconstructed monovacancy), ``si3`` (Si for one C, three-fold), ``si4`` (Si for a C
        dimer, four-fold) and ``nitrogen`` (graphitic N for one C).
    rng
        Random generator, or a seed for one.
    min_separation
        Smallest distance [Å] between two defects and from a defect to a grain boundary.
    existing
        Defects already in the sheet (e.g. grain boundaries, lines along y at ``x``) to keep
        away from.

    Returns
    -------
    sheet : Sheet
        The defective sheet, rings traced again, relaxed with the valence force field.
    defects : list of dict
        ``{"type", "x", "y"}`` [Å] per defect placed (position of the original atom or bond centre).

    Raises
    ------
    ValueError
        Unknown type, negative count, or no pristine site left at ``min_separation`` from
        the other defects: the message names the type and the cell.
    """
    unknown = sorted(set(counts) - set(GRAPHENE_DEFECTS))
    if unknown:
        raise ValueError(f"unknown graphene defect types {unknown}; known: {list(GRAPHENE_DEFECTS)}")
    for name, count in counts.items():
        if isinstance(count, bool) or int(count) != count or count < 0:
            raise ValueError(f"`{name}` must be a non-negative integer count, got {count!r}")
    min_separation = check_positive(min_separation, "min_separation")
    rng = make_rng(rng)
    if not any(counts.values()):
        return sheet, []
    pristine = _pristine_atoms(sheet)
    lines = np.array([d["x"] for d in existing if d["type"] == "grain_boundary"])
    for _ in range(_PLACEMENT_ATTEMPTS):
        graph, placed, jammed = _place(sheet, counts, pristine, existing, lines, min_separation, rng)
        if jammed is None:
            return relax_sheet(graph.sheet()), placed
    name, k = jammed
    raise ValueError(
        f"`{name}`: no pristine site left for defect {k + 1} of {counts[name]} at >= {min_separation:g} Å from the other "
        f"defects in the {sheet.box[0]:.1f} x {sheet.box[1]:.1f} Å cell ({_PLACEMENT_ATTEMPTS} random placements tried); "
        "lower the count or `min_separation`, or enlarge the cell"
    )


#: Random placements of a sheet's defects tried before giving up: one at random can jam (leave
#: no free site for the last defects) where another fits them all, near the packing limit.
_PLACEMENT_ATTEMPTS = 20


def _place(sheet, counts, pristine, existing, lines, min_separation, rng):
    """One random sequential placement: the edited graph, the defects placed, and (type, index)
    of the defect that found no free site (None when all fit)."""
    graph = _Graph(sheet)
    placed: list[dict] = []
    points = [(d["x"], d["y"]) for d in existing if d["type"] != "grain_boundary"]
    for name, site in GRAPHENE_DEFECTS.items():
        for k in range(int(counts.get(name, 0))):
            where, atoms = _free_site(sheet, site, pristine, np.array(points).reshape(-1, 2), lines, min_separation, rng)
            if where is None:
                return graph, placed, (name, k)
            _edit(graph, sheet, name, atoms, rng)
            points.append(tuple(where))
            placed.append(_record(name, *where))
    return graph, placed, None


def _record(kind: str, x: float, y: float) -> dict:
    """One entry of the defects list: type and position [Å]."""
    return {"type": kind, "x": float(x), "y": float(y)}


def _pristine_atoms(sheet: Sheet) -> np.ndarray:
    """Carbon atoms with three bonds whose rings are all hexagons."""
    degree = np.bincount(sheet.bonds.ravel(), minlength=len(sheet.pos))
    in_hexagons = np.bincount(sheet.member, weights=sheet.ring_size[sheet.owner] == 6, minlength=len(sheet.pos))
    return (sheet.elements == "C") & (degree == 3) & (in_hexagons == 3)


def _free_site(sheet, site, pristine, points, lines, min_separation, rng):
    """A random pristine atom or bond (with pristine neighbours) far from ``points`` and ``lines``; its position."""
    if site == "atom":
        candidates = np.flatnonzero(pristine)[:, None]
    else:
        ok = pristine[sheet.bonds].all(axis=1)
        candidates = sheet.bonds[ok]
    first, last = sheet.pos[candidates[:, 0]], sheet.pos[candidates[:, -1]]
    where = first + 0.5 * minimum_image(last - first, sheet.box)
    free = np.ones(len(candidates), bool)
    for point in points:
        free &= np.hypot(*minimum_image(where - point, sheet.box).T) >= min_separation
    for x in lines:  # boundaries run along y: only the x distance counts
        dx = where[:, 0] - x
        free &= np.abs(dx - sheet.box[0] * np.round(dx / sheet.box[0])) >= min_separation
    if not free.any():
        return None, None
    k = int(rng.choice(np.flatnonzero(free)))
    return wrap(where[k], sheet.box), candidates[k].tolist()


def _edit(graph: _Graph, sheet: Sheet, name: str, atoms: list[int], rng: np.random.Generator) -> None:
    if name == "stone_wales":
        graph.stone_wales(*atoms)
    elif name == "divacancy_585":
        graph.divacancy(*atoms)
    elif name == "divacancy_555777":
        # 555-777 = 5-8-5 plus a Stone-Wales rotation of the bond facing the removed dimer
        # across one of the two hexagons that held it
        p, q = atoms
        rings = np.intersect1d(sheet.owner[sheet.member == p], sheet.owner[sheet.member == q])
        ring = sheet.member[sheet.owner == rings[int(rng.integers(len(rings)))]]
        near = {p, q} | graph.adj[p] | graph.adj[q]
        u, v = (a for a in ring.tolist() if a not in near)
        graph.divacancy(p, q)
        graph.stone_wales(u, v)
    elif name == "si4":
        graph.si4(*atoms)
    elif name == "vacancy":
        graph.vacancy(atoms[0], rng)
    else:  # substitutions keep the topology
        graph.elements[atoms[0]] = {"si3": "Si", "nitrogen": "N"}[name]


def grain_boundary_angles(length: float) -> np.ndarray:
    """Symmetric tilt boundaries that are periodic within ``length`` [Å] along the boundary.

    A graphene lattice vector t = m a1 + n a2 (a1, a2 at 60°) turned parallel to y gives a grain
    whose mirror image (x -> -x) is the other grain; both repeat every |t| along y, and they
    are misoriented by 2 angle(t, a1) (mod 60°).

    Returns
    -------
    ndarray, shape (K, 4)
        Rows (misorientation [deg], |t| [Å], m, n) with 1° < misorientation < 59° and |t| <=
        ``length``, sorted by |t|.
    """
    a = LATTICE_CONSTANTS["graphene"]
    top = int(np.ceil(length / a)) + 1
    m, n = np.meshgrid(np.arange(0, top + 1), np.arange(0, top + 1), indexing="ij")
    m, n = m.ravel(), n.ravel()
    t = np.column_stack([m + 0.5 * n, np.sqrt(3.0) / 2.0 * n]) * a
    period = np.hypot(t[:, 0], t[:, 1])
    angle = np.mod(2.0 * np.degrees(np.arctan2(t[:, 1], t[:, 0])), 60.0)
    keep = (period > 0) & (period <= length) & (angle > 1.0) & (angle < 59.0) & (np.gcd(m, n) == 1)
    rows = np.column_stack([angle, period, m, n])[keep]
    return rows[np.argsort(rows[:, 1], kind="stable")]


def graphene_bicrystal(
    cell: tuple[float, float], *, angle: tuple[float, float], rng: int | np.random.Generator | None
) -> tuple[Sheet, list[dict]]:
    """Periodic graphene bicrystal: two mirror-symmetric grains meeting at two tilt boundaries along y.

    The hexagon centres of grain A fill x < Lx / 2 and those of its mirror image, shifted by a
    random translation, fill the rest; centres of the second grain closer than 0.7 a to the
    first are dropped, and the Voronoi tessellation of all centres (as in
    :mod:`atomscope.structures.amorphous`) gives a three-fold network whose boundary rings
    (mostly 5 and 7) close by themselves. The valence force field relaxes it.

    Parameters
    ----------
    cell
        Requested cell (Lx, Ly) [Å]; Ly is rounded up to a multiple of the boundary period.
    angle
        Range (lo, hi) [deg] of the misorientation; a target is drawn uniformly and the
        commensurate boundary (:func:`grain_boundary_angles`) closest to it, among those
        whose period rounds Ly up by at most 25 %, is built.
    rng
        Random generator, or a seed for one.

    Returns
    -------
    sheet : Sheet
    defects : list of dict
        Two ``{"type": "grain_boundary", "x", "y", "angle"}`` records (x of the line [Å],
        y = Ly / 2, misorientation [deg]).
    """
    lx, ly = (check_positive(c, "cell") for c in cell)
    lo, hi = (float(x) for x in angle)
    if not 0.0 <= lo <= hi <= 60.0:
        raise ValueError(f"`angle` must be (lo, hi) [deg] with 0 <= lo <= hi <= 60, got {angle!r}")
    rng = make_rng(rng)
    a = LATTICE_CONSTANTS["graphene"]
    if lx < 8.0 * a:
        raise ValueError(f"`cell` x side {lx:g} Å is too narrow for two grains; use >= {8 * a:g} Å")
    options = grain_boundary_angles(ly)
    fits = np.ceil(ly / options[:, 1] - 1e-9) * options[:, 1] <= MAX_CELL_GROWTH * ly
    options = options[fits & (options[:, 0] >= lo) & (options[:, 0] <= hi)]
    if not len(options):
        raise ValueError(
            f"`angle` {angle!r}: no grain boundary in this range repeats within the cell side {ly:g} Å "
            f"(+{MAX_CELL_GROWTH - 1:.0%}); widen the range or enlarge the cell"
        )
    target = rng.uniform(lo, hi)
    theta, period, m, n = options[np.argmin(np.abs(options[:, 0] - target))]
    box = np.array([lx, period * np.ceil(ly / period - 1e-9)])
    t_angle = np.arctan2(np.sqrt(3.0) / 2.0 * n, m + 0.5 * n)
    grain_a = _triangular_points(a, np.pi / 2 - t_angle, box, np.zeros(2), half=0)
    grain_b = _triangular_points(a, np.pi / 2 + t_angle, box, rng.uniform(0.0, 1.0, 2) * [a, period], half=1)
    gap = np.hypot(*minimum_image(grain_b[:, None] - grain_a[None], box).T).min(axis=0)
    seeds = np.concatenate([grain_a, grain_b[gap >= _GRAIN_GAP_PER_A * a]])
    pos, bonds, owner, member = voronoi_network(seeds, box, margin=4.0 * a)
    sheet = make_sheet(pos, bonds, box, "C", rings=(owner, member), reference=seeds)
    records = [
        {"type": "grain_boundary", "x": float(x), "y": float(box[1] / 2), "angle": float(theta)} for x in (0.0, box[0] / 2)
    ]
    return relax_sheet(sheet), records


def _triangular_points(a: float, phi: float, box: np.ndarray, shift: np.ndarray, half: int) -> np.ndarray:
    """Triangular lattice (spacing ``a`` [Å], a1 at angle ``phi`` [rad]) shifted by ``shift``, in one half of the cell.

    ``half`` 0 keeps 0 <= x < Lx / 2, 1 keeps Lx / 2 <= x < Lx; y is wrapped into [0, Ly).
    """
    a1 = a * np.array([np.cos(phi), np.sin(phi)])
    a2 = a * np.array([np.cos(phi + np.pi / 3), np.sin(phi + np.pi / 3)])
    reach = int(np.ceil(np.hypot(*box) / (a * np.sqrt(3.0) / 2.0))) + 2
    i, j = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1), indexing="ij")
    points = shift + i.ravel()[:, None] * a1 + j.ravel()[:, None] * a2
    lo, hi = 0.5 * box[0] * half, 0.5 * box[0] * (half + 1)
    eps = 1e-6 * a  # a point at y = 0 and its image at y = Ly must not both pass
    points = points[(points[:, 0] >= lo) & (points[:, 0] < hi) & (points[:, 1] >= -eps) & (points[:, 1] < box[1] - eps)]
    return wrap(points, box)


def tmd_defects(
    layer: pd.DataFrame,
    *,
    rng: int | np.random.Generator | None,
    chalcogen_vacancy: float = 0.0,
    chalcogen_double_vacancy: float = 0.0,
    metal_vacancy: float = 0.0,
    substitutions: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, list[dict]]:
    """Vacancies and substitutions in a TMD layer, drawn at random sites.

    Parameters
    ----------
    layer
        Atoms of one layer with ``site`` and ``column`` (:func:`~atomscope.structures.crystals.tmd_layer`).
    rng
        Random generator, or a seed for one.
    chalcogen_vacancy
        Fraction of chalcogen columns that lose one atom (top or bottom at random).
    chalcogen_double_vacancy
        Fraction of chalcogen columns that lose both atoms.
    metal_vacancy
        Fraction of metal columns left empty.
    substitutions
        Element -> fraction of the remaining atoms of its site kind replaced by it: chalcogens
        (O, S, Se, Te) replace chalcogen atoms, other elements metal atoms (e.g. ``{"Se": 0.1}``
        in MoS2, ``{"Fe": 0.02, "Te": 0.05}`` in WS2). Counts are the fractions rounded.

    Returns
    -------
    layer : pandas.DataFrame
        The layer with removed atoms dropped, one row of kind "vacancy" (element "X", z = 0)
        per emptied column, and substituted elements.
    defects : list of dict
        ``{"type", "x", "y"}`` [Å] per defect: "chalcogen_vacancy", "chalcogen_double_vacancy",
        "metal_vacancy" or "substitution_<element>".
    """
    rng = make_rng(rng)
    substitutions = dict(substitutions or {})
    fractions = {
        "chalcogen_vacancy": chalcogen_vacancy,
        "chalcogen_double_vacancy": chalcogen_double_vacancy,
        "metal_vacancy": metal_vacancy,
        **{f"substitutions.{e}": f for e, f in substitutions.items()},
    }
    for name, value in fractions.items():
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"`{name}` must be a fraction in [0, 1], got {value!r}")
    for element in substitutions:
        if element not in atomic_numbers or element == "X":
            raise ValueError(f"`substitutions`: unknown element {element!r}")
    if chalcogen_vacancy + chalcogen_double_vacancy > 1.0:
        raise ValueError("`chalcogen_vacancy` + `chalcogen_double_vacancy` must not exceed 1 (all chalcogen columns)")
    for site in ("chalcogen", "metal"):
        total = sum(f for e, f in substitutions.items() if (e in CHALCOGENS) == (site == "chalcogen"))
        if total > 1.0:
            raise ValueError(f"`substitutions` on {site} sites add up to {total:g} > 1")

    layer = layer.copy()
    columns = layer.groupby("column")[["x", "y", "site"]].first()
    chalcogen_columns = rng.permutation(columns.index[columns["site"] == "chalcogen"].to_numpy())
    n_double = round(chalcogen_double_vacancy * len(chalcogen_columns))
    n_single = round(chalcogen_vacancy * len(chalcogen_columns))
    double, single = chalcogen_columns[:n_double], chalcogen_columns[n_double : n_double + n_single]
    metal_columns = columns.index[columns["site"] == "metal"].to_numpy()
    empty_metal = rng.choice(metal_columns, size=round(metal_vacancy * len(metal_columns)), replace=False)
    column = layer["column"].to_numpy()
    removed = np.isin(column, np.concatenate([double, empty_metal]))
    lose_top = np.zeros(column.max() + 1, bool)
    lose_top[single] = rng.random(len(single)) < 0.5  # which of the two atoms each column loses
    removed |= np.isin(column, single) & ((layer["z"].to_numpy() > 0) == lose_top[column])
    kinds = (("chalcogen_double_vacancy", double), ("chalcogen_vacancy", single), ("metal_vacancy", empty_metal))
    records = [_record(t, columns.at[c, "x"], columns.at[c, "y"]) for t, cols in kinds for c in cols]
    layer = layer[~removed]

    elements = layer["element"].to_numpy(dtype=object).copy()
    free = {site: rng.permutation(np.flatnonzero(layer["site"].to_numpy() == site)) for site in ("chalcogen", "metal")}
    taken = {"chalcogen": 0, "metal": 0}
    for element, fraction in sorted(substitutions.items()):
        site = "chalcogen" if element in CHALCOGENS else "metal"
        n = round(fraction * len(free[site]))
        chosen = free[site][taken[site] : taken[site] + n]
        taken[site] += n
        elements[chosen] = element
        records += [_record(f"substitution_{element}", x, y) for x, y in layer[["x", "y"]].to_numpy()[chosen]]
    layer = layer.assign(element=elements)
    vacancies = columns.loc[np.concatenate([double, empty_metal])].reset_index()
    vacancies = vacancies.assign(kind="vacancy", z=0.0, element="X")
    return pd.concat([layer, vacancies[layer.columns]], ignore_index=True), records
