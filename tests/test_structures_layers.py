"""Bilayers and contamination with the monolayer label, frozen phonons, and export to extxyz."""

from __future__ import annotations

import ase.io
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from atomscope.structures import amorphous_carbon, label_monolayer, monolayer_map, sites_to_atoms, to_extxyz
from atomscope.structures._sheet import sheet_sites
from atomscope.structures.stacking import contamination, second_layer
from atomscope.structures.vibrations import coordination, frozen_phonons


@pytest.fixture(scope="module")
def monolayer():
    return amorphous_carbon((40.0, 40.0), rng=1, n_pores=2, pore_radius=(4.0, 5.0))


@pytest.mark.parametrize("kind", ["amorphous_carbon", "graphene"])
def test_partial_second_layer_makes_monolayer_and_bilayer_regions(monolayer, kind):
    sites, info = monolayer
    flake, region = second_layer(info["cell"], kind=kind, coverage=0.4, rng=3)
    both = label_monolayer(pd.concat([sites, sheet_sites(flake, layer=1, z=3.0)], ignore_index=True), info["cell"])
    fraction = monolayer_map(both, info["cell"], sampling=0.5).mean()
    alone = monolayer_map(sites, info["cell"], sampling=0.5).mean()  # pores are not monolayer either
    # the flake covers 40 % of the cell: the label loses at least that, at most the ellipse grown by the 2.5 Å cover radius
    a, b = region["axes"]
    grown = np.pi * (a + 2.5) * (b + 2.5) / np.prod(info["cell"])
    assert 0.4 * alone - 0.02 <= alone - fraction <= grown * alone
    bottom = both[(both["layer"] == 0) & (both["kind"] == "atom")]
    xy = bottom[["x", "y"]].to_numpy()
    d = xy - region["centre"]
    d -= np.asarray(info["cell"]) * np.round(d / info["cell"])
    deep_inside = np.hypot(d[:, 0], d[:, 1]) < region["axes"][1] - 3.0  # well inside the ellipse
    far_outside = np.hypot(d[:, 0], d[:, 1]) > region["axes"][0] + 3.0
    assert deep_inside.any() and far_outside.any()
    assert not bottom["in_monolayer"].to_numpy()[deep_inside].any()
    assert bottom["in_monolayer"].to_numpy()[far_outside].all()
    # the flake is a clean carbon layer: bonds 1.2-1.75 Å, no two atoms closer than 1.2 Å
    top = flake.pos
    dist, _ = cKDTree(top, boxsize=info["cell"]).query(top, k=2)
    assert dist[:, 1].min() > 1.2 and len(flake.centres) > 0


def test_contamination_sits_on_top_and_is_never_monolayer(monolayer):
    sites, info = monolayer
    dirt, clusters = contamination(info["cell"], count=2, radius=(5.0, 6.0), z_base=0.0, layer=1, rng=0)
    assert len(clusters) == 2 and set(dirt["element"]) == {"C", "H"} and set(dirt["species_class"]) == {"contamination"}
    assert dirt["z"].min() >= 2.5 and (dirt["layer"] == 1).all()
    xyz = dirt[["x", "y", "z"]].to_numpy()
    dist, _ = cKDTree(xyz + [0, 0, 0], boxsize=[*info["cell"], 100.0]).query(xyz, k=2)
    assert dist[:, 1].min() >= 1.1
    labelled = label_monolayer(pd.concat([sites, dirt], ignore_index=True), info["cell"])
    below = labelled[(labelled["layer"] == 0) & (labelled["kind"] == "atom")]
    for cluster in clusters:
        d = below[["x", "y"]].to_numpy() - [cluster["x"], cluster["y"]]
        d -= np.asarray(info["cell"]) * np.round(d / info["cell"])
        under = np.hypot(d[:, 0], d[:, 1]) < 0.5 * cluster["r"]
        assert under.any() and not below["in_monolayer"].to_numpy()[under].any()


def test_undercoordinated_atoms_vibrate_more(monolayer):
    sites, info = monolayer
    cn = coordination(sites, info["cell"])
    assert set(np.unique(cn)) <= {1, 2, 3} and np.sum(cn == 2) > 10
    shaken = frozen_phonons(sites, info["cell"], configurations=40, amplitude=0.1, gain=0.5, rng=0)
    assert shaken["configuration"].max() == 40
    pd.testing.assert_frame_equal(shaken[shaken["configuration"] == 0].reset_index(drop=True), sites.reset_index(drop=True))
    atoms0 = sites.loc[sites["kind"] == "atom", ["x", "y"]].to_numpy()
    moved = np.stack([shaken.loc[shaken["configuration"] == k, ["x", "y"]].to_numpy() for k in range(1, 41)])
    d = moved - atoms0
    d -= np.asarray(info["cell"]) * np.round(d / info["cell"])
    rms = np.sqrt((d**2).mean(axis=(0, 2)))  # per atom, per direction
    assert rms[cn == 3].mean() == pytest.approx(0.1, rel=0.05)
    assert rms[cn == 2].mean() / rms[cn == 3].mean() == pytest.approx(1.5, rel=0.08)  # one missing neighbour: x 1.5
    # the simulation reads one configuration at a time; configuration 0 stays the labelled model
    np.testing.assert_allclose(sites_to_atoms(shaken, info["cell"]).positions[:, :2], atoms0)
    assert len(sites_to_atoms(shaken, info["cell"], configuration=7)) == len(atoms0)


def test_extxyz_round_trip_keeps_sites_labels_and_configurations(tmp_path, monolayer):
    sites, info = monolayer
    shaken = frozen_phonons(sites, info["cell"], configurations=2, rng=1)
    path = tmp_path / "model.extxyz"
    to_extxyz(shaken, info["cell"], path)
    frames = ase.io.read(path, ":")
    assert len(frames) == 3 and [f.info["configuration"] for f in frames] == [0, 1, 2]
    first = frames[0]
    assert len(first) == len(sites) and first.get_chemical_symbols().count("X") == info["n_centres"]
    np.testing.assert_allclose(first.positions[:, :2], sites[["x", "y"]].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(first.cell.lengths()[:2], info["cell"], atol=1e-6)
    assert list(first.arrays["species_class"][:2]) == ["C", "C"] and set(first.arrays["kind"]) == {"atom", "centre"}
    assert first.arrays["in_monolayer"].all() and (first.arrays["ring_size"] >= 0).all()
    assert len(frames[1]) == info["n_atoms"]


def test_thick_contamination_is_taller_and_the_atoms_target_leaves_it_out(monolayer):
    """aspect 3 makes clusters 6x as tall as the default 0.5; the atoms channel marks the
    layer's atoms and none of the contamination (no resolved columns)."""
    from atomscope.labels import channel_sites

    sites, info = monolayer
    flat, _ = contamination(info["cell"], count=1, radius=(6.0, 6.0), z_base=0.0, layer=1, rng=0)
    tall, _ = contamination(info["cell"], count=1, radius=(6.0, 6.0), z_base=0.0, layer=1, rng=0, aspect=(3.0, 3.0))
    assert (tall["z"].max() - 2.5) / (flat["z"].max() - 2.5) == pytest.approx(6.0, rel=0.15)
    assert len(tall) / len(flat) == pytest.approx(6.0, rel=0.15)  # the same density in 6x the volume
    both = pd.concat([sites, tall], ignore_index=True)
    marked = both[channel_sites(both, "atoms")]
    assert len(marked) == (sites["kind"] == "atom").sum() and "contamination" not in set(marked["species_class"])


def test_a_large_second_layer_in_an_oblong_cell_shrinks_to_the_largest_patch_that_fits():
    """Coverage 0.6 of a 40 x 49.9 Å cell cannot be a patch that fits (its circle would be 39 Å
    across): the patch becomes the largest round one, 0.95 x 40 Å across (57 % of the cell)."""
    sheet, info = second_layer((40.0, 49.9), kind="graphene", coverage=0.6, rng=0)
    box = np.asarray(sheet.box)
    area = np.pi * (0.475 * 40.0) ** 2
    assert len(sheet.pos) == pytest.approx(area * 0.3819, rel=0.1)  # graphene: 0.3819 atoms / Å²
    assert len(sheet.pos) < 0.6 * box.prod() * 0.3819 * 0.97
