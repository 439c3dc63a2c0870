"""PostgreSQL's functions that DuckDB lacks, or has with another answer, as the session's macros (FUNCTION_SQL, part
of pgcatalog's SESSION_SQL, created by the first statement that names one), and the rewrites that reach the macros
whose name is DuckDB's own function's.

``round(x)`` of one argument: PostgreSQL rounds a double precision (or real) half to even, as C's rint (``round(2.5::
float8)`` is 2), a numeric half away from zero (``round(2.5::numeric)`` is 3); DuckDB's round goes away from zero for
both. So a query's one-argument round becomes ROUND_MACRO's call, which takes DuckDB's round_even for a DOUBLE or
FLOAT and its round for any other type (DuckDB knows the argument's type as it binds the macro, so the CASE keeps the
argument's type: a DECIMAL's round is DECIMAL). Runs after pgcolnames: the column is named ``round``, as PostgreSQL
names it. Only a query's call is rewritten (pgsum.is_query): a view or macro stored in the file keeps DuckDB's text,
which must not name the session's temporary macro.
"""

from __future__ import annotations

from .pgsum import is_query
from .pgsumscope import closing
from .sqltext import words_if

ROUND_MACRO = "pg_round"
FUNCTION_SQL = (
    f"CREATE OR REPLACE TEMP MACRO {ROUND_MACRO}(pg_round_arg) AS CASE WHEN typeof(pg_round_arg) IN ('DOUBLE', 'FLOAT') "
    "THEN round_even(pg_round_arg, 0) ELSE round(pg_round_arg) END",
)


def float_rounds(sql: str) -> str:
    """``sql`` (a query) with each one-argument ``round(x)`` (bare or pg_catalog's) as ROUND_MACRO's call."""
    toks = words_if(sql, "round")
    if toks is None or not is_query(toks):
        return sql
    for i in range(len(toks) - 2, -1, -1):  # from the end: each rewrite leaves the offsets before it as they are
        if toks[i][1].lower() != "round" or toks[i + 1][1] != "(" or toks[i][2] not in ("identifier", "keyword"):
            continue
        if i >= 2 and toks[i - 1][1] == "." and toks[i - 2][1].lower() != "pg_catalog":
            continue  # another schema's round is the user's own
        close = closing(toks, i + 1)
        if close is None or close == i + 2 or _top_commas(toks, i + 1, close):
            continue  # round(x, n) is DuckDB's, as PostgreSQL's of a numeric
        start = toks[i - 2][0] if i >= 2 and toks[i - 1][1] == "." else toks[i][0]
        sql = f"{sql[:start]}{ROUND_MACRO}{sql[toks[i][0] + len(toks[i][1]):]}"
    return sql


def _top_commas(toks: list[tuple[int, str, str]], open_: int, close: int) -> bool:
    """Whether the call whose parenthesis opens at token ``open_`` has more than one argument."""
    depth = 0
    for j in range(open_ + 1, close):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
        if depth == 0 and toks[j][1] == ",":
            return True
    return False
