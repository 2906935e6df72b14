"""Shared fixtures: paths to the project and to the real microscope data in ../shared/data."""

from __future__ import annotations

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


@pytest.fixture
def mos2_stem() -> dict:
    """Simulation config of a small ADF-STEM (convolution) MoS2 shard with monolayer and species targets."""
    return {
        "mode": "stem_convolution",
        "image_size_px": 64,
        "sampling": 0.15,
        "defocus": 0.0,
        "Cs": 0.0,
        "semiangle_cutoff": 30.0,
        "dose": 1e6,
        "targets": {"monolayer": True, "species": ["Mo", "S2"]},
    }
