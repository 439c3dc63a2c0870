"""The ad-duckdb command: every subcommand on a real file database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import make_transactions

BIN = Path(sys.executable).parent / "ad-duckdb"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("cli") / "c.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=1500)
    con.execute("ALTER TABLE transactions ADD COLUMN label INTEGER DEFAULT 0")
    con.execute("INSERT INTO transactions VALUES (9001, 1, 900.0, 900.0, 1), (9002, 300, 30.0, 30.0, 1)")
    con.close()
    return path


def run(*args: str, ok: bool = True) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res.output


def test_cli_flow(db: str, tmp_path: Path) -> None:
    out = run("train", db, "tx_ae", "transactions", "-f", "count,amount", "--quiet", "--n-models", "1",
              "--epochs", "20")
    assert "stored tx_ae@1" in out and "anomaly_score('tx_ae', count, amount)" in out
    assert "tx_ae" in run("list", db)
    shown = run("show", db, "tx_ae")
    assert "count" in shown and "default" in shown and "steps_run" in shown  # features, thresholds, training metrics
    top = run("score", db, "tx_ae", "transactions", "--top", "3")
    assert "9001" in top and "anomaly_score" in top
    assert "wrote 1502 scored rows to scored" in run("score", db, "tx_ae", "transactions", "--into", "scored",
                                                    "--explain")
    assert "exists" in run("score", db, "tx_ae", "transactions", "--into", "scored", ok=False)
    q = run("sql", db, "SELECT transaction_id, is_anomaly('tx_ae', count, amount) AS f FROM transactions "
                       "ORDER BY anomaly_score('tx_ae', count, amount) DESC LIMIT 2", "--format", "csv")
    assert q.splitlines()[0] == "transaction_id,f" and "9001" in q
    ex = run("explain", db, "tx_ae", "transactions", "--where", "transaction_id = 9001")
    assert "ANOMALY" in ex and "amount" in ex and "%" in ex
    ev = run("evaluate", db, "tx_ae", "transactions", "--label", "label", "--plots", str(tmp_path))
    assert "AUC-ROC" in ev
    th = run("threshold", db, "tx_ae", "review", "--method", "flag_budget", "--target", "0.01", "--source",
             "transactions", "--label", "label")
    assert "stored threshold 'review'" in th
    run("export", db, "tx_ae", str(tmp_path / "m.onnx"))
    assert "stored copy@1" in run("import", db, str(tmp_path / "m.onnx"), "--name", "copy")
    assert "dropped copy version(s) 1" in run("drop", db, "copy", "--yes")


def test_cli_errors_are_one_line(db: str) -> None:
    out = run("show", db, "nope", ok=False)
    assert "Error: No model 'nope'" in out and "Traceback" not in out
    out = run("sql", db, "SELECT anomaly_score('nope', 1, 2)", ok=False)
    assert "known models" in out and "Traceback" not in out


def test_every_command_has_help_with_example() -> None:
    for name, cmd in cli.commands.items():
        text = run(name, "--help")
        assert "Example" in text or "example" in text, name
        assert cmd.help


def test_console_script() -> None:
    out = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, check=True).stdout
    assert "Quick start" in out
