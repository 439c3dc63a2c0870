"""``substring(text FROM 'pattern')``, PostgreSQL's regular-expression substring, which Metabase sends for a custom
column's ``regexextract`` and users write to pull a code out of text. DuckDB reads ``FROM`` as the start position
and failed with 'Could not convert string ... to INT64'. With a pattern given as a string literal it becomes DuckDB's
``regexp_extract``, as PostgreSQL answers: the part of the text the first parenthesized group matched (the whole
match when the pattern has none), NULL when nothing matches. ``substring(x FROM n [FOR m])`` of numbers, and the SQL
regular expression form ``FROM ... FOR 'escape'``, stay DuckDB's. Runs after pgcolnames: an unnamed call is named
``substring``, as PostgreSQL names it. Nothing here runs SQL.
"""

from __future__ import annotations

from .pgsumscope import closing
from .sqltext import quote_literal, words_if


def regex_substrings(sql: str) -> str:
    """``sql`` with each ``substring(x FROM 'pattern')`` as a regexp_extract (module doc), innermost first."""
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
        if close is None or close < call + 5 or toks[close - 2][1].lower() != "from" \
                or toks[close - 1][2] != "string_const" or not toks[close - 1][1].startswith("'"):
            continue
        depth = 0  # the FROM is the call's own (not a subquery's in its text argument)
        for j in range(call + 2, close - 2):
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
        if depth != 0:
            continue
        text = sql[toks[call + 2][0]:toks[close - 3][0] + len(toks[close - 3][1])]
        pattern = toks[close - 1][1][1:-1].replace("''", "'")
        group = 1 if _has_group(pattern) else 0
        p = quote_literal(pattern)
        sql = (f"{sql[:toks[call][0]]}(CASE WHEN regexp_matches({text}, {p}) THEN regexp_extract({text}, {p}, {group}) "
               f"END){sql[toks[close][0] + 1:]}")
    return sql


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
