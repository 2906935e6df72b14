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

from atomscope.geometry import analyse_frames, ring_size_fractions
from atomscope.io import ImageGrid, read_arrays, read_sample_sheet, read_table

#: Ring sizes reported (the amorphous test images hold 4- to 9-rings).
SIZES = range(3, 11)


def structure_statistics(sites: pd.DataFrame, region: tuple[float, float, float, float]) -> tuple[dict[str, float], pd.DataFrame]:
    """Bond and angle moments, and the complete rings of one image, from its sites."""
    tables = analyse_frames(sites[["kind", "x", "y"]], region=region)
    bonds, angles, rings = tables["bonds"], tables["angles"], tables["rings"]
    record = {
        "bonds": len(bonds),
        "bond mean (Å)": bonds["length"].mean(),
        "bond std (Å)": bonds["length"].std(),
        "angle std (deg)": angles["angle"].std(),
        "complete rings": int(rings["complete"].sum()),
    }
    return record, rings


def ring_columns(rings: pd.DataFrame) -> dict[str, str]:
    """'fraction ± binomial error' of every ring size."""
    fractions = ring_size_fractions(rings, sizes=SIZES)
    return {f"{k}": f"{row.fraction:.3f} ± {row.error:.3f}" for k, row in fractions.iterrows()}


def main(root: Path) -> None:
    sheet = read_sample_sheet(root / "config" / "samples.tsv")
    scores, structure, ring_rows = [], [], []
    rings_of: dict[str, dict[str, pd.DataFrame]] = {}  # sample -> source -> rings
    for sample, truth in sheet.loc[sheet["truth"].notna(), ["sample", "truth"]].itertuples(index=False):
        scores.append(read_table(root / f"results/evaluation/{sample}.parquet"))
        _, attrs = read_arrays(root / f"results/inference/{sample}/maps.h5", [])
        region = ImageGrid.from_attrs(attrs["image_grid"]).region()
        detected = read_table(root / f"results/inference/{sample}/sites.parquet")
        for source, sites in (("true sites", read_table(root / truth)), ("detected sites", detected)):
            record, rings = structure_statistics(sites, region)
            structure.append({"sample": sample, "from": source, **record})
            ring_rows.append({"sample": sample, "from": source, **ring_columns(rings)})
            rings_of.setdefault(sample, {})[source] = rings[["size", "complete"]]
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
    print("\nFraction of complete rings by size, ± binomial counting error (sqrt(f (1 - f) / N)):\n")
    print(pd.DataFrame(ring_rows).to_markdown(index=False))
    sources = ("true sites", "detected sites")
    pooled_fractions = {source: ring_size_fractions(pd.concat([r[source] for r in rings_of.values()]), sizes=SIZES) for source in sources}
    table = pd.DataFrame(
        {
            "true": pooled_fractions["true sites"]["fraction"],
            "detected": pooled_fractions["detected sites"]["fraction"],
            "counting error": pooled_fractions["true sites"]["error"],
        }
    )
    table["detected - true"] = table["detected"] - table["true"]
    print("\nPooled over the images (rings of all four counted together):\n")
    print(table.to_markdown(floatfmt=".3f"))
    print(f"\nLargest |detected - true| over ring sizes: pooled {table['detected - true'].abs().max():.3f}; per image below.\n")
    per_image = []
    for sample, rings in rings_of.items():
        true, found = (ring_size_fractions(rings[source], sizes=SIZES)["fraction"] for source in sources)
        per_image.append({"sample": sample, "max |detected - true|": float((found - true).abs().max()), "complete rings (true)": int(rings["true sites"]["complete"].sum())})
    print(pd.DataFrame(per_image).to_markdown(index=False, floatfmt=".3f"))
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
