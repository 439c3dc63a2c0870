"""`ad-duckdb serve` answering what BI tools send as PostgreSQL answers it: PostgreSQL's functions DuckDB lacks
(to_char, to_timestamp / to_date with a format, initcap, set_config, pg_is_in_recovery), SHOW of an unknown name,
SET TRANSACTION ISOLATION LEVEL after a query. The servers come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import psycopg
import pytest

import test_server
from test_server import Server

server = test_server.server  # the read-only server of tests/test_server.py
warehouse = test_server.warehouse


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
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="not 'CC': write the format"):
            conn.execute("SELECT to_char(now(), 'CC')")
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
