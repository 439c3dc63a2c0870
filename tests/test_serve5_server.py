"""`ad-duckdb serve` as BI tools and drivers see it: a session's own settings (SET work_mem, SET app.x) as PostgreSQL
keeps them, sum() of integers as PostgreSQL types it. The servers come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
import pytest

from test_server import Server


def _three_ways(conn: psycopg.Connection, name: str) -> tuple[str, str, str, str]:
    """SHOW, current_setting (by a literal and by a parameter) and pg_settings of setting ``name``."""
    shown = conn.execute(f"SHOW {name}").fetchone()
    by_literal = conn.execute(f"SELECT current_setting('{name}')").fetchone()
    by_param = conn.execute("SELECT current_setting(%s)", [name]).fetchone()
    row = conn.execute("SELECT setting FROM pg_settings WHERE name = %s", [name]).fetchone()
    assert shown and by_literal and by_param and row
    return shown[0], by_literal[0], by_param[0], row[0]


def test_a_set_of_a_no_op_setting_is_what_show_says_for_that_session(server: Server) -> None:
    """SET work_mem = '64MB' said SET, and SHOW work_mem (current_setting, pg_settings) went on saying 4MB: a user
    tuning a session, or a tool checking what it SET, saw the SET ignored. The session keeps the value now, as
    PostgreSQL shows it (65536 is 64MB, true is on), with PostgreSQL's rules: RESET and RESET ALL go back to the
    default, a value PostgreSQL refuses is its error, another session keeps its own."""
    with psycopg.connect(server.url(), autocommit=True) as conn, \
            psycopg.connect(server.url(), autocommit=True) as other:
        assert conn.execute("SET work_mem = '64MB'").statusmessage == "SET"
        assert _three_ways(conn, "work_mem") == ("64MB",) * 4
        assert _three_ways(other, "work_mem") == ("4MB",) * 4
        conn.execute("SET work_mem = 131072")
        conn.execute("SET random_page_cost TO 1.1")
        conn.execute("SET lock_timeout = '60s'")
        conn.execute("SET jit = true")
        conn.execute("SET client_min_messages = WARNING")
        assert [_three_ways(conn, n)[0] for n in ("work_mem", "random_page_cost", "lock_timeout", "jit",
                                                    "client_min_messages")] == ["128MB", "1.1", "1min", "on", "warning"]
        assert conn.execute("SHOW ALL").fetchall().count(("work_mem", "128MB", "PostgreSQL's setting, as ad-duckdb "
                                                         "serve answers it")) == 1
        assert conn.execute("SELECT set_config('work_mem', '2GB', false)").fetchone() == ("2GB",)
        assert conn.execute("SELECT set_config('maintenance_work_mem', '1048576', false)").fetchone() == ("1GB",)
        assert conn.execute("SHOW maintenance_work_mem").fetchone() == ("1GB",)
        assert conn.execute("RESET work_mem").statusmessage == "RESET"
        assert _three_ways(conn, "work_mem") == ("4MB",) * 4
        conn.execute("SET work_mem TO DEFAULT")
        assert conn.execute("SHOW work_mem").fetchone() == ("4MB",)
        conn.execute("RESET ALL")
        assert [_three_ways(conn, n)[0] for n in ("random_page_cost", "lock_timeout", "jit")] == ["4", "0", "off"]
        # PostgreSQL's refusals: a unit it does not know (units are case sensitive), a value out of range
        with pytest.raises(psycopg.errors.InvalidParameterValue, match='invalid value for parameter "work_mem": '
                           '"64mb"') as e:
            conn.execute("SET work_mem = '64mb'")
        assert '"kB", "MB", "GB", and "TB"' in (e.value.diag.message_hint or "")
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="outside the valid range"):
            conn.execute("SET work_mem = 10")
        with pytest.raises(psycopg.errors.InvalidParameterValue, match='"jit" requires a Boolean value'):
            conn.execute("SET jit = maybe")
        assert conn.execute("SHOW work_mem").fetchone() == ("4MB",)
        assert other.execute("SHOW random_page_cost").fetchone() == ("4",)


def test_a_no_op_settings_set_follows_the_transaction(server: Server) -> None:
    """A SET in a transaction block that rolls back is undone, SET LOCAL lasts to the block's end, as PostgreSQL's;
    a refused value aborts the block."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("SET work_mem = '8MB'")
        conn.execute("BEGIN")
        conn.execute("SET work_mem = '16MB'")
        conn.execute("SET LOCAL random_page_cost = 2")
        assert _three_ways(conn, "work_mem") == ("16MB",) * 4
        assert conn.execute("SHOW random_page_cost").fetchone() == ("2",)
        conn.execute("ROLLBACK")
        assert conn.execute("SHOW work_mem").fetchone() == ("8MB",)
        conn.execute("BEGIN")
        conn.execute("SET work_mem = '32MB'")
        conn.execute("SET LOCAL random_page_cost = 2")
        conn.execute("COMMIT")
        assert conn.execute("SELECT current_setting('work_mem'), current_setting('random_page_cost')").fetchone() \
            == ("32MB", "4")
        conn.execute("BEGIN")
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute("SET work_mem = 'lots'")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SET work_mem = '1GB'")
        conn.execute("ROLLBACK")
        assert conn.execute("SHOW work_mem").fetchone() == ("32MB",)


def test_a_no_op_setting_given_at_connect_is_the_sessions_own(server: Server) -> None:
    """options='-c work_mem=256MB' (libpq, Superset's engine parameters) and asyncpg's server_settings: the
    session's value, which RESET goes back to; a value PostgreSQL refuses is its FATAL at connect."""
    with psycopg.connect(server.url(), autocommit=True, options="-c work_mem=256MB") as conn:
        assert conn.execute("SHOW work_mem").fetchone() == ("256MB",)
        conn.execute("SET work_mem = '1MB'")
        conn.execute("RESET work_mem")
        assert _three_ways(conn, "work_mem") == ("256MB",) * 4
        conn.execute("RESET ALL")
        assert conn.execute("SHOW work_mem").fetchone() == ("256MB",)
    with pytest.raises(psycopg.OperationalError, match='invalid value for parameter "work_mem"'):
        psycopg.connect(server.url(), options="-c work_mem=lots")

    async def run() -> str:
        c = await asyncpg.connect(server.url(), server_settings={"random_page_cost": "1.5"})
        try:
            return str(await c.fetchval("SELECT current_setting('random_page_cost')"))
        finally:
            await c.close()

    assert asyncio.run(run()) == "1.5"


def test_a_dotted_setting_first_set_in_a_block_that_ends_is_empty_not_missing(server: Server) -> None:
    """SET app.x (or SET LOCAL app.x) in a block that rolls back or ends: PostgreSQL keeps the name, empty
    (its placeholder), so current_setting('app.x', true) is '' and SHOW app.x is '', where the server said NULL and
    'unrecognized configuration parameter'. RESET ALL leaves a dotted one empty too."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute("SET app.tenant = 'acme'")
        conn.execute("ROLLBACK")
        assert conn.execute("SELECT current_setting('app.tenant', true)").fetchone() == ("",)
        assert conn.execute("SHOW app.tenant").fetchone() == ("",)
        conn.execute("BEGIN")
        conn.execute("SET LOCAL app.role = 'viewer'")
        conn.execute("COMMIT")
        assert conn.execute("SELECT current_setting('app.role')").fetchone() == ("",)
        conn.execute("SET app.user = 'ann'")
        conn.execute("RESET ALL")
        assert conn.execute("SELECT current_setting('app.user', true)").fetchone() == ("",)
        assert conn.execute("SELECT current_setting('app.never', true)").fetchone() == (None,)


def test_sum_of_integers_is_bigint_as_in_postgresql(server: Server) -> None:
    """sum() of an integer column came back as numeric (DuckDB's HUGEINT), so psycopg and asyncpg gave Decimal where
    PostgreSQL gives bigint for sum(int2 / int4), and a tool typed the column as a decimal. bigint now, by the type of
    what is summed: sum of a bigint stays numeric, of a double double, as PostgreSQL's; DISTINCT, FILTER, a window
    and a view keep working, the name is still "sum", and an error still quotes the client's SQL."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        # the session's first sum() in a block that rolls back, then after DISCARD ALL: each time as PostgreSQL's
        conn.execute("BEGIN READ ONLY")
        assert conn.execute("SELECT sum(count) FROM transactions").fetchone()[0] > 0
        conn.execute("ROLLBACK")
        for reset in ("", "DISCARD ALL"):
            if reset:
                conn.execute(reset)
            cur = conn.execute("SELECT sum(count) FROM transactions")
            assert cur.description is not None and cur.description[0].type_code == 20 and cur.fetchone()[0] > 0
        conn.execute("CREATE TEMP TABLE q (n INTEGER, s SMALLINT, b BIGINT, f DOUBLE, d DECIMAL(10, 2))")
        conn.execute("INSERT INTO q VALUES (1, 2, 3, 0.5, 1.25), (10, 20, 30, 1.5, 2.50)")
        cur = conn.execute("SELECT sum(n), SUM(s), sum(b), sum(f), sum(d), sum(n) * 2 AS twice, sum(DISTINCT n), "
                           "sum(n) FILTER (WHERE n > 1) AS big, sum(n + s) AS both FROM q")
        assert cur.description is not None
        assert [d.name for d in cur.description] == ["sum", "sum", "sum", "sum", "sum", "twice", "sum", "big", "both"]
        assert [d.type_code for d in cur.description][:6] == [20, 20, 1700, 701, 1700, 20]
        row = cur.fetchone()
        assert row is not None and row[:6] == (11, 22, 33, 2.0, 3.75, 22) and isinstance(row[0], int)
        assert row[6:] == (11, 10, 33)
        assert conn.execute("SELECT n, sum(n) OVER (ORDER BY n) FROM q ORDER BY n").fetchall() == [(1, 1), (10, 11)]
        assert conn.execute("SELECT pg_typeof(sum(n)), pg_typeof(sum(b)) FROM q").fetchone() == ("bigint", "numeric")
        # the extended protocol (psycopg's parameters), and a string holding sum( stays as written
        assert conn.execute("SELECT sum(n), 'sum(n)' FROM q WHERE n > %s", [0]).fetchone() == (11, "sum(n)")
        # a view keeps DuckDB's own sum: its text must not name this session's macro
        conn.execute("CREATE TEMP VIEW qv AS SELECT sum(n) AS total FROM q")
        assert conn.execute("SELECT total FROM qv").fetchone() == (11,)
        with pytest.raises(psycopg.errors.UndefinedColumn) as e:
            conn.execute("SELECT sum(nosuch) FROM q")
        assert "pg_int_sum" not in str(e.value)

    async def run() -> object:
        c = await asyncpg.connect(server.url())
        try:
            await c.execute("CREATE TEMP TABLE q (n INTEGER)")
            await c.execute("INSERT INTO q VALUES (4), (5)")
            assert await c.fetchval("SELECT sum(n) FROM q WHERE n > $1", 4) == 5
            # a sum of a parameter is DuckDB's still: the macro's typed overload made $1 an integer, 1.5 summed as 1
            try:
                of_parameter = await c.fetchval("SELECT sum($1)", 1.5)
            except (asyncpg.PostgresError, asyncpg.exceptions.DataError):
                of_parameter = None
            assert of_parameter != 1
            return await c.fetchval("SELECT sum(n) FROM q")
        finally:
            await c.close()

    total = asyncio.run(run())
    assert total == 9 and isinstance(total, int)


def test_set_config_among_other_items_of_one_select(server: Server) -> None:
    """SELECT set_config('app.user', $1, false), current_setting('app.role') (a tool's connection hook, a user
    checking what a set_config did) failed as a function DuckDB does not have: only a select list of set_config
    calls alone was served. Each call runs now, in order, and the other items see its value, as in PostgreSQL; a
    string that merely holds set_config( stays as written."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("SET app.role = 'viewer'")
        cur = conn.execute("SELECT set_config('app.user', %s, false), current_setting('app.role') AS role, 1 + 1, "
                           "set_config('app.role', 'admin', false) AS now, current_setting('app.role'), "
                           "'set_config(''x'', ''y'', false)' AS text", ["ann"])
        assert cur.description is not None
        assert [d.name for d in cur.description] == ["set_config", "role", "?column?", "now", "current_setting",
                                                     "text"]
        assert cur.fetchone() == ("ann", "admin", 2, "admin", "admin", "set_config('x', 'y', false)")
        assert conn.execute("SELECT current_setting('app.user'), current_setting('app.role')").fetchone() \
            == ("ann", "admin")
        assert conn.execute("SELECT set_config('work_mem', '65536', false) || '!', current_setting('work_mem')") \
            .fetchone() == ("64MB!", "64MB")
        # in a block that rolls back, undone as a SET is
        conn.execute("BEGIN")
        conn.execute("SELECT set_config('app.user', 'bob', false), 1")
        conn.execute("ROLLBACK")
        assert conn.execute("SELECT current_setting('app.user')").fetchone() == ("ann",)
        # a set_config PostgreSQL runs per row (a FROM) is still DuckDB's to refuse, not run once here
        with pytest.raises(psycopg.Error, match="set_config"):
            conn.execute("SELECT set_config('app.user', 'eve', false), count(*) FROM transactions")
        assert conn.execute("SELECT current_setting('app.user')").fetchone() == ("ann",)

    async def run() -> tuple[object, ...]:
        c = await asyncpg.connect(server.url())
        try:
            row = await c.fetchrow("SELECT set_config('app.user', $1, false), current_setting('app.user') AS u", "cy")
            return tuple(row) if row is not None else ()
        finally:
            await c.close()

    assert asyncio.run(run()) == ("cy", "cy")


def test_current_setting_with_missing_ok_of_any_setting(server: Server) -> None:
    """current_setting('work_mem', true) (missing_ok: how a function or a tool reads a setting it may not find)
    failed for every name but a dotted one: DuckDB's current_setting takes one argument. Each setting's value now,
    as current_setting('work_mem') gives it, and NULL for a name no setting has, as PostgreSQL's."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("SET work_mem = '64MB'")
        assert conn.execute("SELECT current_setting('work_mem', true), current_setting('server_version_num', false), "
                            "current_setting('search_path', true) = current_setting('search_path'), "
                            "current_setting('no_such_setting', true), current_setting('threads', true)::int > 0") \
            .fetchone() == ("64MB", "150000", True, None, True)
        with pytest.raises(psycopg.Error, match="no_such_setting"):
            conn.execute("SELECT current_setting('no_such_setting', false)")


def test_set_config_of_a_parameter_alone_through_a_prepared_statement(server: Server) -> None:
    """asyncpg's SELECT set_config('app.tenant', $1, false) (a request's context set by its own prepared statement,
    as every asyncpg call with arguments is) failed with 'there is no parameter $1': the Describe of its Parse ran
    the call without the parameter's value. Its Describe now gives the columns and sets nothing; the Execute sets the
    value, as PostgreSQL's does, for one call and for several, by name, value or is_local as the parameter."""

    async def run() -> tuple[object, ...]:
        c = await asyncpg.connect(server.url())
        try:
            one = await c.fetchval("SELECT set_config('app.tenant', $1, false)", "acme")
            tenant = await c.fetchval("SELECT current_setting('app.tenant')")
            row = await c.fetchrow("SELECT set_config($1, 'ann', false) AS u, set_config('work_mem', $2, false)",
                                   "app.user", "65536")
            user, work_mem = await c.fetchrow("SELECT current_setting('app.user'), current_setting('work_mem')")
            async with c.transaction():
                local = await c.fetchval("SELECT set_config('app.tenant', 'beta', $1)", True)
            after = await c.fetchval("SELECT current_setting('app.tenant')")
            statement = await c.prepare("SELECT set_config('app.role', $1, false)")
            described = [a.name for a in statement.get_attributes()]
            unset = await c.fetchval("SELECT current_setting('app.role', true)")
            return one, tenant, tuple(row or ()), user, work_mem, local, after, described, unset
        finally:
            await c.close()

    assert asyncio.run(run()) == ("acme", "acme", ("ann", "64MB"), "ann", "64MB", "beta", "acme", ["set_config"],
                                  None)


def test_sum_inside_a_pivot_stays_duckdbs(server: Server) -> None:
    """SELECT * FROM t PIVOT (sum(x) FOR g IN (...)) (and PIVOT ... USING sum(x) in a subquery or a CTE) failed with
    'Columns can only be referenced within the aggregate of a PIVOT expression': the bigint rewrite made its sum the
    session macro, which a PIVOT does not take for an aggregate. A PIVOT's sums keep DuckDB's own now (numeric, as
    before the rewrite); the query's other sums are still bigint."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE pv (g INTEGER, k VARCHAR, x INTEGER)")
        conn.execute("INSERT INTO pv VALUES (0, 'a', 1), (1, 'a', 2), (0, 'b', 3), (1, 'b', 4)")
        assert conn.execute("SELECT * FROM pv PIVOT (sum(x) FOR g IN (0, 1)) ORDER BY k").fetchall() == \
            [("a", 1, 2), ("b", 3, 4)]
        assert conn.execute("SELECT * FROM (PIVOT pv ON g USING sum(x) GROUP BY k) ORDER BY k").fetchall() == \
            [("a", 1, 2), ("b", 3, 4)]
        assert conn.execute("WITH p AS (PIVOT pv ON k USING sum(x) GROUP BY g) SELECT a + b FROM p ORDER BY g") \
            .fetchall() == [(4,), (6,)]
        cur = conn.execute("SELECT (SELECT sum(x) FROM pv) AS total, p.* FROM (PIVOT pv ON g USING sum(x) GROUP BY k) p "
                           "ORDER BY k")
        assert cur.description is not None and cur.description[0].type_code == 20
        assert cur.fetchall() == [(10, "a", 1, 2), (10, "b", 3, 4)]


def test_current_setting_with_missing_ok_of_a_parameter(server: Server) -> None:
    """current_setting($1, true) (psycopg and asyncpg send the name as a parameter) failed with 'Macro
    pg_current_setting() does not support the supplied arguments', as the name given as a literal did before.
    The value now, as current_setting($1) gives it, and NULL for a name no setting has when missing_ok; an error
    naming it when not."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("SET work_mem = '64MB'")
        conn.execute("SET app.tenant = 'acme'")
        got = [conn.execute("SELECT current_setting(%s, true)", [name]).fetchone()
               for name in ("work_mem", "app.tenant", "app.none", "no_such_setting", "server_version_num")]
        assert got == [("64MB",), ("acme",), (None,), (None,), ("150000",)]
        assert conn.execute("SELECT current_setting(%s, false)", ["work_mem"]).fetchone() == ("64MB",)
        with pytest.raises(psycopg.Error, match='unrecognized configuration parameter "no_such_setting"'):
            conn.execute("SELECT current_setting(%s, false)", ["no_such_setting"])


def test_set_client_min_messages_takes_postgresqls_hidden_values(server: Server) -> None:
    """SET client_min_messages TO info (a level PostgreSQL takes without listing it) was refused as an invalid value
    once the session kept the setting, where the server had taken it; PostgreSQL's hint still lists the values it
    shows."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("SET client_min_messages TO info")
        assert conn.execute("SHOW client_min_messages").fetchone() == ("info",)
        conn.execute("SET client_min_messages = debug")
        assert conn.execute("SHOW client_min_messages").fetchone() == ("debug2",)
        with pytest.raises(psycopg.errors.InvalidParameterValue) as e:
            conn.execute("SET client_min_messages = loud")
        assert e.value.diag.message_hint == ("Available values: debug5, debug4, debug3, debug2, debug1, log, notice, "
                                             "warning, error.")


def test_a_pg_dump_scripts_opening_statements_run(server: Server) -> None:
    """A pg_dump script opens with SELECT pg_catalog.set_config('search_path', '', false) (and psql users type SET
    search_path = ''), which failed with DuckDB's 'Unexpected dot - empty CatalogSearchEntry', so psql -f dump.sql
    with ON_ERROR_STOP stopped at line 6, and SET default_table_access_method = heap failed as a locked DuckDB
    setting. An empty search path keeps the default one here (the script names every table by its schema), heap is
    the one access method, and the script's SETs all run."""
    opening = ["SET statement_timeout = 0", "SET lock_timeout = 0", "SET idle_in_transaction_session_timeout = 0",
               "SET client_encoding = 'UTF8'", "SET standard_conforming_strings = on",
               "SELECT pg_catalog.set_config('search_path', '', false)", "SET check_function_bodies = false",
               "SET xmloption = content", "SET client_min_messages = warning", "SET row_security = off",
               "SET default_tablespace = ''", "SET default_table_access_method = heap"]
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for sql in opening:
            conn.execute(sql)
        assert conn.execute("SELECT count(*) > 0 FROM transactions").fetchone() == (True,)
        assert conn.execute("SELECT count(*) > 0 FROM public.transactions").fetchone() == (True,)
        conn.execute("SET search_path = ''")
        assert conn.execute("SELECT count(*) > 0 FROM transactions").fetchone() == (True,)
        conn.execute("SET default_table_access_method TO 'heap'")
        assert conn.execute("SELECT current_setting('default_table_access_method')").fetchone() == ("heap",)
        with pytest.raises(psycopg.errors.InvalidParameterValue, match='"columnar" does not exist'):
            conn.execute("SET default_table_access_method = columnar")


def test_set_config_among_other_items_takes_is_local_as_a_parameter(server: Server) -> None:
    """SELECT set_config('app.x', 'v', $1), 1 through asyncpg with is_local False failed with 'invalid input for
    query argument $1: False (expected str, got bool)': the statement typed the parameter as text. It is a boolean,
    as PostgreSQL types it."""

    async def run() -> tuple[object, ...]:
        c = await asyncpg.connect(server.url())
        try:
            row = await c.fetchrow("SELECT set_config('app.x', 'v', $1), 1 AS one", False)
            return (*tuple(row or ()), await c.fetchval("SELECT current_setting('app.x')"))
        finally:
            await c.close()

    assert asyncio.run(run()) == ("v", 1, "v")
