"""ADF-STEM images: abTEM multislice with a probe and an annular detector, and a fast convolution
approximation (incoherent imaging) for CPU-sized training sets.

Both take the probe positions explicitly, as an (H, W, 2) array of (x, y) [Å] from
:func:`scan_positions`, so scan drift and line jitter (see :mod:`.noise`) move the probe
exactly as they do in a microscope. Both return the fraction of the incident beam that
reaches the detector, indexed [row, col] = [y, x] (pixel (r, c) is the probe at
``positions[r, c]``).

Convolution approximation (thin specimens, Z-contrast): every atom scatters into the
annular detector a fraction ``cross_section * Z**exponent`` [Å²] of the probe current
density at its position, so

    I(r) = sum_j cross_section * Z_j**exponent * |P(r - r_j)|**2

with |P|² the probe intensity normalised to unit integral [1/Å²]. It is evaluated by FFT on
the periodic cell (the Z-weighted atom density convolved with the probe intensity, both from
the same abTEM probe as the multislice) and sampled at the probe positions.
"""

from __future__ import annotations

import abtem
import ase
import numpy as np
from scipy import ndimage

from atomscope._shared.validation import check_positive
from atomscope.simulation.hrtem import build_potential, fast_gpts
from atomscope.simulation.lens import Lens, check_lens

__all__ = [
    "ADF_CROSS_SECTION",
    "ADF_EXPONENT",
    "abtem_device",
    "apparent_positions",
    "probe_intensity",
    "scan_positions",
    "stem_convolution",
    "stem_multislice",
]

#: Memory of the probe waves one multislice batch holds [bytes]: abTEM given thousands of positions
#: at once (lazy=False) held them all and used 24 GB for a 64 x 64 scan of a 20 Å cell.
_BATCH_BYTES = 2**28
#: Default Z exponent of the ADF cross-section (Z^1.7, Pennycook and Jesson 1991; Krivanek et al. 2010).
ADF_EXPONENT = 1.7
#: Default ADF cross-section per unit Z^1.7 [Å²]: single C, S and Mo atoms by :func:`stem_multislice`
#: at 80 kV, 30 mrad, 60-200 mrad detector give 4.3e-5, 4.7e-5 and 4.3e-5 (tests/test_simulation_stem.py).
ADF_CROSS_SECTION = 4.3e-5


def abtem_device() -> str:
    """'gpu' when CuPy sees a CUDA device (abTEM can then run there), else 'cpu'."""
    try:
        import cupy
    except ImportError:
        return "cpu"
    try:
        return "gpu" if cupy.cuda.runtime.getDeviceCount() > 0 else "cpu"
    except cupy.cuda.runtime.CUDARuntimeError:
        return "cpu"


def scan_positions(
    shape: tuple[int, int], sampling: float, *, dx: np.ndarray | None = None, dy: np.ndarray | None = None
) -> np.ndarray:
    """Probe positions of a raster scan, optionally displaced per line.

    Parameters
    ----------
    shape : tuple of int
        (H, W) of the image [px].
    sampling : float
        Scan step [Å/px].
    dx, dy : ndarray of shape (H,), optional
        Offset of each line [px] (from :func:`.noise.scan_drift` and :func:`.noise.line_jitter`).

    Returns
    -------
    ndarray of shape (H, W, 2), float64
        (x, y) [Å] of the probe for pixel (r, c): ((c + dx[r]) * sampling, (r + dy[r]) * sampling).
    """
    check_positive(sampling, "sampling")
    height, width = shape
    dx = np.zeros(height) if dx is None else np.asarray(dx, dtype=np.float64)
    dy = np.zeros(height) if dy is None else np.asarray(dy, dtype=np.float64)
    if dx.shape != (height,) or dy.shape != (height,):
        raise ValueError(f"`dx` and `dy` must have one offset per row ({height},), got {dx.shape} and {dy.shape}")
    cols, rows = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    return np.stack([(cols + dx[:, None]) * sampling, (rows + dy[:, None]) * sampling], axis=-1)


def apparent_positions(xy: np.ndarray, *, drift: float, angle: float) -> np.ndarray:
    """Where sites appear in a drifting scan: the inverse of :func:`scan_positions` for a linear drift.

    With a drift of (vx, vy) = drift * (cos, sin)(angle) px per line, pixel (r, c) samples
    (c + vx r, r (1 + vy)) px, so a site at (x, y) [Å] appears at
    (x - vx y / (1 + vy), y / (1 + vy)) [Å] of the image grid. Line jitter is left out: it is
    noise about these positions, which is where the labels go.

    Parameters
    ----------
    xy : ndarray of shape (N, 2)
        Site positions (x, y) [Å].
    drift : float
        Drift speed [px per scan line].
    angle : float
        Drift direction from the x axis towards y [rad].
    """
    vx, vy = drift * np.cos(angle), drift * np.sin(angle)
    if vy <= -1:
        raise ValueError(f"`drift` {drift} px/line along {angle} rad reverses the scan: keep it below 1")
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    y = xy[:, 1] / (1 + vy)
    return np.column_stack([xy[:, 0] - vx * y, y])


def _check_positions(positions: np.ndarray) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[-1] != 2:
        raise ValueError(f"`positions` must have shape (H, W, 2) of (x, y) in Å, got {positions.shape}")
    return positions


def stem_multislice(
    atoms: ase.Atoms,
    positions: np.ndarray,
    lens: Lens,
    *,
    detector: tuple[float, float] = (60.0, 200.0),
    potential_sampling: float = 0.05,
    slice_thickness: float = 1.0,
    device: str | None = None,
) -> np.ndarray:
    """ADF-STEM image by abTEM multislice: a probe at every position, an annular detector.

    Parameters
    ----------
    atoms : ase.Atoms
        Structure with an orthogonal, periodic cell; the beam runs along z.
    positions : ndarray of shape (H, W, 2)
        Probe positions (x, y) [Å] (:func:`scan_positions`).
    lens : Lens
        The probe-forming lens (:meth:`.Lens.probe`: energy, convergence semi-angle
        ``semiangle_cutoff``, aberrations; no focal or angular spread).
    detector : tuple of float, optional
        Inner and outer angle of the annular detector [mrad] (default (60, 200)); the outer
        one must lie within the simulated angles, 2/3 of lambda / (2 * potential_sampling).
    potential_sampling : float, optional
        Largest sampling of the potential and the probe [Å] (default 0.05).
    slice_thickness : float, optional
        Multislice slice thickness [Å] (default 1.0).
    device : {'cpu', 'gpu'}, optional
        Where abTEM computes (default: abTEM's configured device; 'gpu' needs CuPy and CUDA).

    Returns
    -------
    ndarray of shape (H, W), float32
        Fraction of the incident beam on the detector, pixel (r, c) for ``positions[r, c]``.
    """
    positions = _check_positions(positions)
    inner, outer = (check_positive(a, "detector") for a in detector)
    if inner >= outer:
        raise ValueError(f"`detector` must be (inner, outer) with inner < outer [mrad], got {detector}")
    probe = check_lens(lens).probe(device=device)
    potential = build_potential(
        atoms, potential_sampling=potential_sampling, slice_thickness=slice_thickness, device=device
    )
    wavelength = abtem.core.energy.energy2wavelength(lens.energy)
    limit = 2 / 3 * wavelength / (2 * max(potential.sampling)) * 1e3
    if outer > limit:
        raise ValueError(
            f"`detector` outer angle {outer} mrad exceeds the {limit:.0f} mrad that `potential_sampling` "
            f"{potential_sampling} Å resolves at {lens.energy:.0f} eV: lower one of them"
        )
    detector = abtem.AnnularDetector(inner=inner, outer=outer)
    flat = positions.reshape(-1, 2)
    batch = max(1, _BATCH_BYTES // (8 * int(np.prod(potential.gpts))))  # complex64 waves per batch
    signal = [
        np.asarray(
            probe.scan(potential, scan=abtem.CustomScan(flat[i : i + batch]), detectors=detector, max_batch=batch, lazy=False)
            .to_cpu()
            .array,
            dtype=np.float32,
        ).reshape(-1)
        for i in range(0, len(flat), batch)
    ]
    return np.concatenate(signal).reshape(positions.shape[:2])


def probe_intensity(lens: Lens, extent: tuple[float, float], gpts: tuple[int, int]) -> np.ndarray:
    """Probe intensity on a periodic grid, centred on the origin, normalised to unit integral.

    Parameters
    ----------
    lens : Lens
        The probe-forming lens (:meth:`.Lens.probe`).
    extent : tuple of float
        (Lx, Ly) of the cell [Å].
    gpts : tuple of int
        (nx, ny) grid points.

    Returns
    -------
    ndarray of shape (nx, ny), float64
        |P(x, y)|² [1/Å²] indexed [x, y] as abTEM's arrays; it sums to 1 / pixel area.
    """
    probe = check_lens(lens).probe(extent=tuple(extent), gpts=tuple(gpts), device="cpu")
    intensity = np.asarray(probe.build(scan=[(0.0, 0.0)], lazy=False).intensity().array, dtype=np.float64).reshape(gpts)
    pixel_area = extent[0] / gpts[0] * extent[1] / gpts[1]
    return intensity / (intensity.sum() * pixel_area)


def stem_convolution(
    atoms: ase.Atoms,
    positions: np.ndarray,
    lens: Lens,
    *,
    exponent: float = ADF_EXPONENT,
    cross_section: float = ADF_CROSS_SECTION,
    grid_sampling: float = 0.05,
) -> np.ndarray:
    """ADF-STEM image by the convolution approximation (see the module docstring).

    Parameters
    ----------
    atoms : ase.Atoms
        Structure with an orthogonal, periodic cell; atoms with Z = 0 are ignored.
    positions : ndarray of shape (H, W, 2)
        Probe positions (x, y) [Å] (:func:`scan_positions`).
    lens : Lens
        The probe-forming lens, as for :func:`stem_multislice`.
    exponent : float, optional
        n of the Z^n weight (default :data:`ADF_EXPONENT`).
    cross_section : float, optional
        ADF cross-section per unit Z^n [Å²] (default :data:`ADF_CROSS_SECTION`, measured
        against multislice at 80 kV for a 60-200 mrad detector); sets the absolute signal,
        i.e. the counts for a given dose. It grows at lower voltage and smaller inner angle.
    grid_sampling : float, optional
        Largest sampling of the grid the convolution runs on [Å] (default 0.05).

    Returns
    -------
    ndarray of shape (H, W), float32
        Fraction of the incident beam on the detector for each probe position.
    """
    positions = _check_positions(positions)
    check_positive(exponent, "exponent", allow_zero=True)
    check_positive(cross_section, "cross_section")
    extent = tuple(float(e) for e in atoms.cell.lengths()[:2])
    gpts = fast_gpts(extent, grid_sampling)
    step = np.array(extent) / np.array(gpts)
    weights = atoms.numbers.astype(np.float64) ** exponent * cross_section
    keep = atoms.numbers > 0
    # Z-weighted atom density [1/Å² x Å²]: linear (cloud-in-cell) deposition keeps each
    # atom's centroid exactly; its blur (one grid step) is far below the probe's width.
    frac = (atoms.positions[keep, :2] / step) % np.array(gpts)
    base = np.floor(frac).astype(np.int64)
    t = frac - base
    density = np.zeros(gpts)
    for ox in (0, 1):
        for oy in (0, 1):
            w = weights[keep] * np.where(ox, t[:, 0], 1 - t[:, 0]) * np.where(oy, t[:, 1], 1 - t[:, 1])
            np.add.at(density, ((base[:, 0] + ox) % gpts[0], (base[:, 1] + oy) % gpts[1]), w)
    probe = probe_intensity(lens, extent, gpts)
    signal = np.fft.irfft2(np.fft.rfft2(density) * np.fft.rfft2(probe), s=gpts)  # [x, y]
    coords = [positions[..., 0] / step[0], positions[..., 1] / step[1]]  # pixel (r, c) -> grid (x, y)
    return ndimage.map_coordinates(signal, coords, order=3, mode="grid-wrap").astype(np.float32)
