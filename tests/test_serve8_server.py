"""`ad-duckdb serve` as BI tools and drivers see it: sum()'s bigint type over users' scalar macros and in PIVOTs.
The servers come from tests/test_server.py.
"""

from __future__ import annotations

import psycopg
from test_serve6_server import _typed

import test_server
from test_server import Server

server = test_server.server  # the read-only server of tests/test_server.py
warehouse = test_server.warehouse


def test_a_sum_of_a_users_scalar_macro_is_bigint_as_in_postgresql(server: Server) -> None:
    """sum(doubled(qty)), doubled a user's macro of no aggregate (CREATE MACRO doubled(x) AS x * 2, what PostgreSQL's
    SQL function returning integer is), was numeric (a Decimal in psycopg) where PostgreSQL gives bigint: the server
    kept DuckDB's sum for any macro, as one may hold an aggregate. It reads the macro's body now (and the bodies of
    the macros that calls): a macro of no aggregate is a scalar's sum; one holding an aggregate, anywhere in its
    chain or a subquery, keeps DuckDB's sum and its exact value."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE um (g INTEGER, qty INTEGER, price DECIMAL(12, 1))")
        conn.execute("INSERT INTO um VALUES (0, 1, 1.5), (1, 2, 3.0), (1, 4, 0.5)")
        conn.execute("CREATE TEMP MACRO doubled(x) AS x * 2, (x, y) AS x * y")
        conn.execute("CREATE TEMP MACRO plus_one(x) AS doubled(x) + 1")
        conn.execute("CREATE TEMP MACRO total(x) AS sum(x)")
        conn.execute("CREATE TEMP MACRO via_total(x) AS total(x) + 0")
        conn.execute("CREATE TEMP MACRO in_subquery(x) AS x + (SELECT sum(r) FROM range(3) AS t(r))")
        for sql, want in (("SELECT sum(doubled(qty)) FROM um", [(14,)]),
                          ("SELECT sum(plus_one(qty)) AS s FROM um", [(17,)]),
                          ("SELECT g, sum(doubled(qty, g)) FROM um GROUP BY g ORDER BY g", [(0, 0), (1, 6)]),
                          ("SELECT sum(temp.main.doubled(qty)) FROM um", [(14,)])):
            names, rows = _typed(conn, sql)
            assert rows == want, sql
            assert names[-1][1] == 20, (sql, names)  # bigint
        # a decimal's sum through a scalar macro: numeric, its exact value
        names, rows = _typed(conn, "SELECT sum(doubled(price)) FROM um")
        assert (names[0][1], str(rows[0][0])) == (1700, "10.0")
        # macros holding an aggregate, directly, through another macro, in a subquery: DuckDB's sum, right
        for sql, want in (("SELECT g, SUM(total(price)) OVER (ORDER BY g) FROM um GROUP BY g ORDER BY g",
                           ["1.5", "5.0"]),
                          ("SELECT g, SUM(via_total(price)) OVER (ORDER BY g) FROM um GROUP BY g ORDER BY g",
                           ["1.5", "5.0"]),
                          ("SELECT g, sum(in_subquery(price)) FROM um GROUP BY g ORDER BY g", ["4.5", "9.5"])):
            assert [str(r[-1]) for r in conn.execute(sql).fetchall()] == want, sql
        conn.rollback()


def test_a_pivots_sum_of_integers_is_bigint_as_outside_a_pivot(server: Server) -> None:
    """PIVOT t ON cat USING sum(qty) (and t PIVOT (sum(qty) FOR cat IN (...))) gave numeric columns (Decimals in
    psycopg) where the same sum outside a PIVOT is bigint, as PostgreSQL's sum of integers is: a PIVOT takes only an
    aggregate, so the server's typed macro could not stand there. The server asks DuckDB the argument's type over the
    PIVOT's source now and casts the sum of a small integer type to BIGINT; a sum of bigint or decimal keeps
    DuckDB's numeric, exact; the columns keep DuckDB's names."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE pv (g INTEGER, cat VARCHAR, qty INTEGER, small SMALLINT, big BIGINT, "
                     "price DECIMAL(12, 1))")
        conn.execute("INSERT INTO pv VALUES (0, 'a', 1, 1, 1, 1.5), (0, 'b', 2, 2, 2, 3.0), (1, 'a', 4, 4, 4, 0.5)")
        for sql, want_names, want in (
                ("PIVOT pv ON cat USING sum(qty) GROUP BY g ORDER BY g", ["g", "a", "b"], [(0, 1, 2), (1, 4, None)]),
                ("PIVOT_WIDER pv ON cat USING SUM(small) GROUP BY g ORDER BY g", ["g", "a", "b"],
                 [(0, 1, 2), (1, 4, None)]),
                ("PIVOT pv ON cat USING sum(qty * 2) AS total GROUP BY g ORDER BY g", ["g", "a_total", "b_total"],
                 [(0, 2, 4), (1, 8, None)]),
                ("SELECT * FROM (SELECT g, cat, qty FROM pv) PIVOT (sum(qty) FOR cat IN ('a', 'b')) ORDER BY g",
                 ["g", "a", "b"], [(0, 1, 2), (1, 4, None)]),
                ("SELECT p.* FROM (SELECT g, cat, qty FROM pv) AS s PIVOT (sum(qty) FOR cat IN ('a')) AS p "
                 "ORDER BY g", ["g", "a"], [(0, 1), (1, 4)]),
                ("WITH c AS (SELECT g, cat, qty FROM pv) SELECT * FROM (PIVOT c ON cat USING sum(qty) GROUP BY g) "
                 "ORDER BY g", ["g", "a", "b"], [(0, 1, 2), (1, 4, None)])):
            names, rows = _typed(conn, sql)
            assert (rows, [n for n, _ in names]) == (want, want_names), sql
            assert [t for _, t in names[1:]] == [20] * (len(names) - 1), (sql, names)  # bigint
        # bigint and decimal sums: numeric, exact; two aggregates keep DuckDB's names (and its numeric sum)
        for sql, want in (("PIVOT pv ON cat USING sum(big) GROUP BY g ORDER BY g", [(0, "1", "2"), (1, "4", "None")]),
                          ("PIVOT pv ON cat USING sum(price) GROUP BY g ORDER BY g",
                           [(0, "1.5", "3.0"), (1, "0.5", "None")])):
            names, rows = _typed(conn, sql)
            assert [(g, str(a), str(b)) for g, a, b in rows] == want, sql
            assert [t for _, t in names[1:]] == [1700, 1700], (sql, names)
        # a nested WITH's CTE named as the table: its decimal column's sum, not cast as the table's integers
        rows = conn.execute("SELECT (WITH pv AS (SELECT 'a' AS cat, 1.5::DECIMAL(12, 1) AS qty) SELECT a FROM "
                            "(PIVOT pv ON cat USING sum(qty)))").fetchall()
        assert str(rows[0][0]) == "1.5"
        names, rows = _typed(conn, "PIVOT pv ON cat USING sum(qty), count(*) GROUP BY g ORDER BY g")
        assert [n for n, _ in names] == ["g", "a_sum(qty)", "a_count_star()", "b_sum(qty)", "b_count_star()"]
        assert rows == [(0, 1, 1, 2, 1), (1, 4, 1, None, 0)]
        conn.rollback()
