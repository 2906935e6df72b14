"""The cluster profile for real: jobs of the tiny config submitted through workflow/profiles/slurm,
simulation shards grouped into fewer SLURM jobs than shards.

Needs a running SLURM cluster (tests/slurm/start_cluster.sh starts a one-node one); skips without.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from atomscope.io import read_arrays

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.workflow


def _slurm_idle() -> bool:
    if shutil.which("sinfo") is None:
        return False
    result = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
    return result.returncode == 0 and "idle" in result.stdout


def _run_through_slurm(folder: Path, config: dict, *options: str) -> subprocess.CompletedProcess:
    """Snakemake with workflow/profiles/slurm in ``folder`` for ``config`` (no samples)."""
    (folder / "config").mkdir()
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / "config" / "samples.tsv").write_text("sample\tpath\tpixel_size\ttruth\n")
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(folder),
        "--profile", str(ROOT / "workflow" / "profiles" / "slurm"),
        # this test cluster keeps no accounting database, so job states come from squeue, not sacct
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2", *options,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def _tiny_config() -> dict:
    return yaml.safe_load((ROOT / "tests" / "data" / "tiny_config.yaml").read_text())


@pytest.mark.skipif(not _slurm_idle(), reason="no idle SLURM node (start one with tests/slurm/start_cluster.sh as root)")
def test_profile_submits_jobs_to_slurm(tmp_path):
    result = _run_through_slurm(tmp_path, _tiny_config(), "results/test_images/test/0-0.tif")
    assert result.returncode == 0, result.stderr[-4000:]
    # structures and simulate of the one test shard are one grouped job, then the export
    assert result.stderr.count("submitted with SLURM jobid") == 2
    arrays, _ = read_arrays(tmp_path / "results/simulations/test/0.h5", ["images"])
    assert arrays["images"].shape == (1, 1, 128, 128)
    assert (tmp_path / "results/test_images/test/0-0.tif").stat().st_size > 0


@pytest.mark.skipif(not _slurm_idle(), reason="no idle SLURM node (start one with tests/slurm/start_cluster.sh as root)")
def test_simulation_shards_are_submitted_in_groups(tmp_path):
    """4 shards (8 structures and simulate jobs), 2 shards a job: 2 sbatch calls, counted in the log."""
    config = _tiny_config()
    config["datasets"]["train"] = {"images": 4, "shard_size": 1, "seed": 1}
    shards = [f"results/simulations/train/{i}.h5" for i in range(4)]
    # --cores 2: the test node has 2 CPUs, and a group runs as many of its jobs side by side as --cores allows
    result = _run_through_slurm(tmp_path, config, "--group-components", "simulation=2", "--cores", "2", *shards)
    assert result.returncode == 0, result.stderr[-4000:]
    submitted = [line for line in result.stderr.splitlines() if "submitted with SLURM jobid" in line]
    assert len(submitted) == 2 and all("group_simulation" in line for line in submitted), submitted
    for shard in shards:
        arrays, _ = read_arrays(tmp_path / shard, ["images"])
        assert arrays["images"].shape == (1, 1, 128, 128)
