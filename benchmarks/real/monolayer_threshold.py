"""Does another ``inference.monolayer_threshold`` bring the monolayer head to the hand-drawn
contamination masks? Mean IoU of the predicted non-monolayer regions over the 20 images of
../shared/data/graphene_contamination/ at thresholds 0.30-0.95, from one `atomscope analyse`
run per image at the defaults (pixel size from the lattice, as in run.py): the recorded maps
are thresholded again, which is what `--monolayer-threshold T` does.

A second table bounds every thresholding rule on this head's maps from above: the IoU with the
best threshold of each image, chosen on that image's own mask (which no rule can know), after
Gaussian smoothing of the map over 0-8 Å; and one rule that needs no tuning, a per-image Otsu
threshold (:func:`skimage.filters.threshold_otsu`).

This is a check of the decision rule, not a way to pick it: the default stays what the
simulations and the head's training give (benchmarks/detection/monolayer.md), and no value here
is taken into the code.

    python benchmarks/real/monolayer_threshold.py > benchmarks/real/monolayer_threshold.md
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.filters import threshold_otsu

import run as real  # benchmarks/real/run.py: the same images, analyse call and IoU
from atomscope.inference import monolayer_mask
from atomscope.io import ImageGrid
from atomscope.labels import MONOLAYER

THRESHOLDS = [round(0.3 + 0.05 * k, 2) for k in range(14)]
ORACLE_THRESHOLDS = np.linspace(0.05, 0.95, 37)  # the per-image best is searched among these
SMOOTHING = [0.0, 1.0, 2.0, 4.5, 8.0]  # Gaussian sigma [Å] of the map before the per-image best threshold


def with_mean(rows: list[dict]) -> pd.DataFrame:
    """The rows with a last row of their means."""
    table = pd.DataFrame(rows)
    return pd.concat([table, pd.DataFrame([{"image": "**mean**", **table.drop(columns="image").mean().to_dict()}])], ignore_index=True)


def bounds(p: np.ndarray, image: ImageGrid, model: ImageGrid, truth: np.ndarray) -> dict:
    """IoU of the best per-image threshold after each smoothing, and of the Otsu threshold, for
    one p(monolayer) map ``p`` on the ``model`` grid against ``truth`` on the ``image`` grid."""
    row = {}
    for sigma in SMOOTHING:
        smooth = ndimage.gaussian_filter(p, sigma / model.sampling, mode="nearest") if sigma else p
        row[f"best, σ {sigma:g} Å"] = max(real.iou(~image.take(smooth >= t, model), truth) for t in ORACLE_THRESHOLDS)
    row["Otsu"] = real.iou(~image.take(p >= threshold_otsu(p), model), truth)
    return row


def main() -> None:
    rows, upper = [], []
    for image_path, truth, result in real.contamination_results():
        image, model = (ImageGrid.from_attrs(result["attrs"][key]) for key in ("image_grid", "model_grid"))
        names = result["attrs"]["target_names"]
        row = {"image": image_path.stem[:32]}
        for threshold in THRESHOLDS:
            predicted = ~image.take(monolayer_mask(result["maps"][0], names, threshold), model)
            row[f"{threshold:.2f}"] = real.iou(predicted, truth)
        rows.append(row)
        p = result["maps"][0, names.index(MONOLAYER)].astype(np.float64)
        upper.append({"image": row["image"], **bounds(p, image, model, truth)})
    print("# The monolayer threshold on the real contamination masks\n")
    print("`python benchmarks/real/monolayer_threshold.py > benchmarks/real/monolayer_threshold.md` (carbon_hrtem, defaults otherwise).")
    print("IoU of the predicted non-monolayer regions against the hand-drawn masks, by `inference.monolayer_threshold`:\n")
    print(with_mean(rows).to_markdown(index=False, floatfmt=".2f"))
    print("\n## Upper bounds of thresholding this head's map\n")
    print(f"IoU with each image's best threshold (of {len(ORACLE_THRESHOLDS)} from {ORACLE_THRESHOLDS[0]:.2f} to "
          f"{ORACLE_THRESHOLDS[-1]:.2f}, chosen on its own mask) after Gaussian smoothing of p(monolayer) by σ, "
          "and with a per-image Otsu threshold of the unsmoothed map:\n")
    print(with_mean(upper).to_markdown(index=False, floatfmt=".2f"))


if __name__ == "__main__":
    main()
