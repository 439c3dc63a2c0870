"""The notebook user's detector: explain's result for a DuckDB relation or a dict of columns, predict_proba and
predict_confidence of a detector loaded from the store, train(path, wait=), and fit's note on an epoch column."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from test_detload_detector import _sql
from test_pyexplain_detector import FEATURES
from test_pyexplain_detector import _table as explained_rows

import ad_duckdb
from ad_duckdb import AutoEncoderDetector
from ad_duckdb.confidence import confidence

from conftest import FAST

PARAMS = {**FAST, "max_steps": 200}


@pytest.fixture(scope="module")
def fitted() -> AutoEncoderDetector:
    return AutoEncoderDetector(**PARAMS).fit(explained_rows(300)[FEATURES])


def test_explain_of_a_duckdb_relation_or_a_dict_is_an_arrow_table(fitted: AutoEncoderDetector) -> None:
    """A relation (con.sql / con.table) or a dict of columns is read as a table: its explanation is one too, an Arrow
    table as for Arrow input (DuckDB queries it by name), not explain's dict of [n, top] arrays for an array."""
    rows = explained_rows(300)[FEATURES].iloc[:12]
    want = fitted.explain(pa.Table.from_pandas(rows, preserve_index=False), top=2)
    con = duckdb.connect()
    try:
        con.register("rows_df", rows)
        con.execute("CREATE TABLE r AS SELECT * FROM rows_df")
        for rel in (con.sql("SELECT amount, items, count FROM r"), con.table("r")):
            got = fitted.explain(rel, top=2)
            assert isinstance(got, pa.Table), type(got)
            assert got.equals(want)
        why = fitted.explain(con.table("r"), top=2)  # noqa: F841  (read by its name in SQL)
        # DuckDB reads the result by its variable's name, as any Arrow table
        assert con.sql("SELECT count(*) FROM why WHERE feature_1 IS NOT NULL").fetchall() == [(12,)]
    finally:
        con.close()
    got = fitted.explain({c: rows[c].to_numpy() for c in FEATURES}, top=2)
    assert isinstance(got, pa.Table) and got.equals(want)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, pd.DataFrame]:
    path = str(tmp_path_factory.mktemp("pyapi") / "w.duckdb")
    df = explained_rows(600)
    df.insert(0, "id", np.arange(len(df)))
    df.loc[[3], "amount"] = 9000.0
    con = ad_duckdb.connect(path)
    try:
        con.register("df_src", df)
        con.execute("CREATE TABLE t AS SELECT * FROM df_src")
        ad_duckdb.train(con, "m", "t", features=FEATURES, **PARAMS)
    finally:
        con.close()
    return path, df


def _training_scores(path: str) -> np.ndarray:
    return np.array(_sql(path, "anomaly_score('m', count, amount, items)"), dtype=np.float64)


def test_from_store_predict_proba_and_confidence_as_the_fitted_detector(stored: tuple[str, pd.DataFrame]) -> None:
    path, df = stored
    con = ad_duckdb.connect(path, read_only=True)
    try:
        det = AutoEncoderDetector.from_store(con, "m")
    finally:
        con.close()
    X = df[FEATURES]
    probe = pd.DataFrame({"count": [8.0, 8.0, 2.0, 30.0], "amount": [160.0, 9000.0, 900.0, np.nan],
                          "items": [10.0, 10.0, 3.0, 31.0]})
    rows = pd.concat([X, probe], ignore_index=True)
    # the detector fitted on the same rows with the same options: the same model, to float32 rounding
    fit = AutoEncoderDetector(**PARAMS).fit(X, sql_types=["DOUBLE"] * 3)
    for method in ("linear", "unify"):
        np.testing.assert_allclose(det.predict_proba(rows, method=method), fit.predict_proba(rows, method=method),
                                   atol=1e-4, err_msg=method)
    # the confidence from the stored ranks is the one PyOD's formula gives with every training score (SQL's)
    train = _training_scores(path)
    s = det.decision_function(rows)
    want = confidence(train, s, det.threshold_, det.train_params_.contamination)
    np.testing.assert_allclose(det.predict_confidence(rows), want, rtol=0, atol=1e-12)
    labels, conf = det.predict(rows, return_confidence=True)
    np.testing.assert_array_equal(labels, det.predict(rows))
    np.testing.assert_allclose(conf, want, atol=1e-12)
    proba, conf = det.predict_proba(rows, return_confidence=True)
    assert proba.shape == (len(rows), 2) and conf.shape == (len(rows),)
    # and near the fitted detector's own (whose scores differ from SQL's in float32 rounding only)
    assert np.mean(np.abs(det.predict_confidence(rows) - fit.predict_confidence(rows)) < 1e-3) > 0.98


def test_from_store_of_a_model_stored_before_the_summary(stored: tuple[str, pd.DataFrame], tmp_path: Path) -> None:
    """A model an earlier release stored keeps its 1001 score quantiles only: 'linear' (their min and max) works,
    what needs more says so and how to get it."""
    path, df = stored
    old = str(tmp_path / "old.duckdb")
    shutil.copyfile(path, old)
    con = ad_duckdb.connect(old)
    try:
        con.execute("UPDATE ad_models SET metrics = json_remove(json_remove(metrics, '$.train_score_std'), '$.threshold_ranks')")
        det = AutoEncoderDetector.from_store(con, "m")
    finally:
        con.close()
    X = df[FEATURES]
    train = _training_scores(path)
    lo, hi = train.min(), train.max()
    want = np.clip((det.decision_function(X) - lo) / (hi - lo), 0, 1)
    np.testing.assert_allclose(det.predict_proba(X)[:, 1], want, atol=1e-12)
    for call in (lambda: det.predict_proba(X, method="unify"), lambda: det.predict_confidence(X)):
        with pytest.raises(ad_duckdb.NotFittedError, match=r"from_store\('m@1'\).*earlier release.*ad_duckdb.train"):
            call()


def _readings(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    t = 1.7e9 + np.arange(n) * 60.0  # epoch seconds, a reading a minute
    return pd.DataFrame({"t": t, "temp": 20 + rng.normal(0, 1, n), "load": 5 + rng.normal(0, 1, n)})


def test_fit_says_an_epoch_column_is_a_point_in_time_as_train_does() -> None:
    """fit on readings with their epoch time as a column trained without a word, though ad_duckdb.train names it:
    every later reading then lies beyond the training range and is flagged."""
    df = _readings()
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"AutoEncoderDetector\.fit: feature 't' rises row by row.*"
                      r"epoch seconds.*X\.drop\(columns=\['t'\]\)") as seen:
        det = AutoEncoderDetector(**PARAMS).fit(df)
    assert [w.filename for w in seen if "rises row by row" in str(w.message)] == [__file__]  # the user's line
    later = _readings(600).iloc[300:]
    assert det.predict(later).mean() > 0.5  # what the note is about
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AutoEncoderDetector(**PARAMS).fit(df[["temp", "load"]])
        AutoEncoderDetector(**PARAMS).fit(df.sample(frac=1.0, random_state=0))  # shuffled: not rising row by row
    # an array's column is named as fit names it
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"feature .x0. rises row by row.*np\.delete\(X, 0, axis=1\)"):
        AutoEncoderDetector(**PARAMS).fit(df.to_numpy())


def test_train_says_it_once(tmp_path: Path) -> None:
    con = ad_duckdb.connect()
    try:
        readings = _readings()  # noqa: F841  (read by its name, as DuckDB reads a DataFrame)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "m", "readings", features=["t", "temp", "load"], **PARAMS)
    finally:
        con.close()
    said = [str(w.message) for w in seen if "rises row by row" in str(w.message)]
    assert len(said) == 1 and said[0].startswith("Model 'm': feature 't'"), said


def test_a_frame_with_other_columns_is_told_the_call_of_its_own_library(fitted: AutoEncoderDetector) -> None:
    """A relation, Arrow table or polars frame with an id column beside the features was told to pass
    X[det.feature_names_in_], which a relation refuses ("use project()") and an Arrow table cannot take: the hint is
    now the selection its own library makes, and it works."""
    import polars as pl

    rows = explained_rows(50)
    rows.insert(0, "id", np.arange(len(rows)))
    con = duckdb.connect()
    try:
        con.register("rows_df", rows)
        con.execute("CREATE TABLE r AS SELECT * FROM rows_df")
        rel = con.table("r")
        want = fitted.decision_function(rows[FEATURES])
        cases = [(rel, "X.select(*det.feature_names_in_)"), (rel.to_arrow_table(), "X.select(det.feature_names_in_)"),
                 (pl.from_pandas(rows), "X.select(det.feature_names_in_)"),
                 (pl.from_pandas(rows).lazy(), "X.select(det.feature_names_in_)"),
                 ({c: rows[c].to_numpy() for c in rows.columns}, "{c: X[c] for c in det.feature_names_in_}"),
                 (rows, "X[det.feature_names_in_]")]
        for X, hint in cases:
            with pytest.raises(ad_duckdb.BadInputError, match=r"not fitted on \['id'\].*Pass " + re.escape(hint)):
                fitted.decision_function(X)
            picked = eval(hint, {"X": X, "det": fitted})  # the hint's call, as typed
            np.testing.assert_allclose(fitted.decision_function(picked), want, rtol=1e-6)
    finally:
        con.close()


def test_fit_on_a_frame_with_a_row_index_column_warns_as_train_leaves_it_out() -> None:
    """A notebook user moving from the classic fraud recipe read the shared credit-card CSV, whose last column,
    'Index', numbers the rows with every fraud first (1-492), and fitted AutoEncoderDetector on its normal rows.
    ad_duckdb.train leaves such a column out with a note; fit trained on it without a word, so a held-out fraud
    scored high for its row number, not its values (AUC-ROC 0.977 against train's 0.952 on the same rows).
    fit keeps scikit-learn's meaning (every column given is a feature) and says which column and how to drop it."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"amount": rng.normal(size=120), "count": rng.normal(size=120),
                      "Index": np.arange(493.0, 613.0), "customer_id": rng.permutation(120)})
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
        AutoEncoderDetector(**PARAMS).fit(X)
    said = " ".join(str(w.message) for w in caught)
    assert "'Index'" in said and "'customer_id'" in said and "row index" in said, said
    assert "X.drop(columns=['Index', 'customer_id'])" in said, said
    assert "'amount'" not in said and "'count'" not in said, said
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the columns that describe rows: no word
        AutoEncoderDetector(**PARAMS).fit(X[["amount", "count"]])


def test_fit_on_a_frame_holding_an_infinite_value_warns_nothing_of_numpys() -> None:
    """fit of a frame with an infinite value printed "fitids.py:21: RuntimeWarning: invalid value encountered in
    remainder" (the id-column check's np.mod of inf), twice; the fit itself worked. Warnings are errors here."""
    import pandas as pd

    X = pd.DataFrame(np.random.default_rng(1).normal(size=(300, 3)), columns=list("abc"))
    X.loc[5, "a"] = np.inf
    X.loc[6, "b"] = -np.inf
    det = AutoEncoderDetector(max_steps=50, progress=False).fit(X)
    assert np.isfinite(det.decision_function(X)).all()


def test_an_array_with_its_columns_out_of_order_gets_a_note_naming_the_order() -> None:
    """An array of (amount, count) scored by a detector fitted on (count, amount) flagged every row, and the only
    note ("X has no column names ... read by position") is said of every array alike. The SQL functions' order
    check now runs on the detector's scores: a note (scikit-learn reads arrays by position) with the order the
    values fit; the rows in fit's order, and far rows in it, get none."""
    rng = np.random.default_rng(0)
    count = rng.integers(1, 40, 3000).astype(float)
    X = np.column_stack([count, count * rng.lognormal(3.0, 0.3, 3000), rng.integers(0, 3, 3000)])
    det = AutoEncoderDetector(max_steps=300, progress=False).fit(X)
    for order, said in (([1, 0, 2], "column 1 looks like 'x1', column 2 looks like 'x0'"),
                        ([1, 2, 0], "column 1 looks like 'x1', column 2 looks like 'x2', column 3 looks like 'x0'")):
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=re.escape(f"the order their values fit: {said}.")) as w:
            det.decision_function(X[:, order])
        # the fix it gives puts them back: X[:, [...]] of the array given
        fix = re.search(r"pass X\[:, (\[[\d, ]+\])\]", str(w[0].message))
        assert fix is not None, w[0].message
        back = X[:, order][:, eval(fix.group(1))]
        assert np.array_equal(back, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det.decision_function(X)
        far = X[:64] * [30.0, 30.0, 1.0]  # far out in fit's order: no order fits them better
        assert det.predict(far).mean() > 0.5
    # a detector loaded from the store reads arrays by position too: the same note, from the stored quantiles
    con = ad_duckdb.connect()
    try:
        con.register("frame", pd.DataFrame(X, columns=["x0", "x1", "x2"]))
        con.execute("CREATE TABLE t AS SELECT * FROM frame")
        ad_duckdb.train(con, "m", "t", max_steps=300, progress=False)
        stored = AutoEncoderDetector.from_store(con, "m")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=re.escape("column 1 looks like 'x1', column 2 looks "
                                                                      "like 'x0'")):
            stored.decision_function(X[:, [1, 0, 2]])
    finally:
        con.close()
