"""Inference speed, memory and uncertainty: the real files, 4096² and 8192² images, TTA.

Every case runs in a fresh process (``--case``), so its peak resident memory (ru_maxrss) is
its own. Prints Markdown to stdout, and writes the sigma calibration plot beside this file.

Usage (from the project root, with ../shared/data beside it and the default workflow's
simulated test images in results/test_images/test, made by ``snakemake --cores all``):

    python benchmarks/inference/run.py > benchmarks/inference/results.md            # CPU, all
    python benchmarks/inference/run.py --device cuda --quick > results_gpu.md        # GPU, a subset
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from atomscope.config import defaults
from atomscope.inference.uncertainty import SIGMA_FLOOR, SIGMA_SCALE, calibrated_sigma

ROOT = Path(__file__).resolve().parents[2]
# ../shared/data beside the project, or shared/data inside it (as on a device machine)
DATA = next((d for d in (ROOT.parent / "shared" / "data", ROOT / "shared" / "data") if d.is_dir()), ROOT.parent / "shared" / "data")
TEST_IMAGES = ROOT / "results" / "test_images" / "test"
HERE = Path(__file__).resolve().parent
# file, model, pixel size (a number, auto:..., or None: the file's)
FILES = [
    ("graphene_hrtem_defect.tif", "carbon_hrtem", "auto:graphene"),
    ("graphene_stem_grain_boundary_6nm.npy", "carbon_stem", 0.117),
    ("mose2_stem_grain_boundary.tif", "carbon_stem", "auto:MoSe2"),
    ("mos2_se_implanted_stem.dm3", "carbon_stem", None),
    ("au_nanoparticle_stem.emd", "carbon_stem", None),
    ("srtio3_adf_stem.hspy", "carbon_stem", 0.0933),  # the file's scale has no unit (0.00933: nm)
    ("graphene_contamination/2013_1114_Gr_112.png", "carbon_hrtem", "auto:graphene"),
]
LARGE = [4096, 8192]
CONFIG = {key: value for key, value in defaults("inference").items() if key != "augment"}  # the config's tiles and thresholds


def run_case(case: dict, device: str) -> dict:
    """One analysis in this process: seconds, megapixels, sites, peak RSS [GiB]."""
    import torch

    from atomscope.inference import analyse_micrograph, read_micrograph
    from atomscope.inference.readers import Micrograph
    from atomscope.nets import load_model, resolve_model

    spec, net = load_model(resolve_model(case["model"]))
    if case.get("tiny"):  # the same pipeline with a 4-channel, depth-2 network: the image-sized arrays' memory in minutes
        from dataclasses import replace

        from atomscope.nets import network_from_spec

        spec = replace(spec, architecture_args={"base_channels": 4, "depth": 2})
        net = network_from_spec(spec)
    if "side" in case:  # the HRTEM of graphene tiled to side x side: a large real-looking image
        tile = read_micrograph(DATA / "graphene_hrtem_defect.tif", pixel_size=0.108).frames[0]
        reps = -(-case["side"] // tile.shape[0])
        frames = np.tile(tile, (reps, reps))[None, : case["side"], : case["side"]]
        micrograph = Micrograph(np.ascontiguousarray(frames), 0.108, Path(f"tiled_{case['side']}"), "argument")
    else:
        micrograph = read_micrograph(Path(case["path"]), pixel_size=case["pixel_size"])
    start = time.perf_counter()
    _, _, sites = analyse_micrograph(micrograph, spec, net, {**CONFIG, "augment": case.get("augment", False)}, device=torch.device(device))
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "megapixels": micrograph.frames.size / 1e6,
        "sites": len(sites),
        "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "pixel_size": micrograph.sampling,
    }


def in_subprocess(case: dict, device: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", json.dumps(case), "--device", device], capture_output=True, text=True, check=False
    )
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def speed_table(device: str, quick: bool, tiny: bool) -> None:
    """Seconds per megapixel and peak memory of each real file and the large images (with
    ``tiny``, the large images with a tiny network only: their memory without the hours)."""
    print("| image | model | pixel size (Å/px) | MP | sites | s | s/MP | peak RSS (GiB) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    cases = [{"path": str(DATA / name), "model": model, "pixel_size": px, "name": name} for name, model, px in FILES]
    cases += [{"side": side, "model": "carbon_hrtem", "name": f"{side} x {side} (graphene HRTEM tiled)"} for side in LARGE]
    if tiny:
        cases += [{**case, "tiny": True, "name": case["name"] + ", tiny network"} for case in cases if "side" in case]
        cases = [case for case in cases if "side" not in case or case.get("tiny")]
    if quick:
        cases = [cases[0], cases[-2]]
    for case in cases:
        r = in_subprocess(case, device)
        if "error" in r:
            print(f"| {case['name']} | {case['model']} | | | | | | {r['error']} |")
            continue
        print(
            f"| {case['name']} | {case['model']} | {r['pixel_size']:.4f} | {r['megapixels']:.2f} | {r['sites']} | "
            f"{r['seconds']:.1f} | {r['seconds'] / r['megapixels']:.2f} | {r['peak_gib']:.2f} |"
        )


def tta_table(device: str, test_images: Path, check_images: Path | None = None) -> None:
    """TTA's cost and RMSE gain on the simulated test images, and the sigma calibration: fitted on
    the first half of them, checked on the second half and on ``check_images`` (another set)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch
    from scipy.spatial import cKDTree

    from atomscope.inference import analyse_micrograph, read_micrograph
    from atomscope.io import ImageGrid, read_table
    from atomscope.labels import score_sites
    from atomscope.nets import load_model, resolve_model

    images = sorted(test_images.glob("*.tif"))
    checks = sorted(check_images.glob("*.tif")) if check_images else []
    if not images:
        print(f"\nNo simulated test images in {test_images}: run `snakemake --cores all` first.")
        return
    spec, net = load_model(resolve_model("carbon_hrtem"))
    print("\n| image | TTA | s | atoms F1 | RMSE (Å) |")
    print("|---|---|---:|---:|---:|")
    sigma, error = [], []  # per image: sigma (N, 2) and error (N, 2) [Å] of the matched atoms
    totals = {False: [0.0, []], True: [0.0, []]}
    for path in images + checks:
        micrograph = read_micrograph(path)
        truth = read_table(path.with_name(path.stem + ".truth.parquet"))
        grid = ImageGrid(micrograph.frames.shape[1:], micrograph.sampling)
        for augment in (False, True):
            start = time.perf_counter()
            _, _, sites = analyse_micrograph(micrograph, spec, net, {**CONFIG, "augment": augment}, device=torch.device(device))
            seconds = time.perf_counter() - start
            scores = score_sites(sites, truth, grid=grid, match_radius=0.5, border=1.0)
            atoms = scores[scores["kind"] == "atom"].iloc[0]
            totals[augment][0] += seconds
            totals[augment][1].append(atoms["rmse"])
            print(f"| {path.name} | {'8' if augment else '-'} | {seconds:.1f} | {atoms['f1']:.3f} | {atoms['rmse']:.4f} |")
            if augment:
                found = sites[(sites["kind"] == "atom") & grid.contains(sites["x"], sites["y"], margin=1.0)].dropna(subset=["sigma_x"])
                true_atoms = truth.loc[truth["kind"] == "atom", ["x", "y"]].to_numpy()
                distance, nearest = cKDTree(true_atoms).query(found[["x", "y"]].to_numpy(), distance_upper_bound=0.5)
                ok = np.isfinite(distance)
                error.append((found[["x", "y"]].to_numpy()[ok] - true_atoms[nearest[ok]]))
                sigma.append(found[["sigma_x", "sigma_y"]].to_numpy()[ok])
    rmse = {a: float(np.sqrt(np.mean(np.square(v[1])))) for a, v in totals.items()}
    print(
        f"\nTTA (8 passes): {totals[True][0] / totals[False][0]:.1f}x the time; atom RMSE {rmse[False]:.4f} -> {rmse[True]:.4f} Å "
        f"({100 * (1 - rmse[True] / rmse[False]):+.1f} % gain)."
    )
    raw = [raw_spread(v) for v in sigma]
    half = len(images) // 2
    floor, scale = fit_calibration(np.concatenate(raw[:half]), np.concatenate(error[:half]))
    print(
        f"\nSigma calibration fitted on {', '.join(p.name for p in images[:half])} (error² = floor² + scale² spread², "
        f"least squares per coordinate): SIGMA_FLOOR = {floor:.4f} Å, SIGMA_SCALE = {scale:.2f}."
    )
    held = slice(half, len(images))
    held_out = calibrated_sigma(np.concatenate(raw[held]), floor, scale)
    uncalibrated = calibrated_sigma(np.concatenate(raw[held]), 0.0, 1.0)
    calibration_plot(held_out, uncalibrated, np.concatenate(error[held]), [p.name for p in images[held]], plt)
    if checks:
        sigma_check, error_check = calibrated_sigma(np.concatenate(raw[len(images):]), floor, scale), np.concatenate(error[len(images):])
        rms_sigma, rms_error = binned(sigma_check, error_check)
        ratio = rms_error / rms_sigma
        print(
            f"\nChecked on {check_images} ({len(checks)} images, {error_check.size // 2} matched atoms) with these constants: "
            f"error / sigma {ratio.min():.2f}-{ratio.max():.2f} over the 8 bins, overall "
            f"{np.sqrt(np.mean(error_check**2)) / np.sqrt(np.mean(sigma_check**2)):.2f}."
        )


def raw_spread(sigma: np.ndarray) -> np.ndarray:
    """The spread over the 8 passes [Å] behind sites' sigma, undoing the shipped calibration."""
    return np.sqrt(np.maximum(sigma**2 - SIGMA_FLOOR**2, 0)) / SIGMA_SCALE


def fit_calibration(spread: np.ndarray, error: np.ndarray) -> tuple[float, float]:
    """floor [Å] and scale of error² = floor² + scale² spread², least squares over coordinates."""
    s2, e2 = spread.ravel() ** 2, error.ravel() ** 2
    (a2, b2), *_ = np.linalg.lstsq(np.column_stack([np.ones_like(s2), s2]), e2, rcond=None)
    return float(np.sqrt(max(a2, 0))), float(np.sqrt(max(b2, 0)))


def binned(sigma: np.ndarray, error: np.ndarray, bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """RMS sigma and RMS error [Å] in ``bins`` quantile bins of sigma."""
    s, e = sigma.ravel(), np.abs(error.ravel())
    edges = np.quantile(s, np.linspace(0, 1, bins + 1))
    which = np.clip(np.digitize(s, edges[1:-1]), 0, bins - 1)
    return (np.array([np.sqrt(np.mean(v[which == b] ** 2)) for b in range(bins)]) for v in (s, e))


def calibration_plot(sigma: np.ndarray, uncalibrated: np.ndarray, error: np.ndarray, names: list[str], plt) -> None:
    """Actual error against sigma per coordinate on held-out images, binned, before and after calibration."""
    fig, ax = plt.subplots(figsize=(5, 5), constrained_layout=True)
    lines = []
    for values, label in ((uncalibrated, "spread of the 8 passes"), (sigma, "calibrated sigma")):
        rms_sigma, rms_error = binned(values, error)
        ax.loglog(rms_sigma, rms_error, "o-", label=label)
        ratio = rms_error / rms_sigma
        lines.append(f"{label}: error / sigma {ratio.min():.2f}-{ratio.max():.2f} over the 8 bins, overall "
                     f"{np.sqrt(np.mean(error**2)) / np.sqrt(np.mean(values**2)):.2f}")
    line = np.array([min(uncalibrated.min(), sigma.min()) + 1e-3, max(uncalibrated.max(), sigma.max())])
    ax.loglog(line, line, "k--", label="error = sigma")
    ax.fill_between(line, line / 1.5, line * 1.5, color="grey", alpha=0.2, label="within a factor 1.5")
    ax.set_xlabel("sigma (Å), RMS per bin of sites")
    ax.set_ylabel("actual error (Å), RMS per bin")
    ax.set_title(f"held out: {', '.join(names)}", fontsize=9)
    ax.legend(fontsize=8)
    fig.savefig(HERE / "sigma_calibration.png", dpi=120)
    print(f"\nHeld out ({', '.join(names)}; {error.size // 2} matched atoms, x and y pooled, 8 quantile bins of sigma):\n")
    for text in lines:
        print(f"- {text}")
    print("\nPlot: sigma_calibration.png.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--quick", action="store_true", help="one real file and the 4096² image, no TTA study")
    parser.add_argument("--test-images", type=Path, default=TEST_IMAGES, help="simulated test images (*.tif, *.truth.parquet)")
    parser.add_argument("--check-images", type=Path, default=None, help="a second set of simulated test images to check the sigma calibration on")
    parser.add_argument("--only", choices=["speed", "tta"], help="one of the two studies")
    parser.add_argument("--tiny-large", action="store_true", help="the large images with a tiny network (memory), not the shipped one")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case), args.device)))
        return
    if not DATA.is_dir():
        sys.exit(f"{DATA}: the real data are not here")
    print("# Inference: speed, memory, test-time augmentation\n")
    flags = "".join(f" --{name.replace('_', '-')}" for name in ("quick", "tiny_large") if getattr(args, name))
    command = f"python benchmarks/inference/run.py --device {args.device}{flags}{f' --only {args.only}' if args.only else ''}"
    if args.only != "speed":
        command += f" --test-images {args.test_images}" + (f" --check-images {args.check_images}" if args.check_images else "")
    print(f"`{command}`; each case in a fresh process (peak RSS its own); tiles {CONFIG['tile_px']} px, overlap {CONFIG['overlap_px']}, batch 4.\n")
    if args.only != "tta":
        speed_table(args.device, args.quick, args.tiny_large)
    if not args.quick and args.only != "speed":
        tta_table(args.device, args.test_images, args.check_images)


if __name__ == "__main__":
    main()
