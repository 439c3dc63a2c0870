"""check-threshold gives a cut typed in (`threshold --method manual --value X`) a verdict: the share of rows it flags
against the share of training rows it flags, as a quantile's; before, it said "promised no rate" and exited 0
under --fail-outside however far the rows had drifted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def test_a_typed_cut_is_judged_by_the_share_of_training_rows_it_flags(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(db)
    try:
        make_transactions(con, n=2000)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        # where about 3% of the training rows score above it, as a cut read off the score plot
        cut = float(np.quantile(ad_duckdb.load_model(con, "tx_ae").metrics["score_quantiles"], 0.97))
        con.execute("CREATE TABLE drifted AS SELECT transaction_id, count, amount * 4 AS amount FROM transactions")
    finally:
        con.close()
    code, out = _run("threshold", db, "tx_ae", "cut", "--method", "manual", "--value", repr(cut))
    assert code == 0, out
    code, out = _run("check-threshold", db, "tx_ae", "cut", "--source", "transactions", "--format", "json")
    assert code == 0, out
    got = json.loads(out)
    assert got["outside"] is False and got["expected_lo"] is not None and got["expected_hi"] is not None, got
    assert got["expected_lo"] < 0.03 < got["expected_hi"], got
    assert "the share of training rows it flags" in got["target"] and "keeps its promise" in got["message"], got
    # the rows drifted: far more flagged than on the training rows, and the monitor pages
    code, out = _run("check-threshold", db, "tx_ae", "cut", "--source", "drifted", "--fail-outside")
    assert code == 9, out
    assert "more alarms than promised" in out and "ad-duckdb threshold" in out, out
    assert "promised no rate" not in out, out


def test_a_missing_threshold_s_fix_is_said_in_the_caller_s_words(tmp_path: Path) -> None:
    """`ad-duckdb score --threshold p97` (a command) named the Python set_threshold call beside its own command, and
    a notebook's query the command; each now says the one that runs where it was asked, as its option spellings do
    (`--carry-thresholds` from the command line, `carry_thresholds=True` from Python)."""
    db = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(db)
    try:
        make_transactions(con, n=600)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 50})
        with pytest.raises(ad_duckdb.ThresholdNotFoundError) as e:
            ad_duckdb.score(con, "tx_ae", "transactions", threshold="p97")
        said = str(e.value)
        assert "ad_duckdb.set_threshold(con, 'tx_ae', 'p97', 'quantile', target=0.97)" in said, said
        assert "ad-duckdb threshold" not in said and "carry_thresholds=True" in said, said
    finally:
        con.close()
    for args in (["score", db, "tx_ae", "transactions", "--threshold", "p97", "--top", "3"],
                 ["sql", db, "SELECT count(*) FROM transactions WHERE is_anomaly_at('tx_ae', 'p97', count, amount)"],
                 ["check-threshold", db, "tx_ae", "p97", "--source", "transactions"]):
        code, out = _run(*args)
        assert code == 5, out
        assert f"ad-duckdb threshold {db} tx_ae p97 --method quantile --target 0.97" in out, out
        assert "set_threshold" not in out and "--carry-thresholds" in out and "carry_thresholds" not in out, out
