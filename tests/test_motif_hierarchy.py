"""Motif-cell hierarchies (Dan et al. 2022, Fig. 2): cells, von Neumann joins, kinds up to 90 deg, entropy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atomscope.motifs import cell_indices, frame_hierarchies, lattice_vectors, level_entropy, motif_cell_hierarchy


def _crystal_with_defects(size: int = 20):
    """A size x size grid of cells whose two sites are motifs 0 and 1, with planted minority cells.

    Minority compositions: 'a' = motifs 0 + 2, 'b' = motifs 1 + 3. Planted (i, j): single 'a'
    cells (three, two of them touching only diagonally), 'a' pairs (two along i, one along j:
    one kind up to 90 deg), one single 'b', an L of 'a', 'a', 'b', and one 'a' and one 'b' on the edge.
    """
    plants = {(2, 2): "a", (10, 10): "a", (11, 11): "a",  # diagonal neighbours are not joined
              (2, 6): "a", (3, 6): "a", (6, 2): "a", (7, 2): "a", (15, 3): "a", (15, 4): "a",
              (6, 14): "b",
              (14, 14): "a", (15, 14): "a", (15, 15): "b",
              (0, 9): "a", (19, 3): "b"}  # on the edge: may be cut, not counted
    cells, motifs = [], []
    for i in range(size):
        for j in range(size):
            kind = plants.get((i, j))
            cells += [(i, j), (i, j)]
            motifs += {None: [0, 1], "a": [0, 2], "b": [1, 3]}[kind]
    return np.array(cells), np.array(motifs)


def test_hierarchy_joins_von_neumann_neighbours_and_counts_kinds_up_to_rotation():
    cells, motifs = _crystal_with_defects()
    site_kind, kinds = motif_cell_hierarchy(cells, motifs, dominant=0.1)
    assert kinds[["level", "count"]].values.tolist() == [[1, 3], [1, 1], [2, 3], [3, 1]]
    assert kinds["pattern"].tolist()[:2] == ["0+2", "1+3"]
    assert kinds.loc[2, "pattern"] in ("0+2 0+2", "0+2/0+2")
    # the pair contains the single 'a' cell; the L contains the pair (the nearest lower level)
    assert kinds["contains"].tolist() == [[], [], [0], [2]]
    # sites of the crystal's cells belong to no higher-level motif-cell; each planted site to its kind
    assert (site_kind == -1).sum() == 2 * (400 - 13)  # 13 planted inside, 2 on the edge
    corner = (cells == [15, 15]).all(axis=1)
    assert (site_kind[corner] == 3).all()
    entropy = level_entropy(kinds).set_index("level")
    assert entropy.loc[1, "entropy"] == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    assert entropy.loc[2, "entropy"] == 0.0 and entropy.loc[3, "count"] == 1
    with pytest.raises(ValueError, match="dominant"):
        motif_cell_hierarchy(cells, motifs, dominant=0.0)


def _honeycomb(n: int, a: float = 3.29) -> np.ndarray:
    """Sites of an n x n honeycomb of lattice constant ``a`` [Å]: the n² of one sublattice, then the other's."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    a1, a2 = np.array([a, 0.0]), np.array([a / 2, a * np.sqrt(3) / 2])
    base = i.ravel()[:, None] * a1 + j.ravel()[:, None] * a2
    return np.concatenate([base, base + (a1 + a2) / 3])


def test_cells_of_a_honeycomb_hold_one_site_of_each_sublattice():
    a = 3.29
    points = _honeycomb(12, a)
    points += np.random.default_rng(0).normal(0, 0.05, points.shape)
    vectors = lattice_vectors(points[:, 0], points[:, 1])
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([a, a], rel=0.01)
    assert np.degrees(np.arccos(vectors[0] @ vectors[1] / a**2)) == pytest.approx(60, abs=1) or \
        np.degrees(np.arccos(vectors[0] @ vectors[1] / a**2)) == pytest.approx(120, abs=1)
    indices = cell_indices(points[:, 0], points[:, 1], vectors, points[0] - 0.15 * vectors.sum(axis=0))
    sublattice = np.repeat([0, 1], 144)
    keys, inverse, counts = np.unique(indices, axis=0, return_inverse=True, return_counts=True)
    # cells cut by the sample's edge hold one site; every other holds one of each sublattice
    assert counts.max() == 2 and (counts == 2).sum() >= 110
    full = np.flatnonzero(counts == 2)
    np.testing.assert_array_equal(np.bincount(inverse.ravel(), weights=sublattice)[full], 1)
    with pytest.raises(ValueError, match="not a crystal"):
        random = np.random.default_rng(1).random((300, 2)) * 40
        lattice_vectors(random[:, 0], random[:, 1])


def test_frame_hierarchies_find_a_substituted_site_and_skip_an_amorphous_frame():
    points = _honeycomb(14)
    n = len(points) // 2  # sites per sublattice
    motif = np.repeat([0, 1], n)
    centre = np.argmin(np.linalg.norm(points[:n] - points.mean(axis=0) - [4.0, 2.0], axis=1))
    motif[centre] = 2  # one substituted site, away from the centre site that fixes the origin
    crystal = pd.DataFrame({"frame": 0, "x": points[:, 0], "y": points[:, 1], "motif": motif})
    glass = pd.DataFrame({"frame": 1, "x": np.random.default_rng(3).random(300) * 40, "y": np.random.default_rng(4).random(300) * 40, "motif": 0})
    motifs, kinds = frame_hierarchies(pd.concat([crystal, glass], ignore_index=True), dominant=0.1)
    assert kinds[["frame", "kind", "level", "count", "pattern", "contains"]].values.tolist() == [[0, 0, 1, 1, "1+2", ""]]
    assert motifs.loc[centre, "cell_kind"] == 0 and (motifs["cell_kind"] == 0).sum() == 2  # both sites of the cell
    assert motifs.loc[: len(crystal) - 1, "cell_i"].notna().all() and motifs.loc[len(crystal):, "cell_i"].isna().all()
