"""Tests for atomscope.motifs: patches, Zernike moments, force-relaxed layout and labels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
import pandas as pd
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from _motif_reference import reference_fr_layout, reference_graph

from atomscope.motifs import (
    analyse_motifs,
    class_averages,
    class_distances,
    extract_patches,
    force_relaxed_layout,
    knn_graph,
    layout_features,
    motif_labels,
    normalise_image,
    patch_size_px,
    pca_layout,
    repeat_length,
    mirror_symmetry,
    rotational_symmetry,
    umap_layout,
    zernike_basis,
    zernike_indices,
    zernike_moments,
    zernike_reconstruct,
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


# ---------------------------------------------------------------- patches


def test_extract_patches_centres_on_the_sub_pixel_site_and_skips_border_sites():
    image = np.random.default_rng(0).random((40, 50))
    x_px = np.array([10.0, 2.0, 45.6, 47.0, 24.0, 30.0])
    y_px = np.array([20.0, 20.0, 30.4, 10.0, 3.0, 36.6])
    patches, kept = extract_patches(image, x_px, y_px, size_px=7)

    # x=2, x=47 (> 49 - 3) and y=36.6 (> 39 - 3) are closer than 3 px to a border
    np.testing.assert_array_equal(kept, [0, 2, 4])
    assert patches.shape == (3, 7, 7) and patches.dtype == np.float32
    # on whole pixels the spline reproduces the image
    np.testing.assert_allclose(patches[0], image[17:24, 7:14], atol=1e-5)
    np.testing.assert_allclose(patches[2], image[0:7, 21:28], atol=1e-5)


def test_extract_patches_puts_an_off_grid_column_at_the_patch_centre():
    rows, cols = np.mgrid[:60, :60]
    centres = [(20.3, 18.7), (40.5, 41.5), (19.0, 40.25)]
    image = sum(np.exp(-((cols - x) ** 2 + (rows - y) ** 2) / (2 * 2.0**2)) for x, y in centres)
    patches, kept = extract_patches(image, *np.array(centres).T, size_px=11)
    assert kept.size == 3
    expected = _gaussians(11, [(0.0, 0.0)], 2.0)
    assert np.abs(patches - expected).max() < 0.01  # the same patch for every offset
    nearest = extract_patches(image, *np.rint(centres).T, size_px=11)[0]
    assert np.abs(nearest[:2] - expected).max() > 0.05  # cut at the nearest pixel they differ


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
    assert np.abs(invariant[1] - invariant[0]).max() < 1e-6  # 90 deg: the pixel grid maps onto itself
    assert np.linalg.norm(invariant[2] - invariant[0]) < 0.03 * np.linalg.norm(invariant[0])  # interpolation

    oriented = zernike_moments(stack, n_max=10, rotation_invariant=False)
    assert oriented.shape == (3, 66)
    for turned in (1, 2):
        assert np.linalg.norm(oriented[turned] - oriented[0]) > 0.3 * np.linalg.norm(oriented[0])


def test_reconstruction_error_falls_as_n_max_grows():
    size = 41
    patch = _gaussians(size, [(5.0, -3.0)], 4.0) + 0.5 * _gaussians(size, [(-7.0, 6.0)], 3.0)
    disk = _disk(size)
    errors = []
    for n_max in (4, 8, 12, 16, 20):
        moments = zernike_moments(patch[None], n_max=n_max, rotation_invariant=False)
        rebuilt = zernike_reconstruct(moments, size, n_max)[0]
        errors.append(np.linalg.norm(rebuilt[disk] - patch[disk]) / np.linalg.norm(patch[disk]))
    assert np.all(np.diff(errors) < 0), errors
    assert errors[0] > 0.3 and errors[-1] < 0.05, errors
    assert not zernike_reconstruct(moments, size, 20)[0][~disk].any()
    with pytest.raises(ValueError, match="231 columns for n_max=20"):
        zernike_reconstruct(moments[:, :10], size, 20)


def test_rotational_symmetry_scores_the_fold_of_a_patch():
    rings = {fold: _gaussians(41, [(0.0, 0.0)] + [(12 * np.cos(2 * np.pi * k / fold + 0.3), 12 * np.sin(2 * np.pi * k / fold + 0.3)) for k in range(fold)], 2.5)
             for fold in (3, 4, 6)}
    moments = zernike_moments(np.stack(list(rings.values())), n_max=12, rotation_invariant=False)
    scores = rotational_symmetry(moments, 12, folds=(3, 4, 6))
    assert scores.shape == (3, 3)
    np.testing.assert_array_equal(scores.argmax(axis=1), [0, 1, 2])  # each patch scores highest for its own fold
    assert scores[1, 0] < 0 and scores[0, 1] < 0  # a square is not 3-fold, a triangle not 4-fold
    with pytest.raises(ValueError, match="folds"):
        rotational_symmetry(moments, 12, folds=(1,))


def test_mirror_symmetry_finds_the_mirror_axis():
    # a centre and two pairs of atoms mirrored about the axis at 30 deg (rows grow with y)
    axis = np.radians(30)
    def turned(r, angle):
        return (r * np.cos(axis + angle), r * np.sin(axis + angle))
    mirrored = _gaussians(41, [(0.0, 0.0), turned(11, 0.0), turned(12, 2.0), turned(12, -2.0), turned(8, 2.6), turned(8, -2.6)], 2.0)
    # a pinwheel: three atoms at 9 px, three at 15 px turned 0.5 rad, has no mirror axis
    pinwheel = _gaussians(41, [(0.0, 0.0)] + [turned(r, 2 * np.pi * k / 3 + 0.5 * (r > 10)) for r in (9, 15) for k in range(3)], 2.0)
    stack = np.stack([mirrored, pinwheel, np.rot90(mirrored)])
    moments = zernike_moments(stack, n_max=12, rotation_invariant=False)
    score, found = mirror_symmetry(moments, 12)
    assert score[0] > 0.99 and score[2] > 0.99
    assert found[0] == pytest.approx(axis, abs=np.radians(1))
    # np.rot90 turns the image by -90 deg in these coordinates (x right, y down the rows)
    assert found[2] == pytest.approx(np.mod(axis - np.pi / 2, np.pi), abs=np.radians(1))
    assert score[1] < 0.3
    # rotational scores are fractions of the power at |m| > 1
    rot = rotational_symmetry(moments, 12, folds=(2, 3))
    assert (rot <= 1 + 1e-12).all() and (rot[:, 0] >= -1 - 1e-12).all() and (rot[:, 1] >= -0.5 - 1e-12).all()


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
    # all 9 pixels of a 3 px patch lie in the disk: A_00 = sum * (2/3)^2 / pi
    np.testing.assert_allclose(zernike_moments(np.arange(18).reshape(2, 3, 3), n_max=0), [[16 / np.pi], [52 / np.pi]])


def test_moments_keep_brightness_and_the_sign_of_radial_moments(asymmetric_patch):
    # raw patches: a dimmer column has smaller moments, and A_n0 keeps its sign (motif-learn's rotinv)
    stack = np.stack([asymmetric_patch, 0.5 * asymmetric_patch, -asymmetric_patch, np.full_like(asymmetric_patch, 2.0)])
    moments = zernike_moments(stack)  # default n_max = 10: 36 invariants
    assert moments.shape == (4, 36)
    np.testing.assert_allclose(moments[1], 0.5 * moments[0], rtol=1e-12)
    radial = [j for j, (n, m) in enumerate(zernike_indices(10, rotation_invariant=True)) if m == 0]
    angular = [j for j in range(36) if j not in radial]
    np.testing.assert_allclose(moments[2, radial], -moments[0, radial], rtol=1e-12)
    np.testing.assert_allclose(moments[2, angular], moments[0, angular], rtol=1e-12)
    assert moments[0, 0] > 0 and (moments[0, radial] < 0).any()
    assert moments[3, 0] == pytest.approx(2.0, rel=0.01)  # A_00 of a constant patch is its value
    assert np.abs(zernike_moments(stack[:1].astype(np.int64))).max() > 0  # integer patches are real numbers too


def test_invariant_moduli_combine_the_cosine_and_sine_moments(asymmetric_patch):
    oriented = zernike_moments(asymmetric_patch[None], n_max=6, rotation_invariant=False)[0]
    invariant = zernike_moments(asymmetric_patch[None], n_max=6)[0]
    indices = zernike_indices(6)
    expected = [
        np.hypot(oriented[indices.index((n, m))], oriented[indices.index((n, -m))]) if m else oriented[indices.index((n, 0))]
        for n, m in zernike_indices(6, rotation_invariant=True)
    ]
    np.testing.assert_allclose(invariant, expected, rtol=1e-12)


# ---------------------------------------------------------------- image, repeat length


def test_normalise_image_gives_zero_mean_unit_std():
    image = 3.0 + 2.0 * np.random.default_rng(1).random((30, 40))
    out = normalise_image(image.astype(np.float32))
    assert out.dtype == np.float64
    assert abs(out.mean()) < 1e-12 and out.std() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_array_equal(normalise_image(np.full((4, 4), 7.0)), 0.0)


def test_normalise_image_removes_a_background_ramp_but_keeps_the_columns():
    rows, cols = np.mgrid[:80, :80]
    columns = np.cos(2 * np.pi * cols / 8) * np.cos(2 * np.pi * rows / 8)  # period 8 px
    ramp = 0.1 * cols  # 8 units across the inner half, the columns swing +-1
    flat = normalise_image(columns + ramp, background_px=8.0)
    inner = (slice(20, 60), slice(20, 60))
    assert np.corrcoef(flat[inner].ravel(), columns[inner].ravel())[0, 1] > 0.99
    assert np.corrcoef(normalise_image(columns + ramp)[inner].ravel(), columns[inner].ravel())[0, 1] < 0.5


def _honeycomb(a: float, cells: int, *, jitter: float = 0.0, missing: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
    base = np.column_stack([i.ravel() * a + j.ravel() * a / 2, j.ravel() * a * np.sqrt(3) / 2])
    points = np.concatenate([base, base + [a / 2, a / (2 * np.sqrt(3))]])
    points = points[rng.random(len(points)) >= missing]
    return points + jitter * rng.standard_normal(points.shape)


def test_repeat_length_is_the_lattice_constant_of_a_crystal():
    honeycomb = _honeycomb(2.46, 12, jitter=0.03, missing=0.02)  # graphene, 2 % vacancies
    assert repeat_length(honeycomb[:, 0], honeycomb[:, 1]) == pytest.approx(2.46, rel=0.02)
    square = np.stack(np.meshgrid(np.arange(15.0), np.arange(15.0)), axis=-1).reshape(-1, 2) * 3.9
    assert repeat_length(square[:, 0], square[:, 1]) == pytest.approx(3.9, rel=1e-9)


def test_repeat_length_of_an_aperiodic_set_is_the_radius_of_six_neighbours():
    points = np.random.default_rng(4).random((400, 2)) * 40
    distances = np.sort(np.hypot(*(points[:, None] - points[None]).transpose(2, 0, 1)), axis=1)[:, 6]
    assert repeat_length(points[:, 0], points[:, 1]) == pytest.approx(distances.mean(), rel=1e-9)


def test_patch_size_auto_takes_the_repeat_length_in_pixels():
    sites = pd.DataFrame(_honeycomb(2.46, 10), columns=["x", "y"]).assign(frame=0, kind="atom")
    assert patch_size_px("auto", 0.1, sites) == 25  # 2.46 Å at 0.1 Å/px, made odd
    assert patch_size_px(5.0, 0.1, sites) == 51
    with pytest.raises(ValueError, match="more than 6 atoms"):
        patch_size_px("auto", 0.1, sites.iloc[:5])


# ---------------------------------------------------------------- kNN graph


def test_knn_graph_is_motif_learns_graph():
    features = np.random.default_rng(2).standard_normal((120, 12))
    neighbours, heads, tails, weights = knn_graph(features, n_neighbors=10)
    assert neighbours.shape == (120, 10) and (neighbours[:, 0] == np.arange(120)).all()
    expected_neighbours, pairs = reference_graph(features, 10)
    np.testing.assert_array_equal(np.sort(neighbours, axis=1), np.sort(expected_neighbours, axis=1))
    expected = {(i, j): w for i, j, w in pairs}
    assert set(zip(heads.tolist(), tails.tolist())) == set(expected)
    np.testing.assert_allclose(weights, [expected[(i, j)] for i, j in zip(heads.tolist(), tails.tolist())], rtol=1e-4)
    assert (np.diff(heads) >= 0).all() and weights.max() <= 1.0 and weights.min() > 0


def test_knn_graph_correlation_ignores_offset_and_gain_of_a_feature_vector():
    features = np.random.default_rng(3).standard_normal((60, 8))
    changed = features.copy()
    changed[::2] = 3.0 * changed[::2] + 5.0
    for metric, same in (("correlation", True), ("euclidean", False)):
        before = knn_graph(features, n_neighbors=5, metric=metric)[0]
        after = knn_graph(changed, n_neighbors=5, metric=metric)[0]
        assert np.array_equal(before, after) is same
    with pytest.raises(ValueError, match="metric"):
        knn_graph(features, metric="cosine")


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


def _knn_kept(features: np.ndarray, layout: np.ndarray, k: int = 10) -> float:
    """Mean fraction of each point's k nearest neighbours in feature space that stay so in the layout."""
    space = NearestNeighbors(n_neighbors=k, metric="correlation").fit(features).kneighbors(return_distance=False)
    flat = NearestNeighbors(n_neighbors=k).fit(layout).kneighbors(return_distance=False)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(space, flat)]))


def test_fr_layout_separates_imbalanced_motifs(two_motifs):
    features, truth, layout = two_motifs
    labels = motif_labels(layout)  # connected components: no number of motifs given
    assert adjusted_rand_score(truth, labels) >= 0.95
    assert np.bincount(labels)[0] >= 295  # label 0 is the most populous motif
    np.testing.assert_array_equal(motif_labels(layout, method="gmm", n_motifs=2, rng=0) == 0, truth == 0)


def test_fr_layout_matches_a_restatement_of_the_authors_code():
    patches, truth = _motif_patches((160, 40), noise=0.5, seed=5)
    features = zernike_moments(patches, n_max=10)
    ours = force_relaxed_layout(features, rng=1)
    theirs = reference_fr_layout(features, seed=48)
    kept_ours, kept_theirs = _knn_kept(features, ours), _knn_kept(features, theirs)
    assert abs(kept_ours - kept_theirs) < 0.05, (kept_ours, kept_theirs)
    labels_ours, labels_theirs = motif_labels(ours), motif_labels(theirs)
    assert adjusted_rand_score(labels_theirs, labels_ours) >= 0.95
    assert adjusted_rand_score(truth, labels_ours) >= 0.95
    # the two layouts have the same extent: same forces, schedule and number of moves
    extent_ours, extent_theirs = np.ptp(ours, axis=0).max(), np.ptp(theirs, axis=0).max()
    assert 0.7 < extent_ours / extent_theirs < 1.4, (extent_ours, extent_theirs)


def test_fr_stages_spread_then_compact(two_motifs):
    features, truth, layout = two_motifs
    start = force_relaxed_layout(features, n_iter=(0, 0), rng=0)
    spread = force_relaxed_layout(features, n_iter=(50, 0), rng=(7, 0, 0))
    assert np.abs(start).max() == pytest.approx(10.0)  # PCA start scaled to [-10, 10]
    assert np.abs(spread).max() > 30.0  # repulsion-dominated stage dilates the layout
    # attraction-dominated stage makes each class compact relative to the class separation
    assert _spread_over_separation(layout, truth) < 0.3 * _spread_over_separation(start, truth)


def test_fr_layout_is_reproducible(two_motifs):
    features, _, layout = two_motifs
    np.testing.assert_array_equal(force_relaxed_layout(features, rng=(7, 0, 0)), layout)
    assert not np.array_equal(force_relaxed_layout(features, rng=(8, 0, 0)), layout)


def test_batched_variant_separates_the_motifs_too(two_motifs):
    features, truth, _ = two_motifs
    batched = force_relaxed_layout(features, update="batched", rng=(7, 0, 0))
    np.testing.assert_array_equal(force_relaxed_layout(features, update="batched", rng=(7, 0, 0)), batched)
    assert adjusted_rand_score(truth, motif_labels(batched, method="kmeans", n_motifs=2, rng=0)) >= 0.9


def test_umap_and_pca_layouts_are_selectable(two_motifs):
    features, truth, _ = two_motifs
    config = {"layout": "umap", "n_neighbors": 10, "metric": "correlation"}
    umap_xy = layout_features(features, config, rng=0)
    np.testing.assert_array_equal(umap_layout(features, n_neighbors=10, rng=0), umap_xy)
    assert adjusted_rand_score(truth, motif_labels(umap_xy, method="kmeans", n_motifs=2, rng=0)) >= 0.9
    pca_xy = layout_features(features, {"layout": "pca"}, rng=0)
    np.testing.assert_allclose(np.abs(pca_xy), np.abs(pca_layout(features)))
    assert np.var(pca_xy[:, 0]) >= np.var(pca_xy[:, 1]) > 0
    with pytest.raises(ValueError, match="layout"):
        layout_features(features, {"layout": "tsne"}, rng=0)


def test_components_are_the_connected_blobs_of_the_dilated_layout():
    rng = np.random.default_rng(0)
    layout = np.concatenate([rng.normal(0, 0.5, (50, 2)), rng.normal(40, 0.5, (20, 2)), [[0.0, 40.0]]])
    labels = motif_labels(layout)
    np.testing.assert_array_equal(labels, [0] * 50 + [1] * 20 + [2])
    # one grid cell is 1/230 of the extent: points 10 cells apart stay separate, 4 apart merge
    assert len(set(motif_labels(np.array([[0.0, 0.0], [10.0, 0.0], [230.0, 0.0]])))) == 3
    assert len(set(motif_labels(np.array([[0.0, 0.0], [4.0, 0.0], [230.0, 0.0]])))) == 2
    with pytest.raises(ValueError, match="n_motifs"):
        motif_labels(layout, method="kmeans")


def test_class_distances_measure_distance_to_class_average():
    features = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [10.0, 13.0], [10.0, 16.0]])
    distances = class_distances(features, np.array([4, 4, 1, 1, 1]))
    np.testing.assert_allclose(distances, [1.0, 1.0, 3.0, 0.0, 3.0])


def test_class_averages_are_the_mean_patches():
    patches = np.arange(5 * 9, dtype=float).reshape(5, 3, 3)
    averages, motifs = class_averages(patches, np.array([1, 0, 1, 1, 0]))
    np.testing.assert_array_equal(motifs, [0, 1])
    np.testing.assert_allclose(averages[0], (patches[1] + patches[4]) / 2)
    np.testing.assert_allclose(averages[1], (patches[0] + patches[2] + patches[3]) / 3)


def test_layout_validates_inputs():
    features = np.random.default_rng(0).random((8, 4))
    with pytest.raises(ValueError, match="n_neighbors"):
        force_relaxed_layout(features, rng=0)
    with pytest.raises(ValueError, match="forces"):
        force_relaxed_layout(features, n_neighbors=3, n_iter=(10,), rng=0)
    with pytest.raises(ValueError, match="update"):
        force_relaxed_layout(features, n_neighbors=3, update="async", rng=0)
    with pytest.raises(ValueError, match="labels"):
        class_distances(features, np.zeros(5))


# ---------------------------------------------------------------- one sample


def test_analyse_motifs_finds_dim_columns_in_a_lattice():
    rng = np.random.default_rng(8)
    sampling, a = 0.1, 3.2
    i, j = np.meshgrid(np.arange(14), np.arange(16), indexing="ij")
    x, y = 4.0 + i.ravel() * a + (j.ravel() % 2) * a / 2, 4.0 + j.ravel() * a * np.sqrt(3) / 2
    x, y = x + rng.uniform(-0.5, 0.5, x.size) * sampling, y + rng.uniform(-0.5, 0.5, y.size) * sampling  # random sub-pixel offsets
    dim = rng.random(len(x)) < 0.08
    size = (int(y.max() / sampling) + 45, int(x.max() / sampling) + 45)
    rows, cols = np.mgrid[: size[0], : size[1]] * sampling
    image = sum(h * np.exp(-((cols - cx) ** 2 + (rows - cy) ** 2) / (2 * 0.35**2)) for cx, cy, h in zip(x, y, np.where(dim, 0.4, 1.0)))
    image = image + 0.02 * rng.standard_normal(size)
    sites = pd.DataFrame({"frame": 0, "kind": "atom", "x": x, "y": y})
    features, motifs, averages = analyse_motifs(image[None], sampling, sites, {"patch_size": "auto", "seed": 1})
    assert len(features) == len(motifs) == len(sites) and "Z10_0" in features.columns  # n_max 10, 36 invariants
    assert {"rot2", "rot3", "rot4", "rot6", "mirror", "mirror_axis"} <= set(motifs.columns) and motifs["mirror"].between(-1, 1).all()
    truth = dim[motifs["site"].to_numpy()]
    faint_motif = motifs["motif"][truth].mode()[0]
    # patches cut at the sub-pixel site: the bright columns, at every offset from the pixel
    # grid, are one motif and the dim ones another (cut at the nearest pixel, as motif-learn
    # does, the components split the bright columns by their offset)
    assert motifs["motif"].nunique() == 2 and adjusted_rand_score(truth, motifs["motif"]) == 1.0
    kmeans = analyse_motifs(image[None], sampling, sites, {"patch_size": "auto", "labels": "kmeans", "n_motifs": 2})[1]
    assert adjusted_rand_score(truth, kmeans["motif"]) == 1.0
    assert averages["patches"].shape[1:] == (33, 33)  # patch side 3.2 Å at 0.1 Å/px
    bright, faint = (averages["patches"][averages["motif"] == label][0] for label in (0, faint_motif))
    assert bright[16, 16] > faint[16, 16] + 1.0  # the class averages keep the brightness difference
    np.testing.assert_array_equal(averages["count"], np.bincount(motifs["motif"]))
