"""The damaged-thresholds message names the database as the user typed it, in every command: the commands that
score (sql, score, check-threshold) named DuckDB's absolute path, where show and history named the typed one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from test_hardaudit_damage import _byte_changed

import ad_duckdb

from conftest import FAST, make_transactions


def test_the_damaged_thresholds_message_names_the_path_as_typed(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    con = ad_duckdb.connect(str(db))
    try:
        make_transactions(con, n=600)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 50})
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=5.0)
    finally:
        con.close()
    _byte_changed(db, "ad_thresholds", "value")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                         os.environ.get("PYTHONPATH", "")])}
    for args in (["sql", "w.duckdb", "SELECT count(*) FROM transactions WHERE is_anomaly('tx_ae', count, amount)"],
                 ["score", "w.duckdb", "tx_ae", "transactions", "--top", "2"],
                 ["check-threshold", "w.duckdb", "tx_ae", "cut", "--source", "transactions"],
                 ["show", "w.duckdb", "tx_ae"]):
        ran = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=300)
        said = ran.stdout + ran.stderr
        assert "Traceback" not in said, said
        named = re.findall(r"thresholds stored in '([^']*)'|restore-thresholds (\S+?)`", said)
        assert named, (args, said)
        assert all(p in ("w.duckdb", "") for pair in named for p in pair), (args, named)


def test_restore_names_the_versions_stored_before_the_first_logged_cut(tmp_path: Path) -> None:
    """restore-thresholds said any cut set before the changelog's first threshold set might be lost, a date that on
    a file this release made is merely when the first cut was set; it now names the versions stored before it, whose
    cuts a release that did not log them may have set, and none stored after."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    db = tmp_path / "r.duckdb"
    con = ad_duckdb.connect(str(db))
    try:
        make_transactions(con, n=600)
        fast = {**FAST, "max_steps": 50}
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **fast)
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=5.0)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], carry_thresholds=True, **fast)
    finally:
        con.close()
    _byte_changed(db, "ad_thresholds", "value")
    res = CliRunner().invoke(cli, ["restore-thresholds", str(db)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("a cut of your own set before"))
    assert "on tx_ae@1, stored before it" in line and "tx_ae@2" not in line, line
