"""``check_anomaly_run_start(nodes, selected)``: the dbt package's on-run-start, at once: the training order
(dbtorder), and each selected view's calls that can be checked from its code before it is built.

Why the views here too: the on-run-end check (dbtcalls) finds a view whose read would fail (a model not stored, three
columns given to a model of four) only after every node ran, so a long build was wasted before it failed. A call whose
model and threshold the code names (a literal, or a ``var()`` / ``config.get()`` dbtnames reads) and whose features
are plain expressions is probed here, on NULLs, as the on-run-end check probes it, and the run stops before any
node runs. Left to the on-run-end check (on the SQL dbt compiled): a view with a Jinja block (``{% if %}`` may leave a
call out, ``{% for %}`` repeat it), a call whose model is a column or a ``{{ m }}``, features from Jinja or
``*COLUMNS``, a model a training of the run stores (the version it reads is not stored yet), and a threshold
(``is_anomaly_at``'s is probed as ``anomaly_score``'s: a hook or an earlier node of the run may store the threshold).
"""

from __future__ import annotations

import json
from typing import Any

from duckdb import DuckDBPyConnection

from .dbtcalls import NAMED, OFF, probe_failure
from .dbtnames import arguments, called_name
from .dbtorder import CALLS, order_check, trainings, uncommented
from .dbtudf import replace_function
from .sqltext import quote_literal

FUNCTION = "check_anomaly_run_start"
_BY = "the dbt package ad_duckdb's on-run-start check, before any node ran"


def create_run_start_function(conn: DuckDBPyConnection) -> None:
    """Create ``check_anomaly_run_start`` on ``conn``, dbt's connection for the run: a JSON ``{problem, notes}``."""

    def check(nodes: str | None, selected: str | None) -> str:
        given, chosen = json.loads(nodes or "[]"), set(json.loads(selected or "[]"))
        problem, notes = order_check(given, chosen)
        views = view_problems(conn, given, chosen)
        return json.dumps({"problem": " ".join(p for p in [problem, *views] if p), "notes": notes})

    replace_function(conn, FUNCTION, check, 2)


def _probe(node: dict[str, Any], code: str, start: int, func: str) -> tuple[str, str] | None:
    """The probe of the call whose ``(`` is at ``start`` and the model it names, or None when its code does not tell
    them fully."""
    args = arguments(code, start)
    named = NAMED.get(func, 1)
    names = [called_name(a, node) for a in args[:named]]
    features = args[named:]
    if len(names) < named or any(n is None for n in names):
        return None
    if any(not f or "{" in f or f.startswith("*") or "COLUMNS" in f.upper() for f in features):
        return None
    if named > 1:
        # Why not the threshold: a hook or node of this run may store it (a pre_hook's set_threshold, the project's
        # own on-run-start, which dbt runs after the package's), so only the model and its features are checked here;
        # the on-run-end check reads the threshold once the run stored it
        if not features:
            return None
        func, names = "anomaly_score", names[:1]
    probe = f"SELECT {func}({', '.join([quote_literal(str(n)) for n in names] + ['NULL'] * len(features))})"
    return probe, str(names[0]).split("@")[0]


def view_problems(conn: DuckDBPyConnection, nodes: list[dict[str, Any]], selected: set[str]) -> list[str]:
    """Each selected view whose read would fail, found by its calls that name their model in its code, one message
    each (as the on-run-end check words it, naming the view's file)."""
    trainers, _, unknown = trainings(nodes, selected)
    said: list[str] = []
    cur = conn.cursor()
    try:
        for n in nodes:
            if n["id"] not in selected or n.get("materialized") != "view" or n.get("python"):
                continue
            code = uncommented(n.get("code") or "", False)
            if "{%" in code:
                continue
            for m in CALLS.finditer(code):
                planned = _probe(n, code, m.end() - 1, m.group(1).lower())
                if planned is None or unknown or planned[1] in trainers:
                    continue
                failed = probe_failure(cur, planned[0], f"dbt view {n['name']} ({n.get('path')}) would build", _BY, OFF)
                if failed is not None:
                    said.append(failed)
                    break
    finally:
        cur.close()
    return said
