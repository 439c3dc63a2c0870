"""PostgreSQL syntax that DuckDB reads otherwise or not at all, rewritten by DuckDB's tokenizer (strings and comments
stay as written), as part of the catalogue rewrites (pgcatalogsql.catalog_rewrites): a bare ``::numeric`` and
``::jsonb``, LIKE's backslash escape, ``unnest`` of several arrays in FROM, and ``'{a,b}'::text[]`` array literals.

Like the other ``pg*`` helpers, this module never imports ``server`` and speaks no wire protocol.
"""

from __future__ import annotations

import re
from typing import Any

from .pgsql import _ident, _matching_close, _matching_open
from .pgtypes import array_text
from .sqltext import words_if as _words_if

# PostgreSQL's type names DuckDB reads otherwise, in a cast (``x::numeric``, ``CAST(x AS numeric)``): an unconstrained
# numeric is exact to any scale in PostgreSQL, while DuckDB's bare DECIMAL is DECIMAL(18,3), so the idiom PostgreSQL
# needs to round a double, round(avg(x)::numeric, 4), kept 3 decimals (3.082 for 3.0820) and 1.23456::numeric was
# 1.235. DECIMAL(38,10) keeps 10 decimals and 28 digits before the point (a product of two, 18). jsonb, which DuckDB
# does not know, is its JSON.
_CAST_TYPES = {"numeric": "DECIMAL(38,10)", "decimal": "DECIMAL(38,10)", "jsonb": "JSON"}


def cast_types(sql: str) -> str:
    """``sql`` with the type names of _CAST_TYPES in its casts (``::`` or CAST / TRY_CAST ... AS) as DuckDB's, where
    no precision follows them; found by DuckDB's tokenizer, so a string, a comment or a column of that name stays."""
    toks = _words_if(sql, "numeric", "decimal", "jsonb")
    if toks is None:
        return sql
    out, last = [], 0
    for i, (pos, word, kind) in enumerate(toks):
        if kind not in ("identifier", "keyword") or _ident(word) not in _CAST_TYPES or word.startswith('"'):
            continue
        if i + 1 < len(toks) and toks[i + 1][1] == "(":
            continue  # numeric(12,2): the client's own precision
        t = i - 2 if i >= 2 and toks[i - 1][1] == "." and _ident(toks[i - 2][1]) == "pg_catalog" else i
        cast = t >= 1 and toks[t - 1][1] == "::"
        if not cast and t >= 1 and toks[t - 1][1].lower() == "as" and i + 1 < len(toks) and toks[i + 1][1] in (")", "["):
            close = i + 1 if toks[i + 1][1] == ")" else i + 3  # CAST(x AS numeric[]): past the brackets
            o = _matching_open(toks, close) if close < len(toks) and toks[close][1] == ")" else None
            cast = o is not None and o > 0 and toks[o - 1][1].lower() in ("cast", "try_cast")
        if cast:
            out += [sql[last:toks[t][0]], _CAST_TYPES[_ident(word)]]
            last = pos + len(word)
    return "".join(out) + sql[last:] if out else sql


# LIKE's escape character: PostgreSQL's is the backslash unless ESCAPE names another, DuckDB's LIKE has none. ODBC
# tools escape _ and % in catalogue patterns (psqlODBC reports "\\" as SQL_SEARCH_PATTERN_ESCAPE; SQLTables for
# tx\_log), which DuckDB would read as a backslash, finding nothing. A pattern with a literal that holds a backslash,
# or with a parameter (its value is not known here), gets ESCAPE '\'; a literal without one means the same either way.
# The ESCAPE goes after the whole pattern, as PostgreSQL parses it: every operator but a comparison binds tighter than
# LIKE, so ``x LIKE $1 || '%'`` (SQLAlchemy's startswith()) is ``x LIKE ($1 || '%')``; an ESCAPE after $1 would make
# the escape ``'\' || '%'``, which DuckDB refuses.
_LIKE_PATTERN_ENDS = frozenset((
    "and", "or", "not", "is", "isnull", "notnull", "between", "in", "like", "ilike", "similar", "glob", "escape",
    "then", "when", "else", "end", "from", "where", "group", "having", "order", "limit", "offset", "union",
    "intersect", "except", "as", "on", "using", "join", "inner", "left", "right", "full", "cross", "natural",
    "window", "qualify", "returning", "asc", "desc", "nulls", "for", "into", "select", "over", "filter"))
_COMPARISONS = frozenset(("=", "==", "<", ">", "<=", ">=", "<>", "!=", ",", ";", ")", "]"))


def _pattern_end(toks: list[tuple[int, str, str]], i: int) -> int | None:
    """The index of the last token of the LIKE pattern that starts at ``toks[i]`` (operands joined by operators
    that bind tighter than LIKE: ``||``, arithmetic, ``::type``, ``[n]``, ``.``, COLLATE), or None when the pattern
    is not one this understands (the statement is then left as written)."""
    n, last, operand = len(toks), None, True  # operand: an operand comes next, else an operator or the end
    j = i
    while j < n:
        word, kind = toks[j][1], toks[j][2]
        low = word.lower()
        if operand:
            if low in ("case", "any", "all", "some", "exists"):  # LIKE ANY (...), a CASE: not followed here
                return None
            if word in ("+", "-", "~"):  # a sign
                j += 1
                continue
            if word in ("(", "["):
                close = _matching_close(toks, j)
                if close is None:
                    return None
                j = close
            elif word == "$" and j + 1 < n and toks[j + 1][2] == "numeric_const":
                j += 1
            elif kind in ("identifier", "keyword") and low not in _LIKE_PATTERN_ENDS and j + 1 < n \
                    and toks[j + 1][1] == "(":  # a function call
                close = _matching_close(toks, j + 1)
                if close is None:
                    return None
                j = close
            elif kind not in ("string_const", "numeric_const", "identifier", "keyword") or low in _LIKE_PATTERN_ENDS:
                return None
            last, operand = j, False
            j += 1
            continue
        if word == "::":  # a cast: the type's words, its (typmod) and []
            j += 1
            while j < n and toks[j][2] in ("identifier", "keyword") and toks[j][1].lower() not in _LIKE_PATTERN_ENDS:
                last, j = j, j + 1
            while j < n and toks[j][1] in ("(", "["):
                close = _matching_close(toks, j)
                if close is None:
                    return None
                last, j = close, close + 1
        elif word == "[":
            close = _matching_close(toks, j)
            if close is None:
                return None
            last, j = close, close + 1
        elif low == "collate" and j + 1 < n:
            last, j = j + 1, j + 2
        elif kind == "operator" and word not in _COMPARISONS:
            operand, j = True, j + 1  # ||, +, ., ->>, ...: another operand follows
        elif kind in ("string_const", "numeric_const"):
            return None  # a typed literal (DATE '...', INTERVAL '1 day'): not followed here
        else:
            break  # a comparison, a keyword, a comma, an alias: the pattern ended
    return None if operand else last


def like_escapes(sql: str) -> str:
    """``x [NOT] [I]LIKE pattern`` as ``... ESCAPE '\\'`` when the pattern has a literal with a backslash or a
    parameter ``$n``, unless the query names an escape; by DuckDB's tokenizer, so the text of strings and comments
    stays as written."""
    toks = _words_if(sql, "like") if "\\" in sql or "$" in sql else None
    if toks is None:
        return sql
    for i in range(len(toks) - 2, -1, -1):  # from the end, so earlier positions stay valid
        if toks[i][2] != "keyword" or toks[i][1].lower() not in ("like", "ilike"):
            continue
        last = _pattern_end(toks, i + 1)
        if last is None or last + 1 < len(toks) and toks[last + 1][1].lower() == "escape":
            continue  # not understood; or its own escape
        pattern = toks[i + 1:last + 1]
        if not any(k == "string_const" and "\\" in w or w == "$" for _, w, k in pattern):
            continue
        end = toks[last][0] + len(toks[last][1])
        sql = sql[:end] + " ESCAPE '\\'" + sql[end:]
    return sql


# PostgreSQL's unnest(a, b, ...) in FROM: the arrays side by side, the shorter padded with NULLs (asyncpg's and
# psycopg's way to pass columns of rows: unnest($1::INTEGER[], $2::DOUBLE[]) AS t(x, y)). DuckDB's unnest takes one
# list; several unnests in one select list run in step and pad with NULLs the same way, so the call becomes that
# subquery. Only right after FROM, JOIN or LATERAL (where PostgreSQL allows it), never WITH ORDINALITY.
def multi_unnest(sql: str) -> str:
    """``FROM unnest(a, b)`` as ``FROM (SELECT unnest(a), unnest(b))``, by DuckDB's tokenizer."""
    toks = _words_if(sql, "unnest")
    if toks is None:
        return sql
    for i in range(len(toks) - 2, 0, -1):  # from the end, so earlier positions stay valid
        if _ident(toks[i][1]) != "unnest" or toks[i + 1][1] != "(" \
                or toks[i - 1][1].lower() not in ("from", "join", "lateral"):
            continue
        close = _matching_close(toks, i + 1)
        if close is None or close + 2 < len(toks) and toks[close + 1][1].lower() == "with" \
                and toks[close + 2][1].lower() == "ordinality":
            continue
        commas, depth = [], 0
        for j in range(i + 2, close):
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
            if depth == 0 and toks[j][1] == ",":
                commas.append(j)
            if toks[j][1] == ":=":
                commas = []  # a named parameter: DuckDB's own unnest(x, recursive := true)
                break
        if not commas:
            continue
        bounds = [i + 1, *commas, close]
        args = [sql[toks[a][0] + 1:toks[b][0]].strip() for a, b in zip(bounds, bounds[1:], strict=False)]
        sql = (sql[:toks[i][0]] + "(SELECT " + ", ".join(f"unnest({a})" for a in args) + ")"
               + sql[toks[close][0] + 1:])
    return sql


def _list_literal(v: Any) -> str:
    """A value of PostgreSQL's array literal (pgtypes.array_text: strings, NULLs, nested lists) as DuckDB's list."""
    if isinstance(v, list):
        return "[" + ", ".join(_list_literal(x) for x in v) + "]"
    return "NULL" if v is None else "'" + v.replace("'", "''") + "'"


_ARRAY_CAST_RE = re.compile(r"\}'\s*::[\w\s\"]*\[")  # '...}'::text[], '...}'::double precision[]


def array_literals(sql: str) -> str:
    """PostgreSQL's array literal cast to an array type, ``'{a,"b c",NULL}'::text[]`` (PgJDBC's getSQLKeywords), as
    DuckDB's list of the same strings, ``['a', 'b c', NULL]::text[]``, which the cast then types: DuckDB casts no
    '{...}' text to a list, so only statements that failed change."""
    # Why the pattern first: a JSON text literal ('{"a": 1}') has '{ too, and tokenizing every such statement (a
    # large INSERT of JSON rows) cost more than all the other rewrites; only '...}' cast by :: to an array can change
    toks = _words_if(sql, "'{") if _ARRAY_CAST_RE.search(sql) else None
    if toks is None:
        return sql
    for i in range(len(toks) - 4, -1, -1):  # from the end, so earlier positions stay valid
        pos, lit, kind = toks[i]
        if kind != "string_const" or not lit.startswith("'{") or not lit.endswith("}'") or toks[i + 1][1] != "::":
            continue
        j = i + 2
        while j < len(toks) and toks[j][2] in ("identifier", "keyword"):
            j += 1
        if j == i + 2 or j + 1 >= len(toks) or toks[j][1] != "[" or toks[j + 1][1] != "]":
            continue
        try:
            value = array_text(lit[1:-1].replace("''", "'"), str)
        except (ValueError, IndexError):
            continue
        sql = sql[:pos] + _list_literal(value) + sql[pos + len(lit):]
    return sql
