import numpy as np
import pytest

from atomscope.inference.predict import detect_sites, rescale_to_sampling, site_species
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
    sites = detect_sites(maps, target_names=["atoms", "centres", "monolayer"], model_sampling=0.1, image_sampling=0.1, threshold=0.5, min_distance=0.7)
    assert sites.sort_values("x")["in_monolayer"].tolist() == [True, True, False]
    assert str(sites["in_monolayer"].dtype) == "boolean"


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
