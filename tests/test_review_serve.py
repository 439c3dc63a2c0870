"""serve's rewrites of each query to PostgreSQL's ways: column names (pgcolnames) and to_char (pgformat)."""

from __future__ import annotations

import threading

import duckdb

from ad_duckdb.pgcolnames import postgres_names
from ad_duckdb.pgformat import pg_formats


def test_postgres_names_from_many_threads_once_the_cache_fills() -> None:
    """serve names each connection's queries in its own thread. Once 2048 select lists had been seen, one thread
    emptying the cache while another was parsing made the other's lookup of a list it had found cached fail with
    KeyError, so a dashboard's query failed at random. Each thread now gets every query's names."""
    errors: list[str] = []
    named: list[str] = []

    def work(t: int) -> None:
        try:
            for i in range(1500):
                # one select list every thread shares (cached), one new each time (parsed, filling the cache)
                named.append(postgres_names(f"SELECT count(*) + 1 FROM (SELECT {t * 100000 + i} + 1) t"))
        except Exception as e:  # noqa: BLE001 - the assertion names what a thread raised
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(named) == 4 * 1500
    assert all(s.startswith('SELECT count(*) + 1 AS "?column?" FROM (SELECT ') for s in named)


def test_an_item_of_duckdbs_columns_keeps_one_name_a_column() -> None:
    """DuckDB's COLUMNS(...) makes one result column of an item per column it matches, each named after it:
    ``max(COLUMNS('c.*'))`` gives count, distinct_cards, ... Through serve every one got the item's PostgreSQL name,
    max, max, max, which a BI tool cannot tell apart. Such an item is left as written; an unpacked ``*COLUMNS(*)``,
    one column, is named."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS a, 2 AS b, 3 AS c")
    for sql, names in [("SELECT max(COLUMNS(*)) FROM t", ["a", "b", "c"]),
                       ("SELECT COLUMNS('[ab]')::text, 1 + 1 FROM t", ["a", "b", "?column?"]),
                       ("SELECT COLUMNS(*) + 1 FROM t", ["a", "b", "c"]),
                       ("SELECT coalesce(*COLUMNS(*)) FROM t", ["coalesce"])]:
        got = [d[0] for d in con.execute(postgres_names(sql)).description]
        assert got == names, (sql, postgres_names(sql))


def test_to_char_seconds_past_midnight() -> None:
    """PostgreSQL's SSSS (and SSSSS) is the seconds past midnight; it was read as SS twice, so 01:02:03 printed as
    '0303', not 3723."""
    con = duckdb.connect()
    for fmt, want in [("SSSS", "3723"), ("SSSSS", "3723"), ("HH24:MI:SS", "01:02:03"), ("SSSS.MS", "3723.456")]:
        sql = postgres_names(f"SELECT to_char(TIMESTAMP '2024-01-01 01:02:03.456', '{fmt}')")
        assert con.execute(pg_formats(sql)).fetchall() == [(want,)], (fmt, pg_formats(sql))


def test_generate_series_in_an_expression_of_a_select_list_gives_rows() -> None:
    """SELECT generate_series(1, 3) gave three rows, but generate_series(1, 3) + 1 or * 2 still failed on DuckDB's
    list ("No function matches '+(BIGINT[], ...)'"); PostgreSQL gives a row per value there too."""
    con = duckdb.connect()
    for sql, names, rows in [("SELECT generate_series(1, 3) + 1", ["?column?"], [(2,), (3,), (4,)]),
                             ("SELECT 10 * generate_series(1, 2) AS d, 'x'", ["d", "?column?"], [(10, "x"), (20, "x")]),
                             ("SELECT generate_series(1, 2)::text || 'x'", ["?column?"], [("1x",), ("2x",)]),
                             # in its own select list, a subquery's is unnested once
                             ("SELECT (SELECT generate_series(1, 2) + 1 LIMIT 1)", ["?column?"], [(2,)])]:
        r = con.execute(postgres_names(sql))
        assert ([d[0] for d in r.description], r.fetchall()) == (names, rows), postgres_names(sql)
