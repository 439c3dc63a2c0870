"""``check_anomaly_order(nodes, selected)``: a dbt run's scoring nodes checked, before any runs, to come after the
training models of the same run that train the model they name.

Why: dbt orders nodes by ``ref()`` only. A model, view or test that names a model in its SQL
(``anomaly_score('tx_ae', ...)``) while a Python model of the same run trains ``tx_ae`` may run first: it then scores
with the version before this run's training (silently: the scores and the training's threshold disagree), or fails on
a new database. The dbt package's on-run-start passes dbt's graph here (each node's code, its ``depends_on`` and
whether the run selected it) and fails the run naming the ``-- depends_on: {{ ref(...) }}`` to add.

Read from the node's code, as written: a training model naming the model in ``train_model(session, 'tx_ae', ...)``
or ``ad_duckdb.train(session, 'tx_ae', ...)``, and a call naming it bare (``'tx_ae'``, not ``'tx_ae@3'``, which no
training changes). A name given by ``var()`` or ``dbt.config.get('ad_model')`` is read with the run's values
(dbtnames); one the check cannot read is named in a warning, not guessed. A call in a comment (``--
anomaly_score('tx_ae', ...)`` commented out) calls nothing.

A view's query runs when it is read, and an ephemeral model's inside the node that reads it, so their calls are
checked on the nodes that read them (through views and ephemeral models): a view built before the training reads the
new version, while a table built from it before the training does not.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from typing import Any

from duckdb import DuckDBPyConnection

from .dbtnames import called_name, calls, trained_name
from .dbtudf import replace_function
from .udfnames import FUNCTIONS

FUNCTION = "check_anomaly_order"
_TRAINS = re.compile(r"\b(?:train_model|ad_duckdb\s*\.\s*train)\s*\(")
CALLS = re.compile(r"\b(" + "|".join(sorted(FUNCTIONS, key=len, reverse=True)) + r")\s*\(", re.IGNORECASE)
# a string or quoted name (kept: it may hold '--'), else a comment: SQL's two kinds and Jinja's
_SQL_COMMENTS = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|--[^\n]*|/\*.*?\*/|\{#.*?#\}""", re.DOTALL)
_READ_BY_READERS = ("view", "ephemeral")  # materializations whose query runs in the node that reads them


def uncommented(code: str, python: bool) -> str:
    """``code`` without its comments (a commented-out call trains or scores nothing)."""
    if not python:
        return _SQL_COMMENTS.sub(lambda m: m.group(1) or " ", code)
    lines = code.splitlines(keepends=True)
    try:
        comments = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):  # not Python dbt can run either: read as written
        return code
    for t in reversed(comments):
        row, start = t.start
        lines[row - 1] = lines[row - 1][:start] + lines[row - 1][t.end[1]:]
    return "".join(lines)


def create_order_function(conn: DuckDBPyConnection) -> None:
    """Create ``check_anomaly_order`` on ``conn``, dbt's connection for the run."""

    def check(nodes: str | None, selected: str | None) -> str:
        return order_problems(json.loads(nodes or "[]"), set(json.loads(selected or "[]")))

    replace_function(conn, FUNCTION, check, 2)


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


def _read_through(node: str, deps: dict[str, list[str]], passive: set[str]) -> list[str]:
    """The views and ephemeral models ``node`` reads, directly or through others of them (their calls run in it)."""
    seen: list[str] = []
    todo = [d for d in deps.get(node, []) if d in passive]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.append(n)
            todo.extend(d for d in deps.get(n, []) if d in passive)
    return seen


def order_problems(nodes: list[dict[str, Any]], selected: set[str]) -> str:
    """``order_check``'s refusal alone."""
    return order_check(nodes, selected)[0]


def trainings(nodes: list[dict[str, Any]], selected: set[str], code: dict[str, str] | None = None,
              ) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], dict[str, str]]:
    """The run's trainings: the selected nodes training each model by its name, every selected node that trains (its
    model's name known or not), and the note on each of them whose model's name the check cannot read, by its id."""
    code = code or {n["id"]: uncommented(n.get("code") or "", bool(n.get("python"))) for n in nodes}
    trainers: dict[str, list[dict[str, Any]]] = {}
    training: list[dict[str, Any]] = []
    unknown: dict[str, str] = {}
    for n in nodes:
        if n["id"] in selected and n.get("python"):
            for _, arg in calls(code[n["id"]], _TRAINS, 1):
                training.append(n)
                name = trained_name(arg, code[n["id"]], n)
                if name is None:
                    unknown[n["id"]] = (f"{n.get('path')} trains a model whose name the check cannot read ({arg}): "
                                        f"the nodes naming it are not checked to come after {n['name']}; ref() it "
                                        f"from them.")
                elif "@" not in name:
                    trainers.setdefault(name, []).append(n)
    return trainers, training, unknown


def order_check(nodes: list[dict[str, Any]], selected: set[str]) -> tuple[str, list[str]]:
    """What is wrong with the run's order ("" when nothing): each selected node calling a model by its bare name that
    a selected training model trains, without that model among its ancestors; and what the check could not read
    (a name it cannot tell, from a ``{% set %}`` or a column, where a training of the run is not an ancestor).
    ``nodes``: dbt's graph nodes as ``{id, name, package, path, python, deps, code, materialized, config, vars}``
    (``vars``: the values of the ``var()`` names in its code). A view's or ephemeral model's calls count as calls of
    each node reading it."""
    deps = {n["id"]: list(n.get("deps") or []) for n in nodes}
    by_id = {n["id"]: n for n in nodes}
    code = {n["id"]: uncommented(n.get("code") or "", bool(n.get("python"))) for n in nodes}
    trainers, training, unknown = trainings(nodes, selected, code)
    notes: list[str] = []
    if not training:
        return "", []
    passive = {n["id"] for n in nodes if n.get("materialized") in _READ_BY_READERS}
    said: list[str] = []
    for n in nodes:
        if n["id"] not in selected or n["id"] in passive:
            continue
        ancestors: set[str] | None = None
        for holder in [n["id"], *_read_through(n["id"], deps, passive)]:
            for m, arg in calls(code[holder], CALLS, 0):
                name = called_name(arg, by_id[holder])
                ancestors = _ancestors(n["id"], deps) if ancestors is None else ancestors
                notes.extend(note for t, note in unknown.items() if t != n["id"] and t not in ancestors)
                if name is None:
                    before = [t for t in training if t["id"] != n["id"] and t["id"] not in ancestors]
                    if before:
                        notes.append(_unread(n, by_id[holder], f"{m.group(1).lower()}({arg}, ...)", before))
                    continue
                for trainer in trainers.get(name, []) if "@" not in name else []:
                    if trainer["id"] == n["id"] or trainer["id"] in ancestors:
                        continue
                    said.append(_problem(n, by_id[holder], (m.group(1).lower(), name), trainer))
    notes = [f"ad_duckdb: not checked: {note} (the dbt package ad_duckdb's on-run-start)"
             for note in dict.fromkeys(notes)]
    if not said:
        return "", notes
    return ("ad_duckdb: " + " ".join(dict.fromkeys(said)) + " (Checked by the dbt package ad_duckdb's on-run-start; "
            "vars: {ad_duckdb_checks: false} in dbt_project.yml turns its checks off.)"), notes


def _unread(node: dict[str, Any], holder: dict[str, Any], call: str, before: list[dict[str, Any]]) -> str:
    """The note on a call whose model the check cannot tell, in a node that may run before trainings of the run."""
    where = node.get("path") or node["id"]
    where += "" if holder is node else f" (reading {holder.get('path') or holder['name']})"
    names = " or ".join(dict.fromkeys(t["name"] for t in before))
    refs = " ".join(dict.fromkeys(f"`-- depends_on: {{{{ {_ref(t, holder)} }}}}`" for t in before))
    return (f"{where} calls {call}, a model name known only when dbt compiles it; if {names} of this run trains "
            f"that model, {node['name']} may run first: add {refs} to {holder.get('path') or holder['name']}.")


def _problem(node: dict[str, Any], holder: dict[str, Any], call: tuple[str, str], trainer: dict[str, Any]) -> str:
    """The refusal of ``node``, whose run calls ``call`` (in its own code, or in ``holder``, a view or ephemeral model
    it reads) before ``trainer`` may have stored the model."""
    path = node.get("path") or node["id"]
    fix_in = holder.get("path") or holder["name"]
    if holder is node:
        who = f"{path} calls {call[0]}({call[1]!r}, ...)"
        lacks = f"{node['name']} does not ref() {trainer['name']}"
    else:
        who = f"{path} reads {holder['name']} ({fix_in}), which calls {call[0]}({call[1]!r}, ...)"
        lacks = f"neither {node['name']} nor {holder['name']} ref()s {trainer['name']}"
    ref = _ref(trainer, holder)
    return (f"{who}, and {trainer.get('path')} trains {call[1]!r} in this run, but {lacks}: dbt may run "
            f"{node['name']} first, and it would score with the version before this run's training (or fail, on a "
            f"new database). Add `-- depends_on: {{{{ {ref} }}}}` to {fix_in}, or select model_ref from "
            f"{{{{ {ref} }}}} and score with that.")
