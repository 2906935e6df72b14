"""Tests for atomscope.labels.peaks (sub-pixel peak finding) and atomscope.inference.tiling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.feature import peak_local_max

from atomscope.inference import predict_tiled
from atomscope.labels import find_peaks


def gaussian_peaks(positions: np.ndarray, shape: tuple[int, int], sigma: float, amplitudes=1.0) -> np.ndarray:
    """Sum of isotropic Gaussians with centres ``positions`` (N, 2) as (y, x) [px]."""
    yy, xx = np.indices(shape, dtype=float)
    amplitudes = np.broadcast_to(amplitudes, len(positions))
    image = np.zeros(shape)
    for (y, x), a in zip(positions, amplitudes):
        image += a * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma**2))
    return image


def separated_positions(rng: np.random.Generator, n: int, size: int, min_separation: float, margin: float) -> np.ndarray:
    """``n`` random sub-pixel (y, x) positions, pairwise farther apart than ``min_separation``."""
    positions: list[np.ndarray] = []
    while len(positions) < n:
        p = rng.uniform(margin, size - 1 - margin, 2)
        if all(np.hypot(*(p - q)) > min_separation for q in positions):
            positions.append(p)
    return np.array(positions)


def match(found, truth: np.ndarray) -> np.ndarray:
    """Distance [px] from each true (y, x) position to the nearest found peak; checks 1:1 pairing."""
    est = found[["y_px", "x_px"]].to_numpy()
    distances = np.hypot(*(est[:, None, :] - truth[None, :, :]).transpose(2, 0, 1))  # (found, true)
    nearest = distances.argmin(axis=0)
    assert len(set(nearest)) == len(truth), "two true peaks matched the same found peak"
    return distances.min(axis=0)


# --- find_peaks --------------------------------------------------------------------------------


@pytest.mark.parametrize(("sigma", "n"), [(2.0, 50), (3.0, 50), (5.0, 30)])
def test_every_gaussian_peak_found_within_0_05_px(sigma, n):
    truth = separated_positions(np.random.default_rng(0), n, 256, min_separation=5 * sigma, margin=3 * sigma)
    found = find_peaks(gaussian_peaks(truth, (256, 256), sigma))
    assert len(found) == n  # no false peaks
    errors = match(found, truth)
    assert errors.max() < 0.05  # measured: < 0.001 px for sigma 2, 3 and 5
    np.testing.assert_allclose(found["score"], 1.0, atol=0.1)


def test_noisy_peaks_stay_accurate():
    rng = np.random.default_rng(1)
    truth = separated_positions(rng, 50, 256, min_separation=15, margin=9)
    heatmap = gaussian_peaks(truth, (256, 256), 3.0) + rng.normal(0, 0.02, (256, 256))
    found = find_peaks(heatmap, min_distance_px=5, refine_radius_px=3)
    assert len(found) == 50
    errors = match(found, truth)
    # measured: max 0.07 px, rms 0.03 px (white noise of 2 % of the peak height, sigma 3 px)
    assert errors.max() < 0.15
    assert np.sqrt(np.mean(errors**2)) < 0.05


def test_coordinate_convention_x_is_column():
    heatmap = gaussian_peaks(np.array([[10.3, 40.7]]), (32, 64), 2.5)
    found = find_peaks(heatmap)
    assert found[["x_px", "y_px"]].to_numpy()[0] == pytest.approx([40.7, 10.3], abs=1e-3)
    assert found["score"].iloc[0] == heatmap[10, 41]


def test_threshold_drops_low_peaks_and_rows_are_highest_first():
    truth = np.array([[20.0, 20.0], [20.0, 60.0], [60.0, 20.0], [60.0, 60.0]])
    heatmap = gaussian_peaks(truth, (80, 80), 3.0, amplitudes=[0.2, 0.9, 0.25, 0.6])
    assert len(find_peaks(heatmap, threshold=0.1)) == 4
    high = find_peaks(heatmap, threshold=0.5)
    assert high[["y_px", "x_px"]].to_numpy() == pytest.approx(truth[[1, 3]], abs=1e-3)
    assert high["score"].tolist() == pytest.approx([0.9, 0.6])


def test_min_distance_keeps_the_higher_of_two_close_peaks():
    heatmap = gaussian_peaks(np.array([[20.0, 20.0], [20.0, 26.0]]), (40, 50), 1.5, amplitudes=[0.8, 1.0])
    assert len(find_peaks(heatmap, min_distance_px=2, refine_radius_px=1)) == 2
    single = find_peaks(heatmap, min_distance_px=7, refine_radius_px=1)
    assert len(single) == 1 and single["x_px"].iloc[0] == pytest.approx(26.0, abs=0.01)


def test_exclude_border_and_peaks_on_the_border():
    heatmap = gaussian_peaks(np.array([[0.0, 20.0], [20.0, 20.0]]), (40, 40), 2.0)
    all_peaks = find_peaks(heatmap)
    assert sorted(all_peaks["y_px"]) == pytest.approx([0.0, 20.0], abs=1e-6)
    assert find_peaks(heatmap, exclude_border_px=3)["y_px"].tolist() == pytest.approx([20.0])


def test_peaks_cut_by_the_edge_are_fitted_from_the_pixels_inside():
    # Centred 0.3 px inside the top edge and 0.4 px inside the left one: a mirrored window
    # would pin both onto the outermost pixel (0.3 and 0.4 px off).
    heatmap = gaussian_peaks(np.array([[0.3, 20.0], [20.0, 0.4], [20.0, 20.0]]), (40, 40), 2.0)
    found = find_peaks(heatmap).sort_values(["y_px", "x_px"])
    np.testing.assert_allclose(found[["y_px", "x_px"]].to_numpy(), [[0.3, 20.0], [20.0, 0.4], [20.0, 20.0]], atol=0.01)


def test_a_peak_beyond_the_edge_is_left_out():
    # An atom 1.5 px outside the map: its flank makes a local maximum on the outermost row, but
    # its fitted maximum lies outside the field of view (-0.5 px).
    heatmap = gaussian_peaks(np.array([[-1.5, 20.0], [20.0, 41.2], [20.0, 20.0]]), (40, 40), 2.0)
    assert peak_local_max(heatmap, threshold_abs=0.3, exclude_border=False).shape[0] == 3
    found = find_peaks(heatmap)
    np.testing.assert_allclose(found[["y_px", "x_px"]].to_numpy(), [[20.0, 20.0]], atol=1e-3)


def test_a_radius_one_window_in_a_corner_keeps_the_pixel():
    # Two rows and two columns inside the map cannot hold a quadratic: the pixel is kept.
    heatmap = gaussian_peaks(np.array([[0.2, 0.2]]), (16, 16), 1.0)
    found = find_peaks(heatmap, refine_radius_px=1)
    np.testing.assert_array_equal(found[["y_px", "x_px"]].to_numpy(), [[0.0, 0.0]])


def test_no_peaks_gives_an_empty_table():
    found = find_peaks(np.full((16, 16), 0.1))
    assert found.empty and list(found.columns) == ["x_px", "y_px", "score"]


@pytest.mark.parametrize(
    ("heatmap", "options", "match"),
    [
        (np.zeros((2, 4, 4)), {}, "`heatmap` must be a 2-dimensional"),
        (np.full((4, 4), np.nan), {}, "`heatmap` contains NaN"),
        (np.zeros((4, 4)), {"threshold": -0.1}, "`threshold` must be finite and >= 0"),
        (np.zeros((4, 4)), {"min_distance_px": 0}, "`min_distance_px` must be an integer >= 1"),
        (np.zeros((4, 4)), {"refine_radius_px": 1.5}, "`refine_radius_px` must be an integer >= 1"),
        (np.zeros((4, 4)), {"exclude_border_px": -1}, "`exclude_border_px` must be an integer >= 0"),
    ],
)
def test_find_peaks_rejects_bad_input(heatmap, options, match):
    with pytest.raises(ValueError, match=match):
        find_peaks(heatmap, **options)


def elliptical_gaussian(shape: tuple[int, int], y: float, x: float, sigma_u: float, sigma_v: float, theta: float) -> np.ndarray:
    """Gaussian of height 1 at (y, x) [px], std ``sigma_u`` along the direction ``theta`` [rad] from +x, ``sigma_v`` across."""
    yy, xx = np.indices(shape, dtype=float)
    u = np.cos(theta) * (xx - x) + np.sin(theta) * (yy - y)
    v = -np.sin(theta) * (xx - x) + np.cos(theta) * (yy - y)
    return np.exp(-(u**2) / (2 * sigma_u**2) - v**2 / (2 * sigma_v**2))


@pytest.mark.parametrize(
    ("y", "x", "sigma_u", "sigma_v", "theta"),
    [(20.3, 24.6, 3.0, 1.2, 0.6), (19.8, 25.45, 1.5, 3.5, 2.2), (20.42, 24.71, 2.5, 2.0, np.pi / 4)],
)
def test_rotated_elliptical_peaks_are_found_within_0_01_px(y, x, sigma_u, sigma_v, theta):
    # The log of a rotated elliptical Gaussian has an xy term; a vertex that ignores it is
    # off by up to ~0.3 px here (measured: exact fit < 1e-6 px).
    heatmap = elliptical_gaussian((40, 50), y, x, sigma_u, sigma_v, theta)
    found = find_peaks(heatmap, refine_radius_px=3)
    assert len(found) == 1
    assert found[["y_px", "x_px"]].to_numpy()[0] == pytest.approx([y, x], abs=0.01)


@pytest.mark.parametrize("height", [1.0, 0.35])
@pytest.mark.parametrize(("y", "x"), [(20.3, 24.6), (19.62, 25.27)])
def test_narrow_peaks_with_floored_flanks_are_found_within_0_01_px(y, x, height):
    # sigma 0.7 px (e.g. 0.4 Å targets at 0.57 Å/px) in a 7 x 7 window: the outer pixels are
    # below the floor, so the fit is only as good as its weights (value², measured 0.0004 px;
    # weights equal to the values give 0.03 px) and its floor, 1e-3 of each peak's own height
    # (a floor of 1e-3 / height is off by 0.07 px for a peak of 0.35).
    heatmap = height * elliptical_gaussian((40, 50), y, x, 0.7, 0.7, 0.0)
    found = find_peaks(heatmap, refine_radius_px=3, threshold=0.1)
    assert found[["y_px", "x_px"]].to_numpy()[0] == pytest.approx([y, x], abs=0.01)


def _separable(log_x, log_y, size: int = 21) -> np.ndarray:
    """exp(log_x[c] + log_y[r]) about pixel (10, 10), with the given 5 log values around it, -8 elsewhere."""
    lx, ly = np.full(size, -8.0), np.full(size, -8.0)
    lx[8:13], ly[8:13] = log_x, log_y
    return np.exp(ly[:, None] + lx[None, :])


def _pair(along: int) -> np.ndarray:
    """A peak at pixel (10, 10) and a higher one 3.6 px away along x (0) or y (1): in a 7 x 7
    window the fitted vertex of the lower one lies 7 px off, outside the window."""
    yy, xx = np.indices((24, 24), dtype=float)
    high = (10.0, 13.6) if along == 0 else (13.6, 10.0)
    return 0.8 * np.exp(-((xx - 10) ** 2 + (yy - 10) ** 2) / 2) + np.exp(-((xx - high[1]) ** 2 + (yy - high[0]) ** 2) / 2)


CONCAVE, CONVEX = [-2.0, -0.5, 0.0, -0.7, -2.5], [0.0, -1.0, -0.5, -1.0, -0.3]


@pytest.mark.parametrize(
    ("heatmap", "radius"),
    [
        (_separable(CONVEX, CONVEX), 2),  # the fit is a minimum (both curvatures positive)
        (_separable(CONCAVE, CONVEX), 2),  # the fit is a saddle
        (_separable(CONVEX, CONCAVE), 2),
        (_pair(0), 3),  # a maximum outside the window, along x
        (_pair(1), 3),  # ... along y
    ],
    ids=["minimum", "saddle-x", "saddle-y", "vertex-off-x", "vertex-off-y"],
)
def test_failed_fits_keep_the_pixel_position(heatmap, radius):
    found = find_peaks(heatmap, min_distance_px=1, refine_radius_px=radius, threshold=0.1)
    assert np.isfinite(found[["x_px", "y_px"]].to_numpy()).all()
    at_pixel = found[(found["x_px"].round() == 10) & (found["y_px"].round() == 10)]
    assert len(at_pixel) == 1
    assert at_pixel[["x_px", "y_px"]].to_numpy()[0].tolist() == [10.0, 10.0]


@pytest.mark.filterwarnings("error")  # 0/0 in the vertex must stay silent
def test_peaks_on_a_plateau_keep_their_pixel_positions():
    # a flat window has a flat log: the fit has no vertex (0/0), which must not give NaN
    heatmap = np.pad(np.ones((12, 12)), 8)
    found = find_peaks(heatmap, min_distance_px=1, refine_radius_px=2)
    xy = found[["x_px", "y_px"]].to_numpy()
    assert len(found) > 0 and np.isfinite(xy).all()
    flat = ((xy >= 10) & (xy <= 17)).all(axis=1)  # the whole 5 x 5 window on the plateau
    assert flat.any()
    np.testing.assert_array_equal(xy[flat], np.round(xy[flat]))



def test_default_window_and_separation():
    # defaults: min_distance_px=2 keeps two peaks 3 px apart (Chebyshev), and refine_radius_px=2
    # keeps the window of one off the other peak 3.4 px away (a 7 x 7 window is off by 1 px)
    truth = np.array([[20.2, 20.3], [20.1, 23.7]])
    found = find_peaks(gaussian_peaks(truth, (40, 45), 0.7)).sort_values("x_px")
    assert found[["y_px", "x_px"]].to_numpy() == pytest.approx(truth, abs=0.01)
    close = gaussian_peaks(np.array([[20.0, 20.0], [20.0, 23.0]]), (40, 45), 0.7, amplitudes=[1.0, 0.9])
    assert len(find_peaks(close)) == 2 and len(find_peaks(close, min_distance_px=3)) == 1


def test_threshold_zero_is_allowed():
    heatmap = gaussian_peaks(np.array([[10.3, 12.6]]), (24, 24), 2.0, amplitudes=0.05)
    found = find_peaks(heatmap, threshold=0.0)
    assert found[["y_px", "x_px"]].to_numpy()[0] == pytest.approx([10.3, 12.6], abs=1e-3)


# --- predict_tiled -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 300, 417), (1, 64, 64), (1, 20, 37), (3, 1, 5)])
def test_identity_predictor_returns_the_image(shape):
    image = np.random.default_rng(2).random(shape).astype(np.float32)
    out = predict_tiled(image, lambda batch: batch, tile=64, overlap=16, batch_size=3)
    assert out.shape == shape and out.dtype == np.float32
    np.testing.assert_allclose(out, image, atol=1e-5)


def test_channels_map_to_outputs_and_batches_are_bounded():
    image = np.random.default_rng(3).random((2, 100, 150)).astype(np.float32)
    sizes = []

    def predict(batch):
        sizes.append(len(batch))
        assert batch.dtype == np.float32 and batch.shape[1:] == (2, 48, 48)
        return np.stack([batch[:, 0], batch[:, 1], batch[:, 0] * batch[:, 1]], axis=1)

    out = predict_tiled(image, predict, tile=48, overlap=8, batch_size=4)
    np.testing.assert_allclose(out, [image[0], image[1], image[0] * image[1]], atol=1e-5)
    assert max(sizes) == 4 and sum(sizes) == 3 * 4  # (100+8)/48 -> 3 rows, (150+8)/48 -> 4 columns


def test_tile_edge_artefacts_are_blended_away():
    """A 'network' with zero padding (a Gaussian blur per tile) is wrong near tile edges; the
    blended result must match its blur of the whole image at once (zero padding at the image's
    own edges, as the network saw at the edges of its training crops), where hard seams would not."""
    rng = np.random.default_rng(4)
    image = ndi.gaussian_filter(rng.random((1, 300, 417)), 4)
    image = ((image - image.min()) / np.ptp(image)).astype(np.float32)  # values in [0, 1]

    def blur_with_zero_padding(batch):
        return ndi.gaussian_filter(batch, (0, 0, 1.5, 1.5), mode="constant")

    reference = ndi.gaussian_filter(image, (0, 1.5, 1.5), mode="constant")
    seamless = predict_tiled(image, blur_with_zero_padding, tile=64, overlap=16)
    hard_seams = predict_tiled(image, blur_with_zero_padding, tile=64, overlap=0)
    assert np.abs(hard_seams - reference).max() > 0.3  # the test can see seams (measured 0.39)
    assert np.abs(seamless - reference).max() < 0.01  # measured 0.0049


def test_tiles_shrink_to_a_small_image_in_steps_of_the_network_size():
    """An image smaller than a tile is predicted in tiles inside it (whole multiples of the
    network's size step), never with a mirrored margin; an axis under one step is padded."""
    image = np.random.default_rng(5).random((1, 40, 37)).astype(np.float32)
    shapes = []

    def predict(batch):
        shapes.extend([batch.shape[2:]] * len(batch))
        return batch

    out = predict_tiled(image, predict, tile=64, overlap=16, multiple=16)
    np.testing.assert_allclose(out, image, atol=1e-5)
    assert set(shapes) == {(32, 32)}  # 40 -> 32 px (two tiles at rows 0 and 8), 37 -> 32 px
    assert len(shapes) == 4
    shapes.clear()
    predict_tiled(np.ones((1, 5, 40), np.float32), predict, tile=64, overlap=16, multiple=16)
    assert set(shapes) == {(16, 32)}  # 5 rows padded to one step of 16


@pytest.mark.parametrize(
    ("image", "options", "predict", "match"),
    [
        (np.zeros((8, 8)), {}, None, "3-dimensional"),
        (np.full((1, 8, 8), np.inf), {}, None, "NaN"),
        (np.zeros((1, 8, 8)), {"tile": 16, "overlap": 16}, None, "smaller than `tile`"),
        (np.zeros((1, 8, 8)), {"batch_size": 0}, None, "batch_size"),
        (np.zeros((1, 40, 40)), {"tile": 24, "overlap": 4, "multiple": 16}, None, "multiple of 16 px"),
        (np.zeros((1, 8, 8)), {"tile": 16, "overlap": 4}, lambda b: b[:, :, :4], r"returned shape \(1, 1, 4, 8\)"),
        (np.zeros((1, 8, 8)), {"tile": 16, "overlap": 4}, lambda b: b[0], "must return"),
    ],
)
def test_predict_tiled_rejects_bad_input(image, options, predict, match):
    with pytest.raises(ValueError, match=match):
        predict_tiled(image, predict or (lambda b: b), **options)
