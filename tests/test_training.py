import numpy as np
import pytest
import torch

from atomscope.nets import ResUNet, build_network
from atomscope.training.dataset import random_batch, standardise
from atomscope.io import ImageGrid
from atomscope.labels import detection_scores, score_sites


def test_detection_scores_counts_matches_within_radius():
    truth = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [6.0, 0.0]])
    detected = np.array([[0.1, 0.0], [2.0, 0.3], [4.0, 0.6], [9.0, 9.0]])  # third is too far
    s = detection_scores(detected, truth, radius=0.5)
    assert (s["tp"], s["fp"], s["fn"]) == (2, 2, 2)
    assert s["f1"] == pytest.approx(0.5)
    assert s["rmse"] == pytest.approx(np.sqrt((0.1**2 + 0.3**2) / 2))


def test_detection_scores_is_one_to_one():
    # two detections near one true site: only one may count
    s = detection_scores(np.array([[0.0, 0.0], [0.1, 0.0]]), np.array([[0.05, 0.0]]), radius=0.5)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 0)


def test_detection_scores_exact_positions_count():
    s = detection_scores(np.array([[1.0, 1.0]]), np.array([[1.0, 1.0]]), radius=0.5)
    assert s["tp"] == 1 and s["rmse"] == 0.0


def test_score_sites_ignores_the_border():
    import pandas as pd

    # 100 x 50 px at 0.1 Å/px cover x in [-0.05, 9.95) Å (pixel c centred at c * 0.1): with a
    # 1 Å border, x in [0.95, 8.95) and y in [0.95, 3.95) count
    grid = ImageGrid((50, 100), 0.1)
    truth = pd.DataFrame({"kind": ["atom"] * 6, "x": [0.9, 0.97, 5.0, 8.93, 8.97, 5.0], "y": [2.0] * 5 + [3.97]})
    sites = pd.DataFrame({"kind": ["atom"] * 3, "x": [0.97, 5.1, 8.93], "y": [2.0, 2.0, 2.0]})
    scores = score_sites(sites, truth, grid=grid, match_radius=0.5, border=1.0)
    assert scores.loc[0, ["tp", "fp", "fn"]].tolist() == [3, 0, 0]


def test_standardise_and_constant_image():
    image = np.arange(32, dtype=np.uint16).reshape(1, 4, 8)
    out = standardise(image)
    assert out.dtype == np.float32 and abs(out.mean()) < 1e-6 and out.std() == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match="constant"):
        standardise(np.ones((1, 4, 4)))


def test_random_batch_applies_the_same_transform_to_image_and_target():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(3, 1, 32, 32)).astype(np.float32)
    x, y = random_batch(images, images.copy(), batch_size=16, crop_px=16, rng=rng)
    assert x.shape == (16, 1, 16, 16)
    np.testing.assert_array_equal(x, y)


def test_resunet_keeps_the_image_size_and_rejects_bad_sizes():
    net = ResUNet(1, 2, base_channels=4, depth=2)
    assert net(torch.zeros(1, 1, 32, 48)).shape == (1, 2, 32, 48)
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.zeros(1, 1, 30, 32))
    with pytest.raises(ValueError, match="unknown architecture"):
        build_network({"kind": "vgg"}, 1, 2)


def test_resunet_learns_to_mark_bright_spots():
    """A few hundred steps on synthetic spots give a heat map whose peaks are the spots."""
    from atomscope.labels import find_peaks
    from atomscope.simulation.targets import gaussian_heatmap

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    xy = rng.uniform(4, 60, size=(40, 2))
    xy = xy[np.all(np.linalg.norm(xy[:, None] - xy[None], axis=-1) + 100 * np.eye(len(xy)) > 6, axis=1)]
    target = gaussian_heatmap(xy, (64, 64), 1.0, sigma=1.5)[None, None]
    image = standardise((target[0] + 0.3 * rng.normal(size=target[0].shape)).astype(np.float32))[None]
    net = ResUNet(1, 1, base_channels=8, depth=2)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(150):
        loss = torch.nn.functional.mse_loss(net(torch.from_numpy(image)), torch.from_numpy(target))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    net.eval()
    with torch.inference_mode():
        heat = net(torch.from_numpy(image)).numpy()[0, 0]
    peaks = find_peaks(heat, min_distance_px=3, threshold=0.5)
    s = detection_scores(peaks[["x_px", "y_px"]].to_numpy(), xy, radius=1.0)
    assert s["f1"] > 0.9


def test_fit_trains_on_extra_target_channels_and_scores_the_species_peaks(mos2_stem):
    """Shards with monolayer and species channels train; species channels are scored, the mask is not."""
    from atomscope._shared.seeding import stage_rng
    from atomscope.simulation.microscope import shard_attrs, simulate_shard
    from atomscope.structures.materials import build_shard
    from atomscope.training.fit import fit

    simulation = mos2_stem
    sites, models = build_shard({"material": "MoS2", "cell": [20.0, 20.0]}, n_models=3, first_model=0, rng=stage_rng(0, "structures"))
    arrays, _ = simulate_shard(sites, models, simulation, stage_rng(0, "simulation"))
    config = {
        "architecture": {"kind": "resunet", "base_channels": 4, "depth": 2},
        "steps": 3,
        "batch_size": 2,
        "crop_px": 32,
        "learning_rate": 1e-3,
        "eval_every": 3,
        "validation": {"images": 1, "threshold": 0.4, "min_distance": 0.7, "match_radius": 0.5},
        "seed": 0,
    }
    net, spec, metrics = fit(arrays, shard_attrs(simulation), sites, models, config, device=torch.device("cpu"))
    assert spec.head_names == ["atoms", "centres", "monolayer", "species:Mo", "species:S2"]
    assert {"atoms_f1", "species:Mo_f1", "species:S2_recall"} <= set(metrics.columns)
    assert not any(c.startswith("monolayer") for c in metrics.columns)
    # the species each head stands for come from the training structures, not a default
    heads = {h.name: (h.kind, h.classes[0].name, h.classes[0].species) for h in spec.heads}
    assert heads == {
        "atoms": ("heatmap", "atom", ("Mo", "S")),
        "centres": ("heatmap", "centre", ()),
        "monolayer": ("mask", "monolayer", ()),
        "species:Mo": ("heatmap", "Mo", ("Mo",)),
        "species:S2": ("heatmap", "S2", ("S",)),
    }
    assert spec.architecture == "resunet" and spec.architecture_args == {"base_channels": 4, "depth": 2}
    assert spec.channel_names == ["adf"] and spec.normalisation == "standardise"
    assert spec.pixel_size == pytest.approx(arrays["sampling"][:-1].mean())
    assert spec.recipe.training == config and spec.recipe.data_hash is None and spec.recipe.preset is None
    assert spec.scores["atoms_f1"] == pytest.approx(metrics.iloc[-1]["atoms_f1"])
    assert net(torch.zeros(1, spec.in_channels, 32, 32)).shape[1] == spec.out_channels


def test_input_channels_carry_the_defocus_offsets_of_a_focal_series():
    from atomscope.training.fit import input_channels

    focal = input_channels(["hrtem_df+0", "hrtem_df+50"], {"defocus_offsets": [0.0, 50.0]})
    assert [(c.name, c.defocus_offset) for c in focal] == [("hrtem_df+0", 0.0), ("hrtem_df+50", 50.0)]
    assert [(c.name, c.defocus_offset) for c in input_channels(["hrtem"], {"defocus_offsets": [0.0]})] == [("hrtem", None)]
