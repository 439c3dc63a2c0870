"""Patterns in a stretch's alarms that alarm_rate's intervals take no account of: weekend days that flag unlike
weekdays, days of unlike volume. The
intervals take the stretch's periods as alike and later ones like them; with such a pattern "3 a day" is an average
that later weekends or a busier month do not keep. ``warnings`` says which, and what to do.

Why no warning of a drift (the first half's alarms against the second's): within one stretch a drift and alarms
that come in runs days long are the same thing, which the intervals take in as the rows moving together; on NAB's
machine_temperature, whose later weeks flag 8.7, 3.1 and 3.3 a day, its week's halves gave 6 and 0 a day.

Why by a z of the alarms' count with the rows' dependence (alarmacf.inflation), not a plain binomial test:
readings close in time move together, so a weekend's alarms come in runs, and a binomial test calls every such run
a pattern (on NAB's machine_temperature, whose normal weeks have none).
"""

from __future__ import annotations

import math

import numpy as np

from . import alarmacf

# |z| at or above this is a pattern said (about 1% two-sided by chance, rarer with a ratio also asked)
Z = 2.6
# and the two sides' alarm rates at least this many times apart
RATIO = 1.5
# days' rows this many times apart (the fewest whole day's to the most) is volume said to vary
VOLUME = 1.5
DAY = 86400.0
# days' rows varying this many times more than a count at random (Poisson) does are volume said to vary
DISPERSION = 2.0


def _z(alarms: float, rows: float, n: float, share: float, block: float, acf: np.ndarray) -> float:
    """How many standard deviations ``alarms`` among ``rows`` of the ``n`` rows is from ``share`` of them, the rows
    in runs of ``block`` consecutive rows that move together as ``acf`` says, the total fixed (the cut was set on
    it)."""
    if rows <= 0 or rows >= n or not 0 < share < 1:
        return 0.0
    var = rows * share * (1 - share) * alarmacf.inflation(acf, max(block, 2.0), share) * (1 - rows / n)
    return (alarms - share * rows) / math.sqrt(var) if var > 0 else 0.0


def _every_week(f: np.ndarray, w: np.ndarray, day: np.ndarray, weekend: np.ndarray, higher: bool) -> bool:
    """Whether every week of the stretch (7 days from its first) that holds both kinds of day has its weekend's
    alarm rate on the same side of its weekdays' as the whole stretch's, in at least 2 such weeks.

    Why asked: one weekend's run of alarms is no weekly pattern. On NAB's machine_temperature, 1-21 January 2014
    gave 12.5 alarms a day on one weekend and 0.5 and 0 on the other two, which the z alone called a pattern."""
    week = (day - day.min()) // 7
    sides = []
    for k in np.unique(week):
        at = week == k
        a, b = at & weekend, at & ~weekend
        if w[a].sum() > 0 and w[b].sum() > 0:
            sides.append((f * w)[a].sum() / w[a].sum() > (f * w)[b].sum() / w[b].sum())
    return len(sides) >= 2 and all(side == higher for side in sides)


def _r(x: float) -> str:
    return f"{x:.3g}"


def warnings(flagged: np.ndarray, seconds: np.ndarray, acf: np.ndarray, rows_a_day: float, per: str,
             weights: np.ndarray | None = None, dow: str = "dayofweek(ts)") -> list[str]:
    """What to warn of the stretch's alarms (``flagged``, row by row, ``seconds`` each row's time, NaN for none;
    ``acf``: alarmacf.normal_acf(..., debiased=False) of the scores in time order; ``seconds`` as wall time in the
    zone whose days count, alarmzone; ``dow``: the SQL of a row's day of the week there, for the suggested filters),
    each a sentence with what to do;
    none where nothing shows. False warnings: 0-2 in 100 stretches of 28 days of each of bench/alarm_processes.py's
    processes, none of 7 days."""
    # Why no copies where none are needed (every row has a time; no weights, so a row counts 1): at 10 million rows
    # each array of the rows is 80 MB, and this check ran at alarm_rate's peak; sums of 1s and of 0/1 are exact
    # counts either way, so the numbers are the same
    ok = np.isfinite(seconds)
    every = bool(ok.all())
    t = np.asarray(seconds) if every else np.asarray(seconds)[ok]
    alarm = np.asarray(flagged, dtype=bool) if every else np.asarray(flagged, dtype=bool)[ok]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]

    def weighed(rows: np.ndarray | None = None, alarms: bool = False) -> float:
        """The rows' weight (``rows``: a mask of them, None for all), of their alarms only with ``alarms``."""
        if w is None:
            if rows is None:
                return float(np.count_nonzero(alarm) if alarms else len(t))
            return float(np.count_nonzero(alarm & rows if alarms else rows))
        # the alarms' weights beside 0s, summed in the same order as the rows' own
        vals = np.where(alarm, w, 0.0) if alarms else w
        return float(vals.sum() if rows is None else vals[rows].sum())

    n, total = weighed(), weighed(alarms=True)
    if len(t) < 3 or n <= 0 or total <= 0:
        return []
    share = total / n
    out: list[str] = []
    day = np.floor(t / DAY).astype(np.int64)
    first = int(day.min())
    held = np.bincount(day - first) > 0  # the days holding rows, from the first
    days = np.flatnonzero(held)
    if t.max() - t.min() >= 7 * DAY - 1:
        # 1970-01-01 was a Thursday: (day + 4) % 7 is 0 on Sundays, 6 on Saturdays, as DuckDB's dayofweek
        weekday = (day + 4) % 7
        weekend = (weekday == 0) | (weekday == 6)
        del weekday
        we_rows, we_alarms = weighed(weekend), weighed(weekend, alarms=True)
        we_days = int(np.count_nonzero(np.bincount(day[weekend] - first)))
        # the rows moving together up to a week apart: a weekly pattern's correlation turns negative within the week,
        # where Geyer's sum stops, but runs of alarms days long (machine_temperature's) count in full
        z = _z(we_alarms, we_rows, n, share, 7 * rows_a_day, acf)
        if we_rows and n - we_rows:
            # each kind's share of rows times its own rows a day: the stretch's average (rows_a_day) scaled by the
            # kind's rows per day it holds. Why: weekends of 100 transactions and weekdays of 300, all flagging 3 a
            # day, were said to flag 7.29 and 2.43 a day (each share times the average 243 rows a day)
            held_a_day = n / len(days)
            wd_days = len(days) - we_days
            we = we_alarms / we_days * rows_a_day / held_a_day
            wd = (total - we_alarms) / wd_days * rows_a_day / held_a_day if wd_days else 0.0
            if abs(z) >= Z and max(we, wd) >= RATIO * max(min(we, wd), 1e-12) and _every_week(
                    alarm.astype(np.float64), np.ones(len(t)) if w is None else w, day, weekend, we > wd):
                out.append(
                    f"its weekend days flagged {_r(we)} alarms a day and its weekdays {_r(wd)}, further apart than "
                    f"chance makes likely, and the intervals take days as alike: later weekends will flag about "
                    f"{_r(we)} a day and weekdays {_r(wd)}, and the stretch's mix ({we_days} weekend days of "
                    f"{len(days)}; a week has 2 of 7) sets the average. Set one threshold on weekends and one on "
                    f"weekdays (where=... AND {dow} IN (0, 6) / NOT IN (0, 6)) and flag with CASE WHEN "
                    f"{dow} IN (0, 6) THEN is_anomaly_at(model, 'weekend', ...) ELSE is_anomaly_at(model, "
                    "'weekday', ...) END, or give the model the day of the week as a feature and train again")
    if per == "day" or per == "week":
        # the first and last days are left out: a stretch starting at noon holds half its first day
        per_day = np.bincount(day - first, weights=w).astype(np.float64)[1:-1]
        whole = per_day[per_day > 0]
        # the tenth and ninetieth percentiles: a day cut short by an outage is no pattern of volume (NAB's
        # ambient_temperature: 12 rows on the day a two-day gap began, 24 on every other)
        low, high = (float(v) for v in np.quantile(whole, (0.1, 0.9))) if len(whole) else (0.0, 0.0)
        # and more varied than chance makes a count: events 3 a day at random hold 1 to 5 a day (Poisson's spread,
        # variance the mean; a weighted row adds its weight, so the mean weight of a row scales it), no pattern
        mean_weight = 1.0 if w is None else float((w * w).sum() / w.sum())
        chance = float(whole.mean()) * mean_weight if len(whole) else 0.0
        if len(whole) >= 5 and high >= VOLUME * low and float(whole.var(ddof=1)) > DISPERSION * chance:
            out.append(
                f"its days held {_r(low)} to {_r(high)} rows (the tenth to ninetieth percentile): the cut flags a share of "
                f"rows, so a day of twice the rows flags about twice the alarms, and the target holds at the "
                f"stretch's {_r(rows_a_day)} rows a day; where volume grows (a busier month), set the "
                "threshold again on recent rows")
    return out
