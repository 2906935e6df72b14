"""Network time of the shipped carbon models (predict_maps: rescale, normalise, tiles, blending) on
1k-8k images at 0.108 Å/px, and the GPU's peak memory.

Run (from the repository root): ``python benchmarks/inference/gpu_maps.py cuda`` (or ``cpu 1024``).
"""
import sys, time
import numpy as np, torch
from atomscope.inference.predict import predict_maps
from atomscope.nets.model_file import load_model
from atomscope.nets.shipped import resolve_model

dev = torch.device(sys.argv[1] if len(sys.argv) > 1 else "cuda")
sides = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1024, 4096, 8192]
img = np.random.default_rng(0).normal(1.0, 0.1, (1000, 1000)).astype(np.float32)  # the cost does not depend on the content
sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
print("| model | image (px) | augment | s | s per Mpx | peak GPU memory (GiB) |\n|---|---|---|---|---|---|")
for model in ("carbon_hrtem", "carbon_stem"):
    spec, net = load_model(resolve_model(model), device=dev)
    predict_maps(img[:512, :512], 0.108, net, spec, device=dev)  # warm-up
    for side in sides:
        frame = np.tile(img, (side // img.shape[0] + 1, side // img.shape[1] + 1))[:side, :side]
        for augment in ((False, True) if side <= 4096 else (False,)):
            if dev.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            sync(); t = time.perf_counter()
            predict_maps(frame, 0.108, net, spec, device=dev, augment=augment)
            sync(); dt = time.perf_counter() - t
            mem = torch.cuda.max_memory_allocated() / 2**30 if dev.type == "cuda" else float("nan")
            print(f"| {model} | {side} x {side} | {augment} | {dt:.2f} | {dt / (side * side / 1e6):.3f} | {mem:.2f} |", flush=True)
