"""HRTEM transfer: the CTF phase and envelopes against their analytic values, through the public path."""

from dataclasses import replace

import abtem
import ase
import numpy as np
import pytest
from abtem.core.energy import energy2wavelength

from atomscope.simulation import Lens
from atomscope.simulation.hrtem import build_potential, exit_wave, fast_gpts, focal_series

abtem.config.set({"device": "cpu", "dask.lazy": False})

ENERGY = 80e3
LAMBDA = energy2wavelength(ENERGY)  # [Å]
SAMPLING = 0.1
GPTS = (96, 80)  # [x, y]: a non-square cell, so a transposed image cannot pass
EPS = 0.01


def chi(k: float, phi: float, *, defocus: float, Cs: float, astigmatism: float = 0.0, angle: float = 0.0) -> float:
    """chi(k) = pi lambda k^2 (C10 + C12 cos 2(phi - phi12)) + pi/2 Cs lambda^3 k^4 with C10 = -defocus."""
    c10 = -defocus + astigmatism * np.cos(2 * (phi - angle))
    return np.pi * LAMBDA * c10 * k**2 + np.pi / 2 * Cs * LAMBDA**3 * k**4


def weak_phase_wave(axis: int, periods: int) -> tuple[abtem.Waves, float]:
    """exp(i eps cos(2 pi k0 r)) modulated along abTEM axis 0 (x) or 1 (y), and k0 [1/Å]."""
    k0 = periods / (GPTS[axis] * SAMPLING)
    r = np.arange(GPTS[axis]) * SAMPLING
    phase = EPS * np.cos(2 * np.pi * k0 * r)
    phase = phase[:, None] if axis == 0 else phase[None, :]
    array = np.exp(1j * np.broadcast_to(phase, GPTS)).astype(np.complex64)
    return abtem.Waves(array, energy=ENERGY, sampling=SAMPLING), k0


def modulation(image: np.ndarray, axis: int, k0: float) -> float:
    """Amplitude of cos(2 pi k0 r) in an atomscope image [row = y, col = x] along x (0) or y (1)."""
    profile = image.mean(axis=0) if axis == 0 else image.mean(axis=1)
    r = np.arange(len(profile)) * SAMPLING
    return 2 * np.mean((profile - profile.mean()) * np.cos(2 * np.pi * k0 * r))


def test_ctf_phase_at_a_known_frequency_equals_chi():
    # a wave with one Fourier component at k0: after the lens its coefficient is exp(-i chi(k0))
    n, k_index = 128, 5
    k0 = k_index / (n * 0.05)
    x = np.arange(n) * 0.05
    array = (1 + 1e-3 * np.exp(2j * np.pi * k0 * x))[:, None] * np.ones((1, n))
    wave = abtem.Waves(array.astype(np.complex64), energy=ENERGY, sampling=0.05)
    lens = Lens(energy=ENERGY, defocus=50.0, Cs=-1e5, semiangle_cutoff=200.0)
    spectrum = np.fft.fft2(wave.apply_ctf(lens.ctf()).array)
    transfer = spectrum[k_index, 0] / spectrum[0, 0] / 1e-3
    expected = -chi(k0, 0.0, defocus=50.0, Cs=-1e5)
    assert abs(transfer) == pytest.approx(1.0, abs=1e-4)
    assert np.angle(transfer * np.exp(-1j * expected)) == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("axis, phi", [(0, 0.0), (1, np.pi / 2)])
def test_weak_phase_object_contrast_is_2_eps_sin_chi_per_defocus_with_astigmatism(axis, phi):
    # Weak phase object exp(i eps cos(2 pi k0 x)): I = 1 + 2 eps sin(chi(k0)) cos(2 pi k0 x).
    # Astigmatism at phi12 = 0 adds +C12 along x and -C12 along y, so both directions and the
    # [x, y] -> [row, col] transpose are pinned.
    wave, k0 = weak_phase_wave(axis, periods=5)
    defoci, Cs, c12 = (-60.0, 20.0, 70.0), -1.5e5, 25.0
    lens = Lens(energy=ENERGY, Cs=Cs, astigmatism=c12, semiangle_cutoff=200.0)
    images, sampling = focal_series(wave, lens, offsets=defoci, sampling=SAMPLING)
    assert images.shape == (3, GPTS[1], GPTS[0]) and sampling == pytest.approx(SAMPLING)
    for image, defocus in zip(images, defoci):
        expected = 2 * EPS * np.sin(chi(k0, phi, defocus=defocus, Cs=Cs, astigmatism=c12))
        assert modulation(image, axis, k0) == pytest.approx(expected, abs=3e-4)
        assert abs(modulation(image, 1 - axis, k0)) < 1e-5  # nothing along the other axis



@pytest.mark.parametrize("axis, phi", [(0, 0.0), (1, np.pi / 2)])
@pytest.mark.parametrize("angle", [0.4, 2.0])
def test_astigmatism_angle_turns_the_two_fold_term(axis, phi, angle):
    # Shards draw phi12 in [0, pi]: along x the astigmatic defocus is C12 cos(2 phi12), along
    # y -C12 cos(2 phi12); an ignored angle would give +-C12 (a phase error of 0.3-1.9 rad here).
    wave, k0 = weak_phase_wave(axis, periods=5)
    defoci, Cs, c12 = (-60.0, 20.0), -1.5e5, 25.0
    lens = Lens(energy=ENERGY, Cs=Cs, astigmatism=c12, astigmatism_angle=angle, semiangle_cutoff=200.0)
    images, _ = focal_series(wave, lens, offsets=defoci, sampling=SAMPLING)
    for image, defocus in zip(images, defoci):
        expected = 2 * EPS * np.sin(chi(k0, phi, defocus=defocus, Cs=Cs, astigmatism=c12, angle=angle))
        assert modulation(image, axis, k0) == pytest.approx(expected, abs=3e-4)


def test_focal_series_returns_the_pixel_size_it_used_not_the_requested_one():
    # 9.6 x 8.0 Å at 0.13 Å/px is 73.8 x 61.5 px: resampled to 74 x 62 px, the pixels are
    # 9.6/74 = 0.12973 Å (x) and 8.0/62 = 0.12903 Å (y), not 0.13 (0.5 % off: 0.05 Å over the cell)
    wave, _ = weak_phase_wave(0, periods=5)
    images, sampling = focal_series(wave, Lens(energy=ENERGY, semiangle_cutoff=25.0, focal_spread=30.0), offsets=[0.0], sampling=0.13)
    assert images.shape == (1, 62, 74)
    assert sampling == pytest.approx((9.6 / 74 + 8.0 / 62) / 2, rel=1e-9)


def test_temporal_and_spatial_envelopes_damp_the_contrast_by_their_analytic_factors():
    wave, k0 = weak_phase_wave(0, periods=6)
    defocus, Cs, spread, beta = 60.0, -1e5, 30.0, 1.0  # [Å], [Å], [Å], [mrad]
    lens = Lens(energy=ENERGY, defocus=defocus, Cs=Cs, semiangle_cutoff=200.0)

    def contrast(lens: Lens) -> float:
        return modulation(focal_series(wave, lens, offsets=[0.0], sampling=SAMPLING)[0][0], 0, k0)

    coherent = contrast(lens)
    temporal = contrast(replace(lens, focal_spread=spread))
    spatial = contrast(replace(lens, angular_spread=beta))
    # temporal: exp(-(pi lambda Delta k^2 / 2)^2) with Delta the 1/e focal spread
    assert temporal / coherent == pytest.approx(np.exp(-((np.pi * LAMBDA * spread * k0**2 / 2) ** 2)), rel=1e-3)
    # spatial (quasi-coherent): exp(-(beta/2)^2 |grad_alpha chi|^2), alpha = lambda k
    alpha = LAMBDA * k0
    dchi = 2 * np.pi / LAMBDA * (-defocus * alpha + Cs * alpha**3)
    assert spatial / coherent == pytest.approx(np.exp(-((beta * 1e-3 / 2) ** 2) * dchi**2), rel=1e-3)
    assert spatial / coherent < 0.95  # the envelope is not negligible at this k


def test_focal_series_needs_an_offset_a_lens_and_the_wave_s_energy():
    wave, _ = weak_phase_wave(0, periods=1)
    lens = Lens(energy=ENERGY, semiangle_cutoff=20.0)
    with pytest.raises(ValueError, match="^`offsets` is empty"):
        focal_series(wave, lens, offsets=[], sampling=SAMPLING)
    with pytest.raises(TypeError, match="^`lens` must be an atomscope.simulation.Lens, got dict"):
        focal_series(wave, {"energy": ENERGY}, offsets=[0.0], sampling=SAMPLING)
    with pytest.raises(ValueError, match="^`lens.energy` 60000 eV differs from the exit wave's 80000 eV"):
        focal_series(wave, replace(lens, energy=60e3), offsets=[0.0], sampling=SAMPLING)


def test_fast_gpts_cover_the_cell_at_least_as_finely_with_fast_lengths():
    assert fast_gpts((12.64, 16.42), 0.05) == (256, 330)
    assert fast_gpts((40.0, 40.0), 0.05) == (800, 800)


def _carbon(cell_z: float = 4.0) -> ase.Atoms:
    return ase.Atoms("C", positions=[[2.0, 2.5, 2.0]], cell=[4.0, 5.0, cell_z], pbc=True)


def test_potential_and_exit_wave_are_computed_on_the_requested_device_and_slicing():
    atoms = _carbon(cell_z=6.0)
    with abtem.config.set({"dask.lazy": True}):  # abTEM's own default: the results must not be lazy
        potential = build_potential(atoms, potential_sampling=0.1, slice_thickness=2.0)
        wave = exit_wave(atoms, potential_sampling=0.1)
    assert not potential.is_lazy and isinstance(potential.array, np.ndarray)
    assert potential.num_slices == 3 and potential.gpts == (40, 50)
    assert not wave.is_lazy and wave.energy == 80e3  # default 80 keV
    with abtem.config.set({"device": "gpu"}):  # an explicit device wins over the configured one
        assert isinstance(build_potential(atoms, potential_sampling=0.1, slice_thickness=2.0, device="cpu").array, np.ndarray)


def test_exit_wave_default_slices_are_1_angstrom():
    atoms = _carbon(cell_z=6.0)
    np.testing.assert_array_equal(exit_wave(atoms, potential_sampling=0.1).array, exit_wave(atoms, potential_sampling=0.1, slice_thickness=1.0).array)


def test_lens_defaults_in_a_focal_series():
    # a random phase object carries every spatial frequency, so any change of energy,
    # astigmatism or spreads changes the image; the focal series itself has no lens defaults
    rng = np.random.default_rng(5)
    wave = abtem.Waves(np.exp(0.1j * rng.standard_normal(GPTS)).astype(np.complex64), energy=ENERGY, sampling=SAMPLING)
    default, _ = focal_series(wave, Lens(defocus=20.0, Cs=-1e4, semiangle_cutoff=25.0), offsets=[0.0], sampling=SAMPLING)
    explicit, _ = focal_series(
        wave,
        Lens(energy=80e3, defocus=20.0, Cs=-1e4, astigmatism=0.0, astigmatism_angle=0.0, semiangle_cutoff=25.0, focal_spread=0.0, angular_spread=0.0),
        offsets=[0.0],
        sampling=SAMPLING,
    )
    np.testing.assert_array_equal(default, explicit)
    assert default.dtype == np.float32


def test_lens_ctf_keeps_its_parameters():
    ctf = Lens(energy=ENERGY, defocus=10.0, Cs=-2e4, semiangle_cutoff=20.0, astigmatism=5.0).ctf()
    assert (ctf.energy, ctf.semiangle_cutoff, ctf.astigmatism, ctf.astigmatism_angle) == (ENERGY, 20.0, 5.0, 0.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: build_potential(ase.Atoms(cell=[4, 4, 4], pbc=True), potential_sampling=0.1, slice_thickness=1.0), "^`atoms` is empty"),
        (lambda: build_potential(_carbon(), potential_sampling=0.1, slice_thickness=0.0), "^`slice_thickness` must be"),
        (lambda: exit_wave(_carbon(), energy=-1.0), "^`energy` must be"),
        (lambda: fast_gpts((10.0,), 0.0), "^`sampling` must be"),
        (lambda: fast_gpts((10.0, -1.0), 0.1), "^`extent` must be"),
        (lambda: focal_series(weak_phase_wave(0, 1)[0], Lens(semiangle_cutoff=20.0), offsets=[0.0], sampling=-0.1), "^`sampling` must be"),
        (lambda: focal_series(weak_phase_wave(0, 1)[0], Lens(semiangle_cutoff=20.0), offsets=[], sampling=0.1), "^`offsets` is empty"),
        (lambda: Lens(energy=0.0, defocus=0.0, Cs=0.0, semiangle_cutoff=20.0), "^`energy` must be"),
        (lambda: Lens(energy=ENERGY, defocus=0.0, Cs=0.0, semiangle_cutoff=0.0), "^`semiangle_cutoff` must be"),
        (lambda: Lens(energy=ENERGY, defocus=0.0, Cs=0.0, semiangle_cutoff=20.0, astigmatism=-1.0), "^`astigmatism` must be"),
    ],
)
def test_bad_parameters_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
