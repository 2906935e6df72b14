"""Figures for the report: per sample and across samples; model cards of shipped models."""

from atomscope.report.cards import model_card
from atomscope.report.motif_figures import hierarchy_figure, symmetry_figure
from atomscope.report.figures import (
    learning_curve_figure,
    motif_figure,
    network_maps_figure,
    overlay_figure,
    statistics_figure,
    summary_figure,
    summary_table,
    time_series_figure,
)
from atomscope.report.species import minority_sites, neighbour_species, species_counts, species_figure

__all__ = [
    "hierarchy_figure",
    "learning_curve_figure",
    "minority_sites",
    "model_card",
    "motif_figure",
    "neighbour_species",
    "network_maps_figure",
    "species_counts",
    "species_figure",
    "overlay_figure",
    "statistics_figure",
    "summary_figure",
    "summary_table",
    "symmetry_figure",
    "time_series_figure",
]
