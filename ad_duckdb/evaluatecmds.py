"""The `evaluate`, `threshold` and `check-threshold` commands, added to the CLI by cli.py."""

from __future__ import annotations

import sys
from typing import Any

import click
import numpy as np

from . import alarmrate, api, budgetshare, costs, goalcheck, jsonvalues, optionwords, thresholds, udfs
from .cliargs import _ATTACH, _TIME, _WEIGHT, _refuse_empty
from .clicommand import _QueryWordsCommand, _ThresholdCommand
from .clidone import _threshold_stored_if_interrupted
from .clifail import EXIT_OUTSIDE
from .clinotes import _note, _notes, _notes_are_errors, _warn, notes_ignored
from .clinumbers import _decimals
from .cliopen import _open
from .clirows import _print_rows
from .evaluation import FEW_ANOMALIES
from .texttable import Number as _Number
from .texttable import figure as _figure
from .trainoverlap import training_rows_note


class _MethodChoice(click.Choice):
    """click's Choice, whose error also names the method a goal's word means (--method precision: min_precision)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as e:
            hint = thresholds.method_hint(value)
            if not hint:
                raise
            raise click.BadParameter(f"{e.message}{hint}", ctx, param) from None


# evaluate's and threshold's: each scores every labelled row before its figures, minutes on 50M rows
_ROWS_QUIET = click.option("-q", "--quiet", is_flag=True, help="No progress on stderr while the labelled rows are scored (a "
                           "bar on a terminal once the scoring has run 2 s; in a log, a line of the rows scored so far "
                           "every 30 s).")


_MISS_COST = click.option("--miss-cost", type=float, help="What a missed anomaly (a false negative) costs, e.g. 400; "
                          "with --alarm-cost (threshold --method min_cost; evaluate's cost table).")


_ALARM_COST = click.option("--alarm-cost", type=float, help="What a false alarm (a normal row flagged, a review for "
                           "nothing) costs, e.g. 5; with --miss-cost.")


_ANOMALY_SHARE = click.option("--anomaly-share", type=float, help="With --miss-cost: the share of anomalies in the rows "
                              "the threshold will judge, e.g. 0.002, when the labelled rows hold more (a test split "
                              "of every known fraud); their misses and false alarms are weighed to it.")


_EVAL_ANOMALY_SHARE = click.option(
    "--anomaly-share", type=float, help="The share of anomalies in the rows the thresholds will judge, e.g. 0.002, "
    "when the labelled rows hold more (a test split of every known fraud): each threshold's precision at that share; "
    "with --miss-cost, their misses and false alarms weighed to it.")


@click.command(cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("model")
@click.argument("source")
@click.option("--label", required=True, help="Label column: 1 = anomaly, 0 = normal.")
@click.option("--where", help="SQL filter for the evaluation rows.")
@click.option("--plots", "plots_dir", help="Folder for the precision-recall curve and score histogram (PNG); for "
              "a source with a date or timestamp column, also the scores over time with the labelled anomalies shaded "
              "(MODEL_vN_scores_over_time_labelled.png, beside score --plots' MODEL_vN_scores_over_time.png).")
@click.option("--into", help="Write the candidate-threshold table to this DuckDB table.")
@click.option("--replace", is_flag=True, help="Overwrite the --into table if it exists.")
@click.option("--format", "out_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="json: one object (model, rows, anomalies, auc_roc, auc_roc_interval and auc_roc_interval_method, auc_pr, at_thresholds, "
                   "table: the candidate thresholds, costs, anomaly_share, weights: with --weight, plots, notes) for scripts; csv: the "
                   "candidate-threshold table.")
@_MISS_COST
@_ALARM_COST
@_EVAL_ANOMALY_SHARE
@_WEIGHT
@click.option("--sampled", type=click.Choice(["rows", "normal"]), help="With --weight, which rows the sample drew. rows "
              "(the default): either class, as an audit (alerts reviewed, 1 in k of the rest), whose intervals count "
              "the misses it may not have drawn; normal: every anomaly kept and the normal rows sampled at their own "
              "strata's rates (a merchant's, a day's), whatever the score: AUC-ROC's interval is DeLong's and "
              "Newcombe's and recall's Wilson's of the anomalies.")
@_TIME
@_ROWS_QUIET
@_ATTACH
def evaluate(db: str, model: str, source: str, label: str, where: str | None, plots_dir: str | None,
             into: str | None, replace: bool, out_format: str, miss_cost: float | None, alarm_cost: float | None,
             anomaly_share: float | None, weight: str | None, sampled: str | None, time: str | None, quiet: bool,
             attach: tuple[str, ...]) -> None:
    """Precision, recall, F1, AUC-ROC and AUC-PR of MODEL on labelled rows of SOURCE; with --miss-cost and
    --alarm-cost, what each threshold's errors cost (per row, per 10,000 rows with a 95% interval) and the
    cheapest cut; with --anomaly-share, each threshold's precision where anomalies are that share of the rows.

    \b
    Examples:
      ad-duckdb evaluate cards.duckdb card_ae cards --label class --where "split = 'test'" --plots plots/
      ad-duckdb evaluate cards.duckdb card_ae cards --label class --where "split = 'test'" --miss-cost 400 --alarm-cost 5 --anomaly-share 0.002
      ad-duckdb evaluate cards.duckdb card_ae cards --label class --where "split = 'test'" --format json
      ad-duckdb evaluate cards.duckdb card_ae "SELECT *, if(class = 1, 1, 50) AS w FROM cards WHERE split = 'test'" --label class --weight w

    The last: labelled rows holding every fraud but 1 in 50 normal rows; each normal row counts as the 50 it
    stands for (--weight), so precision, false-alarm rate and AUC-PR are those of the traffic, not of the sample.
    """
    _refuse_empty(plots_dir, "--plots", "give the folder to draw the plots in, e.g. --plots plots/")
    with _open(db, read_only=into is None, attach=attach) as con, _notes():
        rep = api.evaluate(con, model, source, label=label, where=where, plots_dir=plots_dir, into=into,
                           replace=replace, time=time, miss_cost=miss_cost, alarm_cost=alarm_cost,
                           anomaly_share=anomaly_share, progress=not quiet, weight=weight, sampled=sampled)
        if out_format == "json":
            from dataclasses import asdict

            doc = asdict(rep)
            doc.pop("auc_roc_ci")  # as auc_roc_interval and its method, as before
            if rep.weights is not None:  # only then: an unweighted evaluation's object stays as it was
                doc["weights"] = rep.weights
            if rep.goal_checks:  # as weights: only where a goal chosen on other rows was checked here
                doc["goal_checks"] = rep.goal_checks
            click.echo(jsonvalues.dumps({**doc, "auc_roc_interval": list(rep.auc_roc_interval),
                                         "auc_roc_interval_method": rep.auc_roc_interval_method}, indent=1))
            return
        if out_format == "csv":
            cols = list(rep.table[0]) if rep.table else ["threshold", "precision", "recall", "f1", "flagged_share",
                                                         "training_flagged_share"]
            _notes_are_errors(*rep.notes)
            _print_rows(cols, [tuple(r[k] for k in cols) for r in rep.table], out_format)
            for note in rep.notes:  # on stderr, as score's with csv: the rows on stdout stay data
                _note(note)
            if rep.weights is not None:  # Why said: the table alone does not show that its figures are weighted
                _note(f"the candidate thresholds' precision, recall, F1 and flagged share count each row as "
                      f"its {rep.weights['column']!r} rows (--weight)")
            if rep.costs is not None:  # asked for, and not in these rows: said, not dropped without a word
                _note("--format csv prints the candidate thresholds, without costs; each threshold's cost "
                      "and the cheapest cut are in --format json (costs, at_thresholds' cost_per_row)")
            elif rep.anomaly_share is not None:
                _note("--format csv prints the candidate thresholds; each stored threshold's precision at "
                      "--anomaly-share is in --format json (at_thresholds' precision_at_share)")
            for path in rep.plots:
                click.echo(f"plot: {path}", err=True)
            return
        _notes_are_errors(*rep.notes)
        click.echo(rep.text(notes=not notes_ignored()))  # its notes among its figures, unless notes are ignored
        click.echo("")
        if not rep.table and not rep.anomalies:  # rows labelled normal only (normalonly): no recall to trade
            click.echo("candidate thresholds: none (no labelled anomaly to trade recall against; each stored "
                       "threshold's false-alarm rate is above)")
            return
        # Why two flagged columns, each named: the labelled rows are mostly richer in anomalies than the traffic, and
        # a cut flagging 20% of them flags 1% of the rows scored; a budget of alerts is planned on the latter
        train = all(r.get("training_flagged_share") is not None for r in rep.table)
        of = ("flagged_labelled is the share of these labelled rows flagged"
              + (" (weighted)" if rep.weights is not None else "")
              + (", flagged_training is the share of the model's training rows (from their score quantiles), the "
                 "alerts to plan on traffic like them" if train else ""))
        click.echo("candidate thresholds (score cut-offs; store one with `ad-duckdb threshold ... --method manual "
                   f"--value V`; {of}):")
        figures = ("precision", "recall", "f1")
        places = {k: _decimals([r[k] for r in rep.table], 3) for k in figures}  # 3: as the report above prints them
        shares = ("flagged_share", "training_flagged_share") if train else ("flagged_share",)
        pct = {k: _decimals([r[k] * 100 for r in rep.table], 2) for k in shares}  # 2: its flagged column's "1.00%"
        _print_rows(["threshold", *figures, "flagged_labelled", *(["flagged_training"] if train else [])],
                    [(r["threshold"], *(_Number(f"{r[k]:.{places[k]}f}") for k in figures),
                      *(_Number(f"{r[k]:.{pct[k]}%}") for k in shares))
                     for r in rep.table])


def _alarm_rate_args(rate: str | None, per_day: float | None, per_hour: float | None, per_week: float | None,
                     time: str | None, series: str | None = None, tz: str | None = None,
                     timestamps_in: str | None = None) -> dict[str, Any]:
    """alarm_rate's options, passed only when given: set_threshold refuses an option its method does not use."""
    given = {"rate": rate, "per_day": per_day, "per_hour": per_hour, "per_week": per_week, "time": time,
             "series": series, "tz": tz, "timestamps_in": timestamps_in}
    return {k: v for k, v in given.items() if v is not None}


@click.command(cls=_ThresholdCommand)
@click.argument("db")
@click.argument("model")
@click.argument("name")
@click.option("--method", required=True,
              type=_MethodChoice(["manual", "quantile", "contamination", "max_f1", "min_precision", "min_recall",
                                  "flag_budget", "min_cost", "alarm_rate"]),
              help="manual: --value; quantile / contamination: --target, on the training scores; max_f1, "
                   "min_precision, min_recall (--target), flag_budget (--target: the largest share to flag; the cut of "
                   "best F1 among those within it), min_cost (--miss-cost, --alarm-cost, optionally --anomaly-share: "
                   "the cut of lowest missed x miss cost + false alarms x alarm cost per row): on labelled rows of "
                   "--source with --label. alarm_rate (--rate, or --per-day / --per-hour / --per-week with --time): "
                   "on unlabelled rows of --source believed normal, which the model did not train on.")
@click.option("--value", type=float, help="For --method manual.")
@click.option("--target", type=float, help="Precision / recall / share goal, or the quantile.")
@click.option("--source", help="Labelled rows for max_f1, min_precision, min_recall, flag_budget, min_cost; rows "
              "believed normal for alarm_rate (a table, view or query).")
@click.option("--label", help="Label column of --source (1 = anomaly).")
@click.option("--where", help="SQL filter on --source.")
@click.option("--confident", is_flag=True, help="min_precision / min_recall: the lower end of the 95% interval must "
              "meet --target (a cautious threshold the labels vouch for, not a lucky one).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: the threshold stored, as one object (model, name, value, method, chosen_on, precision, "
                   "recall, f1, flagged_share), for scripts.")
@click.option("--rate", help="alarm_rate: the share of --source's rows to flag, e.g. 0.5% or 0.005.")
@click.option("--per-day", type=float, help="alarm_rate: alarms a day on --source's rows, counted over --time (flagged "
              "rows, not runs of them).")
@click.option("--per-hour", type=float, help="alarm_rate: alarms an hour, counted over --time.")
@click.option("--per-week", type=float, help="alarm_rate: alarms a week, counted over --time.")
@click.option("--time", help="alarm_rate: the DATE or TIMESTAMP column of --source giving the period its rows cover "
              "(with --rate: the alarms a day that gives).")
@click.option("--series", help="alarm_rate with --time: the column of --source telling apart several series in one "
              "table (a sensor's id); episodes are runs within each series, not across their interleaved readings. "
              "The target counts the whole table's alarms.")
@click.option("--tz", help="alarm_rate with --time: the time zone whose days (weekends, rows a day) are read, e.g. "
              "America/Los_Angeles; default: a TIMESTAMPTZ column's session zone (this process's), a TIMESTAMP's own "
              "wall time (with --tz, a TIMESTAMP is taken as UTC unless --timestamps-in names its zone, as the statement "
              "says; a DATE's days are its own).")
@click.option("--timestamps-in", "timestamps_in", metavar="ZONE",
              help="alarm_rate with --time: the zone whose wall-clock times a TIMESTAMP column holds, e.g. "
                   "Europe/Paris for a Paris logger's (its days are that zone's unless --tz names others; a DST "
                   "change's 23- and 25-hour days are as long as they were). Without it --tz takes them as UTC.")
@_MISS_COST
@_ALARM_COST
@_ANOMALY_SHARE
@_WEIGHT
@click.option("--sampled", type=click.Choice(["rows", "normal"]), help="A goal on labelled rows with --weight: which "
              "rows the sample drew, as evaluate's. rows (the default): either class, as an audit, whose intervals "
              "count the misses it may not have drawn; normal: every anomaly kept and the normal rows sampled at their "
              "own strata's rates: recall's interval is Wilson's of the anomalies, so --confident is not held back by "
              "misses that cannot be there.")
@_ROWS_QUIET
@_ATTACH
def threshold(db: str, model: str, name: str, method: str, value: float | None, target: float | None,
              source: str | None, label: str | None, where: str | None, confident: bool, out_format: str,
              rate: str | None, per_day: float | None, per_hour: float | None, per_week: float | None,
              time: str | None, series: str | None, tz: str | None, timestamps_in: str | None,
              miss_cost: float | None, alarm_cost: float | None, anomaly_share: float | None, weight: str | None,
              sampled: str | None, quiet: bool, attach: tuple[str, ...]) -> None:
    """Store threshold NAME for MODEL, chosen by a goal; use it with is_anomaly_at(MODEL, NAME, ...).

    \b
    Examples, without labels: a cut read off `ad-duckdb score ... --plots`, or a share of training rows to flag:
      ad-duckdb threshold warehouse.duckdb tx_ae cut --method manual --value 12
      ad-duckdb threshold warehouse.duckdb tx_ae c2 --method contamination --target 0.02
      ad-duckdb threshold cards.duckdb card_ae q995 --method quantile --target 0.995 --format json
    On labelled rows (a precision, a recall, a budget of flags, costs, the best F1):
      ad-duckdb threshold cards.duckdb card_ae p90prec --method min_precision --target 0.9 --source cards --label class --where "split = 'test'"
      ad-duckdb threshold cards.duckdb card_ae sure --method min_recall --target 0.5 --confident --source cards --label class
      ad-duckdb threshold cards.duckdb card_ae review --method flag_budget --target 0.005 --source cards --label class --where "split = 'test'"
      ad-duckdb threshold cards.duckdb card_ae cost --method min_cost --miss-cost 400 --alarm-cost 5 --anomaly-share .002 --source cards --label class
      ad-duckdb threshold cards.duckdb card_ae f1w --method max_f1 --source "SELECT *, if(class = 1, 1, 50) AS w FROM cards" --label class --weight w
    Alarms a day, or a share of rows, on rows believed normal (alarm_rate):
      ad-duckdb threshold warehouse.duckdb tx_ae two_a_day --method alarm_rate --per-day 2 --time day --source transactions --where "month(day) > 1"
      ad-duckdb threshold cards.duckdb card_ae half_pct --method alarm_rate --rate 0.5% --source cards --where "split = 'test'"

    A threshold belongs to one version of MODEL; `ad-duckdb train ... --carry-thresholds` gives it to the next,
    choosing one set on labels again on the same labelled rows, and an alarm_rate one on the same rows. alarm_rate:
    on rows believed normal that the model did not train on, a share (--rate) or alarms per hour, day or week
    over --time (alarms count flagged rows (readings), not episodes: a run of 5 consecutive flagged readings is 5
    alarms, one page; with --time the statement gives the episodes beside them); it prints what that cut flags
    there, and warns when the stretch holds under 20 alarms. With
    --time it also gives 95% intervals for a later day (hour with --per-hour, week with --per-week) and for a later
    stretch as long, the wider of a t over how the stretch's days vary and of the count of its alarms on the
    independent rows it is worth by the rows' autocorrelation in time (readings close in time move together, so
    these are wider than the one treating rows as independent); it warns when weekends flag unlike weekdays or days
    differ in rows, and leaves gaps of over a period (hour, day, week) with no rows out of the time covered where
    the rows' spacing does not explain them (an outage, weekends; a sparse event table's quiet days count). A day is
    a calendar day the table has rows in (in --tz's zone): business hours count 5 days a week, "3 a day" being 3 on
    each working day, and the statement says when rows fall at some hours of each day only.
    --weight (the goals on labelled rows, and alarm_rate): rows that are a sample, e.g. every fraud but 1 in 50
    normal rows (weight 50 on those), each counted as the rows it stands for; its chosen_on (show) says so.
    --sampled normal (with --weight): every anomaly kept, only the normal rows sampled; the intervals --confident
    and the printed figures use are evaluate --sampled normal's.
    Whether it keeps its promise on later rows: the command check-threshold.
    """
    with _open(db, attach=attach) as con, _notes(), _threshold_stored_if_interrupted(con, model, name):
        th = api.set_threshold(con, model, name, method, value=value, target=target, source=source, label=label,
                               where=where, confident=confident, miss_cost=miss_cost, alarm_cost=alarm_cost,
                               anomaly_share=anomaly_share, progress=not quiet,
                               weight=weight, **_alarm_rate_args(rate, per_day, per_hour, per_week, time, series, tz,
                                                                   timestamps_in), sampled=sampled)
        # Why the intervals: a figure of 5 labelled anomalies read as known to three places (evaluate gives them)
        ci = thresholds.figure_intervals(th, anomaly_share if method == "min_cost" else None)

        def within(k: str) -> str:
            lo, hi = ci.get(f"{k}_lo", np.nan), ci.get(f"{k}_hi", np.nan)
            return "" if np.isnan(lo) else f" (95% {lo:.3f}-{hi:.3f})"

        extra = "".join(f", {k} {_figure(getattr(th, k))}{within(k)}"
                        for k in ("precision", "recall", "f1", "flagged_share") if getattr(th, k) is not None)
        # Why the version: a threshold belongs to one, and 'tx_ae' names whichever is latest now
        ref = udfs.registry(con).get(model).ref
        # chosen on labelled rows, its flagged_share is theirs: the training rows' beside it (budgetshare)
        loaded = udfs.registry(con).get(model)
        train_share = (budgetshare.training_share(loaded.quantiles, th.value, loaded.rec.metrics)
                       if th.method in thresholds.LABELLED else None)
        if out_format == "json":
            from dataclasses import asdict

            if train_share is not None:
                ci = {**ci, "training_flagged_share": train_share}
            if sampled is not None:  # only when said, as evaluate's weights.sampled: the object stays as it was
                ci = {**ci, "sampled": sampled}
            click.echo(jsonvalues.dumps({"model": ref, **asdict(th),
                                         **{k: v for k, v in ci.items() if k not in ("anomalies", "effective_anomalies")}},
                                        indent=1))
        else:
            click.echo(f"stored threshold {name!r} = {th.value:.6g} ({th.method}{extra}) for {ref}")
            if th.method == "flag_budget" and target is not None:
                lm = udfs.registry(con).get(model)
                if (budget := budgetshare.line(lm.rec.source, th, target, lm.quantiles, lm.rec.metrics)) is not None:
                    click.echo(budget)
            elif th.method in thresholds.LABELLED:
                lm = udfs.registry(con).get(model)
                if (both := budgetshare.labelled_line(lm.rec.source, th, lm.quantiles, lm.rec.metrics)) is not None:
                    click.echo(both)
            if anomaly_share is not None and np.isfinite(ci.get("precision_at_share", np.nan)):
                click.echo(f"precision where anomalies are {costs.stated_share(anomaly_share)} of rows: "
                           f"{ci['precision_at_share']:.3f} (95% {ci['precision_at_share_lo']:.3f}-"
                           f"{ci['precision_at_share_hi']:.3f}; the precision above is at the labelled rows' own share)")
        if (said := goalcheck.figure_only(th, target, confident, ci)) is not None:
            _warn(said)
        if "effective_anomalies" in ci and 0 < ci["effective_anomalies"] < FEW_ANOMALIES:
            # of weighted rows: Kish's effective count, which the recall interval takes (10 anomalies of weight 100
            # beside 30 of weight 1 are an effective 10.6, and 40 rows passed the check)
            _warn(f"chosen on only an effective {ci['effective_anomalies']:.1f} labelled anomalies "
                  f"({ci['anomalies']} weighted rows; Kish's effective size): its recall {th.recall:.3f} could be "
                  f"anywhere in {ci['recall_lo']:.3f}-{ci['recall_hi']:.3f} on another sample like this one; label "
                  "more anomalies before relying on it.")
        elif "effective_anomalies" not in ci and 0 < ci.get("anomalies", FEW_ANOMALIES) < FEW_ANOMALIES:
            n = ci["anomalies"]
            _warn(f"chosen on only {n} labelled {'anomaly' if n == 1 else 'anomalies'}: its recall "
                  f"{th.recall:.3f} could be anywhere in {ci['recall_lo']:.3f}-{ci['recall_hi']:.3f} on another "
                  "sample of as many; label more anomalies before relying on it.")
        if th.method == alarmrate.METHOD:  # what it flags on those rows: in chosen_on after the rows
            click.echo(f"chosen on {optionwords.said_stored(th.chosen_on or '')}", err=out_format == "json")
        if confident and out_format == "table":
            click.echo(f"the {th.method[4:]} target is met by the lower end of the 95% interval, not only by the figure")
        # chosen_on: the rows; then the training-rows note, if any; then the confident or the cost note, if any
        if th.method == "min_cost":
            cost = (th.chosen_on or "").removesuffix(f"; {thresholds.CONFIDENT_NOTE}").rpartition("; ")[2]
            click.echo(cost, err=out_format == "json")  # json's stdout is the one object; chosen_on holds it too
        if (optimistic := training_rows_note(th)) is not None:
            _warn(optimistic)


@click.command("check-threshold", cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("model")
@click.argument("name")
@click.option("--source", required=True, help="The recent rows to check on (a table, view or query), e.g. last "
              "week's readings; unlabelled, believed normal for a verdict of drift to mean drift.")
@click.option("--where", help="SQL filter on --source, e.g. \"ts >= current_date - 7\".")
@click.option("--time", help="The DATE or TIMESTAMP column of --source the alarms per period are counted over "
              "(default: the one an alarm_rate threshold was set with).")
@click.option("--series", help="The column of --source telling apart several series in one table, within each of "
              "which episodes are runs (default: the one an alarm_rate threshold was set with).")
@click.option("--no-series", is_flag=True, help="Read the rows as one series in time order, not by the series column "
              "the threshold was set with (one that is no series, or that these rows lack).")
@click.option("--tz", help="The time zone whose days are counted, e.g. America/Los_Angeles (default: the one an "
              "alarm_rate threshold was set with, else a TIMESTAMPTZ column's session zone, this process's; a "
              "TIMESTAMP's own wall time; with --tz a TIMESTAMP is taken as UTC unless --timestamps-in names its "
              "zone).")
@click.option("--timestamps-in", "timestamps_in", metavar="ZONE",
              help="The zone whose wall-clock times a TIMESTAMP --time column holds, e.g. Europe/Paris (default: the "
                   "one an alarm_rate threshold was set with; without one, --tz takes them as UTC).")
@click.option("--weight", help="The column of --source holding each row's sample weight (a 1-in-4 sample: 4), in "
              "place of the one an alarm_rate threshold was set with (default: that column, where --source has it).")
@click.option("--no-weight", is_flag=True, help="Count each row as one row, not by the weight column the threshold "
              "was set with (one these rows hold for something else).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one object (model, threshold, method, target, rows, flagged, per, measured, expected_lo, "
                   "expected_hi, outside, episodes, message), for scripts and monitors.")
@click.option("--fail-outside", is_flag=True,
              help=f"Exit {EXIT_OUTSIDE} (after printing the verdict) when the threshold is outside its promise, "
                   "for a cron or Airflow monitor that pages on a non-zero exit; 0 when it keeps it or promised "
                   "no rate.")
@_ATTACH
def check_threshold(db: str, model: str, name: str, source: str, where: str | None, time: str | None,
                    series: str | None, no_series: bool, tz: str | None, timestamps_in: str | None,
                    weight: str | None, no_weight: bool, out_format: str, fail_outside: bool,
                    attach: tuple[str, ...]) -> None:
    """Whether threshold NAME of MODEL keeps its promise on recent rows of --source: the alarms a day (hour, week)
    or the share of rows it flags there against its target, and whether that lies outside the 95% interval it
    promised, with the command that chooses it again on these rows.

    \b
    Examples:
      ad-duckdb check-threshold warehouse.duckdb tx_ae two_a_day --source transactions --where "day >= '2026-02-15'"
      ad-duckdb check-threshold warehouse.duckdb tx_ae default --source transactions --time day --format json

    \b
    alarm_rate with --per-day/--per-hour/--per-week: alarms per period here against the stored interval for a
    later stretch as long as the one it was set on (for one later period where this stretch is one, between the
    two where it is between); alarms
    count flagged rows, and the episodes (runs of consecutive flagged readings) are said beside them.
    alarm_rate with --rate, contamination, quantile, flag_budget: the share flagged here, whose 95% interval
    (Wilson's, on the independent rows these are worth at their lag-1 correlation in time) must hold the target.
    A cut typed in (manual), carried by a retrain or not: as a quantile, against the share of training rows it flags.
    Other methods promised no rate: the share and alarms are said without a verdict.
    """
    if series is not None and no_series:
        raise click.UsageError(f"--series and --no-series contradict each other: --series {series} reads the rows by "
                               "that column, --no-series as one series; pass one of them.")
    if weight is not None and no_weight:
        raise click.UsageError(f"--weight and --no-weight contradict each other: --weight {weight} weighs the rows by "
                               "that column, --no-weight counts each as one row; pass one of them.")
    with _open(db, read_only=True, attach=attach) as con, _notes():
        from .thresholdcheck import check_threshold as run_check

        got = run_check(con, model, name, source, where=where, time=time, series=False if no_series else series,
                        tz=tz, timestamps_in=timestamps_in, weight=False if no_weight else weight)
        if out_format == "json":
            from dataclasses import asdict

            click.echo(jsonvalues.dumps(asdict(got), indent=1))
        else:
            click.echo(got.message)
    if fail_outside and got.outside:
        sys.exit(EXIT_OUTSIDE)
