"""Rings on what detections look like: faces of the bond graph against polygon centres, jitter,
missed and spurious atoms, cuts by the image edge, a hole and the monolayer mask; named
defects; ring statistics with errors, coordination, adjacency and g(r)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path
from test_geometry import CC, _distances, _sites, graphene_patch, truncated_square_patch

from atomscope.geometry import aboav_weaire, analyse_frames, find_defects, pair_distribution, ring_adjacency, ring_pairs, triangulate
from atomscope.structures._sheet import sheet_sites
from atomscope.structures.amorphous import amorphous_carbon
from atomscope.structures.crystals import graphene_sheet
from atomscope.structures.defects import graphene_defects

NO_CENTRES = np.empty((0, 2))


def _complete_sizes(network) -> dict[int, int]:
    rings = network.rings[network.rings["complete"]]
    return {int(k): int(v) for k, v in rings["size"].value_counts().sort_index().items()}


def _padded(atoms: np.ndarray, pad: float) -> tuple[float, float, float, float]:
    """The region the CLI passes: the image, larger than the detections by ``pad`` [Å]."""
    (x0, y0), (x1, y1) = atoms.min(0), atoms.max(0)
    return (x0 - pad, x1 + pad, y0 - pad, y1 + pad)


def _ring_sets(network) -> dict[frozenset, int]:
    rings = network.rings[network.rings["complete"]]
    return {frozenset(np.asarray(m).tolist()): int(s) for m, s in zip(rings["members"], rings["size"])}


@pytest.fixture
def patch():
    atoms, whole, partial = graphene_patch(7, 6)  # 42 whole hexagons
    return atoms, np.vstack([whole, partial]), whole


# --- perfect graphene, both methods ------------------------------------------------------


@pytest.mark.parametrize("pad", [None, 0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("method", ["faces", "centres"])
def test_perfect_graphene_is_all_hexagons_of_1_42_and_120_for_every_region(patch, method, pad):
    atoms, centres, _ = patch
    region = None if pad is None else _padded(atoms, pad)
    net = triangulate(_sites(atoms, centres), rings=method, region=region)
    assert _complete_sizes(net) == {6: 42}
    np.testing.assert_allclose(net.bonds["length"], CC, atol=1e-9)
    np.testing.assert_allclose(net.angles["angle"], 120.0, atol=1e-6)


def test_faces_and_centres_give_the_same_rings_on_graphene(patch):
    atoms, centres, whole = patch
    region = _padded(atoms, 1.0)
    faces = triangulate(_sites(atoms, NO_CENTRES), region=region)  # 'auto' without centres: faces
    with_centres = triangulate(_sites(atoms, centres), region=region)
    assert (faces.rings["centre"] == -1).all() and _ring_sets(faces) == _ring_sets(with_centres)
    # a face's position is the centroid of its members: the hexagon's centre
    complete = faces.rings[faces.rings["complete"]]
    assert _distances(complete[["x", "y"]].to_numpy(), whole).min(axis=1).max() < 1e-9


def test_faces_and_centres_agree_on_a_voronoi_model():
    # amorphous carbon (Voronoi vertices as atoms, seeds as centres), relaxed: 3- to 9-rings
    sites, _ = amorphous_carbon((40.0, 40.0), rng=3, radius_spread=0.2, relax=True)
    sites = sites[["x", "y", "kind", "ring_size"]]
    region = (0.0, 40.0, 0.0, 40.0)
    faces = triangulate(sites, rings="faces", region=region)
    centres = triangulate(sites, rings="centres", region=region)
    by_faces, by_centres = _ring_sets(faces), _ring_sets(centres)
    assert len(by_centres) > 250 and set(by_centres) <= set(by_faces)  # every centre ring is a face
    assert all(by_faces[key] == size for key, size in by_centres.items())
    # every complete face holds one seed of the model and has its ring size, also where the centres
    # method misses a member of a long, bent 7- or 9-ring (its centre is not Delaunay-joined to all)
    xy = sites[["x", "y"]].to_numpy()
    seeds = np.flatnonzero(sites["kind"].to_numpy() == "centre")
    complete = faces.rings[faces.rings["complete"]]
    for members, size in zip(complete["members"], complete["size"]):
        inside = seeds[Path(xy[np.asarray(members)]).contains_points(xy[seeds])]
        assert len(inside) == 1 and sites["ring_size"].iloc[inside[0]] == size
    assert len(by_faces) - len(by_centres) == 7
    # and both match the model's own ring sizes away from the edge
    inner = centres.rings[centres.rings["complete"]]
    truth = sites["ring_size"].to_numpy()[inner["centre"].to_numpy()]
    assert (inner["size"].to_numpy() == truth).all()
    assert set(inner["size"]) == {4, 5, 6, 7, 8, 9}


# --- what real detections look like --------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.05, 0.1])
@pytest.mark.parametrize("method", ["faces", "centres"])
def test_jittered_positions_keep_every_hexagon(patch, sigma, method):
    atoms, centres, _ = patch
    rng = np.random.default_rng(0)
    atoms = atoms + rng.normal(0, sigma, atoms.shape)
    centres = centres + rng.normal(0, sigma, centres.shape)
    net = triangulate(_sites(atoms, centres), rings=method, region=_padded(atoms, 2.0))
    assert _complete_sizes(net) == {6: 42}
    assert abs(net.bonds["length"].mean() - CC) < 0.02


def test_a_missed_atom_merges_three_hexagons_into_a_12_ring_or_opens_them(patch):
    atoms, centres, _ = patch
    k = np.argmin(_distances(atoms, [atoms.mean(0)])[:, 0])  # an inner atom: in 3 hexagons
    missed = np.delete(atoms, k, axis=0)
    region = _padded(atoms, 2.0)
    # faces: its three hexagons become one face of 3 x 6 - 3 x 2 = 12 atoms
    faces = triangulate(_sites(missed, NO_CENTRES), region=region)
    assert _complete_sizes(faces) == {6: 39, 12: 1}
    # centres: each of the three centres sees 5 atoms with a 2.46 Å gap: not a 5-ring
    assert _complete_sizes(triangulate(_sites(missed, centres), region=region)) == {6: 39}
    # the atom's three neighbours are left with two bonds; they stay interior with faces
    summary = analyse_frames(_sites(missed, NO_CENTRES), region=region, r_max=3.0)["summary"].iloc[0]
    assert summary["coordination_2"] * summary["n_interior_atoms"] == pytest.approx(3)


@pytest.mark.parametrize("distance", [0.55, 0.8])
@pytest.mark.parametrize("method", ["faces", "centres"])
def test_an_atom_detected_twice_keeps_its_three_hexagons_hexagons(patch, distance, method):
    # a noisy heat map can split one atom into two peaks 0.55-0.8 Å apart: counted as two atoms,
    # its three hexagons became 7-rings with centres, and 3-rings appeared among the faces
    atoms, centres, _ = patch
    k = np.argmin(_distances(atoms, [atoms.mean(0)])[:, 0])  # an inner atom: in 3 hexagons
    twice = np.vstack([atoms, atoms[k] + [0.0, distance]])
    net = triangulate(_sites(twice, centres), rings=method, region=_padded(atoms, 2.0))
    assert _complete_sizes(net) == {6: 42}
    assert not net.bonds[["i", "j"]].isin([len(atoms)]).any().any()  # the second detection has no bonds


@pytest.mark.parametrize("offset", [0.0, 0.4])
@pytest.mark.parametrize("method", ["faces", "centres"])
def test_a_spurious_atom_inside_a_hexagon_gets_no_bonds_and_breaks_no_ring(patch, offset, method):
    atoms, centres, whole = patch
    centre = whole[np.argmin(_distances(whole, [atoms.mean(0)])[:, 0])]
    spurious = np.vstack([atoms, centre + [offset, 0.0]])  # all six ring atoms within 1.92 Å
    net = triangulate(_sites(spurious, centres), rings=method, region=_padded(atoms, 2.0))
    assert _complete_sizes(net) == {6: 42}
    row = len(atoms)
    assert not net.bonds[["i", "j"]].isin([row]).any().any()


def test_rings_cut_by_the_image_edge_are_not_complete():
    atoms, whole, partial = graphene_patch(9, 8)
    x0, x1, y0, y1 = atoms[:, 0].min() + 2.0, atoms[:, 0].max() - 2.3, atoms[:, 1].min() + 1.7, atoms[:, 1].max() - 2.9
    inside = (atoms[:, 0] > x0) & (atoms[:, 0] < x1) & (atoms[:, 1] > y0) & (atoms[:, 1] < y1)
    region = (x0, x1, y0, y1)
    # faces: the hexagons whose six atoms are all inside (a cut one lacks atoms and closes no face)
    faces = triangulate(_sites(atoms[inside], NO_CENTRES), region=region)
    seen = (_distances(whole, atoms[~inside]) > CC + 1e-6).all(axis=1)
    assert seen.sum() == 35 and _complete_sizes(faces) == {6: 35}


def test_rings_around_a_hole_are_complete_and_the_hole_is_no_ring():
    atoms, whole, _ = graphene_patch(9, 8)
    centre = whole[np.argmin(_distances(whole, [atoms.mean(0)])[:, 0])]
    hole = np.hypot(*(atoms - centre).T) < 3.0  # the 6 atoms at 1.42 Å and the 6 at 2.84 Å
    net = triangulate(_sites(atoms[~hole], NO_CENTRES), region=_padded(atoms, 2.0))
    # by hand: 72 hexagons, minus the 13 that lose an atom (the centre one, its 6 neighbours and
    # the 6 beyond them that hold an atom at 2.84 Å)
    intact = (_distances(whole, atoms[hole]) > CC + 1e-6).all(axis=1)
    assert intact.sum() == 72 - 13 and _complete_sizes(net) == {6: 59}
    # the hole is one face: coronene's 18 rim atoms, less the six at 2.84 Å, plus 3 for each of
    # the 6 outer hexagons = 30 atoms; too large for a ring
    pore = net.rings[~net.rings["complete"]]
    assert pore["size"].tolist() == [30]


@pytest.mark.parametrize("method", ["faces", "centres"])
def test_rings_that_leave_the_monolayer_mask_are_not_complete(patch, method):
    atoms, centres, whole = patch
    sites = _sites(atoms, centres).assign(frame=0)
    mask = np.zeros((1, 200, 200), dtype=bool)
    mask[0, :, :90] = True  # 0.1 Å/px: x < 8.95 Å
    tables = analyse_frames(sites, r_max=3.0, dr=0.1, region=(-5.0, 20.0, -5.0, 20.0), monolayer=mask, monolayer_sampling=0.1, rings=method)
    # by hand: the hexagons whose 1.42 Å circle fits in x < 8.95 Å
    assert tables["rings"]["complete"].sum() == 21 == (whole[:, 0] + CC < 8.95).sum()


# --- defects by name ---------------------------------------------------------------------


def _periodic_defect(defect: str) -> tuple[pd.DataFrame, np.ndarray]:
    """A relaxed 30 x 30 Å graphene cell with one defect, tiled 3 x 3 so the middle copy is whole."""
    sheet, _ = graphene_defects(graphene_sheet((30.0, 30.0)), {defect: 1}, rng=1)
    sites = sheet_sites(sheet)[["x", "y", "kind", "element"]]
    tiles = [sites.assign(x=sites["x"] + i * sheet.box[0], y=sites["y"] + j * sheet.box[1]) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    return pd.concat(tiles, ignore_index=True), np.asarray(sheet.box)


@pytest.mark.parametrize(
    ("defect", "name", "sizes"),
    [
        ("stone_wales", "Stone-Wales", "5-5-7-7"),
        ("divacancy_585", "5-8-5", "5-5-8"),
        ("divacancy_555777", "555-777", "5-5-5-7-7-7"),
        ("vacancy", "single vacancy (5-9)", "5-9"),
    ],
)
@pytest.mark.parametrize("method", ["faces", "centres"])
def test_each_point_defect_is_found_once_by_name(defect, name, sizes, method):
    sites, box = _periodic_defect(defect)
    net = triangulate(sites, rings=method)
    found = find_defects(sites, net.rings, net.bonds)
    middle = found[(found["x"] >= 0) & (found["x"] < box[0]) & (found["y"] >= 0) & (found["y"] < box[1])]
    assert len(found) == 9  # one per tile (those at the outer edge of the tiling cut)
    assert middle[["defect", "sizes", "whole"]].values.tolist() == [[name, sizes, True]]


def test_a_grain_boundary_is_a_5_7_chain_and_dopants_are_named_with_their_coordination(patch):
    atoms, centres, _ = patch
    inner = int(np.argmin(_distances(atoms, [atoms.mean(0)])[:, 0]))
    sites = _sites(atoms, centres).assign(species=np.where(np.arange(len(atoms) + len(centres)) == inner, "Si", "C"))
    net = triangulate(sites, region=_padded(atoms, 2.0))
    dopants = find_defects(sites, net.rings, net.bonds)
    assert dopants[["defect", "site", "species", "coordination"]].values.tolist() == [["dopant", inner, "Si", 3]]
    # three complete rings 5, 7, 5 in a row (sharing bonds): a chain, not a known pattern
    rings = pd.DataFrame(
        {
            "x": [0.0, 2.0, 4.0, 20.0],
            "y": 0.0,
            "size": [5, 7, 5, 6],
            "members": [[0, 1, 2, 3, 4], [3, 2, 10, 11, 12, 13, 14], [13, 12, 20, 21, 22], [30, 31, 32, 33, 34, 35]],
            "complete": True,
        }
    )
    chain = find_defects(pd.DataFrame({"x": [0.0], "y": [0.0], "kind": ["atom"]}), rings, net.bonds.iloc[:0])
    assert chain[["defect", "sizes", "rings"]].values.tolist() == [["5-7 chain", "5-5-7", [0, 1, 2]]]


# --- statistics ----------------------------------------------------------------------------


def test_ring_adjacency_and_aboav_weaire_on_the_4_8_8_tiling():
    # squares neighbour only octagons; octagons 4 squares and 4 octagons
    sites, _, _ = truncated_square_patch(6)
    net = triangulate(sites)
    pairs = ring_pairs(net.rings)
    adjacency = ring_adjacency(net.rings, pairs).set_index(["size", "neighbour_size"])
    assert (4, 4) not in adjacency.index and adjacency.loc[(8, 8), "count"] > 0
    assert adjacency.loc[(4, 8), "count"] == adjacency.loc[(8, 4), "count"]
    # expected for random mixing: an 8-ring offers 8 bonds, a square 4
    n4, n8 = (net.rings.loc[net.rings["complete"], "size"] == 4).sum(), (net.rings.loc[net.rings["complete"], "size"] == 8).sum()
    total = adjacency.loc[4, "count"].sum()
    assert adjacency.loc[(4, 8), "expected"] == pytest.approx(total * 8 * n8 / (4 * n4 + 8 * n8))
    # Aboav-Weaire by hand: inner squares have n m(n) = 4 x 8 = 32, inner octagons 4 x 4 + 4 x 8 = 48
    a, mu2 = aboav_weaire(net.rings, pairs)
    sizes = net.rings.loc[net.rings["complete"], "size"].to_numpy()
    assert mu2 == pytest.approx(sizes.var())
    both = np.concatenate([pairs, pairs[:, ::-1]])
    inner = net.rings["complete"].to_numpy() & (np.bincount(both[:, 0], minlength=len(net.rings)) == net.rings["size"].to_numpy())
    s_in, o_in = (inner & (net.rings["size"] == 4).to_numpy()).sum(), (inner & (net.rings["size"] == 8).to_numpy()).sum()
    assert s_in == 16 and o_in == 9
    expected = (s_in * 2 * (32 - 24 - mu2) + o_in * -2 * (48 - 48 - mu2)) / (4 * s_in + 4 * o_in)
    assert a == pytest.approx(expected)


def test_summary_carries_ring_errors_coordination_and_no_aboav_for_one_ring_size(patch):
    atoms, centres, whole = patch
    summary = analyse_frames(_sites(atoms, centres), r_max=3.0, dr=0.1)["summary"].iloc[0]
    assert summary["ring_6"] == 1.0 and summary["ring_6_err"] == 0.0
    # interior atoms: in as many complete hexagons as they have bonds, here the atoms of 3 hexagons
    in_three = ((_distances(atoms, whole) < CC + 1e-6).sum(axis=1) == 3).sum()
    assert in_three == 60 and summary["n_interior_atoms"] == in_three
    assert summary["coordination_mean"] == 3.0 and summary["coordination_3"] == 1.0 and summary["coordination_2"] == 0.0
    assert np.isnan(summary["aboav_a"]) and summary["ring_size_variance"] == 0.0


def test_pdf_of_uniform_random_points_is_one_beyond_2_angstrom_with_and_without_sampling():
    rng = np.random.default_rng(4)
    for n, side in [(20_000, 150.0), (60_000, 260.0)]:  # the second draws 20,000 reference points
        r, g = pair_distribution(rng.uniform(0, side, (n, 2)), r_max=8.0, dr=0.1)
        assert np.abs(g[r > 2.0] - 1).max() < 0.05


def test_pdf_of_graphene_peaks_at_1_42_2_46_and_2_84():
    atoms, _, _ = graphene_patch(30, 30)
    r, g = pair_distribution(atoms, r_max=3.2, dr=0.02)
    peaks = r[1:-1][(g[1:-1] > g[:-2]) & (g[1:-1] > g[2:]) & (g[1:-1] > 1.0)]
    np.testing.assert_allclose(peaks, [1.42, 2.46, 2.84], atol=0.011)


def test_local_maps_show_the_bond_length_and_the_hexagons_away_from_a_defect():
    from atomscope.geometry import local_maps
    from atomscope.io import ImageGrid

    sites, box = _periodic_defect("stone_wales")
    net = triangulate(sites, rings="faces")
    grid = ImageGrid((int(box[1] / 0.2), int(box[0] / 0.2)), 0.2)  # the middle tile, 0.2 Å/px
    maps = local_maps(sites, net.bonds, net.rings, grid, sigma=3.0)
    assert set(maps) == {"bond_length", "strain", "hexagon_fraction"}
    assert np.isfinite(maps["bond_length"]).all()  # bonds everywhere in the tiling
    assert np.nanmedian(maps["bond_length"]) == pytest.approx(net.bonds["length"].median(), abs=0.01)
    defect = find_defects(sites, net.rings, net.bonds)
    (x, y), = defect.loc[(defect["x"].between(0, box[0])) & (defect["y"].between(0, box[1])), ["x", "y"]].to_numpy()
    row, col = grid.nearest_pixel(np.array([x]), np.array([y]))
    fraction = maps["hexagon_fraction"]
    assert fraction[row[0], col[0]] < 0.6  # four of the rings there are 5s and 7s
    far = np.hypot(*np.meshgrid((np.arange(grid.shape[1]) * 0.2 - x), (np.arange(grid.shape[0]) * 0.2 - y))) > 12.0
    assert fraction[far].min() > 0.97
    # and a patch with no data is blank, not zero
    empty = local_maps(sites.iloc[:0], net.bonds.iloc[:0], net.rings.iloc[:0], grid)
    assert np.isnan(empty["bond_length"]).all()
