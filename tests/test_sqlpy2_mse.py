"""``anomaly_mse(model, x1, ...)``: BigQuery ML's ``mean_squared_error`` column of ``ML.DETECT_ANOMALIES`` for users
migrating: each row's mean squared reconstruction error over the features (in units of the typical training row's,
1 for it), the square of ``anomaly_terms(...).reconstruction``; a row that breaks how the columns go together has a
large one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import ad_duckdb

from conftest import FAST


def test_anomaly_mse_is_the_mean_squared_reconstruction_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    load = rng.normal(size=800)
    df = pd.DataFrame({"id": np.arange(800), "x": load + rng.normal(0, 0.1, 800),  # noqa: F841 (read by name)
                       "y": 2 * load + rng.normal(0, 0.1, 800)})
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT * FROM df")
        con.execute("INSERT INTO t VALUES (800, 1.0, -2.0)")  # within each column's range, against their relation
        ad_duckdb.train(con, "m", "t", features=["x", "y"], **FAST)
        rows = con.execute("SELECT id, anomaly_mse('m', x, y) AS mean_squared_error, "
                           "anomaly_terms('m', x, y).reconstruction AS r FROM t ORDER BY id").fetchall()
        null = con.execute("SELECT anomaly_mse('m', NULL, NULL)").fetchall()[0][0]
    finally:
        con.close()
    mse = np.array([r[1] for r in rows])
    rec = np.array([r[2] for r in rows])
    np.testing.assert_allclose(mse, rec * rec, rtol=1e-6)
    assert 0.5 < float(np.median(mse[:800])) < 2.0, np.median(mse[:800])  # a typical training row: about 1
    assert mse[800] > 20 * np.median(mse[:800]) and mse[800] >= np.sort(mse)[-3], (mse[800], np.sort(mse)[-3:])
    assert null is not None and null >= 0  # a row of NULLs is scored at the fill values, as anomaly_score scores it
