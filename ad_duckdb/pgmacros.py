"""Which users' macros hold no aggregate, for pgsum's and pgpercentile's rewrites.

A sum of a call to a macro was left as DuckDB's (numeric) because a macro may hold an aggregate (``CREATE MACRO
total(x) AS sum(x)``), whose typed overload DuckDB's binder picks whatever the type. PostgreSQL's SQL function
returning integer makes ``sum(doubled(qty))`` bigint; so a macro whose every overload's body calls no aggregate (nor a
function that may hold one, through the macros it calls in turn) is a scalar here, and its sum is rewritten as any
other's.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from .sqltext import sql_words

# A macro's bodies (one per overload, as duckdb_functions() gives them), or None when the name is not only a scalar
# macro's (no such macro, a table macro's, an aggregate's of that name too)
Bodies = Callable[[str], "list[str] | None"]
# Whether a function's name (lower case) is a scalar macro that holds no aggregate
Scalar = Callable[[str], bool]


def scalar_macros(bodies: Bodies, holds_aggregate: Callable[[list[tuple[int, str, str]], Scalar], bool]) -> Scalar:
    """A test of a name, asking ``bodies`` once per name; ``holds_aggregate`` tells whether a body's tokens call an
    aggregate, given this test for the names they call. A macro met again while its own body is read (DuckDB
    refuses recursive macros, but a name may be dropped and made anew) counts as holding one."""
    seen: dict[str, bool] = {}

    def scalar(name: str) -> bool:
        if name in seen:
            return seen[name]
        seen[name] = False  # while its body is read
        found = bodies(name)
        ok = found is not None and all(not holds_aggregate(_tokens(body), scalar) for body in found)
        seen[name] = ok
        return ok

    return scalar


def _tokens(body: str) -> list[tuple[int, str, str]]:
    """A macro body's tokens; a body DuckDB cannot tokenize holds, for the caller, an unknown function."""
    try:
        return sql_words(body)
    except duckdb.Error:
        return [(0, "unreadable", "identifier"), (0, "(", "operator"), (0, ")", "operator")]
