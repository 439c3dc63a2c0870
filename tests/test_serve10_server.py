"""`ad-duckdb serve` answering as PostgreSQL answers: jsonb ``||``, NULLs' place in ORDER BY, round() of a float8,
jsonb_build_object's repeated keys, and PostgreSQL's functions and operators BI tools send that DuckDB lacks. Each
expected value is PostgreSQL's own answer to the same query (PostgreSQL 16 documentation, "JSON Functions and
Operators", "Mathematical Functions", "Sorting Rows"). The servers come from tests/test_server.py.
"""

from __future__ import annotations

from typing import Any

import psycopg

from test_server import Server


def _one(conn: psycopg.Connection, sql: str, params: Any = None) -> tuple[Any, ...]:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return tuple(row)


def test_jsonb_concatenation_merges_objects_and_appends_to_arrays(server: Server) -> None:
    """jsonb || jsonb concatenated the two values' text ('{"a":1}{"b":2}', which is no JSON); PostgreSQL merges two
    objects (the right one's value wins a shared key), joins two arrays, and appends (or prepends) any other value to
    an array, a pair of non-arrays becoming a two-element array. A text operand stays text concatenation."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE jdoc (id INTEGER, doc JSON, label VARCHAR)")
        conn.execute("""INSERT INTO jdoc VALUES (1, '{"a": 1, "b": {"x": 1}}', 'l')""")
        row = _one(conn, """SELECT '{"a": 1}'::jsonb || '{"b": 2}'::jsonb, '{"a": 1, "b": 2}'::jsonb || '{"b": 3}',
                                   '[1, 2]'::jsonb || '[3]'::jsonb, '[1, 2]'::jsonb || '3'::jsonb,
                                   '1'::jsonb || '[2]'::jsonb, '{"a": 1}'::jsonb || '"x"'::jsonb,
                                   '{"a": 1}'::jsonb || '{"b": null}'::jsonb || '{"c": [1]}'::jsonb""")
        assert row == ({"a": 1, "b": 2}, {"a": 1, "b": 3}, [1, 2, 3], [1, 2, 3], [1, 2], [{"a": 1}, "x"],
                       {"a": 1, "b": None, "c": [1]})
        # a jsonb column with a builder's object, a literal, a parameter: the top level only (b's object is replaced)
        cur = conn.execute("""SELECT doc || jsonb_build_object('b', 2), d.doc || '{"c": 3}', doc || %s, label || 'x'
                              FROM jdoc d""", ('{"a": 9}',))
        assert cur.description is not None
        assert [c.name for c in cur.description] == ["?column?"] * 4
        # jsonb, as PostgreSQL's jsonb || jsonb (serve16a: it was json, DuckDB's one JSON type)
        assert [c.type_code for c in cur.description][:3] == [3802, 3802, 3802]
        assert cur.fetchall() == [({"a": 1, "b": 2}, {"a": 1, "b": {"x": 1}, "c": 3}, {"a": 9, "b": {"x": 1}}, "lx")]
        # NULL of either side is NULL; text || text, a list's || and a number's text stay DuckDB's
        assert _one(conn, "SELECT '{}'::jsonb || NULL::jsonb, 'a' || 'b', [1] || [2], id || '-' || label FROM jdoc"
                    ) == (None, "ab", [1, 2], "1-l")
        conn.rollback()


def test_nulls_sort_first_descending_and_last_ascending(server: Server) -> None:
    """DuckDB sorts NULLs last both ways; PostgreSQL sorts them as larger than any value: last ascending, first
    descending (a dashboard's "top 10 by score DESC" shows the unscored rows first, as PostgreSQL's). An explicit
    NULLS FIRST / NULLS LAST still decides, and a window's and an aggregate's ORDER BY sort the same way."""
    with psycopg.connect(server.url()) as conn:
        rows = "(VALUES (1, 2.0), (2, NULL), (3, 7.0)) v(id, s)"
        assert [r[0] for r in conn.execute(f"SELECT id FROM {rows} ORDER BY s DESC")] == [2, 3, 1]
        assert [r[0] for r in conn.execute(f"SELECT id FROM {rows} ORDER BY s")] == [1, 3, 2]
        assert [r[0] for r in conn.execute(f"SELECT id FROM {rows} ORDER BY s DESC NULLS LAST")] == [3, 1, 2]
        assert [r[0] for r in conn.execute(f"SELECT id FROM {rows} ORDER BY s ASC NULLS FIRST")] == [2, 1, 3]
        assert _one(conn, f"SELECT string_agg(id::text, ',' ORDER BY s DESC) FROM {rows}") == ("2,3,1",)
        assert conn.execute(f"SELECT id, row_number() OVER (ORDER BY s DESC) FROM {rows} ORDER BY id").fetchall() == [
            (1, 3), (2, 1), (3, 2)]


def test_round_of_a_float8_is_half_to_even_and_of_a_numeric_half_away(server: Server) -> None:
    """round(2.5::float8) gave 3: PostgreSQL rounds a double precision to the nearest even integer on a tie (2), and a
    numeric away from zero (3). A round to some decimals, of a numeric or an integer, keeps DuckDB's (which are
    PostgreSQL's)."""
    with psycopg.connect(server.url()) as conn:
        cur = conn.execute("SELECT round(2.5::float8), round(3.5::float8), round(-2.5::double precision), "
                           "round(2.5::numeric), round(-2.5::numeric), round(2.45::numeric, 1), round(7), "
                           "round(0.5::real), round(x) FROM (VALUES (4.5::float8)) v(x)")
        assert cur.description is not None
        assert [c.name for c in cur.description] == ["round"] * 9
        assert [float(v) for v in cur.fetchone() or ()] == [2.0, 4.0, -2.0, 3.0, -3.0, 2.5, 7.0, 0.0, 4.0]


def test_jsonb_build_object_keeps_the_last_of_repeated_keys(server: Server) -> None:
    """jsonb_build_object('a', 1, 'a', 2) is {"a": 2} in PostgreSQL (a jsonb object has each key once, the last value
    kept), and so is jsonb_object_agg's; json_build_object and json_object_agg keep every pair, as their text."""
    with psycopg.connect(server.url()) as conn:
        row = _one(conn, "SELECT jsonb_build_object('a', 1, 'b', 0, 'a', 2)::text, json_build_object('a', 1, 'a', 2)::text,"
                         " (SELECT jsonb_object_agg(k, v)::text FROM (VALUES ('a', 1), ('a', 2)) t(k, v)),"
                         " (SELECT json_object_agg(k, v)::text FROM (VALUES ('a', 1), ('a', 2)) t(k, v))")
        assert [v.replace(" ", "") for v in row] == ['{"a":2,"b":0}', '{"a":1,"a":2}', '{"a":2}', '{"a":1,"a":2}']


def test_regex_substring_group_escape_strings_and_sql_regex(server: Server) -> None:
    """substring(text FROM pattern) of a group that took no part in the match gave '' where PostgreSQL gives NULL (a
    group that matched the empty string stays ''); an E'...' pattern (E'\\\\d+', psql users' escapes) and the SQL
    regular expression form substring(text FROM pattern FOR escape) failed with DuckDB's "Could not convert string
    ... to INT64". PostgreSQL's docs: substring('foobar' from '%#"o_b#"%' for '#') is oob, and NULL when the pattern
    does not match the whole text."""
    with psycopg.connect(server.url()) as conn:
        assert _one(conn, "SELECT substring('ab' from '(x)?b'), substring('ab' from '(x*)b'), "
                          "substring('ab' from '(a)|(b)'), substring('zz' from '(x)?b')") == (None, "", "a", None)
        assert _one(conn, r"SELECT substring('abc123' from E'\\d+'), substring('a''b' from E'\'(.)')") == ("123", "b")
        assert _one(conn, "SELECT substring('foobar' from '%#\"o_b#\"%' for '#'), "
                          "substring('foobar' from '#\"o_b#\"%' for '#'), substring('a.c' from 'a.c' for '#'), "
                          "substring('abc' from 'a.c' for '#'), substring('hello' from 3 for 2)") == (
            "oob", None, "a.c", None, "ll")


def test_postgresql_functions_and_operators_bi_tools_send(server: Server) -> None:
    """every(), octet_length(text), BETWEEN SYMMETRIC, jsonb's ? / @> / <@, json_array_elements (a row per element,
    in a select list and in FROM, LATERAL too), json_object_agg(DISTINCT ...) and a # of a window call failed with
    DuckDB's errors (no such function, a syntax error). Each answers as PostgreSQL's documentation says."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("CREATE TEMP TABLE fb (id INTEGER, ok BOOLEAN, doc JSON)")
        conn.execute("""INSERT INTO fb VALUES (1, true, '{"a": 1, "b": [1, 2], "tags": ["x", "y"]}'),
                        (2, false, '{"a": 2, "c": {"d": 1}}'), (3, true, '[1, 2]')""")
        cur = conn.execute("SELECT every(ok), every(ok) FILTER (WHERE id <> 2), octet_length('é'), octet_length('abc'),"
                           " octet_length('abc'::bytea) FROM fb")
        assert cur.description is not None and [c.name for c in cur.description][:3] == ["every", "every", "octet_length"]
        assert cur.fetchall() == [(False, True, 2, 3, 3)]
        assert _one(conn, "SELECT every(ok) FROM fb WHERE false") == (None,)
        assert _one(conn, "SELECT 5 BETWEEN SYMMETRIC 10 AND 1, 5 NOT BETWEEN SYMMETRIC 10 AND 1, "
                          "2 BETWEEN SYMMETRIC 1 AND 3, 0 BETWEEN SYMMETRIC 1 + 1 AND 3 * 2") == (True, False, True, False)
        # the jsonb operators' examples in PostgreSQL's documentation
        assert _one(conn, """SELECT '{"a":1, "b":2}'::jsonb @> '{"b":2}'::jsonb, '{"b":2}'::jsonb <@ '{"a":1, "b":2}'::jsonb,
                                    '[1, 2, 3]'::jsonb @> '[1, 3]'::jsonb, '[1, 2, [1, 3]]'::jsonb @> '[[1, 3]]'::jsonb,
                                    '{"foo": {"bar": "baz"}}'::jsonb @> '{"bar": "baz"}'::jsonb,
                                    '["foo", "bar"]'::jsonb @> '"foo"'::jsonb, '{"a":1}'::jsonb @> '{"a":1, "c":3}',
                                    '{"a":1, "b":2}'::jsonb ? 'b', '["a", "b", "c"]'::jsonb ? 'b',
                                    '{"a": {"b": 1}}'::jsonb ? 'b'""") == (
            True, True, True, True, False, True, False, True, True, False)
        assert [r[0] for r in conn.execute("""SELECT id FROM fb WHERE doc @> '{"a": 1}' OR doc ? 'c' ORDER BY id""")] == [1, 2]
        assert [1, 2] == [r[0] for r in conn.execute("SELECT id FROM fb WHERE fb.doc -> 'b' @> '[2]' OR doc ? 'c' ORDER BY id")]
        # a row per element: in the select list (json), its _text form, and in FROM, LATERAL of a column
        cur = conn.execute("""SELECT json_array_elements('[1, {"a": 2}]'), jsonb_array_elements_text('["x", 1]')""")
        assert cur.description is not None
        assert [c.name for c in cur.description] == ["json_array_elements", "jsonb_array_elements_text"]
        assert [c.type_code for c in cur.description] == [114, 25]
        assert cur.fetchall() == [(1, "x"), ({"a": 2}, "1")]
        assert conn.execute("SELECT * FROM jsonb_array_elements('[1, 2]')").fetchall() == [(1,), (2,)]
        assert conn.execute("SELECT id, e.value FROM fb CROSS JOIN LATERAL jsonb_array_elements_text(fb.doc -> 'tags') "
                            "AS e ORDER BY id, 2").fetchall() == [(1, "x"), (1, "y")]
        assert _one(conn, "SELECT json_object_agg(DISTINCT k, v)::text FROM (VALUES ('a', 1), ('a', 1), ('b', 2)) t(k, v)"
                    )[0].replace(" ", "") in ('{"a":1,"b":2}', '{"b":2,"a":1}')
        assert conn.execute("SELECT id, row_number() OVER (ORDER BY id) # 1, 6 # sum(id) OVER () FROM fb ORDER BY id"
                            ).fetchall() == [(1, 0, 0), (2, 3, 0), (3, 2, 0)]
        conn.rollback()


def test_explain_is_one_text_column_named_query_plan(server: Server) -> None:
    """EXPLAIN answered DuckDB's two columns (explain_key, explain_value: the whole plan in one value); PostgreSQL's
    clients (psql, pgAdmin's and DBeaver's plan views, SQLAlchemy users) read one text column named QUERY PLAN, a row
    per line of the plan. EXPLAIN ANALYZE too, by the simple and the extended protocol (Describe says the same)."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for sql in ("EXPLAIN SELECT count, sum(amount) FROM transactions GROUP BY count",
                    "EXPLAIN ANALYZE SELECT count, sum(amount) FROM transactions GROUP BY count"):
            for prepare in (False, True):
                cur = conn.execute(sql, prepare=prepare)
                assert cur.description is not None
                assert [(c.name, c.type_code) for c in cur.description] == [("QUERY PLAN", 25)]
                assert cur.statusmessage == "EXPLAIN"
                lines = [r[0] for r in cur.fetchall()]
                assert len(lines) > 3 and all("\n" not in line for line in lines)
                assert "transactions" in "\n".join(lines).lower()
