"""The command as a scheduler (cron, Airflow) runs it, through the installed `ad-duckdb` script: what each writing
command did as one JSON object (--format json), a failed write of the output named as such, notes kept out of the
log. Real DuckDB files; real processes where the process is what is tested (a full stdout, PYTHONWARNINGS)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ad_duckdb

from conftest import ROOT, cli_in_process, make_transactions

# the console script the package installs, as a scheduler's job calls it
AD_DUCKDB = str(Path(sys.executable).with_name("ad-duckdb"))


def run(*args: str, stdout: int | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command's exit code, stdout and stderr. A process of the installed script where the process is what is
    tested (its stdout a given file, e.g. a full disk; its environment, PYTHONWARNINGS); otherwise in this process
    (click's CliRunner), for what the command prints."""
    if stdout is None and env is None:
        return cli_in_process(*args)
    return subprocess.run([AD_DUCKDB, *args], stdout=subprocess.PIPE if stdout is None else stdout,
                          stderr=subprocess.PIPE, text=True, timeout=300, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.fixture(scope="module")
def model_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tx_ae@1 on 1500 rows, trained as a job trains it: by the command."""
    path = str(tmp_path_factory.mktemp("opsfollow") / "m.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=1500)
    finally:
        con.close()
    p = run("train", path, "tx_ae", "transactions", "-f", "count", "-f", "amount", "--epochs", "2", "--quiet")
    assert p.returncode == 0, p.stderr
    return path


def copy_of(model_db: str, tmp_path: Path) -> str:
    db = tmp_path / "w.duckdb"
    shutil.copy(model_db, db)
    return str(db)


def one_object(p: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """stdout as one JSON object and nothing else (json.loads refuses any text after it)."""
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert isinstance(doc, dict), p.stdout
    return doc


def test_train_format_json_prints_what_was_stored_as_one_object(model_db: str, tmp_path: Path) -> None:
    # Before: `stored tx_ae@2: 1500 rows, ...` as text alone: a job learnt the version it stored by parsing that line
    # or by running `show --format json` after it (which a retrain in between could make another version's).
    db = copy_of(model_db, tmp_path)
    doc = one_object(run("train", db, "tx_ae", "transactions", "-f", "count", "-f", "amount", "--epochs", "2",
                         "--quiet", "--format", "json"))
    assert (doc["model"], doc["name"], doc["version"], doc["rows"]) == ("tx_ae@2", "tx_ae", 2, 1500), doc
    assert doc["features"] == ["count", "amount"]
    con = ad_duckdb.connect(db, read_only=True)
    try:
        stored = con.execute("SELECT anomaly_threshold('tx_ae@2', 'default')").fetchall()[0][0]
    finally:
        con.close()
    assert doc["threshold"] == pytest.approx(stored) and doc["contamination"] == 0.01, doc


def test_threshold_import_drop_and_score_into_format_json(model_db: str, tmp_path: Path) -> None:
    db = copy_of(model_db, tmp_path)
    th = one_object(run("threshold", db, "tx_ae", "cut", "--method", "manual", "--value", "3.5", "--format", "json"))
    assert (th["model"], th["name"], th["value"]) == ("tx_ae@1", "cut", 3.5), th
    # score --into: the table written and its rows, not the top rows (which --top N asks for)
    s = one_object(run("score", db, "tx_ae", "transactions", "--into", "tx_scores", "--quiet", "--format", "json"))
    assert s == {"model": "tx_ae@1", "table": "tx_scores", "rows_written": 1500, "table_rows": 1500,
                 "appended": False}, s
    since = "SELECT * FROM transactions WHERE transaction_id > (SELECT max(transaction_id) - 10 FROM tx_scores)"
    s = one_object(run("score", db, "tx_ae", since, "--into", "tx_scores", "--append", "--quiet", "--format", "json"))
    assert (s["rows_written"], s["table_rows"], s["appended"]) == (10, 1510, True), s
    onnx = tmp_path / "tx_ae.onnx"
    assert run("export", db, "tx_ae", str(onnx)).returncode == 0
    target = str(tmp_path / "prod.duckdb")
    imp = one_object(run("import", target, str(onnx), "--format", "json"))
    assert imp == {"model": "tx_ae@1", "name": "tx_ae", "version": 1, "stored": True, "exported_as": "tx_ae@1"}, imp
    again = one_object(run("import", target, str(onnx), "--format", "json"))
    assert again["stored"] is False and again["model"] == "tx_ae@1", again  # a retried deployment stores nothing
    assert run("import", target, str(onnx), "--name", "other").returncode == 0
    dropped = one_object(run("drop", target, "tx_ae", "--yes", "--format", "json"))
    assert dropped == {"name": "tx_ae", "dropped": [1], "latest": None}, dropped


def test_format_json_of_writing_commands_is_in_help() -> None:
    for command in ("train", "import", "drop", "score", "threshold"):
        p = run(command, "--help")
        assert p.returncode == 0 and "--format" in p.stdout and "json" in p.stdout, (command, p.stdout)


@pytest.mark.parametrize("args", [
    ["list", "{db}"],
    ["show", "{db}", "tx_ae", "--format", "json"],
    ["sql", "{db}", "SELECT * FROM range(100000)", "--format", "csv"],
    ["export", "{db}", "tx_ae", "-"],
    ["--help"],
])
def test_a_full_disk_under_the_output_is_named_as_the_output(model_db: str, args: list[str]) -> None:
    # Before: `ad-duckdb list DB > /dev/full` said "Error: No space left on device." (of what? the database?), and
    # `--help` or `export DB MODEL -` printed a traceback.
    with open("/dev/full", "w") as full:
        p = run(*[a.format(db=model_db) for a in args], stdout=full.fileno())
    assert p.returncode == 1, p.stderr
    assert p.stderr.startswith("Error: writing the output (stdout): No space left on device"), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr, p.stderr


def test_train_into_a_full_output_says_the_model_is_stored(model_db: str, tmp_path: Path) -> None:
    # the model is stored before its line is printed: a retry of the "failed" job would store another version
    db = copy_of(model_db, tmp_path)
    with open("/dev/full", "w") as full:
        p = run("train", db, "tx_ae", "transactions", "-f", "count", "-f", "amount", "--epochs", "2", "--quiet",
                stdout=full.fileno())
    assert p.returncode == 1 and "writing the output (stdout)" in p.stderr, p.stderr
    assert "; tx_ae@2 was stored before it, whole" in p.stderr, p.stderr


def test_pythonwarnings_ignore_silences_the_notes_as_error_makes_them_errors(model_db: str, tmp_path: Path) -> None:
    # Before: PYTHONWARNINGS=error::UserWarning made a note an error, as the README says, but ignore::UserWarning
    # left every `note:` line in the scheduler's log (the command forced its notes on), and nothing else quieted them.
    db = copy_of(model_db, tmp_path)
    train = ["train", db, "tx_ae", "transactions", "--epochs", "2", "--quiet"]  # no -f: a note names the features
    empty = ["score", db, "tx_ae", "SELECT * FROM transactions WHERE false", "--into", "none", "--quiet"]
    said = run(*train)
    assert said.returncode == 0 and "note: " in said.stderr, said.stderr
    assert "note: " in run(*empty).stderr
    quiet = {"PYTHONWARNINGS": "ignore::UserWarning"}
    p = run(*train, env=quiet)
    assert p.returncode == 0 and p.stderr == "" and p.stdout.startswith("stored tx_ae@3"), (p.stdout, p.stderr)
    p = run(*empty, "--replace", env=quiet)
    assert p.returncode == 0 and p.stderr == "" and "wrote 0 scored rows to none" in p.stdout, p.stderr
    # an error is still one
    p = run("score", db, "tx_ae", "no_such_table", env=quiet)
    assert p.returncode == 6 and p.stderr.startswith("Error: "), p.stderr


def test_help_says_how_notes_are_left_out_and_what_a_full_output_exits() -> None:
    said = " ".join(run("--help").stdout.split())
    assert "ignore::UserWarning leaves notes out" in said, said
    assert 'exit 1, "Error: writing the output (stdout): ..."' in said, said
