"""review15b: serve's jsonb || (serve14) asked the catalogue once per column name per operator whether the name is a
JSON column's, each a scan of every column of every table: on a warehouse of 2,000 tables a text concatenation of four
columns took 1.1 s where the query itself took 3 ms. One read of the catalogue's JSON column names per statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from ad_duckdb.pgbackend import Backend
from ad_duckdb.pgsession import Session


class _Counting:
    """A real DuckDB cursor, its statements that read duckdb_columns() counted (what a statement costs the catalogue)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self._cur, self.scans = cur, 0

    def execute(self, sql: str | duckdb.Statement, *args: Any, **kw: Any) -> Any:
        # (not the catalogue's objects, made once, as statements parsed for the database: pgcatalogparsed)
        self.scans += isinstance(sql, str) and sql.startswith("SELECT") and "duckdb_columns()" in sql
        return self._cur.execute(sql, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


def _rows(session: Session, sql: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for result in session.run(sql):
        out.extend(result.rows)
    return out


def test_a_statements_concatenations_read_the_catalogue_once(tmp_path: Path) -> None:
    db = str(tmp_path / "wh.duckdb")
    con = duckdb.connect(db)
    for s in range(3):
        con.execute(f"CREATE SCHEMA s{s}")
        con.execute(f"CREATE TABLE s{s}.t (c1 VARCHAR, c2 VARCHAR, c3 VARCHAR, c4 VARCHAR, doc JSON, mixed JSON)")
    con.execute("CREATE TABLE s0.u (mixed VARCHAR)")
    con.execute("""INSERT INTO s0.t VALUES ('a', 'b', 'c', 'd', '{"x":1}', '{"y":2}')""")
    con.execute("INSERT INTO s0.u VALUES ('m')")
    con.close()
    backend = Backend(db, read_write=False)  # the server's database, as `ad-duckdb serve` opens it
    cur = _Counting(backend.con.cursor())
    # (a session as the server opens one for a client; its cursor's statements pass through to DuckDB)
    session = Session(cur, backend.catalog_sql)  # type: ignore[arg-type]
    before = cur.scans
    assert _rows(session, "SELECT c1 || ' ' || c2 || ' ' || c3 || ' ' || c4 FROM s0.t") == [("a b c d",)]
    assert cur.scans - before <= 1
    # what each name is stays as it was: doc merges as jsonb, a name JSON in one table and text in another is checked
    # when bound (text here), a plain column joins texts
    before = cur.scans
    assert [str(r[0]) for r in _rows(session, """SELECT (doc || '{"z":3}')::text FROM s0.t""")] \
        == ['{"x": 1, "z": 3}']
    assert _rows(session, "SELECT mixed || '!' FROM s0.u") == [("m!",)]
    assert cur.scans - before <= 2
    assert _rows(session, "SELECT 'a' || 'b'") == [("ab",)]
    backend.close()
