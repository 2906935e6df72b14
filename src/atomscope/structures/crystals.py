"""Crystalline layers in periodic rectangular cells: graphene and 2H transition-metal dichalcogenides.

The unit cells come from ``ase.build.graphene`` and ``ase.build.mx2``; :func:`fill_cell` repeats
a (possibly rotated and strained) hexagonal unit cell over a rectangular cell that is
commensurate with it. Aligned layers use the rectangular cell (a, a sqrt(3)); twisted and
hetero-stacked layers use a coincidence cell (:mod:`atomscope.structures.stacking`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase import Atoms
from ase.build import graphene, mx2

from atomscope._shared.validation import check_positive
from atomscope.structures._periodic import wrap
from atomscope.structures._sheet import Sheet, bonds_by_distance, make_sheet
from atomscope.structures.sites import make_sites

__all__ = [
    "CHALCOGENS",
    "GRAPHENE_BOND_CUTOFF",
    "LATTICE_CONSTANTS",
    "MAX_CELL_GROWTH",
    "TMDS",
    "TMD_THICKNESS",
    "aligned_cell",
    "fill_cell",
    "graphene_sheet",
    "tmd_layer",
    "tmd_sites",
    "unit_cell",
]

#: In-plane lattice constants a [Å]: graphene 2.46; 2H MoS2 3.16, MoSe2 3.29, WS2 3.18.
LATTICE_CONSTANTS = {"graphene": 2.46, "MoS2": 3.16, "MoSe2": 3.29, "WS2": 3.18}
#: Vertical chalcogen-chalcogen distance within one TMD layer [Å] (bulk 2H values, rounded).
TMD_THICKNESS = {"MoS2": 3.17, "MoSe2": 3.34, "WS2": 3.14}
TMDS = tuple(TMD_THICKNESS)
#: Elements on chalcogen sites of a TMD; every other TMD element sits on a metal site.
CHALCOGENS = ("O", "S", "Se", "Te")
#: Bonds of crystalline graphene: neighbours closer than 0.75 a [Å] (nearest neighbours at
#: a / sqrt(3) = 1.42 Å, second at a = 2.46 Å).
GRAPHENE_BOND_CUTOFF = 0.75 * LATTICE_CONSTANTS["graphene"]
#: Cells built to be commensurate (grain boundaries, stacked layers) may exceed the requested
#: cell by at most this factor per side.
MAX_CELL_GROWTH = 1.25


def unit_cell(material: str) -> Atoms:
    """Hexagonal unit cell (``ase.build``): lattice vectors a1 = (a, 0), a2 = (-a/2, a sqrt(3)/2); z = 0 mid-plane."""
    if material == "graphene":
        return graphene(formula="C2", a=LATTICE_CONSTANTS["graphene"], vacuum=None)
    if material in TMD_THICKNESS:
        a, thickness = LATTICE_CONSTANTS[material], TMD_THICKNESS[material]
        return mx2(formula=material, kind="2H", a=a, thickness=thickness, vacuum=None)
    raise ValueError(f"`material` must be one of {['graphene', *TMDS]}, got {material!r}")


def aligned_cell(material: str, cell: tuple[float, float]) -> tuple[float, float]:
    """The smallest rectangular cell (n a, m a sqrt(3)) [Å] commensurate with ``material`` that covers ``cell``."""
    a = LATTICE_CONSTANTS[material]
    lx, ly = (check_positive(c, "cell") for c in cell)
    period = np.array([a, a * np.sqrt(3.0)])
    return tuple(float(p) for p in period * np.maximum(1, np.ceil(np.array([lx, ly]) / period - 1e-9)))


def fill_cell(unit: Atoms, box: tuple[float, float], *, angle: float = 0.0, scale: float = 1.0) -> Atoms:
    """Repeat a hexagonal unit cell, rotated by ``angle`` [deg] and scaled by ``scale``, over a rectangular cell.

    Parameters
    ----------
    unit
        Unit cell with in-plane lattice vectors in ``unit.cell[:2, :2]``.
    box
        Rectangular cell (Lx, Ly) [Å]; must be commensurate with the rotated, scaled lattice.
    angle
        Counter-clockwise rotation about z [deg].
    scale
        Isotropic in-plane strain factor (1 = unstrained).

    Returns
    -------
    ase.Atoms
        The atoms in [0, Lx) x [0, Ly), cell (Lx, Ly, 0), periodic in x and y.
    """
    box_arr = np.array([check_positive(b, "box") for b in box])
    phi = np.radians(angle)
    rot = np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]]) * scale
    lattice = unit.cell.array[:2, :2] @ rot.T  # rows: rotated lattice vectors
    basis = unit.positions[:, :2] @ rot.T
    corners = np.array([[0.0, 0.0], [box_arr[0], 0.0], [0.0, box_arr[1]], box_arr])
    frac = corners @ np.linalg.inv(lattice)
    lo, hi = np.floor(frac.min(axis=0)) - 1, np.ceil(frac.max(axis=0)) + 1
    i, j = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), indexing="ij")
    points = np.stack([i.ravel(), j.ravel()], axis=1) @ lattice
    xy = (points[:, None, :] + basis[None]).reshape(-1, 2)
    species = np.tile(np.arange(len(unit)), len(points))
    inside = np.all((xy > -1e-6) & (xy < box_arr - 1e-6), axis=1)
    xy, species = wrap(xy[inside], box_arr), species[inside]
    expected = len(unit) * np.prod(box_arr) / abs(np.linalg.det(lattice))
    if abs(expected - len(xy)) > 1e-6 * expected or abs(expected - round(expected)) > 1e-6:
        raise ValueError(
            f"`box` {tuple(box_arr)} is not commensurate with the lattice rotated by {angle:g}° (scale {scale:g})"
        )
    positions = np.column_stack([xy, unit.positions[species, 2]])
    symbols = np.array(unit.get_chemical_symbols())[species]
    return Atoms(symbols=symbols, positions=positions, cell=[*box_arr, 0.0], pbc=(True, True, False))


def graphene_sheet(
    cell: tuple[float, float], *, angle: float = 0.0, scale: float = 1.0, box: tuple[float, float] | None = None
) -> Sheet:
    """Periodic graphene with its hexagon centres.

    Parameters
    ----------
    cell
        Requested cell (Lx, Ly) [Å]; the sheet gets the smallest commensurate rectangular
        cell that covers it (zigzag along x), unless ``box`` is given.
    angle, scale
        Rotation [deg] and strain factor of the lattice (see :func:`fill_cell`).
    box
        Exact cell (Lx, Ly) [Å], commensurate with the rotated lattice (coincidence cells).
    """
    box = aligned_cell("graphene", cell) if box is None else box
    atoms = fill_cell(unit_cell("graphene"), box, angle=angle, scale=scale)
    pos = atoms.positions[:, :2]
    bonds = bonds_by_distance(pos, np.asarray(box), GRAPHENE_BOND_CUTOFF * scale)
    return make_sheet(pos, bonds, np.asarray(box), "C")


def tmd_layer(
    material: str,
    cell: tuple[float, float],
    *,
    angle: float = 0.0,
    scale: float = 1.0,
    box: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """A 2H TMD monolayer (metal plane at z = 0) as a table of atoms grouped into projected columns.

    Parameters
    ----------
    material
        One of :data:`TMDS`.
    cell
        Requested cell (Lx, Ly) [Å]; the layer gets the smallest commensurate rectangular
        cell that covers it, unless ``box`` is given.
    angle, scale
        Rotation [deg] and in-plane strain factor of the lattice (twisted and hetero-stacked
        layers, with ``box`` a coincidence cell).
    box
        Exact cell (Lx, Ly) [Å], commensurate with the rotated lattice.

    Returns
    -------
    pandas.DataFrame
        One row per atom: ``kind`` ("atom"), ``x``, ``y``, ``z`` [Å], ``element``, ``site``
        ("metal" / "chalcogen") and ``column`` (atoms that share x, y share a column id).
    """
    unit = unit_cell(material)
    box = aligned_cell(material, cell) if box is None else box
    atoms = fill_cell(unit, box, angle=angle, scale=scale)
    xy = atoms.positions[:, :2]
    metal = np.array(unit.get_chemical_symbols())[0]
    elements = np.array(atoms.get_chemical_symbols())
    key = np.round(xy / 1e-3).astype(np.int64)
    key[key[:, 0] == round(box[0] / 1e-3), 0] = 0  # a column on the cell edge is the one at 0
    key[key[:, 1] == round(box[1] / 1e-3), 1] = 0
    _, column = np.unique(key, axis=0, return_inverse=True)
    return pd.DataFrame(
        {
            "kind": "atom",
            "x": xy[:, 0],
            "y": xy[:, 1],
            "z": atoms.positions[:, 2],
            "element": elements,
            "site": np.where(elements == metal, "metal", "chalcogen"),
            "column": column.ravel(),
        }
    )


def column_class(elements: list[str]) -> str:
    """Species class of a projected column: elements in alphabetical order with counts ("S2", "SSe", "Mo"), or "vacancy"."""
    if not elements:
        return "vacancy"
    symbols, counts = np.unique(np.asarray(elements, dtype=str), return_counts=True)
    return "".join(f"{s}{c if c > 1 else ''}" for s, c in zip(symbols, counts))


def tmd_sites(layer: pd.DataFrame, *, layer_index: int = 0, z: float = 0.0) -> pd.DataFrame:
    """Sites table of a TMD layer (from :func:`tmd_layer`, possibly with defects).

    Atoms carry the species class of their projected column (:func:`column_class`); empty
    columns are rows of kind "vacancy" (element "X", species class "vacancy"). ``z`` [Å]
    shifts the layer (its metal plane) up.
    """
    classes = layer[layer["kind"] == "atom"].groupby("column")["element"].agg(lambda e: column_class(list(e)))
    species = layer["column"].map(classes).fillna("vacancy").to_numpy(dtype=str)
    return make_sites(
        kind=layer["kind"].to_numpy(),
        xyz=np.column_stack([layer["x"], layer["y"], layer["z"] + z]),
        element=np.where(layer["kind"] == "atom", layer["element"], "X"),
        layer=layer_index,
        species_class=species,
    )
