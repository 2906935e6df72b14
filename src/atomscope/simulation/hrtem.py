"""Plane-wave HRTEM images with abTEM: exit wave by multislice, then the objective lens CTF.

The exit wave of a model is computed once; each defocus of a focal series only applies
another CTF to it (a multiplication in reciprocal space), so a focal series of C images
costs one multislice and C cheap transfers.

abTEM indexes its arrays [x, y]; atomscope images are [row, col] = [y, x]. The transpose
happens once, in :func:`focal_series`, where the simulated images are handed over. The lens
is an :class:`.lens.Lens`; a focal series is one lens and a list of defocus offsets.

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
from atomscope.simulation.lens import Lens, check_lens

__all__ = ["build_potential", "exit_wave", "fast_gpts", "focal_series", "hrtem_image"]


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


def focal_series(
    wave: abtem.Waves, lens: Lens, *, offsets: Sequence[float], sampling: float
) -> tuple[np.ndarray, float]:
    """HRTEM intensities of one exit wave through ``lens`` at several defocus offsets, resampled to ``sampling``.

    Parameters
    ----------
    wave : abtem.Waves
        Exit wave from :func:`exit_wave`.
    lens : Lens
        The objective lens (its ``energy`` must be the wave's); its ``defocus`` [Å] is the
        series' reference.
    offsets : sequence of float
        Defocus offset of each image from ``lens.defocus`` [Å] (:meth:`.Lens.defocus_series`);
        e.g. (-30, 20, 70) about defocus 0 for the focal series of Larsen et al.
    sampling : float
        Requested pixel size of the images [Å/px]; the cell is resampled (Fourier
        interpolation) to the nearest integer number of pixels, so the returned sampling
        differs slightly.

    Returns
    -------
    images : ndarray of shape (C, H, W), float32
        Intensity relative to the incident beam (vacuum = 1), one image per offset, indexed
        [channel, row, col] = [c, y, x]; pixel (r, c) samples x = c * sampling, y = r * sampling.
    sampling : float
        Pixel size actually used [Å/px] (the mean of the x and y values, which differ by
        less than 0.5 % for cells larger than 100 pixels).
    """
    check_positive(sampling, "sampling")
    if check_lens(lens).energy != wave.energy:
        raise ValueError(
            f"`lens.energy` {lens.energy:g} eV differs from the exit wave's {wave.energy:g} eV: "
            "give both the same acceleration voltage"
        )
    lenses = lens.defocus_series(np.atleast_1d(offsets))
    gpts = tuple(max(1, round(extent / sampling)) for extent in wave.extent)  # nearest to `sampling`
    images = []
    for channel in lenses:
        measured = wave.apply_ctf(channel.ctf()).intensity().interpolate(gpts=gpts)
        images.append(np.asarray(measured.to_cpu().array, dtype=np.float32).T)  # abTEM [x, y] -> atomscope [y, x]
    return np.ascontiguousarray(np.stack(images)), float(np.mean(measured.sampling))


def hrtem_image(wave: abtem.Waves, lens: Lens, *, sampling: float) -> tuple[np.ndarray, float]:
    """One HRTEM image: :func:`focal_series` at ``lens.defocus`` alone.

    Returns the image of shape (H, W), float32, indexed [row, col] = [y, x], and the pixel
    size actually used [Å/px].
    """
    images, sampling = focal_series(wave, lens, offsets=[0.0], sampling=sampling)
    return images[0], sampling
