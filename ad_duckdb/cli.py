"""The ``ad-duckdb`` command. Errors become one readable line (``click.ClickException``) at this boundary."""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import math
import os
import re
import shlex
import shutil
import signal
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar, cast

import click
import duckdb
import numpy as np
from click.core import ParameterSource

from . import (
    alarmrate,
    api,
    attachedmodels,
    attachfiles,
    batchdrift,
    budgetshare,
    categorical,
    costs,
    damagedfile,
    damagedstore,
    dbtpackage,
    dotcmds,
    explaincost,
    explainlines,
    goalcheck,
    interrupts,
    intotable,
    jsonvalues,
    lifecycle,
    lockwait,
    metrics,
    modelsets,
    notafile,
    nullmax,
    optionwords,
    outputerrors,
    partitionreplace,
    pysource,
    queryprogress,
    repaircmds,
    replacewhere,
    resultgap,
    scoreahead,
    setmanifest,
    sqlshell,
    stdfds,
    store,
    storewrites,
    textliteral,
    texttable,
    textwidth,
    thresholds,
    trainhold,
    trainsample,
    udfs,
    unattached,
    usageerrors,
    versioncmds,
    weights,
    workfolder,
)
from .addedtop import AddedTop
from .exceptions import (
    AdDuckDBError,
    AdDuckDBWarning,
    BadInputError,
    DatabaseLockedError,
    DatabaseUnavailableError,
    IntegrityError,
    ModelNotFoundError,
    NoRowsError,
    NoTimesError,
    OptionError,
    SourceNotFoundError,
    ThresholdNotFoundError,
    is_interrupt,
    raised_in_function,
    without_function_wrapper,
)
from .features import (
    CLIP,
    FeatureSpec,
    describe,
    first_part,
    is_integer_type,
    is_missing_column,
    listing,
    raw_values,
    transform,
)
from .firstarg import first_feature_hint, name_the_argument
from .labelled import FEW_ANOMALIES, training_rows_note
from .models import import_record, views_calling_version
from .onnxfile import STDIN, file_bytes, read_stream
from .querywords import command_without, unquoted_query_message
from .scoretail import TOP
from .scoreterms import TERM_NAMES, terms_on
from .scoring import LoadedModel
from .servecmd import serve
from .sqltext import (
    begins_query,
    is_query,
    name_parts,
    quote_ident,
    quote_literal,
    shell_word,
    shown_table,
    source_sql,
    sql_name,
    sql_names,
    strip_sql_ends,
    table_sql,
)
from .store import ModelRecord, Threshold
from .texttable import Number as _Number
from .texttable import cell_text as _cell_text
from .texttable import csv_cell as _csv_cell
from .texttable import figure as _figure
from .texttable import float_text as _float_text
from .texttable import one_line as _one_line
from .totalsrow import ScoredTop
from .trainscores import RANKS
from .udfs import FUNCTIONS
from .utf8text import as_utf8

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


_OS_ERROR_HINTS = {
    errno.EISDIR: "give the path of a file instead, e.g. one inside that folder",
    errno.ENOTDIR: "part of the path is a file, not a folder; choose another path",
    errno.EACCES: "permission denied; choose a path you may use, or change its permissions",
    errno.EPERM: "not permitted; choose a path you may use, or change its permissions",
    errno.EROFS: "the file system is read-only; choose a path on a writable one",
    errno.ENOSPC: "the disk is full; free some space or choose another disk",
    errno.EFBIG: "the file is over the size limit of this process or file system (ulimit -f); raise it or choose another disk",
    errno.EEXIST: "something else is there already (a file where a folder is needed?); choose another path",
}


def _os_error_message(e: OSError) -> str:
    """One line naming the path and the fix, in place of a FileNotFoundError/IsADirectoryError traceback."""
    what = e.strerror or str(e)
    if e.filename is None:
        return f"{what}."
    path = Path(os.fsdecode(e.filename))
    hint = _OS_ERROR_HINTS.get(e.errno or 0)
    if hint is None and e.errno == errno.ENOENT:
        parent = path.parent
        hint = (f"the folder {str(parent)!r} does not exist; create it or choose another path" if not parent.is_dir()
                else "check the path, or choose another one in a folder you can write to")
    return f"{what}: {str(path)!r}{workfolder.where(path)}; {hint or 'check the path'}."


# Exit codes a script can act on (printed by `ad-duckdb --help`). Why more than 1: a nightly job retries a locked
# file later, but pages someone for a missing model or table; with one code for all it must parse the message.
EXIT_NO_DATABASE = 3  # the database file does not exist or cannot be opened (path, permissions, read-only, damaged)
EXIT_LOCKED = 4  # another process holds the database file: retry later
EXIT_NO_MODEL = 5  # no such model, version or threshold
EXIT_NO_SOURCE = 6  # the source table, view, file or a column does not exist
EXIT_NO_ROWS = 7  # the source (after --where) has no rows to train or evaluate on
EXIT_INTEGRITY = 8  # a stored or imported model failed its integrity check
# check-threshold --fail-outside: the check ran and the threshold broke its promise. Why its own code: a monitor
# pages on it, and must not page for a locked file (4) or a check that could not run (1)
EXIT_OUTSIDE = 9
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, what a shell reports for a command a signal stopped
EXIT_TERMINATED = 143  # SIGTERM (a scheduler's timeout, `kill`, a pod stop): 128 + SIGTERM, as for Ctrl-C
# The reader of stdout stopped reading (`| head -1`): 128 + SIGPIPE, what a shell reports for git, cat or seq there.
# Why not 1: a job under `set -o pipefail` must tell "head had enough" from a failure; why not 0: a reader that
# died early is not a success either, and 141 is the code such a job already allows for the tools it pipes.
EXIT_BROKEN_PIPE = 141
_EXIT_CODES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    (DatabaseUnavailableError, EXIT_NO_DATABASE),
    (DatabaseLockedError, EXIT_LOCKED),
    ((ModelNotFoundError, ThresholdNotFoundError), EXIT_NO_MODEL),
    ((SourceNotFoundError, duckdb.CatalogException), EXIT_NO_SOURCE),
    (NoRowsError, EXIT_NO_ROWS),
    (IntegrityError, EXIT_INTEGRITY),
    (OptionError, 2),
)
EXIT_CODES_HELP = f"""\b
Exit codes: 0 success; 1 any other error; 2 wrong arguments or options;
{EXIT_NO_DATABASE} the database file does not exist or cannot be opened (path, permissions, read-only,
damaged on disk);
{EXIT_LOCKED} another process holds the database file (retry later);
{EXIT_NO_MODEL} no such model, version or threshold;
{EXIT_NO_SOURCE} no such source table, view, file or column;
{EXIT_NO_ROWS} no rows to train or evaluate on;
{EXIT_INTEGRITY} a stored or imported model failed its integrity check;
{EXIT_OUTSIDE} a threshold outside its promise (check-threshold --fail-outside);
{EXIT_INTERRUPTED} interrupted (Ctrl-C); {EXIT_TERMINATED} stopped by SIGTERM (a timeout, `kill`, a pod stop);
{EXIT_BROKEN_PIPE} the reader of the output stopped reading (`| head`), as git or cat exit there.
Errors go to stderr as one line starting with "Error:"; notes start with "note:"
(PYTHONWARNINGS=error::UserWarning makes a note an error, exit 1;
ignore::UserWarning leaves notes out). An output that cannot be written
(a full disk under > out.json) is exit 1, "Error: writing the output (stdout): ..."."""


def _reader_gone(*streams: IO[str]) -> int:
    """Stop writing to a closed stdout (and ``streams``) quietly (Python docs, "Note on SIGPIPE"); EXIT_BROKEN_PIPE."""
    # Why devnull rather than SIG_DFL: the docs warn that SIGPIPE's default would also kill the process when a
    # socket closes (`serve`); pointing the stream at devnull keeps the exit-time flush from raising again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, *streams):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def with_exit_code(err: click.ClickException, code: int) -> click.ClickException:
    """``err``, ending the command with exit code ``code`` (``EXIT_CODES_HELP``)."""
    # Why ignored: click types exit_code as a class variable (a subclass's fixed code) but reads it from the
    # instance, and one subclass per code would be a class for every exit code.
    err.exit_code = code  # type: ignore[misc]
    return err


def _add_to_message(err: click.ClickException, more: str) -> None:
    """Append ``more`` to the message ``err`` shows."""
    # Why in place and ignored: click types message as Final, but reads it only when the error is shown; a new error
    # would lose the class (a UsageError's usage line) and exit code of the one raised.
    err.message += more  # type: ignore[misc]


def _failure(message: str, e: BaseException | None = None, code: int | None = None,
             outcome: str | None = None) -> click.ClickException:
    """A one-line error whose exit code says what kind of failure ``e`` is (``_EXIT_CODES``); ``outcome``: what became
    of the scores table a full disk stopped (``_full_disk_hint``)."""
    # DuckDB's messages run over lines ("Candidate functions:", "LINE 1: ..." and a caret line under it): one line,
    # as scripts read it, without the caret line, which points at nothing once joined.
    lines = message.splitlines()
    pointer = _error_pointer(lines)
    message = " ".join(s.strip() for s in lines if s.strip() and not set(s.strip()) <= {"^"})
    # a TransactionException too: a model's commit that its WAL record did not fit in ends "Failed to commit: Could not
    # write file ...wal: No space left on device"
    if isinstance(e, (duckdb.IOException, duckdb.TransactionException)):
        message += _full_disk_hint(str(e), outcome)
    kind = raised_in_function(str(e)) if isinstance(e, duckdb.Error) else None
    if kind is not None:
        # the same mistake as a command's argument (`show DB tx_ae@0`) reads as this line alone
        message = without_function_wrapper(message)
    # the prompt shows the pointer under the message (sqlshell.shown_error); a script's error stays this one line
    err = (sqlshell.PointedError(message, pointer[0].strip(), "\n".join(pointer)) if pointer
           else click.ClickException(message))
    if code is None and kind is not None:
        # as the same error raised outside SQL: a malformed 'tx_ae@0' exits 2 (it exited 1), no such model 5
        code = next((c for kinds, c in _EXIT_CODES if issubclass(kind, kinds)), 1)
    elif code is None and e is not None and is_missing_column(e):
        code = EXIT_NO_SOURCE  # a misspelt column in a query: the same kind as a misspelt -f column
    return with_exit_code(err, code if code is not None else next(
        (c for kinds, c in _EXIT_CODES if isinstance(e, kinds)), 1))


_QUOTED_LINE = re.compile(r"LINE \d+: ")


def _error_pointer(lines: list[str]) -> list[str]:
    """DuckDB's quote of the statement in an error (``LINE 1: SELEC 1``) and the '^' line under it; [] if none."""
    for quote, caret in zip(lines, lines[1:], strict=False):  # each line with the next
        if _QUOTED_LINE.match(quote) and caret.strip() and set(caret.strip()) <= {"^"}:
            return [quote.rstrip(), caret.rstrip()]
    return []


# The strerror texts of a write the disk cannot hold, as DuckDB's IO errors end with them, and what to do.
_FULL_DISK = {os.strerror(errno.ENOSPC): _OS_ERROR_HINTS[errno.ENOSPC], os.strerror(errno.EDQUOT):
              "the disk quota of this user is used up; free some space or choose another disk",
              os.strerror(errno.EFBIG): _OS_ERROR_HINTS[errno.EFBIG]}


def _full_disk_hint(text: str, outcome: str | None = None) -> str:
    """What to do about a database write that the disk could not hold, and what became of the database; "" for
    another error. Why: DuckDB's "Could not write file ...: No space left on device" said neither. ``outcome``: what
    became of a scores table, when the command could read it back (``_into_outcome``)."""
    hint = next((h for said, h in _FULL_DISK.items() if text.rstrip().endswith(said)), None)
    if hint is None:
        return ""
    if outcome is not None:
        # Why said outright: a nightly --append retried after "shows whether this one was" added its rows twice
        # when they had been stored
        again = ("run the command again once there is room" if "not changed" in outcome or "not created" in outcome
                 else "do not run it again for these rows")
        return f" ({hint[0].upper() + hint[1:]}. {outcome[:-1]}; {again}.)"
    return (f" ({hint[0].upper() + hint[1:]}. Each model, scores table and threshold is stored in one transaction, "
            "whole or not at all: `ad-duckdb list`, or the table, shows whether this one was.)")


def _full_disk(e: BaseException) -> bool:
    """Whether ``e`` is DuckDB's write that the disk could not hold (``_full_disk_hint``)."""
    return isinstance(e, (duckdb.IOException, duckdb.TransactionException)) and bool(_full_disk_hint(str(e)))


def _interrupted(outcome: str | None = None) -> click.ClickException:
    """The Ctrl-C (or SIGTERM) error; ``outcome``: what the command knows was or was not written (_into_outcome)."""
    by = "SIGTERM" if interrupts.stopped_by_sigterm() else "Ctrl-C"
    err = click.ClickException(
        f"interrupted ({by}) before the command finished: {outcome}" if outcome else
        f"interrupted ({by}) before the command finished. Nothing is left half-written: each model, scores table "
        "and threshold is stored in one transaction, whole or not at all.")
    return with_exit_code(err, EXIT_TERMINATED if by == "SIGTERM" else EXIT_INTERRUPTED)


def _interrupted_starting() -> click.ClickException:
    """The Ctrl-C (or SIGTERM) error before the command ran: as launch's for a Ctrl-C during the imports."""
    by = "SIGTERM" if interrupts.stopped_by_sigterm() else "Ctrl-C"
    err = click.ClickException(f"interrupted ({by}) while the command was starting; it did nothing.")
    return with_exit_code(err, EXIT_TERMINATED if by == "SIGTERM" else EXIT_INTERRUPTED)


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


def _read_quietly(con: duckdb.DuckDBPyConnection, query: str, params: list[object]) -> Any:
    """The first value of ``query``'s first row, None when there is none or the read fails (no table yet).

    Why on a cursor of its own: after a Ctrl-C the watcher's ``interrupt()`` of ``con`` may still be pending, and
    would stop this query, which reads what the interrupted command stored."""
    try:
        with con.cursor() as cur:
            rows = cur.execute(query, params).fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


def _latest_version(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """The highest version of ``name`` in ad_models, 0 for none (or no table yet)."""
    return int(_read_quietly(con, "SELECT coalesce(max(version), 0) FROM ad_models WHERE name = ?", [name]) or 0)


@contextmanager
def _done_if_interrupted(read: Callable[[], Any], said: Callable[[Any, Any], str | None]) -> Iterator[list[str]]:
    """Around a step that commits a change: a Ctrl-C (or SIGTERM) that lands once it is committed says so, and the
    list yielded then holds what was done, for the caller's clean-up (a new database is kept). ``read`` reads the
    stored state, before and after; ``said(before, after)`` is what changed ("tx_ae@2 was stored"), None if nothing.

    Why: DuckDB's COMMIT runs to its end, and a signal landing after it (while the command printed what it stored)
    said "Nothing is left half-written", which read as "nothing was stored": the job ran again and stored it twice.
    """
    done: list[str] = []
    before = read()
    try:
        yield done
    except BaseException as e:
        if isinstance(e, OSError) and outputerrors.is_output_error(e):
            # stored, then its line failed to print: a job's retry would store it again
            what = said(before, read())
            if what is not None:
                done.append(what)
            raise click.ClickException(outputerrors.output_failed(e, what)) from e
        if isinstance(e, AdDuckDBWarning):  # a note made an error (PYTHONWARNINGS) once the change was committed
            what = said(before, read())
            if what is None:
                raise
            done.append(what)
            raise _failure(f"{e}{_MADE_ERROR}; meanwhile {what}.") from e
        if not is_interrupt(e):
            raise
        what = said(before, read())
        if what is None:
            raise
        done.append(what)
        raise _interrupted(f"{what}, whole, before it; only what came after it did not run (no need to run the "
                           "command again).") from e


def _stored_if_interrupted(con: duckdb.DuckDBPyConnection | Callable[[], duckdb.DuckDBPyConnection],
                           name: str) -> Any:
    """``_done_if_interrupted`` around a step that stores a version of ``name``; ``con`` may be a function giving the
    connection of the moment (train's, let go and opened again)."""
    return _done_if_interrupted(lambda: _latest_version(con() if callable(con) else con, name),
                                lambda b, a: f"{name}@{a} was stored" if a > b else None)


def _threshold_stored_if_interrupted(con: duckdb.DuckDBPyConnection, model: str, name: str) -> Any:
    """``_done_if_interrupted`` around a step that stores threshold ``name`` for a version of ``model``."""
    base = model.split("@")[0]

    def read() -> Any:
        return _read_quietly(con, "SELECT max({'at': created_at, 'version': version}) FROM ad_thresholds "
                                  "WHERE model = ? AND threshold_name = ?", [base, name])

    return _done_if_interrupted(
        read, lambda b, a: f"threshold {name!r} of {base}@{a['version']} was stored" if a and a != b else None)


def _unencodable(e: UnicodeEncodeError) -> click.ClickException:
    text = e.object[e.start:e.end] if isinstance(e.object, str) else ""
    return click.ClickException(
        f"the output's encoding, {e.encoding}, cannot write {text!r} (from the locale or PYTHONIOENCODING): run the "
        f"command with PYTHONIOENCODING=utf-8 (or a UTF-8 locale, LC_ALL=C.UTF-8) and read its output as UTF-8.")


def _finite_wait(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """--wait's value, refused (exit 2) unless finite. Why: click's range lets nan through (no comparison holds for
    it), and a job with --wait nan (or inf, AD_DUCKDB_WAIT=inf) said "waiting up to nans" and waited for ever."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is no number of seconds; give the longest wait, e.g. --wait 600.", ctx, param)
    return value


def _lock_wait() -> float:
    """Seconds to wait for a database file another process holds (``ad-duckdb --wait``), 0 outside a command."""
    ctx = click.get_current_context(silent=True)
    return float(ctx.find_root().params.get("wait") or 0) if ctx is not None else 0.0


class _Creation:
    """Whether this run created its database file, and so may remove it again when the command fails.

    Why decided at the open, not when the command starts: a file missing then may be created meanwhile by another
    process (two nightly jobs on a new file, one of them waiting with --wait), whose tables and models a removal
    would destroy. The file is ours only if it was missing just before the attempt that got it: a process that
    created it first holds its lock, so that attempt fails. Why each attempt, not the first: the holder may remove
    its own new file when its command fails; the file a later attempt then creates is ours.
    """

    def __init__(self) -> None:
        self.ours = False
        self.keep = False  # a failure no longer removes it (the ``sql`` prompt, once it started)


def _connect_once(db: str, read_only: bool, check_order: bool | None,
                  creation: _Creation | None = None) -> duckdb.DuckDBPyConnection:
    """``api.connect``, telling ``creation`` whether this attempt created the file."""
    before = _file_identity(db) if creation is not None and db != ":memory:" else None
    missing = creation is not None and db != ":memory:" and before is None
    try:
        con = api.connect(db, read_only=read_only, check_order=check_order, wait=0)  # --wait: _waiting_for_lock
    except DatabaseLockedError:
        raise  # another process holds the file: it created it, if it was missing
    except BaseException:
        # Why: api.connect creates the file before it registers the functions; a failure there (a Ctrl-C or
        # SIGTERM in that window) left the empty new file behind, as not ours. Missing before and there now:
        # this attempt created it (a process that created it first would hold its lock: DatabaseLockedError).
        if creation is not None and missing and Path(db).exists():
            creation.ours = True
        raise
    # Why off, for every connection and cursor of the file: a command line has no Python variable to read as a table
    # (a notebook's DataFrame, pysource), and DuckDB's replacement scan looked in ad_duckdb's own module for the
    # table name: the source good.json ("good"."json") met the json module, "not suitable for replacement scans"
    con.execute("SET GLOBAL python_enable_replacements = false")
    if creation is not None:
        # Why not only "missing": another process that held the file (--wait) may remove it between the look above
        # and the open, which then creates a new one; that file is ours, and one left behind after a failure is the
        # leftover --wait must not leave. Another file at the path that holds no table or view is one too.
        creation.ours = missing or (before is not None and _file_identity(db) != before
                                   and trainhold.holds_nothing(con))
    return con


def _file_identity(db: str) -> tuple[int, int, int] | None:
    """The file at ``db`` (device, inode, status-change time), None when there is none.

    Why the change time too: a file system hands a removed file's inode number straight to the next file created
    (ext4 and tmpfs do, every time), so a file another process removed and this run created anew had the same
    (device, inode); the new one was taken for the old and left behind after a failure. Opening a database does
    not change its file's status, so the same untouched file keeps all three.
    """
    try:
        st = os.stat(db)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_ctime_ns



def _connect_attaching(db: str, read_only: bool, check_order: bool | None, creation: _Creation | None,
                       files: Sequence[attachfiles.Attached], wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """``api.connect``'s connection with ``files`` attached read-only, retried while another process holds DB or
    one of the files, for up to ``--wait`` seconds.

    Why each file attached and let go on a connection of its own before DB opens: DB opened first was held for the
    whole wait for a file another process writes (for writing, with score --into or sql --write), blocking DB's
    other users. Why DB let go again when a writer takes a file between that look and its attach: the same; not a
    DB this run created, which nobody else uses yet, and which another process could take in the gap (_Creation).
    """
    con: duckdb.DuckDBPyConnection | None = None
    attached = 0

    def attempt() -> duckdb.DuckDBPyConnection:
        nonlocal con, attached
        if con is None:
            for file in files:
                attachfiles.probe(file)  # only while no connection of ours has it attached (probe's docstring)
            con, attached = _connect_once(db, read_only, check_order, creation), 0
            if files:
                attachfiles.check_schemas(con, files)
        try:
            for file in files[attached:]:
                attachfiles.attach(con, file)
                attached += 1
        except DatabaseLockedError:
            if creation is None or not creation.ours:
                con.close()
                con = None
            raise
        return con

    try:
        return _waiting_for_lock(attempt, wait)
    except BaseException:
        if con is not None:
            con.close()
        raise


def _waiting_for_lock(attempt: Callable[[], T], wait: float | None = None) -> T:
    """``attempt()``, retried while it fails on a file another process holds, for up to ``--wait`` seconds (or
    ``wait``)."""
    # Why said (--wait's only; train's wait to store says its own line): a job waiting in silence for up to --wait
    # seconds looked hung in its cron or Airflow log
    return lockwait.retry_while_locked(
        attempt, _lock_wait() if wait is None else wait, waited_with="--wait" if wait is None else "train's wait to store",
        how_to_wait="From the command line, `ad-duckdb --wait SECONDS COMMAND ...` waits for the file to be free.",
        say=_note if wait is None else None)


def _watch_ctrl_c() -> None:
    """Make Ctrl-C stop a running DuckDB query at once: Python's handler only raises KeyboardInterrupt when the main
    thread runs Python again, and DuckDB notices the signal itself only now and then, so a long query ran on.

    Why a wakeup fd: the C-level handler writes to it in whichever thread the signal lands, even while the main
    thread waits in DuckDB without the GIL; a thread reading it interrupts the open connections and their cursors
    (``interrupts``), whose queries then fail with DuckDB's InterruptException (shown as the interrupted error,
    exit 130).

    SIGTERM (Airflow's task timeout, ``kill PID``, a Kubernetes pod stop) is handled as a Ctrl-C, exit 143: by
    default it ended the process at once, with no message and no word on what was stored. Not if it was ignored
    when we started (``nohup``-like parents): that choice is the caller's. ``serve`` installs its own handlers.
    """
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    interrupts.watched_by(w)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, interrupts.raise_terminated)

    def watch() -> None:
        # Why blocked here: a signal landing in this thread left the main thread waiting in `sql`'s prompt (readline's
        # select) until the next key; blocked, the kernel gives it to the main thread, and the wakeup fd still fires
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        while True:
            interrupts.on_wakeup(os.read(r, 64))

    threading.Thread(target=watch, name="ad-duckdb-ctrl-c", daemon=True).start()


def _names_missing_relation(e: BaseException) -> bool:
    """Whether DuckDB's catalog (a table, view or schema not there) refused, somewhere in ``e``'s causes."""
    chain: list[BaseException] = []
    link: BaseException | None = e
    while link is not None and link not in chain:  # a chain may loop back on itself
        chain.append(link)
        # a context raised `from None` is no cause: the error replaced it (a file path not read, no table missing)
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return any(isinstance(x, duckdb.CatalogException) for x in chain)


def _remove_new_database(db: str) -> None:
    """Remove a database file this command created (and its write-ahead log) when the command failed."""
    for path in (Path(db), Path(f"{db}.wal")):
        path.unlink(missing_ok=True)


def refuse_empty_path(db: str) -> None:
    """Refuse, exit 3, a DB argument that is the empty string. Why: DuckDB opens '' as an in-memory database, so a
    script's unset "$DB" trained and "stored" a model that was gone when the command ended (and `list` said "Cannot
    launch in-memory database in read-only mode!"), while a failed train's clean-up tried to remove the folder '.'."""
    if db == "":
        raise _failure("DB '' is empty: give the path of a .duckdb file, e.g. warehouse.duckdb (an unset variable "
                       "in \"$DB\" gives ''; ':memory:' is an in-memory database, which keeps nothing).",
                       code=EXIT_NO_DATABASE)
    said = notafile.refusal(db)  # and, before any other look at it, a device or pipe (notafile's docstring)
    if said is not None:
        raise _failure(said, code=EXIT_NO_DATABASE)


def _refuse_in_memory(db: str, command: str, example: str) -> None:
    """Refuse, exit 3, a command that stores a model in DB when DB is ``:memory:``. Why: the command "stored" it in a
    database gone when the command ended, and said so as a success."""
    if db == ":memory:":
        raise _failure(f"DB {db!r} is an in-memory database: the model {command} stores would be gone when the "
                       f"command ends. Give a .duckdb file to store it in (created if missing), e.g. {example}.",
                       code=EXIT_NO_DATABASE)


def _in_memory_model_hint(con: duckdb.DuckDBPyConnection, error: str) -> str:
    """For a model not found in an in-memory DB: where models are; else "". Why: "Train one with `ad-duckdb train`"
    alone sent the user to train into a database that keeps nothing."""
    from .udfs import OPEN_ARGS

    if OPEN_ARGS.get(con, ("",))[0] != ":memory:" or "No model " not in error:
        return ""
    return (" (DB ':memory:' is a new, empty in-memory database each run: give the database file that "
            "`ad-duckdb train` stored the model in as DB)")


_ATTACH = click.option(
    "--attach", "attach", multiple=True, metavar="PATH[=ALIAS]",
    help="Also read the tables of this DuckDB file, attached read-only as ALIAS (default: its name up to the first "
         "dot, as DuckDB's ATTACH names it): SOURCE lake.main.tx with --attach path/to/lake.duckdb. Repeatable; "
         "DuckDB files only (a Parquet or CSV file is a source itself).")


def _attachments(db: str, attach: tuple[str, ...]) -> list[attachfiles.Attached]:
    """The --attach values, checked before DB is opened: a wrong one (an alias taken) creates no database."""
    try:
        files = [attachfiles.parse(spec) for spec in attach]
        attachfiles.check(files, db, "memory" if db == ":memory:" else attachfiles.default_alias(db))
    except attachfiles.AttachOptionError as e:
        raise _failure(str(e), code=2) from e  # a wrong option, as click's own (exit 2), in one line
    except AdDuckDBError as e:
        raise _failure(str(e), e) from e
    return files


@contextmanager
def _open(db: str, read_only: bool = False, check_order: bool | None = None, create: bool = False,
          creation: _Creation | None = None, attach: tuple[str, ...] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
    """The command's connection; ``create``: a missing file is created; ``creation`` is told whether this run did;
    ``attach``: the --attach values, other DuckDB files attached read-only on it."""
    # The one boundary of every command: library, DuckDB and file-system errors become one line, no traceback.
    refuse_empty_path(db)
    if db == ":memory:":
        # Why: DuckDB refuses a read-only in-memory database, and one has nothing to protect (sql :memory: on a
        # read_parquet(...) was refused for a missing --write)
        read_only = False
    exists = db == ":memory:" or _exists(db, EXIT_NO_DATABASE)
    if not create and not exists:
        # Why: opening for writing would create an empty database at a mistyped path, and the command
        # would then report "no model" there instead of the typo.
        ctx = click.get_current_context(silent=True)
        # Why per command: someone loading data with `sql` was pointed at train, not at sql --write
        makes = ("`ad-duckdb sql --write` creates one, to load data into; `ad-duckdb train` too"
                 if ctx is not None and ctx.info_name == "sql" else "`ad-duckdb train` creates one")
        raise _failure(f"Database {db!r} does not exist; check the path ({makes}).", code=EXIT_NO_DATABASE)
    if create and db != ":memory:" and not Path(db).parent.is_dir():
        # Why before DuckDB: its "IO Error: Cannot open file" does not say that the folder is what is missing
        missing = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), db)
        raise _failure(_os_error_message(missing), code=EXIT_NO_DATABASE)
    if not read_only and db != ":memory:":
        _check_folder_writable(db)
    files = _attachments(db, attach)
    if db != ":memory:":
        store.typed_as(db)  # the messages name it as typed, also those made as the functions load the store
    try:
        con = _connect_attaching(db, read_only, check_order, creation, files)
    except attachfiles.AttachOptionError as e:
        raise _failure(str(e), code=2) from e  # an alias that is a schema of DB: a wrong option, as in _attachments
    except (AdDuckDBError, duckdb.Error) as e:
        raise _failure(str(e), e) from e
    except OSError as e:
        raise _failure(_os_error_message(e), code=EXIT_NO_DATABASE) from e
    interrupts.track(con)
    try:
        udfs.registry(con).opened_afresh = True
        udfs.registry(con).set_surface("command")  # `sql` says "sql" once it runs statements of its own
        yield con
    except (AdDuckDBError, duckdb.Error) as e:
        if damagedfile.is_damage(e):
            # the blocks a command reads after the open (a table's, the models') may be the damaged ones; the
            # models' names: which are lost and what still reads (damagedstore)
            raise _failure(damagedstore.file_message(con, db, e), code=EXIT_NO_DATABASE) from e
        raise _failure(str(e) + (_swapped_hint(con, e) or _in_memory_model_hint(con, str(e))
                                 or _unattached_hint(con, e) or _command_model_hint(con, e)), e) from e
    except BrokenPipeError:
        raise  # `| head` closed stdout: not a file error; _Group.invoke ends the command (EXIT_BROKEN_PIPE)
    except OSError as e:
        if outputerrors.is_output_error(e):
            raise click.ClickException(outputerrors.output_failed(e)) from e
        raise click.ClickException(_os_error_message(e)) from e
    finally:
        # Why back: a Python program running a command in its own process (click's CliRunner) shares the file's
        # database with its own connections, whose replacement scans read its DataFrames (_connect_once turned them off)
        with contextlib.suppress(duckdb.Error):
            con.execute("RESET GLOBAL python_enable_replacements")
        # Why: a connection left open with Python functions prints nanobind leak warnings at exit.
        con.close()


def _exists(path: str, code: int) -> bool:
    """Whether ``path`` exists; a name the file system refuses (ENAMETOOLONG) is an error naming it, exit ``code``.
    Why: Path.exists and is_dir raise for such a name rather than answer False, and a command ended in that
    traceback."""
    try:
        return Path(path).exists()
    except OSError as e:
        raise _failure(_os_error_message(e), code=code) from None


def _check_folder_writable(db: str) -> None:
    """Refuse, exit 3, a command that writes DB when DB's folder is not writable by this user
    (``store.unwritable_folder``): before the work, which only the commit would have failed."""
    said = store.unwritable_folder(db, reads="score without --into, list, show, export, sql")
    if said:
        raise _failure(f"Cannot open {db!r} for writing: {said}", code=EXIT_NO_DATABASE)


def _command_model_hint(con: duckdb.DuckDBPyConnection, e: BaseException) -> str:
    """For a command's MODEL that DB does not store but an attached file does: which file holds it (as `sql`'s
    error says for a function's model); "" otherwise."""
    ctx = click.get_current_context(silent=True)
    if not isinstance(e, ModelNotFoundError) or ctx is None or ctx.info_name is None:
        return ""
    return _attached_model_hint(con, str(e), ctx.info_name)


def _unattached_hint(con: duckdb.DuckDBPyConnection, e: BaseException) -> str:
    """" It reads lake.main.tx, but no database 'lake' is attached ... --attach ..." for a statement (`sql`'s, a view
    it reads) naming a table of a database file this command did not attach; "" otherwise, and when the error
    already says so (a source's, from features.describe)."""
    if not isinstance(e, duckdb.CatalogException):
        return ""
    try:
        cur = con.cursor()  # not con: a failed statement may have left its transaction aborted
        try:
            found = unattached.hint(cur, str(e), shell=True)
        finally:
            cur.close()
    except duckdb.Error:  # the connection cannot answer now: DuckDB's own message stands
        return ""
    return f" It reads {found[0]}, but {found[1]}." if found else ""


def _swapped_hint(con: duckdb.DuckDBPyConnection, e: BaseException) -> str:
    """" 'tx_ae' is a model and 'transactions' is not: ..." when a command's MODEL (train's NAME) and SOURCE came the
    other way round, which no model found, or no source, says by itself; "" otherwise."""
    ctx = click.get_current_context(silent=True)
    params = ctx.params if ctx is not None else {}
    model, source = params.get("model", params.get("name")), params.get("source")
    if not isinstance(e, ModelNotFoundError | SourceNotFoundError) or not isinstance(model, str) \
            or not isinstance(source, str) or ctx is None:
        return ""
    try:
        known = store.known_models(con)
    except duckdb.Error:  # no models table to read: nothing to tell
        return ""
    if source.split("@")[0] not in known or model.split("@")[0] in known:
        return ""
    what = "NAME" if "name" in params else "MODEL"
    return (f" {source!r} is a model and {model!r} is not: the arguments go {ctx.info_name} DB {what} SOURCE, e.g. "
            f"ad-duckdb {ctx.info_name} DB {source} {model}.")


def _literal_text(v: Any) -> str:
    """A value as explain's row line shows it: text, dates, times, UUIDs and intervals as SQL literals, which paste
    into --where as they stand (day=2024-01-06 unquoted is 2024 - 1 - 6, and 'Smith, John' read as two values)."""
    if isinstance(v, str | datetime.date | datetime.time | datetime.timedelta | uuid.UUID):
        return quote_literal(_cell_text(v))
    return _cell_text(v)


def _write_rows(names: list[str], batches: Iterable[list[tuple[Any, ...]]], out_format: str) -> None:
    """Rows as csv, or as one JSON array of objects, written batch by batch as they come (``_stream_rows``)."""
    if out_format == "csv":
        import csv

        # Why \n, not the csv module's \r\n: a \r left on the last column broke `awk -F, '$NF == "ok"'` and `cut`;
        # DuckDB's COPY ... TO and psql --csv end rows so too, and every CSV reader takes it.
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(names)
        for rows in batches:
            w.writerows([_csv_cell(v) for v in r] for r in rows)
        return
    opening = "[\n "
    names = _distinct_names(names)
    for rows in batches:
        # the text json.dumps(all_rows, indent=1) writes, a batch at a time (a JSON string holds no raw line break)
        if rows:
            sys.stdout.write(opening + ",\n ".join(jsonvalues.row_objects(names, rows)))
            opening = ",\n "
    sys.stdout.write("[]\n" if opening == "[\n " else "\n]\n")


def _distinct_names(names: list[str]) -> list[str]:
    """``names`` as DuckDB names a subquery's columns: a repeated one (case aside) gets ``_1``, ``_2``, ...

    Why: JSON objects hold one value per key, so a self-join's `SELECT a.count, b.count` lost a column."""
    seen: set[str] = set()
    repeats: dict[str, int] = {}
    distinct = []
    for name in names:
        new, key = name, name.lower()
        if key in seen:
            k = repeats.get(key, 0) + 1
            while f"{key}_{k}" in seen:
                k += 1
            repeats[key] = k
            new = f"{name}_{k}"
        seen.add(new.lower())
        distinct.append(new)
    return distinct


def _print_rows(names: list[str], rows: list[tuple[Any, ...]], out_format: str = "table",
                fit_width: int | None = None) -> None:
    """A command's rows as a table (``texttable.table``), or csv or json. ``fit_width``: the terminal's width, which
    a wider table fits by hiding its middle columns behind a '…' column, with a note on stderr."""
    if out_format in ("csv", "json"):
        _write_rows(names, [rows], out_format)
        return
    shown = texttable.table(names, rows, fit_width)
    for line in shown.lines:
        click.echo(line)
    cut = shown.hidden
    if cut:
        # on stderr, as the prompt's other notes: the table on stdout stays the result's
        which = cut[0] if len(cut) == 1 else f"{cut[0]} … {cut[-1]}"
        values = f" and the values of {_one_line(names[0])!r} cut" if shown.first_cut else ""
        _note(f"{len(cut)} of {len(names)} columns hidden ({which}){values} to fit the terminal's "
              f"{fit_width} columns; every column{' whole' if shown.first_cut else ''}: .mode csv or json at the "
              "prompt, --format csv or json on the command line, or a pipe (| less -S).")


def _spread_places(spread: float) -> int:
    """Decimals that show 3 significant digits of a spread (a range's width, a column's robust spread)."""
    return max(0, 2 - math.floor(math.log10(spread)))


def _against_spread(v: float, spread: float) -> str:
    """``v`` as tables print it, unless that loses digits its ``spread`` tells apart: then to 3 significant digits of
    the spread (whole numbers for a large one).

    Why: a BIGINT column near 9e18 with a spread of 1e7 showed fill and center as "9e+18", the same for any median."""
    text = _float_text(v)
    if not (math.isfinite(v) and math.isfinite(spread) and spread > 0) or abs(float(text) - v) <= spread / 1000:
        return text
    return f"{v:.{_spread_places(spread)}f}"


def _decimals(values: Sequence[float], least: int) -> int:
    """How many decimals a column of figures is printed with, one number for the whole column: ``least``, or more
    until its smallest non-zero value shows its first significant digit.

    Why one per column: each cell to 6 digits read "5e-05" above "0.0001" and "0.00015" (evaluate's candidates)."""
    tiny = min((abs(v) for v in values if v and math.isfinite(v)), default=1.0)
    return max(least, min(-math.floor(math.log10(tiny)), 12))


def _split(values: tuple[str, ...], con: duckdb.DuckDBPyConnection | None = None, source: str | None = None,
           option: str = "-c") -> list[str] | None:
    """``-f a,b -f c`` as [a, b, c]; commas inside a column name of ``source`` stay (the longest name that matches),
    and so do spaces at its ends (``-f ' Amount'``); others around a name are dropped (``-f 'a, b'``). Values that
    name no column at all (``-f ''``, ``-c ,``) are refused, exit 2: the option ``option``, left empty, read as its
    absence, so a script's unset "$FEATURES" trained on every numeric column (-c: kept every column).

    Why: an export's column "Amount, EUR" could not be named at all (split into 'Amount' and 'EUR'), nor its
    " Amount" (stripped to 'Amount'), though the default-features note suggests ``-f 'Amount, EUR'`` and
    ``-f ' Amount'``.
    """
    known: set[str] = set()
    if con is not None and source is not None and any("," in v or v != v.strip() for v in values):
        cur = interrupts.cursor(con)
        try:
            known = {c.lower() for c, _ in describe(cur, source)}
        except AdDuckDBError:
            pass  # the command reports the source's own error when it reads it
        finally:
            cur.close()
    out = []
    for item in values:
        parts, i = item.split(","), 0
        while i < len(parts):
            j = next((j for j in range(len(parts), i + 1, -1) if ",".join(parts[i:j]).strip().lower() in known), i + 1)
            name = ",".join(parts[i:j])
            out.append(name if name.lower() in known else name.strip())
            i = j
    named = [v for v in out if v]
    if values and not named:
        raise _failure(f"{option} {values[0]!r} names no column: {_NO_NAMES_FIX[option]}.", code=2)
    return named or None


def _refuse_empty(value: str | None, what: str, fix: str) -> None:
    """Refuse, exit 2, an argument or option given as ''. Why: '' read as the option's absence (score --into '' printed
    the rows and wrote no table; --plots '' drew nothing) or, as a path, as the folder '.' (import '' stored every
    .onnx file of the working folder), where a script's unset variable ("$OUT") was given."""
    if value == "":
        raise _failure(f"{what} '' is empty: {fix}.", code=2)


# What an option of column names given only empty ones (-f '') should say instead
_NO_NAMES_FIX = {"-f": "give the feature columns (-f amount -f count), or leave -f out to train on every numeric column "
                       "but the id-like ones",
                 "-c": "give the columns to keep beside the scores (-c transaction_id), or leave -c out to keep them all"}


_BARE_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _sql_idents(con: duckdb.DuckDBPyConnection, names: list[str]) -> str:
    """Column names as DuckDB writes them back (CREATE TABLE in duckdb_tables()): quoted only when needed."""
    keywords = {k for (k,) in con.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()}
    return ", ".join(n if _BARE_IDENT.fullmatch(n) and n.lower() not in keywords else quote_ident(n) for n in names)


# An option, or an option with its value after "=": no space or line break in its name.
_OPTION_SHAPE = re.compile(r"--[A-Za-z][\w-]*(=.*)?", re.S)


class _Command(click.Command):
    """A command whose SQL arguments may begin with a ``-- comment`` line (a query copied from a SQL editor).

    Why: click takes any argument starting with ``--`` for an option and refuses it as unknown. Text of no
    option's shape (``-- my query``, a line break in the name) gets a leading space, which makes click read it
    as a value, and SQL ignores. Only text with a space or line break in it, as a comment line ending before the
    query has: a path such as ``--x.duckdb`` got the space too, so a new database was created as " --x.duckdb"
    (usageerrors.dash_path says how to give such a path).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click's parser takes the words out of the list it is given
        args = [f" {a}" if a.startswith("--") and a != "--" and not _OPTION_SHAPE.fullmatch(a)
                and any(c.isspace() for c in a) else a for a in args]
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            # click's parser raises an option's own errors ("Option '--into' requires an argument.") without the
            # command's context, which the usage line and the fix (usageerrors) are made from
            if e.ctx is None:
                e.ctx = ctx
            if isinstance(e, click.NoSuchOption):  # a path starting with '-' (-x.duckdb): how to give it
                raise usageerrors.dash_path(e, given) from None
            raise


class _QueryWordsCommand(_Command):
    """A command whose query argument (``query_param``) was given unquoted: its words after the first arrive as extra
    arguments, which are told to quote the query (the command to paste), not click's bare "Got unexpected extra
    arguments", which did not say what to do."""

    query_param = "source"
    argument = "SOURCE"
    # whether any words after the value are a query's; else only after one that begins a query (a table followed
    # by other words is another mistake, which click's own message names)
    any_words = False

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.allow_extra_args = True
        rest = super().parse_args(ctx, args)
        if not rest or ctx.resilient_parsing:
            return rest
        first = ctx.params.get(self.query_param)
        words = [first, *rest] if first is not None else rest
        mistyped = next((w for w in words if _OPTION_LIKE.fullmatch(w)), None)
        if mistyped is not None:  # ignore_unknown_options passed it on as a word
            raise usageerrors.no_such_option(mistyped, ctx)
        if first is None or not (self.any_words or begins_query(first)):
            raise click.UsageError(f"Got unexpected extra argument{'s' if len(rest) > 1 else ''} ({' '.join(rest)})",
                                   ctx)
        self.check_words(ctx)
        raise click.UsageError(unquoted_query_message(command_without(ctx, self.query_param), self.argument, words),
                               ctx)

    def check_words(self, ctx: click.Context) -> None:
        """A mistake to name before the quoting."""


class _ThresholdCommand(_QueryWordsCommand):
    argument = "The value of --source"


class _SqlCommand(_QueryWordsCommand):
    query_param = "query"
    argument = "QUERY"
    any_words = True

    def check_words(self, ctx: click.Context) -> None:
        if ctx.params["sql_file"] is not None:
            raise click.UsageError(_QUERY_AND_FILE, ctx)


class _Group(click.Group):
    command_class = _Command

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # Why: click turns a KeyboardInterrupt (a SIGTERM too, interrupts.Terminated) while it reads the arguments
        # into "Aborted!" and exit 1, the code of any other failure; invoke's handling has not begun
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as e:  # the group's own (--wait x): the Error line first, as for a command's
            raise usageerrors.leading(e) from e
        except KeyboardInterrupt as e:
            raise _interrupted_starting() from e

    def invoke(self, ctx: click.Context) -> Any:
        # Why here: click turns a KeyboardInterrupt into a bare "Aborted!" with exit 1 (any other error), and DuckDB's
        # own answer to Ctrl-C in a query reached the user as a RuntimeError traceback.
        shell = pysource.COMMAND_LINE.set(True)
        try:
            return super().invoke(ctx)
        except click.UsageError as e:  # a command's arguments or options: the Error line first (usageerrors)
            raise usageerrors.leading(e) from e
        except click.ClickException as e:
            # not one that says what was written already
            if is_interrupt(e) and e.exit_code not in (EXIT_INTERRUPTED, EXIT_TERMINATED):
                raise _interrupted() from e
            raise
        except AdDuckDBWarning as e:  # a note made an error (_warn) in a command without _notes (show, list)
            raise _failure(f"{e}{_MADE_ERROR}") from e
        except BrokenPipeError:
            # Why here: click answers a closed pipe with exit 1, the code of any other error.
            raise SystemExit(_reader_gone()) from None
        except OSError as e:
            if outputerrors.is_output_error(e):  # outside _open (export DB MODEL -): a traceback
                raise click.ClickException(outputerrors.output_failed(e)) from e
            raise
        except UnicodeEncodeError as e:
            # Why: a cron job's locale (Latin-1, or PYTHONIOENCODING) cannot print every value; a traceback there
            # neither names the value nor the fix.
            raise _unencodable(e) from e
        except BaseException as e:
            if is_interrupt(e):
                raise _interrupted() from e
            raise
        finally:
            pysource.COMMAND_LINE.reset(shell)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(package_name="ad_duckdb")
@click.option("--wait", type=click.FloatRange(min=0), default=0, envvar="AD_DUCKDB_WAIT", show_envvar=True,
              callback=_finite_wait,
              help="When another process holds the database file (DuckDB allows one writer), retry for up to this "
                   "many seconds instead of failing at once (exit code 4), saying so on stderr (a note naming the holder's "
                   "PID).  [default: 0]")
@click.option("--who", metavar="NAME", envvar=lifecycle.USER_VAR, show_envvar=True,
              help="Who the changelog (`ad-duckdb history`, ad_model_log) names for what this command stores, promotes, "
                   "rolls back or drops, e.g. --who airflow:nightly_retrain; default: the operating system's user.")
@click.pass_context
def cli(ctx: click.Context, wait: float, who: str | None) -> None:
    """Anomaly detection inside DuckDB: train an autoencoder on a table, store it in the same
    database, and score rows from SQL.

    \b
    Quick start (example data: from the repository's folder, or an sdist's, which carries examples/):
      python examples/transactions/generate.py warehouse.duckdb
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount
      ad-duckdb score warehouse.duckdb tx_ae transactions --top 10
      ad-duckdb sql warehouse.duckdb "SELECT *, anomaly_score('tx_ae', count, amount) AS s FROM transactions ORDER BY s DESC LIMIT 5"
    """
    # the library's messages name the command line's flags (--tz), not Python's keywords (optionwords)
    spoken = optionwords.SURFACE.set("cli")
    ctx.call_on_close(lambda: optionwords.SURFACE.reset(spoken))
    if who is not None:
        token = lifecycle.BY.set(who)
        # Why reset: a process running several commands (a test, a notebook's CliRunner) must not name this one's
        # --who for the next
        ctx.call_on_close(lambda: lifecycle.BY.reset(token))


@cli.command(cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("name")
@click.argument("source")
@click.option("-f", "--feature", "features", multiple=True,
              help="Feature column (repeat, or comma-separate). Default: every numeric column except id-like ones "
                   "(integers named id, *_id or *Id, or rising row by row, or named *_No or *Number with a distinct value in "
                   "every row; a row index written out, such as 'Unnamed: 0') and "
                   "columns --where holds at one value; a note names the columns left out.")
@click.option("--where", help="SQL filter for training rows, e.g. \"label = 0\" to train on normal rows only.")
@click.option("--contamination", type=float, default=0.01, show_default=True, help="Share of training rows the default threshold flags.")
@click.option("--robust/--no-robust", default=None,
              help="Robust training for unlabelled data (stops before the rare rows are learned). "
                   "Default: on unless --where is given.")
@click.option("--epochs", type=int, help="Epoch budget (default: sized from the row count).")
@click.option("--n-models", type=int,
              help="Autoencoders in the ensemble (trained side by side, scores averaged).  [default: 1, or the "
                   "number of --code-sizes]")
@click.option("--code-sizes", callback=lambda ctx, param, value: _code_sizes(value), metavar="N,N,...",
              help="A multi-scale ensemble, for unlabelled rows: one autoencoder per size, each keeping that many "
                   "numbers of its code (--n-models and the code length follow). 2,4,8,16 scored better on "
                   "average on unlabelled benchmark data, and costs about 3-4x the scoring time and 1.5-3x the "
                   "training time (README: Quality and speed).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed: the same data, options and seed train the same model.")
@click.option("--max-train-rows", type=int, default=1_000_000, show_default=True,
              help="Above this many rows the network learns from a seeded sample of them (the thresholds still "
                   "come from every row's score): memory is the sample's, plus 8 bytes a source row for those scores, plus "
                   "the table blocks DuckDB caches while it scans (up to its memory_limit).")
@click.option("--constant-columns", type=click.Choice(["error", "keep"]), default="error", show_default=True,
              help="A feature with one value in every training row: refuse it, or keep it and score any other value as outside the training range.")
@click.option("--carry-thresholds", is_flag=True,
              help="Give the new version your thresholds of earlier versions (set with `ad-duckdb threshold`; each "
                   "from the version 'NAME' means, else the newest that has it; one you set on a staged version after "
                   "staging it, later, from that one), so queries naming them keep working: one chosen on labels "
                   "is chosen again on the same labelled rows, the others move to the same point of the new "
                   "training scores. Not default and p90 ... p999, which every training sets anew.")
@click.option("--promote/--no-promote", default=True, show_default=True,
              help="--no-promote stages the new version: 'NAME' keeps meaning the version it meant (dashboards "
                   "calling it do not move) while 'NAME@N' scores with the new one; `ad-duckdb promote DB NAME@N` "
                   "makes 'NAME' mean it later.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr (a bar on a terminal; in a log, a line at start, "
              "about one per tenth of the steps, and how it ended; above --max-train-rows, also the rows read for "
              "the sample and scored for the thresholds, every 30 s).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: what was stored, as one object (model, name, version, rows, sample_rows, features, "
                   "threshold, flagged_share, contamination, thresholds, filled_values, carried, train_seconds), "
                   "for a scheduler's next step; notes stay on stderr.")
@_ATTACH
def train(db: str, name: str, source: str, features: tuple[str, ...], where: str | None, contamination: float,
          robust: bool | None, epochs: int | None, n_models: int | None, code_sizes: tuple[int, ...] | None,
          seed: int, max_train_rows: int, constant_columns: str, carry_thresholds: bool, promote: bool, quiet: bool,
          out_format: str, attach: tuple[str, ...]) -> None:
    """Train model NAME on SOURCE (a table, view, read_parquet(...) or a SELECT) and store it in DB.

    \b
    Example (no labels, every row; without -f every numeric column but the id-like ones is a feature):
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount
    The classic fraud recipe, normal rows only (name the features, or the label column and every
    other numeric column become features too):
      ad-duckdb train cards.duckdb card_small cards -f V1 -f V2 -f Amount --where "split = 'train'"
    Re-training the same NAME adds a version; SQL uses 'NAME' (its promoted version, else its newest) or 'NAME@2'.
    A nightly retrain that keeps your thresholds ('cut', 'prec90') for is_anomaly_at:
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount --carry-thresholds
    A table of another DuckDB file, read where it is (read-only), the model stored in models.duckdb:
      ad-duckdb train models.duckdb tx_ae lake.main.tx -f count -f amount --attach lake.duckdb
    Unlabelled rows, four autoencoders with codes of 2, 4, 8 and 16 numbers (about x3 the scoring time):
      ad-duckdb train warehouse.duckdb tx_ms transactions -f count -f amount --code-sizes 2,4,8,16
    What was stored, as one JSON object on stdout for a scheduler's next step (its "model": the name@version):
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount --quiet --format json
    """
    _refuse_in_memory(db, "train", f"ad-duckdb train models.duckdb {shlex.quote(name)} {shell_word(source)}")
    creation = _Creation()
    stored = False
    done: list[str] = []
    held: trainhold.FileHold | None = None
    try:
        with (_open(db, create=True, creation=creation, attach=attach) as opened,
              _stored_if_interrupted(lambda: held.con if held else opened, name) as done):
            # the file is let go while the network learns, and opened again (as --attach had it) to store the model
            held = trainhold.FileHold(opened, lambda wait: _reopen(db, attach, wait))
            with _notes():
                # n_models and code_sizes only when given: code_sizes sets n_models unless it is given
                given = {k: v for k, v in (("n_models", n_models), ("code_sizes", code_sizes)) if v is not None}
                info = _train(held, name, source, features, where, contamination=contamination, robust=robust,
                              epochs=epochs, seed=seed, max_train_rows=max_train_rows,
                              constant_columns=constant_columns, carry_thresholds=carry_thresholds,
                              promote=promote, progress=not quiet, **given)
            stored = True
            con = held.con
            m = info.metrics
            sample = trainsample.sample_size(info.train_rows, m)
            if out_format == "json":
                _print_trained(con, info, contamination, sample, carry_thresholds)
                return
            # Why said: "N rows" alone read as the network having learned from all N of a table above the limit
            sampled = (f" (the network learned from a seeded sample of {sample}, --max-train-rows; thresholds from all)"
                       if sample is not None else "")
            names = listing(info.features)
            if names != ", ".join(info.features):
                names += "; `ad-duckdb show` lists them"
            cut, members = m.get("code_sizes"), m.get("n_models")
            codes = (f", codes cut to {', '.join(map(str, cut))} ({len(cut)} members)" if cut else
                     f", {members} members" if isinstance(members, int) and members > 1 else "")
            click.echo(f"stored {info.ref}: {info.train_rows} rows{sampled}, features ({names}), "
                       f"layers {m['hidden_dims']} latent {m['latent_dim']}{codes}, {m['train_seconds']:.1f}s")
            filled = {c: n for c, n in (m.get("filled_values") or {}).items() if n}
            if filled:
                # Why both said: "amount 400" read as the median when it was the count of values filled
                specs = api.load_model(con, info.ref).features
                fills = {f.name: f for f in specs}
                # a text column's NULLs read as its first category (categorical.Layout.encode), not a median
                lay = categorical.layout(specs)
                firsts = {n: cats[0] for n, cats in (lay.text if lay else ())}
                click.echo("filled NULL / NaN values with the training median"
                           + (" (a text column's with its most common value)" if set(filled) & set(firsts) else "")
                           + ": " + ", ".join(
                    f"{c} ({n} value{'s' if n != 1 else ''}, "
                    + (f"read as {firsts[c]!r}, its most common value)" if c in firsts else
                       f"median {_against_spread(fills[c].fill, _raw_spread(fills[c]))})") for c, n in filled.items()))
            if robust is None and m.get("robust") is False:
                click.echo(_ROBUST_OFF.format(where=shell_word(where or "")))
            _print_train_hint(con, info, name, contamination, source)
            staged = versioncmds.staged_line(con, info.name, info.version)
            if staged:
                click.echo(staged)
            if carry_thresholds:
                _print_carried(api.load_model(con, info.ref).thresholds)
    except BaseException as e:
        if held is not None:
            held.con.close()  # before the look at the file below, which a connection of ours would keep from it
        # a mistyped path must not leave an empty database behind; one let go while the model trained may hold what
        # another process wrote meanwhile, so it goes only if it is still empty
        if creation.ours and not stored and not done and (held is None or not held.let_go or trainhold.still_empty(db)):
            _remove_new_database(db)
            if isinstance(e, click.ClickException) and e.exit_code == EXIT_NO_SOURCE and _names_missing_relation(e):
                # Why said: "not a table or view in this database" sent a user who mistyped the database's path to
                # look for the table in the database they meant, where it is. Why only then: a misspelt column or a
                # missing file of a CSV source (a first training into a new database) is no fault of the path
                _add_to_message(e, f" The database {db!r} did not exist before this run (train creates one) and is "
                                   "removed again: check its path if you meant an existing one.")
        raise
    finally:
        if held is not None:
            held.con.close()  # the connection opened again to store (_open closes the first)


# Why said: --where turns robust training off on the reading that it keeps the normal rows (--where "label = 0"), and
# a filter that does not (dates, a region) trained as if no anomaly were among its rows, with no word of it
_ROBUST_OFF = ("robust training off: the rows --where {where} keeps are taken as normal; if they may hold anomalies "
               "(the filter picks dates or a region, not labels), add --robust")


def _print_trained(con: duckdb.DuckDBPyConnection, info: api.ModelInfo, contamination: float, sample: int | None,
                   carried: bool) -> None:
    """`train --format json`: the version stored, as one object. Why: a job parsed "stored tx_ae@2: ..." for the
    version, or ran `show` after it, which a retrain in between made another version's."""
    share = info.flagged_shares.get("default")
    m = info.metrics
    doc: dict[str, Any] = {
        "model": info.ref, "name": info.name, "version": info.version, "rows": info.train_rows, "sample_rows": sample,
        "features": info.features, "threshold": info.thresholds["default"],
        "flagged_share": share if share is not None else contamination, "contamination": contamination,
        "thresholds": info.thresholds, "filled_values": {c: n for c, n in (m.get("filled_values") or {}).items() if n},
        "carried": [{"name": t.name, "value": t.value, "method": t.method}
                    for t in (api.load_model(con, info.ref).thresholds if carried else [])
                    if t.name not in thresholds.FROM_TRAINING],
        "hidden_dims": m["hidden_dims"], "latent_dim": m["latent_dim"], "train_seconds": m["train_seconds"]}
    click.echo(jsonvalues.dumps(doc, indent=1))


def _reopen(db: str, attach: tuple[str, ...], wait: float) -> duckdb.DuckDBPyConnection:
    """DB opened again for train to store its model, with the --attach files, waiting up to ``wait`` seconds (or
    --wait, if longer) while another process holds it; tracked for Ctrl-C as _open's connection is."""
    con = _connect_attaching(db, False, None, None, _attachments(db, attach), wait=max(wait, _lock_wait()) if wait else 0)
    interrupts.track(con)
    udfs.registry(con).opened_afresh = True
    return con


def _code_sizes(value: str | None) -> tuple[int, ...] | None:
    """--code-sizes 2,4,8,16 as (2, 4, 8, 16); the library checks them against --n-models."""
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    if not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise click.BadParameter(f"{value!r} is not a list of positive whole numbers, e.g. 2,4,8,16 (one code size "
                                 "per autoencoder).", param_hint="'--code-sizes'")
    return tuple(int(p) for p in parts)


def _print_carried(stored: list[Threshold]) -> None:
    """One line per threshold carried to the new version: what it flags now, and how it was set."""
    for t in stored:
        if t.name in thresholds.FROM_TRAINING:
            continue
        if t.method in thresholds.LABELLED:
            # which goal was met again (confident, sampled normal): a precision and a recall read as any goal's
            how = (f"chosen again on labels ({_method_text(t, prices=False)}): precision {t.precision:.3f}, "
                   f"recall {t.recall:.3f}")
            if t.method == "min_cost":  # what the new version's cut costs: what its goal is about
                how += f"; {(t.chosen_on or '').rpartition('; ')[2]}"
        elif t.method == alarmrate.METHOD:  # chosen again on its rows (labelled.choose_goals_again), not moved
            said = re.search(r"target [^:;]+: flags \d+ of \d+ rows", t.chosen_on or "")
            how = f"chosen again on its rows{f' ({said[0]})' if said else ''}"
        else:
            assert t.flagged_share is not None  # thresholds.carried gives each point it moves the share it flags
            how = f"at the same point of the training scores (flags {metrics.share_text(t.flagged_share)} of training rows)"
        click.echo(f"carried {t.name}: {t.value:.6g}, {how}")


@contextmanager
def _notes() -> Iterator[None]:
    """Print the library's ``AdDuckDBWarning``s (features left out, few rows) as ``note:`` lines on stderr, as they come.

    Why as they come: the note on the features chosen shows before a long training, while it can be stopped.
    Each note once: `score --plots` reads the rows twice (the top rows, then the histogram), and so notes twice.
    """
    shown: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if str(message) not in shown:
            shown.add(str(message))
            _note(str(message))

    with warnings.catch_warnings():
        warnings.simplefilter("error" if _NOTES_ARE_ERRORS else "ignore" if _NOTES_IGNORED else "always",
                              AdDuckDBWarning)
        warnings.showwarning = show
        try:
            yield
        except AdDuckDBWarning as w:
            raise _failure(f"{w}{_MADE_ERROR}") from w


_MADE_ERROR = " (a note, made an error by PYTHONWARNINGS / -W error)"


# Whether notes end the command as errors: what the -W / PYTHONWARNINGS options the process was started with say of
# AdDuckDBWarning (main() reads it). Why honour them: a job that must not go on when a note appears (few rows,
# features chosen for it) sets PYTHONWARNINGS=error::UserWarning, Python's own switch; _notes overrode it, exit 0.
# Why read at start-up only: a test runner or an embedding program adds filters of its own later.
_NOTES_ARE_ERRORS = False
# Whether notes are left out: ignore::UserWarning (or -W ignore) in PYTHONWARNINGS, read as _NOTES_ARE_ERRORS is.
# Why Python's switch again: a scheduler's log that must hold errors alone had no way to drop the `note:` lines
# (_notes forced the library's on), and error::UserWarning already speaks of notes so.
_NOTES_IGNORED = False


def _note(message: str) -> None:
    """A ``note: ...`` line on stderr, unless PYTHONWARNINGS ignores notes (_NOTES_IGNORED)."""
    if not _NOTES_IGNORED:
        click.echo(f"note: {message}", err=True)


def _warn(message: str) -> None:
    """A note on the results (few labelled anomalies, a damaged model, rows unlike the training ones): a ``note:``
    line (``_note``), or, under PYTHONWARNINGS=error, an ``AdDuckDBWarning`` raised, which ``_notes`` makes the
    Error line. Why two kinds: a note on the output alone (columns hidden to fit the terminal, a database created)
    is no reason to stop a job, while error::UserWarning is how a job says it must stop on a note on the data."""
    _notes_are_errors(message)
    _note(message)


def _notes_are_errors(*notes: str | None) -> None:
    """Raise the first of ``notes`` as an ``AdDuckDBWarning`` under PYTHONWARNINGS=error (``_warn``); a report
    calls it before printing, as a Python warning made an error stops the program where it is raised."""
    first = next((n for n in notes if n), None)
    if _NOTES_ARE_ERRORS and first is not None:
        raise AdDuckDBWarning(first)


def _notes_action(category: type[Warning]) -> str | None:
    """What Python's warning filters do with every ``category`` warning ("error", "ignore", ...; None: no filter
    says): the first filter for all of them decides, as in ``warnings.warn``; filters for particular messages or
    modules are not about every note."""
    for action, message, cat, module, lineno in warnings.filters:
        if message is None and module is None and not lineno and issubclass(category, cat):
            return str(action)
    return None


# The training parameters `ad-duckdb train` has an option for, by the name the library's errors give them.
_TRAIN_FLAGS = {"contamination": "--contamination", "epochs": "--epochs", "n_models": "--n-models", "seed": "--seed",
                "max_train_rows": "--max-train-rows", "code_sizes": "--code-sizes"}


def _train(held: trainhold.FileHold, name: str, source: str, features: tuple[str, ...], where: str | None,
           **params: Any) -> api.ModelInfo:
    try:
        # a FileHold, which train takes as the file it may let go while the network learns (not a public type)
        return api.train(cast(Any, held), name, source, features=_split(features, held.con, source, "-f"),
                         where=where, **params)
    except BadInputError as e:
        # A training option out of range is a wrong option (exit 2), named by its flag, as click names its own
        param = re.match(r"The '(\w+)' parameter (must be .*)", str(e))
        if param and param.group(1) in _TRAIN_FLAGS:
            allowed = param.group(2).replace(" or None.", " (or leave the option out).")
            raise _failure(f"Invalid value for '{_TRAIN_FLAGS[param.group(1)]}': {allowed}", e, code=2) from e
        if str(e).startswith("code_sizes="):  # --code-sizes against --n-models: a wrong option too
            said = getattr(e, "cli", None) or str(e)  # in flags, where the library has the command line's spelling
            raise _failure(f"Invalid value for '--code-sizes': {said}", e, code=2) from e
        # Without -f every numeric column is a feature, so a label column is constant under --where "label = 0"
        # and an empty column fails too: the library's error then gives the features to keep, -f flags included
        # (otherfeatures), so it is raised as is.
        raise


def _print_train_hint(con: duckdb.DuckDBPyConnection, info: api.ModelInfo, name: str, contamination: float,
                      source: str) -> None:
    share = info.flagged_shares.get("default")
    share = share if share is not None else contamination
    click.echo(f"default threshold {info.thresholds['default']:.6g} (flags {metrics.share_text(share)} of training rows; "
               f"contamination {metrics.share_text(contamination)})")
    click.echo(f"score with: {_score_call(con, name, info.features, source)}")


def _score_call(con: duckdb.DuckDBPyConnection, model: str, features: list[str], source: str | None) -> str:
    """The SQL that scores rows with ``model``: its features in order, as SQL names."""
    # A model trained on a query (0/1 columns of a category, a cast) scores rows that query makes: say so, rather
    # than "FROM ...", which reads as "any table with these columns".
    frm = f"({strip_sql_ends(source)})" if source is not None and is_query(source) else "..."
    return f"SELECT *, anomaly_score({quote_literal(model)}, {_sql_idents(con, features)}) FROM {frm}"


# Above this many features `score --top`'s table leaves them out (unless -c names columns to show)
_TOP_FEATURES_SHOWN = 20

# evaluate's and threshold's: each scores every labelled row before its figures, minutes on 50M rows
_ROWS_QUIET = click.option("-q", "--quiet", is_flag=True, help="No progress on stderr while the labelled rows are scored (a "
                           "bar on a terminal once the scoring has run 2 s; in a log, a line of the rows scored so far "
                           "every 30 s).")
_TIME = click.option(
    "--time", help="With --plots: the date or timestamp column to draw the scores over time against (default: the "
    "source's one DATE or TIMESTAMP column; with none, or several and no --time, no such plot).")


@cli.command(cls=_QueryWordsCommand)
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
      ad-duckdb score warehouse.duckdb tx_ae daily_tx --plots plots/ --time day
      ad-duckdb score models.duckdb tx_ae lake.main.tx --attach lake.duckdb --into tx_scores
      ad-duckdb score warehouse.duckdb tx_ae "SELECT * FROM transactions WHERE transaction_id >
        (SELECT coalesce(max(transaction_id), -1) FROM tx_scores)" --into tx_scores --explain --append
      ad-duckdb score warehouse.duckdb tx_ae transactions --into tx_history --append --model-column
      ad-duckdb score warehouse.duckdb tx_ae "SELECT * FROM daily_tx WHERE day = '2024-01-05'"
        --into tx_daily --replace-partition day
      ad-duckdb score warehouse.duckdb tx_ae "SELECT * FROM daily_tx WHERE day = '2024-01-05'"
        --into tx_daily --replace-where "day = '2024-01-05'"
    """
    _refuse_empty(into, "--into", "give the table to write the scored rows to, e.g. --into tx_scores, or leave --into "
                  "out to print the top rows")
    _refuse_empty(plots_dir, "--plots", "give the folder to draw the plots in, e.g. --plots plots/")
    if top < 0:  # a wrong option (exit 2), in one line as scripts read it; click's range check prints its usage too
        raise _failure(f"Invalid value for '--top': {top} is not a number of rows; give 0 or more, e.g. --top 20.",
                       code=2)
    # Why no order check: every call here names the model's columns (bulk scoring by name, --top's explanation
    # quoting them), so a batch that looks swapped holds rows stored that way, the very rows to look at.
    # _notes: the note on rows that moved away from the training data (api._drift_note)
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
            metrics.plots_folder(plots_dir, model)  # before --into writes its table: a bad folder fails first
            over_time = timeplot.choose(con, model, source, time)  # a wrong --time too
        if into:
            existed = replace and _has_rows_table(con, into)
            # Why the version: 'tx_ae' is whichever is latest, and the table does not record which one scored it;
            # a nightly log must say what the BI reads was scored with.
            got = api.registry(con).get(model)  # once: a look-up costs 10 ms, 1% of scoring 1M rows
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
        lm_top = api.registry(con).get(model)
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
        outputs = [*api.SCORE_OUTPUTS, *([api.MSE_COLUMN] if mse else [])]  # api.score's order
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
    feats = api.registry(con).get(model).feature_names
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
            path = timeplot.plot(con, api.registry(con).get(model), source, col, plots_dir, shown_source(source, n=40))
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


def _source_columns(con: duckdb.DuckDBPyConnection, rec: ModelRecord) -> set[str] | None:
    """The columns (lower case) of this database's table or view of the name ``rec`` was trained on (for an imported
    model's note in `show`), empty when there is none; None for a source of another kind (a query, a file)."""

    trained_on = (rec.metrics or {}).get("train_source")
    if not isinstance(trained_on, str) or is_query(trained_on) or name_parts(trained_on) is None:
        return None
    try:
        return {c.lower() for c, _ in describe(con, trained_on)}
    except (duckdb.Error, AdDuckDBError):
        return set()


_FORMAT = click.option("--format", "out_format", type=click.Choice(["table", "csv", "json"]), default="table",
                       show_default=True, help="table for people; csv or json for scripts (every row, no clipping).")


def _row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The rows of the --into table ``table``, which exists."""
    return int(con.execute(f"SELECT count(*) FROM {table_sql(table)}").fetchall()[0][0])


def _has_rows_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` (an --into target) exists and holds rows."""
    try:
        return bool(con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table_sql(table)} LIMIT 1)").fetchall()[0][0])
    except (AdDuckDBError, duckdb.Error):
        return False


@cli.command("list")
@click.argument("db")
@_FORMAT
def list_cmd(db: str, out_format: str) -> None:
    """List stored models and their versions.

    \b
    Examples:
      ad-duckdb list warehouse.duckdb
      ad-duckdb list warehouse.duckdb --format csv
    """
    with _open(db, read_only=True) as con:
        _print_models(con, out_format)


def _print_models(con: duckdb.DuckDBPyConnection, out_format: str, pattern: str | None = None) -> None:
    """`list`'s table; ``pattern``: only the names it matches (.models PATTERN, ILIKE as .tables takes it). Why a
    pattern: .models nope listed every model, as if the word were not there."""
    rows = api.list_models(con)
    names = ["name", "version", "created_at", "n_features", "train_rows", "onnx_bytes", "source"]
    if pattern is not None:
        known = sorted({r["name"] for r in rows})
        rows = [r for r in rows if con.execute("SELECT ? ILIKE ?", [r["name"], pattern]).fetchall()[0][0]]
        if not rows and out_format == "table":
            click.echo(f"no model matches {pattern!r} (ILIKE: % for any text); the models: "
                       f"{', '.join(known) if known else 'none stored yet'}")
            return
    if not rows and out_format == "table":
        click.echo("no models stored yet; train one with `ad-duckdb train`")
        return
    # latest: which version the bare name means (what views and dashboards calling 'tx_ae' score with), also when
    # it is damaged, where 'tx_ae' fails rather than falling back to an older one (list_models says, as here)
    if out_format == "table":
        for r in rows:
            r["latest"] = "yes" if r["latest"] else "no"
    cols = [*names, "latest", "status"]
    problems = [r["problem"] for r in rows if r["problem"] is not None]
    if out_format == "json":
        # the problem a field of each row, as json's notes are (a damaged row's "status" alone said not what or why)
        cols.append("problem")
    else:
        _notes_are_errors(*problems)  # a report fails before it prints, as show and evaluate do
    _print_rows(cols, [tuple(r[k] for k in cols) for r in rows], out_format)
    for problem in problems:
        _note(problem)


def _method_text(t: Any, prices: bool = True) -> str:
    """The method, with ", confident" for a goal met by the lower end of its interval, min_cost with its prices
    (``prices``), and ", sampled normal" for a goal chosen on a sample that kept every anomaly: said in chosen_on,
    which the table clips. Why the sampling: its intervals (and so a confident goal's cut) are evaluate --sampled
    normal's, not an audit's, and a retrain with --carry-thresholds chooses it again so."""
    if t.method == "min_cost":  # its prices end chosen_on too
        stated = costs.stated(t.chosen_on) if prices else ""
        text = f"{t.method} ({stated})" if stated else t.method
    else:
        text = f"{t.method}, confident" if (t.chosen_on or "").endswith(thresholds.CONFIDENT_NOTE) else t.method
    return f"{text}, sampled normal" if weights.sampled_normal(t.chosen_on) else text


@cli.command()
@click.argument("db")
@click.argument("model")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one object (ref, features, thresholds, metrics, params, ...) for scripts.")
def show(db: str, model: str, out_format: str) -> None:
    """Show a model: features and transforms, thresholds, training metrics, library versions, and the
    ad_duckdb.train call that trains it again (the same rows in the same order give the same sha256).

    \b
    Examples:
      ad-duckdb show warehouse.duckdb tx_ae@1
      ad-duckdb show warehouse.duckdb tx_ae --format json
    """
    from .retrain import retrain_call, retrain_note

    with _open(db, read_only=True) as con:
        rec = api.load_model(con, model)
        call = retrain_call(rec)
        call_note = retrain_note(rec, [d for (d,) in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()],
                                 _source_columns(con, rec))
        # Why: the first thing asked of a model stored weeks ago is how to call it (its features' order)
        trained_on = (rec.metrics or {}).get("train_source")
        score_call = _score_call(con, model, rec.feature_names, trained_on if isinstance(trained_on, str) else None)
        stored = store.known_models(con).get(rec.name, [rec.version])
        versions, live = store.version_features(con, rec.name), store.bare_version(con, rec.name, stored)
        calling = views_calling_version(con, rec.name, rec.version, live)
        if out_format != "json":  # json's notes are fields of its one object, kept as ignore keeps them
            _notes_are_errors(call_note if call is not None else None,
                              *(f"threshold {t.name!r}: {n}" if (n := training_rows_note(t)) else None
                                for t in rec.thresholds))
        # Why both shares: a threshold chosen on labelled rows flags their share, mostly far above the traffic's
        quantiles = budgetshare.quantiles_of(rec.metrics)
        if out_format == "json":
            from dataclasses import asdict

            doc = {"ref": rec.ref, "name": rec.name, "version": rec.version, "kind": rec.kind,
                   "created_at": rec.created_at, "source": rec.source, "train_rows": rec.train_rows,
                   "sha256": rec.sha256, "onnx_bytes": len(rec.onnx), "format_version": rec.format_version,
                   "features": [f.to_json() for f in rec.features],
                   "thresholds": [{**asdict(t), "flagged_share_of": budgetshare.of_rows(t),
                                   "training_flagged_share": budgetshare.split(t, quantiles, rec.metrics)[0]}
                                  for t in rec.thresholds],
                   "metrics": rec.metrics, "params": rec.params, "lib_versions": rec.lib_versions,
                   "retrain_with": call, "retrain_note": call_note, "score_with": score_call,
                   "versions": stored, "latest_ref": f"{rec.name}@{live}",
                   "views_calling": [{"view": v, "calls": refs} for v, refs in calling]}
            click.echo(jsonvalues.dumps(doc, indent=1))
            return
        sample = trainsample.sample_size(rec.train_rows, rec.metrics)
        if sample is None:
            rows = f"{rec.train_rows} rows of {rec.source}"
        else:
            rows = (f"a seeded sample of {sample} of the {rec.train_rows} rows of {rec.source} (thresholds from all "
                    f"{rec.train_rows}; max_train_rows={(rec.params or {}).get('max_train_rows', sample)})")
        click.echo(f"{rec.ref}  kind={rec.kind}{_members_text(rec.params or {})}  created {rec.created_at}  "
                   f"trained on {rows}")
        # Why: what dashboards calling the bare name score with, and whether this version's columns still fit them
        if live == rec.version:
            means = "is this one"
        elif live not in versions:  # its features unreadable: a damaged row, which `list` reports
            means = f"is {rec.name}@{live}"
        elif not store.same_features(versions[live], rec.feature_names):
            means = f"is {rec.name}@{live}, of other columns ({', '.join(versions[live])})"
        else:
            means = f"is {rec.name}@{live}, of the same columns"
        click.echo(f"versions: {', '.join(map(str, stored))}; '{rec.name}' {means}"
                   f"{f', {rec.ref}' if live == rec.version else ''}")
        called = "; ".join(f"{v} ({', '.join(map(repr, refs))})" for v, refs in calling)
        click.echo(f"views calling it: {called or 'none in this database'}")
        click.echo(f"sha256 {rec.sha256}  ({len(rec.onnx)} bytes of ONNX)")
        libs = ", ".join(f"{k} {v}" for k, v in (rec.lib_versions or {}).items()) or "not recorded"
        click.echo(f"libraries: {libs}")
        click.echo(f"score with: {score_call}")
        if call is None:
            click.echo("retrain with: not recorded (a model stored before ad_duckdb recorded the source it was trained "
                       f"on; its source column says {rec.source!r})\n")
        else:
            click.echo(f"retrain with: {call}")
            if call_note and not _NOTES_IGNORED:  # a note as any other: PYTHONWARNINGS=ignore leaves it out
                click.echo(f"  note: {call_note}")
            click.echo("  (the same rows in the same order, with these library versions, store the same sha256 and "
                       "training thresholds)\n")
        # fill is a raw value, center and scale after the transform: each read against its own units' spread
        lay = categorical.layout(rec.features)
        numeric = rec.features if lay is None else rec.features[: lay.numeric]
        _print_rows(["feature", "sql_type", "transform", "fill (NULL/NaN)", "center", "scale"],
                    [(f.name, f.sql_type, f.transform, _Number(_against_spread(f.fill, _raw_spread(f))),
                      _Number(_against_spread(f.center, f.scale)), _Number(metrics.value_text(f.scale)))
                     for f in numeric]
                    + [(n, t, "categories", cats[0], "", "") for (n, cats), t in zip(
                        lay.text if lay else (), categorical.text_types(rec.features), strict=True)])
        for n, cats in lay.text if lay else ():
            click.echo(f"text feature {n!r}: {len(cats)} categories ({', '.join(repr(c) for c in cats)}), and any "
                       "other value (one input more); NULL is read as the first")
        click.echo("")
        click.echo("flagged_training: the share of the model's training rows each threshold flags (from their score "
                   "quantiles for one chosen elsewhere); flagged_chosen_on: the share of the rows it was chosen on "
                   "(labelled rows, or alarm_rate's rows), far larger on labelled rows rich in anomalies")
        _print_rows(["threshold", "value", "method", "precision", "recall", "f1", "flagged_training",
                     "flagged_chosen_on", "chosen_on"],
                    [(t.name, t.value, _method_text(t), t.precision, t.recall, t.f1, *budgetshare.split(t, quantiles, rec.metrics),
                      t.chosen_on) for t in rec.thresholds])
        for t in rec.thresholds:
            if (optimistic := training_rows_note(t)) is not None and not _NOTES_IGNORED:
                click.echo(f"note: threshold {t.name!r}: {optimistic}")
            if t.method == alarmrate.METHOD:  # its statement (rows, period, rate achieved) is cut off in the table
                click.echo(f"threshold {t.name!r} chosen on {optionwords.said_stored(t.chosen_on or '')}")
        click.echo("")
        m = {k: v for k, v in rec.metrics.items() if k not in ("score_quantiles", RANKS, TOP)}  # lists too long to show
        sizes = _code_sizes_of(rec.params or {})
        for k, v in m.items():
            # train_where None is "no filter": Python's None read as a filter named None
            # Why the cut beside latent_dim: alone it read as every member's code size, wider than most keep
            kept = f" (members keep {_and_list(sizes)})" if k == "latent_dim" and sizes else ""
            click.echo(f"{k:<24} {'(none)' if v is None else _metric_text(v)}{kept}")
        p = rec.params
        click.echo(f"{'params':<24} {json.dumps(p, default=str)}")


def _code_sizes_of(params: dict[str, Any]) -> list[int]:
    """A stored version's code_sizes, [] for none (or a malformed value of an imported file)."""
    sizes = params.get("code_sizes")
    return sizes if isinstance(sizes, list) and sizes and all(isinstance(n, int) for n in sizes) else []


def _and_list(items: Sequence[object]) -> str:
    """'1 and 4', '2, 4, 8 and 16'."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _members_text(params: dict[str, Any]) -> str:
    """What `show`'s head adds to kind= for an ensemble: its members and, multi-scale, their code sizes."""
    sizes, n = _code_sizes_of(params), params.get("n_models")
    if len(sizes) == 1:
        return f" (its code cut to {sizes[0]} numbers)"
    if sizes:
        return f" (a multi-scale ensemble of {len(sizes)}: codes of {_and_list(sizes)} numbers)"
    return f" (an ensemble of {n})" if isinstance(n, int) and not isinstance(n, bool) and n > 1 else ""


def _raw_spread(spec: FeatureSpec) -> float:
    """A column's robust spread in its own units (around the median: its signed log, if any, undone)."""
    lo, hi = raw_values(spec, np.array([-1.0, 1.0]))
    return float(hi - lo) / 2


def _metric_text(v: Any) -> str:
    """A training metric as `show` prints it: floats as its tables print them (--format json: whole)."""
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, list) and any(isinstance(x, float) for x in v):
        return "[" + ", ".join(_metric_text(x) for x in v) + "]"
    return str(v)


_WEIGHT = click.option(
    "--weight", help="Column of SOURCE holding each labelled row's sample weight, when the rows are a sample: every "
    "fraud but 1 in 50 normal rows gives those weight 50 (an audit sample: 1 / inclusion probability). A row of weight "
    "w counts as w rows, as scikit-learn's sample_weight; the 95% intervals take Kish's effective sample size of each "
    "class.")


@cli.command(cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("model_a")
@click.argument("model_b")
@click.argument("source")
@click.option("--where", help="SQL filter on SOURCE, e.g. \"day >= '2026-01-01'\".")
@click.option("--top", type=click.IntRange(min=1), default=100, show_default=True,
              help="Compare the N highest-scoring rows of each version.")
@click.option("--label", help="Column of SOURCE holding 1 (anomaly) or 0 (normal): adds each version's AUC-ROC, "
              "AUC-PR, precision and recall, and whether the AUC-ROC difference is more than chance (DeLong's test).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one object (rows, top overlap, rank correlation, thresholds with their origin; with "
                   "--label, 'labelled': AUCs and DeLong's test) for scripts.")
@_WEIGHT
@click.option("--sampled", type=click.Choice(["rows", "normal"]), help="With --weight, which rows the sample drew. rows "
              "(the default): either class, as an audit (alerts reviewed, 1 in k of the rest), read from the weights; "
              "normal: every anomaly kept and the normal rows sampled at their own strata's rates, whatever the "
              "score: DeLong's paired test, evaluate --sampled normal's intervals of precision and recall, and the "
              "anomalies one version alone catches tested at McNemar's even odds.")
@_ATTACH
def compare(db: str, model_a: str, model_b: str, source: str, where: str | None, top: int, label: str | None,
            out_format: str, weight: str | None, sampled: str | None, attach: tuple[str, ...]) -> None:
    """Compare two versions on the same rows: flags at each threshold, rows both flag, top-N overlap.

    Each version flags at its own value of each threshold name (score > value, as is_anomaly_at); 'both' counts
    the rows both flag. The origin column says where MODEL_B's threshold came from (e.g. carried from an older
    version, or chosen again on labels). When rows past the N-th place share a version's N-th highest score,
    the top-N line says how many tie at the cut: which of them count depends on read order.

    With --label, each version is judged on the labelled rows: AUC-ROC, AUC-PR, and precision and recall at each
    threshold with their 95% intervals; the AUC-ROC difference comes with its 95% interval and p-value from DeLong's
    paired test, so a retrain's gain can be told from chance (p < 0.05: unlikely to be chance on rows like these),
    and each threshold both have with the exact McNemar test of the anomalies and of the normal rows only one of
    them flags.

    \b
    Examples:
      ad-duckdb compare warehouse.duckdb tx_ae@2 tx_ae@3 transactions
      ad-duckdb compare warehouse.duckdb tx_ae@1 tx_ae transactions --top 50 --format json
      ad-duckdb compare cards.duckdb card_ae@1 card_ae@2 cards --label class --where "split = 'test'"
      ad-duckdb compare cards.duckdb card_ae@1 card_ae@2 "SELECT *, if(class = 1, 1, 50) AS w FROM cards" --label class --weight w

    --weight: labelled rows that are a sample (every fraud but 1 in 50 normal rows: weight 50 on those) count each
    row as the rows it stands for, as scikit-learn's sample_weight: in the figures, the flagged counts and a second
    top-N line (the N highest-scoring rows of what the rows stand for). On an audit sample (alerts all reviewed,
    the rest audited 1 in k) the test joins each version's AUC-ROC interval instead of DeLong's, which called equal
    versions different in up to 41% of simulated audits. --sampled normal says every anomaly was kept and only the
    normal rows sampled (by merchant, by day): DeLong's paired test holds then, whatever the normal rows' weights, and
    is used (the verdict line and JSON's labelled.test name it; labelled.weights.sampled says normal), and the
    anomalies one version alone catches at a threshold are tested at McNemar's even odds, both kept alike.
    """
    from dataclasses import asdict

    from .compare import compare_versions

    # _notes: the library's notes (labels that look inverted) as note lines, not Python's warning format
    with _open(db, read_only=True, check_order=False, attach=attach) as con, _notes():
        r = compare_versions(con, model_a, model_b, source, where=where, top=top, label=label, weight=weight,
                             sampled=sampled)
    if out_format == "json":
        click.echo(jsonvalues.dumps(asdict(r), indent=1))
        return
    # Why a note: a NULL row reads as a failure of the new version, when its retrain simply did not carry them
    lost = [t.name for t in r.thresholds if t.value_a is not None and t.value_b is None]
    note = None
    if lost:
        from .sqltext import shell_word

        names = ", ".join(repr(x) for x in lost)
        note = (f"{r.b} has no threshold{'s' if len(lost) > 1 else ''} {names} (thresholds belong to one "
                f"version): set {'them' if len(lost) > 1 else 'it'} again with `ad-duckdb threshold "
                f"{shell_word(db)} {r.b} {lost[0] if len(lost) == 1 else 'NAME'} ...`, or give the next retrain "
                "--carry-thresholds")
    _notes_are_errors(note)  # a report fails before it prints, as show, evaluate and list do
    click.echo(str(r))
    if note:
        _note(note)


@cli.command()
@click.argument("db")
@click.argument("model")
@click.option("--keep", type=click.IntRange(min=1),
              help="Prune: drop every version of MODEL (a name without @N) but the KEEP newest (and the one the bare "
                   "name means, when an older one was promoted).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: what was dropped, as one object (name, dropped: the versions, latest: what the name "
                   "means now, null when no version is left), for scripts.")
def drop(db: str, model: str, keep: int | None, yes: bool, out_format: str) -> None:
    """Drop MODEL: 'name' drops every version, 'name@N' one version, 'name --keep N' all but the N newest.

    Version numbers are never reused, so a query pinned to a kept 'name@M' keeps working.

    \b
    Examples:
      ad-duckdb drop warehouse.duckdb tx_ae@1 --yes
      ad-duckdb drop warehouse.duckdb tx_ae --keep 7 --yes
    """
    if keep is not None and "@" in model:
        # a wrong combination of arguments, as a script's exit code 2 says (it was 1, after opening the database)
        raise click.UsageError(f"--keep prunes the older versions of a name: give the name without @N "
                               f"({model.split('@')[0]!r}), or drop {model!r} without --keep.")
    try:
        store.parse_ref(model)  # before the question: a typo'd reference, once confirmed, still dropped nothing
    except OptionError as e:
        raise _failure(str(e), e) from None
    if not yes:
        what = f"every version of {model} but the {keep} newest" if keep else model
        try:
            # the question on stderr: stdout is the command's output, which a script may parse
            click.confirm(f"Drop {what} from {db}?", abort=True, err=True)
        except click.Abort:
            if sys.stdin.isatty():
                raise
            # Why: a script without a terminal (cron) got the question on stdout and a bare "Aborted!"
            # --keep kept in the command shown: without it, pasting the hint dropped every version instead of pruning
            again = shlex.join(["ad-duckdb", "drop", db, model, *(["--keep", str(keep)] if keep else []), "--yes"])
            raise click.UsageError(f"drop was not confirmed (standard input is not a terminal, and gave no 'y'): in a "
                                   f"script add --yes, e.g. {again}") from None
    base = model.split("@")[0]
    with _open(db) as con, _notes(), _done_if_interrupted(
            lambda: set(_read_quietly(con, "SELECT list(version) FROM ad_models WHERE name = ?", [base]) or []),
            lambda b, a: f"{base} version(s) {', '.join(map(str, sorted(b - a)))} were dropped" if b - a else None):
        before = store.known_models(con).get(base, [])
        was = store.bare_version(con, base, before) if before else None
        versions = api.drop_model(con, model, keep=keep)
        now = store.known_models(con).get(base, [])
        bare = store.bare_version(con, base, now) if now else None
        if out_format == "json":
            click.echo(jsonvalues.dumps({"name": base, "dropped": versions,
                                         "latest": f"{base}@{bare}" if now else None}, indent=1))
            return
        if not versions:
            click.echo(f"dropped nothing: {base} has at most {keep} version(s) besides the one '{base}' means")
            return
        # Why said: dropping the newest is a roll-back, and a script's log should show what 'name' means after it
        moved = f": '{base}' is now {base}@{bare}" if now and bare != was else ""
        click.echo(f"dropped {base} version(s) {', '.join(map(str, versions))}{moved}")


_OPTION_LIKE = re.compile(r"--?[A-Za-z][\w-]*")
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


# a SQL function's (in a UDF's error) or a command's own (MODEL)
_NO_MODEL = re.compile(r"^(?:.*executing the UDF: ModelNotFoundError: )?No model '([^']+)' in table ad_models", re.S)


def _attached_model_hint(con: duckdb.DuckDBPyConnection, error: str, command: str = "sql") -> str:
    """For a SQL function's "No model 'lake_ae' in table ad_models" (or ``command``'s own, for its MODEL) when an
    attached database stores that model: where it is and how to use it; else "". Why: the functions use the models
    stored in DB only (they load them when they register), so a model of an attached file read as if it were stored
    nowhere."""
    from .udfs import OPEN_ARGS

    m = _NO_MODEL.search(error)
    if m is None:
        return ""
    name = m.group(1)
    own = OPEN_ARGS.get(con, ("",))[0]
    for database, path in attachedmodels.holders(con, name, own)[:1]:
        where, here, file = shlex.quote(path), shlex.quote(own or "DB"), shlex.quote(f"{name}.onnx")
        # an in-memory DB keeps no model imported into it: only the file itself
        copy = "" if own == ":memory:" else (f", or copy the model into DB: ad-duckdb export {where} "
                                             f"{shlex.quote(name)} {file}, then ad-duckdb import {here} {file}")
        users = "the anomaly functions use" if command == "sql" else "ad-duckdb uses"
        what = "query" if command == "sql" else "command"
        return (f" {name!r} is stored in the attached database {database!r} ({path}), but {users} the "
                f"models stored in DB ({own or 'the database opened'}) only: run the {what} on that file "
                f"(ad-duckdb {command} {where} ...){copy}.")
    return ""


_QUERY_AND_FILE = "Give the SQL either as QUERY or with --file PATH, not both."


# ignore_unknown_options: QUERY may begin with a "-- comment" line (a .sql file passed as "$(cat f.sql)"),
# which click would otherwise take for an unknown option and refuse.
@cli.command(cls=_SqlCommand, context_settings={"ignore_unknown_options": True})
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
                shown = store.cli_db(con)
                raise _failure(damagedstore.file_message(con, shown, e), code=EXIT_NO_DATABASE) from e
            missing_write = not write and "read-only" in str(e)
            hint = " (the database is opened read-only: add --write to allow writes)" if missing_write else \
                first_feature_hint(str(e), con, stmt.query) or _unquoted_name_hint(str(e), stmt.query) or _attached_model_hint(con, str(e)) \
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


@cli.command(cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("model")
@click.argument("source")
@click.option("--where", required=True, help="SQL filter selecting the row(s) to explain, e.g. \"transaction_id = 42\".")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Explain at most N matching rows, the highest scores first.")
@click.option("--format", "out_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: a reason per column, for people; csv or json for scripts: each row's columns with "
                   "anomaly_score, anomaly_percentile, is_anomaly, anomaly_terms and anomaly_explain, as the SQL "
                   "functions name them (lists and structs as JSON text in csv).")
@_ATTACH
def explain(db: str, model: str, source: str, where: str, limit: int, out_format: str, attach: tuple[str, ...]) -> None:
    """Explain why rows of SOURCE matching --where score as they do: each column's share of the score.

    Rows are shown highest score first; when more than --limit rows match, the rest are counted, not shown.

    \b
    Examples:
      ad-duckdb explain warehouse.duckdb tx_ae transactions --where "transaction_id = 42"
      ad-duckdb explain warehouse.duckdb tx_ae transactions --where "transaction_id > 1000" --limit 5 --format json
    """
    # Why no order check: the calls below name the model's columns (see `score`); rows that look swapped are
    # rows a user explains on purpose.
    with _open(db, read_only=True, check_order=False, attach=attach) as con, _notes():
        from .sqltext import source_sql, where_sql

        rec = api.load_model(con, model)
        args = ", ".join(quote_ident(f) for f in rec.feature_names)
        ref = quote_literal(model)
        # as `score` does: a missing feature column or one read as text, named with the query that fixes it,
        # rather than a binder error or "feature argument 2 is VARCHAR" from inside the SQL functions
        api.source_features(con, rec, source)
        stale: set[str] = set()
        if out_format != "table":  # before the rows are explained, which costs many scoring passes
            from .scorecols import explained_for_scripts

            stale = explained_for_scripts(con, source, describe(con, source), out_format)
        try:
            matching = con.execute(f"SELECT count(*) FROM {source_sql(source)}{where_sql(where)}").fetchall()[0][0]
        except duckdb.Error as err:
            described = describe(con, source)
            cols = sql_names(c for c, _ in described)
            raise _failure(f"--where {where!r} does not run on {source} ({str(err).splitlines()[0]}); "
                           f"its columns: {cols}.{textliteral.quote_fix(str(err), where, described)}",
                           code=EXIT_NO_SOURCE if is_missing_column(err) else None) from None
        if not matching:
            raise _failure(f"No row of {source} matches --where {where!r}.", code=EXIT_NO_ROWS)
        # a model whose graph does not show its terms (scoreterms) is still explained, without its terms line
        lm = api.registry(con).get(model)
        batchdrift.unsaid(lm)
        cost = explaincost.note(lm, min(matching, limit), False, "a smaller --limit or a narrower --where shortens it")
        if cost:
            _note(cost)
        # Why names the source lacks: a column of its own named __s was read as the row's score ("score 1 (normal)"
        # for a flagged row), and sorted by in its place
        taken = {c.lower() for c, _ in describe(con, source)}
        s_, p_, e_, t_ = (_free_alias(taken, a) for a in ("__s", "__p", "__e", "__t"))
        terms = f", anomaly_terms({ref}, {args}) AS {quote_ident(t_)}" if lm.terms_readable() else ""
        # Why score, sort and cut before explaining: an explanation costs many scoring passes (LoadedModel.attribution).
        try:
            rows = con.execute(
                f"SELECT *, anomaly_percentile({ref}, {args}) AS {quote_ident(p_)}, anomaly_explain({ref}, {args}) AS "
                f"{quote_ident(e_)}{terms} FROM (SELECT *, anomaly_score({ref}, {args}) AS {quote_ident(s_)} FROM "
                f"{source_sql(source)}{where_sql(where)} ORDER BY {quote_ident(s_)} DESC NULLS LAST "
                f"LIMIT {int(limit)}) ORDER BY {quote_ident(s_)} DESC NULLS LAST"
            )
            names = [d[0] for d in rows.description]
            data = rows.fetchall()
        except duckdb.Error as err:
            # Why: a row the source's query cannot compute (error(), a cast of text) was DuckDB's words alone,
            # naming neither the model nor the source; our functions' own errors name them, a Ctrl-C stays one
            if is_interrupt(err) or raised_in_function(str(err)) is not None:
                raise
            raise _failure(f"Explaining with {lm.ref!r}: cannot read {source!r}: {first_part(str(err))}.", err) from err
        threshold = rec.threshold("default")
        quantiles = rec.metrics.get("score_quantiles") or []
        specs = {f.name: f for f in rec.features}
        lay = categorical.layout(rec.features)  # text features: their words said, not spreads (categorical.py)
        # Why the longest name: padded to 20, a longer name pushed its share and bar right of the other lines'
        # (in terminal columns: a name such as 数量 takes two a character, and padded by characters it did the same)
        width = max(20, *(textwidth.width(n) for n in rec.feature_names))
        on = terms_on(rec.params)
        robust = rec.params.get("robust") is not False  # None: the default, robust
        if out_format != "table":
            _print_explained(names, data, threshold, on, out_format, stale, (s_, p_, e_, t_),
                             _imputed(lm, rec.feature_names, names, data))
            if matching > len(data):  # on stderr: the rows on stdout stay data
                _note(f"showing {len(data)} of {matching} matching rows, the highest scores first; "
                      "--limit N shows more")
            return
        for r in data:
            row = dict(zip(names, r, strict=True))
            s, p, e, t = row.pop(s_), row.pop(p_), row.pop(e_), row.pop(t_, None)
            flagged = bool(threshold and s > threshold.value)
            # name=value as SQL (a keyword's name quoted, text and dates as literals), so a pair pastes into --where;
            # a value longer than a table cell clipped as score's table clips it (a 480-character note made the line
            # 515 characters), its cut literal left open: no paste takes it for the whole value
            # Why the features left out of a wide row's line (as score --top's table leaves them): 150 of them made
            # it 3,500 characters; the lines below give the values that matter, --format json every one
            wide = len(rec.feature_names) > _TOP_FEATURES_SHOWN
            features = {f.lower() for f in rec.feature_names}
            cells = [f"{sql_name(k)}={texttable.clip(_one_line(_literal_text(v)))}" for k, v in row.items()
                     if not (wide and k.lower() in features)]
            if wide:
                cells.append(f"and its {len(rec.feature_names)} feature values (the ones that matter below; "
                             "every one with --format json)")
            _echo_lines(explainlines.row_lines(cells))
            _echo_lines(explainlines.wrapped(
                f"score {s:.6g} ({'ANOMALY' if flagged else 'normal'}; default threshold "
                f"{threshold.value if threshold else float('nan'):.6g}), {_rank_text(s, p, quantiles)}"))
            if t is not None:
                # Why only the model's own terms: a left-out term is 0, and "neighbour 0" read as a row inside a
                # group of training rows, which a model trained with knn_k=0 never measured
                own_terms = {k: t[k] for k, o in zip(TERM_NAMES, on, strict=True) if o}
                _echo_lines(explainlines.wrapped(_terms_text(own_terms, flagged, one_column=len(rec.features) == 1,
                                                             robust=robust)))
            if not e:  # anomaly_explain's empty list: say so rather than print no reason at all
                _echo_lines(explainlines.wrapped("every feature is missing, and a missing value is never a reason: "
                                                 "nothing to explain (each is scored at its most typical value)"))
            spreads = {}
            rest = []
            shown = 0
            # the row as scored: a missing value is printed with the value scoring chose for it
            values = [_feature_value(row, n) for n in rec.feature_names]
            given = np.array([_spreads_input(v) for v in values]) if lay is None else lay.rows([values])[0]
            scored = lm.as_scored(given[None, :])[0]
            row_z = row_spreads(rec.features, given)
            at = {n: i for i, n in enumerate(rec.feature_names)}
            for part in e:
                if lay is not None and (k := lay.text_index(part["feature"])) is not None:  # a text column
                    shown += 1
                    _echo_lines(explainlines.column_lines(
                        f"  {textwidth.ljust(part['feature'], width)} {part['share']:>6.1%} "
                        f"{'#' * int(round(part['share'] * 40))}",
                        f"({lay.value_words(k, _feature_value(row, part['feature']))})", width))
                    continue
                f = specs[part["feature"]]
                value = _feature_value(row, f.name)
                spreads[f.name] = z = float(row_z[at[f.name]])
                if (len(e) > EXPLAIN_ALL_LINES and _typical(f, z)
                        and (part["share"] < MINOR_SHARE or shown >= EXPLAIN_ALL_LINES)):
                    rest.append(part["share"])
                    continue
                shown += 1
                bar = "#" * int(round(part["share"] * 40))
                _echo_lines(explainlines.column_lines(
                    f"  {textwidth.ljust(part['feature'], width)} {part['share']:>6.1%} {bar}",
                    f"({_value_text(f, value, z, float(scored[at[f.name]]), robust)})", width))
            if rest:
                most = f"under {MINOR_SHARE:.1%}" if max(rest) < MINOR_SHARE else f"at most {max(rest):.1%}"
                _echo_lines(explainlines.wrapped(f"and {len(rest)} more columns, each typical and {most}, "
                                                 f"{sum(rest):.1%} together"))
            present = [z for z in spreads.values() if math.isfinite(z)]
            all_typical = all(_typical(specs[n], z) for n, z in spreads.items() if math.isfinite(z))
            if not flagged and present and all_typical and threshold:
                # Why: the shares still sum to 100%, of what little the row scores above a row of medians; printed
                # alone with their bars they read as a cause for a row nothing is wrong with.
                _echo_lines(explainlines.wrapped("nothing stands out: every value is typical and the score is under "
                                                 "the threshold, so the shares above are no reason to look at this "
                                                 "row"))
            if flagged and len(present) > 1 and all_typical and lay is None:
                # Why the pair on a line of its own: with the partner's value, one line ran past 200 characters
                pair = _against_text(lm, e, scored, given)
                _echo_lines(explainlines.wrapped(
                    f"no value is far from its training median on its own (each within {TYPICAL_SPREADS:g} "
                    f"spreads): the combination is what is unusual{':' if pair else ''}"))
                if pair:
                    _echo_lines(explainlines.wrapped(pair))
        if matching > len(data):
            click.echo(f"showing {len(data)} of {matching} matching rows, the highest scores first; "
                       "--limit N shows more")


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


def _free_alias(taken: set[str], name: str) -> str:
    """``name``, with underscores added until no column of ``taken`` (lower case) has it, as DuckDB matches names."""
    while name.lower() in taken:
        name += "_"
    return name


def _imputed(lm: LoadedModel, features: list[str], names: list[str], data: list[tuple[Any, ...]]
             ) -> list[dict[str, float] | None]:
    """Per row of ``data`` (columns ``names``), each NULL feature's value as scoring took it (``as_scored``), which
    the table format prints on the feature's line; None for a row with no value missing."""
    values = [[_feature_value(dict(zip(names, r, strict=True)), f) for f in features] for r in data]
    given = np.array([[_spreads_input(v) for v in row] for row in values], dtype=np.float64).reshape(
        len(data), len(features)) if lm.layout is None else lm.layout.rows(values)
    scored = lm.as_scored(given)
    if lm.layout is not None:  # a text NULL keyed by the category it was read as, as anomaly_imputed keys it
        import pyarrow as pa

        held, scored, keys = lm.layout.null_entries(np.isnan(given), scored, [
            pa.array([row[k] is None for row in values], pa.bool_()) for k in range(lm.layout.numeric, len(features))],
            features)
        return [{keys[j].as_py(): float(scored[i, j]) for j in np.flatnonzero(m)} if m.any() else None
                for i, m in enumerate(held)]
    return [{features[j]: float(scored[i, j]) for j in np.flatnonzero(m)} if m.any() else None
            for i, m in enumerate(np.isnan(given))]


def _print_explained(names: list[str], data: list[tuple[Any, ...]], threshold: Threshold | None,
                     on: Sequence[bool], out_format: str, stale: set[str], aliases: tuple[str, str, str, str],
                     imputed: list[dict[str, float] | None]) -> None:
    """`explain --format csv|json`: each row's columns, then its score, percentile, flag, terms and shares, under
    the SQL functions' names (``aliases``: explain's query's own for them, score, percentile, shares and terms); the
    source's columns
    ``stale`` (lower case: an earlier scoring's outputs) left out, as the fresh ones replace them. Last,
    ``anomaly_imputed``: ``imputed``, the value each NULL feature was scored at (the table format's "scored at"),
    added after the others so that scripts reading them by position or name keep working."""
    s_, p_, e_, t_ = aliases
    ours = {n: i for i, n in enumerate(names) if n in aliases}
    # by position: a source's columns may repeat a name (a join's), which a dict of the row would merge
    kept = [i for i in range(len(names)) if i not in ours.values() and names[i].lower() not in stale]
    rows = []
    for r, filled in zip(data, imputed, strict=True):
        s, p, e = r[ours[s_]], r[ours[p_]], r[ours[e_]]
        t = r[ours[t_]] if t_ in ours else None
        flagged = None if threshold is None or s is None else bool(s > threshold.value)
        # the model's own terms, as the table prints them (a term left out is 0, not measured)
        terms = None if t is None else {k: t[k] for k, o in zip(TERM_NAMES, on, strict=True) if o}
        rows.append((*(r[i] for i in kept), s, p, flagged, terms, e, filled))
    cols = [names[i] for i in kept]
    _print_rows([*cols, "anomaly_score", "anomaly_percentile", "is_anomaly", "anomaly_terms", "anomaly_explain",
                 "anomaly_imputed"], rows, out_format)


# Within this many robust spreads (IQR / 1.349, after the column's signed log if it has one) of the training
# median, a value is common on its own: about 1 in 20 values of a normal column lies further out.
TYPICAL_SPREADS = 2.0
# Up to this many columns `explain` prints a line for each; beyond, typical columns with a share under MINOR_SHARE, or
# past this many lines, are summed into one line. Why: a 60-column model printed 60 lines per row, most of them
# "0.0% ... typical", which hid the few columns that matter (a column far from its median keeps its line at any
# share); and a typical row's thin shares (1-8% each) still printed 35 lines before "nothing stands out".
EXPLAIN_ALL_LINES = 12
MINOR_SHARE = 0.005


# What each of the score's terms (anomaly_terms) measures, said as what it means for the row.
TERM_MEANINGS = {
    "reconstruction": "its values break how the columns go together",
    "neighbour": "it lies far from every group of training rows",
    "range": "a value lies outside the range 99% of training values were in",
}
# The range term's meaning for a model trained with robust=False, whose range is every training value's
WHOLE_RANGE_MEANING = "a value lies outside every training value's range"


# A term this small is float32 rounding, not a measure (terms are in robust units, a typical row's about 1 each).
TERM_NOISE = 1e-5


# Why apart: a model of one column has no columns to go together; its reconstruction fails on a value unlike those
# it was trained on
ONE_COLUMN_RECONSTRUCTION = "its value is unlike the training values"


def _terms_text(terms: dict[str, float], flagged: bool, one_column: bool = False, robust: bool = True) -> str:
    """The score's terms on one line and, for a flagged row, what the largest means: why it is odd, by kind
    (``robust``: the model's training range is the middle 99% of its values, else all of them).

    Why not for a row under the threshold: a typical row's reconstruction and neighbour terms are each about 1 (each
    is divided by its training median), so its largest term says nothing about it."""
    # Why 0 under TERM_NOISE: the graph computes in float32, so a value at the end of the training range came out
    # 1e-7 beyond it, printed "range 2.38e-07" for a row whose every value is inside
    terms = {k: 0.0 if abs(v) < TERM_NOISE else v for k, v in terms.items()}
    parts = " + ".join(f"{name} {value:.3g}" for name, value in terms.items())
    top = max(terms, key=lambda k: terms[k])
    total = sum(terms.values())
    if not flagged or not total > 0:
        return f"terms: {parts}"
    def said(name: str) -> str:
        meaning = ONE_COLUMN_RECONSTRUCTION if one_column and name == "reconstruction" else \
            WHOLE_RANGE_MEANING if name == "range" and not robust else TERM_MEANINGS[name]
        return f"{name} ({terms[name] / total:.0%}: {meaning})"

    if terms[top] / total >= 0.5:
        return f"terms: {parts}: mostly {said(top)}"
    # Why the next one too: a top term under half is not "mostly" the score, and the next is then about as large
    second = max((k for k in terms if k != top), key=lambda k: terms[k])
    return f"terms: {parts}: {said(top)} and {said(second)}"


def _against_text(lm: LoadedModel, e: list[dict[str, Any]], scored: np.ndarray, given: np.ndarray) -> str:
    """"b against a: with a at 61.3 instead, the row would score 2.1": the column with the largest share and the
    one it is odd against (``partner.relation_partner``); the two largest shares where no one column is, if the
    second is a real part of the score; "" where neither names a pair."""
    from .partner import relation_partner

    names = lm.feature_names
    top = names.index(e[0]["feature"])
    found = relation_partner(lm, scored, ~np.isnan(given), top)
    if found is not None:
        other = names[found.column]
        shown = _typical_number(lm.rec.features[found.column], found.value)
        # the score at the value as printed, so that the reader who puts it back in gets the score said
        row = np.array(scored, dtype=np.float64)
        row[found.column] = float(shown)
        score = float(lm.scores(row[None, :], missing=False)[0])
        return f"{names[top]} against {other}: with {other} at {shown} instead, the row would score {score:.3g}"
    # Why a floor: a column at its median has no share, and naming one of 0% said the row broke a relation with it
    if len(e) > 1 and e[1]["share"] >= MINOR_PAIR_SHARE:
        return f"{e[0]['feature']} against {e[1]['feature']}"
    return ""


# The share the second column needs to be named beside the first when no one column's move makes the row fit.
MINOR_PAIR_SHARE = 0.1


def _column_number(spec: FeatureSpec, v: float) -> str:
    """A value of a column as explain prints it: a whole number of an integer column without ".0" (a median of
    8.0 cards), others against the column's spread (``_against_spread``)."""
    if is_integer_type(spec.sql_type) and float(v).is_integer() and abs(v) < 2**53:
        return str(int(v))
    return _against_spread(v, _raw_spread(spec))


def _spreads_input(value: Any) -> float:
    """A feature's value as the model takes it (NaN for NULL), for ``LoadedModel.as_scored``."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _feature_value(row: dict[str, Any], name: str) -> Any:
    """The row's value of a feature, matched as DuckDB matches column names (case-insensitively)."""
    if name in row:
        return row[name]
    return next((v for k, v in row.items() if k.lower() == name.lower()), None)


def row_spreads(specs: Sequence[FeatureSpec], values: np.ndarray) -> np.ndarray:
    """How many robust spreads each value of a row lies from its column's training median (signed; NaN for a missing
    value): ``features.transform`` of the whole row in one call (a call a value was most of explain's own CPU at 150
    columns), its fill of a missing value undone."""
    values = np.asarray(values, dtype=np.float64)
    z = transform(values[None, :], specs)[0]
    z[np.isnan(values)] = np.nan
    return z


def _kept_constant(spec: FeatureSpec) -> bool:
    """Whether the column held one value in every training row (kept with constant_columns='keep').

    Why it matters: such a column has no spread; features.fit_specs measures it in units of its value, so 8 against
    an only value of 5 is 0.6 "spreads", yet any other value is outside its training range (the range term counts it).
    """
    return (spec.lo == spec.hi == 0.0 and spec.transform == "none" and spec.center == spec.fill
            and spec.scale == max(abs(spec.fill), 1.0))


def _typical(spec: FeatureSpec, z: float) -> bool:
    """Whether a value ``z`` spreads from the training median is common on its own.

    Why the training range too: a column that is never negative with its median near zero has values within
    TYPICAL_SPREADS below zero, which no training row held (and the score's range term counts as out of range).
    """
    if _kept_constant(spec):
        return abs(z) < 1e-12
    return abs(z) <= TYPICAL_SPREADS and spec.lo <= z <= spec.hi


def _value_text(spec: FeatureSpec, value: Any, z: float, scored: float, robust: bool = True) -> str:
    """Where ``value`` stands against the column's training values; ``scored``: the value the row was scored with
    (for a missing one, what scoring chose: ``LoadedModel.as_scored``); ``robust``: the model's training range is
    the middle 99% of the column's values (its 0.5% and 99.5% quantiles), else all of them."""
    # Why _cell_text: the row line above says amount=NULL; Python's str said "value None". Why a float as tables
    # print it: a lag() difference read "value 5.564688029999999" beside "training median -0.02" (the row line above
    # keeps every digit, to paste into --where)
    shown = _float_text(value) if isinstance(value, float) and math.isfinite(value) else _cell_text(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        # against the spread: a large value with a small one (epoch seconds, a BIGINT near 9e18) printed as 9e+18
        median = _column_number(spec, spec.fill)
        # Why the value itself: beside a count of 500 the amount is scored in proportion to it, not at the median
        # this line printed alone, so the reader could not tell what the row was judged with
        used = _column_number(spec, scored)
        at = f"{median}, its median" if used == median else f"{used} (median {median})"
        return f"value {shown}: missing, scored at its most typical value beside the others: {at}{_fill_beyond(spec, scored, robust)}"
    if _kept_constant(spec):
        where = "typical" if _typical(spec, z) else "outside the training range"
        # Why .10g: a large value with no spread (epoch seconds) must not print as 1.7e+09
        return f"value {shown}, every training row held {spec.fill:.10g}: {where}"
    # the training range said as what it is. Why: "beyond the training range's top, 84" read as the largest training
    # value, where robust training (the default) takes the 0.5% and 99.5% quantiles, and a reader who had trained
    # on a row of 3,000 took the line for a mistake
    # to the digits of the typical range printed beside it
    bottom, top, held = _range_held(spec, robust)
    end = top if z > spec.hi else bottom
    if _typical(spec, z):
        where = "typical"
    elif abs(z) <= TYPICAL_SPREADS:  # near the median, yet past the end of the training range
        where = f"{'above' if z > spec.hi else 'below'} {end}: {held}"
    elif abs(z) >= CLIP:  # the graph clips there too: the count beyond it is not known, only that it is far out
        where = f"more than {CLIP:.0f} spreads {'above' if z > 0 else 'below'} it"
    else:
        where = f"{abs(z):.3g} spreads {'above' if z > 0 else 'below'} it"
    if abs(z) > TYPICAL_SPREADS and not spec.lo <= z <= spec.hi:
        # Why: the score's range term counts such a value, and "mostly range: a value lies outside the training
        # range" named none of the row's columns as that value
        where += f", beyond {end}: {held}"
    median, lo, hi = _typical_range(spec)
    typical = f"typical range {lo} to {hi}" if lo != hi else f"typical value {lo}"  # not "range 0 to 0"
    return f"value {shown}, training median {median}, {typical}: {where}"


def _fill_beyond(spec: FeatureSpec, scored: float, robust: bool) -> str:
    """", beyond 29.8: 99% of training values were between ..." when a missing value was scored at a value outside the
    column's training range, else "".

    Why: the value a NULL takes beside a partner far out (a count 5 times the largest) is in proportion to it, beyond
    the range, and the score's range term counts it; the line said only "scored at 79.3 (median 20)", so the range
    term the terms line named had no column to show for it."""
    if _kept_constant(spec) or not math.isfinite(scored):
        return ""
    z = float(transform(np.array([[scored]], dtype=np.float64), [spec])[0, 0])
    if spec.lo <= z <= spec.hi:
        return ""
    bottom, top, held = _range_held(spec, robust)
    return f", beyond {top if z > spec.hi else bottom}: {held} (the score's range term counts it)"


def _range_held(spec: FeatureSpec, robust: bool) -> tuple[str, str, str]:
    """The training range's ends as printed, and what they are ("99% of training values were between 1 and 84")."""
    bottom, top = (_typical_number(spec, float(v)) for v in raw_values(spec, np.array([spec.lo, spec.hi])))
    held = (f"99% of training values were between {bottom} and {top}" if robust else
            f"every training value was between {bottom} and {top}")
    return bottom, top, held


def _typical_range(spec: FeatureSpec) -> tuple[str, str, str]:
    """The training median and the raw values within TYPICAL_SPREADS of it and inside the training range, as
    printed: ("17.8", "1.0", "183.4").

    Why: spreads are counted after a heavy-tailed column's signed log, so "4.9 spreads above it" cannot be mapped
    back to money or counts by the reader; the range can. Cut to the training range: a count or amount that is
    never negative printed "typical range -9.0 to 42.4". Printed to 3 significant digits of the range's width
    (the median too: it printed 10 digits, 49.71847993), so that large values with a small spread (epoch seconds)
    keep the digits that differ.
    """
    lo, hi = _typical_band(spec)
    # Why the tolerance: the signed log's round trip puts a training value of 1 at 1.0000000000000002, whose
    # ceiling (2) left out of the range the value that _typical calls typical
    whole = ((math.ceil(lo - 1e-9 * max(1.0, abs(lo))), math.floor(hi + 1e-9 * max(1.0, abs(hi))))
             if math.isfinite(lo) and math.isfinite(hi) else (1, 0))
    if is_integer_type(spec.sql_type) and whole[0] <= whole[1]:
        # Why the whole numbers inside: an INTEGER column read "median 0.000, typical range 0.000 to 0.997", counts
        # no row holds; a value is typical exactly when it lies in the range printed
        median = f"{spec.fill:.0f}" if spec.fill.is_integer() else _float_text(spec.fill)
        return median, str(whole[0]), str(whole[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or max(abs(lo), abs(hi)) >= 1e15 or hi <= lo:
        return f"{spec.fill:.10g}", f"{lo:.3g}", f"{hi:.3g}"
    dec = _spread_places(hi - lo)
    # z: a value that rounds to zero prints 0.000, not -0.000 (a smallest training value of -0.0001)
    return f"{spec.fill:z.{dec}f}", f"{lo:z.{dec}f}", f"{hi:z.{dec}f}"


def _typical_band(spec: FeatureSpec) -> tuple[float, float]:
    """The raw values within TYPICAL_SPREADS of the training median and inside the training range (``_typical_range``)."""
    band = np.clip([-TYPICAL_SPREADS, TYPICAL_SPREADS], spec.lo, spec.hi)
    lo, hi = (float(v) for v in raw_values(spec, band))
    return lo, hi


def _typical_number(spec: FeatureSpec, v: float) -> str:
    """A typical value of a column to the digits ``_typical_range`` prints the median and range with, beside which it
    is read (the value that makes a row fit: "amount at 98", not "at 97.7078" beside "median 259")."""
    lo, hi = _typical_band(spec)
    if (is_integer_type(spec.sql_type) or not (math.isfinite(lo) and math.isfinite(hi))
            or max(abs(lo), abs(hi)) >= 1e15 or hi <= lo):
        return _column_number(spec, v)
    return f"{v:z.{_spread_places(hi - lo)}f}"


def _rank_text(score: float, percentile: float, quantiles: list[float]) -> str:
    """Where a score stands among the training rows' scores.

    Why not always "higher than p%": the highest training row is not higher than itself, yet its percentile
    is 1.0 and printed 100.00%; and a share just under 1 must not round up to 100.00%.
    """
    if quantiles:
        low, high = quantiles[0], quantiles[-1]
        # a training row scored again may differ from its training score in the last float32 bits
        if math.isclose(score, high, rel_tol=1e-6):
            return "as high as the highest training row's score"
        if score > high:
            return f"above every training row's score (the highest was {high:.6g})"
        if score < low and not math.isclose(score, low, rel_tol=1e-6):
            return f"below every training row's score (the lowest was {low:.6g})"
    return f"higher than {math.floor(percentile * 10_000) / 100:.2f}% of training rows"


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


@cli.command(cls=_QueryWordsCommand)
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
        click.echo(rep.text(notes=not _NOTES_IGNORED))  # its notes among its figures, unless notes are ignored
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


@cli.command(cls=_ThresholdCommand)
@click.argument("db")
@click.argument("model")
@click.argument("name")
@click.option("--method", required=True,
              type=click.Choice(["manual", "quantile", "contamination", "max_f1", "min_precision", "min_recall",
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
      ad-duckdb threshold warehouse.duckdb tx_ae two_a_day --method alarm_rate --per-day 2 --time day --source daily_tx --where "day >= '2024-02-01'"
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


@cli.command("check-threshold", cls=_QueryWordsCommand)
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
      ad-duckdb check-threshold warehouse.duckdb tx_ae two_a_day --source daily_tx --where "day >= '2024-02-15'"
      ad-duckdb check-threshold warehouse.duckdb tx_ae default --source daily_tx --time day --format json

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


@cli.command("export")
@click.argument("db")
@click.argument("model")
@click.argument("path", required=False)
@click.option("--replace", is_flag=True, help="Overwrite PATH if it exists.")
@click.option("--all", "every", is_flag=True,
              help="Write every version of every model into the folder DIR (ad-duckdb export DB --all DIR), as "
                   "NAME@VERSION.onnx, with manifest.json naming those files and the version each name means; "
                   "`ad-duckdb import OTHER_DB DIR` stores them all. With --replace, an earlier set's files there go.")
@click.option("--string-inputs", is_flag=True,
              help="A model with text features: the file's graph takes the numeric features as input `numeric` and "
                   "each text column as a string input of its name ('' for NULL), instead of the 0/1 input per "
                   "category the stored graph takes (README, \"The .onnx file\").")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: for scripts; one object (file, model) for one model, a list of them for --all, each with "
                   "current: whether the bare name means that version.")
def export_cmd(db: str, model: str, path: str | None, replace: bool, every: bool, string_inputs: bool,
               out_format: str) -> None:
    """Write MODEL as a self-contained .onnx file (metadata inside).

    PATH may be a folder: the file is then FOLDER/NAME.onnx, as cp does; a PATH ending in / is a folder,
    created if missing. PATH - writes the file to standard output (for a pipe; refused on a terminal).

    \b
    Examples:
      ad-duckdb export warehouse.duckdb tx_ae tx_ae.onnx
      ad-duckdb export warehouse.duckdb tx_ae@2 models/
      ad-duckdb export warehouse.duckdb --all release/
    """
    if every and string_inputs:
        raise click.UsageError("--string-inputs exports one model: ad-duckdb export DB MODEL PATH --string-inputs; "
                               "--all writes the files import reads back as a set.")
    if every:
        _refuse_empty(model, "DIR", "give the folder to write the models to, e.g. ad-duckdb export DB --all release/")
        if path is not None:
            raise click.UsageError(f"--all exports every model: give only the folder, e.g. ad-duckdb export "
                                   f"{shlex.quote(db)} --all {shlex.quote(path)}.")
        with _open(db, read_only=True) as con:
            written = modelsets.export_all(con, model, replace=replace)
        files = [p for p in written if p.name.endswith(modelsets.SUFFIX)]
        if out_format == "json":
            means = set((setmanifest.read(Path(model)) or ({}, {}))[1].values())
            click.echo(jsonvalues.dumps([{"file": p.name, "model": p.name[:-len(modelsets.SUFFIX)],
                                          "current": p.name[:-len(modelsets.SUFFIX)] in means} for p in files], indent=1))
            return
        click.echo(f"wrote {len(files)} model file{'' if len(files) == 1 else 's'} to {model}")
        return
    if path is None:
        raise click.UsageError(f"Missing argument 'PATH'. ad-duckdb export takes DB MODEL PATH (the .onnx file or "
                               f"folder to write), e.g. ad-duckdb export {shlex.quote(db)} {shlex.quote(model)} "
                               f"{shlex.quote(model.split('@')[0])}.onnx; or --all DIR for every model.")
    _refuse_empty(path, "PATH", f"give the .onnx file or folder to write, e.g. {shlex.quote(model.split('@')[0])}.onnx")
    if path == "-":
        _export_to_stdout(db, model, string_inputs)
        return
    with _open(db, read_only=True) as con:
        p = api.export_model(con, model, path, replace=replace, string_inputs=string_inputs)
        if out_format == "json":
            click.echo(jsonvalues.dumps({"file": str(p), "model": api.load_model(con, model).ref}, indent=1))
            return
        click.echo(f"wrote {p}")


def _export_to_stdout(db: str, model: str, string_inputs: bool) -> None:
    """``export DB MODEL -``. Why standard output: gzip -c, curl -o - and tar -f - read '-' so, and it was written
    as a file named '-'; a terminal is refused, as gzip refuses, since the bytes would only garble it."""
    if sys.stdout.isatty():
        name = model.split("@", 1)[0]
        raise click.UsageError(
            f"standard output is a terminal, which would show {model}'s .onnx bytes: redirect it "
            f"(ad-duckdb export {shlex.quote(db)} {shlex.quote(model)} - > {name}.onnx) or give a file path.")
    with _open(db, read_only=True) as con:
        data = file_bytes(api.load_model(con, model), string_inputs=string_inputs)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@cli.command("import")
@click.argument("db")
@click.argument("path")
@click.option("--name", help="Store under this name (default: the name inside the file).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one object (model: the version to pin here, name, version, stored: false when the latest "
                   "version already is this model, exported_as: the file's own name@version), for scripts; for a "
                   "folder, a list of (file, model, stored, exported_as, current: whether the name means it here).")
@click.option("--promote/--no-promote", default=True, show_default=True,
              help="--no-promote stages the imported version (for a folder, every version of the set): the name "
                   "keeps meaning the version it meant until `ad-duckdb promote DB NAME@N`.")
def import_cmd(db: str, path: str, name: str | None, out_format: str, promote: bool) -> None:
    """Store a model from an .onnx file written by `ad-duckdb export`.

    PATH - reads the file from standard input (refused on a terminal), so
    `ad-duckdb export DB MODEL - | ad-duckdb import OTHER_DB -` copies a model with no file in between.
    PATH a folder (as `ad-duckdb export DB --all DIR` writes): the .onnx files its manifest.json names, all or
    nothing (a folder holding other .onnx files, of another set, is refused; one without manifest.json, written
    by an older build: every .onnx file in it); a file a version here already holds stores nothing, so a re-run
    adds no version.

    \b
    Example:
      ad-duckdb import other.duckdb tx_ae.onnx --name tx_ae
      ad-duckdb import other.duckdb release/
    """
    _refuse_in_memory(db, "import", f"ad-duckdb import models.duckdb {shlex.quote(path)}")
    _refuse_empty(path, "PATH", "give the .onnx file `ad-duckdb export` wrote, e.g. tx_ae.onnx, or the folder `ad-duckdb "
                  "export DB --all DIR` wrote")
    if path == "-" and sys.stdin.isatty():
        # Why refused: the bytes of an .onnx file cannot be typed, and the import would wait for them with no word
        raise click.UsageError(
            f"standard input is a terminal, not an .onnx file: redirect one into it (ad-duckdb import "
            f"{shlex.quote(db)} - < tx_ae.onnx), pipe `ad-duckdb export DB MODEL -` into it, or give the file's path.")
    if _exists(path, EXIT_NO_SOURCE) and Path(path).is_dir():
        _import_folder(db, path, name, out_format, promote)
        return
    creation = _Creation()
    stored = False
    done: list[str] = []
    try:
        with _open(db, create=True, creation=creation) as con, _notes():
            # read once: standard input cannot be read again
            rec = read_stream(sys.stdin.buffer) if path == "-" else api.read_onnx_file(Path(path))
            exported = rec.ref
            target = name or exported.split("@")[0]
            before = {m["version"] for m in api.list_models(con) if m["name"] == target}
            with _stored_if_interrupted(con, target) as done:
                info = import_record(con, rec, STDIN if path == "-" else Path(path).name, name, promote=promote)
                stored = True
            # Why say the file's ref: version numbers start again in each database, so a query here pinned to the
            # exported 'tx_ae@3' would score with whatever this database numbered 3
                if out_format == "json":
                    click.echo(jsonvalues.dumps({"model": info.ref, "name": info.name, "version": info.version,
                                                 "stored": info.version not in before, "exported_as": exported},
                                                indent=1))
                    return
                moved = f" (exported as {exported}: pin {info.ref!r} here)" if exported != info.ref else ""
                # the same model as the latest version stores nothing (a note says so): not "stored" on stdout
                click.echo(f"already stored {info.ref}{moved}" if info.version in before else f"stored {info.ref}{moved}")
                # an already stored version may be a staged one: say so too (the name did not move)
                staged = versioncmds.staged_line(con, info.name, info.version)
                if staged:
                    click.echo(staged)
    except BaseException:
        if creation.ours and not stored and not done:  # as train: a refused file must not leave an empty database behind
            _remove_new_database(db)
        raise


def _import_folder(db: str, path: str, name: str | None, out_format: str, promote: bool) -> None:
    """``import DB DIR``: the set ``export --all`` wrote, all or nothing (``modelsets.import_folder``)."""
    if not any(p.name.endswith(modelsets.SUFFIX) for p in Path(path).iterdir()):
        raise click.ClickException(
            f"{path!r} is a folder, not a model file, and holds no .onnx file: give the .onnx file that "
            f"`ad-duckdb export` wrote, e.g. {str(Path(path) / 'tx_ae.onnx')!r}, or the folder `ad-duckdb export DB "
            "--all DIR` wrote.")
    if name is not None:
        raise click.UsageError(f"--name renames one model; {path!r} is a folder of models, stored under their own "
                               "names: import one file of it to rename it.")
    creation = _Creation()
    done: list[tuple[str, str, bool]] = []
    means: dict[str, tuple[str, str]] = {}
    current: set[str] = set()
    exported: dict[str, str] = {}
    staged: list[str] = []
    try:
        with _open(db, create=True, creation=creation) as con, _notes():
            done = modelsets.import_folder(con, path, means, exported, promote=promote)
            known = store.known_models(con)
            current = {f"{n}@{store.bare_version(con, n, known[n])}" for n in {ref.split("@")[0] for _, ref, _ in done}}
            # a staged set (--no-promote): per name, what it still means and how to promote the set's newest
            newest = {n: v for _, ref, stored in done if stored for n, v in [store.parse_ref(ref)]}
            staged = [line for n, v in sorted(newest.items()) if v is not None
                      and (line := versioncmds.staged_line(con, n, v)) is not None]
    except BaseException:
        if creation.ours:  # nothing was stored: leave no empty database behind
            _remove_new_database(db)
        raise
    if out_format == "json":
        # Why exported_as and current: version numbers start again in each database, and a deployment script must
        # know which version each name means here after the set (current.json's names too)
        click.echo(jsonvalues.dumps([{"file": f, "model": ref, "stored": stored, "exported_as": exported[f],
                                      "current": ref in current} for f, ref, stored in done], indent=1))
        return
    for f, ref, stored in done:
        click.echo(f"{'stored' if stored else 'already stored'} {ref} from {f}")
    for name, (ref, theirs) in sorted(means.items()):
        click.echo(f"{name!r} means {ref} (the set's {theirs}), as where the set was exported")
    for line in staged:
        click.echo(line)


@cli.command("dbt-package")
@click.option("--copy-to", "copy_to", metavar="DIR",
              help="Copy the package into DIR (created; an earlier copy there is replaced) instead of printing its path: "
                   "for a project whose machines install ad_duckdb in different places. packages.yml then says "
                   "local: DIR (relative to the project's folder). Copy again after upgrading ad_duckdb.")
def dbt_package(copy_to: str | None) -> None:
    """Print the folder of the dbt package ad_duckdb (its macros) for a dbt project's packages.yml.

    Name it in packages.yml (beside dbt_project.yml) and run `dbt deps`, which links the folder, so the macros follow
    upgrades of ad_duckdb. Call them with the package's name in front, e.g. in a hook
    {{ ad_duckdb.set_threshold('tx_ae', 'cut', 'contamination', target=0.02) }}. The profile needs the plugin too
    (module: ad_duckdb.dbt).

    \b
    Examples:
      ad-duckdb dbt-package
      ad-duckdb dbt-package --copy-to vendor/ad_duckdb
    then packages.yml says  packages: [{local: PRINTED_PATH}]  (or local: vendor/ad_duckdb), and after dbt deps:
      dbt run-operation ad_duckdb.set_threshold --args "{model: tx_ae, name: cut, method: manual, value: 12}"
    """
    if dbtpackage.missing_dbt_duckdb():
        # Why said: the macros call the plugin's functions, which this Python cannot load without dbt-duckdb
        _note("dbt-duckdb is not installed in this Python environment; the profile's plugin (module: ad_duckdb.dbt), "
              "which the macros need, must run in the Python that runs dbt: pip install 'ad_duckdb[dbt]' there.")
    _refuse_empty(copy_to, "--copy-to", "give the folder to copy the package into, e.g. --copy-to vendor/ad_duckdb")
    if copy_to is None:
        click.echo(str(dbtpackage.package_dir()))
        return
    try:
        copied = dbtpackage.copy_package(copy_to)
    except OptionError as e:
        raise _failure(str(e), e) from None
    except OSError as e:
        raise _failure(f"could not copy the dbt package to {copy_to!r}: {e.strerror or e} ({e.filename or copy_to}); "
                       f"give a folder you can write, e.g. vendor/ad_duckdb in the dbt project.", e) from None
    click.echo(f"copied the dbt package ad_duckdb {dbtpackage.package_version(copied)} to {copied}; add it to the "
               f"project's packages.yml (beside dbt_project.yml), then run dbt deps:\npackages:\n"
               f"  - local: {dbtpackage.local_path(copied)}")


cli.add_command(serve)
for _command in (*versioncmds.COMMANDS, *repaircmds.COMMANDS):  # promote, rollback, history, restore-thresholds
    cli.add_command(_command)


def main() -> None:
    global _NOTES_ARE_ERRORS
    global _NOTES_IGNORED
    action = _notes_action(AdDuckDBWarning)
    _NOTES_ARE_ERRORS, _NOTES_IGNORED = action == "error", action == "ignore"
    stdfds.hold_closed()  # before any file is opened: one must not take a closed stdout's or stderr's number
    outputerrors.mark_stdout()
    try:
        _watch_ctrl_c()
        args = [as_utf8(a, sys.getfilesystemencoding(), f"argument {i}") for i, a in enumerate(sys.argv[1:], 1)]
    except ValueError as e:
        sys.stderr.write(f"Error: {e}\n")
        raise SystemExit(click.UsageError.exit_code) from None
    except KeyboardInterrupt:
        # Why: SIGTERM's handler is in place from _watch_ctrl_c on, and one landing here (a loaded machine spends a
        # while starting the watcher thread) printed a traceback and exited 1
        err = _interrupted_starting()
        err.show()
        raise SystemExit(err.exit_code) from None
    try:
        cli(args=args, prog_name="ad-duckdb")
    except SystemExit as e:
        # Why flush here: output still buffered is otherwise written at exit, where a closed pipe prints
        # "Exception ignored ... BrokenPipeError" and exits 120.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            raise SystemExit(_reader_gone() if e.code in (0, None) else e.code) from None
        except OSError as full:
            if e.code not in (0, None) or not outputerrors.is_output_error(full):
                raise
            _output_error_exit(full)
        raise
    except BrokenPipeError:  # stderr's reader gone too (`2>&1 | head`), as click printed an error
        raise SystemExit(_reader_gone(sys.stderr)) from None
    except OSError as e:  # --help into a full disk: click writes it before any command runs
        if not outputerrors.is_output_error(e):
            raise
        _output_error_exit(e)


def _output_error_exit(e: OSError) -> NoReturn:
    """End the process on a failed write of stdout outside a command, as a command's error would."""
    err = click.ClickException(outputerrors.output_failed(e))
    err.show()
    raise SystemExit(err.exit_code) from None


if __name__ == "__main__":
    main()
