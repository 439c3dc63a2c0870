"""An alarm_rate threshold's promise kept as data beside its goal (ad_models.metrics' threshold goals, key
``promise``): the cut it was made for, its period, how many whole periods the stretch had, and the 95% intervals its
statement gives (a later period, a later stretch as long, the rows' own if independent, and the share of rows).

Why as data: check-threshold read the intervals back by parsing the statement's text, so any change to its wording,
or a statement edited or shortened, left the check with no interval ("holds no interval to compare with"). Goals
stored before hold none; those are still read off the text (thresholdcheck).
"""

from __future__ import annotations

import math
from typing import Any

KEY = "promise"


def make(value: float, per: str | None, periods: int | None, one: tuple[float, float] | None,
         same: tuple[float, float] | None, rows: tuple[float, float] | None, share: tuple[float, float],
         n: int) -> dict[str, Any]:
    """The promise of a cut ``value``: alarms per ``per`` over ``periods`` whole periods, the intervals of a later
    period (``one``), of a later stretch as long (``same``), of stretches like it if rows were independent
    (``rows``), and of the share of rows (``share``, of the ``n`` rows it was set on)."""
    def pair(p: tuple[float, float] | None) -> list[float] | None:
        return None if p is None else [float(p[0]), float(p[1])]
    return {"value": float(value), "per": per, "periods": periods, "one": pair(one), "same": pair(same),
            "rows_interval": pair(rows), "share": pair(share), "rows": int(n)}


def read(goal: Any, value: float) -> dict[str, Any] | None:
    """The promise kept with ``goal`` for the cut ``value``; None where there is none (a goal stored before), it is
    malformed, or it was made for another cut (a value set again by hand, or a retrain that could not choose it
    again): then the statement is all there is."""
    p = goal.get(KEY) if isinstance(goal, dict) else None
    if not isinstance(p, dict) or not isinstance(p.get("value"), (int, float)):
        return None
    if not math.isclose(float(p["value"]), float(value), rel_tol=1e-12, abs_tol=0.0):
        return None
    for k in ("one", "same", "rows_interval", "share"):
        v = p.get(k)
        if v is not None and not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)):
            return None
    if not isinstance(p.get("periods"), (int, type(None))) or not isinstance(p.get("rows"), int):
        return None
    return p


def interval(p: dict[str, Any], periods_here: float, min_periods: int) -> tuple[float, float, str] | None:
    """The promised 95% interval of alarms per period for a stretch of ``periods_here`` periods, as
    thresholdcheck's reading of the statement chose it: over a later stretch as long where this one is at least as
    long as the one it was set on, for one later period, or between them (``between``); the rows' interval where
    the stretch had fewer than
    ``min_periods`` whole periods."""
    per, m = p.get("per"), p.get("periods")
    if isinstance(m, int) and m >= min_periods and p.get("one") and p.get("same"):
        return between(tuple(p["one"]), tuple(p["same"]), periods_here, m, str(per))
    if p.get("rows_interval"):
        lo, hi = p["rows_interval"]
        return lo, hi, "on stretches like its own if rows were independent"
    return None


def between(one: tuple[float, ...], same: tuple[float, ...], periods_here: float, m: int,
            per: str) -> tuple[float, float, str]:
    """The 95% interval of alarms per period for a later stretch of ``periods_here`` periods, from a stretch of
    ``m`` whole periods whose interval for one later period is ``one`` and for a later stretch as long ``same``: those
    at 1 and ``m`` periods, between them each end moved as the t interval's half-width, sqrt(1/k + 1/m) for the mean
    of k later periods.

    Why: a week checked against a threshold set on 14 days took the one later day's interval, and a week at 1.5 times
    the target (45.7 alarms a day against 30, 11.9-48.1 for a day) kept its promise; the mean of 7 days varies about
    as sqrt(1/7 + 1/14) of the day's sqrt(1 + 1/14), so its interval here is 21.9-38.1."""
    if periods_here >= m:
        return same[0], same[1], f"over a later stretch as long as its {m} {per}s"
    if periods_here < 1.5:
        return one[0], one[1], f"on one later {per}"
    k = float(periods_here)
    f = (math.sqrt(1 / k + 1 / m) - math.sqrt(2 / m)) / (math.sqrt(1 + 1 / m) - math.sqrt(2 / m))
    lo, hi = (same[i] + f * (one[i] - same[i]) for i in (0, 1))
    return lo, hi, (f"over a later stretch of {k:.3g} {per}s (between its {_r(one[0])}-{_r(one[1])} on one later {per} "
                    f"and {_r(same[0])}-{_r(same[1])} over {m} {per}s, as the mean of {k:.3g} {per}s varies)")


def _r(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"
