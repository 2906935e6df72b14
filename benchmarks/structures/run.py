"""Ring statistics, bond/angle spread and generation time of the amorphous-carbon models.

Writes benchmarks/structures/results.md (and prints it). Run from the repository root:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=src python benchmarks/structures/run.py

For each Poisson-disk setting (radius, radius_spread) a few 60 x 60 Å models are built
without and with the valence-force-field relaxation; ring-size fractions come from the
model's own rings (periodic, every ring counted), bond lengths and angles from the atom
positions (bonds < 1.85 Å, angles between bonds that follow each other around an atom).
Timings: median of repeated builds of a 100 x 100 Å model on one thread.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from atomscope._shared.seeding import stage_rng
from atomscope.structures import amorphous_carbon
from atomscope.structures.amorphous import DEFAULT_RADIUS_PER_BOND
from atomscope.structures.materials import build_model

OUT = Path(__file__).with_name("results.md")
COMMAND = "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=src python benchmarks/structures/run.py"
SEEDS = (0, 1, 2)
CELL = (60.0, 60.0)
CUTOFF = 1.85  # [Å]
DEFAULT_RADIUS = 1.42 * DEFAULT_RADIUS_PER_BOND


def bonds_and_angles(sites, cell) -> tuple[np.ndarray, np.ndarray]:
    """Periodic bond lengths [Å] and bond angles [deg] (consecutive bonds around each three-fold atom)."""
    xy = sites.loc[sites["kind"] == "atom", ["x", "y"]].to_numpy()
    box = np.asarray(cell)
    pairs = cKDTree(xy, boxsize=box).query_pairs(CUTOFF, output_type="ndarray")
    src, dst = np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
    d = xy[dst] - xy[src]
    d -= box * np.round(d / box)
    lengths = np.hypot(d[: len(pairs), 0], d[: len(pairs), 1])  # each bond once
    azimuth = np.arctan2(d[:, 1], d[:, 0])
    order = np.lexsort((azimuth, src))
    src, azimuth = src[order], azimuth[order]
    degree = np.bincount(src, minlength=len(xy))[src]
    start = np.searchsorted(src, np.arange(len(xy)))[src]
    nxt = start + (np.arange(len(src)) - start + 1) % degree
    angle = np.degrees(np.mod(azimuth[nxt] - azimuth, 2 * np.pi))
    return lengths, angle[degree == 3]


def ring_fractions(sites) -> dict[int, float]:
    ring = sites.loc[sites["kind"] == "centre", "ring_size"].to_numpy()
    return {n: float(np.mean(ring == n)) for n in range(4, 10)}


def statistics_row(radius: float | None, spread: float) -> dict:
    rows = {False: [], True: []}
    for relax in (False, True):
        for seed in SEEDS:
            sites, info = amorphous_carbon(CELL, rng=stage_rng(seed, "structures", 0), radius=radius, radius_spread=spread, relax=relax)
            bonds, angles = bonds_and_angles(sites, info["cell"])
            rows[relax].append({**ring_fractions(sites), "n": info["n_atoms"], "bond": bonds.mean(), "bond_std": bonds.std(), "angle_std": angles.std()})
    mean = {relax: {k: float(np.mean([r[k] for r in rows[relax]])) for k in rows[relax][0]} for relax in rows}
    return {"radius": radius if radius is not None else DEFAULT_RADIUS, "spread": spread, **mean[False], "relaxed": mean[True]}


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        fn(k)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    lines = [
        "# Structures benchmark: amorphous-carbon ring statistics and generation time",
        "",
        "Command (repository root):",
        "",
        f"    {COMMAND}",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs shared with another job "
        f"(load average at start {os.getloadavg()[0]:.2f}); Python {sys.version.split()[0]}, numpy {np.__version__}.",
        "",
        "## Ring-size fractions and bond/angle spread against the Poisson-disk parameters",
        "",
        f"Models of {CELL[0]:g} x {CELL[1]:g} Å, mean over seeds {list(SEEDS)}; every ring of the periodic model counted.",
        "Bond and angle spreads: standard deviations over all bonds (< 1.85 Å) and all angles between bonds",
        "that follow each other around a three-fold atom; 'relaxed' = valence force field + FIRE (`relax: true`).",
        "The radius only sets how many atoms fill the requested cell before the model is scaled to a 1.42 Å",
        "mean bond, so it leaves the statistics unchanged (rows with the same spread agree within seed",
        "noise); the spread shifts them, but only slightly (see below).",
        "",
        "| radius [Å] | radius_spread | atoms | 4 | 5 | 6 | 7 | 8 | 9 | bond mean [Å] | bond std [Å] | angle std [°] | relaxed: bond mean [Å] | relaxed: bond std [Å] | relaxed: angle std [°] |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    settings = [(None, s) for s in (0.0, 0.05, 0.1, 0.15, 0.2)] + [(0.8 * DEFAULT_RADIUS, 0.0), (1.25 * DEFAULT_RADIUS, 0.0), (0.8 * DEFAULT_RADIUS, 0.2)]
    table = []
    for radius, spread in settings:
        r = statistics_row(radius, spread)
        table.append(r)
        rel = r["relaxed"]
        fractions = " | ".join(f"{r[n]:.3f}" for n in range(4, 10))
        lines.append(
            f"| {r['radius']:.3f} | {spread:.2f} | {r['n']:.0f} | {fractions} | {r['bond']:.3f} | {r['bond_std']:.3f} | {r['angle_std']:.1f} "
            f"| {rel['bond']:.3f} | {rel['bond_std']:.3f} | {rel['angle_std']:.1f} |"
        )
        print(lines[-1], flush=True)
    span = {n: (min(r[n] for r in table), max(r[n] for r in table)) for n in range(4, 10)}
    inside = [sum(r[n] for n in range(5, 9)) for r in table]
    lines += [
        "",
        "Reference: monolayer amorphous carbon (Toh et al., Nature 577, 199-203, 2020) is a network of 5- to",
        f"8-membered rings. Here 5- to 8-rings make {min(inside):.1%} to {max(inside):.1%} of all rings; the rest are",
        f"4-rings ({span[4][0]:.1%} to {span[4][1]:.1%}) and 9-rings (at most {span[9][1]:.1%}), present at every setting: the",
        "Voronoi construction makes them and neither relaxation changes the topology. Across the allowed",
        f"parameters the fractions move little (6-rings {span[6][0]:.1%} to {span[6][1]:.1%}, 8-rings {span[8][0]:.1%} to",
        f"{span[8][1]:.1%}): `radius_spread` <= 0.2 tunes the ring statistics only slightly, `radius` not at all.",
        "",
        "## Generation time",
        "",
        "One thread, median of the runs listed (wall clock, including the Poisson-disk sampling, the Voronoi",
        "network, the spring relaxation and the sites table).",
        "",
        "| model | median [s] | runs [s] | atoms |",
        "|---|---|---|---|",
    ]
    cases = [
        ("amorphous carbon 100 x 100 Å, no relaxation", lambda k: amorphous_carbon((100.0, 100.0), rng=k), 7),
        ("amorphous carbon 100 x 100 Å, relaxed (valence force field + FIRE)", lambda k: amorphous_carbon((100.0, 100.0), rng=k, relax=True), 3),
        ("graphene 100 x 100 Å, 2 Stone-Wales + 2 5-8-5 + 2 Si + 2 N (relaxed)", lambda k: build_model({"material": "graphene", "cell": [100.0, 100.0], "pores": {"count": [0, 0]}, "graphene": {"defects": {"stone_wales": [2, 2], "divacancy_585": [2, 2], "si3": [1, 1], "si4": [1, 1], "nitrogen": [2, 2]}}}, rng=stage_rng(k, "structures", 0)), 3),
        ("MoS2 100 x 100 Å, 5 % S vacancies, 2 % double, 1 % Mo vacancies", lambda k: build_model({"material": "MoS2", "cell": [100.0, 100.0], "tmd": {"chalcogen_vacancy": 0.05, "chalcogen_double_vacancy": 0.02, "metal_vacancy": 0.01}}, rng=stage_rng(k, "structures", 0)), 5),
        ("twisted bilayer MoS2 ~100 x 100 Å", lambda k: build_model({"material": "twisted_bilayer_MoS2", "cell": [100.0, 100.0]}, rng=stage_rng(k, "structures", 0)), 3),
    ]
    for name, fn, repeats in cases:
        result = fn(0)
        n_atoms = result[1]["n_atoms"]
        median, times = median_time(fn, repeats)
        lines.append(f"| {name} | {median:.2f} | {', '.join(f'{t:.2f}' for t in times)} | {n_atoms} |")
        print(lines[-1], flush=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
