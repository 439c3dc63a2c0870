"""The Python API as a notebook user meets it: bool frame columns, MultiIndex frames, names in messages."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import ad_duckdb
from ad_duckdb import AutoEncoderDetector
from ad_duckdb.exceptions import BadInputError

from conftest import FAST

PARAMS = {**FAST, "max_steps": 100}


def _flags(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({"amount": rng.normal(100, 10, n), "is online": rng.random(n) < 0.3})


@pytest.fixture(scope="module")
def fitted() -> AutoEncoderDetector:
    return AutoEncoderDetector(**PARAMS).fit(_flags().astype({"is online": "int8"}))


@pytest.mark.parametrize("kind", ["pandas", "pandas nullable", "polars", "arrow", "duckdb"])
def test_a_bool_column_is_refused_as_sql_refuses_boolean(kind: str, fitted: AutoEncoderDetector) -> None:
    """SQL refuses a BOOLEAN feature (training names it, anomaly_score's binder refuses it as the first argument), so
    the detector refused none and read True as 1: a model fitted on a frame then differed from ad_duckdb.train on
    the same frame (which left the column out). The detector now refuses it too, naming the column and the cast, in
    the frame's own library, in fit and in scoring."""
    df = _flags()
    frame: object = {"pandas": df, "pandas nullable": df.astype({"is online": "boolean"}), "polars": pl.from_pandas(df),
                     "arrow": pa.Table.from_pandas(df), "duckdb": duckdb.from_arrow(pa.Table.from_pandas(df))}[kind]
    fix = {"pandas": "X.astype({'is online': 'int8'})", "pandas nullable": "X.astype({'is online': 'Int8'})",
           "polars": "X.with_columns(pl.col('is online').cast(pl.Int8))",
           "arrow": """duckdb.sql('SELECT * REPLACE ("is online"::INTEGER AS "is online") FROM X')""",
           "duckdb": """X.project('* REPLACE ("is online"::INTEGER AS "is online")')"""}[kind]
    for call in (lambda: AutoEncoderDetector(**PARAMS).fit(frame), lambda: fitted.decision_function(frame),
                 lambda: fitted.explain(frame)):
        with pytest.raises(BadInputError) as e:
            call()
        msg = str(e.value)
        assert "'is online'" in msg and fix in msg and '"is online"::INTEGER' in msg, msg


def _aggregated() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    raw = pd.DataFrame({"amount": rng.normal(100, 10, 2000), "store": np.arange(2000) % 100,
                        "day": np.arange(2000) // 100})
    return raw.groupby(["store", "day"]).agg(["mean", "max"])  # columns ('amount', 'mean'), ('amount', 'max')


def test_a_frame_with_a_multiindex_of_columns_is_told_how_to_flatten_it(fitted: AutoEncoderDetector) -> None:
    """groupby(...).agg([...])'s columns are tuples: the detector and ad_duckdb.train named the features
    "('amount', 'mean')", which SQL then had to quote as such. Both refuse the frame with the call that flattens it;
    its flat names then train and score from SQL. A MultiIndex of rows (the groups) is kept by explain."""
    X = _aggregated()
    for call in (lambda: AutoEncoderDetector(**PARAMS).fit(X), lambda: fitted.decision_function(X)):
        with pytest.raises(BadInputError, match=r"MultiIndex of 2 levels .*X\.columns = \['_'\.join.*'amount_mean'"):
            call()
    con = ad_duckdb.connect(":memory:")
    with pytest.raises(BadInputError, match=r"The DataFrame 'X': the columns of X are a MultiIndex.*X\.columns = "):
        ad_duckdb.train(con, "agg", "X", **PARAMS)
    X.columns = ['_'.join(str(p) for p in c if str(p)) for c in X.columns]
    ad_duckdb.train(con, "agg", "X", **PARAMS)
    assert con.sql("SELECT anomaly_score('agg', amount_mean, amount_max) FROM X").fetchall()
    det = AutoEncoderDetector(**PARAMS).fit(X)
    assert list(det.feature_names_in_) == ["amount_mean", "amount_max"]
    assert det.explain(X).index.names == ["store", "day"]
