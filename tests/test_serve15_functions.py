"""`ad-duckdb serve` answers PostgreSQL's functions DuckDB lacks (serve15): btrim, width_bucket, encode / decode of
hex and base64, ``|/`` and ``||/``. The answers pinned are PostgreSQL 15's, NULL inputs too. The servers come from
tests/test_server.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from test_server import serve


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[psycopg.Connection]:
    db = str(tmp_path_factory.mktemp("serve15") / "f.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE t (id INTEGER, s VARCHAR, x DOUBLE)")
    con.execute("INSERT INTO t VALUES (1, '  ab  ', 5.35), (2, 'xyaxy', -1), (3, NULL, NULL)")
    con.close()
    with serve(db) as s, psycopg.connect(s.url(), autocommit=True) as c:
        yield c


def test_btrim(conn: psycopg.Connection) -> None:
    """btrim(text) trims spaces (only spaces) from both ends, btrim(text, chars) any of chars; a NULL gives NULL.
    DuckDB has no btrim: 'Scalar Function with name btrim does not exist'. Its column is named btrim."""
    cur = conn.execute("SELECT btrim(s), btrim(s, 'xy'), btrim(E'\\t a ') FROM t ORDER BY id")
    assert [d.name for d in cur.description] == ["btrim"] * 3
    assert cur.fetchall() == [("ab", "  ab  ", "\t a"), ("xyaxy", "a", "\t a"), (None, None, "\t a")]
    assert conn.execute("SELECT btrim('xxaxx', ''), btrim('a', NULL), pg_catalog.btrim('-a-', '-')").fetchone() \
        == ("xxaxx", None, "a")


def test_width_bucket(conn: psycopg.Connection) -> None:
    """width_bucket(x, lo, hi, n): the bucket of n equal ones between lo and hi (0 below, n + 1 at or above hi; lo >
    hi counts downwards), an integer; a NULL gives NULL; n <= 0 and lo = hi are PostgreSQL's errors. DuckDB had none."""
    cur = conn.execute("SELECT width_bucket(x, 0.024, 10.06, 5), width_bucket(x, 10.06, 0.024, 5) FROM t ORDER BY id")
    assert [d.name for d in cur.description] == ["width_bucket"] * 2
    assert [d.type_code for d in cur.description] == [23, 23]
    assert cur.fetchall() == [(3, 3), (0, 6), (None, None)]
    assert conn.execute("SELECT width_bucket(10.06, 0.024, 10.06, 5), width_bucket(0.024, 0.024, 10.06, 5), "
                        "width_bucket(0, 10, 0, 4), width_bucket(11, 10, 0, 4), width_bucket(9.99, 0, 10, 1000), "
                        "width_bucket(1, 0, 2, NULL), width_bucket(-1, NULL, 2, 3)").fetchone() \
        == (6, 1, 5, 0, 1000, None, None)
    for call, message in (("width_bucket(1, 0, 2, 0)", "count must be greater than zero"),
                          ("width_bucket(1, 2, 2, 3)", "lower bound cannot equal upper bound"),
                          ("width_bucket('NaN'::float8, 0, 2, 3)", "cannot be NaN")):
        with pytest.raises(psycopg.Error, match=message):
            conn.execute(f"SELECT {call}").fetchall()


def test_encode_decode_hex_and_base64(conn: psycopg.Connection) -> None:
    """encode(bytea, 'hex' | 'base64') is text (lower-case hex; base64 in lines of 76), decode(text, 'hex' | 'base64')
    bytea (whitespace skipped); a NULL gives NULL. DuckDB's encode / decode take one argument, so the calls failed
    ('No function matches ... encode(BLOB, STRING_LITERAL)') or, decode's, gave the text back. DuckDB's one-argument
    forms stay DuckDB's."""
    data = bytes(range(256))
    cur = conn.execute("SELECT encode(%s::bytea, 'hex'), encode(%s::bytea, 'BASE64'), decode('00Ff10', 'hex'), "
                       "decode(E'YW\\nJj', 'base64'), encode(NULL::bytea, 'hex'), decode(NULL, 'base64')",
                       (data, data))
    assert [d.name for d in cur.description] == ["encode", "encode", "decode", "decode", "encode", "decode"]
    hexed, b64, raw, abc, none1, none2 = cur.fetchone()
    assert hexed == data.hex()
    import base64
    flat = base64.b64encode(data).decode()
    assert b64 == "\n".join(flat[i:i + 76] for i in range(0, len(flat), 76)) and "\n" in b64
    assert (bytes(raw), bytes(abc), none1, none2) == (b"\x00\xff\x10", b"abc", None, None)
    assert conn.execute("SELECT decode(encode('ab'::bytea, 'base64'), 'base64') = 'ab'::bytea, encode('', 'hex'), "
                        "encode('x', 'hex'), encode('a'), decode(encode('a'))").fetchone() \
        == (True, "", "78", b"a", "a")
    for call, message in (("decode('abc', 'hex')", "odd number of digits"),
                          ("encode('a'::bytea, 'rot13')", 'unrecognized encoding: "rot13"')):
        with pytest.raises(psycopg.Error, match=message):
            conn.execute(f"SELECT {call}").fetchall()


def test_square_and_cube_root_operators(conn: psycopg.Connection) -> None:
    """``|/ x`` is PostgreSQL's square root, ``||/ x`` its cube root (double precision, columns ``?column?``), bound
    as its other prefix operators are: looser than + - * / (``|/ 16 + 9`` is 5), tighter than comparisons. DuckDB
    could not parse them; its cbrt(27) is 3.0000000000000004 where PostgreSQL's is 3. A negative's square root is
    PostgreSQL's error, not NaN; a NULL gives NULL."""
    cur = conn.execute("SELECT |/ 25, ||/ 27, |/ 16 + 9, 2 * |/ (4 * 4), ||/ -8::float8, |/ NULL::float8, "
                       "||/ 1000 + 0 > 9.99")
    assert [d.name for d in cur.description] == ["?column?"] * 7
    assert [d.type_code for d in cur.description][:6] == [701] * 6
    assert cur.fetchall() == [(5.0, 3.0, 5.0, 8.0, -2.0, None, True)]
    assert conn.execute("SELECT id, |/ abs(x) FROM t WHERE |/ abs(x) > 2 ORDER BY id").fetchall() == [(1, 5.35 ** 0.5)]
    with pytest.raises(psycopg.Error, match="cannot take square root of a negative number"):
        conn.execute("SELECT |/ x FROM t").fetchall()


def test_a_stored_root_names_only_duckdbs_functions(tmp_path: Path) -> None:
    """A view of ``|/ x`` made through a read-write server stores the root's DuckDB text, not the session's macro:
    the file's other readers (the DuckDB CLI, dbt) read it, with the query's answer."""
    db = str(tmp_path / "rw.duckdb")
    duckdb.connect(db).close()
    with serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as c:
        c.execute("CREATE VIEW v AS SELECT |/ 16 + 9 AS r, ||/ 27 AS q")
        assert c.execute("SELECT * FROM v").fetchall() == [(5.0, 3.0)]
    con = duckdb.connect(db)
    try:
        assert "pg_" not in con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'v'").fetchone()[0]
        assert con.execute("SELECT * FROM v").fetchall() == [(5.0, 3.0)]
    finally:
        con.close()


def test_jsonb_strip_nulls(conn: psycopg.Connection) -> None:
    """jsonb_strip_nulls drops each object's null-valued keys, nested ones too, and keeps an array's nulls; shown as
    jsonb (keys shortest first); a NULL gives NULL. DuckDB had no such function."""
    cur = conn.execute("SELECT jsonb_strip_nulls('{\"bb\":null,\"a\":{\"c\":null,\"d\":[1,null,{\"e\":null}]},"
                       "\"z\":2.50}'::jsonb)::text, json_strip_nulls('[null, {\"x\": null}]'::json)::text, "
                       "jsonb_strip_nulls(NULL::jsonb), jsonb_strip_nulls('null'::jsonb)::text")
    assert [d.name for d in cur.description] == ["jsonb_strip_nulls", "json_strip_nulls", "jsonb_strip_nulls",
                                                 "jsonb_strip_nulls"]
    assert cur.fetchone() == ('{"a": {"d": [1, null, {}]}, "z": 2.50}', "[null,{}]", None, "null")


def test_jsonb_set(conn: psycopg.Connection) -> None:
    """jsonb_set(target, path, value[, create_missing]) replaces or (create_missing, by default true) adds the path's
    last step; an array's step is an index (negative from the end; past the end appends, before the start
    prepends); a missing step before the last leaves the value as it was; NULL of any argument gives NULL; a scalar
    target is PostgreSQL's error. DuckDB had no such function."""
    got = conn.execute(
        "SELECT jsonb_set('{\"a\":1,\"b\":{\"c\":2}}'::jsonb, '{b,c}', '[3]')::text, "
        "jsonb_set('{\"a\":1}', '{x}', '\"new\"')::text, jsonb_set('{\"a\":1}', '{x}', '2', false)::text, "
        "jsonb_set('[0,1,2]', '{-1}', '9')::text, jsonb_set('[0,1,2]', '{10}', '9')::text, "
        "jsonb_set('[0,1,2]', '{-10}', '9')::text, jsonb_set('{\"a\":1}', '{q,r}', '2')::text, "
        "jsonb_set('{\"a\":1}', '{a}', NULL)::text, jsonb_set('{\"a\":1}', '{}', '2')::text").fetchone()
    assert got == ('{"a": 1, "b": {"c": [3]}}', '{"a": 1, "x": "new"}', '{"a": 1}', "[0, 1, 9]", "[0, 1, 2, 9]",
                   "[9, 0, 1, 2]", '{"a": 1}', None, '{"a": 1}')
    assert conn.execute("SELECT jsonb_set('{\"b\":{\"c d\":2}}', ARRAY['b', 'c d'], '5')::text, "
                        "jsonb_set('{\"b\":{\"c d\":2}}', '{b,\"c d\"}', '6')::text").fetchone() \
        == ('{"b": {"c d": 5}}', '{"b": {"c d": 6}}')
    for call, message in (("jsonb_set('1', '{a}', '2')", "cannot set path in scalar"),
                          ("jsonb_set('[1]', '{a}', '2')", 'path element at position 1 is not an integer: "a"'),
                          ("jsonb_set('{}', '{a,NULL}', '2')", "path element at position 2 is null")):
        with pytest.raises(psycopg.Error, match=message):
            conn.execute(f"SELECT {call}").fetchall()
