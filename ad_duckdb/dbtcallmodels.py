"""Which model names a call's model argument holds when it is a column (``anomaly_score(m.model_ref, ...)``).

Why: ``check_calls`` ran only calls naming their model in the SQL, so the way the README recommends scoring (the
training model's ``model_ref``, selected in a CTE) was never checked: a view passing three columns to a model of four
still built OK. The model names are read by running the view's own query with each call of the functions replaced by
a recorder of the model names it is given (``CAST(recorder(0, m.model_ref) AS DOUBLE)``): the query keeps its shape,
so the recorder sees the names the real query passes, no more. A name only rows that a HAVING, an outer filter, a
LIMIT or another CASE branch leave out never reaches the call, and a view reading fine must not fail the check
(rebuilding the query around the argument, ``SELECT DISTINCT m.model_ref FROM ... WHERE ...``, saw them all). Each
name is then probed as a literal. Reading them runs the view's query, so the read is bounded in time (a view over a
large remote file is left unchecked, and the log says so).
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from typing import Any

import duckdb
import pyarrow as pa
from duckdb import DuckDBPyConnection
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import INTEGER, VARCHAR

SECONDS = 5.0  # the longest a read of the calls' model names may take before they are left unchecked
MOST = 50  # the most distinct model names probed per call (a view naming more is rare: the rest are left unchecked)
_ARG = "__ad_duckdb_model_argument"  # the placeholder column the recorder's call is parsed with


class _TooMany(Exception):
    """A call was given over ``MOST`` model names (the query is stopped: the rest would not be probed anyway)."""


def _column_ref(tree: Any) -> dict[str, Any] | None:
    """The placeholder's node in ``tree`` (where the call's model argument goes)."""
    if isinstance(tree, dict):
        if tree.get("class") == "COLUMN_REF" and tree.get("column_names") == [_ARG]:
            return tree
        tree = list(tree.values())
    if isinstance(tree, list):
        for v in tree:
            if (found := _column_ref(v)) is not None:
                return found
    return None


def record_calls(cur: DuckDBPyConnection, calls: list[tuple[dict[str, Any], dict[str, Any]]], recorder: str) -> None:
    """Replace each call node (in place, in its parsed statement) by ``CAST(recorder(i, model) AS <its type>)``, ``i``
    its index in ``calls`` (each ``(call node, model argument)``)."""
    names = sorted({str(node["function_name"]).lower() for node, _ in calls})
    types = dict(cur.execute("SELECT function_name, any_value(return_type) FROM duckdb_functions() "
                             "WHERE function_name IN (SELECT unnest(?)) GROUP BY ALL", [names]).fetchall())
    for i, (node, arg) in enumerate(calls):
        sql = f"SELECT CAST({recorder}({i}, {_ARG}) AS {types.get(str(node['function_name']).lower(), 'VARCHAR')})"
        tree = json.loads(cur.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
        replacement = tree["statements"][0]["node"]["select_list"][0]
        hole = _column_ref(replacement)
        assert hole is not None  # the placeholder parsed above
        hole.clear()
        hole.update(copy.deepcopy(arg))
        alias = node.get("alias", "")
        node.clear()
        node.update(replacement, alias=alias)


def model_names(cur: DuckDBPyConnection, parsed: dict[str, Any], calls: list[tuple[dict[str, Any], dict[str, Any]]],
                ) -> tuple[list[list[str]] | None, str]:
    """The distinct non-NULL model names each of ``calls`` (in ``parsed``, the view's query as DuckDB parsed it) is
    given when the query runs, at most ``MOST`` each, and why not (None and a reason) when the query fails, is refused
    by DuckDB or takes longer than ``SECONDS``. ``parsed`` is changed: every call is the recorder's."""
    recorder = "_ad_duckdb_seen_" + uuid.uuid4().hex  # its own name: two threads' checks may run at once
    seen: list[set[str]] = [set() for _ in calls]

    def record(ids: pa.Array, models: pa.Array) -> pa.Array:
        for i, m in zip(ids.to_pylist(), models.to_pylist(), strict=True):
            if m is not None and i is not None:
                seen[i].add(str(m))
                if len(seen[i]) > MOST:
                    raise _TooMany
        return pa.nulls(len(ids), pa.string())

    record_calls(cur, calls, recorder)
    # side_effects=False, as the functions it stands for: the optimizer treats it as it treats them
    cur.create_function(recorder, record, [INTEGER, VARCHAR], VARCHAR, type=PythonUDFType.ARROW,
                        null_handling=FunctionNullHandling.SPECIAL, side_effects=False)
    timer = threading.Timer(SECONDS, cur.interrupt)  # Why a timer: DuckDB has no statement timeout
    try:
        try:
            deserialized = cur.execute("SELECT json_deserialize_sql(?)", [json.dumps(parsed)]).fetchall()[0][0]
        except duckdb.Error:
            return None, "its query could not be written back with the calls recorded"
        timer.start()
        # hash(q): every column of every row is computed (a count(*) would let DuckDB drop the calls' columns)
        cur.execute(f"SELECT max(hash(q)) FROM ({deserialized}) AS q").fetchall()
    except duckdb.InterruptException:
        return None, f"reading the model names its column holds took over {SECONDS:g} s"
    except duckdb.Error as e:
        if "_TooMany" in str(e):
            return None, f"its column holds over {MOST} model names"
        return None, f"its model names could not be read ({str(e).splitlines()[0]})"
    finally:
        timer.cancel()
        cur.remove_function(recorder)
    return [sorted(s) for s in seen], ""
