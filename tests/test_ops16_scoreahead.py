"""`score --into` scores its rows before it opens the database file for writing (``scoreahead``): another process
writes the file meanwhile, the table written is the one the earlier path wrote, and what is written is decided under
the write lock (an --append run's rows, the model version the name means then)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import scoreahead
from ad_duckdb.cli import cli

from conftest import FAST, copy_tx_ae

_SINCE = "SELECT * FROM transactions WHERE transaction_id > (SELECT coalesce(max(transaction_id), -1) FROM {t})"


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory: pytest.TempPathFactory, tx_ae_master: Path) -> str:
    """make_transactions' 3000 rows and tx_ae on them: a byte copy of conftest's tx_ae_master, the same file."""
    return copy_tx_ae(tx_ae_master, tmp_path_factory.mktemp("ahead") / "warehouse.duckdb")


@pytest.fixture()
def db(trained_file: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file of its own for each test (they write to it), a byte copy of trained_file's."""
    path = str(tmp_path_factory.mktemp("ahead") / "warehouse.duckdb")
    shutil.copyfile(trained_file, path)
    return path


def _read_ahead(db: str, source: str, explain: bool = False, columns: list[str] | None = None
                ) -> scoreahead.Pending:
    """The rows of ``source`` read as `score --into` reads them ahead, on a read-only open closed after."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        outputs = ["anomaly_score", "anomaly_percentile", "is_anomaly"]
        pending = scoreahead.read(con, "tx_ae", source, columns or [], outputs, explain, "default", False)
    finally:
        con.close()
    assert pending is not None
    return pending


def _write_from_another_process(db: str, sql: str) -> None:
    """``sql`` run by a process of its own, which DuckDB refuses while this one has the file open."""
    subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({db!r}).execute({sql!r})"], check=True,
                   capture_output=True)


def _rows(db: str, sql: str) -> list[tuple[object, ...]]:
    con = ad_duckdb.connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_another_process_writes_the_file_while_the_rows_are_scored(db: str) -> None:
    pending = _read_ahead(db, "transactions", explain=True)
    _write_from_another_process(db, "CREATE TABLE other_job AS SELECT 1 AS x")  # before the scoring
    ahead = pending.score()
    _write_from_another_process(db, "INSERT INTO other_job VALUES (2)")  # after it, before the write
    con = ad_duckdb.connect(db)
    try:
        with scoreahead.reused(ahead):
            n = ad_duckdb.score(con, "tx_ae", "transactions", into="ahead", explain=True)
        assert ahead.taken == 3000  # every row's results reused
        assert n == 3000
        ad_duckdb.score(con, "tx_ae", "transactions", into="fresh", explain=True)
        # the same rows, values and order as scored with nothing ahead
        same = con.execute("SELECT count(*) FROM (SELECT *, row_number() OVER () AS r FROM ahead) a JOIN "
                           "(SELECT *, row_number() OVER () AS r FROM fresh) f USING (r) WHERE a.transaction_id = "
                           "f.transaction_id AND a.anomaly_score = f.anomaly_score AND a.anomaly_percentile = "
                           "f.anomaly_percentile AND a.is_anomaly = f.is_anomaly AND a.anomaly_explain = "
                           "f.anomaly_explain AND a.anomaly_imputed IS NOT DISTINCT FROM f.anomaly_imputed"
                           ).fetchall()[0][0]
        assert same == 3000
        assert con.execute("SELECT count(*) FROM other_job").fetchall() == [(2,)]
    finally:
        con.close()


def test_an_append_run_meanwhile_is_seen_and_no_row_is_added_twice(db: str) -> None:
    source = _SINCE.format(t="tx_scores")
    con = ad_duckdb.connect(db)
    try:
        ad_duckdb.score(con, "tx_ae", "SELECT * FROM transactions WHERE transaction_id < 2000", into="tx_scores",
                        columns=["transaction_id"], append=True)
    finally:
        con.close()
    new = _rows(db, "SELECT count(*) FROM transactions WHERE transaction_id >= 2000")[0][0]
    pending = _read_ahead(db, source, columns=["transaction_id"])  # the rows after 1999
    ahead = pending.score()
    # another run of the job appends those rows while this one scored them
    con = ad_duckdb.connect(db)
    try:
        assert ad_duckdb.score(con, "tx_ae", source, into="tx_scores", columns=["transaction_id"], append=True) \
            == new
    finally:
        con.close()
    con = ad_duckdb.connect(db)
    try:
        with scoreahead.reused(ahead):
            added = ad_duckdb.score(con, "tx_ae", source, into="tx_scores", columns=["transaction_id"], append=True)
    finally:
        con.close()
    assert added == 0
    assert ahead.taken == 0
    assert _rows(db, "SELECT count(*), count(DISTINCT transaction_id) FROM tx_scores") == [(3000, 3000)]


def test_rows_changed_meanwhile_are_scored_as_they_are_then(db: str) -> None:
    ahead = _read_ahead(db, "transactions").score()
    _write_from_another_process(db, "UPDATE transactions SET amount = amount * 40 WHERE transaction_id % 97 = 0")
    con = ad_duckdb.connect(db)
    try:
        with scoreahead.reused(ahead):
            ad_duckdb.score(con, "tx_ae", "transactions", into="ahead")
        ad_duckdb.score(con, "tx_ae", "transactions", into="fresh")
        both = [con.execute(f"SELECT * FROM {t}").fetchall() for t in ("ahead", "fresh")]
    finally:
        con.close()
    assert ahead.taken == 3000 - 30  # the rows not changed keep their results (test_ops17_scoreahead)
    assert both[0] == both[1]


def test_a_retrain_meanwhile_is_scored_with_the_version_the_name_means_then(db: str) -> None:
    ahead = _read_ahead(db, "transactions").score()
    con = ad_duckdb.connect(db)
    try:
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "seed": 11})
        with scoreahead.reused(ahead):
            ad_duckdb.score(con, "tx_ae", "transactions", into="ahead")
        ad_duckdb.score(con, "tx_ae@2", "transactions", into="fresh")
        differ = con.execute("SELECT count(*) FROM (SELECT * FROM ahead EXCEPT ALL SELECT * FROM fresh)").fetchall()
        comments = con.execute("SELECT DISTINCT comment FROM duckdb_columns() WHERE table_name = 'ahead' AND "
                               "column_name = 'anomaly_score'").fetchall()
    finally:
        con.close()
    assert ahead.taken == 0
    assert differ == [(0,)]
    assert "tx_ae@2" in str(comments[0][0]), comments


def test_the_command_writes_the_table_the_earlier_path_wrote(db: str) -> None:
    res = CliRunner().invoke(cli, ["score", db, "tx_ae", "transactions", "--into", "by_cli", "--explain", "--quiet"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    con = ad_duckdb.connect(db)
    try:
        ad_duckdb.score(con, "tx_ae", "transactions", into="by_api", explain=True)
        both = [con.execute(f"SELECT * FROM {t}").fetchall() for t in ("by_cli", "by_api")]
    finally:
        con.close()
    assert both[0] == both[1]
