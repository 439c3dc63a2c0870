"""A pandas DataFrame scored by the detector as DuckDB reads the same frame in SQL: the frame path and
``anomaly_score`` over the registered frame give the same scores for the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

import ad_duckdb
from ad_duckdb import AutoEncoderDetector

from conftest import FAST


def _category_rows() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 200
    return pd.DataFrame({"size": pd.Categorical(rng.choice([1.5, 2.5, 3.5, 9.0], n)), "b": rng.normal(size=n),
                         "c": rng.integers(0, 50, n)}, index=pd.RangeIndex(1000, 1000 + n, name="txid"))


def test_a_category_column_of_numbers_scores_as_sql_reads_it() -> None:
    # DuckDB reads a pandas category of numbers as its values (DOUBLE), as Arrow's dictionary of doubles is read:
    # the detector refused the same frame as "not numeric", with get_dummies as the fix
    df = _category_rows()
    con = ad_duckdb.connect(":memory:")
    try:
        ad_duckdb.train(con, "m", "df", features=["size", "b", "c"], **FAST)
        det = AutoEncoderDetector.from_store(con, "m")
        in_sql = con.sql("SELECT anomaly_score('m', size, b, c) AS s FROM df").fetchnumpy()["s"]
    finally:
        con.close()
    np.testing.assert_array_equal(det.decision_function(df), in_sql)
    np.testing.assert_array_equal(det.decision_function(pa.Table.from_pandas(df, preserve_index=False)), in_sql)
    as_floats = df.astype({"size": "float64"})
    np.testing.assert_array_equal(det.decision_function(as_floats), in_sql)
    missing = df.copy()
    missing.loc[missing.index[:3], "size"] = np.nan  # a missing category: NaN, as NULL in SQL
    np.testing.assert_array_equal(det.decision_function(missing)[:3], det.decision_function(
        as_floats.assign(size=as_floats["size"].where(np.arange(len(df)) >= 3)))[:3])
