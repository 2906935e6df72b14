"""Motif layouts on synthetic motif sets with known labels: FR (in place, batched), UMAP, PCA.

Four motifs, each an atom-centred 21 px patch turned by a random angle, with a random
sub-pixel offset of up to 0.5 px and Gaussian noise: a bright centre with 3 neighbours at
120 deg, with 4 at 90 deg, with 6 at 60 deg, and a dim centre (a substitution) with 3
neighbours. Features: rotation-invariant Zernike moments (n_max 10, 36 numbers). Each layout
then gets labels from k-means with the true number of motifs (the same for all layouts), and
the FR and UMAP layouts also from the connected components of the dilated layout (Dan et al.'s
seg_lbs, no number given). Score: adjusted Rand index against the truth, mean over seeds.
Then the time of features and layouts for 10^4 and 10^5 patches.

Usage: python benchmarks/motifs/run.py [--quick] > benchmarks/motifs/results.md
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.metrics import adjusted_rand_score

from atomscope.motifs import force_relaxed_layout, motif_labels, pca_layout, umap_layout, zernike_moments

SIZE = 21  # patch side [px]
RADIUS = 6.0  # neighbour distance [px]
SIGMA = 1.6  # atom width [px]
#: (neighbours, centre height) of the four motifs
MOTIFS = ((3, 1.0), (4, 1.0), (6, 1.0), (3, 0.4))
SETS = {
    "balanced, noise 0.2": ((500, 500, 500, 500), 0.2),
    "balanced, noise 0.6": ((500, 500, 500, 500), 0.6),
    "imbalanced (85/10/4/1 %), noise 0.2": ((1700, 200, 80, 20), 0.2),
    "imbalanced (85/10/4/1 %), noise 0.6": ((1700, 200, 80, 20), 0.6),
}


def motif_patches(counts, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Patches (M, SIZE, SIZE) and labels (M,) of the four synthetic motifs."""
    offsets = np.arange(SIZE) - (SIZE - 1) / 2
    grid_y, grid_x = np.meshgrid(offsets, offsets, indexing="ij")
    patches, labels = [], []
    for label, (count, (fold, centre)) in enumerate(zip(counts, MOTIFS)):
        shift = rng.uniform(-0.5, 0.5, (count, 1, 2))
        angles = rng.uniform(0, 2 * np.pi, (count, 1)) + 2 * np.pi * np.arange(fold) / fold
        ring = RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
        atoms = np.concatenate([np.zeros((count, 1, 2)), ring], axis=1) + shift
        heights = np.r_[centre, np.ones(fold)]
        image = np.zeros((count, SIZE, SIZE))
        for a in range(atoms.shape[1]):
            dx = grid_x[None] - atoms[:, a, 0, None, None]
            dy = grid_y[None] - atoms[:, a, 1, None, None]
            image += heights[a] * np.exp(-(dx**2 + dy**2) / (2 * SIGMA**2))
        patches.append(image + noise * rng.standard_normal(image.shape))
        labels.append(np.full(count, label))
    return np.concatenate(patches), np.concatenate(labels)


def layouts(features: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    return {
        "FR in place": force_relaxed_layout(features, rng=seed),
        "FR batched": force_relaxed_layout(features, update="batched", rng=seed),
        "UMAP": umap_layout(features, rng=seed),
        "PCA": pca_layout(features),
    }


def accuracy_table(seeds: list[int]) -> list[str]:
    columns = ["FR in place + components", "FR in place + k-means", "FR batched + components", "FR batched + k-means",
               "UMAP + components", "UMAP + k-means", "PCA + k-means"]
    lines = ["| set | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, (counts, noise) in SETS.items():
        scores = {c: [] for c in columns}
        for seed in seeds:
            patches, truth = motif_patches(counts, noise, np.random.default_rng(seed))
            features = zernike_moments(patches, n_max=10)
            for method, xy in layouts(features, seed).items():
                scores[f"{method} + k-means"].append(adjusted_rand_score(truth, motif_labels(xy, method="kmeans", n_motifs=len(counts), rng=seed)))
                if method != "PCA":
                    scores[f"{method} + components"].append(adjusted_rand_score(truth, motif_labels(xy)))
        lines.append(f"| {name} | " + " | ".join(f"{np.mean(scores[c]):.3f}" for c in columns) + " |")
    return lines


def timing_table(sizes: list[int]) -> list[str]:
    lines = ["| patches | features (Zernike) [s] | FR in place [s] | FR batched [s] | UMAP [s] | PCA [s] |", "|---:|---:|---:|---:|---:|---:|"]
    for size in sizes:
        rng = np.random.default_rng(size)
        counts = np.round(size * np.array([0.85, 0.10, 0.04, 0.01])).astype(int)
        patches, _ = motif_patches(counts, 0.3, rng)
        start = time.perf_counter()
        features = np.concatenate([zernike_moments(part, n_max=10) for part in np.array_split(patches, max(1, size // 10_000))])
        seconds = time.perf_counter() - start
        del patches
        row = [f"{seconds:.1f}"]
        runs = [lambda: force_relaxed_layout(features, rng=0), lambda: force_relaxed_layout(features, update="batched", rng=0),
                lambda: umap_layout(features, rng=0), lambda: pca_layout(features)]
        for number, run in enumerate(runs):
            if size > 10_000 and number in (1, 2):  # minutes each at 10^4 already: not run at 10^5
                row.append("not run")
                continue
            start = time.perf_counter()
            run()
            row.append(f"{time.perf_counter() - start:.1f}")
        lines.append(f"| {size:,} | " + " | ".join(row) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed and 10^4 patches only")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="n_jobs value")  # umap-learn: a seed means one thread
    force_relaxed_layout(np.random.default_rng(0).random((30, 4)), rng=0)  # numba compilation, not timed
    umap_layout(np.random.default_rng(0).random((30, 4)), rng=0)
    seeds = [0] if args.quick else [0, 1]
    sizes = [10_000] if args.quick else [10_000, 100_000]
    print("# Motif layouts on synthetic motif sets\n")
    print(f"`python benchmarks/motifs/run.py{' --quick' if args.quick else ''} > benchmarks/motifs/results.md`; "
          f"{platform.processor() or platform.machine()}, shared 2-core machine, UMAP seeded (one thread).\n")
    print(f"Adjusted Rand index against the true motifs, mean over seeds {seeds} (1.0: perfect; 0: chance). "
          "Four motifs (3-, 4-, 6-fold bright centre; 3-fold dim centre), 21 px patches, Zernike n_max 10 "
          "invariants, the same features for every layout; FR: Dan et al.'s defaults (10 neighbours by correlation, "
          "5 negatives per edge, 50 + 50 iterations); UMAP: umap-learn defaults with 10 neighbours by correlation.\n")
    print("\n".join(accuracy_table(seeds)))
    print("\nTime of one run on 85/10/4/1 % sets (noise 0.3); features include no patch cutting; "
          "layouts include the kNN graph.\n")
    print("\n".join(timing_table(sizes)))


if __name__ == "__main__":
    main()
