"""Pixel size from the lattice (``auto:...``) on every real file in ../shared/data, and on white noise.

Usage (from the project root, with ../shared/data beside it):

    python benchmarks/calibration/run.py > benchmarks/calibration/results.md
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from atomscope.inference import read_micrograph
from atomscope.inference.calibration import LATTICE_CONSTANTS, lattice_pixel_size

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
# file, crystal, reference pixel size [Å/px] and where the reference comes from
FILES = [
    ("graphene_hrtem_defect.tif", "graphene", 0.108, "data README (from its lattice)"),
    ("graphene_stem_grain_boundary_6nm.npy", "graphene", 0.117, "data README (6 nm / 512 px)"),
    ("mose2_stem_grain_boundary.tif", "MoSe2", None, "none"),
    ("mos2_se_implanted_stem.dm3", "MoS2", 0.127, "the file"),
]


def row(name: str, crystal: str, reference: float | None, source: str) -> str:
    frame = read_micrograph(DATA / name, pixel_size=1.0).frames[0]  # the reader's own scale is not used
    start = time.perf_counter()
    result = lattice_pixel_size(frame, LATTICE_CONSTANTS[crystal])
    seconds = time.perf_counter() - start
    off = f"{100 * (result.pixel_size / reference - 1):+.1f} %" if reference else "-"
    ref = f"{reference:.4f}" if reference else "-"
    return f"| {name} | {crystal} | {result.pixel_size:.4f} | {result.uncertainty:.5f} | {result.n_spots} | {ref} ({source}) | {off} | {seconds:.1f} |"


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"{DATA}: the real data are not here")
    print("# Pixel size from the lattice\n")
    print("`python benchmarks/calibration/run.py > benchmarks/calibration/results.md`; one core of a 2-core machine.\n")
    print("| file | crystal | pixel size (Å/px) | uncertainty | spots | reference | off | s |")
    print("|---|---|---:|---:|---:|---|---:|---:|")
    for spec in FILES:
        print(row(*spec))
    found, failed = [], []
    for path in sorted((DATA / "graphene_contamination").glob("*.png")):
        if path.stem.endswith("_LABEL"):
            continue
        try:
            found.append(lattice_pixel_size(read_micrograph(path, pixel_size=1.0).frames[0], 2.46).pixel_size)
        except ValueError:
            failed.append(path.name)
    print(f"\ngraphene_contamination/ (HRTEM, 256 px, no pixel size in the files), auto:graphene: "
          f"{len(found)} of {len(found) + len(failed)} calibrated, {min(found):.3f}-{max(found):.3f} Å/px "
          f"(median {np.median(found):.3f}); no lattice found in {', '.join(failed) or 'none'}.")
    false = 0
    for seed in range(12):
        try:
            lattice_pixel_size(np.random.default_rng(seed).normal(size=(512, 512)), 2.46)
            false += 1
        except ValueError:
            pass
    print(f"\nWhite noise, 512 x 512, seeds 0-11: a lattice reported in {false} of 12.")


if __name__ == "__main__":
    main()
