"""ad_duckdb.train(path, ..., wait=SECONDS): the command line's --wait, for the first open of the file and for the
store at the end, from Python (an Airflow task retraining while a cron job's scoring holds the file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_concurrency import HOLD_UNTIL_TOLD, released_when_waiting

import ad_duckdb

from conftest import FAST, make_transactions


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shared.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=1000)
    finally:
        con.close()
    return path


def test_train_of_a_path_waits_for_the_file_with_wait(db: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_UNTIL_TOLD, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        with pytest.raises(ad_duckdb.DatabaseLockedError, match=r"ad_duckdb\.train\(\.\.\., wait=SECONDS\)"):
            ad_duckdb.train(str(db), "m", "transactions", features=["count", "amount"], **FAST)
        with pytest.raises(ad_duckdb.DatabaseLockedError, match=r"\(waited 0\.2s with wait=0\.2\)$"):
            ad_duckdb.train(str(db), "m", "transactions", features=["count", "amount"], wait=0.2, **FAST)
        with released_when_waiting(holder) as seen:
            info = ad_duckdb.train(str(db), "m", "transactions", features=["count", "amount"], wait=600, **FAST)
        assert seen.seen >= 1 and info.ref == "m@1"
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate()


def test_train_wait_is_checked_and_is_for_a_path(db: Path) -> None:
    with pytest.raises(ad_duckdb.OptionError, match=r"wait= .*got -1"):
        ad_duckdb.train(str(db), "m", "transactions", features=["count", "amount"], wait=-1, **FAST)
    con = ad_duckdb.connect(str(db))
    try:
        with pytest.raises(ad_duckdb.OptionError, match=r"wait=.*ad_duckdb\.connect\(.*wait="):
            ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], wait=60, **FAST)
    finally:
        con.close()


def test_a_wait_that_is_no_finite_number_is_refused(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--wait nan passed click's range (no comparison holds for nan), and nan or inf made a job whose file was held
    say "waiting up to nans" (or "infs") and wait for ever; wait=float('inf') too."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    for value in ("nan", "inf"):
        res = CliRunner().invoke(cli, ["--wait", value, "list", str(db)], catch_exceptions=False)
        assert res.exit_code == 2 and "Invalid value for '--wait'" in res.output and \
            f"{value} is no number of seconds; give the longest wait, e.g. --wait 600." in res.output, res.output
        monkeypatch.setenv("AD_DUCKDB_WAIT", value)
        res = CliRunner().invoke(cli, ["list", str(db)], catch_exceptions=False)
        assert res.exit_code == 2 and "AD_DUCKDB_WAIT" in res.output, res.output
        monkeypatch.delenv("AD_DUCKDB_WAIT")
        with pytest.raises(ad_duckdb.OptionError, match=rf"wait= .*a finite number >= 0 .*got {value}"):
            ad_duckdb.connect(str(db), read_only=True, wait=float(value))
