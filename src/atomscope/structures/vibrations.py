"""Frozen-phonon configurations with coordination-dependent amplitudes (Larsen et al.).

Larsen et al. take the standard deviation of each atom's position from molecular dynamics
as a function of its coordination number and displace the atoms of a static model by
Gaussian draws of that width, one set per frozen-phonon configuration. Without their MD
table, the width here is ``amplitude * (1 + gain * missing)``, ``missing`` being how many
neighbours an atom lacks compared with the bulk of its material (three for C, N, Si and
chalcogens, six for TMD metals, one for H): atoms at pores, edges and vacancies vibrate more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase.data import atomic_numbers, covalent_radii
from scipy.spatial import cKDTree

from atomscope._shared.validation import check_int, check_positive, make_rng
from atomscope.structures._periodic import wrap
from atomscope.structures.crystals import CHALCOGENS
from atomscope.structures.sites import label_sites

__all__ = ["FULL_COORDINATION", "coordination", "frozen_phonons", "vibration_amplitudes"]

#: Bulk coordination by element; elements not listed are TMD metals (6).
FULL_COORDINATION = {"H": 1, "C": 3, "N": 3, "Si": 3, "O": 3, "S": 3, "Se": 3, "Te": 3}
_ORGANIC = ("H", "C", "N", "Si")
#: Two atoms of one layer are bonded when closer than this factor times the sum of their
#: covalent radii (C-C 1.82 Å, Mo-S 3.1 Å) and their elements can bond (organic-organic or
#: metal-chalcogen; metal-metal and chalcogen-chalcogen pairs of a TMD never count).
_BOND_FACTOR = 1.2


def coordination(sites: pd.DataFrame, cell: tuple[float, float]) -> np.ndarray:
    """Number of bonded neighbours of each atom row of the equilibrium model (configuration 0), in row order."""
    atoms = label_sites(sites)
    atoms = atoms[atoms["kind"] == "atom"]
    box = np.asarray(cell, dtype=float)
    elements = atoms["element"].to_numpy(dtype=str)
    radius = covalent_radii[[atomic_numbers[e] for e in elements]]
    xyz = atoms[["x", "y", "z"]].to_numpy(dtype=float, copy=True)
    xyz[:, :2] = wrap(xyz[:, :2], box)
    xyz[:, 2] -= xyz[:, 2].min() if len(xyz) else 0.0
    height = (xyz[:, 2].max() if len(xyz) else 0.0) + 10.0  # no periodicity along z
    tree = cKDTree(xyz, boxsize=[*box, height])
    pairs = tree.query_pairs(_BOND_FACTOR * 2.0 * radius.max() if len(xyz) else 1.0, output_type="ndarray")
    i, j = pairs.T
    d = xyz[j] - xyz[i]
    d[:, :2] -= box * np.round(d[:, :2] / box)
    organic = np.isin(elements, _ORGANIC)
    chalcogen = np.isin(elements, CHALCOGENS)
    metal = ~organic & ~chalcogen
    can_bond = (organic[i] & organic[j]) | (metal[i] & chalcogen[j]) | (chalcogen[i] & metal[j])
    bonded = can_bond & (atoms["layer"].to_numpy()[i] == atoms["layer"].to_numpy()[j])
    bonded &= np.sqrt(np.einsum("ij,ij->i", d, d)) < _BOND_FACTOR * (radius[i] + radius[j])
    return np.bincount(pairs[bonded].ravel(), minlength=len(atoms))


def vibration_amplitudes(sites: pd.DataFrame, cell: tuple[float, float], *, amplitude: float, gain: float) -> np.ndarray:
    """Standard deviation [Å] per Cartesian direction of each atom row: ``amplitude * (1 + gain * missing neighbours)``."""
    atoms = label_sites(sites)
    elements = atoms.loc[atoms["kind"] == "atom", "element"].to_numpy(dtype=str)
    full = np.array([FULL_COORDINATION.get(e, 6) for e in elements])
    missing = np.maximum(full - coordination(sites, cell), 0)
    return amplitude * (1.0 + gain * missing)


def frozen_phonons(
    sites: pd.DataFrame,
    cell: tuple[float, float],
    *,
    configurations: int,
    rng: int | np.random.Generator | None,
    amplitude: float = 0.08,
    gain: float = 0.5,
) -> pd.DataFrame:
    """Append ``configurations`` frozen-phonon copies of the atoms of a model (configuration 0).

    Parameters
    ----------
    sites
        Sites table of one model; only its configuration-0 rows are used.
    cell
        Cell sides (Lx, Ly) [Å].
    configurations
        Number of displaced copies N (0 returns the equilibrium rows unchanged).
    rng
        Random generator, or a seed for one.
    amplitude
        Standard deviation of the displacement per Cartesian direction of a fully
        coordinated atom [Å] (default 0.08, about graphene's at room temperature).
    gain
        Relative increase of the width per missing neighbour.

    Returns
    -------
    pandas.DataFrame
        The equilibrium rows (configuration 0, all kinds) followed by N copies of the atom
        rows with ``configuration`` 1..N, displaced by independent Gaussian draws and
        wrapped into the cell. The simulation averages over configurations 1..N; labels come
        from configuration 0.
    """
    configurations = check_int(configurations, "configurations", 0)
    amplitude = check_positive(amplitude, "amplitude", allow_zero=True)
    gain = check_positive(gain, "gain", allow_zero=True)
    rng = make_rng(rng)
    base = label_sites(sites)
    atoms = base[base["kind"] == "atom"]
    sigma = vibration_amplitudes(sites, cell, amplitude=amplitude, gain=gain)[:, None]
    box = np.asarray(cell, dtype=float)
    copies = [base]
    for k in range(1, configurations + 1):
        xyz = atoms[["x", "y", "z"]].to_numpy(dtype=float) + sigma * rng.standard_normal((len(atoms), 3))
        xyz[:, :2] = wrap(xyz[:, :2], box)
        copies.append(atoms.assign(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], configuration=k))
    return pd.concat(copies, ignore_index=True)
