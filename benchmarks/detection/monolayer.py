"""The monolayer head on held-out simulated images: how well it finds what is not monolayer.

Each set is a workflow folder whose ``results/simulations/test/0.h5`` holds a test dataset of
a carbon recipe (``--configfile config/presets/carbon_hrtem.yaml``, its held-out seed), with
contamination, pores and partial second layers as the recipe draws them. Every image goes the
way a user's does (:func:`atomscope.inference.predict.predict_maps` at the image's pixel size);
the head's map (>= 0.5: monolayer) is taken back onto the image's pixels and compared with the
image's ``monolayer`` target. Printed per model and set: the intersection over union of the
non-monolayer pixels pooled over the images, its mean over the images with >= 5 % of them
non-monolayer, and the share of the true non-monolayer pixels the head finds (recall) and of
the pixels it calls non-monolayer that are (precision).

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

from atomscope.inference.predict import map_names, predict_maps
from atomscope.io import ImageGrid
from atomscope.labels import MONOLAYER
from atomscope.nets import load_model

MIN_SHARE = 0.05  # images with at least this share of non-monolayer pixels enter the per-image mean


def score_set(folder: Path, model: str, spec, net) -> dict:
    """Pooled and per-image IoU, precision and recall of the non-monolayer pixels of one set."""
    head = map_names(spec).index(MONOLAYER)
    with h5py.File(folder / "results/simulations/test/0.h5", "r") as f:
        images, sampling, targets = f["images"][:, 0].astype(np.float32), f["sampling"][:], f["targets"][:]
        truth_channel = json.loads(f.attrs["target_names"]).index(MONOLAYER)
    both = found = true = union = 0
    per_image = []
    for image, s, target in zip(images, sampling, targets):
        _, maps = predict_maps(image, float(s), net, spec, device=torch.device("cpu"))
        grid = ImageGrid(image.shape, float(s))
        predicted = ~grid.take(maps[head] >= 0.5, ImageGrid(maps[head].shape, spec.pixel_size))
        truth = target[truth_channel] < 0.5
        both, found, true = both + (predicted & truth).sum(), found + predicted.sum(), true + truth.sum()
        union += (predicted | truth).sum()
        if truth.mean() >= MIN_SHARE:
            per_image.append((predicted & truth).sum() / (predicted | truth).sum())
    return {
        "model": Path(model).stem, "set": folder.name, "images": len(images), "non-monolayer share": true / images.size,
        "IoU (pooled)": both / union, f"mean IoU (images >= {MIN_SHARE:.0%} non-monolayer)": np.mean(per_image),
        "images in the mean": len(per_image), "precision": both / max(found, 1), "recall": both / true,
    }


def main() -> None:
    split = sys.argv.index("--")
    models, sets = sys.argv[1:split], [Path(p) for p in sys.argv[split + 1 :]]
    torch.set_num_threads(2)
    rows = []
    for model in models:
        spec, net = load_model(model)  # once per model, not once per set
        rows += [score_set(folder, model, spec, net) for folder in sets]
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
