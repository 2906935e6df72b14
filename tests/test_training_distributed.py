"""Data-parallel training: each rank's shards and crops, and 2 gloo processes started by torchrun
against one process (the same steps, the loss curve within the noise of the seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from atomscope.io import read_table, write_table
from atomscope.training import index_shards, launch
from atomscope.training import loop
from atomscope.training.distributed import World, rank_crops, rank_images

_CPU = torch.device("cpu")
# the tiny workflow's network (tests/data/tiny_config.yaml) on 32 px crops of 64 px MoS2 images
_TINY = {
    "architecture": {"kind": "resunet", "base_channels": 8, "depth": 2},
    "steps": 40,
    "batch_size": 4,
    "crop_px": 32,
    "learning_rate": 2e-3,
    "eval_every": 10,
    "checkpoint_every": 20,
    "validation": {"images": 1, "threshold": 0.4, "min_distance": 0.7, "match_radius": 0.5},
    "seed": 0,
    "gpus": 0,
}


def test_ranks_read_whole_shards_of_their_own_and_split_each_batch(mos2_shards_module):
    index = index_shards(mos2_shards_module[0])  # shards of images 0-2 and 3-5
    numbers = np.arange(5)
    parts = [rank_images(index, numbers, World(r, 2, _CPU)) for r in range(2)]
    assert [p.tolist() for p in parts] == [[0, 1, 2], [3, 4]]
    # fewer shards than ranks: image by image
    assert rank_images(index, numbers, World(2, 3, _CPU)).tolist() == [2] and rank_images(index, numbers, World(1, 3, _CPU)).tolist() == [1, 4]
    assert rank_images(index, numbers, World(0, 1, _CPU)).tolist() == numbers.tolist()
    with pytest.raises(ValueError, match="5 training images cannot feed 6 processes"):
        rank_images(index, numbers, World(0, 6, _CPU))
    # steps 3..5 of a batch of 4 over 2 ranks: each step's crops, half each, every crop once
    crops = [list(rank_crops(2, 5, 4, World(r, 2, _CPU))) for r in range(2)]
    assert crops == [[8, 9, 12, 13, 16, 17], [10, 11, 14, 15, 18, 19]]
    assert list(rank_crops(2, 5, 4, World(0, 1, _CPU))) == list(range(8, 20))
    with pytest.raises(ValueError, match="batch_size 4 does not divide among 3 processes"):
        rank_crops(0, 5, 4, World(0, 3, _CPU))


@pytest.fixture(scope="module")
def job(mos2_shards_module, tmp_path_factory):
    """Training jobs over the MoS2 shards, their structures written as the workflow writes them."""
    paths, sites, models = mos2_shards_module
    folder = tmp_path_factory.mktemp("jobs")
    write_table(sites, folder / "sites.parquet", config={"structures": {"material": "MoS2"}})
    write_table(models, folder / "models.parquet")

    def make(name: str, **training) -> dict:
        out = folder / name
        out.mkdir(exist_ok=True)
        return {
            "images": [str(p) for p in paths], "sites": [str(folder / "sites.parquet")], "models": [str(folder / "models.parquet")],
            "training": {**_TINY, **training}, "preset": None, "model": str(out / "model.safetensors"),
            "metrics": str(out / "metrics.parquet"), "log": str(out / "train.log"), "threads": 1,
        }  # fmt: skip

    return make


@pytest.fixture(scope="module")
def one_process(job) -> pd.DataFrame:
    """The metrics of the tiny job in one process."""
    launch(job("one"), 1)
    return read_table(job("one")["metrics"])


def test_two_gloo_processes_follow_the_loss_curve_of_one(job, one_process):
    """2 processes (batch 2 each, their own shard each) against 1 (batch 4): per 10 steps the
    mean training loss differs by no more than one process's runs with two seeds differ."""
    launch(job("other_seed", seed=1), 1)
    launch(job("two"), 2)
    one = one_process["train_loss"].to_numpy()
    other, two = (read_table(job(name)["metrics"])["train_loss"].to_numpy() for name in ("other_seed", "two"))
    assert read_table(job("two")["metrics"])["step"].tolist() == list(range(10, 41, 10))
    assert one[-1] < 0.6 * one[0] and two[-1] < 0.6 * two[0]  # both learn (0.41 -> 0.22 in 40 steps)
    noise = np.abs(one - other)
    assert np.all(np.abs(two - one) <= 2 * noise + 0.05 * one), (one, two, other)
    log = open(job("two")["log"]).read()
    assert "rank 1: " in log and "steps/s" in log


def test_a_checkpoint_of_one_process_resumes_in_two(job, one_process, monkeypatch):
    """Killed after its step-20 checkpoint, a one-process run goes on in 2 processes from step 20."""
    saved = loop._save

    def save_then_die(*args, **kwargs):
        saved(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        launch(job("resumed"), 1)
    monkeypatch.setattr(loop, "_save", saved)
    launch(job("resumed"), 2)
    resumed = read_table(job("resumed")["metrics"])
    assert resumed["step"].tolist() == list(range(10, 41, 10))
    assert "resuming from step 20 of 40" in open(job("resumed")["log"]).read()
    # the first two rows come from the checkpoint: the one-process run's to the last digit
    pd.testing.assert_frame_equal(resumed.iloc[:2, :2], one_process.iloc[:2, :2])
