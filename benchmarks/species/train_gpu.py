"""Train the shipped species models from copied shards, without Snakemake: the train rule's own
library call (:func:`atomscope.training.train_files`) with each preset's training section.

    python3 benchmarks/species/train_gpu.py SHARDS OUT [--seconds S] [--max-steps N] [--steps N]

SHARDS/<model>/results/ holds the train rule's inputs as the workflow wrote them:
simulations/train/*.h5 and structures/train/*.parquet (sites) and *.models.parquet. OUT/<model>/ gets model.safetensors,
metrics.parquet and train.log. The step count is sized to the machine: a short calibration run
of the first model measures steps/s, and each model gets the steps that fit in ``--seconds``
(at most ``--max-steps``); ``--steps`` fixes it instead.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import torch
import yaml

from atomscope.config import with_defaults
from atomscope.training import train_files

MODELS = ("tmd_stem", "graphene_dopant_stem")
ROOT = Path(__file__).resolve().parents[2]


def training_section(model: str) -> dict:
    """The training section the workflow would pass: config/config.yaml's, the preset's over it."""
    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["training"]
    preset = yaml.safe_load((ROOT / "config" / "presets" / f"{model}.yaml").read_text())["training"]
    return with_defaults(preset, base)


def shard_files(folder: Path) -> tuple[list[str], list[str], list[str]]:
    key = lambda p: int(p.name.split(".")[0])  # noqa: E731  shards in workflow order: 0, 1, ..., 10
    images = sorted((folder / "results" / "simulations" / "train").glob("*.h5"), key=key)
    sites = [folder / "results" / "structures" / "train" / f"{p.stem}.parquet" for p in images]
    models = [folder / "results" / "structures" / "train" / f"{p.stem}.models.parquet" for p in images]
    missing = [str(p) for p in [*sites, *models] if not p.is_file()]
    if not images or missing:
        raise SystemExit(f"{folder}: no shards, or their structures are missing: {missing[:3]}")
    return [str(p) for p in images], [str(p) for p in sites], [str(p) for p in models]


def run(model: str, shards: Path, out: Path, steps: int, evaluations: int = 8) -> float:
    """Train ``model`` for ``steps`` steps into ``out`` with ``evaluations`` validations;
    steps/s of the training loop (validations after the first excluded when there is one)."""
    out.mkdir(parents=True, exist_ok=True)
    config = training_section(model)
    config.update(steps=steps, eval_every=max(1, steps // evaluations), checkpoint_every=steps, workers=4)
    handler = logging.FileHandler(out / "train.log", mode="w")
    logging.getLogger().addHandler(handler)
    try:
        _, metrics = train_files(
            *shard_files(shards / model), config, model_path=out / "model.safetensors", metrics_path=out / "metrics.parquet", preset=model
        )
    finally:
        logging.getLogger().removeHandler(handler)
    # a row's seconds are taken before its validation: with one validation they are training alone
    rate = steps / float(metrics["seconds"].iloc[-1])
    scores = {k: round(float(v), 3) for k, v in metrics.iloc[-1].items() if k.endswith("_f1")}
    print(f"{model}: {steps} steps, {rate:.1f} steps/s (with {len(metrics) - 1} validations), final F1 {scores}", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shards", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=140.0, help="training time per model [s] (default 140)")
    parser.add_argument("--max-steps", type=int, default=20000)
    parser.add_argument("--steps", type=int, default=None, help="fixed steps per model (skips the calibration)")
    parser.add_argument("--calibration-steps", type=int, default=300)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"device {device}{' ' + torch.cuda.get_device_name() if device == 'cuda' else ''}, torch {torch.__version__}", flush=True)
    began = time.perf_counter()
    steps = args.steps
    if steps is None:
        rate = run(args.models[0], args.shards, args.out / "calibration", args.calibration_steps, evaluations=1)
        steps = int(min(args.max_steps, max(args.calibration_steps, rate * args.seconds)) // 100 * 100)
        print(f"calibration: {rate:.1f} steps/s -> {steps} steps per model", flush=True)
    for model in args.models:
        run(model, args.shards, args.out / model, steps)
    print(f"all models in {time.perf_counter() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
