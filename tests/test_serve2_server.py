"""`ad-duckdb serve` answering what BI tools send as PostgreSQL answers it: PostgreSQL's functions DuckDB lacks
(to_char, to_timestamp / to_date with a format, initcap, set_config, pg_is_in_recovery), SHOW of an unknown name,
SET TRANSACTION ISOLATION LEVEL after a query. The servers come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import asyncpg
import duckdb
import psycopg
import pytest

import test_server
from test_server import Server


def test_to_char_to_timestamp_and_to_date_take_postgresqls_formats(server: Server) -> None:
    """Grafana's and Metabase's to_char(time, 'YYYY-MM-DD ...'), a number's to_char(x, 'FM999,990.00') and Superset's
    time-range filter, TO_TIMESTAMP('2024-01-02 03:04:05.000000', 'YYYY-MM-DD HH24:MI:SS.US'), failed: DuckDB has
    no to_char and its to_timestamp takes seconds. They give PostgreSQL's text now, blank-padding and FM included."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        ts = "TIMESTAMP '2024-03-05 14:07:09.123456'"
        for fmt, want in [("YYYY-MM-DD HH24:MI:SS", "2024-03-05 14:07:09"),
                          ('YYYY-MM-DD"T"HH24:MI:SS.US', "2024-03-05T14:07:09.123456"),
                          ("Mon DD, YYYY", "Mar 05, 2024"), ("FMMonth FMDD, YYYY", "March 5, 2024"),
                          ("Month", "March    "), ("Day", "Tuesday  "), ("Dy DY dy", "Tue TUE tue"),
                          ('YYYY-"Q"Q', "2024-Q1"), ("D", "3"), ("HH12:MI AM", "02:07 PM"), ("IYYY-IW", "2024-10"),
                          ("DDD", "065"), ("YYYY-MM-DD HH24:MI:SS.MS", "2024-03-05 14:07:09.123")]:
            assert conn.execute(f"SELECT to_char({ts}, '{fmt}')").fetchone() == (want,), fmt
        for x, fmt, want in [(1234.5, "999,999.99", "   1,234.50"), (1234.5, "FM999,999.99", "1,234.5"),
                             (1234.5, "FM999,999.00", "1,234.50"), (-1234.5, "999,999.99", "  -1,234.50"),
                             (5, "000", " 005"), (0.5, "9.99", "  .50"), (12, "FM9999", "12"),
                             (1234567, "FM9,999,999", "1,234,567"), (0.25, "FM990.00", "0.25")]:
            assert conn.execute(f"SELECT to_char({x}, '{fmt}')").fetchone() == (want,), (x, fmt)
        assert conn.execute("SELECT to_char(amount, 'FM999,990.00') FROM transactions ORDER BY transaction_id "
                            "LIMIT 1").fetchone()[0].count(".") == 1
        stamp = conn.execute("SELECT TO_TIMESTAMP('2024-01-02 03:04:05.000000', 'YYYY-MM-DD HH24:MI:SS.US')").fetchone()
        assert stamp == (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),)
        assert conn.execute("SELECT TO_DATE('2024-01-02', 'YYYY-MM-DD'), to_char(to_date('05/03/2024', 'DD/MM/YYYY'), "
                            "'YYYY-MM-DD')").fetchone() == (dt.date(2024, 1, 2), "2024-03-05")
        # a string that merely holds a call stays as written; a format this cannot convert says what works
        assert conn.execute("SELECT 'to_char(x, ''YYYY'')'").fetchone() == ("to_char(x, 'YYYY')",)
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="not 'OF': write the format"):
            conn.execute("SELECT to_char(now(), 'OF')")
        with pytest.raises(psycopg.Error, match="to_char.value, format. is served for a literal format"):
            conn.execute("SELECT to_char(now(), %s)", ("YYYY",))


def test_initcap_pg_is_in_recovery_and_set_config(server: Server) -> None:
    """initcap, pg_is_in_recovery() (health checks) and set_config (a tool's search_path or application_name at
    connect) did not exist; set_config now sets what SET sets, and returns the value, as PostgreSQL's."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        assert conn.execute("SELECT initcap('hello wORLD-foo 2nd'), initcap(NULL), pg_is_in_recovery(), "
                            "pg_catalog.pg_is_in_recovery()").fetchone() == ("Hello World-Foo 2nd", None, False, False)
        cur = conn.execute("SELECT set_config('application_name', 'dash board', false)")
        assert cur.fetchall() == [("dash board",)] and cur.description[0].name == "set_config"
        assert conn.execute("SHOW application_name").fetchone() == ("dash board",)
        assert conn.execute("SELECT pg_catalog.set_config(%s, %s, false) AS v", ("search_path", "main")).fetchone() \
            == ("main",)
        conn.execute("BEGIN")
        conn.execute("SELECT set_config('statement_timeout', '5s', true)")
        assert conn.execute("SHOW statement_timeout").fetchone() == ("5s",)
        conn.execute("COMMIT")
        assert conn.execute("SHOW statement_timeout").fetchone() == ("0",)  # is_local: until the block ended
        with pytest.raises(psycopg.errors.UndefinedObject, match='unrecognized configuration parameter "no such"'):
            conn.execute("SELECT set_config('no such', 'x', false)")


def test_show_of_an_unknown_setting_is_postgresqls_error(server: Server) -> None:
    """SHOW NAME is DESCRIBE NAME in DuckDB: a tool probing a setting got "Table with name ... does not exist"
    (42P01). PostgreSQL's "unrecognized configuration parameter" (42704) now, and a DuckDB setting's value."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedObject, match='unrecognized configuration parameter "no_such"'):
            conn.execute("SHOW no_such")
        with pytest.raises(psycopg.errors.UndefinedObject):  # a table's name is no setting either
            conn.execute("SHOW transactions")
        cur = conn.execute("SHOW threads")
        assert cur.description[0].name == "threads" and int(cur.fetchone()[0]) >= 1
        assert ("transactions",) in conn.execute("SHOW TABLES").fetchall()  # DuckDB's own, kept
        conn.execute("BEGIN")
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute("SHOW no_such")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.execute("ROLLBACK")


def test_set_transaction_isolation_level_after_a_query_is_refused(server: Server) -> None:
    """SET TRANSACTION ISOLATION LEVEL after the transaction's first query said SET; PostgreSQL refuses another level
    then (25001, "must be called before any query") and the transaction fails. The same level, or before the
    first query, stays accepted."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # before any query: taken
        conn.execute("SELECT 1")
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # the level it has
        with pytest.raises(psycopg.errors.ActiveSqlTransaction,
                           match="SET TRANSACTION ISOLATION LEVEL must be called before any query"):
            conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")  # no level named: the session's, serializable (SHOW transaction_isolation)
        conn.execute("SELECT 1")
        conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        conn.execute("ROLLBACK")

    async def run() -> None:
        c = await asyncpg.connect(server.url())
        try:
            async with c.transaction(isolation="repeatable_read"):
                await c.fetchval("SELECT 1")
                with pytest.raises(asyncpg.exceptions.ActiveSQLTransactionError):
                    await c.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        except asyncpg.exceptions.InFailedSQLTransactionError:
            pass
        finally:
            await c.close()

    asyncio.run(run())


def test_unnamed_result_columns_get_postgresqls_names(server: Server, tmp_path: Path) -> None:
    """DuckDB names an unnamed column by its expression (count_star(), 1, CAST(count AS INTEGER)), PostgreSQL by its
    rule (count, ?column?, count); charts key on the names, and Metabase and Superset wrap a saved query as a
    subquery and select its columns by the names its result had ("source"."count"), which DuckDB's subquery did not
    have. Every select list's unnamed items are named as PostgreSQL names them now; named ones stay."""
    expected = [("count(*)", "count"), ("1", "?column?"), ("sum(amount)", "sum"), ("count::int", "count"),
                ("avg(count + amount)", "avg"), ("1::int", "int4"), ("'a'::text", "text"), ("amount::numeric", "amount"),
                ("extract(year FROM now())", "extract"), ("date_trunc('day', now())", "date_trunc"),
                ("CASE WHEN count > 1 THEN 'a' ELSE 'b' END", "case"), ("CASE WHEN count > 1 THEN 0 ELSE count END", "count"),
                ("(SELECT max(amount) FROM transactions)", "max"), ("EXISTS (SELECT 1)", "exists"),
                ("count IN (1, 2)", "?column?"), ("coalesce(count, 0)", "coalesce"), ("ARRAY[1, 2]", "array"),
                ("upper('x')", "upper"), ("count(*) OVER ()", "count"), ("now() AT TIME ZONE 'UTC'", "timezone"),
                ("anomaly_score('tx_ae', count, amount)", "anomaly_score"), ("count(*) AS n", "n"),
                ("count(*) n2", "n2"), ("count", "count"), ("t.amount", "amount"), ("interval '1 day'", "interval"),
                ("to_char(now(), 'YYYY')", "to_char")]
    items = ", ".join(e for e, _ in expected)
    sql = f"SELECT {items} FROM transactions t GROUP BY count, amount ORDER BY count LIMIT 1"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for prepare in (False, True):  # the simple protocol, and a Describe of the prepared statement
            cur = conn.execute(sql, prepare=prepare)
            assert [d.name for d in cur.description] == [n for _, n in expected]
        # Metabase's and Superset's nesting of a saved query, by the names its result had
        assert conn.execute('SELECT "source"."count", "source"."sum" FROM (SELECT count(*), sum(amount) '
                            'FROM transactions) AS "source"').fetchone()[0] == 2000
        # ORDER BY a name is the output column's, as PostgreSQL's; WHERE and GROUP BY read the table's column
        rows = conn.execute("SELECT count(*) FROM transactions WHERE count > 1 GROUP BY count ORDER BY count DESC").fetchall()
        assert rows == sorted(rows, reverse=True) and len(rows) > 3
        cur = conn.execute("SELECT * FROM transactions t LIMIT 1")  # a star keeps the table's names
        assert [d.name for d in cur.description] == ["transaction_id", "count", "amount", "amount_d"]
        with conn.cursor().copy("COPY (SELECT count(*), max(count) FROM transactions) TO STDOUT (FORMAT csv, HEADER)") as cp:
            data = b"".join(bytes(chunk) for chunk in cp)
        assert data.decode().startswith("count,max\n2000,")

    async def described() -> list[str]:
        c = await asyncpg.connect(server.url())
        try:
            st = await c.prepare("SELECT count(*), sum(amount), $1::int FROM transactions")
            return [a.name for a in st.get_attributes()]
        finally:
            await c.close()

    assert asyncio.run(described()) == ["count", "sum", "int4"]
    db = str(tmp_path / "rw.duckdb")
    duckdb.connect(db).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    with test_server.serve(db, "--read-write") as rw, psycopg.connect(rw.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE c AS SELECT count(*), sum(x), x::bigint FROM t GROUP BY x")  # PostgreSQL's names too
        assert [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'c' "
                                           "ORDER BY ordinal_position").fetchall()] == ["count", "sum", "x"]


def test_generate_series_in_a_select_list_returns_rows(server: Server) -> None:
    """SELECT generate_series(1, 3) gave one row holding a list (DuckDB's scalar generate_series); PostgreSQL's is
    set-returning: three rows, in a column named generate_series. Named, or beside other columns, the same."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.execute("SELECT generate_series(1, 3)")
        assert cur.fetchall() == [(1,), (2,), (3,)] and cur.description[0].name == "generate_series"
        assert conn.execute("SELECT pg_catalog.generate_series(1, 5, 2) AS g").fetchall() == [(1,), (3,), (5,)]
        assert conn.execute("SELECT n, generate_series(1, n) g FROM (VALUES (1), (2)) v(n) ORDER BY n, g").fetchall() \
            == [(1, 1), (2, 1), (2, 2)]
        days = conn.execute("SELECT generate_series(DATE '2024-01-01', DATE '2024-01-03', INTERVAL '1 day')::date")
        assert [r[0] for r in days.fetchall()] == [dt.date(2024, 1, d) for d in (1, 2, 3)]
        assert conn.execute("SELECT * FROM generate_series(1, 2)").fetchall() == [(1,), (2,)]  # in FROM, as it was


def test_oid_regclass_text_is_the_relations_name(server: Server) -> None:
    """oid::regclass::text gave the oid's number (regclass is the oid here); PostgreSQL prints a regclass as the
    relation's name (schema-qualified when not on the search path), which tools list tables by."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        rows = conn.execute("SELECT c.oid::regclass::text, relname FROM pg_class c WHERE relname IN "
                            "('transactions', 'ad_models') ORDER BY 2").fetchall()
        assert rows == [("ad_models", "ad_models"), ("transactions", "transactions")]
        assert conn.execute("SELECT 'transactions'::regclass::oid::regclass::text, 'transactions'::regclass::varchar, "
                            "123456789::regclass::text").fetchone() == ("transactions", "transactions", "123456789")
        # a regclass compared with an oid is still the oid
        assert conn.execute("SELECT 'transactions'::regclass = (SELECT oid FROM pg_class WHERE relname = "
                            "'transactions')").fetchone() == (True,)


def test_a_cast_to_regclass_in_parentheses_or_cast_then_text_is_the_relations_name(server: Server) -> None:
    """oid::regclass::text gave the name, but the same cast written CAST(oid AS regclass)::text or
    (oid::regclass)::text still gave the oid's number."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        row = conn.execute("SELECT CAST(c.oid AS regclass)::text, (c.oid::regclass)::text, "
                           "CAST(c.oid AS pg_catalog.regclass)::varchar, ((c.oid)::regclass)::text, "
                           "CAST(CAST(c.oid AS regclass) AS text) FROM pg_class c "
                           "WHERE relname = 'transactions'").fetchone()
        assert row == ("transactions",) * 5
        # not a cast to text: still the oid, which compares with one
        assert conn.execute("SELECT (c.oid::regclass) = c.oid FROM pg_class c WHERE relname = 'transactions'"
                            ).fetchone() == (True,)


def test_values_columns_are_named_column1_column2(server: Server) -> None:
    """VALUES (1, 2), (3, 4) had DuckDB's columns col0, col1; PostgreSQL names them column1, column2, and a query
    over an unaliased VALUES list selects them by those names. INSERT ... VALUES and column aliases stay."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.execute("VALUES (1, 2), (3, 4) ORDER BY 1 DESC")
        assert [d.name for d in cur.description] == ["column1", "column2"] and cur.fetchall() == [(3, 4), (1, 2)]
        cur = conn.execute("SELECT column2 FROM (VALUES (1, 'a'), (2, 'b')) v WHERE column1 = 2")
        assert [d.name for d in cur.description] == ["column2"] and cur.fetchall() == [("b",)]
        cur = conn.execute("WITH w AS (VALUES (1)) SELECT * FROM w UNION ALL VALUES (2)")
        assert [d.name for d in cur.description] == ["column1"] and cur.fetchall() == [(1,), (2,)]
        cur = conn.execute("SELECT * FROM (VALUES (1, 2)) v(a, b)")
        assert [d.name for d in cur.description] == ["a", "b"]
        assert conn.execute("SELECT 'VALUES (1)', x IN (VALUES (1), (2)) FROM (VALUES (2)) t(x)").fetchone() \
            == ("VALUES (1)", True)
        conn.execute("CREATE TEMP TABLE vt (a INTEGER, b INTEGER)")
        conn.execute("INSERT INTO vt VALUES (1, 2)")
        conn.execute("INSERT INTO vt (a, b) VALUES (3, 4)")
        assert conn.execute("SELECT sum(a), sum(b) FROM vt").fetchone() == (4, 6)


def test_public_qualified_names_reach_the_main_schema(server: Server) -> None:
    """DBeaver, Tableau and Grafana qualify tables with public. (PostgreSQL's default schema): SELECT ... FROM
    public.transactions failed, schema "public" does not exist. public.<name> is main's now, in a column
    reference, a regclass literal and under the database's name too; a string saying public.x stays."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        n = conn.execute("SELECT count(*) FROM transactions").fetchone()
        assert conn.execute("SELECT count(*) FROM public.transactions").fetchone() == n
        assert conn.execute('SELECT count(*) FROM "public"."transactions" t').fetchone() == n
        assert conn.execute("SELECT count(public.transactions.amount) FROM warehouse.public.transactions").fetchone() == n
        assert conn.execute("SELECT 'public.transactions'").fetchone() == ("public.transactions",)
        assert conn.execute("SELECT 'public.transactions'::regclass = 'transactions'::regclass").fetchone() == (True,)
        with pytest.raises(psycopg.errors.UndefinedTable, match="no_such"):
            conn.execute("SELECT * FROM public.no_such")


def test_public_rewrite_leaves_a_real_public_schema_alone(warehouse: str, tmp_path: Path) -> None:
    """Where the file has a schema named public, public.<name> is that schema's, as written."""
    db = str(tmp_path / "pub.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE SCHEMA public; CREATE TABLE public.t AS SELECT 'public' AS s; CREATE TABLE main.t AS "
                "SELECT 'main' AS s")
    con.close()
    with test_server.serve(db) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        assert conn.execute("SELECT s FROM public.t").fetchone() == ("public",)
        assert conn.execute("SELECT s FROM main.t").fetchone() == ("main",)


def test_a_regclass_result_column_is_the_relations_name(server: Server) -> None:
    """SELECT 'transactions'::regclass, or oid::regclass, returned the oid's number; PostgreSQL's client sees a
    regclass as its text output, the relation's name. Compared or joined, it is still the oid."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.execute("SELECT 'transactions'::regclass, c.oid::regclass AS rel, CAST(c.oid AS regclass) "
                           "FROM pg_class c WHERE relname = 'transactions'")
        assert [d.name for d in cur.description] == ["regclass", "rel", "oid"]
        assert cur.fetchall() == [("transactions", "transactions", "transactions")]
        assert conn.execute("SELECT count(*) FROM pg_class c WHERE c.oid = 'transactions'::regclass").fetchone() == (1,)


def test_integer_division_truncates_and_date_bin_buckets(server: Server) -> None:
    """Superset's 5-minute grain, date_trunc('hour', ts) + date_part('minute', ts)::int / 5 * interval '5 min', put
    00:07 in a bucket of its own: DuckDB's / of integers divides exactly (7 / 5 = 1.4), PostgreSQL's truncates.
    date_bin (PostgreSQL 14's time buckets, as dashboards write them) did not exist."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        assert conn.execute("SELECT 7 / 2, -7 / 2, 7.0 / 2, 7 / 2.0, count(*) * 100 / 3 FROM (VALUES (1)) v").fetchone() \
            == (3, -3, 3.5, 3.5, 33)
        grain = conn.execute("SELECT date_trunc('hour', t) + date_part('minute', t)::int / 5 * interval '5 min' FROM "
                             "(VALUES (TIMESTAMP '2024-01-01 10:07:30'), (TIMESTAMP '2024-01-01 10:04:00')) v(t)")
        assert [r[0] for r in grain.fetchall()] == [dt.datetime(2024, 1, 1, 10, 5), dt.datetime(2024, 1, 1, 10, 0)]
        assert conn.execute("SELECT date_bin('15 minutes', TIMESTAMP '2024-01-01 00:20:00', TIMESTAMP '2001-01-01'), "
                            "date_bin(interval '1 hour', TIMESTAMP '2024-01-01 00:20:00', TIMESTAMP '2001-01-01 00:30')"
                            ).fetchone() == (dt.datetime(2024, 1, 1, 0, 15), dt.datetime(2023, 12, 31, 23, 30))
        bins = conn.execute("SELECT date_bin('1 hour', ts, TIMESTAMP '2000-01-01') AS b, count(*) FROM "
                            "(SELECT TIMESTAMP '2024-01-01' + i * INTERVAL 20 MINUTE AS ts FROM range(6) t(i)) GROUP BY 1 "
                            "ORDER BY 1").fetchall()
        assert bins == [(dt.datetime(2024, 1, 1, 0, 0), 3), (dt.datetime(2024, 1, 1, 1, 0), 3)]


def test_a_views_division_stays_duckdbs(tmp_path: Path) -> None:
    """A view or macro stored in the file was written for DuckDB: its / of integers still divides exactly when a
    PostgreSQL client reads it (only the client's own SQL divides as PostgreSQL's)."""
    db = str(tmp_path / "views.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE VIEW ratio AS SELECT 7 / 2 AS r; CREATE MACRO half(x) AS x / 2")
    con.close()
    with test_server.serve(db) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        assert conn.execute("SELECT r, half(7), 7 / 2 FROM ratio").fetchone() == (3.5, 3.5, 3)


def test_public_lookup_between_pages_of_a_suspended_result_keeps_its_rows(server: Server) -> None:
    """Whether a schema public exists is asked on the session's cursor; between the pages of a result read
    page by page (asyncpg's cursor, JDBC's fetch size) that must not cost the unread rows."""
    async def run() -> tuple[list[int], int]:
        conn = await asyncpg.connect(server.url())
        try:
            async with conn.transaction():
                cur = await conn.cursor("SELECT i FROM range(10) t(i) ORDER BY i")
                first = [r[0] for r in await cur.fetch(3)]
                n = await conn.fetchval("SELECT count(*) FROM public.transactions")
                rest = [r[0] for r in await cur.fetch(10)]
            return first + rest, n
        finally:
            await conn.close()
    rows, n = asyncio.run(run())
    assert rows == list(range(10)) and n > 0
