"""sum() of integers as PostgreSQL types it: bigint for smallint and integer (and DuckDB's tinyint and the unsigned
types that cast to them), numeric for bigint. DuckDB's sum of any integer is HUGEINT, which the server sends as
numeric, so a driver reading the type (psycopg, asyncpg, JDBC) gave Decimal for sum(quantity) where PostgreSQL gives
int. A query's sum(x) becomes the session macro SUM_MACRO's call, whose typed overloads DuckDB's binder picks by x's
type: the cast to BIGINT for the small integers, sum(x) itself for every other type (its own errors too).
"""

from __future__ import annotations

from .pgmacros import Bodies
from .pgsumscope import Columns, Describe, Known, Scopes, calls_aggregate, closing, outer_columns, own_columns, scalar_test
from .sqltext import words_if

SUM_MACRO = "pg_int_sum"
# The session's macro (created by its first statement that calls it: pgobjects.sum_macro). One typed
# overload, which the small integers reach by DuckDB's implicit casts: with one per type, an argument DuckDB cannot
# bind (a misspelt column) matched them all, and the error said so instead of naming the column.
SUM_DISTINCT_MACRO = SUM_MACRO + "_distinct"  # sum(DISTINCT x)'s: its name holds SUM_MACRO's, which tells it is used
# sum(x ORDER BY y)'s, which a macro cannot take apart: SUM_OF_MACRO(x, sum(x ORDER BY y)), whose x only picks the
# typed overload (cast to BIGINT) or the other (the sum as it is)
SUM_OF_MACRO = SUM_MACRO + "_of"
SUM_MACRO_SQL = (f"CREATE OR REPLACE TEMP MACRO {SUM_MACRO}(x INTEGER) AS sum(x)::BIGINT, (x) AS sum(x); "
                 f"CREATE OR REPLACE TEMP MACRO {SUM_DISTINCT_MACRO}(x INTEGER) AS sum(DISTINCT x)::BIGINT, "
                 f"(x) AS sum(DISTINCT x); CREATE OR REPLACE TEMP MACRO {SUM_OF_MACRO}(x INTEGER, s) AS s::BIGINT, "
                 "(x, s) AS s")
# A query's first word: only a query's sum is rewritten. A view or macro keeps its text, which would name the
# session's temporary macro after the session ends; an INSERT or CREATE TABLE AS stores DuckDB's type as it is.
# A query's PREPARE (whose EXECUTE the session gives the macro: pgobjects) and EXPLAIN are the query's: an EXECUTE's
# sum was numeric where the same query's was bigint, and EXPLAIN showed a plan other than the one that runs.
_QUERY_WORDS = ("select", "with", "(", "from")
_EXPLAIN_OPTIONS = ("analyze", "analyse", "verbose")


def is_query(toks: list[tuple[int, str, str]]) -> bool:
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


def cast_parameter(toks: list[tuple[int, str, str]], j: int) -> bool:
    """Whether the parameter at token ``j`` (``$`` of ``$1``, or ``?``) is cast where it stands (``$1::int``,
    ``CAST($1 AS int)``): its type is the cast's, which the macro's typed overload cannot change."""
    after = j + 2 if toks[j][1] == "$" else j + 1
    if after < len(toks) and toks[after][1] == "::":
        return True
    return j >= 2 and toks[j - 1][1] == "(" and toks[j - 2][1].lower() in ("cast", "try_cast") \
        and after < len(toks) and toks[after][1].lower() == "as"


def int_sums(sql: str, columns: Columns | None = None, describe: Describe | None = None,
             macros: Bodies | None = None) -> str:
    """``sql`` with each ``sum(x)`` of a query as SUM_MACRO's call: ``sum(DISTINCT x)`` as SUM_DISTINCT_MACRO's,
    ``sum(x) FILTER (WHERE c)`` as the call of ``CASE WHEN c THEN x END`` (the same sum: a sum skips NULLs; a macro
    takes no FILTER), ``sum(x ORDER BY y)`` as SUM_OF_MACRO's ``(x, sum(x ORDER BY y))``. Not a PIVOT's
    (``in_pivots``), nor a call of other than one argument, nor one of a parameter not cast where it stands
    (``sum($1::int)`` is rewritten): the typed overload would make DuckDB's binder give ``$1`` the type INTEGER, and
    asyncpg then sent 1.5 as 1 (a sum PostgreSQL refuses to guess the type of), nor one that may be an outer query's
    aggregate (pgsumscope: ``(SELECT sum(t.x))``; ``columns`` gives a table's columns, ``describe`` a CTE's or a
    derived table's, to tell), but one surely the outer query's (``outer_columns``), whose type the outer query's max
    of the argument picks (SUM_OF_MACRO's ``(max(x), sum(x))``), nor a sum of an aggregate (``calls_aggregate``; ``macros`` gives a user's macro's
    bodies, to tell one of no aggregate)."""
    toks = words_if(sql, "sum")
    if not toks or not is_query(toks):
        return sql
    out, last = [], 0
    pivoted = in_pivots(toks)
    scopes, known = Scopes(toks, sql), Known(toks, sql, columns, describe)
    scalar = scalar_test(macros)
    i = -1
    while i + 3 < len(toks):
        i += 1
        pos, word, kind = toks[i]
        if word.lower() != "sum" or kind not in ("identifier", "keyword") or toks[i + 1][1] != "(" or pivoted[i] \
                or i > 0 and toks[i - 1][1] == "." or toks[i + 2][1] in (")", "*"):
            continue
        quantifier = toks[i + 2][1].lower() if toks[i + 2][1].lower() in ("distinct", "all") else None
        close = closing(toks, i + 1)
        if close is None or calls_aggregate(toks, i + 2, close, scalar):
            continue  # (a sum of an aggregate: the inner one is rewritten, on its own)
        if (order := _top_order(toks, i + 2, close)) is not None:
            if (end := _ordered(toks, i, order, close, scopes, known)) is not None:
                first = i + 3 if quantifier else i + 2
                stop = toks[end][0] + 1
                out += [sql[last:pos], f"{SUM_OF_MACRO}({sql[toks[first][0]:toks[order][0]].rstrip()}, ",
                        sql[pos:stop], ")"]
                last, i = stop, end
            continue
        if not _plain(toks, i + 2, close):
            continue
        cond: tuple[int, int] | None = None  # a FILTER's condition: its first token and its closing parenthesis
        after = toks[close + 1][1].lower() if close + 1 < len(toks) else ""
        if after == "within":
            continue
        if after == "filter":
            shut = closing(toks, close + 2) if close + 3 < len(toks) and toks[close + 2][1] == "(" else None
            if shut is None or toks[close + 3][1].lower() != "where" or not _plain(toks, close + 4, shut, True):
                continue
            cond = (close + 4, shut)
        first = i + 3 if quantifier else i + 2
        if not own_columns(scopes, i, first, close, known) \
                or cond and not own_columns(scopes, i, cond[0], cond[1], known):
            if quantifier is None and cond is None and after != "over" \
                    and outer_columns(scopes, i, first, close, known):
                # the outer query's aggregate: the outer query's max of the same argument, a column of its type
                # where the call stands, picks the typed overload (the argument itself would bind in the subquery)
                arg = sql[toks[first][0]:toks[close][0]]
                out += [sql[last:pos], f"{SUM_OF_MACRO}(max({arg}), ", sql[pos:toks[close][0] + 1], ")"]
                last, i = toks[close][0] + 1, close
            continue
        name = SUM_DISTINCT_MACRO if quantifier == "distinct" else SUM_MACRO
        if quantifier is None and cond is None:
            out += [sql[last:pos], name]
            last = pos + len(word)
            continue
        arg = sql[toks[first][0]:toks[close][0]]
        if cond is not None:
            arg = f"CASE WHEN {sql[toks[cond[0]][0]:toks[cond[1]][0]]} THEN {arg} END"
        end = cond[1] if cond is not None else close
        out += [sql[last:pos], f"{name}({arg})"]
        last = toks[end][0] + 1
        i = end  # (a sum inside the argument or the condition would be nested in this one: DuckDB refuses it)
    return "".join([*out, sql[last:]]) if out else sql


def _top_order(toks: list[tuple[int, str, str]], start: int, close: int) -> int | None:
    """The ORDER of an ORDER BY at the top of the call's parentheses (``sum(x ORDER BY y)``), if any."""
    depth = 0
    for j in range(start, close):
        w = toks[j][1].lower()
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
        if depth == 0 and w == "order":
            return j
    return None


def _ordered(toks: list[tuple[int, str, str]], i: int, order: int, close: int, scopes: Scopes,
             known: Known) -> int | None:
    """For ``sum(x ORDER BY y)`` (its name at ``i``), the last token of the aggregate that becomes SUM_OF_MACRO's
    second argument (its FILTER's parenthesis, else its own), or None to leave it: a window's or a WITHIN GROUP's, an
    argument other than one (or one with a ``?``, which its copy would number anew), or one whose columns may be an
    outer query's."""
    first = i + 3 if toks[i + 2][1].lower() in ("distinct", "all") else i + 2
    after = toks[close + 1][1].lower() if close + 1 < len(toks) else ""
    end = close
    if after in ("within", "over"):
        return None
    if after == "filter":
        shut = closing(toks, close + 2) if close + 3 < len(toks) and toks[close + 2][1] == "(" else None
        if shut is None:
            return None
        end = shut
    if order == first or not _plain(toks, first, order) or any(t[1] == "?" for t in toks[first:order]) \
            or not _plain(toks, order, end, True) or not own_columns(scopes, i, first, order, known) \
            or not own_columns(scopes, i, order + 2, end, known):
        return None
    return end


def _plain(toks: list[tuple[int, str, str]], start: int, close: int, condition: bool = False) -> bool:
    """Whether the tokens from ``start`` to before ``close`` hold one argument (a condition: anything) with no
    ORDER BY, and no parameter but one cast where it stands."""
    depth = 0
    for j in range(start, close):
        w = toks[j][1].lower()
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
        if depth == 0 and not condition and w in (",", "order") or w in ("$", "?") and not cast_parameter(toks, j):
            return False
    return True


_PIVOT_WORDS = ("pivot", "pivot_wider")


def in_pivots(toks: list[tuple[int, str, str]]) -> list[bool]:
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
