"""Whether an incremental source's filter on the last row scored is NULL over an empty scores table: a ``max(id)``
(or ``min``) not given a value for no rows (``coalesce(max(id), -1)``), which selects no row run after run.

Why asked: ``score --append`` said so whenever a run added no row to a table still empty and read by the source,
so the README's own cron line, whose max is in coalesce, was told to write coalesce when its source had no rows yet
(a first run before the load)."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from .sqltext import source_sql

# the aggregates NULL over no rows that an incremental filter reads the last row by
_EXTREMES = {"max", "min", "arg_max", "arg_min", "last", "first", "max_by", "min_by"}
# what gives a NULL a value
_GUARDS = {"coalesce", "ifnull", "nvl"}


def _guard(node: dict[str, Any]) -> bool:
    return node.get("type") == "OPERATOR_COALESCE" or (
        node.get("class") == "FUNCTION" and str(node.get("function_name", "")).lower() in _GUARDS)


def _bare(node: Any, guarded: bool) -> bool:
    """Whether ``node``'s tree holds an extreme outside any guard (``guarded``: inside one already)."""
    if isinstance(node, list):
        return any(_bare(v, guarded) for v in node)
    if not isinstance(node, dict):
        return False
    if node.get("class") == "FUNCTION" and str(node.get("function_name", "")).lower() in _EXTREMES and not guarded:
        return True
    inner = guarded or _guard(node)
    return any(_bare(v, inner) for v in node.values())


def bare_extreme(cur: duckdb.DuckDBPyConnection, source: str) -> bool:
    """Whether ``source`` reads a ``max(...)`` (or another extreme) that no coalesce gives a value for no rows; True
    when it cannot be parsed (the note then says what it said before)."""
    try:
        parsed = json.loads(cur.execute("SELECT json_serialize_sql(?)",
                                        [f"SELECT * FROM {source_sql(source)}"]).fetchall()[0][0])
    except (duckdb.Error, ValueError, IndexError, TypeError):
        return True
    if parsed.get("error"):
        return True
    return any(_bare(n, False) for n in parsed.get("statements", []))

