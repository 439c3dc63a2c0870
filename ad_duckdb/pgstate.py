"""One client's session state (``SessionState``): its DuckDB cursor, prepared statements, portals and cursors, its
transaction status and settings, what pg_stat_activity says of it; and the one rule for the result still reading from
the cursor when another statement needs it (``release``).

``pgsession.Session`` runs statements on this state; the ``pg*`` modules of one subject each (pgsettings, pgtxn,
pgobjects, pgrewrite, pgdiscard) take it and change it. Like the other ``pg*`` helpers, this module never imports
``server`` and speaks no wire protocol.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb

from .pgcatalog import SESSION_SQL
from .pgcatalogparsed import CatalogStatements
from .pgcursors import MAX_SCROLL_ROWS, Cursors, Source
from .pgerrors import ProtocolError
from .pgintervalrows import arrow_chunks
from .pgjsoncols import JsonNamesCache
from .pgoncommit import OnCommitTables
from .pgresult import Portal, Result
from .pgsql import OnCommit
from .pgzones import Zone

# PostgreSQL's own text, which clients and tools recognise (SQLSTATE 57014, query_canceled).
TIMEOUT_MESSAGE = "canceling statement due to statement timeout"

# Rows of a paged result read into memory so another statement can run (Session.release); beyond this, refuse.
# One bound with a SCROLL cursor's kept rows, which release counts against it (so never below them).
MAX_BUFFERED_ROWS = MAX_SCROLL_ROWS


def _raising(e: BaseException) -> Iterator[tuple[Any, ...]]:
    raise e
    yield ()  # a generator: the error surfaces when the rows are read


class SessionState:
    """One client's state: its DuckDB cursor, prepared statements, portals and transaction status."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, catalog_sql: CatalogStatements | None = None,
                 read_only: bool = True) -> None:
        self.cur = cur
        self.read_only = read_only  # the server's database: SHOW transaction_read_only says so
        # READ ONLY transactions: the session's default (SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY) and
        # the open transaction's own (BEGIN READ ONLY, SET TRANSACTION READ ONLY: psycopg's read_only, asyncpg's
        # readonly=True), None when it did not say; txn_read_only()
        self.read_only_default = False
        self.read_only_txn: bool | None = None
        # The isolation level the session's transactions take (SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION
        # LEVEL) and the one the open transaction named (BEGIN ISOLATION LEVEL, SET TRANSACTION ISOLATION LEVEL):
        # every one is DuckDB's serializable, but PostgreSQL refuses another level after the first query (25001)
        self.isolation_default = "serializable"
        self.isolation_txn: str | None = None
        # DuckDB's open transaction: whether it is READ ONLY (begin_sql), which lets writes to temporary tables through
        # and refuses any other, as PostgreSQL's does; and whether a statement has run in it (PostgreSQL's first
        # snapshot), after which PostgreSQL refuses to make a READ ONLY transaction READ WRITE
        self.duck_read_only = False
        self.queried = False
        # SESSION_SQL as this database's server fills it in, parsed once for all its sessions (Backend.catalog_sql)
        self.catalog_sql = catalog_sql if catalog_sql is not None else CatalogStatements(SESSION_SQL)
        # The catalogue objects (pgcatalog.SESSION_SQL) are created as a statement names one, it and those it needs
        # (pgobjects.catalog): a session saves the time DuckDB spends binding those it never reads (~0.15 s for all).
        # Created inside a transaction, they last only if it commits (DuckDB's catalogue is transactional).
        self.made: set[str] = set()  # their names (lower case)
        self.made_in_transaction: set[str] = set()  # created in the transaction still open: gone if it rolls back
        self.has_sum_macro = self.sum_macro_in_transaction = False  # the same of pgsum's macro (sum_macro)
        self.status = b"I"  # ReadyForQuery: I idle, T in a transaction, E failed transaction
        self.statements: dict[str, tuple[str, list[int], str]] = {}
        # names of SQL PREPAREs, which DuckDB keeps (statement_name) -> the catalogue objects their statements read
        self.sql_prepared: dict[str, frozenset[str]] = {}
        self.portals: dict[str, Portal] = {}
        self.live: Result | None = None  # the result still reading from the cursor (a suspended portal, an SQL cursor)
        self.cursors = Cursors()  # DECLAREd cursors (pgcursors); each reads its own result, like a portal
        self.batch = False  # a multi-statement Query runs as one implicit transaction (run)
        self.busy = False  # a statement runs or its rows are being sent (what a CancelRequest may interrupt)
        self.implicit = False  # the extended protocol's implicit transaction, open until Sync
        self.implicit_failed = False
        # Extended-protocol messages since the last Sync: PostgreSQL runs them as one implicit transaction, so a SET
        # among them is undone if one after it fails, also before ``implicit`` opens (a SET first in a pipeline)
        self.unsynced = False
        self.described: dict[str, list[tuple[str, int, int]] | None] = {}  # each statement's Describe answer
        # statement_timeout (SET, or the startup options): each message that runs SQL gets this long; 0 is none
        self.timeout_ms = 0
        self.timeout_default = 0  # the connection's own (startup options): what RESET and DISCARD ALL go back to
        self.deadline: float | None = None  # when the message now running times out (time.monotonic())
        self.timed_out = False  # the timer interrupted it: the InterruptException is a timeout, not a cancel
        self.timer_lock = threading.Lock()
        self.cancel_requested = False  # a CancelRequest while COPY FROM STDIN waits for the client's data
        self.message_no = 0  # which client message runs: a repeated interrupt stops with the message it was for
        self.pid = 0  # the process id its client was given (BackendKeyData): pg_backend_pid()
        # What pg_stat_activity says of it (activity_row)
        self.application_name = ""
        self.application_name_default = ""  # the connection's own (startup): what RESET and DISCARD ALL go back to
        self.application_name_variable: str | None = None  # what DuckDB's variable pg_application_name holds (compat)
        # The client's dotted settings (SET app.tenant = ...) and its SETs of PostgreSQL's settings that change nothing
        # here (pgknobs: SET work_mem), by lower-case name: what SHOW, current_setting and pg_settings answer
        self.custom_settings: dict[str, str] = {}
        self.knob_defaults: dict[str, str] = {}  # the connection's own of pgknobs' (startup): what RESET goes back to
        self.custom_variable: dict[str, str] | None = None  # what DuckDB's variable pg_custom_settings holds (compat)
        # the SET of a _HELD setting given at startup, by name (RESET and DISCARD ALL go back to it)
        self.held_defaults: dict[str, str] = {}
        self.time_zone = ""  # DuckDB's TimeZone of this cursor (read_zone), which the client is told (ParameterStatus)
        # PostgreSQL's name of each offset zone this session gave DuckDB (pgzones): '<-07>+07' for ICU's 'GMT-07:00'.
        # By DuckDB's zone, so a ROLLBACK or RESET that sets it again shows the name again
        self.zone_names: dict[str, str] = {}
        self.default_zone: Zone | None = None  # the connection's own zone (startup) when an offset: RESET names it so
        self.duckdb_zone = ""  # DuckDB's own name of it (read_zone)
        self.max_connections = 0  # the server's --max-connections: SHOW max_connections (set by the server)
        self.max_connections_variable = False  # DuckDB's variable pg_max_connections holds it (compat)
        self.time_zone_variable: str | None = None  # what DuckDB's variable pg_time_zone holds (compat): an offset's name
        self.client: tuple[str | None, int | None] = (None, None)  # its address and port
        self.started = datetime.now(UTC)
        self.query = ""  # its last statement, as PostgreSQL's pg_stat_activity.query
        self.query_start: datetime | None = None
        self.xact_start: datetime | None = None
        self.state_change = self.started
        # pg_terminate_backend or the server's stop: its statement stops, then the session ends (FATAL 57P01)
        self.terminated = False
        # The settings above a SET changed in the open transaction block (set_setting), by attribute: each one's value
        # before the block and its value after COMMIT (a SET LOCAL's ends with the block)
        self.set_in_transaction: dict[str, tuple[Any, Any]] = {}
        # Notices (message, SQLSTATE, severity) of the statement that runs, which the server sends before its result
        # when client_min_messages lets them (pgknobs.client_gets)
        self.notices: list[tuple[str, str, str]] = []
        self.on_commit = OnCommitTables()  # temporary tables dropped or emptied at each commit (pgoncommit)
        self.creating: OnCommit | None = None  # the CREATE TEMP TABLE ... ON COMMIT that compat let through
        self.json_cache = JsonNamesCache()  # the JSON column names, kept while the catalogue stays (pgjsoncols)
        self.catalogue_changed = False  # the open transaction block ran a statement that may change the catalogue
        self.store_written = False  # the open transaction wrote the store: loaded again at its commit (servedwrites)

    def started_statement(self, sql: str) -> None:
        """``sql`` begins to run: pg_stat_activity's query and query_start (and xact_start for a new transaction)."""
        now = datetime.now(UTC)
        self.query, self.query_start, self.state_change = sql, now, now
        if self.status == b"I" and not self.implicit:
            self.xact_start = now

    def activity_row(self) -> dict[str, Any]:
        """This session as a row of pg_stat_activity (ACTIVITY_TYPE's fields), as PostgreSQL's states name it."""
        state = ("active" if self.busy else "idle in transaction" if self.status == b"T" else
                 "idle in transaction (aborted)" if self.status == b"E" else "idle")
        return {"pid": self.pid, "application_name": self.application_name, "client_addr": self.client[0],
                "client_port": self.client[1], "backend_start": self.started,
                "xact_start": self.xact_start if state != "idle" else None, "query_start": self.query_start,
                "state_change": self.state_change, "state": state, "query": self.query}

    def _rows(self, r: Result, intervals: list[int] | None = None) -> Iterator[tuple[Any, ...]]:
        """The cursor's rows; an error while they are read fails the transaction, as one at execute does. With
        ``intervals`` (pgintervalrows), read through Arrow, those columns' months kept."""
        chunks = arrow_chunks(self.cur, intervals, 1024) if intervals is not None else None
        try:
            while True:
                if self.terminated:  # pg_terminate_backend while rows are sent: the interrupt lands only in DuckDB
                    raise ProtocolError("terminating connection due to administrator command", "57P01")
                if self.deadline is not None and time.monotonic() > self.deadline:
                    # the timer's interrupt lands only while DuckDB runs; rows still being sent stop here
                    self.timed_out = True
                    raise ProtocolError(TIMEOUT_MESSAGE, "57014")
                chunk = next(chunks, []) if chunks is not None else self.cur.fetchmany(1024)
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
            err = ProtocolError(
                f"A result left open between pages{what} has more than {limit:,} unread rows{besides} too many to "
                "hold while another statement runs on this connection (or past COMMIT, for a WITH HOLD cursor); read "
                "it to the end (or close it) first, or run the other statement on another connection.", "54000")
            r.rows = _raising(err)
            if self.status == b"T":
                self.status = b"E"
            raise err
        r.rows = iter(rest)

    def forget(self, r: Source | None) -> None:
        """A portal was closed: its unread rows are never needed (not even read into memory)."""
        if r is not None and r is self.live:
            self.live = None

    def zone_alias(self) -> str | None:
        """PostgreSQL's name of the zone DuckDB holds, when it differs from DuckDB's own (an offset zone, pgzones)."""
        return self.time_zone if self.time_zone != self.duckdb_zone else None

    def txn_read_only(self) -> bool:
        """Whether the transaction now (or the statement's own, outside one) is READ ONLY: its own mode, else the
        session's default."""
        return self.read_only_default if self.read_only_txn is None else self.read_only_txn

    def in_duckdb_transaction(self) -> bool:
        """Whether DuckDB's transaction is open: a block, the extended protocol's implicit one, a batch's."""
        return self.status != b"I" or self.implicit or self.batch

    def outside(self) -> bool:
        """Whether a SET now is outside any transaction (block, batch, or the extended protocol's until Sync)."""
        return self.status == b"I" and not self.implicit and not self.batch and not self.unsynced

    def in_block(self) -> bool:
        """Whether a statement now runs in a transaction that outlives it (the client's block, a batch, the extended
        protocol's implicit transaction), whose snapshot may predate the catalogue's last change."""
        return self.status != b"I" or self.implicit or self.batch

    def close_cursors(self, name: str | None) -> None:
        """CLOSE: the cursor's unread rows are never needed (not even read into memory). None: all of them."""
        for c in [c for c in self.cursors.open.values() if name is None or c.name == name]:
            del self.cursors.open[c.name]
            self.forget(c.source)

    def end_cursors(self, committed: bool) -> None:
        for c in self.cursors.end_transaction(committed):
            self.forget(c.source)
