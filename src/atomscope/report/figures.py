"""Matplotlib figures of one sample (overlay, statistics, motifs) and of the whole run.

Images are drawn in Å on their :class:`~atomscope.io.ImageGrid` (pixel (r, c) centred at
(x, y) = (c, r) * sampling).
"""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from atomscope.io import ImageGrid  # noqa: E402

__all__ = [
    "overlay_figure", "network_maps_figure", "statistics_figure", "motif_figure", "summary_figure", "summary_table", "time_series_figure",
]

RING_SIZES = range(3, 11)


_MAX_AVERAGES = 10  # class-average patches shown in the motif figure


def _show_image(ax: plt.Axes, image: np.ndarray, sampling: float) -> None:
    extent = ImageGrid(image.shape, sampling).imshow_extent()
    low, high = np.percentile(image, [0.5, 99.5])
    ax.imshow(image, cmap="gray", extent=extent, vmin=low, vmax=high, interpolation="nearest")
    ax.set_xlim(extent[:2])  # sites and rings drawn later must not widen the view past the image
    ax.set_ylim(extent[2:])
    ax.set_xlabel("x (Å)")
    ax.set_ylabel("y (Å)")


def overlay_figure(
    image: np.ndarray,
    sampling: float,
    sites: pd.DataFrame,
    bonds: pd.DataFrame,
    rings: pd.DataFrame,
    *,
    cmap: str = "tab10",
    monolayer: np.ndarray | None = None,
) -> Figure:
    """Micrograph with atoms, bonds and complete rings filled by size.

    ``sites`` are one frame's sites (row positions are the indices used by ``bonds`` and
    ``rings``), in Å; ``image`` is (H, W) at ``sampling`` [Å/px]. With a ``monolayer`` mask
    (H, W) on the image's grid, the regions outside the monolayer (left out of the analysis)
    are outlined in yellow and shaded on the preprocessed image, and atoms there are grey.
    """
    xy = sites[["x", "y"]].to_numpy()
    fig, (ax, ax_image) = plt.subplots(1, 2, figsize=(13, 6.5), constrained_layout=True)
    for axis in (ax, ax_image):
        _show_image(axis, image, sampling)
    ax_image.set_title("preprocessed image")
    complete = rings[rings["complete"].astype(bool)]
    colours = plt.get_cmap(cmap, len(RING_SIZES))
    polygons = [xy[np.asarray(members, dtype=int)] for members in complete["members"]]
    faces = [colours(int(np.clip(size, RING_SIZES[0], RING_SIZES[-1])) - RING_SIZES[0]) for size in complete["size"]]
    ax.add_collection(PolyCollection(polygons, facecolors=faces, edgecolors="none", alpha=0.45))
    segments = np.stack([xy[bonds["i"].to_numpy()], xy[bonds["j"].to_numpy()]], axis=1) if len(bonds) else []
    ax.add_collection(LineCollection(segments, colors="white", linewidths=0.6))
    atoms = sites["kind"] == "atom"
    outside = atoms & (sites["in_monolayer"].eq(False).to_numpy() if "in_monolayer" in sites else False)
    ax.plot(sites.loc[atoms & ~outside, "x"], sites.loc[atoms & ~outside, "y"], "o", color="tab:red", markersize=2.5)
    ax.plot(sites.loc[outside, "x"], sites.loc[outside, "y"], "o", color="0.6", markersize=2.0)
    if monolayer is not None and not monolayer.all():
        rows, cols = np.indices(monolayer.shape) * sampling  # pixel (r, c) at y = r * sampling, x = c * sampling
        for axis in (ax, ax_image):
            axis.contour(cols, rows, monolayer.astype(float), levels=[0.5], colors="yellow", linewidths=1.0)
        extent = ImageGrid(monolayer.shape, sampling).imshow_extent()
        ax_image.imshow(np.where(monolayer, np.nan, 1.0), cmap="autumn", alpha=0.3, extent=extent, vmin=0, vmax=1, interpolation="nearest")
        ax_image.set_title(f"preprocessed image; not monolayer (shaded): {100 * (1 - monolayer.mean()):.0f} %")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(s - RING_SIZES[0]), alpha=0.6) for s in RING_SIZES]
    fig.legend(handles, [f"{s}-ring" for s in RING_SIZES], loc="outside lower center", fontsize=8, ncols=len(RING_SIZES))
    ax.set_title(f"{int(atoms.sum())} atoms, {len(bonds)} bonds, {len(complete)} complete rings")
    return fig


def statistics_figure(bonds: pd.DataFrame, angles: pd.DataFrame, rings: pd.DataFrame, summary: pd.DataFrame) -> Figure:
    """Bond-length and angle histograms, ring-size fractions and g(r) of one sample (all frames)."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), constrained_layout=True)
    ax = axes[0, 0]
    ax.hist(bonds["length"], bins=np.arange(0.5, 3.0, 0.04), color="tab:blue")
    ax.set_xlabel("bond length (Å)")
    ax.set_ylabel("bonds")
    ax.set_title(f"mean {bonds['length'].mean():.3f} Å, std {bonds['length'].std(ddof=0):.3f} Å")
    ax = axes[0, 1]
    ax.hist(angles["angle"], bins=np.arange(40, 181, 2), color="tab:orange")
    ax.set_xlabel("bond angle (deg)")
    ax.set_ylabel("angles")
    ax.set_title(f"mean {angles['angle'].mean():.1f} deg, std {angles['angle'].std(ddof=0):.1f} deg")
    ax = axes[1, 0]
    complete = rings.loc[rings["complete"].astype(bool), "size"]
    n = len(complete)
    fractions = complete.value_counts(normalize=True).reindex(RING_SIZES, fill_value=0.0)
    errors = np.sqrt(fractions * (1 - fractions) / max(n, 1))  # binomial counting error
    ax.bar(fractions.index, fractions.to_numpy(), yerr=errors.to_numpy(), capsize=3, color="tab:green")
    ax.set_xlabel("ring size")
    ax.set_ylabel("fraction of complete rings")
    ax.set_xticks(list(RING_SIZES))
    ax.set_title(f"{n} complete rings (bars: counting error)")
    ax = axes[1, 1]
    for _, row in summary.iterrows():
        ax.plot(row["pdf_r"], row["pdf_g"], label=f"frame {row['frame']}")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("g(r)")
    ax.set_title("pair distribution function of atoms")
    return fig


def time_series_figure(summary: pd.DataFrame, drift: pd.DataFrame) -> Figure:
    """A movie frame by frame: atom count, fractions of 5-, 6- and 7-rings with their counting
    errors, mean bond length [Å] and the drift [Å] from the first frame."""
    summary = summary.sort_values("frame")
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True, constrained_layout=True)
    axes[0, 0].plot(summary["frame"], summary["n_atoms"], "o-")
    axes[0, 0].set_ylabel("atoms")
    for size in (5, 6, 7):
        axes[0, 1].errorbar(summary["frame"], summary[f"ring_{size}"], yerr=summary[f"ring_{size}_err"], marker="o", capsize=2, label=f"{size}-rings")
    axes[0, 1].set_ylabel("fraction of complete rings")
    axes[0, 1].legend()
    axes[1, 0].plot(summary["frame"], summary["bond_length_mean"], "o-")
    axes[1, 0].set_ylabel("mean bond (Å)")
    axes[1, 1].plot(drift["frame"], drift["dx"], "o-", label="dx")
    axes[1, 1].plot(drift["frame"], drift["dy"], "o-", label="dy")
    axes[1, 1].set_ylabel("drift from frame 0 (Å)")
    axes[1, 1].legend()
    for ax in axes[1]:
        ax.set_xlabel("frame")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # frames are whole numbers
    return fig


def network_maps_figure(
    image: np.ndarray | None, grid: ImageGrid, sites: pd.DataFrame, rings: pd.DataFrame, defects: pd.DataFrame, maps: dict[str, np.ndarray], *, cmap: str = "tab10"
) -> Figure:
    """Rings coloured by size with the named defects, the local strain map and the local hexagon
    fraction of one frame (``maps`` from :func:`atomscope.geometry.local_maps` on ``grid``);
    the micrograph (on ``grid``) behind the rings when given."""
    xy = sites[["x", "y"]].to_numpy()
    extent = grid.imshow_extent()
    fig, axes = plt.subplots(1, 3, figsize=(18, 6.2), constrained_layout=True)
    ax = axes[0]
    if image is not None:
        _show_image(ax, image, grid.sampling)
    else:
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
        ax.set_aspect("equal")
        ax.set_xlabel("x (Å)")
        ax.set_ylabel("y (Å)")
    complete = rings[rings["complete"].astype(bool)]
    colours = plt.get_cmap(cmap, len(RING_SIZES))
    polygons = [xy[np.asarray(members, dtype=int)] for members in complete["members"]]
    faces = [colours(int(np.clip(size, RING_SIZES[0], RING_SIZES[-1])) - RING_SIZES[0]) for size in complete["size"]]
    ax.add_collection(PolyCollection(polygons, facecolors=faces, edgecolors="white", linewidths=0.3, alpha=0.7))
    named = defects[defects["defect"] != "other"]
    for name, group in named.groupby("defect"):
        ax.plot(group["x"], group["y"], "x", markersize=7, markeredgewidth=1.5, label=f"{name} ({len(group)})")
    if len(named):
        ax.legend(fontsize=7, loc="upper right")
    ax.set_title("rings by size; named defects")
    strain = maps["strain"]
    limit = float(np.nanpercentile(np.abs(strain), 99)) if np.isfinite(strain).any() else 0.05
    for ax, key, title, options in (
        (axes[1], "strain", "local bond length / median - 1", {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}),
        (axes[2], "hexagon_fraction", "local fraction of hexagons", {"cmap": "viridis", "vmin": 0.0, "vmax": 1.0}),
    ):
        shown = ax.imshow(maps[key], extent=extent, interpolation="nearest", **options)
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
        ax.set_xlabel("x (Å)")
        ax.set_ylabel("y (Å)")
        ax.set_title(title)
        fig.colorbar(shown, ax=ax, shrink=0.8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(s - RING_SIZES[0]), alpha=0.7) for s in RING_SIZES]
    fig.legend(handles, [f"{s}-ring" for s in RING_SIZES], loc="outside lower center", fontsize=8, ncols=len(RING_SIZES))
    return fig


def motif_figure(
    image: np.ndarray, sampling: float, motifs: pd.DataFrame, averages: dict[str, np.ndarray] | None = None
) -> Figure:
    """Motif layout coloured by motif, the same motifs on the image and, if given, the
    class-average patch of each motif (the ten most populous), titled by label and count."""
    shown = 0 if averages is None else min(len(averages["motif"]), _MAX_AVERAGES)
    fig = plt.figure(figsize=(13, 6 + 1.6 * (shown > 0)), constrained_layout=True)
    grid = fig.add_gridspec(2 if shown else 1, max(shown, 2), height_ratios=[4, 1] if shown else [1])
    half = max(shown, 2) // 2
    ax_layout, ax_image = fig.add_subplot(grid[0, :half]), fig.add_subplot(grid[0, half:])
    labels = motifs["motif"].to_numpy()
    colours = plt.get_cmap("tab10")
    for label in np.unique(labels):
        part = motifs[labels == label]
        ax_layout.scatter(part["layout_x"], part["layout_y"], s=6, color=colours(label % 10), label=f"motif {label} ({len(part)})")
        ax_image.plot(part["x"], part["y"], "o", markersize=3, color=colours(label % 10))
    ax_layout.set_xlabel("layout x")
    ax_layout.set_ylabel("layout y")
    ax_layout.set_title("layout of Zernike features")
    ax_layout.legend(fontsize=8)
    _show_image(ax_image, image, sampling)
    ax_image.set_title("atoms coloured by motif")
    for k in range(shown):
        ax = fig.add_subplot(grid[1, k])
        ax.imshow(averages["patches"][k], cmap="gray")
        ax.set_title(f"motif {averages['motif'][k]} ({averages['count'][k]})", fontsize=8, color=colours(int(averages["motif"][k]) % 10))
        ax.set_axis_off()
    return fig


def summary_table(summaries: Sequence[pd.DataFrame], scores: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per sample and frame: statistics (without the PDF) and detection scores."""
    table = pd.concat(summaries, ignore_index=True).drop(columns=["pdf_r", "pdf_g"])
    if scores:
        wide = pd.concat(scores, ignore_index=True).pivot_table(
            index=["sample", "frame"], columns="kind", values=["precision", "recall", "f1", "rmse"]
        )
        wide.columns = [f"{kind}_{metric}" for metric, kind in wide.columns]
        table = table.merge(wide.reset_index(), on=["sample", "frame"], how="left")
    return table


def summary_figure(table: pd.DataFrame, scores: Sequence[pd.DataFrame], metrics: pd.DataFrame) -> Figure:
    """Every sample side by side: detection F1 where it has ground truth, the label-free checks
    (mean bond length, hexagon fraction of the complete rings) for all; and the training curve.

    ``table`` is :func:`summary_table` (one row per sample and frame), ``scores`` the
    evaluation tables of the samples with ground truth.
    """
    fig, (ax_f1, ax_bond, ax_train) = plt.subplots(1, 3, figsize=(17, 4.8), constrained_layout=True)
    samples = list(dict.fromkeys(table["sample"]))
    positions = np.arange(len(samples))
    if scores:
        scored = pd.concat(scores, ignore_index=True)
        wide = scored.pivot_table(index="sample", columns="kind", values="f1").reindex(samples)
        for offset, kind in zip((-0.2, 0.2), wide.columns):
            ax_f1.bar(positions + offset, wide[kind].fillna(0.0), width=0.4, label=kind)
        pooled = scored.groupby("kind")[["tp", "fp", "fn"]].sum()
        f1 = 2 * pooled["tp"] / (2 * pooled["tp"] + pooled["fp"] + pooled["fn"])
        ax_f1.set_title("detection F1; pooled: " + ", ".join(f"{k} {v:.3f}" for k, v in f1.items()))
        ax_f1.legend(fontsize=8, loc="lower left")
        for x in positions[wide.isna().all(axis=1).to_numpy()]:
            ax_f1.text(x, 0.05, "no ground truth", rotation=90, ha="center", va="bottom", fontsize=8, color="grey")
    else:
        ax_f1.set_title("detection F1: no sample with ground truth")
    ax_f1.set_ylim(0, 1.05)
    ax_f1.axhline(0.9, color="grey", linestyle="--", linewidth=0.8)
    ax_f1.set_ylabel("F1")
    per_sample = table.groupby("sample", sort=False)[["bond_length_mean", "ring_6"]].mean().reindex(samples)
    ax_bond.bar(positions, per_sample["bond_length_mean"], color="tab:blue")
    ax_bond.axhline(1.42, color="grey", linestyle="--", linewidth=0.8)
    ax_bond.set_ylabel("mean bond length (Å)")
    ax_bond.set_ylim(0, max(3.0, float(np.nanmax(per_sample["bond_length_mean"].to_numpy(dtype=float), initial=0.0))))
    hexagons = ax_bond.twinx()
    hexagons.plot(positions, per_sample["ring_6"], "o", color="tab:green")
    hexagons.set_ylabel("hexagon fraction of complete rings", color="tab:green")
    hexagons.set_ylim(0, 1.05)
    ax_bond.set_title("label-free checks (graphene: 1.42 Å, hexagons)")
    for ax in (ax_f1, ax_bond):
        ax.set_xticks(positions, samples, rotation=30, ha="right")
    _learning_curve(ax_train, metrics)
    return fig


def learning_curve_figure(metrics: pd.DataFrame, title: str = "training") -> Figure:
    """Training loss and validation F1 against the step, from a model's metrics table."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    _learning_curve(ax, metrics)
    ax.set_title(title)
    return fig


def _learning_curve(ax_train: plt.Axes, metrics: pd.DataFrame) -> None:
    ax_train.plot(metrics["step"], metrics["train_loss"], "k-", label="training loss")
    ax_train.set_yscale("log")
    ax_train.set_xlabel("step")
    ax_train.set_ylabel("MSE loss")
    twin = ax_train.twinx()
    scored = [c for c in metrics.columns if c.endswith("_f1")]
    for column in scored:
        twin.plot(metrics["step"], metrics[column], "o-", label=f"validation {column}")
    twin.set_ylabel("validation F1")
    twin.set_ylim(0, 1.05)
    if scored:
        twin.legend(loc="lower right", fontsize=8)
    ax_train.set_title("training")
