"""DAG construction time of the workflow at cluster scale: ``snakemake -n`` over S train shards and
N samples (every sample with a truth file, so every per-sample rule is in the DAG).

The samples' images and truths are empty files in a scratch folder: a dry run only checks that
they exist. Each case runs in its own scratch folder with config/config.yaml (the default
config, ``datasets.train.images`` = S x ``shard_size``) and a sheet of N rows.

Run (repository root): ``PYTHONPATH=src python benchmarks/scale/dag.py 500:1000 5000:10000``
``--groups`` adds the groups and group sizes of workflow/profiles/slurm (a cluster run's DAG);
``--model NAME`` sets ``training.model`` (a shipped model: no training in the DAG);
``--samples-per-job K`` sets ``analysis.samples_per_job`` (K samples per analysis job);
``--profile FILE`` writes a cProfile of the last case to FILE instead of timing in a subprocess.
"""

from __future__ import annotations

import argparse
import cProfile
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def make_case(folder: Path, shards: int, samples: int, model: str | None = None, per_job: int = 0) -> None:
    """config/config.yaml and config/samples.tsv for ``shards`` train shards and ``samples`` samples,
    ``per_job`` samples per analysis job (0: a job per stage and sample)."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["datasets"]["train"]["images"] = shards * config["datasets"]["train"]["shard_size"]
    config["training"]["model"] = model or config["training"]["model"]
    config["analysis"]["samples_per_job"] = per_job
    (folder / "config").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    rows = ["sample\tpath\tpixel_size\ttruth"]
    for i in range(samples):
        image, truth = folder / "data" / f"{i}.tif", folder / "data" / f"{i}.truth.parquet"
        image.touch()
        truth.touch()
        rows.append(f"s{i}\t{image}\t0.1\t{truth}")
    (folder / "config" / "samples.tsv").write_text("\n".join(rows) + "\n")


def command(folder: Path, groups: bool) -> list[str]:
    """``snakemake -n`` of the folder's config, with the SLURM profile's groups if ``groups``."""
    base = [sys.executable, "-m", "snakemake", "-n", "--quiet", "all", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(folder)]
    if not groups:
        return base
    profile = yaml.safe_load((ROOT / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())
    return base + ["--groups", *profile["groups"], "--group-components", *profile["group-components"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+", help="SHARDS:SAMPLES")
    parser.add_argument("--groups", action="store_true", help="with the SLURM profile's groups")
    parser.add_argument("--model", help="training.model (e.g. carbon_hrtem, a shipped model)")
    parser.add_argument("--samples-per-job", type=int, default=0, help="analysis.samples_per_job (0: a job per stage and sample)")
    parser.add_argument("--profile", help="cProfile output of the last case (in-process)")
    args = parser.parse_args()
    print("| train shards | samples | samples per job | groups | training.model | jobs | `snakemake -n` [s] |\n|---|---|---|---|---|---|---|")
    for case in args.cases:
        shards, samples = (int(v) for v in case.split(":"))
        with tempfile.TemporaryDirectory() as tmp:
            make_case(Path(tmp), shards, samples, args.model, args.samples_per_job)
            if args.profile and case == args.cases[-1]:
                from snakemake.cli import main as snakemake_main

                sys.argv = command(Path(tmp), args.groups)[2:]
                sys.argv[0] = "snakemake"
                _profile(snakemake_main, args.profile)
                continue
            began = time.perf_counter()
            result = subprocess.run(command(Path(tmp), args.groups), capture_output=True, text=True)
            seconds = time.perf_counter() - began
            if result.returncode != 0:
                sys.exit(result.stderr[-3000:])
            jobs = next((line.split()[-1] for line in result.stdout.splitlines() if line.startswith("total")), "?")
            mode = "profile's" if args.groups else "none"
            print(f"| {shards:,} | {samples:,} | {args.samples_per_job or 'each stage its own'} | {mode} | {args.model or 'trained here'} | {jobs} | {seconds:.1f} |", flush=True)


def _profile(run, path: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run()
    except SystemExit:
        pass
    profiler.disable()
    profiler.dump_stats(path)


if __name__ == "__main__":
    main()
