"""Data-parallel training over several processes (torch.distributed, DistributedDataParallel).

torchrun starts one process per GPU (or per CPU process) and sets RANK, WORLD_SIZE, LOCAL_RANK
and the rendezvous in their environment; :func:`join_world` joins that process group (NCCL on
GPUs, gloo on CPUs). ``training.batch_size`` is the batch of one optimiser step over all
processes, each computing ``batch_size / size`` crops: a run takes the same steps with the
same schedule whatever the number of processes, so a checkpoint resumes at any world size.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from atomscope.nets import pick_device
from atomscope.training.dataset import ShardIndex

__all__ = ["World", "RankCrops", "join_world", "rank_images", "rank_crops", "wrap", "mean_over_ranks"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    """This process's place among the training processes: ``rank`` of ``size``, on ``device``."""

    rank: int
    size: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, the model and the metrics."""
        return self.rank == 0


def join_world(device: torch.device | None = None) -> World:
    """The process group torchrun describes in the environment, joined; without torchrun (no
    WORLD_SIZE, or 1) a single process on ``device`` (default: CUDA when present, else CPU).

    Under torchrun each process takes GPU LOCAL_RANK and NCCL when CUDA is present, else the
    CPU and gloo.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World(0, 1, device or pick_device())
    if torch.cuda.is_available():
        device, backend = torch.device("cuda", int(os.environ["LOCAL_RANK"])), "nccl"
        torch.cuda.set_device(device)
    else:
        device, backend = torch.device("cpu"), "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    world = World(dist.get_rank(), dist.get_world_size(), device)
    log.info("rank %d of %d on %s (%s)", world.rank, world.size, device, backend)
    return world


def rank_images(index: ShardIndex, numbers: np.ndarray, world: World) -> np.ndarray:
    """The training images (of ``numbers``) this process reads: whole shards, the j-th shard to
    rank j mod size, so each process opens and caches only its own shards; image by image
    (the i-th to rank i mod size) when there are fewer shards than processes."""
    numbers = np.asarray(numbers)
    if world.size == 1:
        return numbers
    if len(numbers) < world.size:
        raise ValueError(f"{len(numbers)} training images cannot feed {world.size} processes: simulate more images or use fewer GPUs")
    shards = np.unique(index.shard[numbers])
    if len(shards) < world.size:
        return numbers[world.rank :: world.size]
    return numbers[np.isin(index.shard[numbers], shards[world.rank :: world.size])]


def rank_crops(start: int, steps: int, batch_size: int, world: World) -> "RankCrops":
    """Crop numbers this process trains on in steps ``start`` + 1 .. ``steps``: of step s's
    ``batch_size`` crops (s * batch_size, ...), the ``batch_size / size`` consecutive ones of its rank."""
    if batch_size % world.size:
        raise ValueError(f"training.batch_size {batch_size} does not divide among {world.size} processes: make it a multiple of training.gpus")
    return RankCrops(start, steps, batch_size, batch_size // world.size, world.rank)


@dataclass(frozen=True)
class RankCrops(Sequence):
    """The crop numbers of :func:`rank_crops`, computed when asked for: a list of them would
    hold steps x batch_size numbers (10^8 for a long run)."""

    start: int
    steps: int
    batch_size: int
    share: int
    rank: int

    def __len__(self) -> int:
        return (self.steps - self.start) * self.share

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < len(self):
            raise IndexError(f"crop {i} of {len(self)}")
        step, j = divmod(i, self.share)
        return (self.start + step) * self.batch_size + self.rank * self.share + j


def wrap(net: nn.Module, world: World) -> nn.Module:
    """``net`` in DistributedDataParallel (gradients averaged over the processes) when there are
    several; ``net`` itself for one process. The bare network stays at ``.module``."""
    if world.size == 1:
        return net
    return nn.parallel.DistributedDataParallel(net, device_ids=[world.device.index] if world.device.type == "cuda" else None)


def mean_over_ranks(value: float, world: World) -> float:
    """The mean of ``value`` over all processes (every process must call it at the same point)."""
    if world.size == 1:
        return value
    total = torch.tensor([value], dtype=torch.float64, device=world.device)
    dist.all_reduce(total)
    return float(total.item()) / world.size
