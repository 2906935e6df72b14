"""Drift of a simulated movie through the whole chain: ADF-STEM frames of graphene, the shipped
carbon_stem network, drift by cross-correlation, positions in the first frame's coordinates.

Issue 11's bar: on a simulated 20-frame movie with known drift (up to 2 Å per frame), the drift
recovered within 0.05 Å per frame and the positions after correction within 0.1 Å of the truth.
tests/test_inference_drift.py checks the drift step alone on stand-in atom maps; this runs
``atomscope analyse`` on the frames as a user would.

Each frame is the same graphene model (a periodic cell with point defects) with every site
moved by the frame's drift, wrapped into the cell, then simulated (convolution approximation,
1e5 e/Å², drawn noise and scan artefacts off), so the drift is known to the picometre.

Run: ``python benchmarks/inference/movie.py > benchmarks/inference/movie.md`` (``--augment``: with test-time augmentation)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from atomscope._shared.seeding import stage_rng
from atomscope.cli import main as atomscope
from atomscope.io import read_table
from atomscope.simulation.microscope import draw_microscope, simulate_model
from atomscope.structures.materials import build_shard

FRAMES, MAX_STEP, SAMPLING, SIZE_PX, CELL = 20, 2.0, 0.11, 256, 48.0  # -, Å, Å/px, px, Å
BORDER = 2.0  # Å: detections this close to a frame's edge are not scored (atoms cut by the edge)
MICROSCOPE = {
    "mode": "stem_convolution", "image_size_px": SIZE_PX, "sampling": SAMPLING, "defocus": 0.0, "Cs": 0.0,
    "semiangle_cutoff": 30.0, "dose": 1e5, "scan_drift": 0.0, "scan_jitter": 0.0,
}


def drifts(rng: np.random.Generator) -> np.ndarray:
    """(F, 2) drift [Å] of each frame from the first: steps of 1-2 Å in random directions."""
    angle = rng.uniform(0, 2 * np.pi, FRAMES)
    steps = MAX_STEP * rng.uniform(0.5, 1.0, FRAMES)[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    steps[0] = 0
    return np.cumsum(steps, axis=0)


def movie(sites: pd.DataFrame, models: pd.DataFrame, drift: np.ndarray) -> np.ndarray:
    """(F, S, S) frames of the model with its sites moved by each frame's drift."""
    cell = (float(models["cell_x"].iloc[0]), float(models["cell_y"].iloc[0]))
    frames = []
    for k, (dx, dy) in enumerate(drift):
        moved = sites.assign(x=(sites["x"] + dx) % cell[0], y=(sites["y"] + dy) % cell[1])
        rng = stage_rng(7, "simulation", k)
        image, _, sampling = simulate_model(moved, cell, draw_microscope(MICROSCOPE, rng), MICROSCOPE, rng=rng)
        assert abs(sampling - SAMPLING) < 1e-9, sampling
        frames.append(image[0])
    return np.stack(frames).astype(np.float32)


def main() -> None:
    sites, models = build_shard({"material": "graphene", "cell": [CELL, CELL]}, n_models=1, first_model=0, rng=stage_rng(7, "structures", 0))
    drift = drifts(np.random.default_rng(7))
    frames = movie(sites, models, drift)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "movie.npy", frames)
        out = Path(tmp) / "out"
        options = ["--augment"] if "--augment" in sys.argv[1:] else []
        if atomscope(["analyse", str(Path(tmp) / "movie.npy"), "--model", "carbon_stem", "--pixel-size", str(SAMPLING), "--out", str(out), *options]) != 0:
            sys.exit("atomscope analyse failed")
        found, measured = read_table(out / "sites.parquet"), read_table(out / "drift.parquet")
    # the measured drift against the truth
    error = np.hypot(measured["dx"].to_numpy() - drift[:, 0], measured["dy"].to_numpy() - drift[:, 1])
    step_truth = np.hypot(*np.diff(drift, axis=0).T)
    # corrected positions against the frame-0 truth (and its periodic images)
    atoms = sites[sites["kind"] == "atom"][["x", "y"]].to_numpy()
    tiled = np.concatenate([atoms + np.array([i, j]) * CELL for i in (-1, 0, 1) for j in (-1, 0, 1)])
    side = SIZE_PX * SAMPLING
    found = found[found["kind"] == "atom"]
    inner = found[(found[["x", "y"]] > BORDER).all(axis=1) & (found[["x", "y"]] < side - BORDER).all(axis=1)]
    distance = {
        name: cKDTree(tiled).query(inner[[f"x{suffix}", f"y{suffix}"]].to_numpy())[0]
        for name, suffix in (("corrected", "_corrected"), ("uncorrected", ""))
    }
    d = distance["corrected"]
    matched = d[d < 0.5]
    # the same positions' error within their own frame, against that frame's truth: the network's part
    own = np.concatenate([
        cKDTree(tiled + drift[k]).query(part[["x", "y"]].to_numpy())[0] for k, part in inner.groupby("frame")
    ])
    print("# A simulated 20-frame movie through the chain\n")
    print("Command: `python benchmarks/inference/movie.py > benchmarks/inference/movie.md`\n")
    print(f"Graphene, {CELL:g} x {CELL:g} Å periodic cell with its point defects; {FRAMES} ADF-STEM frames of {SIZE_PX} px at "
          f"{SAMPLING} Å/px, 1e5 e/Å², convolution approximation, no scan drift or jitter within a frame; each frame's "
          f"sites moved by its drift (steps of {MAX_STEP / 2:g}-{MAX_STEP:g} Å, largest {step_truth.max():.2f} Å; "
          f"{np.hypot(*drift[-1]):.1f} Å from frame 0 at the end). `atomscope analyse movie.npy --model carbon_stem "
          f"--pixel-size {SAMPLING}`; atoms farther than {BORDER:g} Å from the frame edge scored.\n")
    print("| measure | value | bar |\n|---|---|---|")
    print(f"| drift error per frame, largest | {error.max():.4f} Å | < 0.05 Å |")
    print(f"| drift error per frame, RMS | {np.sqrt(np.mean(error**2)):.4f} Å | |")
    print(f"| atoms scored (all frames) | {len(inner):,}, {len(matched):,} within 0.5 Å of a true atom | |")
    print(f"| corrected position error, RMS / 95th / 99th percentile | {np.sqrt(np.mean(matched**2)):.4f} / "
          f"{np.percentile(matched, 95):.4f} / {np.percentile(matched, 99):.4f} Å | within 0.1 Å |")
    print(f"| the same, within each frame before correction (the network's own error) | {np.sqrt(np.mean(own[own < 0.5]**2)):.4f} / "
          f"{np.percentile(own[own < 0.5], 95):.4f} / {np.percentile(own[own < 0.5], 99):.4f} Å | |")
    print(f"| uncorrected positions against frame 0, median | {np.median(distance['uncorrected']):.3f} Å | |")


if __name__ == "__main__":
    main()
