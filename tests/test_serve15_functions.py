"""`ad-duckdb serve` answers PostgreSQL's functions DuckDB lacks (serve15): btrim, width_bucket, encode / decode of
hex and base64, ``|/`` and ``||/``. The answers pinned are PostgreSQL 15's, NULL inputs too. The servers come from
tests/test_server.py."""

from __future__ import annotations

from collections.abc import Iterator

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
