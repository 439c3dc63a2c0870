"""How a command fails: its errors as one line (``click.ClickException``) with an exit code a script can act on."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from pathlib import Path
from typing import IO

import click
import duckdb

from . import interrupts, sqlshell, workfolder
from .duckerrors import is_missing_column
from .exceptions import (
    DatabaseLockedError,
    DatabaseUnavailableError,
    IntegrityError,
    ModelNotFoundError,
    NoRowsError,
    OptionError,
    SourceNotFoundError,
    ThresholdNotFoundError,
    raised_in_function,
    without_function_wrapper,
)

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


def _unencodable(e: UnicodeEncodeError) -> click.ClickException:
    text = e.object[e.start:e.end] if isinstance(e.object, str) else ""
    return click.ClickException(
        f"the output's encoding, {e.encoding}, cannot write {text!r} (from the locale or PYTHONIOENCODING): run the "
        f"command with PYTHONIOENCODING=utf-8 (or a UTF-8 locale, LC_ALL=C.UTF-8) and read its output as UTF-8.")
