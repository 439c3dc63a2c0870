"""PostgreSQL's prefix operators ``|/ x`` (square root) and ``||/ x`` (cube root), which DuckDB cannot parse
('Scalar Function with name |/ does not exist'): each becomes a call of the session's macro SQRT / CBRT (ROOT_SQL,
part of pgfunctions' FUNCTION_SQL), which pgcolnames names ``?column?``, as PostgreSQL names an operator's column.

The operand is read as PostgreSQL's grammar binds a prefix operator, at the level of its "other operators" (pgxor's
operand_end): ``|/ 16 + 9`` is the root of 25, ``|/ x > 2`` compares the root. Runs before pgxor, which then reads
the call as one operand of a ``#``. What the file stores (a view) gets the macros' DuckDB text (pgstoredinline).
"""

from __future__ import annotations

from .pgxor import operand_end
from .sqltext import words_if

SQRT = "pg_sqrt"
CBRT = "pg_cbrt"
_MACROS = {"|/": SQRT, "||/": CBRT}
ROOT_SQL = (
    # PostgreSQL's errors where DuckDB's sqrt gives NaN
    f"CREATE OR REPLACE TEMP MACRO {SQRT}(pg_root_arg) AS CASE WHEN pg_root_arg::DOUBLE < 0 THEN "
    "error('cannot take square root of a negative number') ELSE sqrt(pg_root_arg::DOUBLE) END",
    # DuckDB's cbrt is a power, off by an ulp (27 gives 3.0000000000000004): one Newton step gives C's cbrt's answer
    f"CREATE OR REPLACE TEMP MACRO {CBRT}(pg_root_arg) AS CASE WHEN cbrt(pg_root_arg::DOUBLE) = 0 OR "
    "NOT isfinite(cbrt(pg_root_arg::DOUBLE)) THEN cbrt(pg_root_arg::DOUBLE) ELSE cbrt(pg_root_arg::DOUBLE) - "
    "(cbrt(pg_root_arg::DOUBLE) ^ 3 - pg_root_arg::DOUBLE) / (3 * cbrt(pg_root_arg::DOUBLE) ^ 2) END",
)


def root_operators(sql: str) -> str:
    """``sql`` with each ``|/ x`` as ``pg_sqrt(x)`` and ``||/ x`` as ``pg_cbrt(x)``; an operand this cannot read
    leaves the statement to DuckDB's own error."""
    while (toks := words_if(sql, "|/")) is not None:
        # the last first: an operand holding another root (|/ |/ 16) is then already a call
        at = next((k for k in range(len(toks) - 1, -1, -1) if toks[k][1] in _MACROS and toks[k][2] == "operator"), None)
        end = None if at is None else operand_end(toks, at)
        if at is None or end is None:
            return sql
        operand = sql[toks[at + 1][0]:toks[end][0] + len(toks[end][1])]
        sql = f"{sql[:toks[at][0]]}{_MACROS[toks[at][1]]}({operand}){sql[toks[end][0] + len(toks[end][1]):]}"
    return sql
