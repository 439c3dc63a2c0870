"""The database file a training holds: let go while torch trains, when the training opened the connection itself.

Why: DuckDB allows one writing process per file, and a training held its connection, so the file's lock, from the
first row read to the model stored; on a shared file a colleague's ``ad-duckdb sql`` or BI query failed (or, with
``--wait``, waited) for the whole training, minutes to hours, though the training only needs the file to read its rows
at the start and to store the model at the end. A training that opened the file itself (``ad-duckdb train``,
``ad_duckdb.train("warehouse.duckdb", ...)``) closes it while the network learns and opens it again to store; one on
a connection the caller passed keeps it, as closing the caller's connection is not ours to do.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from os import PathLike
from pathlib import Path

import duckdb

from . import lockwait
from .connarg import check_connection
from .exceptions import DatabaseLockedError, OptionError

log = logging.getLogger("ad_duckdb")

# Why this long to take the file back: a colleague's query or a BI session may hold it when the training ends, and
# giving up then throws the training away; ten minutes covers a long query, not a server left attached all day.
STORE_WAIT_SECONDS = 600.0


class FileHold:
    """The training's connection ``con``; with ``reopen``, ``release`` closes it and ``take_back`` opens it again."""

    def __init__(self, con: duckdb.DuckDBPyConnection,
                 reopen: Callable[[float], duckdb.DuckDBPyConnection] | None = None, *, owned: bool = False,
                 created: str | None = None, store_wait: float = STORE_WAIT_SECONDS) -> None:
        """``reopen(wait)`` opens the file again, waiting up to ``wait`` seconds while another process holds it;
        ``owned``: ``close`` closes the connection (one the training opened from a path); ``created``: the path of
        the file it created doing so, removed again by a failed training's close; ``store_wait``: the seconds
        ``take_back`` waits (``train(path, wait=)``'s, if longer than ten minutes)."""
        self.con = con
        self.store_wait = store_wait
        self.released = False
        self.let_go = False  # whether it ever was: other processes may have written the file meanwhile
        self._reopen = reopen
        self._owned = owned
        self._created = created

    @property
    def can_release(self) -> bool:
        return self._reopen is not None

    def release(self) -> None:
        """Close the connection, letting go of the file's lock (a no-op for a connection the caller passed)."""
        if self._reopen is None or self.released:
            return
        self.con.close()
        self.released = self.let_go = True
        log.info("let go of the database file while the model trains; it is opened again to store the model")

    def take_back(self, model: str, progress: bool) -> duckdb.DuckDBPyConnection:
        """The connection, opened again if ``release`` closed it, waiting up to ``store_wait`` seconds for a process
        that holds the file; ``progress``: say so on stderr when it waits (the training's progress lines)."""
        if not self.released:
            return self.con
        assert self._reopen is not None
        reopen, said = self._reopen, False

        def attempt(wait: float) -> duckdb.DuckDBPyConnection:
            nonlocal said
            try:
                return reopen(wait)
            except DatabaseLockedError:
                if progress and not said and wait == 0:
                    print(f"training {model}: trained; another process holds the database file, waiting up to "
                          f"{self.store_wait:g}s for it to store the model", file=sys.stderr, flush=True)
                    said = True
                raise

        try:
            try:  # once at once, so that the wait is said before it starts
                self.con = attempt(0)
            except DatabaseLockedError:
                self.con = attempt(self.store_wait)
        except DatabaseLockedError as e:
            # Why said so: the training's work is lost, and the error alone read as a failure to start
            raise DatabaseLockedError(
                f"Model {model!r} was trained but not stored: the database file was let go while it trained, and "
                f"another process held it when the model was to be stored. Nothing was stored; train it again once "
                f"the file is free. {e}") from e
        self.released = False
        return self.con

    def close(self, failed: bool = False) -> None:
        """Close a connection the training opened; ``failed``: remove the file too if the training created it.

        Why removed: a mistyped path would otherwise leave an empty database behind, as ``ad-duckdb train`` avoids."""
        if not self._owned:
            return
        self.con.close()
        # one let go while the model trained may hold what another process wrote meanwhile: removed only if empty
        if failed and self._created is not None and (not self.let_go or still_empty(self._created)):
            for path in (Path(self._created), Path(f"{self._created}.wal")):
                path.unlink(missing_ok=True)
            self._created = None


def hold(con: object, func: str, wait: float | None = None) -> FileHold:
    """The hold of ``func``'s first argument: a path is opened here (and let go while training), a connection kept.
    ``wait``: ``func``'s ``wait=``, seconds to wait for a path's file at this open and (if longer than ten minutes)
    to take it back; for a connection it is refused, as the file is opened already."""
    if isinstance(con, FileHold):  # the command line's, which waits with its own --wait
        return con
    if isinstance(con, str | PathLike) and os.fspath(con) not in ("", ":memory:"):
        from .opendb import connect

        path = os.fspath(con)
        missing = not Path(path).exists()

        def reopen(wait: float) -> duckdb.DuckDBPyConnection:
            return lockwait.retry_while_locked(lambda: connect(path, wait=0), wait, waited_with="train's wait to store",
                                               how_to_wait="")

        seconds = lockwait.seconds(wait)
        first = lockwait.retry_while_locked(
            lambda: connect(path, wait=0), seconds, waited_with=f"wait={seconds:g}",
            how_to_wait=f"ad_duckdb.{func}(..., wait=SECONDS) waits for the file to be free (ad-duckdb --wait SECONDS "
                        "from the command line).")
        return FileHold(first, reopen, owned=True, created=path if missing else None,
                        store_wait=max(STORE_WAIT_SECONDS, seconds))
    if wait is not None:
        lockwait.seconds(wait)  # a bad value is said as such first
        raise OptionError(f"{func}: wait= waits for a database file {func} opens itself, given its path; a connection "
                          f"you opened holds the file already. Open it waiting instead: ad_duckdb.connect(path, "
                          f"wait={wait!r}), or pass the path to {func}.")
    return FileHold(check_connection(con, func))


def still_empty(db: str) -> bool:
    """Whether DB has no table or view, read now (False when it cannot be read: another process holds it)."""
    try:
        with duckdb.connect(db, read_only=True) as con:
            return holds_nothing(con)
    except duckdb.Error:
        return False


def holds_nothing(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database ``con`` opened has no table or view of its own."""
    return con.execute("SELECT (SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()) "
                       "+ (SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() "
                       "AND NOT internal)").fetchall()[0][0] == 0
