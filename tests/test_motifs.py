"""Tests for atomscope.motifs: patches, Zernike moments, force-relaxed layout and labels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import adjusted_rand_score

from atomscope.motifs import (
    class_distances,
    extract_patches,
    force_relaxed_layout,
    motif_labels,
    zernike_basis,
    zernike_indices,
    zernike_moments,
)


def _gaussians(size: int, centres: list[tuple[float, float]], sigma: float) -> np.ndarray:
    """Sum of unit Gaussians at (x, y) offsets from the patch centre, in px."""
    offsets = np.arange(size) - (size - 1) / 2
    y, x = np.meshgrid(offsets, offsets, indexing="ij")
    return sum(np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2)) for cx, cy in centres)


def _motif_patches(counts: tuple[int, int], *, noise: float, seed: int, size: int = 31):
    """A central atom with 3 neighbours at 120 deg (label 0) or 4 at 90 deg (label 1), 9 px away,
    each patch turned by a random angle, plus Gaussian noise (atom peak height 1)."""
    rng = np.random.default_rng(seed)
    patches, labels = [], []
    for label, (count, fold) in enumerate(zip(counts, (3, 4))):
        for _ in range(count):
            angles = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(fold) / fold
            centres = [(0.0, 0.0)] + [(9 * np.cos(a), 9 * np.sin(a)) for a in angles]
            patches.append(_gaussians(size, centres, 2.0) + noise * rng.standard_normal((size, size)))
            labels.append(label)
    return np.array(patches), np.array(labels)


def _disk(size: int) -> np.ndarray:
    offsets = (np.arange(size) - (size - 1) / 2) / (size / 2)
    return np.hypot(*np.meshgrid(offsets, offsets, indexing="ij")) <= 1


def _standardised_in_disk(patch: np.ndarray) -> np.ndarray:
    values = patch[_disk(len(patch))]
    return (values - values.mean()) / values.std()


# ---------------------------------------------------------------- patches


def test_extract_patches_centres_on_nearest_pixel_and_skips_border_sites():
    image = np.random.default_rng(0).random((40, 50))
    x_px = np.array([10.3, 2.0, 45.6, 47.0, 24.5, 30.0])
    y_px = np.array([20.0, 20.0, 30.4, 10.0, 3.0, 36.6])
    patches, kept = extract_patches(image, x_px, y_px, size_px=7)

    # x=2, x=47 and y=36.6 (row 37) are closer than 3 px to a border (columns 0..49, rows 0..39)
    np.testing.assert_array_equal(kept, [0, 2, 4])
    assert patches.shape == (3, 7, 7) and patches.dtype == np.float32
    rows, cols = np.rint(y_px[kept]).astype(int), np.rint(x_px[kept]).astype(int)
    np.testing.assert_array_equal(patches[:, 3, 3], image[rows, cols].astype(np.float32))
    np.testing.assert_array_equal(patches[0], image[17:24, 7:14].astype(np.float32))


def test_extract_patches_validates_inputs():
    image = np.zeros((20, 20))
    with pytest.raises(ValueError, match="size_px"):
        extract_patches(image, [10.0], [10.0], size_px=6)
    with pytest.raises(ValueError, match="x_px"):
        extract_patches(image, [10.0, 11.0], [10.0], size_px=5)
    with pytest.raises(ValueError, match="y_px"):
        extract_patches(image, [10.0], [np.nan], size_px=5)
    patches, kept = extract_patches(image, [10.0], [10.0], size_px=21)
    assert patches.shape == (0, 21, 21) and kept.size == 0


# ---------------------------------------------------------------- Zernike


def test_zernike_basis_is_orthonormal_on_a_fine_grid():
    size = 201
    basis, indices = zernike_basis(size, 10)
    assert len(indices) == 66 and indices[:4] == [(0, 0), (1, -1), (1, 1), (2, -2)]
    flat = basis.reshape(len(indices), -1)
    gram = flat @ flat.T * (2 / size) ** 2 / np.pi  # integral of Z_j Z_k over the disk / pi
    assert np.abs(gram - np.eye(len(indices))).max() < 0.02


def test_zernike_basis_matches_closed_forms():
    size = 41
    basis, indices = zernike_basis(size, 4)
    offsets = (np.arange(size) - (size - 1) / 2) / (size / 2)
    y, x = np.meshgrid(offsets, offsets, indexing="ij")
    rho, theta, disk = np.hypot(x, y), np.arctan2(y, x), _disk(size)
    expected = {
        (2, 0): np.sqrt(3) * (2 * rho**2 - 1),
        (3, 1): np.sqrt(8) * (3 * rho**3 - 2 * rho) * np.cos(theta),
        (4, -2): np.sqrt(10) * (4 * rho**4 - 3 * rho**2) * np.sin(2 * theta),
    }
    for nm, values in expected.items():
        np.testing.assert_allclose(basis[indices.index(nm)][disk], values[disk], atol=1e-12)
        assert not basis[indices.index(nm)][~disk].any()


@pytest.fixture(scope="module")
def asymmetric_patch() -> np.ndarray:
    centres = [(0.0, 0.0), (8.0, 1.0), (-3.0, 7.0), (-6.0, -6.0), (4.0, -9.0)]
    heights = _gaussians(41, centres[:1], 2.5) + 0.6 * _gaussians(41, centres[1:3], 2.0)
    return heights + 0.3 * _gaussians(41, centres[3:], 1.5)


def test_invariant_moments_survive_rotation(asymmetric_patch):
    turned_90 = np.rot90(asymmetric_patch)
    turned_30 = ndimage.rotate(asymmetric_patch, 30, reshape=False, order=3)
    stack = np.stack([asymmetric_patch, turned_90, turned_30])

    invariant = zernike_moments(stack, n_max=10)
    assert invariant.shape == (3, len(zernike_indices(10, rotation_invariant=True))) == (3, 36)
    np.testing.assert_allclose(invariant[1], invariant[0], rtol=1e-5, atol=1e-9)
    assert np.linalg.norm(invariant[2] - invariant[0]) < 0.03 * np.linalg.norm(invariant[0])

    oriented = zernike_moments(stack, n_max=10, rotation_invariant=False)
    assert oriented.shape == (3, 66)
    for turned in (1, 2):
        assert np.linalg.norm(oriented[turned] - oriented[0]) > 0.3 * np.linalg.norm(oriented[0])


def test_moments_reconstruct_a_smooth_patch():
    size, n_max = 41, 20
    patch = _gaussians(size, [(5.0, -3.0)], 6.0) + 0.5 * _gaussians(size, [(-7.0, 6.0)], 5.0)
    moments = zernike_moments(patch[None], n_max=n_max, rotation_invariant=False)[0]
    basis, _ = zernike_basis(size, n_max)
    rebuilt = np.tensordot(moments, basis, axes=1)[_disk(size)]
    target = _standardised_in_disk(patch)
    assert np.linalg.norm(rebuilt - target) < 0.10 * np.linalg.norm(target)


def test_zernike_moments_validates_inputs():
    with pytest.raises(ValueError, match="patches"):
        zernike_moments(np.zeros((2, 5, 6)))
    with pytest.raises(ValueError, match="n_max"):
        zernike_moments(np.zeros((2, 5, 5)), n_max=-1)
    with pytest.raises(ValueError, match=r"^`patches` must hold real numbers, got dtype complex128"):
        zernike_moments(np.zeros((1, 5, 5), dtype=complex))
    with pytest.raises(ValueError, match=r"^`patches` must hold real numbers, got dtype <U1"):
        zernike_moments(np.full((1, 5, 5), "a"))
    with pytest.raises(ValueError, match="^`patches` contains NaN or infinite values"):
        zernike_moments(np.full((1, 5, 5), np.nan))
    for size in (2, 4.5):
        with pytest.raises(ValueError, match=f"^`size_px` must be an integer >= 3, got {size}"):
            zernike_basis(size, 2)


def test_smallest_patch_and_order_are_allowed():
    basis, indices = zernike_basis(3, 0)
    assert indices == [(0, 0)] and basis.shape == (1, 3, 3)
    assert zernike_indices(0) == [(0, 0)] and zernike_indices(0, rotation_invariant=True) == [(0, 0)]
    np.testing.assert_array_equal(zernike_moments(np.arange(18).reshape(2, 3, 3), n_max=0), [[0.0], [0.0]])


def test_moments_ignore_brightness_per_patch_and_constant_patches_are_zero(asymmetric_patch):
    # each patch is standardised on its own: an offset and a gain leave its moments unchanged
    stack = np.stack([asymmetric_patch, 3.0 * asymmetric_patch + 5.0, np.full_like(asymmetric_patch, 2.0)])
    moments = zernike_moments(stack)  # default n_max = 10: 36 invariant moduli
    assert moments.shape == (3, 36)
    np.testing.assert_allclose(moments[1], moments[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(moments[2], 0.0)
    assert np.abs(zernike_moments(stack[:1].astype(np.int64))).max() > 0  # integer patches are real numbers too


def test_invariant_moduli_combine_the_cosine_and_sine_moments(asymmetric_patch):
    oriented = zernike_moments(asymmetric_patch[None], n_max=6, rotation_invariant=False)[0]
    invariant = zernike_moments(asymmetric_patch[None], n_max=6)[0]
    indices = zernike_indices(6)
    expected = [
        np.hypot(oriented[indices.index((n, m))], oriented[indices.index((n, -m))]) if m else abs(oriented[indices.index((n, 0))])
        for n, m in zernike_indices(6, rotation_invariant=True)
    ]
    np.testing.assert_allclose(invariant, expected, rtol=1e-12)


# ---------------------------------------------------------------- layout and labels


@pytest.fixture  # per test, not per module: mutmut maps code only to the tests that run it
def two_motifs():
    patches, truth = _motif_patches((300, 60), noise=0.5, seed=3)
    features = zernike_moments(patches, n_max=10)
    return features, truth, force_relaxed_layout(features, rng=(7, 0, 0))


def _spread_over_separation(layout: np.ndarray, truth: np.ndarray) -> float:
    centroids = [layout[truth == k].mean(axis=0) for k in (0, 1)]
    spread = np.mean([np.linalg.norm(layout[truth == k] - centroids[k], axis=1).mean() for k in (0, 1)])
    return spread / np.linalg.norm(centroids[0] - centroids[1])


def test_fr_layout_separates_imbalanced_motifs(two_motifs):
    features, truth, layout = two_motifs
    labels = motif_labels(layout, n_motifs=2, rng=0)
    assert adjusted_rand_score(truth, labels) >= 0.9
    assert np.bincount(labels)[0] == 300  # label 0 is the most populous motif
    np.testing.assert_array_equal(motif_labels(layout, rng=0), labels)  # 2 motifs found unaided


def test_fr_stages_spread_then_compact(two_motifs):
    features, truth, layout = two_motifs
    start = force_relaxed_layout(features, n_iter=(0, 0), rng=0)
    spread = force_relaxed_layout(features, n_iter=(200, 0), rng=(7, 0, 0))
    assert np.abs(start).max() == pytest.approx(10.0)  # PCA start scaled to [-10, 10]
    assert np.abs(spread).max() > 20.0  # repulsion-dominated stage dilates the layout
    # attraction-dominated stage makes each class compact relative to the class separation
    assert _spread_over_separation(layout, truth) < 0.3 * _spread_over_separation(start, truth)


def test_fr_layout_is_reproducible(two_motifs):
    features, _, layout = two_motifs
    np.testing.assert_array_equal(force_relaxed_layout(features, rng=(7, 0, 0)), layout)
    assert not np.array_equal(force_relaxed_layout(features, rng=(8, 0, 0)), layout)


def test_class_distances_measure_distance_to_class_average():
    features = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [10.0, 13.0], [10.0, 16.0]])
    distances = class_distances(features, np.array([4, 4, 1, 1, 1]))
    np.testing.assert_allclose(distances, [1.0, 1.0, 3.0, 0.0, 3.0])


def test_layout_validates_inputs():
    features = np.random.default_rng(0).random((8, 4))
    with pytest.raises(ValueError, match="n_neighbors"):
        force_relaxed_layout(features, rng=0)
    with pytest.raises(ValueError, match="forces"):
        force_relaxed_layout(features, n_neighbors=3, n_iter=(10,), rng=0)
    with pytest.raises(ValueError, match="labels"):
        class_distances(features, np.zeros(5))
