"""`ad-duckdb serve` as ORMs and BI tools see it: PostgreSQL's JSON aggregates and builders, numeric parameters'
scales, the # operator, PIVOTs of several aggregates. The servers come from tests/test_server.py.
"""

from __future__ import annotations

from typing import Any

import psycopg

import test_server
from test_server import Server

server = test_server.server  # the read-only server of tests/test_server.py
warehouse = test_server.warehouse


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
        assert names == [("g", 23), ("json_agg", 114), ("jsonb_agg", 114), ("f", 114)]
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
        assert {t for _, t in names} == {114}
        assert rows == [({"1": "x", "n": {"y": None}}, {"a": 7}, [1, "a"], 2, {"a": 1})]
        conn.rollback()
