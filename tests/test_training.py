import numpy as np
import pandas as pd
import pytest
import torch

from atomscope.nets import ResUNet, build_network
from atomscope.training.dataset import augment, standardise
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


def test_a_pair_straddling_the_border_is_neither_found_nor_false():
    # Matching runs over the whole image: a detection 0.02 Å inside the border whose true site
    # is 0.03 Å outside it is not a false one; a true site just inside, found from just outside,
    # is found; an unmatched detection inside still is false.
    grid = ImageGrid((50, 100), 0.1)
    truth = pd.DataFrame({"kind": ["atom"] * 3, "x": [0.92, 5.0, 5.0], "y": [2.0, 0.97, 2.0]})
    sites = pd.DataFrame({"kind": ["atom"] * 3, "x": [0.97, 5.0, 7.0], "y": [2.0, 0.92, 2.0]})
    scores = score_sites(sites, truth, grid=grid, match_radius=0.5, border=1.0)
    assert scores.loc[0, ["tp", "fp", "fn"]].tolist() == [1, 1, 1]  # the old rule (cut first, then match): [0, 2, 2]


def test_standardise_and_constant_image():
    image = np.arange(32, dtype=np.uint16).reshape(1, 4, 8)
    out = standardise(image)
    assert out.dtype == np.float32 and abs(out.mean()) < 1e-6 and out.std() == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match="constant"):
        standardise(np.ones((1, 4, 4)))


def test_augment_applies_the_same_transform_to_image_and_target():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(1, 32, 32)).astype(np.float32)
    seen = set()
    for _ in range(40):
        x, y = augment(image, image.copy(), crop_px=16, rng=rng)
        assert x.shape == (1, 16, 16)
        np.testing.assert_array_equal(x, y)
        seen.add(x.tobytes())
    assert len(seen) == 40  # crops, rotations and flips differ


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


_TINY = {
    "architecture": {"kind": "resunet", "base_channels": 4, "depth": 2},
    "steps": 3,
    "batch_size": 2,
    "crop_px": 32,
    "learning_rate": 1e-3,
    "eval_every": 3,
    "validation": {"images": 1, "threshold": 0.4, "min_distance": 0.7, "match_radius": 0.5},
    "seed": 0,
}


def test_fit_trains_on_extra_target_channels_and_scores_the_species_peaks(mos2_shards):
    """Shards with monolayer and species channels train; species channels are scored, the mask is not."""
    from atomscope.training import fit, index_shards

    paths, sites, models = mos2_shards
    index = index_shards(paths)
    assert len(index) == 6 and index.shape == (1, 5, 64, 64)
    net, spec, metrics = fit(index, sites, models, _TINY, device=torch.device("cpu"))
    assert spec.head_names == ["atoms", "centres", "monolayer", "species"]
    assert {"atoms_f1", "species:Mo_f1", "species:S2_recall"} <= set(metrics.columns)
    assert not any(c.startswith("monolayer") for c in metrics.columns)
    # the species each class stands for come from the training structures, not a default
    heads = {h.name: (h.kind, [(c.name, c.species) for c in h.classes]) for h in spec.heads}
    assert heads == {
        "atoms": ("heatmap", [("atom", ("Mo", "S"))]),
        "centres": ("heatmap", [("centre", ())]),
        "monolayer": ("mask", [("monolayer", ())]),
        "species": ("classes", [("background", ()), ("Mo", ("Mo",)), ("S2", ("S",))]),
    }
    assert spec.out_channels == 6
    assert spec.architecture == "resunet" and spec.architecture_args == {"base_channels": 4, "depth": 2}
    assert spec.channel_names == ["adf"] and spec.normalisation == "standardise"
    assert spec.pixel_size == pytest.approx(index.sampling[:-1].mean())
    assert spec.recipe.training["steps"] == 3 and spec.recipe.training["normalisation"] == "standardise"
    assert spec.recipe.data_hash is None and spec.recipe.preset is None
    assert spec.scores["atoms_f1"] == pytest.approx(metrics.iloc[-1]["atoms_f1"])
    assert net(torch.zeros(1, spec.in_channels, 32, 32)).shape[1] == spec.out_channels


def test_crops_are_streamed_the_same_whatever_the_workers(mos2_shards):
    """Crop k depends on (seed, k) alone: two DataLoader workers give the crops one process gives."""
    from atomscope.training import CropDataset, index_shards

    index = index_shards(mos2_shards[0])
    crops = CropDataset(index, np.arange(5), normalisation="local", crop_px=32, seed=3, length=8)
    alone = [crops[k][0].numpy() for k in range(8)]
    loader = torch.utils.data.DataLoader(crops, batch_size=4, num_workers=2)
    together = np.concatenate([x.numpy() for x, _ in loader])
    np.testing.assert_array_equal(np.stack(alone), together)
    assert len({a.tobytes() for a in alone}) == 8
    with pytest.raises(ValueError, match="cannot hold out 6 of 6 images"):
        index.split(6)


def test_a_killed_training_resumes_at_its_step_with_its_optimiser_state(mos2_shards, tmp_path):
    """Train 4 steps with a checkpoint every 2, stop after 2; the rerun starts at step 2 with
    the saved weights and Adam moments and ends where an uninterrupted run ends."""
    from atomscope.training import fit, index_shards
    from atomscope.training import loop

    paths, sites, models = mos2_shards
    index = index_shards(paths)
    config = {**_TINY, "steps": 4, "eval_every": 2, "checkpoint_every": 2}
    straight, _, straight_metrics = fit(index, sites, models, config, device=torch.device("cpu"))

    checkpoint = tmp_path / "checkpoint.pt"
    saved = loop._save

    def save_then_die(*args, **kwargs):
        saved(*args, **kwargs)
        raise KeyboardInterrupt  # the job is killed right after its first checkpoint

    loop._save = save_then_die
    try:
        with pytest.raises(KeyboardInterrupt):
            fit(index, sites, models, config, device=torch.device("cpu"), checkpoint=checkpoint)
    finally:
        loop._save = saved
    state = torch.load(checkpoint, weights_only=True)
    assert state["step"] == 2 and len(state["optimiser"]["state"]) > 0 and state["optimiser"]["state"][0]["step"] == 2
    resumed, _, metrics = fit(index, sites, models, config, device=torch.device("cpu"), checkpoint=checkpoint)
    assert metrics["step"].tolist() == [2, 4]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert metrics["atoms_f1"].tolist() == straight_metrics["atoms_f1"].tolist()
    # another config does not resume from this run's checkpoint
    _, _, other = fit(index, sites, models, {**config, "learning_rate": 2e-3}, device=torch.device("cpu"), checkpoint=checkpoint)
    assert other["step"].tolist() == [2, 4]


@pytest.mark.parametrize("architecture", [{"kind": "resunet", "base_channels": 8, "depth": 2}, {"kind": "msdnet", "depth": 20, "width": 2}])
def test_a_tiny_network_overfits_one_batch(architecture):
    """Both architectures drive the loss on one fixed batch of spots to a small fraction of its start."""
    from atomscope.simulation.targets import gaussian_heatmap

    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    target = np.stack([gaussian_heatmap(rng.uniform(2, 30, (12, 2)), (32, 32), 1.0, sigma=1.2)[None] for _ in range(4)])
    image = target + 0.1 * rng.normal(size=target.shape).astype(np.float32)
    net = build_network(architecture, 1, 1)
    optimiser = torch.optim.AdamW(net.parameters(), lr=5e-3)
    x, y = torch.from_numpy(image.astype(np.float32)), torch.from_numpy(target)
    losses = []
    for _ in range(300):
        loss = torch.nn.functional.mse_loss(net(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_msdnet_keeps_any_image_size_and_cycles_its_dilations():
    from atomscope.nets import MSDNet

    net = MSDNet(2, 3, depth=12, width=1, max_dilation=5)
    assert net(torch.zeros(1, 2, 30, 41)).shape == (1, 3, 30, 41)
    assert [layer.dilation[0] for layer in net.layers] == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]
    assert [layer.in_channels for layer in net.layers][:3] == [2, 3, 4] and net.head.in_channels == 14
    with pytest.raises(ValueError, match="resunet: `depth` counts down-samplings"):
        build_network({"kind": "resunet", "base_channels": 4, "depth": 100}, 1, 1)


def test_input_channels_carry_the_defocus_offsets_of_a_focal_series():
    from atomscope.training.fit import input_channels

    focal = input_channels(["hrtem_df+0", "hrtem_df+50"], {"defocus_offsets": [0.0, 50.0]})
    assert [(c.name, c.defocus_offset) for c in focal] == [("hrtem_df+0", 0.0), ("hrtem_df+50", 50.0)]
    assert [(c.name, c.defocus_offset) for c in input_channels(["hrtem"], {"defocus_offsets": [0.0]})] == [("hrtem", None)]


def test_local_standardisation_sees_the_lattice_next_to_a_bright_contamination_corner():
    """A weak lattice beside a corner 50x brighter: global standardisation leaves the lattice a
    sliver of the range, local standardisation gives it unit contrast far from the corner."""
    from atomscope._shared.normalisation import local_standardise, standardise

    y, x = np.mgrid[0:256, 0:256]
    lattice = 1 + 0.1 * np.cos(2 * np.pi * x / 20) * np.cos(2 * np.pi * y / 20)
    image = lattice.copy()
    image[180:, 180:] += 50.0
    far = (slice(0, 80), slice(0, 80))  # beyond the reach (3 x 32 px) of the local window
    local, global_ = local_standardise(image[None])[0], standardise(image[None])[0]
    assert local[far].std() == pytest.approx(1.0, rel=0.05) and abs(local[far].mean()) < 0.05
    assert global_[far].std() < 0.02
    assert local.min() >= -5 and local.max() <= 5
    with pytest.raises(ValueError, match="constant"):
        local_standardise(np.ones((1, 8, 8)))


def test_local_context_keeps_the_brightness_that_local_standardisation_removes():
    """The same lattice and bright corner: the context channel is 0 in the lattice and +5 (clipped) in the
    corner, whatever the detector's gain and offset; the first channel is local_standardise's."""
    from atomscope._shared.normalisation import local_context, local_standardise, normalised_channels

    y, x = np.mgrid[0:256, 0:256]
    image = 1 + 0.1 * np.cos(2 * np.pi * x / 20) * np.cos(2 * np.pi * y / 20)
    image[180:, 180:] += 0.5  # 10 x the lattice's local std (0.05 for a product of two cosines of 0.1): clipped to 5
    out = local_context(image[None])
    np.testing.assert_array_equal(out[:1], local_standardise(image[None]))
    lattice, corner = (slice(0, 80), slice(0, 80)), (slice(220, 256), slice(220, 256))
    assert abs(out[1][lattice].mean()) < 0.05 and out[1][corner].mean() == pytest.approx(5.0, abs=0.3)
    np.testing.assert_allclose(local_context(7.0 * image[None] + 30.0)[1], out[1], atol=1e-3)
    assert normalised_channels("local_context", 3) == 6 and normalised_channels("local", 3) == 3


def test_a_model_with_context_channels_saves_and_loads(tmp_path):
    """local_context doubles the network's input: a focal series of 2 frames is a 4-channel network."""
    from atomscope.io import Head, HeadClass, InputChannel, ModelSpec, write_model
    from atomscope.nets import load_model

    spec = ModelSpec(
        "resunet", {"base_channels": 4, "depth": 2}, (InputChannel("hrtem_df+0", 0.0), InputChannel("hrtem_df+50", 50.0)),
        (Head("atoms", "heatmap", (HeadClass("atom", ("C",)),)),), 0.1, normalisation="local_context",
    )
    assert (spec.in_channels, spec.network_in_channels) == (2, 4)
    net = build_network({"kind": "resunet", "base_channels": 4, "depth": 2}, spec.network_in_channels, spec.out_channels)
    write_model(tmp_path / "m.safetensors", net, spec)
    loaded, net2 = load_model(tmp_path / "m.safetensors")
    assert loaded.normalisation == "local_context" and net2(torch.zeros(1, 4, 32, 32)).shape == (1, 1, 32, 32)
