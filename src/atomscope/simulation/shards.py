"""A shard of simulated micrographs: draw microscope parameters, simulate, add noise, render targets."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from atomscope.simulation.hrtem import exit_wave, hrtem_image
from atomscope.simulation.noise import poisson_noise
from atomscope.simulation.targets import gaussian_heatmap
from atomscope.structures import label_sites, sites_to_atoms

__all__ = ["TARGET_NAMES", "draw_microscope", "simulate_model", "simulate_shard", "sites_in_view"]

#: Heat-map channels, in order, and the site kind each one marks.
TARGET_NAMES = {"atoms": "atom", "centres": "centre"}


def draw_microscope(config: Mapping[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """Draw one image's microscope parameters from the ranges in the ``simulation`` config.

    Defocus [Å], Cs [Å], sampling [Å/px] are uniform in their ranges; the dose [e/Å²] is
    log-uniform, so every decade of dose is equally represented.
    """
    lo, hi = np.log(config["dose"])
    return {
        "energy": float(config["energy"]),
        "defocus": float(rng.uniform(*config["defocus"])),
        "Cs": float(rng.uniform(*config["Cs"])),
        "semiangle_cutoff": float(config["semiangle_cutoff"]),
        "focal_spread": float(config["focal_spread"]),
        "dose": float(np.exp(rng.uniform(lo, hi))),
        "sampling": float(rng.uniform(*config["sampling"])),
    }


def simulate_model(
    sites: pd.DataFrame,
    cell: tuple[float, float],
    params: Mapping[str, float],
    *,
    image_size_px: int,
    potential_sampling: float,
    target_sigma: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Simulate one noisy HRTEM image of a model and its target heat maps.

    The image is of the equilibrium model (configuration 0); frozen-phonon configurations
    (1..N), when the sites hold them, are not averaged yet. Targets mark configuration 0.

    Returns
    -------
    image : ndarray (1, S, S) float32
        Counts per pixel [e/px] for ``params['dose']``; the top-left S x S pixels of the cell.
    targets : ndarray (K, S, S) float32
        One heat map per entry of :data:`TARGET_NAMES`.
    sampling : float
        Pixel size actually used [Å/px].
    """
    wave = exit_wave(sites_to_atoms(sites, cell), energy=params["energy"], potential_sampling=potential_sampling)
    clean, sampling = hrtem_image(
        wave,
        defocus=params["defocus"],
        Cs=params["Cs"],
        sampling=params["sampling"],
        semiangle_cutoff=params["semiangle_cutoff"],
        focal_spread=params["focal_spread"],
    )
    size = image_size_px
    if min(clean.shape) < size:
        raise ValueError(
            f"the model cell {cell} Å at {sampling:.3f} Å/px gives {clean.shape} px, smaller than "
            f"image_size_px={size}: enlarge `structures.cell` or lower `simulation.image_size_px`"
        )
    image = poisson_noise(np.clip(clean[:size, :size], 0, None), dose=params["dose"], sampling=sampling, rng=rng)
    labels = label_sites(sites)
    targets = np.stack(
        [
            gaussian_heatmap(
                labels.loc[labels["kind"] == kind, ["x", "y"]].to_numpy(),
                (size, size),
                sampling,
                sigma=target_sigma,
                period=cell,
            )
            for kind in TARGET_NAMES.values()
        ]
    )
    return image[None], targets, sampling


def simulate_shard(
    sites: pd.DataFrame, models: pd.DataFrame, config: Mapping[str, Any], rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Simulate one image per model of a structures shard.

    Returns the arrays of the shard's HDF5 file (``images`` [N,1,S,S], ``targets`` [N,K,S,S],
    ``sampling`` [N] in Å/px, ``model`` [N]) and one row per image with every drawn parameter.
    """
    images, targets, rows = [], [], []
    for model in models.itertuples(index=False):
        params = draw_microscope(config, rng)
        image, target, sampling = simulate_model(
            sites[sites["model"] == model.model],
            (model.cell_x, model.cell_y),
            params,
            image_size_px=config["image_size_px"],
            potential_sampling=config["potential_sampling"],
            target_sigma=config["target_sigma"],
            rng=rng,
        )
        images.append(image)
        targets.append(target)
        rows.append({"image": len(rows), "model": model.model, **params, "sampling": sampling, "requested_sampling": params["sampling"]})
    arrays = {
        "images": np.stack(images).astype(np.float32),
        "targets": np.stack(targets).astype(np.float32),
        "sampling": np.array([r["sampling"] for r in rows]),
        "model": np.array([r["model"] for r in rows], dtype=np.int64),
    }
    return arrays, pd.DataFrame(rows)


def sites_in_view(sites: pd.DataFrame, cell: tuple[float, float], shape: tuple[int, int], sampling: float) -> pd.DataFrame:
    """Sites of a periodic model that fall inside an image of ``shape`` [px] at ``sampling`` [Å/px].

    The image is the top-left corner of the cell (pixel (r, c) at x = c * sampling,
    y = r * sampling); periodic copies of sites are included where they appear in view.
    Only the equilibrium rows (configuration 0) are labels; frozen-phonon copies are dropped.
    """
    sites = label_sites(sites)
    height, width = shape
    limit_x, limit_y = (width - 0.5) * sampling, (height - 0.5) * sampling
    copies = [
        sites.assign(x=sites["x"] + i * cell[0], y=sites["y"] + j * cell[1]) for i in (-1, 0, 1) for j in (-1, 0, 1)
    ]
    every = pd.concat(copies, ignore_index=True)
    inside = every["x"].between(-0.5 * sampling, limit_x) & every["y"].between(-0.5 * sampling, limit_y)
    return every[inside].reset_index(drop=True)
