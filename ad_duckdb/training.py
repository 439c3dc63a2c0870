"""``train``: a model trained on the rows of a source and stored as the next version of its name; the rows it
trains on (a sample above ``max_train_rows``), every row's score for the thresholds."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from os import PathLike, fspath
from typing import Any

import duckdb
import numpy as np

from . import (
    attachfiles,
    canwrite,
    catalognames,
    categorical,
    filegoals,
    interrupts,
    optionwords,
    otherfeatures,
    pysource,
    readers,
    relfiles,
    scoretail,
    storesave,
    storetables,
    thresholds,
    trainhold,
    trainscores,
)
from .carrythresholds import carried_thresholds, choose_goals_again
from .codecolumns import warn_category_codes
from .columnargs import _column_names
from .columnroles import warn_epoch_features
from .dbtrun import stored_source
from .exceptions import BadInputError, MissingDependencyError, UnusableColumnsError
from .featurechoice import choose_columns, default_features, warn_named_label
from .featureread import TrainingSample, count_rows, feature_batches, load_matrix, rows_fingerprint
from .features import warn_if_few_rows
from .filecols import Compared, warn_cast_columns
from .models import ModelInfo, warn_if_code_sizes_left_out
from .mostlynull import flag_split, warn_mostly_null
from .numberhints import _from_item
from .ortruns import load_session
from .progress import rows as progress_rows
from .scoring import LoadedModel
from .sourcecols import check_unique_names
from .sourcedescribe import describe
from .sqltext import is_query, strip_sql_ends
from .store import ModelRecord
from .totalsrow import TotalsWatch, empty_rows_filter, warn_empty_rows, warn_totals_row
from .trainchecks import _TRAIN_KEYWORDS, _TRAIN_OTHER_NAMES, _check_kind, _check_new_version_name, _check_storable
from .trainnotes import _own_threshold_names, _warn_if_not_carried, _warn_if_rows_changed, _warn_train_changes
from .udfs import dbt_target, volatile_store
from .udfs import refresh as refresh_functions


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

            from .detector import AutoEncoderDetector
            from .detectorparams import check_names
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
            canwrite.check_can_write(cur, f"Cannot store model {name!r}")
            # the other files the source reads (lake.main.tx): show's call and command attach them again
            attached = attachfiles.named_in(cur, source, where)
            described = describe(cur, source, name, caller=con, training=True)
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
                warn_named_label(read if text is None else read[: text.layout.numeric], X, name)
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
                **({"train_attached": attached} if attached else {}),
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
            with storesave.saving(name):
                if carry_thresholds:
                    storetables.ensure_schema(cur)  # a first training into a new database has no ad_models to number from
                    version = storesave.next_version(cur, name)
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
                storesave.save(cur, rec, promote=promote,
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
