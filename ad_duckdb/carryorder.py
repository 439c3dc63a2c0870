"""Which version a carrying retrain (``carry_thresholds``) takes each threshold of the user's own from.

The version the bare name means (the promoted one, else the newest) by default: with a retrain staged, the newest is
one no query used, and its copy of a cut (carried in by its training) is older than a cut re-set since on the
promoted one. But a cut the user set on a staged version after staging it (the reviewer tuning the candidate before
promoting it) is the user's latest word on that cut: when it was set later than the promoted version's, the next
retrain takes it from there, so the tuning is not lost to a retrain run before the promotion. Versions the name once
meant and was moved off (rolled back from) are no candidates: their cuts belong to a model the team turned away from.
"""

from __future__ import annotations

from typing import Any

from . import lifecycle


def staged(cur: Any, name: str, stored: list[int], current: int) -> list[int]:
    """The versions newer than ``current`` that the bare ``name`` never meant (staged, never promoted)."""
    meant = {v for v, _, event, _, detail in lifecycle.events(cur, name)
             if event in ("promoted", "rolled back") or detail.get("promoted") is True}
    return [v for v in stored if v > current and v not in meant]


def preferred(cur: Any, name: str, stored: list[int], current: int) -> dict[str, int]:
    """Per threshold name, the staged version to carry it from instead of ``current`` (absent: ``current``'s, or the
    newest that has it, as before): the one where the user set it last, after the version was stored and later than
    ``current``'s was set."""
    candidates = staged(cur, name, stored, current)
    if not candidates:
        return {}
    rows = cur.execute(
        "SELECT t.threshold_name, t.version, t.created_at FROM ad_thresholds t JOIN ad_models m ON t.model = m.name "
        "AND t.version = m.version WHERE t.model = ? AND list_contains(?::BIGINT[], t.version) AND t.created_at > "
        "m.created_at ORDER BY t.created_at DESC, t.version DESC", [name, candidates]).fetchall()
    mine = dict(cur.execute("SELECT threshold_name, created_at FROM ad_thresholds WHERE model = ? AND version = ?",
                            [name, current]).fetchall())
    out: dict[str, int] = {}
    for threshold, version, at in rows:
        if threshold not in out and (threshold not in mine or mine[threshold] is None or at > mine[threshold]):
            out[str(threshold)] = int(version)
    return out
