"""A VALUES list's numbers each written with its own scale, as PostgreSQL's numeric keeps it.

Why: ``VALUES (1.5), (2)`` (or ``SELECT * FROM (VALUES (1.5), (2)) t(x)``, as a psql user tries a few numbers) went
out as 1.5 and 2.0: DuckDB gives a column one DECIMAL type, whose scale every row then shows, where PostgreSQL's
numeric keeps each value's own (1.5 and 2). Where the statement is only such a list, so that no expression of the
query reads the column, each number literal of a column of number literals (and NULLs) of more than one scale
becomes a struct of the number as a double and its own text, which pgtypes sends as numeric (pgtypes.NUMERIC_TEXT, as
pgavgout's avg). Any other use of VALUES (an INSERT's, a join, a WHERE, arithmetic of the column) keeps DuckDB's
one scale.
"""

from __future__ import annotations

import decimal

from .pgsumscope import Tokens, closing
from .sqltext import quote_literal, words_if


def values_scales(sql: str) -> str:
    """``sql`` with the numbers of a VALUES list that is the whole statement as their own texts (module doc)."""
    toks = words_if(sql, "values")
    if toks is None:
        return sql
    n = len(toks) - 1 if toks[-1][1] == ";" else len(toks)
    words = [w.lower() for _, w, _ in toks[:n]]
    if words[:1] == ["values"]:
        start, stop = 0, n
    elif words[:4] == ["select", "*", "from", "("] and words[4:5] == ["values"] \
            and (shut := closing(toks, 3)) is not None and _alias_only(toks, shut + 1, n):
        start, stop = 4, shut
    else:
        return sql
    rows = _rows(toks, start + 1, stop)
    if rows is None or len({len(r) for r in rows}) != 1:
        return sql
    edits: list[tuple[int, int, str]] = []
    for column in zip(*rows, strict=True):
        found = [_number(toks, a, b) for a, b in column]
        texts = [t for t in found if t is not None]
        if len(texts) < len(found) or len({len(t.partition(".")[2]) for t in texts if t != "NULL"}) < 2:
            continue  # (not all numbers, or of one scale: DuckDB's type writes them as PostgreSQL does)
        for (a, b), text in zip(column, texts, strict=True):
            if text != "NULL":
                edits.append((toks[a][0], toks[b][0] + len(toks[b][1]),
                              f"struct_pack(pg_sort := {text}::DOUBLE, pg_numeric := {quote_literal(text)})"))
    for begin, end, piece in sorted(edits, reverse=True):
        sql = sql[:begin] + piece + sql[end:]
    return sql


def _alias_only(toks: Tokens, k: int, n: int) -> bool:
    """Whether tokens ``k`` to ``n`` are only a derived table's alias: [AS] name [(names)]."""
    if k < n and toks[k][1].lower() == "as":
        k += 1
    if k >= n or toks[k][2] not in ("identifier", "keyword"):
        return False
    k += 1
    if k < n and toks[k][1] == "(":
        shut = closing(toks, k)
        if shut is None:
            return False
        k = shut + 1
    return k == n


def _rows(toks: Tokens, k: int, stop: int) -> list[list[tuple[int, int]]] | None:
    """The rows ``(a, b), (c, d)`` from token ``k`` to ``stop``: each one's values as their first and last tokens."""
    rows: list[list[tuple[int, int]]] = []
    while k < stop:
        if toks[k][1] != "(" or (shut := closing(toks, k)) is None:
            return None
        values: list[tuple[int, int]] = []
        first, depth = k + 1, 0
        for j in range(k + 1, shut):
            w = toks[j][1]
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
            if depth == 0 and w == ",":
                values.append((first, j - 1))
                first = j + 1
        values.append((first, shut - 1))
        if any(x > y for x, y in values):
            return None
        rows.append(values)
        k = shut + 1
        if k < stop and toks[k][1] == ",":
            k += 1
    return rows or None


def _number(toks: Tokens, a: int, b: int) -> str | None:
    """PostgreSQL's text of the number literal at tokens ``a`` to ``b`` ([-]digits[.digits]), "NULL" for NULL, else
    None (an exponent, any other expression)."""
    if a == b and toks[a][1].lower() == "null":
        return "NULL"
    minus = toks[a][1] == "-" and b == a + 1
    lit = toks[b][1]
    if not (a == b or minus) or toks[b][2] != "numeric_const" or "e" in lit.lower() or "_" in lit:
        return None
    value = decimal.Decimal(lit)
    if minus and value != 0:
        value = -value
    return format(value, "f")
