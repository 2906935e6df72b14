"""Simulation shards: determinism, the contract, modes, focal series, targets, frozen phonons, artefacts."""

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import validate

from atomscope._shared.seeding import stage_rng
from atomscope.config import SCHEMA_PATH
from atomscope._shared.sharding import shard_span
from atomscope.io import ImageGrid
from atomscope.labels import sites_in_view
from atomscope.simulation.microscope import draw_microscope, shard_attrs, simulate_model, simulate_shard
from atomscope.simulation import Lens
from atomscope.simulation.stem import scan_positions, stem_convolution
from atomscope.structures import sites_to_atoms
from atomscope.structures.materials import build_shard

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())

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


TMD = {"material": "MoS2", "cell": [20.0, 20.0]}


def _tmd_shard(config, seed=0, n=1):
    sites, models = build_shard(TMD, n_models=n, first_model=0, rng=stage_rng(seed, "structures", 0))
    return sites, models, simulate_shard(sites, models, config, stage_rng(seed, "simulation", 0))


def _dataset_shard(config, images, shard, shard_size=2, seed=3):
    """Shard ``shard`` of a dataset of ``images``, built as the workflow's scripts do from the shard's params."""
    first, n = shard_span(images, shard_size, shard)
    sites, models = build_shard(TMD, n_models=n, first_model=first, rng=stage_rng(seed, "structures", shard))
    return sites, models, simulate_shard(sites, models, config, stage_rng(seed, "simulation", shard))


def test_a_shard_does_not_depend_on_the_dataset_size_and_a_growing_last_shard_keeps_its_images(mos2_stem):
    sites, models, (arrays, table) = _dataset_shard(mos2_stem, images=4, shard=1)
    sites_b, models_b, (arrays_b, table_b) = _dataset_shard(mos2_stem, images=40, shard=1)
    assert list(models["model"]) == [2, 3] and sites.equals(sites_b) and models.equals(models_b) and table.equals(table_b)
    np.testing.assert_array_equal(arrays["images"], arrays_b["images"])
    # the last shard of 5 images holds image 4 alone; with 6 images it holds 4 and 5, image 4 unchanged
    sites, models, (arrays, table) = _dataset_shard(mos2_stem, images=5, shard=2)
    sites_b, models_b, (arrays_b, table_b) = _dataset_shard(mos2_stem, images=6, shard=2)
    assert list(models["model"]) == [4] and list(models_b["model"]) == [4, 5]
    assert sites.equals(sites_b[sites_b["model"] == 4]) and table.equals(table_b.iloc[:1])
    np.testing.assert_array_equal(arrays["images"], arrays_b["images"][:1])
    np.testing.assert_array_equal(arrays["targets"], arrays_b["targets"][:1])


def test_focal_series_has_one_channel_per_offset_and_records_each_defocus():
    config = {**SIMULATION, "image_size_px": 64, "defocus": [-5.0, 5.0], "defocus_offsets": [-30.0, 20.0, 70.0]}
    config |= {"astigmatism": [0.0, 30.0], "angular_spread": 0.3, "energy": [60e3, 80e3]}
    _, _, (arrays, table) = _tmd_shard(config, n=2)
    assert arrays["images"].shape == (2, 3, 64, 64)
    assert shard_attrs(config)["channel_names"] == ["hrtem_df-30", "hrtem_df+20", "hrtem_df+70"]
    for c, offset in enumerate((-30.0, 20.0, 70.0)):
        np.testing.assert_allclose(table[f"defocus_{c}"], table["defocus"] + offset)
    assert table["defocus"].between(-5, 5).all() and table["astigmatism"].between(0, 30).all()
    assert table["astigmatism_angle"].between(0, np.pi).all() and set(table["energy"]) <= {60e3, 80e3}
    assert (table["angular_spread"] == 0.3).all()
    # three defoci give three different images of the same model
    images = arrays["images"][0]
    assert np.corrcoef(images[0].ravel(), images[2].ravel())[0, 1] < 0.9


def test_species_and_monolayer_targets_of_a_tmd_peak_at_their_columns_and_the_brightest_stem_columns(mos2_stem):
    sites, models, (arrays, table) = _tmd_shard(mos2_stem)
    attrs = shard_attrs(mos2_stem)
    assert attrs["target_names"] == ["atoms", "centres", "monolayer", "species:Mo", "species:S2"]
    targets, image, s = arrays["targets"][0], arrays["images"][0, 0], arrays["sampling"][0]
    model = models.iloc[0]
    view = sites_in_view(sites, (model.cell_x, model.cell_y), ImageGrid((64, 64), s))
    counts = {}
    for name, species in (("species:Mo", "Mo"), ("species:S2", "S2")):
        heat = targets[attrs["target_names"].index(name)]
        columns = view.loc[(view["species_class"] == species) & view["x"].between(1, 8.5) & view["y"].between(1, 8.5), ["x", "y"]]
        assert len(columns) >= 3
        pixels = [(round(y / s), round(x / s)) for x, y in columns.to_numpy()]  # rows = y
        assert all(heat[p] > 0.9 for p in pixels)
        counts[species] = np.mean([image[p] for p in pixels])
    # the Mo channel peaks where the image (Z contrast) is brightest, the S2 channel where it is second brightest
    assert counts["Mo"] > 1.3 * counts["S2"] > 1.3 * np.median(image)
    assert targets[attrs["target_names"].index("monolayer")].min() == 1.0  # a single MoS2 layer covers everything
    assert table.loc[0, "mode"] == "stem_convolution"


def test_monolayer_target_is_zero_under_the_second_layer():
    structures = {**STRUCTURES, "cell": [24.0, 24.0], "bilayer": {"probability": 1.0, "kind": ["graphene"], "coverage": [0.5, 0.5]}}
    sites, models = build_shard(structures, n_models=1, first_model=0, rng=stage_rng(2, "structures", 0))
    config = {**SIMULATION, "image_size_px": 200, "sampling": 0.1, "targets": {"monolayer": True, "species": []}}
    image, targets, sampling = simulate_model(
        sites, (models.cell_x[0], models.cell_y[0]), draw_params(config), config, rng=np.random.default_rng(0)
    )
    mask = targets[2]
    # every atom of the second layer (layer 1) in view sits on a 0 of the mask, away from its edge
    top = sites_in_view(sites[sites["layer"] == 1], (models.cell_x[0], models.cell_y[0]), ImageGrid((200, 200), sampling))
    inner = top[top["in_monolayer"] == False]  # noqa: E712
    assert len(inner) > 20
    assert np.mean([mask[round(y / sampling), round(x / sampling)] == 0 for x, y in inner[["x", "y"]].to_numpy()]) > 0.95
    assert 0.1 < mask.mean() < 0.9


def draw_params(config):
    return draw_microscope(config, np.random.default_rng(0))


def test_frozen_phonons_average_the_configurations_and_labels_stay_at_equilibrium(mos2_stem):
    structures = {**TMD, "vibrations": {"configurations": 2, "amplitude": 0.15, "gain": 0.0}}
    sites, models = build_shard(structures, n_models=1, first_model=0, rng=stage_rng(0, "structures", 0))
    config = {**mos2_stem, "dose": 1e12, "targets": {"monolayer": False, "species": []}}
    cell = (models.cell_x[0], models.cell_y[0])
    params = draw_params(config)
    image, targets, s = simulate_model(sites, cell, params, config, rng=np.random.default_rng(1))
    positions = scan_positions((64, 64), s)
    per_configuration = [stem_convolution(sites_to_atoms(sites, cell, configuration=c), positions, Lens(semiangle_cutoff=30.0)) for c in (0, 1, 2)]
    recorded = image[0] / (1e12 * s**2)
    np.testing.assert_allclose(recorded, np.mean(per_configuration[1:], axis=0), rtol=2e-3, atol=1e-6)
    assert np.abs(recorded - per_configuration[0]).max() > 0.05 * per_configuration[0].max()
    labels = sites_in_view(sites, cell, ImageGrid((64, 64), s))
    atoms = labels.loc[labels["kind"] == "atom", ["x", "y"]].to_numpy()
    assert len(atoms) > 10 and all(targets[0][round(y / s), round(x / s)] > 0.9 for x, y in atoms)
    _, table = simulate_shard(sites, models, config, stage_rng(0, "simulation", 0))
    assert table.loc[0, "configurations"] == 2


def test_artefacts_are_drawn_recorded_and_deterministic(mos2_stem):
    config = {
        **mos2_stem,
        "artefacts": {"blur": [0.5, 1.0], "illumination": 0.2, "background": [0.05, 0.1], "scan_drift": 0.01, "scan_jitter": 0.3},
    }
    _, _, (a, table_a) = _tmd_shard(config, seed=3, n=2)
    _, _, (b, table_b) = _tmd_shard(config, seed=3, n=2)
    np.testing.assert_array_equal(a["images"], b["images"])
    np.testing.assert_array_equal(a["targets"], b["targets"])
    assert table_a.equals(table_b)
    assert table_a["blur"].between(0.5, 1.0).all() and (table_a["illumination"] == 0.2).all()
    assert table_a["illumination_angle"].nunique() == 2 and table_a["scan_drift_angle"].nunique() == 2
    _, _, (c, _) = _tmd_shard(config, seed=4, n=2)
    assert not np.array_equal(a["images"], c["images"])


def test_a_dose_series_shares_every_other_draw(mos2_stem):
    """Shards at two fixed doses: the same structures under the same microscope per image (the
    noise of image 0, whose draw count grows with the dose, used to shift image 1's parameters)."""
    config = {**mos2_stem, "sampling": [0.1, 0.14], "defocus": [-30.0, 30.0], "artefacts": {"scan_jitter": [0.0, 0.4], "offset": [0.0, 1.0]}}
    _, _, (low, table_low) = _tmd_shard({**config, "dose": 1e3}, seed=2, n=3)
    _, _, (high, table_high) = _tmd_shard({**config, "dose": 1e5}, seed=2, n=3)
    assert (table_low["dose"] == 1e3).all() and (table_high["dose"] == 1e5).all()
    pd.testing.assert_frame_equal(table_low.drop(columns="dose"), table_high.drop(columns="dose"))
    assert table_low["sampling"].nunique() == 3
    np.testing.assert_array_equal(low["targets"], high["targets"])
    # the counts scale with the dose: 100 x the mean counts, to within the low dose's shot noise
    np.testing.assert_allclose(high["images"].mean(axis=(1, 2, 3)), 100 * low["images"].mean(axis=(1, 2, 3)), rtol=0.05)


def test_stem_multislice_shard_runs_through_abtem(mos2_stem):
    config = {**mos2_stem, "mode": "stem_multislice", "image_size_px": 12, "sampling": 0.4, "targets": {"monolayer": False, "species": []}}
    sites, models = build_shard(TMD, n_models=1, first_model=0, rng=stage_rng(0, "structures", 0))
    arrays, table = simulate_shard(sites, models, config, stage_rng(0, "simulation", 0))
    assert arrays["images"].shape == (1, 1, 12, 12) and shard_attrs(config)["channel_names"] == ["adf"]
    assert table.loc[0, "sampling"] == 0.4
    # the same draws in the convolution mode give the same image up to shot noise (~4 % at ~700 e/px)
    approximate, _ = simulate_shard(sites, models, {**config, "mode": "stem_convolution"}, stage_rng(0, "simulation", 0))
    assert np.corrcoef(arrays["images"].ravel(), approximate["images"].ravel())[0, 1] > 0.95
    assert approximate["images"].mean() == pytest.approx(arrays["images"].mean(), rel=0.15)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("mode", "tem", "simulation.mode"),
        ("defocus", [10.0, -10.0], "simulation.defocus"),
        ("defocus_offsets", [], "simulation.defocus_offsets"),
        ("targets", {"species": ["Mo", "Mo"]}, "simulation.targets.species"),
        ("semiangle_cutoff", 0.0, r"^simulation: `semiangle_cutoff` must be finite and > 0, got 0\.0$"),
    ],
)
def test_config_errors_name_their_key(key, value, message, mos2_stem):
    sites, models = build_shard(TMD, n_models=1, first_model=0, rng=stage_rng(0, "structures", 0))
    with pytest.raises(ValueError, match=message):
        simulate_shard(sites, models, {**mos2_stem, key: value}, stage_rng(0, "simulation", 0))


def test_leist_preset_is_a_valid_config_of_100_shards():
    preset = yaml.safe_load((ROOT / "config" / "presets" / "leist2022.yaml").read_text())
    config = copy.deepcopy(CONFIG)
    for section, values in preset.items():  # Snakemake's --configfile merge, one level deep suffices here
        config[section] = {**config[section], **values} if isinstance(values, dict) and section != "datasets" else values
    validate(config, str(SCHEMA_PATH))
    assert config["datasets"]["train"]["images"] == 5000 and -(-5000 // config["datasets"]["train"]["shard_size"]) == 100
    assert shard_attrs(config["simulation"])["target_names"] == ["atoms", "centres", "monolayer"]


def _preset_config(preset: str) -> dict:
    """config/config.yaml with the preset's sections merged over it, validated against the schema."""
    values = yaml.safe_load((ROOT / "config" / "presets" / f"{preset}.yaml").read_text())
    config = copy.deepcopy(CONFIG)
    for section, value in values.items():
        config[section] = {**config[section], **value} if isinstance(value, dict) and section != "datasets" else value
    validate(config, str(SCHEMA_PATH))
    return config


@pytest.mark.parametrize(
    ("preset", "species"),
    [
        ("tmd_stem", ["Mo", "W", "Fe", "S2", "S", "Se2", "Se", "SSe", "STe", "vacancy"]),
        ("graphene_dopant_stem", ["C", "Si", "N"]),
        ("mos2_focal_hrtem", ["Mo", "S2", "S", "SSe", "vacancy"]),
        ("mos2_hrtem", ["Mo", "S2", "S", "SSe", "vacancy"]),
    ],
)
def test_species_presets_are_valid_configs_with_a_species_target_per_class(preset, species):
    config = _preset_config(preset)
    assert config["preset"] == preset and config["training"]["model"] == preset
    assert shard_attrs(config["simulation"])["target_names"] == ["atoms", "centres", *(f"species:{s}" for s in species)]


def test_float16_storage_keeps_counts_to_three_digits_and_refuses_bright_images(mos2_stem):
    from atomscope.simulation.microscope import _stored

    rng = np.random.default_rng(0)
    images = rng.poisson(300.0, size=(2, 1, 16, 16)).astype(np.float32)
    targets = rng.uniform(0, 1, size=(2, 3, 16, 16)).astype(np.float32)
    small = _stored(images, targets, "float16")
    assert small["images"].dtype == np.float16 and np.abs(small["images"].astype(np.float32) - images).max() <= 0.125
    assert np.abs(small["targets"].astype(np.float32) - targets).max() <= 1 / 64 + 1e-6
    np.testing.assert_array_equal((small["targets"].astype(np.float32) * 32) % 1, 0)  # steps of 1/32
    assert _stored(images, targets, "float32")["images"].dtype == np.float32
    with pytest.raises(ValueError, match="simulation.storage: float16 holds at most 65504"):
        _stored(images * 1000, targets, "float16")


@pytest.mark.parametrize("preset", ["carbon_hrtem", "carbon_stem"])
def test_shipped_model_presets_are_valid_configs(preset):
    """The recipes of the shipped models validate against the schema and train atoms, centres and the monolayer mask."""
    config = _preset_config(preset)
    assert config["preset"] == preset and config["training"]["model"] == preset
    assert config["training"]["normalisation"] in ("local", "local_context")  # robust to bright contamination
    assert shard_attrs(config["simulation"])["target_names"] == ["atoms", "centres", "monolayer"]


def test_scherzer_draws_replace_defocus_and_cs_by_an_uncorrected_lens():
    """With probability 1 every image gets Cs from the uncorrected range and the Scherzer defocus
    sqrt(4/3 Cs lambda): 747 Å for Cs = 1 mm at 80 kV (lambda = 0.0418 Å)."""
    from atomscope.simulation.microscope import draw_microscope, scherzer_defocus

    assert scherzer_defocus(1e7, 80e3) == pytest.approx(746.2, abs=0.5)
    config = {"mode": "hrtem", "energy": 80e3, "scherzer": {"probability": 1.0, "Cs": [5e6, 1.5e7]}}
    rng = np.random.default_rng(0)
    for _ in range(5):
        params = draw_microscope(config, rng)
        assert 5e6 <= params["Cs"] <= 1.5e7
        assert params["defocus"] == pytest.approx(np.sqrt(4 / 3 * params["Cs"] * 0.041757), rel=1e-4)
    plain = draw_microscope({"mode": "hrtem"}, np.random.default_rng(0))
    assert -80 <= plain["defocus"] <= -40


def test_offset_lowers_the_contrast_by_its_pedestal(mos2_stem):
    """A pedestal of 1x the mean signal adds the mean to every pixel: the mean doubles, the
    (noise-free, blur-free) image's spread is unchanged."""
    from atomscope.simulation.microscope import _record

    clean = np.random.default_rng(0).uniform(0.5, 1.5, (1, 64, 64))
    params = {"illumination": 0.0, "illumination_angle": 0.0, "background": 0.0, "background_length": 20.0, "blur": 0.0, "dose": 1e9}
    params |= {"sampling": 0.1, "recorded_sampling": 0.1}
    plain = _record(clean, {**params, "offset": 0.0}, 0.1, np.random.default_rng(1))
    raised = _record(clean, {**params, "offset": 1.0}, 0.1, np.random.default_rng(1))
    assert raised.mean() / plain.mean() == pytest.approx(2.0, rel=1e-3)
    assert raised.std() / plain.std() == pytest.approx(1.0, rel=1e-2)


_FLAT = {"sampling": 0.1, "illumination": 0.0, "illumination_angle": 0.0, "background": 0.0, "background_length": 20.0, "blur": 0.0, "offset": 0.0}


def test_coarse_recording_counts_at_the_camera_pixel_and_keeps_the_lattice_in_place():
    """A camera of 0.5 Å pixels over a 0.1 Å/px simulation: the mean counts per 0.1 Å pixel stay
    dose x 0.01, the shot noise is that of 0.25 Å² pixels (relative spread 1/sqrt(1e4 x 0.25) =
    0.02 instead of 0.1) and correlated between neighbours; graphene's 2.13 Å fringes keep their
    phase (no shift) and most of their contrast."""
    from atomscope.simulation.microscope import _record

    size, sampling = 256, 0.1
    uniform = np.ones((1, size, size))
    # the simulation's actual pixels are a few % finer than the requested 0.1 Å (fast FFT lengths): still no coarse camera
    fine = _record(uniform, {**_FLAT, "dose": 1e4, "recorded_sampling": sampling}, 0.097, np.random.default_rng(0))[0]
    coarse = _record(uniform, {**_FLAT, "dose": 1e4, "recorded_sampling": 0.5}, sampling, np.random.default_rng(0))[0]
    assert coarse.shape == (size, size)
    assert coarse.mean() == pytest.approx(100.0, rel=0.01) and fine.mean() == pytest.approx(1e4 * 0.097**2, rel=0.01)
    assert fine.std() / fine.mean() == pytest.approx(0.1, rel=0.05)
    assert 0.012 < coarse.std() / coarse.mean() < 0.025
    neighbours = lambda image: np.corrcoef(image[:, :-1].ravel(), image[:, 1:].ravel())[0, 1]  # noqa: E731
    assert neighbours(fine) < 0.05 and neighbours(coarse) > 0.8
    x = np.arange(size) * sampling
    period, shift = 2.13, 0.37  # Å
    fringes = np.broadcast_to(1 + 0.3 * np.cos(2 * np.pi * (x - shift) / period), (1, size, size))
    recorded = _record(fringes, {**_FLAT, "dose": 1e9, "recorded_sampling": 0.5}, sampling, np.random.default_rng(1))[0]
    row = recorded[size // 2, : size - 8] / recorded.mean()  # the far edge holds the reflected margin
    wave = np.exp(-2j * np.pi * x[: size - 8] / period)
    component = 2 * np.sum((row - row.mean()) * wave) / len(row)
    assert np.angle(component) * -period / (2 * np.pi) % period == pytest.approx(shift, abs=0.05)
    assert 0.15 < abs(component) < 0.3


def test_coarse_recording_draws_a_camera_pixel_only_when_asked_and_only_for_hrtem():
    config = {"mode": "hrtem", "sampling": [0.1, 0.12], "coarse_recording": {"probability": 1.0, "sampling": [0.3, 0.7]}}
    drawn = [draw_microscope(config, np.random.default_rng(seed)) for seed in range(5)]
    assert all(0.3 <= p["recorded_sampling"] <= 0.7 for p in drawn)
    plain = draw_microscope({"mode": "hrtem", "sampling": [0.1, 0.12]}, np.random.default_rng(0))
    assert plain["recorded_sampling"] == plain["sampling"]
    # the other draws come first and stay those of a config without coarse pixels
    assert {k: v for k, v in drawn[0].items() if k != "recorded_sampling"} == {k: v for k, v in plain.items() if k != "recorded_sampling"}
    with pytest.raises(ValueError, match="simulation.coarse_recording: .*HRTEM"):
        draw_microscope({**config, "mode": "stem_convolution"}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="simulation.coarse_recording.sampling: drew 0.050"):
        draw_microscope({**config, "coarse_recording": {"probability": 1.0, "sampling": [0.05, 0.05]}}, np.random.default_rng(0))

