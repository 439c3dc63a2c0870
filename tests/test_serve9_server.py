"""`ad-duckdb serve` as ORMs and BI tools see it: PostgreSQL's JSON aggregates and builders, numeric parameters'
scales, the # operator, PIVOTs of several aggregates. The servers come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import decimal
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import psycopg

import test_server
from test_server import Server


def _typed(conn: psycopg.Connection, sql: str, params: Any = None) -> tuple[list[tuple[str, int]], list[Any]]:
    """A query's columns (name, type OID) and rows."""
    cur = conn.execute(sql, params)
    assert cur.description is not None
    return [(d.name, d.type_code) for d in cur.description], cur.fetchall()


def test_json_aggregates_and_builders_as_orms_send_them(server: Server) -> None:
    """json_agg, jsonb_agg, jsonb_build_object, json_object_agg, jsonb_build_array and to_jsonb (what Django's
    JSONBAgg, Prisma's relation joins, Hasura and PostgREST send to nest rows) failed with 'Scalar Function with name
    json_agg does not exist!', and json_build_object took at most 16 arguments. They answer as PostgreSQL's now: json
    (oid 114) columns named as PostgreSQL names them, an aggregate with its ORDER BY, DISTINCT, FILTER and OVER, NULL
    for no rows and a JSON null for a NULL row, a row (t, t.*) as an object, keys of any type as text."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE ja (g INTEGER, id INTEGER, name VARCHAR)")
        conn.execute("INSERT INTO ja VALUES (1, 1, 'a'), (1, 2, NULL), (2, 3, 'c'), (2, NULL, 'd')")
        names, rows = _typed(conn, "SELECT g, json_agg(id ORDER BY id DESC NULLS LAST), jsonb_agg(DISTINCT g), "
                                   "json_agg(name) FILTER (WHERE id > 1) AS f FROM ja GROUP BY g ORDER BY g")
        assert names == [("g", 23), ("json_agg", 114), ("jsonb_agg", 3802), ("f", 114)]  # (jsonb's: serve16a)
        assert rows == [(1, [2, 1], [1], [None]), (2, [3, None], [2], ["c"])]
        # no rows: NULL, as PostgreSQL's (so the ORMs' coalesce(..., '[]') gives the empty list)
        assert conn.execute("SELECT json_agg(id), coalesce(jsonb_agg(id), '[]') FROM ja WHERE false").fetchall() == [
            (None, [])]
        # Prisma / Hasura: an aggregate of objects; a row as an object; a window's
        rows = conn.execute("SELECT g, coalesce(jsonb_agg(jsonb_build_object('id', ja.id, 'name', name, 'g', g) "
                            "ORDER BY id), '[]') AS items FROM ja WHERE id IS NOT NULL GROUP BY g ORDER BY g").fetchall()
        assert rows == [(1, [{"id": 1, "name": "a", "g": 1}, {"id": 2, "name": None, "g": 1}]),
                        (2, [{"id": 3, "name": "c", "g": 2}])]
        assert conn.execute("SELECT json_agg(t), json_agg(t.*) FROM (SELECT id, name FROM ja WHERE id = 1) t"
                            ).fetchall() == [([{"id": 1, "name": "a"}], [{"id": 1, "name": "a"}])]
        assert conn.execute("SELECT id, json_agg(id) OVER (ORDER BY id ROWS 1 PRECEDING) FROM ja WHERE g = 1 "
                            "ORDER BY id").fetchall() == [(1, [1]), (2, [1, 2])]
        # builders: 20 pairs (the macro took 8), keys of any type, nested json, pg_catalog's
        pairs = ", ".join(f"'k{n}', {n}" for n in range(20))
        assert conn.execute(f"SELECT json_build_object({pairs})").fetchall() == [({f"k{n}": n for n in range(20)},)]
        names, rows = _typed(conn, "SELECT jsonb_build_object(1, 'x', 'n', jsonb_build_object('y', NULL)), "
                                   "pg_catalog.json_build_object('a', %s::int), jsonb_build_array(1, 'a'), to_jsonb(2), "
                                   "json_object_agg(name, id) FROM ja WHERE g = 1 AND name IS NOT NULL", (7,))
        assert [n for n, _ in names] == ["jsonb_build_object", "json_build_object", "jsonb_build_array", "to_jsonb",
                                         "json_object_agg"]
        assert [t for _, t in names] == [3802, 114, 3802, 3802, 114]  # jsonb's are jsonb (serve16a)
        assert rows == [({"1": "x", "n": {"y": None}}, {"a": 7}, [1, "a"], 2, {"a": 1})]
        conn.rollback()


def test_a_numeric_parameter_cast_to_numeric_keeps_its_own_scale(server: Server) -> None:
    """%s::numeric[] (and %s::numeric) of psycopg's Decimals came back with 10 decimals, Decimal('1.5000000000') for
    Decimal('1.5'), and a value of more decimals was rounded to 10: the server reads a bare numeric as DECIMAL(38,10).
    PostgreSQL returns the value as sent. The cast of a parameter bound to Decimals names the scale they need now (a
    list's largest: DuckDB's list has one type), by the simple and the binary protocol, psycopg and asyncpg alike; a
    literal's ::numeric keeps its own scale too (serve16a), an expression's the server's 10 decimals
    (round(avg(x)::numeric, 4))."""
    d = decimal.Decimal
    with psycopg.connect(server.url()) as conn:
        names, rows = _typed(conn, "SELECT %s::numeric[] AS a, %s::numeric AS b, CAST(%s AS pg_catalog.numeric) AS c, "
                                   "%s::numeric AS d, 1.5::numeric AS e",
                             ([d("1.5"), d("2.25"), None], d("1.5"), d("-12.125"), d("0.123456789012345")))
        assert [t for _, t in names] == [1231, 1700, 1700, 1700, 1700]
        assert [str(v) for v in rows[0][0]] == ["1.50", "2.25", "None"]
        assert [str(v) for v in rows[0][1:]] == ["1.5", "-12.125", "0.123456789012345", "1.5"]  # (a literal's too)
        assert conn.execute("SELECT %b::numeric[]", ([d("7"), d("0.5")],)).fetchall() == [([d("7.0"), d("0.5")],)]
        assert str(conn.execute("SELECT %s::numeric", (d("1.5"),), prepare=True).fetchall()[0][0]) == "1.5"
        conn.execute("CREATE TEMP TABLE np (price DECIMAL(12, 2))")
        conn.execute("INSERT INTO np VALUES (1.5), (2.25), (3)")
        assert conn.execute("SELECT price FROM np WHERE price = ANY(%s::numeric[]) ORDER BY price",
                            ([d("1.5"), d("3.00")],)).fetchall() == [(d("1.50"),), (d("3.00"),)]
        conn.rollback()

    async def run() -> list[Any]:
        conn = await asyncpg.connect(server.url())
        try:
            return list(await conn.fetchrow("SELECT $1::numeric[] AS a, $2::numeric AS b", [d("1.5"), d("2.25")],
                                            d("0.5")))
        finally:
            await conn.close()

    assert [[str(v) for v in a] if isinstance(a, list) else str(a) for a in asyncio.run(run())] == [
        ["1.50", "2.25"], "0.5"]


def test_the_xor_operator_as_postgresql_binds_it(server: Server) -> None:
    """a # b, PostgreSQL's bitwise XOR of integers (a flags column's changed bits), failed with 'syntax error at or
    near "#"': DuckDB has only the function xor. It is that function now, its operands bound as PostgreSQL's grammar
    binds them (below + - * /, left to right with & | << >>), its column named ?column?, in a WHERE, with parameters;
    the JSON path operators #> and #>> are unchanged."""
    with psycopg.connect(server.url()) as conn:
        names, rows = _typed(conn, "SELECT 5 # 3, 12 # 10 & 6, 1 + 2 # 4 * 2, 1 # 2 # 4 AS chained, -x::int # %s AS p "
                                   "FROM (VALUES (7)) v(x) WHERE x # 1 = 6", (2,))
        assert names == [("?column?", 23), ("?column?", 23), ("?column?", 23), ("chained", 23), ("p", 23)]
        assert rows == [(6, 6, 11, 7, -5)]  # (12 # 10) & 6, (1 + 2) # (4 * 2), (1 # 2) # 4, (-7) # 2
        assert conn.execute("""SELECT '{"a": [5]}'::json #>> '{a,0}', ('{"a": 5}'::json #>> '{a}')::int # 1""").fetchall(
            ) == [("5", 4)]
        assert conn.execute("SELECT 5 # NULL, NULL::int # 3, 5::bigint # 3::smallint").fetchall() == [(None, None, 6)]
        conn.rollback()

    async def run() -> list[Any]:  # an untyped parameter takes the other side's type (asyncpg encodes by it)
        conn = await asyncpg.connect(server.url())
        try:
            return list(await conn.fetchrow("SELECT x # $1 AS a, $2 # x AS b FROM (VALUES (6)) v(x)", 3, 5))
        finally:
            await conn.close()

    assert asyncio.run(run()) == [5, 3]


def test_a_pivots_several_aggregates_sum_integers_as_bigint(server: Server) -> None:
    """PIVOT t ON cat USING sum(qty), count(*) kept numeric sum columns (Decimals in psycopg) where one aggregate's,
    and the same sum outside a PIVOT, are bigint, as PostgreSQL's sum of integers: DuckDB names several aggregates'
    columns after their text (a_sum(qty)), which the cast changed. Each sum of a small integer type is bigint now,
    its columns named as before (an aliased one by its alias); a sum of bigint or decimal stays numeric and exact."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE pvs (g INTEGER, cat VARCHAR, qty INTEGER, small SMALLINT, big BIGINT, "
                     "price DECIMAL(12, 1))")
        conn.execute("INSERT INTO pvs VALUES (0, 'a', 1, 1, 1, 1.5), (0, 'b', 2, 2, 2, 3.0), (1, 'a', 4, 4, 4, 0.5)")
        names, rows = _typed(conn, "PIVOT pvs ON cat USING sum(qty), count(*) GROUP BY g ORDER BY g")
        assert names == [("g", 23), ("a_sum(qty)", 20), ("a_count_star()", 20), ("b_sum(qty)", 20),
                         ("b_count_star()", 20)]
        assert rows == [(0, 1, 1, 2, 1), (1, 4, 1, None, 0)]
        names, rows = _typed(conn, "PIVOT pvs ON cat IN ('a') USING sum(qty) AS s, SUM(small * 2), sum(big), "
                                   "sum(price), avg(qty) GROUP BY g ORDER BY g")
        assert names == [("g", 23), ("a_s", 20), ("a_sum((small * 2))", 20), ("a_sum(big)", 1700),
                         ("a_sum(price)", 1700), ("a_avg(qty)", 701)]
        assert [tuple(map(str, r)) for r in rows] == [("0", "1", "2", "1", "1.5", "1.0"), ("1", "4", "8", "4", "0.5", "4.0")]
        names, rows = _typed(conn, "SELECT * FROM (SELECT g, cat, qty FROM pvs) PIVOT (sum(qty), max(qty) "
                                   "FOR cat IN ('a', 'b')) ORDER BY g")
        assert names == [("g", 23), ("a_sum(qty)", 20), ("a_max(qty)", 23), ("b_sum(qty)", 20), ("b_max(qty)", 23)]
        assert rows == [(0, 1, 1, 2, 2), (1, 4, 4, None, None)]
        conn.rollback()


_PRIVILEGES_SQL = (  # Metabase's table privileges (its postgres driver), as a read-only role's are read
    "SELECT t.objectname, pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\".\"' || "
    "t.objectname || '\"', 'SELECT') AS s, pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || "
    "'\".\"' || t.objectname || '\"', 'INSERT') AS i, has_table_privilege('transactions', 'update, delete') AS ud, "
    "has_table_privilege('transactions', 'SELECT WITH GRANT OPTION') AS g, "
    "has_any_column_privilege('transactions', 'UPDATE') AS c, has_column_privilege('transactions', 'amount', "
    "'select') AS cs, has_schema_privilege(current_user, 'main', 'CREATE') AS sc, "
    "has_schema_privilege('main', 'USAGE') AS su FROM (SELECT schemaname, tablename AS objectname FROM "
    "pg_catalog.pg_tables UNION SELECT schemaname, viewname FROM pg_catalog.pg_views) t "
    "WHERE t.objectname = 'transactions'")


def test_table_privileges_say_what_the_server_allows(server: Server, warehouse: str, tmp_path: Path) -> None:
    """has_table_privilege(..., 'INSERT') (Metabase's table privileges, which decide its uploads and actions; DBeaver
    and pgAdmin) said true on a read-only server, where every write fails, though psql's \\dp said duckdb=r/duckdb:
    DuckDB's own answers true to anything. It says what the server allows now, as \\dp does: SELECT only on a
    read-only server, the writes too with --read-write (no TRIGGER); a list of privileges is any of them, as in
    PostgreSQL; a column's and a schema's (CREATE) alike."""
    with psycopg.connect(server.url()) as conn:
        assert conn.execute(_PRIVILEGES_SQL).fetchall() == [
            ("transactions", True, False, False, True, False, True, False, True)]
        conn.rollback()
    db = str(tmp_path / "rw.duckdb")
    shutil.copy(warehouse, db)
    with test_server.serve(db, "--read-write") as s, psycopg.connect(s.url()) as conn:
        assert conn.execute(_PRIVILEGES_SQL).fetchall() == [
            ("transactions", True, True, True, True, True, True, True, True)]
        assert conn.execute("SELECT has_table_privilege('transactions', 'TRIGGER')").fetchall() == [(False,)]


def test_json_extract_path_of_several_keys_as_postgresql(server: Server) -> None:
    """jsonb_extract_path_text(j, 'a', 'b') (PostgreSQL's function form of j #>> '{a,b}', what ORMs write for a key
    inside a json column) failed with 'Scalar Function with name jsonb_extract_path_text does not exist!', and
    json_extract_path(j, 'a', 'b') with DuckDB's 'No function matches': DuckDB's takes one path. Both read the keys
    as PostgreSQL's now (an array's element by its index); one key stays DuckDB's, which reads it the same."""
    with psycopg.connect(server.url()) as conn:
        names, rows = _typed(conn, """SELECT jsonb_extract_path_text(d, 'a', 'b'), json_extract_path(d, 'a', 'b') AS j,
                                      json_extract_path_text(d, 'l', %s::text), jsonb_extract_path(d, 'a'),
                                      json_extract_path_text(d, 'a') AS one FROM (SELECT '{"a": {"b": 5}, "l": [7, 8]}'
                                      ::json AS d) t""", (1,))
        assert names == [("jsonb_extract_path_text", 25), ("j", 114), ("json_extract_path_text", 25),
                         ("jsonb_extract_path", 3802), ("one", 25)]  # (jsonb's: serve16a)
        assert rows == [("5", 5, "8", {"b": 5}, '{"b":5}')]
        conn.rollback()


def test_substring_from_a_pattern_as_postgresqls_regular_expression(server: Server) -> None:
    """substring(text FROM 'pattern') (Metabase's regexextract custom column; a code pulled out of text) failed with
    "Could not convert string 'w..' to INT64": DuckDB reads FROM as the start position. With a literal pattern it is
    PostgreSQL's regular-expression substring now: the first group's match (the whole match without a group), NULL
    when nothing matches, the column named substring; substring(x FROM 2 FOR 3) stays a position's."""
    with psycopg.connect(server.url()) as conn:
        names, rows = _typed(conn, "SELECT substring('hello world' from 'w..'), substring(c FROM 'id-([0-9]+)') AS n, "
                                   "substring(c FROM 'zz') AS none, substring(c FROM 2 FOR 3) AS pos, "
                                   "substring(c FROM '[(]x') AS cls FROM (VALUES ('(xid-42;')) v(c)")
        assert names == [("substring", 25), ("n", 25), ("none", 25), ("pos", 25), ("cls", 25)]
        assert rows == [("wor", "42", None, "xid", "(x")]
        conn.rollback()
