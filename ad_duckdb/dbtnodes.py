"""Which dbt nodes are running now, from dbt's own events: whether a unit test is among them.

Why: a model not stored means something else in a dbt unit test (its inputs are mocked, but its SQL still calls the
functions) than in a model or a data test; the paragraph for unit tests was added to every "model not found" of a
plain ``dbt run``, which runs none. dbt fires NodeStart and NodeFinished for every node, on the thread running it,
and the SQL functions run on DuckDB's threads, which know no node: so the nodes running now are kept.

With several threads a unit test can run beside an ordinary model, and a function failing on a DuckDB thread cannot
tell which of the two called it (DuckDB gives a Python function no caller, and either query's work may run on any of
its threads). Then the failure may be the unit test's, or not: ``failing_unit_tests`` says it is uncertain, and the
message says "if", naming the unit tests, rather than telling an ordinary model's author about mocked inputs.
"""

from __future__ import annotations

import threading
from typing import Any

_MARK = "_ad_duckdb_dbt_nodes"
_lock = threading.Lock()
_running: dict[str, str] = {}  # unique_id -> resource_type of each node started and not finished


def _on_event(msg: Any) -> None:
    name = getattr(getattr(msg, "info", None), "name", "")
    if name not in ("NodeStart", "NodeFinished"):
        return
    info = getattr(getattr(msg, "data", None), "node_info", None)
    if info is None or not getattr(info, "unique_id", ""):
        return
    with _lock:
        if name == "NodeStart":
            _running[info.unique_id] = getattr(info, "resource_type", "")
        else:
            _running.pop(info.unique_id, None)


setattr(_on_event, _MARK, True)


def follow_nodes() -> None:
    """Follow the nodes of the current dbt invocation (idempotent: dbt may make a new event manager per invocation)."""
    from dbt_common.events.event_manager_client import get_event_manager

    manager = get_event_manager()
    callbacks = getattr(manager, "callbacks", None)
    if callbacks is None or any(getattr(c, _MARK, False) for c in callbacks):
        return
    with _lock:
        _running.clear()  # a new invocation: none of an earlier one's nodes runs now
    manager.add_callback(_on_event)


def _shown(unique_id: str) -> str:
    """A unit test as dbt prints it, ``model::test`` (its unique_id is ``unit_test.<package>.<model>.<test>``)."""
    parts = unique_id.split(".")
    return "::".join(parts[2:4]) if len(parts) == 4 else unique_id


def failing_unit_tests() -> tuple[bool, list[str]]:
    """Which dbt unit tests the node failing now may be, and whether it surely is one of them: ``(True, [])`` it is
    none; ``(True, names)`` it is a unit test; ``(False, names)`` it may be one of them or another node running beside.

    The calling thread's own node decides when dbt runs it there; on a DuckDB thread, the nodes running now do."""
    from dbt_common.events.contextvars import get_node_info

    own = get_node_info()
    if own.get("resource_type"):
        is_unit = own["resource_type"] == "unit_test"
        return True, [_shown(str(own.get("unique_id", "")))] if is_unit else []
    with _lock:
        units = sorted(_shown(u) for u, kind in _running.items() if kind == "unit_test")
        others = any(kind != "unit_test" for kind in _running.values())
    return not (units and others), units
