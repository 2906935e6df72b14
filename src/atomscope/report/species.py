"""Species of one sample: counts and concentrations per class with counting errors, the
positions of the minority sites (vacancies, substitutions, dopants), and a figure of the sites
coloured by species."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

from atomscope.report.figures import _show_image  # noqa: E402

__all__ = ["HOST_FRACTION", "minority_sites", "neighbour_species", "species_counts", "species_figure"]

#: Classes holding at least this fraction of a frame's columns are the host lattice (Mo and S2
#: hold about half each in MoS2, C nearly all in graphene); the others are listed with their
#: positions as vacancies, substitutions and dopants.
HOST_FRACTION = 0.2
_COLUMNS = ("atom", "vacancy")


def _columns(sites: pd.DataFrame) -> pd.DataFrame:
    """The sites that are columns (atoms and vacancies) with a species."""
    named = sites["kind"].isin(_COLUMNS) & sites["species"].fillna("").astype(str).ne("")
    return sites[named]


def species_counts(sites: pd.DataFrame) -> pd.DataFrame:
    """Per frame and species class: ``count``, ``fraction`` of the frame's columns (atoms and
    vacancies) and ``fraction_err``, its binomial counting error sqrt(f (1 - f) / N), and
    ``host`` (fraction >= :data:`HOST_FRACTION`)."""
    columns = _columns(sites if "frame" in sites else sites.assign(frame=0))
    rows = []
    for frame, part in columns.groupby("frame", sort=True):
        total = len(part)
        for name, count in part["species"].value_counts().sort_index().items():
            f = count / total
            rows.append({"frame": frame, "species": name, "count": int(count), "fraction": f, "fraction_err": float(np.sqrt(f * (1 - f) / total)), "host": f >= HOST_FRACTION})
    return pd.DataFrame(rows, columns=["frame", "species", "count", "fraction", "fraction_err", "host"])


def minority_sites(sites: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """The columns whose species is not a host class of their frame: frame, kind, species, x, y [Å], x_px, y_px."""
    sites = sites if "frame" in sites else sites.assign(frame=0)
    host = set(map(tuple, counts.loc[counts["host"], ["frame", "species"]].to_numpy()))
    columns = _columns(sites)
    keep = [(f, s) not in host for f, s in zip(columns["frame"], columns["species"])]
    return columns.loc[keep, ["frame", "kind", "species", "x", "y", "x_px", "y_px"]].reset_index(drop=True)


def neighbour_species(sites: pd.DataFrame, k: int = 3) -> np.ndarray:
    """The species of each column's ``k`` nearest columns (atoms and vacancies of one frame), (N, k),
    in the order of the columns in ``sites``; in a 2H TMD the three nearest of a metal column are
    chalcogen columns and the reverse."""
    columns = _columns(sites)
    xy = columns[["x", "y"]].to_numpy(float)
    _, index = cKDTree(xy).query(xy, k=k + 1)
    return columns["species"].to_numpy(dtype=object)[index[:, 1:]]


def species_figure(image: np.ndarray, sampling: float, sites: pd.DataFrame, counts: pd.DataFrame) -> Figure:
    """One frame's image [Å] with its columns coloured by species (vacancies as open circles);
    the legend gives each class's count and concentration with its counting error."""
    fig, ax = plt.subplots(figsize=(7.5, 7), constrained_layout=True)
    _show_image(ax, image, sampling)
    columns = _columns(sites)
    colours = plt.get_cmap("tab10")
    for k, row in enumerate(counts.itertuples(index=False)):
        part = columns[columns["species"] == row.species]
        empty = (part["kind"] == "vacancy").all()
        label = f"{row.species}: {row.count} ({100 * row.fraction:.2f} ± {100 * row.fraction_err:.2f} %)"
        style = {"facecolors": "none", "edgecolors": colours(k % 10), "linewidths": 1.2} if empty else {"color": colours(k % 10)}
        ax.scatter(part["x"], part["y"], s=3 if row.host else 16, label=label, **style)
    if len(counts):
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
        ax.set_title(f"{len(columns)} columns by species")
    else:  # a model whose atoms head stands for several elements and that has no species head
        ax.set_title("no species: the model does not tell the elements apart")
    return fig
