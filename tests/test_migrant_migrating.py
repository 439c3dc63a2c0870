"""Users moving to ad_duckdb with their old code in hand: BigQuery ML's ML.DETECT_ANOMALIES with a contamination, in
one call; the README's "Coming from PyOD, BigQuery ML or a notebook" examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_score_flags_rows_at_a_named_threshold_as_detect_anomalies_contamination_does(tmp_path: Path) -> None:
    """BigQuery ML's ML.DETECT_ANOMALIES(MODEL m, STRUCT(0.02 AS contamination), TABLE t) returns t's columns with
    is_anomaly at that contamination. ad_duckdb.score (and score --into) wrote is_anomaly at the `default` threshold
    only, so the one call that gives a table's rows with their flags could not take the 2% cut the user stored:
    threshold= (CLI: --threshold) names the stored threshold is_anomaly is read at, as is_anomaly_at does."""
    db = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(db)
    try:
        make_transactions(con, n=400)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.set_threshold(con, "tx_ae", "c2", "contamination", target=0.02)
        want = {r[0]: r[1] for r in con.execute(
            "SELECT transaction_id, is_anomaly_at('tx_ae', 'c2', count, amount) FROM transactions").fetchall()}
        default = {r[0]: r[1] for r in con.execute(
            "SELECT transaction_id, is_anomaly('tx_ae', count, amount) FROM transactions").fetchall()}
        assert want != default  # 2% against the default 1%: the test tells the two apart
        got = ad_duckdb.score(con, "tx_ae", "transactions", threshold="c2").to_pylist()
        assert {r["transaction_id"]: r["is_anomaly"] for r in got} == want
        assert ad_duckdb.score(con, "tx_ae", "transactions", into="s", threshold="c2") == len(want)
        assert dict(con.execute("SELECT transaction_id, is_anomaly FROM s").fetchall()) == want
        with pytest.raises(ad_duckdb.AdDuckDBError, match=r"c3"):
            ad_duckdb.score(con, "tx_ae", "transactions", threshold="c3")
        # the contamination itself, as BigQuery ML takes it in the call, is refused with the call that stores it
        with pytest.raises(ad_duckdb.BadInputError, match=re.escape(
                "set_threshold(con, 'tx_ae', 'c2', 'contamination', target=0.05), then threshold='c2'")):
            ad_duckdb.score(con, "tx_ae", "transactions", threshold=0.05)  # type: ignore[arg-type]
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["score", db, "tx_ae", "transactions", "--into", "s2", "--threshold", "c2",
                                   "--quiet"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    with duckdb.connect(db, read_only=True) as c:
        assert dict(c.execute("SELECT transaction_id, is_anomaly FROM s2").fetchall()) == want
