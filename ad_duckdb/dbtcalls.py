"""``check_anomaly_calls(view_sql, relation)``: a dbt view's calls of the SQL functions, checked when it is built.

A view is only its query: ``CREATE VIEW`` binds ``anomaly_score('tx_ae', count, amount, refunds)`` without calling it,
so a call naming a model that is not stored, or passing three columns to a model of four, built OK under ``dbt build``
and failed only when someone read the view (a dashboard, the next morning). The macro ``ad_duckdb.check_calls`` (the
dbt package), as a post-hook, passes the view's SQL here; each call that names its model in the SQL (a literal, or a
``var()`` dbt rendered into one) is run once on a row of NULLs, which raises the message a read would have raised,
while the build can still fail. A call whose model comes from a column (``m.model_ref``, as the README scores) is run
once per model name the column holds (dbtcallmodels reads them); ``*COLUMNS(['a', 'b'])`` counts as its names. A call
left unchecked (a pattern's columns, names too slow to read) is named in the result, which the macro logs.

The dbt package's on-run-end calls ``check_anomaly_views`` on every view the run built, so a project with the package
gets the check without the post-hook (a view the post-hook checked, with the SQL it checked, is left out there).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import duckdb
from duckdb import DuckDBPyConnection

from .dbtcallmodels import model_names
from .dbtthreshold import _view_query
from .dbtudf import replace_function
from .exceptions import BadInputError
from .sqltext import quote_literal
from .udfnames import FUNCTIONS

FUNCTION = "check_anomaly_calls"
VIEWS_FUNCTION = "check_anomaly_views"  # the package's on-run-end: every view the run built, at once
# the arguments before the features that a call may name as literals (the model; is_anomaly_at's threshold too)
NAMED = {"is_anomaly_at": 2, "anomaly_threshold": 2}


def create_calls_function(conn: DuckDBPyConnection) -> None:
    """Create ``check_anomaly_calls`` on ``conn``, dbt's connection for the run (every node's cursor sees it)."""

    # Why: a project giving its views the post-hook also gets the package's on-run-end, which checked each of them
    # again (its column probes scan the view's sources twice, and its notes were logged twice); a view the post-hook
    # checked as it now reads (the same SQL) is left out at the end
    checked: set[tuple[str, str]] = set()

    def check(view_sql: str | None, relation: str | None) -> str:
        said = _check(conn, view_sql or "", relation or "the view")
        checked.add((relation or "", view_sql or ""))
        return said

    def views(relations: str | None) -> str:
        return check_views(conn, relations or "[]", checked)

    replace_function(conn, FUNCTION, check, 2)
    replace_function(conn, VIEWS_FUNCTION, views, 1)


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


def _args(node: dict[str, Any]) -> list[Any]:
    given = node.get("arguments") if "arguments" in node else node.get("children")  # DuckDB 2's, earlier ones'
    return [a.get("expression") if isinstance(a, dict) and "expression" in a else a for a in given or []]


def _unpacked(arg: Any) -> int | None:
    """How many features an argument passes: 1, or the names of ``*COLUMNS(['a', 'b'])`` (None for a pattern or a
    lambda, whose columns are known only when the view is bound)."""
    if not (isinstance(arg, dict) and arg.get("type") == "OPERATOR_UNPACK"):
        return 1
    star = (arg.get("children") or [{}])[0]
    listed = star.get("expr") if isinstance(star, dict) else None
    if not (isinstance(listed, dict) and listed.get("function_name") == "list_value"):
        return None
    names = [_text(a) for a in _args(listed)]
    return len(names) if names and all(n is not None for n in names) else None


def _walk(tree: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a parsed statement."""
    if isinstance(tree, dict):
        yield tree
        for v in tree.values():
            yield from _walk(v)
    elif isinstance(tree, list):
        for v in tree:
            yield from _walk(v)


def plan(cur: DuckDBPyConnection, query: str) -> tuple[list[str], list[str]]:
    """The probes that check ``query``'s calls of ad_duckdb's functions, each once on NULL features
    (``SELECT anomaly_score('tx_ae', NULL, NULL)``), and the calls it cannot check, each with the reason.

    A call whose model is a column (``m.model_ref``) is probed once per model name the query passes it (dbtcallmodels
    runs the query with the calls recorded)."""
    parsed = json.loads(cur.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0])
    probes: list[str] = []
    unchecked: list[str] = []
    calls: list[tuple[dict[str, Any], dict[str, Any]]] = []  # every call, as (its node, its model argument)
    planned: list[tuple[str, list[str | None], int, str]] = []  # each call checked: function, names, features, shown
    for node in _walk(parsed.get("statements", [])):
        func = node.get("function_name")
        if node.get("class") != "FUNCTION" or not isinstance(func, str) or func.lower() not in FUNCTIONS:
            continue
        args = _args(node)
        if not args:
            continue
        calls.append((node, args[0]))
        named = [_text(a) for a in args[: NAMED.get(func.lower(), 1)]]
        counts = [_unpacked(a) for a in args[len(named):]]
        start, length = node.get("query_location"), node.get("query_location_length")
        shown = query[start:start + length] if isinstance(start, int) and isinstance(length, int) else func
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        if any(n is None for n in counts):
            unchecked.append(f"{shown} (its features are *COLUMNS of a pattern, counted only when read)")
            planned.append(("", [], 0, shown))
            continue
        planned.append((func.lower(), named, sum(c or 0 for c in counts), shown))
    found: list[list[str]] | None = None
    why = ""
    if any(named and named[0] is None for _, named, _, _ in planned):
        found, why = model_names(cur, parsed, calls)
    for i, (func, named, features, shown) in enumerate(planned):
        if not func:
            continue
        names: list[str | None] = [named[0]]
        if named[0] is None:
            if found is None:
                unchecked.append(f"{shown} (its model comes from a column: {why})")
                continue
            names = list(found[i])
        for name in names:
            literals = [quote_literal(t) if t is not None else "NULL" for t in [name, *named[1:]]]
            probe = f"SELECT {func}({', '.join(literals + ['NULL'] * features)})"
            if probe not in probes:
                probes.append(probe)
    return probes, unchecked


_POST_HOOK = "ad_duckdb.check_calls"
# Why its own words: a project gets this check from the package's on-run-end without adding anything, so the message
# names where it comes from and how to turn it off (a view the check reads wrong must not block every build)
ON_RUN_END = "the dbt package ad_duckdb's on-run-end check"
OFF = "; vars: {ad_duckdb_checks: false} in dbt_project.yml turns its checks off"


def _check(conn: DuckDBPyConnection, view_sql: str, relation: str) -> str:
    failed, said = _outcome(conn, view_sql, relation)
    if failed is not None:
        raise BadInputError(failed)
    return said


def _outcome(conn: DuckDBPyConnection, view_sql: str, relation: str,
             by: str = _POST_HOOK, off: str = "") -> tuple[str | None, str]:
    """The view's failure (None when its calls read fine) and what was checked: ``"2 call(s) checked"``, and the calls
    that could not be, with the reason (``; not checked: anomaly_score(m.model_ref, ...) (...)``)."""
    cur = conn.cursor()
    try:
        try:
            probes, unchecked = plan(cur, _view_query(view_sql))
        except (duckdb.Error, ValueError):
            return None, "not checked: the view's query could not be parsed"
        for probe in probes:
            if (failed := probe_failure(cur, probe, f"dbt view {relation} builds", by, off)) is not None:
                return failed, ""
    finally:
        cur.close()
    return None, f"{len(probes)} call(s) checked" + (f"; not checked: {'; '.join(unchecked)}" if unchecked else "")


def probe_failure(cur: DuckDBPyConnection, probe: str, what: str, by: str, off: str) -> str | None:
    """Why reading the view fails, as found by running ``probe`` (a call on NULLs), or None when it runs; ``what``
    opens the message (``dbt view "wh"."analytics"."v" builds``), ``by`` names the check, ``off`` how to turn it off."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a note on a row of NULLs is about the probe, not the view
            cur.execute(probe).fetchall()
    except duckdb.Error as e:
        said = str(e).split("while executing the UDF: ", 1)[-1]
        kind, _, rest = said.partition(": ")
        said = rest if kind.endswith("Error") else said
        return (f"{what}, but reading it fails: {said} (found by {by}: a view's query runs only when it is read, "
                f"{_fix(kind, said)}{off})")
    return None


def check_views(conn: DuckDBPyConnection, relations: str, checked: set[tuple[str, str]] | None = None) -> str:
    """``_outcome`` of each view of ``relations`` (a JSON list of [database, schema, name, shown]), as a JSON object:
    ``failed`` (every failing view's message) and ``notes`` (each view with calls left unchecked). A view in
    ``checked`` (its shown name and SQL, as the post-hook checked it) is not checked again."""
    failed: list[str] = []
    notes: list[str] = []
    checked = checked or set()
    cur = conn.cursor()
    try:
        for database, schema, name, shown in json.loads(relations):
            rows = cur.execute("SELECT sql FROM duckdb_views() WHERE database_name = ? AND schema_name = ? "
                               "AND view_name = ?", [database, schema, name]).fetchall()
            if not rows or (shown, rows[0][0]) in checked:
                continue
            bad, said = _outcome(conn, rows[0][0], shown, ON_RUN_END, OFF)
            if bad is not None:
                failed.append(bad)
            elif "not checked" in said:
                notes.append(f"{shown}: {said}")
    finally:
        cur.close()
    return json.dumps({"failed": failed, "notes": notes})


def _fix(kind: str, said: str) -> str:
    """What to do about a failed probe: a model (or version) not stored and not a near miss of a stored name may be one
    a Python model of the same run trains, built after the view because the view does not ref() it (dbt builds in
    ref() order: on a fresh warehouse the view may come first)."""
    if kind == "ModelNotFoundError" and "Did you mean" not in said:
        return ("so if a model of this project trains it, build the view after that one: add `-- depends_on: "
                "{{ ref('the training model') }}` to the view's SQL; else fix the call in the model's SQL")
    return "so fix the call in the model's SQL"
