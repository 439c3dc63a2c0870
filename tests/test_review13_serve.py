"""`ad-duckdb serve` as a Metabase / Superset user with a read-write server meets this session's PostgreSQL rewrites
(review13): what DuckDB stores in the file (a view's text, a table's DEFAULT, CHECK and generated column) must name
only DuckDB's own functions, never the session's temporary macros or the server's Python functions. The servers come
from tests/test_server.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from test_server import serve

# each statement stores an expression DuckDB keeps in the file; the rewrites would write round() as the session's
# pg_round, substring's group as the server's pg_regex_group and a jsonb builder's keys as pg_jsonb_unique
STORED = [
    "CREATE TABLE t_def (x DOUBLE, y DOUBLE DEFAULT round(2.5::float8), w DOUBLE GENERATED ALWAYS AS (round(x)) "
    "VIRTUAL)",
    "ALTER TABLE t_def ADD COLUMN v DOUBLE DEFAULT round(4.5::float8)",
    "ALTER TABLE t_def ALTER COLUMN y SET DEFAULT round(3.5::float8)",
    "CREATE TABLE t_sub (s VARCHAR, g VARCHAR DEFAULT substring('abc' FROM 'a(x)?'))",
    "CREATE VIEW v_sub AS SELECT substring(label FROM '(x)?y') AS g FROM docs",
    "CREATE VIEW v_agg AS SELECT jsonb_object_agg(label, id) AS o FROM docs",
    "CREATE VIEW v_obj AS SELECT jsonb_build_object(label, id) AS o FROM docs",
]


def _db(tmp_path: Path) -> str:
    db = str(tmp_path / "rw.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE docs AS SELECT * FROM (VALUES (1, 'xy'), (2, 'zy')) v(id, label)")
    con.close()
    return db


def _reads(execute: Callable[[str], Any]) -> list[Any]:
    """What the stored table and views give, through ``execute`` (a psycopg connection's or a DuckDB connection's)."""
    execute("INSERT INTO t_def (x) VALUES (1.5)")
    execute("INSERT INTO t_sub (s) VALUES ('q')")
    return [execute(q).fetchall() for q in ("SELECT x, y, w, v FROM t_def", "SELECT g FROM t_sub",
                                            "SELECT g FROM v_sub ORDER BY g", "SELECT o::VARCHAR FROM v_agg",
                                            "SELECT o::VARCHAR FROM v_obj ORDER BY 1")]


def test_what_the_file_stores_names_only_duckdbs_functions(tmp_path: Path) -> None:
    """A table created through a read-write server with round() in a DEFAULT or a generated column stored the
    session's pg_round: no other session of the server could read or insert into it ('Scalar Function with name
    pg_round does not exist'), nor DuckDB outside it; a view of substring's group or of a jsonb aggregate named the
    server's Python functions, which exist in no other reader of the file. What the file stores is DuckDB's, as a view's
    round and || were already."""
    db = _db(tmp_path)
    with serve(db, "--read-write") as s:
        with psycopg.connect(s.url(), autocommit=True) as conn:
            for sql in STORED:
                conn.execute(sql)
        # another session (it has not named round: the session's macros are not made) reads and writes them
        with psycopg.connect(s.url(), autocommit=True) as conn:
            served = _reads(conn.execute)
    con = duckdb.connect(db)
    try:
        texts = " ".join(str(r[0]) for r in con.execute(
            "SELECT sql FROM duckdb_tables() UNION ALL SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall())
        assert "pg_" not in texts, texts
        con.execute("DELETE FROM t_def")
        con.execute("DELETE FROM t_sub")
        plain = _reads(con.execute)
    finally:
        con.close()
    assert plain == served, (plain, served)
    assert plain[0] == [(1.5, 4.0, 2.0, 5.0)]  # DuckDB's round: half away from zero, as a view's


def test_which_statements_store_their_expressions() -> None:
    """A table's columns, ALTER TABLE, an index, a view or macro store expressions; CREATE TABLE ... AS SELECT and a
    query store values (their round() stays PostgreSQL's)."""
    from ad_duckdb.pgstored import stored_definition
    from ad_duckdb.sqltext import words_if

    def stored(sql: str) -> bool:
        toks = words_if(sql, "round")
        assert toks is not None
        return stored_definition(toks)

    for sql in ("CREATE TABLE t (x DOUBLE DEFAULT round(1.5))", "CREATE TABLE IF NOT EXISTS s.t (x DOUBLE, "
                "y DOUBLE AS (round(x)))", "create or replace temp table \"T\" (x double check (round(x) > 0))",
                "ALTER TABLE t ALTER COLUMN x SET DEFAULT round(2.5)", "CREATE VIEW v AS SELECT round(x) FROM t",
                "CREATE OR REPLACE MACRO m(x) AS round(x)", "CREATE INDEX i ON t (round(x))"):
        assert stored(sql), sql
    for sql in ("CREATE TABLE t AS SELECT round(x) FROM u", "CREATE OR REPLACE TEMP TABLE db.s.t AS SELECT round(1)",
                "INSERT INTO t SELECT round(x) FROM u", "SELECT round(x) FROM t", "WITH a AS (SELECT round(1)) "
                "SELECT * FROM a"):
        assert not stored(sql), sql


def test_explain_format_json_is_one_row(tmp_path: Path) -> None:
    """EXPLAIN (FORMAT JSON) gave a row per line of the JSON ('[', '    {', ...), which no client can read as JSON:
    PostgreSQL gives the whole plan in one row (pgAdmin's and DBeaver's plan views parse it); the text plan stays a
    row per line."""
    import json

    with serve(_db(tmp_path)) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        rows = conn.execute("EXPLAIN (FORMAT JSON) SELECT id FROM docs WHERE id > 1").fetchall()
        assert len(rows) == 1, rows
        assert isinstance(json.loads(rows[0][0]), list)
        assert len(conn.execute("EXPLAIN SELECT id FROM docs WHERE id > 1").fetchall()) > 1
