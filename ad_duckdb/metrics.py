"""Metrics (precision, recall, F1, AUC-ROC, AUC-PR) and plots (PR curve, score histograms with and without labels)."""

from __future__ import annotations

import math
import tempfile
import textwrap
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from . import costs, intervals, leancurve, optionwords, sampled, smallpaired, workfolder
from .plottext import drawable, wrapped
from .savefile import write_whole
from .sqltext import cut
from .thresholds import Z95, check_no_nan, curve, wilson

INTERVALS_SHORT = ("Kish's effective sample size (sum w)^2 / sum w^2 of each class as its count (recall's: of the "
                   "caught and the missed apart; precision's from recall's and the false-alarm rate's, or "
                   "Wilson's of the flagged rows where they weigh alike)")


def count_text(v: float) -> str:
    """A count of rows, or of what weighted rows stand for: whole numbers plain, others to 6 digits."""
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.6g}"


def value_text(v: float) -> str:
    """A threshold as a report prints it: 6 significant digits, without an exponent from 1 to 1e12 (a value of
    299998.5 read 3e+05, a figure no one types back)."""
    text = f"{v:.6g}"
    return f"{v:.0f}" if "e" in text and 1 <= abs(v) < 1e12 else text


def share_text(p: float) -> str:
    """A share as a percentage, ``0.02%``; below 0.01% to its first significant digit (``0.001%``), so 1 row in
    100,000 does not read as none."""
    if 0 < abs(p) < 5e-5:
        return f"{p * 100:.{-math.floor(math.log10(abs(p) * 100))}f}%"
    return f"{p:.2%}"


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


def confusion(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    flag = s > threshold
    tp = int(np.sum(flag & y))
    fp = int(np.sum(flag & ~y))
    fn = int(np.sum(~flag & y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    p_lo, p_hi = wilson(tp, tp + fp)
    r_lo, r_hi = wilson(tp, tp + fn)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": int(np.sum(~flag & ~y)), "precision": precision, "recall": recall,
            "f1": f1, "flagged_share": float(flag.mean()) if len(s) else 0.0,
            "precision_lo": p_lo, "precision_hi": p_hi, "recall_lo": r_lo, "recall_hi": r_hi}


def precision_at_share(m: dict[str, float], share: float) -> float:
    """The precision of ``confusion`` figures ``m`` where anomalies are ``share`` of the rows: recall and false-alarm
    rate do not depend on the labelled rows' own share, precision does. NaN where it is undefined (no row flagged,
    or no normal row to give a false-alarm rate)."""
    tp, fp, fn, tn = m["tp"], m["fp"], m["fn"], m["tn"]
    if not (tp + fp) or not (fp + tn) or not (tp + fn):
        return float("nan")
    caught, alarms = share * tp / (tp + fn), (1.0 - share) * fp / (fp + tn)
    return caught / (caught + alarms) if caught + alarms else float("nan")


def at_share(m: dict[str, float], share: float,
             counts: tuple[float, float, float, float] | None = None) -> dict[str, float]:
    """``precision_at_share`` of ``confusion`` figures ``m`` with its 95% interval (``intervals.precision_at_share``):
    the keys ``precision_at_share``, ``precision_at_share_lo`` and ``precision_at_share_hi``. ``counts``: the tp,
    fp, fn, tn the interval takes, when not ``m``'s (weighted rows: ``weights.effective_counts``)."""
    lo, hi = intervals.precision_at_share(*(counts or (m["tp"], m["fp"], m["fn"], m["tn"])), share)
    return {"precision_at_share": precision_at_share(m, share), "precision_at_share_lo": lo,
            "precision_at_share_hi": hi}


_COST_INTERVAL = ("(95%: of the cost per 10,000 rows like these, from continuity-corrected Wilson intervals of the "
                  "share of anomalies missed and of normal rows flagged, given the cut; the lowest cost's, chosen on "
                  "these rows, reads a little cheap)")


@dataclass
class Costs:
    """What errors cost per row on the rows of a ``Report`` (``evaluate`` with ``miss_cost=`` and ``alarm_cost=``);
    each threshold's is its ``at_thresholds`` entry's ``cost_per_row``."""

    prices: costs.Prices
    # the cheapest cut on these rows (the one method min_cost stores from them): value, cost_per_row, missed,
    # alarms, precision, recall, flagged_share
    best: dict[str, Any]
    flag_none: float  # the cost per row of flagging no row: every anomaly missed

    def lines(self, at: dict[str, dict[str, float]], rows: float, anomalies: float, w: int) -> list[str]:
        """The cost table ``Report`` prints: each threshold, the cheapest cut, and flagging no row."""
        p = self.prices
        here = share_text(anomalies / max(rows, 1e-300))
        at_share = (f", on these {count_text(rows)} rows ({here} anomalies)" if p.anomaly_share is None
                    else f", weighed to anomalies {costs.stated_share(p.anomaly_share)} of rows (these {count_text(rows)} rows hold {here})")
        out = [f"cost at {costs.cost_text(p.miss_cost)} per missed anomaly and {costs.cost_text(p.alarm_cost)} per "
               f"false alarm{at_share}:",
               f"{'threshold':<{w}}{'value':>12}{'missed':>8}{'false alarms':>14}{'per row':>11}{'per 10,000 rows':>17}"
               f"{'  95% per 10,000 rows'}"]

        def row(name: str, value: str, missed: float, alarms: float, cost: float, m: dict[str, Any] | None) -> str:
            # Why the interval: 0 false alarms among 32 normal rows read "0 per row", as if none could follow
            band = ("" if m is None or "cost_per_row_lo" not in m else
                    f"  {costs.amount_text(m['cost_per_row_lo'] * 10_000)}-{costs.amount_text(m['cost_per_row_hi'] * 10_000)}")
            return (f"{name:<{w}}{value:>12}{missed:>8.0f}{alarms:>14.0f}{costs.amount_text(cost):>11}"
                    f"{costs.amount_text(cost * 10_000):>17}{band}")

        out += [row(name, value_text(m["value"]), m["fn"], m["fp"], m["cost_per_row"], m) for name, m in at.items()]
        b = self.best
        if not anomalies:  # rows labelled normal only: nothing to miss, so flagging none is cheapest, and no cut is
            out.append(row("(flag no row)", "-", anomalies, 0, self.flag_none, None))  # min_cost's (it refuses such rows)
            out.append("(per row: false alarms alone, as no row here is labelled an anomaly to miss; method min_cost "
                       "needs rows labelled 1 too)")
            out.append(_COST_INTERVAL)
            return out
        out.append(row("(lowest cost)", value_text(b["value"]), b["missed"], b["alarms"], b["cost_per_row"], b))
        out.append(row("(flag no row)", "-", anomalies, 0, self.flag_none, None))
        # Why said: labelled rows are often richer in anomalies than the traffic a threshold will see
        share = ("at these rows' share of anomalies, which live traffic may not have "
                 f"({optionwords.opt('anomaly_share')} weighs them to its own)" if p.anomaly_share is None else
                 f"missed and false alarms counted here, weighed to anomalies {costs.stated_share(p.anomaly_share)} of rows")
        cheaper = "; flagging no row costs less than any cut" if self.flag_none < b["cost_per_row"] else ""
        # Why not "the cut min_cost stores": it refuses rows without a normal one, where no false alarm is counted
        lowest = ("flagging every row, as no row here is labelled normal to count a false alarm on; min_cost needs "
                  "rows labelled 0 too" if anomalies == rows else f"the cut method min_cost stores from these rows{cheaper}")
        out.append(f"(per row: {share}; (lowest cost): {lowest})")
        out.append(_COST_INTERVAL)
        return out


@dataclass
class Report:
    """What ``ad_duckdb.evaluate`` returns: headline metrics, metrics at each stored threshold, the curve; its
    ``pr_curve()`` and ``score_hist()`` draw the plots ``plots_dir=`` writes, as figures for a notebook (it keeps the
    evaluated rows' scores and labels for them: 9 bytes a row)."""

    model: str
    rows: int
    anomalies: int
    auc_roc: float
    auc_pr: float
    at_thresholds: dict[str, dict[str, float]]
    table: list[dict[str, float]] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what to keep in mind about these figures
    costs: Costs | None = None  # with evaluate's miss_cost= and alarm_cost=
    # with evaluate's anomaly_share=: the share each threshold's precision_at_share is at
    anomaly_share: float | None = None
    # evaluate's 95% interval of auc_roc, from its rows (``intervals.auc_roc``); None: from the figure and the counts
    auc_roc_ci: intervals.AUCInterval | None = None

    @property
    def weights(self) -> dict[str, Any] | None:
        """With evaluate's ``weight=``: the column, the rows and anomalies the weights stand for, Kish's effective
        sizes of each class, the rows of weight 0, and what the intervals take (``weights.summary``); ``rows`` and
        ``anomalies`` stay the rows read. None without weights."""
        kept: dict[str, Any] | None = getattr(self, "_weights", None)
        return kept

    @property
    def goal_checks(self) -> list[dict[str, Any]]:
        """Each stored threshold chosen for a target (min_precision, min_recall) on other labelled rows than these,
        checked against it here (``goalcheck.checks``): ``threshold``, ``method``, ``figure``, ``target``,
        ``chosen_on``, ``there``, ``here``, ``here_lo``, ``here_hi``, ``verdict`` (``met``, ``missed``, ``not
        shown``; ``flags none`` for a cut above every score here, its figure None), ``flagged``, ``anomalies_here``
        and ``rows_here``. Why an attribute, not a field: as ``weights``."""
        kept: list[dict[str, Any]] = getattr(self, "_goal_checks", [])
        return kept

    @goal_checks.setter
    def goal_checks(self, done: list[dict[str, Any]]) -> None:
        self._goal_checks = done

    def keep_weights(self, summary: dict[str, Any]) -> None:
        """Keep ``weights``. Why an attribute, not a field: an unweighted report's fields (``asdict``, ``evaluate
        --format json``) stay what they were."""
        self._weights = summary

    @property
    def auc_roc_interval(self) -> tuple[float, float]:
        """95% interval of ``auc_roc`` on as many labelled rows: how far the figure could move on another sample
        (``auc_roc_interval_method`` says how it was made)."""
        ci = self._auc_ci()
        return ci.low, ci.high

    @property
    def auc_roc_interval_method(self) -> str:
        return self._auc_ci().method

    def _auc_ci(self) -> intervals.AUCInterval:
        if self.auc_roc_ci is not None:
            return self.auc_roc_ci
        return intervals.newcombe(self.auc_roc, self.anomalies, self.rows - self.anomalies)

    def __str__(self) -> str:
        return self.text()

    def text(self, notes: bool = True) -> str:
        """What ``print(report)`` shows; ``notes=False``: without the ``note:`` lines (``evaluate`` run with
        PYTHONWARNINGS=ignore::UserWarning, which leaves every note out)."""
        lo, hi = self.auc_roc_interval
        roc = ("undefined (no labelled anomaly)" if self.rows and not self.anomalies
               else "undefined (no normal rows)" if np.isnan(self.auc_roc)
               else f"{self.auc_roc:.4f} (95% interval {lo:.3f}-{hi:.3f})")
        # as wide as the longest name: a name of 14 characters or more (precision90_confident) pushed its row's
        # figures right of the header's
        w = max([14, *(len(n) + 1 for n in self.at_thresholds)])
        rows, anomalies = self._held()
        lines = [
            f"model {self.model}: {self.rows} rows, {self.anomalies} labelled {'anomaly' if self.anomalies == 1 else 'anomalies'} "
            f"({self._weighted_text()}{share_text(anomalies / max(rows, 1e-300))})",
            f"AUC-ROC {roc}   AUC-PR {'undefined' if np.isnan(self.auc_pr) else f'{self.auc_pr:.4f}'}",
            *self._weights_lines(),
            *(f"note: {n}" for n in (self.notes if notes else ())),
            "",
        ]
        if self.rows and not self.anomalies:  # rows labelled normal only: their false alarms, the figure they define
            from . import normalonly

            lines += normalonly.lines(self, w)
            if self.costs is not None:
                lines += ["", *self.costs.lines(self.at_thresholds, rows, anomalies, w)]
            return "\n".join(lines + (["", "plots: " + ", ".join(self.plots)] if self.plots else []))
        lines += [
            f"{'threshold':<{w}}{'value':>12}{'precision':>11}{'(95%)':>13}{'recall':>9}{'(95%)':>13}{'F1':>8}"
            f"{'flagged_labelled':>18}",
        ]

        def interval(m: dict[str, float], what: str) -> str:
            a, b = m.get(f"{what}_lo", np.nan), m.get(f"{what}_hi", np.nan)
            return "" if np.isnan(a) else f"{a:.3f}-{b:.3f}"

        for name, m in self.at_thresholds.items():
            # a threshold that flags no row has no precision (0.000 read as "every flag wrong"); share_text: 1 row in
            # 300,000 flagged read "0.00%", as none
            prec = f"{m['precision']:>11.3f}" if m.get("tp", 1) + m.get("fp", 1) else f"{'-':>11}"
            lines.append(
                f"{name:<{w}}{value_text(m['value']):>12}{prec}{interval(m, 'precision'):>13}"
                f"{m['recall']:>9.3f}{interval(m, 'recall'):>13}{m['f1']:>8.3f}{share_text(m['flagged_share']):>18}"
            )
        if self.at_thresholds:
            lines.append("(95%: the range the true precision and recall lie in, with 95% confidence, judged from this many "
                         "labelled rows; Wilson intervals, given each threshold's value: one chosen on these rows reads better "
                         f"here than it will elsewhere; AUC-ROC's: "
                         f"{self.auc_roc_interval_method})")
        if self.goal_checks:
            from . import goalcheck

            lines += ["", *goalcheck.lines(self.goal_checks)]
        if self.anomaly_share is not None and self.at_thresholds:
            here = share_text(anomalies / max(rows, 1e-300))
            lines += ["", f"precision at anomalies {costs.stated_share(self.anomaly_share)} of rows (these {count_text(rows)} "
                          f"rows hold {here}), from each threshold's recall and false-alarm rate here (95%: "
                          f"{intervals.SHARE_METHOD}; a false-alarm rate of few normal rows moves it far):",
                      f"{'threshold':<{w}}{'value':>12}{'precision':>11}{'(95%)':>15}"]
            for name, m in self.at_thresholds.items():
                p = m.get("precision_at_share", np.nan)
                lines.append(f"{name:<{w}}{value_text(m['value']):>12}{'-' if np.isnan(p) else f'{p:.3f}':>11}"
                             f"{interval(m, 'precision_at_share'):>15}")
        if self.costs is not None:
            lines += ["", *self.costs.lines(self.at_thresholds, rows, anomalies, w)]
        if self.plots:
            lines += ["", "plots: " + ", ".join(self.plots)]
        return "\n".join(lines)

    def _held(self) -> tuple[float, float]:
        """The rows and anomalies the figures count: the rows read, or with weights what they stand for."""
        if self.weights is None:
            return self.rows, self.anomalies
        return self.weights["rows"], self.weights["anomalies"]

    def _weighted_text(self) -> str:
        if self.weights is None:
            return ""
        rows, anomalies = self._held()
        # before the share, which is of the rows the weights stand for: after "40 labelled anomalies (" it read as
        # a share of the rows read
        return f"weighted by {self.weights['column']}: {count_text(rows)} rows, {count_text(anomalies)} anomalies, "

    def _weights_lines(self) -> list[str]:
        """What the weights do to the figures, said under them. Why: a precision of 0.9 on weighted rows and one on
        the rows as read differ by the sampling, and the intervals' certainty is not the weighted rows' count."""
        if self.weights is None:
            return []
        k = self.weights
        zero = k.get("zero_weight_rows", 0)
        return [f"weights: each row counts as its {k['column']!r} rows (as scikit-learn's sample_weight); the 95% "
                f"intervals take {INTERVALS_SHORT}: {k['effective_anomalies']:.1f} anomalies, "
                f"{k['effective_normal']:.1f} normal rows" + (f"; {zero} rows of weight 0 left out" if zero else "")
                + (f"; {sampled.SAID}" if k.get("sampled") == sampled.NORMAL else "")]

    def __repr__(self) -> str:
        """One short line: the dataclass repr held every threshold's every figure and the whole candidate table,
        about 5,000 characters, in a plain REPL, a list of reports or a log line."""
        notes = f", {len(self.notes)} note(s)" if self.notes else ""
        return (f"Report(model={self.model!r}, rows={self.rows}, anomalies={self.anomalies}, "
                f"auc_roc={self.auc_roc:.4f}, auc_pr={self.auc_pr:.4f}, thresholds={list(self.at_thresholds)}{notes}; "
                "print(report) for the table)")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """What IPython and Jupyter show for a report left as a cell's last expression: the table ``print`` shows.
        Without it they showed the dataclass repr, every field on one line of a few thousand characters."""
        p.text(str(self))

    def keep_scores(self, scores: np.ndarray, labels: np.ndarray, thresholds: dict[str, float],
                    source: str | None, weights: np.ndarray | None = None, sampled: str | None = None) -> None:
        """Keep what ``pr_curve`` and ``score_hist`` draw (``weights``: each row's, evaluate's ``weight=``;
        ``sampled``: evaluate's, so the points' intervals are the report's). Why an attribute, not a field:
        ``asdict`` (``evaluate --format json``) would print every row's score."""
        self._drawn = (np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool), dict(thresholds), source)
        self._drawn_weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self._drawn_sampled = sampled

    def pr_curve(self) -> Any:
        """The precision-recall curve ``evaluate(plots_dir=)`` writes (``<model>_pr_curve.png``), each threshold a
        point on it, as a matplotlib Figure: a notebook shows it as a cell's value, ``fig.savefig(path)`` writes it.
        Not registered with pyplot, as ``plot_scores``' figure. Needs matplotlib (the ``[plots]`` extra). Rows all
        labelled normal have no curve (BadInputError)."""
        s, y, marked, source = self._kept()
        if not y.any():
            from .exceptions import BadInputError

            raise BadInputError(f"Report of {self.model!r}: no row labelled an anomaly (1), so there is no precision-"
                                "recall curve to draw (recall is undefined); score_hist() draws these rows' scores, "
                                "and at_thresholds holds each threshold's false-alarm rate.")
        return pr_figure(s, y, self.model, marked, source, getattr(self, "_drawn_weights", None),
                         getattr(self, "_drawn_sampled", None))

    def score_hist(self) -> Any:
        """The histogram of the scores by label ``evaluate(plots_dir=)`` writes (``<model>_score_hist.png``), each
        threshold a line, as a matplotlib Figure (see ``pr_curve``)."""
        s, y, marked, source = self._kept()
        return label_hist_figure(s, y, self.model, marked, source, getattr(self, "_drawn_weights", None))

    def _kept(self) -> tuple[np.ndarray, np.ndarray, dict[str, float], str | None]:
        drawn: tuple[np.ndarray, np.ndarray, dict[str, float], str | None] | None = getattr(self, "_drawn", None)
        if drawn is None:
            from .exceptions import BadInputError

            raise BadInputError(f"Report of {self.model!r} holds no scores to draw: only a report ad_duckdb.evaluate "
                                "returns keeps its rows' scores and labels for pr_curve() and score_hist().")
        return drawn


def candidate_table(scores: np.ndarray, labels: np.ndarray, n: int = 25,
                    c: dict[str, np.ndarray] | None = None) -> list[dict[str, float]]:
    """A readable sample of the threshold curve: about ``n`` rows spread over the flagged share; ``c``: the
    ``thresholds.curve`` of the rows, when already computed."""
    c = curve(scores, labels) if c is None else c
    if len(c["scores"]) == 0:
        return []
    shares = np.geomspace(1.0 / len(scores), 1.0, n)
    found = c.share_index(shares) if isinstance(c, leancurve.LeanCurve) else np.searchsorted(c["flagged_share"], shares)
    idx = np.unique(found.clip(0, len(c["scores"]) - 1))
    distinct = c["scores"][::-1]  # ascending, as np.unique's, without sorting the rows again
    rows = leancurve.rows_at(c, idx)
    for r in rows:
        r["threshold"] = _short_cut(r["threshold"], distinct)
    return rows


def _short_cut(t: float, distinct: np.ndarray) -> float:
    """The shortest decimal (of 6 significant digits or more) that flags what ``t`` does among ``distinct`` (the
    sorted scores), in the middle half of the gap ``t`` lies in; ``t`` itself where none is.

    Why: the table is read to be typed back (``--method manual --value V``), and 6 digits of a cut between scores
    1e-7 apart, or of the one just below the lowest score, flagged a row more or less than its figures count. The
    middle half keeps the margin a midpoint has against the float32 rounding of scores computed again."""
    i = int(np.searchsorted(distinct, t, side="right"))
    if i >= len(distinct) or not np.isfinite(t):
        return t
    hi = float(distinct[i])
    lo = float(distinct[i - 1]) if i > 0 else hi - max(abs(hi), 1e-300) * 1e-3  # below the lowest: within 0.1%
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return t
    a, b, mid = lo + (hi - lo) / 4, hi - (hi - lo) / 4, lo + (hi - lo) / 2
    for digits in range(6, 18):
        v = float(f"{mid:.{digits}g}")
        if a <= v <= b:
            return v
    return t


def plots_folder(out_dir: str | Path, model: str) -> Path:
    """The folder plots of ``model`` go to, created, with matplotlib importable: checked before the scoring that
    feeds the plots. Why first: a path that is a file or a missing [plots] extra surfaced only after every row was
    scored, when `score --into` had already written its table and then exited with an error."""
    _subplots(model, (1, 1))  # MissingDependencyError naming the extra
    out = Path(out_dir)
    # a folder that exists but takes no files (read-only) passed mkdir, and failed only at savefig, after the rows
    # were scored and written: a file made and removed proves it takes them (the error names the folder, not the
    # temporary file's random name)
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except PermissionError as e:
        # one message, no filename: the command line prints it as it is (its path and fix said here)
        raise type(e)(e.errno, f"cannot write plots to {str(out)!r}{workfolder.where(out)}: {e.strerror}; choose a "
                      "path you may use: give --plots (Python: plots_dir=) a folder you may write, such as an absolute "
                      "path under /tmp") from e
    except OSError as e:
        raise type(e)(e.errno, e.strerror, str(out)) from e
    return out



def plot(scores: np.ndarray, labels: np.ndarray, out_dir: str | Path, model: str,
         thresholds: dict[str, float] | None = None, source: str | None = None,
         weights: np.ndarray | None = None, sampled: str | None = None) -> list[str]:
    """Write ``<model>_pr_curve.png`` and ``<model>_score_hist.png`` (``name@2``: ``name_v2_pr_curve.png``, titled
    ``name@2``, with the rows evaluated: ``source``; the histogram alone where no row is labelled an anomaly); returns
    their paths. ``weights``: each row's sample weight
    (all above 0), each row drawn as that many, as evaluate's weighted figures count it; ``sampled``: evaluate's."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    safe = _file_stem(model.replace("@", "_v"))
    paths: list[str] = []
    # Why no curve without a labelled anomaly: it drew every threshold at "precision 0.000, recall 0.000" and "AUC-PR
    # nan" beside a report saying recall and AUC-PR are undefined there (rows all labelled normal, normalonly)
    curve_too = bool(np.asarray(labels).astype(bool).any())
    figures = ([(partial(pr_figure, scores, labels, model, thresholds, source, weights, sampled), "pr_curve")]
               if curve_too else [])
    figures.append((partial(label_hist_figure, scores, labels, model, thresholds, source, weights), "score_hist"))
    for draw, what in figures:
        fig = draw()
        p = write_whole(out / f"{safe}_{what}.png", partial(fig.savefig, dpi=110, format="png"))
        paths.append(str(p))
    return paths


def pr_figure(scores: np.ndarray, labels: np.ndarray, model: str, thresholds: dict[str, float] | None = None,
              source: str | None = None, weights: np.ndarray | None = None, sampled: str | None = None) -> Any:
    """The precision-recall curve `plot` writes, each threshold a point on it (a matplotlib Figure, not pyplot's);
    for rare anomalies, beside it the same on a precision axis scaled to the curve (see `przoom`). ``weights``: the
    rows' sample weights, the curve, its points and the baseline those of the rows each counted as its weight;
    ``sampled``: evaluate's, whose intervals the points' bars draw (``weights.confusion``)."""
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.lines import Line2D

    from . import przoom
    from . import weights as weighing  # not at the top: weights imports thresholds, which imports this module

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    c = curve(s, y) if w is None else weighing.curve(s, y, w)
    groups = _threshold_groups(thresholds)
    found = [confusion(s, y, t) if w is None else weighing.confusion(s, y, w, t, sampled) for _, t in groups]
    # the anomalies' share of the rows, or of what the weighted rows stand for: a random ranking's precision
    base = float(y.mean()) if w is None else float(w[y].sum() / w.sum())
    zoom_top = przoom.top(c["recall"], c["precision"], [m["precision"] for m in found if m["tp"] + m["fp"]], base)
    # taller once the legend below the axes is known; wider by the zoomed panel
    fig, axes = _subplots(model, (11.5 if zoom_top else 6, 4.5), ncols=2 if zoom_top else 1)
    ax = axes[0] if zoom_top else axes
    # in steps from recall 0, each precision held over the recall step it adds, as scikit-learn's
    # PrecisionRecallDisplay draws it. Why: straight lines between the points claimed precisions no threshold gives
    # (one anomaly ranked 4th: a line from (0, 0) to (1, 0.25)), and an area unlike the AUC-PR the legend names
    # (rows of one score: the one point as a marker, a line of one vertex is not drawn at all)
    one = len(c["recall"]) == 1
    line = {"x": c["recall"] if one else np.r_[0.0, c["recall"]],
            "y": c["precision"] if one else np.r_[c["precision"][:1], c["precision"]],
            "marker": "o" if one else None}
    ax.plot(line["x"], line["y"], drawstyle="steps-pre", lw=1.5, marker=line["marker"],
            label=f"{model} (AUC-PR {auc_pr(s, y, c=c):.3f})")
    # 3 significant digits, not 3 decimals: 30 anomalies in 95,156 rows read "random (0.000)"
    ax.axhline(base, color="grey", ls=":", label=f"random ({base:.3g})")
    handles, texts = ax.get_legend_handles_labels()
    # wrapped whole: names cut at 40 characters ('max_f1_on_the_validation_split_of_march…') read alike
    texts = [wrapped(x, _PR_LEGEND_CHARS) for x in texts]
    # few anomalies (Kish's effective count, weighted): each point's 95% intervals as bars. Why: on 8 labelled
    # anomalies a point at precision 1 and recall 1 could be at recall 0.68 on another sample, and the picture, shown
    # to a committee beside evaluate's table of intervals, drew it as a sure point
    few = float(y.sum()) if w is None else weighing.effective(w[y])
    bars = bool(groups) and 0 < few < FEW_FOR_BARS
    if bars:
        handles.append(Line2D([], [], color="grey", lw=1, alpha=0.6))  # a bar, no marker: markers are points
        texts.append(wrapped(f"bars: each point's 95% intervals of precision and recall (on "
                             f"{'an effective ' if w is not None else ''}{few:.3g} labelled anomalies a point could "
                             "lie anywhere in its bars on another sample)", _PR_LEGEND_CHARS))
    # thresholds of different values that flag the same rows are one point of the curve: one legend entry naming
    # them all. Why: each had its own entry with the same figures and its marker on the same spot, the later
    # hiding the earlier, so which colour the point showed could not be told
    spots: dict[tuple[float, float], list[int]] = {}
    for i, m in enumerate(found):
        if m["tp"] + m["fp"]:
            spots.setdefault((m["tp"], m["fp"]), []).append(i)
    points: list[dict[str, Any]] = []
    for i, ((names, t), m) in enumerate(zip(groups, found, strict=True)):
        if m["tp"] + m["fp"] == 0:
            # no flag, no precision (the report prints '-'): a point at (0, 0) read as every flag wrong
            handles.append(ax.scatter([], [], color=_colour(i), marker=_marker(i)))
            texts.append(wrapped(f"{names} {_fmt_score(t)}: flags no row", _PR_LEGEND_CHARS))
            continue
        # on or beside the point of another, each drawn over it smaller than it: a ring of each colour shows. Why
        # beside too: ADBench smtp's p90, p95 and default had precisions 0.001-0.009 at recall 1, one marker's width
        # apart, and only default's showed
        under = min(5, sum(1 for n in found[i + 1:] if n["tp"] + n["fp"] and abs(n["recall"] - m["recall"]) < _NEAR
                           and abs(n["precision"] - m["precision"]) < _NEAR))
        spot = spots[(m["tp"], m["fp"])]
        # named in the legend, not beside the point: thresholds a few rows apart sit on one spot of the curve. Whole
        # on the axes' edges (not clipped by them): a threshold whose every flag is wrong sat at (0, 0) as a quarter
        # of a marker in the corner
        points.append({"x": [m["recall"]], "y": [m["precision"]], "zorder": 3, "color": _colour(i),
                       "marker": _marker(i), "s": (6 + 3 * under) ** 2, "clip_on": False})
        ax.scatter(**points[-1])
        if bars and np.isfinite(m["precision_lo"]) and np.isfinite(m["recall_lo"]):
            _interval_bars(ax, m, _colour(i))
        if i == spot[-1]:
            # in the legend at one size: a ring under a near marker was drawn there as large as on the curve
            marks = [Line2D([], [], ls="none", marker=_marker(j), color=_colour(j)) for j in spot]
            handles.append(marks[0] if len(marks) == 1 else tuple(marks))
            named = ", ".join(f"{groups[j][0]} {_fmt_score(groups[j][1])}" for j in spot)
            # wrapped: six names on one line ran the legend past both edges of the figure
            texts.append(wrapped(f"{named}: precision {m['precision']:.3f}, recall {m['recall']:.3f}",
                                 _PR_LEGEND_CHARS))
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title=_title(f"Precision-recall: {_of(model, source, s.size, w)}", 6))
    if zoom_top:
        przoom.draw(axes[1], line, points, base, zoom_top)
    # below the axes, not in a corner of them: on rare anomalies (ADBench celeba, precision under 0.11 everywhere)
    # the whole curve and the threshold points the legend lists lay in the lower left corner, under it
    # a shared spot's markers side by side in its entry (matplotlib's default draws a tuple's markers over each other)
    # (their handle long enough that the markers stand apart: a marker is about a font size wide)
    most = max((len(h) for h in handles if isinstance(h, tuple)), default=1)
    ax.legend(handles, texts, loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=7,
              handler_map={tuple: HandlerTuple(ndivide=None)}, handlelength=max(2.0, 1.2 * most))
    # taller by each legend line (the curve, the baseline, each point's entry, wrapped)
    fig.set_figheight(4.5 + 0.17 * sum(x.count("\n") + 1 for x in texts))
    fig.tight_layout()
    return fig


def _interval_bars(ax: Any, m: dict[str, float], colour: Any) -> None:
    """A threshold point's 95% intervals of recall (across) and precision (up) as two open polygons of the axes'
    patches, under the point. Why patches: the curve's lines and the points' collections are what readers of the
    figure (the notebook's Display, tests) take for the curve and its points."""
    from matplotlib.patches import Polygon

    r, p = m["recall"], m["precision"]
    for xy in (((m["recall_lo"], p), (m["recall_hi"], p)), ((r, m["precision_lo"]), (r, m["precision_hi"]))):
        ax.add_patch(Polygon(xy, closed=False, fill=False, edgecolor=colour, lw=1, alpha=0.6, zorder=2,
                             clip_on=False, gid="interval"))


# Below this many labelled anomalies the precision-recall curve draws its points' intervals (labelled.FEW_ANOMALIES,
# below which evaluate notes that a recall could be far off on another sample)
FEW_FOR_BARS = 30

# Characters on a line of the precision-recall legend: 7-point text in the 6-inch figure, with the markers beside it
_PR_LEGEND_CHARS = 90

# Points of the precision-recall curve closer than this in both precision and recall overlap (a marker is about
# 0.02 of the axes wide)
_NEAR = 0.025


def label_hist_figure(scores: np.ndarray, labels: np.ndarray, model: str,
                      thresholds: dict[str, float] | None = None, source: str | None = None,
                      weights: np.ndarray | None = None) -> Any:
    """The score histogram by label `plot` writes, with each threshold's line (a matplotlib Figure, not pyplot's).
    ``weights``: the rows' sample weights, each row a bar's height as its weight and each threshold's count the
    rows its flags stand for."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    fig, ax = _subplots(model, (6, 4.5))
    use_log = _log_axis(s, thresholds)
    vals = np.log10(s) if use_log else s
    bins = _bins(vals, _on_axis(vals, thresholds, use_log), use_log, 60)
    for rows, what in ((~y, "normal"), (y, "anomaly")):
        if rows.any():  # an empty group has no density (numpy would warn dividing by zero)
            n = f"n={int(rows.sum())}" + ("" if w is None else f", weighted {count_text(float(w[rows].sum()))}")
            ax.hist(vals[rows], bins=bins, alpha=0.6, density=True, weights=None if w is None else w[rows],
                    label=f"{what} ({n})")
    # with how many rows each flags, as in the other plots: bars of densities do not show it
    beside: list[tuple[Any, tuple[Any, str]]] = []
    listed = _mark_thresholds(ax, thresholds, use_log, s, _on_axis(vals, thresholds, use_log), w, beside)
    _score_axis(ax, use_log)
    # what the bars' heights are: each label's scaled to an area of 1 (33 anomalies stand as tall as 19,967 normal
    # rows), per decade of score on a log axis. Why said: 'density' alone left both to guess
    per = "density per decade of score" if use_log else "density"
    ax.set(ylabel=f"{per} (each label: area 1)",
           title=_title(f"Score histogram by label: {_of(model, source, s.size, w)}", 6))
    data = list(zip(*ax.get_legend_handles_labels(), strict=True))
    if listed:
        _list_thresholds(ax, [*data, *listed], -0.13)
    else:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)  # below: the labels fill the top
    _laid_out_below_labels(fig, ax, beside=beside, legend=_Legend(ax, data, beside, listed))
    return fig


class _Legend:
    """The legend below a histogram's axes: the data's entries and the thresholds `_mark_thresholds` listed, to
    which labels with no room beside their lines are added (``add``), thresholds by value; the figure as tall as
    before any legend plus the legend's rows."""

    def __init__(self, ax: Any, data: list[tuple[Any, str]], beside: list[tuple[Any, tuple[Any, str]]],
                 listed: list[tuple[Any, str]]) -> None:
        self.ax, self.data = ax, list(data)
        self.order = [whole for _, whole in beside]  # every threshold's entry, by value
        self.listed = list(listed)
        self.height = ax.figure.get_figheight() - (_legend_rows([*data, *listed]) * _LEGEND_ROW_IN if listed else 0.0)

    def add(self, more: list[tuple[Any, str]]) -> None:
        self.listed += [e for e in more if all(e is not x for x in self.listed)]  # a cut name's is listed already
        ranked = [e for e in self.order if any(e is x for x in self.listed)]
        self.ax.figure.set_figheight(self.height)
        _list_thresholds(self.ax, [*self.data, *ranked], -0.13)


def _laid_out_below_labels(fig: Any, ax: Any, rows: int | None = None,
                           beside: list[tuple[Any, tuple[Any, str]]] | None = None,
                           legend: _Legend | None = None) -> None:
    """``fig`` laid out, its bars clear of the threshold labels (see `labelroom`); ``rows``: those of the log
    row-count axis, which reaches no higher, and whose ticks are chosen again for its new top. Twice: ticks of a
    taller axis can be wider, and the axes narrower for them, so the labels a little wider against it.

    ``beside``: each threshold's label (None: in the legend only) with its legend entry; a label still over a bar
    once the axis is as tall as it may be goes to the ``legend`` instead, whole, and the labels under it move up
    into the rows left (`labelroom.unplaced`), the default threshold's kept first. Why:
    with 14 thresholds the lowest labels stepped down over the bulk's bars in white boxes, hiding their tops."""
    from . import labelroom

    fig.tight_layout()
    first = ax.get_ylim()
    for _ in range(len(beside or ()) + 1):
        for _ in range(2):
            labelroom.clear_of_bars(ax, rows if ax.get_yscale() == "log" else None)
            if rows:
                _count_axis(ax)
            fig.tight_layout()
        if legend is None or beside is None:
            return
        drawn = [(t, whole) for t, whole in beside if t is not None]
        if not labelroom.covering(ax, [t for t, _ in drawn]):
            break
        over = labelroom.unplaced(ax, [t for t, _ in drawn], _default_label(drawn))
        if not over:  # clear by the rows' own measure (a gap of points): nothing to move
            break
        _to_legend(over, beside, legend)
        ax.set_ylim(*first)  # the room measured again, for the labels left
    if legend is None or beside is None:
        return
    # last, what no row can clear: a label over another text of the axes ('no rows to draw') goes to the legend
    drawn = [(t, whole) for t, whole in beside if t is not None]
    hit = labelroom.colliding(ax, [t for t, _ in drawn], _default_label(drawn))
    if hit:
        for t in hit:
            t.remove()
        _to_legend(hit, beside, legend)
        fig.tight_layout()


def _default_label(drawn: list[tuple[Any, tuple[Any, str]]]) -> Any | None:
    """The label of the threshold group holding ``default`` among ``drawn`` (label, legend entry), if drawn."""
    return next((t for t, (_, text) in drawn if "default" in text.split(" > ")[0].split(" = ")), None)


def _to_legend(gone: list[Any], beside: list[tuple[Any, tuple[Any, str]]], legend: _Legend) -> None:
    """The labels ``gone`` (taken off the axes) listed in ``legend`` instead, and marked in ``beside`` as listed."""
    legend.add([whole for t, whole in beside if t is not None and any(t is o for o in gone)])
    beside[:] = [(None if any(t is o for o in gone) else t, whole) for t, whole in beside]


def _subplots(model: str, figsize: tuple[float, float], ncols: int = 1) -> tuple[Any, Any]:
    """A figure and its axes, outside pyplot. Why not pyplot: choosing its backend (``matplotlib.use("Agg")``, as
    before) switched the caller's own, so in a notebook or a GUI session ``plt.show()`` stopped showing plots after
    the first ``evaluate(plots_dir=...)``; a bare Figure draws to a file with no backend chosen, and nothing to
    close. A ``NotebookFigure``, so that the ones returned show in a notebook as pictures. ``ncols`` > 1: an array
    of that many axes side by side."""
    try:
        from .shownfigure import NotebookFigure
    except ImportError as e:
        from .exceptions import MissingDependencyError

        raise MissingDependencyError(f"Plots for {model!r} need matplotlib: pip install 'ad_duckdb[plots]' ({e}).") from e
    fig = NotebookFigure(figsize=figsize)
    return fig, fig.subplots(1, ncols)


def _of(model: str, source: str | None, rows: int, weights: np.ndarray | None = None) -> str:
    """``model on source (N rows)`` for a title (``weights``: and what they stand for). Why the rows: evaluate's
    plots of one model keep their file names from run to run (a test split's replace a training split's), so the
    picture must say what it shows."""
    stood = "" if weights is None else f", weighted {count_text(float(np.sum(weights)))}"
    return f"{model} on {source} ({rows} {'row' if rows == 1 else 'rows'}{stood})" if source else model


def _title(text: str, width_in: float) -> str:
    """``text`` wrapped to lines that fit a figure ``width_in`` inches wide at the title's size. Why: model and
    threshold names run to 128 characters; in one line they ran off both edges of the figure."""
    shown = drawable(text)
    return "\n".join(textwrap.wrap(shown, int(width_in * 9), break_on_hyphens=False)) or shown


def _short(name: str, n: int = 40) -> str:
    """``name`` cut to ``n`` characters for a legend or a label beside a line, whose width tight_layout otherwise
    takes from the axes (a 128-character model name left a sliver of plot); titles carry names whole."""
    return cut(drawable(name), n)


def _file_stem(model: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in model)


def _log_axis(s: np.ndarray, thresholds: dict[str, float] | None = None) -> bool:
    """Scores on a log10 axis: when all are positive and span over two orders of magnitude (heavy tails), when the
    middle half of them fills under `_SQUEEZED` of a linear axis and at least twice that share of a log one, or when
    the threshold lines crowd on a linear axis and a log one draws them at least twice as far apart. Why the
    thresholds: scores of 0.6-46 with p90 1.19, p95 1.33 and p99 1.69 got a linear axis, their lines a pixel or two
    apart at its left edge (one hidden under another) and the rows below them one bar."""
    pos = s[s > 0]
    if not (pos.size == s.size and s.size > 0):
        return False
    if pos.max() / max(pos.min(), 1e-300) > 100:
        return True
    logs = np.log10(s)
    if _bulk_share(logs, np.log10(list(_on_axis(logs, thresholds, True).values()))) > 2 * (
            flat := _bulk_share(s, list(_on_axis(s, thresholds, False).values()))) and flat < _SQUEEZED:
        return True
    linear = _least_gap(s, _on_axis(s, thresholds, False).values())
    return linear < _CROWDED and _least_gap(logs, np.log10(list(_on_axis(logs, thresholds, True).values()))) > 2 * linear


# The middle half of the scores within this share of a linear axis are a bar or three of its sixty: the shape of the
# bulk is lost (ADBench cardio's test half: scores 1.1-66, the middle half 1.9-3.2, every normal row in two bars)
_SQUEEZED = 0.05


def _bulk_share(vals: np.ndarray, marks: Any) -> float:
    """The share of the axis (the values and the threshold lines ``marks`` drawn) the middle half of ``vals`` spans."""
    span = np.r_[vals, np.asarray(list(marks), dtype=np.float64)]
    width = float(span.max() - span.min()) if span.size else 0.0
    q1, q3 = np.quantile(vals, [0.25, 0.75])
    return float(q3 - q1) / width if width > 0 else 1.0


# Threshold lines closer than this share of the score axis (about 13 pixels of the 7-inch histogram's axes at the
# plots' 110 dpi) crowd: their dashes merge into one line
_CROWDED = 0.02


def _least_gap(vals: np.ndarray, marks: Any) -> float:
    """The smallest distance between two threshold lines ``marks`` as a share of the axis the values and they
    span; infinite with fewer than two lines."""
    m = np.unique(np.asarray(list(marks), dtype=np.float64))
    span = np.r_[vals, m]
    width = float(span.max() - span.min()) if span.size else 0.0
    return float(np.diff(m).min()) / width if m.size > 1 and width > 0 else float("inf")


def _on_axis(vals: np.ndarray, thresholds: dict[str, float] | None, use_log: bool) -> dict[str, float]:
    """The thresholds drawn as lines: those within twice the drawn values' width of them (so that the rows keep a
    fifth of the axis; for rows of one score, within that score's size of it, or a decade on a log axis). Why not
    all: a manual cut of 1000 beside scores of 1-44 stretched the axis
    to 1000 and pressed every bar into its left twentieth; farther ones are named at the axis' edge instead, as
    are thresholds of 0 or below on a log axis, where they have no place."""
    shown = {k: t for k, t in (thresholds or {}).items() if not (use_log and t <= 0)}
    if not vals.size:
        return shown
    lo, hi = float(vals.min()), float(vals.max())
    reach = 2 * (hi - lo) if hi > lo else 1.0 if use_log else max(abs(hi), 1.0)
    return {k: t for k, t in shown.items() if lo - reach <= (np.log10(t) if use_log else t) <= hi + reach}


def _bins(vals: np.ndarray, thresholds: dict[str, float] | None, use_log: bool, n: int) -> np.ndarray:
    """``n`` histogram bins over the drawn values and the threshold lines. Why the lines too: they widen the axis,
    where bins of the data's range alone were too narrow to see (rows of one score: bins a sixtieth of a unit wide
    on an axis of 36), and the axis must reach them before their labels choose a side."""
    marks = [np.log10(t) if use_log else t for t in (thresholds or {}).values() if not (use_log and t <= 0)]
    span = np.r_[vals, marks]
    return np.histogram_bin_edges(vals, bins=n, range=(span.min(), span.max()) if span.size else None)


# Threshold colours: the default cycle without C0 and C1 (the bars and the curve: normal blue, anomaly orange) and
# C7 (the grey of the 'random' baseline), so a line never reads as part of the data; the same threshold order gives
# a threshold one colour in every plot.
_THRESHOLD_COLOURS = ("C2", "C3", "C4", "C5", "C6", "C8", "C9")


def _colour(i: int) -> str:
    return _THRESHOLD_COLOURS[i % len(_THRESHOLD_COLOURS)]


# Past the 7 colours, the next round of thresholds gets another dash. Why: the 8th threshold took the 1st one's
# colour with the same marker and line, and a model's 5 training thresholds and a few chosen on labels made pairs
# the legend could not tell apart.
_DASHES = ("--", ":", "-.", (0, (6, 2, 1, 2, 1, 2)))
# The precision-recall points' markers, one per threshold in turn (5, prime to the 7 colours: no two of 35 thresholds
# share both). Why in turn, not a round of 7 each: neighbouring points (p90 and p95, a few rows apart on the curve)
# differed by colour alone, which a colour-blind reader or a grey print cannot tell, and the 8th point was the 1st
# one's colour with only the marker of the next round to tell it by.
_MARKERS = ("o", "s", "^", "D", "P")


def _marker(i: int) -> str:
    return _MARKERS[i % len(_MARKERS)]


def _dash(i: int) -> Any:
    """The line style of the ``i``-th threshold (by value) in every plot."""
    return _DASHES[i // len(_THRESHOLD_COLOURS) % len(_DASHES)]


def _fmt_score(t: float) -> str:
    """A threshold as `ad-duckdb threshold --method manual --value` would take it back (4 significant digits)."""
    return f"{t:.4g}"


def _threshold_groups(thresholds: dict[str, float] | None) -> list[tuple[str, float]]:
    """Thresholds by value, lowest first; names of one value joined ('default = p99'), as they mark one spot."""
    groups: dict[float, list[str]] = {}
    for name, t in sorted((thresholds or {}).items(), key=lambda kv: (kv[1], kv[0])):
        groups.setdefault(float(t), []).append(name)
    return [(" = ".join(names), t) for t, names in groups.items()]


# The figure's width the axes do not get (tick labels, axis label): to cut a name to the room beside its line
# before anything is drawn
_NOT_AXES_IN = 1.15


def _text_pt(text: str, size: float) -> float:
    """The width of ``text`` in points, drawn at ``size`` points in the default font (no figure drawn). Why measured:
    an average letter's width made 'default = p99' too long for the half of the axes right of a line mid-axis,
    where the whole label fitted with room to spare, and it read 'default = … > 14.03'."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    return float(TextToPath().get_text_width_height_descent(text, FontProperties(size=size), ismath=False)[0])


def _fitted(names: str, text: str, room_pt: float, size: float) -> str:
    """``names`` and then ``text``, the names cut (to no fewer than 8 characters, nor more than 40) to fit
    ``room_pt`` points."""
    names = drawable(names)  # cut as drawn: a name's escapes are longer than it
    n = min(40, len(names))
    while n > 8 and _text_pt(_short(names, n) + text, size) > room_pt:
        n -= 1
    return _short(names, n) + text


# Threshold labels beside their lines at most: past two dozen, at the 6.5 points they need, they printed into each
# other and over every bar
MAX_THRESHOLD_LABELS = 24


def _labelled(groups: list[tuple[str, float]]) -> set[int]:
    """The threshold groups labelled beside their lines: all up to ``MAX_THRESHOLD_LABELS``; past that, the one
    holding ``default`` (what scoring flags by) and the others spread evenly over the values, lowest and highest
    included, so that the labels still read the scale of the thresholds."""
    n = len(groups)
    if n <= MAX_THRESHOLD_LABELS:
        return set(range(n))
    keep = {i for i, (names, _) in enumerate(groups) if "default" in names.split(" = ")}
    keep |= {int(i) for i in np.round(np.linspace(0, n - 1, MAX_THRESHOLD_LABELS - len(keep)))}
    keep |= set(sorted(set(range(n)) - keep)[: MAX_THRESHOLD_LABELS - len(keep)])  # rounding can repeat an index
    return keep


def _mark_thresholds(ax: Any, thresholds: dict[str, float] | None, use_log: bool, scores: np.ndarray | None,
                     on_axis: dict[str, float], weights: np.ndarray | None = None,
                     beside: list[tuple[Any, tuple[Any, str]]] | None = None) -> list[tuple[Any, str]]:
    """A dashed line per threshold value of ``on_axis``, labelled with its name(s), its value and (given ``scores``)
    how many of them it flags (``weights``: the rows those flagged stand for); the others only labelled, at the
    axis' edge on their side, with an arrow. Labels step down from the top, one line each, so that close thresholds
    stay readable; right of the middle they sit left of their line, so that they stay inside the plot. Past
    ``MAX_THRESHOLD_LABELS``, those `_labelled` leaves out are returned as (handle, text) for a legend instead, as are
    those whose names the label had to cut (given whole). ``beside``: receives each threshold's label (None for
    one listed only) with its legend entry, by value, for `_laid_out_below_labels` to list a label instead where it
    finds no room above the bars."""
    from matplotlib.lines import Line2D

    lo, hi = ax.get_xlim()
    drawn = set(on_axis.values())
    axes_pt = (ax.figure.get_figwidth() - _NOT_AXES_IN) * 72
    groups = _threshold_groups(thresholds)
    labelled = _labelled(groups)
    # a row each down the axes, closer and smaller past twelve. Why not again from the top after twelve: the
    # 13th label printed over the 1st
    step = min(0.075, 0.9 / max(len(labelled), 1))
    size = 8 if len(labelled) <= 16 else 6.5
    listed: list[tuple[Any, str]] = []
    row = 0
    for i, (names, t) in enumerate(groups):
        text = f" > {_fmt_score(t)}"
        if scores is not None:
            n: float
            total: float
            if weights is None:
                n, total = int((scores > t).sum()), max(scores.size, 1)
            else:
                n, total = float(weights[scores > t].sum()), float(weights.sum())
            text += f": {count_text(n)} {'row' if n == 1 else 'rows'} ({share_text(n / total)})"
        colour = _colour(i)
        if t in drawn:
            tv = float(np.log10(t)) if use_log else t
            ax.axvline(tv, color=colour, ls=_dash(i), lw=1)
            at = (tv - lo) / (hi - lo) if hi > lo else 0.5
            right = at > 0.55
            room = at if right else 1 - at
        else:  # off the axis: at its edge, the arrow pointing where the threshold lies
            right = not (use_log and t <= 0) and (np.log10(t) if use_log else t) > hi
            tv = hi if right else lo
            room = 1.0
        where = "" if t in drawn else " (right of the axis)" if right else " (left of the axis)"
        whole = (Line2D([], [], color=colour, ls=_dash(i), lw=1), wrapped(f"{names}{text}{where}", _LISTED_CHARS))
        if i not in labelled:
            listed.append(whole)
            if beside is not None:
                beside.append((None, whole))
            continue
        # the name cut to what its side of the line holds beside the value and the count. Why: a 40-character name
        # with its count ran past the axes' edge, and tight_layout moved the axes (and the title above them) aside
        # (less the label's offset from its line and its box' padding)
        fitted = _fitted(names, text, room * axes_pt - 6, size)
        if not fitted.startswith(drawable(names) + " > "):
            # whole in the legend too: names alike for their first 40 characters were cut to the same label
            listed.append(whole)
        text = fitted
        if t not in drawn:
            text = text + " →" if right else "← " + text
        # in its line's colour: a label left of its line crosses the lines of lower thresholds
        label = ax.annotate(text, (tv, 0.95 - step * row), xycoords=ax.get_xaxis_transform(), fontsize=size,
                            color=colour, textcoords="offset points", xytext=(-3 if right else 3, 0),
                            ha="right" if right else "left", va="top",
                            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
        if beside is not None:
            beside.append((label, whole))
        row += 1
    return listed


# Characters on a line of a listed threshold's legend entry: two columns of 7-point text fit the 6-inch histogram
_LISTED_CHARS = 42


def _list_thresholds(ax: Any, entries: list[tuple[Any, str]], drop: float) -> None:
    """A legend below the axes (``drop``: its top, in axes heights below them) of the data's entries and the
    thresholds `_mark_thresholds` listed, two columns; the figure taller by its rows."""
    if not entries:
        return
    styles = [(str(ln.get_color()), str(ln.get_linestyle())) for ln in ax.lines]
    if len(set(styles)) < len(styles):
        from matplotlib.lines import Line2D

        # Why: past 28 thresholds (7 colours, 4 dashes) a listed threshold's colour and dash are another line's too
        entries = [*entries, (Line2D([], [], ls="none"), wrapped(
            f"line styles repeat past {len(_THRESHOLD_COLOURS) * len(_DASHES)} thresholds: tell a listed one's line "
            "by its value on the score axis", _LISTED_CHARS))]
    ax.legend([h for h, _ in entries], [x for _, x in entries], fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, drop), ncol=2)
    ax.figure.set_figheight(ax.figure.get_figheight() + _LEGEND_ROW_IN * _legend_rows(entries))


# The height a row of the two-column legend below a histogram adds to the figure, in inches
_LEGEND_ROW_IN = 0.15


def _legend_rows(entries: list[tuple[Any, str]]) -> int:
    """The text lines of the two-column legend of ``entries``."""
    return sum(max(x.count("\n") + 1 for _, x in entries[k:k + 2]) for k in range(0, len(entries), 2))


def _score_axis(ax: Any, use_log: bool) -> None:
    """Label the score axis in scores, also when it is drawn in log10: ticks at 1, 2, 5, 10, ... read as the value
    to give `ad-duckdb threshold --method manual --value`, where log10 ticks (0.5, 1.0) would need converting."""
    if not use_log:
        ax.set_xlabel("anomaly score")
        return
    lo, hi = ax.get_xlim()
    ticks = log_ticks(lo, hi)
    ax.set_xticks(np.log10(ticks), [f"{t:g}" for t in ticks])
    ax.set_xlim(lo, hi)
    ax.set_xlabel("anomaly score (log scale)")


def log_ticks(lo: float, hi: float) -> list[float]:
    """Scores to tick a log axis from 10**lo to 10**hi at: 1 to 9 of each decade, or 1, 2, 5, or 1, 3, or 1,
    whichever gives at most ten ticks (past that, every n-th). Why 1 to 9 first: an axis of under a decade (scores of
    1.5-9, drawn in log for thresholds crowded at its low end) had two ticks at 1, 2, 5."""
    decades = range(int(np.floor(lo)), int(np.ceil(hi)) + 1)
    for mantissas in (tuple(range(1, 10)), (1, 2, 5), (1, 3), (1,)):
        ticks = [m * 10.0**k for k in decades for m in mantissas if lo <= np.log10(m * 10.0**k) <= hi]
        if len(ticks) <= 10:
            return ticks
    return ticks[:: -(-len(ticks) // 10)]


def _count_axis(ax: Any) -> None:
    """A log axis of row counts in plain numbers (1, 10, 1,000; 1, 2, 3 within one decade), from 0.5 up, with no
    tick under 1; a linear one (`FEW_ROWS`) from 0, ticked at whole rows up to its tallest bar.

    Why: matplotlib labelled a dozen rows' axis "2 x 10^0" and 120,000 rows' "10^5", and started the axis at 1,
    so a bar of one row, which rises from the bottom edge to 1, had next to no height."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

    plain = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 and float(v).is_integer() else "")
    if ax.get_yscale() != "log":
        tallest = int(max((p.get_height() for p in ax.patches), default=1))
        step = max(1, -(-tallest // 5))
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(FixedLocator(list(range(0, tallest + 1, step))))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # 0 too: the axis starts there
        return
    ax.set_ylim(bottom=0.5)
    # the minor ticks from 1 up: those at 0.6-0.9 read as parts of a row
    ax.yaxis.set_minor_locator(LogLocator(subs=tuple(range(2, 10))))
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain if ax.get_ylim()[1] < 20 else NullFormatter())


def plot_scores(scores: np.ndarray, out_dir: str | Path, model: str, thresholds: dict[str, float],
                source: str) -> str:
    """Write ``<model>_scores.png`` (``name@2``: ``name_v2_scores.png``): a histogram of ``scores`` (rows counted
    on a log axis, so the few highest stay visible), each stored threshold drawn with how many of these rows it
    flags. For choosing a threshold without labels: a gap or a change of slope in the tail is where to cut.
    Returns the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = scores_figure(scores, model, thresholds, source)
    p = write_whole(out / f"{_file_stem(model.replace('@', '_v'))}_scores.png",
                    lambda t: fig.savefig(t, dpi=110, format="png"))
    return str(p)


def _no_rows_axis(ax: Any, thresholds: dict[str, float]) -> None:
    """Axes of no rows: the score axis spanning the thresholds, and saying why it is empty. Why the span first: the
    labels choose their side of each line by where it falls on the axis, and on matplotlib's empty 0-1 axis every
    line fell right of the middle, so labels set left of lines near the left edge ran out over the tick labels."""
    ax.text(0.5, 0.5, "no rows to draw", transform=ax.transAxes, ha="center", va="center", color="grey")
    values = [float(t) for t in thresholds.values() if np.isfinite(t)]
    if values:
        lo, hi = min(values), max(values)
        pad = 0.05 * (hi - lo) if hi > lo else 0.5 * max(abs(hi), 1.0)
        ax.set_xlim(lo - pad, hi + pad)


def scores_figure(scores: np.ndarray, model: str, thresholds: dict[str, float], source: str) -> Any:
    """The figure `plot_scores` writes (a matplotlib Figure, not registered with pyplot: nothing to close)."""
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    use_log = _log_axis(s, thresholds)
    vals = np.log10(s) if use_log else s
    fig, ax = _subplots(model, (7, 4.5))
    tallest = 0.0
    if vals.size:
        counts, _, _ = ax.hist(vals, bins=_bins(vals, _on_axis(vals, thresholds, use_log), use_log, 80),
                               color="tab:blue", alpha=0.8)
        tallest = float(np.max(counts))
        if tallest > FEW_ROWS:  # not without rows: matplotlib warns that it has nothing to scale
            ax.set_yscale("log")
        _count_axis(ax)
    else:
        _no_rows_axis(ax, thresholds)
    beside: list[tuple[Any, tuple[Any, str]]] = []
    listed = _mark_thresholds(ax, thresholds, use_log, s, _on_axis(vals, thresholds, use_log), beside=beside)
    _score_axis(ax, use_log)
    _list_thresholds(ax, listed, -0.13)
    rows = f"{s.size} {'row' if s.size == 1 else 'rows'}"
    ax.set(ylabel="rows (log scale)" if tallest > FEW_ROWS else "rows",
           title=_title(f"Scores of {source} by {model} ({rows})", 7))
    _laid_out_below_labels(fig, ax, rows=int(vals.size) or None, beside=beside, legend=_Legend(ax, [], beside, listed))
    return fig


# A histogram whose tallest bar holds at most this many rows counts them on a plain axis from 0. Why: one row drew a
# log axis from 0.5 to 12, ticked 1 to 10 (as if the bar could hold ten rows) with unlabelled ticks at 0.6-0.9
FEW_ROWS = 10
