"""Motifs of the real MoSe2 grain-boundary image: numbers and figure.

Usage (project root): python benchmarks/motifs/mose2.py > benchmarks/motifs/mose2.md
Writes benchmarks/motifs/mose2_motifs.png; sites, settings and the meaning of "away from the
boundaries" as in tests/_mose2_motifs.py.
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
    fig.savefig(ROOT / "benchmarks" / "motifs" / "mose2_motifs.png", dpi=90, bbox_inches="tight")


if __name__ == "__main__":
    main()
