"""One training run over simulated shards, in one process or data-parallel in several (torchrun),
as the train rule runs it (``atomscope.training.launch``); prints the learning curve and the speed.

Run (repository root), e.g. DDP on CPU, 2 processes against 1 on the same shards and steps:
``PYTHONPATH=src python benchmarks/scale/train_run.py DATA OUT --processes 1``, then ``--processes 2``.
DATA holds results/simulations/train/*.h5 and results/structures/train/*.parquet of a workflow run.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import yaml

from atomscope.io import read_table
from atomscope.training import launch

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--training", default="{}", help="YAML/JSON overrides of config/config.yaml's training section")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the whole job")
    args = parser.parse_args()
    training = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["training"]
    training.update(yaml.safe_load(args.training))
    shards = sorted((args.data / "results" / "simulations" / "train").glob("*.h5"), key=lambda p: int(p.stem))
    structures = args.data / "results" / "structures" / "train"
    args.out.mkdir(parents=True, exist_ok=True)
    job = {
        "images": [str(p) for p in shards],
        "sites": [str(structures / f"{p.stem}.parquet") for p in shards],
        "models": [str(structures / f"{p.stem}.models.parquet") for p in shards],
        "training": training, "preset": None, "model": str(args.out / "model.safetensors"),
        "metrics": str(args.out / "metrics.parquet"), "log": str(args.out / "train.log"), "threads": args.threads,
    }  # fmt: skip
    began = time.perf_counter()
    launch(job, args.processes)
    wall = time.perf_counter() - began
    metrics = read_table(job["metrics"])
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor() or platform.machine()
    summary = {
        "device": device, "torch": torch.__version__, "processes": args.processes, "shards": len(shards),
        "steps": training["steps"], "batch_size": training["batch_size"], "wall_s": round(wall, 1),
        "training_s": round(float(metrics["seconds"].iloc[-1]), 1),
        "steps_per_s": round(training["steps"] / float(metrics["seconds"].iloc[-1]), 2),
        "curve": metrics[[c for c in metrics.columns if c in ("step", "train_loss", "atoms_f1", "centres_f1")]].round(5).to_dict("list"),
    }  # fmt: skip
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
