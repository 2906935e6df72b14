"""Image simulation: abTEM HRTEM, dose noise and training targets."""

from atomscope.simulation.hrtem import exit_wave, hrtem_image
from atomscope.simulation.noise import poisson_noise
from atomscope.simulation.targets import gaussian_heatmap

__all__ = ["exit_wave", "hrtem_image", "poisson_noise", "gaussian_heatmap"]
