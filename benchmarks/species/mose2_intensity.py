"""Are the MoSe2 image's "Se" columns misread Se2 columns, or Se2 columns with one Se missing?

The ADF intensity of each column classified by tmd_stem (``--elements Mo,Se``): the image minus
a 30 px Gaussian background, averaged over a 0.4 Å disk at the column. Misread Se2 columns
would sit in the dim tail of the Se2 distribution; single-Se columns form their own
population.

Run: ``python benchmarks/species/mose2_intensity.py > benchmarks/species/mose2_intensity.md``
(runs ``atomscope analyse`` on the image first)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from scipy import ndimage

from atomscope.inference import read_micrograph

HERE = Path(__file__).resolve().parent
IMAGE = HERE.parents[1].parent / "shared" / "data" / "mose2_stem_grain_boundary.tif"
RADIUS = 0.4  # Å


def column_intensities(image: np.ndarray, sampling: float, x_px: np.ndarray, y_px: np.ndarray) -> np.ndarray:
    """Mean background-removed intensity within :data:`RADIUS` of each column (NaN near the edge)."""
    flat = image.astype(float) - ndimage.gaussian_filter(image.astype(float), 30)
    half = int(np.ceil(RADIUS / sampling))
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    disk = (xx**2 + yy**2) * sampling**2 <= RADIUS**2
    out = np.full(len(x_px), np.nan)
    for k, (x, y) in enumerate(zip(np.rint(x_px).astype(int), np.rint(y_px).astype(int))):
        if half <= y < flat.shape[0] - half and half <= x < flat.shape[1] - half:
            out[k] = flat[y - half : y + half + 1, x - half : x + half + 1][disk].mean()
    return out


def main() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("real", HERE / "real.py")
    real = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(real)
    with tempfile.TemporaryDirectory() as tmp:
        sites = real.analyse(IMAGE, "tmd_stem", "auto:MoSe2", Path(tmp) / "mose2", "Mo,Se")["sites"]
    micrograph = read_micrograph(IMAGE, pixel_size="auto:MoSe2")
    columns = sites[sites["kind"].isin(["atom", "vacancy"]) & sites["species"].astype(str).ne("")]
    intensity = column_intensities(micrograph.frames[0], micrograph.sampling, columns["x_px"].to_numpy(), columns["y_px"].to_numpy())
    columns = columns.assign(intensity=intensity).dropna(subset=["intensity"])
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
