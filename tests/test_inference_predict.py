from pathlib import Path

import numpy as np
import pytest
import torch

from atomscope.inference.predict import detect_sites, monolayer_mask, recorded_monolayer, site_species
from atomscope.io import rescale_to_sampling
from atomscope.io import Head, HeadClass, InputChannel, ModelSpec
from atomscope.labels import find_peaks
from atomscope.simulation.targets import gaussian_heatmap

POSITIONS = np.array([[3.21, 4.57], [10.0, 2.5], [7.77, 11.11]])  # (x, y) Å


@pytest.mark.parametrize("sampling, target", [(0.08, 0.11), (0.127, 0.105), (0.1, 0.1)])
def test_rescale_keeps_positions_in_angstrom(sampling, target):
    image = gaussian_heatmap(POSITIONS, (180, 160), sampling, sigma=0.5)
    rescaled = rescale_to_sampling(image, sampling, target)
    assert rescaled.shape == (int(179 * sampling / target) + 1, int(159 * sampling / target) + 1)
    peaks = find_peaks(rescaled, min_distance_px=3, threshold=0.3).sort_values("x_px")
    found = peaks[["x_px", "y_px"]].to_numpy() * target
    np.testing.assert_allclose(found, POSITIONS[np.argsort(POSITIONS[:, 0])], atol=0.02)


def test_detect_sites_reports_angstrom_and_original_pixels():
    maps = np.stack([gaussian_heatmap(POSITIONS[:2], (150, 150), 0.1), gaussian_heatmap(POSITIONS[2:], (150, 150), 0.1)])
    sites = detect_sites(
        maps, target_names=["atoms", "centres"], model_sampling=0.1, image_sampling=0.05, threshold=0.5, min_distance=0.7,
        species={"atom": "C"},
    )
    assert list(sites["kind"]) == ["atom", "atom", "centre"]
    atoms = sites[sites["kind"] == "atom"].sort_values("x")
    np.testing.assert_allclose(atoms[["x", "y"]].to_numpy(), POSITIONS[:2], atol=0.01)
    np.testing.assert_allclose(atoms["x_px"].to_numpy(), POSITIONS[:2, 0] / 0.05, atol=0.2)
    assert list(sites["species"]) == ["C", "C", ""]
    assert sites["in_monolayer"].isna().all()


def test_sites_in_a_monolayer_region_are_marked_from_the_monolayer_head():
    # monolayer where x < 8 Å: the sites at x = 3.21 and 7.77 are in it, the one at x = 10 is not
    monolayer = np.zeros((150, 150), dtype=np.float32)
    monolayer[:, :80] = 1.0
    maps = np.stack([gaussian_heatmap(POSITIONS[:2], (150, 150), 0.1), gaussian_heatmap(POSITIONS[2:], (150, 150), 0.1), monolayer])
    sites = detect_sites(
        maps, target_names=["atoms", "centres", "monolayer"], model_sampling=0.1, image_sampling=0.1, threshold=0.5, min_distance=0.7,
        monolayer_threshold=0.5,
    )
    assert sites.sort_values("x")["in_monolayer"].tolist() == [True, True, False]
    assert str(sites["in_monolayer"].dtype) == "boolean"


@pytest.mark.parametrize("monolayer_threshold, inside", [(0.25, [True, True, True]), (0.5, [True, True, False]), (0.6, [False, False, False])])
def test_the_monolayer_threshold_moves_which_sites_are_in_the_monolayer(monolayer_threshold, inside):
    # p(monolayer) 0.55 where x < 8 Å (the sites at x = 3.21 and 7.77), 0.3 elsewhere (x = 10)
    monolayer = np.full((150, 150), 0.3, dtype=np.float32)
    monolayer[:, :80] = 0.55
    maps = np.stack([gaussian_heatmap(POSITIONS[:2], (150, 150), 0.1), gaussian_heatmap(POSITIONS[2:], (150, 150), 0.1), monolayer])
    names = ["atoms", "centres", "monolayer"]
    sites = detect_sites(maps, target_names=names, model_sampling=0.1, image_sampling=0.1, threshold=0.5, min_distance=0.7, monolayer_threshold=monolayer_threshold)
    assert sites.sort_values("x")["in_monolayer"].tolist() == inside
    # the maps.h5 of that inference draws the same region for geometry and figures, frame by frame
    attrs = {"target_names": names, "config": {"inference": {"monolayer_threshold": monolayer_threshold}}}
    clean = maps.copy()
    clean[2] = 0.9  # a second frame that is monolayer everywhere
    region = recorded_monolayer(np.stack([maps, clean]), attrs)
    assert region.shape == (2, 150, 150) and region[1].all()
    assert region[0, :, :80].all() == inside[0] and region[0, :, 80:].any() == inside[2]


def test_a_monolayer_head_without_a_threshold_is_refused_with_the_setting_to_give():
    maps = np.zeros((3, 20, 20), dtype=np.float32)
    names = ["atoms", "centres", "monolayer"]
    for threshold in (None, 0.0, 1.0):
        with pytest.raises(ValueError, match=r"monolayer_threshold: .* strictly between 0 and 1.*inference.monolayer_threshold, `atomscope analyse --monolayer-threshold`"):
            monolayer_mask(maps, names, threshold)
    assert monolayer_mask(maps[:2], names[:2], None) is None  # no head, no region, no threshold needed
    # a caller that wants the atoms only leaves the threshold out: in_monolayer is missing, not guessed
    maps[0, 10, 10] = 1.0
    sites = detect_sites(maps, target_names=names, model_sampling=0.1, image_sampling=0.1, threshold=0.5, min_distance=0.7)
    assert len(sites) == 1 and sites["in_monolayer"].isna().all()
    with pytest.raises(ValueError, match=r"maps of /data/a.dm4: the file records no inference.monolayer_threshold .* rerun inference on the image"):
        recorded_monolayer(maps[None], {"target_names": names, "config": {"inference": {}}, "source": "/data/a.dm4"})


def test_site_species_labels_a_kind_only_when_its_head_stands_for_one_element():
    def spec(atoms):
        heads = (Head("atoms", "heatmap", (HeadClass("atom", atoms),)), Head("centres", "heatmap", (HeadClass("centre"),)))
        return ModelSpec("resunet", {"base_channels": 4, "depth": 2}, (InputChannel("adf"),), heads, 0.2)

    assert site_species(spec(("C",))) == {"atom": "C", "centre": ""}
    assert site_species(spec(("Mo", "S"))) == {"atom": "", "centre": ""}  # MoS2: not every atom is C


def test_augmented_maps_turn_with_the_image_even_for_a_network_that_does_not():
    """A network that shifts its input one pixel right is not rotation-equivariant; averaged over
    the 8 rotations and flips, its maps of a rotated image are the rotated maps."""
    import torch

    from atomscope.inference.predict import predict_maps
    from atomscope.io import Head, HeadClass, InputChannel, ModelSpec

    shift = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    shift.weight.data[:] = 0.0
    shift.weight.data[0, 0, 1, 0] = 1.0  # output (r, c) = input (r, c - 1): a shift to the right
    spec = ModelSpec(
        architecture="resunet", architecture_args={"base_channels": 1, "depth": 1}, input_channels=(InputChannel("hrtem"),),
        heads=(Head("atoms", "heatmap", (HeadClass("atom"),)),), pixel_size=0.1,
    )
    image = np.random.default_rng(0).normal(size=(64, 64))
    plain = [predict_maps(np.rot90(image, k), 0.1, shift, spec, device=torch.device("cpu"), tile_px=64, overlap_px=0)[1][0] for k in (0, 1)]
    assert not np.allclose(np.rot90(plain[0]), plain[1], atol=1e-3)
    tta = [predict_maps(np.rot90(image, k), 0.1, shift, spec, device=torch.device("cpu"), tile_px=64, overlap_px=0, augment=True)[1][0] for k in (0, 1)]
    inner = (slice(2, -2), slice(2, -2))  # the zero padding at the border is not turned
    np.testing.assert_allclose(np.rot90(tta[0])[inner], tta[1][inner], atol=1e-5)


def _spec(pixel_size=0.1):
    heads = (Head("atoms", "heatmap", (HeadClass("atom", ("C",)),)), Head("centres", "heatmap", (HeadClass("centre"),)))
    return ModelSpec("resunet", {"base_channels": 4, "depth": 2}, (InputChannel("hrtem"),), heads, pixel_size)


@pytest.mark.parametrize(
    ("shape", "sampling", "match"),
    [
        # a 16 x 16 image once failed in triangulation: "`sites` needs at least 3 sites to triangulate"
        ((1, 16, 16), 0.1, r"img\.npy: the image is 16 x 16 px \(1\.6 x 1\.6 Å at 0\.1 Å/px\), smaller than the 9\.6 Å "
         r"\(96 px at the model's 0\.1 Å/px\) a side must span; give an image of at least 96 x 96 px at this pixel size"),
        ((1, 300, 100), 0.05, r"300 x 100 px \(15 x 5 Å at 0\.05 Å/px\).*at least 192 x 192 px"),
        ((64, 64, 5), 0.1, r"the image is 64 x 5 px"),  # a 3-D array that is no image series
    ],
)
def test_an_image_too_small_for_the_model_is_refused_with_its_size_and_the_minimum(shape, sampling, match):

    from atomscope.inference import Micrograph, check_micrograph

    with pytest.raises(ValueError, match=match):
        check_micrograph(Micrograph(np.ones(shape, np.float32), sampling, Path("img.npy"), "cli"), _spec())
    check_micrograph(Micrograph(np.ones((1, 96, 256), np.float32), 0.1, Path("img.npy"), "cli"), _spec())  # the smallest accepted


def test_a_micrograph_made_by_hand_with_an_absurd_pixel_size_is_refused():

    from atomscope.inference import Micrograph, check_micrograph

    with pytest.raises(ValueError, match=r"img\.npy: pixel size: 50 Å/px is outside the 0\.005-5\.0 Å/px"):
        check_micrograph(Micrograph(np.ones((1, 4000, 4000), np.float32), 50.0, Path("img.npy"), "argument"), _spec())


def _honeycomb(cells: int, bond: float = 1.42) -> np.ndarray:
    """(x, y) [Å] of a graphene patch of cells x cells unit cells."""
    a1, a2 = np.array([1.5, np.sqrt(3) / 2]) * bond, np.array([1.5, -np.sqrt(3) / 2]) * bond
    i, j = np.meshgrid(np.arange(cells), np.arange(cells))
    origins = i.reshape(-1, 1) * a1 + j.reshape(-1, 1) * a2
    return np.concatenate([origins, origins + [bond, 0.0]])


def test_lattice_evidence_tells_a_lattice_from_random_detections():
    import pandas as pd

    from atomscope.inference import lattice_evidence

    rng = np.random.default_rng(0)
    xy = _honeycomb(12) + rng.normal(0, 0.03, (288, 2))  # 3 pm of localisation noise
    lattice = lattice_evidence(pd.DataFrame({"frame": 0, "kind": "atom", "x": xy[:, 0], "y": xy[:, 1], "score": 0.9}))
    # the nearest of three noisy neighbours: 1.386 Å, a little under the bond
    assert lattice["atoms"] == 288 and lattice["nn_distance_median"] == pytest.approx(1.39, abs=0.01)
    assert lattice["nn_spread"] < 0.1 and not lattice["looks_like_noise"] and lattice["score_median"] == pytest.approx(0.9)
    # detections at random, as the shipped models find them on noise: 0.3 per Å², at least 0.7 Å apart
    points = rng.uniform(0, 30, (2000, 2))
    keep = [0]
    for k in range(1, len(points)):
        if len(keep) < 270 and np.min(np.hypot(*(points[keep] - points[k]).T)) >= 0.7:
            keep.append(k)
    noise = lattice_evidence(pd.DataFrame({"frame": 0, "kind": "atom", "x": points[keep, 0], "y": points[keep, 1], "score": 0.5}))
    assert noise["nn_spread"] > 0.2 and noise["looks_like_noise"]
    few = lattice_evidence(pd.DataFrame({"frame": 0, "kind": "atom", "x": xy[:9, 0], "y": xy[:9, 1], "score": 0.9}))
    assert few["atoms"] == 9 and few["looks_like_noise"]  # fewer than 10 atoms are no lattice


def _analyse_with_shipped(frames: np.ndarray, sampling: float, model: str, **config: object):
    import torch

    from atomscope.config import defaults
    from atomscope.inference import Micrograph, analyse_micrograph
    from atomscope.nets import load_model, resolve_model

    spec, net = load_model(resolve_model(model))
    micrograph = Micrograph(np.asarray(frames, np.float32)[None], sampling, Path("img.npy"), "argument")
    return analyse_micrograph(micrograph, spec, net, {**defaults("inference"), **config}, device=torch.device("cpu"))[2]


def test_pure_noise_is_analysed_with_a_warning_that_it_looks_like_no_atoms(caplog):
    # 1024 x 1024 px of Gaussian noise once gave 4,080 "atoms" and 1,648 rings without a word
    sites = _analyse_with_shipped(np.random.default_rng(1).normal(size=(512, 512)), 0.1, "carbon_hrtem")
    assert len(sites) > 500  # the network still finds peaks in noise
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].startswith("img.npy: the detections look like noise, not atoms:")
    assert "check the pixel size, the model and that the image shows atoms" in warnings[0]


def test_with_augmentation_noise_is_out_of_distribution_and_sites_carry_sigmas(caplog):
    # the 8 passes agree on 89-96 % of the sites of simulated and real graphene, on 43 % in noise
    sites = _analyse_with_shipped(np.random.default_rng(1).normal(size=(128, 128)), 0.1, "carbon_hrtem", augment=True)
    assert sites["ood"].iloc[0] > 0.3 and sites["ood"].nunique() == 1
    atoms = sites[sites["kind"] == "atom"]
    assert (atoms["sigma_x"].dropna() >= 0.081).all() and atoms["found"].between(1 / 8, 1).all()
    assert any("disagree on" in r.getMessage() and "%" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "sampling", "model"),
    [("graphene_hrtem_defect.tif", 0.108, "carbon_hrtem"), ("graphene_stem_grain_boundary_6nm.npy", 0.117, "carbon_stem"),
     ("graphene_simulated_positions.npz", 0.0390625, "carbon_hrtem")],
)
def test_real_and_simulated_lattices_do_not_warn(shared_data, caplog, name, sampling, model):
    from atomscope.inference import lattice_evidence, read_micrograph

    path = shared_data / name
    frames = np.load(path)["image"] if path.suffix == ".npz" else read_micrograph(path, pixel_size=sampling).frames[0]
    sites = _analyse_with_shipped(frames, sampling, model)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    evidence = lattice_evidence(sites)
    assert evidence["nn_spread"] < 0.13 and evidence["atoms"] > 150 and not evidence["looks_like_noise"]


class _Maps(torch.nn.Module):
    """A 'network' of heads atoms, centres, monolayer: atoms is the input, centres 0, and
    monolayer 1 in the columns left of ``monolayer_below_px`` (all columns: None), else 0."""

    def __init__(self, monolayer_below_px: int | None = None) -> None:
        super().__init__()
        self.below = monolayer_below_px

    def forward(self, x):
        monolayer = torch.ones_like(x[:, :1])
        if self.below is not None:
            monolayer[..., self.below :] = 0.0
        return torch.cat([x[:, :1], torch.zeros_like(x[:, :1]), monolayer], dim=1)


def _monolayer_spec(pixel_size: float) -> ModelSpec:
    heads = (Head("atoms", "heatmap", (HeadClass("atom", ("C",)),)), Head("centres", "heatmap", (HeadClass("centre"),)), Head("monolayer", "mask", (HeadClass("monolayer"),)))
    return ModelSpec("resunet", {"base_channels": 4, "depth": 2}, (InputChannel("hrtem"),), heads, pixel_size)


def test_a_monolayer_model_on_a_coarser_grid_draws_the_monolayer_of_the_sites():
    """The model's own head calls everything monolayer; the monolayer model, on a 0.25 Å/px grid,
    marks x < 8 Å only: the sites at x = 3.21 and 7.77 Å are in the monolayer, the one at 10 Å is not."""
    import torch

    from atomscope.config import defaults
    from atomscope.inference import Micrograph, analyse_micrograph

    image = gaussian_heatmap(POSITIONS, (200, 200), 0.1, sigma=0.3)
    micrograph = Micrograph(image[None].astype(np.float32), 0.1, Path("img.npy"), "argument")
    config = {**defaults("inference"), "tile_px": 256, "overlap_px": 0}
    spec = _monolayer_spec(0.1)
    run = lambda monolayer_model: analyse_micrograph(micrograph, spec, _Maps(), config, device=torch.device("cpu"), monolayer_model=monolayer_model)  # noqa: E731
    own = run(None)[2]
    assert len(own) == 3 and own["in_monolayer"].all()
    _, maps, sites = run((_monolayer_spec(0.25), _Maps(monolayer_below_px=32)))  # 32 px = 8 Å
    atoms = sites.sort_values("x")
    np.testing.assert_allclose(atoms["x"], np.sort(POSITIONS[:, 0]), atol=0.02)
    assert list(atoms["in_monolayer"]) == [True, True, False]
    monolayer = maps[0, 2]  # on the model's 0.1 Å/px grid: 1 where the nearest 0.25 Å/px pixel is, x < 7.875 Å
    assert monolayer.shape == (200, 200) and monolayer[:, :79].min() == 1.0 and monolayer[:, 79:].max() == 0.0


def test_a_monolayer_model_needs_monolayer_heads_and_says_how_to_do_without():
    import torch

    from atomscope.config import defaults
    from atomscope.inference import Micrograph, analyse_micrograph

    micrograph = Micrograph(np.zeros((1, 200, 200), np.float32), 0.1, Path("img.npy"), "argument")
    with pytest.raises(ValueError, match=r"the model has no monolayer head \(heads \['atoms', 'centres'\]\); set inference.monolayer_model: none"):
        analyse_micrograph(micrograph, _spec(), _Maps(), defaults("inference"), device=torch.device("cpu"), monolayer_model=(_monolayer_spec(0.25), _Maps()))
