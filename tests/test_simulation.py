import abtem
import ase
import numpy as np
import pytest

from atomscope.simulation import Lens, exit_wave, gaussian_heatmap, hrtem_image, poisson_noise
from atomscope.io import ImageGrid
from atomscope.labels import sites_in_view

abtem.config.set({"device": "cpu", "dask.lazy": False})

#: Cs-corrected HRTEM at 80 kV, 60 Å overfocus: atoms bright.
LENS = Lens(energy=80e3, defocus=-60.0, Cs=-15e4, semiangle_cutoff=25.0, focal_spread=30.0)


def _refined_extremum(image: np.ndarray, sign: float) -> tuple[float, float]:
    """(row, col) of the extremum with a parabolic sub-pixel refinement."""
    a = sign * image
    r, c = np.unravel_index(np.argmax(a), a.shape)

    def vertex(v):
        return 0.5 * (v[0] - v[2]) / (v[0] - 2 * v[1] + v[2])

    return r + vertex(a[r - 1 : r + 2, c]), c + vertex(a[r, c - 1 : c + 2])


@pytest.mark.parametrize("position", [(7.31, 12.13), (10.02, 15.37)])
def test_isolated_atom_peak_sits_at_the_atom(position):
    # a non-square cell: a transposed image would put the peak at (y, x) or fail the shape check
    atoms = ase.Atoms("C", positions=[[*position, 2.0]], cell=[20.0, 30.0, 4.0], pbc=True)
    image, sampling = hrtem_image(exit_wave(atoms), LENS, sampling=0.1)
    assert image.shape == (300, 200)  # rows = y, cols = x
    sign = np.sign(image[round(position[1] / sampling), round(position[0] / sampling)] - image.mean())
    row, col = _refined_extremum(image, sign)
    assert abs(col * sampling - position[0]) < 0.05
    assert abs(row * sampling - position[1]) < 0.05


def test_heatmap_peaks_on_the_same_pixel_as_the_image():
    atoms = ase.Atoms("C2", positions=[[5.0, 6.0, 2.0], [14.0, 21.0, 2.0]], cell=[20.0, 30.0, 4.0], pbc=True)
    image, sampling = hrtem_image(exit_wave(atoms), LENS, sampling=0.1)
    heat = gaussian_heatmap(atoms.positions[:, :2], image.shape, sampling, sigma=0.4)
    contrast = np.abs(image - np.median(image))
    for x, y in atoms.positions[:, :2]:
        r, c = round(y / sampling), round(x / sampling)
        window = (slice(r - 5, r + 6), slice(c - 5, c + 6))
        assert np.unravel_index(np.argmax(heat[window]), (11, 11)) == np.unravel_index(np.argmax(contrast[window]), (11, 11))


def test_heatmap_peak_height_width_and_periodic_wrap():
    heat = gaussian_heatmap(np.array([[2.0, 3.0], [9.9, 5.0]]), (60, 100), 0.1, sigma=0.4, period=(10.0, 6.0))
    assert heat[30, 20] == pytest.approx(1.0, abs=1e-6)
    assert heat[30, 24] == pytest.approx(np.exp(-(0.4**2) / (2 * 0.4**2)), abs=1e-6)  # one sigma away
    assert heat[50, 0] == pytest.approx(np.exp(-(0.1**2) / (2 * 0.4**2)), abs=1e-6)  # x=9.9 wraps to -0.1


def test_poisson_noise_mean_is_dose_times_pixel_area():
    image = np.full((256, 256), 0.8)
    counts = poisson_noise(image, dose=5e3, sampling=0.1, rng=0)
    expected = 0.8 * 5e3 * 0.1**2
    assert counts.mean() == pytest.approx(expected, rel=0.02)
    assert counts.var() == pytest.approx(expected, rel=0.05)  # Poisson: variance = mean


def test_poisson_noise_rejects_negative_dose():
    with pytest.raises(ValueError, match="`dose` must be"):
        poisson_noise(np.ones((4, 4)), dose=-1.0, sampling=0.1, rng=0)


def test_sites_in_view_adds_periodic_copies():
    import pandas as pd

    sites = pd.DataFrame({"kind": ["atom", "atom"], "x": [9.98, 5.0], "y": [1.0, 9.0]})
    view = sites_in_view(sites, (10.0, 10.0), ImageGrid((50, 50), 0.1))
    # 9.98 is out of a 5 Å view but its copy at -0.02 is in; y = 9.0 is out
    assert sorted(view["x"].round(3)) == [-0.02]
