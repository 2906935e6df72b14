"""Does carbon_hrtem's monolayer head hold on clean graphene recorded at coarse pixels?

The contamination images of ../shared/data/graphene_contamination are 0.30-0.71 Å/px, and
carbon_hrtem works at 0.11 Å/px: inference resamples them up 3-6x, shot noise counted in large
pixels included. This simulates clean graphene (no contamination, no second layer, no pores, no
grain boundary; the recipe's point defects and optics), records each image at 0.11 Å/px and by
cameras of coarser pixels (``simulation.coarse_recording``: counted there, resampled back) at
three doses, analyses each at its camera's pixel size the way inference does, and reports the
share of the image's interior (1/8 of the side left out at each edge) that the head calls
monolayer (>= ``inference.monolayer_threshold``, 0.5). Every share should be near 1.

Usage (project root): ``python benchmarks/real/coarse_sampling.py [MODEL ...] > benchmarks/real/coarse_sampling.md``
(MODEL: a shipped model's name or a model file; default carbon_hrtem).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from atomscope.config import defaults
from atomscope.inference.predict import monolayer_mask, predict_maps
from atomscope.io import rescale_to_sampling
from atomscope.nets import load_model, resolve_model
from atomscope.simulation.microscope import draw_microscope, simulate_model
from atomscope.structures import build_shard

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "detection"))
import dose as dose_benchmark  # noqa: E402  (benchmarks/detection/dose.py: the presets' monolayer-only recipes)

SAMPLING = 0.11  # Å/px, the simulation's pixels
CAMERAS = (0.11, 0.3, 0.5, 0.7)  # Å/px: the simulation's own pixels, then the contamination images' range
DOSES = (1e3, 1e4, 1e5)  # e/Å²
IMAGES = 12
THRESHOLD = defaults("inference")["monolayer_threshold"]


def clean_graphene_config() -> tuple[dict, dict]:
    """carbon_hrtem's monolayer-only recipe of the dose benchmark, with graphene alone: no pores, no grain boundary."""
    structures, simulation = dose_benchmark.recipe("carbon_hrtem")
    structures["material"] = ["graphene"]
    structures["pores"]["count"] = [0, 0]
    structures["graphene"]["grain_boundary"]["probability"] = 0.0
    return structures, simulation


def interior_monolayer(maps: np.ndarray, heads: list[str]) -> float:
    """Share of the map's interior that is monolayer at the default threshold."""
    m = monolayer_mask(maps, heads, THRESHOLD)
    edge = m.shape[0] // 8
    return float(np.mean(m[edge:-edge, edge:-edge]))


def micrographs() -> np.ndarray:
    """The recorded micrographs (IMAGES, DOSES, CAMERAS) of clean graphene, each at its camera's
    pixels as a user has it (an object array: the sizes differ by camera); made once for every model."""
    structures, simulation = clean_graphene_config()
    rng = np.random.default_rng(5)
    sites, models = build_shard(structures, n_models=IMAGES, first_model=0, rng=rng)
    recorded = np.empty((IMAGES, len(DOSES), len(CAMERAS)), dtype=object)
    for i, row in models.iterrows():
        params = draw_microscope(simulation, rng) | {"sampling": SAMPLING}
        own = sites[sites["model"] == row["model"]]
        for d, dose in enumerate(DOSES):
            for c, camera in enumerate(CAMERAS):
                drawn = {**params, "dose": dose, "recorded_sampling": camera}
                images, _, sampling = simulate_model(own, (row["cell_x"], row["cell_y"]), drawn, simulation, rng=np.random.default_rng([5, i, d]))
                recorded[i, d, c] = rescale_to_sampling(images[0], sampling, camera)
    return recorded


def shares(model: str, recorded: np.ndarray) -> np.ndarray:
    """Monolayer share (IMAGES, DOSES, CAMERAS) of one model on the recorded micrographs."""
    spec, net = load_model(resolve_model(model))
    heads = [h.name for h in spec.heads]
    table = np.zeros(recorded.shape)
    for (i, d, c), micrograph in np.ndenumerate(recorded):
        maps = predict_maps(micrograph, CAMERAS[c], net, spec, device=torch.device("cpu"))[1]
        table[i, d, c] = interior_monolayer(maps, heads)
    return table


def main() -> None:
    torch.set_num_threads(2)
    models = sys.argv[1:] or ["carbon_hrtem"]
    print(__doc__.split("\n\n")[0] + "\n")
    print(f"`python benchmarks/real/coarse_sampling.py {' '.join(sys.argv[1:])}` (seed 5, {IMAGES} images; mean monolayer share, lowest image in brackets):\n")
    print("| model | dose (e/Å²) | " + " | ".join(f"camera {c} Å/px" for c in CAMERAS) + " |")
    print("|---|---:|" + "---:|" * len(CAMERAS))
    recorded = micrographs()
    for model in models:
        table = shares(model, recorded)
        for d, dose in enumerate(DOSES):
            cells = [f"{table[:, d, c].mean():.2f} ({table[:, d, c].min():.2f})" for c in range(len(CAMERAS))]
            print(f"| {Path(model).stem} | {dose:.0e} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
