"""Metrics (precision, recall, F1, AUC-ROC, AUC-PR) and plots (PR curve, score histograms with and without labels).
Each lives in a module of its own subject (``auc``, ``pairedauc``, ``confusion``, ``report``, ``reportcosts``,
``candidates``, ``numbertext``, ``plotfiles``, ``prfigure``, ``histfigures``, ...); this module gathers the public
names, so that ``from ad_duckdb.metrics import auc_roc`` keeps working."""

from __future__ import annotations

from .auc import auc_pr, auc_roc, auc_roc_interval, curve_auc_roc
from .candidates import candidate_table
from .confusion import at_share, confusion, precision_at_share
from .histfigures import FEW_ROWS, label_hist_figure, scores_figure
from .numbertext import count_text, share_text, value_text
from .pairedauc import PAIRED_DELONG, PAIRED_NO_SPREAD, PairedAUC, paired_auc_roc, paired_df, paired_test
from .plotaxes import log_ticks
from .plotfiles import plot, plot_scores, plots_folder
from .prfigure import FEW_FOR_BARS, pr_figure
from .report import INTERVALS_SHORT, Report
from .reportcosts import Costs
from .thresholdmarks import MAX_THRESHOLD_LABELS

__all__ = [
    "FEW_FOR_BARS", "FEW_ROWS", "INTERVALS_SHORT", "MAX_THRESHOLD_LABELS", "PAIRED_DELONG", "PAIRED_NO_SPREAD",
    "Costs", "PairedAUC", "Report", "at_share", "auc_pr", "auc_roc", "auc_roc_interval", "candidate_table",
    "confusion", "count_text", "curve_auc_roc", "label_hist_figure", "log_ticks", "paired_auc_roc", "paired_df",
    "paired_test", "plot", "plot_scores", "plots_folder", "pr_figure", "precision_at_share", "scores_figure",
    "share_text", "value_text",
]
