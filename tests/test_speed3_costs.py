"""Work done once where it was done several times (compare --label, the totals-row check, explain): the same
answers as the code it replaced, which each test keeps as its reference. No timing here (bench/speed3.py measures)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import ad_duckdb
from ad_duckdb import smallpaired
from ad_duckdb.auc import auc_pr
from ad_duckdb.compare import compare_versions
from ad_duckdb.confusion import confusion
from ad_duckdb.models import load_model
from ad_duckdb.pairedauc import paired_auc_roc, paired_df, paired_test
from ad_duckdb.scoring import LoadedModel
from ad_duckdb.thresholds import Z95
from ad_duckdb.totalsrow import TotalsWatch

from conftest import FAST, make_transactions


def _old_midranks(s: np.ndarray) -> np.ndarray:
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    starts = np.r_[0, np.nonzero(sorted_s[1:] != sorted_s[:-1])[0] + 1]
    ends = np.r_[starts[1:], len(s)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def _old_paired(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    """paired_auc_roc as it was: three sorts a version (all rows, each class's own)."""
    m, n = int(y.sum()), int((~y).sum())
    aucs, v_pos, v_neg = [], [], []
    for s in (a, b):
        x, w = s[y], s[~y]
        r_all = _old_midranks(np.r_[x, w])
        r_pos, r_neg = r_all[:m], r_all[m:]
        aucs.append(float((r_pos.sum() - m * (m + 1) / 2.0) / (m * n)))
        v_pos.append((r_pos - _old_midranks(x)) / n)
        v_neg.append(1.0 - (r_neg - _old_midranks(w)) / m)
    # the test read from the placements as the fast form's (a Student t since stats3): the placements are compared
    cov_pos, cov_neg = np.cov(np.vstack(v_pos)) / m, np.cov(np.vstack(v_neg)) / n
    p = paired_test(aucs, cov_pos + cov_neg, Z95, paired_df(cov_pos, cov_neg, m - 1, n - 1),
                            None if np.array_equal(a, b) else (m, n))
    return p.auc_a, p.auc_b, p.diff, p.low, p.high, p.p_value


def test_delongs_test_from_one_sort_a_version_gives_the_same_floats_with_ties_and_infinite_scores() -> None:
    rng = np.random.default_rng(3)
    for case in range(30):
        k = int(rng.integers(6, 400))
        y = rng.random(k) < rng.uniform(0.05, 0.6)
        y[:2], y[2:4] = True, False
        a = np.round(rng.normal(size=k) + y, int(rng.integers(0, 3)))  # rounded: ties within and across classes
        b = np.round(a + rng.normal(size=k) * 0.7, int(rng.integers(0, 3)))
        if case % 3 == 0:
            a[rng.integers(0, k, 3)] = np.inf
            b[rng.integers(0, k, 2)] = -np.inf
        if case % 5 == 0:
            b = a.copy()  # the same ranking: no variance
        got = paired_auc_roc(a, b, y)
        old = _old_paired(a, b, y)
        if got.method == smallpaired.METHOD:  # 10 anomalies or fewer: DeLong's joined with MOVER's, which holds it
            assert (got.auc_a, got.auc_b, got.diff) == old[:3]
            assert got.low <= old[3] and got.high >= old[4] and got.p_value >= old[5], (got, old)
        else:
            assert (got.auc_a, got.auc_b, got.diff, got.low, got.high, got.p_value) == old


def _labelled_db(path: Path) -> str:
    db = str(path / "cmp.duckdb")
    con = ad_duckdb.connect(db)
    try:
        make_transactions(con, n=1200)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount_d"], seed=0, **FAST)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount_d"], seed=1, **FAST)
        # repeated rows (tied scores), a NULL feature (scored at its fill), a value far out, an infinite one
        con.execute("CREATE TABLE labelled AS SELECT transaction_id, CASE WHEN transaction_id % 50 = 0 THEN count * 9 "
                    "WHEN transaction_id % 61 = 0 THEN NULL WHEN transaction_id > 1100 THEN 8 ELSE count END AS count, "
                    "CASE WHEN transaction_id = 7 THEN 'inf'::DOUBLE WHEN transaction_id > 1100 THEN 200.0 "
                    "ELSE amount_d END AS amount_d, (transaction_id % 50 = 0 OR transaction_id % 97 = 0)::INTEGER "
                    "AS is_fraud FROM transactions")
    finally:
        con.close()
    return db


def test_compare_with_a_label_reads_its_rows_once_and_says_what_it_said(tmp_path: Path) -> None:
    """compare --label scored every row twice (the counts, then the labelled figures) and sorted each version's
    scores five more times; the counts and figures must be what they were: those of the unlabelled comparison and of
    the metrics worked out on their own."""
    db = _labelled_db(tmp_path)
    con = ad_duckdb.connect(db, read_only=True)
    try:
        for where in (None, "transaction_id > 30"):
            plain = compare_versions(con, "m@1", "m@2", "labelled", where=where, top=40)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no inverted-label note on these labels
                judged = compare_versions(con, "m@1", "m@2", "labelled", where=where, top=40, label="is_fraud")
            assert (judged.rows, judged.top_overlap, judged.rank_correlation, judged.top_tied_a, judged.top_tied_b) == (
                plain.rows, plain.top_overlap, plain.rank_correlation, plain.top_tied_a, plain.top_tied_b)
            assert [(t.name, t.flagged_a, t.flagged_b, t.both) for t in judged.thresholds] == [
                (t.name, t.flagged_a, t.flagged_b, t.both) for t in plain.thresholds]
            sa, sb, y = (np.array(c, dtype=np.float64) for c in zip(*con.execute(
                "SELECT anomaly_score('m@1', count, amount_d), anomaly_score('m@2', count, amount_d), is_fraud "
                f"FROM labelled WHERE {where or 'true'}").fetchall(), strict=True))
            assert np.isinf(sa).any() or np.isinf(sb).any() or len(np.unique(sa)) < len(sa)  # ties, at least
            j = judged.labelled
            assert j is not None and (j.rows, j.anomalies) == (len(y), int(y.sum()))
            assert (j.auc_roc_a, j.auc_roc_b, j.auc_roc_diff, j.auc_roc_diff_low, j.auc_roc_diff_high,
                    j.p_value) == _old_paired(sa, sb, y.astype(bool))
            assert (j.auc_pr_a, j.auc_pr_b) == (auc_pr(sa, y), auc_pr(sb, y))
            for t in judged.thresholds:
                for side, value, s in (("a", t.value_a, sa), ("b", t.value_b, sb)):
                    c = confusion(s, y, value)
                    assert getattr(t, f"recall_{side}") == c["recall"]
                    assert getattr(t, f"precision_{side}") == (c["precision"] if c["tp"] + c["fp"] else None)
        # inverted labels: still the note, once
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="inverted") as caught:
            compare_versions(con, "m@1", "m@2", "(SELECT * REPLACE (1 - is_fraud AS is_fraud) FROM labelled)",
                             label="is_fraud")
        assert len([w for w in caught if "inverted" in str(w.message)]) == 1
        # a label it cannot use: evaluate's message, as before
        with pytest.raises(ad_duckdb.SourceNotFoundError, match="label column 'is_frad' is not in"):
            compare_versions(con, "m@1", "m@2", "labelled", label="is_frad")
    finally:
        con.close()


def _old_watch_add(w: TotalsWatch, M: np.ndarray) -> None:
    """TotalsWatch._add as it was: reductions down a row-major slice's columns."""
    w.empty += int(np.isnan(M).all(axis=1).sum())
    with np.errstate(invalid="ignore"):
        w.sums += np.nansum(M, axis=0)
    w.nonzero += np.count_nonzero(np.nan_to_num(M), axis=0)
    A = np.abs(M)
    A[~(A < np.inf)] = -1.0
    cols = np.arange(M.shape[1])
    at = A.argmax(axis=0)
    top = A[at, cols]
    A[at, cols] = -1.0
    runner_up = A.max(axis=0)
    new = top > w.top_abs
    w.second_abs = np.where(new, np.maximum(w.top_abs, runner_up), np.maximum(w.second_abs, top))
    w.top_abs = np.where(new, top, w.top_abs)
    w.top_row[new] = w.read + at[new]
    for i in np.unique(at[new]):
        w.rows[w.read + int(i)] = M[i].copy()
    w.read += len(M)
    if new.any():
        held = set(w.top_row.tolist())
        for gone in [r for r in w.rows if r not in held]:
            del w.rows[gone]


@pytest.mark.parametrize("d", [1, 3, 7, 40])
def test_the_totals_watch_on_the_columns_transpose_finds_what_it_found(d: int) -> None:
    """NaN, +-infinity, rows of only NaN, ties for the largest value, negative totals, batches of one row."""
    rng = np.random.default_rng(d)
    M = np.round(rng.normal(size=(3000, d)) * 100, 1)
    M[rng.random(M.shape) < 0.05] = np.nan
    M[rng.integers(0, 3000, 4), rng.integers(0, d, 4)] = np.inf
    M[rng.integers(0, 3000, 3), rng.integers(0, d, 3)] = -np.inf
    M[[10, 11, 2999]] = np.nan
    M[500] = M[501] = np.nanmax(np.abs(M)) + 1  # a tie: no total
    M[800] = -np.nansum(np.where(np.isinf(M), 0, M), axis=0)  # a negative totals row
    new, old = TotalsWatch(d), TotalsWatch(d)
    for lo, hi in ((0, 1), (1, 7), (7, 1100), (1100, 1101), (1101, 3000)):
        new.add(M[lo:hi])
        _old_watch_add(old, M[lo:hi])
    assert (new.empty, new.read, new.nonzero.tolist(), new.top_row.tolist()) == (
        old.empty, old.read, old.nonzero.tolist(), old.top_row.tolist())
    assert new.top_abs.tolist() == old.top_abs.tolist() and new.second_abs.tolist() == old.second_abs.tolist()
    assert sorted(new.rows) == sorted(old.rows)
    assert all(np.array_equal(new.rows[k], old.rows[k], equal_nan=True) for k in new.rows)
    np.testing.assert_allclose(new.sums, old.sums, rtol=1e-12)  # added in pairs now: the last digit or so
    cols = list(range(d))
    assert repr(new.totals_row(cols)) == repr(old.totals_row(cols))


def test_explains_spreads_worked_out_for_a_whole_row_are_those_of_a_value_at_a_time() -> None:
    """explain's "N spreads above it" and its typical / not typical verdicts read these: one transform call per value
    was half explain's CPU at 150 columns."""
    from ad_duckdb.explainwords import row_spreads
    from ad_duckdb.features import FeatureSpec, transform

    rng = np.random.default_rng(5)
    specs = [FeatureSpec(f"c{j}", "DOUBLE", "slog" if j % 2 else "none", float(rng.normal() * 10),
                         float(rng.normal() * 3), float(rng.uniform(0.01, 50)), -3.0, 3.0) for j in range(60)]
    values = np.concatenate([rng.normal(size=(200, 60)) * 10.0 ** rng.integers(-3, 12, (200, 1)),
                             np.full((1, 60), np.inf), np.full((1, 60), -np.inf), np.full((1, 60), np.nan),
                             np.full((1, 60), 1e308), np.zeros((1, 60)), np.full((1, 60), -0.0)])
    values[rng.random(values.shape) < 0.1] = np.nan
    for row in values:
        old = [math.nan if math.isnan(x) else float(transform(np.array([[x]]), [f])[0, 0])
               for x, f in zip(row, specs, strict=True)]
        assert np.array_equal(row_spreads(specs, row), np.array(old), equal_nan=True)


def _wide_model(tmp_path: Path, d: int) -> tuple[LoadedModel, np.ndarray]:
    """A seeded model of ``d`` columns (heavy-tailed ones among them) and rows to explain: NULLs, values far out,
    beyond float32, and rows at the medians."""
    db = str(tmp_path / f"wide{d}.duckdb")
    con = ad_duckdb.connect(db)
    try:
        cols = ", ".join(f"CASE WHEN {k} % 3 = 0 THEN exp(random() * 8) ELSE random() * {k + 1} + i % {k + 2} END "
                         f"AS c{k}" for k in range(d))
        con.execute("SELECT setseed(0.25)")
        con.execute(f"CREATE TABLE w AS SELECT {cols} FROM range(600) t(i)")
        ad_duckdb.train(con, "w", "w", features=[f"c{k}" for k in range(d)], seed=0, **FAST)
        lm = LoadedModel(load_model(con, "w"))
        X = np.array(con.execute("SELECT * FROM w LIMIT 12").fetchall(), dtype=np.float64)
    finally:
        con.close()
    X[1, ::4] = np.nan
    X[2] *= 50.0
    X[3, 0] = 1e300  # beyond float32: +inf in the graph
    X[4] = np.array([f.fill for f in lm.rec.features])
    X[5, 1] = -np.inf
    return lm, X


@pytest.mark.parametrize("d", [4, 150])
def test_explanations_built_in_the_models_input_type_are_the_same(tmp_path: Path, d: int) -> None:
    """anomaly_explain's rows to score are built in the graph's input type, no longer in float64 then cast: the same
    scores and shares (exact Shapley values at 4 columns, sampled orders at 150)."""
    from ad_duckdb import shapley

    lm, X = _wide_model(tmp_path, d)
    for bulk in (False, True):
        s, parts, _ = lm.attribution_as_scored(X, bulk=bulk)
        # the old way: rows built in float64, cast by the scoring call
        held = np.isnan(X)
        s_old, parts_old = shapley.attribution(
            X, lambda r, b=bulk: lm.run(r, bulk=b, missing=False),
            lambda r, s_, fe, b=bulk: lm._fill_missing(r, s_, fe, b), lambda r, b=bulk: lm.scores(r, bulk=b, missing=False))
        assert np.array_equal(s, s_old) and np.array_equal(parts, parts_old)
        np.testing.assert_allclose(parts, parts_old, rtol=0, atol=1e-6)
        assert not (parts[held] != 0).any()
    filled = lm.as_scored(X)
    assert np.array_equal(lm._shapley(filled, False), shapley.values(
        filled, lambda r: lm.scores(r, missing=False)))
