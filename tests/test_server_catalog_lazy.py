"""`ad-duckdb serve`: a session's catalogue views and macros (pgcatalog.SESSION_SQL) are created as its statements
name them (each with those it needs), not when it connects; every catalogue query the other catalogue tests send
must answer the same as a connection's very first statement as on a connection that has them all already.

A query the rule missed would reach DuckDB's own pg_catalog (other columns, other answers) or fail on a missing
macro, so each query is replayed on a fresh connection and compared with the same query on a warm one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import psycopg2
import pytest
import test_server_catalog as catalog
import test_server_jdbc as jdbc
import test_server_odbc as odbc
import test_server_psql
from asyncpg.introspection import INTRO_LOOKUP_TYPES_13
from sqlalchemy import event
from sqlalchemy.engine import Engine
from test_server_catalog import shop

from ad_duckdb.pgcatalog import SESSION_OBJECTS, catalog_objects

from test_server import PSQL_MISSING, Server

__all__ = ["shop"]  # the fixture, imported for pytest

# What the session's temporary objects are, counted through the server (DuckDB's own catalogue functions; the
# query names none of the session's objects, so it creates none).
TEMP_OBJECTS = ("SELECT (SELECT count(*) FROM duckdb_views() WHERE database_name = 'temp' AND NOT internal) + "
                "(SELECT count(DISTINCT function_name) FROM duckdb_functions() WHERE database_name = 'temp' "
                "AND NOT internal)")

# psql's meta-commands the server tests run (test_server.py, test_server_catalog.py; test_server_psql.py: those
# it answers, its refusals come before any catalogue)
PSQL_COMMANDS = ("\\d customers", "\\d orders", "\\d+ customers", "\\d+ big_customers", "\\d other.items", "\\d",
                 "\\l", "\\l+", "\\dt", "\\dt+", "\\dv", "\\dv+", "\\di", "\\dn", "\\df", "\\df anomaly*",
                 "\\df no_such_function*", *test_server_psql.ANSWERS)

# JDBC's DatabaseMetaData and Metabase's sync SQL, with the parameters test_server_jdbc gives them
JDBC_QUERIES: list[tuple[str, tuple[Any, ...]]] = [
    (jdbc.GET_SCHEMAS, ()), (jdbc.GET_PRIMARY_KEYS, ("main", "orders")), (jdbc.GET_INDEX_INFO, ("main", "orders")),
    (jdbc.MAX_INDEX_KEYS, ()), (jdbc.GET_IMPORTED_KEYS, ("main", "orders")),
    (jdbc.GET_EXPORTED_KEYS, ("main", "customers")), (jdbc.GET_FUNCTIONS, ("anomaly%",)),
    (jdbc.GET_FUNCTION_COLUMNS, ("anomaly%",)), (jdbc.GET_TYPE_INFO, ()), (jdbc.TYPE_INFO_CACHE, ()),
    (jdbc.GET_BEST_ROW_IDENTIFIER, ("main", "orders")),
    (jdbc.GET_SQL_KEYWORDS, ()), (jdbc.MAX_NAME_LENGTH, ()),
    (jdbc.METABASE_TABLES, ("^pg_", "information_schema", "main", "other")), (jdbc.METABASE_FKS, ("main",)),
    (jdbc.METABASE_FIELDS, ("ALWAYS", "main", "main")),
    (jdbc.METABASE_TABLES_QUOTED, (0, 0, "^pg_", "information_schema", "main")),
    (jdbc.METABASE_GET_COLUMNS, ("main", "%")), (jdbc.METABASE_GET_PRIMARY_KEYS, ("main", "orders")),
    (jdbc.metabase_field_metadata(1, [1, 2]), ()),  # no relation has oid 1: no rows, the same on any session
    (INTRO_LOOKUP_TYPES_13, ([1007, 1022],)),  # asyncpg's type introspection, for $1::INTEGER[] and $2::DOUBLE[]
]

# psqlODBC's SQLTables / SQLColumns / SQLStatistics / SQLPrimaryKeys (test_server_odbc), for tables of the shop
# database (orders has a two-column key, a UNIQUE constraint and an index; plain has none)
ODBC_QUERIES: list[tuple[str, tuple[Any, ...]]] = [
    (odbc.ODBC_SCHEMAS, ()), (odbc.ODBC_TABLE_TYPES, ()), (odbc.odbc_tables("main", "%"), ()),
    (odbc.odbc_tables("main", "orders"), ()), (odbc.odbc_columns("main", "customers"), ()),
    (odbc.odbc_columns("main", "orders", column="%"), ()), (odbc.odbc_columns("other", "items", "="), ()),
    (odbc.odbc_special_columns("main", "orders"), ()), (odbc.odbc_statistics("main", "orders"), ()),
    (odbc.odbc_primary_keys("main", "orders"), ()), (odbc.odbc_primary_keys_old("main", "plain"), ()),
]

# The catalogue statements the other tests send themselves (psycopg's %s parameters)
OWN_QUERIES: list[tuple[str, tuple[Any, ...]]] = [
    ("SELECT 'customers'::regclass = 'main.customers'::pg_catalog.regclass, CAST(%s AS REGCLASS) IS NULL",
     ("pg_catalog.no_such_table",)),
    ("SELECT oid FROM pg_catalog.pg_class WHERE relname = 'customers'", ()),
    ("SELECT current_setting(%s)", ("TimeZone",)),
    ("SELECT datname FROM pg_catalog.pg_database", ()),
    ("SELECT pg_catalog.pg_encoding_to_char(6), pg_catalog.pg_table_size(1), 'a' OPERATOR(pg_catalog.~) '^a$'", ()),
    ("SELECT pg_catalog.pg_encoding_to_char(d.encoding) FROM pg_catalog.pg_database d LIMIT 1", ()),
    ("SELECT format('%s|%I', 'a', 'B'), (SELECT udt_name FROM \"information_schema\".\"columns\" "
     "WHERE table_name = 'plain')", ()),
    ("SELECT (information_schema._pg_expandarray([5, 7])).n, 'pg_catalog.array_in'::regproc, i.indoption[0] "
     "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid WHERE c.relname = 'orders' "
     "AND NOT i.indisunique", ()),
]


# A statement naming every session object: a session that ran it has them all
EVERY_OBJECT = "SELECT '" + " ".join(SESSION_OBJECTS) + "' IS NOT NULL"


def _psql_queries(shop: Server, commands: tuple[str, ...] = PSQL_COMMANDS) -> list[tuple[str, tuple[Any, ...]]]:
    """The SQL psql sends for each meta-command (``-E`` prints it), all of them run by one psql (each -c after the
    one before, as its own commands would be; a line psql echoes before each tells their queries apart)."""
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    args = [a for i, cmd in enumerate(commands) for a in ("-c", f"\\echo {_MARK}{i}", "-c", cmd)]
    r = subprocess.run([psql, shop.url(), "-X", "-E", *args], capture_output=True, text=True, timeout=300)
    parts = re.split(rf"^{_MARK}(\d+)\n", r.stdout, flags=re.M)[1:]
    assert [int(i) for i in parts[::2]] == list(range(len(commands))), (r.stdout, r.stderr)
    out = []
    for cmd, text in zip(commands, parts[1::2], strict=True):
        found = re.findall(r"\*+ QUERY \*+\n(.*?)\n\*+\n", text, re.S)
        assert found, (cmd, text, r.stderr)
        out += [(q, ()) for q in found]
    return out


_MARK = "-- the queries of command "


def _sqlalchemy_queries(shop: Server, dialect: str) -> list[tuple[str, Any]]:
    """The statements SQLAlchemy's reflection sends through ``dialect`` (the two reflection tests of
    test_server_catalog)."""
    sent: list[tuple[str, str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((conn.dialect.driver, statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        catalog.test_sqlalchemy_reflects_columns_with_postgres_types(shop, dialect)
        catalog.test_sqlalchemy_reflects_keys_indexes_comments_and_views(shop, dialect)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert {driver for driver, _, _ in sent} == {dialect.split("+")[1]}
    return [(statement, parameters) for _, statement, parameters in sent]


def _answers(connect: Callable[[], Any], queries: list[tuple[str, Any]], fresh: bool) -> list[Any]:
    """Each query's rows (sorted: some have no ORDER BY), or its error; on a new connection each (``fresh``:
    the query is the session's first statement) or all on one that has read the catalogue first."""
    out = []
    conn = None if fresh else connect()
    try:
        if conn is not None:
            cur = conn.cursor()
            cur.execute(EVERY_OBJECT)  # (a name in a string creates it, as DuckDB's query('...') may read it)
            cur.fetchall()
        for sql, params in queries:
            c = connect() if fresh else conn
            try:
                cur = c.cursor()
                try:
                    cur.execute(sql, params or None)
                    out.append(sorted(cur.fetchall(), key=repr) if cur.description else None)
                except (psycopg.Error, psycopg2.Error) as e:
                    out.append(f"error: {e}")
            finally:
                if fresh:
                    c.close()
    finally:
        if conn is not None:
            conn.close()
    return out


def _psycopg(shop: Server, **kw: Any) -> Callable[[], Any]:
    return lambda: psycopg.connect(shop.url(), autocommit=True, **kw)


def _psycopg2(shop: Server) -> Callable[[], Any]:
    def connect() -> Any:
        c = psycopg2.connect(shop.url())
        c.autocommit = True
        return c

    return connect


# Each client's catalogue queries, through the protocol it speaks: the extended protocol (psycopg 3 with %s, and
# JDBC's $n as the driver sends them, RawCursor), and the simple protocol with the parameters written into the text
# (psycopg2, Superset's driver). One case a client, run apart (together they were one test of over a minute, which a
# worker ran alone at the end of a run). Each its queries and the fewest it must have: what the clients send, not a
# handful (over 100 together).
CLIENTS: dict[str, tuple[Callable[[Server], Callable[[], Any]], Callable[[Server], list[tuple[str, Any]]], int]] = {
    "psql and own": (_psycopg, lambda shop: [*_psql_queries(shop), *OWN_QUERIES], 50),
    "sqlalchemy psycopg": (_psycopg, lambda shop: _sqlalchemy_queries(shop, "postgresql+psycopg"), 25),
    "jdbc and odbc": (lambda shop: _psycopg(shop, cursor_factory=psycopg.RawCursor),
                      lambda shop: JDBC_QUERIES + ODBC_QUERIES, 25),
    "sqlalchemy psycopg2": (_psycopg2, lambda shop: _sqlalchemy_queries(shop, "postgresql+psycopg2"), 25),
}


@pytest.mark.parametrize("client", list(CLIENTS))
def test_every_catalogue_query_answers_the_same_as_a_sessions_first_statement(shop: Server, client: str) -> None:
    connector, queries_of, fewest = CLIENTS[client]
    conn = connector(shop)
    queries = queries_of(shop)
    unique = list({(q, repr(p)): (q, p) for q, p in queries}.values())
    warm = _answers(conn, unique, fresh=False)
    assert not [(q, a) for (q, _), a in zip(unique, warm, strict=True) if isinstance(a, str)], "a query failed"
    for (q, _), w, f in zip(unique, warm, _answers(conn, unique, fresh=True), strict=True):
        assert f == w, q
    assert len(unique) > fewest, len(unique)


def test_a_session_creates_its_catalogue_only_when_a_statement_needs_it(shop: Server) -> None:
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchall() == [(1,)]
        assert conn.execute("SELECT count(*) FROM customers").fetchall() == [(1,)]
        assert conn.execute(TEMP_OBJECTS).fetchall() == [(0,)]
        # DISCARD before the catalogue exists drops the user's temporary objects and creates nothing
        conn.execute("CREATE TEMP VIEW mine AS SELECT 1 AS x")
        conn.execute("DISCARD ALL")
        assert conn.execute(TEMP_OBJECTS).fetchall() == [(0,)]
        # a catalogue query creates what it names (and what that needs), once; DISCARD keeps them and drops only
        # the user's
        assert conn.execute("SELECT pg_catalog.pg_encoding_to_char(6)").fetchall() == [("UTF8",)]
        assert conn.execute(TEMP_OBJECTS).fetchall() == [(1,)]
        conn.execute("CREATE TEMP VIEW mine AS SELECT 1 AS x")
        conn.execute("DISCARD TEMP")
        assert conn.execute(TEMP_OBJECTS).fetchall() == [(1,)]
        assert conn.execute("SELECT format_type(23, -1)").fetchall() == [("integer",)]
        made = catalog_objects("pg_encoding_to_char format_type")
        assert conn.execute(TEMP_OBJECTS).fetchall() == [(len(made),)] and 1 < len(made) < len(SESSION_OBJECTS)
        # one of them replaced by the last user of a pooled connection: not what the next one reads after DISCARD
        conn.execute("CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(e) AS 'LATIN1'")
        conn.execute("CREATE OR REPLACE TEMP VIEW pg_roles AS SELECT 'intruder' AS rolname, 1::BIGINT AS oid")
        conn.execute("DISCARD ALL")
        assert conn.execute("SELECT pg_catalog.pg_encoding_to_char(6), (SELECT count(*) FROM pg_catalog.pg_roles)"
                            ).fetchall() == [("UTF8", 1)]  # the one role, not the intruder's
        assert conn.execute(TEMP_OBJECTS).fetchall() == [(len(made | catalog_objects("pg_roles")),)]
    with psycopg.connect(shop.url(), autocommit=True) as conn:  # psql's \d: a small part of the catalogue
        conn.execute(next(q for q, _ in _psql_queries(shop, ("\\d",))))
        assert 0 < conn.execute(TEMP_OBJECTS).fetchall()[0][0] < len(SESSION_OBJECTS) / 4


@pytest.mark.parametrize("end", ["ROLLBACK", "error"])
def test_a_catalogue_created_in_a_transaction_that_rolls_back_is_created_again(shop: Server, end: str) -> None:
    # DuckDB's catalogue is transactional: views created in a transaction that rolls back are gone with it
    with psycopg.connect(shop.url()) as conn:  # psycopg opens a transaction (BEGIN) before the first statement
        assert conn.execute("SELECT pg_catalog.pg_encoding_to_char(6)").fetchall() == [("UTF8",)]
        if end == "error":
            with pytest.raises(psycopg.Error, match="boom"):  # the query's own error, not a catalogue failure
                conn.execute("SELECT error('boom')")
        conn.rollback()
        assert conn.execute("SELECT pg_catalog.pg_encoding_to_char(6)").fetchall() == [("UTF8",)]
        conn.commit()
        assert conn.execute(TEMP_OBJECTS).fetchall() == [(1,)]
    with psycopg.connect(shop.url(), autocommit=True) as conn:  # several statements in one Query: one transaction
        # the second statement's error: the first (which creates the catalogue) ran, it did not fail on its own
        with pytest.raises(psycopg.Error, match="boom"):
            conn.execute("SELECT count(*) FROM pg_catalog.pg_type; SELECT error('boom')")
        assert conn.execute("SELECT format_type(23, -1)").fetchall() == [("integer",)]


def test_the_catalogue_is_parsed_once_for_every_session_of_a_database_and_bound_by_each(tmp_path: Path) -> None:
    """Each new connection creates the catalogue objects its statements read on its own cursor; the SQL of those
    objects is parsed once per served database, by the first session that needs it (parsing was a fifth of each new
    session's cost). What each session binds stays its own: its temporary tables in its pg_class, its pid."""
    from ad_duckdb.server import PGServer
    from ad_duckdb.serverconfig import ServerConfig
    from ad_duckdb.serverrun import run_server

    path = str(tmp_path / "small.duckdb")
    duckdb.connect(path).execute("CREATE TABLE shared_t (x INTEGER)").close()
    started: list[PGServer] = []
    ready = threading.Event()

    def on_ready(server: PGServer) -> None:
        started.append(server)
        ready.set()

    thread = threading.Thread(target=run_server, args=(ServerConfig(path, port=0), on_ready))
    thread.start()
    try:
        assert ready.wait(60), "the server did not start"
        host, port = started[0].server_address[:2]
        statements = started[0].backend.catalog_sql
        assert statements.parses == 0  # none before a statement reads the catalogue
        parsed = []
        for i in range(3):
            with psycopg.connect(f"postgresql://analyst@{host}:{port}/small", autocommit=True) as conn:
                conn.execute(f"CREATE TEMP TABLE own_{i} (y INTEGER)")
                assert conn.execute("SELECT relname FROM pg_catalog.pg_class WHERE relname LIKE 'own%' OR relname = "
                                    "'shared_t' ORDER BY relname").fetchall() == [("own_" + str(i),), ("shared_t",)]
                assert conn.execute("SELECT pg_catalog.pg_backend_pid()").fetchall() == [(conn.info.backend_pid,)]
            parsed.append(statements.parses)
        # (pg_backend_pid's statement is each session's own text, with its pid)
        assert parsed == [len(catalog_objects("pg_class pg_backend_pid") - {"pg_backend_pid"})] * 3
    finally:
        if started:
            started[0].shutdown()
        thread.join(timeout=60)
    assert not thread.is_alive()
