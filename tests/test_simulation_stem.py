"""ADF-STEM: abTEM multislice against the convolution approximation, peak positions, scan geometry."""

from dataclasses import replace

import abtem
import ase
import numpy as np
import pytest

from atomscope.simulation import Lens
from atomscope.simulation.noise import line_jitter, scan_drift
from atomscope.simulation.stem import apparent_positions, scan_positions, stem_convolution, stem_multislice

abtem.config.set({"device": "cpu", "dask.lazy": False})

#: ADF cross-section per Z^1.7 at 80 kV, 30 mrad probe, 60-200 mrad detector, measured on single
#: C, S and Mo atoms with stem_multislice (4.3e-5, 4.7e-5, 4.3e-5 Å^2).
CROSS_SECTION = 4.3e-5
#: The probe of those measurements: 80 kV, 30 mrad, no aberrations.
PROBE = Lens(energy=80e3, semiangle_cutoff=30.0)


def _refined_peak(image: np.ndarray) -> tuple[float, float]:
    """(row, col) of the maximum with a parabolic sub-pixel refinement."""
    r, c = np.unravel_index(np.argmax(image), image.shape)

    def vertex(v):
        return 0.5 * (v[0] - v[2]) / (v[0] - 2 * v[1] + v[2])

    return r + vertex(image[r - 1 : r + 2, c]), c + vertex(image[r, c - 1 : c + 2])


@pytest.fixture(scope="module")
def three_atoms():
    """Mo, S and C in a non-square cell, scanned by multislice and by the convolution approximation."""
    atoms = ase.Atoms("MoSC", positions=[[2.6, 3.1, 2.0], [6.4, 3.3, 2.0], [4.3, 7.7, 2.0]], cell=[9.0, 10.5, 4.0], pbc=True)
    positions = scan_positions((35, 30), 0.3)
    multislice = stem_multislice(atoms, positions, PROBE, detector=(60.0, 200.0))
    convolution = stem_convolution(atoms, positions, PROBE, cross_section=CROSS_SECTION)
    return atoms, multislice, convolution


def test_convolution_approximation_correlates_with_multislice(three_atoms):
    _, multislice, convolution = three_atoms
    assert multislice.shape == convolution.shape == (35, 30)  # rows = y
    assert np.corrcoef(multislice.ravel(), convolution.ravel())[0, 1] >= 0.95
    # the Z^1.7 cross-sections put the absolute signal within 10 % of multislice
    assert convolution.sum() == pytest.approx(multislice.sum(), rel=0.1)


def test_stem_peaks_sit_at_the_atoms(three_atoms):
    atoms, multislice, convolution = three_atoms
    for image in (multislice, convolution):
        window = image[5:17, 3:14]  # around Mo at (2.6, 3.1) Å = (col 8.67, row 10.33)
        row, col = _refined_peak(window)
        assert abs((col + 3) * 0.3 - 2.6) < 0.05 and abs((row + 5) * 0.3 - 3.1) < 0.05


def test_heavier_atoms_are_brighter_by_about_z_to_the_1_7(three_atoms):
    atoms, multislice, _ = three_atoms
    peak = {s: multislice[round(y / 0.3), round(x / 0.3)] for s, (x, y, _) in zip(atoms.get_chemical_symbols(), atoms.positions)}
    assert peak["Mo"] / peak["C"] == pytest.approx((42 / 6) ** 1.7, rel=0.2)
    assert peak["S"] / peak["C"] == pytest.approx((16 / 6) ** 1.7, rel=0.2)


def test_a_drifting_scan_shows_the_atom_at_its_apparent_position():
    atoms = ase.Atoms("Mo", positions=[[5.3, 6.2, 2.0]], cell=[12.0, 12.0, 4.0], pbc=True)
    drift, angle = 0.08, 0.6
    dx, dy = scan_drift(80, drift=drift, angle=angle)
    image = stem_convolution(atoms, scan_positions((80, 80), 0.12, dx=dx, dy=dy), PROBE, cross_section=CROSS_SECTION)
    row, col = _refined_peak(image)
    (x, y), = apparent_positions(atoms.positions[:, :2], drift=drift, angle=angle)
    assert abs(col * 0.12 - x) < 0.05 and abs(row * 0.12 - y) < 0.05
    assert abs(x - 5.3) > 0.2  # the drift moved it far more than the tolerance


def test_line_jitter_shifts_whole_rows():
    atoms = ase.Atoms("Mo", positions=[[5.0, 5.0, 2.0]], cell=[10.0, 10.0, 4.0], pbc=True)
    positions = scan_positions((50, 50), 0.2)
    jitter = line_jitter(50, jitter=1.0, rng=0)
    jittered = stem_convolution(atoms, scan_positions((50, 50), 0.2, dx=jitter), PROBE, cross_section=CROSS_SECTION)
    clean = stem_convolution(atoms, positions, PROBE, cross_section=CROSS_SECTION)
    # row 25 of the jittered image is row 25 of the clean one sampled jitter[25] px further along x
    expected = np.interp(np.arange(50) + jitter[25], np.arange(50), clean[25])
    np.testing.assert_allclose(jittered[25, 5:-5], expected[5:-5], atol=0.02 * clean.max())


def test_detector_beyond_the_simulated_angles_is_an_error_naming_it():
    atoms = ase.Atoms("C", positions=[[2.0, 2.0, 2.0]], cell=[4.0, 4.0, 4.0], pbc=True)
    with pytest.raises(ValueError, match="`detector` outer angle 300"):
        stem_multislice(atoms, scan_positions((2, 2), 0.5), PROBE, detector=(60.0, 300.0), potential_sampling=0.05)
    with pytest.raises(ValueError, match="`positions`"):
        stem_convolution(atoms, np.zeros((4, 2)), PROBE)
    with pytest.raises(TypeError, match="^`lens` must be an atomscope.simulation.Lens, got dict"):
        stem_convolution(atoms, scan_positions((2, 2), 0.5), {"semiangle_cutoff": 30.0})


@pytest.mark.parametrize("angle", [0.5, 2.0])
def test_an_astigmatic_probe_draws_an_atom_long_across_the_azimuth_in_image_rows_and_cols(angle):
    # As tests/test_simulation_lens.py for the probe, here through the image [row = y, col = x]:
    # with defocus = C12 the atom is long along phi12 + pi/2 from the x axis (the columns)
    # towards y (the rows); x and y swapped anywhere on the way would show it along -phi12 (mod pi).
    atoms = ase.Atoms("Mo", positions=[[6.0, 7.0, 2.0]], cell=[12.0, 14.0, 4.0], pbc=True)
    lens = replace(PROBE, defocus=40.0, astigmatism=40.0, astigmatism_angle=angle, semiangle_cutoff=25.0)
    image = stem_convolution(atoms, scan_positions((140, 120), 0.1), lens)
    rows, cols = np.mgrid[:140, :120]
    dx, dy = cols * 0.1 - 6.0, rows * 0.1 - 7.0
    w = np.where(image > 0.1 * image.max(), image, 0.0)
    moments = np.array([[np.sum(w * dx * dx), np.sum(w * dx * dy)], [np.sum(w * dx * dy), np.sum(w * dy * dy)]]) / w.sum()
    values, vectors = np.linalg.eigh(moments)
    assert np.arctan2(vectors[1, 1], vectors[0, 1]) % np.pi == pytest.approx((angle + np.pi / 2) % np.pi, abs=0.03)
    assert values[1] / values[0] > 3
