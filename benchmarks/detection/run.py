"""Accuracy and timing of the default run, from a finished `snakemake --cores all`.

For every sample with ground truth: detection F1 / precision / recall / localisation error
of atoms and polygon centres, and the structure statistics (bonds, angles, rings) computed
the same way from the detected and from the true sites. Then the wall time of every rule
from Snakemake's own benchmark files. Writes Markdown to stdout.

    python benchmarks/detection/run.py [RESULTS_ROOT] > benchmarks/detection/results.md
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from atomscope.geometry import analyse_frames
from atomscope.io import ImageGrid, read_arrays, read_sample_sheet, read_table


def structure_statistics(sites: pd.DataFrame, region: tuple[float, float, float, float]) -> dict[str, float]:
    tables = analyse_frames(sites[["kind", "x", "y"]], region=region)
    bonds, angles, rings = tables["bonds"], tables["angles"], tables["rings"]
    sizes = rings.loc[rings["complete"], "size"].value_counts(normalize=True)
    return {
        "bonds": len(bonds),
        "bond mean (Å)": bonds["length"].mean(),
        "bond std (Å)": bonds["length"].std(),
        "angle std (deg)": angles["angle"].std(),
        "complete rings": int(rings["complete"].sum()),
        **{f"{k}-rings": sizes.get(k, 0.0) for k in (5, 6, 7)},
    }


def main(root: Path) -> None:
    sheet = read_sample_sheet(root / "config" / "samples.tsv")
    scores, structure = [], []
    for sample, truth in sheet.loc[sheet["truth"].notna(), ["sample", "truth"]].itertuples(index=False):
        scores.append(read_table(root / f"results/evaluation/{sample}.parquet"))
        _, attrs = read_arrays(root / f"results/inference/{sample}/maps.h5", [])
        region = ImageGrid.from_attrs(attrs["image_grid"]).region()
        detected = read_table(root / f"results/inference/{sample}/sites.parquet")
        for source, sites in (("true sites", read_table(root / truth)), ("detected sites", detected)):
            structure.append({"sample": sample, "from": source, **structure_statistics(sites, region)})
    scores = pd.concat(scores, ignore_index=True)
    pooled = scores.groupby("kind")[["tp", "fp", "fn"]].sum()
    pooled["f1"] = 2 * pooled["tp"] / (2 * pooled["tp"] + pooled["fp"] + pooled["fn"])
    pooled["rmse (Å)"] = scores.groupby("kind").apply(lambda t: (t["rmse"] ** 2 * t["tp"]).sum() / t["tp"].sum()) ** 0.5
    print("## Detection on the simulated test images (seed never seen in training)\n")
    print(scores[["sample", "kind", "precision", "recall", "f1", "rmse"]].to_markdown(index=False, floatfmt=".4f"))
    print("\nPooled over the images:\n")
    print(pooled.to_markdown(floatfmt=".4f"))
    print("\n## Structure statistics: detected sites against the true sites, same triangulation\n")
    print(pd.DataFrame(structure).to_markdown(index=False, floatfmt=".3f"))
    print("\n## Wall time per job (Snakemake benchmark files)\n")
    rows = [
        {"job": str(path.relative_to(root / "benchmarks/runs").with_suffix("")), "seconds": pd.read_csv(path, sep="\t")["s"].iloc[0]}
        for path in sorted((root / "benchmarks/runs").rglob("*.tsv"))
    ]
    times = pd.DataFrame(rows)
    times["rule"] = times["job"].str.split("/").str[0]
    print(times.groupby("rule")["seconds"].agg(["count", "sum", "max"]).sort_values("sum", ascending=False).to_markdown(floatfmt=".1f"))
    print(f"\nSum of job times: {times['seconds'].sum():.0f} s (2 cores run jobs side by side).")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
