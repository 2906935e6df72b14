"""The monolayer head on held-out simulated images: how well it finds what is not monolayer.

Each set is a workflow folder whose ``results/simulations/test/0.h5`` holds a test dataset of
a carbon recipe (``--configfile config/presets/carbon_hrtem.yaml``, its held-out seed), with
contamination, pores and partial second layers as the recipe draws them. Every image goes the
way a user's does (:func:`atomscope.inference.predict.predict_maps` at the image's pixel size);
the head's map (>= ``inference.monolayer_threshold``, 0.5 by default: monolayer) is taken back
onto the image's pixels and compared with the image's ``monolayer`` target. Printed per model and set: the intersection over union of the
non-monolayer pixels pooled over the images, its mean over the images with >= 5 % of them
non-monolayer, and the share of the true non-monolayer pixels the head finds (recall) and of
the pixels it calls non-monolayer that are (precision). A second table gives the pooled IoU at
thresholds from 0.30 to 0.95.

    python benchmarks/detection/monolayer.py MODEL [MODEL ...] -- SET [SET ...] > table.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import torch

from atomscope.config import defaults
from atomscope.inference.predict import map_names, monolayer_mask, predict_maps
from atomscope.io import ImageGrid
from atomscope.labels import MONOLAYER
from atomscope.nets import load_model

THRESHOLD = defaults("inference")["monolayer_threshold"]  # what `atomscope analyse` and the workflow use
SWEEP = [round(0.3 + 0.05 * k, 2) for k in range(14)]  # thresholds 0.30-0.95 for the second table; holds THRESHOLD
MIN_SHARE = 0.05  # images with at least this share of non-monolayer pixels enter the per-image mean


def score_set(folder: Path, model: str, spec, net) -> tuple[dict, dict]:
    """Pooled and per-image IoU, precision and recall of the non-monolayer pixels of one set at
    the default threshold, and the pooled IoU at each threshold of ``SWEEP``."""
    names = map_names(spec)
    with h5py.File(folder / "results/simulations/test/0.h5", "r") as f:
        images, sampling, targets = f["images"][:, 0].astype(np.float32), f["sampling"][:], f["targets"][:]
        truth_channel = json.loads(f.attrs["target_names"]).index(MONOLAYER)
    both, found, union = (np.zeros(len(SWEEP)) for _ in range(3))
    true = 0
    per_image = []
    for image, s, target in zip(images, sampling, targets):
        _, maps = predict_maps(image, float(s), net, spec, device=torch.device("cpu"))
        grid, model_grid = ImageGrid(image.shape, float(s)), ImageGrid(maps.shape[-2:], spec.pixel_size)
        truth = target[truth_channel] < 0.5
        true += truth.sum()
        for k, threshold in enumerate(SWEEP):
            predicted = ~grid.take(monolayer_mask(maps, names, threshold), model_grid)
            both[k], found[k], union[k] = both[k] + (predicted & truth).sum(), found[k] + predicted.sum(), union[k] + (predicted | truth).sum()
            if threshold == THRESHOLD and truth.mean() >= MIN_SHARE:
                per_image.append((predicted & truth).sum() / (predicted | truth).sum())
    k = SWEEP.index(THRESHOLD)
    row = {
        "model": Path(model).stem, "set": folder.name, "images": len(images), "non-monolayer share": true / images.size,
        "IoU (pooled)": both[k] / union[k], f"mean IoU (images >= {MIN_SHARE:.0%} non-monolayer)": np.mean(per_image),
        "images in the mean": len(per_image), "precision": both[k] / max(found[k], 1), "recall": both[k] / true,
    }
    return row, {"model": Path(model).stem, "set": folder.name, **{f"{t:.2f}": b / u for t, b, u in zip(SWEEP, both, union)}}


def main() -> None:
    split = sys.argv.index("--")
    models, sets = sys.argv[1:split], [Path(p) for p in sys.argv[split + 1 :]]
    torch.set_num_threads(2)
    rows, sweeps = [], []
    for model in models:
        spec, net = load_model(model)  # once per model, not once per set
        for row, sweep in (score_set(folder, model, spec, net) for folder in sets):
            rows.append(row)
            sweeps.append(sweep)
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))
    print(f"\nPooled IoU by `inference.monolayer_threshold` (default {THRESHOLD}):\n")
    print(pd.DataFrame(sweeps).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
