"""Training without features= leaves out the columns it cannot use (one value in every row, or no value), with a
note naming them, as PyOD and scikit-learn's scalers take a constant column without failing; named ones still fail."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ad_duckdb
from ad_duckdb.exceptions import ConstantColumnsError

from conftest import FAST, make_transactions


def _with_dead_columns(con: ad_duckdb.duckdb.DuckDBPyConnection) -> None:
    make_transactions(con, n=600)
    con.execute("CREATE TABLE t AS SELECT count, amount, 5 AS version, 2.5::DOUBLE AS rate, NULL::DOUBLE AS unused "
                "FROM transactions")


def test_default_features_leave_out_constant_and_empty_columns_with_a_note() -> None:
    """A table with a schema-version column (5 in every row) and an empty one failed to train without features=:
    "2 columns are constant ... drop them from features", though the user had named no feature to drop."""
    con = ad_duckdb.connect()
    _with_dead_columns(con)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = ad_duckdb.train(con, "m", "t", **FAST)
    assert info.features == ["count", "amount"]
    said = [str(w.message) for w in caught if "left out" in str(w.message)]
    assert len(said) == 1, [str(w.message) for w in caught]
    note = said[0]
    for part in ("'version' (5 in every row)", "'rate' (2.5 in every row)", "'unused' (no value", "'t'",
                 "constant_columns='keep'"):
        assert part in note, note
    assert "--constant-columns" not in note, note  # from Python, Python's words only (msgs3)
    # the constant column kept on asking for it: the empty one still left out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = ad_duckdb.train(con, "k", "t", constant_columns="keep", **FAST)
    assert kept.features == ["count", "amount", "version", "rate"]
    # named, it is still an error: the user asked for that column
    with pytest.raises(ConstantColumnsError, match="'version'"):
        ad_duckdb.train(con, "n", "t", features=["count", "amount", "version"], **FAST)
    con.close()


def test_a_source_of_only_constant_columns_still_fails_naming_them() -> None:
    """Left out, nothing would be left to train on: the error naming the columns stays."""
    con = ad_duckdb.connect()
    con.execute("CREATE TABLE c AS SELECT 5 AS version, 2.5::DOUBLE AS rate FROM range(50)")
    with pytest.raises(ConstantColumnsError, match="'version'.*'rate'"):
        ad_duckdb.train(con, "m", "c", **FAST)
    con.close()


def test_a_named_column_of_one_value_in_a_few_rows_and_null_in_the_rest_is_not_said_to_hold_it_in_every_row() -> None:
    """A column with 1.0 in one row of 300 and NULL in the others was "constant (1.0 in every row)": untrue, and the
    user looking at the table could not see which column the message meant."""
    con = ad_duckdb.connect()
    con.execute("CREATE TABLE c AS SELECT range::DOUBLE AS x, CASE WHEN range = 5 THEN 1.0 END AS once, "
                "7.0 AS seven FROM range(300)")
    with pytest.raises(ConstantColumnsError) as e:
        ad_duckdb.train(con, "m", "c", features=["x", "once"], **FAST)
    assert ("column 'once' is constant (1.0 in the 1 of 300 rows that hold a value; the others are NULL, NaN or "
            "infinite) in 'c'") in str(e.value), str(e.value)
    with pytest.raises(ConstantColumnsError, match=r"column 'seven' is constant \(7\.0 in every row\) in 'c'"):
        ad_duckdb.train(con, "m", "c", features=["x", "seven"], **FAST)
    con.close()


def test_one_huge_value_does_not_switch_a_column_to_the_signed_log() -> None:
    """A single 1e9 (a typo, a sentinel) among amounts of about 100 made the column's skewness 31, and the whole
    column took the signed log, squeezing the bulk the model learns to fit one row. The choice is the bulk's: the
    column keeps its plain scaling, a heavy-tailed column keeps the log, as does a 0/1 column of one 1 (no bulk
    spread to measure the value by), and the 1e9 row still scores far above every other."""
    from ad_duckdb.features import fit_specs
    from ad_duckdb.heavytail import heavy_tailed, skewness

    rng = np.random.default_rng(0)
    bulk = rng.normal(100, 10, 1000)
    one = np.r_[bulk, 1e9]
    assert skewness(one) > 2 and not heavy_tailed(one)
    assert heavy_tailed(rng.lognormal(3, 1.2, 1000)) and heavy_tailed(np.r_[np.zeros(799), 1.0])
    specs, _ = fit_specs(np.c_[one, rng.normal(size=1001)], ["amount", "x"], ["DOUBLE", "DOUBLE"], model="m",
                         source="t")
    assert specs[0].transform == "none", specs[0]
    con = ad_duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS amount, unnest(?::DOUBLE[]) AS x",
                [one.tolist(), rng.normal(size=1001).tolist()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad_duckdb.train(con, "m", "t", **FAST)
    assert ad_duckdb.load_model(con, "m").features[0].transform == "none"
    top = con.execute("SELECT amount FROM t ORDER BY anomaly_score('m', amount, x) DESC LIMIT 1").fetchone()[0]
    assert top == 1e9
    con.close()
