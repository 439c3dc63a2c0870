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
