"""A missing threshold's fix in `ad-duckdb serve` (ops7): what stores it while the server holds the file, for each
way of serving, followed to its end. The server and its warehouse come from tests/test_server.py."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

import test_server

warehouse = test_server.warehouse

QUERY = "SELECT count(*) FILTER (WHERE is_anomaly_at('tx_ae', 'c97', count, amount)) FROM transactions"


def _missing(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as e:
            conn.execute(QUERY).fetchall()
    return str(e.value)


def _flagged_after_sighup(server: test_server.Server, url: str) -> int:
    server.proc.send_signal(signal.SIGHUP)
    for _ in range(200):
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                return int(conn.execute(QUERY).fetchall()[0][0])
        except psycopg.Error:
            time.sleep(0.1)
    raise AssertionError("the threshold was never seen after SIGHUP")


def _cli(command: str) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command)
    assert words[0] == "ad-duckdb", words
    return subprocess.run([sys.executable, "-m", "ad_duckdb.cli", *words[1:]], capture_output=True, text=True,
                          timeout=300)


def test_serve_names_a_fix_for_a_missing_threshold_that_works_while_it_runs(warehouse: str, tmp_path: Path) -> None:
    # Before: each way of serving printed `ad-duckdb threshold DB ...`, which cannot open a file the server holds
    # (exit 4), and with --snapshot named the server's temporary copy as DB.
    db = str(tmp_path / "w.duckdb")
    shutil.copy(warehouse, db)
    with test_server.serve(db) as s:
        said = _missing(s.url())
        assert f"kill {s.proc.pid}" in said and "--snapshot" in said, said
        cmd = re.search(r"run (ad-duckdb threshold .+?) \(", said)
        assert cmd is not None, said
        assert _cli(cmd[1]).returncode == 4  # why the message says to stop the server first
    with test_server.serve(db, "--snapshot") as s:
        said = _missing(s.url())
        cmd = re.search(r"beside it: (ad-duckdb threshold .+?) \(", said)
        assert cmd is not None and f"kill -HUP {s.proc.pid}" in said, said
        assert shlex.split(cmd[1])[2] == db, cmd[1]  # the file, not the server's copy
        ran = _cli(cmd[1])
        assert ran.returncode == 0, ran
        flagged = _flagged_after_sighup(s, s.url())
        assert 0 < flagged < 200, flagged
    db2 = str(tmp_path / "rw.duckdb")
    shutil.copy(warehouse, db2)
    with test_server.serve(db2, "--read-write") as s:
        said = _missing(s.url())
        # no SIGHUP: the server loads the store again once the INSERT commits
        sql = re.search(r"(INSERT INTO ad_thresholds .+?\)); the statements after it use it", said)
        assert sql is not None and "kill -HUP" not in said, said
        with psycopg.connect(s.url(), autocommit=True) as conn:
            conn.execute(sql[1])
            assert int(conn.execute(QUERY).fetchall()[0][0]) == flagged  # the same cut as the command stored
