"""``check_anomaly_calls(view_sql, relation)``: a dbt view's calls of the SQL functions, checked when it is built.

A view is only its query: ``CREATE VIEW`` binds ``anomaly_score('tx_ae', count, amount, refunds)`` without calling it,
so a call naming a model that is not stored, or passing three columns to a model of four, built OK under ``dbt build``
and failed only when someone read the view (a dashboard, the next morning). The macro ``ad_duckdb.check_calls`` (the
dbt package), as a post-hook, passes the view's SQL here; each call that names its model in the SQL (a literal, or a
``var()`` dbt rendered into one) is run once on a row of NULLs, which raises the message a read would have raised,
while the build can still fail. A call whose model comes from a column (``m.model_ref``) cannot be run without the
view's rows and is left to the tests, as is one whose features come from ``*COLUMNS([...])``, which the text shows as
one argument (probed with one NULL, a view that reads fine failed its build).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import duckdb
from duckdb import DuckDBPyConnection
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import VARCHAR

from .callerview import _nodes
from .dbtthreshold import _view_query
from .exceptions import BadInputError
from .sqltext import quote_literal
from .udfs import FUNCTIONS

FUNCTION = "check_anomaly_calls"
# the arguments before the features that a call may name as literals (the model; is_anomaly_at's threshold too)
_NAMED = {"is_anomaly_at": 2, "anomaly_threshold": 2}


def create_calls_function(conn: DuckDBPyConnection) -> None:
    """Create ``check_anomaly_calls`` on ``conn``, dbt's connection for the run (every node's cursor sees it)."""

    def check(view_sql: str | None, relation: str | None) -> str:
        return _check(conn, view_sql or "", relation or "the view")

    try:  # configured again (a second configure_connection on the connection): the new closure replaces the old
        conn.remove_function(FUNCTION)
    except duckdb.InvalidInputException:
        pass
    conn.create_function(FUNCTION, check, [VARCHAR, VARCHAR], VARCHAR, type=PythonUDFType.NATIVE,
                         null_handling=FunctionNullHandling.SPECIAL, side_effects=True)


def _text(expr: Any) -> str | None:
    """The string an argument is when it is a literal ('tx_ae'), else None (a column, an expression)."""
    if not isinstance(expr, dict) or expr.get("class") != "CONSTANT":
        return None
    lit = expr.get("literal")
    if isinstance(lit, dict):  # DuckDB 2's parse tree
        return lit.get("text") if lit.get("kind") == "STRING" else None
    value = expr.get("value")  # earlier releases'
    if isinstance(value, dict) and (value.get("type") or {}).get("id") == "VARCHAR" and not value.get("is_null"):
        return value.get("value")
    return None


def calls(cur: DuckDBPyConnection, query: str) -> list[str]:
    """Each call of ad_duckdb's functions in ``query`` that names its model as a literal, as a query that runs it
    once on NULL features (``SELECT anomaly_score('tx_ae', NULL, NULL)``); the same call once."""
    parsed = json.loads(cur.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0])
    out: list[str] = []
    for node in _nodes(parsed.get("statements", [])):
        func = node.get("function_name")
        if node.get("class") != "FUNCTION" or not isinstance(func, str) or func.lower() not in FUNCTIONS:
            continue
        given = node.get("arguments") if "arguments" in node else node.get("children")  # DuckDB 2's, earlier ones'
        args = [a.get("expression") if isinstance(a, dict) and "expression" in a else a for a in given or []]
        named = [_text(a) for a in args[: _NAMED.get(func.lower(), 1)]]
        if not args or named[0] is None or any(isinstance(a, dict) and a.get("type") == "OPERATOR_UNPACK" for a in args):
            continue  # (*COLUMNS([...]): the features it passes are counted only when bound, over the view's columns)
        shown = [quote_literal(t) if t is not None else "NULL" for t in named]
        probe = f"SELECT {func.lower()}({', '.join(shown + ['NULL'] * (len(args) - len(named)))})"
        if probe not in out:
            out.append(probe)
    return out


def _check(conn: DuckDBPyConnection, view_sql: str, relation: str) -> str:
    cur = conn.cursor()
    try:
        try:
            probes = calls(cur, _view_query(view_sql))
        except (duckdb.Error, ValueError):
            return "not checked: the view's query could not be parsed"
        for probe in probes:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a note on a row of NULLs is about the probe, not the view
                    cur.execute(probe).fetchall()
            except duckdb.Error as e:
                said = str(e).split("while executing the UDF: ", 1)[-1]
                kind, _, rest = said.partition(": ")
                said = rest if kind.endswith("Error") else said
                raise BadInputError(f"dbt view {relation} builds, but reading it fails: {said} (found by "
                                    f"ad_duckdb.check_calls: a view's query runs only when it is read, "
                                    f"{_fix(kind, said)})") from None
    finally:
        cur.close()
    return f"{len(probes)} call(s) checked"


def _fix(kind: str, said: str) -> str:
    """What to do about a failed probe: a model (or version) not stored and not a near miss of a stored name may be one
    a Python model of the same run trains, built after the view because the view does not ref() it (dbt builds in
    ref() order: on a fresh warehouse the view may come first)."""
    if kind == "ModelNotFoundError" and "Did you mean" not in said:
        return ("so if a model of this project trains it, build the view after that one: add `-- depends_on: "
                "{{ ref('the training model') }}` to the view's SQL; else fix the call in the model's SQL")
    return "so fix the call in the model's SQL"
