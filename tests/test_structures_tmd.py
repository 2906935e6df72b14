"""TMD monolayers, their defects and species classes; twisted and hetero-stacked bilayers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from atomscope.structures.crystals import LATTICE_CONSTANTS, aligned_cell, tmd_layer, tmd_sites
from atomscope.structures.defects import tmd_defects
from atomscope.structures.stacking import INTERLAYER, coincidence_cell


def _nearest(xy, cell, k=1):
    dist, _ = cKDTree(xy, boxsize=cell).query(xy, k=k + 1)
    return dist[:, 1:]


@pytest.mark.parametrize(
    ("material", "metal", "chalcogen", "a", "bond"),
    [("MoS2", "Mo", "S", 3.16, 2.41), ("MoSe2", "Mo", "Se", 3.29, 2.53), ("WS2", "W", "S", 3.18, 2.41)],
)
def test_lattice_constant_and_bond_measured_from_the_model(material, metal, chalcogen, a, bond):
    layer = tmd_layer(material, (30.0, 30.0))
    sites = tmd_sites(layer)
    cell = aligned_cell(material, (30.0, 30.0))
    metals = sites.loc[sites["element"] == metal, ["x", "y"]].to_numpy()
    measured = _nearest(metals, cell, k=6)
    assert measured.mean() == pytest.approx(a, abs=0.01) and measured.std() < 1e-6
    # metal-chalcogen bond of the trigonal prism (2.41 Å in MoS2, 2.53 Å in MoSe2)
    xyz = sites[["x", "y", "z"]].to_numpy() + [0.0, 0.0, 50.0]  # z into the (non-wrapping) periodic box
    dist, _ = cKDTree(xyz, boxsize=[*cell, 100.0]).query(xyz[(sites["element"] == metal).to_numpy()], k=7)
    assert dist[:, 1:].mean() == pytest.approx(bond, abs=0.02)
    assert len(sites) == 3 * len(metals) and set(sites["species_class"]) == {metal, f"{chalcogen}2"}


def test_species_class_counts_match_the_construction():
    layer = tmd_layer("MoS2", (40.0, 40.0))
    n_columns = layer.groupby("site")["column"].nunique()
    defective, records = tmd_defects(layer, rng=3, chalcogen_vacancy=0.1, chalcogen_double_vacancy=0.05, metal_vacancy=0.03)
    sites = tmd_sites(defective)
    n_single, n_double = round(0.1 * n_columns["chalcogen"]), round(0.05 * n_columns["chalcogen"])
    n_metal = round(0.03 * n_columns["metal"])
    counts = sites.groupby("species_class").size().to_dict()
    assert counts == {
        "Mo": n_columns["metal"] - n_metal,
        "S": n_single,  # one atom left in the column
        "S2": 2 * (n_columns["chalcogen"] - n_single - n_double),  # two atoms per intact column
        "vacancy": n_double + n_metal,
    }
    assert (sites.loc[sites["species_class"] == "vacancy", ["kind", "element", "Z"]].drop_duplicates().values.tolist() == [["vacancy", "X", 0]])
    types = [r["type"] for r in records]
    assert types.count("chalcogen_vacancy") == n_single and types.count("chalcogen_double_vacancy") == n_double
    assert types.count("metal_vacancy") == n_metal


def test_substitutions_name_the_column_content():
    layer = tmd_layer("WS2", (40.0, 40.0))
    defective, records = tmd_defects(layer, rng=1, substitutions={"Fe": 0.05, "Te": 0.1})
    sites = tmd_sites(defective)
    n_w, n_s = (layer["site"] == "metal").sum(), (layer["site"] == "chalcogen").sum()
    assert (sites["element"] == "Fe").sum() == round(0.05 * n_w) and (sites["element"] == "W").sum() == n_w - round(0.05 * n_w)
    assert (sites["element"] == "Te").sum() == round(0.1 * n_s)
    classes = sites.groupby("species_class")["element"].apply(lambda e: sorted(set(e))).to_dict()
    assert classes["Fe"] == ["Fe"] and classes["STe"] == ["S", "Te"] and classes["S2"] == ["S"]
    assert sum(r["type"] == "substitution_Te" for r in records) == round(0.1 * n_s)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"chalcogen_vacancy": 1.5}, "chalcogen_vacancy"),
        ({"chalcogen_vacancy": 0.6, "chalcogen_double_vacancy": 0.6}, "chalcogen_double_vacancy"),
        ({"substitutions": {"Xx": 0.1}}, "Xx"),
        ({"substitutions": {"Se": 0.7, "Te": 0.7}}, "substitutions"),
    ],
)
def test_bad_tmd_defects_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        tmd_defects(tmd_layer("MoS2", (20.0, 20.0)), rng=0, **kwargs)


def test_twisted_bilayer_is_commensurate_at_the_drawn_angle():
    cc = coincidence_cell("MoS2", "MoS2", (40.0, 40.0), twist=(15.0, 25.0), rng=2)
    assert 15.0 <= cc["twist"] <= 25.0 and cc["top_scale"] == pytest.approx(1.0, abs=1e-12)
    bottom = tmd_layer("MoS2", (40.0, 40.0), box=cc["box"], angle=cc["bottom_angle"])
    top = tmd_layer("MoS2", (40.0, 40.0), box=cc["box"], angle=cc["top_angle"])
    assert len(bottom) == len(top)  # same area, same density: both fill the cell exactly
    for layer in (bottom, top):
        metals = layer.loc[layer["site"] == "metal", ["x", "y"]].to_numpy()
        np.testing.assert_allclose(_nearest(metals, cc["box"], k=6), 3.16, atol=1e-6)  # no seam at the cell edge
    # the top lattice is the bottom one turned by the twist (mod 120° for a TMD)
    metal_bottom = bottom.loc[bottom["site"] == "metal", ["x", "y"]].to_numpy()
    d = metal_bottom - metal_bottom[0]
    d -= np.asarray(cc["box"]) * np.round(d / cc["box"])
    near = d[np.abs(np.hypot(*d.T) - 3.16) < 1e-6]
    angles_bottom = np.sort(np.mod(np.degrees(np.arctan2(near[:, 1], near[:, 0])), 120.0))
    metal_top = top.loc[top["site"] == "metal", ["x", "y"]].to_numpy()
    d = metal_top - metal_top[0]
    d -= np.asarray(cc["box"]) * np.round(d / cc["box"])
    near = d[np.abs(np.hypot(*d.T) - 3.16) < 1e-6]
    angles_top = np.sort(np.mod(np.degrees(np.arctan2(near[:, 1], near[:, 0])), 120.0))
    assert np.mod(angles_top[0] - angles_bottom[0], 60.0) == pytest.approx(np.mod(cc["twist"], 60.0), abs=1e-6)
    with pytest.raises(ValueError, match="twist"):
        coincidence_cell("MoS2", "MoS2", (20.0, 20.0), twist=(1.0, 2.0), rng=0)


def test_mos2_on_graphene_strains_mos2_by_at_most_one_percent():
    cc = coincidence_cell("graphene", "MoS2", (40.0, 40.0), twist=(0.0, 60.0), rng=0)
    assert abs(cc["top_scale"] - 1.0) <= 0.01
    top = tmd_layer("MoS2", (40.0, 40.0), box=cc["box"], angle=cc["top_angle"], scale=cc["top_scale"])
    metals = top.loc[top["site"] == "metal", ["x", "y"]].to_numpy()
    np.testing.assert_allclose(_nearest(metals, cc["box"], k=6), 3.16 * cc["top_scale"], atol=1e-6)
    assert INTERLAYER[("graphene", "MoS2")] == pytest.approx(3.4 + 3.17 / 2)
    assert LATTICE_CONSTANTS["graphene"] == 2.46


def test_per_material_fractions_replace_the_shared_ones():
    """structures.tmd.materials: WS2 gets Te and Fe, MoS2 its Se, MoSe2 the shared fractions."""
    from atomscope.structures.materials import build_shard

    config = {
        "material": ["MoS2", "MoSe2", "WS2"],
        "cell": [20.0, 20.0],
        "tmd": {"metal_vacancy": 0.05, "materials": {"MoS2": {"substitutions": {"Se": 0.1}}, "WS2": {"substitutions": {"Te": 0.1, "Fe": 0.1}, "metal_vacancy": 0.0}}},
    }
    sites, models = build_shard(config, n_models=12, first_model=0, rng=np.random.default_rng(3))
    for material, model in models.groupby("material")["model"]:
        atoms = sites[sites["model"].isin(model) & (sites["kind"] == "atom")]
        elements = set(atoms["element"])
        vacancies = (sites["model"].isin(model) & (sites["species_class"] == "vacancy")).sum()
        if material == "MoS2":
            assert elements == {"Mo", "S", "Se"} and vacancies > 0
        elif material == "WS2":
            assert elements == {"W", "S", "Te", "Fe"} and vacancies == 0
        else:
            assert elements == {"Mo", "Se"} and vacancies > 0
