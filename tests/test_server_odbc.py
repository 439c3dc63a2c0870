"""`ad-duckdb serve`: psqlODBC's catalogue SQL (Tableau's PostgreSQL connector and other ODBC tools list tables and
columns through it), replayed verbatim through psycopg against a real server.

The texts are what psqlODBC's info.c (postgresql-interfaces/psqlodbc) builds for SQLTables, SQLColumns,
SQLSpecialColumns, SQLStatistics and SQLPrimaryKeys, with the values it fills in for table ``transactions`` in
schema ``main`` (search patterns with ``like``, exact names with ``=``; no ``E''`` strings, as the server reports
standard_conforming_strings on) for a PostgreSQL 12 or later server. No ODBC driver manager or psqlODBC could be
installed here (neither is on PyPI, and apt is unreachable), so the driver itself did not run: replaying its SQL
is the test. psqlODBC sends them without parameters, so each runs in the extended protocol, prepared, and as a
simple Query. Answers are checked against what DuckDB holds: columns, PostgreSQL types, keys and indexes where
the table has them, no rows where it has none.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import duckdb
import psycopg
import pytest
import sqlalchemy as sa
from test_server_jdbc import _run

from test_server import Server, serve

# SQLTables(NULL, "%" schemas) : the schema list
ODBC_SCHEMAS = (
    "select NULL, nspname, NULL from pg_catalog.pg_namespace n where true and nspname not in ('pg_catalog', "
    "'information_schema', 'pg_toast', 'pg_temp_1') order by nspname"
)
# SQLTables(NULL, "", "", "%"): the table types
ODBC_TABLE_TYPES = (
    "select NULL, NULL, relkind from (select 'r' as relkind union select 'v' union select 'm' union select 'f' "
    "union select 'p') as a"
)


def odbc_tables(schema: str, table: str) -> str:
    """SQLTables(NULL, schema, table, "TABLE,VIEW"): patterns, compared with like."""
    return ("select relname, nspname, relkind from pg_catalog.pg_class c, pg_catalog.pg_namespace n where relkind "
            f"in ('r', 'v', 'm', 'f', 'p') and nspname like '{schema}' and relname like '{table}' and nspname not in "
            "('pg_catalog', 'information_schema', 'pg_toast', 'pg_temp_1') and n.oid = relnamespace order by "
            "nspname, relname")


def odbc_columns(schema: str, table: str, op: str = "like", column: str | None = None) -> str:
    """SQLColumns(NULL, schema, table, column): ``like`` for patterns; SQLStatistics asks with ``=`` and no column."""
    col = f" and a.attname {op} '{column}'" if column is not None else ""
    return ("select n.nspname, c.relname, a.attname, a.atttypid, t.typname, a.attnum, a.attlen, a.atttypmod, "
            "a.attnotnull, c.relhasrules, c.relkind, c.oid, pg_get_expr(d.adbin, d.adrelid), case t.typtype when "
            "'d' then t.typbasetype else 0 end, t.typtypmod, 0, attidentity, c.relhassubclass from (((pg_catalog.pg_class "
            f"c inner join pg_catalog.pg_namespace n on n.oid = c.relnamespace and c.relname {op} '{table}' and "
            f"n.nspname {op} '{schema}') inner join pg_catalog.pg_attribute a on (not a.attisdropped) and a.attnum > 0"
            f"{col} and a.attrelid = c.oid) inner join pg_catalog.pg_type t on t.oid = a.atttypid) left outer join "
            "pg_attrdef d on a.atthasdef and d.adrelid = a.attrelid and d.adnum = a.attnum order by n.nspname, "
            "c.relname, attnum")


def odbc_special_columns(schema: str, table: str) -> str:
    """SQLSpecialColumns: whether the table is a view (it has no oid or row-version column either way)."""
    return ("select c.relhasrules, c.relkind, 0 as relhasoids from pg_catalog.pg_namespace u, pg_catalog.pg_class c "
            f"where u.oid = c.relnamespace and c.relname = '{table}' and u.nspname = '{schema}'")


def odbc_statistics(schema: str, table: str) -> str:
    """SQLStatistics's index list (after its SQLColumns call): indkey is read as int2vector text ("1 2")."""
    return ("select c.relname, i.indkey, i.indisunique, i.indisclustered, a.amname, c.relhasrules, n.nspname, c.oid, "
            "0, i.indoption from pg_catalog.pg_index i, pg_catalog.pg_class c, pg_catalog.pg_class d, "
            f"pg_catalog.pg_am a, pg_catalog.pg_namespace n where d.relname = '{table}' and n.nspname = '{schema}' "
            "and n.oid = d.relnamespace and d.oid = i.indrelid and i.indexrelid = c.oid and c.relam = a.oid order by "
            "i.indisprimary desc, i.indisunique, n.nspname, c.relname")


def odbc_primary_keys(schema: str, table: str) -> str:
    """SQLPrimaryKeys, its first query: the key's columns through the index's own attributes and indkey[n - 1]
    (an int2vector subscripts from 0)."""
    return ("select ta.attname, ia.attnum, ic.relname, n.nspname, tc.relname from pg_catalog.pg_attribute ta, "
            "pg_catalog.pg_attribute ia, pg_catalog.pg_class tc, pg_catalog.pg_index i, pg_catalog.pg_namespace n, "
            f"pg_catalog.pg_class ic where tc.relname = '{table}' AND n.nspname = '{schema}' AND tc.oid = i.indrelid "
            "AND n.oid = tc.relnamespace AND i.indisprimary = 't' AND ia.attrelid = i.indexrelid AND ta.attrelid = "
            "i.indrelid AND ta.attnum = i.indkey[ia.attnum-1] AND (NOT ta.attisdropped) AND (NOT ia.attisdropped) "
            "AND ic.oid = i.indexrelid order by ia.attnum")


def odbc_primary_keys_old(schema: str, table: str) -> str:
    """SQLPrimaryKeys's second query, sent when the first finds nothing: an index named TABLE_pkey."""
    return ("select ta.attname, ia.attnum, ic.relname, n.nspname, NULL from pg_catalog.pg_attribute ta, "
            "pg_catalog.pg_attribute ia, pg_catalog.pg_class ic, pg_catalog.pg_index i, pg_catalog.pg_namespace n "
            f"where ic.relname = '{table}_pkey' AND n.nspname = '{schema}' AND ic.oid = i.indexrelid AND n.oid = "
            "ic.relnamespace AND ia.attrelid = i.indexrelid AND ta.attrelid = i.indrelid AND ta.attnum = "
            "i.indkey[ia.attnum-1] AND (NOT ta.attisdropped) AND (NOT ia.attisdropped) order by ia.attnum")


@pytest.fixture(scope="module")
def tx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = str(tmp_path_factory.mktemp("odbc") / "tx.duckdb")
    con = duckdb.connect(path)
    con.execute("""
        CREATE TABLE transactions (transaction_id BIGINT PRIMARY KEY, count INTEGER NOT NULL, amount DECIMAL(12,2),
          amount_d DOUBLE, note VARCHAR DEFAULT 'none', booked TIMESTAMP);
        CREATE INDEX transactions_booked ON transactions(booked);
        CREATE INDEX transactions_lower_note ON transactions(lower(note));
        CREATE TABLE tx_log (x INTEGER, y VARCHAR);
        CREATE TABLE txxlog (z INTEGER);
        CREATE VIEW tx_view AS SELECT transaction_id, amount FROM transactions;
        INSERT INTO transactions VALUES (1, 3, 12.50, 12.5, 'a', TIMESTAMP '2024-01-01 00:00:00');
    """)
    con.close()
    with serve(path) as s:
        yield s


ODBC_QUERIES: list[tuple[str, tuple[Any, ...]]] = [
    (ODBC_SCHEMAS, ()), (ODBC_TABLE_TYPES, ()), (odbc_tables("main", "%"), ()),
    (odbc_tables("main", "transactions"), ()), (odbc_tables("main", "tx\\_log"), ()),
    (odbc_columns("main", "transactions"), ()), (odbc_columns("main", "transactions", column="%"), ()),
    (odbc_columns("main", "transactions", "="), ()), (odbc_special_columns("main", "transactions"), ()),
    (odbc_statistics("main", "transactions"), ()), (odbc_primary_keys("main", "transactions"), ()),
    (odbc_primary_keys_old("main", "tx_log"), ()),
]


def test_sqltables_lists_schemas_types_and_tables_by_pattern(tx: Server) -> None:
    assert _run(tx, ODBC_SCHEMAS) == [(None, "main", None)]  # pg_catalog and information_schema: left out by it
    assert sorted(r[2] for r in _run(tx, ODBC_TABLE_TYPES)) == ["f", "m", "p", "r", "v"]
    assert _run(tx, odbc_tables("main", "%")) == [("transactions", "main", "r"), ("tx_log", "main", "r"),
                                                  ("tx_view", "main", "v"), ("txxlog", "main", "r")]
    assert _run(tx, odbc_tables("main", "transactions")) == [("transactions", "main", "r")]
    assert _run(tx, odbc_tables("other", "%")) == []
    # a pattern with an escaped _ found nothing: DuckDB's LIKE has no escape character unless ESCAPE names one, PostgreSQL's is the backslash
    assert _run(tx, odbc_tables("main", "tx\\_log")) == [("tx_log", "main", "r")]
    assert _run(tx, odbc_tables("main", "tx_log")) == [("tx_log", "main", "r"), ("txxlog", "main", "r")]  # _: any
    with psycopg.connect(tx.url(), autocommit=True) as conn:  # a parameter too; strings and comments stay as written
        assert conn.execute("SELECT %s, 'tx_log' LIKE %s, 'a\\b' LIKE 'a\\\\b' /* LIKE 'a\\b' */, "
                            "'a#_' LIKE 'a##_' ESCAPE '#'", ("LIKE 'x\\y'", "tx\\_log")).fetchall() == [
            ("LIKE 'x\\y'", True, True, True)]



def test_like_escape_goes_after_the_whole_pattern(tx: Server) -> None:
    """SQLAlchemy's startswith / endswith / contains send ``note LIKE $1 || '%'``, which PostgreSQL reads as
    ``note LIKE ($1 || '%')``: the backslash escape must follow the whole pattern (after $1, DuckDB took
    ``'\\' || '%'`` as the escape and refused every such query)."""
    notes = sa.table("transactions", sa.column("note"), sa.column("transaction_id"))
    for dialect in ("psycopg", "psycopg2"):
        engine = sa.create_engine(tx.url().replace("postgresql://", f"postgresql+{dialect}://"))
        try:
            with engine.connect() as conn:
                for where, want in ((notes.c.note.startswith("a"), [(1,)]), (notes.c.note.contains("a"), [(1,)]),
                                    (notes.c.note.endswith("a"), [(1,)]), (notes.c.note.startswith("b"), []),
                                    (notes.c.note.startswith("_", autoescape=True), [])):
                    got = conn.execute(sa.select(notes.c.transaction_id).where(where)).fetchall()
                    assert got == want, (dialect, str(where))
        finally:
            engine.dispose()
    with psycopg.connect(tx.url(), autocommit=True) as conn:
        assert conn.execute("SELECT 'a_c' LIKE %s || '%%', 'abc' LIKE %s || '%%', 'abc' NOT LIKE '%%' || %s, "
                            "'a_c' LIKE 'a\\_' || '%%' AS flag, 'abc' LIKE lower(%s) = true",
                            ("a\\_", "a\\_", "c", "A%")).fetchall() == [(True, False, False, True, True)]

def test_sqlcolumns_gets_postgres_types_defaults_and_nullability(tx: Server) -> None:
    # psqlODBC reads: attname, atttypid, typname, attnum, atttypmod (numeric: (p << 16 | s) + 4), attnotnull, the
    # default's text, the domain's base type (0: none), typtypmod, attidentity
    want = [("transaction_id", 20, "int8", 1, -1, True, None), ("count", 23, "int4", 2, -1, True, None),
            ("amount", 1700, "numeric", 3, (12 << 16 | 2) + 4, False, None),
            ("amount_d", 701, "float8", 4, -1, False, None), ("note", 1043, "varchar", 5, -1, False, "'none'"),
            ("booked", 1114, "timestamp", 6, -1, False, None)]
    for sql in (odbc_columns("main", "transactions"), odbc_columns("main", "transactions", column="%"),
                odbc_columns("main", "transactions", "=")):
        rows = _run(tx, sql)
        assert [(r[2], r[3], r[4], r[5], r[7], r[8], r[12]) for r in rows] == want
        assert {(r[0], r[1], r[10], r[13], r[14], r[15], r[16], r[17]) for r in rows} == {
            ("main", "transactions", "r", 0, -1, 0, "", False)}  # no domains, no identity columns, no inheritance
    assert [r[2] for r in _run(tx, odbc_columns("main", "tx_view"))] == ["transaction_id", "amount"]
    assert _run(tx, odbc_columns("main", "no_such_table")) == []
    assert _run(tx, odbc_special_columns("main", "transactions")) == [(False, "r", 0)]


def test_sqlstatistics_reads_indexes_as_int2vectors(tx: Server) -> None:
    # indkey / indoption arrived as json ("[1]") and text: psqlODBC reads them as int2vector text into shorts
    rows = _run(tx, odbc_statistics("main", "transactions"))
    assert [(r[0], r[1], r[2], r[3], r[4], r[6], r[9]) for r in rows] == [
        ("transactions_transaction_id_pkey", "1", True, False, "art", "main", "0"),  # the primary key's index first
        ("transactions_booked", "6", False, False, "art", "main", "0"),
        ("transactions_lower_note", "0", False, False, "art", "main", "0")]  # 0: an expression
    with psycopg.connect(tx.url(), autocommit=True) as conn:
        cur = conn.execute(odbc_statistics("main", "transactions"))
        assert [d.type_code for d in cur.description][1::8] == [22, 22]  # int2vector, as PostgreSQL sends them
        # for an expression key psqlODBC asks for its text
        assert conn.execute(f"select pg_get_indexdef({rows[2][7]}, 1, true)").fetchall() == [("(lower(note))",)]
        # binary results (psycopg has no loader for them: the bytes): a one-dimensional int2 array from 0
        cur = conn.cursor(binary=True)
        cur.execute(odbc_statistics("main", "transactions"))
        assert [bytes(r[1]) for r in cur.fetchall()] == [struct.pack("!5iih", 1, 0, 21, 1, 0, 2, k) for k in (1, 6, 0)]
    assert _run(tx, odbc_statistics("main", "tx_log")) == []  # no index: none invented


def test_sqlprimarykeys_through_the_indexs_own_columns(tx: Server) -> None:
    # found nothing: pg_attribute listed no index columns, and indkey[n] subscripted from 1
    assert _run(tx, odbc_primary_keys("main", "transactions")) == [
        ("transaction_id", 1, "transactions_transaction_id_pkey", "main", "transactions")]
    assert _run(tx, odbc_primary_keys("main", "tx_log")) == []
    assert _run(tx, odbc_primary_keys_old("main", "tx_log")) == []  # the driver's second try finds none either
