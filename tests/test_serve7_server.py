"""`ad-duckdb serve` as BI tools and drivers see it: sum()'s bigint type in subqueries over CTEs and derived tables.
The servers come from tests/test_server.py.
"""

from __future__ import annotations

import psycopg
from test_serve6_server import _typed

from test_server import Server


def test_a_subquerys_sum_over_a_cte_or_derived_table_is_bigint(server: Server) -> None:
    """WITH c AS (...) SELECT (SELECT sum(x) FROM c) (a scalar subquery's sum over a CTE, or over a derived table)
    was numeric (a Decimal in psycopg) where PostgreSQL gives bigint, as the same sum over a table is: the server
    could not tell the CTE's columns from the outer query's. It asks DuckDB for them now; a sum of the outer query's
    column through such a subquery is still the outer query's aggregate, with DuckDB's answer."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE ct (x INTEGER, g INTEGER)")
        conn.execute("INSERT INTO ct VALUES (1, 0), (2, 0), (4, 1)")
        for sql, want in (
                ("WITH c AS (SELECT x AS y, g FROM ct) SELECT (SELECT sum(y) FROM c), (SELECT sum(c.y) FROM c)",
                 [(7, 7)]),
                ("WITH c(y, h) AS (SELECT x, g FROM ct) SELECT (SELECT sum(y) FROM c WHERE h = 0) + 0 AS s", [(3,)]),
                ("WITH c AS (SELECT x AS y FROM ct) SELECT g, (SELECT sum(d.y) FROM c AS d WHERE d.y > ct.g) "
                 "FROM ct GROUP BY g ORDER BY g", [(0, 7), (1, 6)]),
                ("SELECT g, (SELECT sum(y) FROM (SELECT x AS y FROM ct) d WHERE y > ct.g) FROM ct GROUP BY g "
                 "ORDER BY g", [(0, 7), (1, 6)]),
                ("SELECT g, (SELECT sum(d.z) FROM (SELECT x FROM ct) AS d(z)) FROM ct GROUP BY g ORDER BY g",
                 [(0, 7), (1, 7)]),
                ("WITH c AS (SELECT x AS y FROM ct) SELECT 1 AS one, (SELECT sum(y) FROM (SELECT * FROM c) d)",
                 [(1, 7)])):
            names, rows = _typed(conn, sql)
            assert rows == want, sql
            assert names[-1][1] == 20, (sql, names)
        # the outer query's columns through a CTE's subquery: the outer aggregate, DuckDB's (numeric), right
        for sql, want in (
                ("WITH c AS (SELECT 1 AS y) SELECT (SELECT sum(x) FROM c) FROM ct", [(7,)]),
                ("WITH c AS (SELECT 1 AS y) SELECT g, (SELECT sum(ct.x) FROM c) FROM ct GROUP BY g ORDER BY g",
                 [(0, 3), (1, 4)]),
                ("SELECT (SELECT sum(x) FROM (SELECT 1 AS y) d) FROM ct", [(7,)]),
                ("SELECT g, (SELECT sum(x) FROM (SELECT 1 AS y) AS d(x2)) FROM ct GROUP BY g ORDER BY g",
                 [(0, 3), (1, 4)]),
                # a nested WITH's CTE named as a table of the catalogue: its own columns, not the table's
                ("SELECT (WITH ct AS (SELECT 1 AS q) SELECT (SELECT sum(x) FROM (SELECT * FROM ct) d)) FROM ct",
                 [(7,)])):
            assert _typed(conn, sql)[1] == want, sql
        conn.rollback()


def test_if_exists_on_indexes_sends_postgresqls_notices_and_tag(server: Server) -> None:
    """DROP INDEX IF EXISTS of a missing index and CREATE INDEX IF NOT EXISTS of an existing one (what migration tools
    such as Alembic send) said nothing, where PostgreSQL sends a NOTICE ('index "x" does not exist, skipping',
    'relation "x" already exists, skipping'); the skipped CREATE INDEX was tagged SELECT 0 (DuckDB's count of the
    skip), PostgreSQL's tag is CREATE INDEX."""
    seen: list[tuple[str | None, str | None, str | None]] = []
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.add_notice_handler(lambda d: seen.append((d.severity_nonlocalized, d.sqlstate, d.message_primary)))
        conn.execute("CREATE TEMP TABLE ix (a INTEGER)")
        tags = [conn.execute(sql).statusmessage for sql in (
            "CREATE INDEX IF NOT EXISTS ix_a ON ix (a)", "CREATE INDEX IF NOT EXISTS ix_a ON ix (a)",
            'CREATE UNIQUE INDEX IF NOT EXISTS "IX_A" ON temp.ix (a)', "DROP INDEX IF EXISTS ix_a",
            "DROP INDEX IF EXISTS ix_a", "DROP INDEX IF EXISTS temp.main.ix_a", "DROP INDEX IF EXISTS nosuch.ix_a")]
        assert tags == ["CREATE INDEX", "CREATE INDEX", "CREATE INDEX", "DROP INDEX", "DROP INDEX", "DROP INDEX",
                        "DROP INDEX"]
        assert seen == [("NOTICE", "42P07", 'relation "ix_a" already exists, skipping'),
                        ("NOTICE", "42P07", 'relation "IX_A" already exists, skipping'),
                        ("NOTICE", "00000", 'index "ix_a" does not exist, skipping'),
                        ("NOTICE", "00000", 'index "ix_a" does not exist, skipping'),
                        ("NOTICE", "00000", 'schema "nosuch" does not exist, skipping')]


def test_a_subquerys_repeated_column_names_are_postgresqls(server: Server) -> None:
    """SELECT * FROM (SELECT a.id, b.id FROM a JOIN b ...) s gave the columns id and id_1 (DuckDB renames a
    subquery's repeated name as it binds), where PostgreSQL gives id and id, in the result and in a Describe (a
    prepared statement's) alike; a column stored as id_1, or one the query names so, keeps its name."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE da (id INTEGER, v INTEGER)")
        conn.execute("CREATE TEMP TABLE db (id INTEGER, v_1 INTEGER)")
        conn.execute("INSERT INTO da VALUES (1, 10)")
        conn.execute("INSERT INTO db VALUES (1, 20)")
        for prepare in (False, True):
            for sql, names in (
                    ("SELECT * FROM (SELECT da.id, db.id, da.v FROM da JOIN db USING (id)) s", ["id", "id", "v"]),
                    ("WITH c AS (SELECT 1 AS a, 2 AS a, 3 AS a) SELECT * FROM c", ["a", "a", "a"]),
                    ("SELECT s.id, s.id_1 FROM (SELECT da.id, db.id FROM da, db) s", ["id", "id_1"]),
                    ("SELECT * FROM (SELECT 1 AS a, 2 AS a_1, 3 AS a) s", ["a", "a_1", "a"]),
                    # a stored column's own name (the temporary table's v_1), beside a v
                    ("SELECT * FROM (SELECT da.v, db.* FROM da, db) s", ["v", "id", "v_1"]),
                    ("SELECT count(*), count(*) FROM (SELECT 1) s", ["count", "count"])):
                cur = conn.execute(sql, prepare=prepare)
                assert cur.description is not None
                assert [d.name for d in cur.description] == names, (sql, prepare)
        conn.rollback()


def test_percentile_cont_of_a_decimal_column_is_postgresqls_double(server: Server) -> None:
    """percentile_cont(0.5) WITHIN GROUP (ORDER BY price) of a DECIMAL(12,1) column (Metabase's Median of a price)
    gave 2.2, numeric: DuckDB keeps the column's type, whose scale cut the interpolated 2.25 that PostgreSQL gives, as
    double precision. The key is a double now; integers' are too (as before), a timestamp's stays DuckDB's, and a key of
    the outer query's columns in a subquery is the outer query's aggregate still."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE pr (price DECIMAL(12, 1), n INTEGER, ts TIMESTAMP, g INTEGER)")
        conn.execute("INSERT INTO pr VALUES (1.5, 1, TIMESTAMP '2024-01-01', 0), (3.0, 2, TIMESTAMP '2024-01-02', 0), "
                     "(4.5, 4, TIMESTAMP '2024-01-04', 1)")
        assert _typed(conn, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY price), "
                            "percentile_cont(0.25) WITHIN GROUP (ORDER BY pr.price DESC), "
                            "percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM pr WHERE g = 0") == \
            ([("percentile_cont", 701), ("percentile_cont", 701), ("percentile_cont", 701)], [(2.25, 2.625, 1.5)])
        assert _typed(conn, "SELECT g, percentile_cont(0.5) WITHIN GROUP (ORDER BY price) AS m FROM pr GROUP BY g "
                            "ORDER BY g") == ([("g", 23), ("m", 701)], [(0, 2.25), (1, 4.5)])
        assert _typed(conn, "SELECT percentile_cont([0.5, 0.75]) WITHIN GROUP (ORDER BY price) FROM pr WHERE g = 0"
                      )[1] == [([2.25, 2.625],)]
        assert _typed(conn, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ts) FROM pr WHERE g = 0")[1][0][0] \
            .isoformat() == "2024-01-01T12:00:00"
        # the outer query's aggregate, over each group
        assert _typed(conn, "SELECT g, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY pr.n)) FROM pr GROUP BY g "
                            "ORDER BY g")[1] == [(0, 1.5), (1, 4.0)]
        conn.rollback()


def test_sum_with_order_by_is_bigint_as_in_postgresql(server: Server) -> None:
    """sum(x ORDER BY y) of an integer column stayed numeric (a Decimal in psycopg) where PostgreSQL gives bigint,
    as sum(x) of it is here. It is bigint now, with a FILTER and DISTINCT too, in GROUP BY and HAVING; a double's and
    a bigint's keep their types (double precision, numeric), and a subquery's of the outer query's columns is still the
    outer query's aggregate."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE so (x INTEGER, y INTEGER, g INTEGER, d DOUBLE, b BIGINT)")
        conn.execute("INSERT INTO so VALUES (1, 3, 0, 0.5, 1), (2, 2, 0, 1.5, 2), (4, 1, 1, 2.5, 3)")
        assert _typed(conn, "SELECT g, sum(x ORDER BY y DESC), sum(DISTINCT x ORDER BY x) FILTER (WHERE y > 1), "
                            "sum(d ORDER BY y), sum(b ORDER BY y) FROM so GROUP BY g HAVING sum(x ORDER BY y) > 0 "
                            "ORDER BY g") == \
            ([("g", 23), ("sum", 20), ("sum", 20), ("sum", 701), ("sum", 1700)],
             [(0, 3, 3, 2.0, 3), (1, 4, None, 2.5, 3)])
        cur = conn.execute("SELECT sum(x + y ORDER BY y) AS t, sum(%s::int ORDER BY y) AS p FROM so", [3])
        assert cur.description is not None and [d.type_code for d in cur.description] == [20, 20]
        assert cur.fetchall() == [(13, 9)]
        assert _typed(conn, "SELECT g, (SELECT sum(so.x ORDER BY so.y)) FROM so GROUP BY g ORDER BY g")[1] == \
            [(0, 3), (1, 4)]
        conn.rollback()


def test_a_sum_of_an_aggregate_keeps_its_value_and_postgresqls_type(server: Server) -> None:
    """SUM(SUM(price)) OVER (ORDER BY ...) (Metabase's cumulative sum) of a DECIMAL(12,1) column came back rounded to
    whole numbers (1.5 + 3.0 as 5, bigint): the bigint rewrite's typed overload, whose argument held an aggregate,
    was DuckDB's pick for any type, and cast the sums to INTEGER. A sum of an aggregate keeps DuckDB's sum now: exact,
    numeric as PostgreSQL's sum of a numeric or bigint (sum(sum(n)), sum(count(*))); the inner sum of integers is
    bigint still."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE cu (g INTEGER, price DECIMAL(12, 1), n INTEGER)")
        conn.execute("INSERT INTO cu VALUES (0, 1.5, 1), (1, 3.0, 2), (1, 0.5, 4)")
        names, rows = _typed(conn, "SELECT g, SUM(SUM(price)) OVER (ORDER BY g ROWS UNBOUNDED PRECEDING) AS c, "
                                   "sum(max(price)) OVER (ORDER BY g) AS m, sum(sum(n)) OVER () AS t, "
                                   "sum(count(*)) OVER () AS k, sum(n) AS s FROM cu GROUP BY g ORDER BY g")
        assert [n for _, n in names] == [23, 1700, 1700, 1700, 1700, 20]
        assert [tuple(str(v) for v in r) for r in rows] == [("0", "1.5", "1.5", "7", "3", "1"),
                                                             ("1", "5.0", "4.5", "7", "3", "6")]
        conn.rollback()


def test_a_table_macros_own_column_named_like_a_renaming_keeps_its_name(server: Server) -> None:
    """A table macro returning id and id_1 (its own names: CREATE MACRO m() AS TABLE SELECT ... AS id_1), read
    through a subquery with *, came back as id, id: the server took id_1 for DuckDB's renaming of a duplicate, as
    the catalogue it asked has no columns of a macro. A statement that reads a table function keeps DuckDB's names."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP MACRO tm() AS TABLE SELECT 1 AS id, 2 AS id_1")
        _names_are(conn, (("SELECT * FROM (SELECT * FROM tm()) s", ["id", "id_1"]),
                          ("WITH c AS (SELECT * FROM tm()) SELECT * FROM c", ["id", "id_1"]),
                          ("SELECT * FROM (SELECT * FROM temp.main.tm()) s", ["id", "id_1"])))
        conn.rollback()


def test_a_sum_of_a_macro_holding_an_aggregate_keeps_its_value(server: Server) -> None:
    """SUM(total(price)) OVER (...), total a user's macro (CREATE MACRO total(x) AS sum(x)), of a DECIMAL(12,1)
    column came back rounded to whole numbers (1.5 + 3.5 as 5, bigint): the server tells an argument holding an
    aggregate by DuckDB's aggregate functions' names, and a macro's body was not looked into, so the typed overload
    cast the sums to INTEGER. A sum of a call to a macro keeps DuckDB's sum."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE cm (g INTEGER, price DECIMAL(12, 1))")
        conn.execute("INSERT INTO cm VALUES (0, 1.5), (1, 3.0), (1, 0.5)")
        conn.execute("CREATE TEMP MACRO total(x) AS sum(x)")
        rows = conn.execute("SELECT g, SUM(total(price)) OVER (ORDER BY g ROWS UNBOUNDED PRECEDING) AS c FROM cm "
                            "GROUP BY g ORDER BY g").fetchall()
        assert [(g, str(c)) for g, c in rows] == [(0, "1.5"), (1, "5.0")]
        conn.rollback()


def test_a_struct_columns_own_field_named_like_a_renaming_keeps_its_name(server: Server) -> None:
    """A STRUCT column whose fields are id and id_1, expanded through a subquery (SELECT * FROM (SELECT x.* FROM t)
    s), came back as id, id: the catalogue's names the server asked were its columns', not their fields'."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE sf AS SELECT {'id': 1, 'id_1': 2} AS x, {'a b': 3, 'a b_2': 4} AS y")
        _names_are(conn, (("SELECT * FROM (SELECT x.* FROM sf) s", ["id", "id_1"]),
                          ("WITH c AS (SELECT y.* FROM sf) SELECT * FROM c", ["a b", "a b_2"])))
        conn.rollback()


def _names_are(conn: psycopg.Connection, cases: tuple[tuple[str, list[str]], ...]) -> None:
    """Each query's result columns, run as it is and prepared (a Describe), are the names given."""
    for prepare in (False, True):
        for sql, names in cases:
            cur = conn.execute(sql, prepare=prepare)
            assert cur.description is not None
            assert [d.name for d in cur.description] == names, (sql, prepare)
