"""Motifs of the real MoSe2 grain-boundary image: motifs, hierarchy, domain divergences, figures.

Usage (project root): python benchmarks/motifs/mose2.py > benchmarks/motifs/mose2.md
Writes benchmarks/motifs/mose2_{motifs,symmetry,hierarchy}.png; sites, settings and the
meaning of "away from the boundaries" as in tests/_mose2_motifs.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from _mose2_motifs import CONFIG, bulk_sites, mose2_motifs, other_motif_fraction  # noqa: E402

from atomscope.motifs import extract_patches, feature_divergence, frame_hierarchies, level_entropy, normalise_image, zernike_moments  # noqa: E402
from atomscope.report import hierarchy_figure, symmetry_figure  # noqa: E402

OUT = ROOT / "benchmarks" / "motifs"
BOUNDARY_Y = 58.0  # Å: the twin boundary, a horizontal row of sites (motif 4 of the table)


def main() -> None:
    image, sampling, sites, motifs = mose2_motifs(ROOT.parent / "shared" / "data" / "mose2_stem_grain_boundary.tif")
    bulk, other = bulk_sites(sites), other_motif_fraction(sites, motifs)
    label = np.full(len(sites), -1)
    label[motifs["site"].to_numpy()] = motifs["motif"].to_numpy()
    print(f"# MoSe2 grain boundary: motifs\n\n`python benchmarks/motifs/mose2.py > benchmarks/motifs/mose2.md`; config {CONFIG}\n")
    print(f"{len(sites)} sites (classical detection), pixel size {sampling:.4f} Å/px from a = 3.29 Å, "
          f"{len(motifs)} with a full patch, {bulk.sum()} away from boundaries and edges.\n")
    print("| motif | sites | away from boundaries | their 3 nearest in another motif | y range [Å] |\n|---:|---:|---:|---:|---:|")
    for k in np.unique(label[label >= 0]):
        members = label == k
        inside = members & bulk
        share = f"{np.mean(other[inside]):.3f}" if inside.any() else "-"
        print(f"| {k} | {members.sum()} | {inside.sum()} | {share} | {sites['y'][members].min():.1f}-{sites['y'][members].max():.1f} |")
    fig, ax = plt.subplots(figsize=(9, 9))
    ax.imshow(image, cmap="gray")
    ax.scatter(sites["x"][~bulk] / sampling, sites["y"][~bulk] / sampling, s=40, facecolor="none", edgecolor="w", lw=0.6, label="near a boundary")
    for k in np.unique(label[label >= 0]):
        part = motifs[motifs["motif"] == k]
        ax.scatter(part["x"] / sampling, part["y"] / sampling, s=10, color=plt.cm.tab10(k % 10), label=f"motif {k} ({len(part)})")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title("MoSe2: sites coloured by motif (oriented Zernike moments, FR layout, components)")
    ax.set_axis_off()
    fig.savefig(OUT / "mose2_motifs.png", dpi=90, bbox_inches="tight")
    symmetry_figure(image, sampling, motifs).savefig(OUT / "mose2_symmetry.png", dpi=70)
    hierarchy(image, sampling, motifs)
    divergences(image, sampling, sites)


def hierarchy(image: np.ndarray, sampling: float, motifs) -> None:
    """The motif-cell hierarchy: kinds per level, entropy, the largest kinds; figure."""
    cells, kinds = frame_hierarchies(motifs, dominant=0.1)
    print("\n## Motif-cell hierarchy (lattice cells, dominant >= 10 % of cells)\n")
    print(level_entropy(kinds).to_markdown(index=False, floatfmt=("g", "g", "g", ".3f")))
    largest = kinds.sort_values("level").iloc[-1]
    rows = cells[cells["cell_kind"] == largest["kind"]]
    print(f"\nLargest higher-level motif-cell: {largest['level']} cells, y {rows['y'].min():.1f}-{rows['y'].max():.1f} Å "
          f"(the twin boundary is at y = {BOUNDARY_Y:.0f} Å).")
    hierarchy_figure(image, sampling, cells, kinds, level_entropy(kinds)).savefig(OUT / "mose2_hierarchy.png", dpi=80)


def divergences(image: np.ndarray, sampling: float, sites) -> None:
    """KL divergence of the Zernike features (rotation-invariant, n_max 10) of regions: the two
    halves of each grain against each other and the two grains, 15 Å clear of the boundary."""
    size = 2 * int(round(3.29 / sampling / 2)) + 1
    patches, kept = extract_patches(normalise_image(image, background_px=3.29 / sampling), sites["x"] / sampling, sites["y"] / sampling, size_px=size)
    features = zernike_moments(patches, n_max=10)
    x, y = sites["x"].to_numpy()[kept], sites["y"].to_numpy()[kept]
    middle = np.median(x)
    regions = {
        "upper left": (y < BOUNDARY_Y - 15) & (x < middle), "upper right": (y < BOUNDARY_Y - 15) & (x >= middle),
        "lower left": (y > BOUNDARY_Y + 5) & (x < middle), "lower right": (y > BOUNDARY_Y + 5) & (x >= middle),
    }
    print("\n## Domains: KL divergence of Zernike-feature histograms (20 bins per feature, mean over 36 invariants) [nats]\n")
    print("| P \\ Q | " + " | ".join(f"{name} ({regions[name].sum()})" for name in regions) + " |\n|---|" + "---:|" * len(regions))
    for p in regions:
        print(f"| {p} | " + " | ".join(f"{feature_divergence(features[regions[p]], features[regions[q]]):.3f}" for q in regions) + " |")


if __name__ == "__main__":
    main()
