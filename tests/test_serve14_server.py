"""`ad-duckdb serve` answers as PostgreSQL (serve14): jsonb's operators where the statement's text does not show a
JSON value at the operator (a subquery's or CTE's column, coalesce(doc, '{}')), ``?|`` / ``?&``, jsonb's own key order
and numbers, and what a PostgreSQL client reads back otherwise. The answers pinned are a real PostgreSQL 15's. The
servers come from tests/test_server.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from test_server import serve


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = str(tmp_path_factory.mktemp("serve14") / "docs.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE docs (id INTEGER, label VARCHAR, doc JSON, tags JSON, k VARCHAR, n INTEGER)")
    con.execute("""INSERT INTO docs VALUES (1, 'x', '{"a":1,"bb":{"c":2}}', '["p","q"]', 'a', 7),
                   (2, 'y', '{"b":2.5,"zz":true}', '["q"]', 'b', -3), (3, 'z', NULL, NULL, 'c', NULL)""")
    con.close()
    with serve(db) as s:
        yield s.url()


def _texts(url: str, sql: str) -> list[str | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [None if r[0] is None else str(r[0]) for r in conn.execute(sql).fetchall()]


@pytest.mark.parametrize("sql", [
    "SELECT (d || '{\"x\":1}')::text FROM (SELECT id, doc AS d FROM docs) s ORDER BY id",
    "WITH s AS (SELECT id, doc AS d FROM docs) SELECT (d || '{\"x\":1}')::text FROM s ORDER BY id",
    "WITH s AS (SELECT id, doc AS d FROM docs) SELECT (x.d || '{\"x\":1}')::text FROM (SELECT * FROM s) x ORDER BY id",
    "SELECT (coalesce(doc, '{}') || '{\"x\":1}')::text FROM docs ORDER BY id",
])
def test_jsonb_concat_where_the_text_does_not_show_json(url: str, sql: str) -> None:
    """A subquery's or CTE's column of JSON, or coalesce(doc, '{}'), merged with an object: DuckDB's || joined the
    two texts ('{"a":1,"bb":{"c":2}}{"x":1}', no JSON at all). PostgreSQL merges them, keys in jsonb's order."""
    got = _texts(url, sql)
    assert got[:2] == ['{"a": 1, "x": 1, "bb": {"c": 2}}', '{"b": 2.5, "x": 1, "zz": true}'], got
    assert got[2] == ('{"x": 1}' if "coalesce" in sql else None)


def test_text_concat_stays_text(url: str) -> None:
    """Text columns (of the table, of a subquery) still concatenate as text."""
    assert _texts(url, "SELECT label || '-' || k FROM docs ORDER BY id") == ["x-a", "y-b", "z-c"]
    assert _texts(url, "SELECT l || k FROM (SELECT label AS l, k FROM docs) s ORDER BY 1") == ["xa", "yb", "zc"]
    assert _texts(url, "SELECT doc::text || label FROM docs WHERE id = 1") == ['{"a":1,"bb":{"c":2}}x']


def test_jsonb_concat_of_two_columns_and_an_array(url: str) -> None:
    """An object || an array is a two-element array whose first is the object (PostgreSQL), not two texts joined."""
    got = _texts(url, "SELECT (coalesce(doc, '{}') || tags)::text FROM docs ORDER BY id")
    assert got == ['[{"a": 1, "bb": {"c": 2}}, "p", "q"]', '[{"b": 2.5, "zz": true}, "q"]', None]


def test_key_exists_forms(url: str) -> None:
    """``tags ? 'q'`` was a syntax error (DuckDB's own views have a MAP column named tags, so the name was not JSON's
    everywhere); ``?|`` and ``?&`` of an ARRAY[...] or a text[] literal were syntax errors. Their columns are
    ``?column?``, as an operator's."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute("SELECT tags ? 'q', doc ? k, doc ?| array['a','b'], doc ?& ARRAY['a', 'bb'], "
                           "doc ?| '{a,zz}' FROM docs ORDER BY id")
        assert [d.name for d in cur.description] == ["?column?"] * 5
        assert cur.fetchall() == [(True, True, True, True, True), (True, True, True, False, True),
                                  (None, None, None, None, None)]
        assert conn.execute("SELECT id FROM docs WHERE doc ?& ARRAY['b', 'zz']").fetchall() == [(2,)]


def test_merged_jsonb_as_postgresql_shows_it(url: str) -> None:
    """jsonb orders an object's keys shortest first, keeps a numeric's scale (2.50) and shows 1e2 as 100; the merge
    gave the keys in arrival order and Python's floats."""
    assert _texts(url, "SELECT ('{\"bb\":1,\"a\":2}'::jsonb || '{\"c\":3}'::jsonb)::text") == ['{"a": 2, "c": 3, "bb": 1}']
    assert _texts(url, "SELECT ('{\"a\":1}'::jsonb || '{\"b\":2.50, \"c\": 1e2, \"d\": -0.0}'::jsonb)::text") \
        == ['{"a": 1, "b": 2.50, "c": 100, "d": 0.0}']
    assert _texts(url, "SELECT jsonb_build_object('b', 1, 'a', 2.0, 'b', 3)::text") == ['{"a": 2.0, "b": 3}']


def test_rewrite_keeps_what_it_cannot_read(tmp_path: Path) -> None:
    """Names no subquery gives and no table's column of JSON stay DuckDB's text ||; a text[] literal with quoted
    elements is left to DuckDB."""
    from ad_duckdb.pgjsonb import jsonb_operators
    assert jsonb_operators("SELECT a || b FROM t", lambda n: False) == "SELECT a || b FROM t"
    assert jsonb_operators("SELECT doc ?| '{\"a b\"}' FROM t", lambda n: n == "doc") \
        == "SELECT pg_jsonb_exists_any(doc, '{\"a b\"}') FROM t"


def test_list_functions_sort_nulls_as_duckdb_does(url: str) -> None:
    """The server's PostgreSQL NULL order (NULLs first descending) is the ORDER BY's; DuckDB's list functions kept
    NULLs last, as DuckDB documents, but the global setting turned list_sort(l, 'DESC'), list_reverse_sort and
    list_grade_up(l, 'DESC') around. An aggregate's and a query's ORDER BY keep PostgreSQL's order."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT list_sort([3, NULL, 1], 'DESC'), array_sort([3, NULL, 1], 'DESC'), "
                           "list_reverse_sort([3, NULL, 1]), array_reverse_sort([3, NULL, 1]), "
                           "list_grade_up([3, NULL, 1], 'DESC'), list_sort([3, NULL, 1], 'DESC', 'NULLS FIRST'), "
                           "list_sort(['b', NULL, 'a'], 'desc')").fetchone()
        assert row == ([3, 1, None], [3, 1, None], [3, 1, None], [3, 1, None], [1, 3, 2], [None, 3, 1],
                       ["b", "a", None])
        assert conn.execute("SELECT array_agg(x ORDER BY x DESC) FROM (VALUES (1), (NULL), (3)) t(x)").fetchone() \
            == ([None, 3, 1],)
        assert conn.execute("SELECT x FROM (VALUES (1), (NULL), (3)) t(x) ORDER BY x DESC").fetchall() \
            == [(None,), (3,), (1,)]


def test_stored_json_paths_and_xor_name_only_duckdbs_functions(tmp_path: Path) -> None:
    """A view of ``doc #> '{bb,c}'``, ``#>>``, ``jsonb_extract_path(doc, 'bb', 'c')`` or ``n # 4``, or a generated
    column of ``#``, made through a read-write server, stored the session's pg_json_path / pg_xor: the view failed
    at once ('Scalar Function with name pg_json_path does not exist'), the table for every reader of the file. The
    file keeps the macros' own DuckDB text, which answers as the query does."""
    db = str(tmp_path / "rw.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE docs AS SELECT 1 AS id, '{\"a\":1,\"bb\":{\"c\":2}}'::JSON AS doc, 7 AS n")
    con.close()
    query = ("SELECT id, doc #> '{bb,c}' AS x, doc #>> '{bb,c}' AS y, jsonb_extract_path(doc, 'bb', 'c') AS z, "
             "jsonb_extract_path_text(doc, 'bb') AS w, n # 4 AS xo FROM docs")
    with serve(db, "--read-write") as s:
        with psycopg.connect(s.url(), autocommit=True) as conn:
            conn.execute("CREATE VIEW v1 AS " + query)
            conn.execute("CREATE TABLE t3 (d INTEGER, g INTEGER GENERATED ALWAYS AS (d # 1) VIRTUAL)")
            conn.execute("INSERT INTO t3 (d) VALUES (6)")
            asked = conn.execute(query).fetchall()
            assert conn.execute("SELECT * FROM v1").fetchall() == asked
            assert asked == [(1, 2, "2", 2, '{"c":2}', 3)]
            assert conn.execute("SELECT g FROM t3").fetchall() == [(7,)]
    con = duckdb.connect(db)
    try:
        texts = " ".join(str(r[0]) for r in con.execute(
            "SELECT sql FROM duckdb_tables() UNION ALL SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall())
        assert "pg_" not in texts, texts
        assert con.execute("SELECT y, w::VARCHAR, xo FROM v1").fetchall() == [("2", '{"c":2}', 3)]
        assert con.execute("SELECT g FROM t3").fetchall() == [(7,)]
    finally:
        con.close()


def test_a_concat_the_server_cannot_tell_fails_naming_the_cast(tmp_path: Path) -> None:
    """Where the text cannot tell a JSON value (a name one table has as JSON and another as text, a CASE of a JSON
    column), DuckDB's || joined the two texts: '{"a":1}{"x":1}', a silent wrong answer. Now a JSON value there fails
    naming the expression and the casts that fix it; text there still concatenates, and the casts answer as
    PostgreSQL."""
    db = str(tmp_path / "two.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE docs AS SELECT 1 AS id, '{\"a\":1}'::JSON AS doc, 'x' AS label")
    con.execute("CREATE TABLE notes AS SELECT '{\"z\":1}' AS doc")
    con.close()
    with serve(db) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        for sql in ("SELECT d.doc || '{\"x\":1}' FROM docs d", "SELECT CASE WHEN id > 0 THEN doc END || '{\"x\":1}' "
                    "FROM docs"):
            with pytest.raises(psycopg.Error) as e:
                conn.execute(sql).fetchall()
            assert "::jsonb to merge" in str(e.value) and "::text to join" in str(e.value), e.value
        assert conn.execute("SELECT (d.doc::jsonb || '{\"x\":1}')::text FROM docs d").fetchall() == [('{"a": 1, "x": 1}',)]
        assert conn.execute("SELECT n.doc || '{\"x\":1}' FROM notes n").fetchall() == [('{"z":1}{"x":1}',)]
        cur = conn.execute("SELECT label || '-' || id, upper(label) || '!', doc->>'a' || 'x' FROM docs")
        assert [d.name for d in cur.description] == ["?column?"] * 3
        assert cur.fetchall() == [("x-1", "X!", "1x")]


def test_float_is_double_precision_and_typeof_null_is_null(tmp_path: Path) -> None:
    """PostgreSQL's ``float`` (no precision) is double precision; DuckDB's FLOAT is 4 bytes, so ``x::float`` and
    ``CAST(x AS float)`` kept 7 digits (1/3::float was 0.33333334, 0.1::float + 0.2 was 0.3; a sum of amounts cast to
    float drifts by cents) and a table's ``float`` column stored 4 bytes. ``float(24)`` / ``real`` stay 4 bytes, an
    alias named float stays a name. jsonb_typeof of a missing key (NULL) was 'number'; PostgreSQL's is NULL."""
    db = str(tmp_path / "f.duckdb")
    duckdb.connect(db).close()
    with serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as conn:
        cur = conn.execute("SELECT 1/3::float, CAST(1 AS float) / 3, (0.1::float + 0.2)::text, 123456.78::float, "
                           "1::float(24), 2 AS float, [1.5]::float[]")
        assert [d.type_code for d in cur.description][:5] == [701, 701, 25, 701, 700]
        assert cur.fetchall() == [(1 / 3, 1 / 3, "0.30000000000000004", 123456.78, 1.0, 2, [1.5])]
        assert cur.description[5].name == "float"
        conn.execute("CREATE TABLE t (x float, y real)")
        conn.execute("ALTER TABLE t ADD COLUMN z float")
        conn.execute("INSERT INTO t VALUES (123456.78, 0.5, 123456.78)")
        assert conn.execute("SELECT x, z FROM t").fetchall() == [(123456.78, 123456.78)]
        assert conn.execute("SELECT jsonb_typeof(('{\"a\":1}'::jsonb)->'nope'), json_typeof(NULL::json), "
                            "jsonb_typeof('null'::jsonb), jsonb_typeof('1.5'::jsonb)").fetchall() \
            == [(None, None, "null", "number")]


def test_jsonb_array_length_is_an_integer(url: str) -> None:
    """jsonb_array_length is PostgreSQL's integer; DuckDB's UBIGINT reached the client as numeric, a Decimal in
    Python (``length + 0.5`` raised TypeError)."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute("SELECT jsonb_array_length(tags) FROM docs ORDER BY id")
        assert cur.description is not None and cur.description[0].type_code == 23
        assert cur.fetchall() == [(2,), (1,), (None,)]
