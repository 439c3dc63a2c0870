"""Rows with NULLs scored with less work around the missing-value search, with the same answers: the search builds
its trial rows without a [values x candidates] matrix read back by np.nonzero, gathers rows with take, and the SQL
functions' scores run the graph for the score output alone (the per-feature errors were copied out of every trial
run and thrown away). Each test keeps the code it replaced as its reference (missing.fill_missing of a4a14fb) and
checks the trial rows handed to the model, the scores, the errors and the values chosen are the same to the last bit.
No timing here (bench/null_costs.py and bench/speed5.py measure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import test_speed4_costs
from test_speed4_costs import _holed

import ad_duckdb
from ad_duckdb import explaingraph, missing, shapley
from ad_duckdb.features import FeatureSpec, transform
from ad_duckdb.udfs import registry

# the fixture of cardio's float32 and float64 models, shared with the search's earlier test
cardio_models = test_speed4_costs.cardio_models


def _old_fill_missing(X: np.ndarray, s: np.ndarray, fe: np.ndarray, specs: Sequence[FeatureSpec],
                 cands: list[np.ndarray], run: Any, *, values: bool = True) -> np.ndarray:
    """missing.fill_missing as it was (ad_duckdb a4a14fb)."""
    rows = np.nonzero(np.isnan(X).any(axis=1))[0]
    best = X[rows]  # a copy (fancy indexing)
    best_s, best_fe = s[rows], fe[rows]
    held = np.isnan(best)
    # Each row's missing values in column order, in rounds: round r tries every row's r-th missing value (its earlier
    # ones chosen, its later ones at the median, as the column-by-column search had them), every column's in one
    # model run. Why: the search per column cost twice the trial rows' own model time where NULLs spread over many
    # columns (21 runs of ~60 rows, each with its own numpy work, per 2048-row call on cardio); rows are
    # independent, so each row's choices and scores are what they were.
    most = int(held.sum(axis=1).max(initial=0))
    order = np.cumsum(held, axis=1) - 1 if most > 1 else held - 1  # one value a row (the usual case): round 0
    has = np.array([len(c) > 0 for c in cands])
    fixed = _old_padded(cands)  # [d, K]
    Z = transform(X[rows], specs)
    lo, hi = (np.array([f.lo for f in specs]), np.array([f.hi for f in specs]))
    outside = ((Z < lo) | (Z > hi)) & ~held  # the row's present values beyond their column's training range
    center, scale = np.array([f.center for f in specs]), np.array([f.scale for f in specs])
    slog = np.array([f.transform == "slog" for f in specs])
    for r in range(most):
        # each row's r-th missing value (a column without candidates keeps the median), missing.SEARCH_VALUES at a time
        at_r = np.nonzero(held & (order == r) & has)
        for start in range(0, len(at_r[0]), missing.SEARCH_VALUES):
            ci, cj = at_r[0][start : start + missing.SEARCH_VALUES], at_r[1][start : start + missing.SEARCH_VALUES]
            # Per value, its candidates in order: the column's fixed ones, then as many robust units above its median as
            # each of the row's present values beyond their own column's training range lies, then below (NaN where a
            # partner is in range). Why those: the fixed candidates stay inside the training range, so beside a count
            # far beyond it no amount was in proportion, and a row that lost its amount scored twice what it did with
            # it; columns that move together are as unusual together. In this order ties go as they always did.
            cols = np.nonzero(outside[ci].any(axis=0))[0]
            out = outside[ci][:, cols]
            out[cj[:, None] == cols[None, :]] = False  # a value is no partner of itself
            beyond = np.full((len(ci), 2 * len(cols)), np.nan)
            oi, oc = np.nonzero(out)
            if len(oi):  # worked out for the partners only (most rows have none): raw_values' arithmetic, per column
                z = Z[ci[oi], cols[oc]]
                beyond[oi, oc], beyond[oi, oc + len(cols)] = missing._raw(np.concatenate([z, -z]), np.tile(cj[oi], 2), center,
                                                                  scale, slog).reshape(2, -1)
            vals = np.concatenate([fixed[cj], beyond], axis=1)
            # Only each row's own candidates: a beyond-range one is NaN where the row has no value out of range in
            # that column (another row of the batch has), and would score the row as it is. Those were 91% of the
            # passes on a 39-column table with 30% NULLs, which then scored 170 times slower than without NULLs.
            cell, kk = np.nonzero(~np.isnan(vals))
            if not len(cell):  # only from a model whose constants are NaN: the medians stay
                continue
            trial = best[ci[cell]]  # [n_trials, d]: a copy (fancy indexing)
            with np.errstate(over="ignore"):  # beyond float32 in a float32 model: infinite, clipped at 1000 units alike
                trial[np.arange(len(cell)), cj[cell]] = vals[cell, kk]
            ts_run, tfe = run(trial)
            # Each value's lowest-scoring candidate, the first of equal ones (as np.argmin over its candidates in order
            # chose): ``cell`` runs in order, each value's candidates together and in order. A NaN among them makes
            # the lowest NaN, which no row takes, as argmin's NaN was not.
            new_cell = np.r_[True, cell[1:] != cell[:-1]]
            low = np.minimum.reduceat(ts_run, np.flatnonzero(new_cell))
            hit = np.flatnonzero(ts_run == low[np.cumsum(new_cell) - 1])
            first = hit[np.r_[True, cell[hit[1:]] != cell[hit[:-1]]]] if len(hit) else hit
            c_first = cell[first]
            win = np.nonzero(ts_run[first] < best_s[ci[c_first]])[0]
            taken, at = c_first[win], first[win]
            pick = ci[taken]
            best_s[pick] = ts_run[at]
            best_fe[pick] = tfe[at]
            with np.errstate(over="ignore"):  # as for the trial rows above
                best[pick, cj[taken]] = vals[cell[at], kk[at]]
    s[rows], fe[rows] = best_s, best_fe
    if not values:
        return X
    fill = np.array([f.fill for f in specs])
    out_x = X.copy()
    out_x[rows] = np.where(np.isnan(best), fill, best)
    return out_x


def _old_padded(cands: list[np.ndarray]) -> np.ndarray:
    """``cands`` as one matrix [d, most candidates of a column], NaN after a column's own."""
    M = np.full((len(cands), max((len(c) for c in cands), default=0)), np.nan)
    for j, c in enumerate(cands):
        M[j, : len(c)] = c
    return M



def _recorded(run: Any, seen: list[np.ndarray]) -> Any:
    def go(trial: np.ndarray) -> Any:
        seen.append(trial.copy())
        return run(trial)
    return go


def _same_trials(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("model", ["c32", "c64"])
def test_rows_with_nulls_score_as_the_search_before_scored_them(cardio_models: tuple[str, np.ndarray],
                                                                model: str) -> None:
    """On real data with 10% to all of a row's values missing and values far out, in the SQL functions' batches and
    bulk scoring's: the search hands the model the trial rows it handed it before, in the same order, and gives the
    same scores, errors and chosen values; asked for scores alone (the errors None, the graph run for its score
    output), the same scores and values; LoadedModel.scores, run, as_scored and SQL's anomaly_score agree with it."""
    path, X = cardio_models
    con = ad_duckdb.connect(path, read_only=True)
    try:
        lm = registry(con).get(model)
        H = _holed(X[:, : lm.n_features], np.random.default_rng(11))
        for bulk in (False, True):
            M = (np.tile(H, (8, 1)) if bulk else H).astype(lm.input_dtype)
            assert not bulk or np.isnan(M).any(axis=1).sum() > missing.SEARCH_VALUES
            s0, fe0 = lm.run(M, bulk=bulk, missing=False)
            old_seen: list[np.ndarray] = []
            want_s, want_fe = s0.copy(), fe0.copy()
            want_x = _old_fill_missing(M, want_s, want_fe, lm.rec.features, lm._candidates(),
                                       _recorded(lambda t, b=bulk: lm.run(t, bulk=b, missing=False), old_seen))
            new_seen: list[np.ndarray] = []
            got_s, got_fe = s0.copy(), fe0.copy()
            got_x = missing.fill_missing(M, got_s, got_fe, lm.rec.features, lm._candidates(),
                                         _recorded(lambda t, b=bulk: lm.run(t, bulk=b, missing=False), new_seen))
            assert _same_trials(new_seen, old_seen)
            assert np.array_equal(got_s, want_s) and np.array_equal(got_fe, want_fe)
            assert np.array_equal(got_x, want_x)
            alone: list[np.ndarray] = []
            only_s = lm.scores(M, bulk=bulk, missing=False)
            assert np.array_equal(only_s, s0)  # the score output alone is the score of the run with the errors
            only_x = missing.fill_missing(M, only_s, None, lm.rec.features, lm._candidates(), _recorded(
                lambda t, b=bulk: (lm.scores(t, bulk=b, missing=False), None), alone))
            assert _same_trials(alone, old_seen)
            assert np.array_equal(only_s, want_s) and np.array_equal(only_x, want_x)
            assert np.array_equal(lm.scores(M, bulk=bulk), want_s)
            assert all(np.array_equal(a, b) for a, b in zip(lm.run(M, bulk=bulk), (want_s, want_fe), strict=True))
            held = np.isnan(M)
            assert np.array_equal(lm.as_scored(M)[held], want_x.astype(np.float64)[held])
            s_as, x_as = lm.scored_as(M)
            assert np.array_equal(s_as, want_s) and np.array_equal(x_as, want_x)
        assert (np.isnan(M).any(axis=1) & (want_s < s0)).sum() > 100  # the search chose other values than the median
        cols = ", ".join(lm.feature_names)
        con.execute("CREATE TEMP TABLE holed AS SELECT " + ", ".join(
            f"nullif(unnest(?::DOUBLE[]), 'NaN'::DOUBLE) AS {n}" for n in lm.feature_names),
            [H[:, i].tolist() for i in range(lm.n_features)])
        sql = np.array(con.execute(f"SELECT anomaly_score('{model}', {cols}) FROM holed").fetchall())[:, 0]
        assert np.array_equal(sql, want_s[: len(H)].astype(np.float64))
    finally:
        con.close()


def _spec(rng: np.random.Generator, j: int) -> FeatureSpec:
    """A column's constants as training fits them, some odd: a signed log, a narrow or one-sided range, a range of
    zero width (no candidates), a NaN centre (NaN candidates, kept out)."""
    kind = rng.integers(0, 6)
    lo, hi = -float(rng.uniform(0.2, 3.0)), float(rng.uniform(0.2, 5.0))
    if kind == 1:
        lo = 0.0
    if kind == 2:
        lo = hi = 0.0
    center = float("nan") if kind == 3 else float(rng.normal() * 3)
    return FeatureSpec(name=f"c{j}", sql_type="DOUBLE", transform="slog" if kind == 4 else "none", fill=0.5,
                       center=center, scale=float(rng.uniform(0.1, 4.0)), lo=lo, hi=hi)


def _score_of(specs: Sequence[FeatureSpec], W: np.ndarray) -> Any:
    """A deterministic score of rows (NaN at the median) with errors: a fixed mixing of the scaled values."""
    def run(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            Z = np.nan_to_num(transform(rows, specs), nan=0.0)
            fe = (Z @ W - Z) ** 2
        return fe.mean(axis=1), fe
    return run


def test_the_search_on_odd_constants_and_many_partners_is_the_search_before() -> None:
    """Columns without candidates, NaN candidates, signed logs; rows missing one to every value beside values far
    beyond the range in many columns at once (many partners): the same trial rows in the same order, the same
    scores, errors and values chosen, in batches of every size up to bulk scoring's (several search chunks)."""
    rng = np.random.default_rng(5)
    for trial in range(40):
        d = int(rng.integers(1, 12))
        specs = [_spec(rng, j) for j in range(d)]
        n = int(rng.choice([1, 3, 17, 300, 2500]))
        X = rng.normal(size=(n, d)) * rng.choice([1.0, 5.0, 1e4], size=d)
        X[rng.random((n, d)) < rng.uniform(0.05, 0.6)] = np.nan
        far = rng.random((n, d)) < 0.2
        X[far] *= 1e3
        X = X.astype(rng.choice([np.float32, np.float64]))
        run = _score_of(specs, rng.normal(size=(d, d)) / np.sqrt(d))
        cands = missing.candidates(specs)
        s0, fe0 = run(X)
        old_seen: list[np.ndarray] = []
        new_seen: list[np.ndarray] = []
        want_s, want_fe = s0.copy(), fe0.copy()
        with np.errstate(invalid="ignore"):
            want_x = _old_fill_missing(X, want_s, want_fe, specs, cands, _recorded(run, old_seen))
            got_s, got_fe = s0.copy(), fe0.copy()
            got_x = missing.fill_missing(X, got_s, got_fe, specs, cands, _recorded(run, new_seen))
            only_s = s0.copy()
            only_x = missing.fill_missing(X, only_s, None, specs, cands, lambda t, r=run: (r(t)[0], None))
        assert _same_trials(new_seen, old_seen), trial
        assert np.array_equal(got_s, want_s, equal_nan=True) and np.array_equal(got_fe, want_fe, equal_nan=True)
        assert np.array_equal(got_x, want_x, equal_nan=True)
        assert np.array_equal(only_s, want_s, equal_nan=True) and np.array_equal(only_x, want_x, equal_nan=True)


def _explained_both_ways(lm: Any, X: np.ndarray, bulk: bool) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """attribution_as_scored through the graph cut where its preprocessing ends, and through the whole graph."""
    assert lm._cut(bulk) is not None  # the cut is made, and scores as the whole graph on its probe rows
    cut = lm.attribution_as_scored(X, bulk=bulk)
    kept, lm._cut_sessions = lm._cut_sessions, False
    try:
        whole = lm.attribution_as_scored(X, bulk=bulk)
    finally:
        lm._cut_sessions = kept
    return cut, whole


@pytest.mark.parametrize("model", ["c32", "c64"])
def test_explanations_through_the_cut_graph_are_the_whole_graphs(cardio_models: tuple[str, np.ndarray],
                                                                  model: str) -> None:
    """anomaly_explain scores each row's coalition rows from the graph's scaled input on (explaingraph: the row and
    the median row preprocessed once): on cardio with a heavy-tailed column, in float32 and float64 input, with NULLs
    and values far out, the scores, shares and values imputed are the whole graph's to the bit, in the SQL functions'
    batches and bulk scoring's, and SQL's anomaly_explain gives them."""
    path, X = cardio_models
    con = ad_duckdb.connect(path, read_only=True)
    try:
        lm = registry(con).get(model)
        H = _holed(X[:300, : lm.n_features], np.random.default_rng(3))
        for bulk in (False, True):
            with np.errstate(over="ignore"):  # as the SQL functions hand rows over: in the graph's input type
                cut, whole = _explained_both_ways(lm, H.astype(lm.input_dtype), bulk)
            assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(cut, whole, strict=True))
        con.execute("CREATE TEMP TABLE holed AS SELECT " + ", ".join(
            f"nullif(unnest(?::DOUBLE[]), 'NaN'::DOUBLE) AS {n}" for n in lm.feature_names),
            [H[:, i].tolist() for i in range(lm.n_features)])
        got = con.execute(f"SELECT anomaly_explain('{model}', {', '.join(lm.feature_names)}) FROM holed").fetchall()
        order, shares, some = shapley.ranked(whole[1])
        for (row,), o, sh, ok in zip(got, order, shares, some, strict=True):
            want = [{"feature": lm.feature_names[j], "share": float(v)} for j, v in zip(o, sh, strict=True)] if ok else []
            assert row == want
    finally:
        con.close()


def test_explanations_of_wide_and_narrow_tables_through_the_cut_are_the_whole_graphs(
        tmp_path: Any, capfd: pytest.CaptureFixture[str]) -> None:
    """A 40-column table (a third heavy-tailed: signed logs), explained over 8 orders, and a 3-column one, explained
    exactly over its 8 subsets: the same scores and shares through the cut. Its two parts hold each of the graph's
    constants once between them (a large model's codes are not held three times), and onnxruntime loads them without
    a word (it warns of a constant no node reads)."""
    rng = np.random.default_rng(9)
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        n, d = 3000, 40
        base = rng.normal(size=(n, 4)) @ rng.normal(size=(4, d))
        W = np.where(np.arange(d) % 3 == 0, np.exp(base), base + rng.normal(size=(n, d)) * 0.3)
        con.execute("CREATE TABLE w AS SELECT " + ", ".join(f"unnest(?::DOUBLE[]) AS c{j}" for j in range(d)),
                    [W[:, j].tolist() for j in range(d)])
        ad_duckdb.train(con, "w", "w", features=[f"c{j}" for j in range(d)], seed=0, max_steps=300, progress=False)
        ad_duckdb.train(con, "n", "w", features=["c0", "c1", "c2"], seed=0, max_steps=300, progress=False)
        capfd.readouterr()
        for name, cols in (("w", d), ("n", 3)):
            lm = registry(con).get(name)
            made = explaingraph.cut(lm.rec.onnx, lm.n_features)
            assert made is not None and len(made[1]) + len(made[2]) < 1.02 * len(lm.rec.onnx)
            M = W[:120, :cols].copy()
            M[::7, 1] *= 50.0
            M[::11, 2] = np.nan
            for bulk in (False, True):
                cut, whole = _explained_both_ways(lm, M, bulk)
                assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(cut, whole, strict=True)), name
        assert capfd.readouterr().err == ""
    finally:
        con.close()
