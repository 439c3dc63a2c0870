"""Running the `sql` command's statements and printing their results."""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import time
from collections.abc import Iterator
from typing import Any

import click
import duckdb

from . import damagedfile, damagedstore, queryprogress, storewrites, typedpaths, udfs
from .clifail import EXIT_NO_DATABASE, _failure
from .clinotes import _note, _notes
from .cliopen import _attached_model_hint, _in_memory_model_hint, _unattached_hint
from .clirows import _print_rows, _write_rows
from .firstarg import first_feature_hint, literal_argument_hint, name_the_argument
from .udfnames import FUNCTIONS

# What DuckDB answers to a statement that returns no rows of its own (CREATE, INSERT, SET, CHECKPOINT...).
_NO_ROWS = (["Count"], ["Success"])


_UNFOUND_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')


def _unquoted_name_hint(error: str, statement: str) -> str:
    """For DuckDB's "Referenced column ... not found" when that name is an anomaly function's model or threshold
    argument written without single quotes (bare, or in double quotes): what it is and the quoted call; else "".

    Why: DuckDB reads ``anomaly_score(tx_ae, ...)`` as a column reference, and its message sends the user looking
    for a column."""
    m = _UNFOUND_COLUMN.search(error)
    if m is None:
        return ""
    name = re.escape(m.group(1))
    fns = "|".join(FUNCTIONS)
    # '"?': in double quotes, as Python or MySQL write a string, SQL reads a column name too
    arg = re.search(rf'\b({fns})\s*\(\s*("?)({name}(?:\s*@\s*\d+)?)\2(?![\w.])', statement, re.IGNORECASE)
    if arg is not None:
        fn, ref = arg.group(1), re.sub(r"\s+", "", arg.group(3))
        return (f" ({m.group(1)} is the model argument of {fn}, not a column: write the model name as a string in "
                f"single quotes, {fn}('{ref}', ...))")
    arg = re.search(rf'\b(is_anomaly_at|anomaly_threshold)\s*\(\s*[^,()]*,\s*("?)({name})\2(?![\w.])', statement,
                    re.IGNORECASE)
    if arg is not None:
        return (f" ({m.group(1)} is the threshold-name argument of {arg.group(1)}, not a column: write it as a string "
                f"in single quotes, {arg.group(1)}(model, '{arg.group(3)}', ...))")
    return ""


# Rows fetched and printed at a time by ``sql --format csv|json``: a few MB of Python objects, whatever the result's size
_STREAM_ROWS = 10_000


def _stream_rows(con: duckdb.DuckDBPyConnection, query: str, out_format: str, after_another: bool,
                 written: list[int]) -> None:
    """Print a SELECT's rows as csv or json while DuckDB computes the rest; ``after_another``: a blank line first;
    ``written[0]``: the rows printed so far, for the error of a statement that fails midway.

    Why: an export (`sql DB "SELECT * FROM big" --format json > big.json`) held every row and the whole text in
    memory (1.4 GB for a million rows of three columns), and `| head -1` waited for the last row. As ``_first_rows``,
    on ``con`` itself."""
    def batches() -> Iterator[list[tuple[Any, ...]]]:
        for rows in iter(lambda: con.fetchmany(_STREAM_ROWS), []):
            yield rows
            written[0] += len(rows)

    con.execute(query)
    try:
        if after_another:
            sys.stdout.write("\n")
        _write_rows([d[0] for d in con.description or []], batches(), out_format)
    finally:
        with contextlib.suppress(duckdb.Error):  # the result ended with an error, which is being raised
            con.abort()  # a result left open (a closed pipe) blocks the connection's next statement


def _first_rows(con: duckdb.DuckDBPyConnection, query: str, n: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and first ``n`` rows of a SELECT, the rest neither computed nor read. Why on ``con`` itself:
    a cursor would not see the session's TEMP tables, USE or open transaction. Why not ``rel.limit(n)``: it wraps
    the text in a subquery, which a trailing ``-- comment`` breaks."""
    con.execute(query)
    try:
        rows = con.fetchmany(n)
        return [d[0] for d in con.description or []], rows
    finally:
        try:
            con.abort()  # a streamed result left open blocks the connection's next statement
        except duckdb.Error:
            pass  # the result ended with an error, which is being raised


# The prompt's table shows at most this many rows of a result (DuckDB's shell shows 40): a SELECT * of a large
# table printed every row, for minutes, before the next prompt
PROMPT_ROWS = 40


# The store's tables, as a statement that may write them names them (a script of many other INSERTs costs nothing)
def _run_statements(con: duckdb.DuckDBPyConnection, text: str, out_format: str, write: bool,
                    max_rows: int | None = None, timer: bool = False, progress: bool = False) -> int:
    """Run and print each statement of ``text``; ``max_rows``: print at most that many rows of each (read no more);
    ``timer``: after each, its run time on stderr (.timer on); ``progress``: a long one's progress on stderr
    (queryprogress, enabled on ``con``). The number of results printed."""
    try:
        statements = con.extract_statements(text)
    except duckdb.Error as e:  # a syntax error: the prompt shows it and reads on, as for any statement's error
        raise _failure(str(e), e) from e
    if not statements:
        raise click.UsageError("No SQL statement to run: the text is empty, or only comments and ';'.")
    printed = 0
    functions = udfs.registry(con)
    for i, stmt in enumerate(statements, 1):
        started = time.perf_counter()
        streamed, written = False, [0]
        functions.new_statement()  # a note of the SQL functions (textvalues) is said once per statement
        what = f"statement {i} of {len(statements)}" if len(statements) > 1 else "running the statement"
        try:
            with _notes(), queryprogress.watching(con, what, progress):
                columns, rows, streamed = _run_one(con, stmt, out_format, max_rows, printed, written)
        except duckdb.Error as e:
            if damagedfile.is_damage(e):  # a block of the table the statement read: as the commands say it
                shown = typedpaths.cli_db(con)
                raise _failure(damagedstore.file_message(con, shown, e), code=EXIT_NO_DATABASE) from e
            missing_write = not write and "read-only" in str(e)
            hint = " (the database is opened read-only: add --write to allow writes)" if missing_write else \
                first_feature_hint(str(e), con, stmt.query) or literal_argument_hint(str(e), stmt.query) \
                or _unquoted_name_hint(str(e), stmt.query) or _attached_model_hint(con, str(e)) \
                or _in_memory_model_hint(con, str(e)) or _unattached_hint(con, e)
            where = f"statement {i} of {len(statements)}: " if len(statements) > 1 else ""
            # Why: a CSV cut short reads as a complete one; the exit code alone is easy for a script to miss
            partial = (f" ({written[0]:,} rows were printed before the error: the output is not the whole result)"
                       if written[0] else "")
            # a missing --write is a missing option (2), as --help's exit codes say; it exited 1, "any other error"
            raise _failure(name_the_argument(f"{where}{e}{hint}{partial}", stmt.query), e,
                           code=2 if missing_write else None) from e
        # the next statement (or the prompt's next line) sees what this one wrote there, in its transaction too
        storewrites.after_statement(con, stmt.type, stmt.query)
        # as DuckDB's shell, after the result; on stderr, so that a csv or json result stays data
        took = f"Run Time (s): real {time.perf_counter() - started:.3f}" if timer else None
        printed += streamed
        if columns is None or (stmt.type != duckdb.StatementType.SELECT and columns in _NO_ROWS):
            if took:
                click.echo(took, err=True)
            continue
        if printed:
            click.echo("")
        if out_format == "table" and stmt.type == duckdb.StatementType.EXPLAIN and columns == _EXPLAIN_COLUMNS:
            _print_plans(rows)
        else:
            # Why stdout's own terminal: a pipe, a file or .once/.output (stdout redirected) gets every column
            fit = shutil.get_terminal_size().columns if out_format == "table" and sys.stdout.isatty() else None
            _print_rows(columns, rows[:max_rows], out_format, fit_width=fit)
        if max_rows is not None and len(rows) > max_rows:
            _note(f"the first {max_rows} rows; the prompt shows no more. Add LIMIT ... OFFSET for others, "
                  "or write every row to a file: .once rows.csv (with .mode csv) and the query again.")
        if took:
            click.echo(took, err=True)
        printed += 1
    return printed


def _run_one(con: duckdb.DuckDBPyConnection, stmt: Any, out_format: str, max_rows: int | None, printed: int,
             written: list[int]) -> tuple[list[str] | None, list[Any], bool]:
    """One statement of ``_run_statements``: its columns and rows to print (None: none, or streamed), and whether
    its rows were streamed out as they came (csv, json)."""
    if max_rows is not None and stmt.type == duckdb.StatementType.SELECT:
        columns, rows = _first_rows(con, stmt.query, max_rows + 1)
        return columns, rows, False
    if out_format != "table" and stmt.type == duckdb.StatementType.SELECT:
        _stream_rows(con, stmt.query, out_format, after_another=printed > 0, written=written)
        return None, [], True
    rel = con.sql(stmt.query)
    return (None, [], False) if rel is None else (rel.columns, rel.fetchall(), False)


_EXPLAIN_COLUMNS = ["explain_key", "explain_value"]


def _print_plans(rows: list[tuple[Any, ...]]) -> None:
    """EXPLAIN's plans drawn whole, as DuckDB's shell prints them. Why not a table: a plan is one cell of many lines,
    which a table cell shows on one line, clipped (`╭─ Summary ──╮\\n│ Total Time: 0.0162s │\\n│ Data…`)."""
    for key, plan in rows:
        if len(rows) > 1:  # SET explain_output = 'all': the logical plans too, each named
            click.echo(f"{key}:")
        click.echo(str(plan).rstrip("\n"))
