"""The Lens: validation naming each parameter, its CTF phase against the analytic chi, its probe's shape."""

import dataclasses
import re
from dataclasses import replace

import abtem
import numpy as np
import pytest
from abtem.core.energy import energy2wavelength

from atomscope.simulation import Lens
from atomscope.simulation.stem import probe_intensity

abtem.config.set({"device": "cpu", "dask.lazy": False})

ENERGY = 80e3
LAMBDA = energy2wavelength(ENERGY)  # [Å]


def chi(kx: np.ndarray, ky: np.ndarray, lens: Lens) -> np.ndarray:
    """chi(k, phi) = pi lambda k^2 (C10 + C12 cos 2(phi - phi12)) + pi/2 Cs lambda^3 k^4, C10 = -defocus (hrtem.py)."""
    k2, phi = kx**2 + ky**2, np.arctan2(ky, kx)
    c10 = -lens.defocus + lens.astigmatism * np.cos(2 * (phi - lens.astigmatism_angle))
    return np.pi * LAMBDA * c10 * k2 + np.pi / 2 * lens.Cs * LAMBDA**3 * k2**2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("energy", 0.0, r"^`energy` must be finite and > 0, got 0\.0$"),
        ("energy", -80e3, r"^`energy` must be finite and > 0, got -80000\.0$"),
        ("defocus", float("nan"), r"^`defocus` must be finite, got nan$"),
        ("Cs", float("inf"), r"^`Cs` must be finite, got inf$"),
        ("astigmatism", -1.0, r"^`astigmatism` must be finite and >= 0, got -1\.0$"),
        ("astigmatism_angle", float("-inf"), r"^`astigmatism_angle` must be finite, got -inf$"),
        ("semiangle_cutoff", 0.0, r"^`semiangle_cutoff` must be finite and > 0, got 0\.0$"),
        ("semiangle_cutoff", float("inf"), r"^`semiangle_cutoff` must be finite and > 0, got inf$"),
        ("focal_spread", -1.0, r"^`focal_spread` must be finite and >= 0, got -1\.0$"),
        ("angular_spread", -0.1, r"^`angular_spread` must be finite and >= 0, got -0\.1$"),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed(field, value, message):
    with pytest.raises(ValueError, match=message):
        Lens(**{"semiangle_cutoff": 20.0, field: value})


@pytest.mark.parametrize(("field", "value"), [("defocus", "-60"), ("Cs", None), ("energy", True), ("semiangle_cutoff", [25.0])])
def test_a_value_that_is_not_a_number_is_named_with_its_unit(field, value):
    unit = {"defocus": "Å", "Cs": "Å", "energy": "eV", "semiangle_cutoff": "mrad"}[field]
    with pytest.raises(TypeError, match="^" + re.escape(f"`{field}` must be a real number [{unit}], got {value!r}") + "$"):
        Lens(**{"semiangle_cutoff": 20.0, field: value})


def test_the_aperture_has_no_default_and_everything_else_has():
    with pytest.raises(TypeError, match="semiangle_cutoff"):
        Lens()
    lens = Lens(semiangle_cutoff=np.float32(25.0))
    assert dataclasses.astuple(lens) == (80e3, 0.0, 0.0, 0.0, 0.0, 25.0, 0.0, 0.0)
    assert all(type(value) is float for value in dataclasses.astuple(lens))  # numpy scalars become floats
    with pytest.raises(dataclasses.FrozenInstanceError):
        lens.defocus = 10.0
    with pytest.raises(TypeError):
        Lens(80e3, semiangle_cutoff=25.0)  # keyword-only: no silent mix-up of defocus and Cs


def test_replace_validates_too():
    with pytest.raises(ValueError, match="^`focal_spread`"):
        replace(Lens(semiangle_cutoff=20.0), focal_spread=-5.0)


def test_defocus_series_shifts_only_the_defocus():
    lens = Lens(defocus=-60.0, Cs=-1e5, astigmatism=10.0, astigmatism_angle=0.3, semiangle_cutoff=25.0, focal_spread=30.0)
    series = lens.defocus_series([-30.0, 0.0, 70.0])
    assert [channel.defocus for channel in series] == [-90.0, -60.0, 10.0]
    assert all(replace(channel, defocus=lens.defocus) == lens for channel in series)
    with pytest.raises(ValueError, match=r"^`offsets` is empty"):
        lens.defocus_series([])
    with pytest.raises(ValueError, match=r"^`offsets` must be finite, got nan"):
        lens.defocus_series([0.0, float("nan")])


def test_from_params_takes_the_lens_out_of_a_drawn_microscope():
    params = {"mode": "hrtem", "energy": 60e3, "defocus": -50.0, "Cs": -1e5, "dose": 1e5, "astigmatism": 5.0}
    params |= {"astigmatism_angle": 1.0, "semiangle_cutoff": 25.0, "focal_spread": 30.0, "angular_spread": 0.2}
    lens = Lens.from_params(params)
    assert lens == Lens(energy=60e3, defocus=-50.0, Cs=-1e5, astigmatism=5.0, astigmatism_angle=1.0, semiangle_cutoff=25.0, focal_spread=30.0, angular_spread=0.2)
    del params["Cs"], params["angular_spread"]
    with pytest.raises(ValueError, match=r"^`params` lacks the lens parameter\(s\) \['Cs', 'angular_spread'\]"):
        Lens.from_params(params)


def test_ctf_keeps_every_parameter():
    lens = Lens(energy=60e3, defocus=10.0, Cs=-2e4, astigmatism=5.0, astigmatism_angle=0.4, semiangle_cutoff=20.0, focal_spread=25.0, angular_spread=0.3)
    ctf = lens.ctf()
    assert (ctf.energy, ctf.semiangle_cutoff, ctf.focal_spread, ctf.angular_spread) == (60e3, 20.0, 25.0, 0.3)
    coefficients = {k: v for k, v in ctf.aberration_coefficients.items() if v != 0}
    assert coefficients == {"C10": -10.0, "C12": 5.0, "phi12": 0.4, "C30": -2e4}


def test_ctf_phase_equals_chi_with_astigmatism_at_an_angle():
    # a wave with Fourier components at several azimuths: after the lens each is multiplied by exp(-i chi(k, phi))
    n, sampling = (128, 96), 0.05
    indices = [(5, 3), (-4, 7), (2, -6), (0, 5), (6, 0)]
    x, y = np.meshgrid(np.arange(n[0]) * sampling, np.arange(n[1]) * sampling, indexing="ij")  # abTEM [x, y]
    k = [(i / (n[0] * sampling), j / (n[1] * sampling)) for i, j in indices]
    array = 1 + 1e-3 * sum(np.exp(2j * np.pi * (kx * x + ky * y)) for kx, ky in k)
    wave = abtem.Waves(array.astype(np.complex64), energy=ENERGY, sampling=sampling)
    lens = Lens(energy=ENERGY, defocus=50.0, Cs=-1e5, astigmatism=30.0, astigmatism_angle=0.7, semiangle_cutoff=200.0)
    spectrum = np.fft.fft2(wave.apply_ctf(lens.ctf()).array)
    for (i, j), (kx, ky) in zip(indices, k):
        transfer = spectrum[i, j] / spectrum[0, 0] / 1e-3
        assert abs(transfer) == pytest.approx(1.0, abs=1e-4)
        assert np.angle(transfer * np.exp(1j * chi(kx, ky, lens))) == pytest.approx(0.0, abs=2e-3)
        # the angle matters: at phi12 = 0 the phase would be off by more than 0.1 rad at every one of these k
        unturned = chi(kx, ky, replace(lens, astigmatism_angle=0.0))
        assert abs(np.angle(transfer * np.exp(1j * unturned))) > 0.1


def _major_axis(intensity: np.ndarray, extent: tuple[float, float], *, x_first: bool = True) -> tuple[float, float]:
    """Azimuth of the long axis of a peak centred on the origin of a periodic grid [rad, in [0, pi)]
    from the x axis towards y, and the ratio of its long to short width; from the second moments
    of the core above 10 % of the maximum (the aperture's rings would bias the moments)."""
    nx, ny = intensity.shape if x_first else intensity.shape[::-1]
    x = (np.arange(nx) * extent[0] / nx + extent[0] / 2) % extent[0] - extent[0] / 2
    y = (np.arange(ny) * extent[1] / ny + extent[1] / 2) % extent[1] - extent[1] / 2
    X, Y = np.meshgrid(x, y, indexing="ij") if x_first else np.meshgrid(x, y, indexing="xy")
    w = np.where(intensity > 0.1 * intensity.max(), intensity, 0.0)
    moments = np.array([[np.sum(w * X * X), np.sum(w * X * Y)], [np.sum(w * X * Y), np.sum(w * Y * Y)]]) / w.sum()
    values, vectors = np.linalg.eigh(moments)
    return float(np.arctan2(vectors[1, 1], vectors[0, 1]) % np.pi), float(np.sqrt(values[1] / values[0]))


@pytest.mark.parametrize("angle", [0.5, 2.0])
def test_an_astigmatic_probe_is_long_across_the_astigmatism_azimuth(angle):
    # defocus = C12: C10 + C12 cos 2(phi - phi12) is 0 along phi12 (in focus: narrow) and -2 C12
    # across it (defocused: wide), so the probe is elongated along phi12 + pi/2. An ignored
    # angle would put the long axis at pi/2, a mirrored one at pi/2 - phi12.
    extent = (20.0, 24.0)
    lens = Lens(energy=ENERGY, defocus=40.0, astigmatism=40.0, astigmatism_angle=angle, semiangle_cutoff=25.0)
    axis, ratio = _major_axis(probe_intensity(lens, extent, (200, 240)), extent)
    assert axis == pytest.approx((angle + np.pi / 2) % np.pi, abs=0.02)
    assert ratio > 2
    _, round_ratio = _major_axis(probe_intensity(replace(lens, astigmatism=0.0), extent, (200, 240)), extent)
    assert round_ratio == pytest.approx(1.0, abs=0.02)


def test_probe_carries_the_lens_and_refuses_spreads():
    lens = Lens(energy=60e3, defocus=20.0, Cs=1e4, astigmatism=3.0, astigmatism_angle=0.2, semiangle_cutoff=28.0)
    probe = lens.probe(extent=(10.0, 12.0), gpts=(100, 120), device="cpu")
    assert (probe.energy, probe.semiangle_cutoff, probe.extent, probe.gpts) == (60e3, 28.0, (10.0, 12.0), (100, 120))
    assert dict(probe.aberrations.aberration_coefficients) == dict(lens.ctf().aberration_coefficients)
    with pytest.raises(ValueError, match=r"^`focal_spread` must be 0 for a probe \(one coherent wave\), got 30\.0 Å"):
        replace(lens, focal_spread=30.0).probe()
    with pytest.raises(ValueError, match=r"^`angular_spread` must be 0 for a probe \(one coherent wave\), got 0\.5 mrad"):
        replace(lens, angular_spread=0.5).probe()
