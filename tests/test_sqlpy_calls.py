"""The SQL functions' messages and transactions, and the Python API's inputs (the sqlpy audit)."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

TINY = {"n_models": 1, "max_steps": 20, "progress": False}


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file database with model tx_ae (count, amount) of one version."""
    path = str(tmp_path_factory.mktemp("sqlpy") / "m.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE transactions AS SELECT i AS transaction_id, 5 + i % 17 AS count, "
                "(20 + (i * 7) % 300)::DECIMAL(14, 2) AS amount FROM range(600) t(i)")
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **TINY)
    con.close()
    return path


@pytest.fixture
def db(small_db: str, tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "copy.duckdb")
    shutil.copy(small_db, path)
    yield path


def _run(*args: str, ok: bool = True) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res.output


def _missing(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    with pytest.raises(duckdb.Error) as e:
        con.sql(sql).fetchall()
    return " ".join(str(e.value).split())


@pytest.mark.parametrize(("name", "method", "option"), [("p97", "quantile", "--target 0.97"),
                                                       ("q995", "quantile", "--target 0.995"),
                                                       ("strict", "quantile", "--target 0.995")])
def test_a_missing_threshold_s_message_gives_the_command_that_stores_it(db: str, name: str, method: str,
                                                                        option: str) -> None:
    """A query naming a threshold the version lacks said to add it "with ad_duckdb.set_threshold(...) or `ad-duckdb
    threshold`", leaving the method and its options to look up. It now writes out the CLI command for this database
    and model, with the method the name reads as (p97: the 0.97 quantile; another name: a quantile to change), and
    the Python call; both run, and the query then works."""
    con = ad_duckdb.connect(db)
    said = _missing(con, f"SELECT anomaly_threshold('tx_ae', '{name}')")
    con.close()
    m = re.search(r"store it for this one: (ad-duckdb threshold .*?) \(", said)
    assert m is not None, said
    cmd = shlex.split(m.group(1))
    assert cmd[2:] == [db, "tx_ae", name, "--method", method, *option.split()], cmd
    _run(*cmd[1:])
    con = ad_duckdb.connect(db)
    try:
        q = float(option.split()[1])
        value = con.execute(f"SELECT anomaly_threshold('tx_ae', '{name}')").fetchone()[0]
        share = con.execute("SELECT flagged_share FROM ad_thresholds WHERE threshold_name = ?", [name]).fetchone()[0]
        assert share == pytest.approx(1 - q, abs=0.01)
        # the Python call, on a name not stored yet
        con.execute("DELETE FROM ad_thresholds WHERE threshold_name = ?", [name])
        ad_duckdb.refresh(con)
        said = _missing(con, f"SELECT anomaly_threshold('tx_ae', '{name}')")
        call = re.search(r"or in Python (ad_duckdb\.set_threshold\(con, .*?\))[;.]", said)
        assert call is not None, said
        eval(call.group(1), {"ad_duckdb": ad_duckdb, "con": con})
        assert con.execute(f"SELECT anomaly_threshold('tx_ae', '{name}')").fetchone()[0] == pytest.approx(value)
    finally:
        con.close()


def test_a_threshold_another_version_holds_is_stored_as_it_was_there(db: str) -> None:
    """After a retrain without carry_thresholds, the new version lacks the cut typed in for the old one: the
    command stores the same cut (manual, its value) for the version the query named."""
    con = ad_duckdb.connect(db)
    try:
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=12.5)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **TINY)
        said = _missing(con, "SELECT anomaly_threshold('tx_ae', 'cut')")
        m = re.search(r"store it for this one: (ad-duckdb threshold .*?) \(", said)
        assert m is not None and shlex.split(m.group(1))[3:] == ["tx_ae@2", "cut", "--method", "manual", "--value",
                                                                 "12.5"], said
    finally:
        con.close()
