"""`ad-duckdb serve` as BI tools and drivers see it: sum() in subqueries and named windows after the bigint rewrite,
sum()'s type by every path a query takes, and client_min_messages. The servers come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import psycopg
import pytest

import test_server
from test_server import Server


def _typed(conn: psycopg.Connection, sql: str) -> tuple[list[tuple[str, int]], list[tuple[object, ...]]]:
    cur = conn.execute(sql)
    assert cur.description is not None
    return [(d.name, d.type_code) for d in cur.description], cur.fetchall()


def test_a_subquerys_sum_of_outer_columns_is_the_outer_querys_aggregate(server: Server) -> None:
    """SELECT (SELECT sum(t.x)) FROM t (a subquery's aggregate of the outer query's columns, which PostgreSQL and
    DuckDB both make the outer query's aggregate) failed with 'column "x" must appear in the GROUP BY clause': the
    bigint rewrite's typed macro bound t.x inside the subquery. Such a sum keeps DuckDB's own now, and gives the
    answer; a subquery's sum of its own columns (qualified, or unqualified and its FROM table's) is still bigint,
    in any transaction state; a named window's sum is named sum, as in PostgreSQL, not after the macro."""
    with psycopg.connect(server.url()) as conn:  # a transaction block: a failed probe would abort it
        conn.execute("CREATE TEMP TABLE st (x INTEGER, g INTEGER, value INTEGER)")
        conn.execute("CREATE TEMP TABLE other (y INTEGER)")
        conn.execute("INSERT INTO st VALUES (1, 0, 5), (2, 0, 5), (3, 1, 5)")
        conn.execute("INSERT INTO other VALUES (7)")
        for sql in ("SELECT (SELECT sum(st.x)) FROM st", "SELECT (SELECT sum(x)) FROM st",
                    "SELECT (SELECT sum(st.x) FROM other) FROM st", "SELECT (SELECT sum(x) FROM other) FROM st",
                    "SELECT (SELECT sum(value)) - 9 FROM st", "SELECT (SELECT sum(x) + 1) - 1 AS s FROM st"):
            assert _typed(conn, sql)[1] == [(6,)], sql
        assert _typed(conn, "SELECT g, (SELECT sum(st.x)) FROM st GROUP BY g ORDER BY g")[1] == [(0, 3), (1, 3)]
        # the subquery's own columns: bigint as in PostgreSQL
        assert _typed(conn, "SELECT x, (SELECT sum(s2.x) FROM st s2 WHERE s2.x <= st.x) FROM st ORDER BY x") == \
            ([("x", 23), ("sum", 20)], [(1, 1), (2, 3), (3, 6)])
        assert _typed(conn, "SELECT (SELECT sum(x) FROM st), (SELECT sum(y) FROM other)") == \
            ([("sum", 20), ("sum", 20)], [(6, 7)])
        assert _typed(conn, "SELECT (SELECT sum(x) FROM temp.st), (SELECT sum(y) FROM temp.main.other)") == \
            ([("sum", 20), ("sum", 20)], [(6, 7)])
        assert _typed(conn, "SELECT * FROM st JOIN (SELECT g, sum(x) FROM st GROUP BY g) s USING (g) "
                            "ORDER BY x")[0][-1] == ("sum", 20)
        assert _typed(conn, "SELECT sum(x) OVER w FROM st WINDOW w AS (ORDER BY x)") == \
            ([("sum", 20)], [(1,), (3,), (6,)])
        conn.rollback()


def test_client_min_messages_filters_what_reaches_the_client(server: Server) -> None:
    """SET client_min_messages = error (a tool quieting its session) still printed every WARNING; PostgreSQL sends a
    message only at the setting's level or above. BEGIN inside a block failed the client's transaction with DuckDB's
    'cannot start a transaction within a transaction' (psycopg's conn.execute("BEGIN") outside autocommit does
    this), where PostgreSQL warns and goes on; COMMIT and ROLLBACK outside a block said nothing, where PostgreSQL
    warns 'there is no transaction in progress'."""
    seen: list[tuple[str | None, str | None, str | None]] = []
    with psycopg.connect(server.url()) as conn:
        conn.add_notice_handler(lambda d: seen.append((d.severity_nonlocalized, d.sqlstate, d.message_primary)))
        conn.execute("CREATE TEMP TABLE blk (n INTEGER)")
        conn.execute("BEGIN")  # psycopg's own BEGIN is open already
        conn.execute("INSERT INTO blk VALUES (1)")
        conn.commit()
        assert seen == [("WARNING", "25001", "there is already a transaction in progress")]
        assert conn.execute("SELECT n FROM blk").fetchall() == [(1,)]
        conn.rollback()
    seen.clear()
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.add_notice_handler(lambda d: seen.append((d.severity_nonlocalized, d.sqlstate, d.message_primary)))
        for level in ("notice", "warning", "debug1", "error", "ERROR"):
            conn.execute("SELECT set_config('client_min_messages', %s, false)", [level])
            conn.execute("COMMIT")
            conn.execute("SET LOCAL work_mem = '8MB'")
        assert seen == [("WARNING", "25P01", "there is no transaction in progress"),
                        ("WARNING", "25P01", "SET LOCAL can only be used in transaction blocks")] * 3
    seen.clear()
    with psycopg.connect(server.url(), autocommit=True, options="-c client_min_messages=error") as conn:
        conn.add_notice_handler(lambda d: seen.append((d.severity_nonlocalized, d.sqlstate, d.message_primary)))
        conn.execute("ROLLBACK")
        conn.execute("RESET client_min_messages")  # the connection's own: error still
        conn.execute("ROLLBACK")
        conn.execute("SET client_min_messages = notice")
        conn.execute("ROLLBACK")
    assert seen == [("WARNING", "25P01", "there is no transaction in progress")]


def test_sum_is_bigint_by_every_path_a_query_takes(server: Server) -> None:
    """sum() of an integer column was bigint in a plain query but numeric (Decimal) in the same query run by an SQL
    PREPARE / EXECUTE, and sum($1::int) was numeric by psycopg's server-side binding and asyncpg: the rewrite took
    only a statement that starts as a query, and no sum of a parameter. A PREPAREd query's sum is bigint now (its
    EXECUTE works after the ROLLBACK that undid the session's macro too), a cast parameter's also; an uncast one
    stays DuckDB's (its type is the client's to give); EXPLAIN shows the plan that runs; COPY's text is the same."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE ps (x INTEGER)")
        conn.execute("INSERT INTO ps VALUES (1), (2), (3)")
        conn.commit()
        conn.execute("PREPARE tot AS SELECT sum(x) FROM ps")
        conn.execute("PREPARE above(int) AS SELECT sum(x) FROM ps WHERE x > $1")
        conn.execute("PREPARE of_param(int) AS SELECT sum($1::int) FROM ps")
        conn.rollback()  # a session's first sum in a block that rolls back: the macro is gone, the PREPAREs stay
        assert _typed(conn, "EXECUTE tot") == ([("sum", 20)], [(6,)])
        assert _typed(conn, "EXECUTE above(1)") == ([("sum", 20)], [(5,)])
        assert _typed(conn, "EXECUTE of_param(2)") == ([("sum", 20)], [(6,)])
        for prepare in (False, True):
            cur = conn.execute("SELECT sum(%s::int), sum(CAST(%s AS INTEGER)) FROM ps", [2, 1], prepare=prepare)
            assert cur.description is not None and [d.type_code for d in cur.description] == [20, 20]
            assert cur.fetchall() == [(6, 3)]
        plan = conn.execute("EXPLAIN SELECT sum(x) FROM ps").fetchall()
        assert len(plan) > 3 and plan[0][0].startswith("╭─")  # PostgreSQL's shape: a row per line of the plan
        with conn.cursor().copy("COPY (SELECT sum(x) FROM ps) TO STDOUT") as copy:
            assert b"".join(copy) == b"6\n"
        conn.rollback()

    async def run() -> list[object]:
        c = await asyncpg.connect(server.url())
        try:
            await c.execute("CREATE TEMP TABLE ps (x INTEGER)")
            await c.execute("INSERT INTO ps VALUES (1), (2), (3)")
            st = await c.prepare("SELECT sum($1::int) FROM ps")
            assert [a.type.name for a in st.get_attributes()] == ["int8"]
            return [await st.fetchval(2), await c.fetchval("SELECT sum($1::int)", 7)]
        finally:
            await c.close()

    assert asyncio.run(run()) == [6, 7]


def test_sum_distinct_and_sum_filter_are_bigint_as_in_postgresql(server: Server) -> None:
    """sum(DISTINCT x) and sum(x) FILTER (WHERE ...) of an integer column stayed numeric (a Decimal in psycopg)
    where PostgreSQL gives bigint, as the plain sum(x) of the same column is here: the macro takes neither. They are
    bigint now, over a window too, with PostgreSQL's answers (NULL when no row passes the FILTER); a bigint's stays
    numeric, an error still names the client's column."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE fs (x INTEGER, g SMALLINT, b BIGINT)")
        conn.execute("INSERT INTO fs VALUES (1, 0, 1), (1, 0, 1), (3, 1, 3)")
        assert _typed(conn, "SELECT sum(DISTINCT x), sum(ALL g), sum(x) FILTER (WHERE g = 0) AS zero, "
                            "sum(DISTINCT x) FILTER (WHERE x > 5), sum(DISTINCT b), sum(b) FILTER (WHERE g = 1) "
                            "FROM fs") == \
            ([("sum", 20), ("sum", 20), ("zero", 20), ("sum", 20), ("sum", 1700), ("sum", 1700)],
             [(4, 1, 2, None, 4, 3)])
        assert _typed(conn, "SELECT x, sum(x) FILTER (WHERE x > 1) OVER (ORDER BY x, g) FROM fs ORDER BY x, g") == \
            ([("x", 23), ("sum", 20)], [(1, None), (1, None), (3, 3)])
        with pytest.raises(psycopg.errors.UndefinedColumn) as e:
            conn.execute("SELECT sum(x) FILTER (WHERE nosuch > 1) FROM fs")
        assert "nosuch" in str(e.value) and "pg_int_sum" not in str(e.value) and "CASE" not in str(e.value)


def test_if_exists_skips_say_so_as_notices_that_client_min_messages_quiets(server: Server) -> None:
    """DROP TABLE IF EXISTS of a missing table and CREATE ... IF NOT EXISTS of an existing one said nothing, where
    PostgreSQL sends a NOTICE ('table "x" does not exist, skipping'), which psql, dbt and migration tools show and
    SET client_min_messages = warning quiets (it quieted nothing here: the server sent no NOTICE at all)."""
    seen: list[tuple[str | None, str | None, str | None]] = []
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.add_notice_handler(lambda d: seen.append((d.severity_nonlocalized, d.sqlstate, d.message_primary)))
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS skip_me (a INTEGER)")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS skip_me (a INTEGER)")
        conn.execute("DROP TABLE IF EXISTS skip_me")
        conn.execute("DROP TABLE IF EXISTS skip_me")
        conn.execute('DROP VIEW IF EXISTS "Gone" CASCADE')
        conn.execute("DROP TABLE IF EXISTS no_schema.t")
        assert seen == [("NOTICE", "42P07", 'relation "skip_me" already exists, skipping'),
                        ("NOTICE", "00000", 'table "skip_me" does not exist, skipping'),
                        ("NOTICE", "00000", 'view "Gone" does not exist, skipping'),
                        ("NOTICE", "00000", 'schema "no_schema" does not exist, skipping')]
        seen.clear()
        conn.execute("SET client_min_messages = warning")
        conn.execute("DROP TABLE IF EXISTS skip_me")
        conn.execute("ROLLBACK")  # a WARNING still comes
        assert seen == [("WARNING", "25P01", "there is no transaction in progress")]


def test_review5_a_subquery_after_is_distinct_from_or_in_extract_sees_the_outer_query(server: Server) -> None:
    """A subquery after IS DISTINCT FROM, or inside extract(year FROM ...), is a scalar subquery, which sees the
    outer query's columns; its FROM was read as a FROM clause's, the subquery taken for a derived table that sees
    none, and its sum of the outer query's column made the macro's call: DuckDB answered, the server failed with
    'column "x" must appear in the GROUP BY clause'. A WHERE's IS DISTINCT FROM t.g was read as a FROM clause
    declaring t, and the subquery's sum(t.x) of the outer t was rewritten, failing the same way."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE dst (x INTEGER, g INTEGER)")
        conn.execute("CREATE TEMP TABLE dother (y INTEGER)")
        conn.execute("INSERT INTO dst VALUES (1, 0), (2, 0), (4, 1)")
        conn.execute("INSERT INTO dother VALUES (7)")
        for sql, want in (("SELECT 7 IS DISTINCT FROM (SELECT sum(dst.x)) FROM dst", [(False,)]),
                          ("SELECT 7 IS NOT DISTINCT FROM (SELECT sum(x)) FROM dst", [(True,)]),
                          ("SELECT extract(year FROM (SELECT sum(dst.x))::INTEGER * INTERVAL 1 DAY "
                           "+ DATE '2020-01-01') FROM dst", [(2020,)]),
                          # the outer query's aggregate over each group of dst
                          ("SELECT (SELECT sum(dst.x) FROM dother WHERE y IS DISTINCT FROM dst.g) FROM dst "
                           "GROUP BY g ORDER BY g", [(3,), (4,)])):
            assert _typed(conn, sql)[1] == want, sql
        # a subquery of its own columns there is still bigint
        assert _typed(conn, "SELECT 7 IS DISTINCT FROM (SELECT sum(x) FROM dst)") == ([("?column?", 16)], [(False,)])
        conn.rollback()


def test_review5_a_skip_notice_is_sent_only_for_what_was_skipped(warehouse: str, tmp_path: Path) -> None:
    """DROP TABLE IF EXISTS rw.t (the database's name, as DuckDB reads a two-part name) dropped the table and sent
    'schema "rw" does not exist, skipping'; CREATE SCHEMA / TABLE IF NOT EXISTS of a name that another attached
    database holds created it here and sent 'already exists, skipping'."""
    db = str(tmp_path / "rw.duckdb")
    shutil.copy(warehouse, db)
    seen: list[str | None] = []
    with test_server.serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as conn:
        conn.add_notice_handler(lambda d: seen.append(d.message_primary))
        conn.execute("CREATE TABLE gone_soon (a INTEGER)")
        conn.execute("DROP TABLE IF EXISTS rw.gone_soon")
        assert seen == []
        assert conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'gone_soon'").fetchall() == [(0,)]
        conn.execute("DROP TABLE IF EXISTS rw.gone_soon")
        assert seen == ['table "gone_soon" does not exist, skipping']
        seen.clear()
        conn.execute("ATTACH ':memory:' AS side")
        conn.execute("CREATE SCHEMA side.reports")
        conn.execute("CREATE TABLE side.reports.daily (a INTEGER)")
        conn.execute("CREATE SCHEMA IF NOT EXISTS reports")
        conn.execute("CREATE TABLE IF NOT EXISTS reports.daily (a INTEGER)")
        assert seen == []
        assert conn.execute("SELECT database_name FROM duckdb_tables() WHERE table_name = 'daily' "
                            "ORDER BY 1").fetchall() == [("rw",), ("side",)]
        conn.execute("CREATE SCHEMA IF NOT EXISTS reports")
        conn.execute("CREATE TABLE IF NOT EXISTS reports.daily (a INTEGER)")
        conn.execute("CREATE TABLE IF NOT EXISTS rw.reports.daily (a INTEGER)")
        conn.execute("DROP TABLE IF EXISTS side.main.daily")
        assert seen == ['schema "reports" already exists, skipping', 'relation "daily" already exists, skipping',
                        'relation "daily" already exists, skipping', 'table "daily" does not exist, skipping']


def test_review5_a_subquerys_sum_of_a_column_its_same_named_table_lacks_is_the_outer_querys(server: Server) -> None:
    """SELECT (SELECT sum(transactions.x) FROM warehouse.main.transactions LIMIT 1) FROM transactions, the outer one a
    temporary table of that name: the subquery's transactions has no column x, so DuckDB binds transactions.x to the
    outer query's table and answers; the rewrite took it for the subquery's own (a name its FROM declares) and the
    server failed with 'column "x" must appear in the GROUP BY clause'. A qualified column is the subquery's own only
    where the table it names has it."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE transactions (x INTEGER)")
        conn.execute("INSERT INTO transactions VALUES (1), (2), (4)")
        for sql in ("SELECT (SELECT sum(transactions.x) FROM warehouse.main.transactions LIMIT 1) FROM transactions",
                    "SELECT (SELECT sum(t.x) FROM warehouse.main.transactions AS t LIMIT 1) FROM transactions t"):
            assert _typed(conn, sql)[1] == [(7,)], sql
        # the table's own column: still the subquery's, bigint
        own = conn.execute("SELECT sum(count) FROM warehouse.main.transactions").fetchall()[0][0]
        assert _typed(conn, "SELECT (SELECT sum(transactions.count) FROM warehouse.main.transactions) "
                            "FROM transactions LIMIT 1") == ([("sum", 20)], [(own,)])
        assert _typed(conn, "SELECT (SELECT sum(t.count) FROM warehouse.main.transactions t) FROM transactions "
                            "LIMIT 1") == ([("sum", 20)], [(own,)])
        conn.rollback()
