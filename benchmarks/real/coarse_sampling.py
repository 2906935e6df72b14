"""Does carbon_hrtem's monolayer head fail on clean graphene recorded at coarse pixels?

The contamination images of ../shared/data/graphene_contamination are 0.30-0.71 Å/px, carbon_hrtem
was trained at 0.08-0.14 Å/px, and its non-monolayer mask on them reaches a mean IoU of 0.48. This
simulates clean graphene (no contamination, no second layer, no pores, no grain boundary; the
recipe's point defects and optics) at 0.11 Å/px, records it again at coarser pixels (resampled
the way inference resamples, then analysed at that pixel size) and reports the share of the
image's interior (1/8 of the side left out at each edge) that the head calls monolayer (>= 0.5).

Usage (project root): ``python benchmarks/real/coarse_sampling.py > benchmarks/real/coarse_sampling.md``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from atomscope.inference.predict import predict_maps, rescale_to_sampling
from atomscope.labels import MONOLAYER
from atomscope.nets import load_model, resolve_model
from atomscope.simulation.microscope import draw_microscope, simulate_model
from atomscope.structures import build_shard

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "detection"))
import dose as dose_benchmark  # noqa: E402  (benchmarks/detection/dose.py: the presets' monolayer-only recipes)

PIXEL_SIZES = (0.3, 0.5, 0.7)  # Å/px, the contamination images' range
IMAGES = 12


def clean_graphene_config() -> tuple[dict, dict]:
    """carbon_hrtem's monolayer-only recipe of the dose benchmark, with graphene alone: no pores, no grain boundary."""
    structures, simulation = dose_benchmark.recipe("carbon_hrtem")
    structures["material"] = ["graphene"]
    structures["pores"]["count"] = [0, 0]
    structures["graphene"]["grain_boundary"]["probability"] = 0.0
    return structures, simulation


def interior_monolayer(maps: np.ndarray, heads: list[str]) -> float:
    m = maps[heads.index(MONOLAYER)]
    edge = m.shape[0] // 8
    return float(np.mean(m[edge:-edge, edge:-edge] >= 0.5))


def main() -> None:
    torch.set_num_threads(2)
    spec, net = load_model(resolve_model("carbon_hrtem"))
    heads = [h.name for h in spec.heads]
    structures, simulation = clean_graphene_config()
    rng = np.random.default_rng(5)
    sites, models = build_shard(structures, n_models=IMAGES, first_model=0, rng=rng)
    print(__doc__.split("\n\n")[0] + "\n\n`python benchmarks/real/coarse_sampling.py` (seed 5, dose 1e5 e/Å²):\n")
    print("| image | defocus (Å) | Cs (µm) | " + " | ".join(f"monolayer at {s} Å/px" for s in (0.11, *PIXEL_SIZES)) + " |")
    print("|---|---:|---:|" + "---:|" * (1 + len(PIXEL_SIZES)))
    table = []
    for number, model in models.iterrows():
        params = draw_microscope(simulation, rng) | {"dose": 1e5, "sampling": 0.11}
        model_sites = sites[sites["model"] == model["model"]]
        images, _, sampling = simulate_model(model_sites, (model["cell_x"], model["cell_y"]), params, simulation, rng=rng)
        shares = [interior_monolayer(predict_maps(images[0], sampling, net, spec, device=torch.device("cpu"))[1], heads)]
        for coarse in PIXEL_SIZES:
            recorded = rescale_to_sampling(images[0], sampling, coarse)
            shares.append(interior_monolayer(predict_maps(recorded, coarse, net, spec, device=torch.device("cpu"))[1], heads))
        table.append(shares)
        print(f"| {number} | {params['defocus']:.0f} | {params['Cs'] / 1e4:.0f} | " + " | ".join(f"{v:.2f}" for v in shares) + " |", flush=True)
    print("| mean | | | " + " | ".join(f"{v:.2f}" for v in np.mean(table, axis=0)) + " |")


if __name__ == "__main__":
    main()
