"""`ad-duckdb serve` writes values as PostgreSQL 16 writes them (serve17a): interval columns of a table and
timestamp differences keep their months apart from their days, round(double precision, integer) is refused as
PostgreSQL refuses it, and avg's numeric has the scale PostgreSQL's numeric division gives. The servers come from
tests/test_server.py; each expected text is what PostgreSQL 16 prints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import duckdb
import psycopg
import pytest

from test_server import serve


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[psycopg.Connection]:
    db = str(tmp_path_factory.mktemp("serve17a") / "t.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE spans (k INTEGER, iv INTERVAL, ts TIMESTAMP, x DOUBLE, name VARCHAR)")
    con.execute("INSERT INTO spans VALUES (1, INTERVAL '1 month 2 days 03:00:00', '2024-01-31', 2.5, 'a'), "
                "(2, INTERVAL '-1 year 5 hours', '2024-03-01 10:00:00', 3.5, 'b'), (3, NULL, NULL, NULL, NULL), "
                "(4, INTERVAL '1 day -02:00:00.5', '2023-12-01', 0.0, 'd')")
    con.close()
    with serve(db) as s, psycopg.connect(s.url(), autocommit=True) as c:
        yield c


def _texts(conn: psycopg.Connection, sql: str) -> list[list[str | None]]:
    """Every row's values as the server's text on the wire."""
    cur = conn.execute(sql)
    res = cur.pgresult
    assert res is not None
    return [[None if (v := res.get_value(r, k)) is None else bytes(v).decode() for k in range(res.nfields)]
            for r in range(res.ntuples)]


def test_interval_columns_and_timestamp_differences_keep_their_months(conn: psycopg.Connection) -> None:
    """A table's interval of 1 month 2 days went out as '32 days 03:00:00.000000' (DuckDB hands Python a timedelta,
    a month as 30 days); PostgreSQL writes '1 mon 2 days 03:00:00'. A difference of timestamps is days and time,
    written without a fraction of zeros ('61 days', not '61 days 00:00:00.000000'). The binary format carries the
    months apart too, and the type is interval beside the other columns as before."""
    sql = "SELECT k, iv, ts - timestamp '2023-12-01', name, x FROM spans ORDER BY k"
    cur = conn.execute(sql)
    assert [d.type_code for d in cur.description] == [23, 1186, 1186, 25, 701]
    assert _texts(conn, sql) == [
        ["1", "1 mon 2 days 03:00:00", "61 days", "a", "2.5"],
        ["2", "-1 years +05:00:00", "91 days 10:00:00", "b", "3.5"],
        ["3", None, None, None, None],
        ["4", "1 day -02:00:00.5", "00:00:00", "d", "0"]]
    rows = conn.execute(sql, binary=True).fetchall()  # psycopg reads a month as 30 days, a year as 365
    assert rows[0][1] == dt.timedelta(days=32, hours=3) and rows[1][1] == dt.timedelta(days=-365, hours=5)
    assert rows[0][2] == dt.timedelta(days=61) and rows[2][1] is None
    # in a cursor's pages and an aggregate's result too
    assert _texts(conn, "SELECT max(iv), min(ts) - max(ts) FROM spans") == [["1 mon 2 days 03:00:00",
                                                                             "-91 days -10:00:00"]]


def test_round_of_a_double_with_decimals_is_refused_as_postgresql_refuses_it(conn: psycopg.Connection) -> None:
    """PostgreSQL has round(numeric, integer) but no round(double precision, integer): ``round(x, 1)`` of a float8
    column is its 42883 with a hint to cast; DuckDB rounded it. round of a numeric or an integer and round(double)
    alone stay as they were, and so does a literal (PostgreSQL reads 1.25 as numeric)."""
    for sql in ("SELECT round(x, 1) FROM spans", "SELECT round(2.5::float8, 0)", "SELECT round(x::real, 2) FROM spans"):
        with pytest.raises(psycopg.errors.UndefinedFunction) as e:
            conn.execute(sql)
        assert str(e.value).startswith("function round(double precision, integer) does not exist")
        assert e.value.diag.message_hint is not None and "::numeric" in e.value.diag.message_hint
    assert conn.execute("SELECT round(x::numeric, 1), round(x), round(k, 1), round(1.25, 1) FROM spans "
                        "WHERE k = 1").fetchone() == (Decimal("2.5"), 2.0, Decimal("1.0"), Decimal("1.3"))



def test_round_of_a_number_literal_with_an_exponent_is_numeric_as_postgresql_reads_it(conn: psycopg.Connection) -> None:
    """PostgreSQL reads 1.5e3 as numeric, DuckDB as a double: ``round(1.5e3, 1)`` is not refused, and round of an
    integer literal to tens stays numeric."""
    cur = conn.execute("SELECT round(1.5e3, 1), round(1234, -2)")
    assert cur.fetchone() == (1500.0, Decimal("1200"))


def test_avg_of_integers_has_the_scale_of_postgresqls_numeric_division(conn: psycopg.Connection) -> None:
    """avg of integers is numeric sum / count at PostgreSQL's division scale (select_div_scale: 16 significant
    digits, at least the sum's scale): 2.3333333333333333 (DuckDB's double gave ...35), 0.50000000000000000000 (20
    decimals where the quotient is below 1), 150000000.00000000 (8 where it has 9 digits)."""
    assert _texts(conn, "SELECT avg(v) FROM (VALUES (1), (2), (4)) t(v)") == [["2.3333333333333333"]]
    assert _texts(conn, "SELECT avg(v) FROM (VALUES (1), (0)) t(v)") == [["0.50000000000000000000"]]
    assert _texts(conn, "SELECT avg(v) FROM (VALUES (100000000), (200000000)) t(v)") == [["150000000.00000000"]]
    assert _texts(conn, "SELECT g, avg(v) FROM (VALUES (1, 1), (1, 2), (2, 0), (2, 1)) t(g, v) GROUP BY g ORDER BY g") \
        == [["1", "1.5000000000000000"], ["2", "0.50000000000000000000"]]
    # an ORDER BY of the item sorts the numbers (not their texts), and the binary format keeps the scale
    assert conn.execute("SELECT g, avg(v) AS a FROM (VALUES (1, 10), (2, 9), (3, -1)) t(g, v) GROUP BY g ORDER BY a") \
        .fetchall() == [(3, Decimal("-1")), (2, Decimal("9")), (1, Decimal("10"))]
    got = conn.execute("SELECT avg(v), avg(v) * 2 FROM (VALUES (1), (0)) t(v)", binary=True).fetchone()
    assert str(got[0]) == "0.50000000000000000000" and got[1] == Decimal(1)
    assert conn.execute("SELECT avg(v) FROM (VALUES (1), (2)) t(v) WHERE false").fetchone() == (None,)


def test_a_values_list_keeps_each_numbers_own_scale(conn: psycopg.Connection) -> None:
    """PostgreSQL's numeric keeps each value's scale: ``SELECT * FROM (VALUES (1.5), (2)) t(x)`` is 1.5 and 2, where
    DuckDB's one DECIMAL type wrote 2.0. A VALUES list that is the whole statement (or all a SELECT * reads) keeps
    its numbers' own texts, still numeric, with its other columns and names as before; one the query computes with
    keeps DuckDB's one scale."""
    cur = conn.execute("SELECT * FROM (VALUES (1.5), (2)) t(x)")
    assert [(d.name, d.type_code) for d in cur.description] == [("x", 1700)]
    assert _texts(conn, "SELECT * FROM (VALUES (1.5), (2)) t(x)") == [["1.5"], ["2"]]
    cur = conn.execute("VALUES (1.50, 'a'), (2, 'b'), (-0.25, NULL), (NULL, 'c')")
    assert [(d.name, d.type_code) for d in cur.description] == [("column1", 1700), ("column2", 25)]
    assert cur.fetchall() == [(Decimal("1.50"), "a"), (Decimal("2"), "b"), (Decimal("-0.25"), None), (None, "c")]
    assert _texts(conn, "VALUES (1.50), (.5), (-3.)") == [["1.50"], ["0.5"], ["-3"]]
    assert str(conn.execute("VALUES (1.5), (2)", binary=True).fetchall()[1][0]) == "2"
    assert _texts(conn, "SELECT x + 1 FROM (VALUES (1.5), (2)) t(x)") == [["2.5"], ["3.0"]]


def test_float_and_interval_texts_as_postgresql_16_prints_them(conn: psycopg.Connection) -> None:
    """float8out's shortest digits with an exponent from 1e16 (1e+23, not 1e23 or 9.999999999999999e+22) and below
    1e-4; an interval's ::text in PostgreSQL's style."""
    assert _texts(conn, "SELECT 1e23::float8, 1e16::float8, 1e-5::float8, -0.0::float8, 'NaN'::float8, "
                        "'Infinity'::float8, '-Infinity'::float8, 1e23::float8::text, "
                        "interval '1 day 2 hours'::text, CAST(interval '1 day 2 hours' AS varchar)") \
        == [["1e+23", "1e+16", "1e-05", "-0", "NaN", "Infinity", "-Infinity", "1e+23", "1 day 02:00:00",
             "1 day 02:00:00"]]
