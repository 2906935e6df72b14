import numpy as np
import pytest

from atomscope._shared.seeding import stage_rng
from atomscope.simulation.shards import simulate_shard
from atomscope.structures.shards import build_shard

STRUCTURES = {"material": "amorphous_carbon", "cell": [20.0, 20.0], "radius_spread": 0.0, "pores": {"count": [0, 1], "radius": [2.0, 3.0]}}
SIMULATION = {
    "energy": 80e3,
    "image_size_px": 96,
    "sampling": [0.1, 0.12],
    "defocus": [-80.0, -40.0],
    "Cs": [-2e5, -1e5],
    "semiangle_cutoff": 25.0,
    "focal_spread": 30.0,
    "dose": [5e4, 2e5],
    "potential_sampling": 0.05,
    "target_sigma": 0.4,
}


def _shard(seed):
    sites, models = build_shard(STRUCTURES, n_models=2, first_model=4, rng=stage_rng(seed, "structures", 0))
    return sites, models, simulate_shard(sites, models, SIMULATION, stage_rng(seed, "simulation", 0))


def test_same_seed_gives_identical_shards_and_another_seed_does_not():
    sites_a, models_a, (arrays_a, table_a) = _shard(3)
    sites_b, models_b, (arrays_b, table_b) = _shard(3)
    assert sites_a.equals(sites_b) and table_a.equals(table_b)
    np.testing.assert_array_equal(arrays_a["images"], arrays_b["images"])
    _, _, (arrays_c, _) = _shard(4)
    assert not np.array_equal(arrays_a["images"], arrays_c["images"])


def test_shard_contract_and_drawn_parameters_in_range():
    sites, models, (arrays, table) = _shard(5)
    assert list(models["model"]) == [4, 5]
    assert arrays["images"].shape == (2, 1, 96, 96) and arrays["targets"].shape == (2, 2, 96, 96)
    assert list(arrays["model"]) == [4, 5]
    for key in ("defocus", "Cs", "dose"):
        lo, hi = SIMULATION[key]
        assert table[key].between(lo, hi).all()
    assert table["sampling"].between(0.099, 0.121).all()
    # counts per pixel: the mean intensity of a thin carbon sheet is close to the vacuum's
    expected = table["dose"] * table["sampling"] ** 2
    np.testing.assert_allclose(arrays["images"].mean(axis=(1, 2, 3)), expected, rtol=0.05)


def test_unknown_material_names_the_key():
    with pytest.raises(ValueError, match="structures.material"):
        build_shard({**STRUCTURES, "material": "unobtainium"}, n_models=1, first_model=0, rng=stage_rng(0, "structures"))
