"""Figures of the motif stage beyond the layout: symmetry maps (Dan et al. 2022, Fig. 2)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from atomscope.report.figures import _show_image  # noqa: E402

__all__ = ["symmetry_figure"]


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
