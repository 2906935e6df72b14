"""Training targets (atomscope.simulation.targets): Gaussian heat maps against their analytic values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atomscope.labels import channel_sites, target_names
from atomscope.simulation.targets import gaussian_heatmap, render_targets


def _gaussian(distance: float, sigma: float) -> float:
    return float(np.exp(-(distance**2) / (2 * sigma**2)))


def test_peak_tails_reach_four_sigma():
    # sigma 0.4 Å at 0.1 Å/px: a window of +-16 px; one cut at 1 sigma would zero these pixels
    heat = gaussian_heatmap(np.array([[5.0, 4.0]]), (80, 100), 0.1, sigma=0.4)
    assert heat[40, 50] == pytest.approx(1.0, abs=1e-6)
    for cols, sigmas in [(8, 2.0), (12, 3.0), (15, 3.75)]:
        assert heat[40, 50 + cols] == pytest.approx(_gaussian(sigmas * 0.4, 0.4), rel=1e-4)
        assert heat[40 - cols, 50] == pytest.approx(_gaussian(sigmas * 0.4, 0.4), rel=1e-4)
    assert heat[40, 50 + 17] == 0.0 and heat[40 - 17, 50] == 0.0  # beyond the window
    # the integral of a 2D Gaussian, 2 pi sigma² / sampling² pixels, up to the 4-sigma cut (1e-4)
    assert heat.sum() == pytest.approx(2 * np.pi * 0.4**2 / 0.1**2, rel=1e-3)


def test_overlapping_peaks_take_the_maximum_not_the_sum():
    # a bilayer in projection: atoms on top of each other, or 0.3 Å apart
    xy = np.array([[3.0, 3.0], [3.0, 3.0], [6.0, 3.0], [6.3, 3.0]])
    heat = gaussian_heatmap(xy, (60, 100), 0.1, sigma=0.4)
    assert heat.max() == pytest.approx(1.0, abs=1e-6)
    assert heat[30, 30] == pytest.approx(1.0, abs=1e-6)
    assert heat[30, 61] == pytest.approx(_gaussian(0.1, 0.4), rel=1e-5)  # max(g(0.1), g(0.2)), not their sum
    assert heat[30, 62] == pytest.approx(_gaussian(0.1, 0.4), rel=1e-5)


def test_coarse_pixels_keep_the_peak_on_the_last_pixel():
    # 2 Å/px (a low-magnification survey): the pre-filter's bound is in Å, not px
    heat = gaussian_heatmap(np.array([[38.0, 18.0], [-2.0, 8.0]]), (10, 20), 2.0, sigma=0.8)
    assert heat[9, 19] == pytest.approx(1.0, abs=1e-6)
    assert heat[4, 0] == pytest.approx(_gaussian(2.0, 0.8), rel=1e-5)  # one pixel before the image


@pytest.mark.parametrize("shape", [(20, 120), (120, 20)])
def test_peaks_reach_the_far_corner_of_a_non_square_image(shape):
    # sites near the far end of the long side; the pre-filter drops peaks outside the image
    height, width = shape
    sampling = 0.1
    corner = np.array([[(width - 1) * sampling, (height - 1) * sampling]])  # on the last pixel
    beyond = corner + 0.1  # one pixel beyond the last row and column: its tail still shows
    heat = gaussian_heatmap(np.concatenate([corner - 0.5, beyond]), shape, sampling, sigma=0.4)
    assert heat[height - 6, width - 6] == pytest.approx(1.0, abs=1e-6)
    assert heat[height - 1, width - 1] == pytest.approx(_gaussian(0.1 * np.sqrt(2), 0.4), rel=1e-5)


def test_peaks_outside_the_image_leave_only_their_tails():
    heat = gaussian_heatmap(np.array([[-0.5, 2.0], [5.0, 10.0]]), (40, 60), 0.1, sigma=0.4)
    assert heat[20, 0] == pytest.approx(_gaussian(0.5, 0.4), rel=1e-5)
    assert heat.max() < _gaussian(0.5, 0.4) + 1e-6  # (5, 10) is below the image: nothing of it
    far = gaussian_heatmap(np.array([[-2.0, 2.0], [2.0, 6.0]]), (40, 60), 0.1, sigma=0.4)
    assert far.max() == 0.0  # more than 4 sigma outside


def test_render_targets_channels_in_order():
    sites = pd.DataFrame(
        {"kind": ["atom", "atom", "centre"], "x": [1.0, 3.0, 2.0], "y": [1.0, 1.0, 2.0], "species_class": ["Mo", "S2", None]}
    )
    names = target_names(monolayer=True, species=["S2"])
    assert names == ["atoms", "centres", "monolayer", "species:S2"]
    mask = np.zeros((30, 50), dtype=bool)
    mask[:, :25] = True
    out = render_targets(sites, names, (30, 50), 0.1, monolayer=mask)
    assert out.shape == (4, 30, 50) and out.dtype == np.float32
    assert out[0, 10, 10] == pytest.approx(1.0) and out[0, 10, 30] == pytest.approx(1.0)
    assert out[1, 20, 20] == pytest.approx(1.0) and out[1, 10, 10] < 0.01
    np.testing.assert_array_equal(out[2], mask)
    assert out[3, 10, 30] == pytest.approx(1.0) and out[3, 10, 10] < 0.01


def test_peaks_on_row_and_column_zero_and_the_default_sigma():
    heat = gaussian_heatmap(np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 2.0]]), (40, 60), 0.1)
    assert heat[0, 0] == heat[0, 30] == heat[20, 0] == pytest.approx(1.0, abs=1e-6)
    assert heat[4, 30] == pytest.approx(_gaussian(0.4, 0.4), rel=1e-5)  # default sigma 0.4 Å


@pytest.mark.parametrize(("axis", "distance"), [(0, -1.55), (1, -1.55), (0, 1.63), (1, 1.63)])
def test_tails_of_peaks_just_outside_the_image_are_kept(axis, distance):
    # sigma 0.4 Å at 0.1 Å/px: the window reaches 16 px (1.6 Å) from a peak; a peak 1.55 Å
    # before the first or 1.63 Å past the last pixel still touches the image
    shape, sampling = (30, 50), 0.1
    last = (np.array([shape[1], shape[0]]) - 1) * sampling
    xy = np.array([[2.0, 1.5]])
    xy[0, axis] = distance if distance < 0 else last[axis] + distance
    heat = gaussian_heatmap(xy, shape, sampling, sigma=0.4)
    edge = 0 if distance < 0 else (shape[1 - axis] - 1)
    pixel = (15, edge) if axis == 0 else (edge, 20)
    assert heat[pixel] == pytest.approx(_gaussian(abs(distance), 0.4), rel=1e-3)


def test_periodic_heatmap_equals_the_nine_images_drawn_explicitly():
    rng = np.random.default_rng(0)
    period = (6.0, 4.5)
    xy = rng.uniform([0, 0], period, (40, 2))
    shifts = [(i * period[0], j * period[1]) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    explicit = gaussian_heatmap(np.concatenate([xy + s for s in shifts]), (45, 60), 0.1, sigma=0.4)
    periodic = gaussian_heatmap(xy, (45, 60), 0.1, sigma=0.4, period=period)
    np.testing.assert_array_equal(periodic, explicit)
    assert periodic[0, 0] > 0 and periodic[44, 59] > 0 and periodic[0, 59] > 0 and periodic[44, 0] > 0


def test_render_targets_passes_sigma_and_period():
    sites = pd.DataFrame({"kind": ["atom", "centre"], "x": [0.05, 3.0], "y": [2.0, 0.05]})
    out = render_targets(sites, ["atoms", "centres"], (40, 60), 0.1, sigma=0.6, period=(6.0, 4.0))
    np.testing.assert_array_equal(out[0], gaussian_heatmap(sites[["x", "y"]].to_numpy()[:1], (40, 60), 0.1, sigma=0.6, period=(6.0, 4.0)))
    np.testing.assert_array_equal(out[1], gaussian_heatmap(sites[["x", "y"]].to_numpy()[1:], (40, 60), 0.1, sigma=0.6, period=(6.0, 4.0)))


def test_target_names_defaults_and_species():
    assert target_names() == ["atoms", "centres"]
    assert target_names(species=["Mo", "S2"]) == ["atoms", "centres", "species:Mo", "species:S2"]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gaussian_heatmap(np.zeros((1, 2)), (4, 4), 0.0), "^`sampling` must be"),
        (lambda: gaussian_heatmap(np.zeros((1, 2)), (4, 4), 0.1, sigma=-1.0), "^`sigma` must be"),
        (lambda: target_names(species=["S", "S"]), r"^`species` must be distinct non-empty class names, got \['S', 'S'\]"),
        (lambda: target_names(species=["Mo", ""]), "^`species` must be distinct non-empty"),
        (lambda: channel_sites(pd.DataFrame({"kind": ["atom"]}), "bonds"), "^unknown peak target 'bonds'"),
        (
            lambda: render_targets(pd.DataFrame({"kind": ["atom"], "x": [1.0], "y": [1.0]}), ["monolayer"], (8, 6), 0.1, monolayer=np.ones((6, 8))),
            r"^target 'monolayer' needs a `monolayer` mask of shape \(8, 6\)",
        ),
        (
            lambda: render_targets(pd.DataFrame({"kind": ["atom"], "x": [1.0], "y": [1.0]}), ["monolayer"], (8, 6), 0.1),
            r"^target 'monolayer' needs a `monolayer` mask of shape \(8, 6\)",
        ),
    ],
)
def test_bad_targets_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
