"""Which model names a call's model argument holds when it is a column (``anomaly_score(m.model_ref, ...)``).

Why: ``check_calls`` ran only calls naming their model in the SQL, so the way the README recommends scoring (the
training model's ``model_ref``, selected in a CTE) was never checked: a view passing three columns to a model of four
still built OK. The argument's distinct values are read with the query's own FROM and WHERE (``SELECT DISTINCT
m.model_ref FROM stg t CROSS JOIN m WHERE ...``), each then probed as a literal name. A call in a CASE branch (or an
``if()``'s) reads the values of the rows that branch takes (``CASE WHEN s.model = 'a' THEN anomaly_score(s.model, x, y)
ELSE anomaly_score(s.model, x) END``: each call with its own models), else a valid view would fail the check. Reading them scans the view's
sources, so the read is bounded in time (a view over a large remote file is left unchecked, and the log says so).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import duckdb
from duckdb import DuckDBPyConnection

# a value only some rows take: a CASE's THEN or ELSE, an if()'s second or third argument; and the node holding it
Guard = tuple[dict[str, Any], tuple[Any, ...]]

SECONDS = 5.0  # the longest a read of one call's model names may take before the call is left unchecked
MOST = 50  # the most distinct model names probed per call (a view naming more is rare: the rest are left unchecked)


def branches(node: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Where, in a CASE or ``if()`` node, the values are that only the rows its conditions pick take (their paths)."""
    if node.get("type") == "CASE_EXPR":
        return [("case_checks", i, "then_expr") for i in range(len(node.get("case_checks") or []))] + [("else_expr",)]
    if node.get("class") == "FUNCTION" and str(node.get("function_name")).lower() in ("if", "iff"):
        key = "arguments" if "arguments" in node else "children"  # DuckDB 2's, earlier ones'
        given = node.get(key) or []
        if len(given) == 3:
            return [(key, i, "expression") if isinstance(given[i], dict) and "expression" in given[i] else (key, i)
                    for i in (1, 2)]
    return []


def at(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _guarded(arg: dict[str, Any], guards: tuple[Guard, ...], null: dict[str, Any]) -> dict[str, Any]:
    """``arg`` where the call holding it runs: each CASE or if() around it kept with its conditions, the branch
    holding the call giving ``arg`` and every other one NULL (a model column read for the rows the branch takes)."""
    value = copy.deepcopy(arg)
    for node, path in reversed(guards):
        outer = copy.deepcopy(node)
        for other in branches(outer):
            at(outer, other[:-1])[other[-1]] = value if other == path else copy.deepcopy(null)
        value = outer
    return value


def distinct_query(statement: dict[str, Any], select: dict[str, Any], arg: dict[str, Any],
                   guards: tuple[Guard, ...] = (), null: dict[str, Any] | None = None) -> str | None:
    """``SELECT DISTINCT arg FROM ... WHERE ...`` of the SELECT node ``select`` (in ``statement``, whose CTEs it may
    read), as SQL text; None when DuckDB cannot write the tree back. ``guards``: the CASE and if() branches around the
    call, whose conditions pick the rows read (``null``: a NULL constant's tree, for the other branches)."""
    if guards and null is not None:
        arg = _guarded(arg, guards, null)
    node = copy.deepcopy(select)
    outer = (statement.get("cte_map") or {}).get("map") or []
    own = (node.get("cte_map") or {}).get("map") or []
    names = {c.get("key") for c in own}
    node["cte_map"] = {"map": own + [c for c in outer if c.get("key") not in names]}
    node["select_list"] = [dict(copy.deepcopy(arg), alias="")]
    node["modifiers"] = [{"type": "DISTINCT_MODIFIER", "distinct_on_targets": []}]
    # every row's value, grouped or not: a call inside an aggregate runs on each row before its group is formed
    for key, empty in (("group_expressions", []), ("group_sets", []), ("having", None), ("qualify", None)):
        if key in node:
            node[key] = empty
    return json.dumps({"error": False, "statements": [{"node": node}]})


def model_names(cur: DuckDBPyConnection, tree: str) -> tuple[list[str] | None, str]:
    """The distinct non-NULL values of the query ``tree`` (``distinct_query``'s), at most ``MOST``, and why not
    (None and a reason) when it fails, is refused by DuckDB or takes longer than ``SECONDS``."""
    try:
        deserialized = cur.execute("SELECT json_deserialize_sql(?)", [tree]).fetchall()[0][0]
    except duckdb.Error:
        return None, "its model argument could not be written as a query of its own"
    timer = threading.Timer(SECONDS, cur.interrupt)  # Why a timer: DuckDB has no statement timeout
    timer.start()
    try:
        rows = cur.execute(f"SELECT v::VARCHAR FROM ({deserialized}) AS q(v) WHERE v IS NOT NULL "
                           f"LIMIT {int(MOST + 1)}").fetchall()
    except duckdb.InterruptException:
        return None, f"reading the model names its column holds took over {SECONDS:g} s"
    except duckdb.Error as e:
        return None, f"its model names could not be read ({str(e).splitlines()[0]})"
    finally:
        timer.cancel()
    if len(rows) > MOST:
        return None, f"its column holds over {MOST} model names"
    return [str(r[0]) for r in rows], ""
