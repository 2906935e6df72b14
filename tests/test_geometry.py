"""Tests for atomscope.geometry: Delaunay bonds, angles and rings; g(r) and the frame summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atomscope.geometry import analyse_frames, pair_distribution, ring_size_fractions, summarise, triangulate
from atomscope.geometry.triangulate import check_region, check_sites

CC = 1.42  # C-C bond [Å]
A = CC * np.sqrt(3)  # graphene lattice constant [Å], 2.4595
HEXAGON_AREA = 3 * np.sqrt(3) / 2 * CC**2
# vertices of a pointy-top hexagon about its centre
_TURNS = np.pi / 6 + np.pi / 3 * np.arange(6)
HEX = CC * np.stack([np.cos(_TURNS), np.sin(_TURNS)], -1)


def _sites(atoms: np.ndarray, centres: np.ndarray) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"x": atoms[:, 0], "y": atoms[:, 1], "kind": "atom"}),
            pd.DataFrame({"x": centres[:, 0], "y": centres[:, 1], "kind": "centre"}),
        ],
        ignore_index=True,
    )


def _distances(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Distances [Å] between the rows of ``p`` (axis 0) and ``q`` (axis 1)."""
    return np.linalg.norm(np.asarray(p)[:, None] - np.asarray(q), axis=-1)


def _unique_rows(points: np.ndarray) -> np.ndarray:
    _, first = np.unique(np.round(points, 4), axis=0, return_index=True)
    return points[np.sort(first)]


def _hexagon_centres(nx: int, ny: int, pad: int = 0) -> np.ndarray:
    i, j = np.meshgrid(np.arange(-pad, nx + pad), np.arange(-pad, ny + pad), indexing="ij")
    return np.stack([i * A + (j % 2) * A / 2, j * 1.5 * CC], -1).reshape(-1, 2)


def graphene_patch(nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Atoms of nx*ny whole hexagons, their centres, and the centres of the partial hexagons around."""
    whole = _hexagon_centres(nx, ny)
    atoms = _unique_rows((whole[:, None] + HEX).reshape(-1, 2))
    padded = _hexagon_centres(nx, ny, pad=1)
    partial = padded[_distances(padded, whole).min(1) > 1e-6]
    return atoms, whole, partial


def _row(xy: np.ndarray, point) -> int:
    (index,) = np.flatnonzero(_distances(xy, [point])[:, 0] < 1e-6)
    return int(index)


def stone_wales_patch(nx: int, ny: int) -> tuple[pd.DataFrame, dict[str, int], int]:
    """Graphene patch with one vertical bond a-b rotated by 90 deg about its midpoint.

    The two hexagons on either side of a-b become pentagons and the two at its ends
    heptagons; their centres move to the centroids of the new polygons. Returns the sites,
    the rows of the four defect centres and the number of whole rings.
    """
    atoms, whole, partial = graphene_patch(nx, ny)
    c = whole[np.argmin(_distances(whole, [whole.mean(0)])[:, 0])]  # the hexagon below a-b
    a, b = _row(atoms, c + [0, CC]), _row(atoms, c + [0, 2 * CC])
    old = {
        "heptagon_a": c,
        "heptagon_b": c + [0, 3 * CC],
        "pentagon_a": c + [A / 2, 1.5 * CC],
        "pentagon_b": c + [-A / 2, 1.5 * CC],
    }
    members = {name: [_row(atoms, p) for p in centre + HEX] for name, centre in old.items()}
    members["heptagon_a"].append(b)
    members["heptagon_b"].append(a)
    members["pentagon_a"].remove(b)
    members["pentagon_b"].remove(a)
    moved = atoms.copy()
    mid = 0.5 * (atoms[a] + atoms[b])
    moved[a], moved[b] = mid + [CC / 2, 0], mid - [CC / 2, 0]
    defects = np.array([moved[m].mean(0) for m in members.values()])
    kept = _distances(whole, list(old.values())).min(1) > 1e-6
    sites = _sites(moved, np.concatenate([defects, whole[kept], partial]))
    return sites, {name: len(atoms) + k for k, name in enumerate(members)}, len(whole)


def truncated_square_patch(n: int, side: float = 1.42) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """4.8.8 tiling: n*n squares of ``side`` [Å] and the octagons between and around them."""
    a = side * (1 + np.sqrt(2))
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    squares = a * np.stack([i, j], -1).reshape(-1, 2)
    corners = side / np.sqrt(2) * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])  # squares turned 45 deg
    atoms = (squares[:, None] + corners).reshape(-1, 2)
    k, m = np.meshgrid(np.arange(-1, n), np.arange(-1, n), indexing="ij")
    octagons = a * (np.stack([k, m], -1).reshape(-1, 2) + 0.5)
    return _sites(atoms, np.concatenate([squares, octagons])), squares, octagons


@pytest.fixture  # per test, not per module: mutmut maps code to the tests that run it
def graphene():
    atoms, whole, partial = graphene_patch(7, 6)
    sites = _sites(atoms, np.concatenate([whole, partial]))
    return sites, triangulate(sites), len(atoms), len(whole)


# --- triangulate ---------------------------------------------------------------------------


def test_graphene_bonds_are_all_cc_and_angles_120(graphene):
    sites, net, n_atoms, _ = graphene
    assert len(net.bonds) > 140
    np.testing.assert_allclose(net.bonds["length"], CC, atol=1e-6)
    assert (net.bonds["i"] < net.bonds["j"]).all()
    assert (net.bonds[["i", "j"]].to_numpy() < n_atoms).all()  # atom-atom only
    np.testing.assert_allclose(net.angles["angle"], 120.0, atol=1e-6)
    assert list(net.bonds.columns) == ["i", "j", "length"] and net.bonds.index.equals(pd.RangeIndex(len(net.bonds)))
    assert list(net.angles.columns) == ["vertex", "i", "j", "angle"]
    assert list(net.rings.columns) == ["centre", "x", "y", "size", "area", "members", "complete"]
    # j is counter-clockwise from i by `angle`, both bonded to the vertex
    xy = sites[["x", "y"]].to_numpy()
    v, i, j = (net.angles[c].to_numpy() for c in ("vertex", "i", "j"))
    turn = np.degrees(np.arctan2(*(xy[j] - xy[v]).T[::-1]) - np.arctan2(*(xy[i] - xy[v]).T[::-1])) % 360
    np.testing.assert_allclose(turn, net.angles["angle"], atol=1e-9)
    bonded = set(map(tuple, np.sort(net.bonds[["i", "j"]].to_numpy(), axis=1).tolist()))
    assert all(tuple(sorted(pair)) in bonded for pair in [*zip(v, i), *zip(v, j)])


def test_graphene_atoms_bond_to_their_lattice_neighbours(graphene):
    sites, net, n_atoms, n_whole = graphene
    atoms = sites[["x", "y"]].to_numpy()[:n_atoms]
    whole = sites[["x", "y"]].to_numpy()[n_atoms : n_atoms + n_whole]
    neighbours = (np.abs(_distances(atoms, atoms) - CC) < 1e-6).sum(1)
    interior = (_distances(atoms, whole) < CC + 1e-6).sum(1) == 3  # in three whole hexagons
    degree = np.bincount(net.bonds[["i", "j"]].to_numpy().ravel(), minlength=n_atoms)
    np.testing.assert_array_equal(degree, neighbours)
    assert (degree[interior] == 3).all() and interior.sum() > 50 and (degree == 2).sum() > 20
    # an atom with 3 bonds has 3 angles, one with 2 bonds has 1 (its 240 deg side dropped)
    n_angles = np.bincount(net.angles["vertex"], minlength=n_atoms)
    np.testing.assert_array_equal(n_angles, np.where(degree == 3, 3, 1))


def test_graphene_rings_are_complete_hexagons(graphene):
    sites, net, n_atoms, n_whole = graphene
    rings = net.rings
    assert rings["centre"].tolist() == list(range(n_atoms, len(sites)))
    complete = rings[rings["complete"]]
    assert complete["centre"].tolist() == list(range(n_atoms, n_atoms + n_whole))  # the whole hexagons
    assert (complete["size"] == 6).all()
    np.testing.assert_allclose(complete["area"], HEXAGON_AREA, rtol=1e-9)
    xy = sites[["x", "y"]].to_numpy()
    for centre, members in zip(complete["centre"], complete["members"]):
        d = xy[members] - xy[centre]
        np.testing.assert_allclose(np.hypot(*d.T), CC, atol=1e-9)
        assert np.all(np.diff(np.unwrap(np.arctan2(d[:, 1], d[:, 0]))) > 0)  # counter-clockwise


def test_ring_with_fewer_than_three_members_is_incomplete():
    atoms, whole, partial = graphene_patch(6, 6)
    c = whole[np.argmin(_distances(whole, [whole.mean(0)])[:, 0])]
    spurious = c + [0, 1.5 * CC]  # a false centre on the midpoint of an interior bond
    rings = triangulate(_sites(atoms, np.concatenate([[spurious], whole, partial]))).rings
    assert rings.loc[0, "size"] == 2 and not rings.loc[0, "complete"]
    assert rings.loc[rings["complete"], "size"].min() >= 3


def test_truncated_square_tiling_gives_squares_and_octagons():
    n, side = 5, 1.42
    sites, squares, octagons = truncated_square_patch(n, side)
    rings = triangulate(sites).rings
    n_atoms = 4 * n * n
    is_square = rings["centre"] < n_atoms + len(squares)
    complete = rings[rings["complete"]]
    assert (complete.loc[is_square, "size"] == 4).all() and (complete.loc[~is_square, "size"] == 8).all()
    assert (complete["size"] == 4).sum() == n * n
    assert (complete["size"] == 8).sum() == (n - 1) ** 2  # the border octagons lack atoms
    octagon_area = 2 * (1 + np.sqrt(2)) * side**2
    np.testing.assert_allclose(complete.loc[complete["size"] == 8, "area"], octagon_area, rtol=1e-9)


def test_stone_wales_defect_gives_two_pentagons_and_two_heptagons():
    sites, rows, n_whole = stone_wales_patch(9, 8)
    net = triangulate(sites)
    rings = net.rings.set_index("centre")
    assert rings.loc[[rows["pentagon_a"], rows["pentagon_b"]], "size"].tolist() == [5, 5]
    assert rings.loc[[rows["heptagon_a"], rows["heptagon_b"]], "size"].tolist() == [7, 7]
    complete = rings[rings["complete"]]
    assert len(complete) == n_whole
    assert complete["size"].value_counts().to_dict() == {6: n_whole - 4, 5: 2, 7: 2}


def _pairs(net) -> list[tuple[int, int]]:
    return sorted(map(tuple, net.bonds[["i", "j"]].to_numpy().tolist()))


def test_bonds_outside_the_length_range_are_dropped():
    # convex quadrilateral: Delaunay edges 0-1 (0.4 Å), 0-2 and 1-2 (1.51 Å), 0-3 and 1-3 (3.21 Å)
    sites = pd.DataFrame({"x": [0.0, 0.4, 0.2, 0.2], "y": [0.0, 0.0, 1.5, -3.2], "kind": "atom"})
    assert _pairs(triangulate(sites, rings="centres")) == [(0, 2), (1, 2)]
    assert _pairs(triangulate(sites, rings="centres", min_bond=0.3, max_bond=3.3)) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)]
    np.testing.assert_allclose(triangulate(sites, rings="centres").bonds["length"], np.hypot(0.2, 1.5))


def test_centre_stops_bonds_across_its_polygon():
    atoms = HEX + 10.0
    without = triangulate(_sites(atoms, np.empty((0, 2))), rings="centres")
    assert len(without.bonds) == 9  # 6 sides + 3 diagonals of 2.46 Å or 2.84 Å, all below max_bond
    assert without.rings.empty
    faces = triangulate(_sites(atoms, np.empty((0, 2))))  # no centre: rings as faces, bonds up to 1.35 d
    assert len(faces.bonds) == 6 and faces.rings["size"].tolist() == [6]
    net = triangulate(_sites(atoms, np.array([[10.0, 10.0]])))
    assert net.bonds.empty  # no diagonal; and the sides border only a ring on the hull
    ring = net.rings.iloc[0]
    assert ring["size"] == 6 and sorted(ring["members"]) == list(range(6))
    assert not ring["complete"]  # its members are the convex hull


def test_no_bonds_across_a_pore_or_along_the_field_of_view_edge():
    atoms, whole, partial = graphene_patch(9, 8)
    centre = atoms.mean(axis=0)
    pore = np.hypot(*(atoms - centre).T) < 3.0  # removes a hexagon ring and its neighbours
    rings = np.concatenate([whole, partial])
    # centres of rings that lost an atom go too: the pore has no polygon centres
    lost = (_distances(rings, atoms[pore]) < CC + 1e-6).any(axis=1)
    net = triangulate(_sites(atoms[~pore], rings[~lost]))
    np.testing.assert_allclose(net.bonds["length"], CC, atol=1e-6)  # 2.46 Å chords would fail
    atoms_only = triangulate(_sites(atoms[~pore], np.empty((0, 2))), rings="centres")
    assert (atoms_only.bonds["length"] > 2.0).sum() > 10  # without centres the chords stay
    faces = triangulate(_sites(atoms[~pore], np.empty((0, 2))))  # unless bonds are the first shell
    np.testing.assert_allclose(faces.bonds["length"], CC, atol=1e-6)


def test_no_chords_of_rings_cut_by_the_field_of_view():
    atoms, whole, partial = graphene_patch(9, 8)
    centres = np.concatenate([whole, partial])
    # a window whose edges cut through rings, as an image's edges do
    x0, x1, y0, y1 = atoms[:, 0].min() + 2.0, atoms[:, 0].max() - 2.3, atoms[:, 1].min() + 1.7, atoms[:, 1].max() - 2.9
    def inside(p):
        return (p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)
    net = triangulate(_sites(atoms[inside(atoms)], centres[inside(centres)]), region=(x0, x1, y0, y1))
    assert len(net.bonds) > 60
    np.testing.assert_allclose(net.bonds["length"], CC, atol=1e-6)


def test_row_positions_are_used_whatever_the_index():
    atoms, whole, partial = graphene_patch(3, 3)
    sites = _sites(atoms, np.concatenate([whole, partial]))
    shuffled = sites.sample(frac=1.0, random_state=1)
    shuffled.index = shuffled.index * 10 + 7
    net = triangulate(shuffled)
    kind = shuffled["kind"].to_numpy()
    assert (kind[net.bonds[["i", "j"]].to_numpy()] == "atom").all()
    assert (kind[net.rings["centre"]] == "centre").all()
    np.testing.assert_allclose(net.bonds["length"], CC, atol=1e-9)


def kagome_patch(n: int, bond: float = CC) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Kagome (3.6.3.6) tiling: atoms on the edge midpoints of an n x n triangular lattice of
    spacing 2 * ``bond`` [Å]; centres of its triangles and hexagons."""
    a1, a2 = np.array([2 * bond, 0.0]), np.array([bond, bond * np.sqrt(3)])
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    lattice = i.reshape(-1, 1) * a1 + j.reshape(-1, 1) * a2
    atoms = _unique_rows(np.concatenate([lattice + a1 / 2, lattice + a2 / 2, lattice + (a2 - a1) / 2, lattice + (a1 + a2) / 2]))
    triangles = np.concatenate([lattice + (a1 + a2) / 3, lattice + 2 * (a1 + a2) / 3])
    return _sites(atoms, np.concatenate([triangles, lattice])), triangles, lattice


def test_kagome_triangles_are_complete_rings_of_three():
    sites, triangles, _ = kagome_patch(6)
    rings = triangulate(sites).rings
    complete = rings[rings["complete"]]
    assert set(complete["size"]) == {3, 6}
    np.testing.assert_allclose(complete.loc[complete["size"] == 3, "area"], np.sqrt(3) / 4 * CC**2, rtol=1e-9)
    # the triangles of the inner lattice cells (not in the first or last row or column) are
    # complete rings; measured: 49 of the 72 triangles are
    n = 6
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    inner = np.tile(((i > 0) & (i < n - 1) & (j > 0) & (j < n - 1)).ravel(), 2)
    n_atoms = int((sites["kind"] == "atom").sum())
    interior = n_atoms + np.flatnonzero(inner)
    assert len(interior) == 2 * (n - 2) ** 2 and len(triangles) == 2 * n * n
    by_centre = rings.set_index("centre")
    assert by_centre.loc[interior, "complete"].all() and (by_centre.loc[interior, "size"] == 3).all()
    assert (complete["size"] == 3).sum() == 49


@pytest.mark.parametrize("margin", [1.5, 3.0])
def test_rings_on_the_hull_are_incomplete_when_the_region_extends_past_the_sites(margin):
    # Sites cut out by a window, as detection inside an image's border is; the region is the
    # image, larger than the window (e.g. peaks dropped by exclude_border_px). The outermost
    # centres then lie on the convex hull, where Delaunay joins them to atoms of other rings:
    # without the hull rule 12 of them passed as complete rings of 3, 4 or 5 atoms.
    atoms, whole, partial = graphene_patch(9, 8)
    centres = np.concatenate([whole, partial])
    x0, x1, y0, y1 = atoms[:, 0].min() + 2.0, atoms[:, 0].max() - 2.3, atoms[:, 1].min() + 1.7, atoms[:, 1].max() - 2.9

    def inside(p):
        return (p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)

    kept = centres[inside(centres)]
    region = (x0 - margin, x1 + margin, y0 - margin, y1 + margin)
    rings = triangulate(_sites(atoms[inside(atoms)], kept), region=region).rings
    complete = rings[rings["complete"]]
    assert (complete["size"] == 6).all()
    np.testing.assert_allclose(complete["area"], HEXAGON_AREA, rtol=1e-9)
    whole_in_window = np.array([inside(c + HEX).all() for c in kept])
    assert not rings["complete"].to_numpy()[~whole_in_window].any()  # no cut ring passes
    assert len(complete) == 24  # measured; 35 rings lie whole in the window, those on the hull are dropped



def test_straight_angles_are_not_angles():
    # atom 1 has bonds at 0 and 180 deg: both gaps are exactly 180 deg, not "below 180"; the end
    # atoms have one bond each (atom 3 is out of bonding range)
    sites = pd.DataFrame({"x": [0.0, 1.4, 2.8, 1.4], "y": [0.0, 0.0, 0.0, 3.5], "kind": "atom"})
    net = triangulate(sites)
    assert _pairs(net) == [(0, 1), (1, 2)]
    assert net.angles.empty


def test_a_bent_chain_has_one_angle_at_its_middle_atom():
    # the last atom has a single bond, so its angle cycle must wrap onto itself, not onto atom 1
    p = np.array([2.0, 2.0])
    xy = [p + CC * np.array([np.cos(-np.pi / 3), np.sin(-np.pi / 3)]), p, p + CC * np.array([np.cos(np.pi / 3), np.sin(np.pi / 3)]), p - [5.0, 0.0]]
    sites = pd.DataFrame({"x": [q[0] for q in xy], "y": [q[1] for q in xy], "kind": "atom"})
    net = triangulate(sites, max_bond=2.0)
    assert _pairs(net) == [(0, 1), (1, 2)]
    assert net.angles[["vertex", "i", "j"]].values.tolist() == [[1, 0, 2]]
    assert net.angles["angle"].tolist() == pytest.approx([120.0])


def test_bond_length_limits_are_inclusive():
    sites = pd.DataFrame({"x": [0.0, 2.0, 1.0], "y": [0.0, 0.0, 5.0], "kind": "atom"})
    assert _pairs(triangulate(sites, min_bond=0.5, max_bond=2.0)) == [(0, 1)]
    assert _pairs(triangulate(sites, min_bond=2.0, max_bond=3.0)) == [(0, 1)]


def test_a_ring_is_cut_when_its_circle_crosses_the_region_edge():
    # the circle through the farthest member (radius 1.42 Å), not the hexagon's extent (1.23 Å in x)
    atoms, whole, partial = graphene_patch(7, 6)
    sites = _sites(atoms, np.concatenate([whole, partial]))
    row = len(atoms) + int(np.argmin(_distances(whole, [whole.mean(0)])[:, 0]))
    cx, cy = sites.loc[row, ["x", "y"]]
    lo = sites[["x", "y"]].min().to_numpy() - 5.0
    for xmax, complete in [(cx + CC + 0.01, True), (cx + CC - 0.01, False), (cx + 0.9 * CC, False)]:
        rings = triangulate(sites, region=(lo[0], xmax, lo[1], cy + 20.0)).rings.set_index("centre")
        assert rings.loc[row, "complete"] == complete


def test_a_centre_with_no_atom_neighbours_gets_an_empty_incomplete_ring():
    # the last site is a centre enclosed by centres only
    atoms = np.array([[-10.0, -10.0], [10.0, -10.0], [0.0, 12.0]])
    centres = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [0.0, 0.1]])
    rings = triangulate(_sites(atoms, centres), max_bond=30.0).rings
    last = rings.set_index("centre").loc[7]
    assert last["size"] == 0 and len(last["members"]) == 0 and last["area"] == 0.0 and not last["complete"]


def test_check_sites_and_region_return_clean_values():
    sites = TRIANGLE.set_index(pd.Index([5, 9, 7]))
    checked = check_sites(sites)
    assert list(checked.columns) == list(sites.columns) and checked.index.equals(pd.RangeIndex(3))
    region = check_region((0, 10, 2, 5), np.zeros((1, 2)))
    assert region == (0.0, 10.0, 2.0, 5.0) and all(type(v) is float for v in region)


# --- pair distribution ---------------------------------------------------------------------


def _graphene_in_rectangle(nx: int, ny: int) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Graphene filling [0, nx*A) x [0, ny*3*CC): a whole number of rectangular cells."""
    centres = _hexagon_centres(nx + 2, 2 * ny + 4, pad=2)
    atoms = _unique_rows((centres[:, None] + HEX).reshape(-1, 2)) + [0.1, 0.2]
    width, height = nx * A, ny * 3 * CC
    inside = (atoms[:, 0] >= 0) & (atoms[:, 0] < width) & (atoms[:, 1] >= 0) & (atoms[:, 1] < height)
    return atoms[inside], (0.0, width, 0.0, height)


def test_graphene_pdf_first_peak_and_coordination():
    xy, region = _graphene_in_rectangle(12, 7)
    assert len(xy) == 4 * 12 * 7
    dr = 0.05
    r, g = pair_distribution(xy, r_max=6.0, dr=dr, region=region)
    assert r[np.flatnonzero(g > 0)[0]] == pytest.approx(CC, abs=dr)
    rho = len(xy) / ((region[1] - region[0]) * (region[3] - region[2]))
    n_r = rho * np.cumsum(2 * np.pi * r * g * dr)
    assert n_r[r < 2.0][-1] == pytest.approx(3.0, abs=0.1)
    assert n_r[r < 2.6][-1] == pytest.approx(9.0, abs=0.3)  # + 6 second neighbours at 2.46 Å


def test_pdf_of_uniform_random_points_is_one():
    rng = np.random.default_rng(0)
    region = (0.0, 150.0, 0.0, 40.0)  # elongated: without edge correction g(10 Å) would be ~18 % low
    xy = rng.uniform([0, 0], [150, 40], size=(4000, 2))
    r, g = pair_distribution(xy, r_max=10.0, dr=0.5, region=region, max_pairs=10**6)  # all 420,000 pairs
    assert r[0] == 0.25 and r[-1] == 9.75
    np.testing.assert_allclose(g[r > 1], 1.0, atol=0.05)


def test_pdf_region_selects_points():
    rng = np.random.default_rng(1)
    xy = np.concatenate([rng.uniform(0, 50, size=(2000, 2)), rng.uniform(0, 50, size=(2000, 2)) + [60, 0]])
    _, g_left = pair_distribution(xy, r_max=5.0, dr=1.0, region=(0, 50, 0, 50))
    _, g_all = pair_distribution(xy, r_max=5.0, dr=1.0)
    np.testing.assert_allclose(g_left[1:], 1.0, atol=0.06)
    assert np.all(g_all[1:] > 1.04)  # the empty gap counted as area: density too low, g ~ 1.1



def test_pdf_of_two_points_against_its_analytic_value():
    # region away from the origin; points on its edges count. One pair at 1 Å, dx = 1, dy = 0:
    # weight 1 / ((W - 1) H), g = 2 weight area² / (n (n - 1)) / (pi (r2² - r1²)) in its bin
    region = (100.0, 110.0, 50.0, 62.0)
    width, height = 10.0, 12.0
    xy = np.array([[100.0, 50.0], [101.0, 50.0], [110.0, 62.0], [99.0, 55.0], [105.0, 49.0]])  # 2 outside

    def expected(n):
        return 2 / ((width - 1) * height) * (width * height) ** 2 / (n * (n - 1)) / (np.pi * (1.5**2 - 1.0**2))

    r, g = pair_distribution(xy, r_max=2.0, dr=0.5, region=region)
    np.testing.assert_allclose(r, [0.25, 0.75, 1.25, 1.75])
    np.testing.assert_allclose(g, [0.0, 0.0, expected(3), 0.0], rtol=1e-12)
    r, g = pair_distribution(xy[:2], r_max=1.5, dr=1.5, region=region)  # two points; one bin as wide as r_max
    np.testing.assert_allclose(r, [0.75])
    np.testing.assert_allclose(g, [2 / ((width - 1) * height) * (width * height) ** 2 / 2 / (np.pi * 1.5**2)])
    assert pair_distribution(xy[:2], r_max=1.0, dr=1.0, region=region)[0].tolist() == [0.5]


def test_pdf_default_range_and_bins():
    r, _ = pair_distribution(np.random.default_rng(2).uniform(0, 30, (300, 2)))
    assert len(r) == 200 and r[0] == pytest.approx(0.025) and r[-1] == pytest.approx(9.975)


# --- ring fractions and summary ------------------------------------------------------------


def test_ring_size_fractions_count_complete_rings_only():
    rings = pd.DataFrame({"size": [5, 6, 6, 7, 12, 4], "complete": [True, True, True, True, True, False]})
    fractions = ring_size_fractions(rings, sizes=range(4, 8))
    assert fractions["fraction"].to_dict() == {4: 0.0, 5: 0.2, 6: 0.4, 7: 0.2}
    assert fractions["count"].to_dict() == {4: 0, 5: 1, 6: 2, 7: 1}
    # binomial standard error of a fraction of N = 5 complete rings
    np.testing.assert_allclose(fractions["error"], [0.0, np.sqrt(0.2 * 0.8 / 5), np.sqrt(0.4 * 0.6 / 5), np.sqrt(0.2 * 0.8 / 5)])
    assert fractions.index.name == "size"
    assert ring_size_fractions(rings.assign(complete=False))[["fraction", "error"]].isna().all().all()


def test_summarise_graphene(graphene):
    sites, net, n_atoms, n_whole = graphene
    summary = summarise(sites, net, r_max=4.0, dr=0.1)
    assert summary["n_atoms"] == n_atoms and summary["n_centres"] == len(sites) - n_atoms
    assert summary["n_bonds"] == len(net.bonds) and summary["n_complete_rings"] == n_whole
    assert summary["bond_length_mean"] == pytest.approx(CC) and summary["bond_length_std"] < 1e-9
    assert summary["angle_mean"] == pytest.approx(120.0) and summary["angle_std"] < 1e-9
    assert summary["ring_6"] == 1.0
    assert all(summary[f"ring_{k}"] == 0.0 for k in (3, 4, 5, 7, 8, 9, 10))
    assert len(summary["pdf_r"]) == len(summary["pdf_g"]) == 40
    assert all(np.isscalar(v) for k, v in summary.items() if not k.startswith("pdf_"))


def test_analyse_frames_loops_over_frames(graphene):
    sites, net, _, n_whole = graphene
    squares, _, _ = truncated_square_patch(4)
    both = pd.concat([sites.assign(frame=3), squares.assign(frame=7)], ignore_index=True)
    tables = analyse_frames(both, r_max=4.0, dr=0.1)
    summary = tables["summary"].set_index("frame")
    assert summary.index.tolist() == [3, 7]
    assert summary.loc[3, "ring_6"] == 1.0
    assert summary.loc[7, "ring_4"] == pytest.approx(16 / (16 + 9))
    assert summary.loc[7, "ring_8"] == pytest.approx(9 / (16 + 9))
    bonds = tables["bonds"]
    assert bonds.columns[0] == "frame"
    first = bonds[bonds["frame"] == 3].drop(columns="frame").reset_index(drop=True)
    pd.testing.assert_frame_equal(first, net.bonds)
    assert tables["rings"].groupby("frame")["complete"].sum().to_dict() == {3: n_whole, 7: 25}



def test_summary_uses_population_std_and_default_pdf_range():
    # convex quadrilateral of test_bonds_outside_the_length_range_are_dropped, all 5 edges bonded
    sites = pd.DataFrame({"x": [0.0, 0.4, 0.2, 0.2], "y": [0.0, 0.0, 1.5, -3.2], "kind": "atom"})
    net = triangulate(sites, min_bond=0.3, max_bond=3.3, rings="centres")
    summary = summarise(sites, net, r_max=0.3, dr=0.1)
    assert summary["bond_length_std"] == pytest.approx(np.std(net.bonds["length"]))
    assert summary["angle_std"] == pytest.approx(np.std(net.angles["angle"]))
    graphene_sites = _sites(*graphene_patch(7, 6)[:2])
    default = summarise(graphene_sites, triangulate(graphene_sites))
    assert len(default["pdf_r"]) == 200 and default["pdf_r"][-1] == pytest.approx(9.975)


def test_analyse_frames_passes_its_options_to_every_frame():
    quad = pd.DataFrame({"x": [0.0, 0.4, 0.2, 0.2], "y": [0.0, 0.0, 1.5, -3.2], "kind": "atom"})
    # defaults: bonds 0.5-3.0 Å as in triangulate; frames sorted; no frame column means frame 0
    tables = analyse_frames(quad, r_max=0.3, dr=0.1, rings="centres")
    assert tables["summary"]["frame"].tolist() == [0] and tables["summary"].loc[0, "n_bonds"] == 2
    wide = analyse_frames(quad, min_bond=0.3, max_bond=3.3, r_max=0.3, dr=0.1, rings="centres")
    assert wide["summary"].loc[0, "n_bonds"] == 5
    assert analyse_frames(quad, min_bond=0.3, r_max=0.3, dr=0.1, rings="centres")["summary"].loc[0, "n_bonds"] == 3
    assert analyse_frames(quad, max_bond=3.3, r_max=0.3, dr=0.1, rings="centres")["summary"].loc[0, "n_bonds"] == 4
    # faces: the median nearest distance is 0.955 Å (0.4, 0.4, 1.51, 3.21). With bond_factor 1.35
    # the typical bond is 0.4 Å (edges up to 1.29 Å): the bond is 0-1. With 2.0 it is 1.51 Å (edges
    # up to 1.91 Å), so atom 1, 0.4 Å from atom 0, is atom 0 detected twice: the bond is 0-2
    faces = {"min_bond": 0.3, "max_bond": 3.3, "r_max": 0.3, "dr": 0.1, "rings": "faces"}
    assert analyse_frames(quad, **faces, bond_factor=1.35)["bonds"][["i", "j"]].values.tolist() == [[0, 1]]
    assert analyse_frames(quad, **faces, bond_factor=2.0)["bonds"][["i", "j"]].values.tolist() == [[0, 2]]
    # a triangle of 3 atoms is enough, and a frame's own centres do not count as atoms
    triangle = pd.DataFrame({"x": [0.0, 1.4, 0.7], "y": [0.0, 0.0, 1.2], "kind": "atom"})
    two = pd.concat([triangle.assign(frame=5), quad.assign(frame=2)], ignore_index=True)
    tables = analyse_frames(two, r_max=0.3, dr=0.1)
    assert tables["summary"]["frame"].tolist() == [2, 5]
    assert tables["summary"].set_index("frame").loc[5, "n_bonds"] == 3
    assert tables["bonds"].index.equals(pd.RangeIndex(len(tables["bonds"])))
    default = analyse_frames(graphene_sites_frame())["summary"].loc[0, "pdf_r"]
    assert len(default) == 200 and default[-1] == pytest.approx(9.975)  # r_max 10 Å, dr 0.05 Å


def graphene_sites_frame() -> pd.DataFrame:
    return _sites(*graphene_patch(7, 6)[:2])


def test_analyse_frames_uses_the_region_for_rings_and_pdf():
    atoms, whole, partial = graphene_patch(9, 8)
    centres = np.concatenate([whole, partial])
    x0, x1, y0, y1 = atoms[:, 0].min() + 2.0, atoms[:, 0].max() - 2.3, atoms[:, 1].min() + 1.7, atoms[:, 1].max() - 2.9

    def inside(p):
        return (p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)

    sites = _sites(atoms[inside(atoms)], centres[inside(centres)])
    region = (x0 - 1.5, x1 + 1.5, y0 - 1.5, y1 + 1.5)
    summary = analyse_frames(sites, r_max=5.0, dr=0.1, region=region)["summary"].iloc[0]
    assert summary["n_complete_rings"] == 24  # as in test_rings_on_the_hull_are_incomplete_...
    _, g = pair_distribution(atoms[inside(atoms)], r_max=5.0, dr=0.1, region=region)
    np.testing.assert_allclose(summary["pdf_g"], g)
    _, g_box = pair_distribution(atoms[inside(atoms)], r_max=5.0, dr=0.1)
    assert not np.allclose(g, g_box)
    # a region smaller than the sites cuts rings that the bounding box keeps
    xy = sites[["x", "y"]].to_numpy()
    tight = (xy[:, 0].min() + 3.0, xy[:, 0].max() - 3.0, xy[:, 1].min() + 3.0, xy[:, 1].max() - 3.0)
    n_tight = analyse_frames(sites, r_max=5.0, dr=0.1, region=tight)["summary"].loc[0, "n_complete_rings"]
    assert n_tight == triangulate(sites, region=tight).rings["complete"].sum()
    assert n_tight < triangulate(sites).rings["complete"].sum()


# --- bad input -----------------------------------------------------------------------------


TRIANGLE = pd.DataFrame({"x": [0.0, 1.0, 0.0], "y": [0.0, 0.0, 1.0], "kind": "atom"})


@pytest.mark.parametrize(
    ("sites", "kwargs", "match"),
    [
        (TRIANGLE.drop(columns="kind"), {}, r"`sites` lacks the columns \['kind'\]"),
        (TRIANGLE.assign(kind=["atom", "C", "atom"]), {}, "`sites` column 'kind' must be one of"),
        (TRIANGLE.assign(y=[0.0, np.nan, 1.0]), {}, "^`sites` columns 'x' and 'y' contain NaN"),
        (TRIANGLE.iloc[:2], {}, "`sites` needs at least 3 sites"),
        (TRIANGLE.assign(x=[0.0, 1.0, 2.0], y=[0.0, 1.0, 2.0]), {}, "`sites` cannot be triangulated"),
        (TRIANGLE.assign(frame=[0, 0, 1]), {}, r"`sites` holds the frames \[0, 1\]"),
        (TRIANGLE, {"min_bond": 3.0, "max_bond": 2.0}, "`min_bond` .* must be smaller than `max_bond`"),
        (TRIANGLE, {"min_bond": 2.0, "max_bond": 2.0}, "`min_bond` .* must be smaller than `max_bond`"),
        (TRIANGLE, {"region": (0, 0, 0, 1)}, "`region` must have xmin < xmax"),
        (TRIANGLE, {"region": (0, 1, 1, 1)}, "`region` must have xmin < xmax and ymin < ymax"),
        (TRIANGLE, {"min_bond": -1.0}, "`min_bond` must be finite and >= 0"),
        (TRIANGLE, {"max_bond": np.inf}, "`max_bond` must be finite"),
        (TRIANGLE, {"region": (0, 1, 1, 0)}, "`region` must have xmin < xmax and ymin < ymax"),
        (TRIANGLE, {"region": (0, 1)}, "`region` must be 4 finite numbers"),
    ],
)
def test_triangulate_rejects_bad_input(sites, kwargs, match):
    with pytest.raises(ValueError, match=match):
        triangulate(sites, **kwargs)


def test_triangulate_rejects_non_dataframe():
    with pytest.raises(TypeError, match="`sites` must be a pandas DataFrame, got ndarray"):
        triangulate(np.zeros((3, 2)))


POINTS = np.random.default_rng(0).uniform(0, 20, (50, 2))


@pytest.mark.parametrize(
    ("xy", "kwargs", "match"),
    [
        (np.zeros((10, 3)), {}, r"`xy` must have shape \(N, 2\)"),
        (np.array([[0.0, 0.0], [np.inf, 1.0]]), {}, "^`xy` contains NaN"),
        (POINTS[:1], {}, "`xy` needs at least 2 points"),
        (POINTS, {"r_max": 0.0}, "`r_max` must be finite and > 0"),
        (POINTS, {"dr": -0.1}, "`dr` must be finite and > 0"),
        (POINTS, {"r_max": 1.0, "dr": 2.0}, r"`dr` \(2.0 Å\) must not exceed `r_max`"),
        (POINTS, {"r_max": 30.0}, "`r_max` .* must be shorter than the region's shorter side"),
        (POINTS, {"r_max": 5.0, "region": (0, 10, 0, 5)}, "`r_max` .* must be shorter than the region's shorter side"),
        (POINTS, {"region": (100, 200, 100, 200)}, "`xy` needs at least 2 points inside `region`"),
    ],
)
def test_pair_distribution_rejects_bad_input(xy, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pair_distribution(xy, **kwargs)


def test_ring_size_fractions_rejects_bad_input():
    with pytest.raises(ValueError, match=r"`rings` lacks the columns \['complete'\]"):
        ring_size_fractions(pd.DataFrame({"size": [6]}))
    with pytest.raises(ValueError, match="^`sizes` must name at least one"):
        ring_size_fractions(pd.DataFrame({"size": [6], "complete": [True]}), sizes=[])


def test_summarise_rejects_a_non_network(graphene):
    with pytest.raises(TypeError, match="`network` must be a Network from triangulate\\(\\), got dict"):
        summarise(graphene[0], {"bonds": None})


def test_analyse_frames_gives_nan_statistics_for_a_frame_without_enough_atoms(graphene, caplog):
    sites = graphene[0]
    sparse = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 1.0], "kind": ["atom", "centre", "centre"]})
    both = pd.concat([sites.assign(frame=0), sparse.assign(frame=1)], ignore_index=True)
    tables = analyse_frames(both, r_max=5.0, dr=0.1)
    summary = tables["summary"].set_index("frame")
    assert summary.loc[1, "n_atoms"] == 1 and summary.loc[1, "n_bonds"] == 0
    assert np.isnan(summary.loc[1, "bond_length_mean"]) and np.isnan(summary.loc[1, "pdf_g"]).all()
    assert summary.loc[1, "pdf_r"] == summary.loc[0, "pdf_r"]  # one r grid for every frame
    assert set(tables["bonds"]["frame"]) == {0}
    # the sparse frame's record has the same fields as a full one, with counts, not NaN
    assert list(tables["summary"].columns) == ["frame", *summarise(sites, graphene[1], r_max=5.0, dr=0.1)]
    assert summary.loc[1, "n_centres"] == 2 and summary.loc[1, "n_complete_rings"] == 0
    assert np.isnan(summary.loc[1, ["bond_length_std", "angle_mean", "angle_std", "ring_3", "ring_10"]].astype(float)).all()
    assert "frame 1 has fewer than 3 atoms" in caplog.text and "statistics are NaN" in caplog.text
    alone = analyse_frames(sparse.assign(frame=1), r_max=5.0, dr=0.1)["summary"]  # no full frame to lend columns
    assert list(alone.columns) == list(tables["summary"].columns)


def test_every_interior_atom_keeps_three_bonds_above_the_int32_pair_code_size():
    # 130 x 110 rectangular graphene cells: 57,200 atoms + 28,600 centres, more than the
    # 46,341 sites where i * n + j overflows int32 (bonds then vanished silently)
    a = 2.46
    unit = a / (2 * np.sqrt(3))  # y spacing of the three sublattices in a column
    cells = np.stack(np.meshgrid(np.arange(130) * a, np.arange(110) * 6 * unit), axis=-1).reshape(-1, 1, 2)
    atoms = (cells + np.array([[0, 0], [0, 2 * unit], [a / 2, 3 * unit], [a / 2, 5 * unit]])).reshape(-1, 2)
    centres = (cells + np.array([[0, 4 * unit], [a / 2, unit]])).reshape(-1, 2)
    sites = _sites(atoms, centres)
    assert len(sites) > 46_341
    net = triangulate(sites)
    coordination = np.bincount(net.bonds[["i", "j"]].to_numpy().ravel(), minlength=len(atoms))
    lo, hi = atoms.min(0) + 3.0, atoms.max(0) - 3.0
    interior = ((atoms > lo) & (atoms < hi)).all(axis=1)
    assert interior.sum() > 50_000 and (coordination[interior] == 3).all()
    assert net.bonds["length"].to_numpy() == pytest.approx(1.42, abs=0.002)


@pytest.mark.parametrize("pad", [0.5, 1.0, 2.0, 5.0])
def test_open_edge_rings_are_not_complete_whatever_the_region(pad):
    # the centres of the rings around a 7 x 6 patch see 3 or 4 atoms on one side; with a region
    # larger than the sites (the CLI passes the image's) they were counted as complete 3- and 4-rings
    atoms, whole, partial = graphene_patch(7, 6)
    (x0, y0), (x1, y1) = atoms.min(0), atoms.max(0)
    net = triangulate(_sites(atoms, np.vstack([whole, partial])), region=(x0 - pad, x1 + pad, y0 - pad, y1 + pad))
    complete = net.rings[net.rings["complete"]]
    assert len(complete) == 42 and set(complete["size"]) == {6}


def test_sites_outside_the_monolayer_are_left_out_and_rings_at_its_edge_are_incomplete():
    # 7 x 6 hexagons; the monolayer mask covers x < 9 Å, and the atoms beyond are flagged out
    atoms, whole, partial = graphene_patch(7, 6)
    sites = _sites(atoms, np.vstack([whole, partial])).assign(frame=0)
    sites["in_monolayer"] = pd.array(sites["x"] < 9.0, dtype="boolean")
    mask = np.zeros((1, 200, 200), dtype=bool)
    mask[0, :, :90] = True  # 0.1 Å/px: x < 8.95 Å
    tables = analyse_frames(sites, r_max=3.0, dr=0.1, region=(-5.0, 20.0, -5.0, 20.0), monolayer=mask, monolayer_sampling=0.1)
    xy = sites[["x", "y"]].to_numpy()
    bonded = np.unique(tables["bonds"][["i", "j"]].to_numpy())
    assert len(bonded) and (xy[bonded, 0] < 9.0).all()  # indices are rows of the whole frame
    complete = tables["rings"][tables["rings"]["complete"]]
    members = np.concatenate(complete["members"].to_list())
    assert set(complete["size"]) == {6} and (xy[members, 0] <= 8.95).all()
    # the hexagon columns at x = 0 ... 6.15 Å (3 each): 7.38 Å fits the mask (7.38 + 1.42 < 8.95)
    # but, with the atoms beyond 9 Å left out, its members are on the convex hull of the rest
    assert len(complete) == 18 and np.round(xy[complete["centre"], 0], 2).max() == 6.15
    # the mask alone (all sites kept) completes exactly the hexagons whose 1.42 Å circle fits in it
    masked = analyse_frames(sites.drop(columns="in_monolayer"), r_max=3.0, dr=0.1, region=(-5.0, 20.0, -5.0, 20.0), monolayer=mask, monolayer_sampling=0.1)
    assert masked["rings"]["complete"].sum() == 21 == (whole[:, 0] + 1.42 < 8.95).sum()
    # without the monolayer information the same sites give every whole hexagon
    plain = analyse_frames(sites.drop(columns="in_monolayer"), r_max=3.0, dr=0.1, region=(-5.0, 20.0, -5.0, 20.0))
    assert plain["rings"]["complete"].sum() == 42


def test_adjacent_ring_pairs_counts_rings_that_share_a_bond():
    """A 5-ring sharing a bond (two atoms) with a 7-ring is a pair; touching at one atom is not;
    an incomplete 7-ring does not count; two 7-rings sharing a bond are one 7-7 pair."""
    import pandas as pd

    from atomscope.geometry import adjacent_ring_pairs

    rings = pd.DataFrame(
        {
            "size": [5, 7, 7, 7, 5],
            "members": [[0, 1, 2, 3, 4], [3, 4, 10, 11, 12, 13, 14], [4, 20, 21, 22, 23, 24, 25], [13, 14, 30, 31, 32, 33, 34], [40, 41, 42, 43, 0]],
            "complete": [True, True, True, True, False],
        }
    )
    assert adjacent_ring_pairs(rings, 5, 7) == 1  # ring 0 - ring 1; ring 2 touches ring 0 at atom 4 only
    assert adjacent_ring_pairs(rings, 7, 7) == 1  # ring 1 - ring 3
    assert adjacent_ring_pairs(rings, 5, 5) == 0  # ring 4 is incomplete


def test_rings_away_from_7_rings_leave_out_the_boundary_neighbourhood():
    """Three rings: a 7-ring at the origin, a 5-ring 2.4 Å away and a 6-ring 8 Å away: only the
    6-ring is farther than 5 Å from the 7-ring."""
    import pandas as pd

    from atomscope.geometry import rings_away_from

    angles = np.linspace(0, 2 * np.pi, 8)[:-1]
    seven = np.column_stack([1.6 * np.cos(angles), 1.6 * np.sin(angles)])
    five = seven[:5] * 0.8 + [2.4, 0.0]
    six = seven[:6] * 0.9 + [8.0, 0.0]
    sites = pd.DataFrame(np.vstack([seven, five, six]), columns=["x", "y"])
    rings = pd.DataFrame({"size": [7, 5, 6], "members": [list(range(7)), list(range(7, 12)), list(range(12, 18))], "complete": True})
    assert rings_away_from(rings, sites, size=7, distance=5.0)["size"].tolist() == [6]
    assert rings_away_from(rings, sites, size=8, distance=5.0)["size"].tolist() == [7, 5, 6]  # no 8-ring: all kept
