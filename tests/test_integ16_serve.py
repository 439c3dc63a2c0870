"""`ad-duckdb serve`: a view made through a read-write server with the expressions whose PostgreSQL result types
and texts the server gives (upper, length, avg, round, extract, casts to text of doubles and intervals, jsonb
builders, age) stores DuckDB's own SQL, which a plain DuckDB connection to the file reads."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import psycopg

from test_server import serve


def test_views_with_postgres_result_types_read_everywhere(tmp_path: Path) -> None:
    db = str(tmp_path / "rw.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE t AS SELECT 1 AS id, 'straße' AS s, 2.0::DOUBLE AS d, 3 AS n, "
                "TIMESTAMP '2024-03-01 10:00:06.5' AS ts, INTERVAL '2 months' AS i")
    con.close()
    query = ("SELECT upper(s) AS u, length(s) AS l, char_length(s) AS cl, round(n) AS r, round(n, 1) AS r1, "
             "extract(second FROM ts) AS e, d::text AS dt, i::text AS it, CAST(d AS text) AS dt2, "
             "jsonb_build_object('a', n) AS jb, age(TIMESTAMP '2024-03-01', TIMESTAMP '2024-01-01') AS ag, "
             "1.23456789012345::numeric AS num, justify_hours(INTERVAL '27 hours')::VARCHAR AS j FROM t")
    with serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as conn:
        conn.execute("CREATE VIEW v AS " + query)
        conn.execute("CREATE VIEW agg AS SELECT avg(n) AS a, stddev_samp(n) AS sd FROM t")
        assert conn.execute("SELECT count(*) FROM v").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM agg").fetchone() == (1,)
    con = duckdb.connect(db)
    try:
        texts = " ".join(str(r[0]) for r in con.execute(
            "SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall())
        assert re.search(r"\bpg_\w+\(", texts) is None, texts
        row = con.execute("SELECT u, l, r, dt FROM v").fetchone()
        assert row is not None and row[1] == 6 and row[2] == 3
        assert con.execute("SELECT a FROM agg").fetchone() == (3.0,)
    finally:
        con.close()


def test_a_cast_to_text_of_a_regclass_stays_duckdbs_own() -> None:
    """The text-cast rewrite wrapped ``'t'::regclass::oid::regclass::text`` in the text macro, which names its operand
    five times: each copy a catalogue lookup, nested twice; the statement took about a minute instead of a second. A
    reg* cast's text is a name: the statement keeps DuckDB's casts, as a query of the catalogue does."""
    from ad_duckdb.pgcatalogsql import catalog_rewrites
    from ad_duckdb.pgtextcast import TEXT_MACRO, catalogue_query, text_casts

    for src in ("SELECT 'transactions'::regclass::oid::regclass::text, 123456789::regclass::text",
                "SELECT CAST('t'::regtype AS text), 2.0::float8::text"):
        out = text_casts(catalog_rewrites(src), catalogue_query(src))
        assert f"{TEXT_MACRO}(" not in out, out
    assert f"{TEXT_MACRO}(" in text_casts("SELECT 2.0::float8::text, x::text FROM t", catalogue_query("SELECT 1"))


def test_readme_psycopg_snippet_and_its_autocommit_note(tmp_path: Path) -> None:
    """README "Live": the psycopg snippet (autocommit=True) runs, and a failed query leaves the next one working;
    without autocommit, what its note says happens does (the next query fails until a rollback)."""
    import ad_duckdb

    db = str(tmp_path / "warehouse.duckdb")
    con = ad_duckdb.connect(db)
    con.execute("CREATE TABLE transactions AS SELECT range AS transaction_id, 1 + range % 40 AS count, "
                "(10 + (range * 37) % 900)::DOUBLE AS amount FROM range(600)")
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], max_steps=60, progress=False)
    con.close()
    with serve(db) as s:
        with psycopg.connect(s.url(), autocommit=True) as conn:
            score = conn.execute("SELECT anomaly_score('tx_ae', %s, %s)", (3, 120.0)).fetchone()[0]
            assert score > 0
            try:
                conn.execute("SELECT anomaly_score('no_such', 1, 2)")
            except psycopg.Error:
                pass
            with conn.transaction():
                assert conn.execute("SELECT count(*) FROM transactions").fetchone() == (600,)
        with psycopg.connect(s.url()) as conn:  # psycopg's default: a transaction from the first query
            try:
                conn.execute("SELECT anomaly_score('no_such', 1, 2)")
            except psycopg.Error:
                pass
            try:
                conn.execute("SELECT 1")
                raise AssertionError("a query after a failed one ran in psycopg's default transaction")
            except psycopg.errors.InFailedSqlTransaction:
                conn.rollback()
            assert conn.execute("SELECT 1").fetchone() == (1,)
