"""The Python API: connect, register, refresh, train, score; evaluate and thresholds (``labelled``) and the stored
models, export / import (``models``) are re-exported here."""

from __future__ import annotations

import contextlib
import platform
import queue
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from os import PathLike, fspath
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from . import (
    appendrepeats,
    attachedmodels,
    callerview,
    catalognames,
    categorical,
    damagedfile,
    filegoals,
    firstappend,
    flagcut,
    indexcols,
    interrupts,
    lockholder,
    lockwait,
    msevalues,
    notafile,
    notes,
    numbercut,
    optionwords,
    otherfeatures,
    partitionreplace,
    pysource,
    readers,
    relfiles,
    replacewhere,
    scoreahead,
    scoretail,
    store,
    thresholds,
    totalsrow,
    trainhold,
    trainscores,
    workfolder,
)
from .addedtop import AddedTop
from .closenames import did_you_mean
from .codecolumns import warn_category_codes
from .columnroles import warn_epoch_features
from .connarg import check_connection
from .dbtrun import stored_source
from .drift import DriftTally
from .exceptions import (
    AdDuckDBError,
    BadInputError,
    DatabaseLockedError,
    DatabaseUnavailableError,
    MissingDependencyError,
    OptionError,
    SourceNotFoundError,
    ThresholdNotFoundError,
    UnusableColumnsError,
    held_by_reader,
)
from .featurechoice import MODEL_COLUMN, SCORE_COLUMNS, choose_columns, default_features
from .featureread import TrainingSample, count_rows, feature_batches, load_matrix, rows_fingerprint
from .features import warn_if_few_rows
from .filecols import Compared, warn_cast_columns
from .intotable import (
    SCORE_TYPES,
    append_value_error,
    check_append_columns,
    check_append_types,
    check_append_values,
    check_replace,
    check_target,
    first_append_error,
    guarded,
    one_append_at_a_time,
    table_columns,
    table_types,
)
from .labelled import FEW_ANOMALIES as FEW_ANOMALIES
from .labelled import carried_thresholds, choose_goals_again, evaluate, set_threshold
from .models import (
    ModelInfo,
    drop_model,
    export_model,
    import_model,
    list_models,
    load_model,
    read_onnx_file,
    warn_if_code_sizes_left_out,
    warn_if_features_changed,
)
from .mostlynull import flag_split, warn_mostly_null
from .msevalues import MSE_COLUMN
from .numberhints import _from_item
from .progress import RowProgress
from .progress import rows as progress_rows
from .readhints import passed_on_error, read_error, stream_error
from .scorecols import CARRIED, earlier_scores, mark_statements, refusal
from .scoring import LoadedModel, load_session, ort_pool, to_arrow, to_matrix
from .sourcecols import check_text_features, check_unique_names, feature_columns
from .sourcecols import source_features as source_features
from .sourcedescribe import describe
from .sqltext import (
    is_query,
    quote_ident,
    quote_literal,
    shell_word,
    shown_source,
    shown_table,
    source_sql,
    sql_names,
    strip_sql_ends,
    table_sql,
)
from .store import ModelRecord
from .totalsrow import ScoredTop, TotalsWatch, empty_rows_filter, warn_empty_rows, warn_totals_row
from .udfs import dbt_target, register, registry, volatile_store
from .udfs import refresh as refresh_functions

__all__ = [
    "ModelInfo", "connect", "drop_model", "evaluate", "export_model", "import_model", "list_models",
    "load_model", "read_onnx_file", "refresh", "register", "score", "set_threshold", "train",
]


# Why: a dashboard or report that cannot wait out a long nightly write still has something to read
_READ_A_COPY = (" A reader that cannot wait reads a copy taken while nothing writes the file (`cp` it after the "
                "writing job, or `ad-duckdb serve DB --snapshot`, which copies it between writes: SIGHUP takes a "
                "new copy).")


def _open_error(database: str, read_only: bool, e: duckdb.IOException) -> AdDuckDBError | None:
    """What to tell the user for DuckDB's IO error opening a database file (a lock; a file this process may not
    write), with the fix; None for any other, which is DuckDB's own to report."""
    if damagedfile.is_damage(e):  # before the lock's test, which a path holding "lock" (/data/blocks/) would pass
        return DatabaseUnavailableError(damagedfile.damaged_message(database, e))
    if "lock" in str(e).lower():
        holder = lockholder.describe(str(e))
        duckdb_text = held_by_reader(str(e))
        if duckdb_text is not None:
            return DatabaseLockedError(
                f"Cannot open {database!r} for writing: another process has it open read-only ({duckdb_text})."
                f"{holder} DuckDB allows no writing process beside reading ones: wait for the reader to finish, or "
                "stop it (a server, a BI tool, a scoring job, an `ad-duckdb sql` prompt: .quit). A server that must "
                "keep running while you write: `ad-duckdb serve DB --snapshot` serves a copy and leaves the file to "
                "writers (SIGHUP publishes what they wrote)."
            )
        # Why no "open it read-only" for a writer wanting the file: a writer's lock refuses readers too (DuckDB adds
        # its read-only sentence only when the holder reads)
        return DatabaseLockedError(
            f"Cannot open {database!r}{'' if read_only else ' for writing'}: another process has it open for "
            f"writing ({e}).{holder} DuckDB allows one writing process per file and no other process beside it: "
            "wait for it to finish, or stop it if it should not be running (a `score --into` or training run, a "
            "dbt run, a server with --read-write, an `ad-duckdb sql --write` prompt)."
            + (_READ_A_COPY if read_only else "")
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
    if "not a valid duckdb database file" in text and database.lower().endswith(".onnx"):
        return DatabaseUnavailableError(
            f"Cannot open {database!r}: it is a model file (.onnx), not a DuckDB database. A command takes the database "
            "first: ad-duckdb import DB PATH stores the model of PATH in DB."
        )
    if "not a valid duckdb database file" in text:
        return DatabaseUnavailableError(
            f"Cannot open {database!r}: it is not a DuckDB database file (DuckDB cannot read it as one; it was left as "
            "it is). Check the path; a new path creates a database, and a Parquet or CSV file is a source, e.g. "
            "read_parquet('file.parquet')."
        )
    return None


def connect(
    database: str | Path = ":memory:", *, read_only: bool = False, check_order: bool | None = None,
    wait: float | None = None, **kwargs: Any
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with the SQL functions registered (``check_order``: see ``register``).

    ``database``: a file's path, or ``":memory:"`` (the default) for an in-memory database; ``read_only=True``
    opens a file without writing to it; ``wait``: seconds to wait while another process holds the file (DuckDB
    allows one writing process per file, and no writer beside readers), trying again every half second, as
    ``ad-duckdb --wait`` does; by default a held file raises ``DatabaseLockedError`` at once, saying how to wait
    (``wait=0`` leaves that out). Further ``kwargs``
    (e.g. ``config={"threads": 4}``) go to ``duckdb.connect``."""
    if not isinstance(database, str | PathLike):
        # Why refused: str() of anything else is a path too, so connect(con) created a database file named
        # "<_duckdb.DuckDBPyConnection object at 0x...>" in the working folder, and its models were not the ones asked for
        fix = (" To add the SQL functions to a connection you already have, call ad_duckdb.register(con)."
               if isinstance(database, duckdb.DuckDBPyConnection) else "")
        raise BadInputError(f"connect() takes a database file's path (str or pathlib.Path) or ':memory:', not a "
                            f"{type(database).__name__}.{fix}")
    if wait == 0 and not isinstance(wait, bool):  # the command line's own --wait loop, which names --wait itself
        return _connect(str(database), read_only, check_order, kwargs)
    wait = lockwait.seconds(wait)
    return lockwait.retry_while_locked(lambda: _connect(str(database), read_only, check_order, kwargs), wait,
                                       waited_with=f"wait={wait:g}",
                                       how_to_wait="ad_duckdb.connect(..., wait=SECONDS) waits for the file to be free.")


def _connect(database: str, read_only: bool, check_order: bool | None,
             kwargs: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """``connect`` once; a file another process holds raises DatabaseLockedError."""
    on_disk = database not in ("", ":memory:") and not database.startswith(":memory:")
    said = notafile.refusal(database) if on_disk else None
    if said is not None:
        raise DatabaseUnavailableError(said)
    try:
        if on_disk:
            con = _connect_again(database, read_only, kwargs)
        else:
            # a named one (":memory:shared") is one database for every connection of that name: its config is kept
            spill = workfolder.in_memory_config(kwargs.get("config")) if database in ("", ":memory:") else None
            con = duckdb.connect(database, read_only=read_only, **({**kwargs, "config": spill} if spill else kwargs))
    except duckdb.CatalogException as e:
        if on_disk and "in-memory" in str(e):
            raise _not_a_database(database) from e
        raise
    except duckdb.IOException as e:
        err = _open_error(database, read_only, e)
        if err is not None:
            raise err from e
        raise
    except duckdb.Error as e:
        if on_disk and damagedfile.is_damage(e):
            raise DatabaseUnavailableError(damagedfile.damaged_message(database, e)) from e
        raise
    if on_disk:
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        if not path or not path[0][0]:
            con.close()
            raise _not_a_database(database)
        try:
            workfolder.spill_beside_file(con, path[0][0])
        except BaseException:
            con.close()
            raise
    from .udfs import OPEN_ARGS

    OPEN_ARGS[con] = (database, read_only, kwargs)
    try:
        register(con, check_order=check_order)
    except BaseException as e:
        con.close()  # the caller never gets the connection, so it would keep the file open
        if on_disk and damagedfile.is_damage(e):  # the blocks of the model store are read here, after the open
            raise DatabaseUnavailableError(damagedfile.damaged_message(database, e)) from e
        raise
    return con


def _connect_again(database: str, read_only: bool, kwargs: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, for a file this process may have open already with other settings, which DuckDB refuses
    as "a different configuration than existing connections": once every connection to it is closed, ours (which
    keeps the functions, see udfs._track) is closed too and the file opened again; else the refusal names the fix."""
    from .udfs import open_settings, release_closed

    try:
        return duckdb.connect(database, read_only=read_only, **kwargs)
    except duckdb.ConnectionException as e:
        if "different configuration" not in str(e):
            raise
        refused = e
        if release_closed(database):
            try:
                return duckdb.connect(database, read_only=read_only, **kwargs)
            except duckdb.ConnectionException as again:  # a connection we never saw (a plain duckdb.connect) holds it
                if "different configuration" not in str(again):
                    raise
                refused = again
        held = open_settings(database)
        was = (f" (read_only={held[0]}" + "".join(f", {k}={v!r}" for k, v in held[1].items()) + ")") if held else ""
        raise DatabaseUnavailableError(
            f"Cannot open {database!r} with read_only={read_only}" + "".join(f", {k}={v!r}" for k, v in kwargs.items())
            + f": this process has it open already with other settings{was}, and DuckDB opens a file with one set of "
            "settings per process. Open it with the same settings, or close the other connections to it first "
            "(con.close()); threads share one connection through con.cursor()."
        ) from refused


def _not_a_database(database: str) -> BadInputError:
    # DuckDB opens some files (x.parquet, x.csv) as an in-memory database: models would vanish at exit.
    suffix = Path(database).suffix.lower()
    reader = ("read_csv" if suffix in (".csv", ".tsv", ".txt") else "read_json" if suffix in (".json", ".jsonl", ".ndjson")
              else "read_parquet")
    # the path as a SQL string (a quote in it doubled), then as one shell word
    source = f"{reader}({quote_literal(database)})"
    arg = shell_word(source)
    return DatabaseUnavailableError(
        f"{database!r} is not a DuckDB database file (DuckDB opens it as an in-memory database, so nothing would "
        f"be saved). Give a .duckdb file; a Parquet or CSV file is a source, e.g. ad-duckdb train warehouse.duckdb "
        f"NAME {arg}."
    )


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Make the SQL functions see models trained, imported or dropped since they were registered."""
    from .udfs import refresh as _refresh

    _refresh(con)


def _warn_train_changes(cur: duckdb.DuckDBPyConnection, rec: store.ModelRecord) -> None:
    """The notes on what a new version changes for queries of its name (store.save's before_insert of train)."""
    warn_if_features_changed(cur, rec, "train")
    warn_if_code_sizes_left_out(cur, rec)


def _warn_if_rows_changed(cur: duckdb.DuckDBPyConnection, name: str, source: str, names: list[str],
                          where: str | None, before: str | None) -> None:
    """Say so when the training rows changed while the file was let go (another process wrote them meanwhile).

    Why a warning, not a refusal: the model learned from the rows as they were when read, which is what a training
    started a moment earlier would have stored too; but its thresholds (read again above ``max_train_rows``) and
    an evaluation on "the training rows" then describe other rows, which the user should know."""
    if before is None:
        return
    after = rows_fingerprint(cur, source, names, where)
    if after is None or after == before:
        return
    rows = f"{source}{f' WHERE {where}' if where else ''}"
    # Why read once more: a source that draws its rows at random (random(), USING SAMPLE without a seed) differs
    # on every read, and was said to have been written by another process, with "train it again" as the fix, which
    # draws other rows again. Held now, the file is written by no other process between these two reads.
    if rows_fingerprint(cur, source, names, where) != after:
        notes.warn(
            f"Model {name!r}: {rows} gave other rows each time it was read (it draws them at random, as random() "
            "and USING SAMPLE without a seed do): the model learned from the rows of one read, and what reads them "
            "again (evaluate, a threshold chosen on them, a retrain's carried goal) reads other rows. For the same "
            "rows on every read, give the sample a seed (USING SAMPLE 10% (bernoulli, 42)), or store the drawn rows "
            "and train on that table (CREATE TABLE train_rows AS ...).")
        return
    notes.warn(
        f"Model {name!r}: the rows of {rows} changed while the model trained "
        "(another process wrote them while the file was let go): it learned from the rows as they were read at the "
        "start. Train it again if it must cover the new rows.")


def _own_threshold_names(cur: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """The names of the user's thresholds (not the ones every training sets) of the stored versions of ``name``."""
    if not store.tables_exist(cur):
        return set()
    rows = cur.execute("SELECT DISTINCT threshold_name FROM ad_thresholds t SEMI JOIN ad_models m ON "
                       "t.model = m.name AND t.version = m.version WHERE t.model = ?", [name]).fetchall()
    return {r[0] for r in rows} - set(thresholds.FROM_TRAINING)


def _warn_if_not_carried(cur: duckdb.DuckDBPyConnection, name: str, version: int, lost: set[str]) -> None:
    """Say which thresholds carry_thresholds was to carry when the training began, but whose versions were dropped
    before it stored (the file is let go while it trains). Why: the retrain stored the new version without them and
    said nothing, so the queries naming them failed later with no word in the job's log on why."""
    if not lost:
        return
    shown = ", ".join(repr(t) for t in sorted(lost))
    row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    db = shlex.quote(row[0][0]) if row and row[0][0] else "DB"
    notes.warn(
        f"Model {name!r}: threshold{'s' if len(lost) > 1 else ''} {shown} not carried to {name}@{version}: the versions "
        f"holding {'them' if len(lost) > 1 else 'it'} were dropped while it trained. Set "
        f"{'them' if len(lost) > 1 else 'it'} again if queries still name {'them' if len(lost) > 1 else 'it'}: "
        + optionwords.either(f"ad_duckdb.set_threshold(con, '{name}@{version}', ...).",
                             f"ad-duckdb threshold {db} {shlex.quote(f'{name}@{version}')} "
                             f"{shlex.quote(sorted(lost)[0])} --method METHOD."))


def _lib_versions() -> dict[str, Any]:
    import onnxruntime

    import ad_duckdb

    out: dict[str, Any] = {
        "ad_duckdb": ad_duckdb.__version__, "duckdb": duckdb.__version__, "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__, "python": platform.python_version(),
        # what a build must read to score this model as meant (readers.py): level 1, but 2 with text features (train)
        readers.KEY: readers.BASE}
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - only scoring installs lack torch
        pass
    return out


def train(
    con: duckdb.DuckDBPyConnection | str | PathLike[str],
    name: str,
    source: str,
    *,
    features: Sequence[str] | None = None,
    where: str | None = None,
    kind: str = "autoencoder",
    carry_thresholds: bool = False,
    wait: float | None = None,
    promote: bool = True,
    **params: Any,
) -> ModelInfo:
    """Train a model on a table, view, table function or query, and store it as the next version of ``name``.

    Parameters
    ----------
    con
        DuckDB connection (file or in-memory), or a database file's path; the model is stored in its ``ad_models``
        table. Given a path, ``train`` opens the file itself, reads the rows, closes the file while the network
        learns (others may query and write it meanwhile, as during ``ad-duckdb train``) and opens it again to store
        the model, waiting up to 10 minutes (or ``wait``, if longer) if another process holds it then; the version is numbered at that
        moment, after any stored meanwhile, and an ``AdDuckDBWarning`` says so if the rows trained on changed
        meanwhile. A connection you pass stays open, so the file stays locked (for writing) for the whole training:
        we cannot close your connection; pass the path to let colleagues use the file while it trains.
    name
        Model name, e.g. ``'tx_ae'``. Re-training the same name adds a version.
    source
        ``'transactions'``, ``"read_parquet('tx.parquet')"`` or ``'SELECT ... FROM ...'``; in a notebook, a pandas
        or polars DataFrame (or an Arrow table) by its variable's name, ``'df'``, as DuckDB's own queries read it.
    features
        Feature columns, in the order SQL calls will pass them. Default: every numeric column except id-like
        ones (integers named ``id``, ``*_id`` (``Merchant ID`` too) or ``*Id``, or rising row by row) and the score columns of a table
        ``score(into=)`` wrote; an ``AdDuckDBWarning`` names the columns left out. Fewer than 20 training rows
        are refused, fewer than 100 get a warning.
    where
        Optional SQL filter, e.g. ``"label = 0"`` to train on normal rows only. Without it, training
        is robust, as unlabelled data holds anomalies: it stops after fewer passes (an autoencoder learns
        the rare rows last) and the neighbour term compares with small random samples of training rows.
        With it, the rows it keeps are taken as normal and training is not robust (``metrics['robust']`` is
        False; ``ad-duckdb train`` says so): pass ``robust=True`` too for a filter that does not pick normal rows
        (dates, a region), whose rows may hold anomalies.
        ``trim_fraction=`` additionally leaves out the highest-error rows of each batch in robust training.
    carry_thresholds
        Give the new version your own thresholds of earlier versions (``cut``, ``prec90``, each from the version
        the bare name means, else the newest that has it; one you set on a staged version after staging it, later
        than that version's, from the staged one; not ``default`` and the quantiles, which every training sets), so
        that ``is_anomaly_at('name', 'cut', ...)`` keeps working after a retrain. One chosen on labels (``max_f1``,
        ``min_precision``, ...) is chosen again for the new model on the same labelled rows; the others, and one
        whose labelled rows cannot be read (a warning says why), move to the same point of the new training
        scores. CLI: ``--carry-thresholds``.
    promote
        ``False`` stages the new version: the bare ``'name'`` keeps meaning the version it meant (dashboards calling it
        do not move), while ``'name@N'`` scores with the new one; ``ad_duckdb.promote(con, 'name@N')`` makes the
        name mean it later. CLI: ``--no-promote``. The first version of a name is what the name means either way.
    wait
        For ``con`` a path, as ``ad-duckdb --wait`` (seconds, a number >= 0): wait up to that long for the file
        while another process holds it (DuckDB allows one writer), trying again every half second, rather than
        raising ``DatabaseLockedError`` at once; and to store the model, up to the longer of it and 10 minutes. For
        a connection, pass it to ``ad_duckdb.connect(path, wait=...)`` instead.
    kind
        ``'autoencoder'`` (default) or ``'vae'`` (a variational autoencoder); it sets ``variational``, so a
        ``variational=`` that disagrees is refused.
    **params
        Model options (see ``ad_duckdb.trainer.TrainParams``): ``n_models``, ``hidden_dims``, ``latent_dim``,
        ``epochs``, ``max_steps``, ``batch_size``, ``lr``, ``robust``, ``trim_fraction``, ``contamination``,
        ``seed``, ``progress``. ``code_sizes=(2, 4, 8, 16)`` (CLI: ``--code-sizes``): an opt-in ensemble of four
        autoencoders whose codes keep 2, 4, 8 and 16 numbers (``n_models`` and ``latent_dim`` follow), better on
        average on unlabelled data at about 3-4x the scoring time (README, "Quality and speed").

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
    held = trainhold.hold(con, "train", wait)
    given_path = catalognames.GIVEN_PATH.set((fspath(con), name) if isinstance(con, str | PathLike) else None)
    try:
        con = held.con
        _check_new_version_name(con, name)
        _check_kind(name, kind, params)
        lost = volatile_store(con)
        if lost:
            raise BadInputError(f"Cannot store model {name!r}: {lost}")
        if isinstance(source, str) and dbt_target(con) is not None:
            # Why: a dbt relation names the file's database ("warehouse"."main"."stg"); stored so, the file renamed or
            # copied could not read the model's source (train_model strips it the same way)
            source = stored_source(con, source)
        if where is not None and not isinstance(where, str):
            raise BadInputError(f"Model {name!r}: {optionwords.opt('where')} must be a SQL condition on the source's columns, "
                                f"e.g. \"label = 0\" to train on normal rows only; got {where!r}.")
        features = _column_names(f"Model {name!r}", "features", "-f", features)
        try:
            import onnx  # noqa: F401  (the exporter's; checked here so a scoring-only install fails before reading rows)
            import torch  # noqa: F401  (imported lazily by the trainer: without this, its absence surfaced mid-training)

            from .detector import AutoEncoderDetector, check_names
            from .export import parity_check, to_onnx_bytes
        except ImportError as e:
            raise MissingDependencyError(
                f"Training model {name!r} needs torch and onnx: pip install 'ad_duckdb[train]' ({e})."
            ) from e
        # before any row is read: a misnamed option on a large table was refused only after reading it
        try:
            check_names(params, _TRAIN_KEYWORDS, _TRAIN_OTHER_NAMES)
        except BadInputError as e:
            raise BadInputError(f"Model {name!r}: {e}") from None
        if where is not None and not where.strip():
            where = None  # an empty filter is no filter, and must not turn robust training off
        if params.get("robust") is None:
            params["robust"] = where is None
        cur = pysource.cursor(con, source, rereads=True)
        try:
            # Row order decides the shuffles, the validation split and the max_train_rows sample. A connection with
            # preserve_insertion_order = false (DuckDB's advice for large loads) gets a table of several row groups in
            # another order on each parallel read, so the same call trained another model; this cursor alone reads in
            # the source's own order, the user's setting untouched.
            cur.execute("SET SESSION preserve_insertion_order = true")
            store.check_can_write(cur, f"Cannot store model {name!r}")
            described = describe(cur, source, name, caller=con)
            check_unique_names(cur, source, described, name)
            try:
                cols = choose_columns(described, features, source, cur, where)
            except BadInputError as e:  # the column checks name the column and the fix; the model is said here
                raise type(e)(f"Model {name!r}: {e}") from None  # its kind kept: the exit code
            read = [c for c, _ in cols]
            # text features (categorical.py): read as their categories' numbers, expanded to 0/1 inputs to train
            text = categorical.training_text(cur, source, where, cols, model=name)
            read_src, read_where = (source, where) if text is None else (text.source, None)
            if text is not None and features is not None:
                categorical.warn_order(name, features, read)
            X, n_rows, rising, watch = _training_rows(cur, name, read_src, read, read_where, params)

            def empty_rows(chosen: list[str], values: np.ndarray) -> tuple[int, str | None]:
                # the features chosen: values holds just them; read as a sample, the watch counted rows empty in all
                # columns read
                n = int(np.isnan(values).all(axis=1).sum()) if rising is None else watch.empty
                return n, empty_rows_filter(cur, source, where, chosen, n)

            text_named = None  # the column whose 'Total' the note on text columns gave the filter for
            compared = Compared(cur, source)
            if features is None:
                cols, X, text_named = default_features(cur, source, where, described, X, model=name, rising=rising,
                                                             empty_rows=empty_rows, compared=compared,
                                                             keep_constant=params.get("constant_columns") == "keep")
            else:
                warn_epoch_features(read, X, rising, model=name)
            names = [c for c, _ in cols]
            numeric = names if text is None else names[: text.layout.numeric]
            warn_cast_columns(cur, source, numeric, model=name, compared=compared)
            totals = watch.totals_row([read.index(c) for c in names])
            empty, empty_out = empty_rows(names, X)
            both = totals is not None and warn_totals_row(cur, source, where, described, names, totals, model=name,
                                                          named_by_text=text_named, empty=(empty, empty_out))
            warn_empty_rows(cur, source, where, empty, empty_out, model=name, with_totals=both,
                            columns=[c for c, _ in described])
            # a query in parentheses, so its own WHERE and the filter read as valid SQL (comments at its ends dropped)
            shown = f"({strip_sql_ends(source)})" if is_query(source) else source
            src_text = f"{shown} WHERE {where}" if where else source
            width = len(names) if text is None else text.layout.width
            _check_storable(name, AutoEncoderDetector(**params)._train_params(), width)
            # read before the file is let go: what the rows were, and whether they are a DataFrame of this session
            fp, py = rows_fingerprint(cur, read_src, names, read_where), pysource.python_names(cur)
            to_carry = _own_threshold_names(cur, name) if carry_thresholds else set()
            # A DataFrame source lives on this cursor, so the file is kept then (and it is held by no one else)
            released = held.can_release and not py
            if released:
                cur.close()
                held.release()
            t0 = time.perf_counter()
            # score_training_rows=False: the thresholds below come from the ONNX scores of every row, not the detector's
            try:
                fit_x, fit_names, fit_types = (X, names, [t for _, t in cols]) if text is None else \
                    text.fit_inputs(X, cols)
                det = AutoEncoderDetector(**params).fit(fit_x, feature_names=fit_names, sql_types=fit_types,
                                                        model_name=name, source=src_text, score_training_rows=False)
            except UnusableColumnsError as e:
                if features is not None:
                    raise
                # the user named no feature: "drop it from features" needs the list the default chose, less it
                # every column that cannot train, not only the one the error met first
                refused = [*e.columns, *(c for c in otherfeatures.unusable(
                    X, names, params.get("constant_columns") == "keep") if c not in e.columns)]
                raise type(e)(f"{e} {otherfeatures.python_hint(source, refused, e.features)}".rstrip(),
                              e.columns, e.features) from e
            warn_if_few_rows(n_rows, model=name, source=src_text)  # once the rows passed the checks of fit
            if text is not None:
                det.history_["filled_values"] = text.filled_values(X, det.history_["filled_values"])
                # each category's share of the rows (and any other value's), which the drift note compares with
                det.history_[categorical.SHARES_KEY] = text.shares(X)
            if rising is not None:  # read as a sample, X is not every row: the note goes without the flags' split
                warn_mostly_null(name, names, det.history_["filled_values"], len(X), where, dict(cols))
            warn_category_codes(name, numeric, dict(cols), X, _from_item(source))
            seconds = time.perf_counter() - t0
            onnx_bytes = to_onnx_bytes(det.graph_, width)
            rng = np.random.default_rng(0)
            sample = fit_x[rng.choice(len(fit_x), min(len(fit_x), 2000), replace=False)]
            specs = det.specs_ if text is None else text.stored(det.specs_)
            # Thresholds come from the ONNX scores as SQL computes them (rows with missing values included, see
            # missing.fill_missing), so SQL compares exactly what it computes.
            scorer = LoadedModel(ModelRecord(name=name, version=0, kind=kind, features=specs, onnx=onnx_bytes))

            def session() -> Any:  # the parity check's session scores the rows after it: the graph loaded once
                sess, row_bytes = load_session(onnx_bytes, model=name, n_features=width)
                scorer.use_session(sess, row_bytes)
                return sess

            parity = parity_check(det.graph_, onnx_bytes, sample, model=name, session=session)
            if rising is None:
                train_scores = scorer.scores(fit_x, bulk=True).astype(np.float64)
                # said with the share of the default threshold's flags the rows with a value take (before storing,
                # so that under -W error nothing is stored)
                warn_mostly_null(name, names, det.history_["filled_values"], len(X), where, dict(cols),
                                 flags=flag_split(X, names, train_scores, det.train_params_.contamination))
            if released:
                con = held.take_back(name, det.train_params_.progress)
                cur = pysource.cursor(con, source, rereads=True)
                cur.execute("SET SESSION preserve_insertion_order = true")
                _warn_if_rows_changed(cur, name, read_src, names, read_where, fp)
            if rising is not None:  # the source was read as a sample: score every row in a second pass, holding one batch at a time
                del X, fit_x
                train_scores = _all_scores(scorer, cur, read_src, names, read_where, n_rows, det.train_params_.progress,
                                           None if text is None else text.layout.expand)
            p = det.train_params_
            metrics = {
                "train_seconds": round(seconds, 3),
                "parity_max_abs_diff": parity,
                "train_score_mean": float(train_scores.mean()),
                # what a detector loaded from_store reads for predict_proba / predict_confidence (may reorder too)
                **trainscores.stored_summary(train_scores, p.contamination),
                # the top 0.1% of the scores exactly, where a cut read off the plot lies (scoretail)
                **scoretail.stored(train_scores),
                # own=True from here on: the quantiles may reorder train_scores (the mean above is taken first)
                "score_quantiles": thresholds.score_quantiles(train_scores, own=True),
                # what the training rows were, so evaluating on them can be pointed out (_training_overlap)
                "train_source": source, "train_where": where, **relfiles.training_folder(source),
                **({"train_fingerprint": fp} if fp else {}),
                # a DataFrame's name in the training session, not a table: show says so beside the retrain call
                **({"train_source_python": py} if py else {}),
                **det.history_,
            }
            rec = ModelRecord(
                name=name, version=0, kind=kind, features=specs, onnx=onnx_bytes, source=src_text, train_rows=len(train_scores),
                params=dict(p.__dict__) | {"robust": det.history_["robust"]},
                metrics=metrics,
                lib_versions=_lib_versions() | ({} if text is None else {readers.KEY: readers.TEXT_FEATURES}),
                thresholds=thresholds.from_training_scores(train_scores, p.contamination, src_text, own=True),
            )
            rec.params["hidden_dims"], rec.params["latent_dim"] = det.history_["hidden_dims"], det.history_["latent_dim"]
            # The version number read here is the one stored: another thread's store of the name waits (saving), so
            # the carried thresholds' notes name the version they end up on.
            with store.saving(name):
                if carry_thresholds:
                    store.ensure_schema(cur)  # a first training into a new database has no ad_models to number from
                    version = store.next_version(cur, name)
                    carried, goals, from_files = carried_thresholds(cur, name, train_scores,
                                                                    metrics["score_quantiles"], version=version,
                                                                    promote=promote)
                    if from_files:  # kept to show at the next retrain, as the carried cuts' own goals are
                        rec.metrics[filegoals.IMPORTED] = from_files
                    rec.thresholds += carried
                    rec.carried = {t.name for t in carried}
                    _warn_if_not_carried(cur, name, version, to_carry - {t.name for t in carried})
                    if goals:
                        choose_goals_again(con, rec, goals, version, det.train_params_.progress, promote)
                # Why before the rows are written: under -W error / PYTHONWARNINGS=error the warning ends the training,
                # and then nothing may be stored (it was said after the save: the command failed, its version stayed).
                # a staged version (promote=False) changes nothing for queries of the bare name
                store.save(cur, rec, promote=promote,
                           before_insert=(lambda r: _warn_train_changes(cur, r)) if promote else
                           (lambda r: warn_if_code_sizes_left_out(cur, r)))
        finally:
            cur.close()
        refresh_functions(con, changed_only=True)  # the versions loaded before are kept as they are
        return ModelInfo.of(rec)
    except BaseException as e:
        held.close(failed=True)
        if interrupts.signalled(e):  # as in score (interrupts.raised_as_interrupt): a Ctrl-C during the read
            raise interrupts.as_interrupt(f"ad_duckdb.train with {name!r}") from e
        raise
    finally:
        held.close()
        catalognames.GIVEN_PATH.reset(given_path)


def _check_new_version_name(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """``store.check_name``; for a name an older release stored (it allowed 'fraud.onnx'), the way to move it.

    Why: "name it without the ending" alone read as if the model did not exist, and the user's queries, thresholds
    and pinned versions all hang on the stored name.
    """
    try:
        store.check_name(name)
    except BadInputError:
        if not isinstance(name, str):
            raise
        cur = interrupts.cursor(con)
        try:
            versions = store.known_models(cur).get(name)
            row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        finally:
            cur.close()
        if not versions:
            raise
        db = shlex.quote(row[0][0]) if row and row[0][0] else "DB"
        new, last = store.name_without_onnx(name), max(versions)
        file = shlex.quote(f"{new}_v{last}.onnx")
        raise BadInputError(
            f"Model name {name!r} is stored ({name}@{last}, by an older ad_duckdb, which allowed names ending in "
            "'.onnx') and still scores, but no new version can be stored under it: register(models=...) and the dbt "
            f"plugin's 'models' read such a name as an exported file. Move the model to a name without the ending, "
            f"thresholds included: ad-duckdb export {db} {shlex.quote(name)} {file}, then ad-duckdb import {db} "
            f"{file} --name {new}; train {new!r} from then on and change the queries to anomaly_score({new!r}, ...) "
            f"(drop {name!r} once nothing calls it)."
        ) from None


def _training_rows(cur: Any, name: str, source: str, names: list[str], where: str | None,
                   params: dict[str, Any]) -> tuple[np.ndarray, int, np.ndarray | None, TotalsWatch]:
    """The rows to train on, the source's row count, (read as a sample) which columns rise row by row, and what
    finds a totals row among all the rows read.

    Why a sample for a source above ``max_train_rows``: training uses that many rows at most, and holding every
    row only to score it for the thresholds cost memory in proportion to the table (10M rows x 6 columns:
    1.2 GB). Such a source is read once for the sample ``AutoEncoderDetector.fit`` would draw, and once more, a
    batch at a time, for the thresholds: the same model and thresholds, holding ``max_train_rows`` rows.
    """
    from .detector import AutoEncoderDetector

    p = AutoEncoderDetector(**params)._train_params()  # validated before any row is read
    who = f"Model {name!r}"
    p.check_code(len(names), who)
    n = count_rows(cur, source, names, where, who=who)
    if n <= p.max_train_rows:
        X = load_matrix(cur, source, names, where, n=n, who=who)
        watch = TotalsWatch(len(names))
        watch.add(X)
        return X, len(X), None, watch
    # Why progress here too: this pass and _all_scores' read every row, 4 s each at 5M rows, a minute at 50M, on either
    # side of the steps' own progress lines
    bar = progress_rows(f"training {name}: reading rows for a sample", p.progress, n)
    try:
        sample = TrainingSample(cur, source, names, where, n=n, size=p.max_train_rows, seed=p.seed, who=who, bar=bar)
    finally:
        bar.close()
    return sample.rows, sample.n_read, sample.rising, sample.totals


def _all_scores(scorer: LoadedModel, cur: Any, source: str, names: list[str], where: str | None,
                n: int, progress: bool, inputs: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Every row's score, read a batch at a time, into one array of the ``n`` rows the sample pass read.

    Why not a list of batches concatenated: that held the scores twice (20M rows: 2 x 160 MB at the peak).
    """
    out = np.empty(n)
    at = 0
    bar = progress_rows(f"training {scorer.rec.name}: scoring every row for the thresholds", progress, n)
    try:
        for M in feature_batches(cur, source, names, where, who=f"Model {scorer.rec.name!r}"):
            s = scorer.scores(M if inputs is None else inputs(M), bulk=True)
            if at + len(s) > len(out):  # a source that returned more rows this time (random(), a sample): keep them
                out = np.concatenate([out[:at], np.empty(max(len(s), len(out) // 2))])
            out[at:at + len(s)] = s
            at += len(s)
            bar.advance(len(s))
    finally:
        bar.close()
    return out[:at]


# train's own keywords, and names users type for them (columns= is score's word for the columns it keeps)
_TRAIN_KEYWORDS = ("features", "where", "kind", "carry_thresholds", "wait", "promote")
_TRAIN_OTHER_NAMES = {"columns": "features", "cols": "features", "feature_columns": "features",
                      "feature_names": "features", "filter": "where", "model_kind": "kind"}


def _check_storable(name: str, p: Any, d: int) -> None:
    """Refuse, before training, a network whose weights alone are over the size a stored model may take.

    Why here and not as a bound on hidden_dims: the size grows with hidden_dims, the feature count and n_models
    together, and the detector, which stores nothing, has no such limit; a model over it trained in full (hours for
    hidden_dims=(3000, 3000)) and was then refused with "raise AD_DUCKDB_MAX_MODEL_BYTES if you trust it"."""
    size, limit = p.weight_bytes(d), store.max_model_bytes()
    if size <= limit:
        return
    hidden = p.sizes(d)[0]
    members = f" x n_models={p.n_models}" if p.n_models > 1 else ""
    default = type(p)().sizes(d)[0]
    raise BadInputError(
        f"Model {name!r}: hidden_dims={hidden} on {d} features{members} makes {size / 2**20:.1f} MB of weights, over "
        f"the limit of {limit / 2**20:.1f} MB a stored model may take (AD_DUCKDB_MAX_MODEL_BYTES), so it could not "
        f"be stored once trained. Train narrower layers (the default for {d} features is {default})"
        f"{' or fewer members' if members else ''}, or raise AD_DUCKDB_MAX_MODEL_BYTES in every process that loads "
        "this database (it is the limit each checks a model against).")


def _check_kind(name: str, kind: str, params: dict[str, Any]) -> None:
    """``kind`` decides whether the model is variational; a ``variational=`` saying otherwise is refused, as the
    stored kind would then misdescribe the model. Sets ``variational`` in ``params`` from ``kind``."""
    if kind not in ("autoencoder", "vae"):
        raise BadInputError(f"Model kind {kind!r} is not available; use kind='autoencoder' (default) or 'vae'.")
    wanted = kind == "vae"
    sizes = params.get("code_sizes")
    if wanted and isinstance(sizes, list | tuple):  # said here, in train's spelling: the detector's says variational=
        from .trainer import vae_code_sizes

        why = vae_code_sizes(tuple(sizes), "kind='vae'", "train kind='autoencoder'")
        raise OptionError(f"Model {name!r}: {why}")
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
        raise BadInputError(f"{what}: {optionwords.either(f'{arg}=', f'{flag} COLUMN')} takes a column name or a list of column names, e.g. "
                            f"['transaction_id', 'amount']; got {value!r}.")
    return names


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
# what outputs= may name: the default three, and the opt-in anomaly_mse (mse=True) after them
OUTPUTS_ALLOWED = (*SCORE_OUTPUTS, MSE_COLUMN)


def _kept_sql(cols: list[tuple[str, str]], kept: Sequence[str], lm: LoadedModel, source: str) -> str:
    """The select list of the source columns to keep beside the scores (``cols``: the source's, from ``describe``)."""
    known = {c.lower() for c, _ in cols}
    missing = [c for c in kept if c.lower() not in known]
    if missing:
        raise SourceNotFoundError(
            f"Scoring with {lm.ref!r}: {optionwords.opt('columns', flag='column')} names {missing}, not in {source!r} (its columns: "
            f"{sql_names(c for c, _ in cols)}).{did_you_mean(missing[0], [c for c, _ in cols])} Name columns of the "
            f"source to keep beside the scores, or leave {optionwords.opt('columns', flag='column')} out to keep them "
            "all."
        )
    lowered = [c.lower() for c in kept]
    twice = next((kept[lowered.index(c)] for i, c in enumerate(lowered) if lowered.index(c) < i), None)
    if twice is not None:  # DuckDB would keep it twice, the second as <name>_1
        raise OptionError(f"Scoring with {lm.ref!r}: {optionwords.opt('columns', flag='column')} names {twice!r} twice; list each column once.")
    return ", ".join(quote_ident(c) for c in kept)


def _kept_select(cols: list[tuple[str, str]], kept: Sequence[str], written: set[str], ours: set[str],
                 lm: LoadedModel, source: str) -> str:
    """The select list of the source columns kept beside the ``written`` score columns: ``kept``, or all of them.

    Re-scoring a scored table: its old score columns give way to the new ones (rather than sitting under the
    expected names while the new values land in anomaly_score_1, ...), but only those an earlier scoring wrote
    (``ours``, from ``scorecols.earlier_scores``); a column of the user's under a name the scores take (a label
    called is_anomaly) is refused, never replaced.
    """
    present = {c.lower() for c, _ in cols}
    if kept:
        # a score name the source lacks is written anyway; an earlier scoring's gives way to the new column
        chosen = [c for c in kept if not (c.lower() in SCORE_COLUMNS
                                          and (c.lower() not in present or c.lower() in ours & written))]
        if not chosen:
            raise BadInputError(f"columns={list(kept)!r} names only score columns, which scoring writes anew; "
                                "name columns of the source to keep, e.g. columns=['transaction_id'].")
        keeps = {c.lower() for c in chosen}
    else:
        keeps = present - ours
    own = [(c, t) for c, t in cols if c.lower() in written - ours and c.lower() in keeps]
    if own:
        raise refusal(lm.ref, source, own)
    if kept:
        return _kept_sql(cols, chosen, lm, source)
    stale = [c for c, _ in cols if c.lower() in ours]
    return f"* EXCLUDE ({', '.join(quote_ident(c) for c in stale)})" if stale else "*"


def _wide_number(sql_type: str) -> bool:
    """A HUGEINT, UHUGEINT or DECIMAL wider than 18 digits: a type that Arrow holds in 128 bits."""
    t = sql_type.upper().replace(" ", "")
    return t in ("HUGEINT", "UHUGEINT") or (t.startswith("DECIMAL(") and int(t[8:].split(",")[0].rstrip(")")) > 18)


def score_cut(con: duckdb.DuckDBPyConnection, lm: LoadedModel, model: str, threshold: str,
              outputs: Sequence[str]) -> float:
    """The score ``is_anomaly`` is cut at (infinite where it is not an output)."""
    # the same refusal as SQL's is_anomaly_at when the model has no such threshold, never all False
    try:
        return lm.threshold(threshold) if "is_anomaly" in outputs else np.inf
    except ThresholdNotFoundError as e:
        if numbercut.as_number(threshold) is None:
            raise
        raise ThresholdNotFoundError(numbercut.hint(con, model, threshold)) from e  # --threshold 0.02


def scoring_select(cur: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection, lm: LoadedModel, source: str,
                   kept: Sequence[str], written: set[str], lossless: bool,
                   source_types: dict[str, str] | None) -> tuple[str, list[str], set[str]]:
    """The query ``_scored_batches`` reads ``source`` with, on ``cur`` (whose session it sets as the read needs):
    the kept columns, then each feature as ``__ad_f<i>``; with the features and the kept columns that are an
    earlier scoring's (marked again). ``written``: the columns the scoring writes (refused in the source)."""
    # Why smaller than DuckDB's 10 MiB: the read-ahead thread (_prefetched) already overlaps the scan with
    # scoring, so a larger buffer only holds more rows in memory. A setting of this cursor alone. Measured
    # (bench/speed.py data from Parquet): 10M rows at d=2, peak RSS 301-306 -> 296-297 MiB; 3M rows at d=30,
    # 737-753 -> 686-731 MiB; the same speed.
    cur.execute("SET streaming_buffer_size = '2MiB'")
    if lossless:
        # SESSION: a bare SET of this option is global in DuckDB, and it stayed on for every connection to the
        # database after a scoring, the user's own .arrow() then giving a HUGEINT as 16 raw bytes
        cur.execute("SET SESSION arrow_lossless_conversion = true")
    cols = describe(cur, source, lm.ref, caller=con)
    if source_types is not None:
        source_types.update((c.lower(), t) for c, t in cols)
    feats = feature_columns(cols, lm, source, cur)
    check_text_features(cur, cols, feats, lm, source)
    ours = earlier_scores(cur, source, cols)
    extra_sql = _kept_select(cols, kept, written, ours, lm, source)
    carried = ours - written  # kept beside the new scores: marked again (score)
    # Why DuckDB casts the 128-bit types to DOUBLE here, as the SQL functions' DOUBLE arguments have it cast:
    # a UHUGEINT arrives in Arrow as decimal128(38, 0), wrapping values from 2^127 up to negatives (2^128 - 1
    # scored as -1); a HUGEINT under lossless as two 64-bit halves; and pyarrow's cast of a wide decimal to
    # float64 can be one unit in the last place off DuckDB's (9 of 20,000 DECIMAL(38, 18) values).
    casts = {c.lower(): "DOUBLE" for c, t in cols if _wide_number(t)}
    fsql = ", ".join(
        f"{f'CAST({quote_ident(f)} AS {casts[f.lower()]})' if f.lower() in casts else quote_ident(f)} "
        f"AS {quote_ident(f'__ad_f{i}')}" for i, f in enumerate(feats))
    return f"SELECT {extra_sql}, {fsql} FROM {source_sql(source)}", feats, carried


def _scored_batches(con: duckdb.DuckDBPyConnection, model: str, source: str, kept: Sequence[str] = (),
                    batch_rows: int = 65536, explain: bool = False, outputs: Sequence[str] = SCORE_OUTPUTS,
                    tally: list[DriftTally] | None = None, adds: Sequence[str] = (),
                    lossless: bool = False,
                    source_types: dict[str, str] | None = None,
                    watch: ScoredTop | None = None,
                    imputed: bool = True,
                    model_column: bool = False,
                    threshold: str = "default") -> tuple[LoadedModel, Any, Any, list[BaseException]]:
    """A reader of (the ``kept`` source columns, or all of them, the chosen ``outputs``[, anomaly_explain,
    anomaly_imputed]), its
    closer, and a list that receives the error the reader stopped on. ``tally``: a list that receives the
    ``DriftTally`` the batches are counted into, for the drift note (``_drift_note``) once all are read.
    ``adds``: names the caller adds to the rows itself, refused in the source as the outputs' are (``_kept_select``).
    ``lossless``: the kept columns come as DuckDB's lossless Arrow types (``arrow_lossless_conversion``), for a
    caller that writes them back into DuckDB (``score(into=)``): by default a UHUGEINT above 2^127 wraps to a
    negative number, a TIME WITH TIME ZONE loses its offset and a BIT arrives as the bytes it is stored in.
    ``source_types``: a dict that receives each source column's SQL type, by its lowercased name.
    ``watch``: receives each batch's feature columns and scores (the CLI's note on a totals row scored at the top).
    ``imputed``: with ``explain``, also anomaly_imputed (False: appending to a table an earlier release wrote without it).
    ``model_column``: last, ``MODEL_COLUMN``, the version that scored the rows (``lm.ref``) in each.
    ``threshold``: the stored threshold ``is_anomaly`` is read at, as ``is_anomaly_at`` reads it.

    Call the closer when done, also after an error: it stops the read-ahead thread and closes the cursor
    at once instead of whenever the garbage collector reaches an abandoned reader. Why the list: DuckDB,
    reading the batches, reports our error (or a Ctrl-C) as "reading the stream failed" with a traceback
    in the text; the caller raises the original instead.
    """
    lm = registry(con).get(model)
    counted = DriftTally(lm)
    if tally is not None:
        tally.append(counted)
    cut = score_cut(con, lm, model, threshold, outputs)
    cur = pysource.cursor(con, source)
    try:
        written = {*outputs, *explained_columns(explain, imputed), *([MODEL_COLUMN] if model_column else []), *adds}
        select, feats, carried = scoring_select(cur, con, lm, source, kept, written, lossless, source_types)
        reader = cur.sql(select).to_arrow_reader(batch_rows)
    except BaseException as e:
        cur.close()  # no reader holds it yet: an error here must not leave it (and the file) open
        # a source small enough to fail in its first batch fails here, not mid-stream: the same words as there
        known = read_error(f"Scoring with {lm.ref!r}", source, e) if isinstance(e, duckdb.Error) else None
        if known:
            raise known from e
        raise
    n_keep = len(reader.schema) - len(feats)
    keep_fields = [f.with_metadata({CARRIED: b"1"}) if f.name.lower() in carried else f
                   for f in (reader.schema.field(i) for i in range(n_keep))]
    types = {"anomaly_score": pa.float64(), "anomaly_percentile": pa.float64(), "is_anomaly": pa.bool_(),
             MSE_COLUMN: pa.float64()}
    out_fields = [*keep_fields, *(pa.field(o, types[o]) for o in outputs)]
    if explain:
        from .frames import IMPUTED_TYPE
        from .udfs import EXPLAIN_TYPE

        out_fields.append(pa.field("anomaly_explain", EXPLAIN_TYPE))
        if imputed:
            out_fields.append(pa.field("anomaly_imputed", IMPUTED_TYPE))
    if model_column:
        out_fields.append(pa.field(MODEL_COLUMN, pa.string()))
    schema = pa.schema(out_fields)
    failed: list[BaseException] = []

    # read here, in the caller's context: DuckDB pulls the batches on threads of its own, where it is not set
    memo = scoreahead.active()

    def gen() -> Any:
        batches = _prefetched(reader, cur)
        try:
            for batch in batches:
                columns = [batch.column(n_keep + i) for i in range(len(feats))]
                X = to_matrix(columns, lm, "score")
                hit = memo.take(lm, cut, outputs, explain, X, columns) if memo is not None else None
                s64, computed = hit if hit is not None else batch_outputs(lm, X, columns, outputs, explain, imputed,
                                                                          cut)
                if hit is not None and explain and not imputed:
                    computed = computed[:-1]  # scored ahead with anomaly_imputed, which this table has not
                counted.add(X, s64)
                if watch is not None:
                    watch.add(columns, s64)
                arrays = [*(batch.column(i) for i in range(n_keep)), *computed]
                if model_column:
                    arrays.append(pa.repeat(pa.scalar(lm.ref, pa.string()), batch.num_rows))
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


def batch_outputs(lm: LoadedModel, X: np.ndarray, columns: Sequence[Any], outputs: Sequence[str], explain: bool,
                  imputed: bool, cut: float) -> tuple[np.ndarray, list[pa.Array]]:
    """One batch's scores (float64) and its computed columns: ``outputs`` in order, then with ``explain``
    anomaly_explain and (``imputed``) anomaly_imputed. ``X``: the batch's feature matrix, from ``columns``, its
    feature columns as read. The costly part of scoring (``scoreahead`` does it before the file is locked)."""
    from .udfs import explain_rows, imputed_rows

    if explain:
        s, fe, taken = lm.attribution_as_scored(X, bulk=True)
    else:
        s, fe, taken = lm.scores(X, bulk=True), None, X
    s64 = s.astype(np.float64)
    arrays: list[pa.Array] = []
    for o in outputs:
        if o == "anomaly_score":
            arrays.append(to_arrow(s64, pa.float64()))
        elif o == "is_anomaly":
            arrays.append(to_arrow(s64 > cut, pa.bool_()))
        elif o == MSE_COLUMN:  # the values of the SQL function anomaly_mse, from its own pass
            arrays.append(to_arrow(msevalues.mse(lm, X)[1], pa.float64()))
        else:
            # Why in halves on the pool: np.interp releases the GIL, and it is a fifth of the work at d=2.
            arrays.append(to_arrow(np.concatenate(list(ort_pool().map(lm.percentile, np.array_split(s64, 2)))),
                                   pa.float64()))
    if fe is not None:
        arrays.append(explain_rows(lm, fe))
        if imputed:
            arrays.append(imputed_rows(lm, X, taken, [] if lm.layout is None else columns[lm.layout.numeric:]))
    return s64, arrays


def explained_columns(explain: bool, imputed: bool = True) -> list[str]:
    """The columns ``explain=True`` adds to the scores: the shares and (``imputed``) the values NULLs were scored at."""
    return (["anomaly_explain", "anomaly_imputed"] if imputed else ["anomaly_explain"]) if explain else []


def written_beside(explain: bool, imputed: bool, model_column: bool) -> list[str]:
    """The columns scoring writes after its outputs: the explanation ones (``explained_columns``), the model column."""
    return [*explained_columns(explain, imputed), *([MODEL_COLUMN] if model_column else [])]


@interrupts.said_as_interrupt("score")
@attachedmodels.names_the_file
@indexcols.keeps_index
def score(
    con: duckdb.DuckDBPyConnection,
    model: str,
    source: str,
    into: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    explain: bool = False,
    replace: bool = False,
    append: bool = False,
    batch_rows: int = 65536,
    outputs: Sequence[str] = SCORE_OUTPUTS,
    mse: bool = False,
    progress: bool = False,
    model_column: bool = False,
    replace_partition: Sequence[str] | str | None = None,
    threshold: str = "default",
    replace_where: str | None = None,
    _added_top: AddedTop | None = None,
    _scored_top: ScoredTop | None = None,
    _replaced: list[int] | None = None,
) -> pa.Table | int:
    """Score every row of ``source`` in large Arrow batches.

    With ``into``, writes a table of the kept columns plus ``outputs`` (default ``anomaly_score``,
    ``anomaly_percentile``, ``is_anomaly``; any non-empty subset, in that order) and, if ``explain``,
    ``anomaly_explain`` and ``anomaly_imputed`` (each NULL feature's value as the row was scored; NULL where none
    was missing; a table an earlier release scored with explain and lacks it is appended to without it),
    in one transaction, and returns the row count (an existing table is refused unless ``replace=True``, which
    overwrites it); without it, returns the scored rows as a pyarrow Table (the
    source's columns, or ``columns``, then ``outputs``): ``.to_pandas()`` makes it a pandas DataFrame (with pandas
    installed), ``polars.from_arrow(t)`` a polars one. A notebook prints the Table itself column by column.

    ``append=True`` (an incremental job: each run scores the rows that came since the last) adds the rows to the
    ``into`` table instead, by column name, all or none, and returns how many were added; it creates the table on
    the first run. The table must have the columns this scoring writes, no more and no fewer (the same
    ``columns``, ``outputs`` and ``explain`` as the run that created it), each of a type the new values convert to
    without loss (a BIGINT column takes INTEGER ids, not the other way round; a DOUBLE column takes BIGINT or
    DECIMAL(18,0) ids it holds exactly, and one it would change, above 2^53, fails the run and adds no row). The
    source may read the table, e.g. ``WHERE id > (SELECT coalesce(max(id), -1) FROM scores)``, and reads it as it
    was before the run.

    ``replace_partition=["day"]`` (CLI: ``--replace-partition day``; a name or a list of names: a nightly job
    re-scoring one day, ``WHERE day = '2026-12-01'``, into its history table) adds the rows as ``append=True`` does,
    and deletes the rows the table held whose values of those columns equal a new row's (NULL matching NULL), in the
    same transaction: a rerun or backfill of a day replaces that day's scores and leaves the other days as they are.
    The new rows are scored into a temporary table first, so a failure at any point (a row the source cannot read, a
    constraint of the table) leaves the table as it was. A run that scores no rows replaces none (the table keeps the
    day's earlier rows: use ``replace_where`` where that matters). The columns must be among those written (kept by
    ``columns=``). ``_replaced`` gets the rows deleted.

    ``replace_where="day = DATE '2026-12-01'"`` (CLI: ``--replace-where``; a condition on the ``into`` table's
    columns, checked as ``where=`` is: one condition) does the same with the rows the condition selects: they are
    deleted whatever the run scores, so a day whose source is now empty is emptied, not left with its earlier scores.
    Every new row must be one the condition selects (else the run is refused, the table as it was): the source
    selects the same rows, ``... WHERE day = DATE '2026-12-01'``. Not with ``replace_partition`` or ``replace``.

    ``threshold="c2"`` (CLI: ``--threshold c2``) reads ``is_anomaly`` at that stored threshold, as
    ``is_anomaly_at('tx_ae', 'c2', ...)`` does, instead of at ``default``: BigQuery ML's ``ML.DETECT_ANOMALIES(MODEL
    tx_ae, STRUCT(0.02 AS contamination), TABLE t)`` is ``set_threshold(con, "tx_ae", "c2", "contamination",
    target=0.02)`` once, then ``score(con, "tx_ae", "t", threshold="c2")``.

    ``model_column=True`` (CLI: ``--model-column``) adds a last column, ``anomaly_model``, holding the version that
    scored each row (``'tx_ae@3'``, also when ``'tx_ae'`` was asked for): a history table appended to across
    retrains then says which version scored which rows. Off by default; a table appended to must have the column
    if and only if the run writes it (``ALTER TABLE t ADD COLUMN anomaly_model VARCHAR`` adds it to one written
    without). Re-scoring a table replaces an earlier scoring's ``anomaly_model``, or without the option leaves it out.

    ``mse=True`` (CLI: ``--mse``) adds ``anomaly_mse`` after the outputs (also named in ``outputs=``): each row's mean
    squared reconstruction error over the features, in units of a typical training row's (about 1 for one), the
    values the SQL function ``anomaly_mse`` gives: BigQuery ML's ``mean_squared_error`` column of
    ``ML.DETECT_ANOMALIES``. Off by default (it costs a second scoring pass); a table appended to has the column if
    and only if the run writes it.

    ``model``: ``'name'`` (its latest version) or ``'name@N'``. ``batch_rows``: rows read and scored at a time
    (default 65536), which bounds the memory a large source takes. ``progress=True``: the rows scored so far on
    stderr while it runs (a bar on a terminal, shown after 2 s; in a log, a line every 30 s); the CLI's
    ``score --into`` does so unless ``--quiet``.

    Examples
    --------
    >>> import ad_duckdb
    >>> con = ad_duckdb.connect()
    >>> _ = con.execute("CREATE TABLE tx AS SELECT range AS id, 1 + range % 20 AS count, "
    ...                 "(1 + range % 20) * (20 + range % 7) AS amount FROM range(1000)")
    >>> _ = ad_duckdb.train(con, "tx_ae", "tx", features=["count", "amount"], progress=False)
    >>> df = ad_duckdb.score(con, "tx_ae", "tx").to_pandas()
    >>> list(df.columns)
    ['id', 'count', 'amount', 'anomaly_score', 'anomaly_percentile', 'is_anomaly']
    >>> df.nlargest(5, "anomaly_score")  # doctest: +SKIP
    >>> ad_duckdb.score(con, "tx_ae", "tx", into="tx_scores", columns=["id"])
    1000
    >>> _ = con.execute("INSERT INTO tx SELECT 1000 + range, 3, 75 FROM range(5)")
    >>> ad_duckdb.score(con, "tx_ae", "SELECT * FROM tx WHERE id > (SELECT max(id) FROM tx_scores)",
    ...                 into="tx_scores", columns=["id"], append=True)
    5
    >>> con.close()
    """
    con = check_connection(con, "score")
    bad = [o for o in outputs if o not in OUTPUTS_ALLOWED]
    if bad or not outputs or isinstance(outputs, str):
        explained = (f"; anomaly_explain comes with {optionwords.opt('explain', True)}"
                     if not isinstance(outputs, str) and "anomaly_explain" in outputs else "")
        raise BadInputError(f"outputs must be a non-empty list drawn from {list(OUTPUTS_ALLOWED)}; got {outputs!r}"
                            f"{explained}.")
    outputs = [o for o in OUTPUTS_ALLOWED if o in outputs or (mse and o == MSE_COLUMN)]
    if not isinstance(threshold, str):  # BigQuery ML's STRUCT(0.02 AS contamination) is a number in the call
        raise BadInputError(numbercut.hint(con, model, threshold))
    kept = _kept_columns(model, columns)
    if not isinstance(batch_rows, int) or isinstance(batch_rows, bool) or batch_rows < 1:
        raise BadInputError(f"Scoring with {model!r}: batch_rows= must be a positive int (rows per Arrow batch; "
                            f"default 65536); got {batch_rows!r}.")
    if isinstance(into, str):  # after the caller's USE: the table its own CREATE TABLE makes, or the one it finds
        into = callerview.into_caller_schema(con, into)
    check_replace(into, replace, f"Scoring with {model!r}", append)
    partition = partitionreplace.columns(f"Scoring with {model!r}", into, replace_partition, replace)
    where = replacewhere.condition(f"Scoring with {model!r}", into, replace_where, replace, partition)
    # the rows are added as by append=True, beside the partitions (the rows the condition does not select) kept
    append = append or bool(partition) or where is not None
    left_out = pysource.index_left_out(source)
    if left_out:
        notes.warn(f"Scoring with {model!r}: {left_out}")
    # an incremental run's rows are read and added while no other run of this process appends to the table
    with interrupts.raised_as_interrupt("score", model), (
            one_append_at_a_time(con, into) if append and into is not None else contextlib.nullcontext()), \
            firstappend.Placeholder(con) as first:
        held = None
        if into is not None:
            # Checked before the reader exists: an unconsumed reader would hold its cursor (and the file) open.
            check_target(con, into, replace, source, in_place=not columns, append=append)
            held = table_columns(con, into) if append else None
            # the threshold the rows held are flagged at (read now: the reader below holds con's result open)
            cut_held = flagcut.held_cut(con, into) if held is not None else None
            if where is not None and held is not None:  # a condition the table cannot read fails before any scoring
                replacewhere.check_target(con, f"Scoring with {model!r}", table_sql(into), into, where)
        tally: list[DriftTally] = []
        types: dict[str, str] = {}
        repeats: list[tuple[str, int]] = []  # an appended run's rows whose id the table held: (id column, rows)
        try:
            # a table an earlier release scored with explain has no anomaly_imputed: its rows are added as they were
            imputed = held is None or "anomaly_imputed" in {c.lower() for c in held}
            lm, reader, close, failed = _scored_batches(con, model, source, kept, batch_rows, explain, outputs, tally,
                                                        lossless=into is not None, source_types=types, watch=_scored_top,
                                                        imputed=imputed, model_column=model_column,
                                                        threshold=threshold)
        except (AdDuckDBError, duckdb.Error) as e:
            if not (append and into is not None and held is None and firstappend.reads_missing(into, e)):
                raise
            # the first run of a job whose source reads the table: made empty, the source reads it as before the run
            if not first.make(into, source, kept, [*outputs, *written_beside(explain, True, model_column)]):
                firstappend.refuse_types(into, source, model, first.failure)
                first_append_error(into, source, model, e)
                raise
            try:
                lm, reader, close, failed = _scored_batches(con, model, source, kept, batch_rows, explain, outputs,
                                                            tally, lossless=True, source_types=types,
                                                            watch=_scored_top, model_column=model_column,
                                                            threshold=threshold)
            except (AdDuckDBError, duckdb.Error) as again:
                if "Binder Error" in str(again):  # it reads a column of the table the run does not write
                    first_append_error(into, source, model, e)
                raise
        checked: dict[str, tuple[str, str, str]] = {}
        if partition and into is not None:
            try:
                partition = partitionreplace.check_written(f"Scoring with {lm.ref!r}", into, partition,
                                                           reader.schema.names)
            except BaseException:
                close()
                raise
        if into is not None and held is not None:
            try:
                check_append_columns(into, held, reader.schema.names, lm.ref, source, types)
                # the types the new rows are written as: the scores' own, each kept column's as in the source
                ours = {*outputs, *written_beside(explain, imputed, model_column)}
                checked = check_append_types(con, into, table_types(con, into), {
                    c: SCORE_TYPES[c] if c in ours else types[c.lower()] for c in reader.schema.names
                    if c in ours or c.lower() in types}, lm.ref)
                check_append_values(con, source, checked, into, lm.ref)
            except BaseException:
                close()
                raise
        bar = progress_rows(f"scoring {f'into {into} ' if into is not None else ''}with {lm.ref}", progress)
        out: pa.Table | None = None
        try:
            reader = _counted(reader, bar, failed)
            if into is None:
                try:
                    out = reader.read_all()
                except OSError as e:  # DuckDB's error reading the source, as pyarrow passes it on
                    if failed:
                        raise
                    raise (read_error(f"Scoring with {model!r}", source, e)
                           or passed_on_error(f"Scoring with {model!r}", source, e)) from e
                finally:
                    close()
            else:
                n = _write_scores(con, model, source, into, reader, close, failed, lm, types, checked, held, outputs,
                                  written_beside(explain, imputed, model_column), _added_top, repeats,
                                  partition, _replaced, where, (cut_held, threshold))
        finally:
            bar.close()
    _drift_note(tally, source)  # after the commit: the scores are written whether or not the note is an error
    if repeats and into is not None and out is None:
        notes.warn(appendrepeats.note(into, repeats[0][0], repeats[0][1], n, partition, table_types(con, into)))
    if out is None:
        return n
    # a frame by its name alone: its row labels, so that .to_pandas() joins back to it (indexcols.with_row_labels)
    frame = pysource.named_frame(source)
    return out if frame is None else indexcols.with_row_labels(frame, out)


def _counted(reader: pa.RecordBatchReader, bar: RowProgress, failed: list[BaseException]) -> pa.RecordBatchReader:
    """``reader``'s batches, unchanged, each counted on ``bar`` as the consumer takes it. A Ctrl-C landing in this
    frame goes in ``failed`` as one in the scoring frame does: DuckDB, reading the stream, would report it as a failed
    read ("Invalid Input Error ... KeyboardInterrupt"), not as the interruption it is."""
    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                bar.advance(batch.num_rows)
                yield batch
        except (AdDuckDBError, KeyboardInterrupt) as e:
            if not failed:  # the scoring frame's own, if it came from there
                failed.append(e)
            raise

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _write_scores(con: duckdb.DuckDBPyConnection, model: str, source: str, into: str, reader: pa.RecordBatchReader,
                  close: Callable[[], None], failed: list[BaseException], lm: LoadedModel, types: dict[str, str],
                  checked: dict[str, tuple[str, str, str]], held: list[str] | None, outputs: Sequence[str],
                  explained: list[str], _added_top: AddedTop | None, repeats: list[tuple[str, int]],
                  partition: list[str] | None = None, replaced: list[int] | None = None,
                  where: replacewhere.Where | None = None,
                  cuts: tuple[str | None, str] = (None, "default")) -> int:
    """``score(into=)``'s write of ``reader``'s rows into ``into``, in one transaction; the rows written.
    ``explained``: the columns written beside ``outputs`` (``written_beside``); ``repeats``: gets, when appending,
    the id column and how many added rows repeat an id the table held (``appendrepeats``); ``partition``: the
    ``replace_partition`` columns, whose held rows of the new rows' values are deleted (``replaced`` gets how many);
    ``where``: the ``replace_where`` condition, whose held rows are deleted (likewise); ``cuts``: the threshold the
    held rows' ``is_anomaly`` is at (None: unknown) and this run's, marked on it, noted when the rows kept beside
    were written at another (``flagcut``)."""
    target = table_sql(into)
    flags = "is_anomaly" in outputs
    was, threshold = cuts if flags else (None, cuts[1])
    cut_note = ""
    if _added_top is not None:  # the CLI's --top with --append: the rows this run adds
        reader = _added_top.tee(reader)
    gone: list[int] = []  # the rows a replace_partition run deleted, told to ``replaced`` once committed
    with _scored_view(con, reader, close, failed, model, source) as cur:
        with store.transaction(cur):
            typed_sql = _source_typed(cur, types, lambda expr, c: guarded(expr, *checked[c], into, lm.ref)
                                      if c in checked else expr)
            # Why the source sees the table as before, though it may read it (the last id scored): its rows are
            # read on a cursor of their own whose query began before this transaction, and DuckDB shows a query
            # no row committed after it began, nor this transaction's uncommitted ones.
            if held is not None:
                held_types = table_types(con, into)
                ids = appendrepeats.id_candidates(held_types)
                if partition or where is not None or appendrepeats.has_own_rowid(held_types):
                    # Why staged: the partition's held rows go only once every new row is scored; and a column
                    # named rowid hides the row ids that tell the rows added from the rows held
                    added = _staged_insert(cur, target, typed_sql, ids, partition or [], repeats, gone,
                                           (lm.ref, into, where) if where is not None else None)
                else:
                    before = appendrepeats.last_rowid(cur, target) if ids else None
                    try:
                        added = cur.execute(f"INSERT INTO {target} BY NAME SELECT {typed_sql} FROM __ad_scored"
                                            ).fetchall()
                    except duckdb.InvalidInputException as e:
                        raise append_value_error(e) or e from None
                    split = appendrepeats.by_rowid(target, before) if before is not None else None
                    idcol = appendrepeats.id_column(cur, split, ids) if split is not None else None
                    if idcol is not None and split is not None and (seen := appendrepeats.repeated(cur, split, idcol)):
                        repeats.append((idcol, seen))
            else:
                gone.append(0)  # the first run of a partitioned job: the table is made
                cur.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {typed_sql} FROM __ad_scored")
                if where is not None:  # its rows are the condition's too, or the next rerun would keep some
                    replacewhere.check_rows(cur, f"Scoring with {lm.ref!r}", target, into, where)
            # the marks that tell a later re-scoring these columns are ours to replace (a user's of the name not),
            # also on an earlier scoring's column kept (columns=) but not written anew
            again = [f.name for f in reader.schema if f.metadata and CARRIED in f.metadata]
            for mark in mark_statements(target, [*outputs, *explained, *again], lm.ref,
                                        flagcut.mark_text(threshold) if flags else ""):
                cur.execute(mark)
            n = added[0][0] if held is not None else cur.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
            if flags and held is not None and was != threshold:
                kept = cur.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0] - n
                said = (flagcut.note(shown_table(into), was, threshold, int(n), int(kept)) if was is not None else
                        flagcut.unrecorded_note(shown_table(into), threshold, int(n), int(kept)))
                cut_note = said if kept and n else ""
    if replaced is not None and (partition or where is not None):
        # after the commit: a caller told of a failure after it (a note made an error) knows the rows were replaced
        replaced.append(sum(gone))
    if cut_note:  # after the commit, as the other notes of what was written
        notes.warn(cut_note)
    return int(n)


def _staged_insert(cur: duckdb.DuckDBPyConnection, target: str, typed_sql: str, ids: list[str], partition: list[str],
                   repeats: list[tuple[str, int]], replaced: list[int],
                   where: tuple[str, str, replacewhere.Where] | None = None) -> list[tuple[Any, ...]]:
    """``_write_scores``' insert through a temporary table of the scored rows: the held rows of the same
    ``partition`` values deleted (``partitionreplace``), or those ``where`` (the model's ref, the into= name, the
    ``replacewhere`` condition) selects, the repeated ids counted against the rows still held, then the rows
    inserted; DuckDB's answer to the INSERT (the rows added)."""
    staged = partitionreplace.STAGED  # a fixed name
    try:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {typed_sql} FROM __ad_scored")
    except duckdb.InvalidInputException as e:
        raise append_value_error(e) or e from None
    said = partitionreplace.not_a_partition(cur, target, partition) if partition else None
    if said:
        # in the transaction: made an error (PYTHONWARNINGS=error), it leaves the table as it was
        notes.warn(said)
    if where is not None:
        replaced.append(replacewhere.delete_held(cur, target, where[2], f"Scoring with {where[0]!r}", where[1]))
    else:
        replaced.append(partitionreplace.delete_held(cur, target, partition) if partition else 0)
    split = appendrepeats.staged(target, staged)
    idcol = appendrepeats.id_column(cur, split, ids)
    if idcol is not None and (seen := appendrepeats.repeated(cur, split, idcol)):
        repeats.append((idcol, seen))
    added = cur.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {staged}").fetchall()
    if where is not None:  # on the table: the rows the condition selects once its held ones went are the new ones
        ref, into, cond = where
        replacewhere.check_rows(cur, f"Scoring with {ref!r}", target, into, cond, int(added[0][0]))
    # made in the run's transaction: a failure before here rolls it back with the rest
    cur.execute(f"DROP TABLE {staged}")
    return added


def _source_typed(cur: duckdb.DuckDBPyConnection, wanted: dict[str, str],
                  item: Callable[[str, str], str] = lambda expr, c: expr) -> str:
    """The select list of ``__ad_scored`` that casts each kept column back to its type in the source (``wanted``, by
    lowercased name) where Arrow changed it (an ENUM arrives as text, even losslessly), so the scores table joins
    and compares as the source does. ``item``: each column's expression and name to the SQL written for it."""
    return ", ".join(
        f"{item(f'CAST({quote_ident(c)} AS {wanted[c.lower()]})', c)} AS {quote_ident(c)}"
        if c.lower() in wanted and c.lower() not in SCORE_COLUMNS and t != wanted[c.lower()] else
        f"{item(quote_ident(c), c)} AS {quote_ident(c)}" for c, t in describe(cur, "__ad_scored"))


def _drift_note(tally: list[DriftTally], source: str) -> None:
    """Warn (``AdDuckDBWarning``) when the scored rows look moved away from the training data (``drift``)."""
    note = tally[0].note(f"rows of {shown_source(source)!r}") if tally else None
    if note:
        notes.warn(f"Scoring with {tally[0].lm.ref!r}: {note}")


def top_scored(con: duckdb.DuckDBPyConnection, model: str, source: str, n: int, *,
               columns: Sequence[str] | None = None, adds: Sequence[str] = (), model_column: bool = False,
               threshold: str = "default", mse: bool = False) -> pa.Table:
    """The ``n`` highest-scoring rows of ``source`` (as ``score`` returns them, but in DuckDB's lossless Arrow types:
    ``arrow.uuid``, ``arrow.json``, opaque ``time_tz``, ...), highest first. ``adds``: column
    names the caller adds to the rows (the CLI's anomaly_explain), refused in the source as the score columns are.
    ``model_column``: also ``anomaly_model``, the version that scored the rows (as ``score``'s); ``threshold``: the
    stored threshold ``is_anomaly`` is read at (as ``score``'s); ``mse``: also ``anomaly_mse`` (as ``score``'s).

    Why not ``score(...)`` then a sort: that holds every scored row in memory to print a few (10M rows of the
    transactions example: 1.2 GiB). The scored batches stream through DuckDB's top-N instead, which keeps ``n``.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise OptionError(f"Scoring with {model!r}: {optionwords.opt('n', flag='top')} is how many of the highest-scoring rows to "
                          f"return, a whole number from 0; got {n!r}.")
    tally: list[DriftTally] = []
    # Lossless both ways: the table goes back into DuckDB (the command line prints it from there), and DuckDB's
    # default Arrow export printed a UHUGEINT of 2^128 - 1 as -1, a TIME WITH TIME ZONE without its offset.
    _, reader, close, failed = _scored_batches(con, model, source, _kept_columns(model, columns), tally=tally,
                                               adds=adds, lossless=True, model_column=model_column,
                                               threshold=threshold,
                                               outputs=[*SCORE_OUTPUTS, *([MSE_COLUMN] if mse else [])])
    with _scored_view(con, reader, close, failed, model, source) as cur:
        cur.execute("SET SESSION arrow_lossless_conversion = true")  # SESSION: see _scored_batches
        out = cur.sql(f"SELECT * FROM __ad_scored ORDER BY anomaly_score DESC LIMIT {int(n)}").to_arrow_table()
    _drift_note(tally, source)
    return out


def _kept_columns(model: str, columns: Sequence[str] | None) -> list[str]:
    """The source columns ``columns=`` keeps beside the scores (none named: all of them)."""
    columns = _column_names(f"Scoring with {model!r}", "columns", "-c", columns)
    return list(columns or ())


@contextmanager
def _scored_view(con: duckdb.DuckDBPyConnection, reader: pa.RecordBatchReader, close: Callable[[], None],
                 failed: list[BaseException], model: str, source: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on which ``_scored_batches``' reader is the view ``__ad_scored``; closes both after. DuckDB reports
    our error in a batch as a failed stream read: the original is raised instead."""
    cur = interrupts.cursor(con)
    try:
        cur.register("__ad_scored", reader)
        try:
            yield cur
        except duckdb.Error as e:
            if failed:
                raise failed[0] from None
            # the source's own read failed mid-stream: for a CSV's late 'n/a', which model, file and option; for
            # another error, the source's own words (not our stream's)
            known = read_error(f"Scoring with {model!r}", source, e) or stream_error(f"Scoring with {model!r}", source, e)
            if known:
                raise known from e
            raise
        finally:
            cur.unregister("__ad_scored")
    finally:
        cur.close()
        close()


@attachedmodels.names_the_file
def plot_scores(con: duckdb.DuckDBPyConnection, model: str, source: str, out_dir: str | Path | None = None) -> Any:
    """Write ``<model>_v<version>_scores.png`` in ``out_dir`` (``tx_ae_v1_scores.png``): a histogram of the scores
    of every row of ``source``, with each stored threshold and how many of those rows it flags; returns its path. A
    spreadsheet's totals row (the top-scored row, the sum of all the others) is left out, and the title says so.
    For choosing a threshold without labels (CLI: ``ad-duckdb score ... --plots DIR``); with labels,
    ``evaluate(plots_dir=)`` draws precision and recall.

    Without ``out_dir``, returns the matplotlib Figure instead, for a notebook (shown as a cell's value;
    ``fig.savefig(path)`` writes it). It is not registered with pyplot: ``plt.show()`` and the backend are left alone.
    """
    with interrupts.raised_as_interrupt("plot_scores", model):
        con = check_connection(con, "plot_scores")
        from . import metrics

        lm = registry(con).get(model)
        if out_dir is not None:
            metrics.plots_folder(out_dir, lm.ref)
        # one narrow column kept beside the score: the plot needs the scores only
        tally: list[DriftTally] = []
        watch = ScoredTop(len(lm.feature_names), sums=True)  # the top-scored row, for a spreadsheet's totals row
        with _scored_view(con, *_scored_batches(con, model, source, lm.feature_names[:1], outputs=["anomaly_score"],
                                                tally=tally, watch=watch)[1:], model, source) as cur:
            scores = cur.sql("SELECT anomaly_score FROM __ad_scored").fetchnumpy()["anomaly_score"]
        _drift_note(tally, source)
        s, shown = totalsrow.without_totals_row(np.asarray(scores, dtype=np.float64), watch,
                                                shown_source(source, n=40))
        if out_dir is None:
            return metrics.scores_figure(s, lm.ref, lm.thresholds, shown)
        return metrics.plot_scores(s, out_dir, lm.ref, lm.thresholds, shown)


@attachedmodels.names_the_file
@indexcols.keeps_index  # a frame indexed by its times (a pandas time series) is read with them, as score reads it
@indexcols.keeps_times  # and so is one whose index of times has no name (pd.date_range(...) as the index)
def plot_scores_over_time(con: duckdb.DuckDBPyConnection, model: str, source: str, out_dir: str | Path | None = None,
                          *, time: str | None = None) -> Any:
    """Write ``<model>_v<version>_scores_over_time.png`` in ``out_dir``: the score of every row of ``source``
    against its date or timestamp column (``time``, or the one such column it has), each stored threshold a
    horizontal line, the rows the ``default`` threshold flags marked; returns its path. Above 5000 rows, each of
    600 time buckets is drawn as its highest and median score, computed in DuckDB; rows that share their times
    (daily rows of many merchants), each time's. Without ``out_dir``, returns
    the matplotlib Figure (as ``plot_scores``, with its note on rows that moved away from the training data).
    A time column NULL or infinite in every row (or no row) raises ``NoTimesError`` (a ``BadInputError``), as no such column
    does. CLI: ``ad-duckdb score ... --plots DIR [--time COLUMN]``.
    """
    with interrupts.raised_as_interrupt("plot_scores_over_time", model):
        con = check_connection(con, "plot_scores_over_time")
        from . import metrics, timeplot

        lm = registry(con).get(model)
        if out_dir is not None:
            metrics.plots_folder(out_dir, lm.ref)
        col, note = timeplot.choose(con, lm.ref, source, time)
        if col is None:
            raise BadInputError(f"Model {lm.ref!r}: " + (note or f"no scores-over-time plot: {source} has no DATE or "
                                "TIMESTAMP column; score a query that casts one, e.g. \"SELECT * REPLACE (CAST(day AS DATE) "
                                "AS day) FROM ...\", and name it with time=."))
        tally: list[DriftTally] = []  # the drift note plot_scores gives, from the plot's own scoring pass
        out = timeplot.plot(con, lm, source, col, out_dir, shown_source(source, n=40), tally=tally)
        _drift_note(tally, source)
        return out
