"""The notes an import of one model file gives (models.py), for a set of them (``modelsets.import_folder``): said of
the version each name comes to mean, against the one it meant before the set was stored.

Why a module of its own: a set stored all or nothing said none of them, so a set moved from dev to prod made 'tx_ae'
mean a version of other columns, or without prod's own thresholds, and the import said nothing that one file's did.
"""

from __future__ import annotations

from typing import Any

from . import store, storeload
from .models import Before, newest_made, warn_if_features_changed, warn_if_older_than_latest, warn_if_own_thresholds_lacked
from .store import ModelRecord

Meant = tuple[tuple[int, Any] | None, Before]


def meant(cur: Any, name: str) -> Meant:
    """What ``name`` is here before a set is stored: its newest version with when it was made, and the version the
    bare name means with its features."""
    return newest_made(cur, name), store.latest_features(cur, name)


def warn_moved(cur: Any, before: dict[str, Meant], made: dict[str, tuple[str, str, ModelRecord]]) -> None:
    """Give, per name whose bare name now means another version, the notes one file's import gives. ``made``: per
    version here the set holds, (its file, the set's ref, the record read from the file)."""
    for name, was in before.items():
        if was[1] is None:
            continue  # a name new here, or one whose version cannot be read (list reports it): one import says nothing
        stored = store.known_models(cur).get(name, [])
        now = f"{name}@{store.bare_version(cur, name, stored)}"
        if now not in made or int(now.rpartition("@")[2]) == was[1][0]:
            continue
        file, exported, rec = made[now]
        held = rec if rec.ref == now else storeload.load(cur, now)  # a version here already held the file's model
        warn_if_features_changed(cur, held, "import", was[1])
        warn_if_older_than_latest(cur, held, exported, file, was)
        warn_if_own_thresholds_lacked(cur, held, was[1])
