"""Report figures across samples: samples with and without ground truth side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atomscope.report import hierarchy_figure, motif_figure, summary_figure, summary_table, symmetry_figure


def summary(sample: str, bond: float, hexagons: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"frame": [0], "n_atoms": [100], "bond_length_mean": [bond], "ring_6": [hexagons], "pdf_r": [np.arange(3.0)], "pdf_g": [np.ones(3)]}
    ).assign(sample=sample)


def scores(sample: str, f1: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"kind": ["atom", "centre"], "tp": [90, 40], "fp": [5, 2], "fn": [5, 2], "precision": f1, "recall": f1, "f1": f1, "rmse": 0.05, "frame": 0, "sample": sample}
    )


def test_summary_lists_every_sample_with_scores_only_where_truth_exists():
    summaries = [summary("sim", 1.42, 0.45), summary("real_ghd", 2.02, 0.33), summary("real_mos2", 2.04, 0.29)]
    table = summary_table(summaries, [scores("sim", 0.99)])
    assert list(table["sample"]) == ["sim", "real_ghd", "real_mos2"]
    assert table.set_index("sample").loc["sim", "atom_f1"] == 0.99
    assert table.set_index("sample").drop(index="sim")["atom_f1"].isna().all()
    metrics = pd.DataFrame({"step": [10, 20], "train_loss": [0.1, 0.05], "atoms_f1": [0.9, 0.95]})
    figure = summary_figure(table, [scores("sim", 0.99)], metrics)
    f1_axes, bond_axes = figure.axes[:2]
    for ax in (f1_axes, bond_axes):
        assert [label.get_text() for label in ax.get_xticklabels()] == ["sim", "real_ghd", "real_mos2"]
    assert sorted(text.get_text() for text in f1_axes.texts) == ["no ground truth", "no ground truth"]
    assert [bar.get_height() for bar in bond_axes.patches] == pytest.approx([1.42, 2.02, 2.04])
    assert f1_axes.get_title() == "detection F1; pooled: atom 0.947, centre 0.952"


def test_summary_without_any_ground_truth_says_so():
    table = summary_table([summary("real", 1.5, 0.8)], [])
    figure = summary_figure(table, [], pd.DataFrame({"step": [1], "train_loss": [0.1]}))
    assert figure.axes[0].get_title() == "detection F1: no sample with ground truth"


def test_model_card_states_recipe_training_time_and_scores():
    import pandas as pd

    from atomscope.io import Head, HeadClass, InputChannel, ModelSpec, Recipe
    from atomscope.report import model_card

    spec = ModelSpec(
        architecture="resunet", architecture_args={"base_channels": 16, "depth": 4}, input_channels=(InputChannel("adf"),),
        heads=(Head("atoms", "heatmap", (HeadClass("atom", ("C",)),)),), pixel_size=0.11, normalisation="local",
        recipe=Recipe(preset="carbon_stem", data_hash="abc", training={"steps": 4000, "batch_size": 8, "crop_px": 128, "learning_rate": 0.002, "seed": 7}),
        scores={"atoms_f1": 0.8916, "atoms_rmse": 0.129, "atoms_tp": 10.0},
    )
    metrics = pd.DataFrame({"step": [2000, 4000], "train_loss": [0.02, 0.01], "seconds": [1400.0, 2897.0]})
    card = model_card("carbon_stem", spec, metrics, wall_seconds=2910.0, hardware="2 CPU cores", sections={"Scores by dose": "| a |"})
    assert "config/presets/carbon_stem.yaml" in card and "4000 steps of 8 crops of 128 px" in card
    assert "48.5 min for the train job (48.3 min of it in the training loop)" in card
    assert "atoms F1 0.892, atoms RMSE 12.9 pm" in card and "## Scores by dose\n\n| a |" in card


def test_symmetry_figure_maps_each_score():
    rng = np.random.default_rng(1)
    motifs = pd.DataFrame({"x": rng.random(12), "y": rng.random(12), "rot2": rng.random(12), "rot3": rng.random(12), "mirror": rng.random(12)})
    figure = symmetry_figure(rng.random((20, 20)), 0.1, motifs)
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["2-fold rotation", "3-fold rotation", "mirror"]
    np.testing.assert_array_equal(panels[2].collections[0].get_array(), motifs["mirror"])
    assert panels[1].collections[0].get_clim() == (-0.5, 1.0)  # a 3-fold score is >= -1 / (3 - 1)


def test_hierarchy_figure_draws_kinds_by_level_with_their_edges():
    motifs = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 1.0, 2.0, 2.0], "cell_kind": [-1, 0, 1, 1]})
    kinds = pd.DataFrame({"frame": 0, "kind": [0, 1], "level": [1, 2], "count": [3, 1], "pattern": ["0+2", "0+2 0+2"], "contains": ["", "0"]})
    entropy = pd.DataFrame({"level": [1, 2], "kinds": [1, 1], "count": [3, 1], "entropy": [0.0, 0.0]})
    figure = hierarchy_figure(np.zeros((30, 30)), 0.2, motifs, kinds, entropy)
    graph = figure.axes[1]
    assert [t.get_text() for t in graph.texts] == ["0 (3)", "1 (1)"]
    assert len(graph.lines) == 1  # kind 1 contains kind 0
    assert [t.get_text() for t in graph.get_yticklabels()] == ["1 cells, S = 0.00", "2 cells, S = 0.00"]
    assert len(hierarchy_figure(np.zeros((30, 30)), 0.2, motifs.assign(cell_kind=-1), kinds.iloc[:0], entropy.iloc[:0]).axes[1].texts) == 0


def test_motif_figure_shows_each_class_average():
    rng = np.random.default_rng(0)
    motifs = pd.DataFrame({"x": rng.random(30), "y": rng.random(30), "layout_x": rng.random(30), "layout_y": rng.random(30),
                           "motif": np.repeat([0, 1, 2], [15, 10, 5])})
    patches = rng.random((3, 9, 9))
    averages = {"patches": patches, "motif": np.array([0, 1, 2]), "count": np.array([15, 10, 5])}
    figure = motif_figure(rng.random((20, 20)), 0.1, motifs, averages=averages)
    tiles = figure.axes[2:]
    assert len(tiles) == 3 and [ax.get_title() for ax in tiles] == ["motif 0 (15)", "motif 1 (10)", "motif 2 (5)"]
    np.testing.assert_array_equal(tiles[1].images[0].get_array(), patches[1])
    assert len(motif_figure(rng.random((20, 20)), 0.1, motifs).axes) == 2  # without averages: layout and image
