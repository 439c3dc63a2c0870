"""The time a stretch of rows covers, which turns its rows into rows a period (alarm_rate's "3 a day"), and what a
period is for tables whose rows cover only part of the time.

What a period is: one the table has rows in. By day (week), a day the rows cover, counted in whole calendar days
(weeks from Monday; in the time column's zone, alarmzone) from a stretch's first day to its last, a day at either
end, or beside a break, by its rows against a whole day's (a stretch from noon holds half its first day); by
week, a stretch of under 3 calendar weeks by its days so counted, over the days a week the table has rows in (5
where a weekend inside the stretch has none; 7 where the stretch spans no weekend, which it says); by hour, under 3
calendar days, and for rows a period or more apart (daily dates), the time from the first row to the last plus one
step per distinct time (daily dates of weekdays only, spanning a weekend, on a clock of weekdays: a Friday's step
is one day, not three).
Gaps of no rows longer than a period that the spacing of the rows does not explain are breaks, not time covered:
an outage, the weekends of a business-hours table, a filter's days. So a table of business hours (Mon-Fri
9:00-17:00) has 5 days a week by day, 40 hours by hour and a week a week, and "3 a day" is 3 on each working day
(15 a week); 24-hour readings are unchanged.

Why by whole days: from the first row to the last, each week of business hours read as 4.33 days (Monday 9:00 to
Friday 17:00), and "3 a day" flagged 2.6 on each working day, which is no day anyone counts.

How breaks are told from a sparse process (rows only when something happens): its gaps are as long as its spacing
makes them, and a day or two without an event is its own quiet, time covered. A gap is a break where it is over a
period, over twice the lower quartile of the steps, and over what the steps' upper spread allows: the median step
plus the exponential tail the 50th-90th percentiles give, at a chance under 1% of any such gap among the steps.
Before, every gap over a day was a break: events three times a day at random over 120 days read as 97-105 days
(13-21 gaps left out), so the rows a day read 15-24% high and a target a day flagged that much fewer. Events in
bursts (10 within minutes, a burst a day at random) have steps spread by the bursts' own, and their quiet days read
as outages (120 days as 46-58): the gaps between bursts, where they come at random, are read as a spacing of their
own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DAY = 86400.0
# a stretch with no such gap among its steps, under the spacing's tail, but by this chance
CHANCE = 0.01
# bursts (_between_bursts): a step this many times the median one is a gap between bursts; this many of them tell
# their spread; and this share of them under half their median says they come at random (an exponential's: 29%)
BURST = 20.0
MIN_BURST_GAPS = 20
RANDOM_SHORT = 0.1
# steps whose lower quartile is at least this share of their median are a schedule's (regular readings), not bursts
REGULAR = 0.9


@dataclass(frozen=True)
class Span:
    """``covered``: the seconds the rows cover; ``breaks``: gaps left out of it; ``hours``: the hours of the day
    (0-23, in the zone whose days count) holding rows, where they are some of them only (business hours);
    ``weekends_unknown``: by week, rows on weekdays only in a stretch spanning no weekend, so that whether the
    table has rows at weekends could not be told (a week counted as 7 days)."""

    covered: float
    breaks: int
    hours: tuple[int, ...] = ()
    weekends_unknown: bool = False


def break_after(steps: np.ndarray, period: float) -> float:
    """The gap length over which a gap between distinct times ``steps`` is a break, not the process's own spacing
    (the module's docstring)."""
    d = np.asarray(steps, dtype=np.float64)
    if not len(d):
        return math.inf
    q1, q50, q90 = (float(v) for v in np.quantile(d, (0.25, 0.5, 0.9)))
    tail = (q90 - q50) / math.log(5.0)  # an exponential's mean from its 50th and 90th percentiles
    return max(period, 2.0 * q1, q50 + tail * math.log(len(d) / CHANCE), _between_bursts(d, q1, q50))


def _between_bursts(d: np.ndarray, q1: float, q50: float) -> float:
    """Where the rows come in bursts, the gap over which a gap between them is a break: the gaps between bursts
    (steps over ``BURST`` times the median step) read as an exponential of their own, from their median, at the
    module's chance; 0 where they are too few to tell or not random (at least ``RANDOM_SHORT`` of them under half
    their median, as an exponential's 29%; a schedule's nights and weekends have none, and stay breaks), or where
    the steps are a schedule's (their lower quartile near their median; random events' is 0.41 of it).

    Why the schedule: readings every 5 minutes with many short dropouts of random length read as bursts, and a
    40-hour outage among 80 dropouts in 60 days counted as time covered."""
    if q1 >= REGULAR * q50:
        return 0.0
    gaps = d[d > BURST * q50] if q50 > 0 else d[:0]
    if len(gaps) < MIN_BURST_GAPS:
        return 0.0
    mid = float(np.median(gaps))
    if float(np.mean(gaps < mid / 2.0)) < RANDOM_SHORT:
        return 0.0
    return mid / math.log(2.0) * math.log(len(gaps) / CHANCE)


def _by_gaps(t: np.ndarray, period: float) -> tuple[float, int]:
    """From the first distinct time to the last, each break counted as one usual step (the median of the others),
    plus one step per distinct time (2016 readings 5 minutes apart cover 7 days, not 7 days less 5 minutes)."""
    d = np.diff(t)
    big = d > break_after(d, period)
    kept = d[~big]
    step = float(np.median(kept)) if len(kept) else 0.0
    covered = float(kept.sum()) + int(big.sum()) * step
    return covered * len(t) / (len(t) - 1), int(big.sum())


def _hours(local: np.ndarray, w: np.ndarray | None) -> tuple[int, ...]:
    """The hours of the day holding rows, where at least 20 rows a day on average, at several times of a day, fall
    in under 20 of the 24 (a sparse process's few rows a day leave hours empty by chance, not by a schedule; daily
    rows, all at one time of their day, cover their day)."""
    day = np.floor(local / DAY)
    days = len(np.unique(day))
    times_a_day = len(np.unique(local)) / days
    hours = np.unique(np.floor((local % DAY) / 3600.0).astype(np.int64))
    if len(hours) >= 20 or (len(local) if w is None else float(w.sum())) < 20.0 * days or times_a_day < 2.0:
        return ()
    return tuple(int(h) for h in hours)


def cover(seconds: np.ndarray, local: np.ndarray | None, per: str, period: float,
          weights: np.ndarray | None = None) -> Span | None:
    """The time the rows at ``seconds`` (epoch, NaN for none) cover, counted by ``per`` (``local``: their wall time
    in the zone whose days count, None for ``seconds`` themselves; ``weights``: each row's, the rows a whole day
    holds weighed so); None for fewer than 2 distinct times."""
    # Why no copies where every row has a time, and no array of 1s for rows without weights: at 10 million rows each
    # is 80 MB, at alarm_rate's peak; a sum of 1s is the count exactly, so the numbers are the same
    ok = np.isfinite(seconds)
    every = bool(ok.all())
    t_all = np.asarray(seconds, dtype=np.float64)
    t_all = t_all if every else t_all[ok]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    loc = t_all if local is None else np.asarray(local, dtype=np.float64)
    loc = loc if every or local is None else loc[ok]
    t, first = np.unique(t_all, return_index=True)
    if len(t) < 2:
        return None
    hours = _hours(loc, w) if per == "day" else ()
    # calendar days, or weeks from Monday (1970-01-01 was a Thursday: 3 days after one)
    day_of = (np.floor(loc / DAY) if per == "day" else np.floor((loc / DAY + 3.0) / 7.0)).astype(np.int64)
    # rows a period or fewer (daily dates, weekly snapshots): each stands for its step, which whole days would cut
    # to one day (10 Mondays read 64 days, not 70)
    if per == "hour" or float(np.median(np.diff(t))) >= period:
        if per == "day" and float(np.median(np.diff(t))) < 2 * DAY and _five_day(loc):
            # daily rows of weekdays only: each Friday stood for 3 days, so 15 weekdays read as 19.3 days and
            # "2 a day" flagged 2.6 on each, where business hours of a TIMESTAMP count their weekdays
            covered, breaks = _by_gaps(np.unique(_weekday_time(loc)), period)
            return Span(covered, breaks, hours)
        covered, breaks = _by_gaps(t, period)
        return Span(covered, breaks, hours)
    if len(np.unique(day_of)) < 3:
        if per == "week":
            return _weeks_by_days(t_all, loc, np.ones(len(t_all)) if w is None else w, period)
        covered, breaks = _by_gaps(t, period)
        return Span(covered, breaks, hours)
    # blocks of rows between breaks, each the calendar days (weeks) from its first to its last
    d = np.diff(t)
    cut = np.nonzero(d > break_after(d, period))[0]
    t_day = day_of[first]  # each distinct time's day
    starts, ends = np.r_[0, cut + 1], np.r_[cut, len(t) - 1]
    held = np.bincount(day_of - day_of.min(), weights=w).astype(np.float64)  # the rows (weighed) of each day
    edge = np.unique(np.r_[t_day[starts], t_day[ends]]) - day_of.min()
    inner = np.setdiff1d(np.nonzero(held > 0)[0], edge)
    whole = float(np.median(held[inner] if len(inner) else held[held > 0]))
    days = 0.0
    for a, b in zip(t_day[starts], t_day[ends], strict=True):
        days += float(b - a + 1)
        for end in {int(a), int(b)}:
            days -= 1.0 - min(1.0, float(held[end - day_of.min()]) / whole)
    return Span(days * period, len(cut), hours)


def _weeks_by_days(t: np.ndarray, loc: np.ndarray, w: np.ndarray, week: float) -> Span:
    """A stretch of under 3 calendar weeks by week: its days of rows as the by-day rule counts them, over the days of
    a week the table has rows in (5 where its rows fall on weekdays only and the stretch spans a weekend without
    rows; else 7).

    Why: read first row to last, one business week (Monday 9:00 to Friday 17:00) was 0.62 of a week, and "15 a week"
    flagged 9.3 on it, while by day it is 5 days of rows and "3 a day" 3 on each; a week of 24-hour rows is still 7
    days, and Monday to Friday of them 5/7 of a week. Each week is so counted by its rows against a whole week's, as
    the edge weeks of a longer stretch are (whose whole week is an inner week's rows).

    Why a weekend without rows is the evidence, and business hours are not: a stretch of Monday to Friday cannot
    show whether the table has rows at weekends (a shop open on Saturdays, a filter picking weekdays). Taken as 5 days
    a week, one such week made "30 a week" 30 on its 5 days, and weekends then added theirs; as 7, a table of 5-day
    weeks flags 5/7 of the target, under the budget. So such a stretch is counted as 7 days a week and says so."""
    days = cover(t, loc, "day", DAY, w)
    assert days is not None  # 2 or more distinct times, as the caller's
    five = _five_day(loc)
    weekday = (np.unique(np.floor(loc / DAY).astype(np.int64)) + 3) % 7  # Monday 0 (1970-01-01 was a Thursday)
    # breaks as by week over 3 weeks: gaps over a week (shorter outages count in their week's rows, as there)
    d = np.diff(np.unique(t))
    return Span(days.covered / DAY / (5.0 if five else 7.0) * week, int((d > break_after(d, week)).sum()),
                weekends_unknown=not five and not bool(np.isin(weekday, (5, 6)).any()))


def _five_day(loc: np.ndarray) -> bool:
    """Whether rows at wall times ``loc`` keep a 5-day week: on weekdays only, in a stretch spanning a weekend (its
    first and last days hold rows, so a Saturday spanned is a whole weekend inside it, without rows)."""
    day = np.unique(np.floor(loc / DAY).astype(np.int64))
    weekdays_only = not bool(np.isin((day + 3) % 7, (5, 6)).any())
    return weekdays_only and bool(np.isin((np.arange(day[0], day[-1] + 1) + 3) % 7, (5, 6)).any())


def _weekday_time(loc: np.ndarray) -> np.ndarray:
    """Wall times ``loc`` of weekdays on a clock of weekdays only: each Friday's next day is the Monday after it."""
    day = np.floor(loc / DAY).astype(np.int64)
    monday_based = day + 3  # 1970-01-01 was a Thursday: 3 days after a Monday
    working = (monday_based // 7) * 5 + np.minimum(monday_based % 7, 5)
    return working * DAY + (loc - day * DAY)


def hours_text(hours: tuple[int, ...]) -> str:
    """'09:00-16:59' for hours in one run, else how many of the 24."""
    if not hours:
        return ""
    if hours[-1] - hours[0] + 1 == len(hours):
        return f"{hours[0]:02d}:00-{hours[-1]:02d}:59"
    return f"{len(hours)} of the 24 hours"
