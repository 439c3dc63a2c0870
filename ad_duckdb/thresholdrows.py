"""A version's threshold rows (``ad_thresholds``): written with a model, set alone with its goal, read back."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

from . import filegoals, thresholdlog
from .notfound import not_found
from .store import Threshold, _json, dropped_versions, known_models
from .storetables import transaction


def write_threshold(cur: Any, model: str, version: int, t: Threshold, created_at: dt.datetime | None = None) -> None:
    _write_thresholds(cur, model, version, [(t, created_at or dt.datetime.now(dt.UTC).replace(tzinfo=None))])


def _write_thresholds(cur: Any, model: str, version: int, rows: list[tuple[Threshold, dt.datetime]]) -> None:
    """Store each (threshold, time set) of ``model@version`` (names distinct), in one statement."""
    if not rows:
        return
    cur.execute(
        "INSERT OR REPLACE INTO ad_thresholds (model, version, threshold_name, value, method, chosen_on, precision, "
        "recall, f1, flagged_share, created_at) VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
        [v for t, created in rows for v in (model, version, t.name, float(t.value), t.method, t.chosen_on, t.precision,
                                            t.recall, t.f1, t.flagged_share, created)],
    )


# Held by drop's and set_threshold's transactions. Why: DuckDB's snapshots let a threshold be inserted for a version
# that a thread's drop deleted after the insert's transaction began (neither conflicts), leaving an orphan row;
# another process cannot write the file meanwhile, so one lock per process is enough.
_VERSIONS_CHANGE = threading.Lock()


def set_threshold(cur: Any, model: str, version: int, t: Threshold, goal: dict[str, Any] | None) -> None:
    """Store ``t`` for a stored version, with the goal it was chosen for on labels (``None``: none, and a goal kept
    under its name before is dropped), in one transaction: a threshold never outlives or lacks its goal, nor its
    version (a version dropped since it was loaded is refused)."""
    with _VERSIONS_CHANGE, transaction(cur):
        row = cur.execute("SELECT metrics::VARCHAR, source FROM ad_models WHERE name = ? AND version = ?",
                          [model, version]).fetchall()
        if not row:
            # Why here, in the transaction: the version was loaded (and the value chosen on it) before, so a drop in
            # another thread or process since would otherwise leave a threshold row that no version owns.
            raise not_found(f"{model}@{version}", known_models(cur), dropped_versions(cur))
        metrics = json.loads(row[0][0] or "{}")
        # an imported file's malformed goals are replaced; its goal under this name is the user's choice no longer
        goals, came = filegoals.split(metrics, row[0][1])
        if goal is not None or goals.pop(t.name, None) is not None or came.pop(t.name, None) is not None:
            if goal is not None:
                goals[t.name] = goal
            cur.execute("UPDATE ad_models SET metrics = ?::JSON WHERE name = ? AND version = ?",
                        [_json(filegoals.joined(metrics, row[0][1], goals, came)), model, version])
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        write_threshold(cur, model, version, t, created_at=now)
        # what restore-thresholds stores again should its block be damaged, at the time it was set
        thresholdlog.logged(cur, model, version, t, set_at=now)


def _thresholds(cur: Any, name: str, version: int) -> list[Threshold]:
    rows = cur.execute(
        "SELECT threshold_name, value, method, chosen_on, precision, recall, f1, flagged_share FROM ad_thresholds "
        "WHERE model = ? AND version = ? ORDER BY threshold_name",
        [name, version],
    ).fetchall()
    return [Threshold(*r) for r in rows]
