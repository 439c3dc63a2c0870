"""`ad-duckdb serve` as BI tools and drivers see it: sum()'s bigint type over users' scalar macros and in PIVOTs.
The servers come from tests/test_server.py.
"""

from __future__ import annotations

import os
import subprocess

import psycopg
from test_serve6_server import _typed

from test_server import Server


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


def test_a_subquerys_sum_of_only_outer_columns_is_bigint_as_in_postgresql(server: Server) -> None:
    """SELECT g, (SELECT sum(t.x)) FROM t GROUP BY g (a subquery's aggregate of the outer query's columns only, which
    PostgreSQL and DuckDB make the outer query's aggregate) was numeric where PostgreSQL gives bigint: the server left
    such a sum as DuckDB's, whose typed macro would bind t.x in the subquery. Where every column the sum names is
    surely the outer query's (a subquery with no FROM, or a FROM whose items' columns DuckDB knows and lacks them),
    the server picks the type from the outer query's max of the same argument now; a sum of a bigint or decimal stays
    numeric and exact; a sum whose columns may be the subquery's own (a table function's) keeps DuckDB's."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE oc (g INTEGER, x INTEGER, big BIGINT, price DECIMAL(12, 1))")
        conn.execute("INSERT INTO oc VALUES (0, 1, 1, 1.5), (0, 2, 2, 3.0), (1, 4, 4, 0.5)")
        for sql, want in (
                ("SELECT g, (SELECT sum(oc.x)) FROM oc GROUP BY g ORDER BY g", [(0, 3), (1, 4)]),
                ("SELECT (SELECT sum(x)) AS s FROM oc", [(7,)]),
                ("SELECT o.g, (SELECT sum(o.x * 2) FROM (SELECT 1 AS one) AS z) FROM oc AS o GROUP BY o.g ORDER BY 1",
                 [(0, 6), (1, 8)]),
                ("SELECT g, (SELECT (SELECT sum(x))) FROM oc GROUP BY g ORDER BY g", [(0, 3), (1, 4)])):
            names, rows = _typed(conn, sql)
            assert rows == want, sql
            assert names[-1][1] == 20, (sql, names)  # bigint
        for sql, want, oid in (
                ("SELECT g, (SELECT sum(oc.price)) FROM oc GROUP BY g ORDER BY g", ["4.5", "0.5"], 1700),
                ("SELECT g, (SELECT sum(big)) FROM oc GROUP BY g ORDER BY g", ["3", "4"], 1700),
                # x may be the table function's column (it is not): DuckDB's sum, right
                ("SELECT g, (SELECT sum(x) FROM range(1) AS r(i)) FROM oc GROUP BY g ORDER BY g", ["3", "4"], None)):
            names, rows = _typed(conn, sql)
            assert [str(r[-1]) for r in rows] == want, sql
            assert oid is None or names[-1][1] == oid, (sql, names)
        conn.rollback()


def test_set_config_in_an_expression_or_per_row_runs_as_postgresqls_or_says_why_not(server: Server) -> None:
    """SELECT CASE WHEN ... THEN set_config('app.t', 'q', false) END failed with a parser error about "AS" (the
    server took END for the call's alias and wrote 'q' AS "end"), and set_config(name, column, ...) per row of a FROM
    said 'Scalar Function with name set_config does not exist! Did you mean "set_bit"?'. The server runs a set_config
    once, as the SET it stands for, before the query: a call that PostgreSQL may not run (in a CASE) or runs per row
    is refused now with 0A000 saying so and what to send; a call inside another expression (IS NOT NULL, upper())
    still runs, with its value in place."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for sql in ("SELECT CASE WHEN false THEN set_config('app.t', 'q', false) END",
                    "SELECT CASE WHEN true THEN set_config('app.t', 'q', false) ELSE 'no' END AS v",
                    "SELECT set_config('app.t', x, false) FROM (VALUES ('a')) AS v(x)"):
            try:
                conn.execute(sql)
            except psycopg.errors.FeatureNotSupported as e:
                assert "set_config" in str(e) and "SET app.tenant" in str(e), (sql, str(e))
            else:
                raise AssertionError(f"no error: {sql}")
        assert conn.execute("SELECT current_setting('app.t', true)").fetchall() in ([(None,)], [("",)])
        assert conn.execute("SELECT set_config('app.t', 'q', false) IS NOT NULL AS ok, current_setting('app.t')"
                            ).fetchall() == [(True, "q")]
        assert conn.execute("SELECT upper(set_config('app.u', 'v', false)) AS up, current_setting('app.u')"
                            ).fetchall() == [("V", "v")]


def test_json_path_operators_as_metabase_sends_them(server: Server) -> None:
    """data #>> '{a,b}' and data #> '{a}' (PostgreSQL's JSON path operators) failed with 'syntax error at or near
    "#"': DuckDB has no such operator. Metabase sends them for every field it unfolds from a json column
    (("t"."data"#>> ?::text[])::bigint, with the path as a parameter), so a table with a JSON column failed its
    table view. They are DuckDB's json_extract_string / json_extract of the path as a JSON pointer now: text and json
    as in PostgreSQL, NULL for a missing key or a JSON null, an array's element by its index."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE jt (id INTEGER, data JSON)")
        conn.execute("""INSERT INTO jt VALUES (1, '{"age": 25, "name": "Alice", "n": {"inner": 42, "z": null},
                     "items": [{"k": 1}, {"k": 2}], "a/b": 5, "price": 42.5}')""")
        names, rows = _typed(conn, "SELECT data #>> '{age}' AS age, data#>>'{n,inner}' AS n, "
                                   "(data #>> '{price}')::decimal AS p, data #>> '{nope}' AS z, "
                                   "data #>> '{n,z}' AS nul, data #>> '{items,1,k}' AS k, data #>> '{a/b}' AS ab, "
                                   "data #> '{n}' #>> '{inner}' AS chained, data #> '{name}' AS js FROM jt")
        assert rows == [("25", "42", 42.5, None, None, "2", "5", "42", "Alice")]  # (psycopg loads json)
        assert [t for _, t in names] == [25, 25, 1700, 25, 25, 25, 25, 25, 114]
        # unnamed, PostgreSQL's names: an operator's ?column?, a cast's type
        names, _ = _typed(conn, "SELECT data #>> '{age}', (data #>> '{age}')::bigint FROM jt")
        assert [n for n, _ in names] == ["?column?", "int8"]
        # Metabase: the path as a text[] parameter, in array[...] or whole; a qualified column, a cast after
        for sql, params in (('SELECT ("jt"."data"#>> %s::text[])::bigint AS v FROM "jt"', [["n", "inner"]]),
                            ("SELECT (jt.data #>> array[%s, %s]::text[])::bigint AS v FROM jt", ["n", "inner"]),
                            ("SELECT (jt.data #>> ARRAY['n', 'inner'])::bigint AS v FROM jt WHERE "
                             "jt.data #>> '{name}' = %s", ["Alice"])):
            assert conn.execute(sql, params).fetchall() == [(42,)], sql
        conn.rollback()


def test_a_list_of_strings_cast_to_text_array_is_read_as_that_array(server: Server) -> None:
    """WHERE cat = ANY(%s::text[]) with a list of strings failed ("Type VARCHAR with value '{a,b}' can't be cast to
    the destination type VARCHAR[]"): psycopg sends such a list untyped, in PostgreSQL's array text, which PostgreSQL
    reads by the cast and DuckDB could not. A parameter the query casts to an array takes that type now, as in
    PostgreSQL, and its text is read as the array (quoted elements, NULL, commas inside quotes)."""
    with psycopg.connect(server.url()) as conn:
        assert conn.execute("SELECT %s::text[] AS a", [["a", "b c", None, "d,e", 'q"']]).fetchall() == [
            (["a", "b c", None, "d,e", 'q"'],)]
        assert conn.execute("SELECT x FROM (VALUES ('a'), ('b'), ('c')) AS v(x) WHERE x = ANY(CAST(%s AS text[])) "
                            "ORDER BY x", [["a", "c"]]).fetchall() == [("a",), ("c",)]
        assert conn.execute("SELECT cardinality(%s::varchar[]), %s::int[]", [["x"], [1, 2]]).fetchall() == [
            (1, [1, 2])]
        conn.rollback()


def test_a_posix_zone_with_daylight_rules_is_refused_naming_zones_of_the_same_rules(server: Server) -> None:
    """SET TIME ZONE 'CET-1CEST,M3.5.0,M10.5.0/3' (a POSIX zone with daylight-saving rules, as a TZ variable of an
    embedded or container system holds) was refused with 'a zone name DuckDB knows ... say Europe/Paris', which
    does not tell what the value is nor which zone keeps those rules: DuckDB's ICU reads no POSIX rules. The refusal
    says so now and names zones of the same offsets and abbreviations (CET, Europe/...); the tzdata names of that
    form ('EST5EDT') are zones DuckDB knows and keep working, with their daylight-saving time."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for value, named in (("CET-1CEST,M3.5.0,M10.5.0/3", ["'CET'", "'Europe/"]),
                             ("EST5EDT,M3.2.0,M11.1.0", ["'EST5EDT'", "'America/"]),
                             ("<+10>-10<+11>,M10.1.0,M4.1.0/3", ["'Australia/"])):
            try:
                conn.execute(f"SET TIME ZONE '{value}'")
            except psycopg.errors.InvalidParameterValue as e:
                assert "daylight-saving rules" in str(e) and all(n in str(e) for n in named), (value, str(e))
            else:
                raise AssertionError(f"no error: {value}")
        # given at connect (libpq's PGTZ, from a POSIX TZ): the server's zone, and a warning naming the zones
        r = subprocess.run(["psql", server.url(), "-X", "-A", "-t", "-c", "SHOW TimeZone"], capture_output=True,
                           text=True, timeout=60, env={**os.environ, "PGTZ": "CET-1CEST,M3.5.0,M10.5.0/3"})
        assert r.returncode == 0 and "daylight-saving rules" in r.stderr and "'Europe/Paris'" in r.stderr, r.stderr
        conn.execute("SET TIME ZONE 'EST5EDT'")
        assert conn.execute("SELECT (TIMESTAMPTZ '2024-07-01 12:00:00+00')::text, "
                            "(TIMESTAMPTZ '2024-01-01 12:00:00+00')::text").fetchall() == [
            ("2024-07-01 08:00:00-04", "2024-01-01 07:00:00-05")]


def test_postgresqls_json_inspection_functions(server: Server) -> None:
    """json_typeof / jsonb_typeof, jsonb_array_length and json_object_keys / jsonb_object_keys, what a PostgreSQL
    user's SQL over a json column calls, failed with 'Scalar Function with name ... does not exist!'. They answer as
    PostgreSQL's: the type's name in lower case ('number' for any number, 'string'), the keys one row each."""
    with psycopg.connect(server.url()) as conn:
        rows = conn.execute("""SELECT json_typeof('{"a": 1}'), jsonb_typeof('[1]'::json), json_typeof('1.5'),
                               json_typeof('-3'), json_typeof('"s"'), json_typeof('true'), json_typeof('null'),
                               jsonb_array_length('[1, 2, 3]')""").fetchall()
        assert rows == [("object", "array", "number", "number", "string", "boolean", "null", 3)]
        assert conn.execute("""SELECT json_object_keys('{"a": 1, "b": {"c": 2}}') AS k ORDER BY k""").fetchall() == [
            ("a",), ("b",)]
        assert conn.execute("SELECT jsonb_object_keys('{\"z\": 0}')").fetchall() == [("z",)]
        conn.rollback()


def test_a_pivots_sum_on_columns_with_an_in_list_is_bigint_too(server: Server) -> None:
    """PIVOT t ON cat IN ('a', 'b') USING sum(qty), DuckDB's way to choose the pivoted values, kept numeric columns
    (Decimals in psycopg) where the same PIVOT without its IN list gave bigint: the IN list's parenthesis was read as
    the end of the PIVOT before its USING was reached. Its sum of integers is bigint now, as PostgreSQL's, its
    values and names as before; in a subquery as at the top."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE pvin (g INTEGER, cat VARCHAR, qty INTEGER)")
        conn.execute("INSERT INTO pvin VALUES (0, 'a', 1), (0, 'b', 2), (1, 'a', 4), (1, 'c', 5)")
        for sql, want_names, want in (
                ("PIVOT pvin ON cat IN ('a', 'b') USING sum(qty) GROUP BY g ORDER BY g", ["g", "a", "b"],
                 [(0, 1, 2), (1, 4, None)]),
                ("SELECT * FROM (PIVOT pvin ON cat IN ('a') USING sum(qty) AS s GROUP BY g) ORDER BY g",
                 ["g", "a_s"], [(0, 1), (1, 4)])):
            names, rows = _typed(conn, sql)
            assert (rows, [n for n, _ in names]) == (want, want_names), sql
            assert [t for _, t in names[1:]] == [20] * (len(names) - 1), (sql, names)  # bigint
        conn.rollback()
