"""`ad-duckdb serve` (serve16b): what a view made through the server stores is plain DuckDB SQL that any reader of
the file can run, PostgreSQL's justify_* functions, ``array || element``, encode/decode's 'escape' format, a user's
macro named like DuckDB's list sorts, and the JSON-column lookup read once per catalogue. Answers pinned are
PostgreSQL's (its source: interval_justify_*, esc_encode / esc_decode). Servers come from tests/test_server.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from test_server import serve


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = str(tmp_path_factory.mktemp("serve16b") / "q.duckdb")
    duckdb.connect(db).close()
    with serve(db) as s:
        yield s.url()


def _one(url: str, sql: str) -> tuple[object, ...]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return tuple(row)


# PostgreSQL 15's answers, as (months, days, microseconds)
_JUSTIFY = [
    ("justify_hours", "INTERVAL '27 hours'", (0, 1, 3 * 3600 * 10**6)),
    ("justify_hours", "INTERVAL '-27 hours'", (0, -1, -3 * 3600 * 10**6)),
    ("justify_hours", "INTERVAL '1 day -1 hour'", (0, 0, 23 * 3600 * 10**6)),
    ("justify_hours", "INTERVAL '-1 day 1 hour'", (0, 0, -23 * 3600 * 10**6)),
    ("justify_hours", "INTERVAL '2 months 50 hours'", (2, 2, 2 * 3600 * 10**6)),
    ("justify_days", "INTERVAL '35 days'", (1, 5, 0)),
    ("justify_days", "INTERVAL '-35 days'", (-1, -5, 0)),
    ("justify_days", "INTERVAL '1 month -1 day'", (0, 29, 0)),
    ("justify_days", "INTERVAL '-1 month 1 day'", (0, -29, 0)),
    ("justify_days", "INTERVAL '65 days 30 hours'", (2, 5, 30 * 3600 * 10**6)),
    ("justify_interval", "INTERVAL '1 month -1 hour'", (0, 29, 23 * 3600 * 10**6)),
    ("justify_interval", "INTERVAL '-1 month 1 hour'", (0, -29, -23 * 3600 * 10**6)),
    ("justify_interval", "INTERVAL '1 month -30 days'", (0, 0, 0)),
    ("justify_interval", "INTERVAL '29 days 25 hours'", (1, 0, 3600 * 10**6)),
    ("justify_interval", "INTERVAL '1 month -1 day 1 hour'", (0, 29, 3600 * 10**6)),
]
_PARTS = ("(datepart('year', {e}) * 12 + datepart('month', {e}))::BIGINT, datepart('day', {e})::BIGINT, "
          "(datepart('hour', {e}) * 3600000000 + datepart('minute', {e}) * 60000000 "
          "+ datepart('microsecond', {e}))::BIGINT")


@pytest.mark.parametrize(("fn", "arg", "parts"), _JUSTIFY)
def test_justify_functions_answer_as_postgresql(url: str, fn: str, arg: str, parts: tuple[int, int, int]) -> None:
    """justify_hours / justify_days / justify_interval were 'Scalar Function ... does not exist'. Each keeps the
    interval's three fields as PostgreSQL's C code leaves them (whole days out of the time, 30-day months out of the
    days, signs made alike)."""
    assert _one(url, "SELECT " + _PARTS.format(e=f"{fn}({arg})")) == parts
    assert _one(url, f"SELECT {fn}(NULL::INTERVAL) IS NULL") == (True,)


def test_encode_and_decode_escape(url: str) -> None:
    """encode(bytea, 'escape') / decode(text, 'escape') were refused. PostgreSQL escapes zero and high-bit bytes as
    three octal digits and doubles a backslash (select encode(decode('ee5c2700aa','hex'),'escape') is
    \\356\\\\'\\000\\252); decode reads \\\\ and \\ooo (first digit 0-3) and fails on any other backslash."""
    assert _one(url, "SELECT encode(decode('ee5c2700aa', 'hex'), 'escape')") == ("\\356\\\\'\\000\\252",)
    assert _one(url, "SELECT encode('abc'::bytea, 'ESCAPE'), encode(''::bytea, 'escape')") == ("abc", "")
    assert _one(url, "SELECT encode(decode('a\\\\b\\001\\377c', 'escape'), 'hex')") == ("615c6201ff63",)
    assert _one(url, "SELECT encode(decode('é', 'escape'), 'hex')") == ("c3a9",)
    with psycopg.connect(url, autocommit=True) as conn:
        for bad in ("'x\\y'", "'x\\'", "'\\08'", "'\\400'"):
            with pytest.raises(psycopg.Error, match="invalid input syntax for type bytea"):
                conn.execute(f"SELECT decode({bad}, 'escape')").fetchall()
        with pytest.raises(psycopg.Error, match='unrecognized encoding: "rot13"'):
            conn.execute("SELECT encode('a'::bytea, 'rot13')").fetchall()


def test_array_concat_with_an_element(url: str) -> None:
    """``ARRAY[1, 2] || 3`` and ``0 || ARRAY[1, 2]`` were DuckDB's 'Cannot concatenate types INTEGER[] and
    INTEGER'; PostgreSQL appends (prepends) the element. Two arrays still concatenate; the column is ?column?."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute("SELECT ARRAY[1, 2] || 3, 0 || ARRAY[1, 2], ARRAY[1] || ARRAY[2, 3], "
                           "ARRAY['a'] || 'b'::text, ARRAY[1, 2] || 3 || 4, array_agg(x) || 9 "
                           "FROM (VALUES (5), (6)) t(x)")
        assert [d.name for d in cur.description] == ["?column?"] * 5 + ["?column?"]
        assert cur.fetchone() == ([1, 2, 3], [0, 1, 2], [1, 2, 3], ["a", "b"], [1, 2, 3, 4], [5, 6, 9])


def test_views_made_through_the_server_read_everywhere(tmp_path: Path) -> None:
    """A view (or generated column) made through a read-write server calling btrim, width_bucket, encode/decode of
    two arguments, justify_*, ``a || element`` or jsonb's ``?`` / ``?|`` / ``?&`` stored the session's helpers
    (btrim, width_bucket, pg_encode, pg_jsonb_exists, ...): plain DuckDB failed on the view ('Scalar Function with
    name btrim does not exist'). The file keeps DuckDB's own SQL, which answers as the query does."""
    db = str(tmp_path / "rw.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE docs AS SELECT 1 AS id, '  hi  ' AS s, 7.5 AS x, "
                "'{\"a\":1,\"bb\":null}'::JSON AS doc, '[\"p\",\"q\",1]'::JSON AS tags, INTERVAL '27 hours' AS i")
    con.close()
    query = ("SELECT id, btrim(s) AS b1, btrim('xxhixx', 'x') AS b2, width_bucket(x, 0, 10, 4) AS wb, "
             "encode('ab'::bytea, 'hex') AS e1, encode(decode('YWJj', 'base64'), 'escape') AS e2, "
             "decode('6162', 'hex') AS d1, justify_hours(i)::VARCHAR AS j, ARRAY[id] || 2 AS arr, "
             "doc ? 'bb' AS k1, tags ? 'q' AS k2, tags ? '1' AS k3, doc ?| array['z', 'a'] AS k4, "
             "doc ?& '{a,bb}' AS k5, doc ?& array['a', 'c'] AS k6 FROM docs")
    with serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as conn:
        conn.execute("CREATE VIEW v AS " + query)
        conn.execute("CREATE TABLE g (s VARCHAR, t VARCHAR GENERATED ALWAYS AS (btrim(s)) VIRTUAL, "
                     "w INTEGER GENERATED ALWAYS AS (width_bucket(length(s), 0, 8, 2)) VIRTUAL)")
        conn.execute("INSERT INTO g (s) VALUES ('  ab ')")
        asked = conn.execute(query).fetchall()
        assert conn.execute("SELECT * FROM v").fetchall() == asked
        assert asked == [(1, "hi", "hi", 4, "6162", "abc", b"ab", "1 day 03:00:00", [1, 2],
                          True, True, False, True, True, False)]
    con = duckdb.connect(db)
    try:
        texts = " ".join(str(r[0]) for r in con.execute(
            "SELECT sql FROM duckdb_tables() UNION ALL SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall())
        # (the stored bodies bind values to lambda variables named pg_x, pg_r, ...: no call of a session helper)
        assert re.search(r"\b(pg_\w+|btrim|width_bucket|justify_\w+)\(", texts) is None, texts
        row = con.execute("SELECT * EXCLUDE (d1) FROM v").fetchall()
        assert row == [(1, "hi", "hi", 4, "6162", "abc", "1 day 03:00:00", [1, 2], True, True, False, True, True,
                        False)]
        assert con.execute("SELECT t, w FROM g").fetchall() == [("ab", 2)]
    finally:
        con.close()


def test_python_helpers_in_a_view_are_refused_naming_duckdbs_spelling(tmp_path: Path) -> None:
    """jsonb_strip_nulls and jsonb_set run in the server's Python: a view of them stored a call no other reader of the
    file has. The CREATE is refused naming the function and DuckDB's spelling; the query itself still answers."""
    db = str(tmp_path / "py.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE docs AS SELECT '{\"a\":1,\"b\":null}'::JSON AS doc")
    con.close()
    with serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as conn:
        for call, spelling in (("jsonb_strip_nulls(doc)", "json_strip_nulls"), ("jsonb_set(doc, '{a}', '2')",
                                                                                "json_merge_patch")):
            with pytest.raises(psycopg.Error) as e:
                conn.execute(f"CREATE VIEW v AS SELECT {call} AS j FROM docs")
            message = str(e.value)
            assert call.split("(")[0] in message and spelling in message, message
            assert conn.execute(f"SELECT ({call})::text FROM docs").fetchone() is not None
        assert conn.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'v'").fetchone() == (0,)


@pytest.mark.parametrize("call", ["util.list_sort()", "util.list_sort(x)", "util.list_sort(x, 'DESC')",
                                  "util.list_sort(x, y, z)", "util.list_reverse_sort(x)",
                                  "util.list_grade_up(x)", "util.array_sort(x)", "main.list_sort(x)"])
def test_a_users_list_sort_macro_is_left_alone(call: str) -> None:
    """A user's macro named like DuckDB's list_sort, called through its schema with any number of arguments, keeps
    its arguments: util.list_sort(x) was given DuckDB's NULL order as a second argument (read as the method form
    x.list_sort('DESC'))."""
    from ad_duckdb.pglistsort import list_null_orders
    sql = f"SELECT {call} FROM t"
    assert list_null_orders(sql) == sql
    # DuckDB's method form still gets it
    assert list_null_orders("SELECT l.list_sort('DESC') FROM t") == "SELECT l.list_sort('DESC', 'NULLS LAST') FROM t"
    assert list_null_orders("SELECT [3, 1].list_reverse_sort() FROM t") \
        == "SELECT [3, 1].list_reverse_sort('NULLS LAST') FROM t"


def test_a_users_list_sort_macro_runs_through_the_server(tmp_path: Path) -> None:
    """The user's one-argument util.list_sort answers through the server as in DuckDB."""
    db = str(tmp_path / "m.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE SCHEMA util")
    con.execute("CREATE MACRO util.list_sort(l) AS len(l)")
    con.execute("CREATE MACRO util.list_reverse_sort() AS 42")
    con.close()
    with serve(db) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        assert conn.execute("SELECT util.list_sort([3, 1, 2]), util.list_reverse_sort(), "
                            "[3, NULL, 1].list_reverse_sort()").fetchone() == (3, 42, [3, 1, None])
        assert conn.execute("SELECT l.list_reverse_sort() FROM (SELECT [1, NULL, 2] AS l) util").fetchone() \
            == ([2, 1, None],)


def test_json_column_names_are_read_once_while_the_catalogue_stays(tmp_path: Path) -> None:
    """The JSON-column lookup (a scan of every column: ~0.12 s on 62,000 columns) ran for each statement with an
    undecided ``||``. A session keeps what it read until a statement that may change the catalogue runs (any
    session's), and drops what it read inside a transaction block when the block ends."""
    from ad_duckdb.pgcatalogversion import VERSION, changes_catalogue
    from ad_duckdb.pgjsoncols import JSON_NAMES_SQL, JsonNamesCache
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    con.execute("CREATE TABLE t (doc JSON, label VARCHAR)")
    reads: list[int] = []

    def read() -> list[tuple[str, bool]]:
        reads.append(1)
        return [(n, bool(e)) for n, e in con.execute(JSON_NAMES_SQL).fetchall()]

    cache = JsonNamesCache()
    assert cache.read(read, in_block=False) == [("doc", True)]
    assert cache.read(read, in_block=False) == [("doc", True)] and len(reads) == 1
    cache.transaction_ended()  # (read outside a block: kept)
    assert cache.read(read, in_block=False) == [("doc", True)] and len(reads) == 1
    con.execute("CREATE TABLE u (label JSON)")
    VERSION.bump()
    assert sorted(cache.read(read, in_block=True) or []) == [("doc", True), ("label", False)] and len(reads) == 2
    assert cache.read(read, in_block=False) is not None and len(reads) == 2
    cache.transaction_ended()  # (read in a block: dropped)
    cache.read(read, in_block=False)
    assert len(reads) == 3
    assert [k for k in ("CREATE", "ALTER", "DROP", "ATTACH", "SELECT", "INSERT", "TRANSACTION", "CALL")
            if changes_catalogue(k)] == ["CREATE", "ALTER", "DROP", "ATTACH", "CALL"]


def test_kept_json_column_names_follow_other_sessions_changes(tmp_path: Path) -> None:
    """Kept names never go stale: a table whose ``doc`` turns JSON (in another session, in its transaction block,
    in this session's own statement) merges at once after the change is committed, and not before."""
    db = str(tmp_path / "s.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE notes AS SELECT '{\"z\":1}' AS doc")
    con.close()
    sql = "SELECT (doc || '{\"x\":1}')::text FROM notes"
    joined, merged = [('{"z":1}{"x":1}',)], [('{"x": 1, "z": 1}',)]
    with serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as a, \
            psycopg.connect(s.url(), autocommit=True) as b:
        assert a.execute(sql).fetchall() == joined
        b.execute("CREATE OR REPLACE TABLE notes AS SELECT '{\"z\":1}'::JSON AS doc")  # another session's DDL
        assert a.execute(sql).fetchall() == merged
        b.execute("BEGIN")
        b.execute("CREATE OR REPLACE TABLE notes AS SELECT '{\"z\":1}' AS doc")
        assert a.execute(sql).fetchall() == merged  # (not committed yet)
        b.execute("COMMIT")
        assert a.execute(sql).fetchall() == joined
        a.execute("BEGIN")
        assert a.execute(sql).fetchall() == joined  # (read in a's block, whose snapshot predates b's change)
        b.execute("CREATE OR REPLACE TABLE notes AS SELECT '{\"z\":1}'::JSON AS doc")
        a.execute("COMMIT")
        assert a.execute(sql).fetchall() == merged
        a.execute("CREATE OR REPLACE TABLE notes AS SELECT '{\"z\":1}' AS doc")  # its own DDL
        assert a.execute(sql).fetchall() == joined
        a.execute("BEGIN")
        a.execute("SELECT count(*) FROM notes").fetchall()  # (a's snapshot starts)
        b.execute("CREATE OR REPLACE TABLE notes AS SELECT '{\"z\":1}'::JSON AS doc")
        assert a.execute(sql).fetchall() == joined  # read after b's change, in a snapshot before it
        a.execute("COMMIT")
        assert a.execute(sql).fetchall() == merged  # (what a read in its block is not kept)
