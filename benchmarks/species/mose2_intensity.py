"""Are the MoSe2 image's "Se" columns misread Se2 columns, or Se2 columns with one Se missing?

The ADF intensity of each column classified by tmd_stem (``--elements Mo,Se``): the image minus
a 30 px Gaussian background, averaged over a 0.4 Å disk at the column
(``labels.classes.disk_means``, as the species head's probabilities are). Misread Se2 columns
would sit in the dim tail of the Se2 distribution; single-Se columns form their own
population.

Run: ``python benchmarks/species/mose2_intensity.py > benchmarks/species/mose2_intensity.md``
(runs ``atomscope analyse`` on the image first)
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
from scipy import ndimage

from atomscope.inference import read_micrograph
from atomscope.labels.classes import disk_means

HERE = Path(__file__).resolve().parent
IMAGE = HERE.parents[1].parent / "shared" / "data" / "mose2_stem_grain_boundary.tif"
RADIUS = 0.4  # Å


def main() -> None:
    spec = importlib.util.spec_from_file_location("real", HERE / "real.py")
    real = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(real)
    with tempfile.TemporaryDirectory() as tmp:
        sites = real.analyse(IMAGE, "tmd_stem", "auto:MoSe2", Path(tmp) / "mose2", "Mo,Se")["sites"]
    micrograph = read_micrograph(IMAGE, pixel_size="auto:MoSe2")
    columns = sites[sites["kind"].isin(["atom", "vacancy"]) & sites["species"].astype(str).ne("")]
    image = micrograph.frames[0].astype(float)
    flat = image - ndimage.gaussian_filter(image, 30)
    columns = columns.assign(intensity=disk_means(flat[None], columns[["x_px", "y_px"]].to_numpy(), RADIUS / micrograph.sampling)[:, 0])
    print("# MoSe2: intensity of the columns by class\n")
    print("Command: `python benchmarks/species/mose2_intensity.py > benchmarks/species/mose2_intensity.md`\n")
    table = columns.groupby("species")["intensity"].describe()[["count", "mean", "std", "25%", "50%", "75%"]]
    print(table.to_markdown(floatfmt=".1f"))
    chalcogen = columns[columns["species"].isin(["Se", "Se2"])]["intensity"].to_numpy()
    counts, edges = np.histogram(chalcogen, bins=25)
    print("\nHistogram of the chalcogen columns (Se and Se2) [background-removed counts]:\n")
    print("| from | columns |\n|---:|---:|")
    for low, n in zip(edges[:-1], counts):
        print(f"| {low:.1f} | {n} |")
    se, se2 = (columns.loc[columns["species"] == name, "intensity"] for name in ("Se", "Se2"))
    print(f"\nSe median / Se2 median: {se.median() / se2.median():.2f}; Se2 columns below the highest Se quartile "
          f"({se.quantile(0.75):.1f}): {(se2 < se.quantile(0.75)).sum()} of {len(se2)}.")


if __name__ == "__main__":
    main()
