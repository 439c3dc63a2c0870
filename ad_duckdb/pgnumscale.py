"""A numeric parameter or literal cast to numeric keeps its own scale, as PostgreSQL's unconstrained numeric does.

The server reads a bare ``::numeric`` as DECIMAL(38,10) (pgsyntax._CAST_TYPES), so ``round(avg(x)::numeric, 4)`` keeps
its decimals; but ``WHERE price = ANY(%s::numeric[])`` or ``SELECT %s::numeric`` of psycopg's Decimals came back with
10 decimals (``Decimal('1.5000000000')`` for ``Decimal('1.5')``), where PostgreSQL returns the value as sent. At
Execute the values are known: such a cast of a parameter bound to Decimals (or a list of them) names the precision
the values need, ``numeric(38, s)`` with ``s`` their largest scale (a list's elements share one type in DuckDB, so
``[1.5, 2.25]`` is ``[1.50, 2.25]``). Values that would not fit 38 digits at that scale keep the server's reading.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from typing import Any

from .sqltext import words_if

_NUMERIC = ("numeric", "decimal")


def parameter_scales(sql: str, params: Sequence[Any] | None) -> str:
    """``sql`` with each ``$n::numeric`` (``numeric[]``, ``CAST($n AS numeric)``, pg_catalog's) of a parameter bound
    to Decimals as ``$n::numeric(38, s)``, ``s`` its values' largest scale."""
    if not params or not any(_decimals(p) for p in params):
        return sql
    toks = words_if(sql, *_NUMERIC)
    if not toks:
        return sql
    out, last = [], 0
    for i in range(len(toks) - 3):
        if toks[i][1] != "$" or not toks[i + 1][1].isdigit() or not 1 <= int(toks[i + 1][1]) <= len(params):
            continue
        k = i + 2
        if toks[k][1] == "::":
            k += 1
        elif toks[k][1].lower() == "as" and i >= 2 and toks[i - 1][1] == "(" and toks[i - 2][1].lower() == "cast":
            k += 1
        else:
            continue
        if k + 2 < len(toks) and toks[k][1].lower() == "pg_catalog" and toks[k + 1][1] == ".":
            k += 2
        if k >= len(toks) or toks[k][1].lower() not in _NUMERIC or k + 1 < len(toks) and toks[k + 1][1] == "(":
            continue  # not numeric, or the client's own precision
        scale = _scale(_decimals(params[int(toks[i + 1][1]) - 1]))
        if scale is not None:
            end = toks[k][0] + len(toks[k][1])
            out += [sql[last:end], f"(38, {scale})"]
            last = end
    return "".join([*out, sql[last:]]) if out else sql


def _decimals(value: Any) -> list[decimal.Decimal]:
    """The Decimals a parameter's value is (a list's non-NULL elements); [] for any other value."""
    values = value if isinstance(value, list) else [value]
    found = [v for v in values if v is not None]
    return found if found and all(isinstance(v, decimal.Decimal) for v in found) else []


def _scale(values: list[decimal.Decimal]) -> int | None:
    """The largest scale of ``values``, when DECIMAL(38, it) holds them all; else None."""
    if not values or not all(v.is_finite() for v in values):
        return None
    scales, whole = [], []
    for v in values:
        _, digits, exp = v.as_tuple()
        assert isinstance(exp, int)
        scales.append(max(-exp, 0))
        whole.append(max(len(digits) + exp, 0))
    scale = max(scales)
    return scale if scale + max(whole) <= 38 else None


def literal_scales(sql: str) -> str:
    """``sql`` with each literal cast to a bare numeric (``1.23456789012345::numeric``, ``'2.5'::numeric``,
    ``CAST(1 AS decimal)``, ``numeric '1.23456'``) as ``numeric(38, s)``, ``s`` the literal's own scale, as
    PostgreSQL's unconstrained numeric keeps it: the server's DECIMAL(38,10) cut 1.23456789012345 to 1.2345678901 and
    wrote 1.5 as 1.5000000000, and DuckDB's bare ``numeric '1.23456'`` (DECIMAL(18,3)) was 1.235. A literal that would
    not fit 38 digits, or is no number, keeps the server's reading."""
    toks = words_if(sql, *_NUMERIC)
    if not toks:
        return sql
    for i in range(len(toks) - 1, -1, -1):  # from the end: each rewrite leaves the offsets before it as they are
        if toks[i][2] not in ("numeric_const", "string_const"):
            continue
        scale = _literal_scale(toks[i][1])
        if scale is None:
            continue
        k = i + 1
        if k < len(toks) and toks[k][1] == "::":
            k += 1
        elif k < len(toks) and toks[k][1].lower() == "as" and i >= 2 and toks[i - 1][1] == "(" \
                and toks[i - 2][1].lower() in ("cast", "try_cast"):
            k += 1
        elif i >= 1 and toks[i][2] == "string_const" and toks[i - 1][1].lower() in _NUMERIC \
                and not (i >= 2 and toks[i - 2][1] in ("::", ".") or i >= 2 and toks[i - 2][1].lower() == "as"):
            # numeric '1.5': the typed literal, as '1.5'::numeric(38, 1)
            lit = toks[i][0]
            end = lit + len(toks[i][1])
            sql = f"{sql[:toks[i - 1][0]]}{sql[lit:end]}::numeric(38, {scale}){sql[end:]}"
            continue
        else:
            continue
        if k + 2 < len(toks) and toks[k][1].lower() == "pg_catalog" and toks[k + 1][1] == ".":
            k += 2
        if k >= len(toks) or toks[k][1].lower() not in _NUMERIC or k + 1 < len(toks) and toks[k + 1][1] in ("(", "["):
            continue  # not numeric, or the client's own precision, or an array
        end = toks[k][0] + len(toks[k][1])
        sql = f"{sql[:end]}(38, {scale}){sql[end:]}"
        if toks[i][2] == "numeric_const" and "e" in toks[i][1].lower():
            # DuckDB reads 1e30 as a double (1000000000000000019884624838656 as a decimal); PostgreSQL as numeric
            lit = toks[i][0]
            digits = format(decimal.Decimal(toks[i][1].replace("_", "")), "f")
            sql = f"{sql[:lit]}{digits}{sql[lit + len(toks[i][1]):]}"
    return sql


def _literal_scale(text: str) -> int | None:
    """The scale of a number literal (its text as the tokenizer gives it: a string's in quotes), when DECIMAL(38, it)
    holds the value; else None."""
    body = text[1:-1].strip() if text.startswith("'") else text
    try:
        value = decimal.Decimal(body.replace("_", ""))
    except decimal.InvalidOperation:
        return None
    return _scale([value])
