"""``AutoEncoderDetector.fit`` of a frame with text columns (trained through ``ad_duckdb.train`` since text14) said
train's words for the detector's problems: a ``model_name`` numeric fits take was refused as a store name, and a frame
of text columns only, or of a few rows, was told about the internal table 'fit_rows', ``features=`` and ``where=``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ad_duckdb import AutoEncoderDetector
from ad_duckdb.exceptions import AdDuckDBError

KW = {"max_steps": 200, "n_models": 1, "progress": False}


def _frame(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"amount": rng.gamma(2, 30, n), "count": rng.integers(1, 20, n).astype(float),
                         "channel": rng.choice(["web", "pos", "app"], n)})


def test_a_text_frame_takes_the_model_name_a_numeric_one_takes() -> None:
    df = _frame()
    numeric = AutoEncoderDetector(**KW).fit(df[["amount", "count"]], model_name="fraud ae")
    assert numeric.decision_function(df[["amount", "count"]]).shape == (600,)
    det = AutoEncoderDetector(**KW).fit(df, model_name="fraud ae")
    scores = det.decision_function(df)
    assert scores.shape == (600,) and np.isfinite(scores).all()
    assert abs(det.labels_.mean() - 0.01) < 0.01


@pytest.mark.parametrize("case", ["text only", "few rows"])
def test_a_text_frames_refusal_names_x_not_the_internal_table(case: str) -> None:
    df = _frame()
    X = df[["channel"]].assign(country=np.where(df["count"] > 10, "DE", "FR")) if case == "text only" else df.head(5)
    with pytest.raises(AdDuckDBError) as e:
        AutoEncoderDetector(**KW).fit(X)
    said = str(e.value)
    assert said.startswith("AutoEncoderDetector.fit: "), said
    for internal in ("fit_rows", "features=", "where=", "Model 'model'"):
        assert internal not in said, said
    assert ("numeric" in said and "'channel'" in said) if case == "text only" else "only 5 rows" in said, said


@pytest.mark.parametrize("case", ["id-like", "one value"])
def test_a_text_column_train_refuses_is_said_as_a_column_of_x(case: str) -> None:
    """A text column train refuses (an id, one value) was told to be left out of features= and grouped in a query
    FROM "fit_rows"; fit's caller drops it from X."""
    X = _frame()
    X["cust"] = [f"c{i}" for i in range(len(X))] if case == "id-like" else "same"
    with pytest.raises(AdDuckDBError) as e:
        AutoEncoderDetector(**KW).fit(X)
    said = str(e.value)
    assert said.startswith("AutoEncoderDetector.fit: text column 'cust'"), said
    assert "X.drop(columns=['cust'])" in said, said
    for internal in ("fit_rows", "features", "Model 'model'"):
        assert internal not in said, said


def test_a_constant_numeric_column_beside_a_text_one_names_no_category_input() -> None:
    """A constant numeric column beside a text column whose every value is a category listed the text column's
    "any other value" input ('channel=(other)', always 0) as a second constant column to leave out of features=,
    which no one can; only the numeric column is named."""
    import duckdb

    import ad_duckdb

    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT 1.0 AS amount, (range % 17)::DOUBLE AS c, "
                    "['web', 'pos', 'app'][1 + range % 3] AS channel FROM range(600)")
        with pytest.raises(AdDuckDBError) as e:
            ad_duckdb.train(con, "m", "t", features=["amount", "c", "channel"], **KW)
    finally:
        con.close()
    said = str(e.value)
    assert "'amount'" in said and "(other)" not in said and "2 columns" not in said, said
