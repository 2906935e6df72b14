"""Which rings neighbour which: rings sharing a bond, size-size neighbour counts, Aboav-Weaire."""

from __future__ import annotations

import numpy as np
import pandas as pd

from atomscope.geometry._graph import flat_members, pair_codes

__all__ = ["aboav_weaire", "ring_adjacency", "ring_pairs"]


def ring_pairs(rings: pd.DataFrame) -> np.ndarray:
    """Pairs of complete rings that share a bond (two consecutive members of each).

    Parameters
    ----------
    rings : pandas.DataFrame
        Columns ``members`` (counter-clockwise site rows) and ``complete``, as in
        :attr:`~atomscope.geometry.Network.rings`.

    Returns
    -------
    ndarray of int, shape (P, 2)
        Row positions in ``rings`` of each neighbouring pair, first < second.
    """
    complete = np.flatnonzero(rings["complete"].to_numpy(dtype=bool))
    values, offsets = flat_members(rings["members"].iloc[complete])
    if len(values) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    size = np.diff(offsets)
    ring = np.repeat(complete, size)
    nxt = np.arange(len(values)) + 1
    nxt[offsets[1:] - 1] = offsets[:-1]  # the last member's next is the ring's first
    code = pair_codes(values, values[nxt], int(values.max()) + 1)
    order = np.argsort(code)  # 5x faster than a stable sort; equal codes are one bond, ordered below
    code, ring = code[order], ring[order]
    shared = np.flatnonzero(code[1:] == code[:-1])
    pairs = np.sort(np.stack([ring[shared], ring[shared + 1]], axis=1), axis=1)
    return pairs[pairs[:, 0] != pairs[:, 1]]


def ring_adjacency(rings: pd.DataFrame, pairs: np.ndarray | None = None) -> pd.DataFrame:
    """How often an n-ring neighbours a k-ring, against random mixing.

    Returns one row per (``size``, ``neighbour_size``) of complete rings: ``count`` (bonds an
    n-ring shares with a k-ring) and ``expected``, the count if each neighbour's size were
    drawn at random with probability k p_k / <n> (a ring of size k has k bonds to offer),
    given the n-rings' neighbour total. ``count`` above ``expected`` means the sizes attract.
    """
    pairs = ring_pairs(rings) if pairs is None else pairs
    size = rings["size"].to_numpy()
    both = np.concatenate([pairs, pairs[:, ::-1]])
    top = int(size.max()) + 1 if len(size) else 1
    code = np.bincount(size[both[:, 0]] * top + size[both[:, 1]], minlength=top * top)
    seen = np.flatnonzero(code)
    ring_size, neighbour_size, count = seen // top, seen % top, code[seen]
    weight = np.bincount(size[rings["complete"].to_numpy(dtype=bool)], minlength=top) * np.arange(top)  # k N_k: the bonds k-rings offer
    share = weight / weight.sum() if weight.sum() else weight.astype(float)
    totals = np.bincount(ring_size, weights=count, minlength=top)  # neighbours of all n-rings together
    return pd.DataFrame(
        {"size": ring_size, "neighbour_size": neighbour_size, "count": count, "expected": totals[ring_size] * share[neighbour_size]}
    )


def aboav_weaire(rings: pd.DataFrame, pairs: np.ndarray | None = None) -> tuple[float, float]:
    """The Aboav-Weaire parameter a and the size variance mu2 of the complete rings.

    Aboav-Weaire: the mean size m(n) of an n-ring's neighbours follows
    ``n m(n) = (6 - a) n + 6 a + mu2``. Fitted by least squares over the complete rings whose
    every bond is shared with another complete ring (so m(n) sees all neighbours); a is NaN
    when those rings are all one size (nothing to fit), as in perfect graphene.
    """
    pairs = ring_pairs(rings) if pairs is None else pairs
    size = rings["size"].to_numpy().astype(float)
    complete = rings["complete"].to_numpy(dtype=bool)
    mu2 = float(size[complete].var()) if complete.any() else float("nan")
    both = np.concatenate([pairs, pairs[:, ::-1]])
    n_neighbours = np.bincount(both[:, 0], minlength=len(size))
    neighbour_sum = np.bincount(both[:, 0], weights=size[both[:, 1]], minlength=len(size))
    inner = complete & (n_neighbours == size)
    n, total = size[inner], neighbour_sum[inner]  # total = n m(n)
    x = 6.0 - n
    if not inner.any() or not np.any(x):
        return float("nan"), mu2
    a = float(np.sum(x * (total - 6.0 * n - mu2)) / np.sum(x * x))
    return a, mu2
