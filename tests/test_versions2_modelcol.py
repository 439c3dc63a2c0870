"""A history table filled month after month by ``score(into=, append=True)`` across retrains: the opt-in
``anomaly_model`` column (``model_column=True``, CLI ``--model-column``) records the version that scored each row."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import BadInputError

from conftest import FAST, make_transactions


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with tx_ae@1 and tx_ae@2 trained on the transactions, and month1 / month2 of them."""
    path = str(tmp_path_factory.mktemp("modelcol") / "prod.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=1200)
        con.execute("CREATE TABLE month1 AS SELECT transaction_id, count, amount FROM transactions "
                    "WHERE transaction_id <= 600")
        con.execute("CREATE TABLE month2 AS SELECT transaction_id, count, amount FROM transactions "
                    "WHERE transaction_id > 600")
        for _ in range(2):
            ad_duckdb.train(con, "tx_ae", "month1", features=["count", "amount"], **FAST)
    finally:
        con.close()
    return path


def test_model_column_records_the_resolved_version_month_after_month(two_versions: str) -> None:
    """Rows of tx_ae@1 and tx_ae@2 sat side by side in a history table with nothing saying which scored which; with
    model_column=True each row holds the version that scored it, the resolved one when 'tx_ae' was asked for."""
    con = ad_duckdb.connect(two_versions)
    try:
        assert ad_duckdb.score(con, "tx_ae@1", "month1", into="hist", append=True, model_column=True) == 600
        assert ad_duckdb.score(con, "tx_ae", "month2", into="hist", append=True, model_column=True) == 600
        rows = con.execute("SELECT anomaly_model, count(*) FROM hist GROUP BY ALL ORDER BY 1").fetchall()
        assert rows == [("tx_ae@1", 600), ("tx_ae@2", 600)]
        assert con.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = 'hist' "
                           "AND column_name = 'anomaly_model'").fetchall() == [("VARCHAR",)]
        # the default output is unchanged
        ad_duckdb.score(con, "tx_ae", "month2", into="plain")
        assert "anomaly_model" not in [c for c, *_ in con.execute("DESCRIBE plain").fetchall()]
        # without into=, the returned rows carry it too
        got = ad_duckdb.score(con, "tx_ae", "month1", model_column=True)
        assert got.column_names[-1] == "anomaly_model"
        assert set(got.column("anomaly_model").to_pylist()) == {"tx_ae@2"}
        assert "anomaly_model" not in ad_duckdb.score(con, "tx_ae", "month1").column_names
    finally:
        con.close()


def test_append_checks_name_the_model_column_and_the_alter_that_adds_it(two_versions: str) -> None:
    """A history table written before the option has no anomaly_model: appending with it is refused with the ALTER
    that adds the column (earlier rows NULL), and the ALTER makes the append work; a table with the column refuses
    a run without the option, naming it."""
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.score(con, "tx_ae@1", "month1", into="old_hist", append=True)
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", "month2", into="old_hist", append=True, model_column=True)
        msg = str(e.value)
        assert "ALTER TABLE old_hist ADD COLUMN anomaly_model VARCHAR" in msg, msg
        assert "'anomaly_model'" in msg and "leave out model_column=True" in msg, msg
        con.execute("ALTER TABLE old_hist ADD COLUMN anomaly_model VARCHAR")
        assert ad_duckdb.score(con, "tx_ae", "month2", into="old_hist", append=True, model_column=True) == 600
        assert con.execute("SELECT anomaly_model, count(*) FROM old_hist GROUP BY ALL ORDER BY 1 NULLS FIRST"
                           ).fetchall() == [(None, 600), ("tx_ae@2", 600)]
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", "month2", into="old_hist", append=True)
        msg = str(e.value)
        assert "add model_column=True, as the table was scored with" in msg, msg
    finally:
        con.close()


def test_rescoring_a_table_with_the_model_column_replaces_it(two_versions: str) -> None:
    """Re-scoring a scored table: its anomaly_model is an earlier scoring's, replaced by the new version's, or left
    out without model_column (a stale version beside new scores would say the wrong thing); a column of the user's
    of that name is refused, never replaced."""
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.score(con, "tx_ae@1", "month1", into="scored1", model_column=True)
        ad_duckdb.score(con, "tx_ae@2", "scored1", into="scored2", model_column=True)
        cols = [c for c, *_ in con.execute("DESCRIBE scored2").fetchall()]
        assert cols.count("anomaly_model") == 1, cols
        assert con.execute("SELECT DISTINCT anomaly_model FROM scored2").fetchall() == [("tx_ae@2",)]
        ad_duckdb.score(con, "tx_ae@2", "scored1", into="scored3")
        assert "anomaly_model" not in [c for c, *_ in con.execute("DESCRIBE scored3").fetchall()]
        con.execute("CREATE TABLE mine AS SELECT *, 'champion' AS anomaly_model FROM month1")
        with pytest.raises(BadInputError, match="never replaces a column of yours"):
            ad_duckdb.score(con, "tx_ae", "mine", into="scored4", model_column=True)
        # without the option the user's column is kept as it is
        ad_duckdb.score(con, "tx_ae", "mine", into="scored5")
        assert con.execute("SELECT DISTINCT anomaly_model FROM scored5").fetchall() == [("champion",)]
    finally:
        con.close()


def test_cli_model_column(two_versions: str, tmp_path: Path) -> None:
    """score --model-column writes the column with --into (and --append); its --help gives an example."""
    res = CliRunner().invoke(cli, ["score", two_versions, "tx_ae", "month2", "--into", "cli_hist", "--append",
                                   "--model-column", "--quiet"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    con = ad_duckdb.connect(two_versions)
    try:
        assert con.execute("SELECT DISTINCT anomaly_model FROM cli_hist").fetchall() == [("tx_ae@2",)]
    finally:
        con.close()
    # the printed top rows carry it too
    res = CliRunner().invoke(cli, ["score", two_versions, "tx_ae@1", "month2", "--top", "2", "--model-column",
                                   "--format", "csv"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert "anomaly_model" in lines[0].split(",") and all("tx_ae@1" in line for line in lines[1:3]), res.stdout
    res = CliRunner().invoke(cli, ["score", "--help"])
    assert "--model-column" in res.output and "--append --model-column" in res.output, res.output
