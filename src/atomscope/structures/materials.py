"""A shard of atomic models, built from the ``structures`` config section.

One model per image: the material's layer(s) with their defects (:data:`MATERIALS`), then
for carbon materials optionally a partial second layer, then optional contamination, the
monolayer label, and optional frozen-phonon configurations. Every draw comes from the
shard's ``rng``; with the default config (amorphous carbon, no extras) the draws are those
of the first version of this stage, so its models are unchanged.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from atomscope.config import defaults, with_defaults
from atomscope.structures._periodic import pair_distances
from atomscope.structures._sheet import Sheet, cut, sheet_sites
from atomscope.structures.amorphous import amorphous_carbon, in_pores
from atomscope.structures.crystals import TMDS, aligned_cell, graphene_sheet, tmd_layer, tmd_sites
from atomscope.structures.defects import graphene_bicrystal, graphene_defects, tmd_defects
from atomscope.structures.relax import relax_sheet
from atomscope.structures.sites import label_monolayer, monolayer_map
from atomscope.structures.stacking import INTERLAYER, coincidence_cell, contamination, second_layer
from atomscope.structures.vibrations import frozen_phonons

__all__ = ["MATERIALS", "Material", "build_model", "build_shard"]

#: What a material builder returns: sites, cell (Lx, Ly) [Å], defect records, models-table fields.
_Layer = tuple[pd.DataFrame, tuple[float, float], list[dict], dict[str, Any]]


@dataclass(frozen=True)
class Material:
    """A material of ``structures.material``: its builder, and whether it is a carbon layer
    (which can get a partial second carbon layer, ``structures.bilayer``)."""

    build: Callable[[Mapping[str, Any], np.random.Generator], _Layer]
    carbon: bool



#: Pixel size of the grid on which the monolayer fraction of a model is measured [Å].
_MONOLAYER_SAMPLING = 0.5


@contextmanager
def _config_key(key: str = "") -> Iterator[None]:
    """Re-raise a library ``ValueError`` prefixed with the config section (``structures.<key>``) it came from."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{'.'.join(filter(None, ('structures', key)))}: {err}") from err


def _materials(config: Mapping[str, Any]) -> list[str]:
    """The names of ``structures.material`` (one name, or a list to draw one from per model), checked."""
    value = config["material"]
    names = [value] if isinstance(value, str) else list(value)
    unknown = [name for name in names if name not in MATERIALS]
    if not names or unknown:
        raise ValueError(f"structures.material: unknown material(s) {unknown or value!r}; supported: {list(MATERIALS)}")
    return names


def _count(rng: np.random.Generator, bounds) -> int:
    lo, hi = bounds
    return int(rng.integers(lo, hi + 1)) if hi > 0 else 0


def build_shard(
    config: Mapping[str, Any], *, n_models: int, first_model: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build ``n_models`` models numbered from ``first_model``.

    Returns the sites (one row per atom, centre or vacancy, with a ``model`` column; see
    :mod:`atomscope.structures.sites`) and one row per model: ``model``, ``material``,
    ``cell_x``, ``cell_y`` [Å], ``n_atoms``, ``n_centres``, ``n_pores``, ``radius`` [Å],
    ``radius_spread``, ``mean_bond`` [Å] (carbon layers; NaN otherwise), ``n_layers``,
    ``n_vacancies``, ``n_defects``, ``defects`` (JSON list of ``{"type", "x", "y", ...}`` [Å]),
    ``twist`` [deg] and ``strain`` (top layer, stacked materials), ``second_layer``, ``layer_spacing``
    [Å], ``monolayer_fraction`` (of the cell area), ``configurations`` (frozen phonons) and ``relaxed``.
    """
    config = with_defaults(config, defaults("structures"))
    _materials(config)
    sites, models = [], []
    for model in range(first_model, first_model + n_models):
        frame, row = build_model(config, rng=rng)
        sites.append(frame.assign(model=model))
        models.append({"model": model, **row})
    return pd.concat(sites, ignore_index=True), pd.DataFrame(models)


def build_model(config: Mapping[str, Any], *, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """One model from a ``structures`` config section: sites and its row of the models table (without ``model``)."""
    config = with_defaults(config, defaults("structures"))
    names = _materials(config)
    name = names[0] if len(names) == 1 else str(rng.choice(names))
    material = MATERIALS[name]
    row = {"n_pores": 0, "radius": np.nan, "radius_spread": np.nan, "mean_bond": np.nan}
    row |= {"twist": np.nan, "strain": np.nan, "second_layer": "", "layer_spacing": np.nan, "relaxed": bool(config["relax"])}
    sites, box, defects, fields = material.build(config, rng)
    row |= fields
    if material.carbon and config["bilayer"]["probability"] > 0:
        if rng.random() < config["bilayer"]["probability"]:
            with _config_key("bilayer"):
                top, spacing, kind = _second_layer(config, box, rng)
            sites = pd.concat([sites, top], ignore_index=True)
            row |= {"second_layer": kind, "layer_spacing": spacing}
    n_clusters = _count(rng, config["contamination"]["count"])
    if n_clusters:
        atoms = sites[sites["kind"] == "atom"]
        with _config_key("contamination"):
            dirt, clusters = contamination(
                box,
                count=n_clusters,
                radius=tuple(config["contamination"]["radius"]),
                aspect=tuple(config["contamination"]["aspect"]),
                z_base=float(atoms["z"].max()),
                layer=int(atoms["layer"].max()) + 1,
                rng=rng,
            )
        sites = pd.concat([sites, dirt], ignore_index=True)
        defects += clusters
    sites = label_monolayer(sites, box)
    row["monolayer_fraction"] = float(monolayer_map(sites, box, sampling=_MONOLAYER_SAMPLING).mean())
    if config["vibrations"]["configurations"]:
        with _config_key("vibrations"):
            vib = config["vibrations"]
            sites = frozen_phonons(
                sites, box, configurations=vib["configurations"], amplitude=vib["amplitude"], gain=vib["gain"], rng=rng
            )
    base = sites[sites["configuration"] == 0]
    layers = base.loc[(base["kind"] == "atom") & (base["species_class"] != "contamination"), "layer"]
    return sites, {
        "material": name,
        "cell_x": float(box[0]),
        "cell_y": float(box[1]),
        "n_atoms": int((base["kind"] == "atom").sum()),
        "n_centres": int((base["kind"] == "centre").sum()),
        **{k: row[k] for k in ("n_pores", "radius", "radius_spread", "mean_bond")},
        "n_layers": int(layers.nunique()),
        "n_vacancies": int((base["kind"] == "vacancy").sum()),
        "n_defects": len(defects),
        "defects": json.dumps(defects),
        **{k: row[k] for k in ("twist", "strain", "second_layer", "layer_spacing", "monolayer_fraction")},
        "configurations": int(config["vibrations"]["configurations"]),
        "relaxed": bool(row["relaxed"]),
    }


def _amorphous_carbon(config: Mapping[str, Any], rng: np.random.Generator) -> _Layer:
    lo, hi = config["pores"]["count"]
    n_pores = int(rng.integers(lo, hi + 1))  # drawn even for (0, 0): the default run keeps its random stream
    with _config_key():  # the message names the parameter: radius, radius_spread, cell, pore_radius
        sites, info = amorphous_carbon(
            tuple(config["cell"]),
            rng=rng,
            radius=config["radius"],
            radius_spread=config["radius_spread"],
            n_pores=n_pores,
            pore_radius=tuple(config["pores"]["radius"]),
            relax=config["relax"],
        )
    defects = [{"type": "pore", "x": x, "y": y, "r": r} for x, y, r in info["pores"]]
    return sites, info["cell"], defects, {k: info[k] for k in ("n_pores", "radius", "radius_spread", "mean_bond")}


def _graphene_model(config: Mapping[str, Any], rng: np.random.Generator) -> _Layer:
    sheet, defects, relaxed = _graphene(config, rng)
    n_pores = sum(d["type"] == "pore" for d in defects)
    fields = {"n_pores": n_pores, "mean_bond": _mean_carbon_bond(sheet), "relaxed": relaxed}
    return sheet_sites(sheet), tuple(map(float, sheet.box)), defects, fields


def _tmd(material: str, config: Mapping[str, Any], rng: np.random.Generator) -> _Layer:
    sites, box, defects, twist, strain = _tmd_model(material, config, rng)
    return sites, box, defects, {"twist": twist, "strain": strain, "relaxed": False}


def _mean_carbon_bond(sheet: Sheet) -> float:
    return float(pair_distances(sheet.pos, sheet.bonds, sheet.box).mean()) if len(sheet.bonds) else float("nan")


def _graphene(config: Mapping[str, Any], rng: np.random.Generator) -> tuple[Sheet, list[dict], bool]:
    """Graphene, a bicrystal with probability ``graphene.grain_boundary.probability``, with defects and pores.

    Bicrystals and defective sheets are always relaxed (their construction leaves strained
    bonds); pores are relaxed when ``relax`` is set. Returns the sheet, the defects and
    whether it was relaxed.
    """
    spec, cell = config["graphene"], tuple(config["cell"])
    records: list[dict] = []
    boundary = spec["grain_boundary"]
    if boundary["probability"] > 0 and rng.random() < boundary["probability"]:
        with _config_key("graphene.grain_boundary"):
            sheet, records = graphene_bicrystal(cell, angle=tuple(boundary["angle"]), rng=rng)
    else:
        with _config_key("cell"):
            sheet = graphene_sheet(cell)
    counts = {name: _count(rng, bounds) for name, bounds in spec["defects"].items()}
    with _config_key("graphene.defects"):
        sheet, placed = graphene_defects(
            sheet, counts, rng=rng, min_separation=spec["min_separation"], existing=tuple(records)
        )
    records += placed
    relaxed = bool(records)
    n_pores = _count(rng, config["pores"]["count"])
    if n_pores:
        lo, hi = config["pores"]["radius"]
        if 2.0 * hi >= sheet.box.min():
            lx, ly = sheet.box
            raise ValueError(f"structures.pores.radius: {hi} Å pores do not fit the {lx:.1f} x {ly:.1f} Å cell")
        pores = np.column_stack([rng.uniform(0.0, 1.0, (n_pores, 2)) * sheet.box, rng.uniform(lo, hi, n_pores)])
        sheet = cut(sheet, in_pores(sheet.pos, pores, sheet.box))
        records += [{"type": "pore", "x": float(x), "y": float(y), "r": float(r)} for x, y, r in pores]
        if config["relax"]:
            sheet, relaxed = relax_sheet(sheet), True
    return sheet, records, relaxed


def _tmd_model(material: str, config: Mapping[str, Any], rng: np.random.Generator):
    """TMD monolayer, MoS2 on graphene or twisted bilayer MoS2: sites, cell, defects, twist [deg], top-layer strain."""
    cell = tuple(config["cell"])
    spec = {**config["tmd"], **config["tmd"].get("materials", {}).get(material, {})}  # this material's own fractions win
    options = {k: spec[k] for k in ("chalcogen_vacancy", "chalcogen_double_vacancy", "metal_vacancy", "substitutions")}
    if material in TMDS:
        with _config_key("cell"):
            box, twist, strain = aligned_cell(material, cell), np.nan, np.nan
        layers = [(0, 0.0, tmd_layer(material, cell))]
    else:
        bottom = "graphene" if material == "MoS2_on_graphene" else "MoS2"
        with _config_key("twist"):
            cc = coincidence_cell(bottom, "MoS2", cell, twist=tuple(config["twist"]), rng=rng)
        box, twist, strain = cc["box"], cc["twist"], cc["top_scale"] - 1.0
        top = tmd_layer("MoS2", cell, box=box, angle=cc["top_angle"], scale=cc["top_scale"])
        if bottom == "graphene":
            layers = [(1, INTERLAYER[("graphene", "MoS2")], top)]
        else:
            bottom_layer = tmd_layer("MoS2", cell, box=box, angle=cc["bottom_angle"])
            layers = [(0, 0.0, bottom_layer), (1, INTERLAYER[("MoS2", "MoS2")], top)]
    frames, records = [], []
    if material == "MoS2_on_graphene":
        frames.append(sheet_sites(graphene_sheet(cell, box=box, angle=cc["bottom_angle"])))
    for index, z, layer in layers:
        with _config_key("tmd"):
            layer, found = tmd_defects(layer, rng=rng, **options)
        frames.append(tmd_sites(layer, layer_index=index, z=z))
        records += [{**d, "layer": index} for d in found]
    return pd.concat(frames, ignore_index=True), box, records, twist, strain


def _second_layer(
    config: Mapping[str, Any], box: tuple[float, float], rng: np.random.Generator
) -> tuple[pd.DataFrame, float, str]:
    """The partial second carbon layer of Leist et al.: sites (layer 1), spacing [Å], kind."""
    spec = config["bilayer"]
    kind = str(rng.choice(spec["kind"]))
    spacing = float(rng.uniform(*spec["spacing"]))
    coverage = float(rng.uniform(*spec["coverage"]))
    sheet, _ = second_layer(box, kind=kind, coverage=coverage, rng=rng, radius_spread=config["radius_spread"])
    if config["relax"] and kind == "amorphous_carbon":
        sheet = relax_sheet(sheet)
    return sheet_sites(sheet, layer=1, z=spacing), spacing, kind


#: The registry of ``structures.material``: a new material is one entry here (and in the schema's enum).
MATERIALS: dict[str, Material] = {
    "amorphous_carbon": Material(_amorphous_carbon, carbon=True),
    "graphene": Material(_graphene_model, carbon=True),
    **{name: Material(partial(_tmd, name), carbon=False) for name in (*TMDS, "MoS2_on_graphene", "twisted_bilayer_MoS2")},
}
