"""One training job, in one process or data-parallel in several started by torchrun.

A job is a JSON-able dict: ``images``, ``sites``, ``models`` (the shards' files), ``training``
(the config section), ``preset``, ``model`` and ``metrics`` (the outputs), ``log`` and
``threads`` (CPU threads of the whole job). :func:`run_job` runs it in this process;
:func:`launch` runs it in ``processes`` processes with ``torchrun --standalone`` (one node),
each entering ``python -m atomscope.training JOB.json``; rank 0 writes the outputs.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

import torch

from atomscope.training.files import train_files

__all__ = ["launch", "run_job", "checkpoint_path"]

log = logging.getLogger(__name__)


def checkpoint_path(job: Mapping[str, Any]) -> Path:
    """``checkpoint.pt`` beside the model: not a declared output, so a failed job keeps it to resume from."""
    return Path(job["model"]).with_name("checkpoint.pt")


def run_job(job: Mapping[str, Any], processes: int = 1) -> None:
    """Train as ``job`` says in this process (one of ``processes``: each takes its share of the
    job's CPU threads); rank 0 writes the model and metrics and removes the checkpoint."""
    torch.set_num_threads(max(1, job["threads"] // processes))
    train_files(
        job["images"], job["sites"], job["models"], job["training"],
        model_path=job["model"], metrics_path=job["metrics"], preset=job["preset"],
    )  # fmt: skip


def launch(job: Mapping[str, Any], processes: int) -> None:
    """Run ``job`` in this process (``processes`` 1), or in ``processes`` processes on this node
    through torchrun (``python -m torch.distributed.run --standalone``); a failed process fails it."""
    if processes == 1:
        run_job(job)
        return
    job_file = checkpoint_path(job).with_name("job.json")
    job_file.parent.mkdir(parents=True, exist_ok=True)
    job_file.write_text(json.dumps(dict(job)))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
    command += ["-m", "atomscope.training", str(job_file)]
    log.info("data-parallel training in %d processes: %s", processes, " ".join(command))
    result = subprocess.run(command)
    if result.returncode != 0:
        raise RuntimeError(f"torchrun exited with {result.returncode}: the ranks' errors are in {job['log']} and above")
    job_file.unlink()

