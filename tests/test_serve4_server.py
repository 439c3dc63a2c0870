"""`ad-duckdb serve` as BI tools see it: errors that quote the client's own SQL, the catalogue's schema public,
the settings drivers read at connect. The servers come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import decimal
import re

import asyncpg
import psycopg
import pytest

from test_server import Server


def _caret_under(error: str | psycopg.Error) -> tuple[str, str]:
    """The quoted line of an error's ``LINE n:`` context and the text its carets stand under."""
    message = error if isinstance(error, str) else error.diag.message_primary or ""
    m = re.search(r"\n\n(LINE \d+: )(.*)\n( *)(\^+)\s*\Z", message)
    assert m is not None, message
    start = len(m.group(3)) - len(m.group(1))
    return m.group(2), m.group(2)[start:start + len(m.group(4))]


def test_an_error_quotes_the_clients_sql_not_the_servers_rewrite(server: Server) -> None:
    """The server runs a rewrite of each statement (PostgreSQL's column names `AS "count"`, public.t as main.t,
    ::numeric as ::DECIMAL(38,10), Parse's parameter casts), and DuckDB's error quoted that rewrite in its
    `LINE 1:` context, its caret counting the rewrite's characters: users saw SQL they never wrote. The quote is
    the client's SQL now, the caret under the part of it that failed."""
    sql = "SELECT count(*), sum(amount) FROM public.transactions WHERE nosuch = 1"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedColumn) as e:
            conn.execute(sql)
        assert _caret_under(e.value) == (sql, "nosuch")
        assert 'AS "count"' not in str(e.value) and "main." not in str(e.value)
        # a line after the first, and a long line DuckDB quotes only in part
        many = "SELECT count(*),\n  " + ", ".join(f"sum(amount) + {i}" for i in range(20)) + ", nosuch + 1\n" \
            "FROM transactions"
        with pytest.raises(psycopg.errors.UndefinedColumn) as e:
            conn.execute(many)
        line, under = _caret_under(e.value)
        assert str(e.value).count("LINE 2: ") == 1 and under == "nosuch" and '"?column?"' not in line
        assert line.startswith("...") and line.endswith("nosuch + 1")
        # the type the client wrote, its cast underlined
        with pytest.raises(psycopg.errors.InvalidTextRepresentation) as e:
            conn.execute("SELECT 'x'::numeric AS v")
        assert _caret_under(e.value)[0] == "SELECT 'x'::numeric AS v"
        # psycopg's parameters: the extended protocol's statement as the client wrote it (no CAST($1 AS ...))
        with pytest.raises(psycopg.errors.UndefinedColumn) as e:
            conn.execute("SELECT count(*), %s FROM transactions WHERE nosuch = 1", [1])
        assert _caret_under(e.value) == ("SELECT count(*), $1 FROM transactions WHERE nosuch = 1", "nosuch")
        # an error of SQL the server did not rewrite: DuckDB's own quote, as before
        with pytest.raises(psycopg.errors.UndefinedColumn) as e:
            conn.execute("SELECT nosuch FROM transactions")
        assert _caret_under(e.value) == ("SELECT nosuch FROM transactions", "nosuch")

    async def run() -> str:
        c = await asyncpg.connect(server.url())
        try:
            await c.fetch("SELECT count(*), $1::int FROM public.transactions WHERE nosuch = 1", 1)
        except asyncpg.PostgresError as err:
            return str(err)
        finally:
            await c.close()
        return ""

    assert _caret_under(asyncio.run(run())) == (
        "SELECT count(*), $1::int FROM public.transactions WHERE nosuch = 1", "nosuch")


# PostgreSQL 15's defaults, which tools and people read at connect (pgAdmin's and DBeaver's session panels, psql
# users checking memory settings, drivers probing lock_timeout or client_min_messages they SET)
PG_DEFAULTS = {"work_mem": "4MB", "maintenance_work_mem": "64MB", "shared_buffers": "128MB",
               "effective_cache_size": "4GB", "temp_buffers": "8MB", "lc_messages": "C", "lc_monetary": "C",
               "lc_numeric": "C", "lc_time": "C", "client_min_messages": "notice", "lock_timeout": "0",
               "idle_in_transaction_session_timeout": "0", "bytea_output": "hex", "ssl": "off",
               "row_security": "on", "xmloption": "content", "default_text_search_config": "pg_catalog.simple",
               "password_encryption": "scram-sha-256", "block_size": "8192"}


def test_postgresql_settings_bi_tools_read_get_postgresqls_answers(server: Server) -> None:
    """SHOW work_mem (and lc_messages, lock_timeout, client_min_messages, ... which drivers SET as no-ops) failed
    with "unrecognized configuration parameter", as did current_setting() of them, and pg_settings had no row: a
    tool's session panel or a connect-time probe stopped there. They get PostgreSQL's defaults now, the same by all
    three ways; SHOW TRANSACTION ISOLATION LEVEL's column is PostgreSQL's name, transaction_isolation."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for name, value in PG_DEFAULTS.items():
            cur = conn.execute(f"SHOW {name}")
            assert cur.description is not None and cur.description[0].name == name
            assert cur.fetchall() == [(value,)], name
            assert conn.execute(f"SELECT current_setting('{name}')").fetchall() == [(value,)], name
        names = ", ".join(f"'{n}'" for n in PG_DEFAULTS)
        assert dict(conn.execute(f"SELECT name, setting FROM pg_settings WHERE name IN ({names})").fetchall()) \
            == PG_DEFAULTS
        cur = conn.execute("SHOW TRANSACTION ISOLATION LEVEL")
        assert cur.description is not None and cur.description[0].name == "transaction_isolation"
        # a session's tuning, as pg_dump's scripts and users SET it: taken (DuckDB tunes its own memory), not
        # "the configuration has been locked"
        for sql in ("SET work_mem = '64MB'", "SET maintenance_work_mem TO '1GB'", "SET check_function_bodies = false",
                    "SET row_security = off", "SET default_tablespace = ''", "SET xmloption = content"):
            assert conn.execute(sql).statusmessage == "SET"
        # a setting neither has is still PostgreSQL's error
        with pytest.raises(psycopg.errors.UndefinedObject, match='unrecognized configuration parameter "no_such"'):
            conn.execute("SHOW no_such")


def test_to_char_takes_century_julian_day_week_of_year_ordinals_and_roman_months(server: Server) -> None:
    """to_char's CC, J, WW, TH / th and RM / rm were refused ("served for ... PostgreSQL's common patterns"):
    a report's '21st century', 'Week 10', 'March 5th' or a Roman-numeral month stopped. PostgreSQL's text now,
    zero- and blank-padded as it pads them unless FM."""
    ts = "TIMESTAMP '2024-03-05 14:07:09'"
    want = {"CC": "21", "J": "2460375", "WW": "10", "FMWW": "10", "DDth": "05th", "FMDDth": "5th", "FMDDTH": "5TH",
            "RM": "III ", "FMRM": "III", "rm": "iii ", "YYYY-MM-DD (RM) CC": "2024-03-05 (III ) 21",
            "HH24th": "14th", "Month FMDDth, YYYY": "March     5th, 2024", "\"Week\" FMWW": "Week 10"}
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for fmt, text in want.items():
            assert conn.execute(f"SELECT to_char({ts}, '{fmt}')").fetchone() == (text,), fmt
        # the ordinals' exceptions (11th-13th) and the first days of a year's weeks
        days = conn.execute("SELECT list(to_char(DATE '2024-01-01' + i::INTEGER, 'FMDDth') ORDER BY i) "
                            "FROM range(31) r(i)").fetchone()
        assert days is not None and days[0][:4] == ["1st", "2nd", "3rd", "4th"]
        assert days[0][10:13] == ["11th", "12th", "13th"] and days[0][20:23] == ["21st", "22nd", "23rd"]
        assert conn.execute("SELECT to_char(DATE '2024-01-07', 'WW'), to_char(DATE '2024-01-08', 'WW'), "
                            "to_char(DATE '1999-12-31', 'CC'), to_char(DATE '2000-12-31', 'CC'), "
                            "to_char(DATE '2024-12-01', 'RM')").fetchone() == ("01", "02", "20", "20", "XII ")


def test_pg_typeof_names_postgresqls_types(server: Server) -> None:
    """pg_typeof() gave DuckDB's names: sum() of integers 'hugeint', a decimal 'decimal(2,1)', a string 'varchar'; a
    tool or a user checking a column's type by it saw names PostgreSQL has not. PostgreSQL's names now, as
    format_type writes them (sum of an integer column is bigint, oid 20, as PostgreSQL's: test_serve5_server)."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.execute("SELECT sum(count), pg_typeof(sum(count)), pg_typeof(1), pg_typeof(1.5), "
                           "pg_typeof('a'::text), pg_typeof(now()), pg_typeof(min(amount)), pg_typeof(true), "
                           "pg_typeof(DATE '2024-01-01'), pg_typeof([1, 2]), pg_typeof(NULL) FROM transactions")
        assert cur.description is not None and cur.description[0].type_code == 20  # bigint, as PostgreSQL's
        assert cur.description[1].name == "pg_typeof"
        assert cur.fetchone()[1:] == ("bigint", "integer", "numeric", "text", "timestamp with time zone",
                                      "numeric", "boolean", "date", "integer[]", "unknown")


def test_generate_series_in_brackets_of_its_own_gives_rows(server: Server) -> None:
    """A select list's generate_series() gives PostgreSQL's rows, but in brackets of its own ((generate_series(1, 3)),
    (generate_series(1, 3) + 1) * 2, as SQL formatters and tools' expression builders write it) it stayed DuckDB's
    one list: one row of [1, 2, 3]. Rows now; a DuckDB list function's argument stays a list."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.execute("SELECT (generate_series(1, 3)), ((generate_series(1, 3) + 1) * 2) AS y, "
                           "(pg_catalog.generate_series(1, 3))::text AS t, CAST(generate_series(1, 3) AS text)")
        assert cur.description is not None
        assert [d.name for d in cur.description] == ["generate_series", "y", "t", "generate_series"]
        assert cur.fetchall() == [(1, 4, "1", "1"), (2, 6, "2", "2"), (3, 8, "3", "3")]
        assert conn.execute("SELECT list_sum(generate_series(1, 3)), (generate_series(1, 3))[2]").fetchall() \
            == [(6, 2)]


def test_custom_dotted_settings_are_kept_for_the_session(server: Server) -> None:
    """PostgreSQL keeps any dotted name a client sets (SET app.user_id = 42, set_config('app.tenant', 'acme',
    false): a dashboard's per-session context, which its views read back by current_setting('app.tenant')); the
    server refused them all as unrecognized. Kept for the session now, with PostgreSQL's rules: SET LOCAL until the
    transaction block ends, undone by a ROLLBACK, RESET; an unset one is PostgreSQL's error, or NULL when
    current_setting is told missing_ok."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        assert conn.execute("SET app.user_id = 42").statusmessage == "SET"
        assert conn.execute("SELECT set_config('app.tenant', 'acme', false)").fetchall() == [("acme",)]
        assert conn.execute("SHOW app.user_id").fetchall() == [("42",)]
        assert conn.execute("SELECT current_setting('app.tenant'), current_setting('APP.USER_ID'), count(*) "
                            "FROM transactions WHERE current_setting('app.tenant') = 'acme'").fetchone()[:2] \
            == ("acme", "42")
        assert conn.execute("SELECT current_setting('app.none', true)").fetchall() == [(None,)]
        with pytest.raises(psycopg.errors.UndefinedObject, match='unrecognized configuration parameter "app.none"'):
            conn.execute("SELECT current_setting('app.none')")
        with pytest.raises(psycopg.errors.UndefinedObject, match='unrecognized configuration parameter "app.none"'):
            conn.execute("SHOW app.none")
        # a transaction block's: SET LOCAL ends with it, a rolled-back SET is undone
        conn.execute("BEGIN")
        conn.execute("SET LOCAL app.tenant TO 'other'")
        conn.execute("SET app.user_id = '7'")
        assert conn.execute("SELECT current_setting('app.tenant'), current_setting('app.user_id')").fetchone() \
            == ("other", "7")
        conn.execute("ROLLBACK")
        assert conn.execute("SELECT current_setting('app.tenant'), current_setting('app.user_id')").fetchone() \
            == ("acme", "42")
        assert conn.execute("RESET app.tenant").statusmessage == "RESET"  # empty, as PostgreSQL's placeholder
        assert conn.execute("SELECT current_setting('app.tenant', true)").fetchall() == [("",)]
    with psycopg.connect(server.url(), autocommit=True) as conn:  # another session has none of them
        assert conn.execute("SELECT current_setting('app.user_id', true)").fetchall() == [(None,)]


def test_several_set_config_calls_in_one_select(server: Server) -> None:
    """SELECT set_config('app.user', $1, true), set_config('app.role', $2, true): how an API or a BI tool's
    connection hook sets a request's context in one round trip. Only a select list of one set_config was served;
    two failed as a function DuckDB does not have. Each runs now, in order, answered in one row."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.execute("SELECT set_config('app.user', %s, false), pg_catalog.set_config('app.role', 'viewer', "
                           "false) AS role", ["ann"])
        assert cur.description is not None and [d.name for d in cur.description] == ["set_config", "role"]
        assert cur.fetchall() == [("ann", "viewer")]
        assert conn.execute("SELECT current_setting('app.user'), current_setting('app.role')").fetchone() \
            == ("ann", "viewer")


def test_a_numeric_too_large_for_its_decimal_says_why_and_what_to_cast_to(server: Server) -> None:
    """x::numeric is DECIMAL(38,10) here (PostgreSQL's numeric has no limit; DuckDB's widest exact decimal has 38
    digits), so a value from 10^28 up failed with "Could not cast value ... to DECIMAL(38,10)", a type the user never
    wrote and no way on. The error's HINT now says what numeric is here and what to cast to instead."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        # (a literal keeps its own scale, serve16a: 1e30::numeric is numeric(38, 0), PostgreSQL's value)
        assert conn.execute("SELECT 1e30::numeric").fetchone() == (decimal.Decimal(10) ** 30,)
        for sql in ("SELECT (max(amount) * 1e30)::numeric FROM transactions",):
            with pytest.raises(psycopg.Error, match=r"DECIMAL\(38,10\)") as e:
                conn.execute(sql)
            hint = e.value.diag.message_hint or ""
            assert "numeric without a precision" in hint and "::numeric(38,0)" in hint and "::double" in hint, hint
        assert conn.execute("SELECT 1e27::numeric = 1e27").fetchone() == (True,)  # below the limit: exact as before


def test_pg_typeof_of_an_aggregate_of_no_column(server: Server) -> None:
    """pg_typeof(count(*)) (how a user checks what count returns: bigint) failed with "WHERE clause cannot contain
    aggregates": the macro put its argument into format_type's catalogue lookup, a subquery, where an aggregate of
    no outer column is the subquery's own. sum(amount) worked, being correlated."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        assert conn.execute("SELECT pg_typeof(count(*)), pg_typeof(sum(1)), pg_typeof(count(*) > 0), "
                            "pg_typeof(sum(amount)) FROM transactions").fetchone() \
            == ("bigint", "bigint", "boolean", "numeric")
        assert conn.execute("SELECT pg_typeof(count(*))").fetchone() == ("bigint",)


def test_an_unset_custom_setting_is_postgresqls_error(server: Server) -> None:
    """current_setting('app.nope') of a dotted setting never SET: PostgreSQL's 'unrecognized configuration
    parameter "app.nope"' (42704), which the message began with DuckDB's "Invalid Input Error: " (the server's own
    error() call), as no PostgreSQL error does."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedObject) as e:
            conn.execute("SELECT current_setting('app.nope')")
        assert e.value.diag.message_primary == 'unrecognized configuration parameter "app.nope"'
