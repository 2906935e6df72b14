"""The best per-class F1 any detector could reach on a species preset's ADF-STEM test images.

An ideal observer classifies every true column of a fixed-dose test set (the folders of
``run.py``) by its posterior: it knows each column's position, the species of every other
column and each column's sublattice, the microscope (probe, scan jitter and drift, pedestal,
illumination), the class frequencies of the set, and it reads the shot-noise counts before the
detector blur. Each of
these only helps, so its F1 bounds from above what a network, which knows none of them, can
reach on the same physics; where the bound is below a bar, no model can meet the bar.

For the convolution approximation (:func:`atomscope.simulation.stem.stem_convolution`) the
image is linear in the columns' Z^n weights: a column of class h instead of its true class
changes the expected image by (W_h - W_true) x cross-section x the probe intensity centred on
the column. The observer turns the Poisson log-likelihood of the counts under every class of
the column's sublattice (the classes of the set's columns there), plus the log prior, into a
posterior. The counts are fresh Poisson draws of the expected image (``DRAWS`` per image): the
noise, not the structures, is what the bound is about. Per class, the F1 of calling it where its
posterior passes a threshold, at the best threshold, over the columns 1 Å or more inside the
edge (``run.py``'s border), pooled per material and over the draws.

    python benchmarks/species/ideal_observer.py PRESET SET [SET ...] > table.md

Only the ``stem_convolution`` presets (tmd_stem, graphene_dopant_stem) have this linear
image; the HRTEM focal model is not covered.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import ndimage
from ase.data import atomic_numbers
from scipy.spatial import cKDTree

from atomscope.config import defaults
from atomscope.io import ImageGrid, read_table
from atomscope.labels import projected_columns, sites_in_view
from atomscope.simulation.lens import Lens
from atomscope.simulation.hrtem import fast_gpts
from atomscope.simulation.noise import line_jitter, linear_gradient, scan_drift
from atomscope.simulation.stem import probe_intensity, scan_positions, stem_convolution
from atomscope.structures.sites import sites_to_atoms

BORDER, DRAWS, SUPPORT = 1.0, 8, 1e-4
_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)")
_METALS, _CHALCOGENS = {"Mo", "W", "Fe"}, {"S", "Se", "Te"}


def _elements(name: str) -> list[tuple[str, int]]:
    """(element, count) of a column class, the inverse of :func:`atomscope.structures.crystals.column_class`
    ("SSe" -> [("S", 1), ("Se", 1)])."""
    parts = _ELEMENT.findall(name)
    if "".join(e + n for e, n in parts) != name or any(e not in atomic_numbers for e, _ in parts):
        raise ValueError(f"cannot read the elements of column class {name!r}")
    return [(e, int(n or 1)) for e, n in parts]


def column_weight(name: str, exponent: float) -> float:
    """Sum of Z^n over the atoms of a column class ("S2" -> 2 x 16^n, "vacancy" -> 0)."""
    return 0.0 if name == "vacancy" else sum(n * atomic_numbers[e] ** exponent for e, n in _elements(name))


def sublattices(columns: pd.DataFrame) -> np.ndarray:
    """Sublattice of each column ("metal", "chalcogen" or "lattice" for graphene's one); a
    vacancy's is the other one of its nearest occupied column's (the observer knows it)."""
    def of(name):
        elements = {e for e, _ in _elements(name)}
        return "metal" if elements & _METALS else "chalcogen" if elements <= _CHALCOGENS else "lattice"

    occupied = columns["species_class"].ne("vacancy").to_numpy()
    labels = np.array([None if name == "vacancy" else of(name) for name in columns["species_class"]], dtype=object)
    if (~occupied).any() and occupied.any():
        _, nearest = cKDTree(columns.loc[occupied, ["x", "y"]].to_numpy()).query(columns.loc[~occupied, ["x", "y"]].to_numpy())
        other = {"metal": "chalcogen", "chalcogen": "metal", "lattice": "lattice"}
        labels[~occupied] = [other[label] for label in labels[occupied][nearest]]
    return labels


def observe_image(sites, columns, cell, params, stem, priors, rng) -> pd.DataFrame:
    """Posterior of every class of its sublattice (columns ``p_<class>``, per draw) for each of
    the true ``columns`` (with their ``sublattice``) farther than ``BORDER`` inside the edge of one image."""
    size = stem["image_size_px"]
    sampling = float(params["sampling"])
    drift = scan_drift(size, drift=params["scan_drift"], angle=params["scan_drift_angle"])
    jitter = line_jitter(size, jitter=params["scan_jitter"], rng=rng)
    positions = scan_positions((size, size), sampling, dx=drift[0] + jitter, dy=drift[1])
    lens = replace(Lens.from_params(params), focal_spread=0.0, angular_spread=0.0)
    grid_sampling = min(stem["potential_sampling"], sampling / 2)
    clean = stem_convolution(
        sites_to_atoms(sites, cell), positions, lens,
        exponent=stem["exponent"], cross_section=stem["cross_section"], grid_sampling=grid_sampling,
    ).astype(np.float64)
    gain = 1 + linear_gradient(clean.shape, amplitude=params["illumination"], angle=params["illumination_angle"])
    scale = float(params["dose"]) * sampling**2
    pedestal = params["offset"] * clean.mean()  # the smooth background field is left out: it only adds noise
    expected = (clean * gain + pedestal) * scale
    counts = rng.poisson(np.broadcast_to(expected, (DRAWS, *expected.shape)))
    # One unit weight's image centred on a column: the probe on the convolution grid read at the
    # scan positions minus the column (stem_convolution's last step for a single atom).
    gpts = fast_gpts(cell, grid_sampling)
    step = np.array(cell) / np.array(gpts)
    psf = probe_intensity(lens, tuple(cell), gpts) * stem["cross_section"]
    grid = ImageGrid((size, size), sampling)
    rows = []
    for column in columns[np.asarray(grid.contains(columns["x"], columns["y"], margin=BORDER), bool)].itertuples():
        coords = [(positions[..., 0] - column.x) / step[0], (positions[..., 1] - column.y) / step[1]]
        unit = ndimage.map_coordinates(psf, coords, order=3, mode="grid-wrap") * gain * scale
        near = unit > SUPPORT * unit.max()
        e0, u, n = np.clip(expected[near], 1e-12, None), unit[near], counts[:, near]
        hypotheses = priors[column.sublattice]
        change = {h: column_weight(h, stem["exponent"]) - column_weight(column.species_class, stem["exponent"]) for h in hypotheses}
        loglik = np.stack([
            (n * np.log(np.clip(e0 + change[h] * u, 1e-12, None) / e0)).sum(axis=1) - change[h] * u.sum() + np.log(prior)
            for h, prior in hypotheses.items()
        ])
        posterior = np.exp(loglik - loglik.max(axis=0))
        posterior /= posterior.sum(axis=0)
        rows.append(pd.DataFrame({f"p_{h}": p for h, p in zip(hypotheses, posterior)}).assign(species_class=column.species_class))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def true_columns(sites: pd.DataFrame, cell, grid: ImageGrid) -> pd.DataFrame:
    """Projected atom and vacancy columns in view (not contamination), as ``run.py`` scores them."""
    columns = projected_columns(sites_in_view(sites, cell, grid))
    return columns[columns["kind"].isin(["atom", "vacancy"]) & (columns["species_class"] != "contamination")].reset_index(drop=True)


def best_f1(scores: np.ndarray, positive: np.ndarray) -> float:
    """Largest F1 of calling the class where ``scores`` exceed a threshold, over every threshold."""
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], positive[order]
    tp = np.cumsum(y)
    fp = np.cumsum(~y)
    cut = np.r_[s[1:] != s[:-1], True]  # only between distinct scores
    f1 = 2 * tp[cut] / (2 * tp[cut] + fp[cut] + (y.sum() - tp[cut]))
    return float(f1.max()) if y.any() else float("nan")


def score_set(folder: Path, simulation: dict, rng) -> pd.DataFrame:
    """The observer's best F1 and the true columns per material and class over one fixed-dose set."""
    sites = read_table(folder / "results/structures/test/0.parquet")
    models = read_table(folder / "results/structures/test/0.models.parquet").set_index("model")
    params = read_table(folder / "results/simulations/test/0.parquet").set_index("model")
    size = simulation["image_size_px"]
    stem = dict(simulation["stem"], image_size_px=size, potential_sampling=simulation["potential_sampling"])
    views = {}
    for model in params.index:
        cell = (models.at[model, "cell_x"], models.at[model, "cell_y"])
        columns = true_columns(sites[sites["model"] == model], cell, ImageGrid((size, size), float(params.at[model, "sampling"])))
        views[model] = columns.assign(material=models.at[model, "material"], sublattice=sublattices(columns))
    every = pd.concat(views.values())
    priors = {
        material: {lattice: group["species_class"].value_counts(normalize=True).to_dict() for lattice, group in table.groupby("sublattice")}
        for material, table in every.groupby("material")
    }
    observed = []
    for model in params.index:
        material = models.at[model, "material"]
        cell = (models.at[model, "cell_x"], models.at[model, "cell_y"])
        own = sites[sites["model"] == model]
        observed.append(observe_image(own, views[model], cell, params.loc[model], stem, priors[material], rng).assign(material=material))
    observed = pd.concat(observed, ignore_index=True)
    rows = []
    for (material, name), group in observed.groupby(["material", "species_class"]):
        table = observed[observed["material"] == material]
        scores = table[f"p_{name}"].fillna(0.0).to_numpy()
        rows.append({"material": material, "species": name, "columns": len(group) // DRAWS,
                     "f1": best_f1(scores, table["species_class"].eq(name).to_numpy())})
    return pd.DataFrame(rows)


def main() -> None:
    preset, sets = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    simulation = defaults("simulation") | (yaml.safe_load(preset.read_text()).get("simulation") or {})
    simulation["stem"] = defaults("simulation")["stem"] | (simulation.get("stem") or {})
    if simulation["mode"] != "stem_convolution":
        sys.exit(f"{preset}: simulation.mode is {simulation['mode']!r}; the ideal observer needs the linear image of 'stem_convolution'")
    rng = np.random.default_rng(0)
    tables = []
    for folder in sets:
        dose = float(read_table(folder / "results/simulations/test/0.parquet")["dose"].iloc[0])
        tables.append(score_set(folder, simulation, rng).assign(dose=dose))
    table = pd.concat(tables, ignore_index=True)
    wide = table.pivot_table(index=["material", "species"], columns="dose", values="f1")
    wide.columns = [f"bound at {d:.0e} e/Å²" for d in wide.columns]
    wide.insert(0, "true columns per dose", table.pivot_table(index=["material", "species"], columns="dose", values="columns").max(axis=1).astype(int))
    print(wide.reset_index().to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
