"""Each threshold a user stores (``set_threshold``: by value, quantile, contamination or a goal) is written to the
changelog (``ad_model_log``, event ``threshold set``) with what it takes to store it again: its name, value, method,
``chosen_on`` and figures.

Why: a damaged block of ``ad_thresholds`` lost such cuts for good (``restore-thresholds`` could only re-make the
training thresholds from the training scores), and ``history`` did not say when a cut was set or to what. The
latest entry of a version and name is what was stored last; a dropped version's entries are never restored, as
``restore-thresholds`` restores stored versions only. This module reads and writes with plain SQL, as ``lifecycle``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from . import lifecycle

EVENT = "threshold set"
# ad_thresholds' columns a Threshold holds, in its field order
FIELDS = ("name", "value", "method", "chosen_on", "precision", "recall", "f1", "flagged_share")


def logged(cur: Any, model: str, version: int, t: Any, imported_from: str | None = None,
           set_at: dt.datetime | None = None) -> None:
    """In the caller's transaction: log threshold ``t`` (a ``store.Threshold``) as set on ``model@version``. A file
    made by an older release without the changelog table keeps none (as its other writes). ``imported_from``: the
    file a cut came in (an import), and ``set_at`` when it was set there, which a restore gives it back."""
    if lifecycle._has(cur, lifecycle.LOG):
        detail: dict[str, Any] = {"threshold": {f: getattr(t, f) for f in FIELDS}}
        if imported_from is not None:
            detail["imported_from"] = imported_from
        if set_at is not None:
            detail["set_at"] = set_at.isoformat()
        lifecycle.log(cur, model, version, EVENT, detail)


def latest(cur: Any) -> dict[tuple[str, int], dict[str, tuple[dict[str, Any], dt.datetime]]]:
    """Per (model, version), each threshold name's last logged ``{field: value}`` (``FIELDS``) and when it was set
    (the entry's time, or for an imported cut the time it was set where it was exported); empty for a file whose
    changelog holds no such entry (an older one, or none set)."""
    if not lifecycle._has(cur, lifecycle.LOG):
        return {}
    out: dict[tuple[str, int], dict[str, tuple[dict[str, Any], dt.datetime]]] = {}
    for name, version, detail, at in cur.execute(
            "SELECT name, version, detail::VARCHAR, logged_at FROM ad_model_log WHERE event = ? "
            "ORDER BY logged_at, rowid", [EVENT]).fetchall():
        t = _threshold(detail)
        if t is not None:
            out.setdefault((str(name), int(version)), {})[str(t["name"])] = (t, _set_at(detail) or at)
    return out


def _set_at(detail: str | None) -> dt.datetime | None:
    """An imported cut's ``set_at``, None for another entry (or one altered by hand)."""
    try:
        got = json.loads(detail or "{}").get("set_at")
        return dt.datetime.fromisoformat(got) if isinstance(got, str) else None
    except (ValueError, AttributeError):
        return None


def since(cur: Any) -> Any:
    """When the changelog's first threshold-set entry was written (None: it holds none)."""
    if not lifecycle._has(cur, lifecycle.LOG):
        return None
    return cur.execute("SELECT min(logged_at) FROM ad_model_log WHERE event = ?", [EVENT]).fetchall()[0][0]


def _threshold(detail: str | None) -> dict[str, Any] | None:
    """The logged threshold, or None for an entry altered by hand (no name, or a value that is not a number)."""
    try:
        t = json.loads(detail or "{}").get("threshold")
    except (ValueError, AttributeError):
        return None
    if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("value"), (int, float)):
        return None
    return {f: t.get(f) for f in FIELDS}


def said(detail: dict[str, Any]) -> str:
    """``history``'s line for an entry: what was set to what."""
    got = detail.get("threshold")
    t: dict[str, Any] = got if isinstance(got, dict) else {}
    value = t.get("value")
    shown = f"{value:.6g}" if isinstance(value, (int, float)) else str(value)
    came = detail.get("imported_from", t.get("imported_from"))  # a log entry's, or model_history's event's
    return f"threshold {t.get('name')!r} set to {shown} ({t.get('method')})" + (
        f", imported from {came}" if isinstance(came, str) else "")
