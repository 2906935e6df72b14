"""Image simulation: the lens, abTEM HRTEM focal series and ADF-STEM, noise and artefacts, training targets, shards."""

from atomscope._shared.seeding import stage_rng
from atomscope.simulation.hrtem import exit_wave, focal_series, hrtem_image
from atomscope.simulation.lens import Lens
from atomscope.simulation.noise import line_jitter, linear_gradient, mtf_blur, poisson_noise, scan_drift, smooth_field
from atomscope.simulation.microscope import shard_attrs, simulate_shard
from atomscope.simulation.stem import abtem_device, apparent_positions, probe_intensity, scan_positions, stem_convolution, stem_multislice
from atomscope.simulation.targets import gaussian_heatmap, render_targets

__all__ = [
    "Lens",
    "abtem_device",
    "shard_attrs",
    "simulate_shard",
    "stage_rng",
    "apparent_positions",
    "exit_wave",
    "focal_series",
    "gaussian_heatmap",
    "hrtem_image",
    "line_jitter",
    "linear_gradient",
    "mtf_blur",
    "poisson_noise",
    "probe_intensity",
    "render_targets",
    "scan_drift",
    "scan_positions",
    "smooth_field",
    "stem_convolution",
    "stem_multislice",
]
