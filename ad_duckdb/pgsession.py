"""One client's ``Session`` of ``ad-duckdb serve``, which runs its statements on its own DuckDB cursor: the simple
protocol's Query (``run``, a batch as one implicit transaction), the extended protocol's Execute (``run_one``) and
Describe (``describe``), DECLARE / FETCH / CLOSE and COPY (``cursor_statement``), and what it answers itself instead
of DuckDB (``compat``, the PostgreSQL-only chatter), each statement refused, run and its result shaped as
PostgreSQL's (``_one``).

Its state is ``pgstate.SessionState``; the modules of one subject each take that state: its settings (pgsettings),
transactions (pgtxn), catalogue objects (pgobjects), the rewrite of its SQL (pgrewrite), DISCARD / DEALLOCATE
(pgdiscard). The served database is ``pgbackend``'s. ``server`` owns the sockets and the protocol's messages and
hands each statement here; this module never imports it, and, like the other ``pg*`` helpers, speaks no wire
protocol.
"""


from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import duckdb

from . import servedwrites
from .pgcatalog import SESSION_OBJECTS
from .pgcatalogversion import VERSION, changes_catalogue
from .pgcommands import (
    APPLICATION_NAME_RE,
    CUSTOM_RESET_RE,
    CUSTOM_SET_RE,
    CUSTOM_SHOW_RE,
    DEALLOCATE_RE,
    DISCARD_RE,
    JIT_PROBE_RE,
    LISTEN_RE,
    LISTEN_REFUSED,
    PG_ONLY_RE,
    PG_VERSION,
    PREPARE_TRANSACTION_RE,
    SAVEPOINT_RE,
    SET_CONFIG_CALL_RE,
    SET_CONFIG_RE,
    SET_CONFIGS_RE,
    SET_RE,
    SET_WORD,
    SHOW_RE,
    TIMEOUT_RE,
    TXN_WORD,
    VERSION_RE,
    set_config_args,
    set_config_column,
    set_config_has_parameter,
    set_config_items,
    set_config_parameter_oids,
)
from .pgcopy import CopyIn
from .pgcopy import parse as parse_copy
from .pgcopyin import Loader
from .pgcursors import Close, Cursor, Declare, Fetch, quoted
from .pgcursors import parse as parse_cursor
from .pgdiscard import deallocate_statement, discard
from .pgdupnames import postgres_duplicates, renaming, stored_like_renamed
from .pgerrorline import user_sql_error
from .pgerrors import ProtocolError, in_failed_transaction
from .pgintervalrows import interval_columns
from .pgknobs import KNOBS, knob_value
from .pgobjects import catalog_end, provide
from .pgparams import parameter_oids
from .pgresult import Result, bound_columns
from .pgrewrite import rewrite
from .pgsettings import (
    check_value,
    end_settings,
    session_set,
    set_application_name,
    set_custom,
    set_or_reset,
    set_search_path,
    set_timeout,
    show,
    show_custom,
    warn_set_local,
)
from .pgskipping import skipping_notice
from .pgsql import (
    creates_on_commit,
    from_first_word,
    function_lookup,
    keyword_tag,
    on_commit_table,
    returning_select,
    split_statements,
    unsupported,
)
from .pgstate import SessionState
from .pgstoredpython import stored_python_error
from .pgtxn import begin, begin_sql, end_of_transaction, savepoint, transaction_mode
from .pgtypes import type_of
from .sqltext import quote_ident, quote_literal

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


def _declares_hold(sql: str) -> bool:
    try:
        cmd = parse_cursor(sql)
    except ProtocolError:
        return False
    return isinstance(cmd, Declare) and cmd.hold


QUERY_PLAN = ("QUERY PLAN", *type_of("VARCHAR"))  # EXPLAIN's one column, as PostgreSQL's


def _plan_lines(plan: str) -> list[str]:
    """EXPLAIN's rows of DuckDB's plan ``plan``: a row per line of a text plan; a JSON plan (FORMAT JSON) whole, in one
    row, as PostgreSQL gives it (a row per line of it is no JSON a client can parse)."""
    return [plan] if plan.lstrip().startswith(("[", "{")) else plan.splitlines()


def _renamed(cols: list[tuple[str, int, int]], names: list[str]) -> list[tuple[str, int, int]]:
    """``cols`` with ``names``."""
    return [(name, oid, size) for name, (_, oid, size) in zip(names, cols, strict=True)]


class Session(SessionState):
    """One client's statements, run on its state (SessionState) and its DuckDB cursor."""

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
            return set_custom(self, c)
        if (c := CUSTOM_SHOW_RE.match(sql)) is not None:
            return show_custom(self, c.group("name").lower())
        if LISTEN_RE.match(sql):
            if self.status == b"T":
                self.status = b"E"  # as any error in a transaction block
            raise ProtocolError(LISTEN_REFUSED, "0A000")
        if VERSION_RE.match(sql):
            import ad_duckdb

            return Result("SELECT", [("version", 25, -1)], iter([(
                f"PostgreSQL {PG_VERSION} (ad_duckdb {ad_duckdb.__version__} on DuckDB {duckdb.__version__})",)]))
        if (m := TIMEOUT_RE.match(sql)) is not None:
            return set_timeout(self, sql, m)
        if SET_WORD.match(sql) and (served := session_set(self, sql)) is not None:
            return served
        if (a := APPLICATION_NAME_RE.match(sql)) is not None:
            return set_application_name(self, a)
        if (m := SHOW_RE.match(sql)) is not None and (shown := show(self, m)) is not None:
            return shown
        if (path := set_search_path(self, sql)) is not None:
            return path
        check_value(self, sql)
        if (served := transaction_mode(self, sql)) is not None:
            return served
        if (served := set_or_reset(self, sql)) is not None:
            return served
        if (begun := begin(self, sql)) is not None:
            return begun
        if (m := SAVEPOINT_RE.match(sql)) is not None:
            return savepoint(self, m)
        if (m := DISCARD_RE.match(sql)) is not None:
            return discard(self, m)
        if (m := DEALLOCATE_RE.match(sql)) is not None:
            return deallocate_statement(self, m)
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
        sql = rewrite(self, sql, params)
        provide(self, sql)
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
        """Run the set_config calls of a one-row SELECT with other items (pgcommands.set_config_items), in order, as
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
            self.cur.execute(begin_sql(self))
            self.batch = True
        try:
            # Each statement on its own: a PostgreSQL-only SET first must not swallow the statements after it.
            for part in parts or [sql]:
                warn_set_local(self, part, len(parts) <= 1)
                c = self.compat(part, params if len(parts) == 1 else None)
                if isinstance(c, Result):
                    yield c
                    continue
                stmts = duckdb.extract_statements(c)
                for st in stmts:
                    yield self._written(st, params if len(parts) == 1 and len(stmts) == 1 else None, part)
            if implicit and self.terminated:
                # the stop (or pg_terminate_backend) came as the last statement ran, which it did not reach: a session
                # that ends commits nothing more
                raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
            if implicit and self.on_commit.tables:
                # on this cursor, before the COMMIT that would end an open result anyway (its rows were read, or it
                # is a cursor declared in the batch, which ends with it)
                self.live = None
                self.on_commit.commit(self.cur)
        except BaseException:
            if implicit:
                self.batch = False
                self.end_cursors(committed=False)
                catalog_end(self, committed=False)
                self.cur.execute("ROLLBACK")
                end_settings(self, committed=False)
                self.on_commit.ended(committed=False)
                servedwrites.ended(self, committed=False)
            raise
        if implicit:
            self.batch = False
            self.end_cursors(committed=True)  # cursors declared in the batch end with it, as in PostgreSQL
            self.cur.execute("COMMIT")
            catalog_end(self, committed=True)
            end_settings(self, committed=True)
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
        warn_set_local(self, sql, alone=True)
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
            self.cur.execute(begin_sql(self))
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
            if kind == "SET" and (served := session_set(self, query)) is not None:
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
            if self.busy and (self.cancel_requested or self.timed_out or self.terminated):
                # A cancel (or statement_timeout, pg_terminate_backend, the server's stop) that came while the
                # statement was read and rewritten, or between two statements of a batch: its interrupt() reached no
                # running query, and DuckDB forgets it when a query starts, so the statement ran on to its end (for a
                # long one, never). It is cancelled before it starts, as PostgreSQL's is.
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
                end_of_transaction(self, committed=head in ("COMMIT", "END"))
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
            cols = bound_columns(self.cur, answer, n_params)
            if kind == "SELECT" and (renames := renaming(answer)) is not None:
                stored = stored_like_renamed(self.cur, answer) if renames else set()
                cols = _renamed(cols, postgres_duplicates([c[0] for c in cols], answer, stored))
            return cols, params
        except duckdb.Error:
            return None, {}
