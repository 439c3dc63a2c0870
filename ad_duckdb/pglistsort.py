"""DuckDB's list sorts keep DuckDB's NULL order under the server's PostgreSQL one.

The server sets DuckDB's default_null_order so that an ORDER BY puts NULLs first descending, as PostgreSQL does
(pgbackend). The setting is global to DuckDB: it also turned its list functions around, which take the default when
no NULL order is given (``list_sort([3, NULL, 1], 'DESC')`` gave ``[NULL, 3, 1]``, ``list_reverse_sort`` and
``list_grade_up(l, 'DESC')`` alike), where DuckDB documents NULLs last. PostgreSQL has none of these functions, so
DuckDB's answer is the one to give: each call without a NULL order gets DuckDB's own, ``'NULLS LAST'``. Stored
definitions (a view's text) get it too: it is DuckDB's own argument, and makes the view read the same outside the
server."""

from __future__ import annotations

from collections.abc import Callable

from .pgsumscope import call_arguments, closing
from .sqltext import words_if

# each sort -> how many arguments come before its NULL order
_SORTS = {"list_sort": 2, "array_sort": 2, "list_reverse_sort": 1, "array_reverse_sort": 1, "list_grade_up": 2,
          "array_grade_up": 2, "grade_up": 2}


def list_null_orders(sql: str, schemas: Callable[[str], frozenset[str]] | None = None) -> str:
    """``sql`` with DuckDB's NULL order (``'NULLS LAST'``) given to each list sort whose order puts NULLs at the
    setting's mercy (module doc): ``list_sort(l, 'DESC')``, ``list_reverse_sort(l)``, ``list_grade_up(l, 'DESC')``.
    ``schemas`` gives the schemas (lower case) with a function of a name (lower case), asked only of a call whose
    count is the method form's: ``util.list_reverse_sort()`` is the user's own macro where schema ``util`` has one;
    where it has none, ``util`` is a list column's name and the call its method, as DuckDB binds it."""
    toks = words_if(sql, "sort", "grade_up")
    if toks is None:
        return sql
    for i in range(len(toks) - 2, -1, -1):  # from the end: each rewrite leaves the offsets before it as they are
        before = _SORTS.get(toks[i][1].lower())
        if before is None or toks[i + 1][1] != "(" or toks[i][2] not in ("identifier", "keyword"):
            continue
        close = closing(toks, i + 1)
        # DuckDB's method form, l.list_sort('DESC') or [3, NULL, 1].list_reverse_sort(), passes the list before the
        # dot; a name before the dot may also be a schema's (a user's own macro util.list_sort(l, k), which is not
        # DuckDB's and must keep its arguments): it is taken as the list, so a call gets the NULL order only where
        # its count is the method form's and what it passes is a sort order (a string: DuckDB takes constants only;
        # util.list_sort(x) passes a list)
        dotted = i > 0 and toks[i - 1][1] == "."
        args = [] if close is None else call_arguments(toks, i + 1, close)
        given = -1 if close is None else len(args)
        if close is None or given + dotted != before \
                or dotted and any(a != b or toks[a][2] != "string_const" for a, b in args) \
                or dotted and i >= 2 and schemas is not None and _name(toks[i - 2][1]) in schemas(toks[i][1].lower()):
            continue  # (a list_sort(l) sorts ascending, NULLs last either way; one with its NULL order keeps it)
        at = toks[close][0]
        sql = f"{sql[:at]}{', ' if given else ''}'NULLS LAST'{sql[at:]}"
    return sql


def _name(word: str) -> str:
    """An identifier as DuckDB resolves it: unquoted, lower case (DuckDB's names are case-insensitive)."""
    return (word[1:-1].replace('""', '"') if word.startswith('"') else word).lower()
