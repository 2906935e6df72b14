"""Artefacts: detector MTF, illumination and background fields, STEM scan drift and line jitter."""

import numpy as np
import pytest

from atomscope.simulation.noise import line_jitter, linear_gradient, mtf_blur, scan_drift, smooth_field


@pytest.mark.parametrize("sigma", [0.7, 1.5])
def test_mtf_blur_attenuates_a_cosine_by_the_gaussian_mtf_and_keeps_the_mean(sigma):
    rows, cols = np.mgrid[0:64, 0:80]
    f = 8 / 80  # cycles/px along x
    image = 5.0 + np.cos(2 * np.pi * f * cols) + 0 * rows
    blurred = mtf_blur(image, sigma=sigma)
    mtf = np.exp(-2 * np.pi**2 * sigma**2 * f**2)
    np.testing.assert_allclose(blurred, 5.0 + mtf * np.cos(2 * np.pi * f * cols), atol=1e-9)
    assert blurred.mean() == pytest.approx(5.0, abs=1e-12)


def test_mtf_blur_of_white_noise_lowers_the_variance_by_the_integral_of_mtf_squared():
    noise = np.random.default_rng(0).normal(size=(256, 256))
    sigma = 2.0
    # sum over frequencies of MTF^2 / N = 1 / (4 pi sigma^2) for sigma >> 1 px
    assert mtf_blur(noise, sigma=sigma).var() == pytest.approx(1 / (4 * np.pi * sigma**2), rel=0.05)


def test_mtf_blur_zero_is_a_copy_and_float32_stays_float32():
    image = np.random.default_rng(1).random((16, 16)).astype(np.float32)
    out = mtf_blur(image, sigma=0.0)
    assert out.dtype == np.float32 and out is not image and np.array_equal(out, image)
    assert mtf_blur(image, sigma=1.0).dtype == np.float32
    with pytest.raises(ValueError, match="`sigma`"):
        mtf_blur(image, sigma=-1.0)


@pytest.mark.parametrize("angle", [0.0, np.pi / 2, 0.7, np.pi + 0.3])
def test_linear_gradient_has_zero_mean_and_spans_plus_minus_amplitude_along_its_angle(angle):
    field = linear_gradient((40, 60), amplitude=0.2, angle=angle)
    assert field.mean() == pytest.approx(0.0, abs=1e-12)
    assert field.max() == pytest.approx(0.2) and field.min() == pytest.approx(-0.2)
    # the ramp rises along (cos, sin) in (col, row) order
    step = field[20, 31] - field[20, 30], field[21, 30] - field[20, 30]
    assert np.arctan2(step[1], step[0]) == pytest.approx(np.angle(np.exp(1j * angle)), abs=1e-9)


def test_smooth_field_has_the_requested_std_is_smooth_and_reproducible():
    a = smooth_field((128, 96), amplitude=0.1, length=8.0, rng=3)
    assert a.mean() == pytest.approx(0.0, abs=1e-12) and a.std() == pytest.approx(0.1)
    # neighbouring pixels of a field 8 px smooth are nearly equal; of white noise they are not
    neighbours = np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]
    assert neighbours > 0.98
    np.testing.assert_array_equal(a, smooth_field((128, 96), amplitude=0.1, length=8.0, rng=3))
    assert not np.array_equal(a, smooth_field((128, 96), amplitude=0.1, length=8.0, rng=4))


def test_disabled_fields_draw_no_random_numbers():
    rng = np.random.default_rng(5)
    assert not smooth_field((8, 8), amplitude=0.0, length=2.0, rng=rng).any()
    assert not line_jitter(8, jitter=0.0, rng=rng).any()
    assert rng.random() == np.random.default_rng(5).random()


def test_scan_drift_shears_and_stretches_linearly_with_the_line():
    dx, dy = scan_drift(101, drift=0.02, angle=np.pi / 6)
    assert dx[0] == 0 and dy[0] == 0
    assert dx[100] == pytest.approx(2.0 * np.cos(np.pi / 6)) and dy[100] == pytest.approx(2.0 * np.sin(np.pi / 6))
    np.testing.assert_allclose(np.diff(dx), 0.02 * np.cos(np.pi / 6))


def test_line_jitter_is_one_normal_offset_per_line():
    offsets = line_jitter(20000, jitter=0.4, rng=0)
    assert offsets.shape == (20000,)
    assert offsets.std() == pytest.approx(0.4, rel=0.02) and abs(offsets.mean()) < 0.01
    with pytest.raises(ValueError, match="`jitter`"):
        line_jitter(10, jitter=-0.1, rng=0)
