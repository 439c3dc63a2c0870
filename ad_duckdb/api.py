"""The Python API: connect, register, refresh, train, score, evaluate, thresholds, export / import."""

from __future__ import annotations

import json
import numbers
import platform
import queue
import re
import shlex
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from dataclasses import replace as with_fields
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from . import interrupts, onnxfile, pysource, store, thresholds
from .exceptions import (
    AdDuckDBError,
    AdDuckDBWarning,
    BadInputError,
    DatabaseLockedError,
    DatabaseUnavailableError,
    IntegrityError,
    MissingDependencyError,
    NoRowsError,
    SourceNotFoundError,
)
from .features import (
    TrainingSample,
    as_number_query,
    choose_columns,
    count_rows,
    default_features,
    describe,
    did_you_mean,
    feature_batches,
    is_numeric_type,
    load_matrix,
    text_number_hint,
    text_values,
    warn_if_few_rows,
)
from .scoring import LoadedModel, ort_pool, to_arrow, to_matrix
from .sqltext import is_query, quote_ident, quote_literal, source_sql, strip_sql_ends, table_sql, where_sql
from .store import ModelRecord, Threshold
from .udfs import register, registry

__all__ = [
    "ModelInfo", "connect", "drop_model", "evaluate", "export_model", "import_model", "list_models",
    "load_model", "read_onnx_file", "refresh", "register", "score", "set_threshold", "train",
]


@dataclass
class ModelInfo:
    """A stored model version, as ``train`` and ``import_model`` return it."""

    name: str
    version: int
    features: list[str]
    train_rows: int | None
    thresholds: dict[str, float]
    metrics: dict[str, Any] = field(repr=False)  # 1001 score quantiles and the training curve: too long to show
    flagged_shares: dict[str, float | None] = field(default_factory=dict, repr=False)  # of the training rows

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def of(cls, rec: ModelRecord) -> ModelInfo:
        return cls(rec.name, rec.version, rec.feature_names, rec.train_rows,
                   {t.name: float(t.value) for t in rec.thresholds}, rec.metrics,
                   {t.name: t.flagged_share for t in rec.thresholds})


def _open_error(database: str, read_only: bool, e: duckdb.IOException) -> AdDuckDBError | None:
    """What to tell the user for DuckDB's IO error opening a database file (a lock; a file this process may not
    write), with the fix; None for any other, which is DuckDB's own to report."""
    if "lock" in str(e).lower():
        if read_only:  # then the other process is a writer
            return DatabaseLockedError(
                f"Cannot open {database!r}: another process has it open for writing ({e}). DuckDB allows one "
                "writing process per file and no readers beside it: stop the other process (a server, a dbt "
                "run, a training run), or wait for it to finish."
            )
        return DatabaseLockedError(
            f"Cannot open {database!r} for writing: another process has it open ({e}). DuckDB allows one "
            "writing process per file, or several reading ones: stop the other process (a server, a dbt run, "
            "a training run), or open it read-only (read_only=True) from a process that only reads. A server "
            "that must keep running while you write: `ad-duckdb serve DB --snapshot` serves a copy and leaves the "
            "file to writers (SIGHUP publishes what they wrote)."
        )
    text = str(e).lower()
    # "operation not permitted": EPERM, e.g. an immutable file (chattr +i) or one a sandbox guards
    if any(m in text for m in ("read-only file system", "permission denied", "operation not permitted")):
        # Why: DuckDB's bare "IO Error: Cannot open file ...: Read-only file system" says neither that the
        # command wanted to write nor what to do; a scoring job on a read-only file can still read it.
        fix = ("make the file readable by this user" if read_only else
               "this command writes into the database (train, drop, threshold, import, score --into, sql --write):"
               " run it where the file is writable, or on a writable copy; reading works on a read-only file "
               "(score without --into, list, show, export, sql)")
        return DatabaseUnavailableError(f"Cannot open {database!r}{'' if read_only else ' for writing'}: {e}. "
                                       f"Fix: {fix}.")
    # Why: DuckDB's bare "Could not read from file ...: Is a directory" / "... is not a valid DuckDB database file!"
    # named no fix, and exited 1 where a file that cannot be opened is 3.
    if "is a directory" in text:
        return DatabaseUnavailableError(
            f"Cannot open {database!r}: it is a folder, not a DuckDB database file. Give the path of a .duckdb file "
            "(a new path creates one); a folder of Parquet or CSV files is a source, e.g. read_parquet('dir/*.parquet')."
        )
    if "not a valid duckdb database file" in text:
        return DatabaseUnavailableError(
            f"Cannot open {database!r}: it is not a DuckDB database file (DuckDB cannot read it as one; it was left as "
            "it is). Check the path; a new path creates a database, and a Parquet or CSV file is a source, e.g. "
            "read_parquet('file.parquet')."
        )
    return None


def connect(
    database: str | Path = ":memory:", *, read_only: bool = False, check_order: bool | None = None, **kwargs: Any
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with the SQL functions registered (``check_order``: see ``register``)."""
    database = str(database)  # a pathlib.Path works too
    on_disk = database not in ("", ":memory:") and not database.startswith(":memory:")
    try:
        con = duckdb.connect(database, read_only=read_only, **kwargs)
    except duckdb.CatalogException as e:
        if on_disk and "in-memory" in str(e):
            raise _not_a_database(database) from e
        raise
    except duckdb.IOException as e:
        err = _open_error(database, read_only, e)
        if err is not None:
            raise err from e
        raise
    if on_disk:
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        if not path or not path[0][0]:
            con.close()
            raise _not_a_database(database)
    from .udfs import OPEN_ARGS

    OPEN_ARGS[con] = (database, read_only, kwargs)
    try:
        register(con, check_order=check_order)
    except BaseException:
        con.close()  # the caller never gets the connection, so it would keep the file open
        raise
    return con


def _not_a_database(database: str) -> BadInputError:
    # DuckDB opens some files (x.parquet, x.csv) as an in-memory database: models would vanish at exit.
    suffix = Path(database).suffix.lower()
    reader = ("read_csv" if suffix in (".csv", ".tsv", ".txt") else "read_json" if suffix in (".json", ".jsonl", ".ndjson")
              else "read_parquet")
    # the path as a SQL string (a quote in it doubled), then as one shell word
    source = f"{reader}({quote_literal(database)})"
    arg = f'"{source}"' if not re.search(r'["$`\\!]', source) else shlex.quote(source)
    return DatabaseUnavailableError(
        f"{database!r} is not a DuckDB database file (DuckDB opens it as an in-memory database, so nothing would "
        f"be saved). Give a .duckdb file; a Parquet or CSV file is a source, e.g. ad-duckdb train warehouse.duckdb "
        f"NAME {arg}."
    )


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Make the SQL functions see models trained, imported or dropped since they were registered."""
    from .udfs import refresh as _refresh

    _refresh(con)


def _lib_versions() -> dict[str, str]:
    import onnxruntime

    import ad_duckdb

    out = {"ad_duckdb": ad_duckdb.__version__, "duckdb": duckdb.__version__, "onnxruntime": onnxruntime.__version__,
           "numpy": np.__version__, "python": platform.python_version()}
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - only scoring installs lack torch
        pass
    return out


def train(
    con: duckdb.DuckDBPyConnection,
    name: str,
    source: str,
    *,
    features: Sequence[str] | None = None,
    where: str | None = None,
    kind: str = "autoencoder",
    carry_thresholds: bool = False,
    **params: Any,
) -> ModelInfo:
    """Train a model on a table, view, table function or query, and store it as the next version of ``name``.

    Parameters
    ----------
    con
        DuckDB connection (file or in-memory); the model is stored in its ``ad_models`` table.
    name
        Model name, e.g. ``'tx_ae'``. Re-training the same name adds a version.
    source
        ``'transactions'``, ``"read_parquet('tx.parquet')"`` or ``'SELECT ... FROM ...'``.
    features
        Feature columns, in the order SQL calls will pass them. Default: every numeric column except id-like
        ones (integers named ``id``, ``*_id`` or ``*Id``, or rising row by row); an ``AdDuckDBWarning`` names
        the columns left out. Fewer than 20 training rows are refused, fewer than 100 get a warning.
    where
        Optional SQL filter, e.g. ``"label = 0"`` to train on normal rows only. Without it, training
        is robust, as unlabelled data holds anomalies: it stops after fewer passes (an autoencoder learns
        the rare rows last) and the neighbour term compares with small random samples of training rows.
        ``trim_fraction=`` additionally leaves out the highest-error rows of each batch in robust training.
    carry_thresholds
        Give the new version your own thresholds of earlier versions (``cut``, ``prec90``, each from the newest
        version that has it; not ``default`` and the quantiles, which every training sets), so that
        ``is_anomaly_at('name', 'cut', ...)`` keeps working after a retrain. One chosen on labels (``max_f1``,
        ``min_precision``, ...) is chosen again for the new model on the same labelled rows; the others, and one
        whose labelled rows cannot be read (a warning says why), move to the same point of the new training
        scores. CLI: ``--carry-thresholds``.
    kind
        ``'autoencoder'`` (default) or ``'vae'`` (a variational autoencoder); it sets ``variational``, so a
        ``variational=`` that disagrees is refused.
    **params
        Model options (see ``ad_duckdb.trainer.TrainParams``): ``n_models``, ``hidden_dims``, ``latent_dim``,
        ``epochs``, ``max_steps``, ``batch_size``, ``lr``, ``robust``, ``trim_fraction``, ``contamination``,
        ``seed``, ``progress``.

    Returns
    -------
    ModelInfo
        ``ref`` (``'name@version'``), ``features`` in the order SQL calls pass them, ``train_rows``,
        ``thresholds`` (``{'default': ..., 'p90': ..., ...}``) and training ``metrics``.

    Examples
    --------
    >>> import ad_duckdb
    >>> con = ad_duckdb.connect()  # or a file: ad_duckdb.connect("warehouse.duckdb")
    >>> _ = con.execute("CREATE TABLE tx AS SELECT range AS id, 1 + range % 20 AS count, "
    ...                 "(1 + range % 20) * (20 + range % 7) AS amount FROM range(1000)")
    >>> info = ad_duckdb.train(con, "tx_ae", "tx", features=["count", "amount"], progress=False)
    >>> info.ref, info.features
    ('tx_ae@1', ['count', 'amount'])
    >>> con.execute("SELECT count(*) FROM tx WHERE is_anomaly('tx_ae', count, amount)").fetchone()[0] <= 20
    True
    >>> con.sql("SELECT id, anomaly_score('tx_ae', count, amount) AS score FROM tx "
    ...         "ORDER BY score DESC LIMIT 5").show()  # doctest: +SKIP
    >>> con.close()
    """
    store.check_name(name)
    _check_kind(name, kind, params)
    if where is not None and not isinstance(where, str):
        raise BadInputError(f"Model {name!r}: where= (CLI: --where) must be a SQL condition on the source's columns, "
                            f"e.g. \"label = 0\" to train on normal rows only; got {where!r}.")
    features = _column_names(f"Model {name!r}", "features", "-f", features)
    try:
        import onnx  # noqa: F401  (the exporter's; checked here so a scoring-only install fails before reading rows)
        import torch  # noqa: F401  (imported lazily by the trainer: without this, its absence surfaced mid-training)

        from .detector import AutoEncoderDetector
        from .export import parity_check, to_onnx_bytes
    except ImportError as e:
        raise MissingDependencyError(
            f"Training model {name!r} needs torch and onnx: pip install 'ad_duckdb[train]' ({e})."
        ) from e
    if where is not None and not where.strip():
        where = None  # an empty filter is no filter, and must not turn robust training off
    if params.get("robust") is None:
        params["robust"] = where is None
    cur = pysource.cursor(con, source)
    try:
        store.check_can_write(cur, f"Cannot store model {name!r}")
        described = describe(cur, source, name, caller=con)
        try:
            cols = choose_columns(described, features, source, cur, where)
        except BadInputError as e:  # the column checks name the column and the fix; the model is said here
            raise type(e)(f"Model {name!r}: {e}") from None  # its kind kept: the exit code
        X, n_rows, rising = _training_rows(cur, source, [c for c, _ in cols], where, params)
        if features is None:
            cols, X = default_features(cur, source, where, described, X, model=name, rising=rising)
        names = [c for c, _ in cols]
        # a query in parentheses, so its own WHERE and the filter read as valid SQL (comments at its ends dropped)
        shown = f"({strip_sql_ends(source)})" if is_query(source) else source
        src_text = f"{shown} WHERE {where}" if where else source
        t0 = time.perf_counter()
        # score_training_rows=False: the thresholds below come from the ONNX scores of every row, not the detector's
        det = AutoEncoderDetector(**params).fit(X, feature_names=names, sql_types=[t for _, t in cols], model_name=name,
                                                source=src_text, score_training_rows=False)
        warn_if_few_rows(n_rows, model=name, source=src_text)  # once the rows passed the checks of fit
        seconds = time.perf_counter() - t0
        onnx = to_onnx_bytes(det.graph_, len(names))
        rng = np.random.default_rng(0)
        sample = X[rng.choice(len(X), min(len(X), 2000), replace=False)]
        parity = parity_check(det.graph_, onnx, sample, model=name)
        # Thresholds come from the ONNX scores as SQL computes them (rows with missing values included, see
        # LoadedModel._fill_missing), so SQL compares exactly what it computes.
        scorer = LoadedModel(ModelRecord(name=name, version=0, kind=kind, features=det.specs_, onnx=onnx))
        if rising is None:
            train_scores = scorer.scores(X, bulk=True).astype(np.float64)
        else:  # the source was read as a sample: score every row in a second pass, holding one batch at a time
            del X
            train_scores = np.concatenate([np.zeros(0), *(scorer.scores(M, bulk=True).astype(np.float64)
                                                          for M in feature_batches(cur, source, names, where))])
        p = det.train_params_
        metrics = {
            "train_seconds": round(seconds, 3),
            "parity_max_abs_diff": parity,
            "train_score_mean": float(train_scores.mean()),
            "score_quantiles": thresholds.score_quantiles(train_scores),
            # what the training rows were, so evaluating on them can be pointed out (_training_overlap)
            "train_source": source, "train_where": where,
            **det.history_,
        }
        rec = ModelRecord(
            name=name, version=0, kind=kind, features=det.specs_, onnx=onnx, source=src_text, train_rows=len(train_scores),
            params=dict(p.__dict__) | {"robust": det.history_["robust"]},
            metrics=metrics, lib_versions=_lib_versions(),
            thresholds=thresholds.from_training_scores(train_scores, p.contamination, src_text),
        )
        if carry_thresholds:
            carried, goals = _carried_thresholds(cur, name, train_scores)
            rec.thresholds += carried
            if goals:
                _choose_goals_again(con, rec, goals, store.next_version(cur, name))
        rec.params["hidden_dims"], rec.params["latent_dim"] = det.history_["hidden_dims"], det.history_["latent_dim"]
        before = store.latest_features(cur, name)
        store.save(cur, rec)
    finally:
        cur.close()
    refresh(con)
    if before is not None and [n.lower() for n in before[1]] != [n.lower() for n in names]:  # DuckDB's case rule
        _warn_features_changed(rec, *before)
    return ModelInfo.of(rec)


def _warn_features_changed(rec: ModelRecord, version: int, was: list[str]) -> None:
    """Say that ``'name'`` now means a version of other features. Why: a query that calls it with the old columns
    keeps running when their count is the same, and scores each value as the new feature in its place."""
    old = f"{rec.name}@{version}"
    warnings.warn(
        f"{rec.ref!r} takes ({', '.join(rec.feature_names)}), but {old!r} took ({', '.join(was)}): queries calling "
        f"{rec.name!r} now get {rec.ref} and must pass its columns in its order. Update them, pin {old!r} in the "
        f"ones that keep the old columns, or train the new feature set under another name.",
        AdDuckDBWarning, stacklevel=3,
    )


def _carried_thresholds(cur: Any, name: str,
                        scores: np.ndarray) -> tuple[list[Threshold], dict[str, tuple[dict[str, Any], str]]]:
    """``carry_thresholds``: the user's thresholds of earlier versions, moved to these training scores, and the goals
    of those chosen on labels (name -> (goal, the version it comes from)). Each name from the newest version that
    has it: one retrain run without the flag does not lose them for the next."""
    out: list[Threshold] = []
    goals: dict[str, tuple[dict[str, Any], str]] = {}
    for version in sorted(store.known_models(cur).get(name, []), reverse=True):
        try:
            prev = store.load(cur, f"{name}@{version}")
        except IntegrityError as e:
            # Why skipped, not fatal: a damaged old version (list shows it) would otherwise stop every nightly
            # retrain, though the newer versions hold the thresholds; its own were chosen on a model no query uses.
            warnings.warn(f"Model '{name}@{version}' is damaged, so its thresholds are not carried to the new "
                          f"version ({e}).", AdDuckDBWarning, stacklevel=3)
            continue
        taken = {t.name for t in out}
        own = [t for t in prev.thresholds if t.name not in thresholds.FROM_TRAINING and t.name not in taken]
        grid = (prev.metrics or {}).get("score_quantiles")
        if own and not grid:
            raise BadInputError(
                f"Model {prev.ref!r} stores no training-score quantiles (imported from an older file?), so its "
                f"thresholds {', '.join(repr(t.name) for t in own)} cannot be moved to a new version: train without "
                "carry_thresholds (CLI: --carry-thresholds) and set them again with ad_duckdb.set_threshold (CLI: "
                "ad-duckdb threshold)."
            )
        out += thresholds.carried(own, grid or [], scores, prev.ref)
        kept = prev.metrics.get(store.GOALS)
        for t in own:
            goal = kept.get(t.name) if isinstance(kept, dict) else None
            if _is_goal(goal):
                goals[t.name] = (goal, prev.ref)
    return out, goals


def _is_goal(goal: Any) -> bool:
    """Whether a stored goal (ad_models.metrics, which an imported file also brings) has what choosing needs."""
    return (isinstance(goal, dict) and goal.get("method") in thresholds.LABELLED
            and all(isinstance(goal.get(k), str) for k in ("source", "label"))
            and isinstance(goal.get("where"), (str, type(None))) and isinstance(goal.get("confident"), bool)
            and (goal.get("target") is None or isinstance(goal.get("target"), (int, float))))


def _choose_goals_again(con: duckdb.DuckDBPyConnection, rec: ModelRecord,
                        goals: dict[str, tuple[dict[str, Any], str]], version: int) -> None:
    """Carried thresholds that were chosen on labels, chosen again on the same labelled rows for the new model
    ``rec`` (to be stored as ``version``), in place of their training-score point; where that fails (the rows are
    gone, the goal is out of reach), the point stays, with a warning. Their goals go with the new version, for
    the next retrain.

    Why: a goal ("precision at least 0.9 on the labelled rows") is what the user chose; the same share of training
    rows is only a stand-in for it, whose precision on a new model nobody measured."""
    lm = LoadedModel(with_fields(rec, version=version))
    for name, (goal, ref) in goals.items():
        try:
            th = _goal_threshold(con, lm, name, goal, note=f"chosen again for this version (the goal of {ref})")
        except (AdDuckDBError, duckdb.Error) as e:
            warnings.warn(f"Threshold {name!r} is carried to {lm.ref} at the same point of its training scores, not "
                          f"chosen again on its labels ({goal['method']} on {goal['source']}): {e}", AdDuckDBWarning,
                          stacklevel=3)
            continue
        rec.thresholds = [th if t.name == name else t for t in rec.thresholds]
    rec.metrics[store.GOALS] = {name: goal for name, (goal, _) in goals.items()}


def _training_rows(cur: Any, source: str, names: list[str], where: str | None,
                   params: dict[str, Any]) -> tuple[np.ndarray, int, np.ndarray | None]:
    """The rows to train on, the source's row count, and (read as a sample) which columns rise row by row.

    Why a sample for a source above ``max_train_rows``: training uses that many rows at most, and holding every
    row only to score it for the thresholds cost memory in proportion to the table (10M rows x 6 columns:
    1.2 GB). Such a source is read once for the sample ``AutoEncoderDetector.fit`` would draw, and once more, a
    batch at a time, for the thresholds: the same model and thresholds, holding ``max_train_rows`` rows.
    """
    from .detector import AutoEncoderDetector

    p = AutoEncoderDetector(**params)._train_params()  # validated before any row is read
    n = count_rows(cur, source, names, where)
    if n <= p.max_train_rows:
        X = load_matrix(cur, source, names, where, n=n)
        return X, len(X), None
    sample = TrainingSample(cur, source, names, where, n=n, size=p.max_train_rows, seed=p.seed)
    return sample.rows, sample.n_read, sample.rising


def _check_kind(name: str, kind: str, params: dict[str, Any]) -> None:
    """``kind`` decides whether the model is variational; a ``variational=`` saying otherwise is refused, as the
    stored kind would then misdescribe the model. Sets ``variational`` in ``params`` from ``kind``."""
    if kind not in ("autoencoder", "vae"):
        raise BadInputError(f"Model kind {kind!r} is not available; use kind='autoencoder' (default) or 'vae'.")
    wanted = kind == "vae"
    given = params.setdefault("variational", wanted)
    # a non-bool is left to TrainParams.validate, whose message says what variational= takes
    if isinstance(given, bool) and given != wanted:
        raise BadInputError(
            f"Model {name!r}: kind={kind!r} and variational={given!r} disagree. The kind decides: pass kind='vae' "
            "for a variational autoencoder or kind='autoencoder' for a plain one, and leave variational= out."
        )


def _column_names(what: str, arg: str, flag: str, value: Any) -> list[str] | None:
    """Column names as given (None, one name, or an iterable of names) as a list; anything else refused.

    Why one string is one name: iterating it would take 'id' for the columns 'i' and 'd'.
    """
    if value is None or isinstance(value, str):
        return None if value is None else [value]
    try:
        names = list(value)
    except TypeError:
        names = None
    if names is None or not all(isinstance(n, str) for n in names):
        raise BadInputError(f"{what}: {arg}= (CLI: {flag}) takes a column name or a list of column names, e.g. "
                            f"['transaction_id', 'amount']; got {value!r}.")
    return names


def load_model(con: duckdb.DuckDBPyConnection, model: str) -> ModelRecord:
    """The stored model ``'name'`` (its latest version) or ``'name@N'``, checked (sha256, format version).

    Returns a ``ModelRecord``: ``features`` (each a ``FeatureSpec`` with ``name``, ``transform``, ``fill``, ...),
    ``thresholds``, ``onnx`` (the graph's bytes), ``params``, ``metrics`` and ``lib_versions``. Raises
    ``ModelNotFoundError`` (listing the known models) for an unknown name or version.
    """
    cur = interrupts.cursor(con)
    try:
        return store.load(cur, model)
    finally:
        cur.close()


def list_models(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every stored model version, by name then version, as dicts with ``name``, ``version``, ``created_at``,
    ``kind``, ``n_features``, ``train_rows``, ``source`` and ``onnx_bytes``; ``[]`` before any training."""
    cur = interrupts.cursor(con)
    try:
        if not store.tables_exist(cur):
            return []
        rows = cur.execute(
            "SELECT name, version, created_at, kind, json_array_length(features) AS n_features, train_rows, source, "
            "octet_length(onnx) AS onnx_bytes FROM ad_models ORDER BY name, version"
        ).fetchall()
    finally:
        cur.close()
    keys = ["name", "version", "created_at", "kind", "n_features", "train_rows", "source", "onnx_bytes"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def drop_model(con: duckdb.DuckDBPyConnection, model: str, keep: int | None = None) -> list[int]:
    """Drop ``'name'`` (every version) or ``'name@N'``; with ``keep=N``, every version of ``'name'`` but the N
    newest. Returns the versions dropped."""
    cur = interrupts.cursor(con)
    try:
        store.check_can_write(cur, f"Cannot drop {model!r}")
        out = store.drop(cur, model, keep=keep)
    finally:
        cur.close()
    refresh(con)
    return out


def source_features(cur: Any, model: LoadedModel | ModelRecord, source: str) -> list[str]:
    """The source's names of the model's features; a missing column, or one the source holds as text, is refused
    with the query that fixes it (what ``score`` checks, for callers that score through the SQL functions)."""
    cols = describe(cur, source, model.ref)
    feats = _feature_columns(cols, model, source)
    _check_text_features(cur, cols, feats, model, source)
    return feats


def _feature_columns(cols: list[tuple[str, str]], lm: LoadedModel | ModelRecord, source: str) -> list[str]:
    """The source's names of the model's features (``cols``: the source's columns, from ``describe``)."""
    by_lower = {c.lower(): c for c, _ in cols}
    missing = [f for f in lm.feature_names if f.lower() not in by_lower]
    if missing:
        # The same letters in another Unicode form (a decomposed 'Ä', as some macOS files write it) are another
        # identifier to DuckDB; shown side by side, the two names looked alike and the message read as nonsense.
        by_nfc = {unicodedata.normalize("NFC", c).lower(): c for c, _ in cols}
        forms = [(by_nfc[k], f) for f in missing if (k := unicodedata.normalize("NFC", f).lower()) in by_nfc]
        if forms:
            made = ", ".join(f"{quote_ident(c)} AS {quote_ident(f)}" for c, f in forms)
            raise SourceNotFoundError(
                f"Model {lm.ref!r} needs columns {lm.feature_names}, but {source!r} has "
                f"{', '.join(repr(c) for c, _ in forms)} written in another Unicode form (the same letters, other "
                f"code points), which DuckDB takes for another name. Score a query that renames them: "
                f"SELECT *, {made} FROM ..., or normalise the names first "
                "(df.columns = [unicodedata.normalize('NFC', c) for c in df.columns])."
            )
        trained_on = (lm if isinstance(lm, ModelRecord) else lm.rec).source
        # A model trained on a query (0/1 columns of a category, a cast) needs those columns made the same way.
        shown = missing[0] if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", missing[0]) else quote_ident(missing[0])
        rename = f"them in a query: SELECT x AS {shown}, ..."
        fix = (f"The model was trained on {trained_on}: score a query that makes them the same way, or rename {rename}"
               if trained_on and is_query(trained_on) and trained_on != source else f"Rename {rename}")
        raise SourceNotFoundError(
            f"Model {lm.ref!r} needs columns {lm.feature_names}, but {source!r} lacks {missing} "
            f"(its columns: {', '.join(c for c, _ in cols)}). {fix}"
        )
    return [by_lower[f.lower()] for f in lm.feature_names]


def _check_text_features(cur: Any, cols: list[tuple[str, str]], feats: list[str], lm: LoadedModel | ModelRecord,
                         source: str) -> None:
    """Refuse a feature column the source holds as text, naming it and the query that reads it as numbers.

    Why here: scoring would stop on the first batch with "feature argument 2 is VARCHAR", naming neither the column
    nor a cast that works on a CSV column with "N/A" or "1,234.50" in it (CAST fails on those).
    """
    types = {c.lower(): t for c, t in cols}
    for f, c in zip(lm.feature_names, feats, strict=True):
        query = as_number_query(c, types[c.lower()], source)
        if query:  # a BOOLEAN or date column (trained on as a number through such a query): not "pass the columns
            # in the model's order", which is what the SQL functions' error would say
            raise BadInputError(
                f"Scoring with {lm.ref!r}: column {c!r} of {source!r} is {types[c.lower()]}, and feature {f!r} takes "
                f"numbers. Score a query that turns it into a number, e.g. {query}."
            )
        if types[c.lower()].upper() != "VARCHAR":
            continue
        hint = text_number_hint(cur, source, c)
        words = None if hint else text_values(cur, source, c)
        if words:
            # TRY_CAST would turn every word into NULL, and the rows would be scored on filled-in values
            trained_on = (lm if isinstance(lm, ModelRecord) else lm.rec).source
            some = ", ".join(repr(v[:40]) for v, _ in words[:3]) + (", ..." if len(words) > 3 else "")
            raise BadInputError(
                f"Scoring with {lm.ref!r}: column {c!r} of {source!r} holds words ({some}), and feature {f!r} takes "
                f"numbers. Score a query that makes {f!r} the number the model was trained on"
                + (f" (it was trained on {trained_on})." if trained_on else ".")
            )
        raise BadInputError(
            f"Scoring with {lm.ref!r}: column {c!r} of {source!r} is VARCHAR, and feature {f!r} takes numbers"
            + (f"; {hint}." if hint else f". Read it as a number in a query: SELECT * REPLACE (TRY_CAST({quote_ident(c)} "
                                        f"AS DOUBLE) AS {quote_ident(c)}) FROM ...")
        )


_END = object()


def _prefetched(reader: Any, cur: Any, depth: int = 2) -> Any:
    """Yield the batches of ``reader``, read ahead by a thread into a queue of ``depth`` batches.

    Why: DuckDB's scan releases the GIL, so reading the next batch overlaps onnxruntime scoring this
    one; the bounded queue keeps memory flat however large the table. Closes ``cur`` when done.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in reader:
                if not put(batch):
                    return
            put(_END)
        except BaseException as e:  # handed to the consumer, which raises it in its own thread
            put(e)

    t = threading.Thread(target=produce, name="ad_duckdb-scan", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join()
        cur.close()


SCORE_OUTPUTS = ("anomaly_score", "anomaly_percentile", "is_anomaly")
_SCORE_COLUMNS = (*SCORE_OUTPUTS, "anomaly_explain")  # what scoring writes; never kept from a source


def _table_refs(cur: duckdb.DuckDBPyConnection, from_item: str, depth: int = 0,
                home: tuple[str, str] | None = None) -> set[tuple[str, str, str]]:
    """The tables (catalog, schema, name; lower case) that ``SELECT * FROM from_item`` reads, through views.

    Parsed by DuckDB (``json_serialize_sql``), so any quoting, case or qualification of a name counts. ``home``:
    the database and schema of the view ``from_item`` is the body of, where DuckDB binds its unqualified names.
    """
    parsed = json.loads(cur.execute("SELECT json_serialize_sql(?)", [f"SELECT * FROM {from_item}"]).fetchall()[0][0])
    names: list[list[str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and "table_name" in node:
                names.append([node.get("catalog_name") or "", node.get("schema_name") or "", node["table_name"]])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(parsed.get("statements", []))
    current = cur.execute("SELECT current_database(), current_schema()").fetchall()[0]
    db, schema = home or current
    objects = cur.execute(
        "SELECT database_name, schema_name, table_name, NULL FROM duckdb_tables() UNION ALL "
        "SELECT database_name, schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
    found = {(c.lower(), s.lower(), t.lower()): view_sql for c, s, t, view_sql in objects}
    out: set[tuple[str, str, str]] = set()
    for catalog, sch, name in names:
        # DuckDB's own order: a.b is schema a of this database, else database a's main schema
        # (unqualified names in a view: its own schema first, then the session's, as DuckDB binds them)
        tries = ([(catalog, sch)] if catalog else [(db, sch), (sch, "main")] if sch else
                 [(db, schema), *([current] if home else []), ("temp", "main")])
        for c, s in tries:
            key = (c.lower(), s.lower(), name.lower())
            if key in found:
                out.add(key)
                view_sql = found[key]
                if view_sql and depth < 8:
                    m = re.match(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?VIEW\s+.*?\s+AS\s+(.*?);?\s*$",
                                 view_sql, re.I | re.S)
                    if m:
                        out |= _table_refs(cur, f"({m.group(1)})", depth + 1, home=(key[0], key[1]))
                break
    return out


def _check_target(con: duckdb.DuckDBPyConnection, into: str, replace: bool, source: str | None = None,
                  in_place: bool = False, what: str = "scores") -> None:
    """Refuse a write target that is a store table, an existing table unless ``replace``, or a table the
    ``source`` reads (replacing it would lose rows or columns), unless ``in_place``: the source is that table
    itself and every column is kept, so the table is rewritten whole with fresh scores. ``what`` is written:
    "scores" or (evaluate) "thresholds"."""
    store.check_writable(into)
    chk = pysource.cursor(con, source)
    try:
        store.check_can_write(chk, f"Cannot write table {into!r}")
        # Resolved by DuckDB itself, as CREATE OR REPLACE will: any case, quoting or schema of the same table.
        try:
            chk.execute(f"SELECT 1 FROM {table_sql(into)} LIMIT 0")
            exists = True
        except duckdb.CatalogException:
            exists = False
        if exists and _is_view(chk, into):
            # Why here: "exists; pass replace=True" sent the user to CREATE OR REPLACE TABLE, which DuckDB refuses
            # over a view ("Existing object ... is of type View"), after every row was scored.
            raise BadInputError(
                f"{into!r} is a view, and the {what} are written as a table, which cannot replace a view. Choose "
                f"another name, e.g. into={_suggest_table(into, 'scored' if what == 'scores' else what)!r} (CLI: "
                f"--into), or drop the view first: DROP VIEW {table_sql(into)}."
            )
        if not exists:
            _check_creatable(chk, into, what)
        read = False
        if exists and source is not None:
            target, reads = _table_refs(chk, table_sql(into)), _table_refs(chk, source_sql(source))
            read = bool(target & reads) and not (in_place and not is_query(source) and reads == target)
    finally:
        chk.close()
    if read and what == "thresholds":
        raise BadInputError(f"Table {into!r} is what {source!r} reads; writing the threshold table into it would "
                            f"replace it. Choose a new table, e.g. into={_suggest_table(into, 'thresholds')!r} (CLI: --into).")
    if read:
        raise BadInputError(
            f"Table {into!r} is what {source!r} reads, so writing the scores into it would replace it with the "
            "scored rows and kept columns only. Write them to a new table, e.g. "
            f"into={_suggest_table(into, 'scored')!r} (CLI: --into), and join it back on an id column; or, to "
            "refresh the scores of a table in place, score the table itself and keep every column (no columns=, CLI: -c)."
        )
    if exists and not replace:
        raise BadInputError(f"Table {into!r} exists; pass replace=True (CLI: --replace) to overwrite it.")


def _is_view(cur: duckdb.DuckDBPyConnection, into: str) -> bool:
    """Whether the existing object ``into`` names (as DuckDB resolves it) is a view."""
    target = _table_refs(cur, table_sql(into), depth=8)  # depth 8: the name itself, not what a view reads
    views = cur.execute("SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    return bool(target & {(d.lower(), s.lower(), v.lower()) for d, s, v in views})


def _check_creatable(cur: duckdb.DuckDBPyConnection, into: str, what: str) -> None:
    """Refuse a new table that cannot be created (its schema or database does not exist, a read-only ATTACHed
    database), naming it, before any row is scored: a CREATE TABLE rolled back tells, as DuckDB resolves the name.

    Why: DuckDB's "Schema with name nos does not exist!" came after the scoring, naming neither the table nor a fix.
    """
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            cur.execute(f"CREATE TABLE {table_sql(into)} (x INTEGER)")
        finally:
            cur.execute("ROLLBACK")
    except duckdb.Error as e:
        base = _suggest_table(into, "")[:-1] or what  # the name without its schema: into='nos.scores' -> 'scores'
        m = re.search(r"Schema with name (.+?) does not exist", str(e))
        if m:
            raise BadInputError(
                f"Cannot write the {what} to table {into!r}: schema {m.group(1)!r} does not exist. Create it first "
                f"(CREATE SCHEMA {quote_ident(m.group(1))}), or write to a table of an existing schema, e.g. "
                f"into={base!r} (CLI: --into)."
            ) from e
        raise BadInputError(f"Cannot write the {what} to table {into!r}: {str(e).rstrip('!.')}. Choose a table in a "
                            f"database and schema you can write to, e.g. into={base!r} (CLI: --into).") from e


def _suggest_table(into: str, suffix: str) -> str:
    base = into.strip().split(".")[-1].strip('"')
    return f"{base}_{suffix}" if re.fullmatch(r"\w+", base) else suffix


def _kept_sql(cols: list[tuple[str, str]], kept: Sequence[str], lm: LoadedModel, source: str) -> str:
    """The select list of the source columns to keep beside the scores (``cols``: the source's, from ``describe``)."""
    known = {c.lower() for c, _ in cols}
    missing = [c for c in kept if c.lower() not in known]
    if missing:
        raise BadInputError(
            f"Scoring with {lm.ref!r}: columns= (CLI: -c) names {missing}, not in {source!r} (its columns: "
            f"{', '.join(c for c, _ in cols)}). Name columns of the source to keep beside the scores, or leave "
            "columns= out to keep them all."
        )
    return ", ".join(quote_ident(c) for c in kept)


def _scored_batches(con: duckdb.DuckDBPyConnection, model: str, source: str, kept: Sequence[str] = (),
                    batch_rows: int = 65536, explain: bool = False,
                    outputs: Sequence[str] = SCORE_OUTPUTS) -> tuple[LoadedModel, Any, Any, list[BaseException]]:
    """A reader of (the ``kept`` source columns, or all of them, the chosen ``outputs``[, anomaly_explain]), its
    closer, and a list that receives the error the reader stopped on.

    Call the closer when done, also after an error: it stops the read-ahead thread and closes the cursor
    at once instead of whenever the garbage collector reaches an abandoned reader. Why the list: DuckDB,
    reading the batches, reports our error (or a Ctrl-C) as "reading the stream failed" with a traceback
    in the text; the caller raises the original instead.
    """
    from .udfs import explain_rows

    lm = registry(con).get(model)
    # the same refusal as SQL's is_anomaly when the model has no 'default' threshold, never all False
    threshold = lm.threshold("default") if "is_anomaly" in outputs else np.inf
    cur = pysource.cursor(con, source)
    try:
        # Why smaller than DuckDB's 10 MiB: the read-ahead thread (_prefetched) already overlaps the scan with
        # scoring, so a larger buffer only holds more rows in memory. A setting of this cursor alone. Measured
        # (bench/speed.py data from Parquet): 10M rows at d=2, peak RSS 301-306 -> 296-297 MiB; 3M rows at d=30,
        # 737-753 -> 686-731 MiB; the same speed.
        cur.execute("SET streaming_buffer_size = '2MiB'")
        cols = describe(cur, source, lm.ref, caller=con)
        feats = _feature_columns(cols, lm, source)
        _check_text_features(cur, cols, feats, lm, source)
        if kept:
            extra_sql = _kept_sql(cols, kept, lm, source)
        else:
            # Re-scoring a scored table: its old score columns give way to the new ones, rather than sitting
            # under the expected names while the new values land in anomaly_score_1, ...
            stale = [c for c, _ in cols if c.lower() in _SCORE_COLUMNS]
            extra_sql = f"* EXCLUDE ({', '.join(quote_ident(c) for c in stale)})" if stale else "*"
        fsql = ", ".join(f"{quote_ident(f)} AS {quote_ident(f'__ad_f{i}')}" for i, f in enumerate(feats))
        reader = cur.sql(f"SELECT {extra_sql}, {fsql} FROM {source_sql(source)}").to_arrow_reader(batch_rows)
    except BaseException:
        cur.close()  # no reader holds it yet: an error here must not leave it (and the file) open
        raise
    n_keep = len(reader.schema) - len(feats)
    keep_fields = [reader.schema.field(i) for i in range(n_keep)]
    types = {"anomaly_score": pa.float64(), "anomaly_percentile": pa.float64(), "is_anomaly": pa.bool_()}
    out_fields = [*keep_fields, *(pa.field(o, types[o]) for o in outputs)]
    if explain:
        from .udfs import EXPLAIN_TYPE

        out_fields.append(pa.field("anomaly_explain", EXPLAIN_TYPE))
    schema = pa.schema(out_fields)
    failed: list[BaseException] = []

    def gen() -> Any:
        batches = _prefetched(reader, cur)
        try:
            for batch in batches:
                X = to_matrix([batch.column(n_keep + i) for i in range(len(feats))], lm, "score")
                if explain:
                    s, fe = lm.attribution(X, bulk=True)
                else:
                    s, fe = lm.scores(X, bulk=True), None
                s64 = s.astype(np.float64)
                arrays = [batch.column(i) for i in range(n_keep)]
                for o in outputs:
                    if o == "anomaly_score":
                        arrays.append(to_arrow(s64, pa.float64()))
                    elif o == "is_anomaly":
                        arrays.append(to_arrow(s64 > threshold, pa.bool_()))
                    else:
                        # Why in halves on the pool: np.interp releases the GIL, and it is a fifth of the work at d=2.
                        arrays.append(to_arrow(np.concatenate(list(ort_pool().map(lm.percentile, np.array_split(s64, 2)))),
                                                pa.float64()))
                if fe is not None:
                    arrays.append(explain_rows(lm, fe))
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        except (AdDuckDBError, KeyboardInterrupt) as e:  # ours; the source's own errors stay DuckDB's
            failed.append(e)
            raise
        finally:
            # Why close first: the scan thread must stop before its cursor closes.
            batches.close()
            cur.close()

    batches = gen()
    return lm, pa.RecordBatchReader.from_batches(schema, batches), batches.close, failed


def score(
    con: duckdb.DuckDBPyConnection,
    model: str,
    source: str,
    into: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    explain: bool = False,
    replace: bool = False,
    batch_rows: int = 65536,
    outputs: Sequence[str] = SCORE_OUTPUTS,
) -> pa.Table | int:
    """Score every row of ``source`` in large Arrow batches.

    With ``into``, writes a table of the kept columns plus ``outputs`` (default ``anomaly_score``,
    ``anomaly_percentile``, ``is_anomaly``; any non-empty subset, in that order) and ``anomaly_explain`` if asked,
    in one transaction, and returns the row count; without it, returns the scored rows as a pyarrow Table.
    """
    bad = [o for o in outputs if o not in SCORE_OUTPUTS]
    if bad or not outputs or isinstance(outputs, str):
        raise BadInputError(f"outputs must be a non-empty list drawn from {list(SCORE_OUTPUTS)}; got {outputs!r}.")
    outputs = [o for o in SCORE_OUTPUTS if o in outputs]
    kept = _kept_columns(model, columns)
    if not isinstance(batch_rows, int) or isinstance(batch_rows, bool) or batch_rows < 1:
        raise BadInputError(f"Scoring with {model!r}: batch_rows= must be a positive int (rows per Arrow batch; "
                            f"default 65536); got {batch_rows!r}.")
    if into is not None:
        # Checked before the reader exists: an unconsumed reader would hold its cursor (and the file) open.
        _check_target(con, into, replace, source, in_place=not columns)
    lm, reader, close, failed = _scored_batches(con, model, source, kept, batch_rows, explain, outputs)
    if into is None:
        try:
            return reader.read_all()
        finally:
            close()
    target = table_sql(into)
    with _scored_view(con, reader, close, failed) as cur:
        with store.transaction(cur):
            cur.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM __ad_scored")
            n = cur.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    return int(n)


def top_scored(con: duckdb.DuckDBPyConnection, model: str, source: str, n: int, *,
               columns: Sequence[str] | None = None) -> pa.Table:
    """The ``n`` highest-scoring rows of ``source`` (as ``score`` returns them), highest first.

    Why not ``score(...)`` then a sort: that holds every scored row in memory to print a few (10M rows of the
    transactions example: 1.2 GiB). The scored batches stream through DuckDB's top-N instead, which keeps ``n``.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise BadInputError(f"Scoring with {model!r}: n= (CLI: --top) is how many of the highest-scoring rows to "
                            f"return, a whole number from 0; got {n!r}.")
    _, reader, close, failed = _scored_batches(con, model, source, _kept_columns(model, columns))
    with _scored_view(con, reader, close, failed) as cur:
        return cur.sql(f"SELECT * FROM __ad_scored ORDER BY anomaly_score DESC LIMIT {int(n)}").to_arrow_table()


def _kept_columns(model: str, columns: Sequence[str] | None) -> list[str]:
    """The source columns ``columns=`` keeps beside the scores (none named: all of them)."""
    columns = _column_names(f"Scoring with {model!r}", "columns", "-c", columns)
    kept = [c for c in columns or () if c.lower() not in _SCORE_COLUMNS]
    if columns and not kept:
        raise BadInputError(f"columns={list(columns)!r} names only score columns, which scoring writes anew; "
                            "name columns of the source to keep, e.g. columns=['transaction_id'].")
    return kept


@contextmanager
def _scored_view(con: duckdb.DuckDBPyConnection, reader: pa.RecordBatchReader, close: Callable[[], None],
                 failed: list[BaseException]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on which ``_scored_batches``' reader is the view ``__ad_scored``; closes both after. DuckDB reports
    our error in a batch as a failed stream read: the original is raised instead."""
    cur = interrupts.cursor(con)
    try:
        cur.register("__ad_scored", reader)
        try:
            yield cur
        except duckdb.Error:
            if failed:
                raise failed[0] from None
            raise
        finally:
            cur.unregister("__ad_scored")
    finally:
        cur.close()
        close()


def plot_scores(con: duckdb.DuckDBPyConnection, model: str, source: str, out_dir: str | Path | None = None) -> Any:
    """Write ``<model>_v<version>_scores.png`` in ``out_dir`` (``tx_ae_v1_scores.png``): a histogram of the scores
    of every row of ``source``, with each stored threshold and how many of those rows it flags; returns its path.
    For choosing a threshold without labels (CLI: ``ad-duckdb score ... --plots DIR``); with labels,
    ``evaluate(plots_dir=)`` draws precision and recall.

    Without ``out_dir``, returns the matplotlib Figure instead, for a notebook (shown as a cell's value;
    ``fig.savefig(path)`` writes it). It is not registered with pyplot: ``plt.show()`` and the backend are left alone.
    """
    from . import metrics

    lm = registry(con).get(model)
    if out_dir is not None:
        metrics.plots_folder(out_dir, lm.ref)
    # one narrow column kept beside the score: the plot needs the scores only
    with _scored_view(con, *_scored_batches(con, model, source, lm.feature_names[:1], outputs=["anomaly_score"])[1:]
                      ) as cur:
        scores = cur.sql("SELECT anomaly_score FROM __ad_scored").fetchnumpy()["anomaly_score"]
    shown = " ".join(strip_sql_ends(source).split())
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    if out_dir is None:
        return metrics.scores_figure(np.asarray(scores, dtype=np.float64), lm.ref, lm.thresholds, shown)
    return metrics.plot_scores(np.asarray(scores, dtype=np.float64), out_dir, lm.ref, lm.thresholds, shown)


def _labelled_scores(con: duckdb.DuckDBPyConnection, model: str | LoadedModel, source: str, label: str,
                     where: str | None) -> tuple[LoadedModel, np.ndarray, np.ndarray]:
    """Scores and 0/1 labels of the rows of ``source`` (``model``: a name, or a model not stored yet)."""
    lm = model if isinstance(model, LoadedModel) else registry(con).get(model)
    if not isinstance(label, str) or not label:
        raise BadInputError(f"Model {lm.ref!r}: label= (CLI: --label) must name the column of {source!r} that holds "
                            f"1 (anomaly) or 0 (normal), e.g. label='is_fraud'; got {label!r}.")
    if label.lower() in {f.lower() for f in lm.feature_names}:
        # the filter as SQL that runs: a name with a space or a quote in it needs SQL's quotes
        col = label if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label) else quote_ident(label)
        normal = f"where='{col} = 0'" if '"' in col else f'where="{col} = 0"'
        raise BadInputError(
            f"Model {lm.ref!r}: label column {label!r} is one of its features, so its scores read the answer. Evaluate "
            f"a model trained without it: features= leaving out {label!r} (CLI: -f for each other column), or, on the "
            f"normal rows, {normal} without features= (which leaves the label out)."
        )
    cur = pysource.cursor(con, source)
    try:
        cols = describe(cur, source, lm.ref, caller=con)
        feats = _feature_columns(cols, lm, source)
        label_type = {c.lower(): t for c, t in cols}.get(label.lower())
        if label_type is None:
            raise SourceNotFoundError(f"Model {lm.ref!r}: label column {label!r} is not in {source!r}; its columns: "
                                f"{', '.join(c for c, _ in cols)}.{did_you_mean(label, [c for c, _ in cols])}")
        # Scored a batch at a time, keeping each row's score and label: an evaluation holds two numbers per row,
        # not every feature of every row (10M rows x 6 columns: 0.5 GB).
        batches = feature_batches(cur, source, [*feats, label], where)
        scores, labels = [np.empty(0)], [np.empty(0)]
        while True:
            try:
                M = next(batches)
            except StopIteration:
                break
            except BadInputError as e:
                if is_numeric_type(label_type) or label_type.upper() == "BOOLEAN":
                    raise
                # the values as they are, so that the user maps the one that marks an anomaly (not our guess 'yes')
                counts = _label_counts(cur, source, label, where)
                raise BadInputError(
                    f"Model {lm.ref!r}: label column {label!r} of {source!r} is {label_type}, not 0 (normal) / 1 "
                    f"(anomaly); its values: {_shown_counts(counts)}. {_label_mapping_hint(label, counts)}"
                ) from e
            scores.append(lm.scores(M[:, :-1]).astype(np.float64))
            labels.append(M[:, -1])
        s, y = np.concatenate(scores), np.concatenate(labels)
        counts = _label_counts(cur, source, label, where) if len(y) and not np.isin(y, (0, 1)).all() else []
    finally:
        cur.close()
    if len(y) == 0:
        raise NoRowsError(f"No labelled rows to judge {lm.ref!r} on: {source!r}"
                            f"{f' with where={where!r}' if where else ''} has no rows. Check the source and the filter.")
    missing = int(np.isnan(y).sum())
    if missing:
        col = label if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label) else quote_ident(label)
        keep = f"{col} IS NOT NULL" + (f" AND NOT isnan({col})" if label_type.upper() in ("DOUBLE", "FLOAT", "REAL")
                                       else "")
        keep = f"({where}) AND {keep}" if where else keep
        keep = f'"{keep}"' if '"' not in keep else repr(keep)
        raise BadInputError(f"Model {lm.ref!r}: label column {label!r} is NULL (or NaN) in {missing} of the {len(y)} "
                            f"rows of {source!r}{f' with where={where!r}' if where else ''}, which are neither normal "
                            f"nor anomalies; judge the labelled rows only: where={keep} (CLI: --where).")
    if counts:
        # checked before the integer cast, which would quietly turn 0.7 into 0 and 1.5 into 1
        raise BadInputError(f"Model {lm.ref!r}: label column {label!r} must hold 0 (normal) or 1 (anomaly); its values "
                            f"in {source!r}: {_shown_counts(counts)}. {_label_mapping_hint(label, counts)}")
    return lm, s, y.astype(np.int64)


def _label_counts(cur: Any, source: str, label: str, where: str | None) -> list[tuple[Any, int]]:
    """The label column's distinct non-NULL values with their row counts, most frequent first (at most 6)."""
    col = quote_ident(label)
    q = f"SELECT {col}, count(*) FROM {source_sql(source)}"
    q += where_sql(f"({where}\n) AND {col} IS NOT NULL" if where else f"{col} IS NOT NULL")
    q += " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 6"
    return [(v, int(n)) for v, n in cur.execute(q).fetchall()]


def _label_value(v: Any) -> str:
    """A label value as SQL reads it: 'yes' quoted, numbers plain (-1, 0.5; not Decimal('-1.0'))."""
    if isinstance(v, str):
        return quote_literal(v)
    if isinstance(v, numbers.Number) and not isinstance(v, bool):
        return f"{float(v):g}"  # type: ignore[arg-type]
    return str(v)


def _shown_counts(counts: list[tuple[Any, int]]) -> str:
    shown = ", ".join(f"{_label_value(v)} ({n} row{'' if n == 1 else 's'})" for v, n in counts[:5])
    return shown + (", ..." if len(counts) > 5 else "")


def _label_mapping_hint(label: str, counts: list[tuple[Any, int]]) -> str:
    """How to turn the label into 0 / 1. Why not a fixed example: with -1 / 1 labels `label > 0` reads as anomalies
    the normal rows of scikit-learn's convention (-1 = outlier), and every figure would be inverted."""
    col = quote_ident(label)
    if len(counts) == 2:
        lit = _label_value(counts[-1][0])
        return (f"Map the value that marks an anomaly to 1 in a query and pass that column, e.g. \"SELECT *, "
                f"({col} = {lit})::INTEGER AS is_anomaly FROM ...\" with label='is_anomaly' if {lit} (the rarer "
                f"value here) marks anomalies.")
    return (f"Map the values that mark an anomaly to 1 in a query and pass that column, e.g. \"SELECT *, ({col} IN "
            f"(...))::INTEGER AS is_anomaly FROM ...\" with label='is_anomaly'.")


_SELECT_ALL_FROM = re.compile(r'^\s*\(?\s*select\s+\*\s+from\s+((?:"[^"]+"|\w+)(?:\s*\.\s*(?:"[^"]+"|\w+))*)\s*\)?\s*;?\s*$',
                              re.I)


def _source_key(source: str) -> str:
    """What a source reads, for comparing two spellings: a table's own name (``transactions``, ``main.transactions``
    and dbt's ``select * from "wh"."main"."transactions"`` are one), else the text itself."""
    s = source.strip()
    m = _SELECT_ALL_FROM.match(s)
    name = m.group(1) if m else s
    if m or re.fullmatch(r'(?:"[^"]+"|\w+)(?:\s*\.\s*(?:"[^"]+"|\w+))*', s):
        return re.split(r"\s*\.\s*", name)[-1].strip('"').lower()
    return " ".join(s.lower().split())


def _training_overlap(con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str, where: str | None) -> str | None:
    """A note when labelled rows include rows the model was trained on (their metrics are optimistic)."""
    m = lm.rec.metrics
    if not isinstance(m.get("train_source"), str) or _source_key(m["train_source"]) != _source_key(source):
        return None  # another source (or a model from before this was recorded): nothing to compare
    conds = [f"({w}\n)" for w in (where, m.get("train_where")) if w]
    q = f"SELECT count(*) FROM {source_sql(source)}"
    if conds:
        q += where_sql(" AND ".join(conds))
    cur = pysource.cursor(con, source)
    try:
        n = cur.execute(q).fetchall()[0][0]
    except duckdb.Error:
        return None  # the stored filter no longer binds (a column dropped since): nothing to say
    finally:
        cur.close()
    if not n:
        return None
    tw = m.get("train_where")
    # the filter given, kept: a suggestion without it would judge the model on rows the user did not ask about.
    # Comments at the filters' ends dropped: in `NOT (label = 0 -- normal rows)` the comment swallowed the `)`,
    # so the suggested filter was a syntax error.
    given, trained = (strip_sql_ends(w) if w else w for w in (where, tw))
    held = f"({given}) AND NOT ({trained})" if where else f"NOT ({trained})"
    how = (f"its training filter was {tw!r}; use where=\"{held}\" (CLI: --where) or another held-out filter" if tw
           else "it was trained on all of them (unlabelled); score new rows")
    return (f"{n} of these rows are rows {lm.ref} was trained on, so its figures on them are optimistic ({how} "
            "for an estimate on unseen rows).")


# Below this many labelled anomalies, evaluate says how little its recall figures can tell thresholds apart.
FEW_ANOMALIES = 30


def evaluate(
    con: duckdb.DuckDBPyConnection,
    model: str,
    source: str,
    *,
    label: str,
    where: str | None = None,
    plots_dir: str | Path | None = None,
    into: str | None = None,
    replace: bool = False,
) -> Any:
    """Precision, recall, F1, AUC-ROC and AUC-PR of ``model`` on labelled rows (1 = anomaly).

    Returns an ``ad_duckdb.metrics.Report``; ``into`` writes the candidate-threshold table to DuckDB (an
    existing table only with ``replace=True``) and ``plots_dir`` writes a precision-recall curve and a score
    histogram by label (PNG).
    """
    from . import metrics as ev

    if into is not None:
        _check_target(con, into, replace, source, what="thresholds")
    if plots_dir is not None:
        ev.plots_folder(plots_dir, model)
    lm, s, y = _labelled_scores(con, model, source, label, where)
    thresholds.check_labels(s, y, f"evaluate {lm.ref!r}")
    at = {}
    for name, value in sorted(lm.thresholds.items()):
        m = ev.confusion(s, y, value)
        at[name] = {"value": value, **m}
    table = ev.candidate_table(s, y)
    rep = ev.Report(model=lm.ref, rows=len(s), anomalies=int(y.sum()), auc_roc=ev.auc_roc(s, y),
                    auc_pr=ev.auc_pr(s, y), at_thresholds=at, table=table)
    if 0 < rep.anomalies < FEW_ANOMALIES:
        k, n = rep.anomalies // 2, rep.anomalies  # the recall nearest 0.5 these labels can give
        lo, hi = ev.wilson(k, n)
        rep.notes.append(f"Only {n} labelled {'anomaly' if n == 1 else 'anomalies'}: a recall of {k} of {n} could be "
                         f"anywhere in {lo:.2f}-{hi:.2f} on another sample of as many; label more anomalies to tell "
                         "thresholds apart.")
    overlap = _training_overlap(con, lm, source, where)
    if overlap:
        rep.notes.append(overlap)
    rows_text = f"{source}{' WHERE ' + where if where else ''} (label"
    fitted = sorted(t.name for t in lm.rec.thresholds if (t.chosen_on or "").startswith(rows_text))
    if fitted:
        rep.notes.append(f"Threshold(s) {', '.join(fitted)} were chosen on these same labelled rows: their precision "
                         "and recall here are what they were fitted to; judge them on other labelled rows.")
    if plots_dir is not None:
        rep.plots = ev.plot(s, y, plots_dir, lm.ref, lm.thresholds)
    if into is not None:
        cur = interrupts.cursor(con)
        try:
            with store.transaction(cur):  # all or nothing: a replaced table is never left half-written
                cur.execute(
                    f"CREATE OR REPLACE TABLE {table_sql(into)} (model VARCHAR, threshold DOUBLE, precision DOUBLE, "
                    "recall DOUBLE, f1 DOUBLE, flagged_share DOUBLE)"
                )
                cur.executemany(
                    f"INSERT INTO {table_sql(into)} VALUES (?, ?, ?, ?, ?, ?)",
                    [[lm.ref, r["threshold"], r["precision"], r["recall"], r["f1"], r["flagged_share"]] for r in table],
                )
        finally:
            cur.close()
    return rep


def set_threshold(
    con: duckdb.DuckDBPyConnection,
    model: str,
    name: str,
    method: str,
    *,
    value: float | None = None,
    target: float | None = None,
    source: str | None = None,
    label: str | None = None,
    where: str | None = None,
    confident: bool = False,
) -> Threshold:
    """Store a named threshold for a model version (``'name'`` means its latest version).

    ``method``: ``manual`` (``value``), ``quantile`` / ``contamination`` (``target``: a quantile of
    training scores, or the share of training rows to flag), or a goal on labelled rows of ``source``:
    ``max_f1``, ``min_precision`` / ``min_recall`` (``target``), ``flag_budget`` (``target``: largest share flagged).
    ``confident=True`` (min_precision / min_recall): the lower end of the figure's 95% interval must meet the target,
    so few labels give a more cautious threshold rather than a lucky one.
    """
    lm = registry(con).get(model)
    if not isinstance(name, str) or not name or len(name) > 64:
        raise BadInputError(f"Threshold name {name!r} must be a non-empty string of at most 64 characters.")
    # An option the method does not read is a mistake to report, not to drop: the stored threshold would
    # not be what was asked for.
    goal: dict[str, Any] | None = None  # what a threshold chosen on labels was chosen for (carry_thresholds)
    uses = {"manual": {"value"}, "quantile": {"target"}, "contamination": {"target"}, "max_f1": {"source", "label", "where"},
            "min_precision": {"target", "source", "label", "where", "confident"},
            "min_recall": {"target", "source", "label", "where", "confident"},
            "flag_budget": {"target", "source", "label", "where"}}.get(method)
    if not isinstance(confident, bool):
        raise BadInputError(f"Threshold {name!r} for {lm.ref!r}: confident= must be True or False; got {confident!r}.")
    given = {k for k, v in {"value": value, "target": target, "source": source, "label": label, "where": where,
                            "confident": confident or None}.items() if v is not None}
    if uses is not None and given - uses:
        raise BadInputError(
            f"Threshold {name!r} for {lm.ref!r}: method {method!r} does not use {', '.join(sorted(given - uses))}; "
            f"it takes {', '.join(sorted(uses))}. Leave the others out, or pick the method that uses them."
        )
    for arg, v in (("value", value), ("target", target)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
            raise BadInputError(f"Threshold {name!r} for {lm.ref!r}: {arg}= (CLI: --{arg}) must be a number, e.g. "
                                f"{arg}={0.9 if arg == 'target' else 3.5}; got {v!r}.")
    chk = interrupts.cursor(con)
    try:
        store.check_can_write(chk, f"Cannot store threshold {name!r} for {lm.ref!r}")
    finally:
        chk.close()
    if method == "manual":
        if value is None or not np.isfinite(value):
            raise BadInputError(f"Threshold {name!r} for {lm.ref!r}: method 'manual' needs a finite value= "
                                f"(CLI: --value), e.g. value=3.5; got {value!r}.")
        th = Threshold(name=name, value=float(value), method="manual", chosen_on="set by hand")
    elif method in ("quantile", "contamination"):
        if lm.quantiles is None:
            raise BadInputError(
                f"Threshold {name!r} for {lm.ref!r}: method {method!r} reads the training-score quantiles stored with "
                f"a model, and {lm.ref} has none (it was stored without them). Re-train it, or choose the threshold "
                "another way: method 'manual' with value= (CLI: --value), or a goal on labelled rows such as 'max_f1' "
                "with source= and label= (CLI: --source, --label)."
            )
        if target is None or not (0.0 < target < 1.0):
            # the example fits the method: a contamination of 0.99 would flag 99% of rows, and 5 is likely 5%
            what = "the quantile of the training scores, e.g. 0.99"
            if method == "contamination":
                pct = (f" (for {target:g}%, target={target / 100:g})" if target is not None and 1.0 <= target < 100.0
                       else "")
                what = f"the share of training rows to flag, e.g. 0.01 for 1%; got {target!r}{pct}"
            else:
                what += f"; got {target!r}"
            raise BadInputError(f"Threshold {name!r} for {lm.ref!r}: method {method!r} needs target= in (0, 1) "
                                f"(CLI: --target), {what}.")
        q = 1.0 - target if method == "contamination" else target
        v = float(np.interp(q, np.linspace(0, 1, len(lm.quantiles)), lm.quantiles))
        th = Threshold(name=name, value=v, method=method, chosen_on=f"training scores ({method} {target:g})",
                       flagged_share=lm.share_above(v))
    elif method in thresholds.LABELLED:
        if source is None or label is None:
            raise BadInputError(
                f"Threshold {name!r} for {lm.ref!r}: method {method!r} is chosen on labelled rows; pass source= and label= (CLI: --source, --label)."
            )
        goal = {"method": method, "target": target, "source": source, "label": label, "where": where,
                "confident": confident}
        th = _goal_threshold(con, lm, name, goal)
    else:
        raise BadInputError(f"Unknown threshold method {method!r}; use one of: {', '.join(thresholds.METHODS)}.")
    was = next((t for t in lm.rec.thresholds if t.name == name), None)
    if was is not None and name in ("default", *thresholds.QUANTILES):
        # Why said: these names carry a meaning fixed at training ('default' is what is_anomaly flags above, 'p99'
        # the training scores' 99th percentile); a goal or a hand value stored under one changes it for every query.
        uses = f"is_anomaly({lm.ref!r}, ...) now flags scores above {th.value:.6g}" if name == "default" else \
            f"{name!r} no longer names its quantile of the training scores"
        warnings.warn(f"Threshold {name!r} for {lm.ref!r} replaces the stored one ({was.value:.6g}, "
                      f"{was.method}): {uses}. To keep it, store yours under another name, e.g. {name}_{method}.",
                      AdDuckDBWarning, stacklevel=2)
    cur = interrupts.cursor(con)
    try:
        store.set_threshold(cur, lm.name, lm.version, th, goal)
    finally:
        cur.close()
    refresh(con)
    return th


def _goal_threshold(con: duckdb.DuckDBPyConnection, lm: LoadedModel, name: str, goal: dict[str, Any],
                    note: str = "") -> Threshold:
    """The threshold meeting ``goal`` (method, target, source, label, where, confident) on the labelled rows, for
    model ``lm``; ``note`` goes into its ``chosen_on`` after the rows."""
    source, label, where = goal["source"], goal["label"], goal["where"]
    _, s, y = _labelled_scores(con, lm, source, label, where)
    on = f"{source}{' WHERE ' + where if where else ''} (label {label}, {len(s)} rows, {int(y.sum())} anomalies)"
    overlap = _training_overlap(con, lm, source, where)
    on += f"; {overlap}" if overlap else ""
    on += f"; {note}" if note else ""
    try:
        return thresholds.from_goal(s, y, goal["method"], target=goal["target"], name=name, chosen_on=on,
                                    confident=goal["confident"])
    except BadInputError as e:  # from_goal knows the rows, not the model: name it, as the checks above do
        msg = str(e)
        raise BadInputError(f"Threshold {name!r} for {lm.ref!r}: {msg[:1].lower()}{msg[1:]}") from None


def export_model(con: duckdb.DuckDBPyConnection, model: str, path: str | Path, *, replace: bool = False) -> Path:
    """Write a self-contained ``.onnx`` file: the graph any ONNX runtime can run, with ad_duckdb metadata inside.

    The graph takes ``x`` [n, d] (float32, or float64 where a column has a large centre) in the model's feature
    order and gives ``score`` [n] and ``feature_error`` [n, d]. The features and thresholds are JSON under the
    ``ad_duckdb`` key of its ``metadata_props`` (README, "Models, versions, thresholds"). An existing file is
    replaced only with ``replace=True``, and the database's own file never; the file appears whole or not at all
    (written beside it, then renamed). Returns the path written.

    Examples
    --------
    >>> path = ad_duckdb.export_model(con, "tx_ae", "tx_ae.onnx")                       # doctest: +SKIP
    >>> sess = onnxruntime.InferenceSession(path)                                      # doctest: +SKIP
    >>> meta = json.loads(sess.get_modelmeta().custom_metadata_map["ad_duckdb"])        # doctest: +SKIP
    >>> [f["name"] for f in meta["features"]], meta["thresholds"][0]["name"]            # doctest: +SKIP
    (['count', 'amount'], 'default')
    """
    rec = load_model(con, model)
    p = Path(path)
    cur = interrupts.cursor(con)  # not con itself: a query on it would replace a result the caller is still reading
    try:
        db_files = {Path(r[0]).resolve() for r in cur.execute("SELECT path FROM duckdb_databases() WHERE path IS NOT NULL")
                    .fetchall()}
    finally:
        cur.close()
    if p.resolve() in db_files or p.resolve() in {Path(f"{f}.wal") for f in db_files}:
        raise BadInputError(f"{str(p)!r} is a database file in use; export {model!r} to a new path, e.g. {rec.name}.onnx.")
    return onnxfile.write_file(rec, p, replace=replace)


def read_onnx_file(path: Path) -> ModelRecord:
    """Read and check a file written by ``export_model`` (see ``onnxfile.read_file``)."""
    return onnxfile.read_file(path)


def import_model(con: duckdb.DuckDBPyConnection, path: str | Path, name: str | None = None) -> ModelInfo:
    """Store a model from an ``.onnx`` file written by ``export_model`` as the next version of ``name``."""
    rec = onnxfile.read_file(Path(path))
    from .scoring import make_session

    make_session(rec.onnx, model=rec.name, n_features=len(rec.features))
    if name is not None:
        rec.name = store.check_name(name)
    rec.source = f"imported from {Path(path).name} ({rec.source})"
    cur = interrupts.cursor(con)
    try:
        same = _same_as_latest(cur, rec)
        if same is not None:
            # Why: a deployment step re-run (a retried Airflow task, a nightly import of an unchanged file) would
            # otherwise add a version per run, each the same model, and move no pinned query forward.
            warnings.warn(f"{same.ref} is already this model (same ONNX sha256 {rec.sha256[:12]}… and thresholds); "
                          f"nothing imported. Pass name= (CLI: --name) to store a copy under another name.",
                          AdDuckDBWarning, stacklevel=2)
            return ModelInfo.of(same)
        store.check_can_write(cur, f"Cannot store model {rec.name!r}")
        store.save(cur, rec)
    finally:
        cur.close()
    refresh(con)
    return ModelInfo.of(rec)


def _same_as_latest(cur: Any, rec: ModelRecord) -> ModelRecord | None:
    """The latest stored version of ``rec.name`` when it holds the same graph and thresholds, else None."""
    if rec.name not in store.known_models(cur):
        return None
    try:
        latest = store.load(cur, rec.name)
    except AdDuckDBError:
        return None  # a damaged latest version: the import replaces it as the newest

    def key(r: ModelRecord) -> tuple[str, list[tuple[str, float]]]:
        return store.sha256_hex(r.onnx), sorted((t.name, float(t.value)) for t in r.thresholds)

    return latest if key(latest) == key(rec) else None
