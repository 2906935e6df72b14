"""Figures of the motif stage beyond the layout: symmetry maps and the motif-cell hierarchy (Dan et al. 2022, Fig. 2)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from atomscope.report.figures import _show_image  # noqa: E402

__all__ = ["hierarchy_figure", "symmetry_figure"]


def symmetry_figure(image: np.ndarray, sampling: float, motifs: pd.DataFrame) -> Figure:
    """The image with each atom coloured by its n-fold rotational symmetry scores (``rot{n}``
    columns of the motifs table) and its mirror symmetry score, one panel each."""
    columns = [c for c in motifs.columns if c.startswith("rot")] + ["mirror"]
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 4.4), constrained_layout=True, squeeze=False)
    for ax, column in zip(axes[0], columns):
        _show_image(ax, image, sampling)
        low = -1.0 if column == "mirror" else -1.0 / max(int(column[3:]) - 1, 1)
        dots = ax.scatter(motifs["x"], motifs["y"], c=motifs[column], s=8, cmap="coolwarm", vmin=low, vmax=1.0)
        ax.set_title(f"{column[3:]}-fold rotation" if column != "mirror" else "mirror")
        fig.colorbar(dots, ax=ax, shrink=0.7)
    return fig


def hierarchy_figure(image: np.ndarray, sampling: float, motifs: pd.DataFrame, kinds: pd.DataFrame, entropy: pd.DataFrame) -> Figure:
    """One frame's higher-level motif-cells on the image, coloured by level (left), and their
    hierarchy (right): one node per kind at the height of its level, labelled with its number
    and count, edges to the kinds it contains, the configurational entropy of each level at
    the side. ``motifs`` and ``kinds`` as :func:`atomscope.motifs.frame_hierarchies` gives them,
    ``entropy`` as :func:`atomscope.motifs.level_entropy` (one row per level, by level)."""
    fig, (ax_image, ax_graph) = plt.subplots(1, 2, figsize=(13, 6), constrained_layout=True)
    _show_image(ax_image, image, sampling)
    members = motifs[motifs["cell_kind"] >= 0]
    if len(kinds):
        levels = kinds["level"].to_numpy()
        dots = ax_image.scatter(members["x"], members["y"], c=levels[members["cell_kind"]], s=10, cmap="viridis", norm=matplotlib.colors.LogNorm(1, max(levels.max(), 2)))
        fig.colorbar(dots, ax=ax_image, shrink=0.7, label="level (cells)")
        rungs = {level: k for k, level in enumerate(sorted(set(levels)))}
        positions = np.array([(np.sum(levels[:k] == level), rungs[level]) for k, level in enumerate(levels)], dtype=float)
        for k, contained in enumerate(kinds["contains"]):
            for j in _kind_numbers(contained):
                ax_graph.plot(*positions[[k, j]].T, color="0.6", lw=0.8, zorder=1)
        ax_graph.scatter(*positions.T, s=60, c=levels, cmap="viridis", norm=matplotlib.colors.LogNorm(1, max(levels.max(), 2)), zorder=2)
        for k, (x, y) in enumerate(positions):
            ax_graph.annotate(f"{k} ({kinds['count'].iloc[k]})", (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
        ax_graph.set_yticks(range(len(rungs)), [f"{row.level} cells, S = {row.entropy:.2f}" for row in entropy.itertuples()], fontsize=7)
    ax_image.set_title("higher-level motif-cells")
    ax_graph.set_title("motif-cell hierarchy: kind (count); S: entropy [nats]")
    ax_graph.set_xlabel("kinds of the level, most frequent first")
    return fig


def _kind_numbers(text) -> list[int]:
    """Kind numbers of a ``contains`` entry ('0,2' or a list)."""
    if isinstance(text, str):
        return [int(v) for v in text.split(",") if v]
    return [int(v) for v in text]
