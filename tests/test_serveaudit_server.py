"""`ad-duckdb serve` as BI tools and their drivers (psycopg, asyncpg) use it: read-only transactions as PostgreSQL
keeps them, and what the audit of a BI tool's connection found. The servers come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import duckdb
import psycopg
import pytest

import test_server
from test_server import serve


def _read_write_db(tmp_path: Path) -> str:
    db = str(tmp_path / "rw.duckdb")
    duckdb.connect(db).execute("CREATE TABLE t (a INTEGER)").close()
    return db


def test_set_transaction_read_write_before_any_query_makes_a_read_only_transaction_writable(tmp_path: Path) -> None:
    """BEGIN READ ONLY then SET TRANSACTION READ WRITE (or SET transaction_read_only = off) said SET, but DuckDB's
    transaction stayed read-only, so the INSERT after it failed. PostgreSQL takes the change before the transaction's
    first query and refuses it after one (25001, "transaction read-write mode must be set before any query"), the
    transaction then failed; so does the server now."""
    with serve(_read_write_db(tmp_path), "--read-write") as s:
        with psycopg.connect(s.url(), autocommit=True) as conn:
            for begin, change in [("BEGIN READ ONLY", "SET TRANSACTION READ WRITE"),
                                  ("START TRANSACTION READ ONLY", "SET transaction_read_only = off"),
                                  ("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY", "SET TRANSACTION READ WRITE")]:
                conn.execute(begin)
                assert conn.execute("SHOW transaction_read_only").fetchall() == [("on",)]  # SHOW is no query
                assert conn.execute(change).statusmessage == "SET"
                assert conn.execute("SHOW transaction_read_only").fetchall() == [("off",)]
                conn.execute("INSERT INTO t VALUES (1)")
                conn.execute("COMMIT")
            assert conn.execute("SELECT count(*) FROM t").fetchall() == [(3,)]
            # after a query: PostgreSQL's refusal, and the transaction failed
            conn.execute("BEGIN READ ONLY")
            conn.execute("SELECT count(*) FROM t")
            with pytest.raises(psycopg.errors.ActiveSqlTransaction,
                               match="transaction read-write mode must be set before any query"):
                conn.execute("SET TRANSACTION READ WRITE")
            with pytest.raises(psycopg.errors.InFailedSqlTransaction):
                conn.execute("SELECT 1")
            conn.execute("ROLLBACK")
            # the session's READ ONLY default: the transaction it started, the same
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            conn.execute("BEGIN")
            conn.execute("SET TRANSACTION READ WRITE")
            conn.execute("INSERT INTO t VALUES (2)")
            conn.execute("COMMIT")
            # read-only again, for the next transaction: the session's default
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="cannot execute INSERT"):
                conn.execute("INSERT INTO t VALUES (3)")
            # READ WRITE to READ ONLY is taken at any time, and READ WRITE again in a transaction that was writable
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            conn.execute("BEGIN")
            conn.execute("INSERT INTO t VALUES (4)")
            conn.execute("SET TRANSACTION READ ONLY")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO t VALUES (5)")
            conn.execute("ROLLBACK")
            assert sorted(r[0] for r in conn.execute("SELECT a FROM t").fetchall()) == [1, 1, 1, 2]

        async def run() -> list[Any]:
            c = await asyncpg.connect(s.url())
            try:
                async with c.transaction(readonly=True):
                    await c.execute("SET TRANSACTION READ WRITE")
                    await c.execute("INSERT INTO t VALUES (6)")
                with pytest.raises(asyncpg.exceptions.ActiveSQLTransactionError, match="before any query"):
                    async with c.transaction(readonly=True):
                        await c.fetchval("SELECT count(*) FROM t")
                        await c.execute("SET TRANSACTION READ WRITE")
                return [r[0] for r in await c.fetch("SELECT a FROM t WHERE a = 6")]
            finally:
                await c.close()

        assert asyncio.run(run()) == [6]


def test_a_read_only_transaction_writes_the_sessions_temporary_tables(tmp_path: Path) -> None:
    """A BI tool's read-only connection (psycopg's read_only, asyncpg's readonly=True, SET SESSION CHARACTERISTICS
    AS TRANSACTION READ ONLY) could not fill a temporary table it had made: INSERT, UPDATE, DELETE were refused by
    their type. PostgreSQL refuses them only when the table they write is not temporary; so does the server now,
    still naming the statement for any other table."""
    with serve(_read_write_db(tmp_path), "--read-write") as s:
        with psycopg.connect(s.url(), autocommit=True) as conn:
            conn.execute("CREATE TEMP TABLE picked (id INTEGER, score DOUBLE)")
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            assert conn.execute("INSERT INTO picked VALUES (1, 0.5), (2, 0.9)").rowcount == 2  # outside a block
            conn.execute("BEGIN")
            assert conn.execute("UPDATE picked SET score = score * 2 WHERE id = 1").rowcount == 1
            assert conn.execute("INSERT INTO picked SELECT a, 0 FROM t").rowcount == 0
            assert conn.execute("DELETE FROM picked WHERE id = 2").rowcount == 1
            conn.execute("COMMIT")
            conn.execute("BEGIN")
            for sql, what in [("INSERT INTO t VALUES (1)", "INSERT"), ("UPDATE t SET a = 2", "UPDATE"),
                              ("DELETE FROM t", "DELETE"),
                              ("WITH c AS (SELECT 5 AS a) INSERT INTO t SELECT a FROM c", "INSERT")]:
                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction,
                                   match=f"cannot execute {what} in a read-only transaction"):
                    conn.execute(sql)
                conn.execute("ROLLBACK")
                conn.execute("BEGIN")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction,  # CREATE, temporary or not, as PostgreSQL
                               match="cannot execute CREATE TABLE in a read-only transaction"):
                conn.execute("CREATE TEMP TABLE other (a INTEGER)")
            conn.execute("ROLLBACK")
            assert conn.execute("SELECT id, score FROM picked").fetchall() == [(1, 1.0)]
            with conn.cursor().copy("COPY picked FROM STDIN") as copy:  # COPY FROM into a temporary table too
                copy.write("3\t0.25\n")
            assert conn.execute("SELECT count(*) FROM picked").fetchall() == [(2,)]
        with psycopg.connect(s.url()) as conn:  # psycopg's read_only: BEGIN READ ONLY, the extended protocol
            conn.execute("CREATE TEMP TABLE seen (id INTEGER)")
            conn.commit()
            conn.read_only = True
            conn.execute("INSERT INTO seen VALUES (%s)", [7])
            assert conn.execute("SELECT id FROM seen").fetchall() == [(7,)]
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="cannot execute INSERT"):
                conn.execute("INSERT INTO t VALUES (%s)", [7])
            conn.rollback()
            conn.read_only = False
            assert conn.execute("SELECT count(*) FROM t").fetchall() == [(0,)]


def test_a_cast_to_numeric_keeps_the_decimals_postgresql_keeps(server: test_server.Server) -> None:
    """``round(avg(x)::numeric, 4)``, the way PostgreSQL rounds a double (it has no round(double, int)), gave 3
    decimals on a dashboard (3.082 for 3.0820), and ``1.23456::numeric`` was 1.235: DuckDB's bare DECIMAL is
    DECIMAL(18,3), PostgreSQL's numeric exact to any scale. A cast to numeric (or decimal) without a precision keeps
    10 decimals now; numeric(p,s), a column or alias named numeric, and the words in strings stay as written. And
    ``::jsonb`` is DuckDB's JSON (it was "Type with name jsonb does not exist")."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        got = conn.execute(
            "SELECT round(0.123456::numeric, 4), 1.23456::numeric, CAST(2.718281 AS NUMERIC), "
            "TRY_CAST('0.5000001' AS decimal), 1.23456::numeric(10,2), x::pg_catalog.numeric, '::numeric' "
            "FROM (SELECT 0.0000001::DOUBLE AS x) t").fetchall()[0]
        assert got == (Decimal("0.1235"), Decimal("1.23456"), Decimal("2.718281"), Decimal("0.5000001"),
                       Decimal("1.23"), Decimal("0.0000001"), "::numeric")
        avg = conn.execute("SELECT round(avg(amount_d)::numeric, 4), avg(amount_d) FROM transactions").fetchall()[0]
        assert avg[0] == round(Decimal(avg[1]), 4)
        assert conn.execute("SELECT 1 AS numeric").fetchall() == [(1,)]
        cur = conn.execute("SELECT %s::numeric * 2, CAST(%s AS numeric[])", [Decimal("1.23456"), [Decimal("0.00001")]])
        assert cur.fetchall() == [(Decimal("2.46912"), [Decimal("0.00001")])]
        assert [d.type_code for d in cur.description] == [1700, 1231]  # numeric, numeric[]
        assert conn.execute("""SELECT '{"a": [1, 2]}'::jsonb -> 'a', CAST('{}' AS jsonb)""").fetchall() == [([1, 2], {})]

    async def run() -> list[Any]:
        c = await asyncpg.connect(server.url())
        try:
            return [await c.fetchval("SELECT $1::numeric", Decimal("1.23456")),
                    await c.fetchval("SELECT round(avg(count)::numeric, 3) FROM transactions WHERE count > $1", 3)]
        finally:
            await c.close()

    got = asyncio.run(run())
    with psycopg.connect(server.url(), autocommit=True) as conn:
        mean = conn.execute("SELECT avg(count) FROM transactions WHERE count > 3").fetchall()[0][0]
    assert got == [Decimal("1.23456"), round(Decimal(mean), 3)]


def test_asyncpg_number_times_an_interval_the_last_n_days_of_a_dashboard(warehouse: str) -> None:
    """A dashboard's "the last N days" filter, ``day > $1::date - $2 * interval '1 day'``, was refused by asyncpg
    ("expected str, got int"): the parameter times an interval was described as text. PostgreSQL types it float8
    (interval * float8); so does the server now, also for ``interval '1 hour' * $1``."""
    from ad_duckdb.pgparams import parameter_oids

    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (d DATE, ts TIMESTAMP)")
        assert parameter_oids(con, "SELECT d FROM t WHERE d > $1::date - $2 * interval '1 day'") == {1: 1082, 2: 701}
        assert parameter_oids(con, "SELECT ts - interval '1 hour' * $1 FROM t") == {1: 701}
        assert parameter_oids(con, "SELECT ts > now() - ($1 * INTERVAL 1 MINUTE) FROM t") == {1: 701}
        assert parameter_oids(con, "SELECT d + $1 FROM t") == {}  # integer or interval in PostgreSQL: text, as before
    finally:
        con.close()

    async def run() -> list[Any]:
        c = await asyncpg.connect(s.url())
        try:
            return [await c.fetchval("SELECT $1::date - $2 * interval '1 day'", dt.date(2026, 3, 10), 7),
                    await c.fetchval("SELECT interval '1 hour' * $1", 1.5)]
        finally:
            await c.close()

    with serve(warehouse) as s:
        assert asyncio.run(run()) == [dt.datetime(2026, 3, 3), dt.timedelta(minutes=90)]


def test_show_all_lists_the_settings_as_postgresql_does(server: test_server.Server) -> None:
    """SHOW ALL (pgAdmin's and DBeaver's session settings, psql) answered with DuckDB's SHOW ALL TABLES: rows of
    (database, schema, name, column_names, ...) of the session's catalogue views. PostgreSQL's is a row (name,
    setting, description) per setting; and pg_settings, which it reads, now has the settings SHOW answers that
    DuckDB lacks (server_version, max_identifier_length, DateStyle, ...), which it did not list."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for sql in ("SHOW ALL", "show all;"):
            cur = conn.execute(sql)
            assert [d.name for d in cur.description] == ["name", "setting", "description"]
            rows = {name: setting for name, setting, _ in cur.fetchall()}
            assert rows["server_version"] == conn.execute("SHOW server_version").fetchall()[0][0]
            assert rows["max_identifier_length"] == "63" and rows["DateStyle"] == "ISO, MDY"
            assert rows["TimeZone"] == conn.execute("SHOW TimeZone").fetchall()[0][0]
            assert "pg_amop" not in rows
        got = dict(conn.execute("SELECT name, setting FROM pg_settings WHERE name IN ('server_version_num', "
                                "'standard_conforming_strings', 'integer_datetimes', 'TimeZone')").fetchall())
        assert got == {"server_version_num": "150000", "standard_conforming_strings": "on",
                       "integer_datetimes": "on", "TimeZone": "Etc/UTC"}
        assert conn.execute("SELECT count(*) = count(DISTINCT lower(name)) FROM pg_settings").fetchall() == [(True,)]


def test_on_commit_delete_rows_costs_only_the_statements_that_may_fill_its_tables(tmp_path: Path) -> None:
    """A session with a temporary table ON COMMIT DELETE ROWS paid a transaction, a catalogue lookup and a DELETE of
    each such table for every autocommit write, an INSERT into any other table too (and every extended-protocol
    statement). As PostgreSQL empties them only after a transaction that touched them, the work is done now only
    for a statement that may add rows to one (an INSERT, MERGE or COPY into it, an EXECUTE or CALL, whose target is
    not known); the tables are still emptied at each commit, also after a RENAME."""
    from ad_duckdb.pgoncommit import OnCommitTables
    from ad_duckdb.pgsql import on_commit_table

    con = duckdb.connect()
    try:
        tables = OnCommitTables()
        clause = on_commit_table("CREATE TEMP TABLE Scratch (a INTEGER) ON COMMIT DELETE ROWS")
        assert clause is not None
        con.execute("CREATE TEMP TABLE Scratch (a INTEGER)")
        con.execute("CREATE TABLE t (a INTEGER)")
        tables.created(con, clause, None, in_transaction=False)
        fills = {sql: tables.may_fill(con, sql) for sql in [
            "INSERT INTO t VALUES (1)", "insert into main.t select 1", "UPDATE t SET a = 2", "DELETE FROM t",
            "UPDATE scratch SET a = 2", "SELECT * FROM scratch", "INSERT INTO scratch VALUES (1)",
            'INSERT INTO temp.main."SCRATCH" VALUES (1)', "/* job */ INSERT INTO Scratch (a) VALUES (1)",
            "WITH c AS (SELECT 1 AS a) INSERT INTO scratch SELECT a FROM c", "WITH c AS (SELECT 1) SELECT * FROM c",
            "MERGE INTO scratch USING t ON scratch.a = t.a WHEN NOT MATCHED THEN INSERT VALUES (t.a)",
            "MERGE INTO t USING scratch s ON s.a = t.a WHEN NOT MATCHED THEN INSERT VALUES (s.a)",
            "COPY scratch FROM STDIN", "COPY t FROM STDIN", "EXECUTE ins", "CALL p()",
        ]}
        assert [sql for sql, fill in fills.items() if fill] == [
            "INSERT INTO scratch VALUES (1)", 'INSERT INTO temp.main."SCRATCH" VALUES (1)',
            "/* job */ INSERT INTO Scratch (a) VALUES (1)",
            "WITH c AS (SELECT 1 AS a) INSERT INTO scratch SELECT a FROM c",
            "MERGE INTO scratch USING t ON scratch.a = t.a WHEN NOT MATCHED THEN INSERT VALUES (t.a)",
            "COPY scratch FROM STDIN", "EXECUTE ins", "CALL p()"]
        con.execute("ALTER TABLE scratch RENAME TO kept")
        tables.altered()
        assert tables.may_fill(con, "INSERT INTO kept VALUES (1)")
        assert not tables.may_fill(con, "INSERT INTO scratch VALUES (1)")
    finally:
        con.close()

    with serve(_read_write_db(tmp_path), "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE scratch (a INTEGER) ON COMMIT DELETE ROWS")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("INSERT INTO t VALUES (%s)", [2])
        conn.execute("INSERT INTO scratch VALUES (1)")
        conn.execute("INSERT INTO scratch VALUES (%s)", [2])
        conn.execute("INSERT INTO scratch SELECT a FROM t")
        assert conn.execute("SELECT count(*) FROM scratch").fetchall() == [(0,)]
        with conn.transaction():
            conn.execute("INSERT INTO scratch SELECT a FROM t")
            conn.execute("UPDATE scratch SET a = a + 10")
            assert conn.execute("SELECT sum(a) FROM scratch").fetchall() == [(23,)]
        assert conn.execute("SELECT count(*) FROM scratch").fetchall() == [(0,)]
        conn.execute("ALTER TABLE scratch RENAME TO renamed")
        conn.execute("INSERT INTO renamed VALUES (5)")
        conn.execute("PREPARE ins AS INSERT INTO renamed VALUES (6)")
        conn.execute("EXECUTE ins")
        with conn.cursor().copy("COPY renamed FROM STDIN") as copy:
            copy.write("7\n")
        assert conn.execute("SELECT count(*) FROM renamed").fetchall() == [(0,)]
        conn.execute("CREATE TEMP TABLE filled ON COMMIT DELETE ROWS AS SELECT a FROM t")
        assert conn.execute("SELECT count(*) FROM filled").fetchall() == [(0,)]
        assert conn.execute("SELECT a FROM t ORDER BY a").fetchall() == [(1,), (2,)]


def test_a_read_only_transaction_on_a_read_only_server_writes_temporary_tables(server: test_server.Server) -> None:
    """On the default (read-only) server too, a READ ONLY transaction (psycopg's read_only, a BI tool's) fills its
    temporary tables, and a write to the database's tables is PostgreSQL's refusal, naming the statement, as before
    (DuckDB's own words were "attached in read-only mode")."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE picks AS SELECT transaction_id FROM transactions ORDER BY 1 LIMIT 3")
        conn.commit()
        conn.read_only = True
        conn.execute("INSERT INTO picks VALUES (%s)", [99])
        conn.execute("DELETE FROM picks WHERE transaction_id = 1")
        assert conn.execute("SELECT count(*) FROM picks").fetchall() == [(3,)]
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction,
                           match="^cannot execute INSERT in a read-only transaction$"):
            conn.execute("INSERT INTO transactions (transaction_id) VALUES (%s)", [1])
        conn.rollback()
        conn.read_only = False
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="attached in read-only mode"):
            conn.execute("INSERT INTO transactions (transaction_id) VALUES (%s)", [1])
        conn.rollback()
