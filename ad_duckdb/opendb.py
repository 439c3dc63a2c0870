"""Opening a database: ``connect`` with the SQL functions registered, what a file that cannot be opened is told
(a lock, a read-only file, a folder, a model file, not a database), and ``refresh``."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import duckdb

from . import damagedfile, lockholder, lockwait, notafile, workfolder
from .exceptions import AdDuckDBError, BadInputError, DatabaseLockedError, DatabaseUnavailableError, held_by_reader
from .sqltext import quote_literal, shell_word
from .udfs import register

# Why: a dashboard or report that cannot wait out a long nightly write still has something to read
_READ_A_COPY = (" A reader that cannot wait reads a copy taken while nothing writes the file (`cp` it after the "
                "writing job, or `ad-duckdb serve DB --snapshot`, which copies it between writes: SIGHUP takes a "
                "new copy).")


def _open_error(database: str, read_only: bool, e: duckdb.IOException) -> AdDuckDBError | None:
    """What to tell the user for DuckDB's IO error opening a database file (a lock; a file this process may not
    write), with the fix; None for any other, which is DuckDB's own to report."""
    if damagedfile.is_damage(e):  # before the lock's test, which a path holding "lock" (/data/blocks/) would pass
        return DatabaseUnavailableError(damagedfile.damaged_message(database, e))
    if "lock" in str(e).lower():
        holder = lockholder.describe(str(e))
        duckdb_text = held_by_reader(str(e))
        if duckdb_text is not None:
            return DatabaseLockedError(
                f"Cannot open {database!r} for writing: another process has it open read-only ({duckdb_text})."
                f"{holder} DuckDB allows no writing process beside reading ones: wait for the reader to finish, or "
                "stop it (a server, a BI tool, a scoring job, an `ad-duckdb sql` prompt: .quit). A server that must "
                "keep running while you write: `ad-duckdb serve DB --snapshot` serves a copy and leaves the file to "
                "writers (SIGHUP publishes what they wrote)."
            )
        # Why no "open it read-only" for a writer wanting the file: a writer's lock refuses readers too (DuckDB adds
        # its read-only sentence only when the holder reads)
        return DatabaseLockedError(
            f"Cannot open {database!r}{'' if read_only else ' for writing'}: another process has it open for "
            f"writing ({e}).{holder} DuckDB allows one writing process per file and no other process beside it: "
            "wait for it to finish, or stop it if it should not be running (a `score --into` or training run, a "
            "dbt run, a server with --read-write, an `ad-duckdb sql --write` prompt)."
            + (_READ_A_COPY if read_only else "")
        )
    text = str(e).lower()
    # "operation not permitted": EPERM, e.g. an immutable file (chattr +i) or one a sandbox guards
    if any(m in text for m in ("read-only file system", "permission denied", "operation not permitted")):
        # Why: DuckDB's bare "IO Error: Cannot open file ...: Read-only file system" says neither that the
        # command wanted to write nor what to do; a scoring job on a read-only file can still read it.
        fix = ("make the file readable by this user" if read_only else
               "this command writes into the database (train, drop, threshold, import, score --into, sql --write):"
               " run it where the file is writable, or on a writable copy; reading works on a read-only file "
               "(score without --into, list, show, export, sql)")
        return DatabaseUnavailableError(f"Cannot open {database!r}{'' if read_only else ' for writing'}: {e}. "
                                       f"Fix: {fix}.")
    # Why: DuckDB's bare "Could not read from file ...: Is a directory" / "... is not a valid DuckDB database file!"
    # named no fix, and exited 1 where a file that cannot be opened is 3.
    if "is a directory" in text:
        return DatabaseUnavailableError(
            f"Cannot open {database!r}: it is a folder, not a DuckDB database file. Give the path of a .duckdb file"
            f"{'' if read_only else ' (a new path creates one)'}; a folder of Parquet or CSV files is a source, e.g. "
            "read_parquet('dir/*.parquet')."
        )
    if "not a valid duckdb database file" in text and database.lower().endswith(".onnx"):
        return DatabaseUnavailableError(
            f"Cannot open {database!r}: it is a model file (.onnx), not a DuckDB database. A command takes the database "
            "first: ad-duckdb import DB PATH stores the model of PATH in DB."
        )
    if "not a valid duckdb database file" in text:
        return DatabaseUnavailableError(
            f"Cannot open {database!r}: it is not a DuckDB database file (DuckDB cannot read it as one; it was left as "
            f"it is). Check the path{';' if read_only else '; a new path creates a database, and'} a Parquet or CSV "
            "file is a source, e.g. read_parquet('file.parquet')."
        )
    return None


def connect(
    database: str | Path = ":memory:", *, read_only: bool = False, check_order: bool | None = None,
    wait: float | None = None, **kwargs: Any
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with the SQL functions registered (``check_order``: see ``register``).

    ``database``: a file's path, or ``":memory:"`` (the default) for an in-memory database; ``read_only=True``
    opens a file without writing to it; ``wait``: seconds to wait while another process holds the file (DuckDB
    allows one writing process per file, and no writer beside readers), trying again every half second, as
    ``ad-duckdb --wait`` does; by default a held file raises ``DatabaseLockedError`` at once, saying how to wait
    (``wait=0`` leaves that out). Further ``kwargs``
    (e.g. ``config={"threads": 4}``) go to ``duckdb.connect``."""
    if not isinstance(database, str | PathLike):
        # Why refused: str() of anything else is a path too, so connect(con) created a database file named
        # "<_duckdb.DuckDBPyConnection object at 0x...>" in the working folder, and its models were not the ones asked for
        fix = (" To add the SQL functions to a connection you already have, call ad_duckdb.register(con)."
               if isinstance(database, duckdb.DuckDBPyConnection) else "")
        raise BadInputError(f"connect() takes a database file's path (str or pathlib.Path) or ':memory:', not a "
                            f"{type(database).__name__}.{fix}")
    if wait == 0 and not isinstance(wait, bool):  # the command line's own --wait loop, which names --wait itself
        return _connect(str(database), read_only, check_order, kwargs)
    wait = lockwait.seconds(wait)
    return lockwait.retry_while_locked(lambda: _connect(str(database), read_only, check_order, kwargs), wait,
                                       waited_with=f"wait={wait:g}",
                                       how_to_wait="ad_duckdb.connect(..., wait=SECONDS) waits for the file to be free.")


def _connect(database: str, read_only: bool, check_order: bool | None,
             kwargs: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """``connect`` once; a file another process holds raises DatabaseLockedError."""
    on_disk = database not in ("", ":memory:") and not database.startswith(":memory:")
    said = notafile.refusal(database) if on_disk else None
    if said is not None:
        raise DatabaseUnavailableError(said)
    try:
        if on_disk:
            con = _connect_again(database, read_only, kwargs)
        else:
            # a named one (":memory:shared") is one database for every connection of that name: its config is kept
            spill = workfolder.in_memory_config(kwargs.get("config")) if database in ("", ":memory:") else None
            con = duckdb.connect(database, read_only=read_only, **({**kwargs, "config": spill} if spill else kwargs))
    except duckdb.CatalogException as e:
        if on_disk and "in-memory" in str(e):
            raise _not_a_database(database) from e
        raise
    except duckdb.IOException as e:
        err = _open_error(database, read_only, e)
        if err is not None:
            raise err from e
        raise
    except duckdb.Error as e:
        if on_disk and damagedfile.is_damage(e):
            raise DatabaseUnavailableError(damagedfile.damaged_message(database, e)) from e
        raise
    if on_disk:
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        if not path or not path[0][0]:
            con.close()
            raise _not_a_database(database)
        try:
            workfolder.spill_beside_file(con, path[0][0])
        except BaseException:
            con.close()
            raise
    from .udfowners import OPEN_ARGS

    OPEN_ARGS[con] = (database, read_only, kwargs)
    try:
        register(con, check_order=check_order)
    except BaseException as e:
        con.close()  # the caller never gets the connection, so it would keep the file open
        if on_disk and damagedfile.is_damage(e):  # the blocks of the model store are read here, after the open
            raise DatabaseUnavailableError(damagedfile.damaged_message(database, e)) from e
        raise
    return con


def _connect_again(database: str, read_only: bool, kwargs: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, for a file this process may have open already with other settings, which DuckDB refuses
    as "a different configuration than existing connections": once every connection to it is closed, ours (which
    keeps the functions, see udfowners._track) is closed too and the file opened again; else the refusal names the fix."""
    from .udfowners import open_settings, release_closed

    try:
        return duckdb.connect(database, read_only=read_only, **kwargs)
    except duckdb.ConnectionException as e:
        if "different configuration" not in str(e):
            raise
        refused = e
        if release_closed(database):
            try:
                return duckdb.connect(database, read_only=read_only, **kwargs)
            except duckdb.ConnectionException as again:  # a connection we never saw (a plain duckdb.connect) holds it
                if "different configuration" not in str(again):
                    raise
                refused = again
        held = open_settings(database)
        was = (f" (read_only={held[0]}" + "".join(f", {k}={v!r}" for k, v in held[1].items()) + ")") if held else ""
        raise DatabaseUnavailableError(
            f"Cannot open {database!r} with read_only={read_only}" + "".join(f", {k}={v!r}" for k, v in kwargs.items())
            + f": this process has it open already with other settings{was}, and DuckDB opens a file with one set of "
            "settings per process. Open it with the same settings, or close the other connections to it first "
            "(con.close()); threads share one connection through con.cursor()."
        ) from refused


def _not_a_database(database: str) -> BadInputError:
    # DuckDB opens some files (x.parquet, x.csv) as an in-memory database: models would vanish at exit.
    suffix = Path(database).suffix.lower()
    reader = ("read_csv" if suffix in (".csv", ".tsv", ".txt") else "read_json" if suffix in (".json", ".jsonl", ".ndjson")
              else "read_parquet")
    # the path as a SQL string (a quote in it doubled), then as one shell word
    source = f"{reader}({quote_literal(database)})"
    arg = shell_word(source)
    return DatabaseUnavailableError(
        f"{database!r} is not a DuckDB database file (DuckDB opens it as an in-memory database, so nothing would "
        f"be saved). Give a .duckdb file; a Parquet or CSV file is a source, e.g. ad-duckdb train warehouse.duckdb "
        f"NAME {arg}."
    )


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Make the SQL functions see models trained, imported or dropped since they were registered."""
    from .udfs import refresh as _refresh

    _refresh(con)
