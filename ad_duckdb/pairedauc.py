"""Two models' AUC-ROC on the same labelled rows compared: DeLong's paired test, its degrees of freedom, and the
difference's interval where DeLong's variance is 0."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import intervals, smallpaired
from .auc import _midranks_by_class
from .thresholds import Z95, check_no_nan, curve


@dataclass
class PairedAUC:
    """Two models' AUC-ROC on the same labelled rows, and their difference ``b - a`` with its 95% interval and
    two-sided p-value (DeLong, DeLong & Clarke-Pearson, 1988: paired, so rows both rank alike do not count twice)."""

    auc_a: float
    auc_b: float
    diff: float
    low: float
    high: float
    p_value: float
    # how the interval and p-value were found (``PAIRED_DELONG``, or ``weights.PAIRED_AUDIT`` on an audit sample)
    method: str = "DeLong's paired test"
    # the Student t's degrees of freedom the interval and p-value were read from (Welch-Satterthwaite's, of the
    # anomalies' and the normal rows' parts of the variance); None where they are not a t's (an audit sample)
    df: float | None = None


PAIRED_DELONG = "DeLong's paired test"


def paired_auc_roc(scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray, z: float = Z95) -> PairedAUC:
    """``PairedAUC`` of two score vectors of the same rows (the fast form of Sun & Xu, 2014: midranks, O(n log n)).

    Why paired: two versions scored on the same rows err on many of the same rows, so the two AUCs' own intervals
    overlap even where the difference is sure; DeLong's test uses their covariance."""
    y = np.asarray(labels).astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    if m < 2 or n < 2:
        raise ValueError("paired_auc_roc needs at least 2 labelled anomalies and 2 normal rows")
    aucs, v_pos, v_neg = [], [], []
    for s in (np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)):
        check_no_nan(s, "paired_auc_roc")
        # Why one sort: the midranks among all rows and among each class's own (Sun & Xu's three rankings) come
        # from the one order; three argsorts a version cost 0.5 s at 1M rows, most of compare --label's own work
        r_all, r_own = _midranks_by_class(s, y)
        r_pos, r_neg = r_all[y], r_all[~y]
        aucs.append(float((r_pos.sum() - m * (m + 1) / 2.0) / (m * n)))
        # each row's share of the AUC: for an anomaly, the share of normal rows below it; for a normal row, the share
        # of anomalies above it (ties count half)
        v_pos.append((r_pos - r_own[y]) / n)
        v_neg.append(1.0 - (r_neg - r_own[~y]) / m)
    cov_pos, cov_neg = np.cov(np.vstack(v_pos)) / m, np.cov(np.vstack(v_neg)) / n
    # the same scores (the same model under two names): a difference of 0 on any rows, not only these
    same = np.array_equal(np.asarray(scores_a), np.asarray(scores_b))
    p = paired_test(aucs, cov_pos + cov_neg, z, paired_df(cov_pos, cov_neg, m - 1, n - 1), None if same else (m, n))
    if m < smallpaired.FEW and p.method == PAIRED_DELONG and p.high > p.low:  # few anomalies: DeLong's too narrow
        curves = (curve(np.asarray(scores_a, dtype=np.float64), y),
                  curve(np.asarray(scores_b, dtype=np.float64), y))
        p.low, p.high, p.p_value = smallpaired.widen((aucs[0], aucs[1]), p.low, p.high, p.p_value, cov_pos + cov_neg,
                                                     curves, (m, n), z)
        p.method = smallpaired.METHOD
    return p


def paired_df(cov_pos: np.ndarray, cov_neg: np.ndarray, df_pos: float, df_neg: float) -> float:
    """Welch-Satterthwaite's degrees of freedom of the AUC difference's variance, from its anomalies' part
    (``cov_pos``, an estimate on ``df_pos`` degrees of freedom) and its normal rows' part (``cov_neg``).

    Why: with 3-5 anomalies the anomalies' part is a variance of 3-5 values, as uncertain as a mean's: read against
    the normal distribution, two equally good versions were called different in 9-15% of simulated draws (5% is
    right); against this t, in 1-4.4% (bench/results/compare_delong_2026-12-05_t.md). With many anomalies the t is
    the normal."""
    part = [max(float(c[0, 0] + c[1, 1] - 2 * c[0, 1]), 0.0) for c in (cov_pos, cov_neg)]
    return intervals.satterthwaite(part[0], part[1], df_pos, df_neg)


def paired_test(aucs: list[float], cov: np.ndarray, z: float = Z95, df: float = math.inf,
                sizes: tuple[float, float] | None = None) -> PairedAUC:
    """``PairedAUC`` of two AUCs and the 2 x 2 covariance of their estimates (DeLong's), the difference over its
    standard error read as a Student t on ``df`` degrees of freedom (``paired_df``; inf: the normal). ``sizes``:
    the anomalies and normal rows (Kish's effective sizes, weighted), for ``_no_spread``."""
    diff = aucs[1] - aucs[0]
    var = max(float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]), 0.0)
    shown = df if math.isfinite(df) else None
    if var == 0.0:
        if sizes is not None:
            return _no_spread(aucs, sizes, z)
        return PairedAUC(aucs[0], aucs[1], diff, diff, diff, 1.0 if diff == 0 else 0.0, df=shown)
    se = math.sqrt(var)
    half = intervals.t_quantile(z, df) * se
    return PairedAUC(aucs[0], aucs[1], diff, diff - half, diff + half, intervals.t_two_sided(diff / se, df),
                     df=shown)


# what compare says of its test where DeLong's variance is 0 (``_no_spread``)
PAIRED_NO_SPREAD = ("each version's AUC-ROC score interval (Newcombe's) joined (Zou and Donner's MOVER): DeLong's "
                    "variance is 0 on these rows")


def _no_spread(aucs: list[float], sizes: tuple[float, float], z: float) -> PairedAUC:
    """The difference's interval where DeLong's variance is 0: every anomaly placed alike by both versions, as when
    both rank every labelled anomaly above every normal row (AUC-ROC 1 and 1). Each version's Newcombe interval
    (which does not shrink to a point at an AUC of 1) joined by MOVER, taking the two as uncorrelated; the p-value
    from the half of that interval on 0's side, as a normal's.

    Why: compare said "+0.0000 (95% interval +0.0000 to +0.0000, p = 1)" of two versions that both ranked 8
    labelled anomalies first: no spread among 8 anomalies is no proof that the versions rank all anomalies alike,
    and evaluate gave each AUC the interval 0.852-1.000 on the same rows."""
    diff = aucs[1] - aucs[0]
    (la, ua), (lb, ub) = ((i.low, i.high) for i in (intervals.newcombe(a, *sizes, z) for a in aucs))
    low = diff - math.hypot(aucs[1] - lb, ua - aucs[0])
    high = diff + math.hypot(ub - aucs[1], aucs[0] - la)
    half = (diff - low) if diff > 0 else (high - diff)
    p = 1.0 if diff == 0 or half <= 0 else math.erfc(abs(diff) / (half / z) / math.sqrt(2))
    return PairedAUC(aucs[0], aucs[1], diff, max(low, -1.0), min(high, 1.0), p, PAIRED_NO_SPREAD)
