"""``set_threshold``: a named threshold stored for a model version, by hand, on the training-score
quantiles, or for a goal on labelled rows (``goalthreshold``) or a rate of alarms (``alarmrate``); the options each
method takes, refused by name when given to another."""

from __future__ import annotations

import numbers
from typing import Any

import duckdb
import numpy as np

from . import alarmrate, attachedmodels, canwrite, costs, interrupts, notes, optionwords, relfiles, thresholdrows, thresholds
from . import sampled as sampling
from .connarg import check_connection
from .exceptions import BadInputError, OptionError
from .goalthreshold import _goal_threshold
from .store import Threshold
from .udfs import refresh, registry


@attachedmodels.names_the_file
def set_threshold(
    con: duckdb.DuckDBPyConnection,
    model: str,
    name: str,
    method: str,
    *,
    value: float | None = None,
    target: float | None = None,
    source: str | None = None,
    label: str | None = None,
    where: str | None = None,
    confident: bool = False,
    miss_cost: float | None = None,
    alarm_cost: float | None = None,
    anomaly_share: float | None = None,
    rate: float | str | None = None,
    per_hour: float | None = None,
    per_day: float | None = None,
    per_week: float | None = None,
    time: str | None = None,
    progress: bool = False,
    weight: str | None = None,
    series: str | None = None,
    tz: str | None = None,
    timestamps_in: str | None = None,
    sampled: str | None = None,
) -> Threshold:
    """Store a named threshold for a model version (``'name'`` means its latest version).

    ``method``: ``manual`` (``value``), ``quantile`` / ``contamination`` (``target``: a quantile of
    training scores, or the share of training rows to flag), or a goal on labelled rows of ``source``:
    ``max_f1``, ``min_precision`` / ``min_recall`` (``target``), ``flag_budget`` (``target``: the largest share to
    flag; the cut of best F1 among those within it).
    ``min_cost`` (``miss_cost``, ``alarm_cost``: what a missed anomaly and a false alarm cost, e.g. 400 and 5): the
    cut of lowest ``missed x miss_cost + false alarms x alarm_cost`` per row of the labelled rows, or, with
    ``anomaly_share`` (e.g. 0.002), of rows holding that share of anomalies (labelled rows richer in anomalies than
    live traffic otherwise put the cut too low); its ``chosen_on`` ends with what that cut costs per row and per
    10,000 rows.
    ``alarm_rate``: a rate of alarms on rows the model did not train on, believed normal or mostly normal (``source``,
    ``where``): ``rate`` (a share of them, 0.005 or ``'0.5%'``) or alarms per period (``per_day=3``, ``per_hour``,
    ``per_week``) over their ``time`` column (DATE or TIMESTAMP). Its ``chosen_on`` records the rows, the period they
    cover, the target and the rate achieved with its 95% interval if rows were independent, and with ``time`` 95%
    intervals for a later day (hour, week) and for a later stretch as long, the wider of a t over how the stretch's
    days vary and of the count of its alarms on the independent rows it is worth by the rows' autocorrelation in
    time (readings close in time move together, so these are the wider, truer ones); a stretch of fewer than 20
    alarms' worth of rows warns that the cut is uncertain. ``weight``: rows that are a sample of the stretch (1 in 4
    kept: 4), each counted as that many rows, in the cut, the rows a day and the periods' rates, the intervals on
    Kish's effective size. ``series``: the column telling apart several series in one table (``series='sensor'``),
    within each of which episodes (runs of flagged readings) are counted and the rows' autocorrelation read; the
    target counts the whole table's alarms. ``tz``: the time zone whose days the weekend and volume checks read
    (default: a TIMESTAMPTZ column's session zone, a TIMESTAMP's own wall time; with ``tz`` a TIMESTAMP is taken
    as UTC, as its ``chosen_on`` says). ``timestamps_in``: the zone whose wall-clock times a TIMESTAMP column holds
    (``'Europe/Paris'`` for a Paris logger's), whose days count unless ``tz`` names others: each time is read as that
    zone's, so a DST change's 23- and 25-hour days are as long as they were. A retrain with ``carry_thresholds`` chooses it again on the same rows.
    ``confident=True`` (min_precision / min_recall): the lower end of the figure's 95% interval must meet the target,
    so few labels give a more cautious threshold rather than a lucky one.
    A goal's labelled rows: ``label`` names the column of ``source`` holding 1 (anomaly) or 0 (normal), and
    ``where`` (optional) filters ``source``'s rows. A method takes only the arguments it uses; others are refused.
    ``progress=True``: the labelled rows scored so far on stderr, as ``score(progress=True)`` prints them.
    ``weight`` (a goal on labelled rows, or alarm_rate): the column of ``source`` holding each row's sample weight (normal rows
    sampled 1 in 50: 50), each row counted as that many rows, as ``evaluate(weight=)``; its ``chosen_on`` says so,
    and a retrain with ``carry_thresholds`` weighs the rows again.
    ``sampled`` (a goal on labelled rows, with ``weight``): which rows the sample drew, as ``evaluate(sampled=)``:
    ``'rows'`` (the default, an audit) or ``'normal'`` (every anomaly kept at one weight, the normal rows sampled by
    their own strata), whose intervals (``confident=True``'s lower ends, and those printed) are evaluate's of
    ``sampled='normal'``: recall's Wilson's of the anomalies drawn, not widened for misses an audit may not have
    drawn. Its ``chosen_on`` says so, and a retrain with ``carry_thresholds`` reads the rows the same way.
    """
    with interrupts.raised_as_interrupt("set_threshold", model):
        con = check_connection(con, "set_threshold")
        lm = registry(con).get(model)
        if not isinstance(name, str) or not name or len(name) > 64:
            raise OptionError(f"Threshold name {name!r} must be a non-empty string of at most 64 characters.")
        # An option the method does not read is a mistake to report, not to drop: the stored threshold would
        # not be what was asked for.
        goal: dict[str, Any] | None = None  # what a threshold chosen on labels was chosen for (carry_thresholds)
        uses = {"manual": {"value"}, "quantile": {"target"}, "contamination": {"target"},
                "max_f1": {"source", "label", "where", "weight", "sampled"},
                "min_precision": {"target", "source", "label", "where", "confident", "weight", "sampled"},
                "min_recall": {"target", "source", "label", "where", "confident", "weight", "sampled"},
                "flag_budget": {"target", "source", "label", "where", "weight", "sampled"},
                "min_cost": {"source", "label", "where", "miss_cost", "alarm_cost", "anomaly_share", "weight",
                             "sampled"},
                alarmrate.METHOD: {"source", "where", "rate", "per_hour", "per_day", "per_week", "time",
                                   "weight", "series", "tz", "timestamps_in"}}.get(method)
        if not isinstance(confident, bool):
            raise OptionError(f"Threshold {name!r} for {lm.ref!r}: confident= must be True or False; got {confident!r}.")
        given = {k for k, v in {"value": value, "target": target, "source": source, "label": label, "where": where,
                                "confident": confident or None, "miss_cost": miss_cost, "alarm_cost": alarm_cost,
                                "anomaly_share": anomaly_share, "rate": rate, "per_hour": per_hour, "per_day": per_day,
                                "per_week": per_week, "time": time, "weight": weight, "series": series,
                                "tz": tz, "timestamps_in": timestamps_in, "sampled": sampled}.items()
                 if v is not None}
        if uses is not None and given - uses:
            raise OptionError(
                f"Threshold {name!r} for {lm.ref!r}: method {method!r} does not use "
                f"{optionwords.opts(*sorted(given - uses))}; it takes {optionwords.opts(*sorted(uses))}. Leave the "
                "others out, or pick the method that uses them."
            )
        for arg, v in (("value", value), ("target", target)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: {optionwords.opt(arg)} must be a number, e.g. "
                                  f"{optionwords.opt(arg, 0.9 if arg == 'target' else 3.5)}; got {v!r}.")
        if method == "min_cost":  # before the labelled rows are read and scored
            # as floats: a numpy integer is no JSON number, and the goal kept for a retrain would hold text
            pr = costs.prices(miss_cost, alarm_cost, anomaly_share,
                              f"Threshold {name!r} for {lm.ref!r}: method 'min_cost' needs")
            miss_cost, alarm_cost, anomaly_share = pr.miss_cost, pr.alarm_cost, pr.anomaly_share
        want = None
        if method == alarmrate.METHOD:  # before the rows are read and scored
            try:
                want = alarmrate.target(rate, per_hour, per_day, per_week, time)
            except OptionError as e:
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: {str(e)[:1].lower()}{str(e)[1:]}") from None
            if source is None:
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: method {method!r} is chosen on rows believed "
                                  f"normal that the model did not train on; pass {optionwords.opt('source')}, a table, "
                                  f"view or query, and optionally {optionwords.opt('where')}, e.g. last week's rows.")
        chk = interrupts.cursor(con)
        try:
            canwrite.check_can_write(chk, f"Cannot store threshold {name!r} for {lm.ref!r}")
        finally:
            chk.close()
        if method == "manual":
            if value is None or not np.isfinite(value):
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: method 'manual' needs a finite "
                                  f"{optionwords.opt('value')}, e.g. {optionwords.opt('value', 3.5)}; {optionwords.got(value)}.")
            # Why the share: a cut read off the --plots histogram is checked against the share the plot gave it
            th = Threshold(name=name, value=float(value), method="manual", chosen_on="set by hand",
                           flagged_share=None if lm.quantiles is None else lm.share_above(float(value)))
        elif method in ("quantile", "contamination"):
            if lm.quantiles is None:
                raise BadInputError(
                    f"Threshold {name!r} for {lm.ref!r}: method {method!r} reads the training-score quantiles stored with "
                    f"a model, and {lm.ref} has none (it was stored without them). Re-train it, or choose the threshold "
                    f"another way: method 'manual' with {optionwords.opt('value')}, or a goal on labelled rows such as "
                    f"'max_f1' with {optionwords.opt('source')} and {optionwords.opt('label')}."
                )
            if target is None or not (0.0 < target < 1.0):
                # the example fits the method: a contamination of 0.99 would flag 99% of rows, and 5 is likely 5%
                what = "the quantile of the training scores, e.g. 0.99"
                if method == "contamination":
                    pct = (f" (for {target:g}%, target={target / 100:g})" if target is not None and 1.0 <= target < 100.0
                           else "")
                    what = f"the share of training rows to flag, e.g. 0.01 for 1%; {optionwords.got(target)}{pct}"
                else:
                    what += f"; {optionwords.got(target)}{thresholds.percent_hint(target)}"
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: method {method!r} needs "
                                  f"{optionwords.opt('target')} in (0, 1), {what}{'' if what.endswith('?') else '.'}")
            q = 1.0 - target if method == "contamination" else target
            v = float(np.interp(q, np.linspace(0, 1, len(lm.quantiles)), lm.quantiles))
            th = Threshold(name=name, value=v, method=method, chosen_on=f"training scores ({method} {target:g})",
                           flagged_share=lm.share_above(v))
        elif want is not None and source is not None:
            for arg, given_col in (("series", series), ("tz", tz), ("timestamps_in", timestamps_in)):
                if given_col is not None and time is None:
                    raise OptionError(f"Threshold {name!r} for {lm.ref!r}: {optionwords.opt(arg)} reads the rows' "
                                      f"times; name their DATE or TIMESTAMP column with {optionwords.opt('time')}.")
            # kept: a retrain chooses it again on the same rows
            goal = relfiles.with_folder(alarmrate.goal(want, source, where, weight, series, tz, timestamps_in))
            th = alarmrate.choose(con, lm, name, want, source, where, progress=progress, weight=weight, keep=goal,
                                  series=series, tz=tz, timestamps_in=timestamps_in)
        elif method in thresholds.LABELLED:
            if source is None or label is None:
                raise OptionError(
                    f"Threshold {name!r} for {lm.ref!r}: method {method!r} is chosen on labelled rows; pass "
                    f"{optionwords.opt('source')} and {optionwords.opt('label')}. Without labels: method 'contamination' "
                    f"with {optionwords.opt('target')}, the share of training rows to flag, e.g. 0.01; 'quantile' with "
                    f"{optionwords.opt('target')}, a quantile of the training scores, e.g. 0.99; or 'manual' with "
                    f"{optionwords.opt('value')}, a cut read off the scores' histogram (`ad-duckdb score ... --plots "
                    "DIR`)."
                )
            try:  # before the labelled rows are read and scored
                if method in thresholds.TARGETED:
                    thresholds.goal_target(method, target)
            except OptionError as e:
                raise OptionError(f"Threshold {name!r} for {lm.ref!r}: {str(e)[:1].lower()}{str(e)[1:]}") from None
            # a plain float: a numpy number (np.float32(0.9)) was kept as the text '0.9', which a retrain with
            # carry_thresholds no longer read as a goal
            goal = {"method": method, "target": None if target is None else float(target), "source": source,
                    "label": label, "where": where, "confident": confident}
            if method == "min_cost":  # kept with the goal: a retrain chooses it again at the same costs
                goal |= {"miss_cost": miss_cost, "alarm_cost": alarm_cost, "anomaly_share": anomaly_share}
            if weight is not None:  # kept with the goal (only when given: a goal without it reads as before)
                goal["weight"] = weight
            if sampling.check(f"Threshold {name!r} for {lm.ref!r}", sampled, weight) is not None:
                goal["sampled"] = sampled  # as weight: only when given
            goal = relfiles.with_folder(goal)
            th = _goal_threshold(con, lm, name, goal, progress=progress)
        elif isinstance(method, numbers.Real) and not isinstance(method, bool):  # a cut read off a histogram
            raise OptionError(f"Threshold {name!r} for {lm.ref!r}: method is the way the threshold is chosen, not its value; "
                              f"for a value of your own: set_threshold(con, {model!r}, {name!r}, 'manual', "
                              f"value={method!r}). Methods: {', '.join(thresholds.METHODS)}.")
        else:
            raise BadInputError(thresholds.unknown_method(method))
        was = next((t for t in lm.rec.thresholds if t.name == name), None)
        if was is not None and name in ("default", *thresholds.QUANTILES):
            # Why said: these names carry a meaning fixed at training ('default' is what is_anomaly flags above, 'p99'
            # the training scores' 99th percentile); a goal or a hand value stored under one changes it for every query.
            effect = f"is_anomaly({lm.ref!r}, ...) now flags scores above {th.value:.6g}" if name == "default" else \
                f"{name!r} no longer names its quantile of the training scores"
            notes.warn(f"Threshold {name!r} for {lm.ref!r} replaces the stored one ({was.value:.6g}, "
                       f"{was.method}): {effect}. To keep it, store yours under another name, e.g. {name}_{method}.")
        cur = interrupts.cursor(con)
        try:
            thresholdrows.set_threshold(cur, lm.name, lm.version, th, goal)
        finally:
            cur.close()
        refresh(con, changed_only=True)
        return th
