"""Feature specs: type checks, transforms, the NULL / NaN / Inf policy, clear errors."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pytest

import ad_duckdb
from ad_duckdb.features import CLIP, fit_specs, source_sql, transform

from conftest import FAST


def test_heavy_tail_gets_signed_log_and_light_tail_does_not() -> None:
    rng = np.random.default_rng(0)
    X = np.c_[rng.lognormal(3, 1.5, 5000), rng.normal(0, 1, 5000)]
    specs, filled = fit_specs(X, ["amount", "z"], ["DOUBLE", "DOUBLE"], model="m", source="t")
    assert [s.transform for s in specs] == ["slog", "none"]
    assert filled == {"amount": 0, "z": 0}
    Z = transform(X, specs)
    assert abs(np.median(Z[:, 0])) < 0.05 and 0.5 < np.std(Z[:, 1]) < 1.5


def test_nan_filled_with_median_inf_clipped() -> None:
    X = np.c_[np.arange(100.0), np.arange(100.0) * 2]
    X[3, 0] = np.nan
    specs, filled = fit_specs(X, ["a", "b"], ["DOUBLE", "DOUBLE"], model="m", source="t")
    assert filled["a"] == 1
    row = np.array([[np.nan, np.inf], [-np.inf, 1.0]])
    Z = transform(row, specs)
    assert Z[0, 0] == pytest.approx((specs[0].fill - specs[0].center) / specs[0].scale)
    assert Z[0, 1] == CLIP and Z[1, 0] == -CLIP


@pytest.mark.parametrize(
    ("setup", "kwargs", "message"),
    [
        ("CREATE TABLE t AS SELECT 5 AS c, range::DOUBLE AS x FROM range(50)", {"features": ["c", "x"]},
         r"column 'c' is constant \(5.0 in every row\)"),
        ("CREATE TABLE t (x DOUBLE, y DOUBLE)", {}, "has no rows to train on"),
        ("CREATE TABLE t AS SELECT 'a' AS s, range AS x FROM range(50)", {"features": ["s", "x"]},
         r"Column 's' of 't' is VARCHAR, not numeric"),
        ("CREATE TABLE t AS SELECT range AS x FROM range(50)", {"features": ["nope"]},
         r"Column 'nope' is not in 't'; its columns are: x"),
        ("CREATE TABLE t AS SELECT NULL::DOUBLE AS n, range AS x FROM range(50)", {"features": ["n", "x"]},
         r"column 'n' has no finite value"),
        ("CREATE TABLE t AS SELECT 'a' AS s FROM range(5)", {}, "has no numeric column"),
        ("CREATE TABLE t AS SELECT range AS x FROM range(50)", {"features": ["x", "X"]}, "names a column twice"),
        ("CREATE TABLE t AS SELECT range::DOUBLE AS x, range * 1e300 AS \"Big b\" FROM range(50)", {},
         r"column 'Big b' holds values as large as 4.9e\+301 .*float32.*\"Big b\" / 1e298 AS \"Big b_scaled\""),
        ("CREATE TABLE t AS SELECT range::DOUBLE AS x, range * 1e37 AS b FROM range(50)", {},
         r"column 'b' holds values as large as 4.9e\+38"),
    ],
)
def test_training_input_errors(setup: str, kwargs: dict[str, object], message: str) -> None:
    con = ad_duckdb.connect()
    try:
        con.execute(setup)
        with pytest.raises(ad_duckdb.BadInputError, match=message):
            ad_duckdb.train(con, "m", "t", **kwargs, **FAST)  # type: ignore[arg-type]
        assert ad_duckdb.list_models(con) == []  # nothing half-stored
    finally:
        con.close()


def test_bad_parameters_named() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS x, range * 2 + random() AS y FROM range(100)")
        with pytest.raises(ad_duckdb.BadInputError, match=r"The 'contamination' parameter must be a number in "
                                                          r"\[1e-06, 0.5\]. Got 0.7 instead."):
            ad_duckdb.train(con, "m", "t", contamination=0.7)
        with pytest.raises(ad_duckdb.BadInputError, match="Unknown parameter"):
            ad_duckdb.train(con, "m", "t", hiden_dims=(3,))
        with pytest.raises(ad_duckdb.BadInputError, match="Model name 'bad name' is not valid"):
            ad_duckdb.train(con, "bad name", "t")
    finally:
        con.close()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"hidden_dims": 64}, "The 'hidden_dims' parameter must be None or a non-empty list or tuple of positive ints"),
        ({"hidden_dims": "64,32"}, "'hidden_dims' parameter .* Got '64,32' instead"),  # as passed, not ('6', '4', ...)
        ({"hidden_dims": [64, True]}, r"'hidden_dims' parameter .* Got \[64, True\] instead"),
        ({"kl_weight": "big", "kind": "vae"}, r"The 'kl_weight' parameter must be a number in \[0, 1e\+06\]. Got 'big'"),
        ({"kl_weight": -5.0, "kind": "vae"}, "The 'kl_weight' parameter must be a number .* Got -5.0 instead"),
        ({"variational": "no"}, "The 'variational' parameter must be True or False. Got 'no' instead"),
        ({"robust": "yes"}, "The 'robust' parameter must be True, False or None. Got 'yes' instead"),
        ({"progress": 1}, "The 'progress' parameter must be True or False. Got 1 instead"),
        ({"knn_k": True}, "The 'knn_k' parameter must be an int >= 0 .* Got True instead"),
        ({"variational": True}, "kind='autoencoder' and variational=True disagree.*pass kind='vae'"),
        ({"variational": False, "kind": "vae"}, "kind='vae' and variational=False disagree"),
        ({"extra": {"a": 1}}, r"Unknown parameter\(s\) \['extra'\]"),
        ({"where": 1}, r"Model 'm': where= \(CLI: --where\) must be a SQL condition .* got 1"),
        ({"features": [1]}, r"Model 'm': features= \(CLI: -f\) takes a column name or a list .* got \[1\]"),
        ({"features": 3}, r"Model 'm': features= \(CLI: -f\) .* got 3"),
    ],
)
def test_every_bad_training_argument_is_named_with_its_value(kwargs: dict[str, object], named: str) -> None:
    """Each bad value gets a BadInputError naming the argument, the value as passed and what is allowed, before
    any training; none crashes in torch or trains something other than asked (variational='no' is truthy)."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS x, range * 2 + random() AS y FROM range(100)")
        with pytest.raises(ad_duckdb.BadInputError, match=named):
            ad_duckdb.train(con, "m", "t", **{"epochs": 2, "progress": False, **kwargs})  # type: ignore[arg-type]
        assert ad_duckdb.list_models(con) == []
    finally:
        con.close()


def test_kind_and_a_matching_variational_agree_with_what_is_stored() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS x, range * 2 + random() AS y FROM range(100)")
        ad_duckdb.train(con, "v", "t", kind="vae", variational=True, hidden_dims=[8, 4], epochs=2, progress=False)
        ad_duckdb.train(con, "a", "t", variational=False, epochs=2, progress=False)
        assert [(m["name"], m["kind"]) for m in ad_duckdb.list_models(con)] == [("a", "autoencoder"), ("v", "vae")]
        assert ad_duckdb.load_model(con, "v").params["variational"] is True
        assert ad_duckdb.load_model(con, "a").params["variational"] is False
        assert "extra" not in ad_duckdb.load_model(con, "a").params
    finally:
        con.close()


def test_nulls_at_training_are_filled(tmp_path: object) -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT CASE WHEN range % 10 = 0 THEN NULL ELSE range END AS x, "
                    "range * 2.0 AS y FROM range(500)")
        info = ad_duckdb.train(con, "m", "t", **FAST)
        assert info.metrics["filled_values"] == {"x": 50, "y": 0}
        assert con.execute("SELECT count(*) FROM t WHERE anomaly_score('m', x, y) IS NULL").fetchall()[0][0] == 0
    finally:
        con.close()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("transactions", '"transactions"'),
        ("main.transactions", '"main"."transactions"'),
        ("my table", '"my table"'),
        ('we"ird', '"we""ird"'),
        ("SELECT * FROM t", "(SELECT * FROM t) AS _ad_src"),
        ("read_parquet('x.parquet')", "read_parquet('x.parquet')"),
    ],
)
def test_source_sql(source: str, expected: str) -> None:
    assert source_sql(source) == expected


def test_train_on_query_view_and_where() -> None:
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS id, (range % 17)::DOUBLE AS a, (range % 17) * 3.0 + "
                    "(range % 5) AS b, (range % 100 = 0)::INTEGER AS label FROM range(2000)")
        ad_duckdb.register(con)
        info = ad_duckdb.train(con, "q", "SELECT a, b FROM t WHERE id > 10", **FAST)
        assert info.features == ["a", "b"] and info.train_rows == 1989
        info = ad_duckdb.train(con, "w", "t", features=["a", "b"], where="label = 0", **FAST)
        assert info.train_rows == 1980 and info.metrics["robust"] is False
        assert "label = 0" in ad_duckdb.load_model(con, "w").source
        ad_duckdb.train(con, "qw", "SELECT a, b, label FROM t WHERE id > 10", features=["a", "b"], where="label = 0",
                        **FAST)
        shown = ad_duckdb.load_model(con, "qw").source
        assert shown == "(SELECT a, b, label FROM t WHERE id > 10) WHERE label = 0"
        assert con.execute(f"SELECT count(*) FROM {shown}").fetchall()[0][0] == 1970  # valid SQL as shown
        assert ad_duckdb.train(con, "e", "t", features=["a", "b"], where="  ", **FAST).metrics["robust"] is True
    finally:
        con.close()


def test_many_identical_rows_train_and_score() -> None:
    # 100,000 copies of one row and five others: the codes sit far from the origin with almost no spread, where
    # float32 rounding made torch and onnxruntime disagree and training failed its parity check
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE d AS SELECT i AS id, 5 AS cnt, 100.0::DOUBLE AS amount FROM range(100000) r(i)")
        con.execute("INSERT INTO d VALUES (1000001, 6, 120.0), (1000002, 50, 1000.0), (1000003, 5, 100000.0), "
                    "(1000004, 4, 90.0), (1000005, 7, 100.0)")
        ad_duckdb.train(con, "dg", "d", features=["cnt", "amount"], max_steps=100, progress=False)
        flagged = dict(con.execute("SELECT id > 1000000, count(*) FILTER (WHERE is_anomaly('dg', cnt, amount)) "
                                   "FROM d GROUP BY ALL").fetchall())
        assert flagged == {False: 0, True: 5}
    finally:
        con.close()


def test_non_numeric_columns_get_a_hint_that_works_for_their_type() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TYPE mood AS ENUM ('calm', 'odd')")
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS x, sqrt(range) AS y, DATE '2026-01-01' + range::INTEGER AS d, "
                    "INTERVAL 1 HOUR * range AS iv, 'calm'::mood AS m FROM range(200)")
        for col, hint in (("d", 'epoch("d")'), ("iv", 'epoch("iv")'), ("m", "'a value')::INTEGER")):
            with pytest.raises(ad_duckdb.BadInputError, match=re.escape(hint)):
                ad_duckdb.train(con, "m1", "t", features=["x", col], **FAST)
            # the hint itself runs
            expr = hint if hint.startswith("epoch") else "(\"m\" = 'calm')::INTEGER"
            assert len(con.execute(f"SELECT {expr} FROM t").fetchall()) == 200
        ad_duckdb.train(con, "m2", "t", features=["x", "y"], **FAST)
        with pytest.raises(duckdb.Error, match=r"argument 2 is DATE.*epoch\(col\)"):
            con.execute("SELECT anomaly_score('m2', x, d) FROM t").fetchall()
    finally:
        con.close()
