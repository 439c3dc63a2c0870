"""A session's transactions as PostgreSQL's: BEGIN with its modes, SET TRANSACTION and the session's default modes
(READ ONLY, the isolation level), savepoints as far as DuckDB can say them, the extended protocol's implicit
transaction ended at Sync, COPY FROM STDIN's own transaction, and what a transaction's end closes or undoes
(``end_of_transaction``).

Free functions over the session's state (``pgstate.SessionState``), which ``pgsession.Session`` and ``server`` call.
Like the other ``pg*`` helpers, this module never imports ``server`` and speaks no wire protocol.
"""

from __future__ import annotations

import logging
import re

import duckdb

from . import servedwrites
from .pgcommands import (
    BEGIN_MODES_RE,
    BEGIN_RE,
    READ_ONLY_SET_RE,
    SET_TRANSACTION_RE,
    isolation_level,
    read_only_setting,
    transaction_modes,
)
from .pgerrors import ProtocolError, in_failed_transaction
from .pgobjects import catalog_end
from .pgresult import Result
from .pgsettings import end_settings, set_setting
from .pgstate import SessionState

# The server's logger, not one of this module's own: what a session logs (a failed COPY rolled back) reads as the
# server's, and the one logging setting of `ad-duckdb serve` covers it.
log = logging.getLogger("ad_duckdb.server")


def begin(s: SessionState, sql: str) -> Result | str | None:
    """BEGIN / START TRANSACTION with PostgreSQL's modes: DuckDB's BEGIN to run, or PostgreSQL's warning inside a
    block; None for any other statement."""
    if not BEGIN_RE.match(sql):
        return None
    # DuckDB's BEGIN takes no isolation / read-only options; its own is serializable
    b = BEGIN_MODES_RE.match(sql)
    read_only = transaction_modes(b.group("modes")) if b is not None else None
    if s.status == b"I":
        s.read_only_txn = read_only
        s.isolation_txn = isolation_level(b.group("modes")) if b is not None else None
    elif s.status == b"T" and not s.implicit and not s.batch:
        # PostgreSQL warns and goes on in the open block; DuckDB's refusal failed the client's transaction
        s.notices.append(("there is already a transaction in progress", "25001", "WARNING"))
        return Result("BEGIN")
    return begin_sql(s)


def savepoint(s: SessionState, m: re.Match[str]) -> Result:
    """SAVEPOINT / RELEASE / ROLLBACK TO (``m``: pgcommands.SAVEPOINT_RE's match)."""
    # DuckDB has no savepoints. Drivers (psycopg's nested transaction()) set one around catalogue
    # lookups; that is harmless as long as nothing failed. After a failure there is nothing to go
    # back to, so say so instead of pretending.
    verb = m.group(1).upper()
    if verb.startswith("ROLLBACK") and s.status == b"E":
        raise ProtocolError("Savepoints are not supported (DuckDB has none); the transaction failed, "
                            "ROLLBACK it and start again.", "0A000")
    return Result("ROLLBACK" if verb.startswith("ROLLBACK") else verb)


def begin_sql(s: SessionState) -> str:
    """DuckDB's BEGIN of the transaction now starting. Why DuckDB's READ ONLY too: it refuses what the statement's
    type does not show (an EXECUTE of an SQL PREPARE, a write by a function), while temporary objects (the
    session's catalogue) stay writable, as in PostgreSQL."""
    if s.status == b"I":  # (a BEGIN inside a block begins nothing: PostgreSQL warns, DuckDB refuses it)
        s.duck_read_only, s.queried = s.txn_read_only(), False
    return "BEGIN TRANSACTION READ ONLY" if s.txn_read_only() else "BEGIN"


def change_access_mode(s: SessionState, read_only: bool) -> None:
    """SET TRANSACTION READ ONLY / READ WRITE inside a transaction, as PostgreSQL takes it: READ WRITE only before
    the transaction's first query (25001 after it); before one DuckDB's transaction starts again in the mode
    asked, as nothing ran in it, so DuckDB refuses what the mode refuses (and writes temporary tables in READ
    ONLY). Why: BEGIN READ ONLY; SET TRANSACTION READ WRITE said SET while DuckDB's transaction stayed read-only."""
    if not read_only and s.txn_read_only() and s.queried:
        raise ProtocolError("transaction read-write mode must be set before any query", "25001")
    s.read_only_txn = read_only
    if s.in_duckdb_transaction() and not s.queried and s.duck_read_only != read_only:
        s.release()  # a WITH HOLD cursor's unread rows would be lost to the ROLLBACK on this cursor
        s.cur.execute("ROLLBACK")
        s.cur.execute("BEGIN TRANSACTION READ ONLY" if read_only else "BEGIN")
        s.duck_read_only = read_only


def change_isolation(s: SessionState, level: str) -> None:
    """SET TRANSACTION ISOLATION LEVEL inside a transaction, as PostgreSQL takes it: another level than the
    transaction's only before its first query (25001 after it). Why: it said SET after a query, as if the
    transaction had changed level mid-way, which PostgreSQL never lets happen."""
    if s.queried and level != (s.isolation_txn or s.isolation_default):
        raise ProtocolError("SET TRANSACTION ISOLATION LEVEL must be called before any query", "25001")
    s.isolation_txn = level


def transaction_mode(s: SessionState, sql: str) -> Result | None:
    """SET TRANSACTION, SET SESSION CHARACTERISTICS AS TRANSACTION and SET [default_]transaction_read_only, as
    PostgreSQL takes them; None for any other statement. Outside a transaction block SET TRANSACTION does nothing
    (PostgreSQL's WARNING, 25P01)."""
    t = SET_TRANSACTION_RE.match(sql)
    r = READ_ONLY_SET_RE.match(sql) if t is None else None
    if t is None and r is None:
        return None
    try:
        if t is not None and t.group("modes").lower().startswith("snapshot"):
            raise ProtocolError("SET TRANSACTION SNAPSHOT is not supported: DuckDB cannot share a snapshot "
                                "between sessions.", "0A000")
        read_only = transaction_modes(t.group("modes")) if t is not None else \
            read_only_setting(r.group("value")) if r is not None else None
        if s.status == b"E":
            raise in_failed_transaction()
        default = t is not None and t.group(1) is not None or r is not None and bool(r.group("default"))
        level = isolation_level(t.group("modes")) if t is not None else None
        if not default and not s.outside() and level is not None:
            change_isolation(s, level)
        if not default and not s.outside() and read_only is not None:
            change_access_mode(s, read_only)
    except ProtocolError:
        if s.status == b"T":
            s.status = b"E"  # as any error in a transaction block
        raise
    if default:
        if read_only is not None:
            set_setting(s, "read_only_default", read_only, r is not None and bool(r.group("local")))
        if level is not None:
            set_setting(s, "isolation_default", level)
    elif s.outside():
        s.notices.append(("SET TRANSACTION can only be used in transaction blocks", "25P01", "WARNING"))
    return Result("SET")


def sync(s: SessionState) -> None:
    """Sync: commit the implicit transaction, or roll it back after an error (``failed``)."""
    failed, s.implicit_failed, s.unsynced = s.implicit_failed, False, False
    try:
        if s.implicit:
            s.implicit = False
            if not failed and s.cursors.holds(s.live):
                try:
                    s.release()  # a WITH HOLD cursor outlives the COMMIT, its rows held in memory
                except ProtocolError:
                    pass  # too many: the cursor's next FETCH says so; the COMMIT itself goes ahead
            s.live = None
            if not failed:
                try:
                    if s.terminated:
                        # the stop (or pg_terminate_backend) came as the last statement ran, which it did not reach:
                        # a session that ends commits nothing more
                        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
                    s.on_commit.commit(s.cur)
                except BaseException:
                    failed = True
                    s.cur.execute("ROLLBACK")
                    raise
            try:
                s.cur.execute("ROLLBACK" if failed else "COMMIT")
            except BaseException:
                failed = True  # a COMMIT that fails keeps nothing: end_of_transaction must not think otherwise
                raise
    finally:
        if s.status == b"I":
            end_of_transaction(s, committed=not failed)  # Sync ends the implicit transaction and its portals


def end_of_transaction(s: SessionState, committed: bool = True) -> None:
    """Portals end with their transaction, as in PostgreSQL (so their unread rows are never buffered), and so
    do cursors without HOLD and a SET LOCAL statement_timeout."""
    s.end_cursors(committed)
    catalog_end(s, committed)
    if not s.cursors.holds(s.live):
        s.live = None  # a WITH HOLD cursor declared outside a transaction still streams
    s.portals.clear()
    end_settings(s, committed)
    s.on_commit.ended(committed)
    servedwrites.ended(s, committed)


def copy_begin(s: SessionState, extended: bool) -> bool:
    """COPY FROM STDIN loads all rows or none: in the client's transaction block (or the extended protocol's
    implicit transaction, which it opens as any statement would), else in a transaction of its own (True)."""
    s.release()
    if s.status != b"I" or s.batch or s.implicit:
        return False
    s.cur.execute("BEGIN")
    if extended:
        s.implicit = True  # committed at Sync, as PostgreSQL does
        return False
    return True


def copy_end(s: SessionState, own: bool, ok: bool) -> None:
    """The COPY ended: commit or roll back its own transaction; a failure fails the client's."""
    if own and ok:
        s.cur.execute("COMMIT")
    elif own:
        try:
            s.cur.execute("ROLLBACK")
        except duckdb.Error as e:  # the COPY's own error is the one the client needs
            log.warning("rolling back a failed COPY FROM STDIN: %s", e)
    elif not ok and s.status == b"T":
        s.status = b"E"
