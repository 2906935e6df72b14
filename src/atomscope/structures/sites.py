"""The sites table that every material shares, its monolayer label, and its export to ASE / extxyz.

One row per site:

- ``kind``: "atom", "centre" (polygon centre of a ring) or "vacancy" (an empty projected
  column of a crystal, e.g. a missing metal atom or both chalcogens of a TMD column;
  ``element`` "X", ``Z`` 0, placed where the column's atoms were);
- ``x``, ``y``, ``z`` [Å] (x, y wrapped into the cell), ``Z``, ``element``;
- ``layer``: 0 for the bottom layer, counting up; surface contamination is one layer above
  the top layer;
- ``ring_size``: atoms of the ring (centres), 0 otherwise;
- ``species_class``: what a network should call the site. Carbon layers: the element
  ("C", "N", "Si") and "centre". TMD layers: the content of the projected column the atom
  belongs to, elements in alphabetical order with counts ("Mo", "W", "Fe", "S2", "S", "SSe",
  "Se2", "STe", ...), and "vacancy" for empty columns. Contamination: "contamination";
- ``at_pore_edge``: the atom lost a ring to a pore or to the edge of a flake;
- ``in_monolayer``: exactly one layer covers the site (see :func:`label_monolayer`);
- ``configuration``: 0 for the equilibrium model, which holds every site and is what labels
  (targets) are made from; 1..N for frozen-phonon copies of the atom rows (see
  :mod:`atomscope.structures.vibrations`).
"""

from __future__ import annotations

import os

import ase.io
import numpy as np
import pandas as pd
from ase import Atoms
from ase.data import atomic_numbers
from scipy.spatial import cKDTree

from atomscope.io import SITE_KINDS
from atomscope._shared.validation import check_positive
from atomscope.structures._periodic import wrap

__all__ = [
    "COVER_RADIUS",
    "SITE_COLUMNS",
    "SITE_KINDS",
    "label_monolayer",
    "label_sites",
    "make_sites",
    "monolayer_map",
    "sites_to_atoms",
    "to_extxyz",
]

SITE_COLUMNS = (
    "kind",
    "x",
    "y",
    "z",
    "Z",
    "element",
    "layer",
    "ring_size",
    "species_class",
    "at_pore_edge",
    "in_monolayer",
    "configuration",
)
#: A point is covered by a layer when one of the layer's atoms lies within this distance in
#: projection [Å]: more than the circumradius of a 9-ring (2.1 Å at 1.42 Å bonds) and of the
#: hollow of a TMD (1.8-1.9 Å), less than the radius of a pore worth segmenting.
COVER_RADIUS = 2.5
#: Vacuum kept above and below the atoms by :func:`sites_to_atoms` [Å].
_VACUUM = 2.0


def make_sites(
    *,
    kind: np.ndarray,
    xyz: np.ndarray,
    element: np.ndarray,
    layer: int | np.ndarray = 0,
    ring_size: int | np.ndarray = 0,
    species_class: np.ndarray,
    at_pore_edge: bool | np.ndarray = False,
) -> pd.DataFrame:
    """A sites table with the columns in :data:`SITE_COLUMNS` (``in_monolayer`` True, configuration 0)."""
    n = len(xyz)
    element = np.asarray(element, dtype=str)
    return pd.DataFrame(
        {
            "kind": np.asarray(kind, dtype=str),
            "x": xyz[:, 0],
            "y": xyz[:, 1],
            "z": xyz[:, 2],
            "Z": np.array([atomic_numbers.get(e, 0) if e != "X" else 0 for e in element], dtype=np.int64),
            "element": element,
            "layer": np.broadcast_to(np.asarray(layer, dtype=np.int64), n).copy(),
            "ring_size": np.broadcast_to(np.asarray(ring_size, dtype=np.int64), n).copy(),
            "species_class": np.asarray(species_class, dtype=str),
            "at_pore_edge": np.broadcast_to(np.asarray(at_pore_edge, dtype=bool), n).copy(),
            "in_monolayer": np.ones(n, bool),
            "configuration": np.zeros(n, dtype=np.int64),
        }
    )


def label_sites(sites: pd.DataFrame) -> pd.DataFrame:
    """The equilibrium rows (configuration 0) of ``sites``: the model that labels are made from."""
    if "configuration" not in sites.columns:
        return sites
    return sites[sites["configuration"] == 0]


def _layers_covering(sites: pd.DataFrame, cell: tuple[float, float], points: np.ndarray, cover_radius: float) -> np.ndarray:
    """Number of layers with an atom within ``cover_radius`` [Å] (in projection) of each point."""
    box = np.asarray(cell, dtype=float)
    atoms = label_sites(sites)
    atoms = atoms[atoms["kind"] == "atom"]
    points = wrap(np.asarray(points, dtype=float).reshape(-1, 2), box)
    count = np.zeros(len(points), dtype=np.int64)
    for _, layer in atoms.groupby("layer"):
        tree = cKDTree(wrap(layer[["x", "y"]].to_numpy(dtype=float), box), boxsize=box)
        dist, _ = tree.query(points, distance_upper_bound=cover_radius)
        count += np.isfinite(dist)
    return count


def label_monolayer(sites: pd.DataFrame, cell: tuple[float, float], *, cover_radius: float = COVER_RADIUS) -> pd.DataFrame:
    """``sites`` with ``in_monolayer`` set: exactly one layer covers the site.

    A layer covers a point when one of its atoms lies within ``cover_radius`` [Å] of it in
    projection; contamination counts as a layer. Sites in bilayer regions or under
    contamination are False, and so would be sites in a pore (none exist there).
    """
    cover_radius = check_positive(cover_radius, "cover_radius")
    count = _layers_covering(sites, cell, sites[["x", "y"]].to_numpy(dtype=float), cover_radius)
    return sites.assign(in_monolayer=count == 1)


def monolayer_map(
    sites: pd.DataFrame, cell: tuple[float, float], *, sampling: float, cover_radius: float = COVER_RADIUS
) -> np.ndarray:
    """Monolayer label on a pixel grid over the cell: True where exactly one layer covers the pixel.

    Parameters
    ----------
    sites
        Sites table of one model.
    cell
        Cell sides (Lx, Ly) [Å].
    sampling
        Pixel size [Å/px]; pixel (row r, col c) is the point (x, y) = (c, r) * sampling.
    cover_radius
        See :func:`label_monolayer` [Å].

    Returns
    -------
    ndarray of bool, shape (ceil(Ly / sampling), ceil(Lx / sampling)), indexed [row, col] = [y, x].
    """
    sampling = check_positive(sampling, "sampling")
    cover_radius = check_positive(cover_radius, "cover_radius")
    lx, ly = cell
    cols, rows = np.arange(int(np.ceil(lx / sampling))), np.arange(int(np.ceil(ly / sampling)))
    x, y = np.meshgrid(cols * sampling, rows * sampling)
    count = _layers_covering(sites, cell, np.column_stack([x.ravel(), y.ravel()]), cover_radius)
    return (count == 1).reshape(x.shape)


def sites_to_atoms(
    sites: pd.DataFrame,
    cell: tuple[float, float],
    *,
    thickness: float | None = None,
    configuration: int = 0,
    kinds: tuple[str, ...] = ("atom",),
) -> Atoms:
    """ASE ``Atoms`` of one configuration of a model, for image simulation or export.

    Parameters
    ----------
    sites
        Sites table of one model (see the module docstring).
    cell
        Cell sides (Lx, Ly) [Å], e.g. ``info["cell"]`` or the models table's ``cell_x``, ``cell_y``.
    thickness
        Cell height [Å] (default: the z extent of the sites plus 2 Å of vacuum on each side,
        at least 4 Å). The sites are centred in z.
    configuration
        Which configuration (0: equilibrium; 1..N: frozen-phonon copies) to take.
    kinds
        Site kinds to include; centres and vacancies become atoms "X" (Z = 0).

    Returns
    -------
    ase.Atoms
        Periodic in all three directions, cell (Lx, Ly, thickness) [Å].
    """
    lx, ly = (check_positive(c, "cell") for c in cell)
    rows = sites
    if "configuration" in sites.columns:
        if configuration not in set(sites["configuration"].unique().tolist()):
            raise ValueError(f"`configuration` {configuration!r} is not in the sites table")
        rows = sites[sites["configuration"] == configuration]
    rows = rows[rows["kind"].isin(kinds)]
    z = rows["z"].to_numpy(dtype=float)
    z_lo, z_hi = (z.min(), z.max()) if len(z) else (0.0, 0.0)
    if thickness is None:
        thickness = max(4.0, z_hi - z_lo + 2.0 * _VACUUM)
    thickness = check_positive(thickness, "thickness")
    if z_hi - z_lo > thickness:
        raise ValueError(f"`thickness` {thickness} Å is smaller than the z extent of the sites ({z_hi - z_lo:.3g} Å)")
    positions = rows[["x", "y", "z"]].to_numpy(dtype=float, copy=True)
    positions[:, 2] += thickness / 2.0 - (z_lo + z_hi) / 2.0
    return Atoms(symbols=list(rows["element"]), positions=positions, cell=[lx, ly, thickness], pbc=True)


def to_extxyz(
    sites: pd.DataFrame, cell: tuple[float, float], path: str | os.PathLike, *, thickness: float | None = None
) -> None:
    """Write a model to an extended-XYZ file that ASE (``ase.io.read(path, ":")``) and OVITO open.

    One frame per configuration: frame 0 is the equilibrium model with every site (centres
    and vacancies as element "X"), frames 1..N the frozen-phonon copies of its atoms. Per-atom
    arrays: ``kind``, ``layer``, ``ring_size``, ``species_class``, ``in_monolayer``.

    Parameters
    ----------
    sites
        Sites table of one model.
    cell
        Cell sides (Lx, Ly) [Å].
    path
        Output file (``.xyz`` / ``.extxyz``).
    thickness
        Cell height [Å]; see :func:`sites_to_atoms`.
    """
    configurations = sorted(sites["configuration"].unique().tolist()) if "configuration" in sites.columns else [0]
    if thickness is None:  # one height for every frame, from the equilibrium model
        thickness = sites_to_atoms(sites, cell, kinds=SITE_KINDS).cell.lengths()[2]
    frames = []
    for configuration in configurations:
        atoms = sites_to_atoms(sites, cell, thickness=thickness, configuration=configuration, kinds=SITE_KINDS)
        rows = sites if "configuration" not in sites.columns else sites[sites["configuration"] == configuration]
        atoms.new_array("kind", rows["kind"].to_numpy(dtype=str))
        atoms.new_array("layer", rows["layer"].to_numpy(dtype=np.int64))
        atoms.new_array("ring_size", rows["ring_size"].to_numpy(dtype=np.int64))
        atoms.new_array("species_class", rows["species_class"].to_numpy(dtype=str))
        atoms.new_array("in_monolayer", rows["in_monolayer"].to_numpy(dtype=bool))
        atoms.info["configuration"] = int(configuration)
        frames.append(atoms)
    ase.io.write(os.fspath(path), frames, format="extxyz")
