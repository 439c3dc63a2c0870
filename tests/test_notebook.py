"""A data scientist in a notebook: the detector on DataFrames and arrays as they come, and the Python API's plots."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import ad_duckdb
from ad_duckdb.detector import AutoEncoderDetector
from ad_duckdb.exceptions import BadInputError, NotFittedError

TINY = {"n_models": 1, "max_steps": 20, "progress": False}


def _rows(n: int = 200, d: int = 3) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, d))


@pytest.mark.parametrize(("columns", "named"), [(["a", "a", "b"], "'a' (2 columns)"),
                                                 (["1", 1, "b"], "'1' (2 columns: '1', 1)")])
def test_a_frame_whose_column_names_repeat_is_refused_at_fit(columns: list[object], named: str) -> None:
    """Columns '1' and 1 both became the feature '1', so a frame with the two swapped was scored by position, against
    the wrong features, without a word; two columns 'a' made a reordered frame fail with 'got shape (200, 5)'.
    scikit-learn refuses both at fit."""
    X = pd.DataFrame(_rows(), columns=columns)
    with pytest.raises(BadInputError, match=rf"column names repeat: {re.escape(named)}.*X.columns = "):
        AutoEncoderDetector(**TINY).fit(X)


@pytest.mark.parametrize(("kw", "value", "says"), [
    ("feature_names", ["a", "b"], r"feature_names= has 2 name\(s\) for X's 3 column\(s\)"),
    ("feature_names", ["a", "a", "b"], r"feature_names= repeat: 'a'"),
    ("sql_types", ["DOUBLE"], r"sql_types= has 1 type\(s\) for X's 3 column\(s\)"),
])
def test_feature_names_and_types_must_fit_the_columns(kw: str, value: list[str], says: str) -> None:
    """Too few names or types stopped with a bare IndexError from deep inside the feature statistics."""
    with pytest.raises(BadInputError, match=says):
        AutoEncoderDetector(**TINY).fit(_rows(), **{kw: value})


@pytest.mark.parametrize("unit", ["datetime64[s]", "timedelta64[ms]"])
def test_an_array_of_dates_or_durations_is_refused_as_a_frame_of_them_is(unit: str) -> None:
    """A DataFrame's datetime column is refused with the conversion to use; the same values as a numpy array were
    taken as numbers in their own unit, so a model fitted on datetime64[s] scored datetime64[ns] rows 1e9 times
    further out."""
    X = (np.arange(600) * 3600).astype(unit).reshape(200, 3)
    with pytest.raises(BadInputError, match=rf"X holds {unit.split('[')[0]}.*astype\('int64'\)"):
        AutoEncoderDetector(**TINY).fit(X)
    det = AutoEncoderDetector(**TINY).fit(_rows())
    with pytest.raises(BadInputError, match=rf"X holds {unit.split('[')[0]}"):
        det.decision_function(X[:2])


def test_a_frame_missing_a_feature_gets_a_rename_that_runs() -> None:
    """A feature named 'Amount Due' was to be made with 'SELECT x AS Amount Due', which DuckDB cannot parse; and a
    frame whose 'Ärger' was written in decomposed Unicode (as some macOS files are) was said to lack 'Ärger' beside
    its own 'Ärger', with nothing to tell the two apart."""
    import unicodedata

    import ad_duckdb

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"Amount Due": rng.lognormal(3, 1, 300), "Ärger": rng.normal(size=300)})
    con = ad_duckdb.connect(":memory:")
    try:
        ad_duckdb.train(con, "m", "df", **TINY)
        renamed = df.rename(columns={"Amount Due": "amount"})
        # the frame's close column is offered with the RENAME that scores it, quoted as SQL reads the name
        with pytest.raises(BadInputError, match=r'lacks \[\'Amount Due\'\].*SELECT \* RENAME \(amount AS "Amount Due"\)'):
            ad_duckdb.score(con, "m", "renamed")
        assert ad_duckdb.score(con, "m", 'SELECT * RENAME (amount AS "Amount Due") FROM renamed').num_rows == 300
        nfd = df.rename(columns={"Ärger": unicodedata.normalize("NFD", "Ärger")})
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "m", "nfd")
        msg = str(e.value)
        assert "another Unicode form" in msg and f'SELECT *, "{unicodedata.normalize("NFD", "Ärger")}" AS "Ärger"' in msg
        fixed = ad_duckdb.score(con, "m", f'SELECT *, "{unicodedata.normalize("NFD", "Ärger")}" AS "Ärger" FROM nfd')
        assert fixed.num_rows == 300
        del renamed, nfd  # read by name only
    finally:
        con.close()


def test_a_frame_whose_names_have_spaces_around_them_is_told_so() -> None:
    """pd.read_csv of a header 'Transaction_ID, Count, Amount' (DuckDB's read_csv trims it) names the columns
    ' Count' and ' Amount'; scoring that frame with a model trained on the file said it lacks ['Count', 'Amount'],
    beside its columns listed as 'Count,  Amount', the spaces invisible, and offered 'SELECT x AS Count'."""
    import io

    rng = np.random.default_rng(0)
    count = rng.integers(1, 50, 300)
    text = "Transaction_ID, Count, Amount\n" + "".join(
        f"{i}, {c}, {c * a:.2f}\n" for i, (c, a) in enumerate(zip(count, rng.normal(20, 2, 300), strict=True)))
    con = ad_duckdb.connect(":memory:")
    try:
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=True)
        ad_duckdb.train(con, "m", "frame", features=["Count", "Amount"], **TINY)
        raw = pd.read_csv(io.StringIO(text))
        assert list(raw.columns) == ["Transaction_ID", " Count", " Amount"]
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "m", "raw")
        msg = str(e.value)
        assert "' Count'" in msg and "spaces" in msg and "skipinitialspace=True" in msg, msg
        assert 'SELECT *, " Count" AS "Count", " Amount" AS "Amount" FROM' in msg, msg
        fixed = ad_duckdb.score(con, "m", 'SELECT *, " Count" AS "Count", " Amount" AS "Amount" FROM raw')
        same = ad_duckdb.score(con, "m", "frame")["anomaly_score"].to_numpy()
        assert np.allclose(fixed["anomaly_score"].to_numpy(), same)
        del raw, frame  # read by name only
    finally:
        con.close()


def test_train_reads_a_record_batch_reader_as_the_readme_says() -> None:
    """The README lists a record-batch reader among the frames a source names; training reads its source more than
    once (its columns, then its rows), so it stopped with DuckDB's 'This RecordBatchReader has already been consumed'
    on a reader the user had just made and never read."""
    import pyarrow as pa

    rng = np.random.default_rng(0)
    count = rng.integers(1, 50, 300)
    table = pa.table({"count": count, "amount": count * rng.normal(20, 2, 300)})
    con = ad_duckdb.connect(":memory:")
    try:
        reader = table.to_reader(max_chunksize=64)
        info = ad_duckdb.train(con, "m", "reader", **TINY)
        assert info.features == ["count", "amount"] and info.train_rows == 300
        from_table = ad_duckdb.train(con, "t", "table", **TINY)
        assert info.thresholds == from_table.thresholds  # the same rows, in the same order: the same model
        del reader  # read by name only
    finally:
        con.close()


def test_pyod_quickstart_attributes_and_predict_proba() -> None:
    """PyOD's quick start reads clf.labels_ after fit and calls clf.predict_proba(X) (method 'linear' or 'unify');
    both stopped with an AttributeError. They follow PyOD's BaseDetector: labels_ = decision_scores_ > threshold_,
    'linear' min-max scales by the training scores (clipped to [0, 1]), 'unify' is erf of the standardised score."""
    from scipy.special import erf

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(300, 3)), rng.normal(6.0, 1.0, size=(10, 3))])
    det = AutoEncoderDetector(**TINY, contamination=0.05).fit(X)
    s, train = det.decision_function(X[::7]), det.decision_scores_
    assert det.labels_.tolist() == (train > det.threshold_).astype(int).tolist() and det.labels_.sum() > 0
    assert det.fit_predict(X).tolist() == det.labels_.tolist()
    linear = det.predict_proba(X[::7])
    assert linear.shape == (len(s), 2) and np.allclose(linear.sum(axis=1), 1.0)
    np.testing.assert_allclose(linear[:, 1], np.clip((s - train.min()) / (train.max() - train.min()), 0, 1))
    unify = det.predict_proba(X[::7], method="unify")
    np.testing.assert_allclose(unify[:, 1], np.clip(erf((s - train.mean()) / (train.std() * np.sqrt(2))), 0, 1))
    assert np.allclose(unify[:, 0], 1 - unify[:, 1])
    with pytest.raises(BadInputError, match=r"method='rank' is not a probability conversion of AutoEncoderDetector; "
                                            r"use 'linear' \(the default\) or 'unify'"):
        det.predict_proba(X[:3], method="rank")
    det.fit(X, score_training_rows=False)  # no training scores: neither may be left from the fit before
    assert not hasattr(det, "labels_")
    with pytest.raises(NotFittedError, match=r"score_training_rows=False.*decision_function"):
        det.predict_proba(X[:3])


def test_pyod_predict_confidence_and_return_confidence() -> None:
    """PyOD's clf.predict(X, return_confidence=True) and clf.predict_confidence(X) (Perini et al. 2020) stopped with
    a TypeError / AttributeError. The confidence is PyOD's formula, computed here with SciPy's binomial as PyOD does
    (ad_duckdb computes it without SciPy): 1 - binom.cdf(n - int(n c), n, (1 + #train <= s) / (2 + n)), flipped for
    rows predicted normal."""
    from scipy.stats import binom

    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(400, 3)), rng.normal(5.0, 1.0, size=(12, 3))])
    det = AutoEncoderDetector(**TINY, contamination=0.03).fit(X)
    Q = np.vstack([X[::5], [[np.nan, 0.0, 0.0]]])
    s, train = det.decision_function(Q), det.decision_scores_
    n = len(train)
    p = (1 + np.array([np.count_nonzero(train <= v) for v in s])) / (2 + n)
    expected = 1 - binom.cdf(n - int(n * 0.03), n, p)
    expected = np.where(s > det.threshold_, expected, 1 - expected)
    conf = det.predict_confidence(Q)
    np.testing.assert_allclose(conf, expected, atol=1e-9)
    assert ((conf >= 0) & (conf <= 1)).all() and conf.min() < 0.9 < conf.max()  # some near the threshold, some far
    labels, conf2 = det.predict(Q, return_confidence=True)
    assert labels.tolist() == det.predict(Q).tolist() and labels.sum() > 0 and np.array_equal(conf2, conf)
    proba, conf3 = det.predict_proba(Q, method="unify", return_confidence=True)
    np.testing.assert_array_equal(proba, det.predict_proba(Q, method="unify"))
    assert np.array_equal(conf3, conf)
    det.fit(X, score_training_rows=False)
    with pytest.raises(NotFittedError, match=r"score_training_rows=False"):
        det.predict_confidence(Q)


def test_the_binomial_tail_without_scipy_matches_scipy() -> None:
    """The regularized incomplete beta behind predict_confidence, against SciPy's, for the shapes it meets: a
    million training rows at 1% contamination, tiny ones, and x at 0, 1 and the distribution's middle."""
    from scipy.special import betainc

    from ad_duckdb.confidence import regularized_beta

    x = np.concatenate([np.random.default_rng(0).random(500), [0.0, 1.0, 1e-12, 1 - 1e-12]])
    for a, b in [(1.0, 1.0), (0.5, 3.0), (11.0, 2.0), (990_001.0, 10_000.0), (2.0, 1e6), (300.0, 3.0)]:
        xs = np.append(x, a / (a + b))
        np.testing.assert_allclose(regularized_beta(a, b, xs), betainc(a, b, xs), rtol=0, atol=1e-8)


@pytest.mark.parametrize(("name", "ours"), [("random_state", "seed"), ("epoch_num", "epochs"),
                                             ("hidden_neuron_list", "hidden_dims"), ("learning_rate", "lr"),
                                             ("verbose", "progress")])
def test_a_pyod_or_scikit_learn_parameter_name_gets_ours(name: str, ours: str) -> None:
    """AutoEncoderDetector(random_state=0), as scikit-learn and PyOD spell the seed, got only the list of 25 valid
    names; the message now says which one it is here, for the detector, set_params and ad_duckdb.train alike."""
    with pytest.raises(BadInputError, match=rf"Unknown parameter\(s\) \['{name}'\] \({name}= is {ours}= here\)"):
        AutoEncoderDetector(**TINY, **{name: 1}).fit(_rows())
    with pytest.raises(BadInputError, match=rf"\({name}= is {ours}= here\)"):
        AutoEncoderDetector().set_params(**{name: 1})


def test_train_names_its_own_keywords_and_typos_before_reading_rows() -> None:
    """ad_duckdb.train(..., columns=[...]), score's word carried over, listed 25 valid names without features=, and
    only after reading every row; epoch= got no hint. The table here does not exist: the names are checked first."""
    con = ad_duckdb.connect()
    try:
        with pytest.raises(BadInputError, match=r"^Model 'tx_ae': Unknown parameter\(s\) \['columns'\] "
                                                r"\(columns= is features= here\); valid ones are: .*\bfeatures\b"):
            ad_duckdb.train(con, "tx_ae", "no_such_table", columns=["count", "amount"])
        with pytest.raises(BadInputError, match=r"\['epoch', 'filter'\] \(did you mean epochs=\?, filter= is where= "
                                                r"here\); valid ones are: .*\bwhere\b"):
            ad_duckdb.train(con, "tx_ae", "no_such_table", epoch=3, filter="label = 0")
    finally:
        con.close()
    with pytest.raises(BadInputError, match=r"\['lattent_dim'\] \(did you mean latent_dim=\?\)"):
        AutoEncoderDetector(**TINY, lattent_dim=4).fit(_rows())


def test_rows_of_another_width_are_told_the_fitted_features() -> None:
    """An array of 2 columns for a detector fitted on a frame of 3 got only 'X must have shape (n, 3); got shape
    (2, 2).': neither which detector nor which columns it wants, nor the fix."""
    det = AutoEncoderDetector(**TINY).fit(pd.DataFrame(_rows(), columns=["amount", "count", "hour"]))
    with pytest.raises(BadInputError, match=r"got shape \(2, 2\)\. This AutoEncoderDetector was fitted on 3 features "
                                            r"\('amount', 'count', 'hour'\): pass rows of those columns, in that "
                                            r"order, or fit it again on these"):
        det.predict(np.zeros((2, 2)))


_TAKE_A_CONNECTION = ["drop_model", "evaluate", "export_model", "import_model", "list_models", "load_model",
                      "plot_scores", "plot_scores_over_time", "refresh", "register", "score", "set_threshold"]
# each function's other required arguments (any values: the connection is checked first)
_ARGS = {"list_models": (), "refresh": (), "register": (), "load_model": ("tx_ae",), "drop_model": ("tx_ae",),
         "import_model": ("tx_ae.onnx",), "set_threshold": ("tx_ae", "cut", "value")}
_KWARGS = {"evaluate": {"label": "is_fraud"}, "set_threshold": {"value": 1.0}}


@pytest.mark.parametrize("func", _TAKE_A_CONNECTION)
def test_a_path_where_the_connection_goes_is_told_to_connect_first(func: str, tmp_path) -> None:
    """ad_duckdb.train("warehouse.duckdb", ...) failed with "'str' object has no attribute 'cursor'"; every public
    function taking the connection first now names itself, the path, and ad_duckdb.connect."""
    path = str(tmp_path / "warehouse.duckdb")
    with pytest.raises(BadInputError, match=rf"^{func}\(\) takes a DuckDB connection first, not the path "
                                            rf"'{re.escape(path)}': open it with con = ad_duckdb.connect\("):
        getattr(ad_duckdb, func)(path, *_ARGS.get(func, ("tx_ae", "tx")), **_KWARGS.get(func, {}))
    with pytest.raises(BadInputError, match=rf"^{func}\(\) takes a DuckDB connection first .*got builtins\.dict"):
        getattr(ad_duckdb, func)({}, *_ARGS.get(func, ("tx_ae", "tx")), **_KWARGS.get(func, {}))
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing opened or created


@pytest.mark.parametrize("func", [*_TAKE_A_CONNECTION, "train"])
def test_a_closed_connection_is_told_to_open_again(func: str, tmp_path: Path) -> None:
    """A connection closed before the call (con.close(), the end of its `with` block) failed deep inside with
    DuckDB's "Connection Error: Connection already closed!", which named neither the function nor the fix."""
    path = str(tmp_path / "closed.duckdb")
    con = ad_duckdb.connect(path)
    con.close()
    with pytest.raises(BadInputError, match=rf"^{func}\(\): the connection passed is closed .* open the database "
                                            rf"again, con = ad_duckdb\.connect\('{re.escape(path)}'\), and pass that"):
        getattr(ad_duckdb, func)(con, *_ARGS.get(func, ("tx_ae", "tx")), **_KWARGS.get(func, {}))


def test_a_path_or_table_argument_of_another_type_names_the_argument() -> None:
    """export_model(con, m, None) and import_model(con, the file's bytes) failed in pathlib ("expected str, bytes or
    os.PathLike object"), score(..., into=5) with "'int' object has no attribute 'strip'"."""
    con = ad_duckdb.connect()
    try:
        for func, args in (("export_model", ("tx_ae", None)), ("import_model", (b"\x08\x08onnx",)),
                           ("import_model", (5,))):
            with pytest.raises(BadInputError, match=rf"^{func}\(\) takes the \.onnx file .* as a path \(str or "
                                                    r"pathlib\.Path\); got (NoneType None|bytes|int 5)"):
                getattr(ad_duckdb, func)(con, *args)
        con.execute("CREATE TABLE t AS SELECT 1.0 AS a")
        with pytest.raises(BadInputError, match=r"^into= takes the name of the table to write, e\.g\. "
                                                r"into='tx_scores'; got int 5\.$"):
            ad_duckdb.score(con, "tx_ae", "t", into=5)
    finally:
        con.close()


def test_the_connection_may_be_passed_by_name() -> None:
    con = ad_duckdb.connect()
    try:
        assert ad_duckdb.list_models(con=con) == []
        with pytest.raises(BadInputError, match=r"^list_models\(\) takes a DuckDB connection first"):
            ad_duckdb.list_models(con=None)
    finally:
        con.close()


def test_the_duckdb_module_is_taken_for_its_default_connection() -> None:
    """ad_duckdb.register(duckdb), with the notebook's duckdb.sql(...) on duckdb's default connection, worked until
    the connection check refused anything not a connection ("got builtins.module")."""
    import duckdb

    assert ad_duckdb.list_models(duckdb) == []
    ad_duckdb.register(duckdb)
    with pytest.raises(duckdb.Error, match="no_such_model"):  # the function is there, on the connection duckdb.sql uses
        duckdb.sql("SELECT anomaly_score('no_such_model', 1.0)").fetchall()


def test_a_returned_figure_shows_as_a_picture_in_a_notebook_that_never_drew_with_pyplot(tmp_path) -> None:
    """plot_scores(...) without a folder, as a cell's value, read "<Figure size 700x450 with 1 Axes>" in a fresh
    Jupyter kernel (even after `import matplotlib.pyplot`): IPython draws a Figure only through the formatter
    pyplot's inline backend registers at pyplot's first figure. `_repr_png_` is the hook IPython's display calls on
    any object when no formatter is registered for its type."""
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE readings AS SELECT DATE '2024-01-01' + INTERVAL (i) DAY AS day, "
                    "sin(i / 7.0) + (i % 5) / 10.0 AS a, cos(i / 11.0) AS b FROM range(300) t(i)")
        ad_duckdb.train(con, "valve", "readings", features=["a", "b"], **TINY)
        figures = [ad_duckdb.plot_scores(con, "valve", "readings"),
                   ad_duckdb.plot_scores_over_time(con, "valve", "readings")]
    finally:
        con.close()
    for fig in figures:
        assert isinstance(fig, Figure)
        png = fig._repr_png_()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        (tmp_path / "shown.png").write_bytes(png)
        img = imread(tmp_path / "shown.png")
        # the whole figure, legend below the axes included (cut to its drawn area, as IPython's inline backend cuts)
        w, h = fig.get_size_inches() * fig.dpi
        assert 0.8 * w < img.shape[1] <= w + 2 and 0.8 * h < img.shape[0] <= h + 2, (img.shape, w, h)
        assert img[..., :3].std() > 0.05  # drawn, not a blank canvas


def test_pandas_missing_values_in_an_array_are_missing_values() -> None:
    """df.to_numpy() of a frame with a nullable column (Int64, read_csv's dtype_backend=) is an object array holding
    pd.NA where a value is missing; fit and decision_function stopped with numpy's bare "TypeError: float() argument
    must be a string or a real number, not 'NAType'", where the frame itself (or None, or NaN) is a missing value."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"count": pd.array(rng.poisson(5, 200), dtype="Int64"), "amount": rng.gamma(2.0, 50.0, 200)})
    df.loc[[3, 50], "count"] = pd.NA
    X = df.to_numpy()
    assert X.dtype == object and X[3, 0] is pd.NA
    det = AutoEncoderDetector(**TINY).fit(df)
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match="no column names"):  # fitted on the frame, as scikit-learn's
        on_x = det.decision_function(X)
    np.testing.assert_array_equal(on_x, det.decision_function(df))
    assert np.isfinite(on_x).all()
    on_array = AutoEncoderDetector(**TINY).fit(X)
    np.testing.assert_array_equal(on_array.decision_function(X), det.decision_function(df))
    # what is neither a number nor missing still gets numpy's own message (as scikit-learn's does)
    X[7, 1] = {"amount": 1.0}
    with pytest.raises(TypeError, match="dict"):
        det.decision_function(X)


def test_a_frame_whose_times_are_its_index_is_told_to_reset_it(tmp_path) -> None:
    """A time series in pandas keeps its times in a DatetimeIndex, which DuckDB does not read as a column: the
    scores-over-time plot of such a frame said it "has no DATE or TIMESTAMP column" and told the user to cast a
    `day` column it does not have (and time='ts', the index's name, "is not in 'readings'"); evaluate(plots_dir=)
    left the plot out without a word."""
    rng = np.random.default_rng(0)
    readings = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)},
                            index=pd.date_range("2024-01-01", periods=300, freq="h", name="ts"))
    con = ad_duckdb.connect()
    try:
        ad_duckdb.train(con, "valve", "readings", **TINY)
        for time in (None, "ts"):  # the frame by its name: read with its index, as score reads it (test_sqlpy2_notebook)
            assert ad_duckdb.plot_scores_over_time(con, "valve", "readings", time=time).axes
        assert ad_duckdb.plot_scores_over_time(con, "valve", "SELECT * FROM readings WHERE a > 0").axes  # a query too
        readings_t = readings.reset_index()  # noqa: F841  (read by its name)
        assert ad_duckdb.plot_scores_over_time(con, "valve", "readings_t").axes  # the fix it names runs
        labelled = readings.assign(label=(np.arange(300) % 30 == 0).astype(int))  # noqa: F841  (read by its name)
        rep = ad_duckdb.evaluate(con, "valve", "labelled", label="label", plots_dir=tmp_path)
        # evaluate reads the index of times as plot_scores_over_time does (test_sqlpy3_times): plotted, no note
        assert len(rep.plots) == 3 and not any("reset_index()" in n for n in rep.notes), rep.notes
        # a frame without times in its index, or a query over one, is told what it was before
        plain = readings.reset_index(drop=True)  # noqa: F841  (read by its name)
        with pytest.raises(BadInputError, match="has no DATE or TIMESTAMP column; score a query that casts one"):
            ad_duckdb.plot_scores_over_time(con, "valve", "plain")
    finally:
        con.close()


def test_parameters_are_attributes_as_in_pyod_and_scikit_learn() -> None:
    """``det.contamination`` raised an AttributeError (PyOD's and scikit-learn's detectors keep each parameter as an
    attribute), and ``det.contamination = 0.2`` before ``fit`` was dropped without a word: fit flagged 1% of the
    rows. A parameter is read and set as an attribute, defaults included, and fit uses what was set."""
    det = AutoEncoderDetector(**TINY)
    assert det.contamination == 0.01 and det.n_models == 1 and det.hidden_dims is None
    det.contamination = 0.2
    assert det.get_params()["contamination"] == 0.2
    assert "contamination" in dir(det)
    det.fit(_rows())
    assert det.labels_.mean() == pytest.approx(0.2, abs=0.01)
    with pytest.raises(AttributeError, match="no attribute 'n_estimators'"):
        _ = det.n_estimators
    import pickle

    again = pickle.loads(pickle.dumps(det))
    assert again.contamination == 0.2 and again.threshold_ == det.threshold_


def test_a_named_frame_scored_by_a_detector_fitted_on_an_array_is_warned_of() -> None:
    """Fitted on ``df.to_numpy()``, a DataFrame scored later is read by position (fit saw no names), so one whose
    columns came in another order was scored against the wrong features without a word; scikit-learn warns ("X has
    feature names, but ... was fitted without feature names"). Frames without names of their own (pandas' 0, 1, 2)
    are read by position quietly, as before."""
    from ad_duckdb.exceptions import AdDuckDBWarning

    X = _rows()
    det = AutoEncoderDetector(**TINY).fit(X)
    df = pd.DataFrame(X[:20], columns=["a", "b", "c"])
    with pytest.warns(AdDuckDBWarning, match=r"X has column names \('c', 'a', 'b'\), but .* fitted on an array "
                                             r"without column names.*by position.*feature_names=") as said:
        det.predict(df[["c", "a", "b"]])
    assert said[0].filename == __file__  # the user's line, not ours
    np.testing.assert_array_equal(det.decision_function(pd.DataFrame(X[:20])), det.decision_function(X[:20]))


def test_a_dict_of_arrays_is_a_frame_to_the_detector() -> None:
    """The README names a dict of numpy arrays among the frames the detector takes (as DuckDB reads one by name), but
    fit and decision_function stopped with numpy's bare "float() argument must be ... not 'dict'". Its keys are
    column names, matched by name as a DataFrame's; one that is not a table of columns is told so."""
    X = _rows()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    det = AutoEncoderDetector(**TINY).fit({c: df[c].to_numpy() for c in "abc"})
    assert list(det.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_array_equal(det.decision_function({c: df[c].to_numpy() for c in "cab"}), det.decision_function(df))
    with pytest.raises(BadInputError, match=r"X is a dict.*one 1-D array per column"):
        det.decision_function({"a": X})


def test_a_parameter_set_on_a_copy_of_a_detector_leaves_the_original_s() -> None:
    """``copy.copy(det)`` shares ``det.params``, and a parameter set as an attribute (or with set_params) went into
    that shared dict: ``variant.contamination = 0.2`` changed the original's too, which its next fit then used. Each
    keeps its own, as attributes of two objects are."""
    import copy

    det = AutoEncoderDetector(**TINY)
    variant = copy.copy(det)
    variant.contamination = 0.2
    other = copy.copy(det).set_params(seed=7)
    assert (det.contamination, det.seed) == (0.01, 0)
    assert (variant.contamination, other.seed) == (0.2, 7)
    assert det.get_params() == TINY


@pytest.mark.parametrize(("name", "meant"), [("random_state", "seed"), ("epoch_num", "epochs"),
                                              ("learning_rate", "lr")])
def test_scikit_learn_s_and_pyod_s_name_of_a_parameter_set_as_an_attribute_is_refused_with_this_one_s(
        name: str, meant: str) -> None:
    """``det.contamination = 0.2`` reaches fit, but ``det.random_state = 7`` (PyOD's and scikit-learn's name for the
    seed) became a plain attribute that fit never read: the fits were not reproduced, without a word. It is refused
    as the constructor refuses it, naming this detector's parameter."""
    det = AutoEncoderDetector(**TINY)
    with pytest.raises(BadInputError, match=rf"Unknown parameter.*{name}.*{meant}"):
        setattr(det, name, 7)
    assert det.get_params() == TINY and name not in vars(det)


def test_a_datetime_column_is_refused_with_a_cycle_to_train_on_not_epoch_numbers() -> None:
    """A DataFrame's datetime column, and an array of datetime64, were refused with "X[col].astype('int64') for
    datetimes": epoch nanoseconds rise with time, so every row later than the training rows lay beyond the training
    range and was flagged. The SQL path offers the hour of the day and the day of the week for that reason; so does
    the detector now, with expressions that compute them."""
    t = pd.Series(pd.date_range("2024-01-01", periods=200, freq="h"))  # a Monday
    frame = pd.DataFrame({"a": _rows(200, 1)[:, 0], "ts": t})
    with pytest.raises(BadInputError, match=r"'ts' \(datetime64.*X\['ts'\]\.dt\.hour.*X\['ts'\]\.dt\.dayofweek") as e:
        AutoEncoderDetector(**TINY).fit(frame)
    assert "astype('int64') for datetimes" not in str(e.value)
    X = t.to_numpy().astype("datetime64[s]").reshape(100, 2)
    with pytest.raises(BadInputError, match=r"hour of the day") as e:
        AutoEncoderDetector(**TINY).fit(X)
    # the expressions the message offers compute what they say
    hour, day = re.findall(r"\(?X\.astype\('datetime64\[[hD]\]'\)\.astype\('int64'\)(?: \+ 3\))? % (?:24|7)",
                           str(e.value))
    assert np.array_equal(eval(hour, {"X": X}), t.dt.hour.to_numpy().reshape(100, 2))
    assert np.array_equal(eval(day, {"X": X}), t.dt.dayofweek.to_numpy().reshape(100, 2))


def test_a_polars_datetime_column_is_refused_with_a_cycle_to_train_on() -> None:
    """A polars (or Arrow) timestamp column was refused with "a date as an integer in one unit": epoch numbers rise
    with time, so every later row lay beyond the training range."""
    import polars as pl
    t = pd.Series(pd.date_range("2024-01-01", periods=200, freq="h"))
    frame = pl.DataFrame({"a": _rows(200, 1)[:, 0], "ts": t.to_numpy()})
    with pytest.raises(BadInputError, match=r"'ts' \(timestamp.*dt\.hour\(\).*dt\.weekday\(\).*rises with time") as e:
        AutoEncoderDetector(**TINY).fit(frame)
    assert "integer in one unit" not in str(e.value)


def test_an_array_scored_by_a_detector_fitted_on_a_frame_is_warned_of() -> None:
    """Fitted on a DataFrame, then given ``new_df[other_order].to_numpy()``, the detector read the array by position
    against the frame's columns without a word, so the columns were scored against the wrong features; scikit-learn
    warns ("X does not have valid feature names, but ... was fitted with feature names"). An array after a fit on
    an array, with or without ``feature_names=`` (ad_duckdb.train's), is read quietly, as before."""
    from ad_duckdb.exceptions import AdDuckDBWarning

    X = _rows()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    det = AutoEncoderDetector(**TINY).fit(df)
    for score in (det.decision_function, det.predict, det.predict_proba, det.score_samples, det.score_terms,
                  det.explain):
        with pytest.warns(AdDuckDBWarning, match=r"X has no column names, but this AutoEncoderDetector was fitted on "
                                                 r"a DataFrame \('a', 'b', 'c'\).*by position.*X\[det"
                                                 r"\.feature_names_in_\]") as said:
            score(df[["c", "a", "b"]].to_numpy())
        assert said[0].filename == __file__, score  # the user's line, not ours
    np.testing.assert_array_equal(det.decision_function(df[["c", "a", "b"]]), det.decision_function(df))
    named = AutoEncoderDetector(**TINY).fit(X, feature_names=["a", "b", "c"])
    plain = AutoEncoderDetector(**TINY).fit(X)
    unnamed = AutoEncoderDetector(**TINY).fit(pd.DataFrame(X))  # pandas' 0, 1, 2 name nothing
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        named.decision_function(X[:5])
        plain.predict(X[:5])
        unnamed.predict(X[:5])


def test_evaluate_s_report_draws_its_plots_for_a_notebook(tmp_path) -> None:
    """evaluate returned no figure: in a notebook the precision-recall curve and the histogram by label were only
    files (plots_dir=) to open by hand. The report draws them, as scikit-learn's Display objects do: the same
    figures plots_dir= writes (the lowest-cost cut marked too), shown as a cell's value without pyplot."""
    from dataclasses import asdict
    from io import BytesIO

    from matplotlib.figure import Figure

    from ad_duckdb.report import Report

    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE readings AS SELECT sin(i / 7.0) + (i % 5) / 10.0 + CASE WHEN i % 50 = 0 THEN 4 "
                    "ELSE 0 END AS a, cos(i / 11.0) AS b, (i % 50 = 0)::INTEGER AS label FROM range(400) t(i)")
        ad_duckdb.train(con, "valve", "readings", features=["a", "b"], where="label = 0", **TINY)
        rep = ad_duckdb.evaluate(con, "valve", "readings", label="label", miss_cost=50, alarm_cost=1)
        written = ad_duckdb.evaluate(con, "valve", "readings", label="label", miss_cost=50, alarm_cost=1,
                                     plots_dir=tmp_path)
    finally:
        con.close()
    assert rep.plots == [] and set(asdict(rep)) == {"model", "rows", "anomalies", "auc_roc", "auc_pr",
                                                    "at_thresholds", "table", "plots", "notes", "costs", "anomaly_share",
                                                    "auc_roc_ci"}
    for fig, file in ((rep.pr_curve(), written.plots[0]), (rep.score_hist(), written.plots[1])):
        assert isinstance(fig, Figure) and fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
        drawn = BytesIO()
        fig.savefig(drawn, dpi=110, format="png")
        assert drawn.getvalue() == (tmp_path / file).read_bytes(), file
    assert any(t.get_text().startswith("lowest cost") for t in rep.pr_curve().axes[0].get_legend().get_texts())
    by_hand = Report(model="m@1", rows=4, anomalies=2, auc_roc=1.0, auc_pr=1.0, at_thresholds={})
    with pytest.raises(BadInputError, match=r"Report of 'm@1' holds no scores to draw: .*ad_duckdb\.evaluate"):
        by_hand.pr_curve()


def test_what_train_load_model_or_from_store_returned_as_the_model_is_told_its_name() -> None:
    """A notebook keeps ``info = ad_duckdb.train(...)`` and passes ``info`` on as the model, as a PyOD user passes
    the fitted detector. Before: score, evaluate, set_threshold and plot_scores failed with "TypeError: unhashable
    type: 'ModelInfo'" from inside the UDF registry; the others printed the object's whole repr. Now each says
    which stored version it is and what to pass."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE readings AS SELECT sin(i / 7.0) AS a, cos(i / 11.0) AS b, (i % 50 = 0)::INTEGER "
                    "AS label FROM range(200) t(i)")
        info = ad_duckdb.train(con, "valve", "readings", features=["a", "b"], **TINY)
        held = {"info": info, "rec": ad_duckdb.load_model(con, "valve"),
                "det": AutoEncoderDetector.from_store(con, "valve")}
        calls = {
            "score": lambda m: ad_duckdb.score(con, m, "readings"),
            "evaluate": lambda m: ad_duckdb.evaluate(con, m, "readings", label="label"),
            "set_threshold": lambda m: ad_duckdb.set_threshold(con, m, "c2", "contamination", target=0.02),
            "plot_scores": lambda m: ad_duckdb.plot_scores(con, m, "readings"),
            "load_model": lambda m: ad_duckdb.load_model(con, m),
            "compare_versions": lambda m: ad_duckdb.compare_versions(con, m, "valve", "readings"),
        }
        fixes = {"info": "info.ref", "rec": "rec.ref", "det": "det.stored_ref_"}
        for what, model in held.items():
            for func, call in calls.items():
                with pytest.raises(BadInputError) as e:
                    call(model)
                said = str(e.value)
                assert "'valve@1'" in said and "'valve'" in said and fixes[what].split(".")[1] in said, (what, func, said)
                assert "onnx=" not in said and "thresholds=" not in said, (what, func, said)  # not the whole repr
        assert ad_duckdb.score(con, info.ref, "readings").num_rows == 200
    finally:
        con.close()


@pytest.fixture()
def kernel_sigint() -> Iterator[None]:
    """SIGINT handled in Python as a notebook kernel's is. Why: a test run started in the background (`make test &`,
    CI runners) ignores SIGINT, and then _thread.interrupt_main() does nothing (Python's rule for a signal it does not
    handle), so the button below would never press."""
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _add_interrupt_button(con: duckdb.DuckDBPyConnection) -> None:
    """SQL function press_interrupt(x): on its first call, the interrupt a notebook kernel's SIGINT handler raises in
    the main thread; true for every row."""
    import _thread

    con.execute("SET threads = 1")  # the source's function then runs on the calling thread, as the UDFs do
    calls = [0]

    def press_interrupt(x: float) -> bool:
        calls[0] += 1
        if calls[0] == 1:
            _thread.interrupt_main()  # what the kernel's SIGINT handler sees
        return True

    con.create_function("press_interrupt", press_interrupt, ["DOUBLE"], "BOOLEAN", side_effects=True)


@pytest.mark.parametrize("into", [None, "scores"])
def test_a_notebook_s_interrupt_of_score_is_a_keyboard_interrupt(into: str | None, kernel_sigint: None) -> None:
    """The kernel's interrupt button (SIGINT) during ``ad_duckdb.score``. Before: it came out as DuckDB's wrapper of it,
    "InvalidInputException: Python exception occurred while executing the UDF: KeyboardInterrupt" (as if the query
    were wrong) or "RuntimeError: Query interrupted", where train and evaluate raise KeyboardInterrupt; now a
    KeyboardInterrupt that names the scoring, nothing written, and the connection goes on."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE readings AS SELECT sin(i / 7.0) AS a, cos(i / 11.0) AS b FROM range(50000) t(i)")
        ad_duckdb.train(con, "valve", "SELECT * FROM readings LIMIT 400", **TINY)
        _add_interrupt_button(con)
        with pytest.raises(KeyboardInterrupt) as e:
            ad_duckdb.score(con, "valve", "SELECT * FROM readings WHERE press_interrupt(a)", into=into)
        assert "score" in str(e.value) and "'valve'" in str(e.value), str(e.value)
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scores'").fetchone() == (0,)
        assert ad_duckdb.score(con, "valve", "readings", into="scores") == 50000
    finally:
        con.close()


_PRESSED_SOURCE = "SELECT * FROM readings WHERE press_interrupt(a)"


def _interrupted_calls(con: duckdb.DuckDBPyConnection, plots: Path) -> dict[str, Callable[[], object]]:
    det = ad_duckdb.AutoEncoderDetector.from_store(con, "valve")
    return {
        "evaluate": lambda: ad_duckdb.evaluate(con, "valve", _PRESSED_SOURCE, label="y"),
        "set_threshold": lambda: ad_duckdb.set_threshold(con, "valve", "f1", "max_f1", source=_PRESSED_SOURCE, label="y"),
        "plot_scores": lambda: ad_duckdb.plot_scores(con, "valve", _PRESSED_SOURCE, plots),
        "plot_scores_over_time": lambda: ad_duckdb.plot_scores_over_time(con, "valve", _PRESSED_SOURCE, plots, time="ts"),
        "compare_versions": lambda: ad_duckdb.compare_versions(con, "valve@1", "valve@2", _PRESSED_SOURCE),
        "train": lambda: ad_duckdb.train(con, "valve", _PRESSED_SOURCE, features=["a", "b"], **TINY),
        "explain": lambda: det.explain(con.sql(_PRESSED_SOURCE).select("a, b")),
        "decision_function": lambda: det.decision_function(con.sql(_PRESSED_SOURCE).select("a, b")),
    }


@pytest.mark.parametrize("call", ["evaluate", "set_threshold", "plot_scores", "plot_scores_over_time",
                                  "compare_versions", "train", "explain", "decision_function"])
def test_a_notebook_s_interrupt_of_the_other_long_calls_is_a_keyboard_interrupt(call: str, tmp_path: Path,
                                                                                 kernel_sigint: None) -> None:
    """The kernel's interrupt button (SIGINT) during evaluate, set_threshold, plot_scores, compare_versions, train's
    read, and the detector's read of a DuckDB relation. Before: DuckDB's wrapper of it, "InvalidInputException: Python
    exception occurred while executing the UDF: KeyboardInterrupt", as score gave; now a KeyboardInterrupt naming the
    call, nothing stored, and the connection goes on."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE readings AS SELECT sin(i / 7.0) AS a, cos(i / 11.0) AS b, (i % 97 = 0)::INT AS y, "
                    "TIMESTAMP '2024-01-01' + i * INTERVAL 1 MINUTE AS ts FROM range(20000) t(i)")
        for _ in range(2):
            ad_duckdb.train(con, "valve", "SELECT a, b FROM readings LIMIT 400", **TINY)
        _add_interrupt_button(con)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ad_duckdb.AdDuckDBWarning)  # few anomalies, few rows: not the point
            with pytest.raises(KeyboardInterrupt) as e:
                _interrupted_calls(con, tmp_path)[call]()
        said = str(e.value)
        named = {"explain": "relation X", "decision_function": "relation X"}.get(call, f"ad_duckdb.{call} with 'valve")
        assert named in said and "interrupted" in said, said
        assert [m["version"] for m in ad_duckdb.list_models(con)] == [1, 2]
        assert con.execute("SELECT count(*) FROM readings").fetchone() == (20000,)
    finally:
        con.close()
