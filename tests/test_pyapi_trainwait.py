"""ad_duckdb.train(path, ..., wait=SECONDS): the command line's --wait, for the first open of the file and for the
store at the end, from Python (an Airflow task retraining while a cron job's scoring holds the file)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_concurrency import HOLD_UNTIL_TOLD
from test_trainlock_release import HOLD_READ_ONLY

import ad_duckdb

from conftest import FAST, ROOT, make_transactions


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shared.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=1000)
    finally:
        con.close()
    return path


class _OnWaiting(logging.Handler):
    def __init__(self, holder: subprocess.Popen[str]) -> None:
        super().__init__()
        self.holder, self.seen = holder, 0

    def emit(self, record: logging.LogRecord) -> None:
        if "waiting" in record.getMessage():
            self.seen += 1
            if self.seen == 1:
                assert self.holder.stdin is not None
                self.holder.stdin.write("GO\n")
                self.holder.stdin.flush()


def test_train_of_a_path_waits_for_the_file_with_wait(db: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_UNTIL_TOLD, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        with pytest.raises(ad_duckdb.DatabaseLockedError, match=r"ad_duckdb\.train\(\.\.\., wait=SECONDS\)"):
            ad_duckdb.train(str(db), "m", "transactions", features=["count", "amount"], **FAST)
        with pytest.raises(ad_duckdb.DatabaseLockedError, match=r"\(waited 0\.2s with wait=0\.2\)$"):
            ad_duckdb.train(str(db), "m", "transactions", features=["count", "amount"], wait=0.2, **FAST)
        seen = _OnWaiting(holder)
        log = logging.getLogger("ad_duckdb")
        level = log.level
        log.addHandler(seen)
        log.setLevel(logging.INFO)
        try:
            info = ad_duckdb.train(str(db), "m", "transactions", features=["count", "amount"], wait=600, **FAST)
        finally:
            log.removeHandler(seen)
            log.setLevel(level)
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


# A training in a child whose fit, once done, waits for the test's file 'go' (as test_trainlock_release's)
CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    from ad_duckdb import detector
    import ad_duckdb
    fit = detector.AutoEncoderDetector.fit
    def paused_fit(self, *a, **k):
        out = fit(self, *a, **k)
        open({fitted!r}, "w").close()
        while not os.path.exists({go!r}):
            time.sleep(0.05)
        return out
    detector.AutoEncoderDetector.fit = paused_fit
    info = ad_duckdb.train(sys.argv[1], "m", "transactions", features=["count", "amount"], n_models=1,
                           max_steps=300, wait=900)
    print("stored", info.ref)
""")


def test_train_waits_to_store_for_the_longer_of_wait_and_ten_minutes(db: Path, tmp_path: Path) -> None:
    """As ad-duckdb --wait 900 train: the file held when the model is to be stored is waited for up to 900 s."""
    fitted, go = tmp_path / "fitted", tmp_path / "go"
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT), fitted=str(fitted), go=str(go)),
                              str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    holder: subprocess.Popen[str] | None = None
    try:
        while not fitted.exists():
            assert child.poll() is None, child.communicate()
            time.sleep(0.05)
        holder = subprocess.Popen([sys.executable, "-c", HOLD_READ_ONLY, str(db)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdin is not None and child.stderr is not None
        assert holder.stdout.readline().strip() == "HELD"
        go.touch()
        for line in child.stderr:
            if "waiting up to" in line:
                assert "waiting up to 900s" in line, line
                break
        else:
            raise AssertionError(child.communicate())
        holder.stdin.write("GO\n")
        holder.stdin.flush()
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, (out, err)
        assert "stored m@1" in out
    finally:
        for p in (child, holder):
            if p is not None:
                if p.poll() is None:
                    p.kill()
                p.communicate()
