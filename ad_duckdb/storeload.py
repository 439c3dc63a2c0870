"""Reading stored versions: one, or every one, each checked (its size, its sha256, its metadata, its ONNX graph)
before it is used."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import duckdb

from . import damagedfile, damagedrows, envints, integrity, jsonvalues, readers, storedmetrics
from .exceptions import IntegrityError
from .features import specs_from_json
from .modelnames import parse_ref
from .notfound import not_found
from .store import FORMAT_VERSION, ModelRecord, Threshold, bare_version, dropped_versions, known_models, sha256_hex, stored_versions
from .storestamp import _DIGEST, Stamp, stamp
from .thresholdrows import _thresholds

DEFAULT_MAX_MODEL_BYTES = 64 * 1024 * 1024


def max_model_bytes() -> int:
    """Size limit for a model's ONNX bytes; ``AD_DUCKDB_MAX_MODEL_BYTES`` overrides it."""
    return envints.positive_int("AD_DUCKDB_MAX_MODEL_BYTES", DEFAULT_MAX_MODEL_BYTES, "bytes", 134217728)


_COLS = (
    "name, version, created_at, format_version, kind, features::VARCHAR, source, train_rows, params::VARCHAR, "
    "metrics::VARCHAR, lib_versions::VARCHAR, onnx, sha256"
)


def _from_row(row: tuple[Any, ...]) -> ModelRecord:
    name, version, created, fmt, kind, feats, source, rows, params, metrics, libs, onnx, sha = row
    # Why before any use: the schema's NOT NULL can be dropped by hand, and int(None) / bytes(None) raised a bare
    # TypeError that stopped every model of the database from loading, not only this one.
    empty = [c for c, v in (("format_version", fmt), ("kind", kind), ("features", feats), ("onnx", onnx),
                            ("sha256", sha)) if v is None]
    if empty:
        raise IntegrityError(
            f"Model '{name}@{version}' has no {' and no '.join(empty)} ("
            f"{', '.join(f'ad_models.{c}' for c in empty)} {'is' if len(empty) == 1 else 'are'} NULL), so the row was "
            "altered or damaged; re-train it or import a good copy (the model will not be used)."
        )
    fmt = int(fmt)
    if fmt > FORMAT_VERSION:
        raise IntegrityError(
            f"Model '{name}@{version}' was stored with format_version {fmt}, newer than this ad_duckdb "
            f"understands ({FORMAT_VERSION}); upgrade ad_duckdb to load it."
        )
    data = bytes(onnx)
    if len(data) > max_model_bytes():
        raise IntegrityError(
            f"Model '{name}@{version}' is {len(data)} bytes, over the limit of {max_model_bytes()}; "
            "raise AD_DUCKDB_MAX_MODEL_BYTES if you trust it."
        )
    if sha256_hex(data) != sha:
        raise IntegrityError(
            f"Model '{name}@{version}': the sha256 of its stored ONNX bytes does not match ad_models.sha256, "
            "so the row was altered or damaged; re-train it or import a good copy (the model will not be used)."
        )
    try:
        specs = specs_from_json(feats)
        rec = ModelRecord(
            name=name, version=int(version), kind=kind, features=specs, onnx=data, source=source,
            train_rows=rows, params=jsonvalues.loads(params or "{}"), metrics=jsonvalues.loads(metrics or "{}"),
            lib_versions=jsonvalues.loads(libs or "{}"), created_at=created, format_version=fmt, sha256=sha,
        )
        if not all(isinstance(d, dict) for d in (rec.params, rec.metrics, rec.lib_versions)):
            raise TypeError("params, metrics and lib_versions must be JSON objects")
        storedmetrics.check(rec.metrics)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        # Why: a damaged row must be refused like a tampered one, not crash loading of the other models.
        raise IntegrityError(
            f"Model '{name}@{version}': its stored metadata (features / params / metrics JSON) is malformed "
            f"({e!r}); re-train it or import a good copy (the model will not be used)."
        ) from e
    readers.check(rec.lib_versions, f"Model '{rec.ref}'")  # one a newer build marked as needing it
    # Refuses external-data paths, custom operator domains and a graph that does not fit the feature list.
    integrity.check_onnx(data, model=rec.ref, n_features=len(specs))
    return rec


def load(cur: Any, ref: str) -> ModelRecord:
    """Load a model by 'name' (latest) or 'name@N', checking its integrity."""
    name, version = parse_ref(ref)
    known = known_models(cur)
    if name not in known or (version is not None and version not in known[name]):
        raise not_found(ref, known, dropped_versions(cur), stored=stored_versions(cur, name))
    v = version if version is not None else bare_version(cur, name, known[name])
    try:
        row = cur.execute(f"SELECT {_COLS} FROM ad_models WHERE name = ? AND version = ?", [name, v]).fetchall()[0]
    except duckdb.Error as e:
        if not damagedfile.is_damage(e):
            raise
        # the model's row only (show, export): named with the recovery, as load_all names it
        raise IntegrityError(damagedrows.damaged_row(name, v, e)) from e
    rec = _from_row(row)
    rec.thresholds = _thresholds(cur, name, v)
    rec.threshold_times = dict(cur.execute("SELECT threshold_name, created_at FROM ad_thresholds WHERE model = ? AND "
                                           "version = ?", [name, v]).fetchall())
    return rec


def load_all(cur: Any, names: list[str] | None = None, loaded: Mapping[tuple[str, int], ModelRecord] | None = None,
             stamped: Stamp | None = None) -> tuple[list[ModelRecord], dict[tuple[str, int], str]]:
    """Every stored version (optionally of some names). Damaged rows are skipped and reported by
    (name, version), not fatal.

    ``loaded``: records an earlier ``load_all`` returned, by (name, version). One whose stored row is unchanged (the
    same digest: sha256, metrics and the rest but the ONNX bytes) is returned again as it is, with the thresholds
    read now, its bytes neither read nor hashed again; only new and changed versions are read in full and checked.
    Why: reloading after each training read and hashed every stored version, so a store of a few hundred versions
    paid for all of them at every training (the cost grew with the square of the model count), only for the
    unchanged ones' reads to be thrown away (``udfregistry.Registry`` keeps the loaded model of an unchanged sha256).

    ``stamped``: the store's ``stamp`` as the caller just read it (the SQL functions' reload, which compared it with the
    one it loaded), whose digests and thresholds are used, not read again; read here when not given.
    """
    st = stamped if stamped is not None else stamp(cur)
    if not st.stored:
        return [], {}
    recs: list[ModelRecord] = []
    problems: dict[tuple[str, int], str] = {}
    keys = _changed_rows(st, names, loaded) if loaded else None
    if keys is None:
        try:
            rows = cur.execute(f"SELECT {_COLS}, {_DIGEST} FROM ad_models ORDER BY name, version").fetchall()
        except duckdb.Error as e:
            if not damagedfile.is_damage(e):
                raise
            # a damaged block of some rows' bytes: the others load, and those are named with the recovery
            rows, unread = damagedrows.rows_one_by_one(cur, f"{_COLS}, {_DIGEST}", e)
            problems.update(unread)
        if st.digest_rows is not None:
            # a version stored since the stamp was read waits for the next load: its thresholds, read with the stamp
            # (before it was stored), would be missing
            stamped_keys = {(r[0], r[1]) for r in st.digest_rows}
            rows = [r for r in rows if (r[0], r[1]) in stamped_keys]
    else:
        fetch, kept = keys
        rows = []
        if fetch:
            try:
                rows = cur.execute(f"SELECT {_COLS}, {_DIGEST} FROM ad_models WHERE list_contains(?, name || '@' || "
                                   "version)", [[f"{n}@{v}" for n, v in fetch]]).fetchall()
            except duckdb.Error as e:
                if not damagedfile.is_damage(e):
                    raise
                rows, unread = damagedrows.rows_one_by_one(cur, f"{_COLS}, {_DIGEST}", e, fetch)
                problems.update(unread)
        # in (name, version) order, as a full read gives them: the last version read of a name is its newest
        rows = sorted([*rows, *kept], key=lambda r: (r[0], r[1]))
    # Why the models still load when the thresholds cannot be read (st.thresholds_unread): scores need no threshold,
    # so only the calls that flag rows fail, each naming the repair (damagedthresholds), and dashboards of scores
    # keep working until restore-thresholds runs
    th_unread = st.thresholds_unread
    ths: dict[tuple[str, int], list[Threshold]] = {}
    for r in st.threshold_rows:
        ths.setdefault((r[0], int(r[1])), []).append(Threshold(*r[2:]))
    for row in rows:
        if names is not None and row[0] not in names:
            continue
        if isinstance(row[2], ModelRecord):  # kept from ``loaded`` (_changed_rows)
            rec = dataclasses.replace(row[2])
        else:
            try:
                rec = _from_row(row[:-1])
            except IntegrityError as e:
                problems[(str(row[0]), int(row[1]))] = str(e)
                continue
            rec.digest = row[-1]
        rec.thresholds = ths.get((rec.name, rec.version), [])
        rec.thresholds_unread = th_unread
        recs.append(rec)
    return recs, problems


def _changed_rows(st: Stamp, names: list[str] | None, loaded: Mapping[tuple[str, int], ModelRecord]
                  ) -> tuple[list[tuple[str, int]], list[tuple[str, int, ModelRecord]]] | None:
    """For ``load_all`` given ``loaded``: (name, version) of each stored version to read in full (new, changed, or
    refused before), and (name, version, record) of each to keep as loaded; None when the store's digests cannot be
    read (a damaged block), so that everything is read as without ``loaded``, each damaged row named.

    Why an unchanged row's bytes are not checked again, though one damaged in place since (its sha256 left as it was)
    is then not reported here: the loaded model runs the bytes that passed the check when they were read, which are
    the stored ones as they should be, so nothing unchecked is ever scored, and refusing that good copy for a damaged
    one on disk would stop the scoring for nothing. What reads the stored bytes again checks them again: a new
    connection, ad_duckdb.refresh(con), load_model, export, every command of the ``ad-duckdb`` tool.
    """
    if st.digest_rows is None:
        return None
    fetch: list[tuple[str, int]] = []
    kept: list[tuple[str, int, ModelRecord]] = []
    for name, version, digest in st.digest_rows:
        if names is not None and name not in names:
            continue
        old = loaded.get((name, int(version)))
        if old is not None and old.digest is not None and old.digest == digest:
            kept.append((name, int(version), old))
        else:
            fetch.append((name, int(version)))
    return fetch, kept
