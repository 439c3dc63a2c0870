"""Writing a version: a model stored as the next version of its name, with its thresholds, one name at a time."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from . import lifecycle, thresholdlog
from .exceptions import BadInputError
from .features import specs_to_json
from .modelnames import check_name
from .store import ModelRecord, _json, dropped_versions, sha256_hex
from .storetables import ensure_schema, transaction
from .thresholdrows import _write_thresholds

# One lock per model name, held by a store of that name and by what comes before it that must know the number
# (``saving``). Why: DuckDB lets one process write a file, so the stores that race are this process's threads, and
# a training that read "the next version is 2", chose its carried thresholds for tx_ae@2 and said so, was stored as
# @3 when another thread stored @2 meanwhile. Why per name: trainings of other models need not wait.
_SAVING: dict[str, threading.RLock] = {}
_SAVING_GUARD = threading.Lock()


@contextmanager
def saving(name: str) -> Iterator[None]:
    """Hold the store of model ``name`` in this process: ``next_version`` read inside stays the version ``save``
    gives (inside too), as no other thread stores the name meanwhile. Re-entrant."""
    with _SAVING_GUARD:
        lock = _SAVING.setdefault(name, threading.RLock())
    with lock:
        yield


def save(cur: Any, rec: ModelRecord, before_insert: Callable[[ModelRecord], None] | None = None,
         promote: bool = True, how: str = "trained") -> ModelRecord:
    """Store ``rec`` as the next version of its name, with its thresholds, in one transaction.

    ``before_insert(rec)`` runs in that transaction once ``rec.version`` is known, before any row is written: what it
    says about the version is true of what is stored, and an exception it raises (a warning that ``-W error`` turns
    into one) stores nothing. After a concurrent writer took the version (one writing ad_models by hand: this
    process's own stores of a name take turns, ``saving``), it runs again with the next one. ``promote=False`` stages
    the version: the bare name keeps meaning the version it meant (lifecycle.on_store, which logs it as ``how``).
    """
    check_name(rec.name)
    with saving(rec.name):
        ensure_schema(cur)
        rec.sha256 = sha256_hex(rec.onnx)
        last_error: Exception | None = None
        attempts = 10
        for attempt in range(attempts):
            try:
                with transaction(cur):
                    rec.version = next_version(cur, rec.name)
                    if before_insert is not None:
                        before_insert(rec)
                    before = [int(v) for (v,) in cur.execute("SELECT version FROM ad_models WHERE name = ?",
                                                             [rec.name]).fetchall()]
                    _insert(cur, rec)
                    lifecycle.on_store(cur, rec.name, rec.version, before, promote, how)
                    _log_carried(cur, rec)
                return rec
            except duckdb.Error as e:  # a concurrent writer took the same version: retry with the next one
                # Why duckdb.Error only: a warning raised by before_insert may name a column "duplicate_rows".
                last_error = e
                if "conflict" not in str(e).lower() and "duplicate" not in str(e).lower():
                    raise
                # Why a random wait: writers that collided would otherwise retry in step and collide again.
                time.sleep(random.uniform(0.0, 0.01 * (attempt + 1)))
        raise BadInputError(f"Could not store model {rec.name!r} after {attempts} attempts (other writers kept taking the "
                            f"next version): {last_error}")


def insert_next(cur: Any, rec: ModelRecord) -> None:
    """Store ``rec`` as the next version of its name inside the caller's transaction: for a set of models stored
    all or nothing (``modelsets``), where ``save``'s own transaction per model would leave half a set. Neither
    logged nor promoted: the caller moves each name once the set is stored (``lifecycle.on_set_store``)."""
    check_name(rec.name)
    rec.sha256 = sha256_hex(rec.onnx)
    rec.version = next_version(cur, rec.name)
    _insert(cur, rec)
    _log_carried(cur, rec)


def _log_carried(cur: Any, rec: ModelRecord) -> None:
    """Log the thresholds ``rec`` carries from elsewhere (``rec.carried``: a retrain's, or an import's cuts of the
    user's, with the file and the time each was set there), so restore-thresholds stores them again as stored."""
    for t in rec.thresholds:
        if t.name in rec.carried:
            thresholdlog.logged(cur, rec.name, rec.version, t, imported_from=rec.imported_from,
                                set_at=rec.threshold_times.get(t.name, rec.created_at))  # as _insert stores it


def next_version(cur: Any, name: str) -> int:
    """The version the next model stored as ``name`` gets (numbers of dropped versions are never reused).

    Why through ``dropped_versions``: a store made before ad_model_versions existed lacks the table until a write
    adds it, and train --carry-thresholds asks for the number before its save does. Why ad_thresholds too: a
    version whose ad_models row was deleted by hand (or by a release before ad_model_versions) leaves its
    thresholds, which a new model under the same number would inherit.
    """
    row = cur.execute(
        "SELECT greatest((SELECT coalesce(max(version), 0) FROM ad_models WHERE name = ?), "
        "(SELECT coalesce(max(version), 0) FROM ad_thresholds WHERE model = ?))", [name, name]).fetchall()[0]
    return max(int(row[0]), dropped_versions(cur).get(name, 0)) + 1


def _insert(cur: Any, rec: ModelRecord) -> None:
    cur.execute(
        # Columns named: one added back by hand (see tables_exist) comes last, and values by position would shift
        "INSERT INTO ad_models (name, version, created_at, format_version, kind, features, source, train_rows, params, "
        "metrics, lib_versions, onnx, sha256) VALUES (?, ?, ?, ?, ?, ?::JSON, ?, ?, ?::JSON, ?::JSON, ?::JSON, ?, ?)",
        [
            rec.name, rec.version, rec.created_at, rec.format_version, rec.kind, specs_to_json(rec.features),
            rec.source, rec.train_rows, _json(rec.params), _json(rec.metrics), _json(rec.lib_versions),
            rec.onnx, rec.sha256,
        ],
    )
    # the last of a name, as one INSERT OR REPLACE each stored them; one statement, not one round trip each
    last = {t.name: t for t in rec.thresholds}
    _write_thresholds(cur, rec.name, rec.version, [(t, rec.threshold_times.get(t.name, rec.created_at))
                                                   for t in last.values()])
