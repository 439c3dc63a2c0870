"""Models as rows: DDL, save / load / list / drop versions, integrity checks on load (the ``.onnx`` file is ``onnxfile``'s).

Every statement here runs on a cursor of the caller's connection, so a half-read result the
caller still holds is left alone (a statement on the connection itself would replace it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from . import (
    damagedfile,
    damagedrows,
    envints,
    filegoals,
    integrity,
    jsonvalues,
    lifecycle,
    readers,
    storedmetrics,
    thresholdlog,
)
from .categorical import column_names
from .closenames import close_names
from .exceptions import (
    BadInputError,
    BadReferenceError,
    DatabaseUnavailableError,
    IntegrityError,
    ModelNotFoundError,
    OptionError,
)
from .features import FeatureSpec, specs_from_json, specs_to_json
from .pysource import from_command_line
from .sqltext import quote_literal, shell_word, sql_name

FORMAT_VERSION = 1
DEFAULT_MAX_MODEL_BYTES = 64 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")


def max_model_bytes() -> int:
    """Size limit for a model's ONNX bytes; ``AD_DUCKDB_MAX_MODEL_BYTES`` overrides it."""
    return envints.positive_int("AD_DUCKDB_MAX_MODEL_BYTES", DEFAULT_MAX_MODEL_BYTES, "bytes", 134217728)


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


def schema_sql() -> str:
    return resources.files("ad_duckdb").joinpath("sql/schema.sql").read_text()


# The tables ad_duckdb owns, with every column it reads or writes and its type (sql/schema.sql). ``ad_model_versions``
# keeps the highest version each name ever had, so a dropped 'name@N' is never given to another model.
STORE_TABLES: dict[str, dict[str, str]] = {
    "ad_models": {"name": "VARCHAR", "version": "INTEGER", "created_at": "TIMESTAMP", "format_version": "INTEGER",
                  "kind": "VARCHAR", "features": "JSON", "source": "VARCHAR", "train_rows": "BIGINT", "params": "JSON",
                  "metrics": "JSON", "lib_versions": "JSON", "onnx": "BLOB", "sha256": "VARCHAR"},
    "ad_thresholds": {"model": "VARCHAR", "version": "INTEGER", "threshold_name": "VARCHAR", "value": "DOUBLE",
                      "method": "VARCHAR", "chosen_on": "VARCHAR", "precision": "DOUBLE", "recall": "DOUBLE",
                      "f1": "DOUBLE", "flagged_share": "DOUBLE", "created_at": "TIMESTAMP"},
    "ad_model_versions": {"name": "VARCHAR", "last_version": "INTEGER"},
    # which version the bare name means, once one was promoted; what happened to each version (lifecycle.py)
    "ad_model_current": {"name": "VARCHAR", "version": "INTEGER"},
    "ad_model_log": {"name": "VARCHAR", "version": "INTEGER", "logged_at": "TIMESTAMP", "event": "VARCHAR",
                     "by_user": "VARCHAR", "detail": "JSON"},
}
# Columns without which the stored models themselves are gone: adding the column back gives them no bytes.
_MODEL_DATA = ("format_version", "kind", "features", "onnx", "sha256")


@contextmanager
def transaction(cur: Any) -> Iterator[None]:
    """BEGIN ... COMMIT on ``cur``; on any error (a Ctrl-C too) ROLLBACK, then raise the error that stopped it.

    Why ROLLBACK's own error is dropped: a COMMIT that failed (a full disk) has already ended the transaction, and
    ROLLBACK's "no transaction is active" then took the place of the error that said why.
    """
    cur.execute("BEGIN TRANSACTION")
    try:
        yield
        cur.execute("COMMIT")
    except BaseException:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


def ensure_schema(cur: Any) -> None:
    for attempt in range(10):
        try:
            cur.execute(schema_sql())
            break
        except duckdb.TransactionException as e:
            # Why again: two threads (dbt's) storing the first models at once both CREATE ... IF NOT EXISTS, and the
            # later commit is refused as a write-write conflict; once the other's tables exist, the statement is a no-op
            if "conflict" not in str(e) or attempt == 9:
                raise
            time.sleep(0.01 * (attempt + 1))
    tables_exist(cur)


def tables_exist(cur: Any) -> bool:
    """Whether the model store exists here; refuses a user's own table that happens to have a store name.

    Why refuse rather than ignore: reading models from, or writing them into, a table of another layout
    would fail with a bare binder error, or worse, mix models into someone's data.
    """
    return bool(store_tables(cur))


def store_tables(cur: Any) -> frozenset[str]:
    """The store's tables (``STORE_TABLES``) present here, checked as ``tables_exist`` checks them; empty when there is
    no store. Why a set: ``stamp`` learns from this one catalog read whether the tables added by later releases
    (``ad_model_versions``, ``ad_model_current``) exist, where asking for each cost a catalog read of its own."""
    found = dict(cur.execute(
        "SELECT table_name, list(column_name) FROM duckdb_columns() WHERE list_contains(?, table_name) "
        "AND schema_name = current_schema() AND database_name = current_database() GROUP BY table_name",
        [list(STORE_TABLES)],
    ).fetchall())
    for table, cols in found.items():
        missing = [c for c in STORE_TABLES[table] if c not in {str(x).lower() for x in cols}]
        if missing and len(missing) <= len(STORE_TABLES[table]) // 2:
            # Why told apart from a user's own table: most of the store's columns are there, so one was dropped (or
            # renamed) by hand, and the fix is to add it back, not to rename the table
            which = f"column {missing[0]} is" if len(missing) == 1 else f"columns {', '.join(missing)} are"
            add = "; ".join(f"ALTER TABLE {table} ADD COLUMN {c} {STORE_TABLES[table][c]}" for c in missing)
            lost = [c for c in missing if table == "ad_models" and c in _MODEL_DATA]
            raise IntegrityError(
                f"Table {table} is ad_duckdb's model store, but its {which} missing (dropped or renamed by hand?), so "
                f"no model can be read or stored. Add {'it' if len(missing) == 1 else 'them'} back: {add} (from the "
                f"command line: ad-duckdb sql DB \"{add}\" --write)"
                + (f"; the models' {', '.join(lost)} went with {'it' if len(lost) == 1 else 'them'}, so then re-train "
                   "or import each model (or restore the database from a backup)." if lost else ".")
            )
        if missing:
            # Why not "USE another schema": ad_duckdb reads and writes the store through cursors of its own, which
            # start in the database's main schema whatever the connection's USE, so that advice never worked
            db, path = cur.execute("SELECT database_name, path FROM duckdb_databases() "
                                   "WHERE database_name = current_database()").fetchall()[0]
            # both go inside the "..." of the suggested con.execute, where a double quote needs its backslash
            attach, alias = (t.replace('"', '\\"') for t in (quote_literal(str(path or "this.duckdb")), sql_name(db)))
            raise BadInputError(
                f"Table {table!r} in this database is not ad_duckdb's model store (it has columns "
                f"{', '.join(cols)}; the store needs {', '.join(STORE_TABLES[table])}). ad_duckdb keeps its "
                f"models in tables named {', '.join(STORE_TABLES)}, in the database's main schema: rename yours "
                f"(ALTER TABLE {table} RENAME TO {table}_data; from the command line: ad-duckdb sql DB \"ALTER TABLE "
                f"{table} RENAME TO {table}_data\" --write), or keep the models in a database file of their own that "
                f"attaches this one: con = ad_duckdb.connect('models.duckdb'); con.execute(\"ATTACH {attach} AS "
                f"{alias} (READ_ONLY)\"), then train and score on {db}.main.your_table."
            )
    if "ad_models" in found and "ad_thresholds" not in found:
        if not cur.execute("SELECT count(*) FROM ad_models").fetchall()[0][0]:
            # Why no store yet, not an error: another thread's or process's ensure_schema is between creating
            # ad_models and ad_thresholds (schema.sql's statements commit one by one), and nothing is stored to read
            return frozenset()
        # Why an IntegrityError (which registering the functions reports at a call, not at once): every read of the
        # store also reads ad_thresholds, so DuckDB's "Table with name ad_thresholds does not exist!" failed each
        # command, also the ALTER TABLE that puts the table back
        raise IntegrityError(
            "Table ad_thresholds of ad_duckdb's model store is missing beside ad_models (dropped or renamed by hand?), "
            "so no model can be read. Rename it back (ALTER TABLE old_name RENAME TO ad_thresholds; from the command "
            "line: ad-duckdb sql DB \"ALTER TABLE old_name RENAME TO ad_thresholds\" --write), or create it empty "
            "as sql/schema.sql does (ad-duckdb sql DB --write --file sql/schema.sql creates only what is missing) and "
            "set the thresholds again with `ad-duckdb threshold`."
        )
    return frozenset(found) if "ad_models" in found else frozenset()


def check_writable(table: str) -> None:
    """Refuse a user write target (``into=``) that is one of the store's tables, or no name at all."""
    if not isinstance(table, str):  # checked first: into=5 ended in "'int' object has no attribute 'strip'"
        raise BadInputError(f"into= takes the name of the table to write, e.g. into='tx_scores'; got "
                            f"{type(table).__name__} {table!r}.")
    last = table.strip().strip('"').split(".")[-1].strip('"').lower()
    if last in STORE_TABLES:
        raise BadInputError(
            f"{table!r} is where ad_duckdb keeps its models; writing scores or reports there would destroy them. "
            "Choose another table name, e.g. tx_scores."
        )


def check_can_write(cur: Any, what: str) -> None:
    """Refuse early, with the fix, what would otherwise fail at the end with DuckDB's bare read-only error, or
    with its "Failed to commit" on a log it cannot create (``unwritable_folder``)."""
    row = cur.execute(
        "SELECT readonly, path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if row and row[0][0]:
        raise BadInputError(
            f"{what}: the database is open read-only. Open it for writing (ad_duckdb.connect(path) without "
            "read_only=True), from a process that is the file's only user."
        )
    said = unwritable_folder(row[0][1]) if row and row[0][1] else None
    if said:
        raise DatabaseUnavailableError(f"{what}: {said}")


def unwritable_folder(db: str, reads: str = "score() without into=, list_models, export_model, SQL") -> str | None:
    """Why a write to the database file ``db`` would fail at its commit, with the fix and what still works
    (``reads``); None if it would not.

    Why asked before the work: DuckDB creates its write-ahead log (DB.wal) beside the file at the first commit, so a
    writable file in a read-only folder opened fine, the work was done (a whole training), and only the commit
    failed: "TransactionContext Error: Failed to commit: Cannot open file ...wal: Permission denied".
    """
    folder = Path(db).absolute().parent
    if not folder.is_dir() or os.access(folder, os.W_OK | os.X_OK):
        return None
    if _mounted_read_only(folder):
        # Why said apart: "make the folder writable (chmod u+w)" cannot help on a read-only mount (a job's copy of
        # the models on a read-only volume or image), and root, whom permissions do not stop, was told it too
        return (f"its folder {str(folder)!r} is on a file system mounted read-only, where DuckDB can write neither "
                f"the file nor its log {Path(db).name + '.wal'!r}. Fix: work on a copy in a writable folder (e.g. "
                f"cp {shell_word(db)} /tmp/), or mount it read-write; reading works ({reads}).")
    return (f"its folder {str(folder)!r} is not writable by this user, and DuckDB writes its log "
            f"{Path(db).name + '.wal'!r} there at every commit. Fix: make the folder writable (chmod u+w), or work on a "
            f"copy in a writable folder; reading works ({reads}).")


def _mounted_read_only(folder: Path) -> bool:
    """Whether ``folder`` is on a file system mounted read-only (False where that cannot be told)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: a platform without statvfs
        return False


def is_model_file(entry: str) -> bool:
    """Whether an entry of register(models=...) or the dbt plugin's 'models' is an exported file, not a name."""
    return entry.lower().endswith(".onnx")


def valid_name(name: str) -> bool:
    """Whether ``name`` has a model name's form (older releases' names ending in '.onnx' included)."""
    return bool(_NAME.fullmatch(name))


def check_name(name: object) -> str:
    if not isinstance(name, str) or not valid_name(name):
        # Why the characters named: 'Modèle_ä' refused with "use letters" read as wrong, è and ä being letters
        others = sorted({c for c in name if not c.isascii()}) if isinstance(name, str) else []
        ascii_only = (f" The letters are ASCII ones (a-z, A-Z), so {', '.join(map(repr, others))} cannot be in a "
                      "name." if others else "")
        raise OptionError(
            f"Model name {name!r} is not valid: use letters, digits, '_', '-' or '.', starting with a letter "
            f"or '_' (at most 128 characters), e.g. {_ascii_name(name)!r}.{ascii_only} '@' is reserved for versions "
            "('tx_ae@2')."
        )
    if is_model_file(name):
        # Why refused: a models= list holds names and exported files side by side, told apart by this ending.
        # OptionError, as any other invalid name: the command line exits 2 for it.
        raise OptionError(
            f"Model name {name!r} ends in '.onnx', which register(models=...) and the dbt plugin's 'models' "
            f"setting read as the path of an exported model file. Name it without the ending, e.g. "
            f"{name_without_onnx(name)!r}."
        )
    return name


def _ascii_name(name: object) -> str:
    """``name`` spelt as a valid model name (accents dropped, ß as ss, anything else '_'), or 'tx_ae' when little
    of it is left (a name in Chinese)."""
    if not isinstance(name, str):
        return "tx_ae"
    out = []
    for c in name[:128]:
        plain = "".join(d for d in unicodedata.normalize("NFKD", c) if d.isascii())
        plain = plain or (c.casefold() if c.casefold().isascii() else "")
        out.append(plain if re.fullmatch(r"[A-Za-z0-9_.\-]+", plain or "@") else "_")
    fixed = "".join(out)
    fixed = (fixed if re.match(r"[A-Za-z_]", fixed) else "_" + fixed)[:128]
    return fixed if valid_name(fixed) and re.search(r"[A-Za-z0-9]", fixed) and not is_model_file(fixed) else "tx_ae"


def name_without_onnx(name: str) -> str:
    """A valid name for ``name`` without its '.onnx' ending (releases before 2026-12-01 stored such names)."""
    stem = name[: -len(".onnx")].rstrip(".-") if is_model_file(name) else name
    return stem if valid_name(stem) else "model"


def not_a_model_name(ref: object) -> BadInputError:
    """The error for a model argument that is no name. What ``train`` or ``import_model`` returned (a ``ModelInfo``),
    ``load_model``'s ``ModelRecord`` and a detector ``from_store`` are told by the name they stand for.

    Why: a notebook keeps ``info = ad_duckdb.train(...)`` and passes ``info`` on, as a PyOD user passes the fitted
    detector; that read "TypeError: unhashable type: 'ModelInfo'", or printed the whole object."""
    stored = getattr(ref, "stored_ref_", None)  # AutoEncoderDetector.from_store's; None after fit
    pinned, attr = (stored, "det.stored_ref_") if isinstance(stored, str) else (getattr(ref, "ref", None), "ref")
    if isinstance(pinned, str) and "@" in pinned:
        what = type(ref).__name__
        if attr == "ref":
            attr = "info.ref" if what == "ModelInfo" else "rec.ref"
        return BadInputError(
            f"The model argument must be a model name; got the {what} of {pinned!r}. Pass its name: "
            f"{pinned.rpartition('@')[0]!r} (its latest version) or {pinned!r} ({attr}, this version).")
    return BadInputError(f"The model argument must be a model name such as 'tx_ae' (its latest version) or "
                         f"'tx_ae@2'; got {ref!r}.")


def parse_ref(ref: str) -> tuple[str, int | None]:
    """'name' -> (name, None); 'name@3' -> (name, 3). A reference of no valid form is a ``BadReferenceError``, an
    ``OptionError``: wrong whatever the data (the command line exits 2, as for its other wrong arguments)."""
    if not isinstance(ref, str):
        raise not_a_model_name(ref)
    if "@" in ref:
        name, _, ver = ref.rpartition("@")
        if not name or "@" in name:
            # Why here: a lookup of 'tx_ae@1' said "No model 'tx_ae@1'", as if such a name could be stored
            raise BadReferenceError(
                f"Model reference {ref!r} is malformed: a model name never holds '@' and cannot be empty ('@' only "
                "separates the version); use 'name' (its promoted version, else its newest) or 'name@N' for version "
                "N, e.g. 'tx_ae@2'."
            )
        # Why isascii: str.isdigit accepts '²' (int() then fails) and other scripts' digits ('١', '１'), which a
        # version written in SQL is never meant to be
        if not (ver.isascii() and ver.isdigit()) or int(ver) < 1:
            raise BadReferenceError(
                f"Model reference {ref!r} has a bad version {ver!r}: use 'name' (its promoted version, else its "
                "newest) or 'name@N' with N >= 1."
            )
        return name, int(ver)
    return ref, None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(v: Any) -> str:
    return json.dumps(v, default=str)


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


def write_threshold(cur: Any, model: str, version: int, t: Threshold, created_at: dt.datetime | None = None) -> None:
    _write_thresholds(cur, model, version, [(t, created_at or dt.datetime.now(dt.UTC).replace(tzinfo=None))])


def _write_thresholds(cur: Any, model: str, version: int, rows: list[tuple[Threshold, dt.datetime]]) -> None:
    """Store each (threshold, time set) of ``model@version`` (names distinct), in one statement."""
    if not rows:
        return
    cur.execute(
        "INSERT OR REPLACE INTO ad_thresholds (model, version, threshold_name, value, method, chosen_on, precision, "
        "recall, f1, flagged_share, created_at) VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
        [v for t, created in rows for v in (model, version, t.name, float(t.value), t.method, t.chosen_on, t.precision,
                                            t.recall, t.f1, t.flagged_share, created)],
    )


# Key of ad_models.metrics holding, per threshold name, the goal a threshold was chosen for on labelled rows
# ({"method", "target", "source", "label", "where", "confident"}), so that a retrain can choose it again.
GOALS = filegoals.GOALS


# Held by drop's and set_threshold's transactions. Why: DuckDB's snapshots let a threshold be inserted for a version
# that a thread's drop deleted after the insert's transaction began (neither conflicts), leaving an orphan row;
# another process cannot write the file meanwhile, so one lock per process is enough.
_VERSIONS_CHANGE = threading.Lock()


def set_threshold(cur: Any, model: str, version: int, t: Threshold, goal: dict[str, Any] | None) -> None:
    """Store ``t`` for a stored version, with the goal it was chosen for on labels (``None``: none, and a goal kept
    under its name before is dropped), in one transaction: a threshold never outlives or lacks its goal, nor its
    version (a version dropped since it was loaded is refused)."""
    with _VERSIONS_CHANGE, transaction(cur):
        row = cur.execute("SELECT metrics::VARCHAR, source FROM ad_models WHERE name = ? AND version = ?",
                          [model, version]).fetchall()
        if not row:
            # Why here, in the transaction: the version was loaded (and the value chosen on it) before, so a drop in
            # another thread or process since would otherwise leave a threshold row that no version owns.
            raise not_found(f"{model}@{version}", known_models(cur), dropped_versions(cur))
        metrics = json.loads(row[0][0] or "{}")
        # an imported file's malformed goals are replaced; its goal under this name is the user's choice no longer
        goals, came = filegoals.split(metrics, row[0][1])
        if goal is not None or goals.pop(t.name, None) is not None or came.pop(t.name, None) is not None:
            if goal is not None:
                goals[t.name] = goal
            cur.execute("UPDATE ad_models SET metrics = ?::JSON WHERE name = ? AND version = ?",
                        [_json(filegoals.joined(metrics, row[0][1], goals, came)), model, version])
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        write_threshold(cur, model, version, t, created_at=now)
        # what restore-thresholds stores again should its block be damaged, at the time it was set
        thresholdlog.logged(cur, model, version, t, set_at=now)


_COLS = (
    "name, version, created_at, format_version, kind, features::VARCHAR, source, train_rows, params::VARCHAR, "
    "metrics::VARCHAR, lib_versions::VARCHAR, onnx, sha256"
)
# Every column of a stored version that _from_row reads but its ONNX bytes, hashed by DuckDB: it changes when any
# of them does (a threshold's goal set in metrics, a row edited by hand), so that load_all reads such a row again
_DIGEST = ("hash(sha256, created_at, format_version, kind, features::VARCHAR, source, train_rows, params::VARCHAR, "
           "metrics::VARCHAR, lib_versions::VARCHAR)")


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


def _thresholds(cur: Any, name: str, version: int) -> list[Threshold]:
    rows = cur.execute(
        "SELECT threshold_name, value, method, chosen_on, precision, recall, f1, flagged_share FROM ad_thresholds "
        "WHERE model = ? AND version = ? ORDER BY threshold_name",
        [name, version],
    ).fetchall()
    return [Threshold(*r) for r in rows]


def known_models(cur: Any) -> dict[str, list[int]]:
    if not tables_exist(cur):
        return {}
    out: dict[str, list[int]] = {}
    for name, version in cur.execute("SELECT name, version FROM ad_models ORDER BY name, version").fetchall():
        out.setdefault(name, []).append(int(version))
    return out


# The database files the command line opened, as their user typed them, by the path DuckDB gives (absolute).
_TYPED: dict[str, str] = {}


def typed_as(db: str) -> None:
    """The command line opens ``db`` as its user typed it (``warehouse.duckdb``): ``cli_db`` names it so.

    Why: DuckDB gives the file's absolute path, so the damaged-thresholds message of a command that scores (read
    when the functions load the store) named '/home/me/warehouse.duckdb' where `show` and `history` named the typed
    'warehouse.duckdb'."""
    _TYPED[os.path.abspath(db)] = db


def cli_db(cur: Any) -> str:
    """The database's path as the CLI commands of a note's fix name it (as the command line's user typed it, when it
    opened the file: ``typed_as``), or DB for an in-memory one."""
    row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return as_typed(row[0][0]) if row and row[0][0] else "DB"


def as_typed(path: str) -> str:
    """The database file DuckDB names ``path`` as the command line's user typed it (``typed_as``), else ``path``."""
    return _TYPED.get(os.path.abspath(path), path)


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


# How a connection whose functions loaded the models earlier sees the ones stored since
REFRESH_FIX = ("call ad_duckdb.refresh(con) (a running `ad-duckdb serve`: send it SIGHUP; with --snapshot, then "
               "reconnect: a connection keeps the copy it started on)")


def stored_versions(cur: Any, name: str) -> dict[int, tuple[str, list[str]]]:
    """The source column and feature names of each stored version of ``name`` (for ``not_found``'s dropped version),
    without loading ONNX bytes."""
    if not tables_exist(cur):
        return {}
    rows = cur.execute("SELECT version, source, features::VARCHAR FROM ad_models WHERE name = ? ORDER BY version",
                       [name]).fetchall()
    return {int(v): (str(src or ""), names) for v, src, f in rows if (names := _feature_names(f)) is not None}


def _instead_of_dropped(name: str, version: int, stored: dict[int, tuple[str, list[str]]]) -> str:
    """What to pin in place of the dropped ``name@version``: a stored copy of it (an import of its exported file,
    a rollback: its source reads "imported from FILE (name@version; ...)"), else what each stored version takes.

    Why: its columns went with it, and "pin one of those" left the user to find which version scores the same
    columns, or that the rollback they imported is the very model."""
    mark = f"({name}@{version};"
    copies = [(v, src) for v, (src, _) in sorted(stored.items(), reverse=True)
              if src.startswith("imported from ") and mark in src]
    if copies:
        # Why hedged: the mark names the version the file was exported as, in the database it came from, which
        # may be another one's tx_ae@1 (a dev database's); the dropped version's bytes are gone, so not compared
        said = "; ".join(f"'{name}@{v}' ({src})" for v, src in copies)
        one = len(copies) == 1
        which = repr(f"{name}@{copies[0][0]}") if one else "the one exported from this database"
        return (f" A stored copy of it, if the file came from this database: {said}, "
                f"{'an import' if one else 'imports'} of a file exported as '{name}@{version}'; pin {which} where "
                f"'{name}@{version}' was pinned, to score as it did.")
    sets: dict[tuple[str, ...], int] = {}
    for v, (_, feats) in stored.items():
        sets[tuple(feats)] = max(v, sets.get(tuple(feats), v))
    if not sets:
        return ""
    takes = ", ".join(f"'{name}@{v}' takes ({', '.join(f)})" for f, v in sorted(sets.items(), key=lambda x: -x[1]))
    return f" Its columns went with it; pin the version that takes the columns your query passes: {takes}."


def not_found(ref: str, known: dict[str, list[int]], dropped: dict[str, int] | None = None,
              afresh: bool | None = None, stored: dict[int, tuple[str, list[str]]] | None = None,
              train_with: Callable[[str], str] | None = None) -> ModelNotFoundError:
    """The error for a name or version that is not stored. ``dropped`` (``dropped_versions``) tells a dropped version
    or model from one trained elsewhere that this connection has not seen, for which refresh() is the fix.
    ``afresh``: whether ``known`` was read for this very call (a command's own connection), so refresh() is not;
    default: whether the ``ad-duckdb`` command runs this call. ``stored``: the name's stored versions
    (``stored_versions``), for what to pin in place of a dropped one. ``train_with``: how to train the name, where
    the caller is no Python session holding ``con`` (the dbt plugin: a training model, see Registry.train_with)."""
    name, version = parse_ref(ref)
    last = (dropped or {}).get(name)
    listing = ", ".join(repr(k) for k in sorted(known)) or "none yet"
    if last is not None and (version is None and name not in known or
                             version is not None and version <= last and version not in known.get(name, [])):
        if name in known:  # one version dropped, others stored
            vs = ", ".join(str(v) for v in known[name])
            return ModelNotFoundError(
                f"Model '{name}@{version}' was dropped (ad-duckdb drop / drop_model); {name!r} now has "
                f"version{'s' if len(known[name]) > 1 else ''} {vs}. "
                f"Version numbers are never reused: pin "
                f"{'one of those' if len(known[name]) > 1 else repr(f'{name}@{known[name][0]}')}, or use '{name}' "
                f"(its promoted version, else its newest).{_instead_of_dropped(name, version, stored or {}) if version is not None else ''}",
                dropped=True
            )
        what = f"'{name}@{version}'" if version is not None else f"{name!r} (every version, up to {name}@{last})"
        return ModelNotFoundError(
            f"Model {what} was dropped (ad-duckdb drop / drop_model); known models: {listing}. Train {name!r} again "
            f"(it becomes {name}@{last + 1}: version numbers are never reused) or import it (ad-duckdb import).",
            # Why only a version: the name is trained again (a later dbt node may), the dropped number never is
            dropped=version is not None,
        )
    if name in known and version is not None:
        vs = ", ".join(str(v) for v in known[name])
        # Why not on the command line: a command opens the file afresh, so it knows every stored version, and a
        # shell user has no connection to refresh
        elsewhere = "." if (from_command_line() if afresh is None else afresh) else (
            f", or, if it was trained in another connection, {REFRESH_FIX}.")
        return ModelNotFoundError(f"Model {name!r} has no version {version} (versions: {vs}). Use '{name}' (its "
                                  f"promoted version, else its newest){elsewhere}")

    def suggest(k: str) -> str:  # never a version the stored model lacks
        if version is None:
            return repr(k)
        if version in known[k]:
            return repr(f"{k}@{version}")
        return f"{k!r} (versions: {', '.join(str(v) for v in known[k])})"

    same = [k for k in sorted(known) if k.lower() == name.lower()]
    if same:
        # Why say so: column names match in any case (DuckDB's rule), so 'tx_ae' for 'TX_AE' looks like it should too
        return ModelNotFoundError(
            f"No model {name!r} in table ad_models; model names are case-sensitive: did you mean "
            f"{' or '.join(suggest(k) for k in same)}? (known models: {listing})", guessed=True
        )
    close = close_names(name, list(known))
    maybe = f" Did you mean {' or '.join(suggest(k) for k in close)}?" if close else ""
    from .optionwords import either

    return ModelNotFoundError(
        f"No model {name!r} in table ad_models; known models: {listing}.{maybe} "
        f"{'Or train' if maybe else 'Train'} one with "
        f"{train_with(name) if train_with else either('ad_duckdb.train(con, ...)', '`ad-duckdb train`')}.",
        guessed=bool(close),
    )


def bare_version(cur: Any, name: str, stored: list[int]) -> int:
    """The version the bare ``name`` means among its ``stored`` ones: the promoted one (lifecycle.py), else the
    newest."""
    v = lifecycle.bare_version(stored, lifecycle.promoted(cur).get(name))
    return max(stored) if v is None else v


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
    unchanged ones' reads to be thrown away (``udfs.Registry`` keeps the loaded model of an unchanged sha256).

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


def drop(cur: Any, ref: str, keep: int | None = None) -> list[int]:
    """Drop one version ('name@N') or every version ('name'), or with ``keep`` every version of 'name' but the
    ``keep`` newest and the promoted one (pruning after nightly retrains); returns the versions dropped."""
    name, version = parse_ref(ref)
    if keep is not None and (version is not None or isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
        from .optionwords import opt

        raise OptionError(f"{opt('keep')} prunes the older versions of a name: give the name without @N and "
                          f"a whole number >= 1 of newest versions to keep, e.g. drop {name!r} keeping 5; "
                          f"got {ref!r} and {opt('keep', keep)}.")
    known = known_models(cur)
    if name not in known or (version is not None and version not in known[name]):
        raise not_found(ref, known, dropped_versions(cur), stored=stored_versions(cur, name))
    versions = [version] if version is not None else list(known[name])
    if keep is not None:
        # the promoted version stays too: pruning must not move what dashboards calling the name score with
        current = bare_version(cur, name, known[name])
        versions = [v for v in sorted(versions)[:-keep] if v != current]
        if not versions:
            return []
    ensure_schema(cur)  # a store made before ad_model_versions existed gains it here
    with _VERSIONS_CHANGE, transaction(cur):
        lifecycle.on_drop(cur, name, versions, known[name], _dropped_rows(cur, name, versions))
        # Why remember the highest version: a query or a dbt model pinned to 'name@N' must never be
        # answered by a different model trained after N was dropped.
        cur.execute(
            "INSERT INTO ad_model_versions (name, last_version) SELECT $1, greatest($2, coalesce((SELECT last_version FROM "
            "ad_model_versions WHERE name = $1), 0)) ON CONFLICT (name) DO UPDATE SET last_version = "
            "excluded.last_version", [name, max(known[name])]
        )
        for v in versions:
            cur.execute("DELETE FROM ad_thresholds WHERE model = ? AND version = ?", [name, v])
            cur.execute("DELETE FROM ad_models WHERE name = ? AND version = ?", [name, v])
    return versions
