"""Per-frame statistics of a bond network: pair distribution, ring-size fractions, summary table."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from atomscope._shared.validation import check_positive
from atomscope.geometry._graph import displacement, flat_members
from atomscope.geometry.adjacency import aboav_weaire, ring_adjacency, ring_pairs
from atomscope.geometry.defects import find_defects
from atomscope.geometry.triangulate import Network, check_region, check_sites, renumbered, triangulate
from atomscope.io import ImageGrid

log = logging.getLogger(__name__)

#: Fewest atoms a frame needs for a triangulation and a pair distribution.
MIN_ATOMS = 3

__all__ = ["adjacent_ring_pairs", "rings_away_from", "pair_distribution", "ring_size_fractions", "summarise", "analyse_frames"]


def pair_distribution(
    xy: np.ndarray,
    *,
    r_max: float = 10.0,
    dr: float = 0.05,
    region: tuple[float, float, float, float] | None = None,
    max_pairs: int = 200_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Edge-corrected 2D pair distribution function g(r) of points in a rectangle.

    Parameters
    ----------
    xy : ndarray of shape (N, 2)
        Point positions (x, y) [Å]; points outside ``region`` are ignored.
    r_max : float
        Largest distance [Å] (default 10.0); must be shorter than the region's shorter side.
    dr : float
        Bin width [Å] (default 0.05); bins run from 0 to the largest multiple of ``dr``
        not above ``r_max``.
    region : tuple of float, optional
        Evaluation region ``(xmin, xmax, ymin, ymax)`` [Å] (default: bounding box of ``xy``).
    max_pairs : int
        When the points hold more pairs closer than ``r_max`` (about N^2 pi r_max^2 / 2 area),
        g(r) is computed from a random subset of the points that holds this many (default
        200,000; a fixed seed), so a frame costs no more than its triangulation. Independent
        thinning leaves g(r) unchanged in expectation; the relative noise of a bin is about
        1 / sqrt(pairs in it), e.g. 3 % at the second graphene shell (2.46 Å, dr 0.05 Å,
        r_max 8 Å); pooling frames averages it down. Below the limit g(r) is exact.

    Returns
    -------
    r : ndarray of shape (M,)
        Bin centres [Å].
    g : ndarray of shape (M,)
        Pair distribution, 1 at large r for uncorrelated points.

    Notes
    -----
    Each pair at displacement (dx, dy) is weighted by the region's area over the area of its
    overlap with itself shifted by (dx, dy), ``(W - |dx|)(H - |dy|)`` (the translation
    correction of Ohser and Stoyan), so pairs cut off by the edge are made up for without
    dropping points near it: g(r) of one pattern is comparable across image sizes. The
    density squared is estimated as ``N (N - 1) / area**2``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r, g = pair_distribution(rng.uniform(0, 100, (5000, 2)), r_max=5.0, dr=1.0)
    >>> bool(np.all(np.abs(g - 1) < 0.1))
    True
    """
    xy = _check_points(xy)
    r_max = check_positive(r_max, "r_max")
    dr = check_positive(dr, "dr")
    if dr > r_max:
        raise ValueError(f"`dr` ({dr} Å) must not exceed `r_max` ({r_max} Å)")
    xmin, xmax, ymin, ymax = check_region(region, xy)
    width, height = xmax - xmin, ymax - ymin
    if r_max >= min(width, height):
        raise ValueError(
            f"`r_max` ({r_max} Å) must be shorter than the region's shorter side ({min(width, height):.4g} Å)"
        )
    xy = xy[(xy[:, 0] >= xmin) & (xy[:, 0] <= xmax) & (xy[:, 1] >= ymin) & (xy[:, 1] <= ymax)]
    if len(xy) < 2:
        raise ValueError(f"`xy` needs at least 2 points inside `region`, got {len(xy)}")
    edges = _bin_edges(r_max, dr)
    area = width * height
    expected = len(xy) ** 2 * np.pi * edges[-1] ** 2 / (2 * area)
    if expected > max_pairs:
        keep = int(max(2, len(xy) * np.sqrt(max_pairs / expected)))
        xy = xy[np.sort(np.random.default_rng(0).choice(len(xy), size=keep, replace=False))]
    pairs = cKDTree(xy, balanced_tree=False, compact_nodes=False).query_pairs(edges[-1], output_type="ndarray")  # 2x faster to build
    d = np.abs(displacement(xy, pairs[:, 0], pairs[:, 1]))
    dx, dy = d[:, 0], d[:, 1]
    r = np.sqrt(dx * dx + dy * dy)
    inside = r < edges[-1]  # query_pairs also returns pairs at r_max exactly
    if not inside.all():
        dx, dy, r = dx[inside], dy[inside], r[inside]
    weights = 1.0 / ((width - dx) * (height - dy))
    # equal bins: an index and bincount, 5x faster than np.histogram's sorting
    weighted = np.bincount(np.minimum((r / dr).astype(np.int64), len(edges) - 2), weights=weights, minlength=len(edges) - 1)
    n = len(xy)
    g = 2.0 * weighted * area**2 / (n * (n - 1)) / (np.pi * np.diff(edges**2))
    return 0.5 * (edges[1:] + edges[:-1]), g


def ring_size_fractions(rings: pd.DataFrame, *, sizes: Iterable[int] = range(3, 11)) -> pd.DataFrame:
    """Count and fraction of complete rings of each size, with the fraction's counting error.

    Parameters
    ----------
    rings : pandas.DataFrame
        Columns ``size`` and ``complete``, as in :attr:`Network.rings`.
    sizes : iterable of int
        Ring sizes to report (default 3 to 10).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``size``: ``count`` of complete rings of that size, ``fraction`` of all
        complete rings (sizes outside ``sizes`` included) and ``error``, its binomial
        standard error sqrt(f (1 - f) / N) [same unit as the fraction]; NaN without complete
        rings.
    """
    missing = [c for c in ("size", "complete") if c not in rings.columns]
    if missing:
        raise ValueError(f"`rings` lacks the columns {missing}; it has {list(rings.columns)}")
    sizes = pd.Index(list(sizes), name="size")
    if sizes.empty:
        raise ValueError("`sizes` must name at least one ring size")
    complete = rings["size"].to_numpy(dtype=np.int64)[rings["complete"].to_numpy(dtype=bool)]
    wanted = sizes.to_numpy(dtype=np.int64)
    histogram = np.bincount(complete[complete >= 0], minlength=max(int(wanted.max()), 0) + 1)
    counts = np.where(wanted >= 0, histogram[np.maximum(wanted, 0)], 0)
    total = len(complete) if len(complete) else np.nan
    fraction = counts / total
    return pd.DataFrame({"count": counts, "fraction": fraction, "error": np.sqrt(fraction * (1 - fraction) / total)}, index=sizes)


def nearest_distances(sites: pd.DataFrame) -> np.ndarray:
    """Distance [Å] from each atom to the nearest atom of its own frame (``frame`` column, if any);
    frames with fewer than 2 atoms contribute nothing."""
    atoms = sites[sites["kind"] == "atom"]
    frames = [part for _, part in atoms.groupby("frame")] if "frame" in atoms.columns else [atoms]
    parts = [cKDTree(xy).query(xy, k=2)[0][:, 1] for xy in (f[["x", "y"]].to_numpy(dtype=float) for f in frames) if len(xy) >= 2]
    return np.concatenate(parts) if parts else np.empty(0)


def coordination(bonds: pd.DataFrame, rings: pd.DataFrame, n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """Bonds per site, and which sites are interior (every ring around them complete).

    An atom is interior when it belongs to at least one complete ring and to as many
    complete rings as it has bonds (in a planar network an inner atom with k bonds lies in
    k rings): atoms at an image, hole or monolayer edge, and isolated detections, are not.
    """
    degree = np.bincount(bonds[["i", "j"]].to_numpy().ravel(), minlength=n_sites)
    values, _ = flat_members(rings.loc[rings["complete"].astype(bool), "members"])
    in_rings = np.bincount(values, minlength=n_sites)
    return degree, (in_rings > 0) & (in_rings == degree)


def summarise(
    sites: pd.DataFrame,
    network: Network,
    *,
    r_max: float = 10.0,
    dr: float = 0.05,
    region: tuple[float, float, float, float] | None = None,
    pairs: np.ndarray | None = None,
) -> dict[str, Any]:
    """Summarise one frame as a flat record: counts, bond and angle moments, rings, PDF.

    Parameters
    ----------
    sites : pandas.DataFrame
        The frame's sites, as given to :func:`triangulate`.
    network : Network
        Its bonds, angles and rings.
    r_max, dr : float
        Range and bin width [Å] of the atoms' pair distribution (see :func:`pair_distribution`).
    region : tuple of float, optional
        Region ``(xmin, xmax, ymin, ymax)`` [Å] for the PDF (default: bounding box of the atoms).
    pairs : ndarray, optional
        :func:`ring_pairs` of the network's rings, if already computed.

    Returns
    -------
    dict
        ``n_atoms``, ``n_centres``, ``n_bonds``, ``n_complete_rings``; ``bond_length_mean``,
        ``bond_length_std`` [Å]; ``angle_mean``, ``angle_std`` [deg] (standard deviations of
        the population, NaN when empty); ``ring_3`` ... ``ring_10`` (fractions of complete
        rings) and ``ring_3_err`` ... ``ring_10_err`` (their binomial standard errors);
        ``n_interior_atoms``, ``coordination_mean`` and ``coordination_2`` ...
        ``coordination_4`` (fractions) of the interior atoms (see :func:`coordination`);
        ``aboav_a`` and ``ring_size_variance`` (see :func:`aboav_weaire`); ``pdf_r`` [Å] and
        ``pdf_g`` as lists.
    """
    sites = check_sites(sites)
    if not isinstance(network, Network):
        raise TypeError(f"`network` must be a Network from triangulate(), got {type(network).__name__}")
    return _summary(sites, network, r_max=r_max, dr=dr, region=region, pairs=pairs)


def _summary(
    sites: pd.DataFrame, network: Network, *, r_max: float, dr: float, region: tuple[float, float, float, float] | None, pairs: np.ndarray | None
) -> dict[str, Any]:
    """:func:`summarise` of checked input."""
    is_atom = (sites["kind"] == "atom").to_numpy()
    atoms = sites[["x", "y"]].to_numpy(dtype=float)[is_atom]
    r, g = pair_distribution(atoms, r_max=r_max, dr=dr, region=region)
    length, angle = network.bonds["length"].to_numpy(), network.angles["angle"].to_numpy()
    fractions = ring_size_fractions(network.rings)
    degree, interior = coordination(network.bonds, network.rings, len(sites))
    inner = degree[interior]
    a, mu2 = aboav_weaire(network.rings, ring_pairs(network.rings) if pairs is None else pairs)
    return {
        "n_atoms": int(is_atom.sum()),
        "n_centres": int((~is_atom).sum()),
        "n_bonds": len(network.bonds),
        "n_complete_rings": int(network.rings["complete"].sum()),
        "bond_length_mean": float(length.mean()) if len(length) else float("nan"),
        "bond_length_std": float(length.std()) if len(length) else float("nan"),
        "angle_mean": float(angle.mean()) if len(angle) else float("nan"),
        "angle_std": float(angle.std()) if len(angle) else float("nan"),
        **{f"ring_{size}": float(value) for size, value in fractions["fraction"].items()},
        **{f"ring_{size}_err": float(value) for size, value in fractions["error"].items()},
        "n_interior_atoms": int(interior.sum()),
        "coordination_mean": float(inner.mean()) if len(inner) else float("nan"),
        **{f"coordination_{k}": float(np.mean(inner == k)) if len(inner) else float("nan") for k in COORDINATIONS},
        "aboav_a": a,
        "ring_size_variance": mu2,
        "pdf_r": r.tolist(),
        "pdf_g": g.tolist(),
    }


#: Coordination numbers whose fractions the summary reports.
COORDINATIONS = (2, 3, 4)


def adjacent_ring_pairs(rings: pd.DataFrame, size_a: int, size_b: int) -> int:
    """Number of pairs of complete rings of sizes ``size_a`` and ``size_b`` that share a bond
    (two consecutive members), e.g. the 5-7 pairs along a graphene grain boundary or in a Stone-Wales defect."""
    pairs = ring_pairs(rings)
    size = rings["size"].to_numpy()[pairs]
    return int(np.sum((size[:, 0] == size_a) & (size[:, 1] == size_b) | (size[:, 0] == size_b) & (size[:, 1] == size_a)))


def rings_away_from(rings: pd.DataFrame, sites: pd.DataFrame, *, size: int, distance: float) -> pd.DataFrame:
    """The rows of ``rings`` whose member centroid lies farther than ``distance`` [Å] from the centroid of
    every ring of ``size`` (7-rings mark grain boundaries and defects in graphene): the lattice
    away from them. ``sites`` are the frame's sites whose rows the members index."""
    xy = sites[["x", "y"]].to_numpy()
    centroids = np.array([xy[np.asarray(m, dtype=int)].mean(axis=0) for m in rings["members"]]).reshape(-1, 2)
    marked = centroids[rings["size"].to_numpy() == size]
    if len(marked) == 0:
        return rings
    near = np.linalg.norm(centroids[:, None] - marked[None], axis=-1).min(axis=1) <= distance
    return rings[~near]



def analyse_frames(
    sites: pd.DataFrame,
    *,
    min_bond: float = 0.5,
    max_bond: float = 3.0,
    r_max: float = 10.0,
    dr: float = 0.05,
    region: tuple[float, float, float, float] | None = None,
    monolayer: np.ndarray | None = None,
    monolayer_sampling: float | None = None,
    **ring_options: Any,
) -> dict[str, pd.DataFrame]:
    """Triangulate and summarise every frame of a sites table; name its defects.

    Sites whose ``in_monolayer`` is False are left out (Leist et al. 2022: only monolayer
    regions are analysed); with the ``monolayer`` masks, a ring is complete only when the
    circle about its position through its farthest member lies inside the monolayer.

    Parameters
    ----------
    sites : pandas.DataFrame
        Columns ``x``, ``y`` [Å], ``kind`` and optionally ``frame`` (all rows are frame 0
        without it) and ``species`` (for dopants).
    min_bond, max_bond : float
        Bond length range [Å], see :func:`triangulate`.
    r_max, dr : float
        PDF range and bin width [Å], see :func:`pair_distribution`.
    region : tuple of float, optional
        Field of view ``(xmin, xmax, ymin, ymax)`` [Å] for every frame (default: each
        frame's bounding box).
    monolayer : ndarray of bool, shape (F, H, W), optional
        Monolayer mask of each frame (e.g. the model's monolayer head >= ``inference.monolayer_threshold``), pixel (r, c)
        at (x, y) = (c, r) * ``monolayer_sampling`` [Å/px].
    **ring_options
        ``rings``, ``bond_factor``, ``max_coordination``, ``max_ring_size`` of :func:`triangulate`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``bonds``, ``angles`` and ``rings`` as in :class:`Network`, ``adjacency`` (as
        :func:`ring_adjacency`), ``defects`` (as :func:`find_defects`) and ``summary`` (one row
        per frame, as :func:`summarise`), each with a leading ``frame`` column. Indices are
        row positions within the frame, ``sites[sites.frame == f].reset_index(drop=True)``,
        also when sites outside the monolayer were left out. Rows of kind ``vacancy`` (empty
        columns a species head found; inference puts them after each frame's atoms and
        centres) are not triangulated.
    """
    sites = check_sites(sites[sites["kind"] != "vacancy"] if "kind" in sites.columns else sites, one_frame=False)
    if "frame" not in sites.columns:
        sites = sites.assign(frame=0)
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in FRAME_TABLES}
    summary = []
    for frame, part in sites.groupby("frame", sort=True):
        part = part.reset_index(drop=True)
        kept = np.flatnonzero(_in_monolayer(part))
        if len(kept) < len(part):
            part = part.iloc[kept].reset_index(drop=True)
        if (part["kind"] == "atom").sum() < MIN_ATOMS:
            log.warning("frame %s has fewer than %d atoms: no bonds, rings or g(r); its statistics are NaN", frame, MIN_ATOMS)
            network, pairs = EMPTY_NETWORK, np.zeros((0, 2), dtype=np.int64)
            record = _empty_summary(part, r_max=r_max, dr=dr)
        else:
            network = triangulate(part, min_bond=min_bond, max_bond=max_bond, region=region, **ring_options)
            if monolayer is not None:
                network = _rings_inside(network, part, monolayer[frame], check_positive(monolayer_sampling, "monolayer_sampling"))
            pairs = ring_pairs(network.rings)
            record = _summary(part, network, r_max=r_max, dr=dr, region=region, pairs=pairs)
        defects = find_defects(part, network.rings, network.bonds, pairs=pairs)
        site = defects["site"].to_numpy()
        network = renumbered(network, kept)
        frame_tables = {
            "bonds": network.bonds,
            "angles": network.angles,
            "rings": network.rings,
            "adjacency": ring_adjacency(network.rings, pairs),
            "defects": defects.assign(site=np.where(site >= 0, kept[np.maximum(site, 0)], -1)),
        }
        for name in tables:
            tables[name].append(frame_tables[name])
        summary.append({"frame": frame, **record})
    frames = [record["frame"] for record in summary]
    result = {name: _with_frames(parts, frames) for name, parts in tables.items()}
    result["summary"] = pd.DataFrame(summary)
    return result


#: The per-frame tables of :func:`analyse_frames` besides the summary.
FRAME_TABLES = ("bonds", "angles", "rings", "adjacency", "defects")


EMPTY_NETWORK = Network(
    bonds=pd.DataFrame({"i": pd.Series(dtype=np.int64), "j": pd.Series(dtype=np.int64), "length": pd.Series(dtype=float)}),
    angles=pd.DataFrame(
        {name: pd.Series(dtype=np.int64) for name in ("vertex", "i", "j")} | {"angle": pd.Series(dtype=float)}
    ),
    rings=pd.DataFrame(
        {
            "centre": pd.Series(dtype=np.int64),
            "x": pd.Series(dtype=float),
            "y": pd.Series(dtype=float),
            "size": pd.Series(dtype=np.int64),
            "area": pd.Series(dtype=float),
            "members": pd.Series(dtype=object),
            "complete": pd.Series(dtype=bool),
        }
    ),
)


def _empty_summary(sites: pd.DataFrame, *, r_max: float, dr: float) -> dict[str, Any]:
    """The summary record of a frame too sparse to triangulate: counts, NaN statistics."""
    edges = _bin_edges(r_max, dr)
    r = 0.5 * (edges[1:] + edges[:-1])
    n_atoms = int((sites["kind"] == "atom").sum())
    nan = float("nan")
    return {
        "n_atoms": n_atoms,
        "n_centres": len(sites) - n_atoms,
        "n_bonds": 0,
        "n_complete_rings": 0,
        "bond_length_mean": nan,
        "bond_length_std": nan,
        "angle_mean": nan,
        "angle_std": nan,
        **{f"ring_{size}": nan for size in range(3, 11)},
        **{f"ring_{size}_err": nan for size in range(3, 11)},
        "n_interior_atoms": 0,
        "coordination_mean": nan,
        **{f"coordination_{k}": nan for k in COORDINATIONS},
        "aboav_a": nan,
        "ring_size_variance": nan,
        "pdf_r": r.tolist(),
        "pdf_g": [nan] * len(r),
    }


def _bin_edges(r_max: float, dr: float) -> np.ndarray:
    """Bin edges of g(r): 0 to the largest multiple of ``dr`` not above ``r_max`` [Å]."""
    return dr * np.arange(int(np.floor(r_max / dr + 1e-9)) + 1)


def _in_monolayer(sites: pd.DataFrame) -> np.ndarray:
    """Sites to analyse: all but those whose ``in_monolayer`` is False (missing counts as in)."""
    if "in_monolayer" not in sites.columns:
        return np.ones(len(sites), dtype=bool)
    return pd.array(sites["in_monolayer"], dtype="boolean").fillna(True).to_numpy(dtype=bool)


def _rings_inside(network: Network, sites: pd.DataFrame, mask: np.ndarray, sampling: float) -> Network:
    """``network`` with the rings whose circle (position to farthest member) leaves ``mask`` incomplete."""
    xy = sites[["x", "y"]].to_numpy(dtype=float)
    inside = ndimage.distance_transform_edt(np.asarray(mask, dtype=bool)) * sampling  # Å to the nearest non-monolayer pixel
    rings = network.rings
    at = rings[["x", "y"]].to_numpy(dtype=float)
    values, offsets = flat_members(rings["members"])
    radius = np.zeros(len(rings))
    ring = np.repeat(np.arange(len(rings)), np.diff(offsets))
    np.maximum.at(radius, ring, np.hypot(*(xy[values] - at[ring]).T))
    rows, cols = ImageGrid(mask.shape, sampling).nearest_pixel(at[:, 0], at[:, 1])
    complete = rings["complete"].to_numpy() & (inside[rows, cols] >= radius)
    return Network(bonds=network.bonds, angles=network.angles, rings=rings.assign(complete=complete))


def _with_frames(parts: list[pd.DataFrame], frames: list) -> pd.DataFrame:
    """One table of the frames' ``parts``, with a leading ``frame`` column (one copy of the rows, not two)."""
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "frame", np.repeat(np.asarray(frames), [len(part) for part in parts]))
    return table


def _check_points(xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"`xy` must have shape (N, 2), got {xy.shape}")
    if not np.isfinite(xy).all():
        raise ValueError("`xy` contains NaN or infinite values")
    if len(xy) < 2:
        raise ValueError(f"`xy` needs at least 2 points, got {len(xy)}")
    return xy
