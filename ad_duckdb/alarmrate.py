"""Thresholds by rate of alarms, set on rows the model did not train on: "about 3 alarms a day on last week's normal
readings", "0.5% of this month's rows". The rows are read and scored, the cut is put where that share of them scores
above it, and ``chosen_on`` records what the cut gives on them (rows, period covered, target, achieved rate and its
95% interval), which ``show`` prints.

Why on other rows than the training rows: the default threshold is a share of the training rows, which later rows,
even normal ones, pass more often (at the default 1%, 5-51% of later normal sensor rows; bench/window_features.py).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from . import (
    alarmacf,
    alarmepisodes,
    alarmfold,
    alarmperiods,
    alarmpromise,
    alarmseason,
    alarmseries,
    alarmspan,
    alarmtimes,
    alarmzone,
    categorical,
    notes,
    optionwords,
    pysource,
    trainsample,
    weights,
)
from .closenames import did_you_mean
from .exceptions import BadInputError, NoRowsError, OptionError
from .featureread import feature_batches
from .numberhints import is_point_in_time
from .progress import rows as progress_rows
from .samesource import same_source
from .scoring import LoadedModel
from .sourcecols import feature_columns
from .sourcedescribe import describe
from .sqltext import quote_ident, quote_literal, source_sql, sql_name, sql_names, strip_sql_ends, where_sql
from .store import Threshold
from .thresholds import wilson

METHOD = "alarm_rate"
PERIODS = {"hour": 3600.0, "day": 86400.0, "week": 7 * 86400.0}
# Below this many alarms on the stretch, the cut is an extreme order statistic of few rows: its rate on another
# stretch like it could be far from the target (at 5 alarms, 95% of such stretches give 1.6-11.7)
FEW_ALARMS = 20
# by week, a stretch of rows on weekdays only that spans no weekend (alarmspan): said, as the week it counts may not
# be the table's
def weekends_unknown() -> str:
    return ("its rows fall on weekdays only and the stretch spans no weekend, so whether the table has rows at weekends "
            "cannot be told: a week is counted as 7 days; where it has none (a 5-day week), set it on a stretch "
            f"spanning a weekend, or count by day ({optionwords.opt('per_day')})")


@dataclass(frozen=True)
class Target:
    """What the user asked for: a share of rows (``rate``), or ``alarms`` per ``per`` (hour, day, week) read off the
    ``time`` column."""

    rate: float | None
    alarms: float | None
    per: str | None
    time: str | None

    def said(self) -> str:
        if self.alarms is None or self.per is None:
            return f"{(self.rate or 0.0) * 100:.4g}% of rows"
        return f"{self.alarms:g} alarm{'' if self.alarms == 1 else 's'} {_a(self.per)}"


def goal(want: Target, source: str, where: str | None, weight: str | None = None,
         series: str | None = None, tz: str | None = None, timestamps_in: str | None = None) -> dict[str, Any]:
    """What a retrain with carry_thresholds needs to choose the threshold again on the same rows (ad_models.metrics);
    the weight and series columns and the zones only when given, so that a goal without them reads as before."""
    return {"method": METHOD, "source": source, "where": where, "rate": want.rate, "alarms": want.alarms,
            "per": want.per, "time": want.time, **({"weight": weight} if weight is not None else {}),
            **({"series": series} if series is not None else {}), **({"tz": tz} if tz is not None else {}),
            **({"timestamps_in": timestamps_in} if timestamps_in is not None else {})}


def from_goal(g: dict[str, Any]) -> Target | None:
    """The target of a stored goal; None for one malformed (an imported file's, edited by hand)."""
    if not isinstance(g.get("source"), str) or not all(isinstance(g.get(k), (str, type(None)))
                                                        for k in ("where", "weight", "series", "tz", "timestamps_in")):
        return None
    rate, alarms, per, time = g.get("rate"), g.get("alarms"), g.get("per"), g.get("time")
    try:
        per_hour, per_day, per_week = (alarms if per == p else None for p in ("hour", "day", "week"))
        return target(rate, per_hour, per_day, per_week, time)
    except OptionError:
        return None


def parse_rate(rate: float | str) -> float:
    """A share given as a number (0.005) or as text ("0.5%", "0.005"); refused outside (0, 1) by value."""
    given = rate
    if isinstance(rate, str):
        text = rate.strip()
        try:
            rate = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise OptionError(f"{optionwords.opt('rate')} must be a share of rows, e.g. 0.005 or '0.5%'; got {given!r}."
                              ) from None
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 < float(rate) < 1.0:
        pct = (f"; did you mean {optionwords.opt('rate', f'{float(rate):g}%')} ({optionwords.opt('rate', float(rate) / 100)})?"
               if isinstance(rate, numbers.Real) and not isinstance(rate, bool) and 1.0 <= float(rate) < 100.0
               else ".")
        raise OptionError(f"{optionwords.opt('rate')} must be a share of rows in (0, 1), e.g. 0.005 or '0.5%'; got "
                          f"{given!r}{pct}")
    return float(rate)


def target(rate: float | str | None, per_hour: float | None, per_day: float | None, per_week: float | None,
           time: str | None) -> Target:
    """The one target given: ``rate``, or one of ``per_hour`` / ``per_day`` / ``per_week`` with ``time``."""
    pers = {p: v for p, v in (("hour", per_hour), ("day", per_day), ("week", per_week)) if v is not None}
    if (rate is not None) + len(pers) != 1:
        o = optionwords.opt
        raise OptionError(f"Method {METHOD!r} needs one target: {o('rate')} (a share of the rows, e.g. "
                          f"{o('rate', '0.5%')}) or alarms per period, {o('per_day')} / {o('per_hour')} / "
                          f"{o('per_week')} with {o('time')} (e.g. {o('per_day', 3)} {o('time', 'ts')}); got "
                          f"{'none' if rate is None and not pers else 'several'}.")
    if rate is not None:
        return Target(parse_rate(rate), None, None, time)
    (per, alarms), = pers.items()
    if isinstance(alarms, bool) or not isinstance(alarms, numbers.Real) or not 0.0 < float(alarms) < math.inf:
        raise OptionError(f"{optionwords.opt(f'per_{per}')} must be a number of alarms above 0, e.g. 3; got "
                          f"{alarms!r}.")
    if not isinstance(time, str) or not time:
        raise OptionError(f"{optionwords.opt(f'per_{per}')} counts alarms per {per} of the rows' times: name their "
                          f"DATE or TIMESTAMP column with {optionwords.opt('time')}, e.g. {optionwords.opt('time', 'ts')}.")
    return Target(None, float(alarms), per, time)


def cut(scores: np.ndarray, share: float, w: np.ndarray | None = None) -> tuple[float, int]:
    """The cut flagging (``score > cut``) the number of rows nearest ``share`` of them, and that number; with
    weights ``w`` (all above 0), the rows whose weight is nearest ``share`` of the rows' weight.

    Why not np.quantile: a cut at an interpolated quantile flags one row more or fewer than asked, and between tied
    scores it cannot split them; here the cut lies midway between two distinct scores, so float32 rounding of the
    same rows scored again in SQL flags the same rows."""
    s = np.asarray(scores, dtype=np.float64)
    if w is not None:
        return _weighted_cut(s, share, w)
    n = len(s)
    want = share * n
    # Why sorted, not argsorted, and no array per run: at 10 million rows the sort, its order, the runs and their
    # counts held 488 MB (bench/results/stat_memory_2026-12-05.md); the rows ascending are the one copy now
    rows = np.sort(s)
    starts = np.flatnonzero(rows[1:] != rows[:-1])  # `!=`: a run of infinite scores stays one
    starts += 1  # the first index of each run of equal scores but the lowest's

    def first(r: np.ndarray) -> np.ndarray:  # the first index of ascending runs r (a few)
        return np.where(r > 0, starts[np.maximum(r - 1, 0)], 0) if len(starts) else np.zeros_like(r)

    runs = len(starts) + 1
    # run j from the highest flags n - first(runs - 1 - j) rows, rising with j: the count nearest want is where it
    # passes want, found among a few runs either side by the same floats and tie rule as over every run
    j = runs - 1 - int(np.searchsorted(starts, n - want, side="left"))
    near = np.arange(max(j - 2, 0), min(j + 3, runs))
    counted = (n - first(runs - 1 - near)).astype(np.float64)
    i = int(near[np.argmin(np.abs(counted - want) + (counted > want) * 1e-9 * max(want, 1.0))])  # a tie: fewer alarms
    if i + 1 < runs:
        hi, lo = rows[first(np.array(runs - 1 - i))], rows[first(np.array(runs - 2 - i))]
        mid = (hi + lo) / 2.0
        value = float(mid if np.isfinite(mid) and lo < mid < hi else lo)
    else:
        value = float(np.nextafter(rows[0], -np.inf))
    return value, int(n - first(np.array(runs - 1 - i)))


def _weighted_cut(s: np.ndarray, share: float, w: np.ndarray) -> tuple[float, int]:
    """``cut`` with weights: the rows in the same order as ever (the highest first, ties in reverse of the rows'
    order), for the same cumulative sums, each array written over the one before where it can."""
    order = np.argsort(s, kind="stable")[::-1]
    desc = s[order]
    cum = np.asarray(w, dtype=np.float64)[order]
    del order
    np.cumsum(cum, out=cum)
    ends = np.flatnonzero(desc[1:] != desc[:-1])  # the last index of each run of equal scores but the lowest's
    counted = np.empty(len(ends) + 1)
    np.take(cum, ends, out=counted[:-1], mode="clip")  # "raise" buffers a copy of the whole output
    counted[-1] = cum[-1]
    want = share * cum[-1]
    del cum
    # |counted - want| + a hair for the counts above want (a tie: the fewer alarms), in place
    above = (counted > want) * 1e-9
    above *= max(want, 1.0)
    np.subtract(counted, want, out=counted)
    np.abs(counted, out=counted)
    counted += above
    i = int(np.argmin(counted))
    last = int(ends[i]) if i < len(ends) else len(s) - 1
    if i < len(ends):
        hi, lo = desc[last], desc[last + 1]
        mid = (hi + lo) / 2.0
        value = float(mid if np.isfinite(mid) and lo < mid < hi else lo)
    else:
        value = float(np.nextafter(desc[-1], -np.inf))
    return value, last + 1


def _time_span(cur: object, source: str, where: str | None, time: str, who: str,
               weight: str | None = None, zone: str | None = None,
               at: str | None = None) -> tuple[float, str, str] | None:
    """Seconds from the first to the last time of the rows and those two times as text; None for no rows (which
    the scoring then refuses as such, not as times all NULL). ``weight``: the weight column, whose rows of weight 0
    count as none, here as in the cut: a week weighted 1 and three weeks weighted 0 read as 4 weeks, a quarter of
    the rows a day, and '3 a day' flagged 4 times too many. The time the rows cover: alarmspan. ``zone``: a
    TIMESTAMPTZ's, whose wall times are said (the rows' cursor holds the process's zone: a Pacific session's business
    hours read '17:00:00+00', beside a statement saying they fall at 09:00-16:59); ``at``: the SQL of each row's
    instant (a TIMESTAMP of a zone's wall-clock times: alarmzone.instant_sql)."""
    col = at or quote_ident(time)

    def shown(v: str) -> str:  # a time as text: in the zone's wall time, named, where one is given
        return f"timezone({quote_literal(zone)}, {v})::VARCHAR || {quote_literal(' ' + zone)}" if zone else f"{v}::VARCHAR"

    cond = where_sql(strip_sql_ends(where)) if where else ""
    if weight is not None:  # after the user's filter, checked and closed on its own
        cond += f"{' AND' if cond else ' WHERE'} {quote_ident(weight)} > 0"
    q = (f"SELECT count(*), epoch(max({col})) - epoch(min({col})), {shown(f'min({col})')}, {shown(f'max({col})')} "
         f"FROM {source_sql(source)}{cond}")
    n, span, first, last = cur.execute(q).fetchall()[0]  # type: ignore[attr-defined]
    if not n:
        return None
    if span is None:
        raise BadInputError(f"{who}: time column {time!r} of {source!r} is NULL in every row"
                            f"{' the filter keeps' if where else ''}, so no alarms per period can be counted; pass "
                            f"a column holding the rows' times, or use {optionwords.opt('rate')}.")
    return float(span), str(first), str(last)


def _training_rows(cur: object, lm: LoadedModel, source: str, where: str | None) -> int:
    """How many of the rows are rows the model trained on (the same table, however spelled: samesource; under its
    training filter); 0 when that cannot be told."""
    m = lm.rec.metrics
    ts = m.get("train_source")
    if not isinstance(ts, str) or not same_source(ts, source):
        return 0
    tw = m.get("train_where")
    both = " AND ".join(f"({strip_sql_ends(w)}\n)" for w in (where, tw) if isinstance(w, str) and w)
    try:
        return int(cur.execute(f"SELECT count(*) FROM {source_sql(source)}"  # type: ignore[attr-defined]
                               + (f" WHERE {both}" if both else "")).fetchall()[0][0])
    except duckdb.Error:
        return 0  # the training filter no longer binds: nothing to say


def _a(per: str) -> str:
    """'a day', 'an hour': as the statement reads."""
    return f"{'an' if per == 'hour' else 'a'} {per}"


def _n(x: float) -> str:
    """A count or rate as the statement prints it: 3 significant digits, whole numbers from 1,000 up (not 2e+03)."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _alarms(x: float) -> str:
    return f"{_n(x)} alarm{'' if _n(x) == '1' else 's'}"


def _period_text(seconds: float) -> str:
    for per, unit in (("week", 7 * 86400.0), ("day", 86400.0), ("hour", 3600.0)):
        if seconds >= unit:
            return f"{seconds / unit:.3g} {per}{'' if f'{seconds / unit:.3g}' == '1' else 's'}"
    return f"{seconds / 60:.3g} minutes"


def _in_time(scores: np.ndarray, seconds: np.ndarray, series: np.ndarray | None = None) -> np.ndarray:
    """The scores in time order (the rows come in the source's order), series after series where ``series`` tells
    them apart (a table of several sensors: each sensor's readings follow each other, not another's); rows with no
    time left out."""
    ok = np.isfinite(seconds)
    if ok.all():  # the rows as they are: no copy of the scores and the times but the one in time order
        return scores[np.argsort(seconds, kind="stable") if series is None else np.lexsort((seconds, series))]
    if series is None:
        return scores[ok][np.argsort(seconds[ok], kind="stable")]
    return scores[ok][np.lexsort((seconds[ok], series[ok]))]


def _spread(flagged: np.ndarray, seconds: np.ndarray, per: str, rows_per: float, in_time: np.ndarray,
            acf: np.ndarray, w: np.ndarray | None, ranks: np.ndarray | None = None) -> alarmperiods.PeriodSpread | None:
    """What the stretch's periods say of later ones (alarmperiods); ``ranks``: ``in_time``'s, where ranked."""
    return alarmperiods.spread(flagged, alarmperiods.period_of(seconds, PERIODS[per]), rows_per,
                               alarmperiods.lag1(in_time, ranks), w, acf)


def _by_period(sp: alarmperiods.PeriodSpread | None, per: str, covered: float) -> str:
    """The statement's part after the rows' interval: what the stretch's periods (``sp``) say of later ones.

    Why said beside that interval: alarms come in runs (readings close in time move together), so later periods
    vary far more than independent rows would make them, and the periods' own spread and the rows' lag-1
    correlation are what show it."""
    worth = (f"the count of its alarms on the {_n(sp.effective) if sp else '?'} independent rows it is worth by the "
             f"rows' autocorrelation in time, {sp.lag1 if sp else 0.0:.3g} at lag 1")
    later = ("" if sp is None else f"95% {_n(sp.one[0])}-{_n(sp.one[1])} on a later {per} and {_n(sp.same[0])}-"
             f"{_n(sp.same[1])} {_a(per)} over a later stretch of {_period_text(covered)}")
    if sp is None:
        return (f"by {per}: no whole {per}, too few to tell how {per}s vary, and readings close in time move "
                f"together, so later {per}s could vary far more than the rows' interval says; set it on a stretch of "
                f"more {per}s")
    if sp.periods < alarmperiods.MIN_PERIODS:
        # Why the count's interval still: the rows' alone said 1.97-4.57 where later days gave 0-16; a stretch of
        # one or two days is worth saying what its correlated rows allow
        # Why the span, not the periods: a stretch of 20 hours is one period of the day, not a whole day
        return (f"by {per} (readings close in time move together): only {_period_text(covered)}, too few {per}s to "
                f"tell how {per}s vary; from {worth}: {later}, and later {per}s could "
                f"vary more than that (a weekday and a weekend, a busy and a quiet {per}); set it on a stretch of at "
                f"least {alarmperiods.MIN_PERIODS} {per}s")
    return (f"by {per} (readings close in time move together): its {sp.periods} whole {per}s gave {_n(sp.least)} to "
            f"{_n(sp.most)} alarms {_a(per)}, so {later} (the wider of t over its {per}s and {worth})")


def choose(con: duckdb.DuckDBPyConnection, lm: LoadedModel, name: str, want: Target, source: str, where: str | None,
           progress: bool = False, note: str = "", weight: str | None = None,
           keep: dict[str, Any] | None = None, series: str | None = None, tz: str | None = None,
           timestamps_in: str | None = None) -> Threshold:
    """Score the rows of ``source`` (``where``) and store nothing: the threshold meeting ``want`` on them, its
    ``chosen_on`` saying how it was chosen and what it gives (then ``note``, if any); a warning when the stretch is
    short for the target. ``weight``: the column of each row's sample weight (1 in 50 rows kept: 50), a row
    counted as that many rows, the intervals on Kish's effective size. ``keep``: the goal stored with the threshold,
    given the statement's intervals as data (alarmpromise) for check-threshold to read. ``series``: the column
    telling apart several series in one table (a sensor's id), within each of which episodes are runs and the
    scores' autocorrelation is read; the target counts the alarms of the whole table. ``tz``: the zone whose days
    the weekend and volume checks read (alarmzone; default: a TIMESTAMPTZ's session zone, a TIMESTAMP's own);
    ``timestamps_in``: the zone whose wall-clock times a TIMESTAMP holds (default: UTC where ``tz`` is given)."""
    who = f"Threshold {name!r} for {lm.ref!r}"
    cur = pysource.cursor(con, source)
    try:
        cols = describe(cur, source, lm.ref, caller=con)
        feats = feature_columns(cols, lm, source, cur)
        wcol = None if weight is None else weights.check_column(lm.ref, source, weight, "", cols)
        span = None
        time_col: str | None = None
        local: str | None = None
        dow = "dayofweek(ts)"
        zone_said = ""
        stored: str | None = None  # the zone of a TIMESTAMP's wall-clock times (alarmzone.stored_in)
        scol = None if series is None else alarmseries.check_column(who, source, series, cols, want.time)
        if want.time is not None:
            types = {c.lower(): (c, t) for c, t in cols}
            found = types.get(want.time.lower())
            if found is None:
                raise BadInputError(f"{who}: time column {want.time!r} is not in {source!r}; its columns: "
                                    f"{sql_names(c for c, _ in cols)}.{did_you_mean(want.time, [c for c, _ in cols])}")
            if not is_point_in_time(found[1]):
                raise BadInputError(
                    f"{who}: time column {found[0]!r} of {source!r} is {found[1]}, not a DATE or TIMESTAMP, so alarms "
                    f"per {want.per or 'day'} cannot be counted on it; pass a query that makes it one, e.g. --source "
                    f"\"SELECT *, to_timestamp({sql_name(found[0])}) AS ts FROM ...\" --time ts for epoch "
                    f"seconds, or use {optionwords.opt('rate')}.")
            stored = alarmzone.stored_in(con, found[0], found[1], timestamps_in, who)
            zone_name = alarmzone.zone(con, found[1], tz, who, stored)
            if keep is not None and tz is None and zone_name is not None:
                # a TIMESTAMPTZ's session zone, kept: a retrain and check-threshold, in another session (the command
                # line's, in the process's zone), read its days as here; for it tz= means the same
                keep["tz"] = zone_name
            instant = alarmzone.instant_sql(quote_ident(found[0]), found[1], stored)
            span = _time_span(cur, source, where, found[0], who, wcol,
                              zone_name if alarmzone.zoned(found[1]) or stored else None, instant)
            time_col = found[0]
            local = alarmzone.local_sql(found[0], found[1], zone_name, stored)
            dow = alarmzone.day_of_week_sql(sql_name(found[0]), found[1], zone_name, stored)
            zone_said = alarmzone.assumed(found[0], found[1], zone_name if tz is not None or stored else None, stored)
        bar = progress_rows(f"choosing threshold {name!r} for {lm.ref}", progress)
        parts, when, read_w, read_s, read_l = ([np.empty(0)] for _ in range(5))
        # the times read with the features, row for row: each alarm's period (alarmperiods); each row's series; and
        # its wall time in the zone whose days count (alarmzone), where that is not the column's own
        also = None if time_col is None else alarmtimes.sql(time_col, local, scol, stored)
        try:
            read_src, read_where = categorical.read_source(lm.rec.features, source, where)  # text features as numbers
            for M in feature_batches(cur, read_src, [*feats, *([wcol] if wcol else [])], read_where, who=who, also=also,
                                     what=f"features {list(feats)}{f' and weight {wcol!r}' if wcol else ''}"):
                if also:
                    M, at, wall, series_id = alarmtimes.split(M, bool(local), bool(scol))
                    when.append(at)
                    read_l.append(wall)
                    read_s.append(series_id)
                if wcol:  # the weight read last of the columns: the rest as without one
                    read_w.append(M[:, -1].copy())  # a view would keep the batch's features alive
                    M = M[:, :-1]
                parts.append(lm.scores(categorical.inputs(lm.rec.features, M)).astype(np.float64))
                bar.advance(len(M))
        finally:
            bar.close()
        trained = _training_rows(cur, lm, source, where)
    finally:
        cur.close()
    s, seconds_of = np.concatenate(parts), np.concatenate(when)
    series_of = np.concatenate(read_s) if scol else None
    local_of = np.concatenate(read_l) if local else None
    if stored is not None:  # the hour the clocks repeat: its two passes' readings at their own instants
        seconds_of, local_of = alarmfold.unfold(seconds_of, local_of, series_of, stored, zone_name, who,
                                                time_col or "", source)
    n = len(s)
    rows_of = f"{source!r}{f' with where={where!r}' if where else ''}"
    w = None
    if wcol is not None and n:
        w = np.concatenate(read_w)
        weights.check_values(lm.ref, source, where, wcol, w)
        # a row of weight 0 counts as none: out of the cut, the periods and the lag-1 correlation alike
        kept = w > 0
        s, seconds_of, w = s[kept], seconds_of[kept] if len(seconds_of) else seconds_of, w[kept]
        series_of = None if series_of is None or not len(series_of) else series_of[kept]
        local_of = None if local_of is None or not len(local_of) else local_of[kept]
        n = len(s)
    if n == 0:
        raise NoRowsError(f"{who}: {rows_of} has no rows to set an alarm rate on; check the source and the filter "
                          f"({optionwords.opts('source', 'where')}), which must keep rows believed normal.")
    if np.isnan(s).any():
        raise BadInputError(f"{who}: {int(np.isnan(s).sum())} of the {n} rows of {rows_of} score NaN, which have no "
                            "rank; drop those rows with the filter.")
    seconds = covered = None
    held_by: alarmspan.Span | None = None
    if span is not None:
        seconds = span[0]
        if n < 2 or seconds <= 0:
            raise BadInputError(f"{who}: the {n} row(s) of {rows_of} are all at one time ({span[1]}), so they cover "
                                f"no period to count alarms per {want.per or 'day'} on; widen the stretch, or use "
                                f"{optionwords.opt('rate')}.")
        # each distinct time stands for one step between readings (by day: whole days): 2016 readings 5 minutes
        # apart cover 7 days, not 7 days less 5 minutes; and 14 dates of 50 merchants' daily rows 14 days (a step
        # per row made it 13 and a bit, so "2 a day" flagged 1.86 a day); breaks (an outage, a filter's days, the
        # weekends of business hours) are not time the stretch covers, a sparse process's quiet days are
        held_by = alarmspan.cover(seconds_of, local_of, want.per or "day", PERIODS[want.per or "day"], w)
        covered = held_by.covered if held_by is not None else seconds
    per = want.per or ("day" if covered is not None else None)
    total = n if w is None else float(w.sum())  # the rows the stretch stands for
    rows_per = None if covered is None or per is None else total * PERIODS[per] / covered
    if want.rate is not None:
        share = want.rate
    else:
        assert rows_per is not None and want.alarms is not None and per is not None
        if want.alarms >= rows_per:
            longer = {"hour": "day", "day": "week"}.get(per)
            meant = (f", or did you mean {want.alarms:g} {_a(longer)} ({optionwords.opt(f'per_{longer}')})?"
                     if longer else ".")
            raise BadInputError(
                f"{who}: {want.said()} is not below the {rows_per:.4g} rows {_a(per)} of {rows_of} "
                f"({_n(total)} rows over {_period_text(covered or 0.0)}), so every row would be an alarm; ask for fewer than "
                f"{rows_per:.4g} alarms {_a(per)}{meant}")
        share = want.alarms / rows_per
    if share * n < 0.5:
        need = math.ceil(FEW_ALARMS / share)
        raise BadInputError(f"{who}: {want.said()} is {share * n:.2g} alarms on the {n} rows of {rows_of}, less than "
                            f"one, so no cut among them meets it; use a longer stretch (about {need} rows give "
                            f"{FEW_ALARMS} alarms' worth), or a higher target.")
    value, k = cut(s, share, w)
    # the share flagged and its interval: of the rows, or of their weight on Kish's effective size
    flagged = k / n if w is None else float(w[s > value].sum()) / total
    size = n if w is None else weights.effective(w)
    lo, hi = wilson(flagged * size, size)
    on = f"{source}{' WHERE ' + where if where else ''} ({n} rows"
    if w is not None:
        on += f"; weighted by {wcol}: {_n(total)} rows, Kish's effective size {weights.size_text(size)}"
    if span is not None and covered is not None and per is not None and rows_per is not None:
        held = (f"{_period_text(covered)} of rows in {_period_text(seconds or 0.0)} (gaps over {_a(per)} left out)"
                if held_by is not None and held_by.breaks else _period_text(covered))
        on += f", {span[1]} to {span[2]}: {held}, {rows_per:.4g} rows {_a(per)}"
        on += f" ({zone_said})" if zone_said else ""
        if held_by is not None and held_by.hours and per == "day":
            # Why said: "3 a day" on rows of business hours is 3 in those hours, which a reader of "a day" may not
            # take it for; by hour it would count an hour of rows
            on += (f" (its rows fall at {alarmspan.hours_text(held_by.hours)} of each day: a day is a day of rows, so "
                   f"its alarms come in those hours; {optionwords.stored('per_hour')} counts by hour of rows)")
        if held_by is not None and held_by.weekends_unknown:
            on += f" ({weekends_unknown()})"
    on += f"); target {want.said()}: flags {k} of {n} rows"
    on += f" ({flagged:.3%}" if w is None else f", {_n(flagged * total)} of {_n(total)} weighted ({flagged:.3%}"
    on += f", 95% {lo:.3%}-{hi:.3%}"
    if rows_per is not None and per is not None and covered is not None:
        in_time = _in_time(s, seconds_of, series_of)
        # the patterns' check reads the raw one: a drift lifts every lag, which the mean's correction then took
        # for a stretch worth one independent reading, and no drift stood out
        ranks = alarmacf.mid_ranks(in_time)  # once for both correlations
        raw = alarmacf.normal_acf(in_time, debiased=False, ranks=ranks)
        acf = alarmacf.debias(raw, len(in_time))
        sp = _spread(s > value, seconds_of, per, rows_per, in_time, acf, w, ranks)
        del in_time, ranks  # 160 MB at 10 million rows, not read again: out of the next checks' peak
        on += (f" if rows were independent), {_alarms(flagged * rows_per)} {_a(per)} on this stretch (95% "
               f"{_n(lo * rows_per)}-{_n(hi * rows_per)} on stretches like it if rows were independent); "
               + _by_period(sp, per, covered)
               + alarmepisodes.text(alarmepisodes.count(s > value, seconds_of, w is not None, series_of), k, per,
                                    rows_per, n, 0 if w is not None else alarmepisodes.shared_times(seconds_of,
                                                                                                    series_of),
                                    scol))
        for said in alarmseason.warnings(s > value, seconds_of if local_of is None else local_of, raw,
                                         rows_per * 86400.0 / PERIODS[per], per, w, dow):
            notes.warn(f"{who}: on {rows_of}, {said}.")
        if keep is not None:
            keep[alarmpromise.KEY] = alarmpromise.make(
                value, per, sp.periods if sp else None, sp.one if sp else None, sp.same if sp else None,
                (lo * rows_per, hi * rows_per), (lo, hi), n)
    else:
        on += ")"
        if keep is not None:
            keep[alarmpromise.KEY] = alarmpromise.make(value, None, None, None, None, None, (lo, hi), n)
    if trained:
        sampled = trainsample.learned_part(lm.ref, lm.rec.train_rows, lm.rec.metrics, trained)
        sampled = f" ({sampled})" if sampled else ""
        on += f"; {trained} of these rows are rows {lm.ref} was trained on{sampled}"
        notes.warn(f"{who}: {trained} of the {n} rows of {rows_of} are rows {lm.ref} was trained on{sampled}, which score "
                   "lower than rows it did not see; a rate set on them flags more on later rows. Choose it on a "
                   "stretch after the training rows.")
    if not 0.5 <= flagged / share <= 2.0:
        # Why said: rows of one score (a stuck sensor's repeated reading) cannot be split, and the statement's
        # "flags 500 of 2016 rows" read as the target met
        notes.warn(f"{who}: {want.said()} is about {share * n:.3g} of the {n} rows of {rows_of}, but their scores "
                   f"tie there, so the nearest cut flags {k}; drop the repeated rows with the filter, or set the "
                   "rate on another stretch.")
    if flagged * size < FEW_ALARMS:
        eff = "" if w is None else f" (weighted by {wcol!r}: an effective {flagged * size:.3g} by Kish's size)"
        notes.warn(
            f"{who}: only {k} alarm{'s' if k != 1 else ''}{eff} on the {n} rows of {rows_of}, so the cut is uncertain: "
            f"the rate on another stretch like it could be {lo:.3%}-{hi:.3%} (95%)"
            + (f", {_n(lo * rows_per)}-{_n(hi * rows_per)} alarms {_a(per)}" if rows_per and per else "")
            + f"; a stretch of about {math.ceil(FEW_ALARMS / share)} rows ({FEW_ALARMS} alarms' worth) gives a firmer "
            "cut. Readings close in time move together, so a stretch is worth fewer rows than it holds.")
    on += f"; {note}" if note else ""
    return Threshold(name=name, value=value, method=METHOD, chosen_on=on, flagged_share=flagged)
