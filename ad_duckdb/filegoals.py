"""Threshold goals that came in a model file: kept for the user to read, never run.

A goal (what a threshold was chosen for on labelled rows) holds SQL: its source, where and weight, which a retrain
with carry_thresholds runs to choose the threshold again, and evaluate's overlap note runs too. A file's goals are
text of whoever wrote the file: a crafted file made the importing database run a SELECT of its choosing (read a
file with read_text, a table the goal had no business with) at its next carrying retrain, and print the result in
the warning. So a file's goals move to ``IMPORTED`` as it is read; a retrain carries such a cut at its point of the
training scores and names the command that chooses it again on rows the user names; once the user sets it, the goal
is theirs again.
"""

from __future__ import annotations

import shlex
from typing import Any

# Key of ad_models.metrics holding the goals ad_duckdb runs (store.GOALS)
GOALS = "threshold_goals"
# Key holding the goals that came in a model file, per threshold name: shown, never run
IMPORTED = "imported_threshold_goals"
# What models.import_record writes as an imported version's source
_IMPORTED_SOURCE = "imported from "
# How much of a file's value a message shows: a file can hold a megabyte of it
_SHOWN = 200


def from_file(metrics: dict[str, Any]) -> dict[str, Any]:
    """``metrics`` as read from a model file: its goals (and any the file's own import kept) under ``IMPORTED``,
    none under ``GOALS``. Why ``IMPORTED`` always set, even empty: it marks goals stored beside it as the user's."""
    own, imported = split(metrics, None)
    return {k: v for k, v in metrics.items() if k != GOALS} | {IMPORTED: imported | own}


def split(metrics: dict[str, Any] | None, source: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The goals of a version that ad_duckdb may run (set in this database) and those that came in a file.
    ``source``: the version's ad_models.source. Why it: a release before this one stored an imported file's goals
    as the version's own, without ``IMPORTED``; its "imported from ..." source says they came in the file."""
    metrics = metrics or {}
    kept, came = metrics.get(GOALS), metrics.get(IMPORTED)
    own = dict(kept) if isinstance(kept, dict) else {}
    if IMPORTED not in metrics and (source or "").startswith(_IMPORTED_SOURCE):
        return {}, own
    return own, dict(came) if isinstance(came, dict) else {}


def _shown(v: Any) -> str:
    text = str(v)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... ({len(text):,} characters)"


def choose_again(db: str, model: str, threshold: str, goal: Any) -> str:
    """The ``threshold`` command choosing ``threshold`` again with an imported ``goal``'s label and method, on
    the source it named (the user's to check, and to name again); its filter, weight and sampling shown beside, to read."""
    g = goal if isinstance(goal, dict) else {}
    method = g.get("method") if isinstance(g.get("method"), str) else "METHOD"
    words = ["ad-duckdb", "threshold", db, model, threshold, "--method", _shown(method)]
    if isinstance(g.get("target"), (int, float)) and not isinstance(g.get("target"), bool):
        words += ["--target", repr(g["target"])]
    source = _shown(g["source"]) if isinstance(g.get("source"), str) else "SOURCE"
    words += ["--source", source]
    if isinstance(g.get("label"), str):
        words += ["--label", _shown(g["label"])]
    shown = " ".join(shlex.quote(w) for w in words) + (" ..." if method in ("min_cost", "alarm_rate") else "")
    also = [f"{key} {_shown(g[key])!r}" for key in ("where", "weight", "sampled") if isinstance(g.get(key), str) and g[key]]
    return shown + (f" (the file's goal also had {' and '.join(also)}: read it before you pass it)" if also else "")


def joined(metrics: dict[str, Any], source: str | None, own: dict[str, Any], came: dict[str, Any]) -> dict[str, Any]:
    """``metrics`` with the goals ``split`` gave (changed) stored back; ``IMPORTED`` on an imported version even when
    empty, which marks the goals beside it as set in this database (see ``split``)."""
    marked = came or IMPORTED in metrics or (source or "").startswith(_IMPORTED_SOURCE)
    return metrics | {GOALS: own} | ({IMPORTED: came} if marked else {})
