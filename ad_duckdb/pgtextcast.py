"""A cast to text of a double, a real or an interval as PostgreSQL's text of it (pgfloattext), inside SQL.

``x::text`` / ``x::varchar`` / ``CAST(x AS text)`` of a query becomes TEXT_MACRO's call, which DuckDB's binder
resolves by x's type (typeof is its constant): a DOUBLE's text through FLOAT8_TEXT (``2.0::float8::text`` is '2',
``1e15`` '1e+15'), a FLOAT's through FLOAT4_TEXT, an INTERVAL's through INTERVAL_TEXT (``age(...)::text`` '1 mon'),
any other type DuckDB's own cast. Those are Python functions of the server, reading DuckDB's text of the value
(whose shortest digits read back the same), so the branches bind for every type. Not rewritten: a cast of a
parameter (its type would come from the macro, not the cast), an operand this cannot delimit, a query of the
catalogue (catalogue_query: its casts are of names), and what the file stores (pgstored: a view must not name the
server's functions).
"""

from __future__ import annotations

import re

import duckdb

from .pgfloattext import duckdb_float4_text, duckdb_float8_text, duckdb_interval_text
from .pgsql import _cast_chain_start, _matching_open
from .pgstored import stored_definition
from .sqltext import words_if
from .textedits import Edits

TEXT_MACRO = "pg_text"
FLOAT8_TEXT = "pg_float8_text"
FLOAT4_TEXT = "pg_float4_text"
INTERVAL_TEXT = "pg_interval_text"
TEXT_SQL = (
    f"CREATE OR REPLACE TEMP MACRO {TEXT_MACRO}(pg_text_arg) AS CASE typeof(pg_text_arg) "
    f"WHEN 'DOUBLE' THEN {FLOAT8_TEXT}(pg_text_arg::VARCHAR) WHEN 'FLOAT' THEN {FLOAT4_TEXT}(pg_text_arg::VARCHAR) "
    f"WHEN 'INTERVAL' THEN {INTERVAL_TEXT}(pg_text_arg::VARCHAR) ELSE pg_text_arg::VARCHAR END",
)
_TEXT_TYPES = ("text", "varchar")
_CATALOGUE = re.compile(r"\b(?:pg_catalog|information_schema|pg_class|pg_attribute|pg_type|pg_namespace|pg_proc|"
                        r"pg_index|pg_constraint|pg_description|pg_database|pg_settings|pg_roles|pg_am|pg_attrdef|"
                        r"pg_inherits|pg_trigger|pg_collation|pg_extension|pg_tables|pg_views|"
                        r"(?:to_)?reg(?:class|type|proc|procedure|namespace|role|oper|operator|config|dictionary|collation))\b",
                        re.I)
# the words before a parenthesis that make it an expression's own, not a call's or a clause's
_BEFORE_PARENTHESIS = frozenset(("select", "and", "or", "not", "when", "then", "else", "where", "on", "by", "having",
                                 "distinct", "is", "like", "ilike", "between", "return"))


def catalogue_query(sql: str) -> bool:
    """Whether the client's statement reads the catalogue, whose many casts to text are of names: the macro's CASE
    in each made psql's \\d t take 3 to 6 s instead of 1. A reg* cast counts: the macro's five copies of its
    catalogue lookup made ``'t'::regclass::oid::regclass::text`` take about a minute."""
    return _CATALOGUE.search(sql) is not None


def register(con: duckdb.DuckDBPyConnection) -> None:
    """The Python functions TEXT_MACRO calls, on the server's connection."""
    con.create_function(FLOAT8_TEXT, duckdb_float8_text, ["VARCHAR"], "VARCHAR")
    con.create_function(FLOAT4_TEXT, duckdb_float4_text, ["VARCHAR"], "VARCHAR")
    con.create_function(INTERVAL_TEXT, duckdb_interval_text, ["VARCHAR"], "VARCHAR")


def text_casts(sql: str, catalogue: bool = False) -> str:
    """``sql`` with each cast to text of an operand it can delimit as TEXT_MACRO's call (module doc); a query of the
    catalogue (``catalogue``: catalogue_query of the client's text) as it is."""
    toks = None if catalogue else words_if(sql, *_TEXT_TYPES)
    if toks is None or stored_definition(toks):
        return sql
    spans: list[tuple[int, int, int, int]] = []  # each cast's span, and its operand's
    for r in range(1, len(toks)):
        if toks[r][2] not in ("identifier", "keyword") or toks[r][1].lower() not in _TEXT_TYPES \
                or r + 1 < len(toks) and toks[r + 1][1] in ("[", "(", "."):
            continue
        t = r - 2 if r >= 2 and toks[r - 1][1] == "." and toks[r - 2][1].lower() == "pg_catalog" else r
        if t >= 2 and toks[t - 1][1] == "::":
            a = _cast_chain_start(toks, t - 2)
            if a is None or not _delimited(toks, a, t - 1) or a == t - 2 and toks[a][2] == "string_const":
                continue  # (a literal's text is DuckDB's own)
            spans.append((toks[a][0], toks[r][0] + len(toks[r][1]), toks[a][0], toks[t - 1][0]))
        elif t >= 2 and toks[t - 1][1].lower() == "as" and r + 1 < len(toks) and toks[r + 1][1] == ")":
            o = _matching_open(toks, r + 1)
            if o is None or o < 1 or toks[o - 1][1].lower() != "cast" or not _delimited(toks, o + 1, t - 1):
                continue
            spans.append((toks[o - 1][0], toks[r + 1][0] + 1, toks[o][0] + 1, toks[t - 1][0]))
    edits = Edits(sql)
    for start, end, a, b in sorted(spans, key=lambda s: (-s[0], s[1])):  # a cast inside another's operand first
        edits.replace(start, end, f"{TEXT_MACRO}({edits.text(a, b).strip()})")
    return edits.sql


def _delimited(toks: list[tuple[int, str, str]], a: int, stop: int) -> bool:
    """Whether tokens ``a`` to ``stop`` (exclusive) are an operand to wrap: no parameter, and a parenthesis that
    starts it is no call's nor clause's (``extract(...)``, whose keyword _cast_chain_start leaves out)."""
    if any(w in ("$", "?") for _, w, _ in toks[a:stop]):
        return False
    if toks[a][1] == "(" and a > 0 and toks[a - 1][2] in ("identifier", "keyword"):
        return toks[a - 1][1].lower() in _BEFORE_PARENTHESIS
    return True
