"""``substring(text FROM 'pattern')`` (or ``substring(text, 'pattern')``), PostgreSQL's regular-expression substring,
which Metabase sends for a custom column's ``regexextract`` and users write to pull a code out of text. DuckDB reads
``FROM`` as the start position and failed with 'Could not convert string ... to INT64'. With a pattern given as a
string literal, or bound as a parameter (``regex_substrings``), it becomes DuckDB's ``regexp_extract``, as
PostgreSQL answers: the part of the text the first parenthesized group matched (the whole match when the pattern has
none), NULL when nothing matches. ``substring(x FROM n [FOR m])`` of numbers, and the SQL regular expression form
``FROM ... FOR 'escape'``, stay DuckDB's. Runs after pgcolnames: an unnamed call is named ``substring``, as
PostgreSQL names it. Nothing here runs SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .pgsumscope import Tokens, closing
from .sqltext import quote_literal, words_if

# what comes before the pattern: substring(x FROM 'p') and substring(x, 'p')
_BEFORE = ("from", ",")


def regex_substrings(sql: str, params: Sequence[Any] | None = None) -> str:
    """``sql`` with each ``substring(x FROM 'pattern')`` as a regexp_extract (module doc), innermost first.

    A pattern bound as a parameter, ``substring(x FROM $1)`` (psycopg's, asyncpg's, a JDBC client's prepared
    statement), is one too: PostgreSQL reads an untyped parameter there as text, a pattern. ``params``: the values
    bound at Execute (a number bound there stays a position); None where they are not known yet (Parse, Describe),
    so DuckDB's binder types the parameter as text, as PostgreSQL's does."""
    done = len(sql) + 1
    while (toks := words_if(sql, "substring")) is not None:
        call = None
        for i in range(len(toks) - 2, -1, -1):
            if toks[i][0] < done and toks[i][1].lower() == "substring" and toks[i + 1][1] == "(" \
                    and (i == 0 or toks[i - 1][1] != "."):
                call = i
                break
        if call is None:
            return sql
        done = toks[call][0]
        close = closing(toks, call + 1)
        read = None if close is None else _pattern(toks, close, params)
        if close is None or read is None:
            continue
        p, pattern, at = read
        if at < call + 3:
            continue
        depth, commas = 0, 0  # the FROM (or comma) is the call's own (not a subquery's in its text argument)
        for j in range(call + 2, at):
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
            commas += depth == 0 and toks[j][1] == ","
        if depth != 0 or commas:  # (substring(x, a, 'b') of three: PostgreSQL's SQL regular expression, not this)
            continue
        text = sql[toks[call + 2][0]:toks[at - 1][0] + len(toks[at - 1][1])]
        group = 1 if _has_group(pattern) else 0
        sql = (f"{sql[:toks[call][0]]}(CASE WHEN regexp_matches({text}, {p}) THEN regexp_extract({text}, {p}, {group}) "
               f"END){sql[toks[close][0] + 1:]}")
    return sql


def _pattern(toks: Tokens, close: int, params: Sequence[Any] | None) -> tuple[str, str, int] | None:
    """The pattern of a call whose parenthesis shuts at token ``close``, when it ends ``FROM pattern`` or ``,
    pattern`` (PostgreSQL's substring(text, text) is the same function): its SQL, its text ('' for a parameter not
    bound yet) and the token of its FROM or comma; None for a position or another form."""
    if toks[close - 1][2] == "string_const" and toks[close - 1][1].startswith("'"):
        if toks[close - 2][1].lower() not in _BEFORE:
            return None
        pattern = toks[close - 1][1][1:-1].replace("''", "'")
        return quote_literal(pattern), pattern, close - 2
    if toks[close - 2][1] != "$" or not toks[close - 1][1].isdigit() or toks[close - 3][1].lower() not in _BEFORE:
        return None
    n = int(toks[close - 1][1])
    if params is None:
        return f"${n}", "", close - 3
    value = params[n - 1] if 1 <= n <= len(params) else None
    return (f"${n}", value, close - 3) if isinstance(value, str) else None


def _has_group(pattern: str) -> bool:
    """Whether a regular expression has a capturing group: a ``(`` not escaped, not in a bracket expression, not
    ``(?``."""
    i, bracket = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if bracket:
            bracket = c != "]"
        elif c == "[":
            bracket = True
            if pattern[i + 1:i + 2] == "]":
                i += 1  # []...]: a ] first is one of the class's characters
        elif c == "(" and pattern[i + 1:i + 2] != "?":
            return True
        i += 1
    return False
