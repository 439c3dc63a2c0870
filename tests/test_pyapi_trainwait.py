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
