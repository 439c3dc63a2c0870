"""Which of a query's sum() calls may be an outer query's aggregate, for pgsum's rewrite to leave alone.

PostgreSQL and DuckDB both make ``(SELECT sum(t.x))`` (a subquery's aggregate whose columns all come from the outer
query) an aggregate of the outer query. pgsum's macro has a typed overload, and DuckDB binds a typed macro's argument
where the call stands: the aggregate stayed in the subquery, and the query that DuckDB answers failed ('column "x"
must appear in the GROUP BY clause'). So a sum in a subquery that can see an outer query's columns is rewritten only
when each column its argument names is the subquery's own: qualified by a name its FROM clause declares, or
unqualified and a column of an item that FROM clause lists: a table (``columns`` asks the catalogue), the statement's
own CTE or a derived table (``describe`` asks DuckDB for the columns of ``SELECT * FROM`` it, after the statement's
WITH). Anything else (a nested WITH's CTE, a table function, a struct field, a lambda) keeps DuckDB's sum, numeric as
before the rewrite.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import duckdb

from .pgmacros import Bodies, Scalar, scalar_macros
from .sqltext import sql_words
from .udfnames import FUNCTIONS

Tokens = list[tuple[int, str, str]]
# The columns of a table named by its dotted parts (lower case), or None when the catalogue cannot say
Columns = Callable[[tuple[str, ...]], "frozenset[str] | None"]
# The columns (lower case) of a query's result, or None when DuckDB cannot bind it alone (it names an outer query's)
Describe = Callable[[str], "frozenset[str] | None"]
# A FROM item: a table named by its parts, a derived table's text (from its parenthesis to its alias's columns), or
# None (a table function, a LATERAL item, a table renamed by an alias's column list)
Item = tuple[str, ...] | str | None

_QUERY_STARTS = ("select", "with", "from", "values", "pivot", "unpivot", "table")
_SET_OPS = ("union", "intersect", "except")
# the clauses that end a FROM clause (``select``: DuckDB's FROM-first ``FROM t SELECT ...``)
_FROM_ENDS = ("where", "group", "having", "qualify", "window", "order", "limit", "offset", "select", *_SET_OPS)
_ITEM_STARTS = ("from", "join", ",")
# the keywords of an expression's syntax; any other keyword may be a column's name (value, name, year, key, ...)
_SYNTAX = frozenset(("case", "when", "then", "else", "end", "and", "or", "not", "null", "true", "false", "is", "in",
                     "between", "like", "ilike", "cast", "as", "interval", "distinct", "collate", "escape"))


def _name(word: str) -> str:
    """An identifier as DuckDB resolves it: quotes off, case folded (DuckDB's names are case insensitive)."""
    return word[1:-1].replace('""', '"').lower() if word.startswith('"') else word.lower()


def _distinct_from(toks: Tokens, j: int) -> bool:
    """Whether the FROM at token ``j`` is IS [NOT] DISTINCT FROM's, an operator, not a clause."""
    return j > 0 and toks[j - 1][1].lower() == "distinct"


def _named(word: str, kind: str) -> bool:
    """Whether a token may name a table, an alias or a column."""
    return kind == "identifier" or kind == "keyword" and word.lower() not in _SYNTAX


class Scopes:
    """A statement's query blocks: for each token, the block it belongs to (the index of the parenthesis opening a
    subquery, -1 for the statement's own), whether that block sees no outer query's columns ("closed"), and the
    segment (a set operation's branch) it lies in."""

    def __init__(self, toks: Tokens, sql: str) -> None:
        self.toks, self.sql = toks, sql
        self.block: list[int] = []
        self.segment: list[int] = []  # the index of the token that starts the token's branch of its block
        self.inner: list[int] = []  # how many parentheses other than its block's hold the token (0: the block's own)
        self.closed: dict[int, bool] = {-1: True}
        stack: list[tuple[int, bool]] = [(-1, True)]  # (block, whether a query's parenthesis opened it)
        seg: dict[int, int] = {-1: 0}
        for i, (_, word, _kind) in enumerate(toks):
            w = word.lower()
            if w in (")", "]") and len(stack) > 1:
                stack.pop()
            block = stack[-1][0]
            if w in _SET_OPS and stack[-1][1]:
                seg[block] = i
            self.block.append(block)
            self.segment.append(seg[block])
            self.inner.append(len(stack) - 1 - max(k for k, (_, query) in enumerate(stack) if query))
            if w in ("(", "["):
                nxt = toks[i + 1][1].lower() if i + 1 < len(toks) else ""
                if w == "(" and nxt in _QUERY_STARTS:
                    self.closed[i] = self.closed[block] and self._opens_closed(i)
                    seg[i] = i
                    stack.append((i, True))
                else:
                    stack.append((block, False))

    def _opens_closed(self, i: int) -> bool:
        """Whether the subquery opening at ``i`` in ``block`` sees none of its columns: a CTE's body, the first item
        of a FROM clause, a set operation's parenthesised branch, the statement itself in parentheses. Any other (a
        scalar subquery, IN, EXISTS, a later FROM item, which DuckDB may join laterally) sees them. The words must be
        the block's own clause's: ``x IS DISTINCT FROM (SELECT ...)`` and ``extract(year FROM (SELECT ...))`` are
        scalar subqueries, whose sum of an outer column failed once rewritten."""
        prev = self.toks[i - 1][1].lower() if i > 0 else ""
        if prev in ("as", "materialized", "from", *_SET_OPS) and (self.inner[i - 1] or _distinct_from(self.toks, i - 1)):
            return False
        if prev == "" or prev in ("as", "materialized", "from", *_SET_OPS):
            return True
        if prev in ("all", "distinct") and i > 1:
            return self.toks[i - 2][1].lower() in _SET_OPS
        # ``((SELECT ...))`` at the statement's start
        return prev == "(" and i == 1

    def from_items(self, block: int, segment: int) -> tuple[set[str], list[Item], dict[str, list[int]]]:
        """The names the FROM clause of ``block``'s branch ``segment`` declares (tables and aliases), the items it
        lists (``Item``), and for each name a column may be qualified by (an item's alias, else a table's own name)
        the indexes of the items it names."""
        toks = self.toks
        declared: set[str] = set()
        items: list[Item] = []
        qualifiers: dict[str, list[int]] = {}
        in_from = in_condition = False
        own = [j for j in range(len(toks)) if self.block[j] == block and self.segment[j] == segment]
        n = -1
        while n + 1 < len(own):
            n += 1
            j = own[n]
            w, kind = toks[j][1].lower(), toks[j][2]
            if self.inner[j]:
                continue
            if w == "from" and not _distinct_from(toks, j):
                in_from, in_condition = True, False
            elif not in_from:
                continue
            elif w in _FROM_ENDS:
                in_from = False
            elif w in ("on", "using"):
                in_condition = True
            elif w in ("join", ","):
                in_condition = False
            elif w == "(" and not in_condition:
                prev = toks[own[n - 1]][1].lower() if n else ""
                shut = next((m for m in range(n + 1, len(own)) if not self.inner[own[m]]), None)
                if prev not in _ITEM_STARTS or shut is None or toks[own[shut]][1] != ")" or own[shut] == j + 1:
                    # a table function's arguments, a LATERAL item, an alias's column names
                    if items:
                        items[-1] = None
                    continue
                # a derived table: its text runs to its alias and the alias's column names
                k = shut + 1
                k += k < len(own) and toks[own[k]][1].lower() == "as"
                if k < len(own) and not self.inner[own[k]] and (toks[own[k]][2] == "identifier" or _named(
                        toks[own[k]][1], toks[own[k]][2]) and toks[own[k - 1]][1].lower() == "as"):
                    name, last = _name(toks[own[k]][1]), own[k]
                    if k + 1 < len(own) and toks[own[k + 1]][1] == "(":
                        close = next((m for m in range(k + 2, len(own)) if not self.inner[own[m]]), None)
                        if close is None:
                            return declared, [*items, None], qualifiers
                        last, k = own[close], close
                    declared.add(name)
                    qualifiers.setdefault(name, []).append(len(items))
                    items.append(self.sql[toks[j][0]:toks[last][0] + len(toks[last][1])])
                    n = k
                else:
                    items.append(None)
                    n = shut
            elif _named(w, kind) and not in_condition:
                declared.add(_name(w))
                prev = toks[own[n - 1]][1].lower() if n else ""
                if prev in _ITEM_STARTS:
                    parts = [_name(w)]
                    k = n + 1
                    while k + 1 < len(own) and toks[own[k]][1] == "." \
                            and _named(toks[own[k + 1]][1], toks[own[k + 1]][2]):
                        parts.append(_name(toks[own[k + 1]][1]))
                        k += 2
                    # its alias: the next word (after AS), when a name and not a keyword (JOIN, WHERE, ...)
                    k += k < len(own) and toks[own[k]][1].lower() == "as"
                    alias = toks[own[k]] if k < len(own) and not self.inner[own[k]] else None
                    named = alias is not None and (alias[2] == "identifier" or toks[own[k - 1]][1].lower() == "as")
                    qualifiers.setdefault(_name(alias[1]) if alias is not None and named else parts[-1],
                                          []).append(len(items))
                    items.append(tuple(parts))
        return declared, items, qualifiers


class Known:
    """The columns of a statement's FROM items, asked once each: of a table, from the catalogue (``columns``); of the
    statement's own CTE or a derived table, from DuckDB (``describe``), after the statement's WITH."""

    def __init__(self, toks: Tokens, sql: str, columns: Columns | None, describe: Describe | None) -> None:
        self.columns, self.describe = columns, describe
        self.prefix, top = _top_with(toks, sql)
        declared = cte_list(toks)
        self.ctes = set(declared)
        # the statement's WITH's names, each declared once (a nested WITH's of that name would shadow it)
        self.top = {c for c in top if declared.count(c) == 1}
        self.nested = self.ctes - self.top
        self.seen: dict[Item, frozenset[str] | None] = {}

    def __call__(self, item: Item) -> frozenset[str] | None:
        if item not in self.seen:
            self.seen[item] = self._ask(item)
        return self.seen[item]

    def _ask(self, item: Item) -> frozenset[str] | None:
        if item is None:
            return None
        if isinstance(item, str):
            # a derived table naming a nested WITH's CTE: DuckDB would take a table of that name for it
            if self.describe is None or any(_name(w) in self.nested for _, w, _k in _words(item)):
                return None
            return self.describe(self.prefix + "SELECT * FROM " + item)
        if len(item) == 1 and item[0] in self.top:
            return self.describe(self.prefix + "SELECT * FROM " + _quoted(item[0])) if self.describe else None
        if self.columns is None or item[-1] in self.ctes:
            return None
        return self.columns(item)


def own_columns(scopes: Scopes, call: int, first: int, close: int, known: Known) -> bool:
    """Whether the sum whose name is token ``call`` cannot be an outer query's aggregate: its block sees no outer
    columns, or each column its tokens from ``first`` to before ``close`` (its argument, its FILTER) name is the
    block's own (DuckDB binds a column to the innermost FROM that has it)."""
    toks, block = scopes.toks, scopes.block[call]
    if scopes.closed[block]:
        return True
    declared, items, qualifiers = scopes.from_items(block, scopes.segment[call])
    for parts in _references(toks, first, close):
        if parts is None:
            return False  # a subquery in the argument
        if len(parts) > 1:
            if not declared.intersection(parts[:-1]):
                return False
            # an item the FROM names: the column must be its (DuckDB binds t.x to an outer query's t when the
            # subquery's own t, another schema's table of that name, has no x)
            at = next((n for n, q in enumerate(parts[:-1]) if q in qualifiers), None)
            if at is not None and not any(parts[at + 1] in (known(items[k]) or ()) for k in qualifiers[parts[at]]):
                return False
            continue
        if not any(parts[0] in (known(item) or ()) for item in items):
            return False
    return True


def outer_columns(scopes: Scopes, call: int, first: int, close: int, known: Known) -> bool:
    """Whether the sum whose name is token ``call`` is surely an outer query's aggregate (PostgreSQL's rule, and
    DuckDB's: an aggregate whose arguments name only outer columns belongs to the outer query): its block sees outer
    columns, its argument (tokens ``first`` to before ``close``) names a column, and none it names can be the
    block's own: the block's FROM lists only items whose columns are known (none is a table function's, a LATERAL
    one's) and neither a column nor its qualifier is among their names. A lambda's or a subquery's argument is not
    read (a lambda's parameter would look like an outer column)."""
    toks, block = scopes.toks, scopes.block[call]
    if scopes.closed[block]:
        return False
    declared, items, _ = scopes.from_items(block, scopes.segment[call])
    own: set[str] = set()
    for item in items:
        if (cols := known(item)) is None:
            return False
        own |= cols
    if any(t[1].lower() == "lambda" or t[1] == "->" for t in toks[first:close]):
        return False
    named = False
    for parts in _references(toks, first, close):
        # t.x: t neither an alias nor a table of the block's FROM, nor a (struct) column of its items
        if parts is None or any(p in declared or p in own for p in parts[:-1]) or len(parts) == 1 and parts[0] in own:
            return False
        named = True
    return named


def _references(toks: Tokens, first: int, close: int) -> Iterator[list[str] | None]:
    """The names (dotted parts, lower case) the tokens from ``first`` to before ``close`` refer to columns by, and
    None where a subquery starts."""
    j = first
    while j < close:
        word, kind = toks[j][1], toks[j][2]
        if word.lower() in _QUERY_STARTS:
            yield None
            j += 1
            continue
        prev = toks[j - 1][1].lower()
        if not _named(word, kind) or prev in ("::", "as", ".") or toks[j + 1][1] == "(":
            j += 1  # a type's name, a chain's later part, a function's name
            continue
        parts = [_name(word)]
        while toks[j + 1][1] == "." and _named(toks[j + 2][1], toks[j + 2][2]):
            parts.append(_name(toks[j + 2][1]))
            j += 2
        j += 1
        yield parts


@functools.cache
def _aggregates() -> frozenset[str]:
    """The names (lower case) of DuckDB's aggregate functions."""
    con = duckdb.connect(":memory:")
    try:
        return frozenset(r[0] for r in con.execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'").fetchall())
    finally:
        con.close()


@functools.cache
def _known_not_aggregates() -> frozenset[str]:
    """The names (lower case) of the functions known to hold no aggregate: DuckDB's own others (scalar functions
    and its macros) and ad_duckdb's UDFs."""
    con = duckdb.connect(":memory:")
    try:
        return frozenset(r[0] for r in con.execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type <> 'aggregate' AND "
            "lower(function_name) NOT IN (SELECT lower(function_name) FROM duckdb_functions() WHERE function_type = "
            "'aggregate')").fetchall()) | {f.lower() for f in FUNCTIONS}
    finally:
        con.close()


def calls_aggregate(toks: Tokens, start: int, end: int, scalar: Scalar | None = None) -> bool:
    """Whether the tokens from ``start`` to before ``end`` call an aggregate function (``sum(max(x)) OVER ()``), or
    a function that may hold one: a user's macro (``CREATE MACRO total(x) AS sum(x)``) but one ``scalar`` knows to
    hold none, an extension's function, any name not known as another's. Why: given an argument that holds one,
    DuckDB's binder picks a typed macro overload whatever the type (it cannot bind the aggregate there), and the
    INTEGER overload's cast rounded a window's sum of DECIMAL maxima to whole numbers."""
    return any(toks[j + 1][1] == "(" and ((name := _name(toks[j][1])) in _aggregates() or toks[j][2] == "identifier"
                                          and name not in _known_not_aggregates()
                                          and not (scalar is not None and scalar(name)))
               for j in range(start, min(end, len(toks) - 1)))


def scalar_test(bodies: Bodies | None) -> Scalar | None:
    """The test of users' macros (pgmacros) that reads their bodies with ``bodies``, for ``calls_aggregate``."""
    if bodies is None:
        return None
    return scalar_macros(bodies, lambda toks, scalar: calls_aggregate(toks, 0, len(toks), scalar))


def cte_list(toks: Tokens) -> list[str]:
    """The names the statement's WITH clauses give (``name AS (`` and ``name(a, b) AS (``), once per declaration: a
    FROM item of that name is the CTE, whose columns the catalogue does not know."""
    names = []
    for i, (_, word, kind) in enumerate(toks):
        if kind == "identifier" and i + 2 < len(toks) and toks[i + 1][1].lower() in ("as", "(") \
                and (i == 0 or toks[i - 1][1].lower() in ("with", "recursive", ",")):
            names.append(_name(word))
    return names


def closing(toks: Tokens, k: int) -> int | None:
    """The token closing the parenthesis at ``k``."""
    depth = 0
    for j in range(k, len(toks)):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
        if depth == 0:
            return j
    return None


def call_arguments(toks: Tokens, open_: int, close: int) -> list[tuple[int, int]]:
    """The first and last tokens of each argument of the call whose parenthesis opens at ``open_`` and shuts at
    ``close``."""
    out, depth, first = [], 0, open_ + 1
    for j in range(open_ + 1, close):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
        if depth == 0 and toks[j][1] == ",":
            out.append((first, j - 1))
            first = j + 1
    return [*out, (first, close - 1)] if first <= close - 1 else out


def _top_with(toks: Tokens, sql: str) -> tuple[str, set[str]]:
    """The statement's own WITH clause's text (with a blank after it; empty when it has none, or one this cannot
    read) and the names it gives: what ``SELECT * FROM`` a CTE or a derived table needs before it to bind alone."""
    depth, i = 0, None
    for n, (_, word, _kind) in enumerate(toks):
        w = word.lower()
        if depth == 0 and w in ("select", "from", "values", "table", "pivot", "unpivot"):
            return "", set()
        if depth == 0 and w == "with":
            i = n
            break
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
    if i is None:
        return "", set()
    names: set[str] = set()
    k = i + 1 + (i + 1 < len(toks) and toks[i + 1][1].lower() == "recursive")
    while k < len(toks) and _named(toks[k][1], toks[k][2]):
        names.add(_name(toks[k][1]))
        k += 1
        if k < len(toks) and toks[k][1] == "(":
            shut = closing(toks, k)
            if shut is None:
                return "", set()
            k = shut + 1
        if k >= len(toks) or toks[k][1].lower() != "as":
            return "", set()
        k += 1
        while k < len(toks) and toks[k][1].lower() in ("not", "materialized"):
            k += 1
        body = closing(toks, k) if k < len(toks) and toks[k][1] == "(" else None
        if body is None:
            return "", set()
        if body + 1 < len(toks) and toks[body + 1][1] == ",":
            k = body + 2
            continue
        return sql[toks[i][0]:toks[body][0] + 1] + " ", names
    return "", set()


def _words(text: str) -> Tokens:
    """The tokens of a part of the statement (none if DuckDB cannot tokenize it)."""
    try:
        return sql_words(text)
    except duckdb.Error:
        return []


def _quoted(name: str) -> str:
    """A name as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
