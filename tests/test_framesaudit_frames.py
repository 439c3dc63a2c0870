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


def _stored_detector() -> AutoEncoderDetector:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"a": rng.normal(10, 2, 200), "b": rng.normal(size=200)})  # noqa: F841 (read by name)
    con = ad_duckdb.connect(":memory:")
    try:
        ad_duckdb.train(con, "m", "df", **FAST)
        return AutoEncoderDetector.from_store(con, "m")
    finally:
        con.close()


def _refusal(det: AutoEncoderDetector, X: object) -> str:
    try:
        det.decision_function(X)
    except ad_duckdb.BadInputError as e:
        return str(e)
    raise AssertionError("scored")


def test_a_refused_column_gets_the_fix_of_its_own_library_and_kind() -> None:
    # The Arrow path's advice was polars' for every frame (pl.col(...) for an Arrow table or a DuckDB relation) and
    # to_dummies for every kind: one column per number for numbers written as text, or per length for a duration
    import datetime as dt

    import polars as pl

    det = _stored_detector()
    b = [0.1, 0.2, 0.3]
    text = pl.DataFrame({"a": ["10.5", "11", None], "b": b})
    said = _refusal(det, text)
    assert "'a'" in said and "numbers written as text" in said and "pl.col('a').cast(pl.Float64, strict=False)" in said
    assert "to_dummies" not in said
    said = _refusal(det, text.to_arrow())
    assert "numbers written as text" in said and "TRY_CAST" in said and "pl." not in said and "polars" not in said
    amounts = pl.DataFrame({"a": ["$1,234.50", "$12.00", "$3.10"], "b": b})
    said = _refusal(det, amounts)
    assert "currency marks" in said and "TRY_CAST(replace(" in said and "to_dummies" not in said
    con = ad_duckdb.connect(":memory:")
    try:
        rel = con.sql("SELECT TIMESTAMP '2024-01-01 05:00' AS a, 0.1 AS b")
        said = _refusal(det, rel)
        assert "hour(\"a\")" in said and "X.project(" in said and "pl." not in said and "polars" not in said
    finally:
        con.close()
    said = _refusal(det, pa.table({"a": pa.array([dt.datetime(2024, 1, 1)] * 3), "b": b}))
    assert "pc.hour(X['a'])" in said and "pl." not in said
    said = _refusal(det, pl.DataFrame({"a": [dt.timedelta(seconds=3)] * 3, "b": b}))
    assert "pl.col('a').dt.total_seconds()" in said and "to_dummies" not in said
    said = _refusal(det, pd.DataFrame({"a": pd.to_timedelta([1, 2, 3], unit="s"), "b": b}))
    assert "X['a'].dt.total_seconds()" in said and "get_dummies" not in said


def _training_refusal(t: object) -> str:
    """What training on the frame ``t`` (read by its name, as a replacement scan) is refused with."""
    con = ad_duckdb.connect(":memory:")
    try:
        try:
            ad_duckdb.train(con, "m", "t", **FAST)
        except ad_duckdb.BadInputError as e:
            return str(e)
    finally:
        con.close()
    raise AssertionError("trained")


def test_a_polars_column_arrow_cannot_read_is_named_with_its_cast() -> None:
    # polars' Int128 has no Arrow type: training said the frame "does not exist ... Did you mean 't'?", and the
    # detector raised Arrow's "Invalid or unsupported format string: '_pli128'", neither naming the column
    import polars as pl

    t = pl.DataFrame({"a": pl.Series([10, 11, None] * 20, dtype=pl.Int128), "b": [0.1, 0.2, 0.3] * 20})
    fix = "X.with_columns(pl.col('a').cast(pl.Float64))"
    said = _training_refusal(t)
    assert "'t'" in said and "'a' (Int128)" in said and fix.replace("X.", "t.") in said and "does not exist" not in said
    said = _refusal(_stored_detector(), t)
    assert "'a' (Int128)" in said and fix in said


def test_a_polars_object_column_is_named_as_object_with_a_conversion_that_runs() -> None:
    # Before: polars exports an Object column (Decimals and floats of pd.read_sql, kept as Python objects) as
    # fixed_size_binary[8], the objects' addresses: the detector called it "'b' (fixed_size_binary[8]) ... not numeric"
    # with to_dummies as the fix; the cast the Int128 refusal offers fails on Object ("cannot cast 'Object' type"), and
    # map_elements(float) warns to use that cast
    import decimal

    import polars as pl

    t = pl.DataFrame({"a": [0.1, 0.2, 0.3] * 20,
                      "b": pl.Series([decimal.Decimal("1.5"), 2.5, None] * 20, dtype=pl.Object)})
    fix = "X.with_columns(pl.Series('b', X['b'].to_list(), dtype=pl.Float64))"
    said = _refusal(_stored_detector(), t)
    assert "'b' (Object)" in said and fix in said and "fixed_size_binary" not in said, said
    converted = eval(fix, {"X": t, "pl": pl})  # the fix runs, and gives the numbers
    assert converted["b"].to_list()[:3] == [1.5, 2.5, None]
    said = _training_refusal(t)
    assert "'b' (Object)" in said and fix.replace("X", "t") in said, said
