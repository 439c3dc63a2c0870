"""``check_anomaly_order(nodes, selected)``: a dbt run's scoring nodes checked, before any runs, to come after the
training models of the same run that train the model they name.

Why: dbt orders nodes by ``ref()`` only. A model, view or test that names a model in its SQL
(``anomaly_score('tx_ae', ...)``) while a Python model of the same run trains ``tx_ae`` may run first: it then scores
with the version before this run's training (silently: the scores and the training's threshold disagree), or fails on
a new database. The dbt package's on-run-start passes dbt's graph here (each node's code, its ``depends_on`` and
whether the run selected it) and fails the run naming the ``-- depends_on: {{ ref(...) }}`` to add.

Read from the node's code, as written: a training model naming the model in ``train_model(session, 'tx_ae', ...)``
or ``ad_duckdb.train(session, 'tx_ae', ...)``, and a call naming it bare (``'tx_ae'``, not ``'tx_ae@3'``, which no
training changes). A name given by a variable (``dbt.config.get('ad_model')``, ``var()``) is not seen.
"""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb
from duckdb import DuckDBPyConnection
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import VARCHAR

from .udfs import FUNCTIONS

FUNCTION = "check_anomaly_order"
_TRAINS = re.compile(r"""\b(?:train_model|ad_duckdb\s*\.\s*train)\s*\(\s*[^,()'"]+,\s*(?:name\s*=\s*)?(['"])([^'"@]+)\1""")
_CALLS = re.compile(r"\b(" + "|".join(sorted(FUNCTIONS, key=len, reverse=True)) + r")\s*\(\s*'([^'@{}]+)'",
                    re.IGNORECASE)


def create_order_function(conn: DuckDBPyConnection) -> None:
    """Create ``check_anomaly_order`` on ``conn``, dbt's connection for the run."""

    def check(nodes: str | None, selected: str | None) -> str:
        return order_problems(json.loads(nodes or "[]"), set(json.loads(selected or "[]")))

    try:  # configured again (a second configure_connection on the connection): the new closure replaces the old
        conn.remove_function(FUNCTION)
    except duckdb.InvalidInputException:
        pass
    conn.create_function(FUNCTION, check, [VARCHAR, VARCHAR], VARCHAR, type=PythonUDFType.NATIVE,
                         null_handling=FunctionNullHandling.SPECIAL, side_effects=True)


def _ancestors(node: str, deps: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(deps.get(node, []))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(deps.get(n, []))
    return seen


def _ref(trainer: dict[str, Any], caller: dict[str, Any]) -> str:
    """The ``ref()`` ``caller`` writes for ``trainer`` (with the package's name when it is another package's)."""
    if trainer.get("package") and trainer.get("package") != caller.get("package"):
        return f"ref('{trainer['package']}', '{trainer['name']}')"
    return f"ref('{trainer['name']}')"


def order_problems(nodes: list[dict[str, Any]], selected: set[str]) -> str:
    """What is wrong with the run's order ("" when nothing): each selected node calling a model by its bare name that
    a selected training model trains, without that model among its ancestors. ``nodes``: dbt's graph nodes as
    ``{id, name, package, path, python, deps, code}``."""
    deps = {n["id"]: list(n.get("deps") or []) for n in nodes}
    trainers: dict[str, list[dict[str, Any]]] = {}
    for n in nodes:
        if n["id"] in selected and n.get("python"):
            for m in _TRAINS.finditer(n.get("code") or ""):
                trainers.setdefault(m.group(2), []).append(n)
    said: list[str] = []
    for n in nodes:
        if n["id"] not in selected or not trainers:
            continue
        code = n.get("code") or ""
        for call in dict.fromkeys((m.group(1).lower(), m.group(2)) for m in _CALLS.finditer(code)):
            for trainer in trainers.get(call[1], []):
                if trainer["id"] == n["id"] or trainer["id"] in _ancestors(n["id"], deps):
                    continue
                said.append(
                    f"{n.get('path') or n['id']} calls {call[0]}({call[1]!r}, ...), and {trainer.get('path')} trains "
                    f"{call[1]!r} in this run, but {n['name']} does not ref() {trainer['name']}: dbt may run it first, "
                    f"and it would score with the version before this run's training (or fail, on a new database). "
                    f"Add `-- depends_on: {{{{ {_ref(trainer, n)} }}}}` to {n.get('path') or n['name']}, or select "
                    f"model_ref from {{{{ {_ref(trainer, n)} }}}} and score with that.")
    if not said:
        return ""
    return ("ad_duckdb: " + " ".join(dict.fromkeys(said)) + " (Checked by the dbt package ad_duckdb's on-run-start; "
            "vars: {ad_duckdb_checks: false} in dbt_project.yml turns its checks off.)")
