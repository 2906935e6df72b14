"""Figures for the report: per sample and across samples; model cards of shipped models."""

from atomscope.report.cards import model_card
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

__all__ = [
    "learning_curve_figure",
    "model_card",
    "motif_figure",
    "network_maps_figure",
    "overlay_figure",
    "statistics_figure",
    "summary_figure",
    "summary_table",
    "time_series_figure",
]
