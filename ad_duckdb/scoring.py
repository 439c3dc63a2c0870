"""LoadedModel: a stored model ready to score, on its onnxruntime session (ortruns). Never imports torch."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import categorical, missing, scoretail, shapley
from .arrownumbers import string_array
from .closenames import did_you_mean
from .exceptions import BadInputError, IntegrityError
from .optionwords import SURFACE, opt
from .ortruns import (
    BULK_ORT_ROWS,
    OUTPUT_NAMES,
    _ort_session,
    input_dtype,
    load_session,
    pool_runs,
    run_aligned,
    run_rows,
)
from .percentiles import _percentile_curve
from .sqltext import quote_literal
from .store import ModelRecord
from .thresholds import FROM_TRAINING

if TYPE_CHECKING:
    import onnxruntime as ort

_SCORE_ONLY = OUTPUT_NAMES[:1]


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

        # a text column's inputs are one player (its part named once): shapley.Players says why
        s, parts = shapley.attribution(X, lambda rows: self.run(rows, bulk=bulk, missing=False), fill,
                                       lambda rows: self.scores(rows, bulk=bulk, missing=False), self.input_dtype,
                                       self._cut(bulk), None if self.layout is None else self.layout.players())
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
            if not self.thresholds and name in FROM_TRAINING:
                # Why: training stores these on every version, so none at all means its rows were deleted (by hand),
                # which "add it for this one" did not tell; the repair stores them all from the training scores
                db = shlex.quote(self.store_db) if self.store_db else "DB"
                raise ThresholdNotFoundError(
                    f"Model {self.ref!r} has no threshold {name!r}; its thresholds are: none, though training stores "
                    f"default, p90, p95, p99 and p999 on every version: its rows in ad_thresholds were deleted. Store "
                    f"them again from its training scores (and those set by hand, from the changelog): ad-duckdb "
                    f"restore-thresholds {db}.")
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
