"""`ad-duckdb serve` as a BI tool's session meets it: catalogue objects made as statements name them, and kept where
a statement needs them later.

One server for the module, on a small DuckDB file (no model: the catalogue and PostgreSQL's answers only).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import psycopg
import pytest

from test_server import Server, serve

SETTING = "SELECT setting, short_desc FROM pg_settings WHERE name = 'standard_conforming_strings'"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = str(tmp_path_factory.mktemp("review17c") / "w.duckdb")
    with duckdb.connect(db) as con:
        con.execute("CREATE TABLE t AS SELECT range::INTEGER AS x FROM range(5)")
    with serve(db) as s:
        yield s


def _run(cur: psycopg.Cursor, sql: str) -> list[tuple[object, ...]]:
    cur.execute(sql)
    return cur.fetchall() if cur.description else []


@pytest.mark.parametrize("query", [SETTING, "SELECT count(*) FROM pg_get_keywords()", "SELECT pg_get_userbyid(1)"])
def test_an_sql_prepare_of_the_catalogue_executes_after_the_transaction_it_was_made_in_rolled_back(
        server: Server, query: str) -> None:
    """PostgreSQL keeps a PREPAREd statement through ROLLBACK; the catalogue objects its PREPARE created in the
    transaction went with it, so EXECUTE read DuckDB's own pg_settings (no row) or failed on a missing macro."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        expected = _run(conn.cursor(), query)
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.cursor()
        _run(cur, "BEGIN")
        _run(cur, f"PREPARE cat AS {query}")
        assert _run(cur, "EXECUTE cat") == expected
        _run(cur, "ROLLBACK")
        assert _run(cur, "EXECUTE cat") == expected
        assert _run(cur, "execute CAT;") == expected


def test_an_anonymous_row_goes_out_as_postgresql_writes_a_record(server: Server) -> None:
    """DuckDB's unnamed struct (a TUPLE: ``(1.5, 2)``, ``ROW(...)``) went out as Python's repr of a tuple,
    ``(Decimal('1.5'), 2)``; PostgreSQL's record text is ``(1.5,2)``, a field quoted where it holds a comma,
    parenthesis, quote, backslash or white space, or is empty, and a NULL left empty."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            assert _run(cur, "SELECT (1.5, 2)") == [("(1.5,2)",)]
            assert _run(cur, "SELECT ROW(1, 'a b', NULL::TEXT, '', 'x\"y', true, 0.5::FLOAT8, DATE '2024-01-02')") \
                == [('(1,"a b",,"","x""y",t,0.5,2024-01-02)',)]
            assert _run(cur, "SELECT ROW(x, ROW(x, 'k')) FROM t WHERE x = 3") == [('(3,"(3,k)")',)]


def test_to_regclass_finds_a_relation_by_name_or_answers_null(server: Server) -> None:
    """A script's "does the table exist" check (to_regclass('t') IS NOT NULL, pg_catalog.to_regclass in a join of
    pg_attribute) failed: DuckDB has no such function. As PostgreSQL's, a name that is no relation is NULL, not an
    error, and a session's first statement answers as a warm one."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.cursor()
        assert _run(cur, "SELECT to_regclass('t') IS NOT NULL, to_regclass('public.no_such') IS NULL") == [(True, True)]
        assert _run(cur, "SELECT a.attname FROM pg_catalog.pg_attribute a "
                         "WHERE a.attrelid = pg_catalog.to_regclass('main.t') AND a.attnum > 0") == [("x",)]
        assert _run(cur, "SELECT to_regclass('t') = 't'::regclass::oid") == [(True,)]
