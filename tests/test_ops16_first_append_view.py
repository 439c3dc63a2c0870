"""The first --append run of a job whose source is a view reading the table appended to (made when the table
existed, the table dropped since) makes the table, as it does for the same query given as the source."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("firstview") / "warehouse.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=2000)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.execute("CREATE TABLE tx_scores (transaction_id BIGINT)")
    con.execute("CREATE VIEW new_tx AS SELECT * FROM transactions WHERE transaction_id > "
                "(SELECT coalesce(max(transaction_id), -1) FROM tx_scores)")
    con.execute("CREATE VIEW newer_tx AS SELECT * FROM new_tx")  # a view of that view
    con.execute("DROP TABLE tx_scores")
    con.close()
    return path


@pytest.mark.parametrize("keep", [[], ["-c", "transaction_id"]])
@pytest.mark.parametrize("view", ["new_tx", "newer_tx"])
def test_a_view_over_the_missing_table_starts_the_job(db: str, view: str, keep: list[str]) -> None:
    into = f"scores_{view}_{len(keep)}"
    con = ad_duckdb.connect(db)
    try:  # the view reads tx_scores: each case's own table under that name, made by the run
        con.execute(f"CREATE TABLE {into} (transaction_id BIGINT)")  # DuckDB binds a view as it is made
        con.execute(f"CREATE OR REPLACE VIEW new_tx AS SELECT * FROM transactions WHERE transaction_id > "
                    f"(SELECT coalesce(max(transaction_id), -1) FROM {into})")
        con.execute(f"DROP TABLE {into}")
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["score", db, "tx_ae", view, "--into", into, *keep, "--append"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"added 2000 scored rows to {into}" in res.output, res.output
    again = CliRunner().invoke(cli, ["score", db, "tx_ae", view, "--into", into, *keep, "--append"],
                               catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert f"added 0 scored rows to {into} (now 2000 rows" in again.output, again.output
