"""Atom detection against dose: the shipped models, other trained models and a classical baseline.

Test images are drawn from each recipe (config/presets/carbon_hrtem.yaml, carbon_stem.yaml)
with a seed training never saw, monolayer only (no contamination, no second layer: every
atom in view is scored), and recorded at doses 1e2 ... 1e6 e/Å² (HRTEM) or 1e4 ... 1e8 e/Å²
(ADF-STEM, whose counts per pixel at a dose are ~20x lower); every other drawn parameter is
the same at every dose. The baseline is what Atomap does: Gaussian filter, local maxima
(peak_local_max) and a 2D Gaussian fit (atomscope.labels.find_peaks), on the image or its
negative (dark atoms), with the filter width, polarity and threshold tuned on these very test
images, per dose (the best F1 of the grid): a generous baseline.

Usage (project root):

    python benchmarks/detection/dose.py [MODEL_FILE ...] > benchmarks/detection/dose.md

Without model files, the shipped carbon_hrtem and carbon_stem are scored on their recipes;
each model file given is scored on the recipe its spec names (recipe.preset).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from scipy import ndimage

from atomscope._shared.config import with_defaults
from atomscope._shared.normalisation import standardise
from atomscope.config import defaults
from atomscope.inference.predict import detect_sites, predict_maps
from atomscope.io import ImageGrid
from atomscope.labels import channel_sites, find_peaks, scores_in_view, sites_in_view
from atomscope.nets import load_model, resolve_model
from atomscope.simulation.microscope import draw_microscope, simulate_model
from atomscope.structures import build_shard

ROOT = Path(__file__).resolve().parents[2]
N_IMAGES = 6
DOSES = {"carbon_hrtem": [1e2, 1e3, 1e4, 1e5, 1e6], "carbon_stem": [1e4, 1e5, 1e6, 1e7, 1e8]}
SEED = 4242
MATCH = 0.5  # Å
BORDER = 1.0  # Å: true sites this close to the edge are not scored (half cut columns)


def recipe(preset: str) -> tuple[dict, dict]:
    """The structures (monolayer only) and simulation sections of a preset."""
    values = yaml.safe_load((ROOT / "config" / "presets" / f"{preset}.yaml").read_text())
    structures = with_defaults(values["structures"], defaults("structures"))
    structures["contamination"]["count"] = [0, 0]
    structures["bilayer"]["probability"] = 0.0
    simulation = with_defaults(values["simulation"], defaults("simulation"))
    simulation["targets"] = {"monolayer": False, "species": []}
    simulation["coarse_recording"]["probability"] = 0.0  # at the recipe's own pixels: the doses are the only change
    return structures, simulation


def test_images(preset: str) -> list[dict]:
    """Per dose, per image: the recorded image, its sampling and the true atoms (x, y) [Å] in view."""
    structures, simulation = recipe(preset)
    rng = np.random.default_rng(SEED)
    sites, models = build_shard(structures, n_models=N_IMAGES, first_model=0, rng=rng)
    images = []
    for model in models.itertuples(index=False):
        params = draw_microscope(simulation, rng)
        own = sites[sites["model"] == model.model]
        for dose in DOSES[preset]:
            image, _, sampling = simulate_model(own, (model.cell_x, model.cell_y), {**params, "dose": dose}, simulation, rng=np.random.default_rng([SEED, model.model]))
            grid = ImageGrid(image.shape[-2:], sampling)
            view = sites_in_view(own, (model.cell_x, model.cell_y), grid)
            atoms = view.loc[channel_sites(view, "atoms"), ["x", "y"]].to_numpy()
            images.append({"dose": dose, "image": image[0], "sampling": sampling, "truth": atoms, "grid": grid})
    return images


def score(found: np.ndarray, item: dict) -> dict:
    """Detections matched to the truth within MATCH, counted away from the border."""
    return scores_in_view(found, item["truth"], grid=item["grid"], radius=MATCH, border=BORDER)


def network(item: dict, spec, net) -> np.ndarray:
    _, maps = predict_maps(item["image"], item["sampling"], net, spec, device=torch.device("cpu"))
    sites = detect_sites(maps, target_names=spec.head_names, model_sampling=spec.pixel_size, image_sampling=item["sampling"], threshold=0.4, min_distance=0.7)
    return sites.loc[sites["kind"] == "atom", ["x", "y"]].to_numpy()


def baseline(item: dict, sigma: float, sign: float, threshold: float) -> np.ndarray:
    """Gaussian filter (sigma [Å]), peaks above ``threshold`` (in standard deviations), 2D Gaussian refinement."""
    s = item["sampling"]
    smooth = standardise(sign * ndimage.gaussian_filter(item["image"].astype(float), sigma / s)[None])[0]
    peaks = find_peaks(smooth - smooth.min(), min_distance_px=max(1, int(0.7 / s)), threshold=threshold - smooth.min())
    return peaks[["x_px", "y_px"]].to_numpy() * s


def pooled(results: list[dict]) -> dict:
    tp, fp, fn = (sum(r[k] for r in results) for k in ("tp", "fp", "fn"))
    rmse = np.sqrt(sum(r["rmse"] ** 2 * r["tp"] for r in results if r["tp"]) / max(tp, 1))
    return {"f1": 2 * tp / max(1, 2 * tp + fp + fn), "rmse_pm": 100 * rmse}


def main(model_files: list[str]) -> None:
    entries = [(str(resolve_model(p)), load_model(resolve_model(p))) for p in model_files or ["carbon_hrtem", "carbon_stem"]]
    print("# Atom detection against dose\n")
    print(f"`python benchmarks/detection/dose.py {' '.join(model_files)}`; {N_IMAGES} test images per recipe (seed {SEED}), "
          f"each at every dose; match radius {MATCH} Å, {BORDER} Å border left out; 2-core CPU.\n")
    for preset in sorted({spec.recipe.preset for _, (spec, _) in entries}):
        start = time.perf_counter()
        items = test_images(preset)
        rows = []
        for dose in DOSES[preset]:
            at_dose = [item for item in items if item["dose"] == dose]
            row = {"dose (e/Å²)": f"{dose:.0e}"}
            for path, (spec, net) in entries:
                if spec.recipe.preset != preset:
                    continue
                result = pooled([score(network(item, spec, net), item) for item in at_dose])
                name = f"{Path(path).stem} ({spec.architecture})"
                row[f"{name} F1"], row[f"{name} RMSE (pm)"] = result["f1"], result["rmse_pm"]
            grid = [(sigma, sign, t) for sigma in (0.2, 0.3, 0.45, 0.6) for sign in (1.0, -1.0) for t in (0.0, 0.5, 1.0)]
            tuned = max((pooled([score(baseline(item, *g), item) for item in at_dose]) | {"g": g} for g in grid), key=lambda r: r["f1"])
            row["baseline F1"], row["baseline RMSE (pm)"] = tuned["f1"], tuned["rmse_pm"]
            row["baseline (sigma Å, sign, threshold)"] = str(tuned["g"])
            rows.append(row)
        print(f"## {preset} ({time.perf_counter() - start:.0f} s)\n")
        print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
