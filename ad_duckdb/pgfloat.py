"""PostgreSQL's ``float`` type, written without a precision, is double precision (float8); DuckDB's FLOAT is 4 bytes.

Why: ``x::float`` and ``CAST(x AS float)`` kept 7 significant digits through the server (``1/3::float`` was
0.33333334, ``0.1::float + 0.2`` was 0.3, an amount of 123456.78 became 123456.78125, so a sum of amounts cast to
float drifted by cents), and a table's ``float`` column stored 4 bytes of what PostgreSQL stores in 8. Each bare
``float`` in a type's place (after ``::``, as a CAST's type, a column's type in CREATE / ALTER TABLE) becomes DOUBLE;
``float(p)`` keeps its precision (p up to 24 is 4 bytes in both), ``real`` and ``float4`` stay 4 bytes, and a name
``float`` elsewhere (an alias) stays as written."""

from __future__ import annotations

from .pgsumscope import Tokens
from .sqltext import words_if

# words after which a name is a type: ALTER COLUMN x TYPE float, ADD COLUMN x float (the column's name) is read below
_TYPE_AFTER = frozenset(("::", "type"))
# the tokens a column's name may be: a keyword too (value, name, key, date), which DuckDB allows unquoted
_NAMES = frozenset(("identifier", "keyword"))


def double_floats(sql: str) -> str:
    """``sql`` with each bare ``float`` type (module doc) as DOUBLE."""
    toks = words_if(sql, "float")
    if toks is None:
        return sql
    ddl = toks[0][1].lower() in ("create", "alter")
    for i in range(len(toks) - 1, 0, -1):  # from the end: each rewrite leaves the offsets before it as they are
        if toks[i][1].lower() != "float" or toks[i][2] == "string_const" or toks[i][1].startswith('"') \
                or i + 1 < len(toks) and toks[i + 1][1] == "(":
            continue
        before = toks[i - 1][1].lower()
        if before in _TYPE_AFTER or before == "as" and _in_cast(toks, i) \
                or ddl and toks[i - 1][2] in _NAMES and toks[i - 2][1].lower() in ("(", ",", "column", "add", "exists") \
                and not any(t[1].lower() == "select" for t in toks[:i]):  # (SELECT a, b float: an alias)
            sql = f"{sql[:toks[i][0]]}DOUBLE{sql[toks[i][0] + len(toks[i][1]):]}"
    return sql


def _in_cast(toks: Tokens, i: int) -> bool:
    """Whether token ``i`` is inside a CAST( / TRY_CAST( call's parenthesis (its type, after AS)."""
    depth = 0
    for j in range(i - 1, -1, -1):
        depth += {")": 1, "]": 1, "(": -1, "[": -1}.get(toks[j][1], 0)
        if depth < 0:
            return j > 0 and toks[j - 1][1].lower() in ("cast", "try_cast")
    return False
