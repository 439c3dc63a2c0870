"""The `sql` command (a query, a script or the prompt, with its dot commands), added to the CLI by cli.py."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click
import duckdb

from . import dotcmds, interrupts, queryprogress, resultgap, sqlshell, udfs, usageerrors
from .cliargs import _ATTACH
from .clicommand import _OPTION_LIKE, _QUERY_AND_FILE, _SqlCommand
from .clifail import EXIT_NO_DATABASE, _add_to_message, _failure
from .clinotes import _note
from .cliopen import _Creation, _exists, _open, _remove_new_database
from .clirows import _print_rows
from .exceptions import AdDuckDBError
from .showcmds import _print_models
from .sqlrun import PROMPT_ROWS, _run_statements
from .sqltext import quote_ident
from .udfnames import FUNCTIONS
from .utf8text import as_utf8


# ignore_unknown_options: QUERY may begin with a "-- comment" line (a .sql file passed as "$(cat f.sql)"),
# which click would otherwise take for an unknown option and refuse.
@click.command(cls=_SqlCommand, context_settings={"ignore_unknown_options": True})
@click.argument("db")
@click.argument("query", required=False)
@click.option("-f", "--file", "sql_file", type=click.File("r", encoding="utf-8"),
              help="Run the SQL in this file (- reads standard input) instead of QUERY.")
@click.option("--format", "out_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table for people; csv or json for scripts (every value, unclipped).")
@click.option("--write", is_flag=True, help="Open the database for writing (default: read-only); a DB that does not "
                                             "exist yet is created (and removed again if the SQL fails; the prompt's "
                                             "statements each stay).")
@click.option("--no-order-check", is_flag=True,
              help="Score rows that really hold two feature columns swapped, which the functions would otherwise "
                   "refuse as arguments passed out of order.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr while a statement runs (a bar on a terminal after "
                                             "2 s; in a log, a line every 30 s); stdout is the same either way.")
@_ATTACH
def sql(db: str, query: str | None, sql_file: IO[str] | None, out_format: str, write: bool,
        no_order_check: bool, quiet: bool, attach: tuple[str, ...]) -> None:
    """Run QUERY (one or more statements) on DB with the anomaly functions registered.

    Every statement that returns rows prints them, in order (with --format json: one array per statement). With
    --format csv or json, stdout holds those results alone (a blank line between consecutive statements'): a
    script of statements without rows (CREATE, INSERT, SET) answers ok on stderr, as every note goes. A script on
    standard input or --file without any statement (empty, or only comments and ';') is no error: a note, exit code
    0, as in psql.
    Without QUERY or --file, or with QUERY -, the SQL is read from standard input (ad-duckdb sql DB < report.sql,
    ad-duckdb sql DB - < report.sql); on a terminal, without QUERY,
    a prompt runs each statement as it is ended with ';' (.help lists its commands: .tables, .schema, .models,
    .mode csv, .read FILE, .timer on, ...; a script may hold them too, on lines of their own; Tab completes table,
    column, function and model names; .quit or Ctrl-D leaves; Ctrl-C stops the statement,
    not the session; the up arrow recalls earlier statements, whole, those of earlier sessions too, kept in
    ~/.ad_duckdb_history, or in the file AD_DUCKDB_HISTORY names, none if it is empty).

    \b
    Examples:
      ad-duckdb sql warehouse.duckdb "SELECT t.*, anomaly_score('tx_ae', count, amount) AS score
        FROM transactions t WHERE is_anomaly('tx_ae', count, amount) ORDER BY score DESC LIMIT 20"
      ad-duckdb sql warehouse.duckdb --file report.sql --format csv
    """
    if query is not None and sql_file is not None:
        raise click.UsageError(_QUERY_AND_FILE)
    stdin = sys.stdin
    # Why "-" reads standard input: psql -f - and cat take it so, and as SQL it was only a
    # syntax error; also on a terminal, where it reads to Ctrl-D as cat does, rather than prompting
    from_stdin = query == "-"
    if from_stdin:
        query = None
    interactive = query is None and sql_file is None and stdin is not None and stdin.isatty() and not from_stdin
    query_from_stdin = False
    if query is None and sql_file is None and not interactive:
        # Why: `ad-duckdb sql DB < report.sql` and `echo "SELECT ..." | ad-duckdb sql DB` are how duckdb, psql and
        # sqlite3 take a script (stdin is None when the caller closed it)
        query_from_stdin = True
        query = stdin.read() if stdin is not None else ""
        try:
            query = as_utf8(query, stdin.encoding or "utf-8", "standard input") if stdin is not None else query
        except ValueError as e:
            raise click.UsageError(str(e)) from e
    if query is not None and _OPTION_LIKE.fullmatch(query):
        # ignore_unknown_options would otherwise run a mistyped option as SQL.
        raise usageerrors.no_such_option(query, click.get_current_context())
    text = sql_file.read() if sql_file is not None else query or ""
    # Why a script without statements is no error: a generator that wrote none (`gen_sql | ad-duckdb sql DB -`) is
    # not a failure, and psql and DuckDB's shell exit 0 on it; a QUERY argument that is empty stays one (an unset
    # "$SQL" variable, most likely)
    nothing = None
    if (sql_file is not None or query_from_stdin) and not sqlshell.script_steps(text):
        what = "empty, or only comments and ';'"
        nothing = (f"{sql_file.name} is {what}" if sql_file is not None and sql_file.name != "<stdin>"
                   else f"standard input is {what}")
    # Why --write creates a new database: loading data into one (CREATE TABLE t AS SELECT * FROM read_csv(...)) is
    # what --write on a new path is for. A run that fails removes the file it created, so a mistyped path whose
    # query then fails leaves nothing behind.
    create = write and db != ":memory:" and not _exists(db, EXIT_NO_DATABASE)
    write = write or db == ":memory:"  # _open opens it read-write: the prompt must not say read-only
    creation = _Creation()
    try:
        _run_sql(db, text, out_format, write, no_order_check, create, creation, interactive, attach, nothing,
                 progress=not quiet)
    except BaseException as e:
        # not when the database could not even be opened, or another process created it
        if creation.ours and not creation.keep:
            _remove_new_database(db)
            if isinstance(e, click.ClickException):
                # Why said: a table an earlier statement made is gone with the file, and the error named only the
                # failing statement, so the user looked for that table.
                _add_to_message(e, f" The database {db!r} did not exist before this run and is removed again, with "
                                   "what the statements before the failing one wrote to it: run the SQL again once it "
                                   "works.")
        raise
    if creation.ours:
        _note(f"created the database {db!r}.")


def _run_sql(db: str, text: str, out_format: str, write: bool, no_order_check: bool, create: bool,
             creation: _Creation, interactive: bool = False, attach: tuple[str, ...] = (),
             nothing: str | None = None, progress: bool = False) -> None:
    """``nothing``: why the script holds no statement to run, if it holds none (the database is still opened, so
    that a mistyped path is still an error); ``progress``: each long statement's progress on stderr."""
    with _open(db, read_only=not write, check_order=False if no_order_check else None, create=create,
               creation=creation if create else None, attach=attach) as con:
        udfs.registry(con).set_surface("sql")
        if nothing is not None:
            _note(f"no SQL statement to run ({nothing}); give the SQL as QUERY, with --file PATH, or on "
                  "standard input (ad-duckdb sql DB < report.sql); on a terminal, ad-duckdb sql DB prompts.")
            return
        if progress:
            queryprogress.enable(con)
        if not interactive:
            session = dotcmds.Session(out_format, progress=progress)
            _say_ok(_run_script(con, text, session, write), session.out_format)
            return
        mode = "read-write" if write else "read-only: --write to change it"
        # Why kept from here on: each statement the prompt runs is committed and reported, so a session ended by a
        # SIGTERM must not remove the new database with what it made, as a failing script's is removed
        creation.keep = True
        session = dotcmds.Session(out_format, progress=progress)
        with interrupts.ctrl_c_at_the_prompt():
            sqlshell.interact(lambda t: _say_ok(_session_statements(con, t, session, write), session.out_format),
                              f"ad-duckdb: SQL on {db} ({mode}), the anomaly functions registered. "
                              "End each statement with ';'; .help lists the commands, .quit or Ctrl-D leaves.",
                              command=lambda line: _prompt_command(con, line, session, write, prompt=True),
                              words=lambda: dotcmds.completion_words(con, FUNCTIONS))


def _session_statements(con: duckdb.DuckDBPyConnection, text: str, session: dotcmds.Session, write: bool,
                        prompt: bool = True) -> int:
    """Run ``text``'s statements as the prompt or a script does (``prompt``: a table shows its first rows only); a
    .once file takes the first statement's result only, as in DuckDB's shell."""
    if session.once:
        try:
            statements = con.extract_statements(text)
        except duckdb.Error:
            statements = []  # a syntax error: _run_statements below reports it
        if len(statements) > 1:
            with _results_to(session):
                printed = _run_statements(con, statements[0].query, session.out_format, write, None, session.timer,
                                          session.progress)
            rest = ";\n".join(stmt.query for stmt in statements[1:])
            return printed + _session_statements(con, rest, session, write, prompt)
    shown = _shown(session) if prompt else None  # before _results_to takes the .once file
    with _results_to(session):
        return _run_statements(con, text, session.out_format, write, shown, session.timer, session.progress)


def _say_ok(printed: int, out_format: str) -> None:
    if not printed:  # a statement without rows (CREATE, SET, ...) still gets an answer, as in psql
        # Why on stderr for csv and json: stdout is then data alone, and an `ok` there broke `| jq` and CSV readers
        click.echo("ok", err=out_format != "table")


# How deep .read may nest: a script that reads itself (or two that read each other) is stopped, not run until
# Python's recursion limit
READ_DEPTH = 16


def _run_script(con: duckdb.DuckDBPyConnection, text: str, session: dotcmds.Session, write: bool,
                prompt: bool = False, reading: tuple[Path, ...] = ()) -> bool:
    """Run a script's statements and dot commands in order (sqlshell.script_steps), as DuckDB's shell runs a piped
    script or a .read file; whether anything printed. An error stops the script; when it holds dot commands, the
    error names the line. ``prompt``: run from the prompt, which shows only a table's first rows. ``reading``: the
    files being .read, outermost first."""
    steps = sqlshell.script_steps(text)
    if all(step.kind == "sql" for step in steps):  # SQL alone: one run, whose errors number the statements
        return _session_statements(con, text, session, write, prompt) > 0
    if isinstance(sys.stdout, resultgap.GapStdout):  # a .read file's steps are steps of the script reading it
        return _run_steps(con, steps, session, write, prompt, reading, sys.stdout)
    gap = resultgap.GapStdout(sys.stdout)
    with contextlib.redirect_stdout(gap):  # type: ignore[type-var]
        return _run_steps(con, steps, session, write, prompt, reading, gap)


def _run_steps(con: duckdb.DuckDBPyConnection, steps: list[sqlshell.Step], session: dotcmds.Session, write: bool,
               prompt: bool, reading: tuple[Path, ...], gap: resultgap.GapStdout) -> bool:
    """_run_script's steps in order; ``gap``: the script's stdout, told where each step begins."""
    printed = False
    for step in steps:
        if step.kind == "command" and sqlshell.quits(step.text):
            break  # .quit in a script ends it, as in DuckDB's shell
        gap.next_step(session.out_format != "table")
        try:
            if step.kind == "command":
                printed |= _prompt_command(con, step.text, session, write, prompt, reading)
            else:
                printed |= _session_statements(con, step.text, session, write, prompt) > 0
        except click.ClickException as e:
            where = f"{reading[-1]}, line {step.line}" if reading else f"line {step.line}"
            if isinstance(e, click.UsageError):  # the script's mistake, not the command line's: no usage text
                raise click.ClickException(f"{where}: {e.format_message()}") from e
            e.message = f"{where}: {e.message}"  # type: ignore[misc]  # as _add_to_message, at the front
            raise
    return printed


def _shown(session: dotcmds.Session) -> int | None:
    # csv and json, or into a file: asked for as data, every row
    return PROMPT_ROWS if session.out_format == "table" and not (session.once or session.output) else None


@contextmanager
def _results_to(session: dotcmds.Session) -> Iterator[None]:
    """Where a step's results go: the .once file (this step only, then the screen again), the .output file, or the
    screen. Notes and errors stay on the screen (stderr)."""
    path, mode = (session.once, "w") if session.once else (session.output, "a")
    if path is None:
        yield
        return
    session.once = None
    try:
        # Why newline="": a value's own \r\n stays as it is, as on the screen
        out = open(path, mode, encoding="utf-8", newline="")
    except OSError as e:
        raise click.ClickException(f"cannot write {path} ({e.strerror}); .output alone writes to the screen again.") \
            from e
    with out, contextlib.redirect_stdout(out):
        yield


def _prompt_command(con: duckdb.DuckDBPyConnection, line: str, session: dotcmds.Session, write: bool,
                    prompt: bool = False, reading: tuple[Path, ...] = ()) -> bool:
    """Do one of the dot commands (dotcmds); whether it printed anything. ``prompt`` and ``reading``: as
    _run_script's."""
    cmd = dotcmds.parse(line, session)
    if cmd.kind in ("done", "set"):
        return cmd.kind == "done"
    if cmd.kind == "read":
        return _read_script(con, cmd.params, session, write, prompt, reading)
    # Why a listing follows .once and .output as a query's rows do: DuckDB's shell writes `.once t.csv` then `.tables`
    # to the file, and a .once left waiting would take the next query's rows instead
    with _results_to(session):
        _print_listing(con, cmd, line, session, write)
    return True


def _print_listing(con: duckdb.DuckDBPyConnection, cmd: dotcmds.Command, line: str, session: dotcmds.Session,
                   write: bool) -> None:
    """A dot command's listing: models, tables, CREATE statements, columns, or its SQL's rows."""
    if cmd.kind == "models":
        # Why turned into a ClickException here: the prompt shows those and reads on, while any other error ends the
        # session, and .models on a database with a table of its own named ad_models raised the store's error
        try:
            _print_models(con, session.out_format, *cmd.params)
        except (AdDuckDBError, duckdb.Error) as e:
            raise _failure(str(e), e) from e
    elif cmd.kind in ("tables", "schema"):
        try:
            rows = con.execute(cmd.sql, cmd.params).fetchall()
        except duckdb.Error as e:
            raise _failure(str(e), e) from e
        names = ["name", "kind"] if cmd.kind == "tables" else ["sql", "name"]
        if session.out_format != "table":
            _print_rows(names, [row[:2] for row in rows], session.out_format)
            return
        if not rows:
            pattern, typed = cmd.params[0], line.split(None, 1)[0]
            # \dt reads psql's * and ? (made % and _ by then); .tables and .schema read them as themselves
            meant = pattern.replace("*", "%").replace("?", "_")
            like = (f" ({typed} takes LIKE patterns, % for any text and _ for one character: {typed} {meant}; \\dt "
                    f"takes psql's {pattern})" if "*" in pattern or "?" in pattern else "")
            click.echo("no table or view" + (f" matches {pattern!r}{like}" if pattern != "%" else " yet"))
        elif cmd.kind == "tables":
            _print_rows(names, rows)
        else:
            attached = None
            for sql_text, _, database in rows:  # as DuckDB's shell prints them: statements, not a table of clipped cells
                if database is not None and database != attached:
                    attached = database
                    click.echo(f"-- {database} (attached)")
                click.echo(sql_text if sql_text.rstrip().endswith(";") else sql_text + ";")
    elif cmd.kind == "describe":
        try:
            matched = con.execute(cmd.sql, cmd.params).fetchall()
        except duckdb.Error as e:
            raise _failure(str(e), e) from e
        if not matched:  # csv and json: stdout is data alone
            click.echo(f"no table or view matches {line.split(None, 1)[1].strip()!r}",
                       err=session.out_format != "table")
        for i, (database, schema, name, shown) in enumerate(matched):
            if session.out_format == "table":  # csv and json: one result per table, the data alone
                click.echo(("\n" if i else "") + shown + ":")
            _run_statements(con, f"DESCRIBE {quote_ident(database)}.{quote_ident(schema)}.{quote_ident(name)}",
                            session.out_format, write)
    elif cmd.kind == "statements":
        # Why every row: a listing of tables or columns is short, and the prompt's cut said to add LIMIT ... OFFSET,
        # which a dot command has no place for
        _run_statements(con, cmd.sql, session.out_format, write)


def _read_script(con: duckdb.DuckDBPyConnection, params: tuple[str, ...], session: dotcmds.Session, write: bool,
                 prompt: bool, reading: tuple[Path, ...]) -> bool:
    """.read FILE: run FILE as a script, on this connection and session (its .mode holds after it, as in DuckDB's
    shell)."""
    name, typed = params
    path = Path(name).expanduser()
    if path.resolve() in {p.resolve() for p in reading}:
        raise click.UsageError(f"{typed} {name}: {name} reads itself (through .read), which would never end.")
    if len(reading) >= READ_DEPTH:
        raise click.UsageError(f"{typed} {name}: .read nests more than {READ_DEPTH} files deep; is there a loop?")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise click.UsageError(f"{typed}: cannot read {name} ({why}); give the path of a SQL file.") from e
    return _run_script(con, text, session, write, prompt, (*reading, path))
