"""A query's jsonb result columns sent as jsonb (OID 3802), in jsonb's text.

DuckDB has one JSON type, which the server sends as json (OID 114), so ``SELECT '{"b":1,"a":2}'::jsonb`` reached a
client as json, written as DuckDB wrote it (``{"b":1,"a":2}``), where PostgreSQL sends jsonb, written ``{"a": 2,
"b": 1}``: a driver picks its decoder by the OID (asyncpg's jsonb codec, JDBC's PGobject type), and a tool shows
the text. An item of the statement's own select list that is surely jsonb: a cast to jsonb (``x::jsonb``,
``CAST(x AS jsonb)``), or a call of a function PostgreSQL types jsonb (jsonb_build_object, jsonb_agg, to_jsonb,
jsonb_set, ..., an aggregate's over a window too, and pgjsonb's ``||`` of two JSON values, which PostgreSQL has for
jsonb only), becomes a DuckDB union of one member named jsonb (pgtypes sends its type as jsonb, as it sends
pgcatalog's int2vector), holding the value as pgjsonb's UNIQUE writes it (jsonb's key order and spacing). A json column or a
``->`` of one stays json, as PostgreSQL's. Only a SELECT's own items, not a set operation's (whose branches DuckDB would have to unite with a
union), nor what the file stores.
"""

from __future__ import annotations

from collections.abc import Callable

from .pgjsonb import CONCAT, UNIQUE
from .pgsql import _cast_chain_start
from .pgsumscope import Tokens, closing
from .sqltext import words_if

JSONB_FUNCTIONS = frozenset((
    "jsonb_build_object", "jsonb_build_array", "jsonb_agg", "jsonb_object_agg", "to_jsonb", "jsonb_set",
    "jsonb_strip_nulls", "jsonb_insert", "jsonb_object", "jsonb_extract_path", "jsonb_path_query_first", CONCAT))
_SET_OPERATIONS = frozenset(("union", "intersect", "except"))
# what ends a select-list item
_AFTER_ITEM = frozenset((",", ";", "from", "where", "group", "order", "limit", "having", "window", "qualify", "into"))


def jsonb_outputs(sql: str) -> str:
    """``sql`` with each select-list item that is surely jsonb (module doc) as a jsonb union's value."""
    return wrap_items(sql, ("jsonb",), _jsonb, f"union_value(jsonb := {UNIQUE}(CAST({{}} AS JSON)))")


def wrap_items(sql: str, needles: tuple[str, ...], sure: Callable[[Tokens, int, int], bool], wrap: str) -> str:
    """``sql`` with each of its select list's items (select_items) that ``sure`` tells (of its first and last
    tokens) as ``wrap`` holding the item's text at ``{}``; the text is read only when it mentions one of ``needles``."""
    toks = words_if(sql, *needles)
    if toks is None:
        return sql
    for a, last in reversed(select_items(toks)):  # from the end: each rewrite leaves the offsets before it as they are
        if sure(toks, a, last):
            begin, stop = toks[a][0], toks[last][0] + len(toks[last][1])
            sql = f"{sql[:begin]}{wrap.format(sql[begin:stop])}{sql[stop:]}"
    return sql


def select_items(toks: Tokens) -> list[tuple[int, int]]:
    """The first and last tokens of each item of a SELECT's own select list (without DISTINCT before it nor its
    alias after AS); none for any other statement, or one with a set operation."""
    if not toks or toks[0][1].lower() != "select":
        return []
    bounds: list[tuple[int, int]] = []  # each item's first token and the token after it
    start: int | None = 1
    depth = 0
    for i in range(1, len(toks) + 1):
        word = toks[i][1].lower() if i < len(toks) else ";"  # (the statement's end)
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(word, 0)
        if depth == 0 and word in _SET_OPERATIONS:
            return []
        if depth == 0 and word in _AFTER_ITEM:
            if start is not None:
                bounds.append((start, i))
            start = i + 1 if word == "," and start is not None else None  # (FROM's commas are no items')
    items = []
    for a, b in bounds:
        if a < len(toks) and toks[a][1].lower() in ("distinct", "all"):
            a += 1
        end = b - 2 if b - a >= 3 and toks[b - 2][1].lower() == "as" else b  # (its alias after AS)
        if end > a:
            items.append((a, end - 1))
    return items


def _jsonb(toks: Tokens, a: int, last: int) -> bool:
    """Whether tokens ``a`` to ``last`` are one jsonb expression: a cast to jsonb last, a CAST(... AS jsonb), or a
    whole call of one of JSONB_FUNCTIONS."""
    word = toks[last][1].lower()
    if word == "jsonb":
        t = last - 2 if last - 2 > a and toks[last - 1][1] == "." and toks[last - 2][1].lower() == "pg_catalog" else last
        # the cast's operand the whole item (not b of a || b::jsonb)
        return t - 2 >= a and toks[t - 1][1] == "::" and _cast_chain_start(toks, t - 2) == a
    if a + 1 >= last or toks[a + 1][1] != "(":
        return False
    name = toks[a][1].lower()
    if name in JSONB_FUNCTIONS:  # the whole call, or an aggregate's with its FILTER (...) and OVER (...) / OVER name
        return _call_end(toks, a + 1) == last
    return closing(toks, a + 1) == last and name == "cast" and toks[last - 1][1].lower() == "jsonb" \
        and toks[last - 2][1].lower() == "as"


def _call_end(toks: Tokens, paren: int) -> int | None:
    """The last token of the call whose ``(`` is token ``paren``: its ``)``, or its FILTER's and window's after it
    (jsonb_agg(x) OVER (...) is jsonb as jsonb_agg(x) is)."""
    k = closing(toks, paren)
    if k is not None and k + 2 < len(toks) and toks[k + 1][1].lower() == "filter" and toks[k + 2][1] == "(":
        k = closing(toks, k + 2)
    if k is not None and k + 2 < len(toks) and toks[k + 1][1].lower() == "over":
        k = closing(toks, k + 2) if toks[k + 2][1] == "(" else k + 2
    return k
