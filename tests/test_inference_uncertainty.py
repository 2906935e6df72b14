"""Test-time augmentation: per-site position spread and the image's disagreement score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from atomscope.inference.uncertainty import SYMMETRIES, calibrated_sigma, disagreement, position_spread, symmetric_forward


def test_the_spread_of_a_site_is_the_standard_deviation_of_its_positions_over_the_passes():
    sites = pd.DataFrame({"kind": ["atom", "atom", "centre"], "x": [1.0, 5.0, 1.0], "y": [1.0, 5.0, 1.0]})
    dx = np.array([-0.1, 0.0, 0.1, 0.0, -0.1, 0.0, 0.1, 0.0])
    passes = [
        pd.DataFrame({"kind": ["atom", "atom", "centre"], "x": [1.0 + d, 5.0, 1.0], "y": [1.0, 5.0 + 2 * d, 1.0]})
        if p < 7 else pd.DataFrame({"kind": ["atom"], "x": [1.0 + d], "y": [1.0]})  # the last pass misses two sites
        for p, d in enumerate(dx)
    ]
    spread = position_spread(sites, passes, radius=0.5)
    assert spread["sigma_x"][0] == pytest.approx(calibrated_sigma(np.std(dx, ddof=1)))
    assert spread["sigma_y"][0] == pytest.approx(calibrated_sigma(0.0)) == spread["sigma_x"][1]
    assert spread["sigma_y"][1] == pytest.approx(calibrated_sigma(np.std(2 * dx[:7], ddof=1)))
    assert spread["found"].tolist() == [1.0, 7 / 8, 7 / 8]
    assert np.isnan(position_spread(sites, passes[:1], radius=0.5)["sigma_x"]).all()  # one pass: no spread


def test_the_out_of_distribution_score_is_the_fraction_of_sites_some_pass_misses():
    assert disagreement(pd.DataFrame({"found": [1.0, 7 / 8, 1.0, 0.25]})) == 0.5
    assert disagreement(pd.DataFrame({"found": [1.0, 1.0]})) == 0
    assert np.isnan(disagreement(pd.DataFrame({"found": []})))


def test_each_symmetric_pass_of_an_orientation_blind_predictor_gives_back_its_input():
    class Identity(torch.nn.Module):
        def forward(self, x):
            return x * 1.0

    tile = np.random.default_rng(0).random((1, 1, 8, 8)).astype(np.float32)
    assert len(SYMMETRIES) == 8 and len(set(SYMMETRIES)) == 8
    for flip, turns in SYMMETRIES:
        assert np.array_equal(symmetric_forward(Identity(), torch.device("cpu"), flip, turns)(tile), tile)


def test_the_calibrated_sigma_adds_the_floor_in_quadrature():
    assert calibrated_sigma(np.array([0.0, 0.04]), floor=0.03, scale=1.0) == pytest.approx([0.03, 0.05])
    assert calibrated_sigma(0.01, floor=0.0, scale=2.5) == pytest.approx(0.025)
