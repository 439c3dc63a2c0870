"""compare --label's interval of the AUC-ROC difference on 10 labelled anomalies or fewer (with --weight, Kish's
effective anomalies): DeLong's paired interval joined with the MOVER interval built from each version's own DeLong
interval on the logit scale.

Why: DeLong's variance is that of the anomalies' placements, and 3-10 anomalies near the top of the scores (AUCs
near 1) spread less than the process does: where version b was better its interval held the true difference in
77-87% of simulated draws. Each version's logit interval (``intervals.delong_logit``; Newcombe's at an AUC of 0 or
1) is skewed away from 1 as an AUC near 1 is, and MOVER (Zou and Donner, 2008) joins two correlated intervals into
one of their difference, the correlation DeLong's. The hull keeps DeLong's where it is the wider, and the p-value is
the larger of the two, so it agrees with the interval. From 11 anomalies up DeLong's is left as it was.

Measured by `python bench/small_intervals.py delong` (bench/compare_delong.py's designs plain and ties, 2,000 draws a
case, seed 1): b better near 1 (d 2.3, delta 0.5), 3/5/10 anomalies: DeLong 0.775/0.815/0.856 (ties 0.804/0.823/
0.874), hull 0.915/0.916/0.929 (ties 0.919/0.923/0.932), 1.6-2.3 times as wide; equal versions called different in
0.4-3.2% of draws (DeLong 1.1-4.6%); power at d 1.0, delta 0.5: 1.7/4.9/20.0% (DeLong 4.9/7.4/23.5%). Tried: each
version's evaluate interval (the hull with Newcombe's): 98.5-100% covered, 2.4 times as wide at 3-5 anomalies.

Weighted (every anomaly kept, normal rows sampled 1 in 10 or 50: `python bench/small_intervals.py delong-weighted`,
1,000 draws a case, seed 1): DeLong's alone held a better version's gain in 77-85% of draws at 3-10 anomalies, the
hull of it and MOVER's from each version's weighted logit interval in 92-94%, 1.6-2.3 times as wide
(bench/results/compare_weighted_small_2026-12-05.md).
"""

from __future__ import annotations

import math

import numpy as np

from . import intervals
from .thresholds import Z95

# fewer than this many labelled anomalies: joined with MOVER's
FEW = 11

METHOD = ("DeLong's paired test joined with each version's AUC-ROC interval (MOVER, on 10 labelled anomalies or fewer, "
          "Kish's effective count when weighted: DeLong's alone is too narrow there)")


def mover(aucs: tuple[float, float], ivs: tuple[tuple[float, float], tuple[float, float]],
          r: float) -> tuple[float, float]:
    """The MOVER interval of ``aucs[1] - aucs[0]`` from each one's interval ``ivs`` and their correlation ``r``."""
    (a, b), ((la, ua), (lb, ub)) = aucs, ivs
    d = b - a
    low = d - math.sqrt(max(0.0, (b - lb) ** 2 + (ua - a) ** 2 - 2 * r * (b - lb) * (ua - a)))
    high = d + math.sqrt(max(0.0, (ub - b) ** 2 + (a - la) ** 2 - 2 * r * (ub - b) * (a - la)))
    return max(low, -1.0), min(high, 1.0)


def widen(aucs: tuple[float, float], low: float, high: float, p_value: float, cov: np.ndarray,
          curves: tuple[dict[str, np.ndarray], dict[str, np.ndarray]], sizes: tuple[float, float], z: float = Z95,
          eff: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """DeLong's ``low``, ``high`` and ``p_value`` of the difference ``aucs[1] - aucs[0]`` (covariance ``cov``), of
    the versions' ``curves`` (``thresholds.curve``; ``weights.curve`` of weighted rows) on rows of ``sizes``
    anomalies and normal rows (the weights' sums, with ``eff`` Kish's effective sizes, when weighted), joined with
    MOVER's: the hull of the two intervals, and the larger p-value (MOVER's read as a normal's from its half on 0's
    side), so the two agree."""
    counts = eff or sizes
    ivs = []
    for c, a in zip(curves, aucs, strict=True):
        lo, hi = intervals.delong_logit(c, sizes[0], sizes[1], a, z, eff)
        if not math.isfinite(lo):
            nc = intervals.newcombe(a, counts[0], counts[1], z)
            lo, hi = nc.low, nc.high
        ivs.append((lo, hi))
    r = float(cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])) if cov[0, 0] > 0 and cov[1, 1] > 0 else 0.0
    m_low, m_high = mover(aucs, (ivs[0], ivs[1]), max(-1.0, min(1.0, r)))
    d = aucs[1] - aucs[0]
    half = (d - m_low) if d > 0 else (m_high - d)
    p = 1.0 if d == 0 or half <= 0 else math.erfc(abs(d) / (half / z) / math.sqrt(2))
    return min(low, m_low), max(high, m_high), max(p_value, p)
