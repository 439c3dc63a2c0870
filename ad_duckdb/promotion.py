"""Promote and roll back the version a bare model name means, and read each version's history (Python API).

See lifecycle.py for the tables. ``promote(con, 'tx_ae@9')`` makes queries, views and dashboards calling
``'tx_ae'`` score with version 9 (a staged ``train(..., promote=False)``); ``rollback(con, 'tx_ae')`` makes the name
mean what it meant before; ``model_history(con, 'tx_ae')`` says, per version, when and on what it was trained, its
features, thresholds and training figures, and who stored, promoted or dropped it and when.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from . import (
    canwrite,
    damagedfile,
    historyunread,
    interrupts,
    lifecycle,
    modelnames,
    notes,
    notfound,
    store,
    storesave,
    storetables,
    thresholdlog,
    thresholds,
)
from .connarg import check_connection
from .exceptions import BadInputError, ModelNotFoundError
from .udfs import refresh

FIGURES = lifecycle.FIGURES


def _stored(cur: Any, ref: str) -> tuple[str, int | None, list[int]]:
    name, version = modelnames.parse_ref(ref)
    known = store.known_models(cur)
    if name not in known or (version is not None and version not in known[name]):
        raise notfound.not_found(ref, known, store.dropped_versions(cur), afresh=True,
                              stored=store.stored_versions(cur, name))
    return name, version, known[name]


def _change(con: duckdb.DuckDBPyConnection, what: str, ref: str, pick: Any, event: str) -> tuple[int | None, int]:
    con = check_connection(con, what)
    cur = interrupts.cursor(con)
    try:
        canwrite.check_can_write(cur, f"Cannot {what} {ref!r}")
        storetables.ensure_schema(cur)  # a store made by an older release gains the tables here
        with storesave.saving(modelnames.parse_ref(ref)[0]), storetables.transaction(cur):
            name, version, stored = _stored(cur, ref)
            target = pick(cur, name, version, stored)
            was = lifecycle.set_current(cur, name, target, stored, event)
        _warn_moved(cur, name, was, target)
    finally:
        cur.close()
    refresh(con, changed_only=True)
    return was, target


def _warn_moved(cur: Any, name: str, was: int | None, now: int) -> None:
    """Say what the move breaks for queries of the bare name: other columns, or thresholds of the user's own that the
    version meant before has and this one lacks (is_anomaly_at('tx_ae', 'cut', ...) then fails), as train and
    import do."""
    if was is None or was == now:
        return
    feats = store.version_features(cur, name)
    if was in feats and now in feats and not store.same_features(feats[was], feats[now]):
        notes.warn(f"'{name}' now means {name}@{now}, which takes ({', '.join(feats[now])}), but {name}@{was} took "
                   f"({', '.join(feats[was])}): queries calling '{name}' must pass {name}@{now}'s columns in its order, "
                   f"or pin '{name}@{was}'.")

    def own(v: int) -> set[str]:
        rows = cur.execute("SELECT threshold_name FROM ad_thresholds WHERE model = ? AND version = ?", [name, v])
        return {str(t) for (t,) in rows.fetchall()} - set(thresholds.FROM_TRAINING)

    lacked = sorted(own(was) - own(now))
    if lacked:
        shown = ", ".join(map(repr, lacked))
        notes.warn(f"'{name}' now means {name}@{now}, which has no threshold {shown} that {name}@{was} has: queries "
                   f"calling is_anomaly_at('{name}', {lacked[0]!r}, ...) or anomaly_threshold('{name}', {lacked[0]!r}) "
                   f"fail from their next registration. Set each on {name}@{now} (ad-duckdb threshold DB {name}@{now} "
                   f"{lacked[0]} --method ...), or pin '{name}@{was}' in the queries that use them.")


def promote(con: duckdb.DuckDBPyConnection, model: str) -> tuple[int | None, int]:
    """Make the bare name of ``model`` mean its version: ``'tx_ae@9'`` that one, ``'tx_ae'`` the newest stored.
    Returns (the version the name meant before, the one it means now). Later trainings (without
    ``promote=False``) and imports move it on to the version they store, as before."""
    return _change(con, "promote", model, lambda cur, name, version, stored: version or max(stored), "promoted")


def rollback(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int | None, int]:
    """Make the bare ``name`` mean the version it meant before its current one (the one it meant when the current
    version was trained or promoted, while still stored; else the newest older one). Returns (was, now)."""
    if "@" in str(name):
        raise BadInputError(f"rollback takes a model name without @N ({str(name).split('@')[0]!r}); to make it mean "
                            f"one version, promote it: ad_duckdb.promote(con, {name!r}) (ad-duckdb promote DB {name}).")

    def pick(cur: Any, name: str, version: int | None, stored: list[int]) -> int:
        target = lifecycle.rollback_target(cur, name, stored)
        if target is None:
            current = store.bare_version(cur, name, stored)
            raise ModelNotFoundError(
                f"Cannot roll back {name!r}: it means {name}@{current}, and no version it meant before is stored "
                f"(stored: {', '.join(f'{name}@{v}' for v in sorted(stored))}). Promote one of them instead "
                f"(ad-duckdb promote DB {name}@N), or import an exported older version (ad-duckdb import DB FILE).")
        return target
    return _change(con, "roll back", name, pick, "rolled back")


def model_history(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any]:
    """The changelog of model ``name``: ``{"name", "current": the version 'name' means (None when none is stored),
    "versions": [...]}``, one dict per version ever stored, oldest first, with ``version``, ``status`` ('current',
    'stored', 'staged' for one newer than the current that the name never meant, or 'dropped'), ``created_at``,
    ``source``, ``where``,
    ``train_rows``, ``features``, ``thresholds`` ({name: value}), ``figures`` (training figures), ``sha256`` (kept
    for a dropped version, so an old score table's anomaly_model can be traced) and ``events`` (each with ``at``
    (UTC), ``event``: trained, imported, promoted, rolled back, dropped, threshold set; ``by``: the user; ``was``:
    what the name meant before, where it changed; ``threshold``: for a threshold set, its ``name``, ``value`` and
    ``method``). Where the block of the models' names is damaged, the versions the changelog
    says are stored have ``status`` 'unreadable' (with a ``problem``), and ``unreadable`` says what could not be
    read (also an ``AdDuckDBWarning``)."""
    con = check_connection(con, "model_history")
    cur = interrupts.cursor(con)
    try:
        model = name
        name = modelnames.check_name(name) if "@" not in str(name) else modelnames.parse_ref(name)[0]
        log = lifecycle.events(cur, name)
        try:
            known = store.known_models(cur)
            rows = cur.execute(
                "SELECT version, created_at, source, train_rows, features::VARCHAR, metrics::VARCHAR, sha256 "
                "FROM ad_models WHERE name = ? ORDER BY version", [name]).fetchall()
            unread = None
        except duckdb.Error as e:
            if not damagedfile.is_damage(e):
                raise
            # the block of the models' names: the changelog and thresholds still read (historyunread)
            unread = historyunread.unreadable(cur, e)
            known, rows = {}, []
        stored = known.get(name, []) if unread is None else historyunread.stored_by_log(log)
        last = store.dropped_versions(cur).get(name, 0)
        if not stored and not log and not last:
            raise notfound.not_found(name, known, store.dropped_versions(cur))
        current = store.bare_version(cur, name, stored) if stored else None
        ths: dict[int, dict[str, float]] = {}
        for v, t, value in cur.execute("SELECT version, threshold_name, value FROM ad_thresholds WHERE model = ? "
                                       "ORDER BY version, threshold_name", [name]).fetchall():
            ths.setdefault(int(v), {})[str(t)] = float(value)
    finally:
        cur.close()
    out: dict[int, dict[str, Any]] = {}
    for v, at, source, n, features, metrics, sha in rows:
        m = _json(metrics)
        out[int(v)] = {"version": int(v), "status": "current" if v == current else "staged" if current is not None
                       and v > current else "stored", "created_at": at, "source": source,
                       "where": m.get("train_where"), "train_rows": n, "features": _names(features),
                       "thresholds": ths.get(int(v), {}), "figures": {k: m[k] for k in FIGURES if k in m},
                       "sha256": sha, "events": []}
    for v, at, event, by, detail in log:
        if v not in out:
            out[v] = {"version": v, "status": "dropped", "created_at": None, "source": None, "where": None,
                      "train_rows": None, "features": None, "thresholds": {}, "figures": {}, "sha256": None,
                      "events": []}
        if event == "dropped":
            out[v]["status"] = "dropped" if v not in stored else out[v]["status"]
            for key in ("created_at", "source", "where", "train_rows", "features", "thresholds", "figures", "sha256"):
                if out[v].get(key) in (None, {}) and detail.get(key) is not None:
                    out[v][key] = detail[key]
        out[v]["events"].append({"at": at, "event": event, "by": by, "was": detail.get("was"),
                                 **({"promoted": detail["promoted"]} if "promoted" in detail else {}),
                                 **({"threshold": _set(detail)} if event == thresholdlog.EVENT else {})})
    for entry in out.values():  # newer than the current one and once what the name meant: rolled back from
        if entry["status"] == "staged" and any(e["event"] in ("promoted", "rolled back") or e.get("promoted")
                                               for e in entry["events"]):
            entry["status"] = "stored"
    for v in range(1, max([last, *stored]) + 1):  # dropped before the changelog was kept: only that it was
        out.setdefault(v, {"version": v, "status": "dropped", "created_at": None, "source": None, "where": None,
                           "train_rows": None, "features": None, "thresholds": {}, "figures": {}, "sha256": None,
                           "events": [], "unrecorded": True})
    doc: dict[str, Any] = {"name": name, "current": current, "versions": [out[v] for v in sorted(out)]}
    doc = doc if unread is None else historyunread.marked(doc, stored, ths, unread)
    asked = modelnames.parse_ref(model)[1] if "@" in str(model) else None
    if asked is not None:
        # Why: 'tx_ae@2' printed every version's changelog, as if the version were not read
        doc["versions"] = [v for v in doc["versions"] if v["version"] == asked]
        if not doc["versions"]:
            raise ModelNotFoundError(f"Model {name!r} has no version {asked}, stored or dropped (its versions: 1 to "
                                     f"{max(out) if out else 0}); give the name alone for its whole changelog.")
    return doc


def _set(detail: dict[str, Any]) -> dict[str, Any]:
    t = detail.get("threshold")
    if not isinstance(t, dict):
        return {}
    came = detail.get("imported_from")
    return {**{k: t.get(k) for k in ("name", "value", "method")},
            **({"imported_from": came} if isinstance(came, str) else {})}


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _names(features: str | None) -> list[str] | None:
    try:
        value = json.loads(features) if features else None
    except ValueError:
        return None
    return [str(f.get("name")) for f in value if isinstance(f, dict)] if isinstance(value, list) else None
