"""``model_history`` on a store whose block holding the models' names is damaged: the changelog read, and what
could not be said.

Why: ``history`` failed on the whole file with the damaged store's message, though the changelog (``ad_model_log``)
and the thresholds are other blocks and read well: the audit trail of who stored, promoted and dropped which version
when is what an operator needs most on such a file, to know which models to import or train again.
"""

from __future__ import annotations

from typing import Any

from . import notes
from .damagedstore import store_damaged

# What a version the changelog says is stored, whose row cannot be read, tells in place of its training record
PROBLEM = ("its row in ad_models cannot be read (a damaged block): when and on what it was trained, its features, "
           "figures and sha256 are unknown here")


def unreadable(cur: Any, e: BaseException) -> str:
    """The damaged store's message for ``e`` (``damagedfile.is_damage``), said as a note on a history read from the
    changelog."""
    said = str(store_damaged(cur, e))
    return ("this history is read from its changelog (ad_model_log) and thresholds, which still read: when and on "
            "what each version was trained, its features, training figures and sha256 are in ad_models and cannot "
            f"be read. {said}")


def stored_by_log(log: list[tuple[int, Any, str, str, dict[str, Any]]]) -> list[int]:
    """The versions the changelog says were stored and not dropped since, oldest first."""
    stored: set[int] = set()
    for v, _at, event, _by, _detail in log:
        if event in ("trained", "imported"):
            stored.add(v)
        elif event == "dropped":
            stored.discard(v)
    return sorted(stored)


def marked(doc: dict[str, Any], stored: list[int], ths: dict[int, dict[str, float]], note: str) -> dict[str, Any]:
    """``doc`` with each version the changelog says is stored marked ``unreadable`` (its thresholds, which read,
    filled in), and ``unreadable``: what could not be read, also said as a note."""
    for entry in doc["versions"]:
        if entry["version"] in stored:
            entry.update(status="unreadable", problem=PROBLEM, thresholds=ths.get(entry["version"], {}))
    notes.warn(note)
    return doc | {"unreadable": note}
