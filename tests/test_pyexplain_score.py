"""`score --explain` (ad_duckdb.score(explain=True)) says the value each NULL feature was scored at, in a new column
anomaly_imputed beside anomaly_explain, as `ad-duckdb explain` prints it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("pyexplain") / "s.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=600)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 200})
    con.execute("CREATE TABLE probe AS SELECT * FROM (VALUES (1, 8, NULL::DECIMAL(12,2)), (2, 8, 160.0), "
                "(3, NULL, NULL)) v(transaction_id, count, amount)")
    con.close()
    return path


def test_score_explain_returns_the_imputed_values(db: str) -> None:
    con = ad_duckdb.connect(db)
    try:
        t = ad_duckdb.score(con, "tx_ae", "probe", explain=True)
        assert t.column_names[-2:] == ["anomaly_explain", "anomaly_imputed"]  # new, after the existing ones
        got = {r["transaction_id"]: r for r in t.to_pylist()}
        assert got[2]["anomaly_imputed"] is None
        (key, value), = got[1]["anomaly_imputed"]
        assert key == "amount"
        s = con.execute("SELECT anomaly_score('tx_ae', 8, ?)", [value]).fetchall()[0][0]
        assert s == pytest.approx(got[1]["anomaly_score"], rel=1e-5)  # the row as it was scored
        assert {k for k, _ in got[3]["anomaly_imputed"]} == {"count", "amount"}
        assert "anomaly_imputed" not in ad_duckdb.score(con, "tx_ae", "probe").column_names  # only with explain
    finally:
        con.close()


def test_score_into_explain_writes_the_column_and_appends_to_an_older_table(db: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["score", db, "tx_ae", "probe", "--into", "s", "--explain", "--replace", "--top",
                                   "3", "--format", "json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = {r["transaction_id"]: r for r in json.loads(res.output[res.output.index("["):])}
    assert rows[2]["anomaly_imputed"] is None and list(rows[1]["anomaly_imputed"]) == ["amount"]
    con = ad_duckdb.connect(db)
    try:
        # a table an earlier release scored with --explain has no anomaly_imputed: appending keeps it as it is
        con.execute("ALTER TABLE s DROP COLUMN anomaly_imputed")
        # the same rows again: noted as ids the table held (test_ops3_ops)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="3 of the 3 rows added to s have a transaction_id"):
            n = ad_duckdb.score(con, "tx_ae", "probe", into="s", explain=True, append=True)
        assert n == 3
        cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 's'").fetchall()]
        assert "anomaly_imputed" not in cols and "anomaly_explain" in cols
        assert con.execute("SELECT count(*) FROM s WHERE anomaly_explain IS NOT NULL").fetchall()[0][0] == 6
        # a re-scoring of a scored table replaces the column, as the other outputs
        ad_duckdb.score(con, "tx_ae", "probe", into="s2", explain=True)
        t = ad_duckdb.score(con, "tx_ae", "s2", explain=True)
        assert t.column_names.count("anomaly_imputed") == 1
        assert np.isfinite(t.column("anomaly_score").to_numpy()).all()
    finally:
        con.close()
