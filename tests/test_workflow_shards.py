"""Growing a dataset adds shards: a shard job reruns only when what it depends on changes (Snakemake subprocesses)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.workflow

# One image of the user's own (pixel size in the sheet), so the default target plans training
# and everything after it, and no test dataset shards.
SHEET = "sample\tpath\tpixel_size\ttruth\nown\town.npy\t0.11\t\n"


def snakemake(workdir: Path, *args: str) -> str:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "2", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result.stdout


def planned_jobs(workdir: Path, images: int) -> dict[str, int]:
    """Rule -> number of jobs a dry run of the default target plans with ``datasets.train.images``."""
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    extra = workdir / "config" / f"images_{images}.yaml"
    extra.write_text(yaml.safe_dump({"datasets": {"train": {**config["datasets"]["train"], "images": images}}}))
    jobs = {}
    for line in snakemake(workdir, "-n", "--quiet", "rules", "--configfile", str(extra)).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            jobs[parts[0]] = int(parts[1])
    return jobs


def build_shards(workdir: Path, images: int, shards: range) -> None:
    planned_jobs(workdir, images)  # writes the config file of this size
    targets = [f"results/simulations/train/{shard}.h5" for shard in shards]
    snakemake(workdir, *targets, "--configfile", str(workdir / "config" / f"images_{images}.yaml"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The tiny config (train: shards of 3 images) with shards 0 and 1 of its 6 train images built."""
    workdir = tmp_path_factory.mktemp("shards")
    (workdir / "config").mkdir()
    shutil.copy(ROOT / "tests" / "data" / "tiny_config.yaml", workdir / "config" / "config.yaml")
    (workdir / "config" / "samples.tsv").write_text(SHEET)
    np.save(workdir / "own.npy", np.random.default_rng(0).random((64, 64)))
    build_shards(workdir, 6, range(2))
    return workdir


def test_adding_a_shard_of_images_plans_one_new_shard_and_what_follows_training(workdir):
    downstream = planned_jobs(workdir, 6)
    assert "train" in downstream and not {"structures", "simulate"} & set(downstream)
    # 9 images: shards 0 and 1 are as they were, shard 2 is new
    assert planned_jobs(workdir, 9) == {**downstream, "structures": 1, "simulate": 1}
    assert planned_jobs(workdir, 12) == {**downstream, "structures": 2, "simulate": 2}


def test_a_partial_last_shard_reruns_alone_when_its_size_changes(workdir):
    build_shards(workdir, 7, range(2, 3))  # shard 2 holds image 6 alone
    downstream = planned_jobs(workdir, 7)
    assert "train" in downstream and not {"structures", "simulate"} & set(downstream)
    # 8 images: shard 2 grows to 2 images and reruns; shards 0 and 1 do not
    assert planned_jobs(workdir, 8) == {**downstream, "structures": 1, "simulate": 1}
    # 10 images: shard 2 grows to 3 and shard 3 is new
    assert planned_jobs(workdir, 10) == {**downstream, "structures": 2, "simulate": 2}
    # 6 images: shard 2 is no longer needed; the complete shards stay
    assert not {"structures", "simulate"} & set(planned_jobs(workdir, 6))
