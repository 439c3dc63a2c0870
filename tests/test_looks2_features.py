"""Training without features= leaves out the columns it cannot use (one value in every row, or no value), with a
note naming them, as PyOD and scikit-learn's scalers take a constant column without failing; named ones still fail."""

from __future__ import annotations

import warnings

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
                 "constant_columns='keep'", "--constant-columns keep"):
        assert part in note, note
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
