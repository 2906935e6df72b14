"""Valence force field + FIRE: correct forces, realistic relaxed amorphous carbon."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from scipy.spatial import cKDTree

from atomscope.structures import amorphous_carbon
from atomscope.structures.amorphous import amorphous_sheet
from atomscope.structures.crystals import graphene_sheet
from atomscope.structures.relax import ValenceForceField, bond_lengths, relax_sheet

CUTOFF = 1.85  # [Å] geometric C-C bond cutoff


def _atoms(sheet, pos=None):
    pos = sheet.pos if pos is None else pos
    atoms = Atoms("C%d" % len(pos), positions=np.column_stack([pos, np.zeros(len(pos))]), cell=[*sheet.box, 10.0], pbc=(1, 1, 0))
    atoms.calc = ValenceForceField(sheet.pos, sheet.bonds, sheet.box, bond_lengths(sheet))
    return atoms


def _bonds_and_coordination(sites, cell):
    xy = sites.loc[sites["kind"] == "atom", ["x", "y"]].to_numpy()
    box = np.asarray(cell)
    pairs = cKDTree(xy, boxsize=box).query_pairs(CUTOFF, output_type="ndarray")
    d = xy[pairs[:, 1]] - xy[pairs[:, 0]]
    d -= box * np.round(d / box)
    return np.hypot(d[:, 0], d[:, 1]), np.bincount(pairs.ravel(), minlength=len(xy))


def test_forces_are_minus_the_energy_gradient():
    sheet, _ = amorphous_sheet((20.0, 20.0), rng=5, radius_spread=0.2)
    rng = np.random.default_rng(0)
    atoms = _atoms(sheet, sheet.pos + rng.normal(0.0, 0.15, sheet.pos.shape))  # off equilibrium, repulsion active
    forces = atoms.get_forces()
    h = 1e-5
    for i in rng.choice(len(atoms), 8, replace=False):
        for k in (0, 1):
            for sign in (1, -1):
                atoms.positions[i, k] += sign * h
                if sign == 1:
                    e_plus = atoms.get_potential_energy()
                else:
                    e_minus = atoms.get_potential_energy()
                atoms.positions[i, k] -= sign * h
            assert forces[i, k] == pytest.approx(-(e_plus - e_minus) / (2 * h), rel=1e-4, abs=1e-4)
    assert np.all(forces[:, 2] == 0.0)


def test_graphene_is_a_minimum_and_stays_put():
    sheet = graphene_sheet((15.0, 15.0))
    assert np.abs(_atoms(sheet).get_forces()).max() < 1e-9
    np.testing.assert_allclose(relax_sheet(sheet).pos, sheet.pos, atol=1e-9)


def test_relaxed_amorphous_carbon_has_graphitic_bonds_and_three_fold_atoms():
    sites, info = amorphous_carbon((40.0, 40.0), rng=2, radius_spread=0.1, n_pores=2, pore_radius=(4.0, 5.0), relax=True)
    r, coordination = _bonds_and_coordination(sites, info["cell"])
    bulk = ~sites.loc[sites["kind"] == "atom", "at_pore_edge"].to_numpy()
    print(f"\nrelaxed: mean bond {r.mean():.3f} Å, std {r.std():.3f} Å, 3-fold away from pores {np.mean(coordination[bulk] == 3):.3f}")
    assert r.mean() == pytest.approx(1.42, abs=0.03)
    assert info["mean_bond"] == pytest.approx(1.42, abs=0.03)
    assert np.mean(coordination[bulk] == 3) >= 0.95
    assert 1.1 < r.min() and r.max() < CUTOFF


def test_relaxation_narrows_the_bond_angles_and_keeps_the_topology():
    sheet, _ = amorphous_sheet((30.0, 30.0), rng=4, radius_spread=0.2)
    relaxed = relax_sheet(sheet)
    calc = ValenceForceField(sheet.pos, sheet.bonds, sheet.box, bond_lengths(sheet))

    def angle_std(pos):
        v, a, b = calc.angles.T
        u, w = pos[a] - pos[v], pos[b] - pos[v]
        u -= sheet.box * np.round(u / sheet.box)
        w -= sheet.box * np.round(w / sheet.box)
        return np.degrees(np.mod(np.arctan2(u[:, 0] * w[:, 1] - u[:, 1] * w[:, 0], (u * w).sum(1)), 2 * np.pi)).std()

    assert angle_std(relaxed.pos) < 0.9 * angle_std(sheet.pos)
    np.testing.assert_array_equal(relaxed.bonds, sheet.bonds)
    np.testing.assert_array_equal(relaxed.ring_size, sheet.ring_size)
    assert _atoms(sheet, relaxed.pos).get_potential_energy() < _atoms(sheet).get_potential_energy()
