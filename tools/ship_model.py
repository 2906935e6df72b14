"""Ship a model the train rule made: copy it into resources/models with its learning curve and card.

Usage (project root):

    python tools/ship_model.py NAME RUN_DIR [--hardware TEXT] [--section "TITLE=FILE.md" ...]
    python tools/ship_model.py NAME MODEL_DIR --trained-by-script --wall-seconds S --hardware TEXT ...

RUN_DIR is the working directory of the Snakemake run that trained it (results/models/NAME/
and benchmarks/runs/train/NAME.tsv). With --trained-by-script, MODEL_DIR holds the
model.safetensors and metrics.parquet that a script calling the train rule's library function
wrote (e.g. benchmarks/species/train_gpu.sh on a GPU machine), and --wall-seconds gives its
time. Each --section adds a titled section to the card from a Markdown file (e.g. the dose table of benchmarks/detection and the real-image checks).
"""

from __future__ import annotations

import argparse
import platform
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from atomscope.io import read_model, read_table  # noqa: E402
from atomscope.nets import models_dir  # noqa: E402
from atomscope.report import learning_curve_figure, model_card  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name")
    parser.add_argument("run", type=Path)
    parser.add_argument("--hardware", default=f"2 CPU cores ({platform.machine()}), no GPU")
    parser.add_argument("--section", action="append", default=[], help="TITLE=FILE.md")
    parser.add_argument("--trained-by-script", action="store_true", help="RUN_DIR is the folder of model.safetensors and metrics.parquet")
    parser.add_argument("--wall-seconds", type=float, help="wall time of the training [s] (default: the train rule's benchmark file)")
    args = parser.parse_args()
    source = args.run if args.trained_by_script else args.run / "results" / "models" / args.name
    target = models_dir()
    target.mkdir(parents=True, exist_ok=True)
    spec, _ = read_model(source / "model.safetensors")
    metrics = read_table(source / "metrics.parquet")
    shutil.copy(source / "model.safetensors", target / f"{args.name}.safetensors")
    shutil.copy(source / "metrics.parquet", target / f"{args.name}.metrics.parquet")
    learning_curve_figure(metrics, f"{args.name}: training").savefig(target / f"{args.name}.png", dpi=100)
    wall = args.wall_seconds
    if wall is None:
        wall = float(pd.read_csv(args.run / "benchmarks" / "runs" / "train" / f"{args.name}.tsv", sep="\t")["s"].iloc[0])
    sections = {}
    for item in args.section:
        title, _, path = item.partition("=")
        sections[title] = Path(path).read_text()
    card = model_card(args.name, spec, metrics, wall_seconds=wall, hardware=args.hardware, sections=sections)
    (target / f"{args.name}.md").write_text(card)
    print(f"shipped {args.name}: {target / args.name}.safetensors, .metrics.parquet, .png, .md")


if __name__ == "__main__":
    main()
