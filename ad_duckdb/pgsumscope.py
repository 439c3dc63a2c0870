"""Which of a query's sum() calls may be an outer query's aggregate, for pgsum's rewrite to leave alone.

PostgreSQL and DuckDB both make ``(SELECT sum(t.x))`` (a subquery's aggregate whose columns all come from the outer
query) an aggregate of the outer query. pgsum's macro has a typed overload, and DuckDB binds a typed macro's argument
where the call stands: the aggregate stayed in the subquery, and the query that DuckDB answers failed ('column "x"
must appear in the GROUP BY clause'). So a sum in a subquery that can see an outer query's columns is rewritten only
when each column its argument names is the subquery's own: qualified by a name its FROM clause declares, or
unqualified and a column of the tables that FROM clause lists (``columns`` asks the catalogue). Anything else (a
derived table in that FROM, a CTE's name, a struct field, a lambda) keeps DuckDB's sum, numeric as before the rewrite.
"""

from __future__ import annotations

from collections.abc import Callable

Tokens = list[tuple[int, str, str]]
# The columns of a table named by its dotted parts (lower case), or None when the catalogue cannot say
Columns = Callable[[tuple[str, ...]], "frozenset[str] | None"]

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

    def __init__(self, toks: Tokens) -> None:
        self.toks = toks
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

    def from_items(self, block: int, segment: int) -> tuple[set[str], list[tuple[str, ...]] | None,
                                                             dict[str, list[tuple[str, ...]]]]:
        """The names the FROM clause of ``block``'s branch ``segment`` declares (tables and aliases), the tables it
        lists by name (None when it has an item other than a named table: a derived table, a table function), and
        for each name a column may be qualified by (a listed table's alias, else its own name) the tables it names."""
        declared: set[str] = set()
        tables: list[tuple[str, ...]] | None = []
        qualifiers: dict[str, list[tuple[str, ...]]] = {}
        in_from = in_condition = False
        own = [j for j in range(len(self.toks)) if self.block[j] == block and self.segment[j] == segment]
        for n, j in enumerate(own):
            w, kind = self.toks[j][1].lower(), self.toks[j][2]
            if self.inner[j]:
                continue
            if w == "from" and not _distinct_from(self.toks, j):
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
                tables = None  # a derived table, a table function's arguments, an alias's column names
            elif _named(w, kind) and not in_condition:
                declared.add(_name(w))
                prev = self.toks[own[n - 1]][1].lower() if n else ""
                if prev in _ITEM_STARTS and tables is not None:
                    parts = [_name(w)]
                    k = n + 1
                    while k + 1 < len(own) and self.toks[own[k]][1] == "." \
                            and _named(self.toks[own[k + 1]][1], self.toks[own[k + 1]][2]):
                        parts.append(_name(self.toks[own[k + 1]][1]))
                        k += 2
                    tables.append(tuple(parts))
                    # its alias: the next word (after AS), when a name and not a keyword (JOIN, WHERE, ...)
                    k += k < len(own) and self.toks[own[k]][1].lower() == "as"
                    alias = self.toks[own[k]] if k < len(own) and not self.inner[own[k]] else None
                    named = alias is not None and (alias[2] == "identifier" or self.toks[own[k - 1]][1].lower() == "as")
                    qualifiers.setdefault(_name(alias[1]) if alias is not None and named else parts[-1],
                                          []).append(tuple(parts))
        return declared, tables, qualifiers


def own_columns(scopes: Scopes, call: int, first: int, close: int, columns: Columns | None, ctes: set[str]) -> bool:
    """Whether the sum whose name is token ``call`` cannot be an outer query's aggregate: its block sees no outer
    columns, or each column its tokens from ``first`` to before ``close`` (its argument, its FILTER) name is the
    block's own."""
    toks, block = scopes.toks, scopes.block[call]
    if scopes.closed[block]:
        return True
    declared, tables, qualifiers = scopes.from_items(block, scopes.segment[call])
    j = first
    while j < close:
        word, kind = toks[j][1], toks[j][2]
        if word.lower() in _QUERY_STARTS:
            return False  # a subquery in the argument
        prev = toks[j - 1][1].lower()
        if not _named(word, kind) or prev in ("::", "as", ".") or toks[j + 1][1] == "(":
            j += 1  # a type's name, a chain's later part, a function's name
            continue
        parts = [_name(word)]
        while toks[j + 1][1] == "." and _named(toks[j + 2][1], toks[j + 2][2]):
            parts.append(_name(toks[j + 2][1]))
            j += 2
        j += 1
        if len(parts) > 1:
            if not declared.intersection(parts[:-1]):
                return False
            # a table the FROM lists by name: the column must be its (DuckDB binds t.x to an outer query's t when
            # the subquery's own t, another schema's table of that name, has no x)
            at = next((n for n, q in enumerate(parts[:-1]) if q in qualifiers), None)
            if at is not None:
                if columns is None or any(t[-1] in ctes for t in qualifiers[parts[at]]):
                    return False
                known = [columns(t) for t in qualifiers[parts[at]]]
                if not any(k is not None and parts[at + 1] in k for k in known):
                    return False
            continue
        if columns is None or not tables or any(t[-1] in ctes for t in tables):
            return False
        known = [columns(t) for t in tables]
        if any(k is None for k in known) or not any(parts[0] in k for k in known if k is not None):
            return False
    return True


def cte_names(toks: Tokens) -> set[str]:
    """The names the statement's WITH clauses give (``name AS (`` and ``name(a, b) AS (``): a FROM item of that
    name is the CTE, whose columns the catalogue does not know."""
    names = set()
    for i, (_, word, kind) in enumerate(toks):
        if kind == "identifier" and i + 2 < len(toks) and toks[i + 1][1].lower() in ("as", "(") \
                and (i == 0 or toks[i - 1][1].lower() in ("with", "recursive", ",")):
            names.add(_name(word))
    return names
