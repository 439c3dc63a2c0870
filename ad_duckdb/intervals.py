"""95% intervals of labelled figures beyond Wilson's (``thresholds.wilson``): of an AUC-ROC, and of a threshold's
precision at a stated share of anomalies. Their coverage is measured in bench/interval_coverage.py."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import leancurve
from .confidence import regularized_beta
from .thresholds import Z95, wilson

AUC_METHOD = "DeLong (logit, t) joined with Newcombe's score interval"
AUC_METHOD_BAND = (f"{AUC_METHOD}, and with the band of recall's intervals from its caught and missed anomalies "
                   "(sample weights that differ across the score)")
AUC_METHOD_COUNTS = "Newcombe's score interval (from the AUC and the counts alone)"
SHARE_METHOD = "from the Wilson intervals of recall and false-alarm rate, conditional on the threshold"


@dataclass(frozen=True)
class AUCInterval:
    """A 95% interval of an AUC-ROC and how it was made (``method``, as ``evaluate --format json`` names it)."""

    low: float
    high: float
    method: str


def auc_roc(c: dict[str, np.ndarray], n_pos: float, n_neg: float, auc: float, z: float = Z95,
            eff: tuple[float, float] | None = None, band: bool = True) -> AUCInterval:
    """The 95% interval of ``auc``, the AUC-ROC of the rows ``thresholds.curve`` ``c`` was computed on: the hull of
    DeLong's (logit scale, Student t with Welch-Satterthwaite degrees of freedom) and Newcombe's score interval.

    Why both: each fails where the other holds (bench/results/interval_coverage_2026-12-04.md, 2,000 draws a case).
    DeLong's variance comes from the rows themselves, so it holds when the anomalies are a mix of found and missed,
    where Newcombe's (Hanley and McNeil's variance, which assumes a shape of the two score distributions) covered
    81-86% with many normal rows; but from 5 or 20 anomalies that variance is itself a guess, and at an AUC of 0.95
    DeLong's covered 84-91%, Newcombe's 96-98%. The hull covered 90-99.7% (95% or more in every binormal case and
    from 100 anomalies on; 90-93% with 5-20 anomalies of which some are missed). Why not Hanley and McNeil's own
    interval, as before: it covered up to 99.6% with many more normal rows than anomalies and 38-93% on a mix of
    found and missed anomalies. Why from the curve: evaluate sorts its rows once.

    ``eff``: of a ``weights.curve`` (``n_pos``, ``n_neg``: the classes' weights), Kish's effective sizes of the
    anomalies and the normal rows, which then stand for the counts (the placements' variances are weighted); joined
    too with ``weights.auc_band`` where the anomalies' weights differ across the score (an audit sample), which
    DeLong's and Newcombe's, from the anomalies drawn, leave out (``AUC_METHOD_BAND``). ``band=False``: not joined,
    where the caller said every anomaly was kept (``sampled.NORMAL``)."""
    score = newcombe(auc, *(eff or (n_pos, n_neg)), z)
    lo, hi = delong_logit(c, n_pos, n_neg, auc, z, eff)
    if not np.isfinite(lo):  # an AUC of 0 or 1, or no spread: the score interval alone
        lo, hi = score.low, score.high
    lo, hi, method = min(lo, score.low), max(hi, score.high), AUC_METHOD
    if band and eff is not None and "tp_w2" in c and z == Z95:
        from . import weights  # not at the top: weights is the module of the labelled rows' weights

        ends = weights.auc_band(c, weights.AUC_BAND_Z)
        if ends is not None:
            lo, hi, method = min(lo, ends[0]), max(hi, ends[1]), AUC_METHOD_BAND
    return AUCInterval(lo, hi, method)


def delong_logit(c: dict[str, np.ndarray], n_pos: float, n_neg: float, auc: float,
                 z: float = Z95, eff: tuple[float, float] | None = None) -> tuple[float, float]:
    """DeLong's interval of ``auc`` on the logit scale with a Student t of Welch-Satterthwaite degrees of freedom;
    NaN where the logit is infinite (an AUC of 0 or 1) or the variance 0.

    Why t: with few anomalies the variance of their placements is an estimate of a handful of values, as a mean's
    is; why logit: an AUC near 1 has a skewed sampling distribution, and the interval stays inside (0, 1)."""
    e_pos, e_neg = eff or (n_pos, n_neg)
    if not 0.0 < auc < 1.0 or e_pos < 2 or e_neg < 2:
        return float("nan"), float("nan")
    tp, fp = c["tp"], c["flagged"] - c["tp"]
    d_tp, d_fp = leancurve.diff0(tp), leancurve.diff0(fp)
    # each run of equal scores: its anomalies' share of normal rows below them (ties half), its normal rows' share
    # of anomalies above them (ties half): DeLong's placement values, weighted by how many rows hold each. Why one
    # side at a time, written over the arrays no longer read: each array holds a value per distinct score, 80 MB at
    # 10 million rows (evaluate's peak)
    v_pos = np.subtract(n_neg, fp, out=fp)
    v_pos += d_fp / 2.0
    v_pos /= n_neg
    a = _weighted_var(v_pos, d_tp, n_pos) / n_pos if eff is None else _spread(v_pos, d_tp, n_pos) / (e_pos - 1)
    del fp
    d_tp /= 2.0
    v_neg = np.subtract(tp, d_tp, out=v_pos)
    v_neg /= n_pos
    del d_tp
    # weighted rows (eff): the placements' weighted variance, its certainty that of e_pos and e_neg rows
    b = _weighted_var(v_neg, d_fp, n_neg) / n_neg if eff is None else _spread(v_neg, d_fp, n_neg) / (e_neg - 1)
    var = a + b
    if not var > 0.0:
        return float("nan"), float("nan")
    df = var * var / (a * a / (e_pos - 1) + b * b / (e_neg - 1))
    half = t_quantile(z, df) * math.sqrt(var) / (auc * (1.0 - auc))
    logit = math.log(auc / (1.0 - auc))
    return _expit(logit - half), _expit(logit + half)


def _weighted_var(v: np.ndarray, w: np.ndarray, n: float) -> float:
    """The sample variance (n - 1) of ``n`` values, ``w[i]`` of them equal to ``v[i]``."""
    return _squares(v, w, n) / (n - 1)


def _squares(v: np.ndarray, w: np.ndarray, total: float) -> float:
    """The weighted sum of squared deviations from the weighted mean: w * (v - mean) ** 2, summed, with one array
    of ``v``'s size at a time (the same numbers)."""
    mean = float(np.sum(w * v)) / total
    d = v - mean
    np.square(d, out=d)
    d *= w
    return float(np.sum(d))


def _spread(v: np.ndarray, w: np.ndarray, total: float) -> float:
    """The variance of values ``v`` of weights ``w`` (summing to ``total``), each counted as its weight."""
    return _squares(v, w, total) / total


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


def newcombe(auc: float, n_pos: float, n_neg: float, z: float = Z95) -> AUCInterval:
    """Newcombe's score interval of an AUC-ROC (2006, method 5): the AUCs ``t`` whose Hanley-McNeil variance, with
    N* = (n_pos + n_neg) / 2 - 1 rows of each class, puts ``auc`` within z standard errors of ``t``. Unlike a Wald
    interval it does not shrink to a point at an AUC of 1 (5 anomalies all ranked first); it needs only the figure
    and the counts, for a report made without its rows."""
    if not np.isfinite(auc) or n_pos < 1 or n_neg < 1:
        return AUCInterval(float("nan"), float("nan"), AUC_METHOD_COUNTS)
    k = max((n_pos + n_neg) / 2.0 - 2.0, 0.0)  # N* - 1

    def outside(t: float) -> bool:
        var = t * (1 - t) / (n_pos * n_neg) * (1 + k * (1 - t) / (2 - t) + k * t / (1 + t))
        return (auc - t) ** 2 > z * z * max(var, 0.0)

    return AUCInterval(_edge(outside, 0.0, auc), _edge(outside, 1.0, auc), AUC_METHOD_COUNTS)


def _edge(outside: Callable[[float], bool], end: float, inside: float) -> float:
    """Where ``outside`` turns true between ``inside`` (false there) and ``end``; ``end`` if it never does."""
    if not outside(end):
        return end
    a, b = inside, end  # a inside, b outside
    for _ in range(60):
        m = (a + b) / 2.0
        if outside(m):
            b = m
        else:
            a = m
    return a


def t_quantile(z: float, df: float) -> float:
    """The Student t quantile at the normal quantile ``z``'s probability, ``df`` degrees of freedom (Cornish-Fisher
    to 1/df^4, Abramowitz & Stegun 26.7.5: within 0.1% from 3 degrees; exact at 1 and 2, and between them and 3
    interpolated in 1/df). Why not scipy: not a dependency."""
    if not np.isfinite(df) or df > 1e7:
        return z
    df = max(df, 1.0)
    if df >= 3.0:
        return _cornish_fisher(z, df)
    p = 0.5 * math.erfc(-z / math.sqrt(2.0))
    exact = {1.0: math.tan(math.pi * (p - 0.5)), 2.0: (2 * p - 1) / math.sqrt(2 * p * (1 - p)),
             3.0: _cornish_fisher(z, 3.0)}
    lo = 1.0 if df < 2.0 else 2.0
    hi = lo + 1.0
    w = (1 / lo - 1 / df) / (1 / lo - 1 / hi)
    return exact[lo] + w * (exact[hi] - exact[lo])


def t_two_sided(t: float, df: float) -> float:
    """The two-sided p-value of a Student t statistic ``t`` on ``df`` degrees of freedom: P(|T| >= |t|) =
    I_{df / (df + t^2)}(df / 2, 1 / 2); the normal's where ``df`` is past 1e7 or not finite (as ``t_quantile``)."""
    if not np.isfinite(df) or df > 1e7:
        return math.erfc(abs(t) / math.sqrt(2.0))
    df = max(df, 1.0)
    return float(regularized_beta(df / 2.0, 0.5, np.array([df / (df + t * t)]))[0])


def satterthwaite(a: float, b: float, df_a: float, df_b: float) -> float:
    """Welch-Satterthwaite's degrees of freedom of a variance ``a + b`` whose two parts are estimates on ``df_a`` and
    ``df_b`` degrees of freedom (inf where both parts are 0)."""
    den = (a * a / df_a if a else 0.0) + (b * b / df_b if b else 0.0)
    return (a + b) ** 2 / den if den > 0 else float("inf")


def _cornish_fisher(z: float, df: float) -> float:
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def precision_at_share(tp: float, fp: float, fn: float, tn: float, share: float,
                       z: float = Z95) -> tuple[float, float]:
    """The 95% interval of the precision a threshold would have where anomalies are ``share`` of the rows, from its
    recall tp / (tp + fn) and false-alarm rate fp / (fp + tn) on labelled rows: the precisions at the ends of their
    Wilson intervals (the lowest recall with the highest false-alarm rate, and the other way round). Conditional on
    the threshold: its value fixed, not chosen on these rows. NaN where the precision is undefined.

    Why not Wilson's of the labelled precision: that is the precision at these rows' own share; at another one the
    false-alarm rate, estimated from the normal rows alone, moves it most. Why not the adjusted logit interval of
    predictive values (Mercaldo, Lau & Zhou, 2007): on 20-100 normal rows it held the truth 70-90% of the time; these
    ends held it 96-99.7% from 20 normal rows on, 88% on 5 (bench/results/interval_coverage_2026-12-04.md): wider
    than need be, not too narrow."""
    if not (tp + fp) or not (fp + tn) or not (tp + fn) or not 0.0 < share < 1.0:
        return float("nan"), float("nan")
    r_lo, r_hi = wilson(tp, tp + fn, z)
    f_lo, f_hi = wilson(fp, fp + tn, z)
    return _precision(r_lo, f_hi, share), _precision(r_hi, f_lo, share)


def _precision(recall: float, false_alarms: float, share: float) -> float:
    caught, alarms = share * recall, (1.0 - share) * false_alarms
    return caught / (caught + alarms) if caught + alarms else 1.0  # nothing flagged, nothing wrong: its upper end

