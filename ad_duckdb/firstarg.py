"""The values of an anomaly function's first feature argument, for the fix of DuckDB's binder error on it.

Why: the functions type their first feature DOUBLE, so DuckDB refuses a text one ("No function matches ...") before
they run, and the fix could only be the general TRY_CAST(col AS DOUBLE), which reads every "1.234,50" or "$1,234.50"
as NULL; the functions name the expression for such amounts in every other place, from the values they see. Here the
values are read by the user's own SELECT with the argument as its only column: DuckDB's parser gives the statement
as JSON (json_serialize_sql), and json_deserialize_sql turns it back into SQL.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from .exceptions import is_interrupt

# Values read for the judgement, as the functions judge a batch by its first 10,000 (scoring.text_numbers_hint).
_ROWS = 10_000


def first_argument_values(con: duckdb.DuckDBPyConnection, statement: str, func: str, index: int) -> list[str] | None:
    """Up to ``_ROWS`` non-NULL values of argument ``index`` of the first call of ``func`` in ``statement``, read by
    its SELECT (its FROM and WHERE, without its grouping, order or limit); None where that cannot be done (not
    a SELECT, no such call, a WHERE that fails the same way)."""
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [statement]).fetchall()[0][0])
    except Exception as e:
        if is_interrupt(e):
            raise
        return None
    if tree.get("error") or len(tree.get("statements", [])) != 1:
        return None
    found = _call_in(tree["statements"][0]["node"], func.lower(), index, None)
    if found is None:
        return None
    node, arg = found
    node.update(select_list=[arg], modifiers=[], group_expressions=[], group_sets=[], having=None, qualify=None,
                aggregate_handling="STANDARD_HANDLING")
    statement_node = tree["statements"][0]
    # the SELECT around the call alone (an outer ORDER BY s names the score it no longer has), then within the whole
    # statement (a CTE it reads); a WHERE that calls the function (WHERE is_anomaly(...)) fails as the statement
    # did: then the rows without it
    wholes = ([{**statement_node, "node": node}] if statement_node["node"] is not node else []) + [statement_node]
    for whole, where in [(w, c) for w in wholes for c in (node.get("where_clause"), None)]:
        node["where_clause"] = where
        probe = {**tree, "statements": [whole]}
        try:
            sql = con.execute("SELECT json_deserialize_sql(?::JSON)", [json.dumps(probe)]).fetchall()[0][0]
            rows = con.sql(sql).limit(_ROWS).fetchall()  # the user's own SELECT, as DuckDB wrote it back
        except Exception as e:
            if is_interrupt(e):
                raise
            continue
        return [str(r[0]) for r in rows if r and r[0] is not None]
    return None


def _call_in(tree: Any, func: str, index: int, select: dict[str, Any] | None) -> tuple[dict[str, Any], Any] | None:
    """The innermost SELECT node around the first call of ``func`` in ``tree``, and that call's argument ``index``."""
    if isinstance(tree, dict):
        if tree.get("type") == "SELECT_NODE":
            select = tree
        if tree.get("class") == "FUNCTION" and str(tree.get("function_name", "")).lower() == func:
            args = [a.get("expression") if isinstance(a, dict) and "expression" in a else a
                    for a in tree.get("arguments") or tree.get("children") or []]
            return (select, args[index]) if select is not None and len(args) > index else None
        items = list(tree.values())
    elif isinstance(tree, list):
        items = tree
    else:
        return None
    for item in items:
        found = _call_in(item, func, index, select)
        if found is not None:
            return found
    return None
