"""Which model names a call's model argument holds when it is a column (``anomaly_score(m.model_ref, ...)``).

Why: ``check_calls`` ran only calls naming their model in the SQL, so the way the README recommends scoring (the
training model's ``model_ref``, selected in a CTE) was never checked: a view passing three columns to a model of four
still built OK. The argument's distinct values are read with the query's own FROM and WHERE (``SELECT DISTINCT
m.model_ref FROM stg t CROSS JOIN m WHERE ...``), each then probed as a literal name. Reading them scans the view's
sources, so the read is bounded in time (a view over a large remote file is left unchecked, and the log says so).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import duckdb
from duckdb import DuckDBPyConnection

SECONDS = 5.0  # the longest a read of one call's model names may take before the call is left unchecked
MOST = 50  # the most distinct model names probed per call (a view naming more is rare: the rest are left unchecked)


def distinct_query(statement: dict[str, Any], select: dict[str, Any], arg: dict[str, Any]) -> str | None:
    """``SELECT DISTINCT arg FROM ... WHERE ...`` of the SELECT node ``select`` (in ``statement``, whose CTEs it may
    read), as SQL text; None when DuckDB cannot write the tree back."""
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
