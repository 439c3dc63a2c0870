"""A stored model back as a detector in a notebook (AutoEncoderDetector.from_store), explain's frame for polars and
Arrow input, and the scikit-learn helpers that ask an outlier detector for decision_function."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_pyexplain_detector import FEATURES
from test_pyexplain_detector import _table as explained_rows

import ad_duckdb
from ad_duckdb import AutoEncoderDetector

from conftest import FAST, ROOT, copy_tx_ae


def _table(n: int = 600) -> pd.DataFrame:
    """test_pyexplain_detector's rows (count, amount, items) with an id, a few NULLs and a row far out."""
    df = explained_rows(n)
    df.insert(0, "id", np.arange(n))
    df.loc[[5, 17], "amount"] = np.nan  # NULLs in SQL: scored with the column's typical value beside the others
    df.loc[[40], ["count", "items"]] = np.nan
    df.loc[[3], "amount"] = 9000.0  # far out
    return df


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, pd.DataFrame]:
    """A file database with table t and two versions of model m (the second with another seed)."""
    path = str(tmp_path_factory.mktemp("detload") / "w.duckdb")
    df = _table()
    con = ad_duckdb.connect(path)
    try:
        con.register("df_src", df)
        con.execute("CREATE TABLE t AS SELECT * FROM df_src")
        ad_duckdb.train(con, "m", "t", features=FEATURES, **{**FAST, "max_steps": 200})
        ad_duckdb.train(con, "m", "t", features=FEATURES, **{**FAST, "max_steps": 200, "seed": 3})
    finally:
        con.close()
    return path, df


def _sql(path: str, expr: str) -> list[object]:
    con = ad_duckdb.connect(path, read_only=True)
    try:
        return [r[0] for r in con.execute(f"SELECT {expr} FROM t ORDER BY id").fetchall()]
    finally:
        con.close()


def test_from_store_scores_as_sql_does(stored: tuple[str, pd.DataFrame]) -> None:
    path, df = stored
    con = ad_duckdb.connect(path, read_only=True)
    try:
        det = AutoEncoderDetector.from_store(con, "m@1")
        latest = AutoEncoderDetector.from_store(con, "m")
    finally:
        con.close()  # the detector holds the model, not the connection
    assert det.stored_ref_ == "m@1" and latest.stored_ref_ == "m@2"
    assert list(det.feature_names_in_) == FEATURES and det.n_features_in_ == 3
    sql = np.array(_sql(path, "anomaly_score('m@1', count, amount, items)"), dtype=np.float64)
    X = df[FEATURES]
    np.testing.assert_array_equal(det.decision_function(X), sql)  # exactly: the same ONNX graph, the same fill
    np.testing.assert_array_equal(det.score_samples(X), -sql)
    np.testing.assert_array_equal(latest.decision_function(X),
                                  np.array(_sql(path, "anomaly_score('m@2', count, amount, items)"), dtype=np.float64))
    # columns matched by name, in any order; an array by position, as the SQL functions take them
    np.testing.assert_array_equal(det.decision_function(X[["items", "count", "amount"]]), sql)
    np.testing.assert_array_equal(det.decision_function(X.to_numpy()), sql)
    # predict with the stored default threshold: is_anomaly's answer
    assert det.threshold_ == _sql(path, "anomaly_threshold('m@1', 'default')")[0]
    flagged = np.array(_sql(path, "is_anomaly('m@1', count, amount, items)"), dtype=np.int64)
    np.testing.assert_array_equal(det.predict(X), flagged)
    assert det.predict(X)[3] == 1
    # explain: anomaly_explain's shares; score_terms: anomaly_terms
    why = det.explain(X.iloc[:8], top=None)
    for i, row in enumerate(_sql(path, "anomaly_explain('m@1', count, amount, items)")[:8]):
        got = why.iloc[i]
        want = row if isinstance(row, list) else []
        np.testing.assert_allclose([got[f"share_{k + 1}"] for k in range(len(want))], [e["share"] for e in want],
                                   atol=1e-6)
    terms = det.score_terms(X)
    sql_terms = _sql(path, "anomaly_terms('m@1', count, amount, items)")
    for name in terms:
        np.testing.assert_allclose(terms[name], [r[name] for r in sql_terms], rtol=1e-6, atol=1e-9)


def test_from_store_params_refit_pickle_and_errors(stored: tuple[str, pd.DataFrame]) -> None:
    path, df = stored
    con = ad_duckdb.connect(path, read_only=True)
    try:
        det = AutoEncoderDetector.from_store(con, "m@2")
        with pytest.raises(ad_duckdb.ModelNotFoundError, match="known models: 'm'"):
            AutoEncoderDetector.from_store(con, "nope")
    finally:
        con.close()
    # the stored training options, as a retrain would pass them
    params = det.get_params()
    assert params["seed"] == 3 and params["max_steps"] == 200 and "progress" not in params
    assert "from_store('m@2')" in repr(det)
    X = df[FEATURES]
    scores = det.decision_function(X)
    again = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(again.decision_function(X), scores)
    # no training score is stored per row, a summary of them instead (test_pyapi_detector): predict_proba works
    assert det.predict_proba(X).shape == (len(X), 2)
    assert not hasattr(det, "decision_scores_")
    # fit trains a new model with those options (the stored one is left as it is), as fit always does
    refit = det.set_params(progress=False).fit(X)
    assert refit is det and det.stored_ref_ is None
    np.testing.assert_allclose(det.decision_function(X), AutoEncoderDetector(**params, progress=False).fit(X)
                               .decision_function(X), rtol=1e-6)
    assert det.predict_proba(X).shape == (len(X), 2)


def test_from_store_scores_without_torch(stored: tuple[str, pd.DataFrame]) -> None:
    """A scoring-only install (no [train] extra) loads and scores a stored model: no torch graph is needed."""
    path, _ = stored
    code = ("import sys; sys.modules['torch'] = None\n"
            "import ad_duckdb, numpy as np\n"
            f"con = ad_duckdb.connect({path!r}, read_only=True)\n"
            "det = ad_duckdb.AutoEncoderDetector.from_store(con, 'm@1'); con.close()\n"
            "print(det.predict(np.array([[8.0, 160.0, 10.0], [8.0, 9000.0, 10.0]])).tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[0, 1]"


def test_readme_from_store_example_runs(tmp_path: Path, tx_ae_master: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("det = AutoEncoderDetector.from_store(con, ", 1)[0].rsplit("```python\n", 1)[1]
    block += "det = AutoEncoderDetector.from_store(con, " + readme.split("det = AutoEncoderDetector.from_store(con, ",
                                                                       1)[1].split("```", 1)[0]
    path = copy_tx_ae(tx_ae_master, tmp_path / "tx.duckdb")
    con = ad_duckdb.connect(path, read_only=True)
    try:
        scope: dict[str, object] = {"con": con}
        exec(block, scope)
        sql = con.execute("SELECT anomaly_score('tx_ae@1', count, amount), is_anomaly('tx_ae@1', count, amount) "
                          "FROM transactions ORDER BY transaction_id").fetchall()
    finally:
        con.close()
    df, flagged, why = scope["df"], scope["flagged"], scope["why"]
    assert isinstance(df, pd.DataFrame) and isinstance(flagged, pd.DataFrame) and isinstance(why, pd.DataFrame)
    np.testing.assert_array_equal(df["score"].to_numpy(), [s for s, _ in sql])
    assert list(flagged.index) == [i + 1 for i, (_, f) in enumerate(sql) if f]
    assert list(why.index) == list(flagged.index) and len(why) > 0


def test_explain_gives_polars_a_polars_frame_and_arrow_an_arrow_table() -> None:
    """explain of a polars DataFrame gave a dict of numpy arrays, where a pandas one gives a DataFrame: a polars user
    gets the same columns as a polars DataFrame, an Arrow user an Arrow table (imputed as score's anomaly_imputed, a
    MAP of feature to value, NULL where no value was missing)."""
    import polars as pl
    import pyarrow as pa

    df = _table()[FEATURES]
    det = AutoEncoderDetector(**{**FAST, "max_steps": 200}).fit(df)
    probe = df.iloc[[0, 3, 5, 40]]
    want = det.explain(probe, top=2)
    columns = ["feature_1", "share_1", "feature_2", "share_2", "imputed"]
    for given, kind in ((pl.from_pandas(probe), pl.DataFrame), (pl.from_pandas(probe).lazy(), pl.DataFrame),
                        (pa.Table.from_pandas(probe, preserve_index=False), pa.Table)):
        got = det.explain(given, top=2)
        assert isinstance(got, kind), type(got)
        assert list(got.columns if kind is pl.DataFrame else got.column_names) == columns
        table = got.to_arrow() if kind is pl.DataFrame else got
        assert table.column("feature_1").to_pylist() == list(want["feature_1"])
        np.testing.assert_allclose(table.column("share_2").to_numpy(), want["share_2"].to_numpy(dtype=float))
        imputed = table.column("imputed").to_pylist()
        assert imputed[0] is None and imputed[1] is None
        assert dict(imputed[2]) == want["imputed"].iloc[2]  # Arrow's map as (key, value) pairs
    # polars reads the map as a dict, as pandas' imputed column holds one
    assert det.explain(pl.from_pandas(probe), top=2).to_dicts()[2]["imputed"] == want["imputed"].iloc[2]
    assert pa.types.is_map(det.explain(pa.Table.from_pandas(probe, preserve_index=False)).schema.field("imputed").type)
    # an array still gets the dict of arrays (with scikit-learn's warning that it is read by position)
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match="no column names"):
        assert isinstance(det.explain(probe.to_numpy()), dict)


def _planted() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    X[:10] += 6
    y = np.zeros(300, dtype=np.int64)
    y[:10] = 1
    return X, y


def test_cross_val_predict_decision_function_with_labels() -> None:
    """cross_val_predict(det, X, y, method="decision_function") stopped with "no attribute 'classes_'": given y,
    scikit-learn orders the columns of decision_function by classes_. classes_ is [0, 1], the labels predict gives
    (higher score = more like 1, anomaly); the scores are those of the call without y."""
    from sklearn.model_selection import KFold, cross_val_predict

    X, y = _planted()
    det = AutoEncoderDetector(max_steps=50, progress=False)
    cv = KFold(3, shuffle=True, random_state=0)
    with_y = cross_val_predict(det, X, y, cv=cv, method="decision_function")
    np.testing.assert_array_equal(with_y, cross_val_predict(det, X, cv=cv, method="decision_function"))
    assert with_y[:10].min() > np.median(with_y[10:])
    assert cross_val_predict(det, X, y, cv=cv, method="predict_proba").shape == (300, 2)
    fitted = AutoEncoderDetector(max_steps=50, progress=False).fit(X)
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    assert set(np.unique(fitted.predict(X))) <= set(fitted.classes_)


@pytest.mark.parametrize("display", ["PrecisionRecallDisplay", "RocCurveDisplay", "DetCurveDisplay"])
def test_curve_display_from_estimator_names_from_predictions(display: str) -> None:
    """PrecisionRecallDisplay.from_estimator(det, X, y) said only "Expected 'estimator' to be a binary classifier"
    (as for scikit-learn's IsolationForest): these displays take classifiers only, and an outlier detector passing as
    one would be misused elsewhere (stratified folds, classifier scorers). The message names the call that plots it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn import metrics

    X, y = _planted()
    det = AutoEncoderDetector(max_steps=50, progress=False).fit(X)
    cls = getattr(metrics, display)
    with pytest.raises(ad_duckdb.BadInputError,
                       match=rf"{display}\.from_estimator takes a binary classifier.*{display}\.from_predictions\("
                             r"y, det\.decision_function\(X\)\)"):
        cls.from_estimator(det, X, y)
    shown = cls.from_predictions(y, det.decision_function(X))  # the call the message names
    assert isinstance(shown, cls)
    plt.close("all")
