"""Graphene with defects, dopants and grain boundaries: rings seen by the Delaunay triangulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atomscope.geometry.triangulate import triangulate
from atomscope.structures._periodic import pair_distances
from atomscope.structures._sheet import sheet_sites
from atomscope.structures.crystals import graphene_sheet
from atomscope.structures.defects import _place, _pristine_atoms, graphene_bicrystal, graphene_defects


def periodic_ring_sizes(sites: pd.DataFrame, cell) -> np.ndarray:
    """Ring sizes that atomscope.geometry.triangulate finds for every centre, using a 3 x 3 periodic tiling."""
    lx, ly = cell
    tiles = [sites.assign(x=sites["x"] + i * lx, y=sites["y"] + j * ly, tile=3 * i + j) for i in (0, -1, 1) for j in (0, -1, 1)]
    tiled = pd.concat(tiles, ignore_index=True)  # tile 0 (the original) first
    rings = triangulate(tiled).rings
    return rings.loc[rings["centre"] < len(sites), "size"].to_numpy()


def _model(defect, seed=1, cell=(30.0, 30.0)):
    sheet, records = graphene_defects(graphene_sheet(cell), {defect: 1}, rng=seed)
    return sheet, records, sheet_sites(sheet)


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        ("stone_wales", {5: 2, 7: 2}),
        ("divacancy_585", {5: 2, 8: 1}),
        ("divacancy_555777", {5: 3, 7: 3}),
        ("vacancy", {5: 1, 9: 1}),
        ("si4", {5: 2}),
    ],
)
def test_defect_rings_seen_by_triangulation(defect, expected):
    sheet, records, sites = _model(defect)
    sizes = periodic_ring_sizes(sites, sheet.box)
    found = {int(k): int(v) for k, v in zip(*np.unique(sizes, return_counts=True)) if k != 6}
    assert found == expected
    # the triangulation agrees with the traced rings, and every ring has a centre
    np.testing.assert_array_equal(np.sort(sizes), np.sort(sites.loc[sites["kind"] == "centre", "ring_size"]))
    assert records == [{"type": defect, "x": pytest.approx(records[0]["x"]), "y": pytest.approx(records[0]["y"])}]


def test_pristine_graphene_is_all_hexagons_with_1_42_bonds():
    sheet = graphene_sheet((20.0, 20.0))
    assert sheet.box == pytest.approx([9 * 2.46, 5 * 2.46 * np.sqrt(3)])  # smallest commensurate cell >= request
    assert len(sheet.pos) == 4 * 9 * 5 and len(sheet.centres) == 2 * 9 * 5
    np.testing.assert_allclose(pair_distances(sheet.pos, sheet.bonds, sheet.box), 2.46 / np.sqrt(3), atol=1e-9)
    assert set(periodic_ring_sizes(sheet_sites(sheet), sheet.box)) == {6}


def test_relaxed_defects_have_physical_bonds_and_dopants_their_coordination():
    for defect in ("stone_wales", "divacancy_585", "divacancy_555777"):
        sheet, _, _ = _model(defect)
        r = pair_distances(sheet.pos, sheet.bonds, sheet.box)
        assert 1.3 < r.min() and r.max() < 1.6, defect
    sheet, _, sites = _model("si4")
    si = np.flatnonzero(sheet.elements == "Si")
    assert len(si) == 1 and np.sum(sheet.bonds == si[0]) == 4
    assert len(sheet.pos) == len(graphene_sheet((30.0, 30.0)).pos) - 1  # two C out, one Si in
    sheet, _, sites = _model("si3")
    si = np.flatnonzero(sheet.elements == "Si")
    assert len(si) == 1 and np.sum(sheet.bonds == si[0]) == 3
    r_si = pair_distances(sheet.pos, sheet.bonds[(sheet.bonds == si[0]).any(axis=1)], sheet.box)
    assert np.all(r_si > 1.55)  # Si-C bonds are longer than C-C
    sheet, _, sites = _model("nitrogen")
    assert list(sites.loc[sites["element"] == "N", "species_class"]) == ["N"] and (sites["Z"] == 7).sum() == 1


def test_defects_keep_their_distance_and_too_many_fail_naming_the_type():
    sheet, records = graphene_defects(graphene_sheet((40.0, 40.0)), {"stone_wales": 2, "nitrogen": 3}, rng=0, min_separation=8.0)
    xy = np.array([[r["x"], r["y"]] for r in records])
    d = xy[:, None] - xy[None]
    d -= sheet.box * np.round(d / sheet.box)
    dist = np.hypot(d[..., 0], d[..., 1])[np.triu_indices(len(xy), 1)]
    assert [r["type"] for r in records] == ["stone_wales"] * 2 + ["nitrogen"] * 3 and dist.min() >= 8.0
    with pytest.raises(ValueError, match="stone_wales.*enlarge the cell"):
        graphene_defects(graphene_sheet((20.0, 20.0)), {"stone_wales": 20}, rng=0, min_separation=8.0)
    with pytest.raises(ValueError, match="pentagon"):
        graphene_defects(graphene_sheet((20.0, 20.0)), {"pentagon": 1}, rng=0)
    with pytest.raises(ValueError, match="nitrogen"):
        graphene_defects(graphene_sheet((20.0, 20.0)), {"nitrogen": -1}, rng=0)


def test_a_jammed_random_placement_is_tried_again():
    """14 N at >= 5 Å in a 20 Å cell is near the packing limit: seed 16's first random placement
    leaves no site for the last ones, and a later attempt fits all 14 (a preset's rare crowded
    draw used to stop the whole structures job)."""
    sheet = graphene_sheet((20.0, 20.0))
    rng = np.random.default_rng(16)
    _, placed, jammed = _place(sheet, {"nitrogen": 14}, _pristine_atoms(sheet), [], np.array([]), 5.0, rng)
    assert jammed is not None and len(placed) < 14
    sheet, records = graphene_defects(sheet, {"nitrogen": 14}, rng=16, min_separation=5.0)
    xy = np.array([[r["x"], r["y"]] for r in records])
    d = xy[:, None] - xy[None]
    d -= sheet.box * np.round(d / sheet.box)
    assert len(records) == 14 and np.hypot(d[..., 0], d[..., 1])[np.triu_indices(14, 1)].min() >= 5.0
    assert (sheet.elements == "N").sum() == 14
    with pytest.raises(ValueError, match="20 random placements tried"):
        graphene_defects(graphene_sheet((20.0, 20.0)), {"nitrogen": 14}, rng=0, min_separation=5.0)


def test_grain_boundary_closes_with_pentagon_heptagon_pairs():
    sheet, records = graphene_bicrystal((40.0, 40.0), angle=(20.0, 40.0), rng=1)
    sizes = periodic_ring_sizes(sheet_sites(sheet), sheet.box)
    counts = np.bincount(sizes, minlength=9)
    assert counts[5] == counts[7] > 0 and counts[5] + counts[6] + counts[7] == len(sizes)
    assert len(records) == 2 and {r["type"] for r in records} == {"grain_boundary"}
    assert 20.0 <= records[0]["angle"] <= 40.0
    assert 40.0 <= sheet.box[1] <= 1.25 * 40.0
    np.testing.assert_array_equal(np.bincount(sheet.bonds.ravel()), 3)  # every atom three-fold
    # non-hexagons sit on the two boundary lines (x = 0 and Lx / 2)
    centres = sheet.centres[sheet.ring_size != 6]
    to_line = np.minimum.reduce([centres[:, 0], np.abs(centres[:, 0] - sheet.box[0] / 2), sheet.box[0] - centres[:, 0]])
    assert to_line.max() < 4.0
    with pytest.raises(ValueError, match="angle"):
        graphene_bicrystal((40.0, 40.0), angle=(0.0, 0.5), rng=1)
