"""Training loop in the shape of torchvision's reference scripts: train (with checkpoints and
resume) and evaluate.

The trained model is written by :func:`atomscope.io.write_model` (safetensors + spec).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from atomscope.labels import detection_scores, find_peaks
from atomscope.labels.classes import EMPTY_CLASSES, classify_sites, empty_sites, head_layout, softmax
from atomscope.training.distributed import World, mean_over_ranks

__all__ = ["seed_torch", "train", "evaluate", "predict_images", "warmup_cosine"]

log = logging.getLogger(__name__)


def seed_torch(seed: int) -> None:
    """Seed torch and make its algorithms deterministic (the one place torch is seeded)."""
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


@torch.inference_mode()
def predict_images(net: nn.Module, images: np.ndarray, *, device: torch.device, batch_size: int = 4) -> np.ndarray:
    """Heat maps (N, K, H, W) of normalised images (N, C, H, W) whose sides divide by the network's stride."""
    net.eval()
    out = [
        net(torch.from_numpy(np.ascontiguousarray(images[i : i + batch_size])).to(device)).float().cpu().numpy()
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(out)


def evaluate(
    net: nn.Module,
    images: np.ndarray,
    truth: Sequence[Mapping[str, np.ndarray]],
    sampling: np.ndarray,
    *,
    target_names: Sequence[str],
    device: torch.device,
    threshold: float,
    min_distance: float,
    match_radius: float,
) -> dict[str, float]:
    """Detection scores per target channel, pooled over the validation images.

    ``truth[i][name]`` holds the true (x, y) [Å] of image i for target ``name``; channels
    without truth (e.g. a monolayer mask) are not scored. Species targets (``species:<class>``)
    are scored through the classes head: an atom found by the atoms head counts for the
    class it is given (:func:`atomscope.labels.classes.classify_sites`), a vacancy is a peak
    of its class map. ``min_distance`` and ``match_radius`` are in Å.
    """
    maps = predict_images(net, images, device=device)
    peak_targets, species_targets, classes = head_layout(target_names)
    detected: dict[str, list[np.ndarray]] = {}
    for i, s in enumerate(sampling):
        # offset each image so that matches never pair sites of different images
        offset = np.array([0.0, i * 1e4])
        found = {}
        for j, k in enumerate(peak_targets):
            found[target_names[k]] = find_peaks(maps[i, j], min_distance_px=max(1, int(min_distance / s)), threshold=threshold)
        if species_targets:
            probs = softmax(maps[i, len(peak_targets) :])
            atoms = found["atoms"]
            species = classify_sites(probs, atoms[["x_px", "y_px"]].to_numpy(), classes, s)["species"].to_numpy()
            empty = empty_sites(probs, classes, s, min_distance=min_distance)
            for c in classes[1:]:
                table = empty[empty["species"] == c] if c in EMPTY_CLASSES else atoms[species == c]
                found[f"species:{c}"] = table
        for name, peaks in found.items():
            if name in truth[i]:
                detected.setdefault(name, []).append(peaks[["x_px", "y_px"]].to_numpy() * s + offset)
    scores: dict[str, float] = {}
    for name, positions in detected.items():
        true = [np.asarray(truth[i][name]).reshape(-1, 2) + np.array([0.0, i * 1e4]) for i in range(len(sampling))]
        result = detection_scores(np.concatenate(positions), np.concatenate(true), radius=match_radius)
        scores.update({f"{name}_{key}": value for key, value in result.items()})
    return scores


def warmup_cosine(steps: int, warmup: float = 0.05, floor: float = 0.05) -> Callable[[int], float]:
    """Learning-rate factor of step s: linear warm-up over the first ``warmup`` of the steps, then a
    cosine from 1 down to ``floor`` at the last step."""
    n_warm = max(1, int(warmup * steps))

    def factor(step: int) -> float:
        if step < n_warm:
            return (step + 1) / n_warm
        progress = min(1.0, (step - n_warm) / max(1, steps - n_warm))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def train(
    net: nn.Module,
    batches: Callable[[int], Iterable[tuple[torch.Tensor, torch.Tensor]]],
    *,
    steps: int,
    learning_rate: float,
    eval_every: int,
    evaluate_fn: Callable[[nn.Module], Mapping[str, float]],
    device: torch.device,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    run_key: str = "",
    weight_decay: float = 1e-4,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    world: World | None = None,
) -> list[dict[str, Any]]:
    """AdamW on ``loss_fn(prediction, target)`` (default: the mean squared error between
    predicted and target maps), with warm-up and cosine decay.

    ``batches(start)`` yields the (image, target) batches of steps ``start`` + 1, ``start`` + 2,
    ... (e.g. a DataLoader over :class:`.CropDataset` from crop ``start * batch_size``). Every
    ``eval_every`` steps (and after the last) ``evaluate_fn(net)`` adds validation scores. On
    CUDA the forward pass runs in bfloat16 (mixed precision; bfloat16 keeps float32's exponent
    range, so no gradient scaling is needed). The log gives the steps per second.

    With ``world`` (several processes), ``net`` is the DistributedDataParallel-wrapped network:
    the training loss is averaged over the processes, every process validates the bare
    network alike, and only rank 0 writes the checkpoint, which any number of processes resumes.

    With ``checkpoint`` (a file path), the weights, optimiser, schedule and the rows so far are
    written there every ``checkpoint_every`` steps, and a run that finds a checkpoint with the
    same ``run_key`` (a hash of the training config and its data) resumes from its step; a
    checkpoint of another run is ignored and overwritten.

    Returns one dict per evaluation with the step, the mean training loss since the previous
    evaluation, the seconds spent training so far and the scores.
    """
    world = world or World(0, 1, device)
    bare = getattr(net, "module", net)  # DistributedDataParallel wraps it; weights and validation use it bare
    net.to(device)
    optimiser = torch.optim.AdamW(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, warmup_cosine(steps))
    state = _resume(checkpoint, run_key, bare, optimiser, schedule)
    start, rows, losses, spent = state["step"], state["rows"], state["losses"], state["seconds"]
    if start:
        log.info("resuming from step %d of %d (%s)", start, steps, checkpoint)
    loss_fn = loss_fn or nn.MSELoss()
    amp = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    began = time.perf_counter() - spent
    last_step, last_time = start, time.perf_counter()
    progress = tqdm(total=steps, initial=start, desc="training", unit="step", file=sys.stderr, mininterval=30)
    step = start
    for x, y in batches(start):
        if step >= steps:
            break
        step += 1
        net.train()
        with amp:
            prediction = net(x.to(device, non_blocking=True))
        loss = loss_fn(prediction.float(), y.to(device, non_blocking=True))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        progress.update()
        progress.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        if step % eval_every == 0 or step == steps:
            now = time.perf_counter()
            rate = (step - last_step) / (now - last_time)
            row = {"step": step, "train_loss": mean_over_ranks(float(np.mean(losses)), world), "seconds": now - began}
            row.update({k: float(v) for k, v in evaluate_fn(bare).items()})
            rows.append(row)
            losses = []
            log.info(
                "step %d/%d  loss %.5f  %s  %.1f s  %.2f steps/s",
                step,
                steps,
                row["train_loss"],
                "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k.endswith("_f1")),
                row["seconds"],
                rate,
            )
            last_step, last_time = step, time.perf_counter()
        if checkpoint is not None and world.main and (step % checkpoint_every == 0) and step < steps:
            _save(checkpoint, run_key, step, bare, optimiser, schedule, rows, losses, time.perf_counter() - began)
    progress.close()
    if step < steps:
        raise ValueError(f"the training data ran out after {step} of {steps} steps")
    return rows


def _save(path, run_key, step, net, optimiser, schedule, rows, losses, seconds) -> None:
    """Write a checkpoint atomically (a killed job never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    state = {
        "run_key": run_key,
        "step": step,
        "net": net.state_dict(),
        "optimiser": optimiser.state_dict(),
        "schedule": schedule.state_dict(),
        "rows": rows,
        "losses": losses,
        "seconds": seconds,
    }
    torch.save(state, tmp)
    os.replace(tmp, path)


def _resume(path, run_key, net, optimiser, schedule) -> dict[str, Any]:
    """Load a checkpoint of this run into net, optimiser and schedule; the state to go on from."""
    fresh = {"step": 0, "rows": [], "losses": [], "seconds": 0.0}
    if path is None or not Path(path).exists():
        return fresh
    # weights_only: tensors, numbers, strings and containers only; a checkpoint runs no code
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("run_key") != run_key:
        log.info("%s belongs to another training run (config or data changed): starting afresh", path)
        return fresh
    net.load_state_dict(state["net"])
    optimiser.load_state_dict(state["optimiser"])
    schedule.load_state_dict(state["schedule"])
    return {k: state[k] for k in fresh}
