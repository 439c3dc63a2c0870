"""onnxruntime sessions and the Arrow -> matrix -> scores path. Never imports torch."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import categorical, chunks, integrity, missing, scoretail, shapley, wrappedints
from .closenames import did_you_mean
from .exceptions import BadInputError, FeatureMismatchError, IntegrityError
from .numberhints import UUID_IS_AN_ID, as_number_hint
from .optionwords import SURFACE, opt
from .shapley import ORT_ALIGN, SHAPLEY_EXACT_MAX  # noqa: F401  (SHAPLEY_EXACT_MAX: read here by tests)
from .sqltext import is_query, quote_literal, sql_name, sql_names
from .store import ModelRecord
from .storeload import max_model_bytes
from .textnumbers import THOUSANDS, number_expr, written_in, written_words

if TYPE_CHECKING:
    import onnxruntime as ort

INPUT_NAME = integrity.INPUT_NAME
OUTPUT_NAMES = list(integrity.OUTPUT_NAMES)
_SCORE_ONLY = OUTPUT_NAMES[:1]
# Bulk scoring splits each large batch into runs of this many rows and scores them on ``ort_pool()``, one
# single-threaded run per core. Measured at d=30 (2 cores): 6.0M rows/s this way, 2.4M with one run of
# 65536 rows on 2 intra-op threads, 3.5M with one thread; small runs also keep the intermediates in cache.
BULK_ORT_ROWS = 2048
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def ort_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="ad_duckdb-ort")
    return _POOL


def input_dtype(sess: ort.InferenceSession) -> type[np.floating[Any]]:
    """The dtype a session's input takes: float64 where a column needs it (see nn.Preprocess), else float32."""
    return np.float64 if sess.get_inputs()[0].type == "tensor(double)" else np.float32


def run_rows(row_bytes: int) -> int:
    """Rows of one onnxruntime run for a graph whose largest intermediate takes ``row_bytes`` per row (what
    ``integrity.check_onnx`` returns): BULK_ORT_ROWS, or fewer where that many rows would take more than
    chunks.CHUNK_BYTES (read at each call) in one intermediate.

    Why: at the training parameters' edge (16 members x 65,536 codes) one 2048-row run asked onnxruntime for
    8.6 GB per intermediate, in a plain SELECT. Rows are independent in the graph, so runs change only the peak.
    Fewer rows are cut to a multiple of ORT_ALIGN (from 16 rows up), so that every row starts where it would
    in a 2048-row run and scores to the same float32 digits (see ORT_ALIGN)."""
    rows = min(BULK_ORT_ROWS, chunks.rows_per_chunk(row_bytes))
    return rows - rows % ORT_ALIGN if rows >= ORT_ALIGN else rows


def pool_runs(sess: ort.InferenceSession, X: np.ndarray, outputs: list[str], rows: int = BULK_ORT_ROWS) -> list[Any]:
    """Run ``sess`` on ``X`` in runs of ``rows`` rows (``run_rows``) spread over ``ort_pool()``; one result per run.

    onnxruntime supports concurrent runs of one session, so the runs share it.
    """
    with np.errstate(over="ignore"):  # beyond float32: +-inf, which the graph clips (see to_matrix)
        X = np.ascontiguousarray(X, dtype=input_dtype(sess))
    if len(X) <= rows:
        return [run_aligned(sess, outputs, X, rows)]
    return list(ort_pool().map(lambda i: run_aligned(sess, outputs, X[i : i + rows], rows), range(0, len(X), rows)))


def run_aligned(sess: ort.InferenceSession, outputs: list[str], X: np.ndarray, rows: int) -> list[Any]:
    """``sess.run`` on ``X``, padded to a multiple of ORT_ALIGN rows with copies of its last row (dropped from
    the results), unless that would exceed ``rows``, the most one run may hold (``run_rows``: a memory bound).

    Why: onnxruntime's vectorized Log (a heavy-tailed column's signed log) computes the last rows of a run whose row
    count is not a multiple of its vector width on another path, which differs in the last float32 digits; so a row
    scored in a point lookup, or after a WHERE that left an odd number of rows, got another score than in a full
    scan, and a stored score no longer equalled the live one. Rows are independent in the graph, so the padding
    changes nothing else; it costs at most 15 rows per run."""
    n = len(X)
    pad = -n % ORT_ALIGN
    if n == 0 or pad == 0 or n + pad > rows:
        return sess.run(outputs, {INPUT_NAME: X})
    out = sess.run(outputs, {INPUT_NAME: np.concatenate([X, np.repeat(X[-1:], pad, axis=0)])})
    return [o[:n] for o in out]


def make_session(onnx: bytes, *, model: str, n_features: int, threads: int = 1) -> ort.InferenceSession:
    """A CPU session; checks that the graph's inputs and outputs are what a stored model must have."""
    return load_session(onnx, model=model, n_features=n_features, threads=threads)[0]


def load_session(onnx: bytes, *, model: str, n_features: int, threads: int = 1) -> tuple[ort.InferenceSession, int]:
    """``make_session``, and the bytes per row of the graph's largest intermediate (for ``run_rows``)."""
    # Why before onnxruntime: ORT would follow external-data paths and load custom-op domains.
    row_bytes = integrity.check_onnx(onnx, model=model, n_features=n_features, max_bytes=max_model_bytes())
    sess = _ort_session(onnx, model, threads)
    # Why again after check_onnx: this is onnxruntime's own reading of the signature; the two parsers must agree.
    ins, outs = sess.get_inputs(), sess.get_outputs()
    shape_ok = len(ins) == 1 and ins[0].name == INPUT_NAME and len(ins[0].shape) == 2
    if not shape_ok or ins[0].shape[1] != n_features or [o.name for o in outs] != OUTPUT_NAMES:
        raise IntegrityError(
            f"Model {model!r}: its ONNX graph takes {[(i.name, i.shape) for i in ins]} and returns "
            f"{[o.name for o in outs]}, but its feature list has {n_features} columns; expected input "
            f"'x' [n, {n_features}] and outputs {OUTPUT_NAMES}. The model will not be used."
        )
    return sess, row_bytes


def _ort_session(onnx: bytes, model: str, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime CPU session on bytes ``integrity.check_onnx`` has passed."""
    # Why imported here: its import is ~0.07 s of CPU, which commands that never score (``ad-duckdb --help``, list,
    # show) need not pay
    import onnxruntime as ort

    so = ort.SessionOptions()
    # Why one thread: DuckDB already runs the function on every core in parallel; ORT threads only contend.
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(onnx, sess_options=so, providers=["CPUExecutionProvider"])
    except Exception as e:
        raise IntegrityError(f"Model {model!r}: onnxruntime cannot load its ONNX graph ({e}).") from e


class LoadedModel:
    """A stored model ready to score: session, feature names, thresholds, training-score quantiles."""

    def __init__(self, rec: ModelRecord) -> None:
        self.rec = rec
        self.name = rec.name
        self.version = rec.version
        self.ref = rec.ref
        self.feature_names = rec.feature_names
        self.n_features = len(self.feature_names)  # the columns a call passes
        # the graph's inputs: one per column, but one per category of a text column (categorical.py)
        self.n_inputs = len(rec.features)
        self.layout = categorical.layout(rec.features)
        self.names_pa = string_array(self.feature_names)
        self.thresholds = {t.name: float(t.value) for t in rec.thresholds}
        q = rec.metrics.get("score_quantiles")
        self.quantiles = np.asarray(q, dtype=np.float64) if q else None
        # the top 0.1% of the rows from their exact scores where the model keeps them (scoretail)
        self._pct_curve = (_percentile_curve(*scoretail.points(self.quantiles, rec.metrics))
                           if self.quantiles is not None else None)
        self._session: ort.InferenceSession | None = None
        self._dtype: type[np.floating[Any]] = np.float64
        self.row_bytes = 0  # of the graph's largest intermediate, known with the session (integrity.check_onnx)
        self._run_rows = BULK_ORT_ROWS  # rows per onnxruntime run (run_rows), set with the session
        self._lock = threading.Lock()
        self._cands: list[np.ndarray] | None = None
        self._search_k: missing.Search | None = None
        # (pre session, scaled input's name, rest session) of _cut, False where the graph is not cut, None: not tried
        self._cut_sessions: tuple[ort.InferenceSession, str, ort.InferenceSession] | bool | None = None
        self._terms: tuple[ort.InferenceSession, list[str | None]] | None = None  # see _terms_session
        self.check_order = True  # the SQL functions' wrong-argument-order check (register(check_order=))
        # the (text column, value) pairs the SQL functions noted (textvalues), each once until Registry.new_statement
        self.said: set[tuple[str, str]] = set()
        # where the functions run ("" Python or dbt, "sql", "serve"; udfregistry.Registry.set_surface): a message names
        # the switches and the transaction reads of that surface only
        self.surface = ""
        # The version 'name' means now where it is a later one ("tx_ae@3", with ", of other columns" where they differ;
        # set by udfregistry.Registry.refresh): a message's suggested call then pins this version. None: this is the latest.
        self.superseded_by: str | None = None
        # The stored versions of this name, newest first (set by udfregistry.Registry.refresh): a threshold this one
        # lacks is looked up there, as a retrain without carry_thresholds leaves 'cut' on the version before.
        self.siblings: list[LoadedModel] = []
        # what a missing threshold means where the functions were registered (udfregistry.Registry.threshold_hint: the dbt
        # plugin), appended to the message
        self.threshold_hint = ""
        # reads the store again when it changed (udfregistry.Registry.reload_thresholds: the dbt plugin), for a threshold
        # committed after the functions loaded it, such as by a model's pre_hook with transaction: false
        self.reload_thresholds: Callable[[], None] | None = None
        # the database path as the CLI names it ("DB" in memory; set by udfregistry.Registry.refresh for stored versions),
        # for the command a missing threshold's message writes out; None for an .onnx file's model
        self.store_db: str | None = None
        # why no threshold can be read (damagedthresholds.message), set by udfregistry.Registry.refresh: only the calls
        # that flag rows fail with it, scores need none
        self.thresholds_lost: str | None = None
        # how a server serves the file (servefix.Served; udfregistry.Registry.set_surface): what stores a missing threshold
        self.served: Any = None

    @property
    def input_dtype(self) -> type[np.floating[Any]]:
        """What the graph takes: float64 where a column needs it (see nn.Preprocess), else float32."""
        _ = self.session  # loaded lazily; its input type is read then
        return self._dtype

    @property
    def session(self) -> ort.InferenceSession:
        s = self._session
        if s is None:
            with self._lock:
                if self._session is None:
                    self._take(*load_session(self.rec.onnx, model=self.ref, n_features=self.n_inputs))
                s = self._session
        return s

    def use_session(self, sess: ort.InferenceSession, row_bytes: int) -> None:
        """Score with ``sess``, which ``load_session`` made of this record's bytes (giving ``row_bytes``): for
        ``ad_duckdb.train``, whose parity check loaded the graph already."""
        with self._lock:
            self._take(sess, row_bytes)

    def _take(self, sess: ort.InferenceSession, row_bytes: int) -> None:
        self.row_bytes, self._run_rows, self._dtype = row_bytes, run_rows(row_bytes), input_dtype(sess)
        self._session = sess

    def run(self, X: np.ndarray, *, bulk: bool = False, missing: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Scores and per-feature errors; ``bulk`` spreads a large batch over the cores. ``missing``: rows with a
        NULL / NaN value are scored as ``_fill_missing`` says (else the graph's median fill alone)."""
        parts = self._runs(X, OUTPUT_NAMES, bulk)
        s, fe = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        if missing and len(X) and np.isnan(X.min()):  # min is NaN iff some value is: cheaper than isnan().any()
            self._fill_missing(X, s, fe, bulk, values=False)
        return s, fe

    def scores(self, X: np.ndarray, *, bulk: bool = False, missing: bool = True) -> np.ndarray:
        parts = self._runs(X, _SCORE_ONLY, bulk)
        s = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts])
        if missing and len(X) and np.isnan(X.min()):  # min is NaN iff some value is: cheaper than isnan().any()
            # Why the score output alone, here and in the search's runs: the per-feature errors were copied out of
            # every run and gathered for rows whose scores alone are asked for (the same scores: the graph is run
            # whole either way)
            self._fill_missing(X, s, None, bulk, values=False)
        return s

    def _fill_missing(self, X: np.ndarray, s: np.ndarray, fe: np.ndarray | None, bulk: bool, *,
                      values: bool = True) -> np.ndarray:
        """``missing.fill_missing`` on this model's graph: rescores the rows with NULL / NaN values in ``s`` and
        ``fe`` in place and returns ``X`` with the values chosen (``values=False``: ``X`` as it is). ``fe`` None: the
        search runs the graph for its scores alone."""
        if fe is None:
            return missing.fill_missing(X, s, None, self.rec.features, self._search(),
                                        lambda trial: (self.scores(trial, bulk=bulk, missing=False), None),
                                        values=values)
        return missing.fill_missing(X, s, fe, self.rec.features, self._search(),
                                    lambda trial: self.run(trial, bulk=bulk, missing=False), values=values)

    def as_scored(self, X: np.ndarray) -> np.ndarray:
        """``X`` with each NULL / NaN value set to what scoring chose for it (``_fill_missing``), as a float64 copy:
        the rows ``anomaly_score`` scored. For ``ad-duckdb explain``, which says what a missing value was scored at."""
        X = np.array(X, dtype=np.float64)
        if not (len(X) and np.isnan(X.min())):
            return X
        # Why filled in the model's input type, as to_matrix hands rows to scoring: a value beside one beyond the
        # training range may take a candidate worked out from that value, and worked out from its float64 digits
        # 1-5% of the missing values said (score's anomaly_imputed, explain's "scored at") were not the one the
        # score took (cardio with NULLs: 0.612 said, 0.569 scored)
        with np.errstate(over="ignore"):  # beyond float32: +-inf, as to_matrix gives it
            M = X.astype(self.input_dtype)
        held = np.isnan(X)
        X[held] = self.scored_as(M)[1][held]
        return X

    def scored_as(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores, and ``X`` as they took it (each NULL / NaN value set by ``_fill_missing``), from one fill: for a
        caller that needs both (``anomaly_imputed`` checks the order on the scores), which filled twice."""
        if not (len(X) and np.isnan(X.min())):
            return self.scores(X, missing=False), X
        s = self.scores(X, missing=False)
        return s, self._fill_missing(X, s, None, False)

    def terms(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores [n], and the score's terms [n, 3] in ``scoreterms.TERM_NAMES`` order (0 for a term the model
        leaves out), for ``anomaly_terms``. The terms sum to the score up to float32 rounding. A row's NULL / NaN
        values take what ``_fill_missing`` chose for them, as its score does."""
        if len(X) and np.isnan(X.min()):
            # Why only these rows: the fill needs their scores alone, and every row is scored by the terms run below
            # (scoring the whole batch here too took 1.4x as long with 2% of rows missing a value)
            held = np.nonzero(np.isnan(X).any(axis=1))[0]
            s = self.scores(X[held], missing=False)
            X = X.copy()
            X[held] = self._fill_missing(X[held], s, None, False)
        sess, slots = self._terms_session()
        # the score first; a model of one term has the score as its reconstruction term, asked for once
        outputs = list(dict.fromkeys([OUTPUT_NAMES[0], *(t for t in slots if t is not None)]))
        parts = self._runs_on(sess, X, outputs)
        s = np.concatenate([p[0] for p in parts])
        out = np.zeros((len(s), len(slots)), dtype=np.float64)
        for i, t in enumerate(slots):
            if t is not None:
                k = outputs.index(t)
                out[:, i] = np.concatenate([p[k] for p in parts])
        from . import scoreterms

        out[:, 2] = scoreterms.range_cleared(out[:, 2])  # a value at an end of the training range is inside it
        return s, out

    def terms_readable(self) -> bool:
        """Whether ``terms`` can read this model's terms (every graph ad_duckdb's exporter wrote since the first
        releases; see scoreterms)."""
        try:
            self._terms_session()
        except (IntegrityError, BadInputError):
            return False
        return True

    def _terms_session(self) -> tuple[ort.InferenceSession, list[str | None]]:
        """A session on this model's graph that also returns each term's tensor (``scoreterms``), and those
        tensors' names; made on first use, after ``session`` has checked the stored bytes."""
        got = self._terms
        if got is None:
            from . import scoreterms

            _ = self.session  # the integrity check of the stored bytes, which the terms session adds outputs to
            with self._lock:
                if self._terms is None:
                    slots = scoreterms.term_tensors(self.rec.onnx, scoreterms.terms_on(self.rec.params), model=self.ref,
                                                    first_release=scoreterms.stored_before_terms(self.rec.params))
                    extra = [t for t in slots if t is not None]
                    self._terms = (_ort_session(scoreterms.with_outputs(self.rec.onnx, extra), self.ref), slots)
                got = self._terms
        return got

    def _candidates(self) -> list[np.ndarray]:
        """``missing.candidates`` of this model's columns, worked out once."""
        if self._cands is None:
            self._cands = missing.candidates(self.rec.features)
        return self._cands

    def _search(self) -> missing.Search:
        """The search's constants of this model's columns (``missing.Search``), worked out once."""
        got = self._search_k
        if got is None:
            got = self._search_k = missing.Search(self.rec.features, self._candidates())
        return got

    def _runs(self, X: np.ndarray, outputs: list[str], bulk: bool) -> list[Any]:
        if not bulk:  # the UDF path: one call is at most 2048 rows, and DuckDB already uses every core
            return self._runs_on(self.session, X, outputs)
        sess = self.session
        return pool_runs(sess, X, outputs, self._run_rows)

    def _runs_on(self, sess: ort.InferenceSession, X: np.ndarray, outputs: list[str],
                 dtype: type[np.floating[Any]] | None = None) -> list[Any]:
        """``outputs`` of ``sess`` (the scoring session, or ``_terms_session``'s) on ``X`` in this thread, in runs of
        at most ``_run_rows``; the session must be loaded (``self.session``), which sets the input type (``dtype``:
        another, for a session taking another: ``_cut``'s)."""
        with np.errstate(over="ignore"):  # for callers passing float64 (to_matrix already gives the type)
            X = np.ascontiguousarray(X, dtype=dtype or self._dtype)
        # Why runs of BULK_ORT_ROWS for more (an explanation's 2^d or 8 d rows per row): small runs keep the
        # intermediates in cache; one run of 131072 rows took 2.2x as long as 64 of 2048 (d=7 and d=30). Fewer
        # where a run's largest intermediate would outgrow chunks.CHUNK_BYTES (run_rows).
        step = self._run_rows
        return [run_aligned(sess, outputs, X[a : a + step], step) for a in range(0, max(len(X), 1), step)]

    def attribution(self, X: np.ndarray, *, bulk: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Scores, and each column's part in each row's score [n, d] (>= 0), for ``anomaly_explain``: Shapley values
        on this model's graph (``shapley.attribution``, which says why)."""
        s, parts, _ = self.attribution_as_scored(X, bulk=bulk)
        return s, parts

    def attribution_as_scored(self, X: np.ndarray, *, bulk: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``attribution``, and the NULL / NaN values of ``X`` as its scores took them (``as_scored``'s, NaN where a
        value was given), from the same fill. Why: score(explain=True) filled the rows with NULLs a second time for
        anomaly_imputed (``as_scored``), one more pass per candidate and missing column for values already known."""
        held = np.isnan(X)
        taken = np.full(X.shape, np.nan)

        def fill(rows: np.ndarray, s: np.ndarray, fe: np.ndarray) -> np.ndarray:
            filled = self._fill_missing(rows, s, fe, bulk)
            taken[held] = filled[held]
            return filled

        s, parts = shapley.attribution(X, lambda rows: self.run(rows, bulk=bulk, missing=False), fill,
                                       lambda rows: self.scores(rows, bulk=bulk, missing=False), self.input_dtype,
                                       self._cut(bulk))
        if self.layout is not None:  # a text column's part: the sum of its category inputs' (named once)
            parts = self.layout.per_column(parts)
        return s, parts, taken

    def _shapley(self, X: np.ndarray, bulk: bool) -> np.ndarray:
        """Shapley values [n, d] of the score; NaN in a scored row means "at the training median"."""
        return shapley.values(X, lambda rows: self.scores(rows, bulk=bulk, missing=False), self.input_dtype,
                              self._cut(bulk))

    def _cut(self, bulk: bool) -> shapley.Cut | None:
        """(pre, rest) on this model's graph cut where its preprocessing ends (``explaingraph``), for the coalition
        rows of an explanation; None where the graph has no clean cut or scores otherwise through it (checked once,
        on probe rows)."""
        got = self._cut_sessions
        if got is None:
            _ = self.session  # the integrity check of the stored bytes, which the cut is made from
            with self._lock:
                if self._cut_sessions is None:
                    self._cut_sessions = self._make_cut()
                got = self._cut_sessions
        if got is False:
            return None
        assert not isinstance(got, bool)
        pre_sess, z, rest_sess = got

        def pre(rows: np.ndarray) -> np.ndarray:
            return np.concatenate([p[0] for p in self._runs_on(pre_sess, rows, [z])])

        def rest(rows: np.ndarray) -> np.ndarray:
            if bulk:
                return np.concatenate([p[0] for p in pool_runs(rest_sess, rows, _SCORE_ONLY, self._run_rows)])
            return np.concatenate([p[0] for p in self._runs_on(rest_sess, rows, _SCORE_ONLY, np.float32)])
        return pre, rest

    def _make_cut(self) -> tuple[ort.InferenceSession, str, ort.InferenceSession] | bool:
        from . import explaingraph
        from .features import raw_values

        made = explaingraph.cut(self.rec.onnx, self.n_inputs)
        if made is None:
            return False
        z, pre_bytes, rest_bytes = made
        try:
            pre_sess = _ort_session(pre_bytes, self.ref)
            rest_sess = _ort_session(rest_bytes, self.ref)
        except IntegrityError:
            return False
        # every column at its median, inside its training range and far beyond it, in the graph's input type
        units = np.array([0.0, -3.0, -1.0, 0.5, 2.0, 40.0, -40.0])
        with np.errstate(over="ignore", invalid="ignore"):
            probe = np.stack([raw_values(f, units) for f in self.rec.features], axis=1).astype(self._dtype)
        ok = explaingraph.same_scores(
            lambda rows: np.concatenate([p[0] for p in self._runs_on(self.session, rows, _SCORE_ONLY)]),
            lambda rows: np.concatenate([p[0] for p in self._runs_on(pre_sess, rows, [z])]),
            lambda rows: np.concatenate([p[0] for p in self._runs_on(rest_sess, rows, _SCORE_ONLY, np.float32)]),
            probe)
        return (pre_sess, z, rest_sess) if ok else False

    def threshold(self, name: str) -> float:
        from .exceptions import DatabaseUnavailableError, ThresholdNotFoundError

        if self.thresholds_lost is not None:
            raise DatabaseUnavailableError(self.thresholds_lost)
        v = self.thresholds.get(name)
        if v is None and self.reload_thresholds is not None:
            self.reload_thresholds()  # refreshes this object's thresholds in place (a stored version is kept)
            v = self.thresholds.get(name)
        if v is None:
            known = ", ".join(repr(k) for k in sorted(self.thresholds)) or "none"
            homes = [m for m in self.siblings if m is not self and name in m.thresholds]
            pin = "pin the version it was set on ('name@N')"
            if homes:
                also = f" (and {', '.join(m.ref for m in homes[1:])})" if homes[1:] else ""
                cols = "" if homes[0].feature_names == self.feature_names else \
                    f", which takes other columns: ({', '.join(homes[0].feature_names)})"
                pin = f"{name!r} is set on {homes[0].ref}{also}: pin {homes[0].ref!r} where a query needs it{cols}"
            guess = did_you_mean(name, list(self.thresholds))
            # Why not after a guess: the hint (the dbt plugin's) is for a threshold stored but not seen; beside "did you
            # mean" it sent a typo's author to rework the node's hooks
            add = "add it for this one with ad_duckdb.set_threshold(...) or `ad-duckdb threshold`"
            # a stored version (an .onnx file's model is imported first); not after a guess: 'P99' is a typo of 'p99',
            # and the command would store a second cut beside it
            model = self.name if len(self.siblings) <= 1 else self.ref
            # a command's (its SQL functions run on DuckDB's threads, where optionwords.SURFACE is not set)
            cli = self.surface in ("sql", "command") or SURFACE.get() == "cli"
            carry = f"train with {'--carry-thresholds' if cli or self.surface == 'serve' else opt('carry_thresholds', True)}"
            if self.served is not None:
                from .servefix import carry_fix

                carry = carry_fix(self.served)
            if self.store_db is not None and not guess and self.served is not None:
                from .servefix import store_fix  # what works while a server holds the file

                add = f"store it for this one: {store_fix(self.served, self, model, name, homes)}"
            elif self.store_db is not None and not guess:
                from .thresholdcmd import store_commands

                add = f"store it for this one: {store_commands(model, name, self.store_db, homes, cli)}"
            # Why said here: a threshold an open transaction wrote is not seen in Python or serve (UNCOMMITTED), and
            # nothing else told why it was missing; the dbt plugin's hint says it (and serve's fix, servefix's)
            uncommitted = "" if self.threshold_hint or (self.served is not None and not guess) else \
                UNCOMMITTED.get(self.surface, UNCOMMITTED[""])
            raise ThresholdNotFoundError(
                f"Model {self.ref!r} has no threshold {name!r}; its thresholds are: {known}."
                f"{guess} Thresholds belong to "
                f"one version: {add}; or "
                f"{pin}; to keep a retrain's thresholds, {carry}."
                f"{'' if guess else self.threshold_hint or uncommitted}"
            )
        if v != v:  # NaN, only from a hand edit of ad_thresholds: every comparison with it is false, so no row flagged
            raise BadInputError(
                f"Model {self.ref!r}: threshold {name!r} is NaN in ad_thresholds, so it would flag no row. Set it "
                f"again: ad-duckdb threshold DB {self.ref} {name} --method manual --value V (or another method), or "
                f"UPDATE ad_thresholds SET value = V WHERE model = {quote_literal(self.name)} AND version = "
                f"{self.version} AND threshold_name = {quote_literal(name)}.")
        return v

    def percentile(self, scores: np.ndarray) -> np.ndarray:
        if self._pct_curve is None:
            raise BadInputError(f"Model {self.ref!r} stores no training-score quantiles; re-train it to get percentiles.")
        xp, fp = self._pct_curve
        return np.interp(scores, xp, fp, left=0.0, right=1.0)

    def share_above(self, t: float) -> float:
        """The share of training rows a threshold ``t`` flags (``score > t``), from the stored quantiles."""
        # the share scoring at most t: the curve just above t (a run of tied scores at t is not flagged)
        return float(1.0 - self.percentile(np.array([np.nextafter(t, np.inf)]))[0])


def share_of_training_above(quantiles: Any, t: float, metrics: dict[str, Any] | None = None) -> float:
    """The share of training rows a threshold ``t`` flags (``score > t``), read off a stored quantile grid and the
    exact top scores ``metrics`` keeps (as ``LoadedModel.share_above``, for a version that is not loaded)."""
    xp, fp = _percentile_curve(*scoretail.points(np.asarray(quantiles, dtype=np.float64), metrics))
    return float(1.0 - np.interp(np.nextafter(t, np.inf), xp, fp, left=0.0, right=1.0))


def _percentile_curve(q: np.ndarray, grid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points for ``np.interp`` giving "the share of training rows with a lower score" from a quantile grid (``grid``:
    each score's share, where not evenly spaced: ``scoretail.points``).

    Why not the grid itself: with tied training scores it holds runs of equal values, where np.interp lands
    anywhere in the run. Each run becomes two points: at its value the share where the run starts, just
    above it the share where it ends; between runs the curve is linear, as before.
    """
    if grid is None:
        grid = np.linspace(0.0, 1.0, len(q))
    starts = np.r_[0, np.nonzero(q[1:] != q[:-1])[0] + 1]
    ends = np.r_[starts[1:] - 1, len(q) - 1]
    xp = np.empty(2 * len(starts))
    fp = np.empty(2 * len(starts))
    xp[0::2], fp[0::2] = q[starts], grid[starts]
    xp[1::2], fp[1::2] = np.nextafter(q[starts], np.inf), grid[ends]
    return xp, fp


def _sql_type_name(t: pa.DataType) -> str:
    """The DuckDB type a user wrote for a column that reached a function as Arrow type ``t`` (for messages)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "VARCHAR"
    if isinstance(t, pa.OpaqueType):  # a DuckDB type Arrow has no equivalent for, e.g. BIGNUM (VARINT)
        return str(t.type_name).upper()
    if isinstance(t, pa.BaseExtensionType) and t.extension_name in ("arrow.uuid", "arrow.json"):
        return t.extension_name.removeprefix("arrow.").upper()  # how DuckDB hands them over losslessly
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"{_sql_type_name(t.value_type)}[]"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_dictionary(t):  # how DuckDB hands an ENUM to Arrow
        return "ENUM"
    if pa.types.is_struct(t):  # with its fields, so the hint can name one to pick
        return "STRUCT(" + ", ".join(f"{sql_name(f.name)} {_sql_type_name(f.type)}" for f in t) + ")"
    if t.id in _SQL_NAME_OF:
        return _SQL_NAME_OF[t.id]
    for check, name in ((pa.types.is_boolean, "BOOLEAN"), (pa.types.is_date, "DATE"), (pa.types.is_time, "TIME"),
                        (pa.types.is_interval, "INTERVAL"), (pa.types.is_binary, "BLOB"), (pa.types.is_struct, "STRUCT"),
                        (pa.types.is_map, "MAP")):
        if check(t):
            return name
    return str(t).upper()


_FLOAT64_ID = pa.float64().id
# Arrow's fixed-width numeric types: the numpy dtype of their values and the DuckDB type they come from.
_NUMERIC = (
    (pa.float16(), np.float16, "FLOAT"), (pa.float32(), np.float32, "FLOAT"), (pa.float64(), np.float64, "DOUBLE"),
    (pa.int8(), np.int8, "TINYINT"), (pa.int16(), np.int16, "SMALLINT"), (pa.int32(), np.int32, "INTEGER"),
    (pa.int64(), np.int64, "BIGINT"), (pa.uint8(), np.uint8, "UTINYINT"), (pa.uint16(), np.uint16, "USMALLINT"),
    (pa.uint32(), np.uint32, "UINTEGER"), (pa.uint64(), np.uint64, "UBIGINT"),
)
_NUMPY_OF = {t.id: np.dtype(n) for t, n, _ in _NUMERIC}
_SQL_NAME_OF = {t.id: name for t, _, name in _NUMERIC}
# Why numpy for NULLs and DECIMAL(p <= 18) instead of pyarrow.compute.cast: importing pyarrow.compute adds 9 MiB
# to every scoring process; only wider decimals still need it.
_DECIMAL128_ID = pa.decimal128(1, 0).id

# Why the scoring path moves data between Arrow and numpy through raw buffers, never Array.to_numpy or pa.array:
# pyarrow's first such call imports pandas (to check for pandas objects), which makes a scoring process 56 MiB
# larger and its first query 0.3-0.5 s slower, for a library it never uses (bench/speed.py, 10M rows at d=2, peak
# RSS: bulk scoring 349 -> 324 MiB, the SQL path 243 -> 212 MiB).


def _values(arr: pa.Array) -> np.ndarray:
    """A fixed-width numeric Arrow array's values as a read-only numpy view (NULL slots hold arbitrary values)."""
    dt = _NUMPY_OF[arr.type.id]
    buf = arr.buffers()[1]
    if buf is None or len(arr) == 0:
        return np.empty(0, dtype=dt)
    return np.frombuffer(buf, dtype=dt, count=len(arr), offset=arr.offset * dt.itemsize)


def valid_mask(arr: pa.Array) -> np.ndarray:
    """True where ``arr`` is not NULL."""
    bits = arr.buffers()[0]
    if bits is None:
        return np.ones(len(arr), dtype=bool)
    unpacked = np.unpackbits(np.frombuffer(bits, dtype=np.uint8), count=arr.offset + len(arr), bitorder="little")
    return unpacked[arr.offset :].astype(bool)


def _nan_where_null(out: np.ndarray, arr: pa.Array) -> np.ndarray:
    """``out`` (a writable float copy of ``arr``'s values) with NaN where ``arr`` is NULL."""
    if arr.null_count:
        out[~valid_mask(arr)] = np.nan
    return out


def to_arrow(values: np.ndarray, typ: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """A numpy vector as an Arrow array of ``typ`` (DOUBLE, BIGINT, INTEGER or BOOLEAN), NULL where ``valid``
    is False; built from buffers (see above)."""
    mask = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    if typ == pa.bool_():
        data = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    else:
        data = np.ascontiguousarray(values, dtype=_NUMPY_OF[typ.id])
    return pa.Array.from_buffers(typ, len(values), [mask, pa.py_buffer(data)])


def string_array(items: Sequence[str]) -> pa.Array:
    """Python strings as an Arrow string array, built from buffers (see above)."""
    data = [s.encode() for s in items]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def column_to_numbers(col: Any, pos: int, model: str, func: str, expected: str | None = None,
                      trained_on: str | None = None) -> np.ndarray:
    """One argument column (any numeric Arrow type, possibly with nulls) as a numpy vector, NaN for NULL.

    Its dtype is the column's own when that needs no conversion (a zero-copy view), else float64; ``to_matrix``
    stacks all columns as the model's input type."""
    if isinstance(col, pa.ChunkedArray):
        if col.num_chunks == 1:
            return column_to_numbers(col.chunk(0), pos, model, func, expected, trained_on)
        return np.concatenate([column_to_numbers(c, pos, model, func, expected, trained_on) for c in col.chunks]
                              or [np.empty(0)])
    t = col.type
    # Why a dict of type ids first: this runs for every column of every 2048-row call, and the
    # common case (DOUBLE / integer without NULLs) needs no cast, only a zero-copy view.
    if t.id in _NUMPY_OF:
        if col.null_count == 0:
            return _values(col)
        return _nan_where_null(_values(col).astype(np.float64), col)
    if t.id == _DECIMAL128_ID and t.precision <= 18 and sys.byteorder == "little" and len(col):
        # DuckDB's DECIMAL(p <= 18, s): the unscaled value fits the low 64 bits of each 128-bit slot.
        unscaled = np.frombuffer(col.buffers()[1], dtype=np.int64, count=2 * len(col), offset=col.offset * 16)[::2]
        return _nan_where_null(unscaled / float(10**t.scale), col)
    if (isinstance(t, pa.OpaqueType) and t.type_name in ("hugeint", "uhugeint") and t.storage_type == pa.binary(16)
            and sys.byteorder == "little"):
        return _wide_integers(col.storage, signed=t.type_name == "hugeint")
    if isinstance(t, pa.OpaqueType) and t.type_name in ("bignum", "varint") and (
            pa.types.is_binary(t.storage_type) or pa.types.is_large_binary(t.storage_type)):
        return _bignums(col.storage)
    if pa.types.is_null(t):
        return np.full(len(col), np.nan)
    # Why no BOOLEAN: models train on numeric columns only, and DuckDB's binder already refuses a
    # BOOLEAN first feature; scoring true as 1.0 in other positions would be a silent wrong score.
    if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t)):
        from .bitvalues import holds_bits

        sql_type = "BIT" if pa.types.is_binary(t) and holds_bits(col) else _sql_type_name(t)
        raise BadInputError(
            f"{func}('{model}', ...): feature argument {pos}{f' (the model was trained on {expected!r} there)' if expected else ''} "
            f"is {sql_type}, not a number. Pass the model's columns in its order, or turn this one into a "
            f"number: {text_numbers_hint(col) or as_number_hint('col', sql_type)}"
            # the query that made the model's numbers says how: a date it read as its day of the week is not epoch()
            f"{f'; the model was trained on {trained_on}' if trained_on and is_query(trained_on) else ''}."
        )
    import pyarrow.compute as pc  # here, not at the top: see _DECIMAL128_ID

    try:
        f = pc.cast(col, pa.float64())
    except pa.ArrowInvalid as e:
        raise BadInputError(f"{func}('{model}', ...): feature argument {pos} cannot be read as a number ({e}).") from e
    out = _nan_where_null(_values(f).copy(), f)
    wrappedints.check(col, out, pos, model, func, expected)
    return out


_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def text_numbers_hint(col: pa.Array) -> str | None:
    """For text arguments mostly of numbers written as an export writes amounts ("$1,234.50", "1.234,50 €",
    "(120.00)"): the expression that reads them, for the argument ``col``; for text of UUIDs, that they are ids;
    None for other arguments.

    Why: the general advice, TRY_CAST(col AS DOUBLE), reads every such value as NULL, and the rows were then scored
    on a filled-in value without a word."""
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_string_view(col.type)):
        return None
    values = [v for v in col.slice(0, 10_000).to_pylist() if v is not None]
    # Why: DuckDB hands a UUID over as text, for which TRY_CAST(col AS DOUBLE), the general advice, is NULL
    if values and sum(_UUID_TEXT.fullmatch(v) is not None for v in values) * 2 >= len(values):
        return f"these are UUIDs ({values[0]!r}), and a UUID is {UUID_IS_AN_ID}"
    share, style = written_in(values)
    if share < 0.5 or style is None:
        return None
    if style.separator is None and any("." in v for v in values):
        # A batch may hold none of the amounts above 999: "$561.86" tells a decimal point, so "$1,234.50" in a later
        # batch has a thousands separator, which the expression must drop too
        style = dataclasses.replace(style, separator=THOUSANDS)
    example = next(v for v in values if written_in([v])[0])
    return f"{number_expr('col', style)} reads numbers written as these are ({example!r}, {written_words(style)})"


def _wide_integers(arr: pa.Array, *, signed: bool) -> np.ndarray:
    """HUGEINT / UHUGEINT as DuckDB hands them over under ``SET arrow_lossless_conversion = true`` (16 bytes each,
    the low half first), as float64 with NaN for NULL. Why: as opaque values they were refused as "not a number"."""
    if len(arr) == 0:
        return np.empty(0)
    words = np.frombuffer(arr.buffers()[1], dtype=np.uint64, count=2 * len(arr), offset=arr.offset * 16)
    lo, hi = words[0::2], words[1::2]
    negative = hi.view(np.int64) < 0 if signed else np.zeros(len(arr), dtype=bool)
    # a negative value's magnitude (two's complement), so that -40 is not -2^64 + (2^64 - 40), which float64 rounds to 0
    mag_lo = np.where(negative, ~lo + np.uint64(1), lo)
    mag_hi = np.where(negative, ~hi + (mag_lo == 0).astype(np.uint64), hi)
    out = mag_hi.astype(np.float64) * 2.0**64 + mag_lo.astype(np.float64)
    return _nan_where_null(np.where(negative, -out, out), arr)


def _bignums(arr: pa.Array) -> np.ndarray:
    """BIGNUM as DuckDB hands it over (3 header bytes, the first's top bit set for a number >= 0, then the magnitude's
    bytes, most significant first, each inverted for a negative number) as float64, NaN for NULL. Why not refused: a
    BIGNUM first feature is cast to DOUBLE by DuckDB itself, so the same column scored in one position and failed in
    another. Summed from the least significant byte up, as DuckDB's CAST(... AS DOUBLE) sums them, so the two agree
    to the last bit (a correctly rounded int-to-float conversion differed in 1 of 40 values); a value beyond DOUBLE,
    which that cast refuses, is +-inf, clipped as an infinite DOUBLE is."""
    n = len(arr)
    if n == 0:
        return np.empty(0)
    width = 8 if pa.types.is_large_binary(arr.type) else 4
    off = np.frombuffer(arr.buffers()[1], dtype=np.int64 if width == 8 else np.int32, count=n + 1,
                        offset=arr.offset * width).astype(np.int64)
    raw = arr.buffers()[2]
    data = np.frombuffer(raw, dtype=np.uint8) if raw is not None else np.empty(0, dtype=np.uint8)
    size = off[1:] - off[:-1] - 3  # the magnitude's bytes; negative for a NULL's empty slot
    ok = valid_mask(arr) & (size >= 0)
    negative = np.zeros(n, dtype=bool)
    negative[ok] = data[off[:-1][ok]] < 0x80
    out = np.zeros(n)
    step = 1.0
    # 128 bytes reach 2^1024, past DOUBLE's largest; the sum can overflow to inf before that, as DuckDB's would
    with np.errstate(over="ignore"):
        for k in range(min(int(size[ok].max(initial=0)), 128)):
            rows = np.nonzero(ok & (size > k))[0]
            b = data[off[1:][rows] - 1 - k].astype(np.float64)
            out[rows] += np.where(negative[rows], 255.0 - b, b) * step
            step *= 256.0
    out[ok & (size > 128)] = np.inf
    out[negative] *= -1.0
    out[~ok] = np.nan
    return out


def _call(func: str, model: LoadedModel) -> str:
    """The call a message suggests, with the threshold-name argument is_anomaly_at takes (and score's bulk form).
    Why sql_name: a CSV header's "Merchant Count", bare in a call to paste, was a syntax error."""
    if func == "score":
        return f"columns ({', '.join(model.feature_names)})"
    args = ", ".join(sql_name(f) for f in model.feature_names)
    threshold = ", 'threshold_name'" if func == "is_anomaly_at" else ""
    if model.superseded_by is not None:
        return f"{func}('{model.ref}'{threshold}, {args}) ('{model.name}' is now {model.superseded_by})"
    return f"{func}('{model.name}'{threshold}, {args}) (or '{model.ref}' to pin this version)"


def to_matrix(cols: Sequence[Any], model: LoadedModel, func: str) -> np.ndarray:
    """Arrow argument columns -> one [n, d] matrix of the model's input type (the one cast-and-stack per call):
    float64 where the graph subtracts a column's centre before its own cast to float32 (see nn.Preprocess), so
    that large values with a small spread keep their detail; else float32."""
    if len(cols) != model.n_features:
        args = sql_names(model.feature_names)
        # Why: DuckDB expands COLUMNS(...) inside a call into one call per column, each with one argument, which
        # the plain count ("got 1") left unexplained to whoever wrote COLUMNS(...) for the model's columns
        many = (" If you wrote COLUMNS(...) for them: in a call it makes one call per column, each with one "
                "argument; *COLUMNS(...) passes its columns as the arguments.") \
            if len(cols) == 1 and model.n_features > 1 and func != "score" else ""
        raise FeatureMismatchError(
            f"{func}('{model.ref}', ...) got {len(cols)} feature argument(s), but model {model.ref!r} takes "
            f"{model.n_features}: ({args}), in this order: {_call(func, model)}.{many}"
        )
    # Why errstate: a value beyond float32 becomes +-inf when a graph takes float32 rows, which the graph clips
    # like any Inf; numpy's overflow warning would otherwise fail the query where warnings are errors.
    dtype = model.input_dtype
    if model.layout is not None:
        return categorical.to_inputs(cols, model, func, dtype)
    with np.errstate(over="ignore"):
        doubles = _single_chunk_doubles(cols) if len(cols[0]) <= BULK_ORT_ROWS else None
        if doubles is not None:
            # Why: the SQL functions take DOUBLE arguments, so this is the common case; Arrow builds the row-major
            # matrix (NULL as NaN) in one C++ call, and with DuckDB calling from two threads at once that beats a
            # Python loop over the columns (d=30, SQL path: 3.3M -> 4.1M rows/s with the model run included).
            # Why only for UDF-sized calls: alone in a thread it is slower (65536 x 30: 2.3 ms vs 1.8 ms), and
            # bulk scoring converts its large batches in one thread (d=30: 3.9M vs 4.1M rows/s).
            tensor = pa.RecordBatch.from_arrays(doubles, names=_column_names(len(doubles))).to_tensor(
                null_to_nan=True, row_major=True)
            return np.asarray(tensor).astype(dtype, copy=False)
        return np.stack([column_to_numbers(c, i + 1, model.ref, func, model.feature_names[i], model.rec.source)
                         for i, c in enumerate(cols)], axis=1, dtype=dtype)


def _single_chunk_doubles(cols: Sequence[Any]) -> list[pa.Array] | None:
    """The columns as plain DOUBLE arrays, or None when any is of another type or in several chunks."""
    out = []
    for c in cols:
        if isinstance(c, pa.ChunkedArray):
            if c.num_chunks != 1:
                return None
            c = c.chunk(0)
        if c.type.id != _FLOAT64_ID or len(c) == 0:
            return None
        out.append(c)
    return out


@functools.cache
def _column_names(d: int) -> list[str]:
    return [f"x{i}" for i in range(d)]


def _alike_pairs(model: LoadedModel) -> set[tuple[int, int]]:
    """Pairs of features (i < j) whose training medians each lie within one robust spread of the other's: swapped,
    each value stays where its column's values lie, so a swap that lowers a batch's score tells no wrong order.

    Why: a reading and its rolling mean (the README's window features) hold the same values; on NAB's
    ambient_temperature, later rows beyond the training range scored lower with the two swapped, and the query
    failed as if its arguments were out of order."""
    from .features import raw_values

    specs = model.rec.features
    bands = [raw_values(f, np.array([-1.0, 1.0])) for f in specs]
    return {(i, j) for i in range(len(specs)) for j in range(i + 1, len(specs))
            if min(bands[i]) <= specs[j].fill <= max(bands[i]) and min(bands[j]) <= specs[i].fill <= max(bands[j])}


# How a user turns the SQL functions' argument-order checks off (this module's and categorical.check_text_order), by
# LoadedModel.surface. Why serve's names none: the server registers the functions with the check for every client,
# and no SET of a session reaches it.
ORDER_CHECK_OFF = {
    "": ("turn this check off: ad_duckdb.connect(path, check_order=False), `ad-duckdb sql --no-order-check`, "
         "or check_order: false in the dbt plugin config."),
    "sql": "turn this check off: `ad-duckdb sql --no-order-check`.",
    "serve": ("`ad-duckdb serve` keeps this check on for every client: pass the columns in the model's order "
              "(swap them back in the call)."),
}

# What a threshold written in an open transaction means for a missing one, by LoadedModel.surface. Why: a Python
# program's functions read the store through a connection of their own, but `ad-duckdb sql` loads them again on its
# own connection after a statement that writes the store (storewrites), so there its transaction's writes are seen.
UNCOMMITTED = {
    "": (" One written by SQL in an open transaction (BEGIN without COMMIT) is seen here once committed: the "
         "functions read the store through a connection of their own (`ad-duckdb sql` reads its own "
         "transaction's)."),
    "sql": (" Here a statement sees its own transaction's writes, committed or not: the threshold is not stored for "
            "this version, nor written earlier in this script."),
    # Why nothing: a command (score, explain, check-threshold) holds the file, so no transaction elsewhere can hold one
    "command": "",
    # Why: the server loads the store at start and SIGHUP, and (--read-write) once a write through it commits
    "serve": (" One stored while the server runs is seen after its COMMIT: by SQL through a --read-write server at "
              "once, by another process (beside a --snapshot server) once the server reloads: kill -HUP PID."),
}


def order_check_off(model: LoadedModel) -> str:
    """How to get past the order check where ``model``'s functions run."""
    return ORDER_CHECK_OFF.get(model.surface, ORDER_CHECK_OFF[""])


def check_order(model: LoadedModel, X: np.ndarray, scores: np.ndarray, func: str) -> None:
    """Raise when a batch looks like its columns were passed in the wrong order.

    Only runs when the batch is, as a whole, outside normal (median score above the training 99%
    quantile: half the rows beyond what 1 in 100 training rows reach); then, if swapping two arguments
    makes the batch look normal (median at most the training 90% quantile), the order is almost surely
    wrong. Cheap in the normal case: one count per call. Why 99% rather than 99.9%: a model trained for
    few steps scored the swapped example below its 99.9% quantile and flagged every row unchallenged; on
    the transactions example, batches of only planted or only flagged rows still pass (2 and 4 features,
    default and 100-step training).
    """
    q = model.quantiles
    if not model.check_order or q is None or len(scores) < 32 or model.n_features < 2 or model.n_features > 12:
        return
    hi = float(q[int(len(q) * 0.99)]) if len(q) > 1 else float(q[-1])
    limit = max(hi, 1e-12)
    # Why count first: the median can only exceed the limit if at least half the scores do, and a
    # count is ~10x cheaper than a median; normal batches (nearly all) stop here.
    if 2 * int(np.count_nonzero(scores > limit)) < len(scores):
        return
    med = float(np.median(scores))
    if not med > limit:
        return
    sample = X[:256]
    normal = float(q[int(len(q) * 0.9)])
    # a text column's inputs are 0/1 in every order: the numeric columns (the first ones) are the ones to swap
    d = model.n_features if model.layout is None else model.layout.numeric
    alike = _alike_pairs(model)
    for i in range(d):
        for j in range(i + 1, d):
            if (i, j) in alike:
                continue
            # Only rows holding both values: a missing value takes its most typical value wherever it sits (see
            # _fill_missing), so swapping it would make any batch of such rows look normal.
            sw = sample[~(np.isnan(sample[:, i]) | np.isnan(sample[:, j]))]
            if len(sw) < 32:
                continue
            sw[:, [i, j]] = sw[:, [j, i]]
            if float(np.median(model.scores(sw))) <= normal:
                names = list(model.feature_names)
                names[i], names[j] = names[j], names[i]
                right = sql_names(model.feature_names)
                raise FeatureMismatchError(
                    f"{func}('{model.ref}', ...): the arguments look out of order: these rows score as extreme "
                    f"outliers, but as normal once arguments {i + 1} and {j + 1} ({model.feature_names[i]!r} and "
                    f"{model.feature_names[j]!r}) are swapped. The model's features are, in order: ({right}). "
                    f"Call {_call(func, model)}. If these rows really hold those two columns swapped "
                    f"(e.g. you select them on purpose), {order_check_off(model)}"
                )

