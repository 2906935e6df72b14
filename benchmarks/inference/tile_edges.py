"""How far a tile edge spoils a shipped model's maps, and how closely tiled inference matches one
pass over the whole image for several tile sizes and overlaps (inference.tile_px, overlap_px).

A convolutional network sees zero padding at a tile's edges; within some distance of the edge
its maps differ from what it gives with the image around. The blend in
:func:`atomscope.inference.tiling.predict_tiled` only hides that where the overlap is wider than
that distance.

1. Spoiled distance: simulated images (``SET``'s results/simulations/test/0.h5) are predicted
   whole and by their left part alone; printed is the mean |difference| of each head at a
   distance from the part's right edge.
2. Tiled against whole: every image of ``IMAGES`` (any files ``atomscope analyse`` reads, no
   labels used; pixel size from the graphene lattice), rescaled and normalised as inference does, is predicted in one pass and tiled
   with each setting; printed are the mean and 99.9th percentile of |tiled - whole| per head and
   the seconds of each, summed over the images.

    python benchmarks/inference/tile_edges.py MODEL SET IMAGE [IMAGE ...] > table.md
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import torch

from atomscope.inference.predict import map_names, preprocess, symmetric_forward
from atomscope.inference.readers import read_micrograph
from atomscope.inference.tiling import predict_tiled
from atomscope.nets import load_model

DISTANCES = (0, 8, 16, 24, 32, 48, 64, 80, 96)  # [px] from the part's edge
SETTINGS = ((256, 32), (256, 64), (256, 96), (384, 96), (512, 128))  # (tile_px, overlap_px)
SIMULATED = 16  # images of the set used for the spoiled distance


def network_input(frame: np.ndarray, sampling: float, spec, multiple: int) -> np.ndarray:
    """Inference's input of ``frame`` at ``sampling`` [Å/px], cut to sides the network takes whole."""
    x = preprocess(frame, sampling, spec)
    return x[:, : x.shape[1] // multiple * multiple, : x.shape[2] // multiple * multiple]


def spoiled(folder: Path, spec, forward, multiple: int) -> pd.DataFrame:
    """Mean |part - whole| of each head by distance [px] from the part's edge."""
    with h5py.File(folder / "results/simulations/test/0.h5", "r") as f:
        images, sampling = f["images"][:SIMULATED, 0].astype(np.float32), f["sampling"][:SIMULATED]
    diffs = []
    for image, s in zip(images, sampling):
        x = network_input(image, float(s), spec, multiple)
        whole = forward(x[None])[0]
        part_w = x.shape[2] // 2 // multiple * multiple
        part = forward(x[None, :, :, :part_w])[0]
        diffs.append(np.abs(part - whole[:, :, :part_w]).mean(axis=1)[:, ::-1])  # (K, distance from the edge)
    shortest = min(d.shape[1] for d in diffs)
    distances = [d for d in DISTANCES if d < shortest]
    mean = np.mean([d[:, distances] for d in diffs], axis=0)
    return pd.DataFrame({"distance [px]": distances} | dict(zip(map_names(spec), mean)))


def tiled_against_whole(paths: list[Path], spec, forward, multiple: int) -> pd.DataFrame:
    """Mean and 99.9th percentile of |tiled - whole| per head, and seconds, per setting."""
    names = map_names(spec)
    errors = {setting: [] for setting in SETTINGS}
    seconds = dict.fromkeys(SETTINGS, 0.0)
    for path in paths:
        micrograph = read_micrograph(path, pixel_size="auto:graphene")
        x = network_input(micrograph.frames[0], micrograph.sampling, spec, multiple)
        whole = forward(x[None])[0]
        for tile, overlap in SETTINGS:
            start = time.perf_counter()
            maps = predict_tiled(x, forward, tile=tile, overlap=overlap, multiple=multiple)
            seconds[tile, overlap] += time.perf_counter() - start
            errors[tile, overlap].append(np.abs(maps - whole).reshape(len(names), -1))
    rows = []
    for (tile, overlap), error in errors.items():
        error = np.concatenate(error, axis=1)
        rows.append(
            {"tile_px": tile, "overlap_px": overlap, "s": seconds[tile, overlap]}
            | {f"{name} mean": error[k].mean() for k, name in enumerate(names)}
            | {f"{name} p99.9": np.percentile(error[k], 99.9) for k, name in enumerate(names)}
        )
    return pd.DataFrame(rows)


def main() -> None:
    model, folder, paths = sys.argv[1], Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
    torch.set_num_threads(2)
    spec, net = load_model(model)
    forward = symmetric_forward(net, torch.device("cpu"), False, 0)
    multiple = getattr(net, "size_multiple", 1)
    print(f"## Spoiled distance: mean |part - whole| ({SIMULATED} images of {folder.name})\n")
    print(spoiled(folder, spec, forward, multiple).to_markdown(index=False, floatfmt=".4f"))
    print(f"\n## Tiled against one pass over the whole image ({len(paths)} images, pixel size from the graphene lattice)\n")
    print(tiled_against_whole(paths, spec, forward, multiple).to_markdown(index=False, floatfmt=".4f"))


if __name__ == "__main__":
    main()
