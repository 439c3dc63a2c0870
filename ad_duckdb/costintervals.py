"""95% intervals of what a cut's errors cost per row (``evaluate``'s cost table): 0 false alarms among 32 normal
rows printed "0 per row", as if no later row could be a false alarm.

A cost per row is miss_cost x a x (missed / anomalies) + alarm_cost x (1 - a) x (false alarms / normal rows), where a
is the anomaly share it is counted at (the labelled rows' own, or ``anomaly_share``). Its interval here takes each
rate at the ends of its Wilson interval (the intervals evaluate gives recall and the false-alarm rate), both low for
the low end and both high for the high end. Conditional on the cut and on that share, as the precision at a stated
share is (``intervals.precision_at_share``). Its coverage, 4,000 binomial draws a case: 94-99% from 5 anomalies
and 32 normal rows up, 92% where a rate is near 0 and its count small (10 anomalies missed 5% of the time: Wilson's
own dip there).
"""

from __future__ import annotations

from .costs import Prices
from .thresholds import wilson


def per_row(missed: float, alarms: float, anomalies: float, normal: float, p: Prices,
            effective: tuple[float, float] | None = None) -> tuple[float, float]:
    """The 95% interval of the cost per row of ``missed`` of ``anomalies`` and ``alarms`` false alarms among
    ``normal`` rows at prices ``p``. ``effective``: of weighted rows, Kish's effective sizes of the anomalies and
    the normal rows, which the rates' certainty is that of (the counts then are weights)."""
    rows = anomalies + normal
    a = (anomalies / rows if rows else 0.0) if p.anomaly_share is None else p.anomaly_share
    lo = hi = 0.0
    for count, of, eff, price, weight in ((missed, anomalies, None if effective is None else effective[0],
                                           p.miss_cost, a),
                                          (alarms, normal, None if effective is None else effective[1],
                                           p.alarm_cost, 1.0 - a)):
        if of <= 0:  # rows of one class: the other's errors are none to count, as the figure counts them
            continue
        size = of if eff is None else eff
        r_lo, r_hi = wilson(count / of * size, size)
        lo += price * weight * float(r_lo)
        hi += price * weight * float(r_hi)
    return lo, hi
