"""Cost of one training step of each architecture on this machine's CPU.

Usage (project root): ``python benchmarks/nets/run.py > benchmarks/nets/results.md``

One step = forward, MSE backward and an AdamW update on a batch of 8 crops of 128 x 128 px
with 3 output maps (atoms, centres, monolayer), one thread, median of 3 steps after a warm-up.
"""

from __future__ import annotations

import statistics
import time

import torch

from atomscope.nets import build_network

ARCHITECTURES = [
    {"kind": "resunet", "base_channels": 16, "depth": 3},
    {"kind": "resunet", "base_channels": 16, "depth": 4},
    {"kind": "msdnet", "depth": 25, "width": 1, "max_dilation": 10},
    {"kind": "msdnet", "depth": 50, "width": 1, "max_dilation": 10},
    {"kind": "msdnet", "depth": 100, "width": 1, "max_dilation": 10},
]


def step_seconds(architecture: dict) -> tuple[float, int]:
    net = build_network(architecture, 1, 3)
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x, y = torch.randn(8, 1, 128, 128), torch.rand(8, 3, 128, 128)
    times = []
    for i in range(4):
        start = time.perf_counter()
        loss = torch.nn.functional.mse_loss(net(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times), sum(p.numel() for p in net.parameters())


def main() -> None:
    torch.set_num_threads(1)
    print("# Training step cost by architecture (CPU, one thread)\n")
    print("`python benchmarks/nets/run.py`: batch 8 x 128 x 128 px, 3 output maps, median of 3 steps.\n")
    print("| architecture | parameters | s / step | steps in 1 h |")
    print("|---|---:|---:|---:|")
    for architecture in ARCHITECTURES:
        seconds, parameters = step_seconds(architecture)
        name = ", ".join(f"{k} {v}" for k, v in architecture.items())
        print(f"| {name} | {parameters:,} | {seconds:.2f} | {int(3600 / seconds):,} |")


if __name__ == "__main__":
    main()
