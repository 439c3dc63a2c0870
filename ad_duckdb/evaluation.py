"""``evaluate``: precision, recall and AUC of a model on labelled rows, its report weighted or not, the costs
of ``miss_cost`` / ``alarm_cost``, and its notes on the rows (few anomalies, thresholds chosen on the same rows). The
maths is ``metrics``; this module reads the rows and writes the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from . import (
    alarmrate,
    attachedmodels,
    costintervals,
    costs,
    filegoals,
    goalcheck,
    indexcols,
    interrupts,
    intervals,
    leancurve,
    normalonly,
    optionwords,
    pysource,
    storetables,
    thresholds,
    weights,
)
from . import sampled as sampling
from .callerview import into_caller_schema
from .connarg import check_connection
from .drift import DriftTally
from .exceptions import NoTimesError, OptionError
from .goalthreshold import _is_goal
from .intotable import check_replace, check_target
from .invertedlabels import _inverted_labels
from .labelled import _labelled_scores
from .samesource import same_source
from .scoring import LoadedModel
from .sqltext import shown_source, source_sql, table_sql, where_sql
from .trainoverlap import _training_overlap

# Below this many labelled anomalies, evaluate says how little its recall figures can tell thresholds apart.
FEW_ANOMALIES = 30


@attachedmodels.names_the_file
@indexcols.keeps_times  # a frame indexed by its times (a pandas time series) is plotted over them (plots_dir=)
def evaluate(
    con: duckdb.DuckDBPyConnection,
    model: str,
    source: str,
    *,
    label: str,
    where: str | None = None,
    plots_dir: str | Path | None = None,
    into: str | None = None,
    replace: bool = False,
    time: str | None = None,
    miss_cost: float | None = None,
    alarm_cost: float | None = None,
    anomaly_share: float | None = None,
    progress: bool = False,
    weight: str | None = None,
    sampled: str | None = None,
) -> Any:
    """Precision, recall, F1, AUC-ROC and AUC-PR of ``model`` on labelled rows (1 = anomaly).

    ``source``: a table, view, table function, ``SELECT`` query, or a pandas or polars DataFrame by its variable's
    name (``'df'``), as for ``train``. ``label``: the name of its column holding 1 (anomaly) or 0 (normal), or
    ``true`` / ``false`` (a text label such as 'fraud' / 'ok' is refused with the query that maps it; rows whose
    label is NULL are refused with the filter that leaves them out). ``where``: a SQL filter of the rows to judge,
    text in single quotes (``"split = 'test'"``): rows the model was not trained on, for figures that are not
    optimistic.

    Rows all labelled 0 (known to be normal) give each threshold's false-alarm rate
    (``report.at_thresholds[name]['false_alarm_rate']``, with ``_lo`` and ``_hi``, its Wilson 95% interval); recall,
    F1 and both AUCs are NaN there, and ``report.table`` is empty (``normalonly``).

    Returns an ``ad_duckdb.metrics.Report`` (``print(report)`` shows the table; ``report.auc_roc``,
    ``report.auc_roc_interval``, ``report.auc_pr``, ``report.at_thresholds[name]['precision']``, and
    ``report.table``, the candidate thresholds: ``pd.DataFrame(report.table)``, each row's ``flagged_share`` the
    share of these labelled rows it flags and ``training_flagged_share`` that of the model's training rows (None for
    a model stored without score quantiles); ``report.pr_curve()`` and
    ``report.score_hist()``, the plots as matplotlib figures a notebook shows); ``into`` writes the
    candidate-threshold table to DuckDB (an existing table only with ``replace=True``) and ``plots_dir`` writes a
    precision-recall curve and a score histogram by label (PNG), and, for a source with one DATE/TIMESTAMP column (or the one ``time`` names), the
    scores over time with the labelled anomalies shaded (``<model>_v<version>_scores_over_time_labelled.png``, so
    that it leaves ``plot_scores_over_time``'s file in the same folder alone).

    ``miss_cost`` and ``alarm_cost`` (both or neither): what a missed anomaly and a false alarm cost, e.g. 400 and
    5; the report's ``costs`` (``metrics.Costs``) then gives each threshold's cost per row (its ``at_thresholds``
    entry's ``cost_per_row``), the cheapest cut, and the cost of flagging no row, and the plots mark the cheapest
    cut as ``lowest cost``. ``anomaly_share``: the share of anomalies in the rows the thresholds will judge (e.g.
    0.002), when the labelled rows hold more (or fewer); each threshold's ``at_thresholds`` entry then gets
    ``precision_at_share``, its precision at that share (from its recall and false-alarm rate on these rows), with
    its 95% interval (``precision_at_share_lo``, ``_hi``), and with the costs their misses and false alarms are
    weighed to it. ``report.auc_roc_interval_method`` names how the AUC-ROC interval was made.

    ``progress=True``: the rows scored so far on stderr, as ``score(progress=True)`` prints them (a bar on a
    terminal, a line every 30 s in a log).

    ``weight``: a column of ``source`` holding each row's sample weight, when the labelled rows are a sample (every
    fraud but 1 in 50 normal rows: weight 50 on those; an audit sample: 1 / inclusion probability). A row of weight w
    counts as w rows in every figure, as scikit-learn's metrics with ``sample_weight``; the intervals take Kish's
    effective sample size (sum w)^2 / sum w^2 of each class for the counts (``report.weights`` says so, with the
    weighted totals). Rows of weight 0 count as none; NULL, negative or infinite weights are refused.
    ``sampled`` (with ``weight``): which rows the sample drew. ``'rows'`` (the default): either class, as an audit
    (the alerts reviewed, 1 in k of the rest), whose intervals count the misses it may not have drawn; ``'normal'``:
    every anomaly kept at one weight and only the normal rows sampled, at their own strata's rates whatever the
    score: AUC-ROC's interval is then DeLong's and Newcombe's and recall's Wilson's of the anomalies drawn
    (``report.weights['sampled']``); anomalies of differing weights are refused there.
    """
    with interrupts.raised_as_interrupt("evaluate", model):
        con = check_connection(con, "evaluate")
        from . import timeplot
        from .plotfiles import plot, plots_folder

        if isinstance(into, str):  # after the caller's USE: as score(into=) (callerview.into_caller_schema)
            into = into_caller_schema(con, into)
        check_replace(into, replace, f"Evaluating {model!r}")
        sampling.check(f"evaluate {model!r}", sampled, weight)
        both = "what a missed anomaly and a false alarm cost (e.g. 400 and 5)"
        if (miss_cost is None) != (alarm_cost is None):
            given, other = ("miss_cost", "alarm_cost") if alarm_cost is None else ("alarm_cost", "miss_cost")
            raise OptionError(f"evaluate {model!r}: {optionwords.opt(given)} goes with {optionwords.opt(other)}: give "
                              f"both, {both}, or neither.")
        # before the rows are read and scored
        share = costs.share(anomaly_share, f"evaluate {model!r} needs")
        prices = None if miss_cost is None else costs.prices(miss_cost, alarm_cost, anomaly_share,
                                                             f"evaluate {model!r} needs")
        if into is not None:
            check_target(con, into, replace, source, what="thresholds")
        timeplot.without_plots(model, time, plots_dir)
        over_time: tuple[str | None, str | None] = (None, None)
        if plots_dir is not None:
            plots_folder(plots_dir, model)
            over_time = timeplot.choose(con, model, source, time)
        tally: list[DriftTally] = []
        repeats: list[str] = []
        read_w: list[np.ndarray] = []
        lm, s, y = _labelled_scores(con, model, source, label, where, tally, repeats,
                                    progress="evaluating " if progress else None, weight=weight,
                                    weights_read=read_w)
        w = read_w[0] if read_w else None
        if w is not None:
            sampling.check_anomalies(f"evaluate {lm.ref!r}", weight, sampled, y, w)  # type: ignore[arg-type]
            summary = weights.summary(weight, y, w)  # type: ignore[arg-type]
            if sampled is not None:  # only when said: the JSON of an evaluation without it stays as it was
                summary["sampled"] = sampled
            s, y, w = s[w > 0], y[w > 0], w[w > 0]  # a row of weight 0 counts as none, in the notes too
        # rows known to be normal answer one question, each threshold's false-alarm rate (normalonly)
        normal_only = len(y) > 0 and set(np.unique(y).tolist()) == {0}
        if normal_only:
            rep = normalonly.report(lm, s, w, share)
            if w is not None:
                rep.keep_weights(summary)
        else:
            thresholds.check_labels(s, y, f"evaluate {lm.ref!r}")
            rep = (_report(lm, s, y, share) if w is None
                   else _weighted_report(lm, s, y, w, summary, share, sampled))
        at, auc, table = rep.at_thresholds, rep.auc_roc, rep.table
        for r in table:  # beside the labelled rows' share: the traffic's, which a budget of alerts is planned on
            # None (JSON null, SQL NULL) for a model stored without its training-score quantiles
            r["training_flagged_share"] = (None if lm.quantiles is None  # type: ignore[assignment]
                                           else lm.share_above(r["threshold"]))
        marked = dict(lm.thresholds)
        if prices is not None:
            rep.costs = _costs(s, y, at, prices) if w is None else _costs(s, y, at, prices, w)
            marked["lowest cost"] = rep.costs.best["value"]
        rep.keep_scores(s, y, marked, shown_source(source, where), w, sampled)
        if rep.anomalies == rep.rows:
            rep.notes.append("No row here is labelled normal (0), so every threshold's precision is 1 and AUC-ROC and "
                             "AUC-PR say nothing; the recall figures hold. Add normal rows (label 0) to judge precision.")
        if normal_only:
            rep.notes.append(normalonly.NOTE)
        rep.notes += repeats
        inverted = None if normal_only else _inverted_labels(lm, label, s, y, auc, rep.auc_roc_ci)
        if inverted:
            rep.notes.append(inverted)
        few = None if normal_only else _few_anomalies(rep.anomalies, rep.weights)
        if few:
            rep.notes.append(few)
        # the rows without the source: the report is about them, and a source spelled two ways gives the same notes
        moved = tally[0].note("rows labelled normal (0)")
        if moved:
            rep.notes.append(moved)
        overlap = _training_overlap(con, lm, source, where, label)
        if overlap:
            rep.notes.append(overlap)
        rows_text = f"{source}{' WHERE ' + where if where else ''} (label"
        fitted = sorted(t.name for t in lm.rec.thresholds if (t.chosen_on or "").startswith(rows_text))
        if fitted:
            # Why quoted: a threshold's name is free text, and 'a, b' or 'w f1' listed bare read as other thresholds
            rep.notes.append(f"Threshold(s) {', '.join(map(repr, fitted))} were chosen on these same labelled rows: their precision "
                             "and recall here are what they were fitted to; judge them on other labelled rows.")
        overlapping = _chosen_on_overlap(con, lm, source, where, rep.rows, skip=set(fitted))
        if overlapping:
            shared = ", ".join(text for _name, text in overlapping)
            rep.notes.append(f"Threshold(s) chosen on labelled rows that include rows here: {shared}: their precision "
                             "and recall on these rows are partly what they were fitted to; judge them on other labelled "
                             "rows.")
        if not normal_only:  # the goals of thresholds chosen on other rows, checked here
            # a file's goals are left out: whether their rows are these cannot be told
            rep.goal_checks = goalcheck.checks(lm.rec.thresholds, filegoals.split(lm.rec.metrics, lm.rec.source)[0], at,
                                               {*fitted, *(name for name, _text in overlapping)})
        if plots_dir is not None:
            rep.plots = plot(s, y, plots_dir, lm.ref, marked, shown_source(source, where), w, sampled)
            note = over_time[1]
            if over_time[0]:
                try:
                    # the histogram's thresholds ('lowest cost' too): one colour each in both, one score axis
                    rep.plots.append(timeplot.plot(con, lm, source, over_time[0], plots_dir, shown_source(source, where),
                                                   where, label, thresholds=marked))
                except NoTimesError as e:  # the other plots are written: a note, as for a source without a time column
                    note = e.note
            if note:
                rep.notes.append(note)
        if into is not None:
            cur = interrupts.cursor(con)
            try:
                with storetables.transaction(cur):  # all or nothing: a replaced table is never left half-written
                    cur.execute(
                        f"CREATE OR REPLACE TABLE {table_sql(into)} (model VARCHAR, threshold DOUBLE, precision DOUBLE, "
                        "recall DOUBLE, f1 DOUBLE, flagged_share DOUBLE, training_flagged_share DOUBLE)"
                    )
                    if table:  # none of rows labelled normal only; DuckDB's executemany refuses an empty list
                        cur.executemany(
                            f"INSERT INTO {table_sql(into)} VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [[lm.ref, r["threshold"], r["precision"], r["recall"], r["f1"], r["flagged_share"],
                              r["training_flagged_share"]] for r in table],
                        )
            finally:
                cur.close()
        return rep


def _few_anomalies(anomalies: int, summary: dict[str, Any] | None) -> str | None:
    """evaluate's note on too few labelled anomalies to tell thresholds apart by recall, or None. Of weighted rows
    (``summary``: ``weights.summary``) the count is Kish's effective size of the anomalies, which the recall
    intervals take. Why: 10 anomalies of weight 100 beside 30 of weight 1 are as certain as 10.6, and 40 rows read
    passed the check."""
    if summary is not None:
        n = float(summary["effective_anomalies"])
        if not 0 < n < FEW_ANOMALIES:
            return None
        k = min(n, max(1.0, n / 2))
        lo, hi = thresholds.wilson(k, n)
        return (f"Only an effective {n:.1f} labelled anomalies ({anomalies} rows weighted by {summary['column']!r}; "
                f"Kish's effective size): a recall of {k / n:.2f} could be anywhere in {lo:.2f}-{hi:.2f} on another "
                "sample like this one; label more anomalies (or keep their weights alike) to tell thresholds apart.")
    if not 0 < anomalies < FEW_ANOMALIES:
        return None
    # the recall nearest 0.5 these labels can give; of a single anomaly, the recall of 1 (found), as the table's
    # rows read: "a recall of 0 of 1" described no threshold a reader would keep
    k, m = max(1, anomalies // 2), anomalies
    lo, hi = thresholds.wilson(k, m)
    return (f"Only {m} labelled {'anomaly' if m == 1 else 'anomalies'}: a recall of {k} of {m} could be anywhere in "
            f"{lo:.2f}-{hi:.2f} on another sample of as many; label more anomalies to tell thresholds apart.")


def _report(lm: LoadedModel, s: np.ndarray, y: np.ndarray, share: float | None) -> Any:
    """evaluate's ``metrics.Report`` of labelled scores ``s`` / ``y``: each stored threshold's figures (with
    ``share``, its precision at that share of anomalies), both AUCs and the candidate table."""
    from .auc import auc_pr, curve_auc_roc
    from .candidates import candidate_table
    from .confusion import at_share, confusion
    from .report import Report

    at = {}
    for name, value in sorted(lm.thresholds.items()):
        m = confusion(s, y, value)
        at[name] = {"value": value, **m}
        if share is not None:
            at[name].update(at_share(m, share))
    # the rows sorted once for the curve, the table and both AUCs: at 2M rows the five sorts they made took longer
    # than scoring the rows; the curve kept to the arrays they read whole (leancurve)
    c = leancurve.LeanCurve(s, y)
    table = candidate_table(s, y, c=c)
    anomalies = int(y.sum())
    auc = curve_auc_roc(c, anomalies, len(y) - anomalies)
    return Report(model=lm.ref, rows=len(s), anomalies=anomalies, auc_roc=auc, auc_pr=auc_pr(s, y, c=c),
                  at_thresholds=at, table=table, anomaly_share=share,
                  auc_roc_ci=intervals.auc_roc(c, anomalies, len(y) - anomalies, auc))


def _weighted_report(lm: LoadedModel, s: np.ndarray, y: np.ndarray, w: np.ndarray, summary: dict[str, Any],
                     share: float | None, sampled: str | None = None) -> Any:
    """evaluate's ``metrics.Report`` of rows of weights ``w`` (all above 0), each counted ``w`` times; the
    intervals on Kish's effective sizes of each class (``summary``: ``weights.summary``, kept as its ``weights``);
    ``sampled``: ``evaluate``'s."""
    from .auc import auc_pr, curve_auc_roc
    from .candidates import candidate_table
    from .confusion import at_share
    from .report import Report

    c = weights.curve(s, y, w)
    yb = y.astype(bool)
    pos, neg = float(w[yb].sum()), float(w[~yb].sum())
    eff = (weights.effective(w[yb]), weights.effective(w[~yb]))
    at: dict[str, dict[str, float]] = {}
    for name, value in sorted(lm.thresholds.items()):
        m = weights.confusion(s, y, w, value, sampled)
        at[name] = {"value": value, **m}
        if share is not None:
            at[name].update(at_share(m, share, counts=weights.effective_counts(m, *eff)))
    auc = curve_auc_roc(c, pos, neg)
    rep = Report(model=lm.ref, rows=len(s), anomalies=int(yb.sum()), auc_roc=auc, auc_pr=auc_pr(s, y, c=c),
                 at_thresholds=at, table=candidate_table(s, y, c=c), anomaly_share=share,
                 auc_roc_ci=intervals.auc_roc(c, pos, neg, auc, eff=eff, band=sampled != sampling.NORMAL))
    rep.keep_weights(summary)
    return rep


def _costs(s: np.ndarray, y: np.ndarray, at: dict[str, dict[str, float]], prices: costs.Prices,
           w: np.ndarray | None = None) -> Any:
    """``metrics.Costs`` of labelled scores ``s`` / ``y`` (``w``: their weights); adds each threshold's
    ``cost_per_row`` to its ``at`` entry."""
    from .reportcosts import Costs

    pos = int(y.sum()) if w is None else float(w[y.astype(bool)].sum())
    n = len(s) if w is None else float(w.sum())
    costs.check_totals(prices, n)  # type: ignore[arg-type]
    yb = y.astype(bool)
    eff = None if w is None else (weights.effective(w[yb]), weights.effective(w[~yb]))
    for m in at.values():
        m["cost_per_row"] = float(costs.per_row(m["fn"], m["fp"], n, pos, prices))  # type: ignore[arg-type]
        m["cost_per_row_lo"], m["cost_per_row_hi"] = costintervals.per_row(m["fn"], m["fp"], pos, n - pos, prices, eff)
    c = thresholds.curve(s, y) if w is None else weights.curve(s, y, w)
    k = costs.at_cuts(c, len(s), prices)
    i = costs.cheapest(k)
    # the value method min_cost stores from these rows: the same pick of the same curve
    th = thresholds.pick(c, i, "lowest cost", "min_cost", "")
    # whole rows, as each threshold's fn and fp: counts a script compares with them
    best = {"value": th.value, "cost_per_row": float(k.per_row[i]),
            "missed": int(k.missed[i]) if w is None else float(k.missed[i]),
            "alarms": int(k.alarms[i]) if w is None else float(k.alarms[i]), "precision": th.precision, "recall": th.recall,
            "flagged_share": th.flagged_share}
    # conditional on the cut, as each threshold's: chosen on these rows, it is a little cheaper here than later
    best["cost_per_row_lo"], best["cost_per_row_hi"] = costintervals.per_row(
        float(k.missed[i]), float(k.alarms[i]), pos, n - pos, prices, eff)
    return Costs(prices=prices, best=best, flag_none=k.none)


def _chosen_on_overlap(con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str, where: str | None, rows: int,
                       skip: set[str]) -> list[tuple[str, str]]:
    """The thresholds of ``lm`` (but ``skip``) chosen on labelled rows of ``source`` that share rows with ``where``'s,
    each by name with how many: ``'all_rows' (all 1530 of them)``, ``'low' (530 of 1530)``; empty if none.

    Why counted, not matched as text: a threshold chosen on every labelled row and judged on the test part of them
    (or on a slice that shares some) flattered its figures as much as one judged on its own rows, without a word."""
    goals = filegoals.split(lm.rec.metrics, lm.rec.source)[0]  # a file's goals' SQL is never run
    if not goals:
        return []
    shown = []
    cur = pysource.cursor(con, source)
    try:
        for t in sorted(lm.rec.thresholds, key=lambda t: t.name):
            goal = goals.get(t.name)
            # t.method: a carried threshold not chosen again keeps its goal for the next retrain, but is a point of
            # the training scores ('quantile'), chosen on no labelled rows
            # an alarm_rate cut was set on the rows' scores without their labels: not fitted to them
            if (t.name in skip or not _is_goal(goal) or t.method != goal["method"]
                    or goal["method"] == alarmrate.METHOD or not same_source(goal["source"], source)):
                continue
            conds = [f"({w}\n)" for w in (where, goal["where"]) if w]
            q = f"SELECT count(*) FROM {source_sql(source)}" + (where_sql(" AND ".join(conds)) if conds else "")
            try:
                n = cur.execute(q).fetchall()[0][0]
            except duckdb.Error:
                continue  # its filter no longer binds (a column dropped since): nothing to say
            if n:
                shown.append((t.name, f"{t.name!r} ({f'all {rows} of them' if n >= rows else f'{n} of {rows}'})"))
    finally:
        cur.close()
    return shown
