"""Whether a stored threshold still keeps its promise on recent rows (``ad-duckdb check-threshold``): the alarms per
period (or share of rows) it flags there against the target it was set for, and whether that is outside the
interval its statement gave, with what to do.

Why: a threshold's promise drifts. On NAB's nyc_taxi, "3 a day" set on July's rows flags several times that a day
months later, and nothing said so until the pages came. ``show`` reads only what was stored, ``evaluate`` needs
labels and ``score``'s drift note watches the columns' ranges against training; none scores recent unlabelled rows
against the threshold's own target. Never imports torch.

What is compared:
- alarm_rate with a time column: the alarms per period here against the stored 95% interval for a later stretch as
  long as the one it was set on (a stretch here at least as long), for one later period (a period or less), or
  between the two for a stretch between (``alarmpromise.between``): the interval from how the stretch's periods
  varied and its rows' correlation in time (``alarmperiods``).
- alarm_rate as a share, contamination, quantile and flag_budget: the share flagged here against the target share
  (contamination's and flag_budget's target, a quantile's 1 - q, an alarm_rate's rate), outside when the share's
  95% interval here, Wilson's on the rows' effective count (fewer than the rows by how their flags move together at
  their lag-1 correlation in time: ``alarmperiods.inflation``; with no time column, as independent rows), and the
  target's own (of the rows it was set on, or the training rows) give the 95% interval of their difference
  (Newcombe's MOVER), outside when it leaves out 0.
- a cut typed in (manual, carried by a retrain or not): the share flagged here against the share of training rows
  it flags, as a quantile's; a version without its training scores' quantiles (an older build's) says so.
- other methods (chosen on labels for precision, recall, F1 or cost): no rate was promised; the share and alarms
  flagged are said, against the share the threshold flagged where it was chosen, without a verdict.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import numpy as np

from . import (
    alarmepisodes,
    alarmfold,
    alarmperiods,
    alarmpromise,
    alarmrate,
    alarmseries,
    alarmspan,
    alarmtimes,
    alarmzone,
    categorical,
    checkweights,
    optionwords,
    pysource,
    store,
    typedpaths,
    weights,
)
from .closenames import did_you_mean
from .exceptions import BadInputError, NoRowsError, OptionError
from .featureread import feature_batches
from .numberhints import is_point_in_time
from .scoring import LoadedModel
from .sourcecols import feature_columns
from .sourcedescribe import describe
from .sqltext import sql_names
from .thresholds import wilson

# the part of an alarm_rate statement holding its intervals for later periods (alarmrate._by_period)
_BY_PERIOD = re.compile(r"by (hour|day|week) \(readings close in time move together\): its (\d+) whole \w+ gave "
                        r"\S+ to \S+ alarms an? \w+, so 95% ([\d.,]+)-([\d.,]+) on a later \w+ and ([\d.,]+)-"
                        r"([\d.,]+) an? \w+ over a later stretch")
# and the rows' interval (alarmrate.choose), for a stretch of fewer than 3 whole periods
_ROWS = re.compile(r"\(95% ([\d.,]+)-([\d.,]+) on stretches like it if rows were independent\)")


@dataclass(frozen=True)
class ThresholdCheck:
    """What ``check`` found: the threshold's target, what it flags on the rows checked, the 95% interval that
    is compared (``expected_lo``, ``expected_hi``; None where no rate was promised), and ``outside`` (None: no
    verdict). ``measured`` is in the target's unit: alarms per ``per`` (hour, day, week), or a share of rows; of a
    share, ``measured_lo`` and ``measured_hi`` are its interval here, and ``outside`` means the 95% interval of
    its difference from the target's leaves out 0."""

    model: str
    threshold: str
    method: str
    target: str
    rows: int
    flagged: int
    per: str | None
    measured: float
    expected_lo: float | None
    expected_hi: float | None
    outside: bool | None
    episodes: int | None
    message: str
    # of a share: its own 95% interval here, beside the target's (expected_lo, expected_hi)
    measured_lo: float | None = None
    measured_hi: float | None = None


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _stored_interval(chosen_on: str, periods_here: float) -> tuple[float, float, str] | None:
    """The alarm_rate statement's 95% interval of alarms per period that fits a stretch of ``periods_here`` periods:
    over a later stretch as long where this one is at least as long as the one it was set on, for one later period
    (wider, so a shorter stretch is not called drifted by its own noise) where it is a period or so, and between
    them for a stretch between (alarmpromise.between); the rows' interval where the statement has no periods' one.
    None for a statement of no such interval (an older or hand-edited one)."""
    flat = " ".join(chosen_on.split())
    m = _BY_PERIOD.search(flat)
    if m is not None:
        return alarmpromise.between((_num(m[3]), _num(m[4])), (_num(m[5]), _num(m[6])), periods_here, int(m[2]), m[1])
    m = _ROWS.search(flat)
    if m is not None:
        return _num(m[1]), _num(m[2]), "on stretches like its own if rows were independent"
    return None


def _typed(t: store.Threshold) -> bool:
    """A cut typed in, carried by a retrain or not: judged by the share of training rows it flags, as a quantile is.

    Why: a retrain's carried cut moves to keep that share (thresholds.carried; it stays 'manual'), and had this
    verdict as a 'quantile'; a cut typed in and never carried got none ("promised no rate"), though it flags a known
    share of the training rows (stored with it), which a drift of the rows moves as it does a quantile's."""
    return t.method == "manual"


def _target_share(lm: LoadedModel, t: store.Threshold, goal: Any) -> float | None:
    """The share of rows a threshold promised to flag; None for a method that promised none."""
    if t.method == "alarm_rate":
        want = alarmrate.from_goal(goal) if isinstance(goal, dict) else None
        return None if want is None else want.rate
    if (t.method == "quantile" or _typed(t)) and lm.quantiles is not None:
        return lm.share_above(t.value)
    if t.method in ("contamination", "flag_budget"):
        target = goal.get("target") if isinstance(goal, dict) else None
        if isinstance(target, (int, float)) and 0 < target < 1:
            return float(target)
        # as stored by train ("(contamination=0.01)") and by set_threshold ("(contamination 0.01)")
        m = re.search(r"\(contamination[= ]([\d.e-]+)\)", t.chosen_on or "")
        return float(m[1]) if m else t.flagged_share
    return None


def check(con: duckdb.DuckDBPyConnection, lm: LoadedModel, name: str, source: str, where: str | None,
          time: str | None, db_text: str, series: str | Literal[False] | None = None,
          tz: str | None = None, timestamps_in: str | None = None,
          weight: str | Literal[False] | None = None, model: str | None = None) -> ThresholdCheck:
    """Score the rows of ``source`` (``where``) and compare what threshold ``name`` of ``lm`` flags there with its
    promise (the module's docstring). ``time``: the rows' DATE or TIMESTAMP column (default: an alarm_rate goal's);
    ``db_text``: the database as the suggested command names it; ``series``: the column telling several series
    apart (default: an alarm_rate goal's; False: none, the rows one series), within each of which episodes are
    runs; ``tz``: the zone whose days count
    (default: an alarm_rate goal's, else a TIMESTAMPTZ's session zone); ``timestamps_in``: the zone of a TIMESTAMP's
    wall-clock times (default: the goal's); ``weight``: the rows' sample-weight column (default: the goal's, where
    the rows hold it; False: none, each row one row); ``model``: ``lm`` as the caller named it ('m' or 'm@1')."""
    lm.threshold(name)  # an unknown name: the message listing the known ones
    t = lm.rec.threshold(name)
    assert t is not None
    goals = lm.rec.metrics.get(store.GOALS)
    goal = goals.get(name) if isinstance(goals, dict) else None
    want = alarmrate.from_goal(goal) if t.method == "alarm_rate" and isinstance(goal, dict) else None
    time = time if time is not None else (want.time if want is not None else None)
    who = f"Checking threshold {name!r} of {lm.ref!r}"
    # series=False (CLI --no-series): the rows as one series, whatever column the goal names (one that looked like a
    # series key and is none, or that these rows lack)
    one_series = series is False
    named: str | None = None if series is False else series
    for arg, given in (("series", named), ("tz", tz), ("timestamps_in", timestamps_in)):
        if given is not None and time is None:  # silently unused before: no rows' times to read them with
            raise OptionError(f"{who}: {optionwords.opt(arg)} reads the rows' times; name their DATE or TIMESTAMP "
                              f"column with {optionwords.opt('time')}.")
    from_goal = named is None and not one_series and isinstance(goal, dict) and isinstance(goal.get("series"), str)
    if from_goal:
        named = goal["series"]  # type: ignore[index]
    cur = pysource.cursor(con, source)
    try:
        cols = describe(cur, source, lm.ref, caller=con)
        feats = feature_columns(cols, lm, source, cur)
        also: tuple[str, ...] | None = None
        scol = local = stored = days_in = None
        if time is not None:
            found = {c.lower(): (c, ty) for c, ty in cols}.get(time.lower())
            if found is None:
                raise BadInputError(f"{who}: time column {time!r} is not in {source!r}; name its DATE or TIMESTAMP "
                                    f"column with {optionwords.opt('time')}; its columns: "
                                    f"{sql_names(c for c, _ in cols)}."
                                    f"{did_you_mean(time, [c for c, _ in cols])}")
            if not is_point_in_time(found[1]):
                raise BadInputError(f"{who}: time column {found[0]!r} of {source!r} is {found[1]}, not a DATE or "
                                    f"TIMESTAMP; pass one ({optionwords.opt('time')}), or a query that makes one.")
            scol = None if named is None else alarmseries.check_column(
                who, source, named, cols, found[0],
                "; it is the one the threshold was set with: to read these rows as one series, pass "
                f"{optionwords.opt('series', False)}" if from_goal else "")
            # days in the zone the threshold was set with (its goal's tz, else a TIMESTAMPTZ's session zone), so
            # that a day here is a day as it was there (alarmspan)
            if tz is None and isinstance(goal, dict) and isinstance(goal.get("tz"), str):
                tz = goal["tz"]
            if timestamps_in is None and isinstance(goal, dict) and isinstance(goal.get("timestamps_in"), str):
                timestamps_in = goal["timestamps_in"]
            stored = alarmzone.stored_in(con, found[0], found[1], timestamps_in, who)
            days_in = alarmzone.zone(con, found[1], tz, who, stored)
            local = alarmzone.local_sql(found[0], found[1], days_in, stored)
            also = alarmtimes.sql(found[0], local, scol, stored)
        # the goal's sample weights where these rows hold the column (a sample of the later rows, as the stretch
        # was); rows without it are each one row (every reading, checked against a cut set on a sample of them);
        # weight= names another column, or (False) none
        wcol = checkweights.column(goal, cols, weight, lm.ref, source)
        parts, when, read_s, read_l, read_w = ([np.empty(0)] for _ in range(5))
        read_src, read_where = categorical.read_source(lm.rec.features, source, where)  # text features as numbers
        for M in feature_batches(cur, read_src, [*feats, *([wcol] if wcol else [])], read_where, who=who, also=also):
            if also:
                M, at, wall, series_id = alarmtimes.split(M, bool(local), bool(scol))
                when.append(at)
                read_l.append(wall)
                read_s.append(series_id)
            if wcol:  # read last of the columns, before the times
                read_w.append(M[:, -1].copy())  # a view would keep the batch's features alive
                M = M[:, :-1]
            parts.append(lm.scores(categorical.inputs(lm.rec.features, M)).astype(np.float64))
    finally:
        cur.close()
    s, seconds = np.concatenate(parts), np.concatenate(when)
    series_of = np.concatenate(read_s) if scol else None
    local_of = np.concatenate(read_l) if local else None
    if stored is not None:  # the hour the clocks repeat: its two passes' readings at their own instants
        seconds, local_of = alarmfold.unfold(seconds, local_of, series_of, stored, days_in, who, time or "",
                                              source)
    rows_of = f"{source!r}{f' with where={where!r}' if where else ''}"
    w = None
    if wcol is not None and len(s):
        w = np.concatenate(read_w)
        weights.check_values(lm.ref, source, where, wcol, w)
        counts = w > 0  # a row of weight 0 counts as none, as where the threshold was set
        s, w = s[counts], w[counts]
        seconds = seconds[counts] if len(seconds) else seconds
        series_of = None if series_of is None else series_of[counts]
        local_of = None if local_of is None else local_of[counts]
    if len(s) == 0:
        raise NoRowsError(f"{who}: {rows_of} has no rows; check the source and the filter "
                          f"({optionwords.opts('source', 'where')}).")
    flags = s > t.value  # is_anomaly_at's rule; a NaN score flags nothing, as in SQL
    n, k = len(s), int(flags.sum())
    total = float(n if w is None else w.sum())  # the rows these stand for
    share = k / n if w is None else float(w[flags].sum()) / total
    covered = per = held = None
    if len(seconds) and np.isfinite(seconds).sum() >= 2:
        per = want.per if want is not None and want.per else "day"
        # the time covered as alarm_rate counts it: its breaks left out, by day whole days of rows, an edge day by
        # its rows (weighed) against a whole day's
        held = alarmspan.cover(seconds, local_of, per, alarmrate.PERIODS[per], w)
        covered = held.covered if held is not None and held.covered > 0 else None
        per = per if covered is not None else None
    rho = alarmperiods.lag1(alarmrate._in_time(s, seconds, series_of)) if covered is not None else 0.0
    episodes = (alarmepisodes.count(flags, seconds, w is not None, series_of) if covered is not None else None)
    rows_per = None if covered is None or per is None else total * alarmrate.PERIODS[per] / covered
    a = f"{'an' if per == 'hour' else 'a'} {per}" if per else ""
    here = (f"{k:,} of the {n:,} rows of {rows_of}" + checkweights.said(wcol, w, share, total, weight is None)
            + (f" ({alarmrate._period_text(covered)}"
               + (f"; {alarmrate.weekends_unknown()}" if held is not None and held.weekends_unknown else "") + ")"
               if covered is not None else ""))
    rate_text = f"{share:.3%} of rows" + (f", {share * rows_per:.3g} alarms {a}" if rows_per is not None else "")
    if episodes is not None and rows_per is not None:
        rate_text += f" in {episodes} episodes ({episodes * rows_per / n:.3g} {a})"
    elif rows_per is not None and per is not None and w is None:
        # why no episodes, and the fix, as the statement it was set with says (they were left out unsaid)
        rate_text += alarmepisodes.text(None, k, per, rows_per, n, alarmepisodes.shared_times(seconds, series_of),
                                        scol)
    head = f"Threshold {name!r} of {lm.ref} ({t.method}"
    if want is not None and want.alarms is not None and rows_per is None:
        raise BadInputError(f"{who}: its target is {want.said()}, but the {n} row(s) of {rows_of} cover no period "
                            f"of {time!r} to count them over (all at one time, or no time); widen the filter "
                            f"({optionwords.opt('where')}) to a stretch of several periods.")
    target_share = _target_share(lm, t, goal)
    # the version checked: a pinned m@1 chosen again as 'm' stored the cut on the version 'm' means (a newer one)
    checked = lm.name if (model or lm.ref).strip().lower() == lm.name.lower() else lm.ref
    redo = _redo(db_text, checked, name, want, target_share, source, where, time, named, tz, wcol, timestamps_in)
    if want is not None and want.alarms is not None and rows_per is not None and per is not None:
        target = want.said()
        measured = share * rows_per
        kept = alarmpromise.read(goal, t.value)
        got = None if not covered else (
            alarmpromise.interval(kept, covered / alarmrate.PERIODS[per], alarmperiods.MIN_PERIODS)
            if kept is not None and kept.get("per") == per
            else _stored_interval(t.chosen_on or "", covered / alarmrate.PERIODS[per]))
        if got is None:
            return ThresholdCheck(lm.ref, name, t.method, target, n, k, per, measured, None, None, None, episodes,
                                  f"{head}, target {target}): flags {here}: {rate_text}. Its statement holds no "
                                  f"interval to compare with; choose it again to get one: {redo}")
        lo, hi, which = got
        if w is None and covered:
            # Why whole: a stretch's alarms are a whole count, and an end read between whole counts left out counts
            # its mid-p value keeps (a later period's end is the whole count nearest it, alarmperiods.mid_p_end):
            # 0.2 an hour checked on 2 quiet hours was outside 0.0215-0.955 an hour (0.04 alarms over them), "fewer
            # alarms than promised" for 2 stretches of 3 that flagged none as the target has them do
            span = covered / alarmrate.PERIODS[per]  # the periods here
            lo, hi = (alarmperiods.mid_p_end(end * span) / span for end in (lo, hi))
        if kept is None and held is not None and held.hours and "its rows fall at" not in (t.chosen_on or ""):
            # Why said: a statement with no promise kept as data was written before 2026-12-05, by a build that
            # counted the time a stretch covered first to last: rows at some hours of each day had their nights in,
            # a business week 4.33 days where it is 5 days of rows here, so its interval is of other days than these
            which += (" (read off its statement, written by an older build, which counted the days it was set on "
                      "first to last, nights in: these rows fall at some hours of each day, and a day is now a day "
                      "of rows, a business week 5 where it counted 4.33; choose it again for an interval of days "
                      f"counted alike: {redo})")
        outside = not lo * (1 - 1e-12) <= measured <= hi * (1 + 1e-12)  # a count at a whole end, in floats
        return ThresholdCheck(lm.ref, name, t.method, target, n, k, per, measured, lo, hi, outside, episodes,
                              _said(head, target, here, rate_text, outside, measured > hi,
                                    f"its 95% {_n(lo)}-{_n(hi)} alarms {a} {which}", redo))
    if target_share is None and _typed(t):  # a version stored without its training scores' quantiles
        return ThresholdCheck(lm.ref, name, t.method, "", n, k, per if rows_per else None,
                              share * rows_per if rows_per else share, None, None, None, episodes,
                              f"{head}): flags {here}: {rate_text}. A cut typed in is judged by the share of "
                              f"training rows it flags, which {lm.ref} cannot tell: it was stored without its "
                              "training scores' quantiles (by an older build); train it again for a verdict.")
    if target_share is None:
        stored = "" if t.flagged_share is None else f"; it flagged {t.flagged_share:.3%} of the rows it was chosen on"
        return ThresholdCheck(lm.ref, name, t.method, "", n, k, per if rows_per else None,
                              share * rows_per if rows_per else share, None, None, None, episodes,
                              f"{head}): flags {here}: {rate_text}{stored}. Method {t.method!r} promised no rate "
                              "of alarms to check; for one, set a threshold by alarm_rate on rows believed normal.")
    # a cut typed in promised no share itself: the one of its training rows it flags stands for it
    target = f"{target_share:.3%} of rows" + (", the share of training rows it flags" if _typed(t) else "")
    # the rows' effective count: fewer than the rows by how their flags move together in time
    size = n if w is None else weights.effective(w)  # Kish's, of a weighted sample
    eff = size / alarmperiods.inflation(size, rho, min(max(target_share, 1e-9), 1 - 1e-9))
    lo, hi = wilson(share * eff, eff)
    t_lo, t_hi, of = _target_interval(lm, t, target_share, alarmpromise.read(goal, t.value))
    # Why the difference's interval (Newcombe's MOVER, from the two Wilson intervals), not the target outside the
    # share's interval here: the cut was itself fitted on a few hundred or thousand rows, so its share on rows like
    # those is uncertain too; and not two intervals apart, which a real doubling on 672 rows never was
    p2 = t.flagged_share if t.flagged_share is not None and t_lo <= t.flagged_share <= t_hi else target_share
    d = share - p2
    d_lo = d - float(np.hypot(share - lo, t_hi - p2))
    d_hi = d + float(np.hypot(hi - share, p2 - t_lo))
    outside = d_lo > 0 or d_hi < 0
    why = (f"its share here has 95% {lo:.3%}-{hi:.3%}"
           + (f" (on the {eff:,.0f} independent rows these are worth at their lag-1 correlation {rho:.3g})"
              if rho > 0 else "")
           + f", the target's own 95% {t_lo:.3%}-{t_hi:.3%}{of}, their difference's {d_lo:+.3%} to {d_hi:+.3%}")
    return ThresholdCheck(lm.ref, name, t.method, target, n, k, None, share, t_lo, t_hi, outside, episodes,
                          _said(head, target, here, rate_text, outside, d_lo > 0, why, redo, share_target=True),
                          measured_lo=lo, measured_hi=hi)


# an alarm_rate statement's rows' share and its interval (alarmrate.choose)
_SHARE = re.compile(r"flags \d+ of (\d+) rows \([\d.]+%, 95% ([\d.]+)%-([\d.]+)%")


def _target_interval(lm: LoadedModel, t: store.Threshold, share: float,
                     kept: dict[str, Any] | None = None) -> tuple[float, float, str]:
    """The 95% interval of the share the threshold flags on rows like those it was set on, and what they were: an
    alarm_rate's as its promise (``kept``, alarmpromise) or else its statement gives it, a training share's Wilson's
    on the training rows; the target alone where neither is known (flag_budget: a cap chosen on labelled rows)."""
    if t.method == "alarm_rate" and kept is not None and kept.get("share"):
        return float(kept["share"][0]), float(kept["share"][1]), f" (of the {kept['rows']:,} rows it was set on)"
    m = _SHARE.search(" ".join((t.chosen_on or "").split()))
    if t.method == "alarm_rate" and m is not None:
        return float(m[2]) / 100, float(m[3]) / 100, f" (of the {int(m[1]):,} rows it was set on)"
    rows = lm.rec.train_rows
    if (t.method in ("contamination", "quantile") or _typed(t)) and rows:
        lo, hi = wilson(share * rows, rows)
        return float(lo), float(hi), f" (of its {rows:,} training rows)"
    return share, share, ""


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _said(head: str, target: str, here: str, rate_text: str, outside: bool, above: bool, interval: str,
          redo: str, share_target: bool = False) -> str:
    what = f"{head}, target {target}): flags {here}: {rate_text}; "
    if not outside:
        return what + (f"inside {interval}" if not share_target else f"{interval}, which holds 0") + \
            ": it keeps its promise on these rows."
    side = "more" if above else "fewer"
    where = ("outside " + interval) if not share_target else f"{interval}, which leaves out 0"
    return (what + f"{where}: {side} alarms than promised. These rows score otherwise than those it was set on "
            f"(they drifted, or hold anomalies); if they are normal, choose it again on them: {redo}")


def _redo(db: str, model: str, name: str, want: alarmrate.Target | None, share: float | None, source: str,
          where: str | None, time: str | None, series: str | None = None, tz: str | None = None,
          weight: str | None = None, timestamps_in: str | None = None) -> str:
    """The command choosing the threshold again on these rows: for the same target (alarm_rate), or for the same
    share of them (a share of the training rows then set on rows like these); ``model``: the version checked, as
    ``ad-duckdb threshold`` names it."""
    words = ["ad-duckdb", "threshold", db, model, name, "--method", "alarm_rate"]
    if want is not None and want.alarms is not None:
        words += [f"--per-{want.per}", f"{want.alarms:g}", "--time", want.time or time or "ts"]
    else:
        words += ["--rate", f"{(share if share is not None else 0.01) * 100:.4g}%", *(["--time", time] if time else [])]
    timed = bool(time or want)  # --series and --tz read the rows' times
    words += ["--source", source] + (["--where", where] if where else [])
    words += (["--series", series] if series and timed else []) + (["--tz", tz] if tz and timed else [])
    words += ["--timestamps-in", timestamps_in] if timestamps_in and timed else []
    words += ["--weight", weight] if weight else []
    return " ".join(_quoted(w) for w in words)


def _quoted(word: str) -> str:
    """``word`` as a shell reads it back: a filter of SQL strings in double quotes ("ts >= '2014-02-01'"), which
    read as typed, where shlex.quote's '"'"' did not."""
    if "'" in word and not any(c in word for c in '"$`\\!'):
        return f'"{word}"'
    return shlex.quote(word)


def check_threshold(con: duckdb.DuckDBPyConnection, model: str, name: str, source: str, *, where: str | None = None,
                    time: str | None = None, series: str | Literal[False] | None = None,
                    tz: str | None = None, timestamps_in: str | None = None,
                    weight: str | Literal[False] | None = None) -> ThresholdCheck:
    """Whether threshold ``name`` of ``model`` keeps its promise on the rows of ``source`` (``where``: e.g. last
    week's): the alarms per period (alarm_rate's target) or the share of rows (contamination, quantile,
    flag_budget, an alarm_rate ``rate``) it flags there, against the 95% interval it promised; ``outside`` says
    whether that is left, and ``message`` says it with the command that chooses the threshold again on these rows.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to the database holding the model.
    model, name : str
        The model ('name' or 'name@N') and the threshold's name.
    source : str
        A table, view or query of the rows to check on (unlabelled; believed normal for the verdict to mean drift).
    where : str, optional
        An SQL filter on ``source``.
    time : str, optional
        The rows' DATE or TIMESTAMP column; default: the one an alarm_rate threshold was set with.
    series : str or False, optional
        The column telling apart several series in one table (a sensor's id), within each of which episodes are
        runs; default: the one an alarm_rate threshold was set with. ``False``: none, the rows read as one series
        in time order (a column set as the series that is none, or rows without it).
    tz : str, optional
        The time zone whose days are counted (e.g. 'America/Los_Angeles'); default: the one an alarm_rate threshold
        was set with, else a TIMESTAMPTZ column's session zone, a TIMESTAMP's own wall time (with ``tz``, a TIMESTAMP
        is taken as UTC unless ``timestamps_in`` names its zone).
    timestamps_in : str, optional
        The zone whose wall-clock times a TIMESTAMP time column holds (e.g. 'Europe/Paris'); default: the one an
        alarm_rate threshold was set with; without one, ``tz`` takes them as UTC.
    weight : str or False, optional
        The column of ``source`` holding each row's sample weight (a 1-in-4 sample: 4); default: the one an
        alarm_rate threshold was set with, where ``source`` holds it. ``False``: none, each row counted as one.
    """
    from .connarg import check_connection
    from .udfs import registry

    con = check_connection(con, "check_threshold")
    return check(con, registry(con).get(model), name, source, where, time, typedpaths.cli_db(con), series, tz,
                 timestamps_in, weight, model)
