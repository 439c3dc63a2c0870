"""Dropping versions: one, every one of a name, or all but the newest few; the changelog keeps what each was."""

from __future__ import annotations

import json
from typing import Any

from . import lifecycle
from .exceptions import OptionError
from .modelnames import parse_ref
from .notfound import not_found
from .store import _feature_names, bare_version, dropped_versions, known_models, stored_versions
from .storetables import ensure_schema, transaction
from .thresholdrows import _VERSIONS_CHANGE


def _dropped_rows(cur: Any, name: str, versions: list[int]) -> list[dict[str, Any]]:
    """What the changelog keeps of each version dropped: its sha256 (a score table's anomaly_model names the version,
    and the sha256 tells which model that was), when and on what it was trained, its features and thresholds."""
    rows = cur.execute(
        "SELECT version, sha256, created_at, source, train_rows, features::VARCHAR, metrics::VARCHAR, "
        "(SELECT map_from_entries(list((threshold_name, value) ORDER BY threshold_name)) FROM ad_thresholds t "
        " WHERE t.model = m.name AND t.version = m.version) FROM ad_models m WHERE name = ? AND list_contains(?, version) "
        "ORDER BY version", [name, versions]).fetchall()
    out = []
    for v, sha, at, src, n, f, metrics, ths in rows:
        try:
            m = json.loads(metrics) if metrics else {}
        except ValueError:
            m = {}  # a damaged row is dropped all the same; its sha256 is what matters
        m = m if isinstance(m, dict) else {}
        out.append({"version": int(v), "sha256": sha, "created_at": str(at), "source": src,
                    "where": m.get("train_where"), "train_rows": n, "features": _feature_names(f),
                    "thresholds": dict(ths or {}), "figures": {k: m[k] for k in lifecycle.FIGURES if k in m}})
    return out


def chosen(cur: Any, ref: str, keep: int | None = None) -> list[int]:
    """The versions ``drop`` would drop (``keep`` already checked); a name or version not stored is refused as
    ``drop`` refuses it. Why apart: the CLI asks before it drops, and names what, once it knows that there is any."""
    return _chosen(cur, ref, keep)[0]


def _chosen(cur: Any, ref: str, keep: int | None) -> tuple[list[int], list[int]]:
    """(the versions to drop, every stored version of the name)."""
    name, version = parse_ref(ref)
    known = known_models(cur)
    if name not in known or (version is not None and version not in known[name]):
        raise not_found(ref, known, dropped_versions(cur), stored=stored_versions(cur, name))
    versions = [version] if version is not None else list(known[name])
    if keep is not None:
        # the promoted version stays too: pruning must not move what dashboards calling the name score with
        current = bare_version(cur, name, known[name])
        versions = [v for v in sorted(versions)[:-keep] if v != current]
    return versions, known[name]


def drop(cur: Any, ref: str, keep: int | None = None) -> list[int]:
    """Drop one version ('name@N') or every version ('name'), or with ``keep`` every version of 'name' but the
    ``keep`` newest and the promoted one (pruning after nightly retrains); returns the versions dropped."""
    name, version = parse_ref(ref)
    if keep is not None and (version is not None or isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
        from .optionwords import opt

        raise OptionError(f"{opt('keep')} prunes the older versions of a name: give the name without @N and "
                          f"a whole number >= 1 of newest versions to keep, e.g. drop {name!r} keeping 5; "
                          f"got {ref!r} and {opt('keep', keep)}.")
    versions, stored = _chosen(cur, ref, keep)
    if not versions:
        return []
    ensure_schema(cur)  # a store made before ad_model_versions existed gains it here
    with _VERSIONS_CHANGE, transaction(cur):
        lifecycle.on_drop(cur, name, versions, stored, _dropped_rows(cur, name, versions))
        # Why remember the highest version: a query or a dbt model pinned to 'name@N' must never be
        # answered by a different model trained after N was dropped.
        cur.execute(
            "INSERT INTO ad_model_versions (name, last_version) SELECT $1, greatest($2, coalesce((SELECT last_version FROM "
            "ad_model_versions WHERE name = $1), 0)) ON CONFLICT (name) DO UPDATE SET last_version = "
            "excluded.last_version", [name, max(stored)]
        )
        for v in versions:
            cur.execute("DELETE FROM ad_thresholds WHERE model = ? AND version = ?", [name, v])
            cur.execute("DELETE FROM ad_models WHERE name = ? AND version = ?", [name, v])
    return versions
