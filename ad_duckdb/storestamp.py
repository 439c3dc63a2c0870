"""The store's stamp: what the SQL functions load, read without any ONNX bytes, so that a reload can tell what
changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from . import damagedfile, lifecycle
from .store import dropped_versions
from .storetables import store_tables

# Every column of a stored version that _from_row reads but its ONNX bytes, hashed by DuckDB: it changes when any
# of them does (a threshold's goal set in metrics, a row edited by hand), so that load_all reads such a row again
_DIGEST = ("hash(sha256, created_at, format_version, kind, features::VARCHAR, source, train_rows, params::VARCHAR, "
           "metrics::VARCHAR, lib_versions::VARCHAR)")


# The thresholds' columns the SQL functions load, in (model, version, then Threshold's own) order
_THRESHOLD_COLS = "model, version, threshold_name, value, method, chosen_on, precision, recall, f1, flagged_share"


@dataclass(frozen=True)
class Stamp:
    """What the store holds that the SQL functions load, read without any ONNX bytes (``stamp``): equal stamps mean
    nothing they load changed, so a connection can tell whether its loaded models went stale; ``load_all`` given one
    reads only the versions it does not hold as they are.

    Why the check and the reload share one read: each read the catalog, hashed every version's row (its metrics hold
    the training score quantiles, some 24 KB) and read the thresholds, so a reload after a write (a training, a dbt
    node's hook, a served session's INSERT) paid for both, also when it found nothing new."""

    stored: bool  # False: no store here (yet)
    # (name, version, _DIGEST) of each stored version, in (name, version) order; None when a damaged block stopped
    # that read, and then ``narrow``: DuckDB's hash of the versions' names, sha256 and metrics, which still read
    digest_rows: tuple[tuple[Any, ...], ...] | None
    narrow: int | None
    # the threshold rows' repr, an exact key (a float NaN never equals itself); "unreadable" for a damaged block
    thresholds: str
    dropped: tuple[tuple[str, int], ...]  # dropped_versions
    promoted: tuple[tuple[str, int], ...]  # lifecycle.promoted
    threshold_rows: list[tuple[Any, ...]] = field(default_factory=list, compare=False)
    thresholds_unread: BaseException | None = field(default=None, compare=False)  # why they could not be read


NO_STORE = Stamp(False, (), None, "", (), ())


def stamp(cur: Any) -> Stamp:
    """What the store holds that the SQL functions load (``Stamp``), read in a few cheap queries: it changes whenever
    anything they load does (a version stored, dropped, promoted or edited by hand, a threshold set)."""
    tables = store_tables(cur)
    if not tables:
        return NO_STORE
    narrow = None
    try:
        digests: tuple[tuple[Any, ...], ...] | None = tuple(
            tuple(r) for r in cur.execute(f"SELECT name, version, {_DIGEST} FROM ad_models ORDER BY name, version")
            .fetchall())
    except duckdb.Error as e:
        if not damagedfile.is_damage(e):
            raise
        # a damaged block of a column only the digest reads: load_all then reads every row, naming the damaged ones
        digests = None
        narrow = cur.execute("SELECT hash(list((name, version, sha256, metrics::VARCHAR) ORDER BY name, version)) "
                             "FROM ad_models").fetchall()[0][0]
    unread: BaseException | None = None
    try:
        rows = cur.execute(f"SELECT {_THRESHOLD_COLS} FROM ad_thresholds ORDER BY model, version, threshold_name"
                           ).fetchall()
    except duckdb.Error as e:
        if not damagedfile.is_damage(e):
            raise
        rows, unread = [], e  # the models load without them (load_all), scores still work
    return Stamp(True, digests, narrow, "unreadable" if unread is not None else repr(rows),
                 tuple(sorted(dropped_versions(cur, present="ad_model_versions" in tables).items())),
                 tuple(sorted(lifecycle.promoted(cur, present=lifecycle.CURRENT in tables).items())), rows, unread)
