"""percentile_cont(f) WITHIN GROUP (ORDER BY x) as PostgreSQL computes it: over x as double precision.

PostgreSQL's percentile_cont takes double precision (and interval); a numeric column is cast, and the median of 1.5
and 3.0 is 2.25. DuckDB's keeps a DECIMAL column's type, whose scale cuts the interpolated value: the median of
DECIMAL(12,1) prices 1.5 and 3.0 came back 2.2 (numeric), where PostgreSQL says 2.25 (double precision), what
Metabase's Median and a Grafana panel's percentile of a price column showed. The sort key becomes CONT_MACRO's call,
whose typed overload DuckDB's binder picks for what casts to DOUBLE by itself (numbers); any other type (a timestamp,
a date: DuckDB's own percentiles, which PostgreSQL refuses) stays as written. As for pgsum's macro, a key that may be
an outer query's columns (pgsumscope) or a parameter not cast where it stands is left alone.
"""

from __future__ import annotations

from .pgmacros import Bodies
from .pgsum import cast_parameter, in_pivots, is_query
from .pgsumscope import Columns, Describe, Known, Scopes, calls_aggregate, closing, own_columns, scalar_test
from .sqltext import words_if

CONT_MACRO = "pg_cont_double"
CONT_MACRO_SQL = f"CREATE OR REPLACE TEMP MACRO {CONT_MACRO}(x DOUBLE) AS x::DOUBLE, (x) AS x"
# what ends the sort key (PostgreSQL's percentile_cont takes one)
_KEY_ENDS = ("asc", "desc", "nulls", ",", "using", "collate")


def double_percentiles(sql: str, columns: Columns | None = None, describe: Describe | None = None,
                       macros: Bodies | None = None) -> str:
    """``sql`` with each query's ``percentile_cont(...) WITHIN GROUP (ORDER BY x)`` sorting CONT_MACRO's ``x``
    (``macros``: as for pgsum.int_sums)."""
    toks = words_if(sql, "percentile_cont")
    if not toks or not is_query(toks):
        return sql
    pivoted = in_pivots(toks)
    scopes, known = Scopes(toks, sql), Known(toks, sql, columns, describe)
    scalar = scalar_test(macros)
    out, last = [], 0
    for i, (_, word, _kind) in enumerate(toks):
        if word.lower() != "percentile_cont" or i + 1 >= len(toks) or toks[i + 1][1] != "(" or pivoted[i] \
                or i > 0 and toks[i - 1][1] == ".":
            continue
        close = closing(toks, i + 1)
        if close is None or close + 5 >= len(toks) or [t[1].lower() for t in toks[close + 1:close + 6]] != \
                ["within", "group", "(", "order", "by"]:
            continue
        shut = closing(toks, close + 3)
        if shut is None:
            continue
        start = end = close + 6
        depth = 0
        while end < shut:
            w = toks[end][1].lower()
            if depth == 0 and w in _KEY_ENDS:
                break
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
            end += 1
        if end == start or toks[end][1] == "," or calls_aggregate(toks, start, end, scalar) or any(
                toks[k][1] in ("$", "?") and not cast_parameter(toks, k) for k in range(start, end)) \
                or not own_columns(scopes, i, start, end, known):
            continue
        after = toks[end - 1][0] + len(toks[end - 1][1])
        out += [sql[last:toks[start][0]], f"{CONT_MACRO}(", sql[toks[start][0]:after], ")"]
        last = after
    return "".join([*out, sql[last:]]) if out else sql
