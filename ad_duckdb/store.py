"""Models as rows: a stored version's record (``ModelRecord``, its ``Threshold`` rows) and what the store holds, read
without any ONNX bytes (names, versions, features). Writing a version is ``storesave``'s, loading one ``storeload``'s,
the tables themselves ``storetables``'.

Every statement here runs on a cursor of the caller's connection, so a half-read result the
caller still holds is left alone (a statement on the connection itself would replace it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from . import filegoals, lifecycle
from .categorical import column_names
from .features import FeatureSpec, specs_from_json
from .storetables import tables_exist

FORMAT_VERSION = 1


@dataclass
class Threshold:
    name: str
    value: float
    method: str
    chosen_on: str | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    flagged_share: float | None = None


@dataclass
class ModelRecord:
    name: str
    version: int
    kind: str
    features: list[FeatureSpec]
    onnx: bytes
    source: str | None = None
    train_rows: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    lib_versions: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
    format_version: int = FORMAT_VERSION
    sha256: str = ""
    thresholds: list[Threshold] = field(default_factory=list)
    # When each threshold was set (ad_thresholds.created_at), by name; one not here was set with the model. Why kept:
    # an import stored every threshold at the model's time, so one set by hand weeks later looked as old as the model
    threshold_times: dict[str, dt.datetime] = field(default_factory=dict)
    # Thresholds a retrain carried from an earlier version (train --carry-thresholds): logged as set (thresholdlog),
    # so that restore-thresholds stores them again on this version as on the one they came from
    carried: set[str] = field(default_factory=set)
    # The file an imported record came from, for its carried (the user's own) thresholds' log entries; not stored
    imported_from: str | None = None
    # DuckDB's error when the block holding ad_thresholds could not be read (load_all): the record has none to flag by
    thresholds_unread: BaseException | None = None
    # DuckDB's hash of the stored row but its ONNX bytes (_DIGEST), when load_all read it: a later load_all given this
    # record keeps it, without reading or hashing its bytes again, while the row's digest is the same
    digest: int | None = field(default=None, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def feature_names(self) -> list[str]:
        """The columns a SQL call passes, in order (a text column once for its category inputs)."""
        return column_names(self.features)

    def threshold(self, name: str) -> Threshold | None:
        return next((t for t in self.thresholds if t.name == name), None)

    def __repr__(self) -> str:
        # Why not the dataclass's: a notebook cell showing a model printed 70+ KB (the ONNX bytes, every transform
        # constant, the 1001 score quantiles); the fields are all still there as attributes
        ths = ", ".join(f"{t.name!r}: {t.value:.6g}" for t in self.thresholds)
        return (f"ModelRecord({self.ref!r}, kind={self.kind!r}, features={self.feature_names!r}, "
                f"source={self.source!r}, train_rows={self.train_rows!r}, thresholds={{{ths}}}, "
                f"onnx=<{len(self.onnx)} bytes, sha256 {self.sha256[:12]}...>)")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(v: Any) -> str:
    return json.dumps(v, default=str)


# Key of ad_models.metrics holding, per threshold name, the goal a threshold was chosen for on labelled rows
# ({"method", "target", "source", "label", "where", "confident"}), so that a retrain can choose it again.
GOALS = filegoals.GOALS


def known_models(cur: Any) -> dict[str, list[int]]:
    if not tables_exist(cur):
        return {}
    out: dict[str, list[int]] = {}
    for name, version in cur.execute("SELECT name, version FROM ad_models ORDER BY name, version").fetchall():
        out.setdefault(name, []).append(int(version))
    return out


def imported_source(origin: str, exported: str, source: str | None) -> str:
    """The source an imported version records: "imported from FILE (name@N; SOURCE)", the file, the version it was
    exported as and the source it was trained on (``imported_parts`` reads it back)."""
    return f"imported from {origin} ({exported}; {source})"


def imported_parts(source: str | None) -> tuple[str, str, str] | None:
    """(file, version exported as, source trained on) of an ``imported_source``; None for any other source."""
    m = re.fullmatch(r"imported from (.+?) \((\S+@\d+); (.*)\)", source or "", flags=re.S)
    return None if m is None else (m[1], m[2], m[3])


def given_the_other_way_round(cur: Any, model: str, source: str) -> bool:
    """Whether a call's ``source`` names a stored model and its ``model`` none: the two swapped (for the errors of
    the CLI's commands and of Python's score, each in its own words); False where the models cannot be read."""
    try:
        known = known_models(cur)
    except duckdb.Error:
        return False
    return source.strip().split("@")[0] in known and model.split("@")[0] not in known


def latest_features(cur: Any, name: str) -> tuple[int, list[str]] | None:
    """The version the bare ``name`` means (the promoted one, else the newest) and its feature names, without loading
    its ONNX bytes; None when ``name`` has no version or its features JSON cannot be read (a damaged row, which
    ``list`` reports)."""
    if not tables_exist(cur):
        return None
    pin = lifecycle.promoted(cur).get(name)
    row = cur.execute("SELECT version, features::VARCHAR FROM ad_models WHERE name = ? ORDER BY version = ? DESC, "
                      "version DESC LIMIT 1", [name, pin]).fetchone()
    names = None if row is None else _feature_names(row[1])
    return None if names is None else (int(row[0]), names)


def version_features(cur: Any, name: str) -> dict[int, list[str]]:
    """The feature names of each stored version of ``name``, without loading ONNX bytes; a version whose features
    JSON cannot be read (a damaged row, which ``list`` reports) is left out."""
    if not tables_exist(cur):
        return {}
    rows = cur.execute("SELECT version, features::VARCHAR FROM ad_models WHERE name = ? ORDER BY version",
                       [name]).fetchall()
    return {int(v): names for v, f in rows if (names := _feature_names(f)) is not None}


def _feature_names(features_json: str) -> list[str] | None:
    """The feature names of a stored features JSON; None where it cannot be read (a damaged row)."""
    try:
        return column_names(specs_from_json(features_json))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def same_features(a: list[str], b: list[str]) -> bool:
    """Whether a call passing columns ``a`` fits a version of features ``b`` (DuckDB's case rule for names)."""
    return [n.lower() for n in a] == [n.lower() for n in b]


def dropped_versions(cur: Any, *, present: bool | None = None) -> dict[str, int]:
    """The highest version each name had when versions of it were last dropped (``ad_model_versions``); empty for a
    store that never dropped one, or predates that table. ``present``: whether that table exists, when the caller
    read the catalog already (``stamp``)."""
    has = present if present is not None else cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ad_model_versions' AND schema_name = current_schema() "
        "AND database_name = current_database()"
    ).fetchall()[0][0]
    if not has:
        return {}
    return {str(n): int(v) for n, v in cur.execute("SELECT name, last_version FROM ad_model_versions").fetchall()}


def stored_versions(cur: Any, name: str) -> dict[int, tuple[str, list[str]]]:
    """The source column and feature names of each stored version of ``name`` (for ``not_found``'s dropped version),
    without loading ONNX bytes."""
    if not tables_exist(cur):
        return {}
    rows = cur.execute("SELECT version, source, features::VARCHAR FROM ad_models WHERE name = ? ORDER BY version",
                       [name]).fetchall()
    return {int(v): (str(src or ""), names) for v, src, f in rows if (names := _feature_names(f)) is not None}


def bare_version(cur: Any, name: str, stored: list[int]) -> int:
    """The version the bare ``name`` means among its ``stored`` ones: the promoted one (lifecycle.py), else the
    newest."""
    v = lifecycle.bare_version(stored, lifecycle.promoted(cur).get(name))
    return max(stored) if v is None else v
