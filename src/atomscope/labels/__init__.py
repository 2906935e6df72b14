"""Labels and scores: which sites each target channel marks, the true sites of an image, peaks
of heat maps as sites, and detection scores. Simulation, training, inference and evaluation
all read them here, so a channel or a match means the same thing in every stage."""

from atomscope.labels.channels import KIND_CHANNELS, MONOLAYER, SPECIES_PREFIX, channel_sites, target_names
from atomscope.labels.peaks import find_peaks
from atomscope.labels.scores import detection_scores, score_sites, scores_in_view, species_scores
from atomscope.labels.sites import periodic_sites, projected_columns, sites_in_view

__all__ = [
    "KIND_CHANNELS",
    "MONOLAYER",
    "SPECIES_PREFIX",
    "channel_sites",
    "detection_scores",
    "find_peaks",
    "periodic_sites",
    "projected_columns",
    "score_sites",
    "scores_in_view",
    "sites_in_view",
    "species_scores",
    "target_names",
]
