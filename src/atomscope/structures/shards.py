"""A shard of atomic models, built from the ``structures`` config section."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from atomscope.structures.amorphous import amorphous_carbon

__all__ = ["build_shard"]


def build_shard(
    config: Mapping[str, Any], *, n_models: int, first_model: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build ``n_models`` models numbered from ``first_model``.

    Returns the sites (one row per atom or centre, with a ``model`` column) and one row per
    model (``model``, ``material``, ``cell_x``, ``cell_y`` [Å], counts and parameters).
    """
    material = config["material"]
    if material != "amorphous_carbon":
        raise ValueError(f"structures.material: unknown material {material!r}; supported: 'amorphous_carbon'")
    lo, hi = config["pores"]["count"]
    sites, models = [], []
    for model in range(first_model, first_model + n_models):
        n_pores = int(rng.integers(lo, hi + 1))
        frame, info = amorphous_carbon(
            tuple(config["cell"]),
            rng=rng,
            radius_spread=config["radius_spread"],
            n_pores=n_pores,
            pore_radius=tuple(config["pores"]["radius"]),
        )
        sites.append(frame.assign(model=model))
        models.append(
            {
                "model": model,
                "material": material,
                "cell_x": info["cell"][0],
                "cell_y": info["cell"][1],
                "n_atoms": info["n_atoms"],
                "n_centres": info["n_centres"],
                "n_pores": info["n_pores"],
                "radius": info["radius"],
                "radius_spread": info["radius_spread"],
                "mean_bond": info["mean_bond"],
            }
        )
    return pd.concat(sites, ignore_index=True), pd.DataFrame(models)
