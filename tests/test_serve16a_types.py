"""`ad-duckdb serve` answers with PostgreSQL's result types and texts (serve16a): a BI tool reads a column's type OID
and its text, and a wrong one shows 3 for 3.0 or fails to format. Each answer pinned is what PostgreSQL 15
documents (its function tables, float8out, IntervalStyle postgres). The servers come from tests/test_server.py."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import duckdb
import psycopg
import pytest

from test_server import serve


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[psycopg.Connection]:
    db = str(tmp_path_factory.mktemp("serve16a") / "t.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE t (i INTEGER, b BIGINT, x DOUBLE, d DECIMAL(10,2), s VARCHAR, j JSON)")
    con.execute("INSERT INTO t VALUES (1, 10, 2.5, 1.25, 'straße', '{\"a\": 1}'), (2, 20, 3.5, 2.50, 'ab', '[1]')")
    con.close()
    with serve(db) as s, psycopg.connect(s.url(), autocommit=True) as c:
        yield c


def _texts(conn: psycopg.Connection, sql: str) -> list[str | None]:
    """The first row's values as the server's text on the wire."""
    cur = conn.execute(sql)
    assert cur.pgresult is not None
    return [None if (v := cur.pgresult.get_value(0, k)) is None else bytes(v).decode()
            for k in range(cur.pgresult.nfields)]


def _oids(conn: psycopg.Connection, sql: str) -> list[int]:
    return [d.type_code for d in conn.execute(sql).description]


def test_floats_are_written_as_postgresql_writes_them(conn: psycopg.Connection) -> None:
    """float8out (extra_float_digits >= 1): the shortest digits, fixed from 1e-4 to below 1e15 (float4: 1e6), else
    1e+15 / 1e-05; no '.0' of an integral value. The server wrote Python's repr: '2.0', '1000000000000000.0'."""
    assert _texts(conn, "SELECT 2.0::float8, 1e15::float8, 123456789012345.6::float8, 1e20::float8, 0.00001::float8, "
                        "0.0001::float8, 0.1::float8 + 0.2, -0.0::float8, 'NaN'::float8, 1e6::float4, "
                        "123456::float4, 0.1::float4") \
        == ["2", "1e+15", "123456789012345.6", "1e+20", "1e-05", "0.0001", "0.30000000000000004", "-0", "NaN",
            "1e+06", "123456", "0.1"]


def test_a_cast_to_text_of_a_float_or_an_interval_is_postgresqls_text(conn: psycopg.Connection) -> None:
    """Inside SQL, ``2.0::float8::text`` was DuckDB's '2.0' and ``age(...)::text`` DuckDB's '2 months'; PostgreSQL's
    are '2' and '2 mons' (year / mon / day, an s unless 1, a + on a positive part after a negative one). The
    column keeps the operand's name; any other type's text is DuckDB's, as before."""
    cur = conn.execute("SELECT 2.0::float8::text, CAST(1e15::float8 AS text), (0.1::float8 + 0.2)::varchar, "
                       "x::text, age('2024-03-01'::timestamp, '2024-01-01'::timestamp)::text, "
                       "age('2024-01-01'::timestamp, '2025-02-03 04:05:06'::timestamp)::text, "
                       "(interval '1 month' - interval '3 days' + interval '4 hours')::text, "
                       "(interval '1 day')::text, d::text, i::text, NULL::float8::text FROM t ORDER BY i")
    assert [d.name for d in cur.description][3] == "x"
    assert cur.fetchone() == ("2", "1e+15", "0.30000000000000004", "2.5", "2 mons", "-1 years -1 mons -2 days -04:05:06",
                              "1 mon -3 days +04:00:00", "1 day", "1.25", "1", None)


def test_round_avg_stddev_result_types(conn: psycopg.Connection) -> None:
    """round(integer) resolves to round(double precision) (float8, the numeric category's preferred type), round(integer,
    n) to round(numeric, integer): numeric with n decimals; DuckDB kept the integer. avg / stddev / variance of an
    integer or a numeric are numeric (DuckDB: double), of a double double precision; FILTER, OVER, DISTINCT, HAVING
    and a subquery with its own FROM too."""
    cur = conn.execute("SELECT round(3), round(i), round(i, 2), round(1234, -2), round(d), round(x), round(2.5::numeric) "
                       "FROM t ORDER BY i")
    assert [d.type_code for d in cur.description] == [701, 701, 1700, 1700, 1700, 701, 1700]
    assert cur.fetchone() == (3.0, 1.0, Decimal("1.00"), Decimal("1200"), Decimal("1"), 2.0, Decimal("3"))
    cur = conn.execute("SELECT avg(i), avg(b), avg(d), avg(x), stddev(i), variance(b), stddev_pop(x), "
                       "avg(i) FILTER (WHERE i > 1), avg(DISTINCT b) FROM t")
    assert [d.type_code for d in cur.description] == [1700, 1700, 1700, 701, 1700, 1700, 701, 1700, 1700]
    assert cur.fetchone() == (Decimal("1.5"), Decimal("15"), Decimal("1.875"), 3.0, pytest.approx(Decimal("0.7071067811865476")),
                              Decimal("50"), 0.5, Decimal("2"), Decimal("15"))
    assert _texts(conn, "SELECT avg(i) FROM t") == ["1.5000000000000000"]  # PostgreSQL's 16 digits
    cur = conn.execute("SELECT avg(i) OVER (), (SELECT avg(u.b) FROM t u WHERE u.i = t.i) FROM t GROUP BY i, b "
                       "HAVING avg(x) > 0 ORDER BY avg(i)")
    assert [d.type_code for d in cur.description] == [1700, 1700]


def test_extract_length_generate_series_result_types(conn: psycopg.Connection) -> None:
    """extract is numeric (PostgreSQL 14+), its second and millisecond fields with their fraction (DuckDB dropped
    it); date_part double precision; length / char_length / octet_length integer; generate_series of integers in a
    select list integer, of a bigint bigint."""
    cur = conn.execute("SELECT extract(year FROM timestamp '2024-03-01 00:00:06.5'), "
                       "extract(second FROM timestamp '2024-03-01 00:00:06.5'), "
                       "extract(milliseconds FROM timestamp '2024-03-01 00:00:06.5'), "
                       "extract(epoch FROM timestamp '2024-03-01 00:00:06.5'), date_part('year', date '2024-03-01'), "
                       "length(s), char_length(s), octet_length(s) FROM t ORDER BY i")
    assert [d.type_code for d in cur.description] == [1700, 1700, 1700, 1700, 701, 23, 23, 23]
    assert cur.fetchone() == (Decimal("2024"), Decimal("6.5"), Decimal("6500"), Decimal("1709251206.5"), 2024.0, 6, 6, 7)
    assert _texts(conn, "SELECT extract(second FROM timestamp '2024-03-01 00:00:06.5')") == ["6.500000"]
    cur = conn.execute("SELECT generate_series(1, 3), generate_series(1::bigint, 3) AS b")
    assert [d.type_code for d in cur.description] == [23, 20]
    assert cur.fetchall() == [(1, 1), (2, 2), (3, 3)]


def test_a_literal_cast_to_numeric_keeps_its_digits(conn: psycopg.Connection) -> None:
    """PostgreSQL's unconstrained numeric keeps a literal's own scale: ``1.23456789012345::numeric`` was cut to 10
    decimals (1.2345678901), ``1.5::numeric`` written 1.5000000000, and ``numeric '1.23456'`` (DuckDB's DECIMAL(18,3))
    was 1.235. A precision the client gives stays its own."""
    assert _texts(conn, "SELECT 1.23456789012345::numeric, '0.123456789012345678'::numeric, CAST(1.5 AS numeric), "
                        "1::numeric, numeric '1.23456', 2.5::numeric(10, 2), 1.23456789012345") \
        == ["1.23456789012345", "0.123456789012345678", "1.5", "1", "1.23456", "2.50", "1.23456789012345"]
    assert _oids(conn, "SELECT 1.23456789012345::numeric, 1.23456789012345") == [1700, 1700]


def test_upper_keeps_sharp_s(conn: psycopg.Connection) -> None:
    """PostgreSQL 15 upper-cases with its locale's towupper (one character for one): upper('straße') is 'STRAßE';
    DuckDB wrote U+1E9E ('STRAẞE'), which no PostgreSQL gives. Other letters as before; NULL gives NULL."""
    cur = conn.execute("SELECT upper(s), upper('éa'), upper(NULL), lower('STRASSE') FROM t ORDER BY i")
    assert [d.name for d in cur.description] == ["upper", "upper", "upper", "lower"]
    assert cur.fetchone() == ("STRAßE", "ÉA", None, "strasse")


def test_jsonb_items_are_sent_as_jsonb(conn: psycopg.Connection) -> None:
    """An item that is surely jsonb (a cast to jsonb, jsonb_build_object, to_jsonb, jsonb || jsonb) is sent as jsonb
    (OID 3802) in jsonb's text (keys shortest first, ", " and ": "), as PostgreSQL sends it; DuckDB's one JSON type
    went out as json (114) in its own text. A json column and a json cast stay json; a set operation's items too."""
    sql = ("SELECT jsonb_build_object('b', 1, 'a', 2), '{\"bb\":1,\"a\":[1,2]}'::jsonb AS v, j, j::jsonb AS k, "
           "'{\"x\":1}'::jsonb || '{\"y\":2}'::jsonb, to_jsonb(i), '{\"b\":1}'::json AS w FROM t ORDER BY i")
    assert _oids(conn, sql) == [3802, 3802, 114, 3802, 3802, 3802, 114]
    assert _texts(conn, sql) == ['{"a": 2, "b": 1}', '{"a": [1, 2], "bb": 1}', '{"a": 1}', '{"a": 1}',
                                 '{"x": 1, "y": 2}', "1", '{"b":1}']
    assert conn.execute(sql).fetchone()[:2] == ({"a": 2, "b": 1}, {"a": [1, 2], "bb": 1})
    cur = conn.execute(sql, binary=True)  # jsonb's binary format: a version byte, then the text
    assert cur.fetchone()[1] == {"a": [1, 2], "bb": 1}
    assert _oids(conn, "SELECT '{}'::jsonb UNION ALL SELECT '[]'::jsonb") == [114]


def test_age_and_interval_items_keep_their_months(conn: psycopg.Connection) -> None:
    """age(...) of two months went out as '60 days 00:00:00.000000' (DuckDB hands Python a timedelta, which has no
    months); PostgreSQL sends '2 mons'. An item that is surely an interval (age, interval '...', a cast) is sent as
    PostgreSQL's text, and in the binary format with its months (psycopg reads a month as 30 days)."""
    sql = ("SELECT age('2024-03-01'::timestamp, '2024-01-01'::timestamp), "
           "age('2024-01-01'::timestamp, '2025-02-03 04:05:06'::timestamp) AS a, interval '1 month 2 days 03:00:00', "
           "'90 minutes'::interval AS m, CAST('-3 days 04:05:06.5' AS interval) AS c")
    assert _oids(conn, sql) == [1186] * 5
    assert _texts(conn, sql) == ["2 mons", "-1 years -1 mons -2 days -04:05:06", "1 mon 2 days 03:00:00", "01:30:00",
                                 "-3 days +04:05:06.5"]
    import datetime as dt
    assert conn.execute(sql, binary=True).fetchone()[:3] == (
        dt.timedelta(days=60), -dt.timedelta(days=395 + 2, hours=4, minutes=5, seconds=6),
        dt.timedelta(days=32, hours=3))


def test_nested_rewrites_keep_the_statement_whole(conn: psycopg.Connection) -> None:
    """A cast to text inside another's operand, and an aggregate inside a round, are each rewritten: the first cut
    the statement's words apart ('VARCHpg_text'), as the JSON builders' own casts to VARCHAR did."""
    cur = conn.execute("SELECT (x::text || 'a')::text, x::float8::text::varchar, "
                       "(SELECT jsonb_object_agg(k, v)::text FROM (VALUES ('a', 1), ('a', 2)) t(k, v)) FROM t "
                       "ORDER BY i DESC")
    assert cur.fetchone() == ("3.5a", "3.5", '{"a": 2}')
    cur = conn.execute("SELECT round(avg(i), 2), round(avg(i)) FROM t")
    assert [d.type_code for d in cur.description] == [1700, 1700]
    assert cur.fetchone() == (Decimal("1.50"), Decimal("2"))
