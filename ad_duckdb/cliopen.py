"""Opening a command's database: paths refused before DuckDB, --wait on a held file, --attach, errors in one line."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click
import duckdb

from . import (
    api,
    attachedmodels,
    attachfiles,
    canwrite,
    damagedfile,
    damagedstore,
    interrupts,
    lockwait,
    notafile,
    outputerrors,
    store,
    trainhold,
    typedpaths,
    udfs,
    unattached,
)
from .clifail import EXIT_NO_DATABASE, _failure, _os_error_message
from .clinotes import _note
from .exceptions import AdDuckDBError, DatabaseLockedError, ModelNotFoundError, SourceNotFoundError

T = TypeVar("T")


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
    from .udfowners import OPEN_ARGS

    if OPEN_ARGS.get(con, ("",))[0] != ":memory:" or "No model " not in error:
        return ""
    return (" (DB ':memory:' is a new, empty in-memory database each run: give the database file that "
            "`ad-duckdb train` stored the model in as DB)")


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
    if not exists:
        _refuse_database_given_second(db)
    if not create and not exists:
        # Why: opening for writing would create an empty database at a mistyped path, and the command
        # would then report "no model" there instead of the typo.
        ctx = click.get_current_context(silent=True)
        # Why per command: someone loading data with `sql` was pointed at train, not at sql --write
        makes = ("`ad-duckdb sql --write` creates one, to load data into; `ad-duckdb train` too"
                 if ctx is not None and ctx.info_name == "sql" else "`ad-duckdb train` creates one")
        raise _failure(f"Database {db!r} does not exist; check the path ({makes}).{near_files(db)}",
                       code=EXIT_NO_DATABASE)
    if create and db != ":memory:" and not Path(db).parent.is_dir():
        # Why before DuckDB: its "IO Error: Cannot open file" does not say that the folder is what is missing
        missing = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), db)
        raise _failure(_os_error_message(missing), code=EXIT_NO_DATABASE)
    if not read_only and db != ":memory:":
        _check_folder_writable(db)
    files = _attachments(db, attach)
    if db != ":memory:":
        typedpaths.typed_as(db)  # the messages name it as typed, also those made as the functions load the store
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


def near_files(path: str) -> str:
    """" Did you mean 'warehouse.duckdb'?" for a path that does not exist beside a file of a close name in the same
    folder (a typo of the name or of its extension, warehouse.duckdbx), else "". Why: the path alone was said not to
    exist, and the file meant sat next to it."""
    from .closenames import close_names

    p = Path(path)
    try:
        siblings = [q.name for q in p.parent.iterdir() if q.is_file()] if p.parent.is_dir() else []
    except OSError:
        return ""
    close = close_names(p.name, siblings[:10_000], 2, 0.75)
    shown = [n if p.parent == Path(".") else str(p.parent / n) for n in close]
    return f" Did you mean {' or '.join(map(repr, shown))}?" if shown else ""


def _refuse_database_given_second(db: str) -> None:
    """Refuse, exit 2, a command whose DB does not exist while its next argument (the model's name) is a DuckDB
    database: the two swapped. Why: `train m1 w.duckdb transactions` created 'm1' and then said 'transactions' is no
    table, and `score tx_ae w.duckdb ...` that a database 'tx_ae' does not exist, naming neither swap."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    second = next((ctx.params[k] for k in ("name", "model") if isinstance(ctx.params.get(k), str)), None)
    if second is None or not Path(second).is_file():
        return
    try:
        with open(second, "rb") as f:
            head = f.read(12)
    except OSError:
        return
    if not notafile.is_duckdb_header(head):
        return
    fixed = f"ad-duckdb {ctx.info_name} {shlex.quote(second)} {shlex.quote(db)} ..."
    raise _failure(f"{second!r} is a DuckDB database and {db!r} is none: the database comes first, then the model's "
                   f"name: {fixed}", code=2)


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
    (``canwrite.unwritable_folder``): before the work, which only the commit would have failed."""
    said = canwrite.unwritable_folder(db, reads="score without --into, list, show, export, sql")
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
    already says so (a source's, from sourcedescribe.describe)."""
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
    if not store.given_the_other_way_round(con, model, source):
        return ""
    what = "NAME" if "name" in params else "MODEL"
    return (f" {source!r} is a model and {model!r} is not: the arguments go {ctx.info_name} DB {what} SOURCE, e.g. "
            f"ad-duckdb {ctx.info_name} DB {source} {model}.")


# a SQL function's (in a UDF's error) or a command's own (MODEL)
_NO_MODEL = re.compile(r"^(?:.*executing the UDF: ModelNotFoundError: )?No model '([^']+)' in table ad_models", re.S)


def _attached_model_hint(con: duckdb.DuckDBPyConnection, error: str, command: str = "sql") -> str:
    """For a SQL function's "No model 'lake_ae' in table ad_models" (or ``command``'s own, for its MODEL) when an
    attached database stores that model: where it is and how to use it; else "". Why: the functions use the models
    stored in DB only (they load them when they register), so a model of an attached file read as if it were stored
    nowhere."""
    from .udfowners import OPEN_ARGS

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
