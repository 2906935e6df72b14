"""Physical relaxation of 2D networks: a valence force field as an ASE calculator, minimised with FIRE.

Why not a ready-made potential: ASE 3.29 ships ``ase.calculators.tersoff`` but no carbon
parameters, and it loops over atoms in Python (about 2 s per force call for 1,840 graphene
atoms, i.e. minutes per FIRE step count on a 4,000-atom model); Tersoff's 1988 carbon also
puts the graphene bond at 1.46 Å instead of 1.42 Å. The networks built here have a known
topology, so a Keating-type valence force field (bond stretching, bond-angle bending, and a
short-range repulsion between atoms that are not bonded) evaluated with numpy is both
faster by orders of magnitude and closer to the bond lengths and angles that matter for
image simulation.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.optimize import FIRE
from scipy.spatial import cKDTree

from atomscope._shared.validation import check_int, check_positive
from atomscope.structures._periodic import minimum_image, wrap
from atomscope.structures._sheet import Sheet

__all__ = ["BOND_LENGTHS", "ValenceForceField", "bond_lengths", "relax_sheet"]

#: Equilibrium bond lengths [Å] by element pair (sorted symbols): sp2 C-C 1.42, graphitic
#: C-N 1.41, C-Si 1.77 (Si substituting C in graphene, Ramasse et al. 2013).
BOND_LENGTHS = {("C", "C"): 1.42, ("C", "N"): 1.41, ("N", "N"): 1.40, ("C", "Si"): 1.77}
#: Bond stretching [eV/Å²] and angle bending [eV/rad²] constants of
#: E = k_b / 2 (r - r0)² + k_a / 2 (theta - theta0)²: the curvature of a Morse C-C bond with
#: D ~ 5.7 eV and a ~ 2 / Å (2 D a² ~ 44 eV/Å²) and an in-plane bending constant of ~ 5.6 eV/rad²,
#: the order of magnitude of graphene in-plane force fields such as Kalosakas et al.,
#: J. Appl. Phys. 113, 134307 (2013) (not re-fitted here; they set the bond/angle trade-off).
K_BOND = 44.0
K_ANGLE = 5.6
#: One-sided repulsion between atoms that are not bonded: pushes second neighbours (two bonds
#: apart) beyond SECOND_RADIUS [Å], which the diagonal of a square 4-ring (2.01 Å) just clears,
#: and all others beyond REPULSION_RADIUS [Å] (graphene's closest such pair is 2.84 Å apart).
#: Without it the angle terms of strained 4- and 5-rings fold atoms to 1.6 Å of each other.
SECOND_RADIUS = 1.95
REPULSION_RADIUS = 2.1
K_REPULSION = 40.0


class ValenceForceField(Calculator):
    """Keating-type valence force field of a network with fixed bonds, in the xy plane.

    Energy = sum over bonds k_b/2 (r - r0)² + sum over angles k_a/2 (theta - theta0)²
    + sum over other close pairs k_rep/2 (r - r_rep)² (only for r < r_rep, with r_rep =
    ``SECOND_RADIUS`` for second neighbours and ``repulsion_radius`` otherwise). The angles are
    those between bonds that are neighbours in azimuth around an atom, taken from the
    geometry at construction; theta0 is 360° / (number of bonds) for three or more bonds and
    120° for two. Forces along z are zero: layers stay flat. Periodic in x and y with the
    cell lengths of the atoms.

    Parameters
    ----------
    pos
        Atom positions (n, 2) [Å] that fix the azimuthal order of the bonds.
    bonds
        Bonded index pairs (m, 2).
    box
        Cell sides (Lx, Ly) [Å].
    bond_lengths
        Equilibrium length per bond (m,) [Å].
    k_bond, k_angle, k_repulsion
        Force constants [eV/Å²], [eV], [eV/Å²].
    repulsion_radius
        Range of the repulsion [Å].
    """

    implemented_properties = ["energy", "forces"]

    def __init__(
        self,
        pos: np.ndarray,
        bonds: np.ndarray,
        box: np.ndarray,
        bond_lengths: np.ndarray,
        *,
        k_bond: float = K_BOND,
        k_angle: float = K_ANGLE,
        k_repulsion: float = K_REPULSION,
        repulsion_radius: float = REPULSION_RADIUS,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.bonds, self.r0 = np.asarray(bonds, dtype=np.int64), np.asarray(bond_lengths, dtype=float)
        self.box = np.asarray(box, dtype=float)
        self.k_bond, self.k_angle, self.k_rep, self.r_rep = k_bond, k_angle, k_repulsion, repulsion_radius
        self.angles, self.theta0 = _consecutive_angles(pos, self.bonds, self.box)
        n = len(pos)
        self.bonded = np.unique(np.sort(self.bonds, axis=1) @ np.array([n, 1]))
        self.seconds = np.unique(np.sort(self.angles[:, 1:], axis=1) @ np.array([n, 1]))

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        pos = self.atoms.positions[:, :2]
        n = len(pos)
        grad = np.zeros((n, 2))
        # bonds
        i, j = self.bonds.T
        d = minimum_image(pos[j] - pos[i], self.box)
        r = np.hypot(d[:, 0], d[:, 1])
        energy = 0.5 * self.k_bond * np.sum((r - self.r0) ** 2)
        g = (self.k_bond * (r - self.r0) / r)[:, None] * d
        _accumulate(grad, j, g)
        _accumulate(grad, i, -g)
        # angles, counter-clockwise from bond v->a to bond v->b, in [0, 2 pi)
        v, a, b = self.angles.T
        u, w = minimum_image(pos[a] - pos[v], self.box), minimum_image(pos[b] - pos[v], self.box)
        theta = np.mod(np.arctan2(u[:, 0] * w[:, 1] - u[:, 1] * w[:, 0], np.einsum("ij,ij->i", u, w)), 2.0 * np.pi)
        energy += 0.5 * self.k_angle * np.sum((theta - self.theta0) ** 2)
        s = self.k_angle * (theta - self.theta0)
        gu = (s / np.einsum("ij,ij->i", u, u))[:, None] * np.column_stack([u[:, 1], -u[:, 0]])
        gw = (s / np.einsum("ij,ij->i", w, w))[:, None] * np.column_stack([-w[:, 1], w[:, 0]])
        _accumulate(grad, a, gu)
        _accumulate(grad, b, gw)
        _accumulate(grad, v, -(gu + gw))
        # repulsion between atoms that are not bonded
        pairs = cKDTree(wrap(pos, self.box), boxsize=self.box).query_pairs(self.r_rep, output_type="ndarray")
        key = np.sort(pairs, axis=1) @ np.array([n, 1])
        pairs, key = pairs[~np.isin(key, self.bonded)], key[~np.isin(key, self.bonded)]
        i, j = pairs.T
        d = minimum_image(pos[j] - pos[i], self.box)
        r = np.hypot(d[:, 0], d[:, 1])
        r_rep = np.where(np.isin(key, self.seconds), min(SECOND_RADIUS, self.r_rep), self.r_rep)
        stretch = np.minimum(r - r_rep, 0.0)
        energy += 0.5 * self.k_rep * np.sum(stretch**2)
        g = (self.k_rep * stretch / r)[:, None] * d
        _accumulate(grad, j, g)
        _accumulate(grad, i, -g)
        self.results["energy"] = float(energy)
        self.results["forces"] = np.column_stack([-grad, np.zeros(n)])


def _accumulate(grad: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    n = len(grad)
    grad[:, 0] += np.bincount(index, values[:, 0], n)
    grad[:, 1] += np.bincount(index, values[:, 1], n)


def _consecutive_angles(pos: np.ndarray, bonds: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(vertex, i, j) for each bond v-i and the next bond v-j counter-clockwise, and theta0 [rad]."""
    src = np.concatenate([bonds[:, 0], bonds[:, 1]])
    dst = np.concatenate([bonds[:, 1], bonds[:, 0]])
    d = minimum_image(pos[dst] - pos[src], box)
    azimuth = np.arctan2(d[:, 1], d[:, 0])
    order = np.lexsort((azimuth, src))
    src, dst, azimuth = src[order], dst[order], azimuth[order]
    degree = np.bincount(src, minlength=len(pos))[src]
    starts = np.searchsorted(src, np.arange(len(pos)))[src]
    rank = np.arange(len(src)) - starts
    nxt = starts + (rank + 1) % np.maximum(degree, 1)
    keep = (degree >= 3) | ((degree == 2) & (rank == 0))  # two bonds: one angle, not both sides of it
    theta0 = 2.0 * np.pi / np.maximum(degree, 3)
    reflex = np.mod(azimuth[nxt] - azimuth, 2.0 * np.pi) > np.pi
    theta0 = np.where((degree == 2) & reflex, 2.0 * np.pi - theta0, theta0)
    return np.column_stack([src, dst, dst[nxt]])[keep], theta0[keep]


def bond_lengths(sheet: Sheet) -> np.ndarray:
    """Equilibrium length [Å] of each bond of ``sheet`` from :data:`BOND_LENGTHS`."""
    pairs = np.sort(sheet.elements[sheet.bonds].astype(str), axis=1)
    missing = {tuple(p) for p in pairs.tolist()} - set(BOND_LENGTHS)
    if missing:
        raise ValueError(f"no equilibrium bond length for the element pairs {sorted(missing)}; known {sorted(BOND_LENGTHS)}")
    return np.array([BOND_LENGTHS[tuple(p)] for p in pairs.tolist()])


def relax_sheet(sheet: Sheet, *, fmax: float = 0.05, steps: int = 2000) -> Sheet:
    """Relax a sheet's atom positions at fixed bonds and cell with :class:`ValenceForceField` and FIRE.

    Parameters
    ----------
    sheet
        The network; its bonds set the topology, their element pairs the bond lengths.
    fmax
        Convergence: largest force component [eV/Å].
    steps
        Most FIRE steps.

    Returns
    -------
    Sheet
        The same network with relaxed positions and ring centres.
    """
    fmax = check_positive(fmax, "fmax")
    steps = check_int(steps, "steps", 1)
    atoms = Atoms(
        symbols=["C"] * len(sheet.pos),  # symbols do not enter the force field
        positions=np.column_stack([sheet.pos, np.zeros(len(sheet.pos))]),
        cell=[*sheet.box, 10.0],
        pbc=(True, True, False),
    )
    atoms.calc = ValenceForceField(sheet.pos, sheet.bonds, sheet.box, bond_lengths(sheet))
    FIRE(atoms, logfile=None).run(fmax=fmax, steps=steps)
    return sheet.moved(atoms.positions[:, :2])
