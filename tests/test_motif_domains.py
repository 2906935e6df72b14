"""KL divergence between the Zernike-feature distributions of two regions (Dan et al. Fig. 5)."""

from __future__ import annotations

import numpy as np
import pytest

from atomscope.motifs import feature_divergence


def test_divergence_is_zero_for_one_distribution_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((20000, 3))
    same = rng.standard_normal((20000, 3))
    assert feature_divergence(base, base) == pytest.approx(0.0, abs=1e-12)
    assert feature_divergence(base, same) < 0.005  # sampling noise only
    shifted = [feature_divergence(base, same + [shift, 0, 0]) for shift in (0.5, 1.0)]
    # a unit Gaussian shifted by s has KL s^2 / 2 in that feature, 0 in the others: mean s^2 / 6
    assert shifted[0] == pytest.approx(0.25 / 6, rel=0.25)
    assert shifted[1] == pytest.approx(1.0 / 6, rel=0.25)


def test_divergence_validates_its_inputs():
    with pytest.raises(ValueError, match="same D"):
        feature_divergence(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        feature_divergence(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="n_bins"):
        feature_divergence(np.zeros((5, 2)), np.zeros((5, 2)), n_bins=1)
