"""The DuckDB side of ``ad-duckdb serve``: the served database (``Backend``: the connection owning the anomaly
functions) and one client's ``Session``, which runs its statements on its own cursor: transactions, prepared
statements and portals, the PostgreSQL settings and SHOW answers DuckDB lacks, cursors and COPY, timeouts.

``server`` owns the sockets and the protocol's messages and hands each statement here; this module never imports
it, and, like the other ``pg*`` helpers, speaks no wire protocol.
"""


from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from . import interrupts, servedwrites, workfolder
from .attachfiles import Attached, check_schemas
from .attachfiles import attach as attach_file
from .exceptions import clean_up_after
from .pgarrayconcat import array_element_concats
from .pgavgout import avg_outputs
from .pgcatalog import BACKEND_PID_SQL, SESSION_OBJECTS, SESSION_SQL, backend_pid_sql, catalog_objects, session_sql
from .pgcatalogparsed import CatalogStatements
from .pgcatalogversion import VERSION, changes_catalogue
from .pgcolnames import postgres_names
from .pgcopy import CopyIn, CopyOut
from .pgcopy import parse as parse_copy
from .pgcopyin import Loader
from .pgcursors import MAX_SCROLL_ROWS, Close, Cursor, Cursors, Declare, Fetch, Source, quoted
from .pgcursors import parse as parse_cursor
from .pgdupnames import postgres_duplicates, renaming, stored_like_renamed
from .pgerrorline import user_sql_error
from .pgerrors import ProtocolError, in_failed_transaction
from .pgfloat import double_floats
from .pgformat import pg_formats
from .pgfunctions import pg_functions, symmetric_betweens
from .pgintervalout import interval_outputs
from .pgintervalrows import arrow_chunks, interval_columns
from .pgjsonagg import json_builders
from .pgjsonb import jsonb_operators
from .pgjsonb import register as register_jsonb
from .pgjsonbout import jsonb_outputs
from .pgjsoncols import JSON_NAMES_SQL, JsonColumns, JsonNamesCache
from .pgjsonedit import register as register_jsonb_edits
from .pgjsonpath import json_paths
from .pgknobs import KNOBS, knob_value
from .pglistsort import list_null_orders
from .pgnumscale import literal_scales, parameter_scales
from .pgoncommit import OnCommitTables
from .pgparams import parameter_oids
from .pgpercentile import CONT_MACRO, CONT_MACRO_SQL, double_percentiles
from .pgpivotsum import pivot_sums
from .pgposixzone import posix_rules_hint
from .pgpublic import REAL_PUBLIC_SQL, public_as_main
from .pgresulttypes import result_types
from .pgroots import root_operators
from .pgskipping import skipping_notice
from .pgsql import (
    ACCESS_METHOD_RE,
    APPLICATION_NAME_RE,
    BEGIN_MODES_RE,
    BEGIN_RE,
    CLIENT_ENCODING_RE,
    CUSTOM_RESET_RE,
    CUSTOM_SET_RE,
    CUSTOM_SETTINGS_VARIABLE,
    CUSTOM_SHOW_RE,
    DATESTYLE_RE,
    DEALLOCATE_RE,
    DISCARD_RE,
    INTERVALSTYLE_RE,
    JIT_PROBE_RE,
    LISTEN_RE,
    LISTEN_REFUSED,
    PG_ONLY_RE,
    PG_SHOW_COLUMNS,
    PREPARE_NAME_RE,
    PREPARE_TRANSACTION_RE,
    READ_ONLY_SET_RE,
    RESET_RE,
    SAVEPOINT_RE,
    SEARCH_PATH_RE,
    SEARCH_PATH_SQL,
    SET_CONFIG_CALL_RE,
    SET_CONFIG_RE,
    SET_CONFIGS_RE,
    SET_LOCAL_RE,
    SET_RE,
    SET_SCOPE,
    SET_TRANSACTION_RE,
    SET_WORD,
    SHOW_ALL_RE,
    SHOW_ALL_SQL,
    SHOW_RE,
    TIMEOUT_RE,
    TXN_WORD,
    UNLISTEN_RE,
    UNLOCK_ALL_RE,
    VERSION_RE,
    OnCommit,
    SetCommand,
    access_method_error,
    catalog_rewrites,
    client_encoding_error,
    creates_on_commit,
    custom_value,
    datestyle_error,
    from_first_word,
    function_lookup,
    intervalstyle_error,
    isolation_level,
    keyword_tag,
    on_commit_table,
    read_only_setting,
    returning_select,
    search_path_sql,
    set_command,
    set_config_args,
    set_config_column,
    set_config_has_parameter,
    set_config_items,
    set_config_parameter_oids,
    split_statements,
    statement_name,
    temp_table_sql,
    timeout_ms,
    transaction_modes,
    typed_prepare,
    unsupported,
)
from .pgsql import PG_SHOW as _PG_SHOW
from .pgsql import PG_VERSION as PG_VERSION
from .pgstoredinline import inline_stored_macros
from .pgstoredpython import stored_python_error
from .pgsubstring import regex_substrings
from .pgsubstring import register as register_regex_group
from .pgsum import SUM_MACRO, SUM_MACRO_SQL, int_sums
from .pgtextcast import catalogue_query, text_casts
from .pgtextcast import register as register_text_casts
from .pgtypes import type_of
from .pgvalues import values_names
from .pgvaluescale import values_scales
from .pgxor import xor_operators
from .pgzones import Zone, offset_zone
from .servefix import Served
from .sqltext import quote_ident, quote_literal
from .udfs import register, registry

# an SQL EXECUTE, whose PREPAREd text may call pgsum's macro
EXECUTE_WORD_RE = re.compile(r"\s*execute\b", re.I)
EXECUTE_NAME_RE = re.compile(r'\s*execute\s+("(?:[^"]|"")+"|\w+)', re.I)  # an SQL EXECUTE's name (PREPARE_NAME_RE's)

# The server's logger, not one of this module's own: what a session logs (a failed COPY rolled back) reads as the
# server's, and the one logging setting of `ad-duckdb serve` covers it.
log = logging.getLogger("ad_duckdb.server")

# SHOW names whose answer is whether the server may change its database (Session.read_only).
_READ_ONLY_SHOW = {"transaction_read_only", "default_transaction_read_only"}
# PostgreSQL-only session settings clients SET on connect; DuckDB has no such option, so SET is a no-op.
_PG_ONLY_SETTINGS = {
    "application_name", "client_encoding", "datestyle", "intervalstyle", "extra_float_digits",
    "lock_timeout", "idle_in_transaction_session_timeout", "client_min_messages", "standard_conforming_strings",
    "bytea_output", "jit", "default_transaction_isolation", "default_transaction_read_only", "session characteristics",
    # PostgreSQL's memory and planner knobs (a session's SET work_mem before a big query) and the settings a pg_dump
    # script opens with: DuckDB's own settings were "locked", which read as a refusal of the session's right to tune
    "work_mem", "maintenance_work_mem", "temp_buffers", "effective_cache_size", "random_page_cost", "seq_page_cost",
    "default_statistics_target", "synchronous_commit", "idle_session_timeout", "check_function_bodies",
    "row_security", "xmloption", "default_tablespace", "default_table_access_method",
}
# PostgreSQL-only settings whose SET is taken only with the value the server keeps anyway: the regex of the SET, and
# why another value is refused (a SET that said SET while nothing changed misled the client).
_CHECKED_SETTINGS = ((DATESTYLE_RE, datestyle_error), (INTERVALSTYLE_RE, intervalstyle_error),
                     (CLIENT_ENCODING_RE, client_encoding_error), (ACCESS_METHOD_RE, access_method_error))
# Why refused by statement type (DuckDB's parse), whatever external access allows: DuckDB lets a client DETACH the
# files attached at start (DB's too, once another database is its default: USE lake), for every session, and keeps
# their paths allowed after `enable_external_access = false`, so a file detached could be attached again READ_WRITE.
# ATTACH itself stays DuckDB's to refuse: a file attached is refused again ("already attached"), any other file by
# the external-access setting.
DETACH_REFUSED = ("DETACH is refused on this server: the databases it serves are fixed when it starts (DB, and each "
                  "file of `ad-duckdb serve DB --attach PATH[=ALIAS]`, read-only); to serve others, restart the "
                  "server with the --attach files wanted.")
# What a READ ONLY transaction refuses, by DuckDB's statement type, as PostgreSQL's does (its 25006). Not COPY: the
# server's DuckDB has no file access, and COPY FROM STDIN is refused by cursor_statement. What an EXECUTE of an SQL
# PREPARE or a function in a SELECT writes, the type does not show: DuckDB's own read-only transaction (begin_sql)
# refuses that.
_READ_ONLY_REFUSED = frozenset(("INSERT", "UPDATE", "DELETE", "MERGE_INTO", "CREATE", "CREATE_FUNC", "DROP", "ALTER",
                                "ATTACH", "VACUUM", "ANALYZE", "EXPORT", "COPY_DATABASE", "LOAD", "EXTENSION"))
# Of those, what PostgreSQL refuses only when the table written is not temporary: in DuckDB's READ ONLY transaction
# they run, and DuckDB refuses a write to any other table (_WRITE_REFUSED_RE; on a read-only server, before that,
# "attached in read-only mode"), which the session says as PostgreSQL (as its standby does).
_TEMP_WRITES = frozenset(("INSERT", "UPDATE", "DELETE", "MERGE_INTO"))
_WRITE_REFUSED_RE = re.compile(r"Cannot write to database .* transaction is launched in read-only mode|"
                               r"Cannot execute statement of type .* attached in read-only mode")
# What DISCARD drops, by the kind its catalogue query names (a fixed word each, never the query's text).
_TEMP_KINDS = {"TABLE": "TABLE", "VIEW": "VIEW", "SEQUENCE": "SEQUENCE", "MACRO": "MACRO", "MACRO TABLE": "MACRO TABLE"}
# The settings DuckDB keeps per cursor that a session changes with DuckDB's own SET, by PostgreSQL's name (lower case,
# as set_command gives it): DuckDB's name. No ROLLBACK of DuckDB's undoes them; the session does (held_in_transaction).
_HELD = {"search_path": "search_path", "timezone": "TimeZone"}


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


class Session:
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
        # (Session.catalog): a session saves the time DuckDB spends binding those it never reads (~0.15 s for all).
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
        self.terminated = False  # pg_terminate_backend: its statement stops, then the session ends (FATAL 57P01)
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

    def compat(self, sql: str, params: list[Any] | None = None, describing: bool = False) -> Result | str:
        """Answer PostgreSQL-only chatter DuckDB does not understand; otherwise the SQL to run. ``describing``: for
        the Describe of a Parse (describe), before a Bind gives the parameters' values."""
        # Why from the first word: a tool's or a pooler's tag before DISCARD ALL or SET application_name hid it from
        # the regexes below, and DuckDB refused it (a syntax error, a locked setting)
        sql = from_first_word(sql)
        if self.status == b"E" and (VERSION_RE.match(sql) or SHOW_RE.match(sql) or SET_RE.match(sql) or (
                (s := SAVEPOINT_RE.match(sql)) is not None and not s.group(1).lower().startswith("rollback"))
                or DISCARD_RE.match(sql) or DEALLOCATE_RE.match(sql) or PG_ONLY_RE.match(sql)):
            # Why here: PostgreSQL refuses every statement but the block's end in a failed transaction; these the
            # server answers itself (a fixed SHOW, a SET it takes as a no-op, a DISCARD or DEALLOCATE of the
            # session's prepared statements) never reach _one, which refuses the rest; and PostgreSQL's own statements
            # DuckDB cannot parse (LISTEN, LOCK, DO), whose syntax error would hide that the block is aborted
            raise in_failed_transaction()
        if self.status == b"E" and PREPARE_TRANSACTION_RE.match(sql):
            return "ROLLBACK"
        if JIT_PROBE_RE.match(sql):
            if self.status == b"E":
                raise in_failed_transaction()
            return Result("SELECT", [("cur", 25, -1), ("new", 25, -1)], iter([("off", "off")]))
        if (c := SET_CONFIG_RE.match(sql)) is not None:
            if describing and set_config_has_parameter(c):  # (asyncpg's prepare): its column, nothing set
                return Result("SELECT", [(set_config_column(c), 25, -1)])
            return self.set_config(c, params)
        if SET_CONFIGS_RE.match(sql):
            # each call runs as its SET, in order; their values are the one row (a string's "set_config(" is inside
            # its quotes, which the calls' own pattern reads whole before it could start there)
            listed = list(SET_CONFIG_CALL_RE.finditer(sql, sql.lower().index("select") + 6))
            if describing and any(set_config_has_parameter(call) for call in listed):
                return Result("SELECT", [(set_config_column(call), 25, -1) for call in listed])
            done = [self.set_config(call, params) for call in listed]
            return Result("SELECT", [col for r in done for col in r.columns or []],
                          iter([tuple(v for r in done for v in next(r.rows))]))
        if (calls := set_config_items(sql)) is not None:
            sql = self.set_configs_among(sql, calls, params, describing)
        if (c := CUSTOM_SET_RE.match(sql) or CUSTOM_RESET_RE.match(sql)) is not None:
            return self.set_custom(c)
        if (c := CUSTOM_SHOW_RE.match(sql)) is not None:
            return self.show_custom(c.group("name").lower())
        if LISTEN_RE.match(sql):
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise ProtocolError(LISTEN_REFUSED, "0A000")
        if VERSION_RE.match(sql):
            import ad_duckdb

            return Result("SELECT", [("version", 25, -1)], iter([(
                f"PostgreSQL {PG_VERSION} (ad_duckdb {ad_duckdb.__version__} on DuckDB {duckdb.__version__})",)]))
        m = TIMEOUT_RE.match(sql)
        if m:
            # Enforced by the server (Handler.loop), unlike the PostgreSQL-only settings accepted as no-ops below.
            local, value = m.group(1), m.group(2)
            default = value is None or value.strip().strip("'\"").strip().lower() == "default"
            self.set_setting("timeout_ms", self.timeout_default if default else timeout_ms(value), bool(local))
            return Result("SET" if sql.lstrip()[:3].lower() == "set" else "RESET")
        if SET_WORD.match(sql) and (served := self.session_set(sql)) is not None:
            return served
        m = SHOW_RE.match(sql)
        if m and (key := m.group("name").strip().lower()) in KNOBS and key in self.custom_settings:
            return Result.constant(key, self.custom_settings[key])
        if m and " ".join(m.group("name").lower().split()) == "application_name":
            return Result.constant("application_name", self.application_name)
        if (a := APPLICATION_NAME_RE.match(sql)) is not None:
            value = a.group("value").strip()
            if value.lower() == "default":  # RESET's meaning, as in PostgreSQL; a quoted 'default' is a name
                value = self.application_name_default
            elif len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1].replace(value[0] * 2, value[0])
            self.set_setting("application_name", value, bool(a.group("local")))
            return Result("SET")
        if m and " ".join(m.group("name").lower().split()) == "statement_timeout":
            ms = self.timeout_ms
            return Result.constant("statement_timeout", f"{ms // 1000}s" if ms and not ms % 1000 else f"{ms}ms" if ms else "0")
        if m and " ".join(m.group("name").lower().split()) in _READ_ONLY_SHOW:
            # Why not a fixed "off": a tool that asks before offering to edit rows (DBeaver, Metabase) then tries
            # writes a read-only server refuses
            name = m.group("name").strip().lower()
            on = self.read_only or (self.read_only_default if name.startswith("default") else self.txn_read_only())
            return Result.constant(name, "on" if on else "off")
        if m and " ".join(m.group("name").lower().split()) in _PG_SHOW:
            key = " ".join(m.group("name").lower().split())
            return Result.constant(PG_SHOW_COLUMNS.get(key, key.replace(" ", "_")), _PG_SHOW[key])
        if m and m.group("name").strip().lower() == "max_connections":
            return Result.constant("max_connections", str(self.max_connections))
        if m and " ".join(m.group("name").lower().split()) in ("timezone", "time zone"):
            # PostgreSQL's name of an offset zone ('<-07>+07'), which DuckDB's SHOW knows only as ICU's
            self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
            self.read_zone()
            return Result.constant("TimeZone", self.time_zone)
        if m and " ".join(m.group("name").lower().split()) == "search_path":
            self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
            return Result.constant("search_path", self.cur.execute(f"SELECT {SEARCH_PATH_SQL}").fetchall()[0][0])
        if m and (shown := self.show_setting(m.group("name"))) is not None:
            return shown
        path = search_path_sql(sql)
        reset = RESET_RE.match(sql)
        if path == "RESET search_path" or reset is not None and reset.group(1).lower() == "search_path":
            path = self.default_sql("search_path")  # the connection's own path, if it gave one
        if path is not None:
            local = (p := SEARCH_PATH_RE.match(sql)) is not None and p.group("local") is not None
            if local and self.outside():
                return Result("SET")  # outside any transaction SET LOCAL does nothing (it warned: warn_set_local)
            self.held_in_transaction("search_path", path, local)
            return path
        for pattern, refusal in _CHECKED_SETTINGS:
            if (d := pattern.match(sql)) is not None and (err := refusal(d.group(1))) is not None:
                if self.status == b"T":
                    self.status = b"E"  # as any error in a transaction block
                raise err
        if (served := self.transaction_mode(sql)) is not None:
            return served
        m = SET_RE.match(sql)
        if m and SET_SCOPE.sub("", " ".join(m.group(1).lower().split())) in KNOBS \
                and (cmd := set_command(sql)) is not None:
            return self.set_knob(cmd.name, cmd.value, cmd.scope == "local")
        if m and SET_SCOPE.sub("", " ".join(m.group(1).lower().split())) in _PG_ONLY_SETTINGS:
            return Result("SET")
        m = reset
        if m and m.group(1).lower() in KNOBS:
            return self.set_knob(m.group(1).lower(), None, False, "RESET")
        if m and (m.group(1).lower() == "all" or m.group(1).lower() in _PG_ONLY_SETTINGS) \
                or UNLISTEN_RE.match(sql) or UNLOCK_ALL_RE.match(sql):
            if self.status == b"E":
                raise in_failed_transaction()
            if UNLOCK_ALL_RE.match(sql):  # PostgreSQL's void result: one row, an empty value
                return Result("SELECT", [("pg_advisory_unlock_all", 2278, 4)], iter([("",)]))
            if m and m.group(1).lower() == "all":
                self.reset_settings()
            elif m and m.group(1).lower() == "application_name":
                self.set_setting("application_name", self.application_name_default)
            elif m and m.group(1).lower() == "default_transaction_read_only":
                self.set_setting("read_only_default", False)
            return Result("RESET" if m else "UNLISTEN")
        if BEGIN_RE.match(sql):
            # DuckDB's BEGIN takes no isolation / read-only options; its own is serializable
            b = BEGIN_MODES_RE.match(sql)
            read_only = transaction_modes(b.group("modes")) if b is not None else None
            if self.status == b"I":
                self.read_only_txn = read_only
                self.isolation_txn = isolation_level(b.group("modes")) if b is not None else None
            elif self.status == b"T" and not self.implicit and not self.batch:
                # PostgreSQL warns and goes on in the open block; DuckDB's refusal failed the client's transaction
                self.notices.append(("there is already a transaction in progress", "25001", "WARNING"))
                return Result("BEGIN")
            return self.begin_sql()
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
        m = DISCARD_RE.match(sql)
        if m:
            what = m.group(1).upper().replace("TEMPORARY", "TEMP")
            if what == "ALL" and self.status != b"I":
                raise ProtocolError("DISCARD ALL cannot run inside a transaction block", "25001")
            if what in ("ALL", "PLANS"):
                self.statements.clear()  # what a pooler needs: no prepared statement survives
                self.described.clear()
                self.deallocate(set(self.sql_prepared))
            if what == "ALL":
                self.close_cursors(None)  # as PostgreSQL's DISCARD ALL: CLOSE ALL
                self.reset_settings()  # and RESET ALL
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
                self.made.clear()
                self.made_in_transaction.clear()
                self.has_sum_macro = self.sum_macro_in_transaction = False  # (dropped above: not one of ours)
                self.on_commit.clear()
            return Result(f"DISCARD {what}")
        m = DEALLOCATE_RE.match(sql)
        if m:
            # Prepared statements live in this server's session (the protocol's Parse), not in DuckDB.
            name = m.group(1).strip('"')
            if name.upper() == "ALL":
                self.statements.clear()
                self.deallocate(set(self.sql_prepared))
            else:
                self.statements.pop(name, None)
                self.deallocate({statement_name(m.group(1))})
            return Result("DEALLOCATE")
        served = self.cursor_statement(sql, params)
        if served is not None:
            return served
        try:
            self.creating = on_commit_table(sql)
            err = self.missing_function(sql) or unsupported(sql) or stored_python_error(sql)
        except ProtocolError as e:
            err = e
        if err is not None:
            if self.status == b"T":
                self.status = b"E"  # a refused statement fails the transaction, as any error does
            raise err
        # Catalogue lookups as psycopg and psql send them: DuckDB has no regtype type and no pg_catalog."default"
        # collation; to_regtype, pg_get_userbyid, ... are session macros (SESSION_SQL); pg_cursors is this session's.
        if SHOW_ALL_RE.match(sql):
            sql = SHOW_ALL_SQL
        # PostgreSQL's column names first: they are the client's expressions' (to_char, not the strftime it becomes)
        # (public.t as main's t and VALUES' column1, ... before: the names they give are what postgres_names sees)
        catalogue = catalogue_query(sql)  # (pgtextcast leaves the catalogue's casts to text as they are)
        sql = public_as_main(values_names(values_scales(sql)), self.real_public)  # (each number's own scale first)
        sql = parameter_scales(sql, params)  # $1::numeric of Decimals: their own scale, not 10 decimals (pgnumscale)
        sql = literal_scales(sql)  # 1.23456789012345::numeric likewise
        sql = double_floats(sql)  # PostgreSQL's float is float8 (pgfloat)
        # (PostgreSQL's JSON path operators, #, array || element, jsonb's || @> <@ ? and BETWEEN SYMMETRIC before the names, which
        # DuckDB's parser reads: pgcolnames names their calls ?column?, as PostgreSQL names an operator's)
        # (PostgreSQL's JSON aggregates and builders, its regular-expression substring and the functions pgfunctions
        # renames after the names: an unnamed json_agg(x) is json_agg, substring(x FROM 'p') substring, every(x) every)
        # (read once, if a || asks, and kept while the catalogue stays: pgjsoncols)
        json_names = JsonColumns(lambda: self.json_cache.read(self.json_names, self.in_block()))
        sql = array_element_concats(xor_operators(root_operators(json_paths(temp_table_sql(self.cursors.catalog(sql))))))
        sql = jsonb_operators(sql, json_names.column, self.query_types, json_names.any)
        sql = avg_outputs(interval_outputs(jsonb_outputs(postgres_names(symmetric_betweens(sql)))))  # (their names)
        sql = list_null_orders(pg_functions(result_types(regex_substrings(json_builders(sql), params))),
                               self.function_schemas)  # (result_types before pg_functions' round and length)
        sql = inline_stored_macros(sql)  # (a view's #> or #: the macros' DuckDB text, not the session's macros)
        sql = typed_prepare(text_casts(catalog_rewrites(pg_formats(double_percentiles(pivot_sums(int_sums(
            sql, self.table_columns, self.query_columns, self.macro_bodies), self.query_types), self.table_columns,
            self.query_columns, self.macro_bodies))), catalogue))  # (after the catalogue's oid::regclass::text)
        needed = catalog_objects(sql)
        if (p := PREPARE_NAME_RE.match(sql)) is not None:
            self.sql_prepared[statement_name(p.group(1))] = needed
        elif (x := EXECUTE_NAME_RE.match(sql)) is not None:
            # PostgreSQL keeps a PREPARE through ROLLBACK; the objects it created in that transaction went with it
            needed |= self.sql_prepared.get(statement_name(x.group(1)), frozenset())
        if self.status != b"E" and (missing := needed - self.made):
            self.catalog(missing)  # (a failed transaction refuses the statement anyway, _one)
        if not self.has_sum_macro and self.status != b"E" \
                and (SUM_MACRO in sql or CONT_MACRO in sql or self.sql_prepared and EXECUTE_WORD_RE.match(sql)):
            self.sum_macro()  # an SQL PREPARE's text may name it, past the ROLLBACK or DISCARD that dropped it
        if ("pg_application_name" in sql or "pg_current_setting" in sql) \
                and self.application_name_variable != self.application_name:
            # current_setting('application_name') reads the session's value from a DuckDB variable of this cursor
            # (pgsql._settings), set only when a statement reads it
            self.release()
            self.cur.execute("SET VARIABLE pg_application_name = ?", [self.application_name])
            self.application_name_variable = self.application_name
        settings = "pg_current_setting" in sql or "pg_settings" in sql  # (the macro and the view read them too)
        if ("pg_time_zone" in sql or settings) and self.time_zone_variable != self.zone_alias():
            # current_setting('TimeZone'), as SHOW TimeZone says it: PostgreSQL's name of an offset zone, kept in a
            # DuckDB variable of this cursor (pgsql._settings), set only when a statement reads it
            self.release()
            self.cur.execute("SET VARIABLE pg_time_zone = ?", [self.zone_alias()])
            self.time_zone_variable = self.zone_alias()
        if (CUSTOM_SETTINGS_VARIABLE in sql or settings) and self.custom_variable != self.custom_settings:
            # current_setting('app.tenant') reads the session's dotted settings (and its SET work_mem) from a DuckDB
            # variable of this cursor (pgsql._settings, the catalogue's pg_settings), set only when a statement reads it
            self.release()
            self.cur.execute("SET VARIABLE pg_custom_settings = map(?::VARCHAR[], ?::VARCHAR[])",  # (the constant's)
                             [list(self.custom_settings), list(self.custom_settings.values())])
            self.custom_variable = dict(self.custom_settings)
        if ("pg_max_connections" in sql or settings) and not self.max_connections_variable:
            self.release()
            self.cur.execute("SET VARIABLE pg_max_connections = ?", [str(self.max_connections)])
            self.max_connections_variable = True
        return sql

    def set_config(self, m: re.Match[str], params: list[Any] | None) -> Result:
        """SELECT set_config(name, value, is_local) as PostgreSQL runs it: SET [LOCAL] name = value (the session's
        own settings as their SET, DuckDB's by DuckDB), answered with the value. Why: it failed as a function DuckDB
        does not have, so a tool setting its search_path or application_name so stopped at connect."""
        try:
            name, value, local, column = set_config_args(m, params)
        except ProtocolError:
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise
        done = self.compat(f"SET {'LOCAL ' if local else ''}{name} = {quote_literal(value)}")
        if isinstance(done, str):
            self._one(duckdb.extract_statements(done)[0], None)
        if name.lower() in KNOBS:  # PostgreSQL answers with the value as SHOW shows it: 65536 is 64MB
            value = knob_value(name.lower(), value)
        return Result("SELECT", [(column, 25, -1)], iter([(value,)]))

    def set_configs_among(self, sql: str, calls: list[re.Match[str]], params: list[Any] | None,
                          describing: bool = False) -> str:
        """Run the set_config calls of a one-row SELECT with other items (pgsql.set_config_items), in order, as
        set_config does, and give the SELECT with each call as its value, named as PostgreSQL names it. Why: the
        select list of a tool's hook (SELECT set_config('app.user', $1, false), current_setting('app.role')) failed
        as a function DuckDB does not have. (The items after a call see its value, as PostgreSQL's do, left to
        right: here every call runs first.)"""
        out, last = [], 0
        for m in calls:
            # parameters without their values: Describe of a Parse (asyncpg's prepare), which must set nothing
            value = None if describing and set_config_has_parameter(m) else next(self.set_config(m, params).rows)[0]
            before, after = sql[:m.start()].rstrip(), sql[m.end():].lstrip()
            alone = (before.endswith(",") or before.lower().endswith("select")) and after[:1] in (",", ";", "")
            name = m.group("alias") or ("set_config" if alone else None)
            # its parameters stay in the statement, which DuckDB is given them all for
            # (is_local a boolean, as PostgreSQL types it: asyncpg encodes a parameter by the type the Describe gives)
            taken = [f"({m.group(g)}::BOOLEAN)::VARCHAR" if g == "local" else f"{m.group(g)}::VARCHAR"
                     for g in ("name", "value", "local") if m.group(g).startswith("$")]
            literal = "NULL::VARCHAR" if value is None else quote_literal(value)
            out += [sql[last:m.start()], f"coalesce({', '.join([literal, *taken])})" if taken else literal]
            if name is not None:  # (a quoted alias as written; DuckDB folds no case of its own)
                out.append(" AS " + (name if name.startswith('"') else quote_ident(name.lower())))
            last = m.end()
        return "".join([*out, sql[last:]])

    def set_custom(self, m: re.Match[str]) -> Result:
        """SET [SESSION | LOCAL] / RESET of a dotted name (app.tenant), which PostgreSQL keeps for the session as
        any client sets it (a dashboard's per-session context its SQL reads by current_setting): with a SET's rules
        (set_setting). RESET leaves it empty, as PostgreSQL's placeholder. Why: DuckDB refused the name."""
        name = m.group("name").lower()
        groups = m.groupdict()
        value = custom_value(groups["value"].strip()) if "value" in groups else None
        if (groups.get("scope") or "").strip().lower() == "local" and self.outside():
            return Result("SET")  # outside any transaction SET LOCAL does nothing (it warned: warn_set_local)
        self.set_setting("custom_settings", {**self.custom_settings, name: "" if value is None else value},
                         (groups.get("scope") or "").strip().lower() == "local")
        return Result("SET" if "value" in groups else "RESET")

    def set_knob(self, name: str, value: str | None, local: bool, tag: str = "SET") -> Result:
        """SET [LOCAL] / RESET of one of PostgreSQL's settings that change nothing here (pgknobs: work_mem), kept for
        the session as PostgreSQL shows it, with a SET's rules (set_setting); ``value`` None is RESET's (SET ...
        DEFAULT): the connection's own, else PostgreSQL's default (pgsql.PG_SHOW). Why: SET work_mem = '64MB' said
        SET, and SHOW work_mem went on saying 4MB."""
        try:
            if self.status == b"E":
                raise in_failed_transaction()
            shown = None if value is None else knob_value(name, value)
        except ProtocolError:
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise
        if local and self.outside():
            return Result("SET")  # outside any transaction SET LOCAL does nothing (it warned: warn_set_local)
        kept = {k: v for k, v in self.custom_settings.items() if k != name}
        if (shown := self.knob_defaults.get(name) if shown is None else shown) is not None:
            kept[name] = shown
        self.set_setting("custom_settings", kept, local)
        return Result(tag)

    def show_custom(self, name: str) -> Result:
        """SHOW of a dotted name: the session's value (set_custom), else PostgreSQL's error."""
        if self.status == b"E":
            raise in_failed_transaction()
        if name not in self.custom_settings:
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise ProtocolError(f'unrecognized configuration parameter "{name}"', "42704")
        return Result.constant(name, self.custom_settings[name])

    def show_setting(self, name: str) -> Result | None:
        """SHOW of a name the answers above do not know, as PostgreSQL's: a DuckDB setting's value, else PostgreSQL's
        error (42704); None for DuckDB's own SHOW TABLES / DATABASES / ALL. Why: DuckDB reads SHOW NAME as DESCRIBE
        NAME, so a tool probing a setting got "Table with name ... does not exist" (42P01), which no PostgreSQL
        client takes for an unknown setting."""
        key = " ".join(name.lower().split())
        if key.split()[0] in ("tables", "databases", "all"):
            return None
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        found = self.cur.execute("SELECT value FROM duckdb_settings() WHERE lower(name) = ?", [key]).fetchall()
        if found:
            return Result.constant(key, "" if found[0][0] is None else str(found[0][0]))
        if self.status == b"T":
            self.status = b"E"  # as any error in a transaction block
        raise ProtocolError(f'unrecognized configuration parameter "{key}"', "42704")

    def zone_alias(self) -> str | None:
        """PostgreSQL's name of the zone DuckDB holds, when it differs from DuckDB's own (an offset zone, pgzones)."""
        return self.time_zone if self.time_zone != self.duckdb_zone else None

    def reset_settings(self) -> None:
        """PostgreSQL's RESET ALL (also part of DISCARD ALL), for the settings a session here can change: the next
        user of a pooled connection gets neither the last one's statement_timeout nor its SET search_path / USE /
        SET schema (its FROM tx read the last one's analytics.tx) nor its time zone."""
        self.set_setting("timeout_ms", self.timeout_default)
        self.set_setting("application_name", self.application_name_default)
        self.set_setting("read_only_default", False)
        self.set_setting("isolation_default", "serializable")
        # (a dotted one stays, empty, as PostgreSQL's placeholder does)
        self.set_setting("custom_settings", {**{k: "" for k in self.custom_settings if "." in k}, **self.knob_defaults})
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        for name in _HELD:
            sql = self.default_sql(name)
            self.held_in_transaction(name, sql, local=False)
            self.cur.execute(sql)
        self.read_zone(self.default_zone)

    def default_sql(self, name: str) -> str:
        """The SQL that sets _HELD setting ``name`` back to the connection's own (given at startup, else DuckDB's)."""
        return self.held_defaults.get(name) or f"RESET {_HELD[name]}"

    def read_zone(self, named: Zone | None | bool = False) -> None:
        """Read the time zone DuckDB now holds (its own spelling: 'utc' is 'UTC'), which ready() reports; an offset
        zone by PostgreSQL's name for it (zone_names). ``named``: a SET just gave it, an offset (its Zone) or a name
        (None), which is from now on what DuckDB's zone is called."""
        zone = str(self.cur.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
        if isinstance(named, Zone):
            self.zone_names[zone] = named.shown
        elif named is None:
            self.zone_names.pop(zone, None)  # 'Etc/GMT+7' as such, though SET TIME ZONE -7 is DuckDB's Etc/GMT+7
        self.duckdb_zone, self.time_zone = zone, self.zone_names.get(zone, zone)

    @staticmethod
    def zone_sql(value: str) -> tuple[str, Zone | None]:
        """DuckDB's SET of PostgreSQL's TimeZone ``value``, and the offset zone it is (SET TIME ZONE -7, an INTERVAL, a
        POSIX spec: pgzones), None for a name, set as written. An offset DuckDB cannot hold: PostgreSQL's 22023."""
        zone = offset_zone(value)
        return f"SET TimeZone = {quote_literal(zone.duckdb if zone else value)}", zone

    def set_setting(self, name: str, value: Any, local: bool = False) -> None:
        """SET [LOCAL] of a setting the session keeps itself (its attribute ``name``), with PostgreSQL's rules: inside
        a transaction block it is undone if the block rolls back, and SET LOCAL lasts until the block ends (outside
        one it does nothing; PostgreSQL only warns). Why: a rolled-back SET application_name stayed, so
        pg_stat_activity and the driver named a tool the ROLLBACK had undone."""
        if self.status == b"E":  # as any statement but the block's end, in PostgreSQL
            raise in_failed_transaction()
        if self.outside():
            if not local:
                setattr(self, name, value)
            return  # (SET LOCAL: its transaction ends with it; it warned, warn_set_local)
        before, after = self.set_in_transaction.get(name, (getattr(self, name), getattr(self, name)))
        self.set_in_transaction[name] = (before, after if local else value)
        setattr(self, name, value)

    def txn_read_only(self) -> bool:
        """Whether the transaction now (or the statement's own, outside one) is READ ONLY: its own mode, else the
        session's default."""
        return self.read_only_default if self.read_only_txn is None else self.read_only_txn

    def begin_sql(self) -> str:
        """DuckDB's BEGIN of the transaction now starting. Why DuckDB's READ ONLY too: it refuses what the statement's
        type does not show (an EXECUTE of an SQL PREPARE, a write by a function), while temporary objects (the
        session's catalogue) stay writable, as in PostgreSQL."""
        if self.status == b"I":  # (a BEGIN inside a block begins nothing: PostgreSQL warns, DuckDB refuses it)
            self.duck_read_only, self.queried = self.txn_read_only(), False
        return "BEGIN TRANSACTION READ ONLY" if self.txn_read_only() else "BEGIN"

    def in_duckdb_transaction(self) -> bool:
        """Whether DuckDB's transaction is open: a block, the extended protocol's implicit one, a batch's."""
        return self.status != b"I" or self.implicit or self.batch

    def change_access_mode(self, read_only: bool) -> None:
        """SET TRANSACTION READ ONLY / READ WRITE inside a transaction, as PostgreSQL takes it: READ WRITE only before
        the transaction's first query (25001 after it); before one DuckDB's transaction starts again in the mode
        asked, as nothing ran in it, so DuckDB refuses what the mode refuses (and writes temporary tables in READ
        ONLY). Why: BEGIN READ ONLY; SET TRANSACTION READ WRITE said SET while DuckDB's transaction stayed read-only."""
        if not read_only and self.txn_read_only() and self.queried:
            raise ProtocolError("transaction read-write mode must be set before any query", "25001")
        self.read_only_txn = read_only
        if self.in_duckdb_transaction() and not self.queried and self.duck_read_only != read_only:
            self.release()  # a WITH HOLD cursor's unread rows would be lost to the ROLLBACK on this cursor
            self.cur.execute("ROLLBACK")
            self.cur.execute("BEGIN TRANSACTION READ ONLY" if read_only else "BEGIN")
            self.duck_read_only = read_only

    def change_isolation(self, level: str) -> None:
        """SET TRANSACTION ISOLATION LEVEL inside a transaction, as PostgreSQL takes it: another level than the
        transaction's only before its first query (25001 after it). Why: it said SET after a query, as if the
        transaction had changed level mid-way, which PostgreSQL never lets happen."""
        if self.queried and level != (self.isolation_txn or self.isolation_default):
            raise ProtocolError("SET TRANSACTION ISOLATION LEVEL must be called before any query", "25001")
        self.isolation_txn = level

    def transaction_mode(self, sql: str) -> Result | None:
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
            if self.status == b"E":
                raise in_failed_transaction()
            default = t is not None and t.group(1) is not None or r is not None and bool(r.group("default"))
            level = isolation_level(t.group("modes")) if t is not None else None
            if not default and not self.outside() and level is not None:
                self.change_isolation(level)
            if not default and not self.outside() and read_only is not None:
                self.change_access_mode(read_only)
        except ProtocolError:
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise
        if default:
            if read_only is not None:
                self.set_setting("read_only_default", read_only, r is not None and bool(r.group("local")))
            if level is not None:
                self.set_setting("isolation_default", level)
        elif self.outside():
            self.notices.append(("SET TRANSACTION can only be used in transaction blocks", "25P01", "WARNING"))
        return Result("SET")

    def outside(self) -> bool:
        """Whether a SET now is outside any transaction (block, batch, or the extended protocol's until Sync)."""
        return self.status == b"I" and not self.implicit and not self.batch and not self.unsynced

    def held_in_transaction(self, name: str, sql: str, local: bool) -> None:
        """``sql`` (DuckDB's SET or RESET of _HELD setting ``name``) is about to run: inside a transaction block, keep
        what undoes it, as set_setting does for the session's own settings; DuckDB's ROLLBACK does not."""
        if self.status == b"E" or self.outside():
            return  # outside a block it simply holds; in a failed one _one refuses it
        if name not in self.set_in_transaction:
            self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
            now = self.cur.execute(f"SELECT current_setting({quote_literal(_HELD[name])})").fetchall()[0][0]
            back = f"SET {_HELD[name]} = {quote_literal(now)}" if now else f"RESET {_HELD[name]}"
            self.set_in_transaction[name] = (back, (back, False))
        # after COMMIT: the last session SET's, and whether a SET LOCAL ran since (else DuckDB holds it already)
        before, (after, _) = self.set_in_transaction[name]
        self.set_in_transaction[name] = (before, (after, True) if local else (sql, False))

    def session_set(self, sql: str) -> Result | None:
        """SET GLOBAL refused, and SET [LOCAL] / RESET of the time zone run; None for any other statement. By DuckDB's
        tokenizer (set_command), so no spelling of SET GLOBAL reaches DuckDB, which would change every session's."""
        cmd = set_command(sql)
        if cmd is None or cmd.scope != "global" and cmd.name != "timezone":
            return None
        try:
            if self.status == b"E":
                raise in_failed_transaction()
            if cmd.scope == "global":
                raise ProtocolError("SET GLOBAL is refused on this server: it would change the setting for every "
                                    "session, which PostgreSQL's SET never does; SET without GLOBAL changes this "
                                    "session's only (SET LOCAL: until the transaction block ends).", "0A000")
            self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
            return self.set_zone(cmd, "RESET" if sql.lstrip()[:5].lower() == "reset" else "SET")
        except ProtocolError:
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise

    def set_zone(self, cmd: SetCommand, tag: str) -> Result:
        """SET [LOCAL] TimeZone / SET TIME ZONE / RESET TimeZone: this session's zone (DuckDB's, per cursor), as
        PostgreSQL's; a zone DuckDB does not know is PostgreSQL's error, naming it."""
        sql, zone = (self.default_sql("timezone"), None) if cmd.value is None else self.zone_sql(cmd.value)
        local = cmd.scope == "local"
        if local and self.outside():
            return Result("SET")  # outside any transaction SET LOCAL does nothing (it warned: warn_set_local)
        self.held_in_transaction("timezone", sql, local)
        try:
            self.cur.execute(sql)
        except duckdb.Error as e:
            why = posix_rules_hint(cmd.value or "") or ("a zone name DuckDB knows, as in SELECT name FROM "
                                                  "pg_timezone_names(); say 'Europe/Paris', 'UTC'")
            raise ProtocolError(f'invalid value for parameter "TimeZone": "{cmd.value}" ({why})', "22023") from e
        # (RESET: the connection's own zone, by its name, though an offset SET since gave DuckDB's zone another one)
        self.read_zone(zone if cmd.value is not None else self.default_zone)
        return Result(tag)

    def end_settings(self, committed: bool) -> None:
        """The transaction block ended: its SETs stay if it committed (but SET LOCAL's), else they are undone."""
        for name, (before, after) in self.set_in_transaction.items():
            if name in _HELD:  # DuckDB's (held_in_transaction), set again outside the transaction
                self.restore_held(name, before if not committed else after[0] if after[1] else None)
            elif name == "custom_settings":
                # a dotted setting first SET in the block stays, empty, whatever undoes its value: PostgreSQL's
                # placeholder outlives the ROLLBACK or SET LOCAL that created it (current_setting('app.x', true) is '')
                kept = after if committed else before
                made = {k: "" for k in (*self.custom_settings, *after) if "." in k and k not in kept}
                self.custom_settings = {**kept, **made}
            else:
                setattr(self, name, after if committed else before)
        self.set_in_transaction.clear()
        self.read_only_txn = self.isolation_txn = None
        self.duck_read_only = False

    def restore_held(self, name: str, sql: str | None) -> None:
        """Set _HELD setting ``name`` again as a transaction's end leaves it (None: as it is). A schema a search path
        names may be gone (dropped in the transaction): then the connection's own, as the transaction's end must not
        fail."""
        if sql is None:
            return
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        try:
            self.cur.execute(sql)
        except duckdb.Error as e:
            log.warning("%s after the transaction (%s) failed, the connection's own instead: %s", name, sql, e)
            self.cur.execute(self.default_sql(name))
        if name == "timezone":
            self.read_zone()

    def deallocate(self, names: set[str]) -> None:
        """Drop these SQL PREPAREs from DuckDB. Why: an SQL PREPARE lives in DuckDB, beside the protocol's statements
        (``statements``) that PostgreSQL keeps under the same names, and outlived DEALLOCATE and a pooler's DISCARD
        ALL: EXECUTE still ran it."""
        if not names:
            return
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        for name in names:
            self.sql_prepared.pop(name, None)
            try:
                self.cur.execute(f"DEALLOCATE {quote_ident(name)}")
            except duckdb.Error:
                pass  # never prepared (its PREPARE failed): nothing to drop

    def real_public(self) -> bool:
        """Whether an attached database has a catalog or schema named public (pgpublic leaves public.x to it then);
        True when it cannot be asked (a failed transaction), so the statement runs as written."""
        if self.status == b"E":
            return True  # (the statement is refused anyway)
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        try:
            return bool(self.cur.execute(REAL_PUBLIC_SQL).fetchall()[0][0])
        except duckdb.Error:
            return True

    def missing_function(self, sql: str) -> ProtocolError | None:
        """PostgreSQL's error for psql's \\sf / \\ef lookup of a function that does not exist (the refusal to show
        one that does, ``unsupported``, would send the user looking for a definition of nothing)."""
        lookup = function_lookup(sql)
        if lookup is None or self.status == b"E":  # (a failed transaction refuses it anyway)
            return None
        typed, parts = lookup
        if not parts:
            return ProtocolError(f"invalid name syntax: {typed!r} is no function name", "42602")
        database, schema = ([None, None] + parts[:-1])[-2:]  # name, schema.name or database.schema.name
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        # PostgreSQL's pg_catalog is DuckDB's system database (pgcatalog's pg_proc lists its functions there); the
        # server's own session macros (temp) are no function of the user's database
        found = self.cur.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE lower(function_name) = lower($name) "
            "AND NOT (database_name = 'temp' AND list_contains($ours, lower(function_name))) "
            "AND ($schema IS NULL OR CASE WHEN database_name = 'system' THEN lower($schema) = 'pg_catalog' "
            "ELSE lower(schema_name) = lower($schema) END) "
            "AND ($database IS NULL OR lower(database_name) = lower($database))",
            {"name": parts[-1], "schema": schema, "database": database,
             "ours": [n.lower() for n in SESSION_OBJECTS]}).fetchall()[0][0]
        return None if found else ProtocolError(f'function "{typed}" does not exist', "42883")

    def catalog(self, names: frozenset[str]) -> None:
        """Create this session's catalogue views and macros (pgcatalog.SESSION_SQL) of ``names`` (lower case), in
        SESSION_SQL's order (each after those it names)."""
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        try:
            for i, (name, q) in enumerate(zip(SESSION_OBJECTS, self.catalog_sql.texts, strict=True)):
                if name.lower() in names:
                    self.cur.execute(backend_pid_sql(self.pid) if q == BACKEND_PID_SQL
                                     else self.catalog_sql.statement(i, self.cur))
        except BaseException:
            # Part of it may exist (CREATE OR REPLACE makes a retry safe); in a transaction block the failure fails
            # the transaction, as the statement's own error would.
            if self.status == b"T":
                self.status = b"E"
            raise
        self.made |= names
        self.queried = True
        if self.status != b"I" or self.implicit or self.batch:
            self.made_in_transaction |= names

    def catalog_end(self, committed: bool) -> None:
        """The transaction ended: a catalogue (or sum macro) created inside it is gone unless it committed; a change
        of the catalogue in it is shown to the other sessions (or undone), and what this one read in it is dropped
        (pgcatalogversion, pgjsoncols)."""
        if self.catalogue_changed:
            VERSION.bump()
            self.catalogue_changed = False
        self.json_cache.transaction_ended()
        if not committed:
            self.made -= self.made_in_transaction
        self.made_in_transaction.clear()
        if self.sum_macro_in_transaction:
            self.has_sum_macro, self.sum_macro_in_transaction = committed, False

    def table_columns(self, parts: tuple[str, ...]) -> frozenset[str] | None:
        """The columns (lower case) of the table or view named by ``parts`` (lower case; schema, table), as this
        session sees it, temporary tables too; for pgsum, telling a subquery's sum of its own column from one of an
        outer query's. The columns every table of that name has (another database's or schema's may differ); None
        when there is none, or the transaction has failed (the statement is refused anyway)."""
        if self.status == b"E" or len(parts) > 3:
            return None
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        # db.schema.t, schema.t or db.t (DuckDB takes either for two parts), t
        where = {1: "lower(table_name) = ?", 2: "lower(table_name) = ? AND ? IN (lower(schema_name), "
                 "lower(database_name))", 3: "lower(table_name) = ? AND lower(schema_name) = ? AND "
                 "lower(database_name) = ?"}[len(parts)]
        rows = self.cur.execute("SELECT list(DISTINCT lower(column_name)) FROM duckdb_columns() WHERE " + where
                                + " GROUP BY database_name, schema_name, table_name", list(reversed(parts))).fetchall()
        return frozenset.intersection(*(frozenset(r[0]) for r in rows)) if rows else None

    def function_schemas(self, name: str) -> frozenset[str]:
        """The schemas (lower case, every attached database's) with a function named ``name`` (lower case), for
        pglistsort; none where the transaction has failed."""
        if self.status == b"E":
            return frozenset()
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        return frozenset(r[0] for r in self.cur.execute(
            "SELECT DISTINCT lower(schema_name) FROM duckdb_functions() WHERE lower(function_name) = ?", [name]).fetchall())

    def in_block(self) -> bool:
        """Whether a statement now runs in a transaction that outlives it (the client's block, a batch, the extended
        protocol's implicit transaction), whose snapshot may predate the catalogue's last change."""
        return self.status != b"I" or self.implicit or self.batch

    def json_names(self) -> list[tuple[str, bool]] | None:
        """Each column name (lower case) some JSON column has, and whether every column of that name is JSON
        (pgjsoncols); None where the transaction has failed."""
        if self.status == b"E":
            return None
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        return [(n, bool(every)) for n, every in self.cur.execute(JSON_NAMES_SQL).fetchall()]

    def query_columns(self, sql: str) -> frozenset[str] | None:
        """The columns (lower case) of query ``sql``'s result, bound by DuckDB and not run; for pgsum, the columns of
        a CTE or a derived table. None when DuckDB cannot bind it alone (it names an outer query's columns), or the
        transaction has failed. A binder's error leaves the client's transaction as it was."""
        if self.status == b"E":
            return None
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        try:
            return frozenset(c[0].lower() for c in _columns(self.cur, sql, 0))
        except duckdb.Error:
            return None

    def query_types(self, sql: str) -> list[tuple[str, int]] | None:
        """The columns (name, PostgreSQL type OID) of query ``sql``'s result, bound by DuckDB and not run; for
        pgpivotsum, the type of a PIVOT's sum's argument and the sum's name. None as for ``query_columns``."""
        if self.status == b"E":
            return None
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        try:
            return [(c[0], c[1]) for c in _columns(self.cur, sql, 0)]
        except duckdb.Error:
            return None

    def macro_bodies(self, name: str) -> list[str] | None:
        """The bodies of the scalar macro ``name`` (lower case), one per overload, as this session sees it; for pgsum,
        telling a sum of a user's macro of no aggregate (bigint, as PostgreSQL's SQL function's) from one holding an
        aggregate. None when the name is not only a scalar macro's (a table macro's, a function's too), or the
        transaction has failed (the statement is refused anyway)."""
        if self.status == b"E":
            return None
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        rows = self.cur.execute("SELECT function_type, macro_definition FROM duckdb_functions() WHERE "
                                "lower(function_name) = ?", [name]).fetchall()
        if not rows or any(kind != "macro" or body is None for kind, body in rows):
            return None
        return [body for _, body in rows]

    def sum_macro(self) -> None:
        """Create the macro a query's sum() of integers becomes (pgsum), and percentile_cont's key's (pgpercentile),
        once. Not with the catalogue: a session's first sum() would pay the ~20 ms (and more, on a busy server)
        DuckDB spends binding its views."""
        self.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        try:
            self.cur.execute(SUM_MACRO_SQL + "; " + CONT_MACRO_SQL)
        except BaseException:
            if self.status == b"T":
                self.status = b"E"  # as the statement's own error would
            raise
        self.has_sum_macro = True
        self.sum_macro_in_transaction = self.status != b"I" or self.implicit or self.batch

    def warn_set_local(self, sql: str, alone: bool) -> None:
        """PostgreSQL's WARNING for SET LOCAL outside a transaction block: in autocommit, a Query of one statement
        (``alone``; several are an implicit block) or the extended protocol's implicit transaction, which is no block
        (it still applies, until Sync: set_setting). It said SET as if the setting held."""
        if self.status == b"I" and alone and SET_LOCAL_RE.match(from_first_word(sql)):
            self.notices.append(("SET LOCAL can only be used in transaction blocks", "25P01", "WARNING"))

    def run(self, sql: str, params: list[Any] | None = None) -> Generator[Result, None, None]:
        """Execute the statements of ``sql`` one by one; each result must be read before the next runs."""
        self.started_statement(sql)
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
        # A statement alone that may write (or create an ON COMMIT table) runs so too when the session has tables
        # with ON COMMIT DROP / DELETE ROWS: its commit is the one that empties them (pgoncommit). Any statement
        # runs so under a READ ONLY session default: DuckDB's read-only transaction refuses the writes its type hides
        # (an EXECUTE of a prepared INSERT, EXPLAIN ANALYZE INSERT, nextval()), which ran in autocommit.
        implicit = (self.status == b"I" and (len(parts) > 1 or len(parts) == 1 and (
                    self.fills_on_commit_tables(parts[0]) or creates_on_commit(parts[0]) or self.read_only_default))
                    and not any(TXN_WORD.match(from_first_word(p)) or _declares_hold(p) for p in parts))
        if implicit:
            self.release()
            self.cur.execute(self.begin_sql())
            self.batch = True
        try:
            # Each statement on its own: a PostgreSQL-only SET first must not swallow the statements after it.
            for part in parts or [sql]:
                self.warn_set_local(part, len(parts) <= 1)
                c = self.compat(part, params if len(parts) == 1 else None)
                if isinstance(c, Result):
                    yield c
                    continue
                stmts = duckdb.extract_statements(c)
                for st in stmts:
                    yield self._written(st, params if len(parts) == 1 and len(stmts) == 1 else None, part)
            if implicit and self.on_commit.tables:
                # on this cursor, before the COMMIT that would end an open result anyway (its rows were read, or it
                # is a cursor declared in the batch, which ends with it)
                self.live = None
                self.on_commit.commit(self.cur)
        except BaseException:
            if implicit:
                self.batch = False
                self.end_cursors(committed=False)
                self.catalog_end(committed=False)
                self.cur.execute("ROLLBACK")
                self.end_settings(committed=False)
                self.on_commit.ended(committed=False)
                servedwrites.ended(self, committed=False)
            raise
        if implicit:
            self.batch = False
            self.end_cursors(committed=True)  # cursors declared in the batch end with it, as in PostgreSQL
            self.cur.execute("COMMIT")
            self.catalog_end(committed=True)
            self.end_settings(committed=True)
            self.on_commit.ended(committed=True)
            servedwrites.ended(self, committed=True)

    def fills_on_commit_tables(self, sql: str) -> bool:
        """Whether ``sql`` may add rows to a temporary table ON COMMIT DELETE ROWS (pgoncommit)."""
        # (a lookup of their names runs on this cursor, after a suspended result is read: release)
        return bool(self.on_commit.tables) and self.on_commit.may_fill(self.cur, sql, self.release)

    def run_one(self, sql: str, params: list[Any] | None, written: str = "") -> Result:
        """Execute one prepared statement (the extended protocol allows exactly one); ``written`` is the client's
        text of it, where the server added to it already (Parse's parameter casts)."""
        self.unsynced = True
        self.started_statement(sql)
        self.warn_set_local(sql, alone=True)
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
            self.cur.execute(self.begin_sql())
            self.implicit = True
        return self._written(st, params, written or sql)

    def _written(self, st: Any, params: list[Any] | None, written: str) -> Result:
        """``_one(st)``, whose error quotes ``written``, the client's SQL ``st`` was rewritten from, rather than the
        rewrite (pgerrorline)."""
        try:
            return self._one(st, params)
        except duckdb.Error as e:
            if st.query != written and e.args and isinstance(e.args[0], str) and "\nLINE " in e.args[0]:
                e.args = (user_sql_error(e.args[0], st.query, written), *e.args[1:])
            raise

    def sync(self) -> None:
        """Sync: commit the implicit transaction, or roll it back after an error (``failed``)."""
        failed, self.implicit_failed, self.unsynced = self.implicit_failed, False, False
        try:
            if self.implicit:
                self.implicit = False
                if not failed and self.cursors.holds(self.live):
                    try:
                        self.release()  # a WITH HOLD cursor outlives the COMMIT, its rows held in memory
                    except ProtocolError:
                        pass  # too many: the cursor's next FETCH says so; the COMMIT itself goes ahead
                self.live = None
                if not failed:
                    try:
                        self.on_commit.commit(self.cur)
                    except BaseException:
                        failed = True
                        self.cur.execute("ROLLBACK")
                        raise
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
            self.notices.append(("there is no transaction in progress", "25P01", "WARNING"))  # as PostgreSQL's
            return Result("ROLLBACK" if head in ("ROLLBACK", "ABORT") else "COMMIT")
        if self.status == b"E" and (kind != "TRANSACTION" or head in ("BEGIN", "START")):
            # DuckDB's transaction fails only on DuckDB's errors; after one of ours (a refused statement, a timeout
            # while rows were sent) it would still run statements the client must not rely on. A BEGIN got DuckDB's
            # own words for it, where PostgreSQL's are the client's to match
            raise in_failed_transaction()
        what = kind.removesuffix("_INTO") if head == "WITH" else head  # WITH ... INSERT: PostgreSQL names the write
        try:
            if kind == "DETACH":
                raise ProtocolError(DETACH_REFUSED, "42501")
            if kind in _READ_ONLY_REFUSED and self.txn_read_only() and not (
                    kind in _TEMP_WRITES and self.duck_read_only and self.in_duckdb_transaction()):
                raise ProtocolError(f"cannot execute {what} in a read-only transaction", "25006")
            if kind == "SET" and (served := self.session_set(query)) is not None:
                return served  # (one compat did not see: after a comment)
            if kind == "TRANSACTION" and head in ("COMMIT", "END") and self.cursors.holds(self.live):
                self.release()  # a WITH HOLD cursor outlives the COMMIT: its rows held in memory, as PostgreSQL does
            elif kind == "TRANSACTION" and head not in ("BEGIN", "START"):
                self.live = None  # the transaction's end closes its open results: nothing to read ahead
            else:
                self.release()
            if kind == "TRANSACTION" and head in ("COMMIT", "END"):
                self.on_commit.commit(self.cur)  # in the transaction that commits, as PostgreSQL does
            creating, self.creating = (self.creating if kind == "CREATE" else None), None
            existed = self.on_commit.before(self.cur, creating) if creating is not None else None
            self.queried = self.queried or kind not in ("TRANSACTION", "SET", "VARIABLE_SET")  # (no snapshot taken)
            if kind != "TRANSACTION" and self.fills_on_commit_tables(query):
                self.on_commit.filled = True
            skipping = skipping_notice(self.cur, query) if kind in ("DROP", "CREATE") else None
            renames = renaming(query) if kind == "SELECT" else None
            stored = stored_like_renamed(self.cur, query) if renames else set()  # (before: after, the result is pending)
            if self.busy and (self.cancel_requested or self.timed_out):
                # A cancel (or statement_timeout) that came while the statement was read and rewritten: its
                # interrupt() reached no running query, and DuckDB forgets it when a query starts, so the statement
                # ran on to its end (for a long one, never). It is cancelled before it starts, as PostgreSQL's is.
                raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
            self.cur.execute(query, params) if params else self.cur.execute(query)
            if changes_catalogue(kind):
                VERSION.bump()  # (the catalogue caches of every session read again: pgcatalogversion)
                self.catalogue_changed = self.catalogue_changed or self.in_block()
            if servedwrites.writes_store(kind, query):
                servedwrites.after_write(self)
            if skipping is not None:
                self.notices.append(skipping)  # (after it ran: a statement that fails skipped nothing)
            if kind == "ALTER":
                self.on_commit.altered()
            if creating is not None:
                # its Count (CREATE ... AS) is read before the lookup of the new table runs on this cursor
                created = self.cur.fetchall() if self.cur.description is not None else []
                self.on_commit.created(self.cur, creating, existed,
                                       self.status != b"I" or self.implicit or self.batch)
                return Result(f"SELECT {created[0][0]}" if created else head)
        except (duckdb.Error, ProtocolError) as e:
            if self.status == b"T":
                self.status = b"E"
            if isinstance(e, duckdb.BinderException):
                self._first_feature_hint(e, query)
            if kind in _TEMP_WRITES and self.duck_read_only and isinstance(e, duckdb.Error) \
                    and _WRITE_REFUSED_RE.search(str(e)):
                raise ProtocolError(f"cannot execute {what} in a read-only transaction", "25006") from e
            raise
        if kind == "TRANSACTION":
            self.status = b"T" if head in ("BEGIN", "START") else b"I"
            if self.status == b"I":
                self.end_of_transaction(committed=head in ("COMMIT", "END"))
            return Result({"END": "COMMIT", "ABORT": "ROLLBACK"}.get(head, head))  # PostgreSQL's tags
        desc = self.cur.description
        if desc is None:
            return Result(head)
        if kind == "EXPLAIN" and [d[0] for d in desc] == ["explain_key", "explain_value"]:
            # PostgreSQL's shape, which psql and the tools' plan views read: one text column, a row per line (DuckDB's
            # is the whole plan in one value, beside its kind)
            plan = [(line,) for _, value in self.cur.fetchall() for line in _plan_lines(str(value))]
            return Result("EXPLAIN", [QUERY_PLAN], iter(plan))
        if kind in ("INSERT", "UPDATE", "DELETE", "CREATE", "COPY") and [d[0] for d in desc] == ["Count"]:
            rows = self.cur.fetchall()  # empty for CREATE VIEW / MACRO / SCHEMA / SEQUENCE / TYPE
            n = rows[0][0] if rows else 0
            # CREATE TABLE ... AS (and SELECT ... INTO): PostgreSQL's tag is SELECT n (a CREATE INDEX IF NOT EXISTS
            # of one that exists counts 0 rows too: its tag stays CREATE INDEX)
            if kind == "CREATE" and rows and head != "CREATE INDEX":
                return Result(f"SELECT {n}")
            return Result(f"INSERT 0 {n}" if kind == "INSERT" else f"{head} {n}" if kind != "CREATE" else head)
        if kind not in ("SELECT", "EXECUTE", "EXPLAIN", "PRAGMA") and [(d[0], str(d[1])) for d in desc] == \
                [("Success", "BOOLEAN")]:
            # DuckDB's empty "Success" result of DROP, ALTER, PREPARE, CHECKPOINT, SET ...: PostgreSQL sends no
            # rows description for these, and JDBC's executeUpdate fails on one ("a result was returned")
            self.cur.fetchall()
            return Result(head)
        cols = [(d[0], *type_of(d[1])) for d in desc]
        if renames is not None:
            cols = _renamed(cols, postgres_duplicates([c[0] for c in cols], query, stored))
        r = Result("SELECT" if kind == "SELECT" else head, cols)
        r.rows = self._rows(r, interval_columns([d[1] for d in desc]))
        self.live = r
        return r

    def _first_feature_hint(self, e: duckdb.Error, query: str) -> None:
        """``e`` given the HINT (ErrorResponse's 'H', which ``send_error`` sends) of ``ad-duckdb sql``'s message on a
        non-numeric first feature argument, which DuckDB's binder refuses before the functions run (text amounts:
        the expression that reads them as numbers).

        Why only here: a statement that fails so costs the reading of its argument's values, one that runs nothing;
        and the failed statement's connection still reads them (a binder error fails no DuckDB transaction)."""
        from .firstarg import first_feature_hint, name_the_argument

        try:
            hint = first_feature_hint(str(e), self.cur, query)
        except duckdb.InterruptException:
            return  # a cancel or timeout while reading them: the statement's own error is the one to send
        if hint:
            # the message's parentheses and its opening space are the CLI's: a HINT stands alone
            e.hint = name_the_argument(hint, query).strip().removeprefix("(").removesuffix(")")  # type: ignore[attr-defined]

    def cursor_statement(self, sql: str, params: list[Any] | None) -> Result | None:
        """DECLARE / FETCH / MOVE / CLOSE (pgcursors) and COPY ... TO STDOUT (pgcopy), which DuckDB lacks and the
        server runs itself; None for any other statement."""
        try:
            cmd = parse_cursor(sql)
            copy = parse_copy(sql) if cmd is None else None
            if cmd is None and copy is None:
                return None
            if self.status == b"E":
                raise in_failed_transaction()
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
                c = self.portal_cursor(cmd.name) or self.cursors.get(cmd.name)
                rows = c.take(cmd)
                if cmd.move:
                    return Result(f"MOVE {sum(1 for _ in rows)}")
                return Result("FETCH", c.source.columns, rows, binary=c.binary)
            if isinstance(copy, CopyIn):
                refused = ProtocolError("cannot execute COPY FROM in a read-only transaction", "25006")
                in_read_only = self.duck_read_only and self.in_duckdb_transaction()  # DuckDB's, which refuses it
                if self.txn_read_only() and not in_read_only:
                    raise refused
                self.release()  # the checks below run on this cursor
                self.queried, self.on_commit.filled = True, self.on_commit.filled or bool(self.on_commit.tables)
                try:  # (in DuckDB's READ ONLY transaction its check refuses any but a temporary table)
                    return Result("COPY", copy_in=Loader(self.cur, copy))
                except duckdb.Error as e:
                    if in_read_only and _WRITE_REFUSED_RE.search(str(e)):
                        raise refused from e
                    raise
            assert copy is not None
            src = self._open(copy.query, params, "COPY (...) TO STDOUT")
            src.tag, src.copy = "COPY", copy
            return src
        except (duckdb.Error, ProtocolError):
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise

    def portal_cursor(self, name: str) -> Cursor | None:
        """The protocol portal ``name`` as a cursor for SQL FETCH / MOVE, as PostgreSQL's portals are (asyncpg's
        Cursor.forward sends MOVE FORWARD n to its portal): forward only, over the rows its Executes have not sent;
        None if there is no such portal (an SQL cursor's name then), or it returns no rows."""
        p = self.portals.get(name)
        if p is None or name in self.cursors.open:
            return None
        if p.result is None:
            p.result = self.run_one(p.sql, p.params or None, p.written)  # bound, not yet executed: it runs now, as Execute would
        r = p.result
        if r.columns is None or r.copy is not None:
            return None
        if p.cursor is None:
            p.cursor = Cursor(name, r, hold=False, binary=False, in_transaction=True)
        # rows the portal's Executes sent since: the cursor is past them (and on none of them, for FETCH 0)
        if r.sent != p.cursor_sent:
            p.cursor.position += r.sent - p.cursor_sent
            p.cursor_sent, p.cursor.current = r.sent, None
        return p.cursor

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
        self.end_settings(committed)
        self.on_commit.ended(committed)
        servedwrites.ended(self, committed)

    def describe(self, sql: str, n_params: int) -> tuple[list[tuple[str, int, int]] | None, dict[int, int]]:
        """Result columns of a prepared SELECT without running it (DuckDB relations are lazy), else None; and the
        types DuckDB's binder gives its parameters (parameter_oids)."""
        try:
            cmd, copy = parse_cursor(sql), parse_copy(sql)
        except ProtocolError:
            return None, {}  # Execute reports it
        if cmd is not None or copy is not None:  # these run only when executed
            c = self.cursors.open.get(cmd.name) if isinstance(cmd, Fetch) and not cmd.move else None
            return (c.source.columns if c is not None else None), {}
        answer = self.compat(sql, describing=True)
        if isinstance(answer, Result):
            return answer.columns, set_config_parameter_oids(sql)
        try:
            stmts = duckdb.extract_statements(answer)
            kind = stmts[0].type.name if len(stmts) == 1 else None
            if kind == "EXPLAIN":  # (EXPLAIN ANALYZE would run the query) PostgreSQL's plan column (_one)
                return [QUERY_PLAN], {}
            if kind not in ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE"):
                return None, {}
            self.release()  # binding on this cursor would discard a suspended portal's unread rows
            params = parameter_oids(self.cur, answer) if n_params else {}  # (none to type: no second binding)
            if kind == "CREATE":  # CREATE TABLE AS: parameters (its query's), no rows
                return None, params
            if kind != "SELECT":
                answer, n_params = returning_select(answer) or "", 0  # none: no rows (without RETURNING too)
            if not answer:
                return None, params
            cols = _columns(self.cur, answer, n_params)
            if kind == "SELECT" and (renames := renaming(answer)) is not None:
                stored = stored_like_renamed(self.cur, answer) if renames else set()
                cols = _renamed(cols, postgres_duplicates([c[0] for c in cols], answer, stored))
            return cols, params
        except duckdb.Error:
            return None, {}


QUERY_PLAN = ("QUERY PLAN", *type_of("VARCHAR"))  # EXPLAIN's one column, as PostgreSQL's


def _plan_lines(plan: str) -> list[str]:
    """EXPLAIN's rows of DuckDB's plan ``plan``: a row per line of a text plan; a JSON plan (FORMAT JSON) whole, in one
    row, as PostgreSQL gives it (a row per line of it is no JSON a client can parse)."""
    return [plan] if plan.lstrip().startswith(("[", "{")) else plan.splitlines()


def _renamed(cols: list[tuple[str, int, int]], names: list[str]) -> list[tuple[str, int, int]]:
    """``cols`` with ``names``."""
    return [(name, oid, size) for name, (_, oid, size) in zip(names, cols, strict=True)]


def _columns(cur: duckdb.DuckDBPyConnection, sql: str, n_params: int) -> list[tuple[str, int, int]]:
    """Result columns of a SELECT; a DuckDB relation binds the query without running it."""
    bind = getattr(cur, "_bind", None)
    if not n_params and bind is not None:
        # Why not cur.sql: it runs a SELECT without FROM, so a Describe of SELECT nextval('ids') took an id
        try:
            names, types = bind(sql)[:2]
            return [(str(name), *type_of(t)) for name, t in zip(names, types, strict=True)]
        except (TypeError, ValueError):  # a private API of another shape (another DuckDB): the relation's
            pass
    rel = cur.sql(sql, params=[None] * n_params) if n_params else cur.sql(sql)
    return [(name, *type_of(t)) for name, t in zip(rel.columns, rel.types, strict=True)]


@dataclass
class Portal:
    sql: str
    params: list[Any]
    result_formats: list[int] = field(default_factory=list)  # Bind's: none (all text), one for all, or one each
    result: Result | None = None
    described: list[tuple[str, int, int]] | None = None  # the columns the client was told (Describe)
    cursor: Cursor | None = None  # where SQL FETCH / MOVE read it (Session.portal_cursor)
    cursor_sent: int = 0  # the rows its Executes had sent when the cursor last moved
    written: str = ""  # the client's text of ``sql`` (Parse's), which an error quotes

    def formats(self, n: int) -> list[int]:
        f = self.result_formats
        if len(f) not in (0, 1, n) or any(c not in (0, 1) for c in f):
            raise ProtocolError(f"Bind gave result format codes {f} for {n} columns; each must be 0 (text) or 1 "
                                "(binary), one for all or one per column.")
        return [f[0]] * n if len(f) == 1 else f or [0] * n

    def plan_changed(self, columns: list[tuple[str, int, int]]) -> bool:
        """Whether this run's result is no longer the one its statement was described with: columns added, dropped
        or renamed since (ALTER TABLE, CREATE OR REPLACE VIEW, SET search_path), or of another type in a query
        without parameters. Why only there: DuckDB types a parameter by its value, so with parameters a column's
        type may vary from run to run with the same tables (as_told sends it as the type the client was told)."""
        told = self.described
        if told is None:
            return False
        # a RETURNING list was described as a SELECT of it (returning_select), whose expressions DuckDB names
        # without the casts it binds into the write's: only the count can tell
        write = keyword_tag(self.sql) in ("INSERT", "UPDATE", "DELETE")
        if len(told) != len(columns) or not write and [c[0] for c in told] != [c[0] for c in columns]:
            return True
        return not self.params and [c[1] for c in told] != [c[1] for c in columns]


# ---------------------------------------------------------------- the served database


class Sessions:
    """What the server lets SQL do with its sessions (server.PGServer): list them, and signal one by its pid."""

    def activity(self) -> list[dict[str, Any]]:
        return []

    def signal(self, pid: int, terminate: bool) -> bool:
        """Cancel session ``pid``'s running statement (``terminate``: and end the session); whether it exists."""
        return False


# pg_stat_activity's rows (pgcatalog's view), as the server's Sessions.activity gives them (Session.activity_row)
ACTIVITY_TYPE = duckdb.list_type(duckdb.struct_type({
    "pid": "INTEGER", "application_name": "VARCHAR", "client_addr": "VARCHAR", "client_port": "INTEGER",
    "backend_start": "TIMESTAMPTZ", "xact_start": "TIMESTAMPTZ", "query_start": "TIMESTAMPTZ",
    "state_change": "TIMESTAMPTZ", "state": "VARCHAR", "query": "VARCHAR"}))


def register_sessions(con: duckdb.DuckDBPyConnection, sessions: Sessions | None) -> None:
    """PostgreSQL's pg_cancel_backend(pid) and pg_terminate_backend(pid), and pg_stat_activity_rows() (pgcatalog's
    pg_stat_activity), over the server's ``sessions``.

    Why: Superset's Stop button (and pgAdmin's, DBeaver's) signals a session by the pid it read from pg_backend_pid();
    without them Stop did nothing and the query ran on. Every client is the one role, and PostgreSQL lets a role signal
    its own sessions, so any client may signal any session; what it can do is what a CancelRequest does (interrupt the
    running statement) or what a stop does to one session (FATAL 57P01), never anything to the database.
    """
    s = sessions or Sessions()
    # side effects: DuckDB must call them for each row, never fold them into a constant or skip them
    con.create_function("pg_cancel_backend", lambda pid: s.signal(int(pid), False), ["BIGINT"], "BOOLEAN",
                        side_effects=True)
    con.create_function("pg_terminate_backend", lambda pid: s.signal(int(pid), True), ["BIGINT"], "BOOLEAN",
                        side_effects=True)
    con.create_function("pg_stat_activity_rows", s.activity, [], ACTIVITY_TYPE, side_effects=True)


class Backend:
    """One opened database instance: the parent connection owning the functions, and its open sessions."""

    def __init__(self, path: str, *, read_write: bool, snapshot_dir: str | None = None,
                 attach: Sequence[Attached] = (), sessions: Sessions | None = None, original: str | None = None) -> None:
        """``attach``: other DuckDB files served beside ``path``, attached read-only (``serve --attach``), checked by
        the caller (attachfiles.check); an alias that is a schema of the database, a lock, or a file that is no DuckDB
        database raises attachfiles' errors. ``sessions``: the server's, which pg_stat_activity lists and
        pg_cancel_backend / pg_terminate_backend signal (none: no session is listed, none can be signalled).
        ``original``: the file as the command line named it (a snapshot's, whose copy is ``path``)."""
        self.path = path
        self.attached = tuple(attach)
        self.snapshot_dir = snapshot_dir
        self.sessions = 0
        self.retired = False
        self.read_write = read_write
        self.con = duckdb.connect(path, read_only=not read_write)
        try:
            # a read-only mount's warehouse: a BI tool's query larger than memory spills to the system temporary folder
            workfolder.spill_beside_file(self.con, path)
            check_schemas(self.con, self.attached)
            # Why here, before the settings below: once external access is off DuckDB refuses ATTACH
            for a in self.attached:
                attach_file(self.con, a)
            register(self.con)
            mode = "snapshot" if snapshot_dir is not None else "read-write" if read_write else "read-only"
            registry(self.con).set_surface("serve", Served(mode, original or path, os.getpid()))
            register_sessions(self.con, sessions)
            register_jsonb(self.con)
            register_jsonb_edits(self.con)
            register_regex_group(self.con)
            register_text_casts(self.con)
            # psql's \\dx (pg_extension): the extensions loaded now, which are all there will be (none loads
            # without file access), listed while duckdb_extensions() can still read the extension folder.
            try:
                loaded = self.con.execute("SELECT extension_name, extension_version, description FROM "
                                          "duckdb_extensions() WHERE loaded").fetchall()
            except duckdb.Error:
                loaded = None
            self.catalog_sql = CatalogStatements(session_sql(loaded, read_write))
            # Why after register: registering reads ad_models through the normal path; from here on DuckDB
            # itself refuses files, network, ATTACH, COPY TO and extensions, and refuses to undo that.
            self.con.execute("SET enable_external_access = false")
            # Clients' SQL runs in this process: DuckDB's replacement scan would read an unknown table name as the
            # calling frame's DataFrame / Arrow / numpy variable of that name (or name the server's source line in
            # its error). External access off skips it too today, but only as DuckDB's undocumented coupling; the
            # server's own Arrow reads name what they read (con.register, relation.query), never a frame variable.
            self.con.execute("SET GLOBAL python_enable_replacements = false")
            # TimeZone stays each session's to SET, as in PostgreSQL (a cursor's SET is its own; SET GLOBAL, which
            # would change every session's, is refused by Session._one); allowed_configs itself stays locked
            # PostgreSQL's / of integers truncates (Superset's 5-minute grain, minute::int / 5 * interval '5 min'),
            # DuckDB's divides exactly: every session's (a cursor's) statements divide as PostgreSQL's. It binds the
            # SQL parsed from now on only: a view or macro stored in the file keeps DuckDB's division.
            self.con.execute("SET GLOBAL integer_division = true")
            # PostgreSQL sorts a NULL as larger than any value: last ascending, first descending (DuckDB's: last both
            # ways), so a dashboard's top N by score DESC shows what PostgreSQL's would; NULLS FIRST / LAST still decide
            self.con.execute("SET GLOBAL default_null_order = 'nulls_last_on_asc_first_on_desc'")
            self.con.execute("SET allowed_configs = ['TimeZone']")
            self.con.execute("SET lock_configuration = true")
        except BaseException as e:
            # the caller removes a snapshot it took (server.PGServer._open_backend); a close that fails too must not
            # hide why the backend could not open
            clean_up_after(e, self.con.close, "closing the database after the failed open")
            raise

    def models(self) -> list[str]:
        from .udfs import registry

        return sorted(registry(self.con).by_ref)

    def models_text(self) -> str:
        from .udfs import registry

        return models_text(self.models(), {n: lm.version for n, lm in registry(self.con).latest.items()})

    def close(self) -> None:
        self.con.close()
        if self.snapshot_dir:
            shutil.rmtree(self.snapshot_dir, ignore_errors=True)


def models_text(refs: list[str], means: dict[str, int] | None = None) -> str:
    """'tx_ae@1'...'tx_ae@35' as "tx_ae@1-35 (latest 35)": one entry per name, versions in number order, runs joined.
    ``means``: the version each bare name scores with, where promote, rollback or a staged retrain made it another
    than the newest: "tx_ae@1-35 ('tx_ae' means tx_ae@34; newest 35)".

    Why: a nightly retrain gives a name dozens of versions; listed one by one, in text order (tx_ae@1, tx_ae@10,
    tx_ae@11, ...), the start-up and SIGHUP lines grew without bound and hid which version was the latest. Why
    ``means``: after a rollback the line said "(latest 2)" while clients calling 'tx_ae' scored with version 1.
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
        for n in [*vs[1:], None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            runs.append(str(start) if start == prev else f"{start}-{prev}")
            if n is not None:
                start = prev = n
        meant = (means or {}).get(name, vs[-1])
        latest = "" if len(vs) == 1 else f" (latest {vs[-1]})" if meant == vs[-1] else \
            f" ({name!r} means {name}@{meant}; newest {vs[-1]})"
        parts.append(f"{name}@{','.join(runs)}{latest}")
    return ", ".join(parts) or "none yet"


def take_snapshot(source: str) -> tuple[str, str]:
    """Copy ``source`` into a private temporary file through DuckDB (a consistent copy); (path, its folder).

    The source is attached read-only for the copy only, so training and dbt can write it the rest of the time. The
    copy has the source's file name, so DuckDB names its database as the source's: ``warehouse.main.tx`` reads the
    same with and without --snapshot, and an --attach alias is checked against that one name.
    """
    folder = tempfile.mkdtemp(prefix="ad_duckdb_serve_")
    try:
        dst = str(Path(folder) / Path(source).name)
        # tracked: a stop (SIGTERM, Ctrl-C) interrupts the copy, which on a large database took the stop's whole wait
        helper = interrupts.track(duckdb.connect(":memory:"))
        try:
            helper.execute("ATTACH ? AS src (READ_ONLY)", [source])
            helper.execute("ATTACH ? AS dst", [dst])
            helper.execute("COPY FROM DATABASE src TO dst")
        except BaseException as e:
            # before the removal: the copy's file is still open until then; a failing close must not hide the cause
            clean_up_after(e, helper.close, "closing the snapshot's copy after the failed copy")
            raise
        helper.close()
    except BaseException:
        # Why any exception, not only duckdb.Error: a Ctrl-C or SIGTERM during the COPY (Terminated, or DuckDB's
        # RuntimeError('Query interrupted')) left a full copy of the database in the temporary folder.
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return dst, folder
