"""`ad-duckdb serve` (serve17b): PostgreSQL's types of generate_series in FROM and of a jsonb window aggregate, and
DuckDB's list sorts' NULL order of a list column named as a schema, as a real client reads them from a real server
(tests/test_server.py's)."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import psycopg
import pytest

from test_server import serve


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[psycopg.Connection]:
    db = str(tmp_path_factory.mktemp("serve17b") / "t.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE t (i INTEGER, n INTEGER, s VARCHAR)")
    con.execute("INSERT INTO t VALUES (1, 2, 'a'), (2, 3, 'b')")
    # x is a schema and a list column; util a schema with a macro of a list sort's name
    con.execute("CREATE SCHEMA x; CREATE TABLE lists (x INTEGER[]); INSERT INTO lists VALUES ([3, NULL, 1]); "
                "CREATE SCHEMA util; CREATE MACRO util.list_reverse_sort() AS 42")
    con.close()
    with serve(db) as s, psycopg.connect(s.url(), autocommit=True) as c:
        yield c


def _described(conn: psycopg.Connection, sql: str) -> tuple[list[tuple[str, int]], list[tuple[object, ...]]]:
    cur = conn.execute(sql)
    assert cur.description is not None
    return [(d.name, d.type_code) for d in cur.description], cur.fetchall()


def test_generate_series_in_from_is_integer_of_integers(conn: psycopg.Connection) -> None:
    """PostgreSQL resolves generate_series(int, int[, int]) to its integer overload in FROM as in a select list; it
    went out as bigint (20), which a client's typed result (Java's getInt, a dashboard's integer axis) read as
    another type. Its column keeps PostgreSQL's name: the function's without an alias, the alias's, or the column
    alias's; a bigint, timestamp or lateral argument keeps its own type."""
    assert _described(conn, "SELECT * FROM generate_series(1, 3)") == ([("generate_series", 23)], [(1,), (2,), (3,)])
    assert _described(conn, "SELECT g, g + 1 AS h FROM generate_series(1, 5, 2) AS g ORDER BY g") \
        == ([("g", 23), ("h", 23)], [(1, 2), (3, 4), (5, 6)])
    assert _described(conn, "SELECT x FROM pg_catalog.generate_series(1, 2) s(x)") == ([("x", 23)], [(1,), (2,)])
    assert _described(conn, "SELECT generate_series.generate_series FROM generate_series(2, 2)") \
        == ([("generate_series", 23)], [(2,)])
    assert _described(conn, "SELECT t.i, g FROM t, generate_series(1, t.n) g ORDER BY 1, 2") \
        == ([("i", 23), ("g", 23)], [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3)])
    assert _described(conn, "SELECT t.i, g FROM t JOIN generate_series(1, 2) AS g ON g = t.i ORDER BY 1") \
        == ([("i", 23), ("g", 23)], [(1, 1), (2, 2)])
    assert _described(conn, "SELECT * FROM generate_series(1::bigint, 2)")[0] == [("generate_series", 20)]
    cols, rows = _described(conn, "SELECT * FROM generate_series(timestamp '2024-01-01', timestamp '2024-01-02', "
                                  "interval '1 day') d")
    assert cols == [("d", 1114)] and len(rows) == 2


def test_jsonb_agg_over_a_window_is_jsonb(conn: psycopg.Connection) -> None:
    """jsonb_agg(x) OVER (...) is jsonb (3802) in PostgreSQL, as jsonb_agg(x) is; it went out as json (114)."""
    cols, rows = _described(conn, "SELECT i, jsonb_agg(s) OVER (ORDER BY i) AS so_far, "
                                  "jsonb_agg(i) FILTER (WHERE i > 1) OVER () FROM t ORDER BY i")
    assert cols == [("i", 23), ("so_far", 3802), ("jsonb_agg", 3802)]
    assert rows == [(1, ["a"], [2]), (2, ["a", "b"], [2])]


def test_a_list_sort_method_of_a_column_named_as_a_schema_keeps_duckdbs_null_order(conn: psycopg.Connection) -> None:
    """x.list_reverse_sort() where x is a list column and a schema without such a function is the column's method
    (DuckDB binds it so): NULLs last, as DuckDB documents; it was taken for the schema's function and left to the
    server's PostgreSQL NULL order (NULLs first). A schema's own macro of that name keeps its arguments."""
    assert conn.execute("SELECT x.list_reverse_sort(), list_reverse_sort(x) FROM lists").fetchall() \
        == [([3, 1, None], [3, 1, None])]
    assert conn.execute("SELECT util.list_reverse_sort()").fetchall() == [(42,)]
