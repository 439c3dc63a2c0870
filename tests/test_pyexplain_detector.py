"""AutoEncoderDetector.explain: "why was this row flagged?" in a notebook, with the shares SQL's anomaly_explain
gives for the same model and row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import ad_duckdb
from ad_duckdb import AutoEncoderDetector

from conftest import FAST

FEATURES = ["count", "amount", "items"]


def _table(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    count = rng.poisson(8, n) + 1.0
    amount = np.round(count * rng.lognormal(3.0, 0.25, n), 2)
    items = count + rng.poisson(2, n)
    return pd.DataFrame({"count": count, "amount": amount, "items": items})


# rows to explain: typical, amount far out, count and amount breaking their relation, and missing values
PROBE = pd.DataFrame({"count": [8.0, 8.0, 2.0, np.nan, 30.0, np.nan],
                      "amount": [160.0, 9000.0, 900.0, 200.0, np.nan, np.nan],
                      "items": [10.0, 10.0, 3.0, 10.0, 31.0, np.nan]}, index=[10, 11, 12, 13, 14, 15])


def _sql_explain(params: dict[str, Any]) -> tuple[AutoEncoderDetector, list[list[tuple[str, float]]]]:
    """A model trained by ad_duckdb.train and the detector fitted on the same rows; SQL's anomaly_explain of PROBE."""
    df = _table()
    con = ad_duckdb.connect(":memory:")
    try:
        con.register("df_src", df)
        con.execute("CREATE TABLE t AS SELECT * FROM df_src")
        ad_duckdb.train(con, "m", "t", features=FEATURES, **params)
        con.register("probe", PROBE.reset_index())
        rows = con.execute("SELECT anomaly_explain('m', count, amount, items) FROM probe ORDER BY index").fetchall()
    finally:
        con.close()
    det = AutoEncoderDetector(**params).fit(df[FEATURES], sql_types=["DOUBLE"] * 3)
    return det, [[(e["feature"], e["share"]) for e in r] for (r,) in rows]


@pytest.mark.parametrize("params", [{**FAST, "max_steps": 200}, {**FAST, "max_steps": 200, "n_models": 2},
                                    {"code_sizes": (1, 2), "max_steps": 200, "progress": False}],
                         ids=["one", "ensemble", "code_sizes"])
def test_explain_gives_sql_anomaly_explain_shares(params: dict[str, Any]) -> None:
    det, sql = _sql_explain(params)
    got = det.explain(PROBE, top=None)
    assert isinstance(got, pd.DataFrame)
    assert list(got.index) == list(PROBE.index)  # the frame's own row labels
    for i, want in enumerate(sql):
        row = got.iloc[i]
        if not want:  # every value missing: SQL's empty list, here no feature and no share
            assert pd.isna(row["feature_1"]) and np.isnan(row["share_1"])
            continue
        names = [row[f"feature_{k}"] for k in range(1, 4)]
        shares = np.array([row[f"share_{k}"] for k in range(1, 4)])
        np.testing.assert_allclose(shares, [s for _, s in want], atol=2e-3, err_msg=str(PROBE.iloc[i]))
        # the order may differ only between shares equal to float32 rounding (the 0 of missing values)
        firm = [k for k in range(3) if shares[k] > 2e-3]
        assert [names[k] for k in firm] == [want[k][0] for k in firm]


def test_explain_top_shapes_and_says_what_a_missing_value_was_scored_at() -> None:
    det, sql = _sql_explain({**FAST, "max_steps": 200})
    got = det.explain(PROBE)
    assert list(got.columns) == ["feature_1", "share_1", "feature_2", "share_2", "feature_3", "share_3", "imputed"]
    assert got.loc[11, "feature_1"] == "amount"  # 9000 for a count of 8
    assert got["imputed"].loc[10] is None  # nothing missing
    imputed = got["imputed"].loc[13]
    assert list(imputed) == ["count"] and imputed["count"] > 0
    # the value imputed is the one the row was scored at: put in place, the row scores as it did with the NaN
    filled = PROBE.loc[[13]].assign(count=imputed["count"])
    np.testing.assert_allclose(det.decision_function(filled), det.decision_function(PROBE.loc[[13]]), rtol=1e-5)
    # a missing value is never a reason: it gets no share, so it is not first
    row = got.loc[13]
    assert row["feature_1"] != "count"
    assert [row[f"share_{k}"] for k in range(1, 4) if row[f"feature_{k}"] == "count"] == [0.0]
    assert set(got["imputed"].loc[15]) == set(FEATURES)
    one = det.explain(PROBE, top=1)
    assert list(one.columns) == ["feature_1", "share_1", "imputed"]
    assert one["feature_1"].equals(got["feature_1"])


def test_explain_on_an_array_names_features_and_their_indices() -> None:
    df = _table()
    det = AutoEncoderDetector(**{**FAST, "max_steps": 200}).fit(df.to_numpy())  # no names: x0, x1, x2
    X = PROBE.to_numpy()
    got = det.explain(X, top=2)
    assert set(got) == {"feature", "feature_index", "share", "imputed"}  # a dict of arrays, as score_terms
    assert got["feature"].shape == got["feature_index"].shape == got["share"].shape == (len(X), 2)
    assert got["feature"][1, 0] == "x1" and got["feature_index"][1, 0] == 1
    assert got["imputed"].shape == X.shape
    assert np.isnan(got["imputed"][0]).all() and not np.isnan(got["imputed"][3, 0]) and np.isnan(got["imputed"][3, 1])
    # the same rows as a frame give the same shares
    named = AutoEncoderDetector(**{**FAST, "max_steps": 200}).fit(df)
    as_frame = named.explain(PROBE, top=2)
    np.testing.assert_allclose(as_frame[["share_1", "share_2"]].to_numpy(dtype=float)[:5], got["share"][:5],
                               rtol=1e-6)
    # fit(array, feature_names=) names them
    det2 = AutoEncoderDetector(**{**FAST, "max_steps": 200}).fit(df.to_numpy(), feature_names=FEATURES)
    assert det2.explain(X[1:2], top=1)["feature"][0, 0] == "amount"


def test_explain_shares_sum_to_one_and_top_is_checked() -> None:
    det = AutoEncoderDetector(**{**FAST, "max_steps": 200}).fit(_table())
    full = det.explain(PROBE.iloc[:5], top=None)
    shares = full[[f"share_{k}" for k in range(1, 4)]].to_numpy(dtype=float)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-9)
    assert (np.diff(shares, axis=1) <= 0).all()
    assert list(det.explain(PROBE, top=10).columns) == list(full.columns)  # more than d: all of them
    for bad in (0, -1, 1.5, "3"):
        with pytest.raises(ad_duckdb.BadInputError, match="top="):
            det.explain(PROBE, top=bad)  # type: ignore[arg-type]
    with pytest.raises(ad_duckdb.NotFittedError):
        AutoEncoderDetector().explain(PROBE)
