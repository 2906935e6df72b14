"""Plane-wave HRTEM images with abTEM: exit wave by multislice, then the objective lens CTF.

The exit wave of a model is computed once; each defocus of a focal series only applies
another CTF to it (a multiplication in reciprocal space), so a focal series of C images
costs one multislice and C cheap transfers.

abTEM indexes its arrays [x, y]; atomscope images are [row, col] = [y, x]. The transpose
happens once, in :func:`focal_series`, where the simulated images are handed over.

CTF convention (abTEM's, Kirkland 2010 eq. 2.22): the wave in reciprocal space is
multiplied by ``exp(-i chi(k))`` with, up to third order,

    chi(k, phi) = pi * lambda * k**2 * (C10 + C12 * cos(2 * (phi - phi12))) + pi / 2 * lambda**3 * k**4 * C30

where C10 = -defocus (positive defocus is underfocus), C12 the two-fold astigmatism,
phi12 its azimuth [rad] measured from the x axis, and C30 = Cs.
"""

from __future__ import annotations

from typing import Sequence

import abtem
import ase
import numpy as np
from scipy.fft import next_fast_len

from atomscope._shared.validation import check_positive

__all__ = ["build_potential", "exit_wave", "fast_gpts", "focal_series", "hrtem_image", "objective_lens"]


def fast_gpts(extent: Sequence[float], sampling: float) -> tuple[int, ...]:
    """Grid points covering ``extent`` [Å] at ``sampling`` [Å] or finer, each a fast FFT length.

    A cell of 12.64 Å at 0.05 Å has 253 = 11 x 23 points, whose FFT is about twice as slow
    as that of the 256 points this returns; multislice is FFTs throughout.
    """
    check_positive(sampling, "sampling")
    return tuple(next_fast_len(int(np.ceil(check_positive(e, "extent") / sampling - 1e-9))) for e in extent)


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
        Largest real-space sampling of the projected potential [Å] (default 0.05); the grid
        is refined to the next fast FFT length (:func:`fast_gpts`).
    slice_thickness : float, optional
        Multislice slice thickness [Å] (default 1.0).

    Returns
    -------
    abtem.Waves
        The exit wave, computed (not lazy), indexed [x, y].
    """
    check_positive(energy, "energy")
    potential = build_potential(atoms, potential_sampling=potential_sampling, slice_thickness=slice_thickness)
    return abtem.PlaneWave(energy=energy).multislice(potential, lazy=False)


def build_potential(
    atoms: ase.Atoms, *, potential_sampling: float, slice_thickness: float, device: str | None = None
) -> abtem.PotentialArray:
    """Projected potential of ``atoms`` (infinite projection) on a fast FFT grid, built in memory.

    ``potential_sampling`` [Å] is the largest sampling (see :func:`fast_gpts`),
    ``slice_thickness`` [Å] the multislice step; ``device`` 'cpu' or 'gpu' (default: abTEM's).
    One builder for HRTEM and STEM, so both see the same potential.
    """
    check_positive(slice_thickness, "slice_thickness")
    if len(atoms) == 0:
        raise ValueError("`atoms` is empty: nothing to simulate")
    return abtem.Potential(
        atoms,
        gpts=fast_gpts(atoms.cell.lengths()[:2], potential_sampling),
        slice_thickness=slice_thickness,
        projection="infinite",
        device=device,
    ).build(lazy=False)


def objective_lens(
    *,
    energy: float,
    defocus: float,
    Cs: float,
    semiangle_cutoff: float,
    astigmatism: float = 0.0,
    astigmatism_angle: float = 0.0,
    focal_spread: float = 0.0,
    angular_spread: float = 0.0,
) -> abtem.CTF:
    """The objective lens as an abTEM CTF (HRTEM), or the probe-forming lens (STEM).

    Parameters
    ----------
    energy : float
        Acceleration voltage [eV].
    defocus : float
        Defocus [Å], abTEM's convention (defocus = -C10; positive is underfocus).
    Cs : float
        Spherical aberration C30 [Å] (negative for a Cs-corrected instrument, e.g. -15e4).
    semiangle_cutoff : float
        Aperture semi-angle [mrad]: the objective aperture (HRTEM) or the probe's
        convergence semi-angle (STEM). The edge is softened over a pixel, as abTEM does.
    astigmatism : float, optional
        Two-fold astigmatism C12 [Å] (default 0).
    astigmatism_angle : float, optional
        Azimuth phi12 of the astigmatism from the x axis [rad] (default 0).
    focal_spread : float, optional
        Focal spread from partial temporal coherence, 1/e half-width [Å] (default 0).
    angular_spread : float, optional
        Partial spatial coherence: standard deviation of the illumination angles from the
        source size [mrad] (default 0).

    Returns
    -------
    abtem.CTF
        Multiplies a wave in reciprocal space by envelopes x aperture x exp(-i chi); see the
        module docstring for chi.
    """
    check_positive(energy, "energy")
    check_positive(semiangle_cutoff, "semiangle_cutoff")
    check_positive(astigmatism, "astigmatism", allow_zero=True)
    check_positive(focal_spread, "focal_spread", allow_zero=True)
    check_positive(angular_spread, "angular_spread", allow_zero=True)
    return abtem.CTF(
        energy=energy,
        defocus=float(defocus),
        Cs=float(Cs),
        astigmatism=float(astigmatism),
        astigmatism_angle=float(astigmatism_angle),
        semiangle_cutoff=float(semiangle_cutoff),
        focal_spread=float(focal_spread),
        angular_spread=float(angular_spread),
    )


def focal_series(
    wave: abtem.Waves,
    *,
    defoci: Sequence[float],
    Cs: float,
    sampling: float,
    astigmatism: float = 0.0,
    astigmatism_angle: float = 0.0,
    semiangle_cutoff: float = 25.0,
    focal_spread: float = 30.0,
    angular_spread: float = 0.0,
) -> tuple[np.ndarray, float]:
    """HRTEM intensities of one exit wave at several defoci, resampled to ``sampling``.

    Parameters
    ----------
    wave : abtem.Waves
        Exit wave from :func:`exit_wave`.
    defoci : sequence of float
        Defocus of each image [Å] (see :func:`objective_lens`); e.g. (-30, 20, 70) for the
        focal series of Larsen et al.
    Cs : float
        Spherical aberration C30 [Å].
    sampling : float
        Requested pixel size of the images [Å/px]; the cell is resampled (Fourier
        interpolation) to the nearest integer number of pixels, so the returned sampling
        differs slightly.
    astigmatism, astigmatism_angle, focal_spread, angular_spread : float, optional
        See :func:`objective_lens` ([Å], [rad], [Å], [mrad]); defaults 0, 0, 30, 0.
    semiangle_cutoff : float, optional
        Objective aperture semi-angle [mrad] (default 25).

    Returns
    -------
    images : ndarray of shape (C, H, W), float32
        Intensity relative to the incident beam (vacuum = 1), one image per defocus, indexed
        [channel, row, col] = [c, y, x]; pixel (r, c) samples x = c * sampling, y = r * sampling.
    sampling : float
        Pixel size actually used [Å/px] (the mean of the x and y values, which differ by
        less than 0.5 % for cells larger than 100 pixels).
    """
    check_positive(sampling, "sampling")
    defoci = [float(d) for d in np.atleast_1d(defoci)]
    if not defoci:
        raise ValueError("`defoci` is empty: give at least one defocus")
    gpts = tuple(max(1, round(extent / sampling)) for extent in wave.extent)  # nearest to `sampling`
    images = []
    for defocus in defoci:
        lens = objective_lens(
            energy=wave.energy,
            defocus=defocus,
            Cs=Cs,
            astigmatism=astigmatism,
            astigmatism_angle=astigmatism_angle,
            semiangle_cutoff=semiangle_cutoff,
            focal_spread=focal_spread,
            angular_spread=angular_spread,
        )
        measured = wave.apply_ctf(lens).intensity().interpolate(gpts=gpts)
        images.append(np.asarray(measured.to_cpu().array, dtype=np.float32).T)  # abTEM [x, y] -> atomscope [y, x]
    return np.ascontiguousarray(np.stack(images)), float(np.mean(measured.sampling))


def hrtem_image(wave: abtem.Waves, *, defocus: float, **lens: float) -> tuple[np.ndarray, float]:
    """One HRTEM image: :func:`focal_series` with a single ``defocus`` [Å].

    Returns the image of shape (H, W), float32, indexed [row, col] = [y, x], and the pixel
    size actually used [Å/px]. ``lens`` takes the keyword arguments of :func:`focal_series`.
    """
    images, sampling = focal_series(wave, defoci=[defocus], **lens)
    return images[0], sampling
