"""One seeding convention for every stage: ``default_rng((seed, stage, shard))``."""

from __future__ import annotations

import numpy as np

__all__ = ["STAGES", "stage_rng"]

#: Stage numbers that keep the random streams of different stages independent.
STAGES = {"structures": 1, "simulation": 2, "training": 3, "motifs": 4}


def stage_rng(seed: int, stage: str, shard: int = 0) -> np.random.Generator:
    """Generator for ``stage`` of ``shard`` under master ``seed``; a rerun draws the same numbers."""
    if stage not in STAGES:
        raise ValueError(f"`stage` must be one of {sorted(STAGES)}, got {stage!r}")
    return np.random.default_rng((int(seed), STAGES[stage], int(shard)))
