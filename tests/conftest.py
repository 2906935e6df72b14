"""Shared fixtures: paths to the project and to the real microscope data in ../shared/data; small
simulated shards for training tests."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip naming what is missing (a user's fresh clone has no such folder)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real microscope data not found at {SHARED_DATA} (only present on the project's machines)")
    return SHARED_DATA


#: Simulation config of a small ADF-STEM (convolution) MoS2 shard with monolayer and species targets.
MOS2_STEM = {
    "mode": "stem_convolution",
    "image_size_px": 64,
    "sampling": 0.15,
    "defocus": 0.0,
    "Cs": 0.0,
    "semiangle_cutoff": 30.0,
    "dose": 1e6,
    "targets": {"monolayer": True, "species": ["Mo", "S2"]},
}


@pytest.fixture
def mos2_stem() -> dict:
    """:data:`MOS2_STEM`, a copy each test may change."""
    return copy.deepcopy(MOS2_STEM)


@pytest.fixture
def mos2_shards(tmp_path_factory, mos2_stem):
    """Two simulated MoS2 ADF-STEM shards on disk (3 images each) with their structures."""
    return _mos2_shards(tmp_path_factory, mos2_stem)


@pytest.fixture(scope="module")
def mos2_shards_module(tmp_path_factory):
    """:func:`mos2_shards`, made once for a test module."""
    return _mos2_shards(tmp_path_factory, MOS2_STEM)


def _mos2_shards(tmp_path_factory, mos2_stem):
    import pandas as pd

    from atomscope._shared.seeding import stage_rng
    from atomscope.io import write_arrays
    from atomscope.simulation.microscope import shard_attrs, simulate_shard
    from atomscope.structures.materials import build_shard

    folder = tmp_path_factory.mktemp("shards")
    paths, all_sites, all_models = [], [], []
    for shard in range(2):
        sites, models = build_shard({"material": "MoS2", "cell": [20.0, 20.0]}, n_models=3, first_model=3 * shard, rng=stage_rng(0, "structures", shard))
        arrays, _ = simulate_shard(sites, models, mos2_stem, stage_rng(0, "simulation", shard))
        paths.append(folder / f"{shard}.h5")
        write_arrays(paths[-1], arrays, attrs=shard_attrs(mos2_stem))
        all_sites.append(sites)
        all_models.append(models)
    return paths, pd.concat(all_sites, ignore_index=True), pd.concat(all_models, ignore_index=True)
