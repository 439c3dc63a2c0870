"""check-threshold gives a cut typed in (`threshold --method manual --value X`) a verdict: the share of rows it flags
against the share of training rows it flags, as a quantile's; before, it said "promised no rate" and exited 0
under --fail-outside however far the rows had drifted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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
