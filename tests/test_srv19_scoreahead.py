"""`score --into`'s read ahead (``scoreahead``) bounded by AD_DUCKDB_SCORE_AHEAD_VALUES: the feature values read and
scored before the file is opened for writing (a machine with little memory keeps fewer; the rest are scored under
the write lock, as before)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ad_duckdb
from ad_duckdb import scoreahead

from conftest import cli_in_process, copy_tx_ae


@pytest.fixture
def tx_ae_file(tx_ae_master: Path, tmp_path: Path) -> str:
    return copy_tx_ae(tx_ae_master, tmp_path / "tx.duckdb")

_SOURCE = "SELECT (i % 20)::INTEGER AS count, (i % 97)::DOUBLE AS amount FROM range(200000) t(i)"


def _rows_read_ahead(db: str) -> int:
    con = ad_duckdb.connect(db, read_only=True)
    try:
        pending = scoreahead.read(con, "tx_ae", _SOURCE, [], ["anomaly_score"], False, "default", False,
                                  batch_rows=1000)
    finally:
        con.close()
    assert pending is not None
    return sum(b.num_rows for b in pending.batches)


def test_the_values_read_ahead_are_bounded_by_the_environment(tx_ae_file: str, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    assert _rows_read_ahead(tx_ae_file) == 200000  # 400,000 values: under the default bound, all of them
    monkeypatch.setenv("AD_DUCKDB_SCORE_AHEAD_VALUES", "5000")
    assert _rows_read_ahead(tx_ae_file) == 3000  # (two features: batches of 1000 rows until 5000 values or more)
    monkeypatch.setenv("AD_DUCKDB_SCORE_AHEAD_VALUES", " 4000 ")
    assert _rows_read_ahead(tx_ae_file) == 2000


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1e6"])
def test_a_wrong_bound_is_said_not_ignored(tx_ae_file: str, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # a typo would otherwise leave the bound at its default without a word (the read ahead's own failures leave the
    # scoring to the write)
    monkeypatch.setenv("AD_DUCKDB_SCORE_AHEAD_VALUES", value)
    with pytest.raises(ad_duckdb.BadInputError, match=r"AD_DUCKDB_SCORE_AHEAD_VALUES must be a positive whole number"):
        scoreahead.max_values()
    res = cli_in_process("score", tx_ae_file, "tx_ae", "transactions", "--into", "s", "--quiet")
    assert res.returncode != 0 and "AD_DUCKDB_SCORE_AHEAD_VALUES" in res.stderr and repr(value) in res.stderr, res
    with ad_duckdb.connect(tx_ae_file, read_only=True) as con:  # nothing written
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 's'").fetchall() == [(0,)]
