"""``ad-duckdb serve``: a DuckDB database, with the anomaly functions, over the PostgreSQL wire protocol.

BI tools (Superset, Metabase, Tableau), psql, psycopg and SQLAlchemy connect as to PostgreSQL and run
``SELECT anomaly_score('tx_ae', count, amount) FROM transactions`` live. A Python UDF exists only in the
process that registered it, so the server is that process.

Why a small server of our own rather than buenavista 0.5.0 (the one PostgreSQL-wire library that installs
here): its DuckDB backend calls ``fetch_record_batch()``, removed in DuckDB 2.0, and replacing that means
overriding ``DuckDBSession.execute_sql`` whole (it is not an extension point). That method also decides
transaction state by substring (any query containing "begin" starts one), drops unknown ``SET`` statements
silently, and its errors carry no SQLSTATE. The protocol subset BI clients need fits in this module and small
ones beside it: ``pgtypes`` (type OIDs, values in and out), ``pgsql`` (recognising, splitting and rewriting SQL
text), ``pgcatalog`` (the catalogue views and macros of each session), ``pgcursors`` (DECLARE / FETCH / CLOSE),
``pgcopy`` (COPY ... TO STDOUT, and FROM STDIN's options), ``pgcopyin`` (reading COPY ... FROM STDIN's data into
DuckDB) and ``pgerrors`` (``ProtocolError``, SQLSTATEs). This module owns the sessions, the
sockets and the messages; the others never import it.

Security is DuckDB's, not ours: the file is opened read-only (unless ``--read-write``), and after the
functions are registered the server runs ``SET enable_external_access = false`` (no file, network,
ATTACH, COPY TO or extension access) and ``SET lock_configuration = true`` (no client can undo it).
No SQL text is filtered; the few rewrites (``pgsql``) only answer PostgreSQL catalogue chatter DuckDB lacks.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import select
import shutil
import signal
import socket
import socketserver
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import duckdb

from .pgcatalog import SESSION_OBJECTS, SESSION_SQL, needs_catalog, session_sql
from .pgcopy import CopyIn, CopyOut
from .pgcopy import parse as parse_copy
from .pgcopyin import Loader
from .pgcursors import MAX_SCROLL_ROWS, Close, Cursor, Cursors, Declare, Fetch, quoted
from .pgcursors import parse as parse_cursor
from .pgerrors import ProtocolError, sqlstate
from .pgsql import (
    BEGIN_RE,
    DEALLOCATE_RE,
    DISCARD_RE,
    SAVEPOINT_RE,
    SET_RE,
    SET_SCOPE,
    SHOW_RE,
    TIMEOUT_RE,
    TIMEZONE_RE,
    TXN_WORD,
    VERSION_RE,
    catalog_rewrites,
    keyword_tag,
    parameter_casts,
    split_statements,
    startup_timeout,
    timeout_ms,
    typed_parameters,
    unsupported,
)
from .pgtypes import MAX_IDENTIFIER_LENGTH, as_told, decode_param, encode_binary, encode_text, type_of
from .sqltext import quote_ident
from .udfs import refresh as refresh_functions
from .udfs import register

log = logging.getLogger("ad_duckdb.server")

PASSWORD_ENV = "AD_DUCKDB_SERVER_PASSWORD"
# What clients see as the PostgreSQL version: libpq and SQLAlchemy parse "major.minor" from it.
PG_VERSION = "15.0"

_SSL_REQUEST, _GSS_REQUEST, _CANCEL_REQUEST, _PROTOCOL_3 = 80877103, 80877104, 80877102, 196608
# PostgreSQL's authentication_timeout: a client that has not finished its startup (and password) by then is
# disconnected, so connections that never get that far cannot hold the server's threads.
AUTH_TIMEOUT = 60.0
# How often running statements are checked for a client that has gone (PGServer.watch_clients).
CLIENT_CHECK_INTERVAL = 1.0
# Every message type a client may send (PostgreSQL's frontend messages); any other ends the connection.
_FRONTEND_KINDS = frozenset(bytes([c]) for c in b"QPBDECSHXFdcf")
_MAX_MESSAGE = (1 << 30) - 1  # the longest message PostgreSQL reads (PQ_LARGE_MESSAGE_LIMIT)
# The longest password message read before the client has proved anything (PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH).
_MAX_PASSWORD_MESSAGE = 65535

# Answers to `SHOW name` for PostgreSQL settings DuckDB does not have (SQLAlchemy asks on connect).
_PG_SHOW = {
    "standard_conforming_strings": "on", "transaction isolation level": "serializable",
    "transaction_isolation": "serializable", "server_version": PG_VERSION, "server_encoding": "UTF8",
    "client_encoding": "UTF8", "datestyle": "ISO, MDY", "intervalstyle": "postgres", "integer_datetimes": "on",
    "max_identifier_length": str(MAX_IDENTIFIER_LENGTH), "lc_collate": "C", "lc_ctype": "C",
    "extra_float_digits": "3", "application_name": "", "is_superuser": "off",
    "server_version_num": str(int(PG_VERSION.split(".")[0]) * 10000 + int(PG_VERSION.split(".")[1])),
}
# SHOW names whose answer is whether the server may change its database (Session.read_only).
_READ_ONLY_SHOW = {"transaction_read_only", "default_transaction_read_only"}
# PostgreSQL-only session settings clients SET on connect; DuckDB has no such option, so SET is a no-op.
_PG_ONLY_SETTINGS = {
    "application_name", "client_encoding", "datestyle", "intervalstyle", "extra_float_digits",
    "lock_timeout", "idle_in_transaction_session_timeout", "client_min_messages", "standard_conforming_strings",
    "bytea_output", "jit", "default_transaction_isolation", "default_transaction_read_only", "session characteristics",
}
# What DISCARD drops, by the kind its catalogue query names (a fixed word each, never the query's text).
_TEMP_KINDS = {"TABLE": "TABLE", "VIEW": "VIEW", "SEQUENCE": "SEQUENCE", "MACRO": "MACRO", "MACRO TABLE": "MACRO TABLE"}


# ---------------------------------------------------------------- one statement's result


@dataclass
class Result:
    """Columns (name, oid, size), a row iterator, and the command tag for CommandComplete."""

    tag: str
    columns: list[tuple[str, int, int]] | None = None
    rows: Iterator[tuple[Any, ...]] = field(default_factory=lambda: iter(()))
    sent: int = 0
    copy: CopyOut | None = None  # COPY ... TO STDOUT: the rows go out as CopyData lines, not DataRows
    copy_in: Loader | None = None  # COPY ... FROM STDIN: the client sends CopyData, loaded into the table
    binary: bool = False  # FETCH from a BINARY cursor: binary columns also in the simple query protocol
    label: str = ""  # what the client calls this result (a cursor's name), for errors about it

    @classmethod
    def constant(cls, name: str, value: str) -> Result:
        return cls("SHOW", [(name, 25, -1)], iter([(value,)]))


# PostgreSQL's own text, which clients and tools recognise (SQLSTATE 57014, query_canceled).
TIMEOUT_MESSAGE = "canceling statement due to statement timeout"

# Rows of a paged result read into memory so another statement can run (Session.release); beyond this, refuse.
# One bound with a SCROLL cursor's kept rows, which release counts against it (so never below them).
MAX_BUFFERED_ROWS = MAX_SCROLL_ROWS


def _declares_hold(sql: str) -> bool:
    try:
        cmd = parse_cursor(sql)
    except ProtocolError:
        return False
    return isinstance(cmd, Declare) and cmd.hold


def _raising(e: BaseException) -> Iterator[tuple[Any, ...]]:
    raise e
    yield ()  # a generator: the error surfaces when the rows are read


def _same_zone(cur: duckdb.DuckDBPyConnection, a: str, b: str) -> bool:
    """Whether zones ``a`` and ``b`` agree (UTC and Etc/UTC, say): the same offsets in winter and in summer."""
    try:
        q = ("SELECT list(timezone(z, TIMESTAMPTZ '2026-01-15 12:00:00+00') = timezone(?, TIMESTAMPTZ '2026-01-15 "
             "12:00:00+00') AND timezone(z, TIMESTAMPTZ '2026-07-15 12:00:00+00') = timezone(?, TIMESTAMPTZ "
             "'2026-07-15 12:00:00+00')) FROM (SELECT ? AS z)")
        return bool(cur.execute(q, [b, b, a]).fetchall()[0][0][0])
    except duckdb.Error:
        return False


class Session:
    """One client's state: its DuckDB cursor, prepared statements, portals and transaction status."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, catalog_sql: tuple[str, ...] = SESSION_SQL,
                 read_only: bool = True) -> None:
        self.cur = cur
        self.read_only = read_only  # the server's database: SHOW transaction_read_only says so
        self.catalog_sql = catalog_sql  # SESSION_SQL as this database's server fills it in (Backend.catalog_sql)
        # The catalogue objects (pgcatalog.SESSION_SQL) are created on the first statement that names one
        # (Session.catalog): a session that never reads the catalogue saves the ~20 ms DuckDB spends binding them.
        # Created inside a transaction, they last only if it commits (DuckDB's catalogue is transactional).
        self.has_catalog = False
        self.catalog_in_transaction = False  # created in the transaction still open: gone if it rolls back
        self.status = b"I"  # ReadyForQuery: I idle, T in a transaction, E failed transaction
        self.statements: dict[str, tuple[str, list[int]]] = {}
        self.portals: dict[str, Portal] = {}
        self.live: Result | None = None  # the result still reading from the cursor (a suspended portal, an SQL cursor)
        self.cursors = Cursors()  # DECLAREd cursors (pgcursors); each reads its own result, like a portal
        self.batch = False  # a multi-statement Query runs as one implicit transaction (run)
        self.busy = False  # a statement runs or its rows are being sent (what a CancelRequest may interrupt)
        self.implicit = False  # the extended protocol's implicit transaction, open until Sync
        self.implicit_failed = False
        self.described: dict[str, list[tuple[str, int, int]] | None] = {}  # each statement's Describe answer
        # statement_timeout (SET, or the startup options): each message that runs SQL gets this long; 0 is none
        self.timeout_ms = 0
        self.timeout_default = 0  # the connection's own (startup options): what RESET and DISCARD ALL go back to
        self.timeout_outer: int | None = None  # the value before a SET LOCAL, restored when the transaction ends
        self.deadline: float | None = None  # when the message now running times out (time.monotonic())
        self.timed_out = False  # the timer interrupted it: the InterruptException is a timeout, not a cancel
        self.timer_lock = threading.Lock()
        self.cancel_requested = False  # a CancelRequest while COPY FROM STDIN waits for the client's data

    def _rows(self, r: Result) -> Iterator[tuple[Any, ...]]:
        """The cursor's rows; an error while they are read fails the transaction, as one at execute does."""
        try:
            while True:
                if self.deadline is not None and time.monotonic() > self.deadline:
                    # the timer's interrupt lands only while DuckDB runs; rows still being sent stop here
                    self.timed_out = True
                    raise ProtocolError(TIMEOUT_MESSAGE, "57014")
                chunk = self.cur.fetchmany(1024)
                if not chunk:
                    return
                yield from chunk
        except (duckdb.Error, ProtocolError):
            if self.status == b"T":
                self.status = b"E"
            raise
        finally:
            if self.live is r:
                self.live = None

    def release(self) -> None:
        """Read the rest of a suspended result into memory, before the cursor runs another statement.

        Why: a cursor holds one result, and executing the next statement discards the unread rows of the
        previous one. JDBC with a fetch size reads a result page by page and may run other queries between
        pages, and so may a client between the FETCHes of an SQL cursor; each page must still come back whole.
        This is the one rule for both (and for a WITH HOLD cursor at COMMIT, which PostgreSQL also keeps).
        """
        r, self.live = self.live, None
        if r is None:
            return
        rest = []
        kept = self.cursors.kept(r)  # a SCROLL cursor's kept rows count too
        limit = MAX_BUFFERED_ROWS - kept
        try:
            for row in r.rows:
                rest.append(row)
                if len(rest) > limit:
                    break
        except duckdb.Error as e:
            r.rows = _raising(e)  # the portal's next Execute reports it
            return
        if len(rest) > limit:
            # Too many to hold: the open result is given up (its next page is an error, never a gap) and so is
            # the transaction, as PostgreSQL would after an error.
            what = f" ({r.label})" if r.label else ""
            besides = (f" besides the {kept:,} its SCROLL cursor keeps, more than the {MAX_BUFFERED_ROWS:,} rows the "
                       "server holds of one result:" if kept else ",")
            e = ProtocolError(
                f"A result left open between pages{what} has more than {limit:,} unread rows{besides} too many to "
                "hold while another statement runs on this connection (or past COMMIT, for a WITH HOLD cursor); read "
                "it to the end (or close it) first, or run the other statement on another connection.", "54000")
            r.rows = _raising(e)
            if self.status == b"T":
                self.status = b"E"
            raise e
        r.rows = iter(rest)

    def forget(self, r: Result | None) -> None:
        """A portal was closed: its unread rows are never needed (not even read into memory)."""
        if r is not None and r is self.live:
            self.live = None

    def compat(self, sql: str, params: list[Any] | None = None) -> Result | str:
        """Answer PostgreSQL-only chatter DuckDB does not understand; otherwise the SQL to run."""
        if VERSION_RE.match(sql):
            import ad_duckdb

            return Result("SELECT", [("version", 25, -1)], iter([(
                f"PostgreSQL {PG_VERSION} (ad_duckdb {ad_duckdb.__version__} on DuckDB {duckdb.__version__})",)]))
        m = TIMEOUT_RE.match(sql)
        if m:
            # Enforced by the server (Handler.loop), unlike the PostgreSQL-only settings accepted as no-ops below.
            local, value = m.group(1), m.group(2)
            default = value is None or value.strip().strip("'\"").strip().lower() == "default"
            ms = self.timeout_default if default else timeout_ms(value)
            if local:
                # PostgreSQL: for the rest of the transaction only, and nothing outside one (it warns)
                if self.status != b"I" or self.implicit:
                    if self.timeout_outer is None:
                        self.timeout_outer = self.timeout_ms
                    self.timeout_ms = ms
            else:
                self.timeout_ms, self.timeout_outer = ms, None  # a session value outlives the transaction
            return Result("SET" if sql.lstrip()[:3].lower() == "set" else "RESET")
        m = SHOW_RE.match(sql)
        if m and " ".join(m.group(1).lower().split()) == "statement_timeout":
            ms = self.timeout_ms
            return Result.constant("statement_timeout", f"{ms // 1000}s" if ms and not ms % 1000 else f"{ms}ms" if ms else "0")
        if m and " ".join(m.group(1).lower().split()) in _READ_ONLY_SHOW:
            # Why not a fixed "off": a tool that asks before offering to edit rows (DBeaver, Metabase) then tries
            # writes a read-only server refuses
            return Result.constant(m.group(1).strip().lower(), "on" if self.read_only else "off")
        if m and " ".join(m.group(1).lower().split()) in _PG_SHOW:
            key = " ".join(m.group(1).lower().split())
            return Result.constant(key.replace(" ", "_"), _PG_SHOW[key])
        m = SET_RE.match(sql)
        if m and SET_SCOPE.sub("", " ".join(m.group(1).lower().split())) in _PG_ONLY_SETTINGS:
            return Result("SET")
        if BEGIN_RE.match(sql):
            return "BEGIN"  # DuckDB's BEGIN takes no isolation / read-only options; its own is serializable
        m = SAVEPOINT_RE.match(sql)
        if m:
            # DuckDB has no savepoints. Drivers (psycopg's nested transaction()) set one around catalogue
            # lookups; that is harmless as long as nothing failed. After a failure there is nothing to go
            # back to, so say so instead of pretending.
            verb = m.group(1).upper()
            if verb.startswith("ROLLBACK") and self.status == b"E":
                raise ProtocolError("Savepoints are not supported (DuckDB has none); the transaction failed, "
                                    "ROLLBACK it and start again.", "0A000")
            return Result("ROLLBACK" if verb.startswith("ROLLBACK") else verb)
        m = TIMEZONE_RE.match(sql)
        if m:
            # The time zone is part of the locked configuration; asking for the one in force is fine (Metabase does).
            self.release()
            zone = self.cur.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
            asked = m.group(1).strip()
            if asked.lower() not in (zone.lower(), "default", "local") and not _same_zone(self.cur, asked, zone):
                raise ProtocolError(f"The server's time zone is {zone!r} and cannot be changed per session; start "
                                    f"the server with TZ={m.group(1).strip()} in its environment, or convert in SQL "
                                    "(timezone('...', ts)).", "0A000")
            return Result("SET")
        m = DISCARD_RE.match(sql)
        if m:
            what = m.group(1).upper().replace("TEMPORARY", "TEMP")
            if what == "ALL" and self.status != b"I":
                raise ProtocolError("DISCARD ALL cannot run inside a transaction block", "25001")
            if what in ("ALL", "PLANS"):
                self.statements.clear()  # what a pooler needs: no prepared statement survives
                self.described.clear()
            if what == "ALL":
                self.timeout_ms, self.timeout_outer = self.timeout_default, None  # nor the last user's timeout
                self.close_cursors(None)  # as PostgreSQL's DISCARD ALL: CLOSE ALL
            if what in ("ALL", "TEMP"):
                self.release()
                # the previous user's temporary tables and views must not reach the next one (our macros stay)
                for name, kind in self.cur.execute(
                        "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary UNION ALL "
                        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND NOT internal UNION ALL "
                        "SELECT sequence_name, 'SEQUENCE' FROM duckdb_sequences() WHERE temporary UNION ALL "
                        "SELECT DISTINCT function_name, CASE function_type WHEN 'table_macro' THEN 'MACRO TABLE' "
                        "ELSE 'MACRO' END FROM duckdb_functions() WHERE database_name = 'temp' AND NOT internal "
                        "AND function_type IN ('macro', 'table_macro')").fetchall():
                    if SESSION_OBJECTS.get(name) == kind:
                        continue
                    self.cur.execute(f"DROP {_TEMP_KINDS[kind]} IF EXISTS temp.main.{quote_ident(name)}")
                # ours stay, but the last user may have replaced one (CREATE OR REPLACE TEMP VIEW pg_class ...): the
                # next statement that reads the catalogue creates them all again, as a new connection's would
                self.has_catalog = self.catalog_in_transaction = False
            return Result(f"DISCARD {what}")
        m = DEALLOCATE_RE.match(sql)
        if m:
            # Prepared statements live in this server's session (the protocol's Parse), not in DuckDB.
            name = m.group(1).strip('"')
            if name.upper() == "ALL":
                self.statements.clear()
            else:
                self.statements.pop(name, None)
            return Result("DEALLOCATE")
        served = self.cursor_statement(sql, params)
        if served is not None:
            return served
        err = unsupported(sql)
        if err is not None:
            if self.status == b"T":
                self.status = b"E"  # a refused statement fails the transaction, as any error does
            raise err
        # Catalogue lookups as psycopg and psql send them: DuckDB has no regtype type and no pg_catalog."default"
        # collation; to_regtype, pg_get_userbyid, ... are session macros (SESSION_SQL); pg_cursors is this session's.
        sql = catalog_rewrites(self.cursors.catalog(sql))
        if not self.has_catalog and self.status != b"E" and needs_catalog(sql):
            self.catalog()  # (a failed transaction refuses the statement anyway, _one)
        return sql

    def catalog(self) -> None:
        """Create this session's catalogue views and macros (pgcatalog.SESSION_SQL), once."""
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        try:
            for q in self.catalog_sql:
                self.cur.execute(q)
        except BaseException:
            # Part of it may exist (CREATE OR REPLACE makes a retry safe); in a transaction block the failure fails
            # the transaction, as the statement's own error would.
            if self.status == b"T":
                self.status = b"E"
            raise
        self.has_catalog = True
        self.catalog_in_transaction = self.status != b"I" or self.implicit or self.batch

    def catalog_end(self, committed: bool) -> None:
        """The transaction ended: a catalogue created inside it is gone unless it committed."""
        if self.catalog_in_transaction:
            self.has_catalog, self.catalog_in_transaction = committed, False

    def run(self, sql: str, params: list[Any] | None = None) -> Iterator[Result]:
        """Execute the statements of ``sql`` one by one; each result must be read before the next runs."""
        try:
            parts = [st.query for st in duckdb.extract_statements(sql)]
        except duckdb.Error:
            # PostgreSQL-only syntax DuckDB cannot parse (BEGIN ISOLATION LEVEL ...): split at the semicolons
            # DuckDB's tokenizer sees (not those in strings or comments); compat answers those parts.
            parts = split_statements(sql)
        # As PostgreSQL does, several statements outside a transaction run as one: an error part-way keeps
        # none of the earlier writes (unless the text itself manages transactions).
        # A WITH HOLD cursor declared in such a batch (psqlODBC sends DECLARE ... WITH HOLD; FETCH in one Query)
        # would have to be read into memory at the batch's COMMIT; without the batch transaction it streams.
        implicit = (len(parts) > 1 and self.status == b"I"
                    and not any(TXN_WORD.match(p) or _declares_hold(p) for p in parts))
        if implicit:
            self.release()
            self.cur.execute("BEGIN")
            self.batch = True
        try:
            # Each statement on its own: a PostgreSQL-only SET first must not swallow the statements after it.
            for part in parts or [sql]:
                c = self.compat(part, params if len(parts) == 1 else None)
                if isinstance(c, Result):
                    yield c
                    continue
                stmts = duckdb.extract_statements(c)
                for st in stmts:
                    yield self._one(st, params if len(parts) == 1 and len(stmts) == 1 else None)
        except BaseException:
            if implicit:
                self.batch = False
                self.end_cursors(committed=False)
                self.catalog_end(committed=False)
                self.cur.execute("ROLLBACK")
            raise
        if implicit:
            self.batch = False
            self.end_cursors(committed=True)  # cursors declared in the batch end with it, as in PostgreSQL
            self.cur.execute("COMMIT")
            self.catalog_end(committed=True)

    def run_one(self, sql: str, params: list[Any] | None) -> Result:
        """Execute one prepared statement (the extended protocol allows exactly one)."""
        c = self.compat(sql, params)
        if isinstance(c, Result):
            return c
        stmts = duckdb.extract_statements(c)
        if len(stmts) != 1:
            raise ProtocolError("cannot insert multiple commands into a prepared statement", "42601")
        st = stmts[0]
        if st.type.name == "TRANSACTION" and self.implicit:
            # BEGIN inside the implicit transaction makes it explicit (it is open already); COMMIT / ROLLBACK end it
            self.implicit = False
            if keyword_tag(st.query) in ("BEGIN", "START"):
                self.status = b"T"
                return Result("BEGIN")
            self.status = b"T"  # so _one runs this COMMIT / ROLLBACK on the open transaction
        elif self.status == b"I" and not self.implicit and st.type.name != "TRANSACTION":
            # As in PostgreSQL, the statements up to Sync form one transaction: a batch (JDBC's executeBatch,
            # psycopg's executemany) that fails part-way keeps none of its writes.
            self.release()
            self.cur.execute("BEGIN")
            self.implicit = True
        return self._one(st, params)

    def sync(self) -> None:
        """Sync: commit the implicit transaction, or roll it back after an error (``failed``)."""
        failed, self.implicit_failed = self.implicit_failed, False
        try:
            if self.implicit:
                self.implicit = False
                if not failed and self.cursors.holds(self.live):
                    try:
                        self.release()  # a WITH HOLD cursor outlives the COMMIT, its rows held in memory
                    except ProtocolError:
                        pass  # too many: the cursor's next FETCH says so; the COMMIT itself goes ahead
                self.live = None
                try:
                    self.cur.execute("ROLLBACK" if failed else "COMMIT")
                except BaseException:
                    failed = True  # a COMMIT that fails keeps nothing: end_of_transaction must not think otherwise
                    raise
        finally:
            if self.status == b"I":
                self.end_of_transaction(committed=not failed)  # Sync ends the implicit transaction and its portals

    def _one(self, st: Any, params: list[Any] | None) -> Result:
        query = st.query
        kind = st.type.name
        head = keyword_tag(query)
        if kind == "TRANSACTION" and head in ("COMMIT", "END") and self.status == b"E":
            query, head = "ROLLBACK", "ROLLBACK"  # PostgreSQL turns COMMIT of a failed transaction into ROLLBACK
        if kind == "TRANSACTION" and head in ("COMMIT", "END", "ROLLBACK", "ABORT") and self.status == b"I" \
                and not self.implicit:
            return Result("ROLLBACK" if head in ("ROLLBACK", "ABORT") else "COMMIT")  # PostgreSQL only warns
        if self.status == b"E" and kind != "TRANSACTION":
            # DuckDB's transaction fails only on DuckDB's errors; after one of ours (a refused statement, a timeout
            # while rows were sent) it would still run statements the client must not rely on
            raise ProtocolError("current transaction is aborted, commands ignored until end of transaction block",
                                "25P02")
        try:
            if kind == "TRANSACTION" and head in ("COMMIT", "END") and self.cursors.holds(self.live):
                self.release()  # a WITH HOLD cursor outlives the COMMIT: its rows held in memory, as PostgreSQL does
            elif kind == "TRANSACTION" and head not in ("BEGIN", "START"):
                self.live = None  # the transaction's end closes its open results: nothing to read ahead
            else:
                self.release()
            self.cur.execute(query, params) if params else self.cur.execute(query)
        except (duckdb.Error, ProtocolError):
            if self.status == b"T":
                self.status = b"E"
            raise
        if kind == "TRANSACTION":
            self.status = b"T" if head in ("BEGIN", "START") else b"I"
            if self.status == b"I":
                self.end_of_transaction(committed=head in ("COMMIT", "END"))
            return Result({"END": "COMMIT", "ABORT": "ROLLBACK"}.get(head, head))  # PostgreSQL's tags
        desc = self.cur.description
        if desc is None:
            return Result(head)
        if kind in ("INSERT", "UPDATE", "DELETE", "CREATE", "COPY") and [d[0] for d in desc] == ["Count"]:
            rows = self.cur.fetchall()  # empty for CREATE VIEW / MACRO / SCHEMA / SEQUENCE / TYPE
            n = rows[0][0] if rows else 0
            return Result(f"INSERT 0 {n}" if kind == "INSERT" else f"{head} {n}" if kind != "CREATE" else head)
        if kind not in ("SELECT", "EXECUTE", "EXPLAIN", "PRAGMA") and [(d[0], str(d[1])) for d in desc] == \
                [("Success", "BOOLEAN")]:
            # DuckDB's empty "Success" result of DROP, ALTER, PREPARE, CHECKPOINT, SET ...: PostgreSQL sends no
            # rows description for these, and JDBC's executeUpdate fails on one ("a result was returned")
            self.cur.fetchall()
            return Result(head)
        cols = [(d[0], *type_of(d[1])) for d in desc]
        r = Result("SELECT" if kind == "SELECT" else head, cols)
        r.rows = self._rows(r)
        self.live = r
        return r

    def cursor_statement(self, sql: str, params: list[Any] | None) -> Result | None:
        """DECLARE / FETCH / MOVE / CLOSE (pgcursors) and COPY ... TO STDOUT (pgcopy), which DuckDB lacks and the
        server runs itself; None for any other statement."""
        try:
            cmd = parse_cursor(sql)
            copy = parse_copy(sql) if cmd is None else None
            if cmd is None and copy is None:
                return None
            if self.status == b"E":
                raise ProtocolError("current transaction is aborted, commands ignored until end of transaction block",
                                    "25P02")
            if isinstance(cmd, Declare):
                if not cmd.hold and self.status == b"I" and not self.batch:
                    raise ProtocolError("DECLARE CURSOR can only be used in transaction blocks: BEGIN first, or "
                                        "declare it WITH HOLD to read it outside one", "25P01")
                self.cursors.check_free(cmd.name)  # before the query runs
                src = self._open(cmd.query, params, "DECLARE ... CURSOR FOR")
                src.label = f"cursor {quoted(cmd.name)}"
                self.cursors.add(Cursor(cmd.name, src, cmd.hold, cmd.binary,
                                        in_transaction=self.status != b"I" or self.implicit or self.batch,
                                        scroll=cmd.scroll, no_scroll=cmd.no_scroll, statement=sql.strip()))
                return Result("DECLARE CURSOR")
            if isinstance(cmd, Close):
                if cmd.name is not None:
                    self.cursors.get(cmd.name)  # raises: no such cursor
                self.close_cursors(cmd.name)
                return Result("CLOSE CURSOR" if cmd.name else "CLOSE CURSOR ALL")
            if isinstance(cmd, Fetch):
                c = self.cursors.get(cmd.name)
                rows = c.take(cmd)
                if cmd.move:
                    return Result(f"MOVE {sum(1 for _ in rows)}")
                return Result("FETCH", c.source.columns, rows, binary=c.binary)
            if isinstance(copy, CopyIn):
                self.release()  # the checks below run on this cursor
                return Result("COPY", copy_in=Loader(self.cur, copy))
            assert copy is not None
            src = self._open(copy.query, params, "COPY (...) TO STDOUT")
            src.tag, src.copy = "COPY", copy
            return src
        except (duckdb.Error, ProtocolError):
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise

    def _open(self, sql: str, params: list[Any] | None, what: str) -> Result:
        """Run the query a cursor or a COPY reads; its rows stay unread in DuckDB until they are fetched."""
        c = self.compat(sql)
        if isinstance(c, Result):
            if c.columns is None:
                raise ProtocolError(f"{what} needs a query that returns rows, not {c.tag}", "42P11")
            return c
        stmts = duckdb.extract_statements(c)
        if len(stmts) != 1 or stmts[0].type.name != "SELECT":
            got = ", ".join(st.type.name for st in stmts) or "nothing"
            raise ProtocolError(f"{what} needs one SELECT (or VALUES) query, not {got}", "42P11")
        return self._one(stmts[0], params)

    def copy_begin(self, extended: bool) -> bool:
        """COPY FROM STDIN loads all rows or none: in the client's transaction block (or the extended protocol's
        implicit transaction, which it opens as any statement would), else in a transaction of its own (True)."""
        self.release()
        if self.status != b"I" or self.batch or self.implicit:
            return False
        self.cur.execute("BEGIN")
        if extended:
            self.implicit = True  # committed at Sync, as PostgreSQL does
            return False
        return True

    def copy_end(self, own: bool, ok: bool) -> None:
        """The COPY ended: commit or roll back its own transaction; a failure fails the client's."""
        if own and ok:
            self.cur.execute("COMMIT")
        elif own:
            try:
                self.cur.execute("ROLLBACK")
            except duckdb.Error as e:  # the COPY's own error is the one the client needs
                log.warning("rolling back a failed COPY FROM STDIN: %s", e)
        elif not ok and self.status == b"T":
            self.status = b"E"

    def close_cursors(self, name: str | None) -> None:
        """CLOSE: the cursor's unread rows are never needed (not even read into memory). None: all of them."""
        for c in [c for c in self.cursors.open.values() if name is None or c.name == name]:
            del self.cursors.open[c.name]
            self.forget(c.source)

    def end_cursors(self, committed: bool) -> None:
        for c in self.cursors.end_transaction(committed):
            self.forget(c.source)

    def end_of_transaction(self, committed: bool = True) -> None:
        """Portals end with their transaction, as in PostgreSQL (so their unread rows are never buffered), and so
        do cursors without HOLD and a SET LOCAL statement_timeout."""
        self.end_cursors(committed)
        self.catalog_end(committed)
        if not self.cursors.holds(self.live):
            self.live = None  # a WITH HOLD cursor declared outside a transaction still streams
        self.portals.clear()
        if self.timeout_outer is not None:
            self.timeout_ms, self.timeout_outer = self.timeout_outer, None

    def describe(self, sql: str, n_params: int) -> list[tuple[str, int, int]] | None:
        """Result columns of a prepared SELECT without running it (DuckDB relations are lazy); else None."""
        try:
            cmd, copy = parse_cursor(sql), parse_copy(sql)
        except ProtocolError:
            return None  # Execute reports it
        if cmd is not None or copy is not None:  # these run only when executed
            c = self.cursors.open.get(cmd.name) if isinstance(cmd, Fetch) and not cmd.move else None
            return c.source.columns if c is not None else None
        c = self.compat(sql)
        if isinstance(c, Result):
            return c.columns
        try:
            stmts = duckdb.extract_statements(c)
            if len(stmts) != 1 or stmts[0].type.name != "SELECT":
                return None
            self.release()  # binding on this cursor would discard a suspended portal's unread rows
            return _columns(self.cur, c, n_params)
        except duckdb.Error:
            return None


def _columns(cur: duckdb.DuckDBPyConnection, sql: str, n_params: int) -> list[tuple[str, int, int]]:
    """Result columns of a SELECT; a DuckDB relation binds the query without running it."""
    rel = cur.sql(sql, params=[None] * n_params) if n_params else cur.sql(sql)
    return [(name, *type_of(t)) for name, t in zip(rel.columns, rel.types, strict=True)]


@dataclass
class Portal:
    sql: str
    params: list[Any]
    result_formats: list[int] = field(default_factory=list)  # Bind's: none (all text), one for all, or one each
    result: Result | None = None
    described: list[tuple[str, int, int]] | None = None  # the columns the client was told (Describe)

    def formats(self, n: int) -> list[int]:
        f = self.result_formats
        if len(f) not in (0, 1, n) or any(c not in (0, 1) for c in f):
            raise ProtocolError(f"Bind gave result format codes {f} for {n} columns; each must be 0 (text) or 1 "
                                "(binary), one for all or one per column.")
        return [f[0]] * n if len(f) == 1 else f or [0] * n


# ---------------------------------------------------------------- the served database


class Backend:
    """One opened database instance: the parent connection owning the functions, and its open sessions."""

    def __init__(self, path: str, *, read_write: bool, snapshot_dir: str | None = None) -> None:
        self.path = path
        self.snapshot_dir = snapshot_dir
        self.sessions = 0
        self.retired = False
        self.read_write = read_write
        self.con = duckdb.connect(path, read_only=not read_write)
        register(self.con)
        # psql's \\dx (pg_extension): the extensions loaded now, which are all there will be (none loads without
        # file access), listed while duckdb_extensions() can still read the extension folder.
        try:
            loaded = self.con.execute("SELECT extension_name, extension_version, description FROM duckdb_extensions() "
                                      "WHERE loaded").fetchall()
        except duckdb.Error:
            loaded = None
        self.catalog_sql = session_sql(loaded, read_write)
        # Why after register: registering reads ad_models through the normal path; from here on DuckDB
        # itself refuses files, network, ATTACH, COPY TO and extensions, and refuses to undo that.
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def models(self) -> list[str]:
        from .udfs import registry

        return sorted(registry(self.con).by_ref)

    def models_text(self) -> str:
        return models_text(self.models())

    def close(self) -> None:
        self.con.close()
        if self.snapshot_dir:
            shutil.rmtree(self.snapshot_dir, ignore_errors=True)


def models_text(refs: list[str]) -> str:
    """'tx_ae@1'...'tx_ae@35' as "tx_ae@1-35 (latest 35)": one entry per name, versions in number order, runs joined.

    Why: a nightly retrain gives a name dozens of versions; listed one by one, in text order (tx_ae@1, tx_ae@10,
    tx_ae@11, ...), the start-up and SIGHUP lines grew without bound and hid which version was the latest.
    """
    by_name: dict[str, list[int]] = {}
    for ref in refs:
        name, _, v = ref.rpartition("@")
        by_name.setdefault(name, []).append(int(v))
    parts = []
    for name in sorted(by_name):
        vs = sorted(by_name[name])
        runs: list[str] = []
        start = prev = vs[0]
        for v in [*vs[1:], None]:
            if v is not None and v == prev + 1:
                prev = v
                continue
            runs.append(str(start) if start == prev else f"{start}-{prev}")
            if v is not None:
                start = prev = v
        latest = "" if len(vs) == 1 else f" (latest {vs[-1]})"
        parts.append(f"{name}@{','.join(runs)}{latest}")
    return ", ".join(parts) or "none yet"


def take_snapshot(source: str) -> tuple[str, str]:
    """Copy ``source`` into a private temporary file through DuckDB (a consistent copy); (path, its folder).

    The source is attached read-only for the copy only, so training and dbt can write it the rest of the time.
    """
    folder = tempfile.mkdtemp(prefix="ad_duckdb_serve_")
    dst = str(Path(folder) / "snapshot.duckdb")
    helper = duckdb.connect(":memory:")
    try:
        helper.execute("ATTACH ? AS src (READ_ONLY)", [source])
        helper.execute("ATTACH ? AS dst", [dst])
        helper.execute("COPY FROM DATABASE src TO dst")
    except duckdb.Error:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        helper.close()
    return dst, folder


@dataclass
class ServerConfig:
    database: str
    host: str = "127.0.0.1"
    port: int = 5433
    password: str | None = None
    read_write: bool = False
    snapshot: bool = False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def _layout(message: str) -> Iterator[None]:
    """Reading a message's fields: one that ends early or lacks a terminator is PostgreSQL's "invalid message format"
    (08P01), not Python's "unpack requires a buffer of 2 bytes" or "not enough values to unpack" (XX000)."""
    try:
        yield
    except UnicodeDecodeError:
        raise
    except (struct.error, ValueError) as e:
        raise ProtocolError(f"invalid {message} message format ({e})", "08P01") from e


def _peer_closed(sock: socket.socket) -> bool:
    """Whether the client closed its end: the socket reads as ended (or reset). Pipelined messages are not an end;
    peeking leaves them for the session."""
    try:
        # poll, not select: select refuses a descriptor above 1023, which a server with many clients has
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0)) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # reset, or closed by the session meanwhile
        return True


class PGServer(socketserver.ThreadingTCPServer):
    """A threaded TCP server; each client gets its own cursor of the current backend's connection."""

    daemon_threads = True  # close_all() waits for the sessions itself, with a time limit
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, config: ServerConfig) -> None:
        if not Path(config.database).exists():
            raise click.ClickException(f"No database file {config.database!r}; create it first (e.g. ad-duckdb train).")
        if config.snapshot and config.read_write:
            raise click.ClickException("--snapshot serves a read-only copy; it cannot be combined with --read-write.")
        if not is_loopback(config.host) and not config.password:
            raise click.ClickException(
                f"Refusing to listen on {config.host} without a password: set --password or {PASSWORD_ENV}, "
                "or keep the default --host 127.0.0.1.")
        self.config = config
        self._lock = threading.Lock()
        self._clients: dict[tuple[int, int], tuple[socket.socket, Session]] = {}
        self._pids = iter(range(1000, 2**31))
        self.backend = self._open_backend()
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        self.address_family = family
        super().__init__((config.host, config.port), Handler)
        self._stopping = threading.Event()
        threading.Thread(target=self.watch_clients, name="ad-duckdb client check", daemon=True).start()

    def watch_clients(self) -> None:
        """Interrupt the statement of a client that has closed its connection.

        Why: a session notices the close only when it next writes or reads, which a long aggregate never does; a
        closed dashboard's query kept its thread and a core busy until it ended (for some, never). PostgreSQL's
        client_connection_check_interval does the same: a closed (or half-closed) connection cancels the query.
        """
        while not self._stopping.wait(CLIENT_CHECK_INTERVAL):
            with self._lock:
                busy = [(sock, session) for sock, session in self._clients.values() if session.busy]
            for sock, session in busy:
                if _peer_closed(sock):
                    try:
                        session.cur.interrupt()
                    except duckdb.Error:
                        pass  # the session ended meanwhile and closed its cursor

    def _open_backend(self) -> Backend:
        cfg = self.config
        try:
            if cfg.snapshot:
                path, folder = take_snapshot(cfg.database)
                return Backend(path, read_write=False, snapshot_dir=folder)
            return Backend(cfg.database, read_write=cfg.read_write)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                # Why two texts: with --snapshot the copy itself needs a moment without a writer; advising
                # --snapshot to someone using it sends them in a circle
                fix = ("--snapshot copies the file only while no process writes it: wait for the training / dbt run "
                       "to finish, then start the server again, or send a running one SIGHUP again"
                       if cfg.snapshot else
                       "wait for the training / dbt run to finish, or serve a copy with --snapshot")
                raise click.ClickException(
                    f"Cannot open {cfg.database!r}: another process has it open for writing ({e}). DuckDB allows "
                    f"one writing process per file: {fix}.") from e
            raise

    def reload(self) -> str:
        """Snapshot mode: take a fresh copy and serve it to new clients. Otherwise: re-read the stored models."""
        if not self.config.snapshot:
            refresh_functions(self.backend.con)
            return "models refreshed: " + self.backend.models_text()
        new = self._open_backend()
        with self._lock:
            old, self.backend = self.backend, new
            old.retired = True
            close_old = old.sessions == 0
        if close_old:
            old.close()
        return "new snapshot: " + new.models_text()

    def open_session(self, sock: socket.socket) -> tuple[Backend, Session, int, int]:
        with self._lock:
            backend = self.backend
            cur = backend.con.cursor()
            try:
                session = Session(cur, backend.catalog_sql, read_only=not backend.read_write)
            except duckdb.Error:
                cur.close()
                raise
            backend.sessions += 1
            pid, key = next(self._pids), secrets.randbits(31)
            self._clients[(pid, key)] = (sock, session)
        return backend, session, pid, key

    def close_session(self, backend: Backend, session: Session, pid: int, key: int) -> None:
        with self._lock:
            self._clients.pop((pid, key), None)
            session.cur.close()
            backend.sessions -= 1
            close_old = backend.retired and backend.sessions == 0
        if close_old:
            backend.close()

    def cancel(self, pid: int, key: int) -> None:
        with self._lock:
            client = self._clients.get((pid, key))
        # As in PostgreSQL, a cancel reaches only a running statement: between statements (or between the
        # pages of a result) interrupting would abort the client's transaction for nothing.
        if client is not None and client[1].busy:
            client[1].cancel_requested = True  # COPY FROM STDIN between two messages of data: it checks this
            client[1].cur.interrupt()

    def close_all(self, timeout: float = 30.0) -> None:
        """Disconnect clients, wait for their sessions to end, then close the database.

        Why wait: the functions die with the parent connection, and DuckDB refuses to close a connection
        while a cursor of it still runs a query.
        """
        self._stopping.set()
        self.server_close()
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                clients = list(self._clients.values())
            if not clients or time.monotonic() > deadline:
                break
            for sock, session in clients:
                session.cur.interrupt()  # repeated: an interrupt between two statements of a batch is lost
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            time.sleep(0.1)
        try:
            self.backend.close()
        except duckdb.Error as e:
            log.warning("could not close the database cleanly: %s", e)


# ---------------------------------------------------------------- the protocol, one client


class Handler(socketserver.BaseRequestHandler):
    server: PGServer

    def setup(self) -> None:
        self.rfile = self.request.makefile("rb")
        self.out = bytearray()

    # -- low-level IO
    def read_exact(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("client closed the connection")
        return data

    def read_message(self, limit: int = _MAX_MESSAGE, what: str = "message") -> tuple[bytes, bytes]:
        """The client's next message: its type and body. A length no message has ends the connection, as in
        PostgreSQL (FATAL 08P01): where the next message starts is lost, and reading a length under 4 (a negative
        count) waited for the client to close."""
        kind = self.read_exact(1)
        n = struct.unpack("!i", self.read_exact(4))[0]
        if not 4 <= n <= limit:
            self.fatal(f"invalid {what} length")
            raise ConnectionError(f"invalid message length {n}")
        return kind, self.read_exact(n - 4)

    def fatal(self, message: str, code: str = "08P01") -> None:
        """A FATAL error, as PostgreSQL sends before it ends a connection it cannot go on with."""
        self.send(b"E", b"SFATAL\x00VFATAL\x00C" + code.encode() + b"\x00M" + message.encode() + b"\x00\x00")
        self.flush()

    def send(self, kind: bytes, body: bytes = b"") -> None:
        self.out += kind + struct.pack("!i", len(body) + 4) + body
        if len(self.out) > 1 << 16:
            self.flush()

    def flush(self) -> None:
        if self.out:
            self.request.sendall(self.out)
            self.out.clear()

    def send_error(self, e: BaseException) -> None:
        s = getattr(self, "session", None)
        if s is not None and s.timed_out and isinstance(e, duckdb.InterruptException):
            e = ProtocolError(TIMEOUT_MESSAGE, "57014")  # our timer's interrupt, not the client's cancel
        msg = str(e).replace("\x00", "")
        fields = [b"SERROR", b"VERROR", b"C" + sqlstate(e).encode(), b"M" + msg.encode()]
        hint = getattr(e, "hint", "")
        if hint:
            fields.append(b"H" + str(hint).replace("\x00", "").encode())
        where = getattr(e, "where", "")  # pgcopyin.CopyError's; clients show it as CONTEXT
        if where:
            fields.append(b"W" + str(where).replace("\x00", "").encode())
        self.send(b"E", b"\x00".join(fields) + b"\x00\x00")

    def ready(self, status: bytes) -> None:
        self.send(b"Z", status)
        self.flush()

    # -- startup and authentication
    def startup(self) -> dict[str, str] | None:
        while True:
            n = struct.unpack("!i", self.read_exact(4))[0]
            if not 8 <= n <= 10000:  # PostgreSQL's limit; the client learns why it was dropped (it did not)
                self.fatal("invalid length of startup packet")
                return None
            body = self.read_exact(n - 4)
            code = struct.unpack("!i", body[:4])[0]
            if code in (_SSL_REQUEST, _GSS_REQUEST):
                self.request.sendall(b"N")  # no TLS: clients with sslmode=prefer go on in plain text
                continue
            if code == _CANCEL_REQUEST:
                pid, key = struct.unpack("!ii", body[4:12])
                self.server.cancel(pid, key)
                return None
            if code >> 16 != _PROTOCOL_3 >> 16:
                self.fatal(f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: server supports 3.0 to 3.0",
                           "0A000")
                return None
            # Why checked: a parameter that is not UTF-8 raised in this thread, so the client got no answer and the
            # server's log a traceback; PostgreSQL refuses a packet without its final terminator the same way.
            try:
                text = body[4:].decode()
            except UnicodeDecodeError:
                self.fatal("invalid startup packet: parameter names and values must be UTF-8")
                return None
            if not text.endswith("\x00"):
                self.fatal("invalid startup packet layout: expected terminator as last byte")
                return None
            parts = text.split("\x00")
            params = {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2) if parts[i]}
            # A newer 3.x (libpq 18's max_protocol_version=3.2) or protocol options (_pq_.*) are negotiated down, as
            # PostgreSQL does: the client learns we speak 3.0 without them and goes on (an error ended its connection).
            unknown = [k for k in params if k.startswith("_pq_.")]
            if code != _PROTOCOL_3 or unknown:
                self.send(b"v", struct.pack("!ii", _PROTOCOL_3, len(unknown)) + b"".join(k.encode() + b"\x00" for k in unknown))
            return {k: v for k, v in params.items() if k not in unknown}

    def authenticate(self, user: str) -> bool:
        password = self.server.config.password
        if password:
            # md5 rather than cleartext: the password never crosses the (unencrypted) wire.
            salt = os.urandom(4)
            self.send(b"R", struct.pack("!i", 5) + salt)
            self.flush()
            # Why a limit of its own: the client has proved nothing yet, and a 1 GiB "password" was read into memory.
            kind, got = self.read_message(_MAX_PASSWORD_MESSAGE, "password message")
            got = got.rstrip(b"\x00")
            inner = hashlib.md5((password + user).encode()).hexdigest().encode()
            want = b"md5" + hashlib.md5(inner + salt).hexdigest().encode()
            if kind != b"p" or not hmac.compare_digest(got, want):
                e = ProtocolError(f'password authentication failed for user "{user}"', "28P01")
                self.send_error(e)
                self.flush()
                log.warning("refused %s: wrong or missing password", self.client_address[0])
                return False
        self.send(b"R", struct.pack("!i", 0))
        return True

    def _end_overdue_startup(self) -> None:
        with self._startup_lock:
            if not self._started:
                self._overdue = True
                try:
                    self.request.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in recv
                except OSError:
                    pass

    def handle(self) -> None:
        # Why: each connection is a thread; one that connected and sent nothing (or stopped at the password) held
        # its thread until the client went away, without ever proving it may connect. The socket timeout ends a
        # silent client; the timer is the deadline for the whole startup (a timeout restarts at every byte, so a
        # client sending one byte a minute was never ended).
        self.request.settimeout(AUTH_TIMEOUT)
        self._startup_lock, self._started, self._overdue = threading.Lock(), False, False
        overdue = threading.Timer(AUTH_TIMEOUT, self._end_overdue_startup)
        overdue.daemon = True
        overdue.start()
        try:
            params = self.startup()
            if params is None:
                return
            user = params.get("user", "")
            if not self.authenticate(user):
                return
        except (ConnectionError, OSError, struct.error):  # TimeoutError is an OSError
            return
        finally:
            overdue.cancel()
        with self._startup_lock:
            if self._overdue:  # the deadline passed just as the password arrived: the socket is already shut
                return
            self._started = True
        self.request.settimeout(None)  # a session may stay idle as long as its client likes, as in PostgreSQL
        try:
            timeout = startup_timeout(params)
        except ProtocolError as e:
            self.send_error(e)
            self.flush()
            return
        try:
            backend, session, pid, key = self.server.open_session(self.request)
        except duckdb.Error as e:
            self.send_error(e)
            self.flush()
            return
        session.timeout_ms = session.timeout_default = timeout
        self.session = session
        try:
            import ad_duckdb

            tz = session.cur.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
            for k, v in {"server_version": f"{PG_VERSION} (ad_duckdb {ad_duckdb.__version__})",
                         "server_encoding": "UTF8", "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
                         "IntervalStyle": "postgres", "TimeZone": tz, "integer_datetimes": "on",
                         "standard_conforming_strings": "on", "is_superuser": "off", "session_authorization": user,
                         "application_name": params.get("application_name", "")}.items():
                self.send(b"S", k.encode() + b"\x00" + v.encode() + b"\x00")
            self.send(b"K", struct.pack("!ii", pid, key))
            self.ready(session.status)
            self.loop(session)
        except (ConnectionError, OSError):
            pass
        finally:
            self.server.close_session(backend, session, pid, key)

    def loop(self, s: Session) -> None:
        skip_to_sync = False  # after an error in the extended protocol, PostgreSQL ignores messages until Sync
        while True:
            kind, body = self.read_message()
            if kind == b"X":
                return
            if kind == b"S":
                skip_to_sync = False
                try:
                    s.sync()
                except duckdb.Error as e:  # the COMMIT of the implicit transaction failed: the client must know
                    self.send_error(e)
                self.ready(s.status)
                continue
            if kind == b"H":
                self.flush()
                continue
            if kind not in _FRONTEND_KINDS:
                # As PostgreSQL: where the client's messages stand is unknown, so the connection ends. Answered with
                # an error, a client waited for a ReadyForQuery that comes only after a Sync it did not plan to send.
                self.fatal(f"invalid frontend message type {kind[0]}")
                return
            if skip_to_sync:
                continue
            s.busy = True
            s.timed_out = False
            timer = self.arm_timeout(s) if s.timeout_ms and kind in (b"Q", b"D", b"E") else None
            try:
                if kind == b"Q":
                    self.simple_query(s, body.rstrip(b"\x00").decode())
                elif kind == b"P":
                    self.parse(s, body)
                elif kind == b"B":
                    self.bind(s, body)
                elif kind == b"D":
                    self.describe(s, body)
                elif kind == b"E":
                    self.execute(s, body)
                elif kind == b"C":
                    name = body[1:].rstrip(b"\x00").decode()
                    if body[:1] == b"S":
                        s.statements.pop(name, None)
                        s.described.pop(name, None)
                    else:
                        closed = s.portals.pop(name, None)
                        s.forget(closed.result if closed else None)
                        if closed is None and name in s.cursors.open:
                            s.close_cursors(name)  # an SQL cursor is a portal too, as in PostgreSQL
                    self.send(b"3")
                elif kind in (b"d", b"c", b"f"):
                    continue  # COPY data after the COPY failed (or never began): ignored, as PostgreSQL does
                else:  # FunctionCall (libpq's PQfn, large objects): answered like a Query, with ReadyForQuery
                    raise ProtocolError("FunctionCall messages are not supported; call the function in a query "
                                        "(SELECT f(...)).", "0A000")
            except (ConnectionError, OSError):
                raise
            except Exception as e:  # noqa: BLE001 - any failure is this client's error, never the server's end
                if isinstance(e, UnicodeDecodeError):  # PostgreSQL's text for it (it was Python's, SQLSTATE XX000)
                    e = ProtocolError(f'invalid byte sequence for encoding "UTF8": 0x{e.object[e.start]:02x}', "22021")
                if not isinstance(e, duckdb.Error | ProtocolError | ValueError | struct.error):
                    log.exception("unexpected error serving %s", self.client_address[0])
                self.send_error(e)
                if kind in (b"Q", b"F"):
                    self.ready(s.status)
                else:
                    skip_to_sync = True
                    s.implicit_failed = s.implicit
                    self.flush()
            finally:
                if timer is not None:
                    with s.timer_lock:
                        s.deadline = None
                    timer.cancel()
                s.busy = False

    def arm_timeout(self, s: Session) -> threading.Timer:
        """statement_timeout: interrupt this message's statement if it still runs after ``s.timeout_ms``."""
        s.deadline = time.monotonic() + s.timeout_ms / 1000

        def fire() -> None:
            with s.timer_lock:  # the message may have ended meanwhile: then there is nothing to interrupt
                if s.deadline is not None:
                    s.timed_out = True
                    s.cur.interrupt()

        t = threading.Timer(s.timeout_ms / 1000, fire)
        t.daemon = True
        t.start()
        return t

    # -- simple query protocol
    def simple_query(self, s: Session, sql: str) -> None:
        if s.implicit:  # extended-protocol statements not yet ended by a Sync: a Query ends them first
            s.sync()
        if not sql.strip().strip(";").strip():
            self.send(b"I")
            self.ready(s.status)
            return
        results = s.run(sql)
        try:
            for r in results:
                if r.copy_in is not None:
                    self.copy_in(s, r, extended=False)
                    continue
                formats = [1] * len(r.columns) if r.binary and r.columns else None
                if r.columns is not None and r.copy is None:
                    self.row_description(r.columns, formats)
                self.data_rows(r, 0, formats)
        except duckdb.Error as e:
            self.send_error(e)
        finally:
            results.close()  # a batch's implicit transaction ends now (rolled back after an error), not when collected
        self.ready(s.status)

    # -- extended query protocol
    def parse(self, s: Session, body: bytes) -> None:
        with _layout("Parse"):
            name, rest = body.split(b"\x00", 1)
            query, rest = rest.split(b"\x00", 1)
            (n,) = struct.unpack("!H", rest[:2])  # unsigned, as PostgreSQL reads it: up to 65,535 parameters
            oids = list(struct.unpack(f"!{n}i", rest[2:2 + 4 * n])) if n else []
        s.statements[name.decode()] = (typed_parameters(query.decode(), oids), oids)
        s.described.pop(name.decode(), None)
        self.send(b"1")

    def bind(self, s: Session, body: bytes) -> None:
        with _layout("Bind"):
            portal, rest = body.split(b"\x00", 1)
            stmt, rest = rest.split(b"\x00", 1)
        if stmt.decode() not in s.statements:
            raise ProtocolError(f'prepared statement "{stmt.decode()}" does not exist', "26000")
        sql, oids = s.statements[stmt.decode()]
        pos = 0

        def i16(fmt: str = "!h") -> int:
            nonlocal pos
            v = struct.unpack(fmt, rest[pos:pos + 2])[0]
            pos += 2
            return int(v)

        with _layout("Bind"):
            # Counts are unsigned, as PostgreSQL reads them: read signed, 32,768 parameters or more came out negative
            formats = [i16() for _ in range(i16("!H"))]
            values: list[bytes | None] = []
            for _ in range(i16("!H")):
                ln = struct.unpack("!i", rest[pos:pos + 4])[0]
                pos += 4
                if ln > len(rest) - pos:
                    raise struct.error("a parameter value runs past the message's end")
                values.append(None if ln < 0 else rest[pos:pos + ln])
                if ln > 0:
                    pos += ln
            result_formats = [i16() for _ in range(i16("!H"))]
        params = []
        for i, raw in enumerate(values):
            fmt = formats[0] if len(formats) == 1 else formats[i] if formats else 0
            params.append(decode_param(raw, oids[i] if i < len(oids) else 0, fmt))
        if len(formats) not in (0, 1, len(values)) or any(c not in (0, 1) for c in formats):
            raise ProtocolError(f"Bind gave parameter format codes {formats} for {len(values)} parameters.")
        old = s.portals.get(portal.decode())
        s.forget(old.result if old else None)
        s.portals[portal.decode()] = Portal(sql, params, result_formats, described=s.described.get(stmt.decode()))
        self.send(b"2")

    def _run_portal(self, s: Session, p: Portal) -> Result:
        if p.result is None:
            p.result = s.run_one(p.sql, p.params or None)
        return p.result

    def describe(self, s: Session, body: bytes) -> None:
        what, name = body[:1], body[1:].rstrip(b"\x00").decode()
        if what == b"S":
            if name not in s.statements:
                raise ProtocolError(f'prepared statement "{name}" does not exist', "26000")
            sql, oids = s.statements[name]
            n = max([len(oids), *(int(x) for x in re.findall(r"\$(\d+)", sql))])
            # A parameter the client left untyped takes the type the query casts it to ($1::INTEGER), else text
            # (DuckDB casts text to the type the query needs). Bind then decodes by these types.
            cast = parameter_casts(sql)
            oids = [o or cast.get(i + 1, 0) for i, o in enumerate(oids + [0] * (n - len(oids)))]
            s.statements[name] = (sql, oids)
            types = [o or 25 for o in oids]
            self.send(b"t", struct.pack(f"!H{n}i", n, *types))
            cols = s.described[name] = s.describe(sql, n)
        else:
            if name not in s.portals and name in s.cursors.open:
                # psycopg's named cursors DECLARE, then Describe the portal of the cursor's name for its columns
                c = s.cursors.open[name]
                cols = c.source.columns
                if cols is not None:
                    self.row_description(cols, [int(c.binary)] * len(cols))
                    return
            elif name not in s.portals:
                raise ProtocolError(f'portal "{name}" does not exist', "34000")
            else:
                p = s.portals[name]
                r = self._run_portal(s, p)
                # A COMMIT / ROLLBACK ends its transaction's portals, but not itself: its Execute comes next
                s.portals.setdefault(name, p)
                cols = p.described = None if r.copy else r.columns  # COPY: NoData, as in PostgreSQL
            if cols is not None:
                self.row_description(cols, p.formats(len(cols)))
                return
        if cols is None:
            self.send(b"n")
        else:
            self.row_description(cols)

    def execute(self, s: Session, body: bytes) -> None:
        with _layout("Execute"):
            name, rest = body.split(b"\x00", 1)
            (max_rows,) = struct.unpack("!i", rest[:4])
        portal = s.portals.get(name.decode())
        if portal is None:
            raise ProtocolError(f'portal "{name.decode()}" does not exist', "34000")
        if portal.sql.strip().strip(";").strip() == "":
            self.send(b"I")
            return
        if s.status == b"E" and not TXN_WORD.match(portal.sql):
            raise ProtocolError("current transaction is aborted, commands ignored until end of transaction block",
                                "25P02")
        r = self._run_portal(s, portal)
        if r.copy_in is not None:
            self.copy_in(s, r, extended=True)
            return
        self.data_rows(r, max_rows, portal.formats(len(r.columns)) if r.columns else None, portal.described)

    # -- results
    def row_description(self, cols: list[tuple[str, int, int]], formats: list[int] | None = None) -> None:
        body = struct.pack("!h", len(cols))
        for i, (name, oid, size) in enumerate(cols):
            body += name.encode() + b"\x00" + struct.pack("!ihihih", 0, 0, oid, size, -1, formats[i] if formats else 0)
        self.send(b"T", body)

    def data_rows(self, r: Result, max_rows: int, formats: list[int] | None = None,
                  described: list[tuple[str, int, int]] | None = None) -> None:
        if r.copy is not None:
            self.copy_out(r)
            return
        if r.columns is None:
            self.send(b"C", r.tag.encode() + b"\x00")
            return
        # Binary where the client asked for it (JDBC does from a statement's fifth run on, psycopg's binary cursors).
        encoders = [encode_binary if formats and formats[i] else encode_text for i in range(len(r.columns))]
        oids = [c[1] for c in r.columns]
        # The client decodes by the types it was told at Describe; a run whose parameters changed a column's type
        # is sent as that type, or refused, never as bytes of another type.
        told = [c[1] for c in described] if described and len(described) == len(oids) else oids
        page = 0  # rows sent by this Execute (its row limit counts these, not the portal's total)
        for row in r.rows:
            body = bytearray(struct.pack("!h", len(row)))
            for i, (v, oid, enc) in enumerate(zip(row, oids, encoders, strict=True)):
                if v is None:
                    body += b"\xff\xff\xff\xff"
                    continue
                if told[i] != oid:
                    v, oid = as_told(v, oid, told[i], r.columns[i][0]), told[i]
                try:
                    t = enc(v, oid)
                except (struct.error, OverflowError) as e:
                    raise ProtocolError(f"Column {r.columns[i][0]!r}: {v!r} does not fit type OID {oid} ({e}); cast it in "
                                        "the query.", "22003") from e
                body += struct.pack("!i", len(t)) + t
            self.send(b"D", bytes(body))
            r.sent += 1
            page += 1
            if max_rows and page == max_rows:
                self.send(b"s")  # PortalSuspended: the client asks for more with another Execute
                return
        # PostgreSQL's tags count rows, also those of INSERT / UPDATE / DELETE ... RETURNING
        tag = {"SELECT": f"SELECT {r.sent}", "INSERT": f"INSERT 0 {r.sent}", "UPDATE": f"UPDATE {r.sent}",
               "DELETE": f"DELETE {r.sent}", "FETCH": f"FETCH {r.sent}"}.get(r.tag, r.tag)
        self.send(b"C", tag.encode() + b"\x00")

    def copy_in(self, s: Session, r: Result, extended: bool) -> None:
        """COPY ... FROM STDIN: CopyInResponse, then the client's CopyData loaded in batches until CopyDone (``COPY
        n``) or CopyFail; all rows or none. After an error the client's remaining CopyData are ignored (the loop
        drops them), as PostgreSQL does."""
        load, r.copy_in = r.copy_in, None  # one run: a second Execute of the portal finds it done
        assert load is not None
        n = len(load.names)
        fmt = int(load.spec.binary)
        self.send(b"G", struct.pack(f"!bh{n}h", fmt, n, *[fmt] * n))
        self.flush()
        s.cancel_requested = False

        def data() -> bytes | None:
            """The next CopyData's bytes; None at CopyDone. (DuckDB calls this from its threads while this one waits
            for the INSERT that reads the rows.)"""
            while True:
                kind, body = self.read_message()
                if s.cancel_requested:
                    raise ProtocolError("canceling statement due to user request", "57014")
                if s.deadline is not None and time.monotonic() > s.deadline:
                    s.timed_out = True
                    raise ProtocolError(TIMEOUT_MESSAGE, "57014")
                if kind == b"d":
                    return body
                if kind == b"c":
                    return None
                if kind == b"f":
                    reason = body.rstrip(b"\x00").decode(errors="replace")
                    raise ProtocolError(f"COPY from stdin failed: {reason}", "57014")
                if kind == b"X":
                    raise ConnectionError("client closed the connection during COPY FROM STDIN")
                if kind not in (b"H", b"S"):  # PostgreSQL ignores Flush and Sync during COPY (libpq may send them)
                    raise ProtocolError(f"unexpected message type 0x{kind[0]:02X} during COPY from stdin", "08P01")

        own = s.copy_begin(extended)
        ok = False
        try:
            count = load.run(data)
            ok = True
        finally:
            s.copy_end(own, ok)
        self.send(b"C", f"COPY {count}".encode() + b"\x00")

    def copy_out(self, r: Result) -> None:
        """COPY ... TO STDOUT: CopyOutResponse, a CopyData per line as the rows are read, CopyDone, ``COPY n``."""
        assert r.copy is not None and r.columns is not None
        n = len(r.columns)
        self.send(b"H", struct.pack(f"!bh{n}h", 0, n, *[0] * n))  # text format, every column
        if r.copy.header:
            self.send(b"d", r.copy.header_line([c[0] for c in r.columns]))
        oids = [c[1] for c in r.columns]
        for row in r.rows:
            self.send(b"d", r.copy.line(row, oids))
            r.sent += 1
        self.send(b"c")
        self.send(b"C", f"COPY {r.sent}".encode() + b"\x00")


# ---------------------------------------------------------------- the command


def run_server(config: ServerConfig, ready: Callable[[PGServer], None] | None = None) -> None:
    """Serve until SIGINT / SIGTERM; SIGHUP reloads (a fresh snapshot with --snapshot, else re-read models)."""
    server = PGServer(config)
    threads: list[threading.Thread] = []

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    def reload(*_: Any) -> None:
        def work() -> None:
            try:
                log.warning("reloaded: %s", server.reload())
            except (duckdb.Error, click.ClickException) as e:
                log.warning("reload failed, still serving the previous copy: %s", e)

        t = threading.Thread(target=work, daemon=True)
        threads.append(t)
        t.start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, reload)
    if ready is not None:
        ready(server)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        for t in threads:
            t.join(timeout=30)
        server.close_all()


@click.command("serve")
@click.argument("db")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires a password.")
@click.option("--port", type=int, default=5433, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--password", envvar=PASSWORD_ENV, show_envvar=True,
              help="Password every client must give (any user name). Default: none, loopback only.")
@click.option("--read-write", is_flag=True, help="Open DB for writing (default: read-only).")
@click.option("--snapshot", is_flag=True,
              help="Serve a private copy of DB, so training and dbt can write DB meanwhile; SIGHUP takes a new copy.")
def serve(db: str, host: str, port: int, password: str | None, read_write: bool, snapshot: bool) -> None:
    """Serve DB over the PostgreSQL wire protocol, with the anomaly functions registered.

    psql, psycopg, SQLAlchemy, Superset, Metabase and Tableau connect as to PostgreSQL (any user and
    database name) and run anomaly_score(...) live. Read-only and loopback-only by default; DuckDB itself
    refuses file, network, ATTACH, COPY and extension access. SIGHUP re-reads the models (with --snapshot:
    takes a fresh copy).

    \b
    Example:
      ad-duckdb serve warehouse.duckdb --port 5433
      psql "postgresql://analyst@127.0.0.1:5433/warehouse" -c "SELECT anomaly_score('tx_ae', 3, 120.0)"
    """
    logging.basicConfig(level=logging.WARNING, format="ad-duckdb serve: %(message)s", stream=sys.stderr)
    config = ServerConfig(db, host, port, password or None, read_write, snapshot)

    def ready(server: PGServer) -> None:
        h, p = server.server_address[:2]
        mode = "read-write" if read_write else "read-only snapshot" if snapshot else "read-only"
        models = server.backend.models_text()
        click.echo(f"serving {db} ({mode}; models: {models}) on {h}:{p}")
        # a wildcard address is where the server listens, not one a client can reach
        shown = "HOST" if h in ("0.0.0.0", "::", "") else h
        click.echo(f"connect: postgresql://USER@{shown}:{p}/{Path(db).stem}")
        sys.stdout.flush()

    run_server(config, ready)
