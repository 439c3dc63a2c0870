"""Which dbt nodes are running now, from dbt's own events: whether a unit test is among them.

Why: a model not stored means something else in a dbt unit test (its inputs are mocked, but its SQL still calls the
functions) than in a model or a data test; the paragraph for unit tests was added to every "model not found" of a
plain ``dbt run``, which runs none. dbt fires NodeStart and NodeFinished for every node, on the thread running it,
and the SQL functions run on DuckDB's threads, which know no node: so the set of unit tests running now is kept.
"""

from __future__ import annotations

import threading
from typing import Any

_MARK = "_ad_duckdb_dbt_nodes"
_lock = threading.Lock()
_unit_tests: set[str] = set()  # unique_id of each unit test started and not finished


def _on_event(msg: Any) -> None:
    name = getattr(getattr(msg, "info", None), "name", "")
    if name not in ("NodeStart", "NodeFinished"):
        return
    info = getattr(getattr(msg, "data", None), "node_info", None)
    if info is None or getattr(info, "resource_type", "") != "unit_test":
        return
    with _lock:
        if name == "NodeStart":
            _unit_tests.add(info.unique_id)
        else:
            _unit_tests.discard(info.unique_id)


setattr(_on_event, _MARK, True)


def follow_nodes() -> None:
    """Follow the nodes of the current dbt invocation (idempotent: dbt may make a new event manager per invocation)."""
    from dbt_common.events.event_manager_client import get_event_manager

    manager = get_event_manager()
    callbacks = getattr(manager, "callbacks", None)
    if callbacks is None or any(getattr(c, _MARK, False) for c in callbacks):
        return
    with _lock:
        _unit_tests.clear()  # a new invocation: none of an earlier one's tests runs now
    manager.add_callback(_on_event)


def unit_test_running() -> bool:
    """Whether the node failing now may be a dbt unit test: the calling thread's own node when dbt runs it there, else
    whether any unit test is running now."""
    from dbt_common.events.contextvars import get_node_info

    own = get_node_info()
    if own.get("resource_type"):
        return bool(own["resource_type"] == "unit_test")
    with _lock:
        return bool(_unit_tests)
