"""A select-list item that is an avg of integers, sent as PostgreSQL's numeric: exact, at its division's scale.

Why: pgresulttypes makes avg of an integer numeric from DuckDB's double, at 16 decimals: ``avg`` of 1, 2 and 4 went
out as 2.3333333333333335 where PostgreSQL writes 2.3333333333333333, of 1 and 0 as 0.5000000000000000 where it
writes 0.50000000000000000000, and of 100000000 and 200000000 with 16 decimals where it writes 8. PostgreSQL's avg
of integers is its numeric sum divided by the count, rounded (half away from zero) at select_div_scale's scale: 16
significant digits from the quotient's estimated weight in base-10000 digits (the sum's weight less the count's,
one less where the sum's first base-10000 digit is not above the count's), so 20 decimals for a quotient below 1,
12 from 10^4, none from 10^16. The scale differs from row to row, which one DuckDB type cannot carry: an item of the
statement's own select list that is a whole avg(...) call of an integer becomes a struct of the avg as a double
(what an ORDER BY of the item sorts by) and PostgreSQL's text of it from sum(...) and count(...) of the same call;
pgtypes sends it as numeric. DuckDB's binder picks the struct only for an integer argument (a typed overload); any
other avg stays as pgresulttypes makes it, and so does an avg inside an expression.
"""

from __future__ import annotations

from .pgjsonbout import select_items
from .pgresulttypes import aggregate_end
from .pgsumscope import Tokens, calls_aggregate, closing
from .sqltext import words_if

AVG_ITEM = "pg_avg_item"  # (its struct: pgtypes.NUMERIC_TEXT, sent as numeric)
# the weight in base-10000 digits of a whole number's absolute value, and its first base-10000 digit
_WEIGHT = "(length(abs(pg_n)::VARCHAR) - 1) // 4"
_FIRST = f"left(abs(pg_n)::VARCHAR, length(abs(pg_n)::VARCHAR) - 4 * ({_WEIGHT}))::INTEGER"
AVG_SQL = (
    f"CREATE OR REPLACE TEMP MACRO pg_avg_weight(pg_n) AS {_WEIGHT}",
    f"CREATE OR REPLACE TEMP MACRO pg_avg_first(pg_n) AS {_FIRST}",
    # select_div_scale of a sum and a count (both of scale 0)
    "CREATE OR REPLACE TEMP MACRO pg_avg_scale(pg_s, pg_c) AS greatest(16 - 4 * (pg_avg_weight(pg_s) - "
    "pg_avg_weight(pg_c) - CASE WHEN pg_avg_first(pg_s) <= pg_avg_first(pg_c) THEN 1 ELSE 0 END), 0)",
    # the digits of a whole number ``pg_q`` (text) with a point before its last ``pg_r`` (zeros before, to a digit
    # before the point: lpad would cut a longer text)
    "CREATE OR REPLACE TEMP MACRO pg_avg_point(pg_q, pg_r) AS CASE WHEN pg_r = 0 THEN pg_q ELSE "
    "[p[1:length(p) - pg_r] || '.' || p[length(p) - pg_r + 1:] for p in [repeat('0', greatest(pg_r + 1 - length(pg_q), 0)::INTEGER) || pg_q]][1] END",
    # sum / count rounded half away from zero at scale pg_r, as text
    "CREATE OR REPLACE TEMP MACRO pg_avg_digits(pg_s, pg_c, pg_r) AS CASE WHEN pg_s < 0 THEN '-' ELSE '' END || "
    "pg_avg_point(((abs(pg_s) * ('1' || repeat('0', pg_r::INTEGER))::HUGEINT * 2 + pg_c) // (2 * pg_c))::VARCHAR, pg_r)",
    "CREATE OR REPLACE TEMP MACRO pg_avg_text(pg_s, pg_c) AS pg_avg_digits(pg_s::HUGEINT, pg_c, "
    "pg_avg_scale(pg_s::HUGEINT, pg_c))",
    # (the typed overload: DuckDB's implicit casts bring every integer to BIGINT, a decimal and a double to theirs)
    f"CREATE OR REPLACE TEMP MACRO {AVG_ITEM}(pg_type_arg BIGINT, pg_value_arg, pg_sum_arg, pg_count_arg) AS "
    "CASE WHEN pg_count_arg > 0 THEN struct_pack(pg_sort := pg_value_arg::DOUBLE, "
    "pg_numeric := pg_avg_text(pg_sum_arg, pg_count_arg)) END, "
    "(pg_type_arg DECIMAL(38,10), pg_value_arg, pg_sum_arg, pg_count_arg) AS pg_value_arg, "
    "(pg_type_arg DOUBLE, pg_value_arg, pg_sum_arg, pg_count_arg) AS pg_value_arg, "
    "(pg_type_arg, pg_value_arg, pg_sum_arg, pg_count_arg) AS pg_value_arg",
)


def avg_outputs(sql: str) -> str:
    """``sql`` with each select-list item that is a whole avg(...) call (module doc) as AVG_ITEM's call."""
    toks = words_if(sql, "avg")
    if toks is None:
        return sql
    for a, last in reversed(select_items(toks)):  # from the end: each rewrite leaves the offsets before it as they are
        call = _whole_avg(toks, a, last)
        if call is None:
            continue
        name_end, first, close, last = call
        begin, stop = toks[a][0], toks[last][0] + len(toks[last][1])
        arg, rest = sql[toks[first][0]:toks[close][0]], sql[name_end:stop]
        sql = f"{sql[:begin]}{AVG_ITEM}({arg}, {sql[begin:stop]}, sum{rest}, count{rest}){sql[stop:]}"
    return sql


def _whole_avg(toks: Tokens, a: int, last: int) -> tuple[int, int, int, int] | None:
    """Where the name ends (a text offset), the argument's first token (past DISTINCT), the call's ``)`` and its
    last token (before an alias), when tokens ``a`` to ``last`` are one avg(x) [FILTER (...)] [OVER (...)] [alias] of
    no parameter, ORDER BY or aggregate inside it; else None."""
    k = a + 2 if a + 2 <= last and toks[a][1].lower() == "pg_catalog" and toks[a + 1][1] == "." else a
    if k + 1 > last or toks[k][1].lower() != "avg" or toks[k + 1][1] != "(":
        return None
    close = closing(toks, k + 1)
    if close is None or close == k + 2:
        return None
    end = aggregate_end(toks, close)[0]
    if end != toks[last][0] + len(toks[last][1]) and not (  # (or its alias without AS: avg(x) a)
            toks[last][2] == "identifier" and last - 1 >= close and end == toks[last - 1][0] + len(toks[last - 1][1])):
        return None
    if end != toks[last][0] + len(toks[last][1]):
        last -= 1
    if any(w in ("$", "?") or w.lower() == "order" for _, w, _ in toks[k + 2:close]) \
            or calls_aggregate(toks, k + 2, close):
        return None
    first = k + 3 if toks[k + 2][1].lower() in ("distinct", "all") else k + 2
    return (toks[k][0] + len(toks[k][1]), first, close, last) if first < close else None
