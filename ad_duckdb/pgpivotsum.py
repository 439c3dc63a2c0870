"""A PIVOT's sum() of integers as bigint, as pgsum makes every other query's sum (PostgreSQL's type).

DuckDB's PIVOT takes only an aggregate (``PIVOT t ON cat USING sum(qty)``, ``t PIVOT (sum(qty) FOR cat IN (...))``),
so pgsum's typed macro cannot stand there, and the pivoted columns were numeric (Decimals in psycopg) where the same
sum outside the PIVOT is bigint. For each aggregate ``sum(x)`` of a PIVOT, DuckDB binds ``SELECT first(x), sum(x)
FROM`` the PIVOT's source (after the statement's WITH), not run; when x is smallint or integer (what pgsum's macro
casts), the sum becomes ``sum(x)::BIGINT``, whose columns DuckDB names as before: by the pivoted values alone for one
aggregate; for several, after each aggregate's text too (``a_sum(qty)``), which the cast would change, so an unnamed
sum gets that text as its alias. Left as DuckDB's: a source DuckDB cannot bind alone, one naming a nested WITH's CTE
(a table of that name would answer for it).
"""

from __future__ import annotations

from collections.abc import Callable

from .pgsum import cast_parameter, is_query
from .pgsumscope import Tokens, _name, _top_with, closing, cte_list
from .sqltext import words_if

# A query's result columns (name, PostgreSQL type OID), bound by DuckDB and not run; None when it cannot bind it
Types = Callable[[str], "list[tuple[str, int]] | None"]
_PIVOTS = ("pivot", "pivot_wider")
_SMALL_INTS = (21, 23)  # smallint, integer: DuckDB's TINYINT, SMALLINT, INTEGER, UTINYINT, USMALLINT (pgtypes)
# the words that end a PIVOT statement's USING list at its depth (as its enclosing parenthesis's closing does)
_USING_ENDS = ("group", "order", "limit", "offset", "union", "intersect", "except", ";")
_QUERY_STARTS = ("select", "with", "from", "values", "pivot", "pivot_wider", "unpivot", "table")


def pivot_sums(sql: str, types: Types) -> str:
    """``sql`` with each PIVOT's ``sum(x)`` of a small integer type cast to BIGINT, named as DuckDB names it; a
    query's only."""
    toks = words_if(sql, "pivot")
    if not toks or "sum" not in sql.lower() or not (is_query(toks) or toks[0][1].lower() in _PIVOTS):
        return sql
    depths = _depths(toks)
    prefix, top = _top_with(toks, sql)
    declared = cte_list(toks)
    nested = {c for c in declared if c not in top or declared.count(c) > 1}
    casts: list[tuple[int, str]] = []  # the positions after the sums to cast, and the text to put there
    for k, (_, word, kind) in enumerate(toks):
        if kind != "keyword" or word.lower() not in _PIVOTS:
            continue
        found = _pivot(toks, depths, k)
        if found is None:
            continue
        (src_start, src_end), (agg_start, agg_end) = found
        if any(_name(t[1]) in nested for t in toks[src_start:src_end] if t[2] == "identifier"):
            continue
        source = sql[toks[src_start][0]:toks[src_end - 1][0] + len(toks[src_end - 1][1])]
        items = _items(toks, depths, agg_start, agg_end)
        for start, end in items:
            close = _one_sum(toks, start, end)
            if close is None:
                continue
            first = start + 2 + (toks[start + 2][1].lower() in ("distinct", "all"))
            arg = sql[toks[first][0]:toks[close][0]]
            call = sql[toks[start][0]:toks[close][0] + 1]
            # (the argument's type; with several aggregates DuckDB names the columns after each one's text, which
            # the cast would change: an unnamed sum keeps the name DuckDB gives it, as an alias)
            columns = types(f"{prefix}SELECT first({arg}), {call} FROM {source}")
            if columns is None or columns[0][1] not in _SMALL_INTS:
                continue
            alias = f' AS "{columns[1][0].replace(chr(34), chr(34) * 2)}"' if len(items) > 1 and close + 1 == end else ""
            casts.append((toks[close][0] + 1, "::BIGINT" + alias))
    out, last = [], 0
    for at, text in casts:
        out += [sql[last:at], text]
        last = at
    return "".join([*out, sql[last:]])


def _items(toks: Tokens, depths: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """The aggregates of a PIVOT's list (tokens ``start`` to ``end``), each as (first, after-last) token."""
    out, first = [], start
    for j in range(start, end):
        if toks[j][1] == "," and depths[j] == depths[start]:
            out.append((first, j))
            first = j + 1
    return [*out, (first, end)]


def _depths(toks: Tokens) -> list[int]:
    """Each token's depth of parentheses (a parenthesis is at its outer depth)."""
    out, depth = [], 0
    for _, w, _kind in toks:
        depth -= w in (")", "]")
        out.append(depth)
        depth += w in ("(", "[")
    return out


def _pivot(toks: Tokens, depths: list[int], k: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """For the PIVOT at token ``k``: its source's tokens and its aggregates' (each as first, after-last), or None
    when this cannot read them."""
    d, n = depths[k], len(toks)
    if k + 2 < n and toks[k + 1][1] == "(" and toks[k + 2][1].lower() not in _QUERY_STARTS:
        # SQL standard: source PIVOT (aggregates FOR ... IN (...) ...), the source the FROM item before it
        shut = closing(toks, k + 1)
        start = next((j for j in range(k - 1, -1, -1) if depths[j] < d or depths[j] == d and toks[j][1].lower() in (
            "from", "join", ",")), None)
        end = next((j for j in range(k + 2, shut or n) if depths[j] == d + 1 and toks[j][1].lower() == "for"), None)
        if shut is None or start is None or toks[start][1].lower() != "from" or end is None or start + 1 >= k:
            return None
        return (start + 1, k), (k + 2, end)
    # PIVOT source ON columns USING aggregates [GROUP BY ...]
    on = next((j for j in range(k + 1, n) if depths[j] == d and toks[j][1].lower() == "on"), None)
    # (an ON list's own parentheses, ON cat IN ('a', 'b'), stand at the PIVOT's depth; its enclosing one's close is
    # outside it)
    using = next((j for j in range(on + 1, n) if depths[j] < d or depths[j] == d and toks[j][1].lower() == "using"),
                 None) if on is not None else None
    if on is None or using is None or toks[using][1].lower() != "using" or on == k + 1:
        return None
    end = next((j for j in range(using + 1, n) if depths[j] < d or depths[j] == d and toks[j][1].lower() in _USING_ENDS),
               n)
    return (k + 1, on), (using + 1, end)


def _one_sum(toks: Tokens, start: int, end: int) -> int | None:
    """The closing parenthesis of the aggregate (tokens ``start`` to ``end``) when it is ``sum(x)`` (an alias after
    it, or none) with one argument and no ORDER BY, FILTER or parameter not cast where it stands; else None."""
    if end - start < 4 or toks[start][1].lower() != "sum" or toks[start + 1][1] != "(":
        return None
    close = closing(toks, start + 1)
    if close is None or close >= end or toks[start + 2][1] in (")", "*"):
        return None
    rest = [t[1].lower() for t in toks[close + 1:end]]
    if rest and not (len(rest) == 1 and toks[close + 1][2] == "identifier" or len(rest) == 2 and rest[0] == "as"):
        return None
    depth = 0
    for j in range(start + 2, close):
        w = toks[j][1].lower()
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
        if depth == 0 and w in (",", "order") or w in ("$", "?") and not cast_parameter(toks, j):
            return None
    return close

