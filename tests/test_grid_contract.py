"""One pixel convention end to end: a site at a known pixel of a non-square image with a
non-round pixel size has the same Å and px in the targets, the sites table, the geometry
tables and the overlay (pixel (r, c) is centred at x = c * s, y = r * s)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atomscope.geometry import analyse_frames
from atomscope.inference.predict import detect_sites
from atomscope.io import ImageGrid
from atomscope.report import overlay_figure
from atomscope.simulation import render_targets

GRID = ImageGrid((90, 130), 0.137)
ROW, COL = 37, 81
CENTRE = (COL * 0.137, ROW * 0.137)  # (11.097, 5.069) Å


@pytest.fixture
def hexagon() -> pd.DataFrame:
    """A hexagon of atoms (1.42 Å) around a centre site at pixel (ROW, COL), inside a shell of
    12 atoms 5 Å out (too far to bond) that keeps the hexagon off the convex hull."""
    hexagon = np.radians(np.arange(6) * 60 + 30)
    shell = np.radians(np.arange(12) * 30)
    atoms = np.concatenate([1.42 * np.column_stack([np.cos(hexagon), np.sin(hexagon)]), 5.0 * np.column_stack([np.cos(shell), np.sin(shell)])])
    xy = np.vstack([atoms + CENTRE, [CENTRE]])
    return pd.DataFrame({"kind": ["atom"] * 18 + ["centre"], "x": xy[:, 0], "y": xy[:, 1]})


def test_target_peak_sites_geometry_and_overlay_agree_on_the_pixel(hexagon):
    targets = render_targets(hexagon, ["atoms", "centres"], GRID.shape, GRID.sampling, sigma=0.3)
    assert targets.shape == (2, 90, 130)
    assert np.unravel_index(np.argmax(targets[1]), GRID.shape) == (ROW, COL)

    sites = detect_sites(targets, target_names=["atoms", "centres"], model_sampling=0.137, image_sampling=0.137, threshold=0.5, min_distance=0.7)
    centre = sites[sites["kind"] == "centre"].iloc[0]
    assert (centre["x_px"], centre["y_px"]) == pytest.approx((COL, ROW), abs=1e-3)
    assert (centre["x"], centre["y"]) == pytest.approx(CENTRE, abs=1e-3)
    assert GRID.to_px(centre["x"], centre["y"]) == pytest.approx((COL, ROW), abs=1e-3)

    tables = analyse_frames(sites.assign(frame=0), min_bond=0.5, max_bond=3.0, r_max=2.0, dr=0.1, region=GRID.region())
    ring = tables["rings"].iloc[0]
    assert (ring["size"], bool(ring["complete"])) == (6, True)
    ring_centre = sites.iloc[int(ring["centre"])]
    assert (ring_centre["x"], ring_centre["y"]) == pytest.approx(CENTRE, abs=1e-3)
    assert tables["bonds"]["length"].to_numpy() == pytest.approx(1.42, abs=0.01)

    figure = overlay_figure(targets[1], GRID.sampling, sites, tables["bonds"], tables["rings"])
    axes = figure.axes[0]
    left, right, bottom, top = axes.images[0].get_extent()
    assert (left, right, bottom, top) == pytest.approx(GRID.imshow_extent())
    # the data point of the centre falls in the middle of image pixel (ROW, COL)
    col = (CENTRE[0] - left) / (right - left) * GRID.shape[1] - 0.5
    row = (CENTRE[1] - top) / (bottom - top) * GRID.shape[0] - 0.5
    assert (row, col) == pytest.approx((ROW, COL), abs=1e-9)
    assert axes.get_xlim() == pytest.approx((left, right)) and axes.get_ylim() == pytest.approx((bottom, top))


def test_take_shows_a_model_grid_mask_on_the_image_grid():
    """A mask on a 0.1 Å/px model grid seen on a 0.05 Å/px image grid: each image pixel takes
    the model pixel nearest to it in Å, so an edge at x = 0.2 Å lands near image column 4."""
    model = ImageGrid((10, 10), 0.1)
    mask = np.zeros(model.shape, bool)
    mask[:, 2:] = True  # model columns >= 2: x >= 0.2 Å
    image = ImageGrid((20, 20), 0.05)
    seen = image.take(mask, model)
    assert seen.shape == (20, 20)
    # image column c is at x = 0.05 c; the nearest model column is rint(c / 2): >= 2 from c = 3 (rint(1.5) = 2)
    assert seen[0].tolist() == [False] * 3 + [True] * 17
