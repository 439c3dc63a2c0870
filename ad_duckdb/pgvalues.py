"""PostgreSQL's column names of a VALUES list: ``column1``, ``column2``, ... where DuckDB says ``col0``, ``col1``.

A VALUES list that is a query of its own (the statement, a subquery, a CTE, a UNION's arm) becomes
``SELECT * FROM (VALUES ...) AS "*VALUES*"(column1, ...)`` (PostgreSQL's name for it), so the result, a subquery's
columns and an outer query's references all have PostgreSQL's names; a column alias list after it still renames
them. An INSERT's VALUES stays. Found by DuckDB's tokenizer: a string or a comment saying VALUES stays.
"""

from __future__ import annotations

from .sqltext import words_if

# What may come right before a VALUES list that is a query (not an INSERT's: after its table or column list;
# AS: CREATE TABLE / VIEW x AS VALUES).
_BEFORE = frozenset(("(", ";", "as", "union", "intersect", "except", "all", "distinct"))


def _rows_end(toks: list[tuple[int, str, str]], i: int) -> tuple[int, int] | None:
    """For VALUES at ``toks[i]``: the token index of the last row's ``)`` and the first row's number of values,
    None unless the list is ``(...)[, (...)]*``."""
    k, width, end = i + 1, 0, None
    while k < len(toks) and toks[k][1] == "(":
        depth, items = 0, 1
        while k < len(toks):
            w = toks[k][1]
            depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(w, 0)
            if depth == 1 and w == ",":
                items += 1
            if depth == 0:
                break
            k += 1
        if k >= len(toks):
            return None
        width, end = width or items, k
        if k + 2 < len(toks) and toks[k + 1][1] == "," and toks[k + 2][1] == "(":
            k += 2
            continue
        break
    return (end, width) if end is not None else None


def values_names(sql: str) -> str:
    """``sql`` with each VALUES list that is a query named as PostgreSQL names it (see the module)."""
    toks = words_if(sql, "values")
    if toks is None:
        return sql
    inserts: list[tuple[int, str]] = []
    for i, (pos, word, kind) in enumerate(toks):
        if kind != "keyword" or word.lower() != "values":
            continue
        if i > 0 and toks[i - 1][1].lower() not in _BEFORE:
            continue
        rows = _rows_end(toks, i)
        if rows is None:
            continue
        end, width = rows
        names = ", ".join(f"column{n}" for n in range(1, width + 1))
        close = toks[end][0] + 1
        inserts += [(pos, "SELECT * FROM ("), (close, f') AS "*VALUES*"({names})')]
    for pos, piece in sorted(inserts, reverse=True):
        sql = sql[:pos] + piece + sql[pos:]
    return sql
