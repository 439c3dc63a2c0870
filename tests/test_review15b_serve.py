"""review15b: serve's float and list-sort rewrites (serve14) on ordinary statements a BI analyst sends: a table's
column named ``value`` / ``name`` / ``key`` (DuckDB keywords) of type float, DuckDB's method-call form
``l.list_sort('DESC')`` and a user's own macro named ``list_sort`` in a schema. The servers come from
tests/test_server.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg
import pytest

from test_server import serve


def test_float_column_named_by_a_keyword_is_double_precision(tmp_path: Path) -> None:
    """``CREATE TABLE readings (ts timestamp, value float)``: the column's name is a DuckDB keyword, and the rewrite
    took only identifiers as column names, so ``value`` (and ``name``, ``key``) stayed a 4-byte FLOAT:
    16777217 read back 16777216."""
    db = str(tmp_path / "f.duckdb")
    duckdb.connect(db).close()
    with serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE readings (ts timestamp, value float, name float, amount float)")
        conn.execute("ALTER TABLE readings ADD COLUMN key float")
        conn.execute("ALTER TABLE readings ADD COLUMN IF NOT EXISTS date float")
        assert conn.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = "
                            "'readings' AND column_name <> 'ts' ORDER BY column_name").fetchall() \
            == [(c, "double precision") for c in ("amount", "date", "key", "name", "value")]
        conn.execute("INSERT INTO readings VALUES ('2026-01-01', 16777217, 16777217, 16777217, 16777217, 16777217)")
        assert conn.execute("SELECT value, name, amount, key, date FROM readings").fetchall() == [(16777217.0,) * 5]
        assert conn.execute("SELECT a FROM (SELECT 2 AS float) s(a)").fetchall() == [(2,)]


def test_list_sorts_in_method_form_and_a_users_own_macro(tmp_path: Path) -> None:
    """DuckDB's method form ``l.list_sort('DESC')`` is ``list_sort(l, 'DESC')``: it kept the server's NULL order
    ([NULL, 3, 1]); a user's macro ``util.list_sort(l, k)`` (its own function, in its own schema) was given a third
    argument, 'NULLS LAST', and failed to bind."""
    db = str(tmp_path / "lists.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE SCHEMA util")
    con.execute("CREATE MACRO util.list_sort(l, k) AS list_transform(l, lambda x: x * k)")
    con.execute("CREATE TABLE t (l INTEGER[])")
    con.execute("INSERT INTO t VALUES ([3, NULL, 1])")
    con.close()
    with serve(db) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        assert conn.execute("SELECT l.list_sort('DESC'), (l).list_reverse_sort(), t.l.list_grade_up('DESC'), "
                            "[3, NULL, 1].list_sort('DESC'), (l).array_sort('DESC', 'NULLS FIRST') FROM t"
                            ).fetchall() == [([3, 1, None], [3, 1, None], [1, 3, 2], [3, 1, None], [None, 3, 1])]
        assert conn.execute("SELECT util.list_sort([1, 2], 3), list_sort([3, NULL, 1], 'DESC')").fetchall() \
            == [([3, 6], [3, 1, None])]


def test_a_derived_tables_column_list_is_not_the_databases_json_column(tmp_path: Path) -> None:
    """``FROM (VALUES ('a')) v(doc)`` names its column in the alias's list, which the server did not read: with a
    JSON column doc elsewhere in the database, ``doc || '!'`` was taken for jsonb's and failed ("Malformed JSON ...
    Input: "a""); PostgreSQL joins the texts. A table's JSON column renamed in such a list (``docs AS d(i, body)``)
    is no longer joined as text either: both are checked when bound."""
    db = str(tmp_path / "docs.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE docs (id INTEGER, doc JSON)")
    con.execute("""INSERT INTO docs VALUES (1, '{"a":1}')""")
    con.close()
    with serve(db) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        for sql in ("SELECT doc || '!' FROM (VALUES ('a')) v(doc)", "SELECT doc || '!' FROM unnest(['a']) u(doc)",
                    "SELECT v.doc || '!' FROM (VALUES ('a')) AS v(doc)", "SELECT doc || '!' FROM (SELECT 'a') s(doc)"):
            assert conn.execute(sql).fetchall() == [("a!",)], sql
        assert conn.execute("""SELECT (doc || '{"b":2}')::text FROM docs""").fetchall() == [('{"a": 1, "b": 2}',)]
        with pytest.raises(psycopg.Error, match="cannot tell whether body is jsonb or text"):
            conn.execute("""SELECT body || '{"b":2}' FROM docs AS d(i, body)""")
