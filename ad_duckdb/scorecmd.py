"""The `score` command, added to the CLI by cli.py."""

from __future__ import annotations

import shlex

import click
import duckdb
from click.core import ParameterSource

from . import (
    api,
    explaincost,
    interrupts,
    intotable,
    jsonvalues,
    nullmax,
    partitionreplace,
    replacewhere,
    scoreahead,
)
from .addedtop import AddedTop
from .cliargs import _ATTACH, _TIME, _refuse_empty, _split
from .clicommand import _QueryWordsCommand
from .clifail import EXIT_NO_DATABASE, _failure, _full_disk, _interrupted
from .clinotes import _MADE_ERROR, _note, _notes, _notes_are_errors, _warn
from .cliopen import _attachments, _connect_attaching, _exists, _lock_wait, _open
from .clirows import _TOP_FEATURES_SHOWN, _print_rows
from .exceptions import AdDuckDBError, AdDuckDBWarning, BadInputError, DatabaseLockedError, NoTimesError, is_interrupt
from .msevalues import MSE_COLUMN
from .plotfiles import plots_folder
from .scorebatches import SCORE_OUTPUTS
from .scoring import LoadedModel
from .sqltext import quote_ident, quote_literal, shown_table, source_sql, table_sql
from .totalsrow import ScoredTop
from .udfs import registry


def _into_outcome(con: duckdb.DuckDBPyConnection, into: str, before: int | None, ref: str,
                  rows_before: int | None = None, replaced: list[int] | None = None) -> str | None:
    """Whether the interrupted write of ``into`` (DuckDB id ``before`` it, None: absent) went through, as a sentence.
    ``rows_before``: with --append into an existing table, its rows before (its id does not change); ``replaced``:
    with --replace-partition, the rows it replaced once committed (the rows may be as many as before).

    Why: a Ctrl-C can land inside DuckDB's COMMIT, which runs to its end, or after it; "nothing is half-written" left
    the user to guess whether to re-run a long scoring. None if it cannot be told (the check itself failed).
    """
    shown = shown_table(into)
    try:
        after = intotable.table_oid(con, into)
        if rows_before is not None and after == before:
            n = _row_count(con, into)
            if replaced:
                # Why not by the count: a day re-scored holds as many rows as before, and was said "not changed"
                return (f"{replaced[0]} rows of {shown} were replaced with this run's (now {n} rows, model {ref}); the "
                        "scores are stored, only what came after them did not run.")
            if n != rows_before:
                return (f"{n - rows_before} scored rows were added to {shown} (now {n} rows, model {ref}); the "
                        "scores are stored, only what came after them did not run.")
            return f"{shown} was not changed ({n} rows): the rows are added in one transaction, all or none."
        if after is not None and after != before:
            n = _row_count(con, into)
            return (f"{shown} was written ({n} rows, model {ref}); the scores are stored, only what came after "
                    "them did not run.")
    except duckdb.Error:
        return None
    return (f"{shown} was {'not changed' if before is not None else 'not created'}: the scores table is written in "
            "one transaction, whole or not at all.")


@click.command(cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("model")
@click.argument("source")
@click.option("--into", help="Write a table of the rows with anomaly_score, anomaly_percentile, is_anomaly (a scored "
              "table's are replaced on re-scoring; a source column of yours with such a name is refused, not replaced).")
@click.option("--replace", is_flag=True, help="Overwrite the --into table if it exists.")
@click.option("--append", is_flag=True, help="Add the scores to the --into table's rows, in one transaction, "
              "creating it on the first run (an incremental job: SOURCE may read the table, as it was before the "
              "run, for the last row scored); the table must have the columns this run writes (the same -c and "
              "--explain), of types that take the new values whole (a BIGINT column takes INTEGER ids, not the "
              "other way round).")
@click.option("--replace-partition", "replace_partition", multiple=True, metavar="COL",
              help="Re-score partitions of the --into table (a nightly job re-running one day: SOURCE selects "
              "WHERE day = '2026-12-01', --replace-partition day): the rows it holds whose COL values equal a new "
              "row's are deleted and the new rows added, in one transaction, all or none (a failure leaves the "
              "table as it was); the other days stay. Repeat for several columns. As --append otherwise (creates "
              "the table; the same columns). A run scoring no rows replaces none (see --replace-where).")
@click.option("--replace-where", "replace_where", metavar="CONDITION",
              help="Re-score the rows of the --into table CONDITION selects (e.g. \"day = DATE '2026-12-01'\", a "
              "condition on its columns): they are deleted and the new rows added, in one transaction, all or none, "
              "also when SOURCE has no rows (the day is then emptied, not left with its earlier scores). Every new "
              "row must be one CONDITION selects (SOURCE ... WHERE day = DATE '2026-12-01'). As --append otherwise; "
              "not with --replace-partition.")
@click.option("--explain", is_flag=True, help="Also write anomaly_explain (which columns made each row odd) and "
              "anomaly_imputed (the value each NULL feature was scored at).")
@click.option("--model-column", is_flag=True, help="Also write anomaly_model, the version that scored "
              "each row ('tx_ae@3', also when MODEL is a bare 'tx_ae'), so that a history table appended to across "
              "retrains says which version scored which rows. A table written without it takes it after ALTER TABLE "
              "t ADD COLUMN anomaly_model VARCHAR.")
@click.option("--mse", is_flag=True, help="Also write anomaly_mse, each row's mean squared reconstruction error "
              "(about 1 for a typical training row): BigQuery ML's mean_squared_error, as the SQL function "
              "anomaly_mse gives it.")
@click.option("-c", "--column", "columns", multiple=True, help="Columns to keep beside the scores (default: all).")
@click.option("--threshold", "threshold", default="default", show_default=True, metavar="NAME",
              help="The stored threshold is_anomaly is read at, as is_anomaly_at(MODEL, NAME, ...) reads it (BigQuery "
                   "ML's contamination: a threshold set with --method contamination --target 0.02).")
@click.option("--top", type=int, default=20, show_default=True,
              help="Print the N highest scores (with --into: also, of the rows written; with --append, of the rows "
                   "this run added).")
@click.option("--format", "out_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="How to print the rows (csv or json for scripts: every value, unclipped; the 'plot:' lines, "
              "and with --into the 'wrote' line, then go to stderr). With --into and without --top (or --top 0), "
              "json prints what was written as one object (model, table, rows_written, table_rows, appended; with "
              "--replace-partition, rows_replaced).")
@click.option("--plots", "plots_dir", help="Folder for a histogram of all the scores with the thresholds and how many "
              "rows each flags (PNG; a spreadsheet's totals row left out, as its title says): where to cut without "
              "labels; for a source with a date or timestamp column, "
              "also the scores over time.")
@_TIME
@click.option("-q", "--quiet", is_flag=True, help="With --into: no progress on stderr (a bar on a terminal once the "
              "scoring has run 2 s; in a log, a line of the rows scored so far every 30 s).")
@_ATTACH
def score(db: str, model: str, source: str, into: str | None, replace: bool, append: bool,
          replace_partition: tuple[str, ...], replace_where: str | None, explain: bool, model_column: bool,
          columns: tuple[str, ...], top: int, out_format: str, plots_dir: str | None, time: str | None, quiet: bool,
          attach: tuple[str, ...], threshold: str, mse: bool) -> None:
    """Score every row of SOURCE with MODEL: into a table (--into), or print the top N.

    \b
    Examples:
      ad-duckdb score warehouse.duckdb tx_ae transactions --into tx_scores --explain
      ad-duckdb score warehouse.duckdb tx_ae@2 "read_parquet('new.parquet')" --top 10
      ad-duckdb score warehouse.duckdb tx_ae transactions --plots plots/
      ad-duckdb score warehouse.duckdb tx_ae transactions --plots plots/ --time day
      ad-duckdb score models.duckdb tx_ae lake.main.tx --attach lake.duckdb --into tx_scores
      ad-duckdb score warehouse.duckdb tx_ae "SELECT * FROM transactions WHERE transaction_id >
        (SELECT coalesce(max(transaction_id), -1) FROM tx_scores)" --into tx_scores --explain --append
      ad-duckdb score warehouse.duckdb tx_ae transactions --into tx_history --append --model-column
      ad-duckdb score warehouse.duckdb tx_ae "SELECT * FROM transactions WHERE day = '2026-01-05'"
        --into tx_daily --replace-partition day
      ad-duckdb score warehouse.duckdb tx_ae "SELECT * FROM transactions WHERE day = '2026-01-05'"
        --into tx_daily --replace-where "day = '2026-01-05'"
    """
    _refuse_empty(into, "--into", "give the table to write the scored rows to, e.g. --into tx_scores, or leave --into "
                  "out to print the top rows")
    _refuse_empty(plots_dir, "--plots", "give the folder to draw the plots in, e.g. --plots plots/")
    if top < 0:  # a wrong option (exit 2), in one line as scripts read it; click's range check prints its usage too
        raise _failure(f"Invalid value for '--top': {top} is not a number of rows; give 0 or more, e.g. --top 20.",
                       code=2)
    # Why no order check: every call here names the model's columns (bulk scoring by name, --top's explanation
    # quoting them), so a batch that looks swapped holds rows stored that way, the very rows to look at.
    # _notes: the note on rows that moved away from the training data (scorebatches._drift_note)
    # the scoring done before the file is opened for writing, which then holds it for the write alone (scoreahead)
    ahead = _scored_ahead(db, model, source, into, columns, explain, mse, threshold, model_column, attach, not quiet,
                          _lock_wait()) if into else None
    with scoreahead.reused(ahead), _open(db, read_only=not into, check_order=False, attach=attach) as con, _notes():
        intotable.check_replace(into, replace, f"Scoring with {model!r}", append)  # --top ignored them
        partition = partitionreplace.columns(f"Scoring with {model!r}", into, replace_partition or None, replace)
        where = replacewhere.condition(f"Scoring with {model!r}", into, replace_where, replace, partition)
        append = append or bool(partition) or where is not None  # its rows are added as --append adds them
        from . import timeplot

        timeplot.without_plots(model, time, plots_dir)
        over_time: tuple[str | None, str | None] = (None, None)
        if plots_dir:
            plots_folder(plots_dir, model)  # before --into writes its table: a bad folder fails first
            over_time = timeplot.choose(con, model, source, time)  # a wrong --time too
        if into:
            existed = replace and _has_rows_table(con, into)
            # Why the version: 'tx_ae' is whichever is latest, and the table does not record which one scored it;
            # a nightly log must say what the BI reads was scored with.
            got = registry(con).get(model)  # once: a look-up costs 10 ms, 1% of scoring 1M rows
            ref = got.ref
            before = intotable.table_oid(con, into)
            # with --append the table keeps its id: its rows tell whether an interrupted run added any
            rows_before = _row_count(con, into) if append and before is not None else None
            # Why print with --top/--format: both say "show me rows"; silently ignoring them looked like a bug
            ctx = click.get_current_context()
            # Why an object with json alone: a scheduler's next step wants the version, table and rows written,
            # which the 'wrote' line gave as text only; --top N still asks for the rows
            summary = out_format == "json" and (top == 0 or ctx.get_parameter_source("top") is ParameterSource.DEFAULT)
            # (--top 0: no rows, so no header with nothing under it either)
            shown = top > 0 and not summary and any(ctx.get_parameter_source(p) is not ParameterSource.DEFAULT
                                                    for p in ("top", "out_format"))
            # Why: csv or json rows on stdout are data a script parses; the report lines would break it
            to_stderr = (shown or summary) and out_format != "table"
            # Why the rows as they are written with --append: the table holds earlier runs' rows too, and its top
            # showed yesterday's anomalies in today's log (and rows when none were added)
            added = AddedTop(top) if shown and append else None
            # the totals-row note's rows, watched as they are written where the table cannot give them back: an
            # appended table's hold earlier runs' rows too, and -c leaves the features out
            kept_names = {c.lower() for c in _split(columns, con, source) or ()}
            watched = (ScoredTop(len(got.feature_names), sums=True)
                       if append or (kept_names and any(f.lower() not in kept_names for f in got.feature_names))
                       else None)
            if explain and ahead is None:  # else said before the rows were scored ahead
                _say_explain_cost(con, got, source, None, True, _explain_fewer(db, model, into))
            replaced: list[int] = []  # --replace-partition: the rows replaced, once committed
            try:
                written, held = _score_into(con, model, source, into, columns, explain, replace, plots_dir, ref,
                                            existed, report_to_stderr=to_stderr, append=append, added=added,
                                            # one count of the rows in a job's log: the scoring's ahead
                                            watched=watched, progress=not quiet and ahead is None,
                                            model_column=model_column,
                                            partition=partition, replaced=replaced, where=where,
                                            threshold=threshold, mse=mse)
                _plot_over_time(con, model, source, plots_dir, over_time, to_stderr)
            except BaseException as e:
                if is_interrupt(e):
                    raise _interrupted(_into_outcome(con, into, before, ref, rows_before, replaced)) from e
                if _full_disk(e):  # whether the rows were stored, read back: a retry must not add them twice
                    raise _failure(str(e), e, outcome=_into_outcome(con, into, before, ref, rows_before,
                                                                    replaced)) from e
                if isinstance(e, AdDuckDBWarning):  # a note made an error (PYTHONWARNINGS); the moved-rows one
                    # comes after the commit: said, as a job's retry of the "failed" run would --append them again
                    outcome = _into_outcome(con, into, before, ref, rows_before, replaced)
                    if outcome and "not changed" not in outcome:
                        raise _failure(f"{e}{_MADE_ERROR}; meanwhile {outcome}") from e
                raise
            if summary:
                # --replace-partition: the rows it replaced too, as its text line says (the job's next step may check
                # that a rerun replaced as many as it wrote)
                click.echo(jsonvalues.dumps({"model": ref, "table": into, "rows_written": written, "table_rows": held,
                                             "appended": append,
                                             **({"rows_replaced": sum(replaced)}
                                                if partition or where is not None else {})}, indent=1))
            try:
                # Why before the rows: a note made an error (PYTHONWARNINGS) stopped the command after it printed them
                if watched is not None:
                    totals = watched.note(con, source, got.feature_names, db=db, model=model,
                                          added_to=into if append else None)
                else:
                    totals = _scored_totals_note(con, db, model, got.feature_names, source, table_sql(into),
                                                 table_sql(into))
                _notes_are_errors(totals)
            except AdDuckDBWarning as e:  # a note made an error, once the scores are stored: said, as above
                outcome = _into_outcome(con, into, before, ref, rows_before, replaced)
                raise _failure(f"{e}{_MADE_ERROR}" + (f"; meanwhile {outcome}" if outcome else "")) from e
            if shown:
                hidden = _features_hidden(con, model, columns, out_format)
                extra_sql = f"* EXCLUDE ({', '.join(map(quote_ident, hidden))})" if hidden else "*"
                if added is None:
                    rel = con.sql(f"SELECT {extra_sql} FROM {table_sql(into)} ORDER BY anomaly_score DESC "
                                  f"LIMIT {int(top)}")
                elif not added.table().num_rows and out_format == "table":
                    if totals:
                        _note(totals)
                    return  # the note says none were added: a header over no rows says nothing more
                else:
                    con.register("__ad_added", added.table())
                    rel = con.sql(f"SELECT {extra_sql} FROM __ad_added ORDER BY anomaly_score DESC LIMIT {int(top)}")
                _print_rows(rel.columns, rel.fetchall(), out_format)
            if totals:
                _note(totals)
            return
        if top == 0 and plots_dir:  # the plots alone: no header with nothing under it, and no scan for no rows
            _plot_scores(con, model, source, plots_dir, over_time)
            return
        # Why explain only the top rows: an explanation costs many scoring passes (LoadedModel.attribution), and only N are printed.
        lm_top = registry(con).get(model)
        feats = lm_top.feature_names
        if top:
            _say_explain_cost(con, lm_top, source, top, False, "a smaller --top shortens it")
        kept = _split(columns, con, source)
        extra = [f for f in feats if kept and f.lower() not in {c.lower() for c in kept}]
        extra = _features_hidden(con, model, columns, out_format) or extra
        tbl = api.top_scored(con, model, source, top, columns=[*kept, *extra] if kept else None,
                             adds=["anomaly_explain"], model_column=model_column, threshold=threshold, mse=mse)
        con.register("__scored", tbl)
        extra_sql = "* EXCLUDE (" + ", ".join(quote_ident(f) for f in extra) + ")" if extra else "*"
        args = ", ".join(quote_ident(f) for f in feats)
        rel = con.sql(
            f"SELECT {extra_sql}, anomaly_explain({quote_literal(model)}, {args}) AS anomaly_explain FROM (SELECT * FROM "
            f"__scored ORDER BY anomaly_score DESC LIMIT {int(top)}) ORDER BY anomaly_score DESC"
        )
        rows = rel.fetchall()
        # Why the note before the rows: under PYTHONWARNINGS=error it stops the command, and it stopped it after
        # the rows were printed, so a job's report held the rows of a run that failed
        totals = _scored_totals_note(con, db, model, feats, source, "__scored", source_sql(source)) if top else None
        _notes_are_errors(totals)
        _print_rows(rel.columns, rows, out_format)
        if totals:
            _note(totals)
        if plots_dir:
            _plot_scores(con, model, source, plots_dir, over_time, to_stderr=out_format != "table")


def _scored_ahead(db: str, model: str, source: str, into: str, columns: tuple[str, ...], explain: bool, mse: bool,
                  threshold: str, model_column: bool, attach: tuple[str, ...], progress: bool, wait: float = 0.0
                  ) -> scoreahead.Ahead | None:
    """`score --into`'s rows scored on a read-only open of DB, closed before they are scored (``scoreahead``); None
    where that cannot be done (the write then scores, and says what stops it). ``wait``: --wait's seconds, for which
    the open waits while another process writes the file."""
    try:
        scoreahead.max_values()  # a wrong bound is said: the read ahead's own failures are not (the write scores)
    except BadInputError as e:
        raise _failure(str(e), e) from e
    if db == ":memory:" or not _exists(db, EXIT_NO_DATABASE):
        return None
    try:
        # Why the read waits too: without, a run with --wait that found the file held scored every row under the
        # write lock it then waited for, the very lock time the read ahead saves (and the other job's next run waited)
        con = _connect_attaching(db, True, False, None, _attachments(db, attach), wait=None if wait else 0.0)
    except DatabaseLockedError as e:
        if wait:  # held for all of --wait: said now, as the write's open would say it after waiting as long again
            raise _failure(str(e), e) from e
        return None
    except Exception:  # best effort: the write opens the file itself and says what stops it
        return None
    existed = True
    try:
        interrupts.track(con)
        existed = intotable.table_oid(con, into) is not None
        outputs = [*SCORE_OUTPUTS, *([MSE_COLUMN] if mse else [])]  # api.score's order
        pending = scoreahead.read(con, model, source, _split(columns, con, source) or [], outputs, explain,
                                  threshold, model_column)
        if explain and pending is not None:
            # Why here: said by the write, it came once the explanations, the long part, were done (and its probe
            # and count(*) ran under the write lock, 0.2-0.5 s of it)
            _say_explain_cost(con, pending.lm, source, None, True, _explain_fewer(db, model, into))
        con.close()  # the file let go: other processes write it while the rows are scored
        return pending.score(progress, into) if pending is not None else None
    except BaseException as e:
        if is_interrupt(e):  # said as a Ctrl-C during the write is, with what it left: the table as it was
            raise _interrupted(f"{shown_table(into)} was {'not changed' if existed else 'not created'}: the run "
                               "was scoring its rows, before it opens the file to write them.") from e
        if isinstance(e, AdDuckDBError | duckdb.Error):
            return None
        raise
    finally:
        con.close()


def _explain_fewer(db: str, model: str, into: str) -> str:
    """`score --into --explain`'s way to explain fewer rows, for its note on a long run (``_say_explain_cost``)."""
    return (f"to explain only the rows you will read, score without --explain (seconds) and then explain the flagged "
            f"ones: ad-duckdb explain {shlex.quote(db)} {shlex.quote(model)} {shlex.quote(into)} --where is_anomaly "
            "--limit 1000 (or give a SOURCE with a WHERE for the rows of interest)")


def _say_explain_cost(con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str, at_most: int | None, bulk: bool,
                      shorter: str) -> None:
    """A note on stderr, before the run, when explaining the rows of ``source`` (``at_most`` of them) will take long
    (``explaincost``); the rows are counted only where they could be that many."""
    from .sqltext import source_sql

    if at_most is not None and not explaincost.might_be_long(lm, at_most):
        return
    try:
        rows = con.execute(f"SELECT count(*) FROM {source_sql(source)}").fetchall()[0][0]
    except duckdb.Error:
        return  # a source that does not run: the scoring names what is wrong with it
    cost = explaincost.note(lm, rows if at_most is None else min(rows, at_most), bulk, shorter)
    if cost:
        _note(cost)


def _scored_totals_note(con: duckdb.DuckDBPyConnection, db: str, model: str, features: list[str], source: str,
                        top_from: str, sums_from: str) -> str | None:
    """The note when the top-scored row of ``top_from`` is a spreadsheet's totals row
    (``totalsrow.scored_totals_note``); None when it is not or ``top_from`` lacks a feature column (-c left it out)."""
    from .totalsrow import scored_totals_note

    return scored_totals_note(con, top_from, sums_from, source, features, db=db, model=model)


def _plot_scores(con: duckdb.DuckDBPyConnection, model: str, source: str, plots_dir: str,
                 over_time: tuple[str | None, str | None], to_stderr: bool = False) -> None:
    """`score --plots` without --into: the histogram, and the scores over time where the source has a time column;
    ``to_stderr``: their paths on stderr, after rows printed as csv or json."""
    click.echo(f"plot: {api.plot_scores(con, model, source, plots_dir)}", err=to_stderr)
    _plot_over_time(con, model, source, plots_dir, over_time, to_stderr)


def _features_hidden(con: duckdb.DuckDBPyConnection, model: str, columns: tuple[str, ...], out_format: str) -> list[str]:
    """A wide model's feature columns, left out of a printed table (with a note why), else none."""
    feats = registry(con).get(model).feature_names
    if columns or out_format != "table" or len(feats) <= _TOP_FEATURES_SHOWN:
        return []
    # A wide model's features pushed the scores to the far end of lines thousands of characters long
    _note(f"the model's {len(feats)} feature columns are left out of the table (anomaly_explain "
          "names the ones that matter); -c COLUMN shows the columns named, --format csv every column")
    return feats


def _plot_over_time(con: duckdb.DuckDBPyConnection, model: str, source: str, plots_dir: str | None,
                    over_time: tuple[str | None, str | None], to_stderr: bool = False) -> None:
    """`score --plots`' scores over time, if the source has its one time column (or --time); else the note why not."""
    from . import timeplot
    from .sqltext import shown_source

    col, note = over_time
    if plots_dir and col:
        try:
            path = timeplot.plot(con, registry(con).get(model), source, col, plots_dir, shown_source(source, n=40))
            click.echo(f"plot: {path}", err=to_stderr)
        except NoTimesError as e:  # the other plots are written: a note, as for a source without a time column
            note = e.note
    if plots_dir and note:
        _note(note)


def _score_into(con: duckdb.DuckDBPyConnection, model: str, source: str, into: str, columns: tuple[str, ...],
                explain: bool, replace: bool, plots_dir: str | None, ref: str, existed: bool,
                report_to_stderr: bool = False, append: bool = False, added: AddedTop | None = None,
                watched: ScoredTop | None = None, progress: bool = False,
                model_column: bool = False, partition: list[str] | None = None,
                replaced: list[int] | None = None, where: replacewhere.Where | None = None,
                threshold: str = "default", mse: bool = False) -> tuple[int, int]:
    """`score --into`'s work once the target is known: the write, its report, the plot; ``added``: receives the
    highest-scoring rows written; ``watched``: their features and scores (``totalsrow.ScoredTop``); ``partition``:
    the --replace-partition columns; ``replaced``: gets the rows they replaced, once committed; ``where``: the
    --replace-where condition. Returns the rows written and the rows the table holds now."""
    replaced = [] if replaced is None else replaced
    n = api.score(con, model, source, into=into, columns=_split(columns, con, source), explain=explain, replace=replace,
                  append=append, progress=progress, model_column=model_column, replace_partition=partition or None,
                  replace_where=where.text if where is not None else None, _added_top=added, _scored_top=watched,
                  _replaced=replaced, threshold=threshold, mse=mse)
    held = _row_count(con, into) if append else n
    if partition:
        # Why the rows replaced: a rerun's log then tells a day re-scored (200 replaced by 200) from a day added
        click.echo(f"replaced {sum(replaced)} rows of {shown_table(into)} (those of the new rows' "
                   f"{', '.join(partition)}) with {n} scored rows (now {held} rows; model {ref})", err=report_to_stderr)
    elif where is not None:
        click.echo(f"replaced {sum(replaced)} rows of {shown_table(into)} (those where {where.text}) with {n} scored "
                   f"rows (now {held} rows; model {ref})", err=report_to_stderr)
    elif append:
        # Why the total: a cron log then shows the table growing run by run, and a run that added none
        click.echo(f"added {n} scored rows to {shown_table(into)} (now {held} rows; model {ref})",
                   err=report_to_stderr)
    else:
        click.echo(f"wrote {n} scored rows to {shown_table(into)} (model {ref})", err=report_to_stderr)
    table = shown_table(into)
    if n == 0 and append and held == 0 and intotable.reads_table(con, source, into) and \
            nullmax.bare_extreme(con, source):
        # Why: "id > (SELECT max(id) FROM scores)" over a table created empty is NULL, and selects no row run after
        # run, each told "normal when no new rows came"
        _warn(f"{source} has no rows, so none were added to {table}; {table} holds no rows yet and the "
              "source reads it: a filter on its max(...) is then NULL and selects no row, run after run. Write "
              "coalesce(max(id), -1) for it (the lowest id minus one), or score every row once first.")
    elif n == 0 and partition:
        # Why said: the rows replaced come from the new rows' values, so a day whose load failed upstream keeps
        # its earlier scores, which a log watcher should know are not this run's
        keys = ", ".join(partition)
        _warn(f"{source} has no rows, so no rows of {table} were replaced and none added: {table} keeps any "
              f"earlier rows of that {keys} (the rows replaced are those of the new rows' {keys}); check the source "
              f"and its load. To empty a {keys} whose source has no rows now, give the rows it stands for instead: "
              f"--replace-where \"{' AND '.join(f'{k} = ...' for k in partition)}\" (a condition on {table}'s "
              "columns).")
    elif n == 0 and where is not None and sum(replaced):
        # Why said: the day is emptied as asked, but an empty source is as often a load that failed upstream
        _warn(f"{source} has no rows, so the {sum(replaced)} rows of {table} where {where.text} were deleted and "
              "none added; check the source and its load if it should have rows.")
    elif n == 0 and append:
        _warn(f"{source} has no rows, so none were added to {table}; normal when no new rows came since "
              "the last run, else check the source and its load.")
    elif n == 0:
        # Why a note: an upstream load that failed leaves the source empty, and a nightly --replace then
        # empties the scores table without a word a log watcher would catch.
        _warn(f"{source} has no rows, so {table} holds no scores"
              f"{' (its previous rows were replaced)' if existed else ''}; check the source and its load.")
    if plots_dir:
        click.echo(f"plot: {api.plot_scores(con, model, source, plots_dir)}", err=report_to_stderr)
    return n, held


def _row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The rows of the --into table ``table``, which exists."""
    return int(con.execute(f"SELECT count(*) FROM {table_sql(table)}").fetchall()[0][0])


def _has_rows_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` (an --into target) exists and holds rows."""
    try:
        return bool(con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table_sql(table)} LIMIT 1)").fetchall()[0][0])
    except (AdDuckDBError, duckdb.Error):
        return False
