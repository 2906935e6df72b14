"""Drift between the frames of a movie: cross-correlation, and positions in the first frame's coordinates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree
from scipy.stats import qmc

from atomscope.inference.drift import correct_drift, frame_drift
from atomscope.labels import find_peaks
from atomscope.simulation import gaussian_heatmap

SAMPLING = 0.11  # [Å/px], the shipped models'


def amorphous_movie(frames: int = 20, *, max_step: float = 2.0, noise: float = 0.05, seed: int = 0):
    """A movie of amorphous-carbon-like atoms (Poisson-disk, 1.4 Å apart) drifting by up to
    ``max_step`` Å per frame, as a network's atom maps with Gaussian noise of ``noise`` (peaks 1); returns frames, true drift
    (F, 2) [Å] and the atoms' positions in frame 0 [Å]."""
    rng = np.random.default_rng(seed)
    atoms = qmc.PoissonDisk(2, radius=1.4 / 90, seed=seed).random(6000) * 90 - 30  # a 90 Å field around the frames
    angle = rng.uniform(0, 2 * np.pi, frames)
    steps = max_step * rng.uniform(0.5, 1.0, frames)[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    steps[0] = 0
    drift = np.cumsum(steps, axis=0)
    drift -= drift[0]
    shape = (192, 192)  # 21 Å
    images = np.stack([gaussian_heatmap(atoms + d, shape, SAMPLING, sigma=0.35) for d in drift])
    return images + rng.normal(0, noise, images.shape), drift, atoms


def test_the_drift_of_a_20_frame_movie_within_0_05_angstrom_and_positions_within_0_1():
    images, truth, atoms = amorphous_movie()
    drift = frame_drift(images, SAMPLING)
    assert np.abs(np.diff(truth, axis=0)).max() > 1.3  # steps of up to 2 Å
    error = np.hypot(drift["dx"] - truth[:, 0], drift["dy"] - truth[:, 1])
    assert error.max() < 0.05
    assert drift["step"].to_numpy()[1:] == pytest.approx(np.hypot(*np.diff(truth, axis=0).T), abs=0.05)

    tables = []
    for k, image in enumerate(images):
        peaks = find_peaks(image, min_distance_px=5, threshold=0.5, exclude_border_px=5)
        tables.append(pd.DataFrame({"frame": k, "x": peaks["x_px"] * SAMPLING, "y": peaks["y_px"] * SAMPLING}))
    sites = correct_drift(pd.concat(tables, ignore_index=True), drift)
    distance, _ = cKDTree(atoms).query(sites[["x_corrected", "y_corrected"]].to_numpy())
    matched = distance[distance < 0.5]  # the rest are peaks of noise or of two merged atoms
    assert len(matched) > 0.97 * len(sites) > 0.97 * 20 * 100
    assert np.percentile(matched, 99) < 0.1 and np.sqrt(np.mean(matched**2)) < 0.05
    # uncorrected, the same positions are off by the drift
    assert np.median(cKDTree(atoms).query(sites[["x", "y"]].to_numpy())[0]) > 0.3


def test_a_still_movie_has_no_drift_and_frame_0_is_the_reference():
    images, _, _ = amorphous_movie(3, max_step=0.0)
    drift = frame_drift(images, SAMPLING)
    assert drift["frame"].tolist() == [0, 1, 2]
    assert np.abs(drift[["dx", "dy"]].to_numpy()).max() < 0.01


def test_correct_drift_subtracts_each_frame_its_own_offset():
    sites = pd.DataFrame({"frame": [1, 0, 1], "x": [5.0, 1.0, 2.0], "y": [0.0, 0.0, 1.0]})
    drift = pd.DataFrame({"frame": [0, 1], "dx": [0.0, 2.0], "dy": [0.0, -1.0], "step": [0.0, 2.2]})
    corrected = correct_drift(sites, drift)
    assert corrected["x_corrected"].tolist() == [3.0, 1.0, 0.0] and corrected["y_corrected"].tolist() == [1.0, 0.0, 2.0]
