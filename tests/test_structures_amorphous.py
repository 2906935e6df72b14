"""Amorphous monolayer carbon after Leist et al. (2022): Poisson-disk seeds -> periodic Voronoi network."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.spatial import cKDTree

from atomscope.structures import amorphous_carbon, poisson_disk, sites_to_atoms

CUTOFF = 1.85  # [Å] geometric C-C bond cutoff
COLUMNS = ["kind", "x", "y", "z", "Z", "element", "layer", "ring_size", "species_class", "at_pore_edge", "in_monolayer", "configuration"]


def _atoms_xy(sites):
    return sites.loc[sites["kind"] == "atom", ["x", "y"]].to_numpy()


def _pairs(xy, cell, cutoff):
    """Periodic pairs closer than ``cutoff`` [Å] and their distances."""
    box = np.asarray(cell)
    pairs = cKDTree(xy, boxsize=box).query_pairs(cutoff, output_type="ndarray")
    d = xy[pairs[:, 1]] - xy[pairs[:, 0]]
    d -= box * np.round(d / box)
    return pairs, np.hypot(d[:, 0], d[:, 1])


def _coordination(xy, cell):
    pairs, _ = _pairs(xy, cell, CUTOFF)
    return np.bincount(pairs.ravel(), minlength=len(xy))


def _periodic_distance(xy, point, cell):
    d = xy - np.asarray(point)
    d -= np.asarray(cell) * np.round(d / np.asarray(cell))
    return np.hypot(d[:, 0], d[:, 1])


@pytest.fixture(scope="module")
def model():
    return amorphous_carbon((40.0, 35.0), rng=1)


@pytest.mark.parametrize(("seed", "spread"), [(0, 0.0), (1, 0.0), (2, 0.1), (3, 0.2)])
def test_mean_bond_and_every_atom_three_fold(seed, spread):
    sites, info = amorphous_carbon((40.0, 40.0), rng=seed, radius_spread=spread)
    xy = _atoms_xy(sites)
    pairs, r = _pairs(xy, info["cell"], 2.0)
    bonds = r < CUTOFF
    assert abs(r[bonds].mean() - 1.42) < 0.05
    assert info["mean_bond"] == pytest.approx(1.42, abs=1e-9)
    assert np.all(np.bincount(pairs[bonds].ravel(), minlength=len(xy)) == 3)
    # relaxed: bonds in a physical range and a clear gap to the non-bonded neighbours
    assert r[bonds].min() > 1.1 and r[bonds].max() < 1.7
    assert np.all(r[~bonds] > 1.9)


def test_sites_table_contract(model):
    sites, info = model
    assert list(sites.columns) == COLUMNS
    atoms, centres = sites[sites["kind"] == "atom"], sites[sites["kind"] == "centre"]
    assert len(atoms) == info["n_atoms"] and len(centres) == info["n_centres"]
    assert set(atoms["element"]) == {"C"} and set(atoms["Z"]) == {6} and set(atoms["species_class"]) == {"C"}
    assert set(centres["element"]) == {"X"} and set(centres["Z"]) == {0} and set(centres["species_class"]) == {"centre"}
    assert (atoms["ring_size"] == 0).all() and (sites["layer"] == 0).all() and (sites["z"] == 0.0).all()
    assert not sites["at_pore_edge"].any() and sites["in_monolayer"].all() and (sites["configuration"] == 0).all()
    lx, ly = info["cell"]
    assert sites["x"].between(0.0, lx, inclusive="left").all() and sites["y"].between(0.0, ly, inclusive="left").all()
    # the default radius keeps the final cell close to the requested one
    assert lx / 40.0 == pytest.approx(1.0, abs=0.05) and ly / 35.0 == pytest.approx(1.0, abs=0.05)


def test_ring_sizes_obey_euler_for_a_periodic_three_fold_network(model):
    sites, info = model
    ring = sites.loc[sites["kind"] == "centre", "ring_size"].to_numpy()
    assert ring.min() >= 3 and ring.max() <= 12
    # torus: V - E + F = 0 with E = 3V/2, so F = V/2; each atom lies in three rings
    assert info["n_atoms"] == 2 * info["n_centres"]
    assert ring.sum() == 3 * info["n_atoms"]
    assert ring.sum() / len(ring) == 6.0


def test_centres_sit_inside_their_polygons(model):
    sites, info = model
    centres = sites[sites["kind"] == "centre"]
    dist, _ = cKDTree(_atoms_xy(sites), boxsize=info["cell"]).query(centres[["x", "y"]].to_numpy())
    circumradius = 1.42 / (2.0 * np.sin(np.pi / centres["ring_size"].to_numpy()))
    assert np.all(dist > 0.5 * circumradius)


def test_100x100_model_is_fast_and_has_amorphous_ring_statistics():
    start = time.perf_counter()
    sites, info = amorphous_carbon((100.0, 100.0), rng=7)
    elapsed = time.perf_counter() - start
    xy = _atoms_xy(sites)
    ring = sites.loc[sites["kind"] == "centre", "ring_size"].to_numpy()
    fractions = {n: round(float(np.mean(ring == n)), 3) for n in range(3, 13) if np.any(ring == n)}
    print(f"\n100 x 100 Å: {elapsed:.2f} s, {len(xy)} atoms, cell {info['cell']}, ring fractions {fractions}")
    assert elapsed < 5.0
    assert np.all(_coordination(xy, info["cell"]) == 3)
    assert max(fractions, key=fractions.get) == 6
    assert fractions[5] + fractions[6] + fractions[7] > 0.85


@pytest.mark.parametrize("spread", [0.0, 0.2])
def test_poisson_disk_keeps_its_distance_across_the_periodic_edges(spread):
    cell, radius = (30.0, 20.0), 2.0
    points = poisson_disk(cell, radius, rng=3, radius_spread=spread)
    assert np.all((points >= 0.0) & (points < cell))
    dist, _ = cKDTree(points, boxsize=cell).query(points, k=2)
    assert dist[:, 1].min() >= radius * (1.0 - 2.0 * spread) - 1e-9
    # the cell is filled up to its edges: no gap as wide as the sampling annulus
    gx, gy = np.meshgrid(np.arange(0.0, cell[0], 0.25), np.arange(0.0, cell[1], 0.25))
    gap, _ = cKDTree(points, boxsize=cell).query(np.column_stack([gx.ravel(), gy.ravel()]))
    assert gap.max() < 2.0 * radius * (1.0 + 2.0 * spread)


def test_same_seed_same_model_and_another_seed_another():
    a = poisson_disk((20.0, 20.0), 2.0, rng=(5, 1, 0))
    np.testing.assert_array_equal(a, poisson_disk((20.0, 20.0), 2.0, rng=(5, 1, 0)))
    assert not np.array_equal(a[: min(len(a), 10)], poisson_disk((20.0, 20.0), 2.0, rng=(5, 1, 1))[: min(len(a), 10)])
    sites, _ = amorphous_carbon((25.0, 25.0), rng=np.random.default_rng(11), n_pores=1)
    assert sites.equals(amorphous_carbon((25.0, 25.0), rng=np.random.default_rng(11), n_pores=1)[0])
    assert not sites.equals(amorphous_carbon((25.0, 25.0), rng=np.random.default_rng(12), n_pores=1)[0])


def test_pores_remove_exactly_the_atoms_inside_them():
    full, _ = amorphous_carbon((50.0, 50.0), rng=4)  # the pores are drawn after the network
    sites, info = amorphous_carbon((50.0, 50.0), rng=4, n_pores=3, pore_radius=(4.0, 6.0))
    cell = info["cell"]
    assert info["n_pores"] == 3 and all(4.0 <= r <= 6.0 for _, _, r in info["pores"])
    full_xy, xy = _atoms_xy(full), _atoms_xy(sites)
    inside = np.zeros(len(full_xy), bool)
    near = np.zeros(len(xy), bool)
    for x, y, r in info["pores"]:
        inside |= _periodic_distance(full_xy, (x, y), cell) < r
        near |= _periodic_distance(xy, (x, y), cell) < r + 4.0
    assert inside.any()
    np.testing.assert_array_equal(xy, full_xy[~inside])
    # centres of cut polygons are gone, the others kept; no centre lies inside a pore
    assert info["n_centres"] < len(full) - len(full_xy)
    centres = sites.loc[sites["kind"] == "centre", ["x", "y"]].to_numpy()
    for x, y, r in info["pores"]:
        assert np.all(_periodic_distance(centres, (x, y), cell) > r - 1.0)
    # atoms away from the pores stay three-fold; under-coordinated atoms are pore-edge atoms
    coordination = _coordination(xy, cell)
    edge = sites.loc[sites["kind"] == "atom", "at_pore_edge"].to_numpy()
    assert np.all(coordination[~edge] == 3)
    assert np.any(coordination[edge] < 3) and np.all(coordination >= 1)
    assert not np.any(edge & ~near)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"radius": -1.0}, "radius"),
        ({"cell": (8.0, 40.0)}, "cell"),
        ({"radius": 7.0}, "cell"),
        ({"radius_spread": 0.5}, "radius_spread"),
        ({"n_pores": -1}, "n_pores"),
        ({"n_pores": 1, "pore_radius": (5.0, 2.0)}, "pore_radius"),
        ({"n_pores": 1, "pore_radius": (5.0, 30.0)}, "pore_radius"),
        ({"bond_length": 0.0}, "bond_length"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, name):
    kwargs = {"cell": (30.0, 30.0), **kwargs}
    with pytest.raises(ValueError, match=name):
        amorphous_carbon(kwargs.pop("cell"), rng=0, **kwargs)


def test_poisson_disk_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="radius"):
        poisson_disk((20.0, 20.0), -2.0, rng=0)
    with pytest.raises(ValueError, match="cell"):
        poisson_disk((5.0, 20.0), 2.0, rng=0)


def test_sites_to_atoms_keeps_the_carbon_atoms_in_a_periodic_slab(model):
    sites, info = model
    atoms = sites_to_atoms(sites, info["cell"], thickness=6.0)
    assert len(atoms) == info["n_atoms"] and set(atoms.get_chemical_symbols()) == {"C"}
    np.testing.assert_allclose(atoms.cell.lengths(), [*info["cell"], 6.0])
    assert atoms.pbc.all()
    np.testing.assert_allclose(atoms.positions[:, 2], 3.0)
    np.testing.assert_allclose(atoms.positions[:, :2], _atoms_xy(sites))
    with pytest.raises(ValueError, match="thickness"):
        sites_to_atoms(sites, info["cell"], thickness=0.0)
