"""Score the detected sites of one sample against its ground truth.

Inputs: ``sites`` (detections), ``maps`` (for the image size), ``truth`` (Parquet: kind, x,
y [Å]). Output: ``scores`` (Parquet: precision, recall, F1, localisation error per frame and
kind). Config: ``evaluation``.
"""

import pandas as pd

from atomscope.io import ImageGrid, read_arrays, read_table, write_table
from atomscope.labels import score_sites
from atomscope.logs import configure_logging

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    cfg = snakemake.params.evaluation
    sites = read_table(snakemake.input.sites)
    truth = read_table(snakemake.input.truth, columns=["kind", "x", "y"])
    _, attrs = read_arrays(snakemake.input.maps, [])
    grid = ImageGrid.from_attrs(attrs["image_grid"])
    tables = [
        score_sites(frame_sites, truth, grid=grid, match_radius=cfg["match_radius"], border=cfg["border"]).assign(frame=frame)
        for frame, frame_sites in sites.groupby("frame")
    ]
    scores = pd.concat(tables, ignore_index=True).assign(sample=snakemake.wildcards.sample)
    write_table(scores, snakemake.output.scores, config={"evaluation": cfg}, units={"rmse": "Å"})
    log.info("%s", scores[["kind", "precision", "recall", "f1", "rmse"]].to_string(index=False))
