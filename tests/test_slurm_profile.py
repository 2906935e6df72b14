"""The cluster profile for real: jobs of the tiny config submitted through workflow/profiles/slurm.

Needs a running SLURM cluster (tests/slurm/start_cluster.sh starts a one-node one); skips without.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from atomscope.io import read_arrays

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.workflow


def _slurm_idle() -> bool:
    if shutil.which("sinfo") is None:
        return False
    result = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
    return result.returncode == 0 and "idle" in result.stdout


@pytest.mark.skipif(not _slurm_idle(), reason="no idle SLURM node (start one with tests/slurm/start_cluster.sh as root)")
def test_profile_submits_jobs_to_slurm(tmp_path):
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "tests" / "data" / "tiny_config.yaml", tmp_path / "config" / "config.yaml")
    (tmp_path / "config" / "samples.tsv").write_text("sample\tpath\tpixel_size\ttruth\n")
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
        "--profile", str(ROOT / "workflow" / "profiles" / "slurm"),
        # this test cluster keeps no accounting database, so job states come from squeue, not sacct
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
        "results/test_images/test/0-0.tif",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stderr.count("submitted with SLURM jobid") == 3  # structures, simulate, export
    arrays, _ = read_arrays(tmp_path / "results/simulations/test/0.h5", ["images"])
    assert arrays["images"].shape == (1, 1, 128, 128)
    assert (tmp_path / "results/test_images/test/0-0.tif").stat().st_size > 0
