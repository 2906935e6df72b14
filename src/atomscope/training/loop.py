"""Training loop in the shape of torchvision's reference scripts: train and evaluate.

The trained model is written by :func:`atomscope.io.write_model` (safetensors + spec)."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from atomscope.labels import detection_scores, find_peaks
from atomscope.training.dataset import random_batch

__all__ = ["seed_torch", "train", "evaluate", "predict_images"]

log = logging.getLogger(__name__)


def seed_torch(seed: int) -> None:
    """Seed torch and make its algorithms deterministic (the one place torch is seeded)."""
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


@torch.inference_mode()
def predict_images(net: nn.Module, images: np.ndarray, *, device: torch.device, batch_size: int = 4) -> np.ndarray:
    """Heat maps (N, K, H, W) of standardised images (N, C, H, W) whose sides divide by 2**depth."""
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
    without truth (e.g. a monolayer mask) are not scored. ``min_distance`` and
    ``match_radius`` are in Å.
    """
    maps = predict_images(net, images, device=device)
    scores: dict[str, float] = {}
    for k, name in enumerate(target_names):
        if name not in truth[0]:
            continue
        detected, true = [], []
        for i, s in enumerate(sampling):
            peaks = find_peaks(maps[i, k], min_distance_px=max(1, int(min_distance / s)), threshold=threshold)
            # offset each image so that matches never pair sites of different images
            offset = np.array([0.0, i * 1e4])
            detected.append(peaks[["x_px", "y_px"]].to_numpy() * s + offset)
            true.append(np.asarray(truth[i][name]).reshape(-1, 2) + offset)
        result = detection_scores(np.concatenate(detected), np.concatenate(true), radius=match_radius)
        scores.update({f"{name}_{key}": value for key, value in result.items()})
    return scores


def train(
    net: nn.Module,
    images: np.ndarray,
    targets: np.ndarray,
    *,
    steps: int,
    batch_size: int,
    crop_px: int,
    learning_rate: float,
    eval_every: int,
    evaluate_fn: Callable[[nn.Module], Mapping[str, float]],
    rng: np.random.Generator,
    device: torch.device,
) -> list[dict[str, Any]]:
    """Adam on the mean squared error between predicted and target heat maps.

    ``images`` must be standardised. Every ``eval_every`` steps (and after the last step)
    ``evaluate_fn(net)`` adds validation scores. Returns one dict per evaluation with the
    step, the mean training loss since the previous evaluation and the scores.
    """
    net.to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps, eta_min=learning_rate / 20)
    loss_fn = nn.MSELoss()
    rows: list[dict[str, Any]] = []
    losses: list[float] = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        net.train()
        x, y = random_batch(images, targets, batch_size=batch_size, crop_px=crop_px, rng=rng)
        loss = loss_fn(net(torch.from_numpy(x).to(device)), torch.from_numpy(y).to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        if step % eval_every == 0 or step == steps:
            row = {"step": step, "train_loss": float(np.mean(losses)), "seconds": time.perf_counter() - start}
            row.update(evaluate_fn(net))
            rows.append(row)
            losses = []
            log.info(
                "step %d/%d  loss %.5f  %s  %.1f s",
                step,
                steps,
                row["train_loss"],
                "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k.endswith("_f1")),
                row["seconds"],
            )
    return rows
