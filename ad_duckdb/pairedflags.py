"""compare --label at each threshold: whether the two versions' flags differ by more than chance, by the exact
McNemar test on the rows only one of them flags, apart for the anomalies (caught by one, missed by the other: recall)
and the normal rows (a false alarm of one alone: the false-alarm rate, and so precision).

Why paired: both versions judge the same rows, and most rows they flag alike; two precisions' own intervals overlap
where one version is surely better, as the AUC-ROC intervals of two evaluations did. Only the rows they disagree on
tell them apart, and of those, under "equally good", each is as likely to be either version's.

With weights (``compare --weight``), the rows each version alone flags may have been sampled at different rates
(an audit: the production version's alerts all reviewed, the rest 1 in 50): the test is then the exact conditional
binomial test of the sampled counts with the chance each of the two cells has of being drawn, its rows' count over
the rows they stand for (1 / weight). Under "equally good" the two cells stand for equally many rows, so of the rows
drawn from them a share r_b / (r_a + r_b) is expected in b's; equal rates give McNemar's 0.5. A cell with no row
sampled takes the lowest rate of the rows near it (``_rate``), so the test leans to "could be chance" where its rate
is not known. Measured in bench/compare_audit_flags.py (bench/results/compare_audit_flags_2026-12-05.md).

With ``sampled='normal'`` (every anomaly kept, at one weight; the normal rows sampled by their own strata, whatever
the score) the anomalies' two cells were drawn at one known rate, so their test is McNemar's 0.5 even where one cell
is empty: read as an audit's, an empty cell took the lowest rate near it, a normal row's, and 7 anomalies that only
one version caught (none the other) were called chance (p = 1 against 0.016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .numbertext import count_text
from .sampled import NORMAL as SAMPLED_NORMAL


@dataclass
class FlagTest:
    """The rows of one class (``anomalies`` or ``normal rows``) only one version flags at a threshold: sampled
    (``only_a``, ``only_b``) and, with weights, what they stand for (``only_a_weighted``, ``only_b_weighted``);
    ``expected_b_share``: the share of the rows only one flags expected to be b's if the two were equally good
    (0.5 without weights); ``p_value``: the exact two-sided test's."""

    rows: str
    only_a: int
    only_b: int
    expected_b_share: float
    p_value: float
    only_a_weighted: float | None = None
    only_b_weighted: float | None = None


def binomial_two_sided(k: int, n: int, p: float) -> float:
    """The exact two-sided p-value of ``k`` successes in ``n`` trials of chance ``p``: the probability of every
    outcome no more likely than ``k`` (as R's binom.test); 1 for no trial."""
    if n == 0:
        return 1.0
    if p <= 0.0 or p >= 1.0:
        return 1.0 if k == (0 if p <= 0.0 else n) else 0.0
    # each outcome's log-probability from the one before: log C(n, k + 1) / C(n, k) = log((n - k) / (k + 1))
    ks = np.arange(n, dtype=np.float64)
    steps = np.log((n - ks) / (ks + 1)) + math.log(p) - math.log1p(-p)
    logs = n * math.log1p(-p) + np.r_[0.0, np.cumsum(steps)]
    # relative slack, as R's: outcomes as likely as k up to rounding count with it
    p_k = logs[k]
    total = float(np.exp(logs[logs <= p_k + 1e-7]).sum())
    return min(1.0, total)


def test(fa: np.ndarray, fb: np.ndarray, w: np.ndarray | None, of_class: np.ndarray, rows: str,
         sampled: str | None = None) -> FlagTest:
    """The exact test of the rows of one class (``of_class``, a mask of the rows; ``rows`` names it) that only one
    version flags (``fa``, ``fb``: each version's flags of every row; ``w``: their weights, None unweighted;
    ``sampled``: compare's, None or ``'rows'`` for a sample that may have drawn by the score, as an audit)."""
    a_only, b_only = of_class & fa & ~fb, of_class & fb & ~fa
    n_a, n_b = int(a_only.sum()), int(b_only.sum())
    if w is None:
        return FlagTest(rows, n_a, n_b, 0.5, binomial_two_sided(n_b, n_a + n_b, 0.5))
    w_a, w_b = float(w[a_only].sum()), float(w[b_only].sum())
    if sampled == SAMPLED_NORMAL and rows == ANOMALIES:
        return FlagTest(rows, n_a, n_b, 0.5, binomial_two_sided(n_b, n_a + n_b, 0.5), w_a, w_b)
    r_a = _rate(a_only, w, [fa & ~fb, of_class & fa, of_class & ~fb, fa, ~fb])
    r_b = _rate(b_only, w, [fb & ~fa, of_class & ~fa, of_class & fb, ~fa, fb])
    # equal rates within rounding (a uniform sample of weight 3.3: sums differing in their last bits) are McNemar's
    # 0.5, not 0.4999999999999999 said as rates that differ
    share = r_b / (r_a + r_b) if r_a + r_b > 0 and not math.isclose(r_a, r_b, rel_tol=1e-9) else 0.5
    return FlagTest(rows, n_a, n_b, share, binomial_two_sided(n_b, n_a + n_b, share), w_a, w_b)


def _rate(cell: np.ndarray, w: np.ndarray, near: list[np.ndarray]) -> float:
    """The chance a row of ``cell`` had of being sampled: its rows' count over their weight; for a cell without
    rows, the lowest of the rates of the rows ``near`` it (the other class's rows of the same flags, its class's
    rows on the same side of either cut, any row there), so that the test leans to "could be chance".

    Why the other class's rows too: an audit samples by score, not by label, and where no anomaly below the alerts
    was drawn, the anomalies b alone flags were read at the alerts' rate (1), and equally good versions were called
    different in 25-48% of simulated audits of 100 anomalies sampled 1 in 50."""
    if cell.any():
        return float(cell.sum()) / float(w[cell].sum())
    rates = [float(k.sum()) / float(w[k].sum()) for k in near if k.any()]
    return min(rates) if rates else 1.0


def verdict(t: FlagTest, a: str, b: str) -> str:
    """One plain sentence of a test: who flags what alone, the p-value, and whether the difference is real."""
    anomalies = t.rows == ANOMALIES
    doing = "catches" if anomalies else "flags"
    what = "anomalies" if anomalies else "normal rows (false alarms)"

    def n(k: int, kw: float | None) -> str:
        return str(k) if kw is None else f"{k} (standing for {count_text(round(kw, 9))})"

    head = (f"of the {what}, {b} alone {doing} {n(t.only_b, t.only_b_weighted)} and {a} alone "
            f"{n(t.only_a, t.only_a_weighted)}")
    if t.only_a + t.only_b == 0:
        return f"{head}: they {'catch' if anomalies else 'flag'} the same ones"
    expected = "" if t.expected_b_share == 0.5 else f", {t.expected_b_share:.3g} of them expected {b}'s if alike"
    test = f"exact McNemar p = {t.p_value:.3g}{expected}"
    if t.p_value >= 0.05:
        return f"{head} ({test}): could be chance, neither shown better"
    more_b = (t.only_b_weighted if t.only_b_weighted is not None else t.only_b) > \
        (t.only_a_weighted if t.only_a_weighted is not None else t.only_a)
    if anomalies:
        better = b if more_b else a
        claim = f"{better} catches more anomalies"
    else:
        better = a if more_b else b
        claim = f"{better} raises fewer false alarms"
    return f"{head} ({test}): {claim}, unlikely to be chance"


ANOMALIES, NORMAL = "anomalies", "normal rows"
