"""Training targets (atomscope.simulation.targets): Gaussian heat maps against their analytic values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atomscope.simulation.targets import gaussian_heatmap, render_targets, target_names


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
