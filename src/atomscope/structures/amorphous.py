"""Amorphous monolayer carbon after Leist et al. (2022): a periodic Voronoi network of Poisson-disk seeds.

Seeds are drawn with Poisson-disk sampling in a periodic rectangular cell; their Voronoi
tessellation gives the carbon atoms (the Voronoi vertices, each three-fold by construction)
and the C-C bonds (the Voronoi edges), and the seeds become the polygon centres that the
networks learn to find. A short spring relaxation evens out the bond lengths without
changing the topology, the model is scaled to the requested mean bond length and circular
pores are cut out. Optionally a valence force field relaxes bond lengths and angles
(:mod:`atomscope.structures.relax`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix

from atomscope._shared.validation import check_positive, make_rng
from atomscope.structures._periodic import minimum_image, pair_distances, wrap
from atomscope.structures._sheet import Sheet, cut, make_sheet, sheet_sites
from atomscope.structures._voronoi import voronoi_network
from atomscope.structures.relax import relax_sheet

__all__ = ["amorphous_carbon", "amorphous_sheet", "poisson_disk"]

#: Default ``radius`` in units of ``bond_length`` is DEFAULT_RADIUS_PER_BOND * exp(DEFAULT_RADIUS_SPREAD_GAIN
#: * radius_spread**2): measured so that the final cell matches the requested one within ~1 %
#: (a spread packs more seeds into the cell, hence the larger radius).
DEFAULT_RADIUS_PER_BOND = 1.26
DEFAULT_RADIUS_SPREAD_GAIN = 2.7
#: A cell side must be at least this many (largest) seed radii, so that every Voronoi
#: polygon and bond is unambiguous under periodic boundary conditions.
MIN_CELL_PER_RADIUS = 5.0
#: Largest ``radius_spread`` of :func:`poisson_disk` (radii are clipped to radius (1 +- 2 spread)).
MAX_SPREAD = 0.4
#: Largest ``radius_spread`` of :func:`amorphous_carbon`: beyond it clusters of small and of
#: large rings strain the network so much that the relaxation leaves bonds outside 1.1-1.7 Å.
MAX_MODEL_SPREAD = 0.2
#: Area per atom of an ideal honeycomb, in units of ``bond_length**2``.
_HONEYCOMB_AREA_PER_ATOM = 3.0 * np.sqrt(3.0) / 4.0

# Relaxation (see _relax), measured on 60 x 60 and 100 x 100 Å models, radius_spread 0-0.2:
# 120 steps converge (more change nothing visible). The sp2 weight trades bond spread for
# angle spread: 0 gives bonds 1.42 +- 0.02 Å but 2-3 % near-T-shaped atoms (angle > 160°);
# 0.02 gives bonds +- 0.04-0.05 Å (< 0.1 % outside 1.2-1.65 Å), angles 120 +- 15-17°, 0.2-0.5 %
# above 160°; 0.05 gives bonds +- 0.07 Å. The sp2 term waits for the warm-up because its
# forces scale as 1 / length on the near-zero raw Voronoi edges. The floor keeps bond angles
# above ~80° and non-bonded neighbours beyond 1.9 Å.
_RELAX_STEPS = 120
_RELAX_WARMUP = 40
_RELAX_STEP = 0.1  # gradient step, in units of 1 / (bond stiffness)
_RELAX_MOMENTUM = 0.9
_RELAX_SP2 = 0.02  # sp2 (120°) term, in units of bond stiffness * bond_length**2
_RELAX_REPULSION = 3.0  # one-sided springs, relative to the bonds
_RELAX_FLOOR = 1.45  # closest second and third neighbours, in units of bond_length

Rng = int | tuple[int, ...] | np.random.Generator | None


def poisson_disk(
    cell: tuple[float, float],
    radius: float,
    *,
    rng: Rng,
    radius_spread: float = 0.0,
    k: int = 30,
) -> np.ndarray:
    """Poisson-disk points in a periodic rectangular cell (Bridson's algorithm on a torus).

    Parameters
    ----------
    cell
        Cell sides (Lx, Ly) [Å]; each at least ``MIN_CELL_PER_RADIUS`` times the largest
        seed radius.
    radius
        Minimum distance between points [Å].
    rng
        Random generator, or a seed for one.
    radius_spread
        Relative standard deviation of the per-point radius r_i = radius (1 + spread g),
        g ~ N(0, 1) clipped to [-2, 2]; two points keep a distance >= (r_i + r_j) / 2.
        Must lie in [0, ``MAX_SPREAD``].
    k
        Candidates tried around an active point before it is retired.

    Returns
    -------
    numpy.ndarray
        Points, shape (N, 2) [Å], in [0, Lx) x [0, Ly).
    """
    # scipy.stats.qmc.PoissonDisk implements the same algorithm in a non-periodic box,
    # which leaves a seam at the cell edges; this version measures minimum-image distances.
    radius = check_positive(radius, "radius")
    spread = _check_spread(radius_spread, MAX_SPREAD)
    box = _check_cell(cell, radius * (1.0 + 2.0 * spread))
    if int(k) < 1:
        raise ValueError(f"`k` must be a positive integer, got {k!r}")
    return _Bridson(box, radius, spread, make_rng(rng), int(k)).run()


class _Bridson:
    """Bridson's algorithm with a background grid padded by periodic copies.

    The grid holds at most one point per cell (cell diagonal <= smallest radius); the
    padding (``reach`` cells on each side, enough to see the largest radius) stores the
    periodic copies of the points near the edges, so that neighbour look-ups need neither
    wrapping nor minimum images. Empty cells hold an infinitely distant point.
    Random numbers are drawn in blocks because the loop is dominated by call overhead.
    """

    _BLOCK = 1024

    def __init__(self, box: np.ndarray, radius: float, spread: float, rng: np.random.Generator, k: int):
        self.box, self.radius, self.spread, self.rng, self.k = box, radius, spread, rng, k
        r_lo, r_hi = radius * (1.0 - 2.0 * spread), radius * (1.0 + 2.0 * spread)
        self.shape = np.ceil(box / (r_lo / np.sqrt(2.0))).astype(int)
        self.width = box / self.shape
        self.reach = np.ceil(r_hi / self.width).astype(int)
        self.padded = self.shape + 2 * self.reach
        self.strides = np.array([self.padded[1], 1])  # flat index = (ix + reach_x) * padded_y + iy + reach_y
        wx, wy = np.meshgrid(np.arange(-self.reach[0], self.reach[0] + 1), np.arange(-self.reach[1], self.reach[1] + 1))
        self.window = (np.stack([wx.ravel(), wy.ravel()], axis=1) + self.reach) @ self.strides
        size = int(np.prod(self.padded))
        self.gx, self.gy, self.gr = np.full(size, np.inf), np.full(size, np.inf), np.zeros(size)
        capacity = int(np.prod(box) / (np.pi * (r_lo / 2.0) ** 2)) + 1
        self.points, self.radii = np.empty((capacity, 2)), np.empty(capacity)
        self.n = 0
        self.drawn = self._BLOCK

    def _draw(self) -> tuple[np.ndarray, np.ndarray]:
        """Radii and annulus offsets (in units of the pair distance) of ``k`` candidates."""
        if self.drawn == self._BLOCK:
            rng, shape = self.rng, (self._BLOCK, self.k)
            g = np.clip(rng.standard_normal(shape), -2.0, 2.0)
            self.block_r = self.radius * (1.0 + self.spread * g)
            dist = np.sqrt(rng.uniform(1.0, 4.0, shape))  # uniform in the annulus [1, 2]
            phi = rng.uniform(0.0, 2.0 * np.pi, shape)
            self.block_d = np.stack([dist * np.cos(phi), dist * np.sin(phi)], axis=-1)
            self.drawn = 0
        self.drawn += 1
        return self.block_r[self.drawn - 1], self.block_d[self.drawn - 1]

    def add(self, point: np.ndarray, radius: float) -> None:
        self.points[self.n], self.radii[self.n] = point, radius
        self.n += 1
        # scalar Python here: the nine candidate copies cost less than numpy's call overhead
        (nx, ny), (px, py), (lx, ly) = self.shape.tolist(), self.padded.tolist(), self.box.tolist()
        x, y = point.tolist()
        cx = min(int(x / self.width[0]), nx - 1) + int(self.reach[0])
        cy = min(int(y / self.width[1]), ny - 1) + int(self.reach[1])
        for sx in (-1, 0, 1):
            for sy in (-1, 0, 1):
                ix, iy = cx + sx * nx, cy + sy * ny
                if 0 <= ix < px and 0 <= iy < py:
                    flat = ix * py + iy
                    self.gx[flat], self.gy[flat], self.gr[flat] = x + sx * lx, y + sy * ly, radius

    def free(self, cand: np.ndarray, radii: np.ndarray) -> np.ndarray:
        """Which candidates (inside the cell) keep their distance to every accepted point."""
        cells = np.minimum((cand / self.width).astype(int), self.shape - 1)
        idx = (cells @ self.strides)[:, None] + self.window
        dx, dy = self.gx[idx] - cand[:, :1], self.gy[idx] - cand[:, 1:]
        limit = 0.5 * (self.gr[idx] + radii[:, None])
        return (dx * dx + dy * dy >= limit * limit).all(axis=1)

    def run(self) -> np.ndarray:
        self.add(self.rng.uniform(0.0, 1.0, 2) * self.box, self._draw()[0][0])
        active = [0]
        while active:
            a = int(self.rng.integers(len(active)))
            i = active[a]
            radii, offsets = self._draw()
            cand = np.mod(self.points[i] + (0.5 * (self.radii[i] + radii))[:, None] * offsets, self.box)
            ok = self.free(cand, radii)
            j = int(ok.argmax())
            if ok[j]:
                active.append(self.n)
                self.add(cand[j], radii[j])
            else:
                active[a] = active[-1]
                active.pop()
        return wrap(self.points[: self.n], self.box)


def amorphous_sheet(
    cell: tuple[float, float],
    *,
    rng: Rng,
    radius: float | None = None,
    radius_spread: float = 0.0,
    bond_length: float = 1.42,
) -> tuple[Sheet, float]:
    """The pore-free periodic network of :func:`amorphous_carbon` and the seed radius used [Å].

    Parameters are those of :func:`amorphous_carbon`. Every atom is three-fold; the cell of
    the returned sheet is the requested one scaled to the mean bond ``bond_length``.
    """
    bond_length = check_positive(bond_length, "bond_length")
    spread = _check_spread(radius_spread, MAX_MODEL_SPREAD)
    if radius is None:
        radius = bond_length * DEFAULT_RADIUS_PER_BOND * np.exp(DEFAULT_RADIUS_SPREAD_GAIN * spread**2)
    radius = check_positive(radius, "radius")
    rng = make_rng(rng)
    box = _check_cell(cell, radius * (1.0 + 2.0 * spread))
    seeds = poisson_disk(box, radius, rng=rng, radius_spread=spread)
    pos, bonds, owner, member = voronoi_network(seeds, box, margin=4.0 * radius * (1.0 + 2.0 * spread))

    scale = np.sqrt(len(pos) * _HONEYCOMB_AREA_PER_ATOM * bond_length**2 / np.prod(box))
    pos, seeds, box = pos * scale, seeds * scale, box * scale
    pos = _relax(pos, bonds, box, bond_length)
    scale = bond_length / pair_distances(pos, bonds, box).mean()
    pos, seeds, box = wrap(pos * scale, box * scale), seeds * scale, box * scale
    return make_sheet(pos, bonds, box, "C", rings=(owner, member), reference=seeds), radius


def amorphous_carbon(
    cell: tuple[float, float],
    *,
    rng: Rng,
    radius: float | None = None,
    radius_spread: float = 0.0,
    n_pores: int = 0,
    pore_radius: tuple[float, float] = (3.0, 6.0),
    bond_length: float = 1.42,
    relax: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Periodic model of amorphous monolayer carbon with polygon centres and optional pores.

    Poisson-disk seeds -> periodic Voronoi tessellation (atoms at the vertices, bonds along
    the edges, seeds as polygon centres) -> spring relaxation of the bond lengths at fixed
    topology -> scaling of coordinates and cell to the mean bond ``bond_length`` -> pores
    -> optionally a valence-force-field relaxation (FIRE) of lengths and angles.
    Every atom of the pore-free network is three-fold coordinated.

    Parameters
    ----------
    cell
        Requested cell sides (Lx, Ly) [Å]. The returned cell differs from it by the final
        scaling, typically by a few %.
    rng
        Random generator, or a seed for one (e.g. ``(seed, stage, shard)``).
    radius
        Poisson-disk radius of the seeds in the requested cell [Å]. The model is always
        scaled to ``bond_length``, so ``radius`` sets the number of atoms and with it the
        final cell; the default (1.26 ``bond_length`` for no spread, see
        ``DEFAULT_RADIUS_PER_BOND``) keeps the final cell within ~1 % of the request.
    radius_spread
        Relative spread of the per-seed radius (see :func:`poisson_disk`), in
        [0, ``MAX_MODEL_SPREAD``]; larger values add 4- and 8-rings at the expense of 6-rings.
    n_pores
        Number of circular pores.
    pore_radius
        Range (lo, hi) [Å] of the uniformly drawn pore radii in the final cell.
    bond_length
        Mean C-C bond length of the pore-free model [Å].
    relax
        Relax the model (with its pores) with the valence force field of
        :mod:`atomscope.structures.relax` (equilibrium bond 1.42 Å, 120° angles) and FIRE.

    Returns
    -------
    sites : pandas.DataFrame
        One row per site, columns of :data:`atomscope.structures.sites.SITE_COLUMNS`:
        ``kind`` ("atom" / "centre"), ``x``, ``y``, ``z`` [Å] (wrapped into the cell, z = 0),
        ``Z`` (6 / 0), ``element`` ("C" / "X"), ``layer`` (0), ``ring_size`` (atoms of the
        polygon; 0 for atoms), ``species_class`` ("C" / "centre"), ``at_pore_edge`` (atom
        belongs to a polygon cut by a pore), ``in_monolayer`` (True) and ``configuration`` (0).
        Centres sit at the mean position of their polygon's atoms; centres of cut polygons
        are dropped.
    info : dict
        ``cell`` (Lx, Ly) [Å] final, ``n_atoms``, ``n_centres``, ``n_pores``, ``pores`` (one
        (x, y, r) [Å] per pore), ``radius`` [Å], ``radius_spread``, ``mean_bond`` [Å] (of the
        bonds between returned atoms). The pores are drawn after the network, so a call with
        pores cuts them out of the same network as the same call without.
    """
    lo, hi = _check_pore_radius(pore_radius)
    n_pores = _check_count(n_pores, "n_pores")
    rng = make_rng(rng)
    sheet, radius = amorphous_sheet(cell, rng=rng, radius=radius, radius_spread=radius_spread, bond_length=bond_length)
    box = sheet.box
    if n_pores and 2.0 * hi >= box.min():
        raise ValueError(f"`pore_radius` {pore_radius!r} must stay below half the final cell {tuple(box)}")
    pores = np.column_stack([rng.uniform(0.0, 1.0, (n_pores, 2)) * box, rng.uniform(lo, hi, n_pores)])
    sheet = cut(sheet, in_pores(sheet.pos, pores, box))
    if relax:
        sheet = relax_sheet(sheet)
    info = {
        "cell": (float(box[0]), float(box[1])),
        "n_atoms": len(sheet.pos),
        "n_centres": len(sheet.centres),
        "n_pores": n_pores,
        "pores": tuple(tuple(map(float, pore)) for pore in pores),
        "radius": radius,
        "radius_spread": float(radius_spread),
        "mean_bond": float(pair_distances(sheet.pos, sheet.bonds, box).mean()) if len(sheet.bonds) else float("nan"),
    }
    return sheet_sites(sheet), info


def in_pores(pos: np.ndarray, pores: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Which positions (n, 2) [Å] lie inside any of the circular ``pores`` (x, y, r) [Å] (periodic)."""
    d = minimum_image(pos[:, None, :] - pores[None, :, :2], box)
    return np.any(np.einsum("ijk,ijk->ij", d, d) < pores[None, :, 2] ** 2, axis=1)


def _relax(pos: np.ndarray, bonds: np.ndarray, box: np.ndarray, bond_length: float) -> np.ndarray:
    """Relaxation at fixed topology and cell; returns unwrapped positions [Å].

    Energy: harmonic bonds toward ``bond_length``; an sp2 term k |sum of the three unit bond
    vectors|^2 per atom (zero for 120° angles, largest for T-shaped atoms); and one-sided
    springs that push second and third neighbours apart when closer than
    ``_RELAX_FLOOR * bond_length``. Minimised by gradient descent with momentum, first without
    the sp2 term (warm-up), then with it and with only the one-sided springs that can still
    come into play. Hand-written because it only has to even out the raw Voronoi edges (from
    ~0 to ~2x their mean) quickly at fixed topology; a physical carbon potential is a later
    feature.
    """
    seconds, thirds = _neighbour_pairs(bonds, len(pos))
    floor = _RELAX_FLOOR * bond_length
    near = np.concatenate([seconds, thirds])
    pos = _descend(pos, bonds, near, box, bond_length, floor, 0.0, _RELAX_WARMUP)
    near = near[pair_distances(pos, near, box) < floor + 0.5 * bond_length]
    k_sp2 = _RELAX_SP2 * bond_length**2
    return _descend(pos, bonds, near, box, bond_length, floor, k_sp2, _RELAX_STEPS - _RELAX_WARMUP)


def _descend(
    pos: np.ndarray,
    bonds: np.ndarray,
    near: np.ndarray,
    box: np.ndarray,
    bond_length: float,
    floor: float,
    k_sp2: float,
    steps: int,
) -> np.ndarray:
    """``steps`` of gradient descent with momentum on the energy of :func:`_relax`."""
    n_b = len(bonds)
    springs = np.concatenate([bonds, near])
    # incidence matrix: (D @ pos)[s] = pos[j] - pos[i] for spring s = (i, j); D.T gathers forces
    m, rows = len(springs), np.arange(len(springs))
    signs = np.r_[np.ones(m), -np.ones(m)]
    D = coo_matrix((signs, (np.r_[rows, rows], np.r_[springs[:, 1], springs[:, 0]])), shape=(m, len(pos))).tocsr()
    DT, Db = D.T.tocsr(), D[:n_b]
    DbT = Db.T.tocsr()
    shift = minimum_image(D @ pos, box) - D @ pos  # the periodic image each spring spans, fixed
    velocity = np.zeros_like(pos)
    for _ in range(steps):
        d = D @ pos + shift
        r = np.sqrt(np.einsum("ij,ij->i", d, d))
        tension = _RELAX_REPULSION * np.minimum(r - floor, 0.0)
        tension[:n_b] = r[:n_b] - bond_length
        grad = (tension / r)[:, None] * d  # dE/dd per spring
        if k_sp2:
            u = d[:n_b] / r[:n_b, None]
            g = 2.0 * k_sp2 * (Db @ (DbT @ u))  # dE/du of sum_atoms |S|^2 with S = -(Db.T @ u)
            grad[:n_b] += (g - u * np.einsum("ij,ij->i", u, g)[:, None]) / r[:n_b, None]
        velocity = _RELAX_MOMENTUM * velocity - _RELAX_STEP * (DT @ grad)
        pos = pos + velocity
    return pos


def _neighbour_pairs(bonds: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Second- and third-neighbour pairs (i < j) of a three-fold network of ``n`` atoms.

    Each pair is listed once, under its graph distance: two atoms of a 4-ring are second
    neighbours, not third; two atoms bonded to each other are neither.
    """
    ends = np.concatenate([bonds[:, 0], bonds[:, 1]])
    others = np.concatenate([bonds[:, 1], bonds[:, 0]])
    nbr = others[np.argsort(ends, kind="stable")].reshape(n, 3)
    seconds = np.concatenate([nbr[:, [0, 1]], nbr[:, [0, 2]], nbr[:, [1, 2]]])
    b, c = bonds.T
    outer_b = nbr[b][nbr[b] != c[:, None]].reshape(-1, 2)  # for a bond b-c, the other neighbours of b
    outer_c = nbr[c][nbr[c] != b[:, None]].reshape(-1, 2)
    thirds = np.stack(np.broadcast_arrays(outer_b[:, :, None], outer_c[:, None, :]), axis=-1).reshape(-1, 2)
    seconds = _new_pairs(seconds, bonds, n)
    return seconds, _new_pairs(thirds, np.concatenate([bonds, seconds]), n)


def _new_pairs(pairs: np.ndarray, known: np.ndarray, n: int) -> np.ndarray:
    """``pairs`` as unique (i < j) rows, without self-pairs and without the rows of ``known`` (i < j)."""
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1), axis=0)
    return pairs[~np.isin(pairs @ (n, 1), known @ (n, 1))]


def _check_cell(cell: tuple[float, float], max_radius: float) -> np.ndarray:
    box = np.asarray(cell, dtype=float)
    if box.shape != (2,) or not np.all(np.isfinite(box)):
        raise ValueError(f"`cell` must be two finite lengths (Lx, Ly) [Å], got {cell!r}")
    if box.min() < MIN_CELL_PER_RADIUS * max_radius:
        raise ValueError(
            f"`cell` {tuple(box)} is too small: each side must be >= {MIN_CELL_PER_RADIUS:g} x the largest "
            f"seed radius ({max_radius:.3g} Å); enlarge the cell or lower `radius`"
        )
    return box


def _check_spread(spread: float, limit: float) -> float:
    spread = float(spread)
    if not 0.0 <= spread <= limit:
        raise ValueError(f"`radius_spread` must lie in [0, {limit:g}], got {spread!r}")
    return spread


def _check_count(n: int, name: str) -> int:
    if int(n) != n or n < 0:
        raise ValueError(f"`{name}` must be a non-negative integer, got {n!r}")
    return int(n)


def _check_pore_radius(pore_radius: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (check_positive(r, "pore_radius") for r in pore_radius)
    if lo > hi:
        raise ValueError(f"`pore_radius` must be (lo, hi) with lo <= hi, got {pore_radius!r}")
    return lo, hi
