"""`ad-duckdb serve` reviewed as BI users send SQL (review12): PostgreSQL's # beside a CASE and a bare column alias.
The server comes from tests/test_server.py."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import psycopg

import test_server
from test_server import Server


def test_xor_inside_and_beside_a_case_and_before_a_bare_alias(server: Server) -> None:
    # Before: a # in a CASE's ELSE (as Metabase and dbt write a flags test) failed 'syntax error at or near "#"',
    # a CASE before a # too, and `flags # 1 f` (an alias without AS, which PostgreSQL takes) became
    # pg_xor(flags, 1 f): 'syntax error at or near "f"'.
    with psycopg.connect(server.url()) as conn:
        cur = conn.execute(
            "SELECT CASE WHEN x > 100 THEN 0 ELSE x # 1 END AS e, CASE WHEN x > 100 THEN 0 ELSE x # 2 END, "
            "x # 4 f, x # CASE WHEN x > 0 THEN 8 ELSE 16 END AS g, CASE WHEN x > 0 THEN 1 ELSE 2 END # x AS h, "
            "x::int # %s p FROM (VALUES (7)) v(x) ORDER BY x", (3,))
        assert cur.description is not None
        assert [d.name for d in cur.description] == ["e", "case", "f", "g", "h", "p"]
        assert cur.fetchall() == [(6, 5, 3, 15, 6, 4)]
        conn.rollback()


def test_database_privilege_says_what_the_server_allows(server: Server, warehouse: str, tmp_path: Path) -> None:
    # Before: has_database_privilege(..., 'CREATE') was DuckDB's, true to anything, on a read-only server too, where
    # the table, schema and column privileges (serve9) said no write: a client's check of whether it may create a
    # schema (DBeaver's, pgAdmin's, an upload's) read yes and its CREATE SCHEMA failed. A read-only server allows a
    # connection and temporary tables, which its sessions may create.
    with psycopg.connect(server.url()) as conn:
        assert conn.execute(
            "SELECT has_database_privilege(current_database(), 'CREATE'), "
            "has_database_privilege(current_user, current_database(), 'create'), "
            "has_database_privilege(current_database(), 'CONNECT'), has_database_privilege(current_database(), 'TEMP'), "
            "has_database_privilege(current_database(), 'TEMPORARY, CREATE')").fetchall() == [
            (False, False, True, True, True)]
        conn.rollback()
    db = str(tmp_path / "rw.duckdb")
    shutil.copy(warehouse, db)
    with test_server.serve(db, "--read-write") as s, psycopg.connect(s.url()) as conn:
        assert conn.execute("SELECT has_database_privilege(current_database(), 'CREATE')").fetchall() == [(True,)]


def test_json_aggregates_of_a_row_star_and_of_pairs_take_order_by_and_filter(server: Server) -> None:
    # Before: json_object_agg(k, v ORDER BY ...) (and its FILTER) failed 'Function "json_group_object" is a Macro
    # Function. "DISTINCT", "FILTER", and "ORDER BY" are only applicable to window and aggregate functions', and
    # json_agg(t.* ORDER BY ...) failed 'STAR expression is only allowed as the root element of an expression'.
    # PostgreSQL takes both; json_object_agg gives NULL for no rows and a JSON null for a NULL value.
    with psycopg.connect(server.url()) as conn:
        rows = conn.execute(
            "SELECT json_agg(t.* ORDER BY id DESC), jsonb_object_agg(name, id ORDER BY id DESC) FILTER (WHERE name "
            "IS NOT NULL), "
            "json_object_agg(id, name) FILTER (WHERE id > 1), json_object_agg(id, name) "
            "FROM (VALUES (1, 'a'), (2, NULL), (3, 'c')) t(id, name)").fetchall()
        assert rows == [([{"id": 3, "name": "c"}, {"id": 2, "name": None}, {"id": 1, "name": "a"}],
                         {"c": 3, "a": 1}, {"2": None, "3": "c"}, {"1": "a", "2": None, "3": "c"})]
        cur = conn.execute("SELECT jsonb_object_agg(name, id ORDER BY id DESC)::text AS o, "
                           "json_object_agg(id, name) AS e FROM (VALUES (1, 'a'), (3, 'c')) t(id, name)")
        assert cur.description is not None
        assert [(d.name, d.type_code) for d in cur.description] == [("o", 25), ("e", 114)]
        assert cur.fetchall() == [('{"a": 1, "c": 3}', {"1": "a", "3": "c"})]  # (jsonb's own key order, as PostgreSQL's)
        assert conn.execute("SELECT json_object_agg(id, name ORDER BY id) FROM (VALUES (1, 'a')) t(id, name) "
                            "WHERE false").fetchall() == [(None,)]
        conn.rollback()


def test_substring_from_a_bound_pattern_is_the_regular_expression_substring(server: Server) -> None:
    # Before: substring(x FROM %s) with the pattern bound as a parameter (psycopg's, asyncpg's, a JDBC client's
    # prepared statement) failed "Could not convert string '[0-9]+' to INT64": only a pattern written as a literal
    # was read as PostgreSQL's regular expression. An untyped parameter there is text in PostgreSQL, so it is a
    # pattern; a number bound there is still a position.
    with psycopg.connect(server.url()) as conn:
        for prepare in (False, True):
            got = conn.execute("SELECT substring(x FROM %s) AS a, substring(x FROM %s) AS b, substring(x FROM %s) c "
                               "FROM (VALUES ('ab12cd'), ('x')) v(x) ORDER BY x", ("[0-9]+", "b(\\d)", 3),
                               prepare=prepare).fetchall()
            assert got == [("12", "1", "12cd"), (None, None, "")], prepare
        conn.rollback()

    async def run() -> list[Any]:
        conn = await asyncpg.connect(server.url())
        try:
            return list(await conn.fetchrow("SELECT substring('ab12cd' FROM $1), substring('ab12cd' FROM $2)",
                                            "[a-z](\\d)", "z+"))
        finally:
            await conn.close()

    assert asyncio.run(run()) == ["1", None]


def test_substring_of_two_texts_is_the_regular_expression_substring(server: Server) -> None:
    # PostgreSQL's substring(text, text) is the regular-expression substring, as substring(text FROM text) is (what
    # SQLAlchemy's func.substring(col, pattern) sends). Before: substring('a2b', '2') answered '2b' (DuckDB's start
    # position 2) where PostgreSQL answers '2', and substring(x, '[0-9]+') or a bound pattern failed "Could not
    # convert string ... to INT64". A number (a position) and three arguments stay as they were.
    with psycopg.connect(server.url()) as conn:
        got = conn.execute("SELECT substring('a2b', '2'), substring(x, '[0-9]+'), substring(x, %s), "
                           "substring(x, 2), substring(x, %s), substring(x, 2, 3) FROM (VALUES ('ab12cd')) v(x)",
                           ("b(\\d)", 3)).fetchall()
        assert got == [("2", "12", "1", "b12cd", "12cd", "b12")]
        conn.rollback()
