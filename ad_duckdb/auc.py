"""AUC-ROC (Mann-Whitney U with midranks, or from a threshold curve already computed), AUC-PR (average precision),
and Hanley & McNeil's interval of an AUC-ROC."""

from __future__ import annotations

import numpy as np

from . import leancurve
from .thresholds import Z95, check_no_nan, curve


def auc_roc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); ``curve_auc_roc`` gives the same figure
    from a threshold curve already computed."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    check_no_nan(s, "auc_roc")
    ranks = _midranks(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def curve_auc_roc(c: dict[str, np.ndarray], n_pos: float, n_neg: float) -> float:
    """``auc_roc`` of the rows a ``thresholds.curve`` was computed on, without sorting them again: each run of equal
    scores adds its anomalies times the normal rows below it, and half its ties, to Mann-Whitney's U. The same
    float as ``auc_roc``: U is a sum of halves, exact in float64 below 2^53 (rows far beyond a table's). Of a
    ``weights.curve`` (``n_pos``, ``n_neg``: the classes' weights), scikit-learn's ``roc_auc_score(sample_weight=)``."""
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    tp = c["tp"]
    fp = c["flagged"] - tp
    d_tp, d_fp = leancurve.diff0(tp), leancurve.diff0(fp)
    # the terms written over fp, one after the other: each array is 80 MB at 10 million distinct scores
    np.subtract(n_neg, fp, out=fp)
    fp *= d_tp
    caught_above = np.sum(fp)
    np.multiply(d_tp, d_fp, out=fp)
    u = float(caught_above + np.sum(fp) / 2.0)
    return float(u / (n_pos * n_neg))


def _midranks(s: np.ndarray) -> np.ndarray:
    """1-based ranks of ``s``, tied runs given their average rank."""
    return _runs_ranked(s, np.argsort(s, kind="mergesort"))


def _midranks_by_class(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_midranks(s)``, and each row's midrank among the rows of its own class (``_midranks(s[y])`` at the rows of
    ``y``, ``_midranks(s[~y])`` at the others), from one sort: the same floats, as a midrank depends on the values
    alone."""
    order = np.argsort(s, kind="mergesort")
    r_all = _runs_ranked(s, order)
    r_own = np.empty(len(s), dtype=np.float64)
    in_y = y[order]
    for cls in (in_y, ~in_y):
        r_own[order[cls]] = _runs_ranked(s, order[cls])[order[cls]]
    return r_all, r_own


def _runs_ranked(s: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rows ``order`` of ``s`` (ascending) ranked from 1, tied runs given their average rank, at their own
    positions in an array of ``len(s)`` (the others left unset)."""
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    # `!=` rather than np.diff, which makes inf - inf a NaN and splits a run of infs
    starts = np.r_[0, np.nonzero(sorted_s[1:] != sorted_s[:-1])[0] + 1]
    ends = np.r_[starts[1:], len(order)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def auc_pr(scores: np.ndarray, labels: np.ndarray, c: dict[str, np.ndarray] | None = None) -> float:
    """Average precision: sum over thresholds of (recall step) x precision, as scikit-learn defines it; ``c``: their
    ``thresholds.curve``, when already computed."""
    y = np.asarray(labels).astype(bool)
    if not y.any():
        return float("nan")
    c = curve(scores, y) if c is None else c
    if isinstance(c, leancurve.LeanCurve):
        return c.auc_pr()
    recall_prev = np.r_[0.0, c["recall"][:-1]]
    return float(np.sum((c["recall"] - recall_prev) * c["precision"]))


def auc_roc_interval(auc: float, n_pos: int, n_neg: int, z: float = Z95) -> tuple[float, float]:
    """Hanley & McNeil's (1982) 95% interval of an AUC-ROC, from the figure and the counts. Not what evaluate gives
    (``intervals.auc_roc``): it covers 98-99% with many more normal rows than anomalies and under 90% where some
    anomalies are found and some missed (bench/interval_coverage.py); kept for comparison."""
    if not np.isfinite(auc) or n_pos < 1 or n_neg < 1:
        return float("nan"), float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    se = float(np.sqrt(max(var, 0.0)))
    return max(0.0, auc - z * se), min(1.0, auc + z * se)
