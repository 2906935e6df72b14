"""Layers on layers: twisted and hetero bilayers in coincidence cells, partial second layers, contamination.

- Twisted bilayer MoS2 (Dan et al. 2022) and MoS2 on graphene (Larsen et al.): both layers
  repeat in a common rectangular cell (:func:`coincidence_cell`), the top one rotated by the
  drawn twist and, for different lattices, strained by at most 1 %.
- Bilayer amorphous carbon (Leist et al. 2022): a second layer, amorphous or crystalline
  graphene at a random angle, 1-5 Å above, covering an elliptical part of the cell so that
  monolayer and bilayer regions coexist (:func:`second_layer`).
- Surface contamination: clusters of amorphous hydrocarbon on top (:func:`contamination`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from atomscope._shared.validation import check_positive, make_rng
from atomscope.structures._periodic import minimum_image, wrap
from atomscope.structures._sheet import Sheet, bonds_by_distance, cut, make_sheet
from atomscope.structures.amorphous import amorphous_sheet
from atomscope.structures.crystals import GRAPHENE_BOND_CUTOFF, LATTICE_CONSTANTS, MAX_CELL_GROWTH, unit_cell
from atomscope.structures.sites import make_sites

__all__ = ["INTERLAYER", "coincidence_cell", "contamination", "second_layer"]

#: Distance [Å] between the mid-planes of two stacked layers: metal to metal in bulk 2H TMDs
#: (c / 2), and graphene to the metal plane of a TMD on it (3.4 Å van der Waals gap to the
#: chalcogens plus half the TMD thickness).
INTERLAYER = {
    ("MoS2", "MoS2"): 6.15,
    ("MoSe2", "MoSe2"): 6.46,
    ("WS2", "WS2"): 6.16,
    ("graphene", "MoS2"): 3.4 + 3.17 / 2,
    ("graphene", "MoSe2"): 3.4 + 3.34 / 2,
    ("graphene", "WS2"): 3.4 + 3.14 / 2,
}
#: Contamination: atoms per Å³ (amorphous hydrocarbon, ~1.5 g/cm³ at one H per two C),
#: fraction of H, closest distance between atoms [Å], gap below the lowest atoms [Å].
_CONTAMINATION_DENSITY = 0.09
_CONTAMINATION_H = 0.3
_CONTAMINATION_MIN_DISTANCE = 1.1
_CONTAMINATION_GAP = 2.5


def _lattice_vectors(material: str, reach: int) -> np.ndarray:
    """All lattice vectors m a1 + n a2 with |m|, |n| <= reach, as rows (x, y, m, n)."""
    cell = unit_cell(material).cell.array[:2, :2]
    m, n = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1), indexing="ij")
    mn = np.column_stack([m.ravel(), n.ravel()])
    return np.column_stack([mn @ cell, mn])


def coincidence_cell(
    bottom: str,
    top: str,
    cell: tuple[float, float],
    *,
    twist: tuple[float, float],
    rng: int | np.random.Generator | None,
    max_strain: float = 0.01,
) -> dict:
    """A rectangular cell in which ``bottom`` and ``top`` (rotated by a twist drawn from ``twist``) both repeat.

    A lattice vector T of the bottom layer and one, t, of the top layer with |t| within
    ``max_strain`` of |T| define the twist (the angle from t to T) and a common hexagonal
    supercell (T, T rotated by 60°); its rectangular form (|T|, sqrt(3) |T|), with T along x,
    is repeated to cover ``cell``. A target angle is drawn uniformly from ``twist`` and the
    closest achievable twist is taken, the shortest T among equals.

    Parameters
    ----------
    bottom, top
        Materials of :data:`~atomscope.structures.crystals.LATTICE_CONSTANTS`.
    cell
        Requested cell (Lx, Ly) [Å]; the result covers it and exceeds it by at most 25 % per side.
    twist
        Range (lo, hi) [deg] of the rotation of the top layer, within [0, 120] (a TMD layer
        repeats itself after 120°).
    rng
        Random generator, or a seed for one.
    max_strain
        Largest isotropic strain of the top layer that makes the lattices match (1 %: MoS2
        on graphene has no smaller cells within 0.5 %, and 1 % is invisible at HRTEM resolution).

    Returns
    -------
    dict
        ``box`` (Lx, Ly) [Å], ``bottom_angle`` and ``top_angle`` [deg] (rotations to apply to
        the unit cells), ``top_scale`` (strain factor of the top layer), ``twist`` [deg],
        ``period`` |T| [Å].
    """
    lx, ly = (check_positive(c, "cell") for c in cell)
    lo, hi = (float(x) for x in twist)
    if not 0.0 <= lo <= hi <= 120.0:
        raise ValueError(f"`twist` must be (lo, hi) [deg] with 0 <= lo <= hi <= 120, got {twist!r}")
    rng = make_rng(rng)
    longest = min(lx, ly / np.sqrt(3.0)) * MAX_CELL_GROWTH
    vb = _lattice_vectors(bottom, int(np.ceil(2 * longest / LATTICE_CONSTANTS[bottom])) + 1)
    vt = _lattice_vectors(top, int(np.ceil(2 * longest / LATTICE_CONSTANTS[top])) + 1)
    lb, lt = np.hypot(vb[:, 0], vb[:, 1]), np.hypot(vt[:, 0], vt[:, 1])
    phi_b = np.mod(np.degrees(np.arctan2(vb[:, 1], vb[:, 0])), 360.0)
    one_per_orbit = (lb > 0) & (lb <= longest) & (phi_b < 60.0)  # T and T turned by 60° give the same cell
    vb, lb, phi_b = vb[one_per_orbit], lb[one_per_orbit], phi_b[one_per_orbit]
    vt, lt = vt[lt > 0], lt[lt > 0]
    order = np.argsort(lt)
    vt, lt = vt[order], lt[order]
    rows = []
    for k in np.argsort(lb, kind="stable"):
        first = np.searchsorted(lt, lb[k] / (1 + max_strain))
        last = np.searchsorted(lt, lb[k] / (1 - max_strain), side="right")
        for j in range(first, last):
            phi_t = np.degrees(np.arctan2(vt[j, 1], vt[j, 0]))
            twist_angle = np.round(np.mod(phi_b[k] - phi_t, 120.0), 6)  # rounded: equal twists tie, the shortest T wins
            rows.append((0.0 if twist_angle == 120.0 else twist_angle, lb[k], phi_b[k], phi_t, lb[k] / lt[j]))
    options = np.array(rows).reshape(-1, 5)
    nx, ny = np.ceil(lx / options[:, 1] - 1e-9), np.ceil(ly / (np.sqrt(3.0) * options[:, 1]) - 1e-9)
    fits = (nx * options[:, 1] <= MAX_CELL_GROWTH * lx) & (ny * np.sqrt(3.0) * options[:, 1] <= MAX_CELL_GROWTH * ly)
    options, nx, ny = options[fits], nx[fits], ny[fits]
    inside = (options[:, 0] >= lo - 1e-9) & (options[:, 0] <= hi + 1e-9)
    if not inside.any():
        raise ValueError(
            f"`twist` {twist!r}: no {top} on {bottom} coincidence cell with a twist in this range fits "
            f"the cell {lx:g} x {ly:g} Å (+25 %); widen the range or enlarge the cell"
        )
    options, nx, ny = options[inside], nx[inside], ny[inside]
    k = int(np.argmin(np.abs(options[:, 0] - rng.uniform(lo, hi))))  # first = shortest among equals
    theta, period, phi_b, phi_t, scale = options[k]
    return {
        "box": (float(nx[k] * period), float(ny[k] * np.sqrt(3.0) * period)),
        "bottom_angle": float(-phi_b),
        "top_angle": float(-phi_t),
        "top_scale": float(scale),
        "twist": float(theta),
        "period": float(period),
    }


def _ellipse(box: np.ndarray, coverage: float, rng: np.random.Generator) -> tuple[np.ndarray, float, float, float]:
    """Centre [Å], semi-axes [Å] and orientation [rad] of an ellipse of area ``coverage`` x cell that fits in the cell.

    An ellipse too long to fit without touching its periodic image is made round; a round
    patch too large even so (a high coverage of an oblong cell, e.g. a grain-boundary cell) is
    shrunk to the largest that fits, diameter 0.95 of the shorter side.
    """
    area = coverage * np.prod(box)
    aspect = rng.uniform(1.0, 1.5)
    major = np.sqrt(area * aspect / np.pi)
    if 2.0 * major > 0.95 * box.min():
        aspect, major = 1.0, min(np.sqrt(area / np.pi), 0.475 * box.min())
    return rng.uniform(0.0, 1.0, 2) * box, major, major / aspect, rng.uniform(0.0, np.pi)


def _inside_ellipse(pos: np.ndarray, box: np.ndarray, centre, major, minor, phi) -> np.ndarray:
    d = minimum_image(pos - centre, box)
    u = d[:, 0] * np.cos(phi) + d[:, 1] * np.sin(phi)
    v = -d[:, 0] * np.sin(phi) + d[:, 1] * np.cos(phi)
    return (u / major) ** 2 + (v / minor) ** 2 <= 1.0


def second_layer(
    box: tuple[float, float],
    *,
    kind: str,
    coverage: float,
    rng: int | np.random.Generator | None,
    radius_spread: float = 0.0,
) -> tuple[Sheet, dict]:
    """A carbon flake that covers ``coverage`` of the cell: the partial second layer of Leist et al. (2022).

    Parameters
    ----------
    box
        Cell (Lx, Ly) [Å] of the layer below.
    kind
        {"amorphous_carbon", "graphene"}: an amorphous network (scaled onto ``box``) or graphene
        at a uniformly drawn angle.
    coverage
        Fraction of the cell area inside the flake's elliptical outline (0, 0.7].
    rng
        Random generator, or a seed for one.
    radius_spread
        Poisson-disk radius spread of an amorphous flake (see :func:`~atomscope.structures.amorphous.amorphous_carbon`).

    Returns
    -------
    sheet : Sheet
        The flake; rings cut by its outline are dropped and their atoms flagged as edge atoms.
    info : dict
        ``centre`` (x, y) [Å], ``axes`` (a, b) [Å], ``orientation`` [deg], ``angle`` [deg] (graphene
        lattice rotation, NaN for amorphous).
    """
    box = np.array([check_positive(b, "box") for b in box])
    coverage = float(coverage)
    if not 0.0 < coverage <= 0.7:
        raise ValueError(f"`coverage` must lie in (0, 0.7], got {coverage!r}")
    rng = make_rng(rng)
    centre, major, minor, phi = _ellipse(box, coverage, rng)
    if kind == "amorphous_carbon":
        sheet, _ = amorphous_sheet(tuple(box), rng=rng, radius_spread=radius_spread)
        stretch = box / sheet.box  # the network's own cell differs by ~1 %
        rings = (sheet.owner, sheet.member)
        sheet = make_sheet(sheet.pos * stretch, sheet.bonds, box, "C", rings=rings, reference=sheet.centres * stretch)
        angle = float("nan")
    elif kind == "graphene":
        angle = float(rng.uniform(0.0, 60.0))
        sheet = _graphene_flake(box, centre, major, angle, rng)
    else:
        raise ValueError(f"`kind` must be 'amorphous_carbon' or 'graphene', got {kind!r}")
    sheet = cut(sheet, ~_inside_ellipse(sheet.pos, box, centre, major, minor, phi))
    info = {
        "centre": tuple(map(float, centre)),
        "axes": (float(major), float(minor)),
        "orientation": float(np.degrees(phi)),
        "angle": angle,
    }
    return sheet, info


def _graphene_flake(box: np.ndarray, centre: np.ndarray, radius: float, angle: float, rng: np.random.Generator) -> Sheet:
    """Graphene turned by ``angle`` [deg] within ``radius`` [Å] of ``centre``, wrapped (no seam: 2 radius < cell)."""
    unit = unit_cell("graphene")
    phi = np.radians(angle)
    rot = np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])
    lattice, basis = unit.cell.array[:2, :2] @ rot.T, unit.positions[:, :2] @ rot.T
    reach = int(np.ceil(radius / LATTICE_CONSTANTS["graphene"] * 2 / np.sqrt(3))) + 2
    i, j = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1), indexing="ij")
    points = np.column_stack([i.ravel(), j.ravel()]) @ lattice + rng.uniform(0, 1, 2) @ lattice
    xy = (points[:, None, :] + basis[None]).reshape(-1, 2)
    xy = xy[np.hypot(xy[:, 0], xy[:, 1]) <= radius + 2.0] + centre
    pos = wrap(xy, box)
    return make_sheet(pos, bonds_by_distance(pos, box, GRAPHENE_BOND_CUTOFF), box, "C")


def contamination(
    box: tuple[float, float],
    *,
    count: int,
    radius: tuple[float, float],
    z_base: float,
    layer: int,
    rng: int | np.random.Generator | None,
    aspect: tuple[float, float] = (0.5, 0.5),
) -> tuple[pd.DataFrame, list[dict]]:
    """Clusters of amorphous hydrocarbon (C and H at random, >= 1.1 Å apart) on top of a model.

    Each cluster is a half-ellipsoid (radius r in-plane, height h r) with r drawn uniformly
    from ``radius`` and h from ``aspect`` (drawn only when it is a range), at a uniform position, starting 2.5 Å above ``z_base``, filled at
    0.09 atoms/Å³ with 30 % H.

    Parameters
    ----------
    box
        Cell (Lx, Ly) [Å].
    count
        Number of clusters.
    radius
        Range (lo, hi) [Å] of the cluster radius; 2 hi must stay below the smaller cell side.
    z_base
        Height of the top atoms of the model [Å].
    layer
        Layer index given to the contamination atoms (one above the top layer).
    rng
        Random generator, or a seed for one.
    aspect
        Range (lo, hi) of the height over the radius (default 0.5: a flat cluster).

    Returns
    -------
    sites : pandas.DataFrame
        Atom rows with species class "contamination".
    clusters : list of dict
        ``{"type": "contamination", "x", "y", "r"}`` [Å] per cluster.
    """
    box = np.array([check_positive(b, "box") for b in box])
    lo, hi = (check_positive(r, "radius") for r in radius)
    if lo > hi or 2.0 * hi >= box.min():
        raise ValueError(
            f"`radius` must be (lo, hi) [Å] with lo <= hi and 2 hi below the cell side {box.min():.1f} Å, got {radius!r}"
        )
    rng = make_rng(rng)
    xyz, clusters = [], []
    for _ in range(int(count)):
        centre, r = rng.uniform(0.0, 1.0, 2) * box, rng.uniform(lo, hi)
        h = aspect[0] if aspect[0] == aspect[1] else rng.uniform(*aspect)
        n = rng.poisson(_CONTAMINATION_DENSITY * (2.0 / 3.0) * np.pi * r**3 * h)
        u = rng.uniform(-1.0, 1.0, (4 * n, 3))  # rejection from the bounding box of the half-ellipsoid
        u = u[np.einsum("ij,ij->i", u, u) <= 1.0][:n]
        points = np.column_stack([centre + r * u[:, :2], z_base + _CONTAMINATION_GAP + h * r * np.abs(u[:, 2])])
        xyz.append(points)
        clusters.append({"type": "contamination", "x": float(centre[0]), "y": float(centre[1]), "r": float(r)})
    xyz = np.concatenate(xyz) if xyz else np.zeros((0, 3))
    xyz[:, :2] = wrap(xyz[:, :2], box)
    xyz = _thin(xyz, box, _CONTAMINATION_MIN_DISTANCE)
    element = np.where(rng.random(len(xyz)) < _CONTAMINATION_H, "H", "C")
    n = len(xyz)
    sites = make_sites(kind=np.full(n, "atom"), xyz=xyz, element=element, layer=layer, species_class=np.full(n, "contamination"))
    return sites, clusters


def _thin(xyz: np.ndarray, box: np.ndarray, distance: float) -> np.ndarray:
    """Drop points until none are closer than ``distance`` [Å] (periodic in x, y; later points go first)."""
    if len(xyz) < 2:
        return xyz
    span = xyz[:, 2].max() - xyz[:, 2].min() + 2.0 * distance + 1.0
    z0 = xyz[:, 2].min() - distance
    tree = cKDTree(np.column_stack([xyz[:, :2], xyz[:, 2] - z0]), boxsize=[*box, span])
    pairs = tree.query_pairs(distance, output_type="ndarray")
    keep = np.ones(len(xyz), bool)
    for i, j in pairs[np.argsort(pairs[:, 0], kind="stable")].tolist():
        if keep[i] and keep[j]:
            keep[j] = False
    return xyz[keep]
