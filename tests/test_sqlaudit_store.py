"""A store whose ad_thresholds table is gone (dropped or renamed by hand) beside its ad_models."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


@pytest.fixture(scope="module")
def model_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("store_th") / "m.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=300)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    return path


def test_a_store_without_its_thresholds_table_says_so_and_lets_sql_put_it_back(model_db: str, tmp_path: Path) -> None:
    """After ALTER TABLE ad_thresholds RENAME TO old_th, every `ad-duckdb sql` failed with DuckDB's "Table with name
    ad_thresholds does not exist!" (exit 6), also the ALTER that renames it back, as registering the functions read
    it. The functions now register, their calls name the missing table and the fix, and the fix runs."""
    db = str(tmp_path / "th.duckdb")
    shutil.copy(model_db, db)
    con = duckdb.connect(db)
    con.execute("ALTER TABLE ad_thresholds RENAME TO old_th")
    con.close()
    res = CliRunner().invoke(cli, ["sql", db, "SELECT anomaly_score('tx_ae', 5, 300)"], catch_exceptions=False)
    assert res.exit_code != 0 and "ad_thresholds" in res.output and "missing" in res.output, res.output
    assert "RENAME TO ad_thresholds" in res.output and "sql/schema.sql" in res.output, res.output
    res = CliRunner().invoke(cli, ["sql", "--write", db, "ALTER TABLE old_th RENAME TO ad_thresholds; "
                                   "SELECT is_anomaly('tx_ae', 5, 300) AS f"], catch_exceptions=False)
    assert res.exit_code == 0 and "false" in res.output, res.output
