"""The structures stage from its config section: every material, the models table, config errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from atomscope._shared.seeding import stage_rng
from atomscope.config import SCHEMA_PATH
from atomscope.structures import amorphous_carbon
from atomscope.structures.materials import MATERIALS, build_shard

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(SCHEMA_PATH)
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
SMALL = {"cell": [24.0, 24.0], "pores": {"count": [0, 0]}}


def test_default_config_gives_the_plain_amorphous_model():
    sites, models = build_shard(CONFIG["structures"], n_models=1, first_model=0, rng=stage_rng(1, "structures", 0))
    rng = stage_rng(1, "structures", 0)
    n_pores = int(rng.integers(0, 3))
    expected, info = amorphous_carbon((40.0, 40.0), rng=rng, n_pores=n_pores, pore_radius=(3.0, 6.0))
    assert sites.drop(columns="model").equals(expected)
    assert models.loc[0, "n_atoms"] == info["n_atoms"] and models.loc[0, "n_layers"] == 1 and not models.loc[0, "relaxed"]


@pytest.mark.parametrize("material", MATERIALS)
def test_every_material_builds_with_labels_and_a_models_row(material):
    config = {**SMALL, "material": material, "contamination": {"count": [1, 1]}, "vibrations": {"configurations": 1}}
    if material in ("MoS2_on_graphene", "twisted_bilayer_MoS2"):
        config["cell"] = [40.0, 40.0]  # coincidence cells need room
    if material == "graphene":
        config["graphene"] = {"defects": {"stone_wales": [1, 1]}}
    if material in ("MoS2", "MoSe2", "WS2", "MoS2_on_graphene", "twisted_bilayer_MoS2"):
        config["tmd"] = {"chalcogen_vacancy": 0.05, "metal_vacancy": 0.02}
    sites, models = build_shard(config, n_models=1, first_model=3, rng=stage_rng(2, "structures", 1))
    row = models.iloc[0]
    base = sites[sites["configuration"] == 0]
    assert row["model"] == 3 and row["material"] == material
    assert row["n_atoms"] == (base["kind"] == "atom").sum() and row["n_vacancies"] == (base["kind"] == "vacancy").sum()
    assert set(sites["configuration"]) == {0, 1} and (sites.loc[sites["configuration"] == 1, "kind"] == "atom").all()
    defects = json.loads(row["defects"])
    assert row["n_defects"] == len(defects) and {"type", "x", "y"} <= set(defects[0])
    assert "contamination" in {d["type"] for d in defects}
    assert base["in_monolayer"].dtype == bool and 0.0 <= row["monolayer_fraction"] <= 1.0
    assert row["n_layers"] == (2 if material in ("MoS2_on_graphene", "twisted_bilayer_MoS2") else 1)
    assert row["cell_x"] >= 24.0 - 1.0 and base["x"].between(0, row["cell_x"], inclusive="left").all()
    if row["n_layers"] == 2:  # stacked layers are never monolayer
        assert row["monolayer_fraction"] == 0.0 and not base["in_monolayer"].any()
        assert abs(row["strain"]) <= 0.01 and 0.0 <= row["twist"] <= 60.0


def test_bilayer_probability_one_gives_every_model_a_second_layer():
    config = {**SMALL, "cell": [30.0, 30.0], "bilayer": {"probability": 1.0, "kind": ["graphene"], "spacing": [2.0, 2.0], "coverage": [0.5, 0.5]}}
    sites, models = build_shard(config, n_models=2, first_model=0, rng=stage_rng(3, "structures", 0))
    assert list(models["second_layer"]) == ["graphene", "graphene"] and (models["layer_spacing"] == 2.0).all()
    assert (models["n_layers"] == 2).all() and models["monolayer_fraction"].between(0.2, 0.6).all()
    assert set(sites.loc[sites["layer"] == 1, "z"]) == {2.0}


def test_relax_switch_reaches_the_amorphous_model():
    sites, models = build_shard({**SMALL, "relax": True}, n_models=1, first_model=0, rng=stage_rng(4, "structures", 0))
    plain, _ = build_shard(SMALL, n_models=1, first_model=0, rng=stage_rng(4, "structures", 0))
    assert models.loc[0, "relaxed"] and abs(models.loc[0, "mean_bond"] - 1.42) < 0.03
    assert len(sites) == len(plain) and not np.allclose(sites["x"], plain["x"])


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("radius", -1.0, "-1.0"),
        ("material", "unobtainium", "unobtainium"),
        ("radius_spread", 0.5, "0.5"),
        ("tmd", {"chalcogen_vacancy": 1.5}, "1.5"),
        ("graphene", {"defects": {"pentagon": [1, 1]}}, "pentagon"),
        ("vibrations", {"configurations": -1}, "-1"),
    ],
)
def test_bad_config_fails_validation(key, value, message):
    config = copy.deepcopy(CONFIG)
    config["structures"][key] = value
    with pytest.raises(WorkflowError, match=message):
        validate(config, SCHEMA)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"material": "unobtainium"}, "structures.material"),
        ({"material": "graphene", "graphene": {"defects": {"divacancy_585": [30, 30]}}}, "structures.graphene.defects"),
        ({"material": "twisted_bilayer_MoS2", "twist": [1.0, 2.0]}, "structures.twist"),
        ({"pores": {"count": [1, 1], "radius": [20.0, 20.0]}}, "structures: `pore_radius`"),
        ({"radius": 30.0}, "structures: `cell`.*lower `radius`"),
        ({"material": "MoS2", "tmd": {"chalcogen_vacancy": 0.7, "chalcogen_double_vacancy": 0.7}}, "structures.tmd"),
        ({"contamination": {"count": [1, 1], "radius": [30.0, 30.0]}}, "structures.contamination"),
    ],
)
def test_models_that_cannot_be_built_stop_naming_the_key(override, key):
    with pytest.raises(ValueError, match=key):
        build_shard({**SMALL, **override}, n_models=1, first_model=0, rng=stage_rng(0, "structures", 0))


def test_the_material_registry_is_what_the_schema_offers():
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    assert list(MATERIALS) == schema["definitions"]["material"]["enum"]
    assert [name for name, material in MATERIALS.items() if material.carbon] == ["amorphous_carbon", "graphene"]


def test_a_list_of_materials_draws_one_per_model():
    config = {**SMALL, "material": ["graphene", "amorphous_carbon"]}
    sites, models = build_shard(config, n_models=12, first_model=0, rng=stage_rng(2, "structures", 0))
    assert set(models["material"]) == {"graphene", "amorphous_carbon"}
    graphene = models.loc[models["material"] == "graphene", "model"]
    # graphene models hold only hexagons; amorphous ones other rings too
    rings = sites[(sites["kind"] == "centre") & sites["model"].isin(graphene)]["ring_size"]
    assert set(rings) == {6}
    with pytest.raises(ValueError, match=r"structures.material: unknown material\(s\) \['glass'\]"):
        build_shard({**config, "material": ["graphene", "glass"]}, n_models=1, first_model=0, rng=stage_rng(2, "structures", 0))
