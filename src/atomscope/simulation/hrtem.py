"""Plane-wave HRTEM images with abTEM: exit wave by multislice, then the objective lens CTF.

abTEM indexes its arrays [x, y]; atomscope images are [row, col] = [y, x]. The transpose
happens once, in :func:`hrtem_image`, where the simulated image is handed over.
"""

from __future__ import annotations

import abtem
import ase
import numpy as np

from atomscope._shared.validation import check_positive

__all__ = ["exit_wave", "hrtem_image"]


def exit_wave(
    atoms: ase.Atoms,
    *,
    energy: float = 80e3,
    potential_sampling: float = 0.05,
    slice_thickness: float = 1.0,
) -> abtem.Waves:
    """Exit wave of a plane wave through ``atoms`` (periodic cell), by multislice.

    Parameters
    ----------
    atoms : ase.Atoms
        Structure with an orthogonal, periodic cell; the beam runs along z.
    energy : float, optional
        Acceleration voltage [eV] (default 80e3).
    potential_sampling : float, optional
        Real-space sampling of the projected potential [Å] (default 0.05).
    slice_thickness : float, optional
        Multislice slice thickness [Å] (default 1.0).

    Returns
    -------
    abtem.Waves
        The exit wave, computed (not lazy), indexed [x, y].
    """
    check_positive(energy, "energy")
    check_positive(potential_sampling, "potential_sampling")
    check_positive(slice_thickness, "slice_thickness")
    if len(atoms) == 0:
        raise ValueError("`atoms` is empty: nothing to simulate")
    potential = abtem.Potential(
        atoms, sampling=potential_sampling, slice_thickness=slice_thickness, projection="infinite"
    )
    return abtem.PlaneWave(energy=energy).multislice(potential, lazy=False)


def hrtem_image(
    wave: abtem.Waves,
    *,
    defocus: float,
    Cs: float,
    sampling: float,
    semiangle_cutoff: float = 25.0,
    focal_spread: float = 30.0,
) -> tuple[np.ndarray, float]:
    """HRTEM intensity of an exit wave through the objective lens, resampled to ``sampling``.

    Parameters
    ----------
    wave : abtem.Waves
        Exit wave from :func:`exit_wave`.
    defocus : float
        Defocus [Å], abTEM's convention (defocus = -C10; positive is underfocus).
    Cs : float
        Spherical aberration C30 [Å] (negative for a Cs-corrected instrument, e.g. -15e4).
    sampling : float
        Requested pixel size of the image [Å/px]; the cell is resampled to an integer number
        of pixels, so the returned sampling differs slightly.
    semiangle_cutoff : float, optional
        Objective aperture semi-angle [mrad] (default 25).
    focal_spread : float, optional
        Focal spread from partial temporal coherence, 1/e half-width [Å] (default 30).

    Returns
    -------
    image : ndarray of shape (H, W), float32
        Intensity relative to the incident beam (vacuum = 1), indexed [row, col] = [y, x];
        pixel (r, c) samples the point x = c * sampling, y = r * sampling of the cell.
    sampling : float
        Pixel size actually used [Å/px] (the mean of the x and y values, which differ by
        less than 0.5 % for cells larger than 100 pixels).
    """
    check_positive(sampling, "sampling")
    check_positive(semiangle_cutoff, "semiangle_cutoff")
    check_positive(focal_spread, "focal_spread", allow_zero=True)
    ctf = abtem.CTF(
        defocus=defocus,
        Cs=Cs,
        energy=wave.energy,
        semiangle_cutoff=semiangle_cutoff,
        focal_spread=focal_spread,
    )
    images = wave.apply_ctf(ctf).intensity().interpolate(sampling=sampling)
    image = np.asarray(images.array, dtype=np.float32).T  # abTEM [x, y] -> atomscope [y, x]
    return np.ascontiguousarray(image), float(np.mean(images.sampling))

