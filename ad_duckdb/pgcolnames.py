"""PostgreSQL's names for a query's unnamed result columns, and its set-returning ``generate_series`` in a select list.

DuckDB names a column left unnamed by its expression (``count_star()``, ``1``, ``CAST(x AS INTEGER)``), PostgreSQL
by its rule (FigureColname: ``count``, ``?column?``, ``x``); BI tools key charts on the names, and Superset and
Metabase wrap a saved query as a subquery and select its columns by the names its result had. So each unnamed item
of every select list (subqueries too) gets ``AS "name"``, PostgreSQL's name, in the SQL DuckDB runs: the result, a
Describe, a subquery's columns and a CREATE TABLE AS all agree. An item already named, a column and a ``*`` stay.

The select lists are found by DuckDB's tokenizer; what each item is comes from DuckDB's parser
(``json_serialize_sql`` of the list alone, on a private in-memory database), which must agree with the split (as
many items, nothing but a select list) or the list is left as written.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import duckdb

from .pgarrayconcat import APPEND, PREPEND
from .pgjsonb import CONCAT, CONTAINS, EXISTS, EXISTS_ALL, EXISTS_ANY
from .pgjsonkeys import ALL_KEYS, ANY_KEY, KEY_EXISTS
from .pgjsonpath import JSON_PATH, JSON_PATH_TEXT
from .pgroots import CBRT, SQRT
from .pgxor import XOR
from .sqltext import quote_ident, quote_literal, sql_words

# What ends a select list at its own depth of parentheses (FROM after IS [NOT] DISTINCT, GROUP after WITHIN do not).
_ENDS = frozenset(("from", "where", "group", "having", "window", "qualify", "order", "limit", "offset", "union",
                   "intersect", "except", "into", "fetch", "for", "returning", "on", "using"))
# PostgreSQL's grammar names of the types written in a cast, which its column name is when the operand has none.
_TYPE_NAMES = {
    "int": "int4", "integer": "int4", "int4": "int4", "bigint": "int8", "int8": "int8", "smallint": "int2",
    "int2": "int2", "real": "float4", "float4": "float4", "float": "float8", "double precision": "float8",
    "double": "float8", "float8": "float8", "decimal": "numeric", "dec": "numeric", "numeric": "numeric",
    "boolean": "bool", "bool": "bool", "varchar": "varchar", "character varying": "varchar",
    "char varying": "varchar", "char": "bpchar", "character": "bpchar", "bpchar": "bpchar", "text": "text",
    "string": "text", "timestamp": "timestamp", "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz", "time": "time",
    "time without time zone": "time", "timetz": "timetz", "time with time zone": "timetz", "blob": "bytea",
}
# DuckDB's parser renames these calls; PostgreSQL names the column by the call as written.
_FUNCTION_NAMES = {"count_star": "count", "quantile_cont": "percentile_cont", "quantile_disc": "percentile_disc",
                   "trim": "btrim"}
_NO_LOCATION = 2**64 - 1
_parser: duckdb.DuckDBPyConnection | None = None
_parser_lock = threading.Lock()
_cache: dict[str, list[dict[str, Any]] | None] = {}  # a list's text -> its items (parsed), None if not a plain list
_CACHE_SIZE = 2048
_MISSING = object()


def _parse(texts: list[str]) -> list[list[dict[str, Any]] | None]:
    """Each select list's items as DuckDB's parser reads them (``SELECT`` + the text), None where that is not one
    plain select list. Cached: a dashboard sends the same queries again and again. The answers are kept for this
    call apart from the cache: serve's connection threads share it, and another's emptying it (full) must not take
    away a list this one found there."""
    global _parser
    found: dict[str, list[dict[str, Any]] | None] = {}
    missing = []
    for t in dict.fromkeys(texts):
        hit = _cache.get(t, _MISSING)
        if hit is _MISSING:
            missing.append(t)
        else:
            found[t] = hit  # type: ignore[assignment]
    if missing:
        with _parser_lock:
            if _parser is None:
                _parser = duckdb.connect()
            # one query for all, each text a quoted literal (a prepared statement costs 4 times as much)
            row = _parser.execute("SELECT " + ", ".join(
                f"json_serialize_sql({quote_literal('SELECT ' + t + _windows(t))})" for t in missing)).fetchall()[0]
            for text, answer in zip(missing, row, strict=True):
                found[text] = _plain_list(json.loads(answer))
            if len(_cache) + len(missing) > _CACHE_SIZE:
                _cache.clear()  # bounded: a client sending ever new literals in its select lists
            _cache.update((t, found[t]) for t in missing)
    return [found[t] for t in texts]


def _windows(items: str) -> str:
    """A WINDOW clause defining the windows a select list names (``sum(x) OVER w``), each empty, for the list to
    parse alone: DuckDB's parser refused it ('window "w" does not exist'), and the list kept DuckDB's names, where
    PostgreSQL names the column by its function (``sum``). Appended after the list, the items' locations stay."""
    try:
        toks = sql_words(items)
    except duckdb.Error:
        return ""
    names = dict.fromkeys(toks[k + 1][1] for k in range(len(toks) - 1)
                          if toks[k][1].lower() == "over" and toks[k + 1][1] != "(")
    return " WINDOW " + ", ".join(f"{quote_ident(_fold(n))} AS ()" for n in names) if names else ""


def _plain_list(tree: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The select list of a parsed ``SELECT items``, None unless it is nothing else (a split that went wrong took
    in a FROM, a WHERE, an ORDER BY, ...)."""
    if tree.get("error") or len(tree.get("statements", [])) != 1:
        return None
    node = tree["statements"][0]["node"]
    if node.get("type") != "SELECT_NODE" or node.get("modifiers") or node.get("cte_map", {}).get("map") \
            or node.get("from_table", {}).get("type") != "EMPTY" or node.get("where_clause") is not None \
            or node.get("group_expressions") or node.get("having") is not None or node.get("qualify") is not None:
        return None
    return list(node["select_list"])


def _written(node: dict[str, Any], text: bytes) -> str:
    """The text a node was parsed from (DuckDB's locations count bytes), '' when it has no location."""
    loc, n = node.get("query_location", _NO_LOCATION), node.get("query_location_length", 0)
    return "" if loc == _NO_LOCATION or not n else text[loc:loc + n].decode(errors="replace")


def _fold(name: str) -> str:
    """An identifier as PostgreSQL names a column by it: as written if quoted, else in lower case."""
    name = name.strip()
    return name[1:-1].replace('""', '"') if len(name) >= 2 and name[0] == name[-1] == '"' else name.lower()


def _type_name(type_expr: dict[str, Any], text: bytes) -> str:
    """PostgreSQL's name of the type a cast names (its last part, without modifiers or array brackets)."""
    if type_expr.get("type_name", "").lower() == "list" and type_expr.get("children"):
        return _type_name(type_expr["children"][0], text)  # int[]: the element's name, as PostgreSQL's
    written = _written(type_expr, text) or type_expr.get("type_name", "")
    written = written.split("(")[0].split("[")[0].strip()
    last = written.rsplit(".", 1)[-1].strip()
    if last.startswith('"'):
        return _fold(last)
    return _TYPE_NAMES.get(" ".join(last.lower().split()), " ".join(last.lower().split()))


def _function_name(node: dict[str, Any], text: bytes) -> str:
    """A call's name as written (``extract``, not DuckDB's ``date_part``; ``count`` for ``count(*)``)."""
    name = node.get("function_name", "")
    written = _written(node, text)
    head = written.split("(")[0] if "(" in written else ""
    # (not AT TIME ZONE, PostgreSQL's timezone(): its text starts with the operand; TRIM is btrim, ltrim or rtrim)
    if head and name not in ("trim", "timezone") and written.rstrip().endswith(")") \
            and all(p.strip() for p in head.split(".")):
        return _fold(head.rsplit(".", 1)[-1])
    return _FUNCTION_NAMES.get(name, name.lower())


# the calls the rewrites make of PostgreSQL's operators, named ?column? as PostgreSQL names an operator's column
_OPERATOR_CALLS = frozenset((JSON_PATH_TEXT, JSON_PATH, XOR, CONCAT, CONTAINS, EXISTS, EXISTS_ANY, EXISTS_ALL, SQRT,
                             CBRT, KEY_EXISTS, ANY_KEY, ALL_KEYS, APPEND, PREPEND))

def figure(node: dict[str, Any], text: bytes) -> tuple[str, int]:
    """PostgreSQL's name of an unnamed select-list item (parse_target.c's FigureColnameInternal) and how strongly
    the expression names it (2 a column or a call, 1 a cast's type or a CASE, 0 none: "?column?")."""
    kind, typ = node.get("class"), node.get("type")
    if kind == "COLUMN_REF":
        return _fold(_written(node, text).rsplit(".", 1)[-1] or node["column_names"][-1]), 2
    if kind == "FUNCTION" and node.get("function_name") in _OPERATOR_CALLS:
        return "?column?", 0  # j #>> path, a # b, jsonb || @> ?, array || 1: operators (pgjsonpath, pgxor, pgjsonb, ...)
    if kind in ("FUNCTION", "WINDOW") and not node.get("is_operator"):
        return _function_name(node, text), 2
    if kind == "OPERATOR":
        if typ == "OPERATOR_COALESCE":
            return "coalesce", 2
        if typ == "ARRAY_CONSTRUCTOR":
            return "array", 2
        if typ == "GROUPING_FUNCTION":
            return "grouping", 2
        if typ in ("ARRAY_EXTRACT", "ARRAY_SLICE") and node.get("children"):
            return figure(node["children"][0], text)  # a[1]: the array's name
        if typ == "STRUCT_EXTRACT" and len(node.get("children", [])) > 1:
            field = node["children"][1].get("value", {})
            value = field.get("value") if isinstance(field, dict) else None
            if isinstance(value, str):
                return value, 2
    if kind == "CAST":
        name, strength = figure(node["child"], text)
        return (name, strength) if strength > 1 else (_type_name(node["type_expr"], text), 1)
    if kind == "COLLATE":
        return figure(node["child"], text)
    if kind == "CASE":
        name, strength = figure(node["else_expr"], text) if node.get("else_expr") else ("", 0)
        return (name, strength) if strength > 1 else ("case", 1)
    if kind == "SUBQUERY":
        if node.get("subquery_type") == "EXISTS":
            return "exists", 2
        if node.get("subquery_type") == "SCALAR":
            if _written(node, text).lstrip()[:5].lower() == "array":
                return "array", 2
            inner = node.get("subquery", {}).get("node", {})
            first = (inner.get("select_list") or [None])[0]
            if first is not None:
                return first.get("alias") or figure(first, text)[0], 2
    return "?column?", 0


def _calls_series(node: Any) -> bool:
    """Whether an item calls PostgreSQL's ``generate_series`` outside a subquery (which has a select list of its own);
    ``_call_span`` then finds the call if it is at the item's own depth (not an argument of another call's)."""
    if isinstance(node, list):
        return any(_calls_series(v) for v in node)
    if not isinstance(node, dict) or node.get("class") == "SUBQUERY":
        return False
    if node.get("class") == "FUNCTION" and node.get("function_name") == "generate_series" \
            and node.get("schema", "") in ("", "pg_catalog") and not node.get("is_operator"):
        return True
    return any(_calls_series(v) for v in node.values())


def _expands(node: Any) -> bool:
    """Whether an item holds DuckDB's ``COLUMNS(...)`` (not unpacked, ``*COLUMNS``), so is as many result columns as
    it matches, each named by DuckDB after its column: one name for all would make them alike (max, max, ...)."""
    if isinstance(node, list):
        return any(_expands(v) for v in node)
    if not isinstance(node, dict):
        return False
    if node.get("class") == "STAR" and node.get("columns"):
        return True
    return node.get("type") != "OPERATOR_UNPACK" and any(_expands(v) for v in node.values())


def _select_lists(toks: list[tuple[int, str, str]]) -> list[list[tuple[int, int]]]:
    """For each SELECT of the statement, its items as token spans [start, end)."""
    lists = []
    n = len(toks)
    for i, (_, word, kind) in enumerate(toks):
        if kind != "keyword" or word.lower() != "select":
            continue
        j = i + 1
        if j < n and toks[j][1].lower() in ("all", "distinct"):
            j += 1
            if toks[j - 1][1].lower() == "distinct" and j + 1 < n and toks[j][1].lower() == "on" and toks[j + 1][1] == "(":
                depth, j = 0, j + 1
                while j < n:
                    depth += {"(": 1, ")": -1}.get(toks[j][1], 0)
                    j += 1
                    if depth == 0:
                        break
        items, start, depth, k = [], j, 0, j
        while k < n:
            w, low = toks[k][1], toks[k][1].lower()
            if w in ("(", "[", "{"):
                depth += 1
            elif w in (")", "]", "}"):
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and w in (",", ";"):
                if start < k:
                    items.append((start, k))
                start = k + 1
                if w == ";":
                    break
            elif depth == 0 and toks[k][2] == "keyword" and low in _ENDS \
                    and not (low == "from" and toks[k - 1][1].lower() == "distinct") \
                    and not (low == "group" and toks[k - 1][1].lower() == "within"):
                break
            k += 1
        else:
            k = n
        if start < k and (not items or items[-1][1] != k):
            items.append((start, k))
        lists.append(items)
    return lists


def _grouping(toks: list[tuple[int, str, str]], a: int, b: int, k: int) -> bool:
    """Whether the ``(`` at token ``k`` only groups or casts (no other call's, no subquery's, not subscripted after
    its ``)``),
    so a set-returning call inside it makes rows as at the item's own depth, in PostgreSQL."""
    if k > a and (toks[k - 1][2] in ("identifier", "keyword") and toks[k - 1][1].lower() != "cast"
                  or toks[k - 1][1] in (")", "]")) \
            or k + 1 < b and toks[k + 1][1].lower() in ("select", "with", "values", "from"):
        return False
    level = 0
    for j in range(k, b):
        level += {"(": 1, ")": -1}.get(toks[j][1], 0)
        if level == 0:
            return not (j + 1 < b and toks[j + 1][1] == "[")  # (generate_series(1, 3))[2]: DuckDB's list
    return False


def _call_span(toks: list[tuple[int, str, str]], a: int, b: int) -> tuple[int, int] | None:
    """The tokens of the item's ``[pg_catalog.]generate_series(...)`` at its own depth, or in brackets that only group
    ((generate_series(1, 3)) + 1, CAST(generate_series(1, 3) AS text)): its first and its ``)``. (As a call's argument it stays DuckDB's list:
    list_sum(generate_series(1, 3)) is DuckDB's idiom, and PostgreSQL refuses most calls of a set.)"""
    grouped = [True]  # for each bracket open at token k, whether it and those around it only group
    for k in range(a, b - 1):
        w = toks[k][1]
        if w in ("(", "["):
            grouped.append(grouped[-1] and w == "(" and _grouping(toks, a, b, k))
        elif w in (")", "]") and len(grouped) > 1:
            grouped.pop()
        if grouped[-1] and w.lower() == "generate_series" and toks[k + 1][1] == "(":
            first = k - 2 if k - 2 >= a and toks[k - 1][1] == "." else k
            level = 0
            for j in range(k + 1, b):
                level += {"(": 1, ")": -1}.get(toks[j][1], 0)
                if level == 0:
                    return first, j
            return None
    return None


def _needs_parse(toks: list[tuple[int, str, str]], a: int, b: int) -> bool:
    """Whether an item may need a name (not a column ``a``, ``t.a``, a star or an item ending ``AS name``) or its
    generate_series unnested."""
    words = toks[a:b]
    if any(w.lower() in _PARSED_WORDS for _, w, _ in words):
        return True  # a set-returning call, or a regclass to print as its name (_regclass_end), named or not
    if all(k == "identifier" or w in (".", "*") for _, w, k in words):
        return False
    return not (len(words) >= 3 and words[-2][1].lower() == "as" and words[-1][2] in ("identifier", "keyword"))


# Words of an item that may need _regclass_end's cast to text (and generate_series its unnest)
_PARSED_WORDS = frozenset(("generate_series", "regclass", "regtype", "to_regclass", "to_regtype"))
# the object-identifier types (and the functions that return one) a select list prints as a name
_REG_TYPES = ("regclass", "regtype")
_REG_FUNCTIONS = ("to_regclass", "to_regtype")


def _regclass_end(toks: list[tuple[int, str, str]], a: int, b: int, named: bool, node: dict[str, Any]) -> int | None:
    """The last token of an item (``node``) that is a cast to regclass or regtype (``x::regclass``, ``CAST(x AS
    regtype)``) or a to_regclass / to_regtype call, before its alias; None for another item. PostgreSQL's client
    reads such a result as its text, the relation's or the type's name."""
    end = b - 3 if named and b - a >= 3 and toks[b - 2][1].lower() == "as" else b - 2 if named else b - 1
    if end <= a:
        return None
    word = toks[end][1]
    if node.get("class") == "FUNCTION":
        call = str(node.get("function_name", "")).lower() in _REG_FUNCTIONS and node.get("schema", "") in ("", "pg_catalog")
        return end if call and word == ")" else None
    if node.get("class") != "CAST":
        return None
    if word.lower() in _REG_TYPES and toks[end - 1][1] in ("::", "."):
        return end
    if word == ")" and end - 2 > a and toks[end - 1][1].lower() in _REG_TYPES and toks[end - 2][1].lower() == "as":
        return end
    return None


def _top_level(toks: list[tuple[int, str, str]], k: int) -> bool:
    """Whether token ``k`` is outside every parenthesis: in the statement's own select list, not a subquery's."""
    depth = 0
    for _, w, _ in toks[:k]:
        depth += {"(": 1, ")": -1}.get(w, 0)
    return depth == 0


def postgres_names(sql: str) -> str:
    """``sql`` with PostgreSQL's name given to each unnamed select-list item (see the module), and a select list's
    ``generate_series(...)`` as the rows PostgreSQL makes of it (DuckDB's gives a list): ``unnest(...)``."""
    if "select" not in sql.lower():
        return sql
    try:
        toks = sql_words(sql)
    except duckdb.Error:
        return sql
    lists = [items for items in _select_lists(toks) if any(_needs_parse(toks, a, b) for a, b in items)]
    if not lists:
        return sql

    def end_of(k: int) -> int:
        return toks[k][0] + len(toks[k][1])

    texts = [sql[toks[items[0][0]][0]:end_of(items[-1][1] - 1)] for items in lists]
    try:
        parsed = _parse(texts)
    except duckdb.Error:
        return sql
    inserts: list[tuple[int, str]] = []
    for items, text, nodes in zip(lists, texts, parsed, strict=True):
        if nodes is None or len(nodes) != len(items):
            continue
        data = ("SELECT " + text).encode()
        for (a, b), node in zip(items, nodes, strict=True):
            if node.get("class") in ("STAR", "COLUMN_REF") or _expands(node):
                continue
            alias = node.get("alias", "")
            if _calls_series(node):  # generate_series(...), ::date of it, + 1 to it: the call at the item's depth
                call = _call_span(toks, a, b)
                if call is not None:
                    inserts += [(toks[call[0]][0], "unnest("), (end_of(call[1]), ")")]
            # the statement's own regclass column as its text (compared or joined deeper down, it is the oid)
            if _top_level(toks, a) and (end := _regclass_end(toks, a, b, bool(alias), node)) is not None:
                inserts.append((end_of(end), "::text"))
            if not alias:
                inserts.append((end_of(b - 1), f" AS {quote_ident(figure(node, data)[0])}"))
    # from the end; at one place the later piece first, so the earlier ends up before it: unnest(...) AS "name"
    for pos, _, piece in sorted(((pos, i, piece) for i, (pos, piece) in enumerate(inserts)), reverse=True):
        sql = sql[:pos] + piece + sql[pos:]
    return sql
