"""The first run of the README's cron recipe (``score ... --append`` whose source reads the scores table for the
last row scored) makes the table, instead of exiting 6 because the table it reads does not exist yet."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import BadInputError

from conftest import FAST

README = Path(__file__).resolve().parents[1] / "README.md"

_SINCE = ("SELECT * FROM transactions WHERE transaction_id > "
          "(SELECT coalesce(max(transaction_id), -1) FROM {t})")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from conftest import make_transactions

    path = str(tmp_path_factory.mktemp("first") / "warehouse.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=2000)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    return path


def _cron_line() -> list[str]:
    """The command of the README's crontab block, as words."""
    text = README.read_text()
    block = text[text.index("# crontab: */10"):]
    line = next(ln for ln in block.splitlines()[1:] if ln.startswith("ad-duckdb score"))
    return shlex.split(line)[1:]


def _rows(path: str, sql: str) -> list[tuple[object, ...]]:
    con = ad_duckdb.connect(path, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_readme_cron_line_makes_the_table_on_its_first_run(db: str) -> None:
    words = [db if w == "warehouse.duckdb" else w for w in _cron_line()]
    res = CliRunner().invoke(cli, words, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "added 2000 scored rows to tx_scores (now 2000 rows; model tx_ae@1)" in res.output, res.output
    assert _rows(db, "SELECT count(*), count(DISTINCT transaction_id) FROM tx_scores") == [(2000, 2000)]
    cols = _rows(db, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'tx_scores'")
    assert cols == [("transaction_id", "BIGINT"), ("anomaly_score", "DOUBLE"), ("anomaly_percentile", "DOUBLE"),
                    ("is_anomaly", "BOOLEAN")], cols
    # the scores are those SQL gives
    assert _rows(db, "SELECT max(abs(s.anomaly_score - anomaly_score('tx_ae', t.count, t.amount))) < 1e-4 "
                     "FROM tx_scores s JOIN transactions t USING (transaction_id)") == [(True,)]
    # the next run adds only the rows that came since
    con = ad_duckdb.connect(db)
    try:
        con.execute("INSERT INTO transactions SELECT transaction_id + 2000, count, amount, amount_d FROM transactions "
                    "WHERE transaction_id <= 30")
    finally:
        con.close()
    res = CliRunner().invoke(cli, words, catch_exceptions=False)
    assert res.exit_code == 0 and "added 30 scored rows to tx_scores (now 2030 rows" in res.output, res.output


def test_a_first_run_reading_the_table_keeps_every_column_and_explain(db: str) -> None:
    """Without columns=, every source column is kept, and explain's columns come with their types, as a first run
    whose source does not read the table writes them."""
    con = ad_duckdb.connect(db)
    try:
        assert ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc_all"), into="inc_all", append=True,
                               explain=True, model_column=True) == con.execute(
            "SELECT count(*) FROM transactions").fetchall()[0][0]
        ad_duckdb.score(con, "tx_ae", "transactions", into="plain", explain=True, model_column=True)
        types = ("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index")
        assert con.execute(types, ["inc_all"]).fetchall() == con.execute(types, ["plain"]).fetchall()
        assert ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc_all"), into="inc_all", append=True,
                               explain=True, model_column=True) == 0
    finally:
        con.execute("DROP TABLE IF EXISTS inc_all")
        con.execute("DROP TABLE IF EXISTS plain")
        con.close()


def test_a_failed_first_run_leaves_no_table(db: str) -> None:
    """All or none: a first run whose source fails mid-read leaves no table behind (not an empty one)."""
    failing = ("SELECT transaction_id, count, CASE WHEN transaction_id > 1500 THEN error('boom at row ' || "
               "transaction_id) ELSE amount END AS amount FROM transactions WHERE transaction_id > "
               "(SELECT coalesce(max(transaction_id), -1) FROM inc_fail)")
    con = ad_duckdb.connect(db)
    try:
        with pytest.raises(Exception, match="boom at row"):
            ad_duckdb.score(con, "tx_ae", failing, into="inc_fail", columns=["transaction_id"], append=True,
                            batch_rows=256)
        assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name = 'inc_fail'").fetchall()
    finally:
        con.close()


def test_a_source_reading_a_column_the_table_will_not_have_still_says_how_to_start(db: str) -> None:
    """A source that reads a column the first run does not write cannot run against the new table either: the
    message says how to start the job, and no table is left."""
    odd = ("SELECT * FROM transactions WHERE transaction_id > "
           "(SELECT coalesce(max(s.no_such_column), -1) FROM inc_odd s)")
    con = ad_duckdb.connect(db)
    try:
        for columns in (["transaction_id"], None):
            with pytest.raises(BadInputError) as e:
                ad_duckdb.score(con, "tx_ae", odd, into="inc_odd", columns=columns, append=True)
            msg = str(e.value)
            assert "'inc_odd' does not exist yet" in msg and "would not have" in msg, msg
            assert "ad_duckdb.score(con, 'tx_ae', 'TABLE', into='inc_odd', append=True)" in msg, msg
            assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name = 'inc_odd'").fetchall()
    finally:
        con.close()
