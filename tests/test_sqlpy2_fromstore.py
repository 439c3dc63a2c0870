"""``AutoEncoderDetector.from_store(con, model, threshold=NAME)``: a stored threshold other than ``default`` as the
detector's ``threshold_``, so that ``predict`` is ``is_anomaly_at(model, NAME, ...)``; a name not stored is refused,
listing the stored ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ad_duckdb
from ad_duckdb import AutoEncoderDetector

from conftest import FAST


def _rows(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    load = rng.normal(size=n)
    return pd.DataFrame({"x": load + rng.normal(0, 0.1, n), "y": 2 * load + rng.normal(0, 0.1, n)})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("sqlpy2") / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        df = _rows()  # noqa: F841 (read by name)
        con.execute("CREATE TABLE t AS SELECT * FROM df")
        ad_duckdb.train(con, "m", "t", **FAST)
        ad_duckdb.set_threshold(con, "m", "c10", "contamination", target=0.10)
    finally:
        con.close()
    return path


def test_from_store_takes_a_named_threshold(store: str) -> None:
    con = ad_duckdb.connect(store)
    try:
        det = AutoEncoderDetector.from_store(con, "m", threshold="c10")
        cut = con.execute("SELECT anomaly_threshold('m', 'c10')").fetchall()[0][0]
        want = np.array([r[0] for r in con.sql("SELECT is_anomaly_at('m', 'c10', x, y) FROM t").fetchall()])
        default = AutoEncoderDetector.from_store(con, "m")
        rows = con.sql("SELECT x, y FROM t").df()
    finally:
        con.close()
    assert det.threshold_ == pytest.approx(cut) and det.threshold_ < default.threshold_
    got = det.predict(rows)
    assert (got == want.astype(np.int64)).all()
    assert 0.07 < got.mean() < 0.13, got.mean()  # about 10% of the training rows, as 'c10' promises
    assert "threshold='c10'" in repr(det), repr(det)
    # the confidence turns at the chosen threshold: rows beside it are near 0.5, far ones near 1
    conf = det.predict_confidence(rows)
    s = det.decision_function(rows)
    near = np.argsort(np.abs(s - det.threshold_))[:5]
    far = np.argsort(s)[:50]
    assert conf[near].max() < 0.8 and conf[far].min() > 0.99, (conf[near], conf[far].min())


def _refusal(store: str, model: str, threshold: str) -> str:
    con = ad_duckdb.connect(store)
    try:
        with pytest.raises(ad_duckdb.ThresholdNotFoundError) as e:
            AutoEncoderDetector.from_store(con, model, threshold=threshold)
    finally:
        con.close()
    return str(e.value)


def test_from_store_refuses_a_threshold_not_stored_naming_the_stored_ones(store: str) -> None:
    msg = _refusal(store, "m", "C10")
    assert "'m@1' has no threshold 'C10'" in msg, msg
    assert "'c10'" in msg and "'default'" in msg, msg
    assert "Did you mean 'c10'" in msg, msg
    assert "threshold='c10'" in msg and "set_threshold" not in msg, msg  # a typo: not stored a second time
    msg = _refusal(store, "m@1", "alerts")
    assert "Did you mean" not in msg and "set_threshold(con, 'm@1', 'alerts'" in msg, msg
    assert "ad-duckdb threshold" not in msg, msg  # a Python caller: its call alone
