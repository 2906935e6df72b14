"""Does another ``inference.monolayer_threshold`` bring the monolayer head to the hand-drawn
contamination masks? Mean IoU of the predicted non-monolayer regions over the 20 images of
../shared/data/graphene_contamination/ at thresholds 0.30-0.95, from one `atomscope analyse`
run per image at the defaults (pixel size from the lattice, as in run.py): the recorded maps
are thresholded again, which is what `--monolayer-threshold T` does.

This is a check of the decision rule, not a way to pick it: the default stays what the
simulations and the head's training give (benchmarks/detection/monolayer.md), and no value here
is taken into the code.

    python benchmarks/real/monolayer_threshold.py > benchmarks/real/monolayer_threshold.md
"""

from __future__ import annotations

import pandas as pd

import run as real  # benchmarks/real/run.py: the same images, analyse call and IoU
from atomscope.inference import monolayer_mask
from atomscope.io import ImageGrid

THRESHOLDS = [round(0.3 + 0.05 * k, 2) for k in range(14)]


def main() -> None:
    rows = []
    for image_path, truth, result in real.contamination_results():
        image, model = (ImageGrid.from_attrs(result["attrs"][key]) for key in ("image_grid", "model_grid"))
        row = {"image": image_path.stem[:32]}
        for threshold in THRESHOLDS:
            predicted = ~image.take(monolayer_mask(result["maps"][0], result["attrs"]["target_names"], threshold), model)
            row[f"{threshold:.2f}"] = real.iou(predicted, truth)
        rows.append(row)
    table = pd.DataFrame(rows)
    table = pd.concat([table, pd.DataFrame([{"image": "**mean**", **table.drop(columns="image").mean().to_dict()}])], ignore_index=True)
    print("# The monolayer threshold on the real contamination masks\n")
    print("`python benchmarks/real/monolayer_threshold.py > benchmarks/real/monolayer_threshold.md` (carbon_hrtem, defaults otherwise).")
    print("IoU of the predicted non-monolayer regions against the hand-drawn masks, by `inference.monolayer_threshold`:\n")
    print(table.to_markdown(index=False, floatfmt=".2f"))


if __name__ == "__main__":
    main()
