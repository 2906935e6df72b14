"""Per-class F1 of the shipped species models on held-out simulated sets at fixed doses.

Each set is a workflow folder whose ``results/{simulations,structures}/test/`` hold a test
dataset simulated with the model's preset, its held-out seed and one fixed dose
(``--configfile config/presets/<model>.yaml dose.yaml`` with ``simulation: {dose: D}``; the
other draws stay the same, so every dose shows the same structures). Every image goes the way
a user's does (:func:`atomscope.inference.predict.predict_maps` at the image's pixel size,
then :func:`~atomscope.inference.predict.detect_sites`); each detected column counts for its
class alone (:func:`atomscope.labels.species_scores`, 0.5 Å match radius, 1 Å border), pooled
over the images, per material.

    python benchmarks/species/run.py MODEL SET [SET ...] > table.md
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import torch

from atomscope.inference.predict import class_channels, detect_sites, map_names, predict_maps, site_species
from atomscope.io import ImageGrid, read_table
from atomscope.labels import projected_columns, sites_in_view, species_scores
from atomscope.nets import load_model

MATCH_RADIUS, BORDER = 0.5, 1.0


def score_set(folder: Path, spec, net) -> pd.DataFrame:
    """tp, fp, fn per material and class over the images of one set."""
    sites = read_table(folder / "results/structures/test/0.parquet")
    models = read_table(folder / "results/structures/test/0.models.parquet").set_index("model")
    rows = []
    with h5py.File(folder / "results/simulations/test/0.h5", "r") as f:
        images, sampling, model_ids = f["images"][:].astype(np.float32), f["sampling"][:], f["model"][:]
    for channels, s, model in zip(images, sampling, model_ids):
        image = channels[0]  # the frame, or a focal series' first defocus: its grid is the series'
        _, maps = predict_maps(channels if len(channels) > 1 else image, float(s), net, spec, device=torch.device("cpu"))
        found = detect_sites(
            maps, target_names=map_names(spec), model_sampling=spec.pixel_size, image_sampling=float(s),
            threshold=0.4, min_distance=0.7, species=site_species(spec), classes=class_channels(spec),
        )
        grid = ImageGrid(image.shape, float(s))
        truth = projected_columns(sites_in_view(sites[sites["model"] == model], (models.at[model, "cell_x"], models.at[model, "cell_y"]), grid))
        truth = truth[truth["kind"].isin(["atom", "vacancy"]) & (truth["species_class"] != "contamination")]
        scores = species_scores(found, truth, grid=grid, match_radius=MATCH_RADIUS, border=BORDER)
        rows.append(scores.assign(material=models.at[model, "material"]))
    return pd.concat(rows, ignore_index=True).groupby(["material", "species"])[["tp", "fp", "fn"]].sum().reset_index()


def main() -> None:
    model, sets = sys.argv[1], [Path(p) for p in sys.argv[2:]]
    torch.set_num_threads(1)
    spec, net = load_model(model)
    tables = []
    for folder in sets:
        dose = float(read_table(folder / "results/simulations/test/0.parquet")["dose"].iloc[0])
        tables.append(score_set(folder, spec, net).assign(dose=dose))
    table = pd.concat(tables, ignore_index=True)
    table["f1"] = 2 * table["tp"] / (2 * table["tp"] + table["fp"] + table["fn"])
    table["columns"] = table["tp"] + table["fn"]
    wide = table.pivot_table(index=["material", "species"], columns="dose", values="f1")
    counts = table.pivot_table(index=["material", "species"], columns="dose", values="columns").max(axis=1).fillna(0).astype(int)
    wide.columns = [f"F1 at {d:.0e} e/Å²" for d in wide.columns]
    wide.insert(0, "true columns per dose", counts)
    print(wide.reset_index().to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
