"""Image simulation: abTEM HRTEM focal series and ADF-STEM, noise and artefacts, training targets, shards."""

from atomscope.simulation.hrtem import exit_wave, focal_series, hrtem_image, objective_lens
from atomscope.simulation.noise import line_jitter, linear_gradient, mtf_blur, poisson_noise, scan_drift, smooth_field
from atomscope.simulation.stem import apparent_positions, probe_intensity, scan_positions, stem_convolution, stem_multislice
from atomscope.simulation.targets import gaussian_heatmap, render_targets, target_names

__all__ = [
    "apparent_positions",
    "exit_wave",
    "focal_series",
    "gaussian_heatmap",
    "hrtem_image",
    "line_jitter",
    "linear_gradient",
    "mtf_blur",
    "objective_lens",
    "poisson_noise",
    "probe_intensity",
    "render_targets",
    "scan_drift",
    "scan_positions",
    "smooth_field",
    "stem_convolution",
    "stem_multislice",
    "target_names",
]
