"""``store_anomaly_threshold(model, name, method, options)``: ``ad_duckdb.set_threshold`` from SQL in a dbt run.

dbt's macros, hooks and ``dbt run-operation`` speak SQL only, and thresholds were stored from dbt by a Python model
or by an INSERT into ad_thresholds (no goal on labelled rows, no alarm rate). The dbt plugin creates this function on
dbt's connection; the macro ``ad_duckdb_set_threshold`` (the dbt package ad_duckdb/dbt_package) calls it with its keyword
arguments as one JSON object. It stores through a cursor of its own, so the threshold is committed at once, whatever
transaction the calling node holds: the node itself (its pre_hook stored it) and every later node see it.
"""

from __future__ import annotations

import json
import math
from typing import Any

import duckdb
from duckdb import DuckDBPyConnection
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import VARCHAR

from .exceptions import OptionError

FUNCTION = "store_anomaly_threshold"
# set_threshold's keyword arguments a method may take (progress is not: a dbt run has no terminal line to redraw)
OPTIONS = ("value", "target", "source", "label", "where", "confident", "miss_cost", "alarm_cost", "anomaly_share",
           "rate", "per_hour", "per_day", "per_week", "time", "weight")


def create_threshold_function(conn: DuckDBPyConnection) -> None:
    """Create ``store_anomaly_threshold`` on ``conn``, dbt's connection for the run (every node's cursor sees it)."""

    def store_threshold(model: str | None, name: str | None, method: str | None, options: str | None) -> str:
        return json.dumps(_store(conn, model, name, method, options))

    try:  # configured again (a second configure_connection on the connection): the new closure replaces the old
        conn.remove_function(FUNCTION)
    except duckdb.InvalidInputException:
        pass
    # Why side effects: DuckDB would otherwise fold a call of constants once and could reuse it; special NULLs: the
    # default gives NULL for a NULL argument without calling, which stored nothing and said nothing
    conn.create_function(FUNCTION, store_threshold, [VARCHAR, VARCHAR, VARCHAR, VARCHAR], VARCHAR,
                         type=PythonUDFType.NATIVE, null_handling=FunctionNullHandling.SPECIAL, side_effects=True)


def _store(conn: DuckDBPyConnection, model: str | None, name: str | None, method: str | None,
           options: str | None) -> dict[str, Any]:
    from .labelled import set_threshold
    from .udfs import registry

    for arg, v in (("model", model), ("name", name), ("method", method)):
        if v is None:
            raise OptionError(f"{FUNCTION}: {arg} is NULL; pass the model's name, the threshold's name and its "
                              "method, e.g. ad_duckdb_set_threshold('tx_ae', 'cut', 'contamination', target=0.01).")
    assert model is not None and name is not None and method is not None
    try:
        opts = json.loads(options or "{}")
    except ValueError:
        opts = None
    if not isinstance(opts, dict):
        raise OptionError(f"{FUNCTION}: options must be a JSON object of set_threshold's keyword arguments, e.g. "
                          f"'{{\"target\": 0.01}}'; got {options!r}.")
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise OptionError(f"Threshold {name!r} for {model!r}: unknown option(s) {', '.join(map(repr, unknown))}; the "
                          f"options are {', '.join(OPTIONS)} (each method takes some of them).")
    cur = conn.cursor()
    try:
        th = set_threshold(cur, model, name, method, **{k: v for k, v in opts.items() if v is not None})
        ref = registry(cur).get(model).ref  # 'tx_ae' names its latest version: the one the threshold belongs to
    finally:
        cur.close()
    out: dict[str, Any] = {"model": ref, "name": th.name, "value": th.value, "method": th.method,
                           "chosen_on": th.chosen_on}
    for k in ("precision", "recall", "f1", "flagged_share"):
        v = getattr(th, k)
        out[k] = None if v is None or not math.isfinite(v) else v
    return out
