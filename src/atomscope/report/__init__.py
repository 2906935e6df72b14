"""Figures for the report: per sample and across samples."""

from atomscope.report.figures import motif_figure, overlay_figure, statistics_figure, summary_figure, summary_table

__all__ = ["overlay_figure", "statistics_figure", "motif_figure", "summary_figure", "summary_table"]
