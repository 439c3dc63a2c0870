"""sum() of integers as PostgreSQL types it: bigint for smallint and integer (and DuckDB's tinyint and the unsigned
types that cast to them), numeric for bigint. DuckDB's sum of any integer is HUGEINT, which the server sends as
numeric, so a driver reading the type (psycopg, asyncpg, JDBC) gave Decimal for sum(quantity) where PostgreSQL gives
int. A query's sum(x) becomes the session macro SUM_MACRO's call, whose typed overloads DuckDB's binder picks by x's
type: the cast to BIGINT for the small integers, sum(x) itself for every other type (its own errors too).
"""

from __future__ import annotations

from .pgsumscope import Columns, Scopes, cte_names, own_columns
from .sqltext import words_if

SUM_MACRO = "pg_int_sum"
# The session's macro (created by its first statement that calls it: pgsession.Session.sum_macro). One typed
# overload, which the small integers reach by DuckDB's implicit casts: with one per type, an argument DuckDB cannot
# bind (a misspelt column) matched them all, and the error said so instead of naming the column.
SUM_MACRO_SQL = f"CREATE OR REPLACE TEMP MACRO {SUM_MACRO}(x INTEGER) AS sum(x)::BIGINT, (x) AS sum(x)"
# A query's first word: only a query's sum is rewritten. A view or macro keeps its text, which would name the
# session's temporary macro after the session ends; an INSERT or CREATE TABLE AS stores DuckDB's type as it is.
# A query's PREPARE (whose EXECUTE the session gives the macro: pgsession) and EXPLAIN are the query's: an EXECUTE's
# sum was numeric where the same query's was bigint, and EXPLAIN showed a plan other than the one that runs.
_QUERY_WORDS = ("select", "with", "(", "from")
_EXPLAIN_OPTIONS = ("analyze", "analyse", "verbose")


def _is_query(toks: list[tuple[int, str, str]]) -> bool:
    """Whether the statement is a query, a PREPARE of one (``PREPARE p [(types)] AS query``) or an EXPLAIN [ANALYZE]
    [(options)] of one."""
    words = [w.lower() for _, w, _ in toks]
    k = 0
    if words[0] == "prepare":
        depths = _depths(words)
        k = next((n for n, w in enumerate(words) if w == "as" and depths[n] == 0), len(words)) + 1
    elif words[0] == "explain":
        k = 1
        if k < len(words) and words[k] == "(":
            k = words.index(")", k) + 1 if ")" in words[k:] else len(words)
        while k < len(words) and words[k] in _EXPLAIN_OPTIONS:
            k += 1
    return k < len(words) and words[k] in _QUERY_WORDS


def _depths(words: list[str]) -> list[int]:
    """Each word's depth of parentheses (a parenthesis is at its outer depth)."""
    out, depth = [], 0
    for w in words:
        depth -= w == ")"
        out.append(depth)
        depth += w == "("
    return out


def _cast_parameter(toks: list[tuple[int, str, str]], j: int) -> bool:
    """Whether the parameter at token ``j`` (``$`` of ``$1``, or ``?``) is cast where it stands (``$1::int``,
    ``CAST($1 AS int)``): its type is the cast's, which the macro's typed overload cannot change."""
    after = j + 2 if toks[j][1] == "$" else j + 1
    if after < len(toks) and toks[after][1] == "::":
        return True
    return j >= 2 and toks[j - 1][1] == "(" and toks[j - 2][1].lower() in ("cast", "try_cast") \
        and after < len(toks) and toks[after][1].lower() == "as"


def int_sums(sql: str, columns: Columns | None = None) -> str:
    """``sql`` with each plain ``sum(x)`` of a query as SUM_MACRO's call. Not ``sum(DISTINCT x)``, ``sum(x ORDER BY
    y)`` or ``sum(x) FILTER (...)`` (a macro takes none of them), nor a PIVOT's (``_in_pivots``), nor a call of other
    than one argument, nor one of a parameter not cast where it stands (``sum($1::int)`` is rewritten): the typed
    overload would make DuckDB's binder give ``$1`` the type INTEGER, and asyncpg then sent 1.5 as 1 (a sum
    PostgreSQL refuses to guess the type of), nor one that may be an
    outer query's aggregate (pgsumscope: ``(SELECT sum(t.x))``; ``columns`` gives a table's columns, to tell)."""
    toks = words_if(sql, "sum")
    if not toks or not _is_query(toks):
        return sql
    out, last = [], 0
    pivoted = _in_pivots(toks)
    scopes, ctes = Scopes(toks), cte_names(toks)
    for i in range(len(toks) - 3):
        pos, word, kind = toks[i]
        if word.lower() != "sum" or kind not in ("identifier", "keyword") or toks[i + 1][1] != "(" or pivoted[i] \
                or i > 0 and toks[i - 1][1] == "." or toks[i + 2][1].lower() in ("distinct", "all", ")", "*"):
            continue
        depth, plain, close = 0, True, None
        for j in range(i + 1, len(toks)):
            w = toks[j][1].lower()
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
            if depth == 0:
                close = j
                break
            if depth == 1 and w in (",", "order") or w in ("$", "?") and not _cast_parameter(toks, j):
                plain = False
        if close is None or not plain or close + 1 < len(toks) and toks[close + 1][1].lower() in ("filter", "within") \
                or not own_columns(scopes, i, close, columns, ctes):
            continue
        out += [sql[last:pos], SUM_MACRO]
        last = pos + len(word)
    return "".join([*out, sql[last:]]) if out else sql


_PIVOT_WORDS = ("pivot", "pivot_wider")


def _in_pivots(toks: list[tuple[int, str, str]]) -> list[bool]:
    """For each token, whether it lies in a PIVOT: from the word to the end of the parentheses holding it (``t PIVOT
    (sum(x) FOR ...)``, ``(PIVOT t ON g USING sum(x))``, a statement's rest at its top level). Why: DuckDB's PIVOT
    takes only an aggregate function, and the macro's call failed the query ('Columns can only be referenced within
    the aggregate of a PIVOT expression'); a PIVOT's sum stays DuckDB's, numeric."""
    inside, depth, until = [], 0, None  # until: the depth whose closing parenthesis ends the PIVOT
    for _, word, kind in toks:
        w = word.lower()
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
        if until is not None and depth < until:
            until = None
        if until is None and kind == "keyword" and w in _PIVOT_WORDS:
            until = depth
        inside.append(until is not None)
    return inside
