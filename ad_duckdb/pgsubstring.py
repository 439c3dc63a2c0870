"""``substring(text FROM 'pattern')`` (or ``substring(text, 'pattern')``), PostgreSQL's regular-expression substring,
which Metabase sends for a custom column's ``regexextract`` and users write to pull a code out of text. DuckDB reads
``FROM`` as the start position and failed with 'Could not convert string ... to INT64'. With a pattern given as a
string literal, or bound as a parameter (``regex_substrings``), it becomes DuckDB's ``regexp_extract``, as
PostgreSQL answers: the part of the text the first parenthesized group matched (the whole match when the pattern has
none; NULL for a group that took no part in the match, which RE2 reports as '', so GROUP, a Python function of the
server, tells it from an empty match), NULL when nothing matches. A pattern may be an escape string (``E'\\d+'``). The
SQL regular expression form ``FROM 'pattern' FOR 'escape'`` becomes the regular expression it stands for
(similar_regex). ``substring(x FROM n [FOR m])`` of numbers stays DuckDB's. What the file stores (a view, a table's
DEFAULT: pgstored) gets no GROUP, which no other reader of the file has: there a group that took no part is ''.
Runs after pgcolnames: an unnamed call is named ``substring``, as PostgreSQL names it. Nothing here runs SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import duckdb
from duckdb.func import FunctionNullHandling

from .pgstored import stored_definition
from .pgsumscope import Tokens, closing
from .sqltext import quote_literal, words_if

GROUP = "pg_regex_group"
_POSIX = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z", "space": r"\s",
          "xdigit": "0-9a-fA-F", "punct": r"!-/:-@\[-`{-~", "word": r"\w", "blank": r" \t", "cntrl": r"\x00-\x1f"}
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
        sql_regex = None
        if toks[at][1].lower() == "for":  # FROM pattern FOR escape: the SQL regular expression's form
            if toks[at - 2][1].lower() != "from" or not toks[at - 1][1].startswith(("'", "E'", "e'")):
                continue
            sql_regex, pattern, at = pattern, string_value(toks[at - 1][1]), at - 2
        if at < call + 3:
            continue
        depth, commas = 0, 0  # the FROM (or comma) is the call's own (not a subquery's in its text argument)
        for j in range(call + 2, at):
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
            commas += depth == 0 and toks[j][1] == ","
        if depth != 0 or commas:  # (substring(x, a, 'b') of three: PostgreSQL's SQL regular expression, not this)
            continue
        text = sql[toks[call + 2][0]:toks[at - 1][0] + len(toks[at - 1][1])]
        if sql_regex:
            p, group = quote_literal(similar_regex(pattern, sql_regex)), 1 if '"' in pattern else 0
        else:
            group = 1 if _has_group(pattern) else 0
        found = f"regexp_extract({text}, {p}, {group})"
        if group and not stored_definition(toks):  # (a group that took no part in the match is NULL, one that matched nothing '';
            # what the file stores cannot name the server's GROUP, pgstored)
            found = f"coalesce(nullif({found}, ''), {GROUP}({text}, {p}))"
        sql = f"{sql[:toks[call][0]]}(CASE WHEN regexp_matches({text}, {p}) THEN {found} END){sql[toks[close][0] + 1:]}"
    return sql


def _pattern(toks: Tokens, close: int, params: Sequence[Any] | None) -> tuple[str, str, int] | None:
    """The pattern of a call whose parenthesis shuts at token ``close``, when it ends ``FROM pattern`` or ``,
    pattern`` (PostgreSQL's substring(text, text) is the same function): its SQL, its text ('' for a parameter not
    bound yet) and the token of its FROM or comma; None for a position or another form."""
    if toks[close - 1][2] == "string_const" and toks[close - 1][1].startswith(("'", "E'", "e'")):
        if toks[close - 2][1].lower() not in (*_BEFORE, "for"):
            return None
        pattern = string_value(toks[close - 1][1])
        return quote_literal(pattern), pattern, close - 2
    if toks[close - 2][1] != "$" or not toks[close - 1][1].isdigit() or toks[close - 3][1].lower() not in _BEFORE:
        return None
    n = int(toks[close - 1][1])
    if params is None:
        return f"${n}", "", close - 3
    value = params[n - 1] if 1 <= n <= len(params) else None
    return (f"${n}", value, close - 3) if isinstance(value, str) else None


def string_value(token: str) -> str:
    r"""The value of a string literal's token: ``'it''s'`` or PostgreSQL's escape string ``E'\\d+'`` (backslash
    escapes: ``\``, ``\'``, ``\n``, ``\t``, ``\r``, ``\b``, ``\f``, octal, ``\x``, ``\u``, ``\U``)."""
    if token[0] not in "Ee":
        return token[1:-1].replace("''", "'")
    return re.sub(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", _unescape,
                  token[2:-1].replace("''", "'"), flags=re.S)


def _unescape(m: re.Match[str]) -> str:
    e = m.group(1)
    if e[0] in "xuU":
        return chr(int(e[1:], 16))
    if e[0] in "01234567":
        return chr(int(e, 8))
    return {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(e, e)


def similar_regex(pattern: str, escape: str) -> str:
    r"""The regular expression (RE2's, anchored) of PostgreSQL's SQL regular expression ``pattern`` with the escape
    character ``escape``, as ``substring(x FROM pattern FOR escape)`` reads it: ``%`` any text (as little as may be
    before the returned part), ``_`` any character, ``escape"`` around the part returned (group 1), ``escape`` before a
    character that character itself, ``.`` ``^`` ``$`` and ``\`` themselves; the rest (``| * + ? {m,n} ( ) [...]``)
    as in a regular expression. A pattern must match the whole text."""
    esc = escape.replace("''", "'")[:1]
    out, part, i, bracket = [], 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if esc and c == esc and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == '"' and not bracket:
                out.append("(" if part == 0 else ")")
                part += 1
            else:
                out.append(re.escape(nxt))
            i += 2
            continue
        if bracket:
            bracket = c != "]"
            out.append(c)
        elif c == "[":
            bracket = True
            out.append(c)
        elif c == "%":
            out.append(".*?" if part == 0 else ".*")
        elif c == "_":
            out.append(".")
        elif c in ".^$\\":
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    return "^(?s:" + "".join(out) + ")$"


def register(con: duckdb.DuckDBPyConnection) -> None:
    """GROUP, on the server's connection (its sessions' cursors see it)."""
    con.create_function(GROUP, _group, ["VARCHAR", "VARCHAR"], "VARCHAR",
                        null_handling=FunctionNullHandling.SPECIAL)


def _group(text: str | None, pattern: str | None) -> str | None:
    """'' when the first group of ``pattern`` took part in its first match in ``text`` (matching the empty string),
    NULL when it took no part, as PostgreSQL tells them apart; DuckDB's RE2 gives '' for both. Read by Python's re, the
    POSIX classes ([[:digit:]]) spelt out; a pattern re cannot read is '' (DuckDB's answer), never an error."""
    if text is None or pattern is None:
        return None
    for name, chars in _POSIX.items():
        pattern = pattern.replace(f"[:{name}:]", chars)
    try:
        m = re.search(pattern, text)
    except (re.error, RecursionError):
        return ""
    return "" if m is None or m.re.groups == 0 or m.group(1) is not None else None


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
