"""One rank of a data-parallel training job: ``python -m atomscope.training JOB.json``, started by
torchrun (see :func:`atomscope.training.launch`), which sets RANK and WORLD_SIZE."""

import json
import os
import sys
from pathlib import Path

import torch.distributed as dist

from atomscope.logs import configure_logging
from atomscope.training.launch import run_job

if __name__ == "__main__":
    job = json.loads(Path(sys.argv[1]).read_text())
    configure_logging(job["log"], append=True, prefix=f"rank {os.environ['RANK']}: ")
    try:
        run_job(job, processes=int(os.environ["WORLD_SIZE"]))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
