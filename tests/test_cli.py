"""The ad-duckdb command: every subcommand on a real file database."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from test_cli_ops import _holding, _let_go, _stop, _until_waiting

import ad_duckdb
from ad_duckdb import api, dotcmds, readhints
from ad_duckdb.cli import cli

from conftest import FAST, ROOT, make_transactions, unwrapped, wait_reading_terminal

BIN = Path(sys.executable).parent / "ad-duckdb"


def make_labelled(con: ad_duckdb.duckdb.DuckDBPyConnection) -> None:
    """transactions(transaction_id, count, amount, amount_d, label) with two planted anomalies labelled 1."""
    make_transactions(con, n=1500)
    con.execute("ALTER TABLE transactions ADD COLUMN label INTEGER DEFAULT 0")
    con.execute("INSERT INTO transactions VALUES (9001, 1, 900.0, 900.0, 1), (9002, 300, 30.0, 30.0, 1)")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("cli") / "c.duckdb")
    con = ad_duckdb.connect(path)
    make_labelled(con)
    con.close()
    return path


@pytest.fixture(scope="module")
def model_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file database with model tx_ae (count, amount) trained on labelled transactions."""
    path = str(tmp_path_factory.mktemp("cli_model") / "m.duckdb")
    con = ad_duckdb.connect(path)
    make_labelled(con)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    return path


def run(*args: str, ok: bool = True) -> str:
    """The command's output; explain's table as its logical lines (``unwrapped``)."""
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    table = args[:1] == ("explain",) and not {"--format", "--help"} & set(args)
    return unwrapped(res.output) if table else res.output


def stdout_of(*args: str) -> bytes:
    """What a command that succeeds writes to stdout, byte for byte (stderr apart), run in this process: for tests
    of the output itself; the ones of a process (exit on a closed pipe, memory, the shell) start one."""
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.stdout_bytes


def fails_in_one_line(*args: str) -> str:
    """Run a command that must fail with one `Error: ...` line: no traceback, a non-zero exit code."""
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code != 0, res.output
    assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1, res.output
    return res.output


def test_a_source_in_a_database_not_attached_says_to_attach_it(model_db: str) -> None:
    """Each command opens DB alone, so lake.main.tx is read only with --attach; DuckDB's "schema lake.main does not
    exist" did not say so. Before --attach the hint was to copy the table into DB, a second copy of a warehouse
    table."""
    out = fails_in_one_line("score", model_db, "tx_ae", "lake.main.tx")
    assert ("no database 'lake' is attached (attached: m). Pass the file it is in with --attach "
            "path/to/lake.duckdb (read-only; --attach PATH=lake for a file named otherwise)") in out, out
    assert "or copy the table into DB" in out and "CREATE TABLE lake_tx AS FROM lake.main.tx" in out, out


def _lake(path: Path) -> Path:
    """A DuckDB file of labelled transactions, made with plain DuckDB (no model tables in it)."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        make_labelled(con)
    return path


def _state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def _invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def test_attach_trains_and_scores_a_table_of_another_database_file_without_changing_it(tmp_path: Path) -> None:
    """Before: a table in another DuckDB file could not be a source; the hint copied it into DB."""
    lake = _lake(tmp_path / "lake.duckdb")
    before = _state(lake)
    models = str(tmp_path / "models.duckdb")
    out = run("train", models, "tx_ae", "lake.main.transactions", "-f", "count", "-f", "amount", "--attach",
              str(lake), "--quiet", "--epochs", "20")
    assert "stored tx_ae@1: 1502 rows" in out, out
    top = run("score", models, "tx_ae", "lake.main.transactions", "--attach", str(lake), "--top", "5")
    assert "9001" in top and "anomaly_score" in top, top
    out = run("score", models, "tx_ae", "lake.main.transactions", "--attach", str(lake), "--into", "tx_scores")
    assert "wrote 1502 scored rows to tx_scores" in out, out
    # the other commands that read rows take it too; an alias of one's own names the database in the source
    ex = run("explain", models, "tx_ae", "wh.main.transactions", "--attach", f"{lake}=wh", "--where",
             "transaction_id = 9001")
    assert "ANOMALY" in ex, ex
    assert "AUC-ROC" in run("evaluate", models, "tx_ae", "lake.main.transactions", "--label", "label",
                            "--attach", str(lake))
    th = run("threshold", models, "tx_ae", "review", "--method", "flag_budget", "--target", "0.01", "--source",
             "labels.transactions", "--label", "label", "--attach", f"{lake}=labels")
    assert "stored threshold 'review'" in th, th
    q = run("sql", models, "SELECT count(*) AS n FROM lake.transactions t JOIN tx_scores s USING (transaction_id)",
            "--attach", str(lake), "--format", "csv")
    assert q.splitlines() == ["n", "1502"], q
    # read-only always, even beside --write: the command never writes into someone else's database
    code, out = _invoke("sql", models, "--write", "CREATE TABLE lake.main.mine AS SELECT 1 AS x",
                        "--attach", str(lake))
    assert code != 0 and "read-only" in out.lower() and len(out.strip().splitlines()) == 1, out
    assert _state(lake) == before
    # the scores are in DB, the source's file has no new table
    import duckdb

    with duckdb.connect(models, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tx_scores").fetchall() == [(1502,)]
    with duckdb.connect(str(lake), read_only=True) as con:
        assert [t for (t,) in con.execute("SHOW TABLES").fetchall()] == ["transactions"]
    # what reads a source again without its --attach says to pass it: a retrain (its source), a retrain carrying
    # the threshold chosen on the labels of a database not attached this time (a note), show's retrain note
    code, out = _invoke("train", models, "tx_ae", "lake.main.transactions", "-f", "count", "-f", "amount",
                        "--quiet", "--epochs", "20", "--carry-thresholds")
    assert code == 6 and "--attach path/to/lake.duckdb" in out, out
    out = run("train", models, "tx_ae", "lake.main.transactions", "-f", "count", "-f", "amount", "--quiet",
              "--epochs", "20", "--carry-thresholds", "--attach", str(lake))
    assert "stored tx_ae@2" in out and "not chosen again on its labels" in out, out
    assert "--attach path/to/labels.duckdb" in out, out
    assert "top 100 scores" in run("compare", models, "tx_ae@1", "tx_ae@2", "lake.main.transactions",
                                   "--attach", str(lake))
    shown = run("show", models, "tx_ae")
    # the file is kept with the model: show's command passes it, its note gives the ATTACH for the Python call
    assert f"  or in a shell: ad-duckdb train {models} tx_ae lake.main.transactions -f count,amount --attach {lake} " \
           in shown, shown
    assert f"note: 'lake' was a database the training connection had attached: run ATTACH '{lake}' AS " in shown, shown
    assert _state(lake) == before


@pytest.mark.parametrize("name", ["2024 lake.duckdb", "my-lake.duckdb"])
def test_attach_quotes_an_alias_that_is_no_plain_name(tmp_path: Path, name: str, model_db: str) -> None:
    """The file's stem is the alias, as in DuckDB's ATTACH; one with a space or a dash is used quoted."""
    lake = _lake(tmp_path / name)
    alias = name.removesuffix(".duckdb")
    top = run("score", model_db, "tx_ae", f'"{alias}".main.transactions', "--attach", str(lake), "--top", "3")
    assert "9001" in top, top
    # an alias with a quote in it is quoted too (its source must quote it as SQL does)
    top = run("score", model_db, "tx_ae", '"x""y".transactions', "--attach", f"{lake}=x\"y", "--top", "3")
    assert "9001" in top, top


def test_attach_errors_are_one_line_with_their_exit_codes(tmp_path: Path) -> None:
    import duckdb

    lake = _lake(tmp_path / "lake.duckdb")
    models = _lake(tmp_path / "models.duckdb")

    def fails(code: int, *attach: str) -> str:
        args = ["score", str(models), "tx_ae", "lake.main.transactions", "--top", "3"]
        for a in attach:
            args += ["--attach", a]
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
        out = res.output
        assert res.exit_code == code, (res.exit_code, out)
        assert out.startswith("Error: ") and len(out.strip().splitlines()) == 1, out
        return out

    missing = str(tmp_path / "nope" / "lake.duckdb")
    out = fails(3, missing)
    assert f"--attach {missing!r} does not exist" in out and "check the path" in out, out
    # a Parquet file, a CSV file or a folder is not a DuckDB database: say so, and how such a file is read
    parquet = tmp_path / "lake.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 1 AS a) TO '{parquet}' (FORMAT parquet)")
    kept = parquet.read_bytes()
    out = fails(3, str(parquet))
    assert "is not a DuckDB database file" in out and f"read_parquet('{parquet}')" in out, out
    assert parquet.read_bytes() == kept
    csv_file = tmp_path / "lake.csv"
    csv_file.write_text("a,b\n1,2\n")
    out = fails(3, str(csv_file))
    assert "is not a DuckDB database file" in out and f"read_csv('{csv_file}')" in out, out
    out = fails(3, str(tmp_path))
    assert "is a folder" in out, out
    # aliases: DB's own name, another --attach's, a reserved one, none
    other = tmp_path / "other"
    other.mkdir()
    (other / "models.duckdb").write_bytes(lake.read_bytes())
    out = fails(2, str(other / "models.duckdb"))
    assert "alias 'models' is DB's own name" in out and "=ALIAS" in out, out
    (other / "lake.duckdb").write_bytes(lake.read_bytes())
    out = fails(2, str(lake), str(other / "lake.duckdb"))
    assert "alias 'lake' is given twice" in out and "=ALIAS" in out, out
    out = fails(2, f"{lake}=LAKE", f"{other / 'lake.duckdb'}=lake")  # DuckDB's names ignore case
    assert "alias 'lake' is given twice" in out, out
    for reserved in ("main", "system", "temp"):
        out = fails(2, f"{lake}={reserved}")
        assert f"alias {reserved!r} is reserved" in out, out
    out = fails(2, f"{lake}=")
    assert "no alias after '='" in out, out
    # no path at all: before, '' (the folder '.' to Path) was "a folder", and --attach '' was told to give
    # --attach =ALIAS, which failed so
    for empty in ("", "=lake"):
        out = fails(2, empty)
        assert f"--attach {empty!r} names no file: give the DuckDB file's path, --attach PATH or --attach PATH=ALIAS" \
            in out, out
    out = fails(2, f"{models}=again")
    assert "is DB itself" in out, out


def test_attach_of_a_file_another_process_writes_is_a_locked_file(tmp_path: Path, model_db: str) -> None:
    lake = _lake(tmp_path / "lake.duckdb")
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('HELD', flush=True); time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(lake)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        res = CliRunner().invoke(cli, ["score", model_db, "tx_ae", "lake.main.transactions", "--attach", str(lake)],
                                 catch_exceptions=False)
    finally:
        holder.kill()
        holder.communicate()
    out = res.output
    assert res.exit_code == 4 and len(out.strip().splitlines()) == 1, out
    assert f"Cannot open {str(lake)!r}" in out and "another process has it open for writing" in out, out
    assert "--wait" in out, out
    # --wait waits for an attached file as for DB: the writer finishes, the command reads. Why the writer finishes
    # once the command says it waits, not after a fixed time: on a loaded machine the command met no lock then
    holder = _holding(lake)
    try:
        job = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "--wait", "60", "score", model_db, "tx_ae",
                                "lake.main.transactions", "--attach", str(lake), "--top", "3"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            said = _until_waiting(job.stderr)
            _let_go(holder)
            top, err = job.communicate(timeout=120)
        finally:
            _stop(job)
    finally:
        _stop(holder)
    assert "note: waiting up to 60s (--wait)" in said and str(lake) in said, (said, err)
    assert job.returncode == 0 and "9001" in top, (said, err, top)


def test_attach_alias_that_is_a_schema_of_db_is_refused(tmp_path: Path, model_db: str) -> None:
    """DuckDB refuses every two-part name through an alias that is also a schema of DB (lake.transactions: DB's
    schema lake, or the file?) as ambiguous, pointing at DB's schema only; the alias pg_catalog broke the server's
    catalog views. Refused at attach time, in one line, with the fix."""
    lake = _lake(tmp_path / "lake.duckdb")
    models = tmp_path / "models.duckdb"
    models.write_bytes(Path(model_db).read_bytes())
    with duckdb.connect(str(models)) as con:
        con.execute("CREATE SCHEMA Lake; CREATE TABLE Lake.transactions AS SELECT * FROM main.transactions LIMIT 3")
    before = _state(models)
    for alias, schema in (("lake", "Lake"), ("LAKE", "Lake"), ("pg_catalog", "pg_catalog"),
                          ("information_schema", "information_schema")):
        spec = str(lake) if alias == "lake" else f"{lake}={alias}"
        for args in (["score", str(models), "tx_ae", f"{alias}.main.transactions", "--top", "3"],
                     ["score", str(models), "tx_ae", f"{alias}.main.transactions", "--into", "s"],
                     ["sql", str(models), "SELECT 1", "--write"]):
            code, out = _invoke(*args, "--attach", spec)
            assert code == 2 and out.startswith("Error: ") and len(out.strip().splitlines()) == 1, (args, out)
            assert f"the alias {alias!r} is also the name of a schema of" in out and f"{schema!r}" in out, out
            assert f"--attach {lake}=OTHER_ALIAS" in out, out
    assert _state(models) == before
    # another alias reads the file's table, and DB's schema by its own name
    top = run("score", str(models), "tx_ae", "lk.transactions", "--attach", f"{lake}=lk", "--top", "3")
    assert "9001" in top, top
    q = run("sql", str(models), "SELECT (SELECT count(*) FROM lake.transactions) AS db_rows, "
            "(SELECT count(*) FROM lk.transactions) AS file_rows", "--attach", f"{lake}=lk", "--format", "csv")
    assert q.splitlines() == ["db_rows,file_rows", "3,1502"], q


def test_waiting_for_an_attached_file_does_not_hold_db(tmp_path: Path, model_db: str) -> None:
    """`--wait` on an attached file another process writes: DB stays free meanwhile, though the command opens it for
    writing (score --into); it held DB (opened first) for the whole wait, blocking every other user of DB."""
    lake = _lake(tmp_path / "lake.duckdb")
    models = tmp_path / "models.duckdb"
    models.write_bytes(Path(model_db).read_bytes())
    holder = _holding(lake)
    try:
        cmd = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "--wait", "120", "score", str(models),
                                "tx_ae", "lake.main.transactions", "--attach", str(lake), "--into", "tx_scores"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            # Why from its waiting line on, not for a fixed time: on a loaded machine the command was still starting
            # after those seconds, and DB was free for reasons of its own
            said = _until_waiting(cmd.stderr)
            assert "note: waiting up to 120s (--wait)" in said and str(lake) in said, said
            for _ in range(5):  # DB opens for writing in this process while the command waits
                assert cmd.poll() is None, cmd.communicate()
                with duckdb.connect(str(models)) as con:
                    con.execute("CREATE OR REPLACE TABLE other_user AS SELECT 1 AS x")
                time.sleep(0.2)
            _let_go(holder)  # the writer ends: the command goes on
            out, err = cmd.communicate(timeout=120)
        finally:
            _stop(cmd)
    finally:
        _stop(holder)
    assert cmd.returncode == 0 and "wrote 1502 scored rows to tx_scores" in out, (said, out, err)
    with duckdb.connect(str(models), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tx_scores").fetchall() == [(1502,)]
        assert con.execute("SELECT x FROM other_user").fetchall() == [(1,)]


def test_score_never_replaces_a_label_column_of_the_users_named_is_anomaly(tmp_path: Path) -> None:
    """score --into the labelled table itself --replace printed only 'wrote ... rows' and put the model's flag where
    the labels were (evaluate then gave AUC-ROC 1.0); -c is_anomaly returned the flag under the label's name."""
    db = str(tmp_path / "l.duckdb")
    con = ad_duckdb.connect(db)
    make_labelled(con)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    run("sql", "--write", db, "CREATE TABLE tx_labelled AS SELECT * RENAME (label AS is_anomaly) FROM transactions")
    auc = run("evaluate", db, "tx_ae", "tx_labelled", "--label", "is_anomaly").splitlines()[1]
    fix = ("SELECT * RENAME (is_anomaly AS label) FROM tx_labelled", "-c COLUMN")
    for args in (["--into", "tx_labelled", "--replace"], ["-c", "transaction_id", "-c", "is_anomaly", "--into", "k"],
                 ["-c", "transaction_id", "-c", "is_anomaly"], ["--top", "3"]):
        res = CliRunner().invoke(cli, ["score", db, "tx_ae", "tx_labelled", *args], catch_exceptions=False)
        assert res.exit_code == 1, res.output
        out = res.output
        assert out.startswith("Error: ") and len(out.strip().splitlines()) == 1, out
        assert "'tx_labelled' has a column 'is_anomaly' (INTEGER) of its own" in out and all(f in out for f in fix), out
    assert run("evaluate", db, "tx_ae", "tx_labelled", "--label", "is_anomaly").splitlines()[1] == auc
    assert "k" not in run("sql", db, "SELECT table_name FROM duckdb_tables()", "--format", "csv").split()
    # the fix given: the label renamed in a query, written beside the model's flag
    run("score", db, "tx_ae", fix[0], "--into", "scored")
    assert run("sql", db, "SELECT count(*) FILTER (WHERE label = 1), count(*) FILTER (WHERE label IS NULL) FROM scored",
               "--format", "csv").splitlines()[1] == "2,0"
    # a table scored by score --into is re-scored in place, its score columns replaced
    run("score", db, "tx_ae", "transactions", "--into", "tx_scores")
    assert "wrote 1502 scored rows" in run("score", db, "tx_ae", "tx_scores", "--into", "tx_scores", "--replace")


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


def test_a_misspelt_model_name_on_the_command_line_is_pointed_to_the_close_one(model_db: str) -> None:
    # Before: "No model 'tx_ea' in table ad_models; known models: 'tx_ae'" with no guess, unlike a misspelt table
    for args in (("score", model_db, "tx_ea", "transactions"), ("show", model_db, "tx_ea"),
                 ("sql", model_db, "SELECT anomaly_score('tx_ea', count, amount) FROM transactions")):
        out = fails_in_one_line(*args)
        assert "No model 'tx_ea'" in out and "Did you mean 'tx_ae'?" in out, out


def test_unknown_source_on_the_command_line_names_no_python_variable(model_db: str, tmp_path: Path) -> None:
    """Before: `ad-duckdb score DB tx_ae nosuch` said the source is not "a DataFrame or Arrow table variable in the
    calling Python code" and told the user to give one "(in quotes: 'df')", which a shell has no way to do."""
    for args in (("score", model_db, "tx_ae", "transactoins", "--top", "3"),
                 ("train", model_db, "tx_new", "transactoins", "-f", "count"),
                 ("score", model_db, "tx_ae", "SELECT * FROM transactoins", "--top", "3")):
        out = fails_in_one_line(*args)
        assert "cannot read the source" in out and "DataFrame" not in out and "variable" not in out, out
        assert "read_parquet('file.parquet')" in out and "SELECT query" in out, out
    assert "Did you mean 'transactions'?" in fails_in_one_line("score", model_db, "tx_ae", "transactoins")
    # run as `python -m ad_duckdb.cli` (its module is then __main__) the command is told apart the same way
    r = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "score", model_db, "tx_ae", "transactoins"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "cannot read the source" in r.stderr and "variable" not in r.stderr, r.stderr
    # from Python, a DataFrame variable is still offered: it is a source there
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        with pytest.raises(ad_duckdb.SourceNotFoundError, match="DataFrame or Arrow table variable"):
            ad_duckdb.score(con, "tx_ae", "transactoins")
    finally:
        con.close()


def test_every_command_has_help_with_example() -> None:
    for name, cmd in cli.commands.items():
        text = run(name, "--help")
        assert "Example" in text or "example" in text, name
        assert cmd.help



def test_python_m_ad_duckdb_runs_the_command(db: str) -> None:
    """Where the venv's scripts folder is not on PATH, `python -m ad_duckdb` is the command (it said "is a package
    and cannot be directly executed")."""
    r = subprocess.run([sys.executable, "-m", "ad_duckdb", "list", db], capture_output=True, text=True, timeout=120)
    # it read `db`: each stored model is listed, or it says there is none (`db` is shared: which models it holds
    # depends on which tests ran before)
    con = ad_duckdb.connect(db, read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ad_models'").fetchall()[0][0]
        names = [n for (n,) in con.execute("SELECT DISTINCT name FROM ad_models").fetchall()] if stored else []
    finally:
        con.close()
    assert r.returncode == 0, r.stderr
    if names:
        assert all(re.search(rf"^{re.escape(n)}\s", r.stdout, re.MULTILINE) for n in names), (names, r.stdout)
    else:
        assert r.stdout.startswith("no models stored yet"), r.stdout
    r = subprocess.run([sys.executable, "-m", "ad_duckdb", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "Usage: ad-duckdb" in r.stdout


def test_importing_ad_duckdb_main_does_not_run_the_command() -> None:
    """Tools that import every module of a package (pydoc, documentation generators, test collectors) imported
    ad_duckdb.__main__, which ran the command there and then: a usage message and SystemExit instead of a module."""
    code = "import importlib; importlib.import_module('ad_duckdb.__main__'); print('imported')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "imported", (r.returncode, r.stdout, r.stderr)


def test_train_help_names_every_kind_of_column_the_default_features_leave_out() -> None:
    """README (Quick start): without -f, id-like columns, a row index written out and columns --where holds at one
    value are left out; --help named only the id-like ones."""
    text = " ".join(run("train", "--help").split())
    for said in ("integers named id, *_id or *Id", "rising row by row", "a row index written out",
                 "columns --where holds at one value"):
        assert said in text, said


def test_console_script() -> None:
    out = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, check=True).stdout
    assert "Quick start" in out


def help_examples() -> list[list[str]]:
    """Every `ad-duckdb ...` line of the group's and each command's --help, as argv (a quoted query may wrap)."""
    out: list[list[str]] = []
    for text in [run("--help")] + [run(name, "--help") for name in cli.commands]:
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            if line.startswith("ad-duckdb "):
                while True:
                    try:
                        argv = shlex.split(line)
                        break
                    except ValueError:  # the query goes on in the next line
                        i += 1
                        line += "\n" + lines[i].strip()
                out.append(argv[1:])
            i += 1
    return out


def write_example_inputs() -> None:
    """In the current folder: the databases, files and tables the --help examples name."""
    con = ad_duckdb.connect("warehouse.duckdb")
    make_transactions(con, n=1500)
    # the example's companion columns (examples/transactions/generate.py), which train's --hidden-dims example names
    con.execute("ALTER TABLE transactions ADD COLUMN distinct_cards INTEGER")
    con.execute("ALTER TABLE transactions ADD COLUMN refunds INTEGER")
    con.execute("UPDATE transactions SET distinct_cards = greatest(1, count - transaction_id % 3), "
                "refunds = (transaction_id % 40 = 0)::INTEGER")
    con.execute("COPY transactions TO 'new.parquet'")
    # the day each was made on, as the example's (score's --time and --replace-partition examples)
    con.execute("ALTER TABLE transactions ADD COLUMN day DATE")
    con.execute("UPDATE transactions SET day = DATE '2026-01-01' + CAST(transaction_id % 60 AS INTEGER)")
    # A first version, so the quick start's training makes tx_ae@2 (score's example pins it).
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    con = ad_duckdb.connect("cards.duckdb")
    make_transactions(con, n=1500)
    # class = 1 on 5 planted rows (one card, a huge ticket), distinct and under the flag_budget example's 0.5%.
    # The columns of examples/creditcard's table, in small: Time, V1.., Amount, Class.
    # split: half the normal rows to train on ('train', normal only), the rest and the anomalies to judge on
    con.execute("CREATE TABLE cards AS SELECT transaction_id AS Time, count::DOUBLE AS V1, amount / 10 AS V2, "
                "amount AS Amount, 0 AS Class, CASE WHEN transaction_id % 2 = 0 THEN 'train' ELSE 'test' END AS split "
                "FROM transactions "
                "UNION ALL SELECT 10000 + range, 1, 90.0 + 3.7 * range, 900.0 + 37 * range, 1, 'test' FROM range(5)")
    # card_ae as examples/creditcard/run.py stores it (the --help examples of evaluate and threshold use it)
    ad_duckdb.train(con, "card_ae", "cards", features=["V1", "V2", "Amount"], where="split = 'train'", **FAST)
    # and retrained, for compare's --label example
    ad_duckdb.train(con, "card_ae", "cards", features=["V1", "V2", "Amount"], where="split = 'train'", seed=1, **FAST)
    con.close()
    # a warehouse file of someone else's (plain DuckDB, no model tables): train's and score's --attach examples
    import duckdb

    with duckdb.connect("lake.duckdb") as lake:
        make_transactions(lake, n=1500)
        lake.execute("ALTER TABLE transactions RENAME TO tx")
    Path("report.sql").write_text("-- a report\nSELECT count(*) AS n FROM transactions;\n"
                                  "SELECT max(anomaly_score('tx_ae', count, amount)) AS top FROM transactions;\n")


def test_help_examples_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("report.sql").write_text("SELECT 1")  # --file opens its file while the arguments are parsed
    examples = help_examples()
    assert {argv[0] for argv in examples} == set(cli.commands)
    for argv in examples:
        # make_context raises click.UsageError on a bad example; leaving it closes the --file it opened.
        with cli.commands[argv[0]].make_context(argv[0], argv[1:]):
            pass


def test_help_examples_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_example_inputs()
    for argv in help_examples():
        if argv[0] != "serve":  # a server runs until stopped; tests/test_server.py covers it
            run(*argv)
    assert Path("tx_ae.onnx").is_file() and list(Path("plots").glob("tx_ae_v*_scores_over_time.png"))


def test_train_without_features_suggests_f(db: str) -> None:
    # Without -f the label would be a feature, constant under --where "label = 0" (the README's recipe), which
    # stopped the recipe with an error: the filter's own column is left out, with a note saying so.
    res = CliRunner().invoke(cli, ["train", db, "lab_ae", "transactions", "--where", "label = 0", "--quiet",
                                   "--epochs", "2"])
    assert res.exit_code == 0, res.output
    assert "stored lab_ae@1" in res.stdout and "features (count, amount, amount_d" in res.stdout
    assert "label)" not in res.stdout.split("features (")[1].split(")")[0] + ")"
    notes = res.stderr.strip().splitlines()
    assert any(n.startswith("note: ") and "'label', which where='label = 0' holds at one value" in n for n in notes)
    assert any("'transaction_id' (named like an id)" in n for n in notes)
    # a constant column the filter does not name is left out with a note (looks2; it was an error), which gives the
    # -f to keep it, the id left out as the default did
    res = CliRunner().invoke(cli, ["train", db, "c_ae", "SELECT *, 7 AS seven FROM transactions", "--where",
                                   "label = 0", "--quiet", "--epochs", "2"])
    assert res.exit_code == 0, res.output
    note = next(x for x in res.stderr.splitlines() if "'seven' (7 in every row)" in x)
    assert "-f count -f amount -f amount_d" in note and "-f seven --constant-columns keep" in note, note
    # several constant columns: one note names them all
    res = CliRunner().invoke(cli, ["train", db, "c_ae", "SELECT 7 AS seven, 0.0 AS zero, * FROM transactions",
                                   "--where", "label = 0", "--quiet", "--epochs", "2"])
    assert res.exit_code == 0, res.output
    assert any("'seven' (7 in every row), 'zero' (0 in every row)" in x for x in res.stderr.splitlines()), res.stderr
    # an empty column too
    res = CliRunner().invoke(cli, ["train", db, "null_ae", "SELECT *, NULL::DOUBLE AS blank FROM transactions",
                                   "--quiet", "--epochs", "2"])
    assert res.exit_code == 0, res.output
    assert any("'blank' (no value: all NULL, NaN or infinite)" in x for x in res.stderr.splitlines()), res.stderr


@pytest.mark.parametrize("bad", ["7 AS seven", "NULL::DOUBLE AS blank"])
def test_train_f_example_leaves_out_an_id_found_by_its_values(tmp_path: Path, bad: str) -> None:
    # 'k' is an id by its values alone (distinct integers rising row by row), not by its name: the default left it
    # out, but the -f example after a constant or empty column named it, so pasting it trained on the id.
    path = str(tmp_path / "k.duckdb")
    with duckdb.connect(path) as con:
        con.execute(f"CREATE TABLE t AS SELECT i AS k, random() AS a, random() * 3 AS b, {bad} FROM range(300) r(i)")
    res = CliRunner().invoke(cli, ["train", path, "k_ae", "t", "--quiet", "--epochs", "2"])
    # the constant or empty column left out with a note (looks2; it was an error naming the -f to give)
    assert res.exit_code == 0, res.output
    assert "features (a, b)" in res.stdout, res.stdout
    note = next(x for x in res.stderr.splitlines() if "left out: it tells no training row" in x)
    assert "Features: a, b." in note and "-f k " not in note, note


def test_train_prints_what_default_features_left_out_and_keeps_an_id_named_with_f(tmp_path: Path) -> None:
    path = str(tmp_path / "ids.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE tx AS SELECT range AS transaction_id, range % 30 AS merchant_id, "
                "(range % 17)::DOUBLE AS amount, sqrt(range) AS spread, 'n' || range AS note FROM range(600)")
    con.close()
    res = CliRunner().invoke(cli, ["train", path, "d", "tx", "--quiet", "--epochs", "2"])
    assert res.exit_code == 0, res.output
    assert "stored d@1: 600 rows, features (amount, spread)" in res.stdout
    notes = res.stderr.strip().splitlines()
    assert len(notes) == 2 and all(n.startswith("note: Model 'd': no features given") for n in notes), notes
    assert "'transaction_id' (named like an id), 'merchant_id' (named like an id)" in notes[0]
    assert "-f transaction_id -f amount -f spread" in notes[0] and "'note' (VARCHAR)" in notes[1]
    out = run("train", path, "d", "tx", "-f", "transaction_id", "-f", "amount", "--quiet", "--epochs", "2")
    assert "features (transaction_id, amount)" in out


def test_sources_copied_from_an_editor_with_comments_work_in_every_command(model_db: str, tmp_path: Path) -> None:
    db = str(tmp_path / "c.duckdb")
    Path(db).write_bytes(Path(model_db).read_bytes())
    for i, source in enumerate(["SELECT * FROM transactions -- all rows", "/* nightly */ SELECT * FROM transactions",
                                "-- my query\nSELECT * FROM transactions"]):
        out = run("train", db, f"c{i}", source, "-f", "count", "-f", "amount", "--where", "label = 0 -- normal only",
                  "--quiet", "--epochs", "2")
        assert f"stored c{i}@1: 1500 rows" in out
        assert "9001" in run("score", db, f"c{i}", source, "--top", "2")
        assert "row transaction_id=9001" in run("explain", db, f"c{i}", source, "--where",
                                                "-- the planted row\ntransaction_id = 9001")
        assert "AUC-ROC" in run("evaluate", db, f"c{i}", source, "--label", "label")
    assert "No such option '--wher'" in run("train", db, "x", "transactions", "--wher=label = 0", ok=False)


def test_train_refuses_too_few_rows_and_has_a_constant_columns_option(model_db: str, tmp_path: Path) -> None:
    db = str(tmp_path / "t.duckdb")
    Path(db).write_bytes(Path(model_db).read_bytes())
    for n in (1, 2, 5):
        out = fails_in_one_line("train", db, "tiny", f"SELECT * FROM transactions LIMIT {n}", "-f", "count", "-f",
                                "amount", "--quiet")
        assert f"Model 'tiny': the source 'SELECT * FROM transactions LIMIT {n}' has only {n} row" in out
        assert "at least 20" in out and "--where" in out and "constant" not in out
    res = CliRunner().invoke(cli, ["train", db, "few", "SELECT * FROM transactions LIMIT 40", "-f", "count", "-f",
                                   "amount", "--quiet", "--epochs", "2"])
    assert res.exit_code == 0 and "stored few@1: 40 rows" in res.stdout
    assert res.stderr.startswith("note: Model 'few' is trained on only 40 rows")
    out = fails_in_one_line("train", db, "k", "SELECT *, 1 AS one FROM transactions", "-f", "one", "-f", "amount",
                            "--quiet")
    assert "pass --constant-columns keep to score" in out and "CLI:" not in out, out
    out = run("train", db, "k", "SELECT *, 1 AS one FROM transactions", "-f", "one", "-f", "amount", "--quiet",
              "--epochs", "2", "--constant-columns", "keep")
    assert "stored k@1" in out


def test_explain_shows_the_highest_scores_first_and_says_how_many_match(model_db: str) -> None:
    out = run("explain", model_db, "tx_ae", "transactions", "--where", "transaction_id > 1000", "--limit", "3")
    rows = [line for line in out.splitlines() if line.startswith("row ")]
    scores = [float(line.split()[1]) for line in out.splitlines() if line.startswith("  score ")]
    assert len(rows) == 3 and scores == sorted(scores, reverse=True)
    assert rows[0].startswith("row transaction_id=900")  # a planted row, the oddest of those matching
    assert out.strip().endswith("showing 3 of 502 matching rows, the highest scores first; --limit N shows more")
    # the whole table: its top row is the training row with the highest score, which is not "higher than 100%"
    out = run("explain", model_db, "tx_ae", "transactions", "--where", "true", "--limit", "1")
    assert "as high as the highest training row's score" in out and "100.00%" not in out
    out = run("explain", model_db, "tx_ae", "transactions", "--where", "transaction_id = 9001")
    assert "showing" not in out and "higher than" not in out.splitlines()[0]
    assert "--limit INTEGER RANGE" in run("explain", "--help")
    assert "Invalid value for '--limit'" in run("explain", model_db, "tx_ae", "transactions", "--where", "true",
                                                "--limit", "0", ok=False)


def test_table_cells_are_cut_at_a_boundary_with_an_ellipsis() -> None:
    from ad_duckdb.texttable import clip as _clip

    explain = "refunds 98%, merchant_id 2%, transaction_id 1%, count 0%, amount 0%, distinct_cards 0%"
    assert _clip(explain) == "refunds 98%, merchant_id 2%, transaction_id 1%, count 0%, …"
    assert _clip("word " * 20).endswith("word…") and len(_clip("word " * 20)) <= 60
    assert _clip("x" * 80) == "x" * 59 + "…" and _clip("short") == "short"
    out = run("sql", ":memory:", f"SELECT '{explain}' AS why", "--write")
    assert out.splitlines()[2] == "refunds 98%, merchant_id 2%, transaction_id 1%, count 0%, …"


def test_manual_threshold_without_value_names_the_option(model_db: str) -> None:
    out = fails_in_one_line("threshold", model_db, "tx_ae", "m", "--method", "manual")
    assert "needs a finite --value, e.g. --value 3.5; none was given." in out, out
    # an option left out is said so, not "got None", a word of Python's that no command-line user wrote
    for method, extra in (("quantile", []), ("contamination", []),
                          ("min_precision", ["--source", "transactions", "--label", "label"])):
        out = fails_in_one_line("threshold", model_db, "tx_ae", "m", "--method", method, *extra)
        assert "--target in (0, 1" in out and "none was given" in out and "None" not in out, out


def test_sql_runs_a_file_and_prints_every_result(model_db: str, tmp_path: Path) -> None:
    script = ("-- counts first, then the top score\n"
              "SELECT count(*) AS n FROM transactions;\n"
              "SET threads = 2;  -- returns no rows: prints nothing\n"
              "SELECT transaction_id AS top_id FROM transactions "
              "ORDER BY anomaly_score('tx_ae', count, amount) DESC LIMIT 1;\n")
    f = tmp_path / "report.sql"
    f.write_text(script)
    for args in (["--file", str(f)], ["-f", str(f)], [script]):  # a query text that begins with "--" too
        out = run("sql", model_db, *args)
        assert out.index("n\n") < out.index("1502") < out.index("top_id") < out.index("9001"), out
    arrays = run("sql", model_db, "--file", str(f), "--format", "json")
    assert arrays.count("[") == 2 and '"top_id": 9001' in arrays
    assert "ok" in run("sql", model_db, "SET threads = 2")
    assert "No such option '--formt'" in run("sql", model_db, "--formt", ok=False)
    assert "no SQL statement to run (standard input is empty" in run("sql", model_db)  # as psql: exit 0
    assert "not both" in run("sql", model_db, "SELECT 1", "--file", str(f), ok=False)
    # a script piped in, as duckdb, psql and sqlite3 take one (a real pipe: not a terminal)
    piped = subprocess.run([sys.executable, "-m", "ad_duckdb", "sql", model_db], input=script, capture_output=True,
                           text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.index("1502") < piped.stdout.index("9001"), piped.stdout
    assert "statement 1 of 2" in fails_in_one_line("sql", model_db, "SELECT nope; SELECT 1")


def test_model_and_source_given_the_other_way_round_are_told_so(model_db: str, tmp_path: Path) -> None:
    # Before: "No model 'transactions' in table ad_models; known models: 'tx_ae'" and, for train, "cannot read the
    # source 'tx_ae': it does not exist as a table or view", neither saying that the two were swapped
    for command in ("score", "explain", "train"):
        extra = ["--where", "true"] if command == "explain" else ["--quiet"] if command == "train" else []
        out = fails_in_one_line(command, model_db, "transactions", "tx_ae", *extra)
        what = "NAME" if command == "train" else "MODEL"
        assert (f"'tx_ae' is a model and 'transactions' is not: the arguments go {command} DB {what} SOURCE, "
                f"e.g. ad-duckdb {command} DB tx_ae transactions") in out, out
    # a source that is no model gets no such hint
    assert "the arguments go" not in fails_in_one_line("score", model_db, "tx_ea", "transactions")
    # a first train the other way round: no model of either name, but NAME is the table (any case) to train on
    out = fails_in_one_line("train", model_db, "Transactions", "new_ae", "--quiet")
    assert ("'Transactions' is a table of this database and 'new_ae' is not: the model's name comes first, then the "
            "source: ad-duckdb train DB new_ae Transactions.") in out, out
    assert "is a table of this database" not in fails_in_one_line("train", model_db, "new_ae", "transactionz", "--quiet")
    con = ad_duckdb.connect(model_db)  # in Python, the call the right way round
    try:
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=re.escape(
                "'transactions' is a table of this database and 'new_ae' is not: the model's name comes first, then "
                "the source: ad_duckdb.train(con, 'new_ae', 'transactions', ...).")):
            ad_duckdb.train(con, "transactions", "new_ae", progress=False)
        assert con.execute("SELECT count(*) FROM ad_models WHERE name = 'new_ae'").fetchall() == [(0,)]
        with pytest.raises(ad_duckdb.ModelNotFoundError, match=re.escape(
                "'tx_ae' is a model and 'transactions' is not: the model's name comes first, then the source "
                "(con, 'tx_ae', 'transactions', ...).")):
            ad_duckdb.score(con, "transactions", "tx_ae")
        # every call of (con, model, source, ...) says it, and writes nothing
        swapped = re.escape("'tx_ae' is a model and 'transactions' is not: the model's name comes first")
        for call in (lambda: ad_duckdb.evaluate(con, "transactions", "tx_ae", label="planted"),
                     lambda: ad_duckdb.plot_scores(con, "transactions", "tx_ae", tmp_path / "plots"),
                     lambda: ad_duckdb.plot_scores_over_time(con, "transactions", "tx_ae", tmp_path / "plots")):
            with pytest.raises(ad_duckdb.ModelNotFoundError, match=swapped):
                call()
        assert not (tmp_path / "plots").exists()
        with pytest.raises(ad_duckdb.ModelNotFoundError) as e:  # no model on either side: no such hint
            ad_duckdb.score(con, "tx_ea", "transactions")
        assert "comes first" not in str(e.value), e.value
    finally:
        con.close()


def test_file_errors_are_one_line(model_db: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "no_such_folder" / "x.onnx")
    out = fails_in_one_line("export", model_db, "tx_ae", missing)
    assert missing in out and "create it" in out
    folder = tmp_path / "exports"  # a folder is where the file goes, as for cp
    folder.mkdir()
    assert run("export", model_db, "tx_ae", str(folder)).strip() == f"wrote {folder / 'tx_ae.onnx'}"
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    out = fails_in_one_line("evaluate", model_db, "tx_ae", "transactions", "--label", "label", "--plots",
                            str(a_file / "plots"))
    assert str(a_file) in out
    out = fails_in_one_line("import", model_db, str(tmp_path))
    assert "is a folder, not a model file" in out and str(tmp_path) in out
    # the two paths of import swapped, or a database given twice: it said "not a well-formed ONNX model (unsupported
    # wire type 7)" of the database, and "not a DuckDB database file ... a Parquet or CSV file is a source" of the model
    onnx = str(tmp_path / "tx_ae.onnx")
    run("export", model_db, "tx_ae", onnx)
    out = fails_in_one_line("import", model_db, model_db)
    assert f"Model file {model_db!r} is a DuckDB database, not an .onnx file" in out and "import DB PATH" in out, out
    out = fails_in_one_line("import", onnx, model_db)
    assert f"Cannot open {onnx!r}: it is a model file (.onnx), not a DuckDB database" in out, out
    assert "import DB PATH" in out, out
    # the database given second, after the model's name: said before a database of that name is made
    for command in (["train", "m1", model_db, "transactions", "-f", "count"], ["score", "tx_ae", model_db, "transactions"],
                    ["show", "tx_ae", model_db]):
        out = fails_in_one_line(*command)
        assert (f"{model_db!r} is a DuckDB database and {command[1]!r} is none: the database comes first, then the "
                f"model's name: ad-duckdb {command[0]} {model_db} {command[1]} ...") in out, out
        assert not Path(command[1]).exists()
    # rows given to import (a Parquet or CSV file at hand): what the file is, and where rows go instead
    run("sql", model_db, "COPY (FROM transactions LIMIT 5) TO '" + str(tmp_path / "rows.parquet") + "'")
    (tmp_path / "rows.csv").write_text("count,amount\n3,12.5\n")
    for name, kind, reader in (("rows.parquet", "a Parquet file", "read_parquet"), ("rows.csv", "a text file", "read_csv")):
        out = fails_in_one_line("import", model_db, str(tmp_path / name))
        assert f"It is {kind}" in out and f'ad-duckdb train DB NAME "{reader}(' in out, out
    (tmp_path / "noise.bin").write_bytes(bytes(range(256)) * 3)  # neither: the check's words alone
    out = fails_in_one_line("import", model_db, str(tmp_path / "noise.bin"))
    assert "not a well-formed ONNX model" in out and "It is" not in out, out


def test_export_to_a_new_folder_with_a_trailing_slash(model_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--help's `export warehouse.duckdb tx_ae@2 models/` in a fresh folder wrote a FILE named 'models' ("wrote
    models"): a trailing slash means a folder, created as --plots creates its own."""
    monkeypatch.chdir(tmp_path)
    assert run("export", model_db, "tx_ae@1", "models/").strip() == f"wrote {Path('models') / 'tx_ae.onnx'}"
    assert (tmp_path / "models").is_dir() and api.read_onnx_file(tmp_path / "models" / "tx_ae.onnx").ref == "tx_ae@1"
    assert run("export", model_db, "tx_ae", "deep/er/").strip() == f"wrote {Path('deep') / 'er' / 'tx_ae.onnx'}"
    # a file given as a folder: said so, and the file is left as it was
    (tmp_path / "exp").write_text("keep")
    out = fails_in_one_line("export", model_db, "tx_ae", "exp/", "--replace")
    assert "'exp/' ends in '/', so it names a folder, but exp is a file" in out, out
    assert (tmp_path / "exp").read_text() == "keep"


def test_train_hint_is_valid_sql(tmp_path: Path) -> None:
    path = str(tmp_path / "q.duckdb")
    con = ad_duckdb.connect(path)
    con.execute('CREATE TABLE "My Table" AS SELECT random() AS "order", random() AS "Amt Total", random() AS plain '
                "FROM range(1000)")
    con.close()
    out = run("train", path, "m4", "My Table", "-f", "order", "-f", "Amt Total", "-f", "plain", "--quiet",
              "--epochs", "2")
    hint = next(line for line in out.splitlines() if line.startswith("score with: "))
    assert "anomaly_score('m4', \"order\", \"Amt Total\", plain)" in hint
    query = hint.removeprefix("score with: ").replace("FROM ...", 'FROM "My Table" LIMIT 1')
    assert "anomaly_score" in run("sql", path, query)
    # trained on a query (a 0/1 column made in it): the hint scores that query's rows, and runs as printed
    out = run("train", path, "m5", 'SELECT plain, ("Amt Total" > 0.5)::INTEGER AS big FROM "My Table"', "--quiet",
              "--epochs", "2")
    hint = next(line for line in out.splitlines() if line.startswith("score with: "))
    assert hint.endswith('FROM (SELECT plain, ("Amt Total" > 0.5)::INTEGER AS big FROM "My Table")'), hint
    assert len(run("sql", path, hint.removeprefix("score with: "), "--format", "csv").splitlines()) == 1001
    # show says the same, weeks later: how to call a stored model was not said anywhere but train's output
    assert hint in run("show", path, "m5").splitlines()
    assert "score with: SELECT *, anomaly_score('m4', \"order\", \"Amt Total\", plain) FROM ..." in run("show", path, "m4")
    shown = json.loads(run("show", path, "m4@1", "--format", "json"))
    assert shown["score_with"] == "SELECT *, anomaly_score('m4@1', \"order\", \"Amt Total\", plain) FROM ..."


def test_csv_writes_structured_values_as_json(model_db: str) -> None:
    out = run("sql", model_db, "SELECT transaction_id, anomaly_explain('tx_ae', count, amount) AS why, "
                               "{'a': 1, 'b': [2, 3]} AS s FROM transactions WHERE transaction_id = 9001",
              "--format", "csv")
    header, row = list(csv.reader(io.StringIO(out)))
    assert header == ["transaction_id", "why", "s"]
    why = json.loads(row[1])
    assert {d["feature"] for d in why} == {"count", "amount"} and abs(sum(d["share"] for d in why) - 1) < 1e-6
    assert json.loads(row[2]) == {"a": 1, "b": [2, 3]}


def test_csv_writes_blobs_and_intervals_as_the_json_output_does(model_db: str) -> None:
    # Before: Python's reprs, b'\\x01\\xff' and "3 days, 4:05:06", which no CSV consumer reads back as the values
    q = "SELECT '\\x01\\xFF'::BLOB AS b, INTERVAL '3 days 04:05:06' AS i, NULL::BLOB AS n"
    header, row = list(csv.reader(io.StringIO(run("sql", model_db, q, "--format", "csv"))))
    as_json = json.loads(run("sql", model_db, q, "--format", "json"))[0]
    assert header == ["b", "i", "n"]
    assert row == ["\\x01ff", "3 days 04:05:06.000000", ""] == [as_json["b"], as_json["i"], ""]


def test_csv_writes_booleans_as_duckdb_copy_does(model_db: str) -> None:
    # Before: Python's True/False; DuckDB's COPY ... (FORMAT csv) and most CSV readers write and read true/false
    q = "SELECT true AS t, false AS f, NULL::BOOLEAN AS n, is_anomaly('tx_ae', 3, 40.0) AS a"
    header, row = list(csv.reader(io.StringIO(run("sql", model_db, q, "--format", "csv"))))
    assert header == ["t", "f", "n", "a"]
    assert row == ["true", "false", "", "false"]


def test_table_shows_line_breaks_and_tabs_escaped_keeping_the_columns_aligned() -> None:
    # Before: a cell holding a newline broke the row in two, the rest of it under the wrong columns
    q = "SELECT 'a' || chr(10) || 'b' || chr(13) || chr(9) || 'c' AS \"x\ny\", 1 AS n"
    lines = run("sql", ":memory:", q, "--write").splitlines()
    assert lines == ["x\\ny       n", "---------  -", "a\\nb\\r\\tc  1"], lines


def test_sql_with_an_unquoted_model_name_says_to_quote_it(model_db: str) -> None:
    # Before: only DuckDB's 'Referenced column "tx_ae" not found in FROM clause!', which reads as a column problem
    for q, arg, hint in (
            ("SELECT anomaly_score(tx_ae, count, amount) FROM transactions", "tx_ae",
             "(tx_ae is the model argument of anomaly_score, not a column: write the model name as a string in single "
             "quotes, anomaly_score('tx_ae', ...))"),
            ("SELECT IS_ANOMALY(TX_AE @ 1, count, amount) FROM transactions", "TX_AE",
             "(TX_AE is the model argument of IS_ANOMALY, not a column: write the model name as a string in single "
             "quotes, IS_ANOMALY('TX_AE@1', ...))"),
            ("SELECT is_anomaly_at('tx_ae', p99, count, amount) FROM transactions", "p99",
             "(p99 is the threshold-name argument of is_anomaly_at, not a column: write it as a string in single "
             "quotes, is_anomaly_at(model, 'p99', ...))")):
        out = fails_in_one_line("sql", model_db, q)
        assert f'Referenced column "{arg}" not found' in out and hint in out, out
    # a misspelt column elsewhere keeps DuckDB's message alone
    out = fails_in_one_line("sql", model_db, "SELECT anomaly_score('tx_ae', count, amout) FROM transactions")
    assert "anomaly function" not in out


def test_sql_no_order_check(tmp_path: Path) -> None:
    path = str(tmp_path / "p.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE prices AS SELECT 10 + (i % 7) * 0.1 AS lo, 1000 + (i % 11) AS hi FROM range(3000) t(i)")
    ad_duckdb.train(con, "px", "prices", features=["lo", "hi"], **FAST)
    con.execute("CREATE TABLE swapped AS SELECT hi AS lo, lo AS hi FROM prices")
    con.close()
    q = "SELECT count(*) AS n FROM swapped WHERE is_anomaly('px', lo, hi)"
    r = CliRunner().invoke(cli, ["sql", path, q])
    assert r.exit_code == 1 and "look out of order" in r.output and "--no-order-check" in r.output
    r = CliRunner().invoke(cli, ["sql", path, q, "--no-order-check", "--format", "csv"])
    # the rows on stdout; swapped columns lie outside both training ranges, which the drift note says on stderr
    assert r.exit_code == 0 and r.stdout.splitlines() == ["n", "3000"], r.output
    assert "look out of order" not in r.output, r.output


def test_commands_refuse_a_missing_database(tmp_path: Path) -> None:
    missing = str(tmp_path / "typo.duckdb")
    for args in (["drop", missing, "tx_ae", "--yes"], ["score", missing, "tx_ae", "transactions"],
                 ["threshold", missing, "tx_ae", "m1", "--method", "manual", "--value", "3"]):
        assert "does not exist; check the path" in fails_in_one_line(*args)
        assert not Path(missing).exists()  # no empty database left at the mistyped path


def test_train_says_when_the_network_learned_from_a_sample(tmp_path: Path) -> None:
    """A table above --max-train-rows is sampled for the network; "stored m@1: N rows" read as if all N were
    learned from. The option was the API's only (max_train_rows=), so a CLI user could not lower it."""
    path = str(tmp_path / "s.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT range % 97 AS a, (range * 7919) % 1000 AS b FROM range(500)")
    con.close()
    out = run("train", path, "m", "t", "-f", "a,b", "--epochs", "2", "--quiet", "--max-train-rows", "200")
    assert "stored m@1: 500 rows (the network learned from a seeded sample of 200, --max-train-rows; thresholds " \
           "from all), features (a, b)" in out, out
    out = run("train", path, "m", "t", "-f", "a,b", "--epochs", "2", "--quiet")
    assert "stored m@2: 500 rows, features (a, b)" in out, out
    # the bounds as integers one can type back: they read [100, 1e+09] and [0, 4.29497e+09]
    assert "Invalid value for '--max-train-rows': must be an int in [100, 1000000000]" in fails_in_one_line(
        "train", path, "m", "t", "-f", "a,b", "--max-train-rows", "5")
    assert "Invalid value for '--seed': must be an int in [0, 4294967295]" in fails_in_one_line(
        "train", path, "m", "t", "-f", "a,b", "--seed", "-1")


def test_sql_write_creates_a_new_database_and_removes_it_when_the_sql_fails(tmp_path: Path) -> None:
    """Loading data into a new database (`sql --write new.duckdb "CREATE TABLE ... AS SELECT * FROM read_csv(...)"`)
    was refused as a missing database, with no way to make one but training; read-only it still is refused, and a
    failing run leaves no file at a mistyped path."""
    csv = tmp_path / "tx.csv"
    csv.write_text("count,amount\n1,2.5\n3,4.0\n")
    new = str(tmp_path / "new.duckdb")
    assert "does not exist; check the path" in fails_in_one_line("sql", new, "SELECT 1")
    assert not Path(new).exists()
    res = CliRunner().invoke(cli, ["sql", "--write", new, f"CREATE TABLE tx AS SELECT * FROM read_csv('{csv}')"],
                             catch_exceptions=False)
    assert res.exit_code == 0 and res.stdout == "ok\n", res.output
    assert res.stderr == f"note: created the database {new!r}.\n"
    assert run("sql", new, "SELECT sum(count) AS n FROM tx", "--format", "csv").splitlines() == ["n", "4"]
    typo = str(tmp_path / "typo.duckdb")
    assert "nosuch" in fails_in_one_line("sql", "--write", typo, "CREATE TABLE t AS SELECT * FROM nosuch")
    assert not Path(typo).exists() and not Path(f"{typo}.wal").exists()
    # an existing database is never removed, whatever the SQL does
    assert "nosuch" in fails_in_one_line("sql", "--write", new, "SELECT * FROM nosuch")
    assert Path(new).exists()


def test_a_new_database_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    """sql --write and train create a new database; in a folder that does not exist DuckDB said only "IO Error: Cannot
    open file ...", without the fix the other commands' file errors give."""
    new = str(tmp_path / "nodir" / "x.duckdb")
    for args in (("sql", "--write", new, "SELECT 1"), ("train", new, "m", "t")):
        err = fails_in_one_line(*args)
        assert f"the folder {str(tmp_path / 'nodir')!r} does not exist; create it or choose another path" in err, err
        assert "removed again" not in err, err  # nothing was created to remove
    assert not (tmp_path / "nodir").exists()


def test_sql_write_says_it_removed_the_new_database_a_later_statement_failed_in(tmp_path: Path) -> None:
    """Statement 1 made a table, statement 2 failed: the new file (and the table) is removed, and the error says so;
    it only named statement 2's error, so the user looked for a table that no longer existed."""
    new = str(tmp_path / "half.duckdb")
    err = fails_in_one_line("sql", "--write", new, "CREATE TABLE t AS SELECT 1 AS a; SELECT * FROM nosuch")
    assert "statement 2 of 2: Catalog Error" in err, err
    assert (f"The database {new!r} did not exist before this run and is removed again, with what the statements "
            "before the failing one wrote to it: run the SQL again once it works.") in err, err
    assert not Path(new).exists() and not Path(f"{new}.wal").exists()


def test_score_top_explains_the_printed_rows(model_db: str) -> None:
    out = run("score", model_db, "tx_ae", "transactions", "--top", "2", "-c", "transaction_id")
    head, _, first, second = out.strip().splitlines()
    assert head.split() == ["transaction_id", "anomaly_score", "anomaly_percentile", "is_anomaly", "anomaly_explain"]
    assert {first.split()[0], second.split()[0]} == {"9001", "9002"}  # the planted rows, explained
    assert "%" in first and "%" in second


def test_score_top_and_explain_show_rows_whose_columns_look_swapped(model_db: str) -> None:
    """`score --top` and `explain` pass the model's columns by name, so they cannot have them out of order; rows a
    source system stored with count and amount swapped are what a user investigates with them. Before, 32 or more
    such rows failed with "the arguments look out of order ... turn this check off" (advice neither command takes)."""
    swapped = "SELECT transaction_id, amount AS count, count AS amount FROM transactions WHERE transaction_id <= 40"
    out = run("score", model_db, "tx_ae", swapped, "--top", "40", "-c", "transaction_id")
    assert len(out.strip().splitlines()) == 42 and "look out of order" not in out
    out = run("explain", model_db, "tx_ae", swapped, "--where", "true", "--limit", "40")
    assert out.count("ANOMALY") == 40, out[:2000]
    # a query the user writes still gets the check
    out = fails_in_one_line("sql", model_db, f"SELECT anomaly_explain('tx_ae', count, amount) FROM ({swapped})")
    assert "look out of order" in out


def test_score_with_an_unknown_column_names_the_source_and_its_columns(model_db: str) -> None:
    for more in ([], ["--into", "kept"]):
        out = fails_in_one_line("score", model_db, "tx_ae", "transactions", "-c", "transaction_id,nope", *more)
        assert ("--column names ['nope'], not in 'transactions' (its columns: transaction_id, count, amount, amount_d, "
                "label)") in out
        assert "Did you mean" not in out
    out = fails_in_one_line("score", model_db, "tx_ae", "transactions", "-c", "transaction_idd")
    assert "names ['transaction_idd'], not in 'transactions'" in out and "Did you mean 'transaction_id'?" in out, out


def test_a_label_that_is_not_0_1_gets_a_fix_to_paste_into_the_shell(model_db: str) -> None:
    """Before: the fix said e.g. "SELECT *, ("refunds" IN (...))::INTEGER AS is_anomaly FROM ..." with
    label='is_anomaly': double quotes inside double quotes, which a shell splits, and the Python argument, not
    --label."""
    many = "SELECT *, transaction_id % 3 AS refunds FROM transactions"
    two = ("SELECT *, CASE WHEN transaction_id % 50 = 0 THEN 'fraud' ELSE 'ok' END AS \"the status\" "
           "FROM transactions")
    for source, label, values in ((many, "refunds", "0, 1"), (two, "the status", None)):
        out = fails_in_one_line("evaluate", model_db, "tx_ae", source, "--label", label)
        assert "label=" not in out, out
        fix = re.search(r"e\.g\. (.+?) --label is_anomaly\b", out)
        assert fix, out
        words = shlex.split(fix.group(1))  # one shell word: the query, as the shell hands it to the command
        assert len(words) == 1 and words[0].startswith("SELECT *, ("), out
        query = words[0].replace("(...)", f"({values})") if values else words[0]
        assert "AUC-ROC" in run("evaluate", model_db, "tx_ae", query, "--label", "is_anomaly")

    # a text label NULL in most rows (a list of anomalies LEFT JOINed to the rows): the fix read the NULLs as NULL,
    # and the run of it stopped on them; now it reads them as normal and says so, with the filter for the other case
    joined = ("SELECT t.*, k.kind FROM transactions t LEFT JOIN (SELECT transaction_id, CASE WHEN transaction_id % "
              "100 = 0 THEN 'burst' ELSE 'spike' END AS kind FROM transactions WHERE transaction_id % 25 = 0) k USING "
              "(transaction_id)")
    out = fails_in_one_line("evaluate", model_db, "tx_ae", joined, "--label", "kind")
    nulls = re.search(r"NULL \((\d+) rows\)", out)
    assert nulls and f"reads the {nulls.group(1)} rows without a label as 0 (normal)" in out, out
    assert "--where 'kind IS NOT NULL'" in out, out
    fix = re.search(r"e\.g\. (.+?) --label is_anomaly\b", out)
    assert fix and "coalesce(kind = " in fix.group(1), out
    assert "AUC-ROC" in run("evaluate", model_db, "tx_ae", shlex.split(fix.group(1))[0], "--label", "is_anomaly")


def test_evaluate_candidate_table_prints_each_column_in_one_format(tmp_path: Path) -> None:
    """On 20,000 rows the flagged_share column read 5e-05 beside 0.0001 and 0.00015, and f1 0.00995025 beside 0.019802:
    each figure column now has one fixed number of decimals, enough for its smallest share to show (flagged_share as
    a percentage, as the report above it prints flagged); the threshold keeps the digits that are typed back."""
    path = str(tmp_path / "e.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=20_000)
    con.execute("ALTER TABLE transactions ADD COLUMN label INTEGER DEFAULT 0")
    con.execute("UPDATE transactions SET count = count * 40, label = 1 WHERE transaction_id % 200 = 0")
    ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
    table = ad_duckdb.evaluate(con, "m", "transactions", label="label").table
    con.close()
    out = run("evaluate", path, "m", "transactions", "--label", "label")
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("candidate thresholds")) + 3
    rows = [x.split() for x in lines[start:]]
    assert len(rows) == len(table) > 10 and min(r["flagged_share"] for r in table) < 1e-4, out
    for col in range(1, 5):
        cells = [r[col] for r in rows]
        pattern = r"\d+\.(\d+)%" if col == 4 else r"\d+\.(\d+)"
        decimals = {len(m.group(1)) for m in (re.fullmatch(pattern, c) for c in cells) if m}
        assert len(decimals) == 1 and len(cells) == len(rows), (col, cells)
    for printed, r in zip(rows, table, strict=True):
        assert float(printed[0]) == r["threshold"]  # typed back as --value, it must flag the rows counted
        assert float(printed[4].rstrip("%")) / 100 == pytest.approx(r["flagged_share"], rel=0.1), printed
        assert float(printed[3]) == pytest.approx(r["f1"], abs=1e-3), printed


def test_evaluate_into_never_overwrites_silently(model_db: str, tmp_path: Path) -> None:
    db = str(tmp_path / "e.duckdb")
    Path(db).write_bytes(Path(model_db).read_bytes())
    out = fails_in_one_line("evaluate", db, "tx_ae", "transactions", "--label", "label", "--into", "transactions",
                            "--replace")
    assert "is what 'transactions' reads; writing the threshold table into it would replace it" in out
    assert "transactions_thresholds" in out
    run("evaluate", db, "tx_ae", "transactions", "--label", "label", "--into", "ev")
    out = fails_in_one_line("evaluate", db, "tx_ae", "transactions", "--label", "label", "--into", "ev")
    assert "exists; pass --replace" in out
    con = ad_duckdb.connect(db)
    assert con.execute("SELECT count(*) FROM transactions").fetchall()[0][0] == 1502
    con.close()
    run("evaluate", db, "tx_ae", "transactions", "--label", "label", "--into", "ev", "--replace")


def test_train_reports_filled_values_and_a_failed_first_train_leaves_no_database(db: str, tmp_path: Path) -> None:
    out = run("train", db, "nulls_ae", "SELECT count, CASE WHEN transaction_id % 10 = 0 THEN NULL ELSE amount END "
              "AS amount FROM transactions", "--quiet", "--epochs", "1")
    assert "filled NULL / NaN values with the training median: amount " in out
    assert "flags " in out and "of training rows; contamination 1.00%" in out
    typo = tmp_path / "nosuch.duckdb"
    out = run("train", str(typo), "x_ae", "transactions", "--quiet", ok=False)
    assert not typo.exists()  # the mistyped path did not become an empty database
    # Before: only "it does not exist as a table or view in this database", so a user who mistyped the database's
    # path looked for the table in the database they meant, where it is
    assert "does not exist as a table or view in this database" in out
    assert (f"The database {str(typo)!r} did not exist before this run (train creates one) and is removed again: "
            "check its path if you meant an existing one.") in out


def test_a_new_database_is_blamed_only_for_a_missing_table_not_a_file_or_column(tmp_path: Path) -> None:
    # Before: a misspelt column (-f or --where) or a missing file of a CSV source on a new database (the first
    # training from a file) also got "The database ... did not exist before this run ...: check its path", which
    # sent the user to a database path that was right; only a table or view name depends on which database it is
    csv = tmp_path / "x.csv"
    csv.write_text("count,amount\n1,2\n3,4\n5,6\n")
    new = str(tmp_path / "new.duckdb")
    source, no_file = f"read_csv('{csv}')", f"read_csv('{tmp_path / 'y.csv'}')"
    for src, more, says in ((source, ["-f", "amont"], "Did you mean 'amount'?"),
                            (source, ["--where", "amont > 1"], 'Referenced column "amont" not found'),
                            (no_file, [], "no file matches")):
        res = CliRunner().invoke(cli, ["train", new, "m", src, *more, "--quiet"], catch_exceptions=False)
        assert res.exit_code == 6 and says in res.output, res.output
        assert "did not exist before this run" not in res.output, res.output
        assert not Path(new).exists()


def test_a_file_path_duckdb_does_not_read_by_its_ending_is_named_as_a_file_not_a_missing_table(tmp_path: Path) -> None:
    # Before: "Catalog Error: Table with name data/tx.parqet does not exist! Did you mean "pg_database"? LINE 1:
    # DESCRIBE SELECT * FROM ...": a misspelt file name read as a table, with a catalog table offered for it
    data = tmp_path / "data"
    data.mkdir()
    duckdb.sql(f"COPY (SELECT range AS count, range * 2.0 AS amount FROM range(30)) TO '{data / 'tx.parquet'}'")
    db = str(tmp_path / "m.duckdb")
    res = CliRunner().invoke(cli, ["train", db, "m", f"{data}/tx.parqet", "--quiet"], catch_exceptions=False)
    assert res.exit_code == 6 and f"no file '{data}/tx.parqet' exists" in res.output, res.output
    assert f"Did you mean '{data}/tx.parquet'?" in res.output, res.output
    assert "pg_" not in res.output and "LINE 1" not in res.output, res.output
    assert "did not exist before this run" not in res.output and not Path(db).exists(), res.output  # no table missing


def test_a_source_duckdb_cannot_read_is_named_without_duckdbs_excerpt_of_our_query(tmp_path: Path) -> None:
    # Before: "... No files found that match the pattern "nope/*.parquet" LINE 1: DESCRIBE SELECT * FROM
    # read_parquet('nope/*.parquet') ^^^^^^^^": DuckDB's excerpt quotes the query we wrapped the source in
    db = str(tmp_path / "m.duckdb")
    for src in (f"read_parquet('{tmp_path}/nope/*.parquet')", "SELECT CAST('x' AS INTEGER) AS count"):
        res = CliRunner().invoke(cli, ["train", db, "m", src, "--quiet"], catch_exceptions=False)
        assert res.exit_code != 0 and "annot read " in res.output, res.output
        assert "LINE 1" not in res.output and "DESCRIBE SELECT" not in res.output and "^^^" not in res.output, \
            res.output


def test_threshold_prints_the_training_rows_note_and_messages_name_cli_flags(model_db: str) -> None:
    out = run("threshold", model_db, "tx_ae", "f1", "--method", "max_f1", "--source", "transactions", "--label", "label")
    assert "note: " in out and "was trained on" in out
    assert "needs --target in (0, 1]" in fails_in_one_line("threshold", model_db, "tx_ae", "p", "--method", "min_precision",
                                                 "--source", "transactions", "--label", "label")
    assert "pass --source and --label" in fails_in_one_line("threshold", model_db, "tx_ae", "b", "--method", "max_f1")
    out = fails_in_one_line("sql", model_db, "SELECT is_anomaly_at('tx_ae', 'p95', count) FROM transactions")
    assert "is_anomaly_at('tx_ae', 'threshold_name', count, amount)" in out


def test_explain_says_where_each_value_stands_and_when_only_the_combination_is_odd(model_db: str) -> None:
    def explain(select: str) -> str:
        return run("explain", model_db, "tx_ae", select, "--where", "true")

    # amount rises with count (about 20 a transaction): one transaction of a typical total is odd only jointly
    out = explain("SELECT 5 AS count, 300.0 AS amount")
    assert "ANOMALY" in out and out.count(": typical)") == 2
    assert "the combination is what is unusual" in out
    out = explain("SELECT 8 AS count, 1000000.0 AS amount")
    assert "ANOMALY" in out and "spreads above it, beyond " in out and "combination" not in out
    assert re.search(": (99% of training values were|every training value was) between ", out), out
    out = explain("SELECT 8 AS count, NULL::DOUBLE AS amount")
    # the row line says amount=NULL; the amount line said "value None", Python's word for it
    assert "amount=NULL" in out and "(value NULL: missing, scored at its most typical value beside the others" in out
    assert "None" not in out, out
    assert "combination" not in out
    # every feature missing: anomaly_explain gives an empty list, which printed nothing under the score line
    out = explain("SELECT NULL::INTEGER AS count, NULL::DOUBLE AS amount")
    assert out.splitlines()[3] == ("  every feature is missing, and a missing value is never a reason: nothing to "
                                   "explain (each is scored at its most typical value)"), out
    out = fails_in_one_line("explain", model_db, "tx_ae", "transactions", "--where", "kind = 'x'")
    assert "--where \"kind = 'x'\" does not run on transactions" in out and "its columns: transaction_id" in out


def test_explain_does_not_call_a_kept_constant_columns_other_value_typical(tmp_path: Path) -> None:
    """A column kept constant (constant_columns='keep') has no spread: any other value is outside its training
    range, and is what flags the row. Before, `explain` measured it in units of the value itself, called 8.0 against
    an only value of 5 "typical" and said the combination was what was unusual."""
    path = str(tmp_path / "k.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=1500)
    con.execute("ALTER TABLE transactions ADD COLUMN version DOUBLE DEFAULT 5")
    ad_duckdb.train(con, "kv", "transactions", features=["count", "amount", "version"], constant_columns="keep", **FAST)
    med = {f.name: f.fill for f in ad_duckdb.load_model(con, "kv").features}
    con.close()
    out = run("explain", path, "kv", f"SELECT {med['count']} AS count, {med['amount']} AS amount, 8.0 AS version",
              "--where", "true")
    assert "ANOMALY" in out and "version" in out.splitlines()[3], out
    assert "(value 8.0, every training row held 5: outside the training range)" in out, out
    assert "combination" not in out, out
    out = run("explain", path, "kv", f"SELECT {med['count']} AS count, {med['amount']} AS amount, 5.0 AS version",
              "--where", "true")
    assert "(value 5.0, every training row held 5: typical)" in out, out


def test_training_without_torch_and_plots_without_matplotlib_say_which_extra(model_db: str, tmp_path: Path) -> None:
    """A scoring-only install (no [train] or [plots] extra) gets the pip command, not a traceback from deep inside."""
    import subprocess
    import sys

    blocker = tmp_path / "block"
    blocker.mkdir()
    for name in ("torch", "matplotlib"):
        (blocker / name).mkdir()
        (blocker / name / "__init__.py").write_text(f"raise ImportError('No module named {name} (blocked)')\n")
    env = {**__import__("os").environ, "PYTHONPATH": f"{blocker}:{ROOT}"}
    db = str(tmp_path / "m.duckdb")
    Path(db).write_bytes(Path(model_db).read_bytes())
    for args, wanted in [(["train", db, "again", "transactions", "-f", "count", "-f", "amount"], "pip install 'ad_duckdb[train]'"),
                         (["evaluate", db, "tx_ae", "transactions", "--label", "label", "--plots", str(tmp_path / "p")],
                          "pip install 'ad_duckdb[plots]'"),
                         (["score", db, "tx_ae", "transactions", "--plots", str(tmp_path / "p")],
                          "pip install 'ad_duckdb[plots]'")]:
        res = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", *args], capture_output=True, text=True, env=env)
        assert res.returncode != 0 and wanted in res.stderr and "Traceback" not in res.stderr, res.stderr
    # scoring needs neither
    res = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "score", db, "tx_ae", "transactions", "--top", "2"],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr


def test_explain_on_a_csv_names_a_text_feature_column_and_a_missing_one(model_db: str, tmp_path: Path) -> None:
    # Before: "feature argument 2 is VARCHAR ... CAST(col AS DOUBLE)" from inside the SQL functions (CAST fails on
    # 'N/A'), and a source lacking a feature gave DuckDB's binder error with the generated query in it.
    vendor = tmp_path / "vendor.csv"
    vendor.write_text("Transaction_ID,Count,Amount\n" + "".join(f"{i},{i % 9 + 1},{'N/A' if i == 3 else i * 2.5}\n"
                                                                for i in range(50)))
    out = fails_in_one_line("explain", model_db, "tx_ae", f"read_csv('{vendor}')", "--where", "transaction_id = 5")
    assert "column 'Amount'" in out and "is VARCHAR" in out and "'N/A'" in out, out
    assert """SELECT * REPLACE (TRY_CAST(trim("Amount") AS DOUBLE) AS "Amount") FROM read_csv(""" in out, out
    fixed = f"""SELECT * REPLACE (TRY_CAST(trim("Amount") AS DOUBLE) AS "Amount") FROM read_csv('{vendor}')"""
    assert "row Transaction_ID=5" in run("explain", model_db, "tx_ae", fixed, "--where", "transaction_id = 5")
    out = fails_in_one_line("explain", model_db, "tx_ae", f"SELECT Count AS n, Amount FROM read_csv('{vendor}')",
                            "--where", "n = 5")
    assert "lacks ['count']" in out and "its columns: n, Amount" in out, out


def test_a_column_name_with_a_comma_can_be_named_with_f_and_c(tmp_path: Path) -> None:
    # Before: -f 'Amount, EUR' (as the default-features note writes it) was split into 'Amount' and 'EUR'
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=300)
    con.execute('CREATE TABLE export AS SELECT transaction_id, count AS "Count, n", amount AS "Amount, EUR" '
                "FROM transactions")
    con.close()
    out = run("train", path, "m", "export", "-f", "count, N", "-f", "Amount, EUR", "--quiet", "--epochs", "2")
    assert """anomaly_score('m', "Count, n", "Amount, EUR")""" in out, out
    top = run("score", path, "m", "export", "--top", "2", "-c", "transaction_id,Amount, EUR")
    assert top.splitlines()[0].split("  ")[:2] == ["transaction_id", "Amount, EUR"], top
    assert "wrote 300 scored rows" in run("score", path, "m", "export", "--into", "s", "-c", "Amount, EUR")
    out = run("train", path, "m2", "transactions", "-f", "count,amount", "--quiet", "--epochs", "2")  # still splits
    assert "features (count, amount)" in out, out


def test_a_column_name_with_edge_spaces_can_be_named_with_f_and_c(tmp_path: Path) -> None:
    """A CSV export's ' Amount' and 'Count ' (spaces kept by read_csv): -f ' Amount', as the default-features note
    writes it, was stripped to 'Amount' and refused with "Column 'Amount' is not in 'export' ... Did you mean
    ' Amount'?"."""
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=300)
    con.execute('CREATE TABLE export AS SELECT transaction_id, count AS "Count ", amount AS " Amount" FROM transactions')
    con.close()
    out = run("train", path, "m", "export", "-f", "Count ", "-f", " Amount", "--quiet", "--epochs", "2")
    assert """anomaly_score('m', "Count ", " Amount")""" in out, out
    top = run("score", path, "m", "export", "--top", "2", "-c", " Amount", "--format", "csv")
    assert top.splitlines()[0].split(",")[:1] == [" Amount"], top
    out = run("train", path, "m2", "transactions", "-f", "count, amount", "--quiet", "--epochs", "2")  # still strips
    assert "features (count, amount)" in out, out


def test_training_a_wide_table_does_not_print_every_column_three_times(tmp_path: Path) -> None:
    """A 1,555-column table with an id (ADBench's InternetAds) printed every name in the stored line, and three
    times more in the id note (its features, features=[...] and one -f per column): 40 kB to read past. The
    names are listed up to ten and counted beyond; `show` lists them all."""
    d = 60
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT range AS row_id, "
                + ", ".join(f"random() * {j + 1} AS c{j}" for j in range(d)) + " FROM range(300)")
    con.close()
    res = CliRunner().invoke(cli, ["train", path, "m", "t", "--quiet", "--epochs", "2"])
    assert res.exit_code == 0, res.output
    stored = res.stdout.splitlines()[0]
    assert "features (c0, c1, c2, " in stored and "c9 and 50 more; `ad-duckdb show` lists them)" in stored, stored
    assert "c59" not in stored, stored
    note = next(n for n in res.stderr.splitlines() if "'row_id' (named like an id)" in n)
    assert "Features: c0, c1, " in note and "c9 and 50 more." in note and "c59" not in note, note
    assert "-f row_id -f c0 -f c1 -f c2 ... with the 60 above" in note and "features=" not in note, note
    assert "anomaly_score('m', c0, c1, " in res.stdout and "c59)" in res.stdout  # the SQL to run stays whole


def test_score_top_of_a_wide_model_shows_the_scores_not_every_feature(tmp_path: Path) -> None:
    """`score --top` of a 1,555-column model printed every feature before the scores: lines 8,000 characters wide,
    the score at their far end. The table leaves the features out (the explanation names the ones that matter)
    and says how to show them; -c and --format csv still show what they are asked for."""
    d = 30
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT range AS row_id, 'r' || range AS tag, "
                + ", ".join(f"random() * {j + 1} AS c{j}" for j in range(d)) + " FROM range(300)")
    ad_duckdb.train(con, "m", "t", features=[f"c{j}" for j in range(d)], **FAST)
    con.close()
    res = CliRunner().invoke(cli, ["score", path, "m", "t", "--top", "2"])
    assert res.exit_code == 0, res.output
    header = res.stdout.splitlines()[0].split()
    assert header == ["row_id", "tag", "anomaly_score", "anomaly_percentile", "is_anomaly", "anomaly_explain"], header
    assert ("note: the model's 30 feature columns are left out of the table (anomaly_explain names the ones that "
            "matter); -c COLUMN shows the columns named, --format csv every column") in res.stderr, res.stderr
    header = run("score", path, "m", "t", "--top", "2", "-c", "row_id,c3").splitlines()[0].split()
    assert header[:2] == ["row_id", "c3"] and "c4" not in header, header
    assert "c29" in run("score", path, "m", "t", "--top", "2", "--format", "csv").splitlines()[0]


def test_a_plots_folder_that_cannot_be_written_fails_before_anything_is_scored(model_db: str, tmp_path: Path) -> None:
    """A --plots folder that exists but takes no files (read-only: /sys refuses new files, also to root) passed the
    folder check: `score --into` wrote its table and `score` printed its rows, and then the run failed on the
    plot. It fails first now, as a path that is a file does; evaluate --into likewise."""
    db = str(tmp_path / "m.duckdb")
    Path(db).write_bytes(Path(model_db).read_bytes())
    out = fails_in_one_line("score", db, "tx_ae", "transactions", "--into", "scored", "--plots", "/sys")
    assert "'/sys'" in out and "choose a path you may use" in out, out
    out = fails_in_one_line("score", db, "tx_ae", "transactions", "--top", "1", "--plots", "/sys")
    assert "'/sys'" in out and "anomaly_score" not in out, out  # no rows printed first
    out = fails_in_one_line("evaluate", db, "tx_ae", "transactions", "--label", "label", "--into", "cand",
                            "--plots", "/sys")
    assert "'/sys'" in out, out
    con = ad_duckdb.connect(db, read_only=True)
    try:
        assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('scored', 'cand')"
                               ).fetchall()[0][0]
    finally:
        con.close()


def test_score_plots_every_score_with_the_thresholds(model_db: str, tmp_path: Path) -> None:
    """Without labels, where to cut is read off the scores' histogram: `score --plots` draws every row's score (not
    only the printed top N) with each stored threshold; the same picture whether the scores are printed or written."""
    from matplotlib.image import imread

    db = str(tmp_path / "m.duckdb")
    Path(db).write_bytes(Path(model_db).read_bytes())
    out = run("score", db, "tx_ae", "transactions", "--top", "2", "--plots", str(tmp_path / "a"))
    png = tmp_path / "a" / "tx_ae_v1_scores.png"
    assert f"plot: {png}" in out
    # a --plots path that cannot be a folder fails before --into writes: the table was written, then the run failed
    (tmp_path / "a_file").write_text("")
    out = fails_in_one_line("score", db, "tx_ae", "transactions", "--into", "scored", "--plots",
                            str(tmp_path / "a_file"))
    assert "a_file" in out and "wrote" not in out
    con = ad_duckdb.connect(db, read_only=True)
    try:
        assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scored'").fetchall()[0][0]
    finally:
        con.close()
    out = run("score", db, "tx_ae", "transactions", "--into", "scored", "--plots", str(tmp_path / "b"))
    assert f"plot: {tmp_path / 'b' / 'tx_ae_v1_scores.png'}" in out
    assert png.read_bytes() == (tmp_path / "b" / "tx_ae_v1_scores.png").read_bytes()
    img = imread(png)
    assert img.shape[:2] == (495, 770) and img[..., :3].std() > 0.05  # a drawn figure, not a blank canvas
    # other scores, another picture; a pinned version names its file
    other = run("score", db, "tx_ae@1", "SELECT transaction_id, count * 3 AS count, amount FROM transactions",
                "--top", "1", "--plots", str(tmp_path / "c"))
    assert "tx_ae_v1_scores.png" in other
    assert (tmp_path / "c" / "tx_ae_v1_scores.png").read_bytes() != png.read_bytes()
    # in a notebook: the figure itself, to show as a cell's value, and the same picture once saved
    con = ad_duckdb.connect(db, read_only=True)
    try:
        fig = ad_duckdb.plot_scores(con, "tx_ae", "transactions")
    finally:
        con.close()
    fig.savefig(tmp_path / "nb.png", dpi=110)
    assert (tmp_path / "nb.png").read_bytes() == png.read_bytes()


def test_a_negative_top_is_refused_naming_it(model_db: str) -> None:
    # Before: "Binder Error: LIMIT/OFFSET cannot be negative" and the SQL around it, naming neither --top nor n=
    out = fails_in_one_line("score", model_db, "tx_ae", "transactions", "--top", "-1")
    assert "--top" in out and "-1" in out, out
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        with pytest.raises(ad_duckdb.BadInputError, match=r"n=.*-1"):
            ad_duckdb.api.top_scored(con, "tx_ae", "transactions", -1)
    finally:
        con.close()


def test_sql_a_non_numeric_first_feature_is_one_line_naming_the_fix(model_db: str) -> None:
    """DuckDB's binder refuses it before the functions run, over several lines and with no fix (before); and a
    parser error's caret line goes with the joining."""
    out = fails_in_one_line("sql", model_db, "SELECT anomaly_score('tx_ae', count > 3, amount) FROM transactions")
    assert "anomaly_score's first feature argument is BOOLEAN, not a number: pass the model's columns in its order, " \
           "which `ad-duckdb show DB MODEL` lists, or turn this one into a number: (count > 3)::INTEGER" in out, out
    out = fails_in_one_line("sql", model_db, "SELECT is_anomaly_at('tx_ae', 'p95', count::VARCHAR, amount) FROM transactions")
    assert "is_anomaly_at's first feature argument is VARCHAR" in out and "TRY_CAST(count::VARCHAR AS DOUBLE)" in out, out
    out = fails_in_one_line("sql", model_db, "SELEC 1")
    assert "LINE 1: SELEC 1" in out and "^" not in out, out


def test_explain_gives_each_values_typical_range_in_its_own_units_and_no_clipped_count(tmp_path: Path) -> None:
    """A heavy-tailed column gets a signed log: "4.75 spreads above it" is counted after the log, which a user cannot
    map back to money, so each line also names the typical range (within 2 spreads) in raw values. A value past the
    graph's clip (1000 robust units) printed "1e+03 spreads above it" for 1e30, a count the clip made up. The
    median is printed to the range's digits (it had ten)."""
    from ad_duckdb.features import raw_values

    rng = np.random.default_rng(0)
    path = str(tmp_path / "h.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS a, unnest(?::DOUBLE[]) AS amount",
                    [rng.normal(50, 5, 1500).tolist(), rng.lognormal(3, 1.2, 1500).tolist()])
        ad_duckdb.train(con, "h", "t", where="true", **FAST)
        spec = {f.name: f for f in ad_duckdb.load_model(con, "h").features}
    finally:
        con.close()
    assert spec["amount"].transform == "slog" and spec["a"].transform == "none"
    lo, hi = raw_values(spec["amount"], np.array([-2.0, 2.0]))
    out = run("explain", path, "h", "SELECT 50.0 AS a, 5000.0 AS amount", "--where", "true")
    line = next(x for x in out.splitlines() if x.lstrip().startswith("amount"))
    assert f"typical range {lo:.0f} to {hi:.0f}:" in line and "spreads above it, beyond " in line, line
    assert re.search(": (99% of training values were|every training value was) between ", line), line
    lo, hi = raw_values(spec["a"], np.array([-2.0, 2.0]))
    line = next(x for x in out.splitlines() if x.lstrip().startswith("a "))
    assert f"typical range {lo:.1f} to {hi:.1f}: typical)" in line, line
    # the median to the range's digits too (it printed ten: "training median 49.71847993")
    assert f"training median {spec['a'].fill:.1f}, typical" in line, line
    out = run("explain", path, "h", "SELECT -1e30 AS a, 20.0 AS amount", "--where", "true")
    line = next(x for x in out.splitlines() if x.lstrip().startswith("a "))
    assert "more than 1000 spreads below it, beyond " in line and "e+03" not in line, line
    assert re.search(": (99% of training values were|every training value was) between ", line), line


def test_explain_gives_an_integer_columns_median_and_typical_range_in_whole_numbers(tmp_path: Path) -> None:
    """An INTEGER column's typical range read "training median 0.000, typical range 0.000 to 0.997": counts no row
    can hold. Its range is the whole numbers within it, and a value is called typical exactly when it is in that
    range; a DOUBLE column keeps its decimals."""
    rng = np.random.default_rng(0)
    path = str(tmp_path / "i.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?::INTEGER[]) AS refunds, unnest(?::INTEGER[]) AS count, "
                    "unnest(?::DOUBLE[]) AS a",
                    [rng.poisson(0.3, 1500).tolist(), (rng.poisson(8, 1500) + 1).tolist(),
                     rng.normal(50, 5, 1500).tolist()])
        ad_duckdb.train(con, "i", "t", where="true", **FAST)
    finally:
        con.close()
    rows = " UNION ALL ".join(f"SELECT {v} AS refunds, {v + 8} AS count, 50.0 AS a" for v in range(6))
    out = run("explain", path, "i", rows, "--where", "true")
    pattern = re.compile(r"\(value (\S+), training median (\S+), typical (?:range (\S+) to|value) (\S+): (.*)\)$")
    seen: dict[str, list[bool]] = {"refunds": [], "count": []}
    for line in out.splitlines():
        name = line.split()[0]
        m = pattern.search(line)
        if name == "a" and m:
            assert "." in m.group(3) and "." in m.group(4), line  # a DOUBLE column keeps its decimals
        if name not in seen or not m:
            continue
        value, median, lo, hi, where = m.groups()
        lo = hi if lo is None else lo  # "typical value 0": one whole number in the range
        assert re.fullmatch(r"-?\d+(\.5)?", median) and re.fullmatch(r"-?\d+", lo) and re.fullmatch(r"-?\d+", hi), line
        seen[name].append((int(lo) <= int(value) <= int(hi)) == (where == "typical"))
    assert len(seen["refunds"]) == 6 and len(seen["count"]) == 6 and all(seen["refunds"] + seen["count"]), out


def test_explain_typical_range_of_a_never_negative_column_stays_inside_its_training_range(tmp_path: Path) -> None:
    """A skewed column that is never negative (waiting times, amounts) kept its raw scale (skew under the signed log's
    cut-off), so median - 2 spreads is below zero: explain printed "typical range -9.6 to 22.8" for a column whose
    smallest training value was 0.007, and called a value of -3, which no training row came near, "typical"."""
    from ad_duckdb.features import raw_values

    rng = np.random.default_rng(0)
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS wait, unnest(?::DOUBLE[]) AS a",
                    [rng.gamma(2.0, 10.0, 1500).tolist(), rng.normal(50, 5, 1500).tolist()])
        ad_duckdb.train(con, "w", "t", where="true", **FAST)
        spec = {f.name: f for f in ad_duckdb.load_model(con, "w").features}["wait"]
        low = con.execute("SELECT min(wait) FROM t").fetchone()[0]
    finally:
        con.close()
    assert raw_values(spec, np.array([-2.0]))[0] < 0  # the case: 2 spreads below the median is below zero
    out = run("explain", path, "w", "SELECT 5.0 AS wait, 50.0 AS a", "--where", "true")
    line = next(x for x in out.splitlines() if x.lstrip().startswith("wait"))
    assert f"typical range {low:.1f} to " in line and ": typical)" in line, line
    out = run("explain", path, "w", "SELECT -3.0 AS wait, 50.0 AS a", "--where", "true")
    line = next(x for x in out.splitlines() if x.lstrip().startswith("wait"))
    assert f"typical range {low:.1f} to " in line, line
    assert re.search(r": below [-0-9.]+: every training value was between [-0-9.]+ and [-0-9.]+\)$", line), line


def test_explain_aligns_its_shares_under_the_longest_feature_name(tmp_path: Path) -> None:
    """Names were padded to 20 characters: a longer one pushed its share and bar right of the others'."""
    rng = np.random.default_rng(0)
    names = ["number_of_transactions_per_day_total", "total_amount_in_euro_including_tax", "n"]
    path = str(tmp_path / "long.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT " + ", ".join(f"unnest(?::DOUBLE[]) AS {c}" for c in names),
                [rng.normal(50, 5, 1500).tolist() for _ in names])
    ad_duckdb.train(con, "long", "t", where="true", **FAST)
    con.close()
    out = run("explain", path, "long", "SELECT 90.0 AS " + ", 50.0 AS ".join(names), "--where", "true")
    lines = [x for x in out.splitlines() if x.split()[0] in names]
    assert len(lines) == 3, out
    # the share column (right-aligned, ending in %) ends at one place on every line
    assert len({x.index("%") for x in lines}) == 1, out
    assert all(x.split()[0] == x[2:x.index(" ", 2)] for x in lines), out


def test_explain_of_a_wide_model_lists_the_columns_that_matter(tmp_path: Path) -> None:
    """A 40-column model printed 40 lines per row, most of them "0.0% ... typical": the tail of typical columns with
    tiny shares is summed into one line, while a column far from its median keeps its line even at 0%."""
    rng = np.random.default_rng(0)
    d = 40
    X = rng.normal(size=(1500, d))
    names = [f"c{i}" for i in range(d)]
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT " + ", ".join(f"unnest(?::DOUBLE[]) AS {c}" for c in names),
                [X[:, i].tolist() for i in range(d)])
    ad_duckdb.train(con, "w", "t", where="true", **FAST)
    con.close()
    row = ", ".join(["8.0 AS c0", "-6.0 AS c1", *(f"0.0 AS {c}" for c in names[2:])])
    out = run("explain", path, "w", f"SELECT {row}", "--where", "true")
    lines = out.splitlines()
    shown = [x.split()[0] for x in lines[2:] if x.startswith("  c")]
    assert {"c0", "c1"} <= set(shown) and len(shown) < 15, out
    rest = lines[-1]
    assert rest.startswith(f"  and {d - len(shown)} more columns, each typical and under 0.5%"), out
    shares = [float(x.split()[1].rstrip("%")) for x in lines[3:-1]]
    together = float(rest.rsplit(" ", 2)[-2].rstrip("%"))
    assert sum(shares) + together == pytest.approx(100.0, abs=0.1 * len(shares) + 0.1), out


def test_explain_of_an_ordinary_row_says_its_shares_are_no_reason(model_db: str) -> None:
    """An unflagged row whose every value is typical still gets shares summing to 100% (of the little it scores
    above the all-median row); printed alone with their bars, they read as a cause for a row nothing is wrong with."""
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        med = {f.name: f.fill for f in ad_duckdb.load_model(con, "tx_ae").features}
    finally:
        con.close()
    out = run("explain", model_db, "tx_ae", f"SELECT {med['count']} AS count, {med['amount'] * 1.05} AS amount",
              "--where", "true")
    assert "(normal;" in out and out.count(": typical)") == 2, out
    assert out.splitlines()[-1] == ("  nothing stands out: every value is typical and the score is under the threshold, "
                                    "so the shares above are no reason to look at this row"), out
    out = run("explain", model_db, "tx_ae", "SELECT 8 AS count, 1000000.0 AS amount", "--where", "true")
    assert "nothing stands out" not in out


def test_table_and_explain_show_blobs_intervals_booleans_and_nulls_in_sql_words(model_db: str) -> None:
    """Before: Python's str: b'x25', '25 days, 0:00:00' (a comma inside one value of explain's comma-separated row
    line), False, None, and a struct with Python's quotes; csv and json already wrote SQL's words."""
    q = ("SELECT '\\x01\\xFF'::BLOB AS b, INTERVAL '3 days 04:05:06' AS i, false AS f, [1, NULL] AS l, "
         "{'a': 'x'} AS s, NULL AS n")
    lines = run("sql", model_db, q).splitlines()
    assert lines[2].split() == ["\\x01ff", "3", "days", "04:05:06.000000", "false", "[1,", "null]", '{"a":', '"x"}',
                                "NULL"], lines
    out = run("explain", model_db, "tx_ae",
              "(SELECT *, INTERVAL '3 days 04:05:06' AS waited, false AS paid, NULL::DATE AS due, "
              "'Smith, John' AS payee FROM transactions)", "--where", "transaction_id = 9001")
    row = out.splitlines()[0]
    # text as a SQL literal: unquoted, 'Smith, John' read as two values, and the quoted form pastes into --where
    assert row.endswith(", waited='3 days 04:05:06.000000', paid=false, due=NULL, payee='Smith, John'"), row
    # dates, times, ids and durations as literals too: day=2024-01-06 pasted into --where is 2024 - 1 - 6
    out = run("explain", model_db, "tx_ae",
              "(SELECT *, DATE '2024-01-06' AS day, TIMESTAMP '2024-01-06 10:05' AS ts, TIME '10:05' AS at, "
              "'6a4117ce-ab01-4c6e-ac10-10a1972981e8'::UUID AS uid, INTERVAL '3 days' AS waited FROM transactions)",
              "--where", "transaction_id = 9001")
    row = out.splitlines()[0]
    pairs = row.removeprefix("row ").split(", ")[-5:]
    # and a keyword's name quoted: at='10:05:00' is a syntax error
    assert pairs == ["day='2024-01-06'", "ts='2024-01-06 10:05:00'", "\"at\"='10:05:00'",
                     "uid='6a4117ce-ab01-4c6e-ac10-10a1972981e8'", "waited='3 days 00:00:00.000000'"], row
    where = " AND ".join(["transaction_id = 9001", *pairs])
    assert run("explain", model_db, "tx_ae",
               "(SELECT *, DATE '2024-01-06' AS day, TIMESTAMP '2024-01-06 10:05' AS ts, TIME '10:05' AS at, "
               "'6a4117ce-ab01-4c6e-ac10-10a1972981e8'::UUID AS uid, INTERVAL '3 days' AS waited FROM transactions)",
               "--where", where).splitlines()[0] == row


def _terminal_session(db: str, keys: Sequence[str | int | Callable[[], None]], options: tuple[str, ...] = (),
                      history: Path | None = None) -> tuple[int, str]:
    """``ad-duckdb sql DB`` on a real pseudo-terminal (its controlling terminal, so it prompts): each key string is
    typed, each int sent as a signal and each callable called, once the session waits for input again (its prompt
    shown; a signal, or a Ctrl-C typed, once readline also blocks reading the terminal); the transcript is returned.
    ``history``: the prompt's history file (default: none kept, so tests leave no file in HOME)."""
    import fcntl
    import os
    import pty
    import select
    import termios

    master, slave = pty.openpty()

    def own_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = {**os.environ, "AD_DUCKDB_HISTORY": "" if history is None else str(history)}
    proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb", "sql", *options, db], stdin=slave, stdout=slave,
                            stderr=slave, preexec_fn=own_terminal, env=env)
    os.close(slave)
    out = b""

    def read_until_prompt() -> None:
        nonlocal out
        start = len(out)
        while not out[start:].rstrip(b" ").endswith((b"ad>", b"...")):
            ready, _, _ = select.select([master], [], [], 120)
            assert ready, f"no prompt within 120 s; transcript: {out.decode(errors='replace')}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the session ended: its side of the terminal is closed
                return
            if not chunk:
                return
            out += chunk

    try:
        waiting = False  # at a prompt already: a callable leaves the session where it was
        for key in keys:
            if not waiting:
                read_until_prompt()
            waiting = callable(key)
            if isinstance(key, int) or (isinstance(key, str) and "\x03" in key):  # a signal, or a key making one
                wait_reading_terminal(proc.pid, out)
            if isinstance(key, int):
                proc.send_signal(key)
            elif callable(key):  # something another process does while the session waits at its prompt
                key()
            else:
                os.write(master, key.encode())
        code = proc.wait(timeout=120)
        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        proc.kill()
        os.close(master)
    return code, out.decode(errors="replace").replace("\r\n", "\n")


def test_tab_completes_functions_models_columns_and_dot_commands_at_the_prompt(model_db: str, tmp_path: Path) -> None:
    """An analyst typing anomaly_score('tx_ae', count, amount) had to know each name by heart: Tab did nothing
    (DuckDB's autocomplete extension is not in the Python package). A table created in the session completes too,
    and an --attach file's tables by their qualified name."""
    lake = tmp_path / "lake.duckdb"
    made = duckdb.connect(str(lake))
    made.execute("CREATE TABLE daily_totals_2026 AS SELECT 7 AS total")
    made.close()
    code, out = _terminal_session(model_db, [
        "SELECT total FROM lake.main.daily_t\t;\n",
        # inside quotes a model's name completes with the closing quote
        "SELECT count(*) AS n FROM transactions WHERE anomaly_sc\t('tx_\t, count, amou\t) > 1e9;\n",
        ".tim\t on\n",
        "CREATE TEMP TABLE scratch_kept AS SELECT 42 AS answer_col;\n",
        "SELECT answer_\t FROM scratch_k\t;\n",
        ".quit\n",
    ], options=("--attach", str(lake)))
    assert code == 0, out
    out = out.replace("\r", "").replace("\x07", "")  # the bell: a Tab with more than one match rings it
    assert re.search(r"SELECT total FROM lake\.main\.daily_totals_2026;\ntotal\s*\n-+\s*\n\s*7\s*\n", out), out
    assert re.search(r"WHERE anomaly_score\('tx_ae', count, amount\) > 1e9;\nn\s*\n-+\s*\n\s*0\s*\n", out), out
    answer = re.search(r"SELECT answer_col FROM scratch_kept;\n(.*?)\nad> ", out, re.DOTALL)
    assert answer and re.fullmatch(r"answer_col\s*\n-+\s*\n\s*42\s*\nRun Time \(s\): real \d+\.\d+",
                                   answer.group(1)), out  # .timer was completed and ran


def test_sql_on_a_terminal_prompts_and_runs_each_statement_as_it_ends(model_db: str) -> None:
    """`ad-duckdb sql DB` on a terminal refused ("Give the SQL ..."): the anomaly functions are Python functions,
    which DuckDB's own shell cannot load, so there was no way to explore scores interactively."""
    code, out = _terminal_session(model_db, [
        "SELECT transaction_id AS top_id FROM transactions\n",
        "ORDER BY anomaly_score('tx_ae', count, amount) DESC LIMIT 1;\n",
        "SELECT nope FROM transactions;\n",  # an error ends that statement only
        "SELECT 'a;b' AS text; -- a ';' in quotes or a comment does not end it\n",
        ".quit\n",
    ])
    assert code == 0, out
    assert "anomaly functions registered" in out and "read-only" in out
    assert re.search(r"top_id\s*\n-+\s*\n\s*9001", out), out
    assert 'Error: Binder Error: Referenced column "nope" not found' in out
    assert re.search(r"text\s*\n-+\s*\na;b", out), out
    code, out = _terminal_session(model_db, ["SELECT 41 + 1 AS answer;\n", "\x04"])  # Ctrl-D leaves too
    assert code == 0 and re.search(r"answer\s*\n-+\s*\n\s*42", out), out


def test_the_sql_prompt_has_the_dot_commands_of_duckdbs_shell(model_db: str) -> None:
    """.tables, .schema, .models, .mode and psql's \\d answered "not a command here": an analyst from DuckDB's shell
    had to look up the SQL for what they type first in a database they do not know."""
    code, out = _terminal_session(model_db, [
        ".tables\n",
        ".schema trans%\n",
        "\\d transactions\n",
        ".models\n",
        ".schema nothing_like_this\n",
        ".mode csv\n",
        "SELECT 1 AS a, 'x,y' AS b;\n",
        ".mode\n",
        ".mode xml\n",
        ".tabels\n",
        ".help\n",
        ".quit\n",
    ])
    assert code == 0, out
    assert re.search(r"\.tables\nname\s+kind\s*\n-+\s+-+\s*\n(.*\n)*ad_models\s+table\s*\n(.*\n)*transactions\s+table", out), out
    assert re.search(r"\.schema trans%\nCREATE TABLE transactions\(.*\);\nad> ", out), out
    assert re.search(r"column_name\s+column_type.*\n-+.*\n(.*\n)*count\s+", out), out
    assert re.search(r"\.models\nname\s+version.*status\s*\n-+.*\ntx_ae\s+1\s.*\sok\s*\n", out), out
    assert re.search(r'a,b\s*\n1,"x,y"\s*\n', out), out  # csv from .mode csv on
    assert re.search(r"\.mode\ncsv\n", out), out
    assert "Error: .mode xml: the formats are table, csv, json" in out
    assert "no table or view matches 'nothing_like_this'" in out
    assert "Error: .tabels is not a command here: .help lists the commands" in out
    assert ".schema [PATTERN]" in out and ".models" in out


def test_dot_models_takes_a_pattern_as_dot_tables_does(model_db: str, tmp_path: Path) -> None:
    """.models nope listed every model, as if the word were not there: it is a pattern (ILIKE), and one that matches
    nothing says so and names the models."""
    script = tmp_path / "m.sql"
    script.write_text(".models nope\n.models TX%\n.models 'tx_ae'\n")
    out = run("sql", model_db, "--file", str(script))
    lines = out.splitlines()
    assert lines[0] == "no model matches 'nope' (ILIKE: % for any text); the models: tx_ae", out
    assert len([ln for ln in lines if re.match(r"tx_ae\s+1\s", ln)]) == 2, out
    assert ".models [PATTERN]" in dotcmds.HELP


def test_a_ctrl_c_in_the_sql_prompt_stops_the_statement_not_the_session(model_db: str, capsys) -> None:
    """Typed: Ctrl-C drops the statement being typed. Running: DuckDB's interrupt stops the query, and the session
    reads on. A real connection and a real interrupt (con.interrupt(), what the CLI's Ctrl-C watcher calls)."""
    import threading

    from ad_duckdb import sqlrun, sqlshell

    con = ad_duckdb.connect(model_db, read_only=True)
    running = threading.Event()
    done = threading.Event()

    def interrupter() -> None:
        running.wait()
        while not done.wait(0.05):  # until the statement has stopped: a first interrupt may land before it starts
            con.interrupt()

    typed = iter(["SELECT 1 AS one", KeyboardInterrupt, "SELECT count(*) AS n FROM range(100000000000) a, range(10) b;",
                  "SELECT 'after' AS still;", EOFError])

    def read(prompt: str) -> str:
        item = next(typed)
        if isinstance(item, type):
            raise item()
        if "range(100000000000)" in item:
            running.set()
        return item

    def run(text: str) -> None:
        try:
            sqlrun._run_statements(con, text, "table", False)
        finally:
            if running.is_set():
                done.set()

    threading.Thread(target=interrupter, daemon=True).start()
    try:
        sqlshell.interact(run, "banner", lambda line: None, read)
    finally:
        done.set()
        con.close()
    out = capsys.readouterr()
    assert "one" not in out.out  # the typed statement was dropped
    assert "Error: interrupted (Ctrl-C); the statement stopped, the session goes on." in out.err
    assert re.search(r"still\s*\n-+\s*\nafter", out.out), out


@pytest.mark.parametrize(("text", "ends"), [
    ("SELECT 1;", True), ("SELECT 1", False), ("SELECT 1; -- note", True), ("SELECT ';'", False),
    ("SELECT 'a;' AS x;", True), ("SELECT 1 -- ;", False), ("SELECT 1 /* ; */", False), ('SELECT 1 AS ";"', False),
    ("SELECT 1;\n\n", True), ("", False), ("SELECT 'it''s;'", False),
])
def test_the_sql_prompt_knows_when_a_statement_ends(text: str, ends: bool) -> None:
    from ad_duckdb import sqlshell

    assert sqlshell.complete(text) is ends


def test_score_into_with_top_or_format_also_prints_the_top_rows_it_wrote(model_db: str) -> None:
    res = CliRunner().invoke(cli, ["score", model_db, "tx_ae", "transactions", "--into", "top_shown", "--replace",
                                   "--top", "3", "--explain"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("wrote 1502 scored rows to top_shown"), res.stdout
    assert "anomaly_score" in lines[1] and "anomaly_explain" in lines[1] and len(lines) == 1 + 2 + 3, res.stdout
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        best = con.execute("SELECT transaction_id FROM top_shown ORDER BY anomaly_score DESC LIMIT 3").fetchall()
    finally:
        con.close()
    assert [ln.split()[0] for ln in lines[3:]] == [str(r[0]) for r in best]
    # csv for a script: stdout is the rows alone, the report goes to stderr
    res = CliRunner().invoke(cli, ["score", model_db, "tx_ae", "transactions", "--into", "top_shown", "--replace",
                                   "--format", "csv", "-c", "transaction_id"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = res.stdout.splitlines()
    assert rows[0] == "transaction_id,anomaly_score,anomaly_percentile,is_anomaly" and len(rows) == 1 + 20, res.stdout
    assert rows[1].split(",")[0] == str(best[0][0])
    assert "wrote 1502 scored rows to top_shown" in res.stderr
    # without either option: the report alone, as before
    assert run("score", model_db, "tx_ae", "transactions", "--into", "top_shown", "--replace").splitlines() == [
        "wrote 1502 scored rows to top_shown (model tx_ae@1)"]


def test_table_output_shows_an_amount_whole_and_rounds_only_long_fractions(db: str) -> None:
    out = run("sql", db, "SELECT 1234567.89::DOUBLE AS amount, 0.12345678901234567::DOUBLE AS score, "
                         "2.5e-07::DOUBLE AS tiny, 1e300::DOUBLE AS huge")
    values = out.splitlines()[2].split()
    assert values == ["1234567.89", "0.123457", "2.5e-07", "1e+300"], out


def test_table_output_rounds_a_float32_score_as_its_neighbours(db: str) -> None:
    # a float32 score widened to DOUBLE (344.35400390625) or a 14-digit threshold is short as text but not a
    # short value: it printed whole in a column of 6-digit neighbours (evaluate's candidates, threshold_report)
    out = run("sql", db, "SELECT 344.35400390625::DOUBLE AS score, 5.3172691822052::DOUBLE AS threshold, "
                         "12345.67::DOUBLE AS amount")
    values = out.splitlines()[2].split()
    assert values == ["344.354", "5.31727", "12345.67"], out


@pytest.mark.parametrize("args", [
    ["threshold", "{db}", "tx_ae", "r", "--method", "quantile", "--target", "2"],
    ["threshold", "{db}", "tx_ae", "r", "--method", "manual"],
    ["threshold", "{db}", "tx_ae", "r", "--method", "max_f1"],
    ["threshold", "{db}", "tx_ae", "r", "--method", "manual", "--value", "3", "--target", "0.5"],
    ["threshold", "{db}", "tx_ae", "r", "--method", "min_precision", "--target", "1.5", "--source", "transactions",
     "--label", "label"],
    ["score", "{db}", "tx_ae", "transactions", "--time", "day"],
    ["score", "{db}", "tx_ae", "transactions", "-c", "count", "-c", "COUNT"],
    # --replace overwrites the --into table: without one it was silently ignored
    ["score", "{db}", "tx_ae", "transactions", "--replace"],
    ["evaluate", "{db}", "tx_ae", "transactions", "--label", "label", "--replace"],
])
def test_a_wrong_option_value_or_combination_exits_2_as_click_s_own_checks_do(model_db: str, args: list[str]) -> None:
    res = CliRunner().invoke(cli, [a.format(db=model_db) for a in args], catch_exceptions=False)
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1, res.output
    # names the option to fix, in the command line's spelling (threshold's messages name only that one)
    assert "(CLI: -" in res.output or re.search(r"(?:^|[\s(])--[a-z]", res.output), res.output
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM ad_thresholds WHERE threshold_name = 'r'").fetchall() == [(0,)]
    finally:
        con.close()


def test_show_prints_a_large_columns_fill_and_center_with_the_digits_its_spread_needs(tmp_path: Path) -> None:
    """A BIGINT near 9e18 with a spread near 1e7 printed "fill 9e+18, center 9e+18": 6 digits cannot tell its median
    from 9e18, though the rows differ by millions. Fill and center now print to 3 significant digits of the spread
    (whole numbers here), and the scale without an exponent; a small column keeps its short figures."""
    rng = np.random.default_rng(0)
    path = str(tmp_path / "big.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT (9000000000000000000 + unnest(?::BIGINT[]))::BIGINT AS big, "
                    "unnest(?::DOUBLE[]) AS a",
                    [np.round(rng.normal(0, 1e7, 1500)).astype(int).tolist(), rng.normal(50, 5, 1500).tolist()])
        ad_duckdb.train(con, "b", "t", **FAST)
        spec = {f.name: f for f in ad_duckdb.load_model(con, "b").features}
    finally:
        con.close()
    lines = run("show", path, "b").splitlines()
    big = next(ln for ln in lines if ln.startswith("big ")).split()
    fill, center, scale = big[3:6]
    assert "e" not in fill + center + scale and "." not in fill + center, big
    assert abs(int(fill) - spec["big"].fill) <= spec["big"].scale / 1000, (big, spec["big"])
    assert abs(int(center) - spec["big"].center) <= spec["big"].scale / 1000, (big, spec["big"])
    assert float(scale) == pytest.approx(spec["big"].scale, rel=1e-5), big
    a = next(ln for ln in lines if ln.startswith("a ")).split()
    assert a[3:6] == [f"{spec['a'].fill:.6g}", f"{spec['a'].center:.6g}", f"{spec['a'].scale:.6g}"], a
    # explain's line for a missing value names the median it scores with: it read "(median 9e+18)"
    out = run("explain", path, "b", "SELECT NULL::BIGINT AS big, 50.0 AS a", "--where", "true")
    median = re.search(r"big .*value NULL: missing, .*(?:\(median (\S+)\)|: (\S+), its median)\)", out)
    assert median and abs(int(median.group(1) or median.group(2)) - spec["big"].fill) <= spec["big"].scale / 1000, out


def test_show_prints_metrics_rounded_as_its_tables_and_json_keeps_them_whole(model_db: str) -> None:
    lines = run("show", model_db, "tx_ae").splitlines()
    loss = next(ln for ln in lines if ln.startswith("best_validation_loss")).split()[1]
    whole = json.loads(run("show", model_db, "tx_ae", "--format", "json"))["metrics"]["best_validation_loss"]
    assert loss == f"{whole:.6g}" and len(loss.replace("0.", "").lstrip("0")) <= 6 + 4, (loss, whole)
    curve = next(ln for ln in lines if ln.startswith("validation_loss")).split(None, 1)[1]
    assert curve.startswith("[") and all(len(v.strip(" []")) <= 12 for v in curve.split(",")), curve


def test_score_top_prints_kept_columns_as_stored(model_db: str) -> None:
    # --top printed what DuckDB's default Arrow export makes of such columns: a UHUGEINT of 2^128 - 1 as -1, a TIME
    # WITH TIME ZONE without its offset, a BIT as the bytes it is stored in (\x04f5), a UUID id fine.
    src = ("SELECT count, amount, 340282366920938463463374607431768211455::UHUGEINT AS big_id, "
           "TIMETZ '12:00:00+01' AS tz, '0101'::BIT AS bits FROM transactions")
    out = run("score", model_db, "tx_ae", src, "--top", "1", "--format", "csv")
    header, row = out.strip().splitlines()[:2]
    assert header.startswith("count,amount,big_id,tz,bits,anomaly_score"), out
    assert ",340282366920938463463374607431768211455,12:00:00+01:00,0101," in row, out


def test_explain_prints_no_negative_zero_in_a_typical_range(tmp_path: Path) -> None:
    """A column whose smallest training value is just below zero printed "typical range -0.000 to ...": a value no
    reader can place (below zero, or not)."""
    rng = np.random.default_rng(0)
    path = str(tmp_path / "z.duckdb")
    con = ad_duckdb.connect(path)
    try:
        share = [*rng.uniform(0, 1, 1499).tolist(), -0.0001]
        con.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS share, unnest(?::DOUBLE[]) AS a",
                    [share, rng.normal(50, 5, 1500).tolist()])
        ad_duckdb.train(con, "z", "t", where="true", **FAST)
    finally:
        con.close()
    out = run("explain", path, "z", "SELECT 0.5 AS share, 50.0 AS a", "--where", "true")
    line = next(x for x in out.splitlines() if x.lstrip().startswith("share"))
    assert "typical range 0.000 to " in line and "-0" not in line, line


def test_a_ctrl_c_while_the_command_starts_is_one_line_and_exit_130(model_db: str) -> None:
    """Importing the command line takes about 1.5 s (DuckDB, numpy, pyarrow) before it watches for Ctrl-C; a Ctrl-C
    then printed a 30-line traceback through the import machinery. The Ctrl-C is raised here where it would land:
    inside the import of DuckDB, as `python -m ad_duckdb` (and the `ad-duckdb` script, ad_duckdb.launch) starts."""
    code = """
import builtins, runpy, sys
real = builtins.__import__
def interrupted(name, *args, **kwargs):
    if name == "duckdb":
        raise KeyboardInterrupt
    return real(name, *args, **kwargs)
builtins.__import__ = interrupted
sys.argv = ["ad-duckdb", "list", sys.argv[1]]
runpy.run_module("ad_duckdb", run_name="__main__", alter_sys=True)
"""
    r = subprocess.run([sys.executable, "-c", code, model_db], capture_output=True, text=True, timeout=120)
    assert r.returncode == 130, (r.returncode, r.stderr)
    assert r.stderr.strip().splitlines() == ["Error: interrupted (Ctrl-C) while the command was starting; it did "
                                             "nothing."], r.stderr


def test_explain_typical_range_of_a_heavy_tailed_integer_column_starts_at_its_smallest_value(tmp_path: Path) -> None:
    """A count whose smallest training value is 1 (signed log, so the range end is expm1(log1p(1)) =
    1.0000000000000002 after the round trip) printed "value 1, ..., typical range 2 to 49: typical": the whole
    numbers of the range began one past the value it called typical."""
    rng = np.random.default_rng(0)
    path = str(tmp_path / "c.duckdb")
    con = ad_duckdb.connect(path)
    try:
        count = rng.poisson(rng.lognormal(2.2, 1.0, 3000)) + 1
        con.execute("CREATE TABLE t AS SELECT unnest(?::INTEGER[]) AS count, unnest(?::DOUBLE[]) AS a",
                    [count.tolist(), rng.normal(50, 5, 3000).tolist()])
        ad_duckdb.train(con, "c", "t", where="true", **FAST)
        spec = ad_duckdb.load_model(con, "c").features[0]
    finally:
        con.close()
    assert spec.transform == "slog" and float(count.min()) == 1.0, spec
    out = run("explain", path, "c", "SELECT 1 AS count, 50.0 AS a", "--where", "true")
    line = next(x for x in out.splitlines() if x.lstrip().startswith("count"))
    assert "(value 1, " in line and "typical range 1 to " in line and line.endswith(": typical)"), line


def test_explain_of_a_typical_row_of_a_wide_model_stays_short(tmp_path: Path) -> None:
    """An unflagged row of a 60-column model, every value typical, spreads its shares thinly (1-8% each): only the
    columns under 0.5% were summed, so it printed 35 lines of typical columns before saying that nothing stands
    out. Beyond 12 lines the typical columns are summed, their largest share named."""
    rng = np.random.default_rng(0)
    d = 60
    X = rng.normal(size=(1500, d)) @ rng.normal(size=(d, d)) / np.sqrt(d)
    names = [f"c{i}" for i in range(d)]
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT " + ", ".join(f"unnest(?::DOUBLE[]) AS {c}" for c in names),
                [X[:, i].tolist() for i in range(d)])
    ad_duckdb.train(con, "w", "t", where="true", **FAST)
    con.close()
    out = run("explain", path, "w", "t", "--where", "rowid < 3")
    for block in out.split("row ")[1:]:
        lines = block.splitlines()
        assert "(normal;" in lines[1], out
        shown = [x for x in lines[2:] if x.startswith("  c")]
        typical = [x for x in shown if x.endswith(": typical)")]
        assert len(typical) <= 12 and len(shown) < 20, out  # a value far from its median keeps its line
        rest = next(x for x in lines if x.startswith("  and "))
        m = re.match(r"  and (\d+) more columns, each typical and (?:under|at most) (\S+)%, (\S+)% together$", rest)
        assert m and int(m.group(1)) == d - len(shown), rest
        shares = [float(x.split()[1].rstrip("%")) for x in shown]
        assert float(m.group(2)) <= min(float(x.split()[1].rstrip("%")) for x in typical) + 0.05, (rest, shares)
        assert sum(shares) + float(m.group(3)) == pytest.approx(100.0, abs=0.1 * len(shares) + 0.1), out
        assert lines[-1].startswith("  nothing stands out") == (typical == shown), out


def test_score_top_0_prints_no_empty_table(model_db: str, tmp_path: Path) -> None:
    """--top 0 asks for no rows: with --into only the 'wrote' line, with --plots only the plots (and no scan for rows)."""
    db = str(tmp_path / "top0.duckdb")
    shutil.copy(model_db, db)
    out = run("score", db, "tx_ae", "transactions", "--into", "s", "--top", "0")
    assert out.splitlines() == [f"wrote {out.split()[1]} scored rows to s (model tx_ae@1)"], out
    out = run("score", db, "tx_ae", "transactions", "--top", "0", "--plots", str(tmp_path / "p"))
    assert out.splitlines() == [f"plot: {tmp_path / 'p' / 'tx_ae_v1_scores.png'}"], out
    assert "anomaly_score" in run("score", db, "tx_ae", "transactions", "--into", "s", "--replace", "--top", "1")


@pytest.mark.parametrize("ref", ["tx_ae@0", "@3", "tx_ae@1@2", "tx_ae@x"])
def test_a_malformed_reference_in_sql_fails_as_it_does_as_an_argument(model_db: str, ref: str) -> None:
    """`show DB tx_ae@0` exits 2 (a wrong argument) with one readable line; the same reference inside `sql` exited 1,
    its line opening with DuckDB's wrapper "Invalid Input Error: Python exception occurred while executing the UDF:
    BadReferenceError: ...". Now both say the same, with the same exit code; a script's statement number is kept."""
    code, said = _invoke("show", model_db, ref)
    assert code == 2 and said.startswith("Error: Model reference "), said
    for query, where in ((f"SELECT anomaly_score('{ref}', count, amount) FROM transactions", ""),
                         (f"SELECT 1; SELECT anomaly_threshold('{ref}', 'default')", "statement 2 of 2: ")):
        code, out = _invoke("sql", model_db, query)
        assert code == 2, out
        assert out.splitlines()[-1] == said.strip().replace("Error: ", f"Error: {where}", 1), out
    # ad_duckdb's other errors lose DuckDB's wrapper too, and keep their exit codes (5: no such model)
    code, out = _invoke("sql", model_db, "SELECT anomaly_score('tx_aee', count, amount) FROM transactions")
    assert code == 5 and out.startswith("Error: No model 'tx_aee' in table ad_models"), out


def test_explain_in_sql_prints_the_plan_as_duckdb_draws_it(model_db: str) -> None:
    """The table format put EXPLAIN's one cell on one line, its line ends as "\\n" and clipped at 60 characters:
    `╭─ Summary ───────────╮\\n│ Total Time: 0.0162s │\\n│ Data…`, the plan unreadable. Now it is printed whole, as
    DuckDB's own shell prints it; csv and json keep the cell as data."""
    query = "EXPLAIN ANALYZE SELECT sum(anomaly_score('tx_ae', count, amount)) FROM transactions"
    out = run("sql", model_db, query)
    lines = out.splitlines()
    assert "\\n" not in out and "…" not in out, out
    assert any(re.fullmatch(r"│ Total Time: [\d.]+s\s*│", x) for x in lines), out
    assert any("TABLE_SCAN" in x or "Table Scan" in x or "SEQ_SCAN" in x for x in lines), out
    plan = run("sql", model_db, "EXPLAIN SELECT anomaly_score('tx_ae', count, amount) FROM transactions")
    assert plan.startswith("╭─") and plan.count("\n") > 5 and "explain_key" not in plan, plan
    rows = list(csv.reader(io.StringIO(run("sql", model_db, query, "--format", "csv"))))
    assert rows[0] == ["explain_key", "explain_value"] and rows[1][0] == "analyzed_plan", rows


def test_a_model_stored_in_an_attached_file_is_named_where_it_is(tmp_path: Path, model_db: str) -> None:
    """The SQL functions use the models stored in DB; a model of an ATTACHed file (ATTACH in the SQL, or --attach)
    failed with "No model 'lake_ae' in table ad_models; known models: 'tx_ae'", as if it were stored nowhere. Now the
    error says which attached file holds it and how to use it."""
    lake = str(tmp_path / "lake.duckdb")
    with ad_duckdb.connect(lake) as con:
        make_transactions(con, n=600)
        ad_duckdb.train(con, "lake_ae", "transactions", features=["count", "amount"], **FAST)
    for attach, query in (
            ((), f"ATTACH '{lake}' AS lk (READ_ONLY); SELECT anomaly_score('lake_ae', count, amount) FROM lk.transactions"),
            (("--attach", lake), "SELECT anomaly_score('lake_ae@1', count, amount) FROM lake.transactions")):
        code, out = _invoke("sql", model_db, query, *attach)
        alias = "lk" if not attach else "lake"
        assert code == 5 and len(out.strip().splitlines()) == 1, out
        assert out.startswith("Error: ") and "No model 'lake_ae' in table ad_models; known models: 'tx_ae'." in out, out
        assert f"'lake_ae' is stored in the attached database {alias!r} ({lake})" in out, out
        assert f"ad-duckdb export {lake} lake_ae lake_ae.onnx" in out and f"ad-duckdb import {model_db} lake_ae.onnx" \
            in out, out
    code, out = _invoke("sql", model_db, "SELECT anomaly_score('nowhere_ae', count, amount) FROM transactions",
                        "--attach", lake)
    assert code == 5 and "attached" not in out, out  # a model stored nowhere gets no such hint


def test_a_non_numeric_feature_argument_is_told_the_fix_for_that_argument(tmp_path: Path, model_db: str) -> None:
    """The fix for a BOOLEAN, DATE, TIMESTAMP or VARCHAR feature argument said `col::INTEGER`, `epoch(col)`: with
    several such columns the user had to work out which one was meant. Now it names the argument of the call, first
    (DuckDB's binder refuses it) or later (the function refuses it), in parentheses where it is an expression."""
    db = str(tmp_path / "odd.duckdb")
    with duckdb.connect(db) as con:
        con.execute(f"ATTACH '{model_db}' AS m (READ_ONLY)")
        con.execute("CREATE TABLE ad_models AS FROM m.ad_models")
        con.execute("CREATE TABLE ad_thresholds AS FROM m.ad_thresholds")
        con.execute("CREATE TABLE ad_model_versions AS FROM m.ad_model_versions")
        con.execute("CREATE TABLE odd AS SELECT count, amount, count > 10 AS flag, DATE '2024-01-01' AS \"Day\", "
                    "TIMESTAMP '2024-01-01 10:00' AS ts, amount::VARCHAR AS txt FROM m.transactions")
    for call, fix in (("anomaly_score('tx_ae', flag, amount)", "flag::INTEGER gives 1 for true"),
                      ("is_anomaly('tx_ae', count, ts)", "e.g. hour(ts) + minute(ts) / 60, its hour of the day"),
                      ("is_anomaly_at('tx_ae', 'default', odd.\"Day\", amount)", 'e.g. dayofweek(odd."Day"), its day'),
                      ("anomaly_score('tx_ae', count > 3, amount)", "(count > 3)::INTEGER gives 1 for true"),
                      # inside a function's parentheses an expression needs no more of them
                      ("is_anomaly('tx_ae', count, ts + INTERVAL 1 DAY)", "e.g. hour(ts + INTERVAL 1 DAY) + minute(ts + INTERVAL 1 DAY)"),
                      ("anomaly_percentile('tx_ae', count, txt /* , x */)", "TRY_CAST(txt AS DOUBLE) reads numbers")):
        out = fails_in_one_line("sql", db, f"SELECT {call} FROM odd")
        assert fix in out and "col" not in out.replace("column", ""), (call, out)
    # two calls passing different columns there: which one DuckDB refused is not said, so the fix stays general
    out = fails_in_one_line("sql", db, "SELECT anomaly_score('tx_ae', flag, amount), anomaly_score('tx_ae', "
                                       "count > 5, amount) FROM odd")
    assert "col::INTEGER gives 1 for true" in out, out


def test_sql_is_anomaly_at_without_a_threshold_name_says_so(model_db: str) -> None:
    """is_anomaly_at('tx_ae', 0.99, count, amount) (a PyOD user's cut as a number) said "is_anomaly_at's first feature
    argument is 2), not a number" and to cast count; leaving the name out said the first feature was "DECIMAL(14"
    and to cast amount. The second argument is the threshold's name: say that, and how to cut at a number."""
    out = fails_in_one_line("sql", model_db, "SELECT is_anomaly_at('tx_ae', 0.99, count, amount) FROM transactions")
    assert "is_anomaly_at's second argument is the name of a stored threshold" in out, out
    assert "here DECIMAL(3,2)" in out and "--method manual --value" in out and "first feature" not in out, out
    out = fails_in_one_line("sql", model_db, "SELECT is_anomaly_at('tx_ae', count, amount) FROM transactions")
    assert "is_anomaly_at's second argument is the name of a stored threshold" in out, out
    assert "DECIMAL(14" not in out.split("Candidate functions")[-1] and "first feature" not in out, out
    out = fails_in_one_line("sql", model_db, "SELECT is_anomaly_at('tx_ae', 'p99', count > 3, amount::DECIMAL(14,2)) "
                                             "FROM transactions")
    assert "is_anomaly_at's first feature argument is BOOLEAN, not a number" in out, out


@pytest.mark.parametrize("args", [
    ["score", "{db}", "tx_ae", "transactions", "--top", "100"],
    ["score", "{db}", "tx_ae", "transactions", "--top", "100", "--format", "csv"],
    ["sql", "{db}", "SELECT * FROM transactions"],
    ["sql", "{db}", "SELECT * FROM transactions", "--format", "json"],
    ["list", "{db}"],
    ["show", "{db}", "tx_ae", "--format", "json"],
])
def test_a_reader_that_stops_reading_ends_the_command_quietly_with_exit_141(model_db: str, args: list[str]) -> None:
    # `... | head -1`: the reader is gone before the command writes. git, cat and seq die of SIGPIPE there, which a
    # shell reports as 128 + 13; a script under `set -o pipefail` can tell that apart from a failure (exit 1).
    cmd = [sys.executable, "-m", "ad_duckdb.cli", *(a.format(db=model_db) for a in args)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        code = proc.wait(timeout=120)
    assert code == 141, err
    assert err == "", err  # no traceback, no "Exception ignored ... BrokenPipeError"


def test_head_of_a_large_result_exits_141_under_pipefail_and_prints_nothing_on_stderr(model_db: str) -> None:
    script = (f"set -o pipefail; {shlex.quote(sys.executable)} -m ad_duckdb.cli sql {shlex.quote(model_db)} "
              "'SELECT range AS n FROM range(300000)' --format csv | head -2")
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (141, "n\n0\n", "")


def test_csv_rows_end_in_a_line_feed_as_duckdbs_copy_writes_them_so_awk_and_cut_read_the_last_column(
        model_db: str) -> None:
    # A \r\n row end left a \r on the last column: `awk -F, '$NF == "ok"'` matched no row, `[ "$x" = ok ]` failed.
    listed = stdout_of("list", model_db, "--format", "csv")
    assert b"\r" not in listed and listed.endswith(b",ok\n"), listed
    query = "SELECT 1 AS n, E'two\\r\\nlines' AS crlf, E'a\\nb' AS lf, 'x' AS last"
    out = stdout_of("sql", model_db, query, "--format", "csv")
    assert out == b'n,crlf,lf,last\n1,"two\r\nlines","a\nb",x\n', out  # a value's own line breaks kept, quoted
    con = duckdb.connect()
    try:
        path = Path(model_db).with_name("lf.csv")
        path.write_bytes(out)
        assert con.execute(f"SELECT * FROM read_csv('{path}')").fetchall() == [(1, "two\r\nlines", "a\nb", "x")]
    finally:
        con.close()
    assert list(csv.reader(io.StringIO(out.decode(), newline=""))) == [["n", "crlf", "lf", "last"],
                                                                       ["1", "two\r\nlines", "a\nb", "x"]]


@pytest.mark.parametrize("out_format", ["csv", "json"])
def test_sql_csv_and_json_stream_a_large_result_rather_than_hold_it_in_memory(model_db: str, tmp_path: Path,
                                                                               out_format: str) -> None:
    # An export of a large table (`sql DB "SELECT * FROM big" --format csv > big.csv`) held every row, and the whole
    # JSON text, in memory: 1.4 GB for a million rows of three columns, and `| head` waited for all of them.
    def peak_kb(n: int) -> tuple[int, Path]:
        out = tmp_path / f"{n}.{out_format}"
        query = f"SELECT range AS i, range * 1.5 AS x, 'row ' || range AS s FROM range({n})"
        measure = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                   f"stdout=open({str(out)!r}, 'w')); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        r = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "ad_duckdb.cli", "sql", model_db,
                            query, "--format", out_format], capture_output=True, text=True, check=True, timeout=300)
        return int(r.stdout), out

    small, _ = peak_kb(1)
    large, path = peak_kb(300_000)
    if out_format == "csv":
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["i", "x", "s"] and rows[1] == ["0", "0.0", "row 0"] and len(rows) == 300_001
        assert rows[-1] == ["299999", "449998.5", "row 299999"]
    else:
        data = json.loads(path.read_text())
        assert len(data) == 300_000 and data[-1] == {"i": 299999, "x": 449998.5, "s": "row 299999"}
        assert path.read_text().startswith('[\n {\n  "i": 0,\n  "x": 0,\n  "s": "row 0"\n },\n {\n')
    assert large - small < 60_000, (small, large)  # KB


def test_json_writes_every_decimal_as_a_number_of_all_its_digits_as_duckdbs_to_json(model_db: str) -> None:
    # A DECIMAL a float cannot hold (12345678901234567.89) was written as a string beside numbers of the same column:
    # jq's `map(.d) | add` failed, and `select(.d < 1e20)` dropped that row, as jq orders every string after numbers.
    import decimal

    query = ("SELECT x::DECIMAL(38,2) AS d, [x::DECIMAL(38,2)] AS l FROM (VALUES (1.5), (-12345678901234567.89), "
             "(0.1), (12345678901234567890123456789012.5)) t(x) ORDER BY d")
    out = stdout_of("sql", model_db, query, "--format", "json").decode()
    want = ["-12345678901234567.89", "0.10", "1.50", "12345678901234567890123456789012.50"]
    rows = json.loads(out, parse_float=decimal.Decimal, parse_int=decimal.Decimal)
    assert [r["d"] for r in rows] == [decimal.Decimal(w) for w in want], out
    assert [r["l"] for r in rows] == [[decimal.Decimal(w)] for w in want], out
    con = duckdb.connect()
    try:
        duck = [json.loads(t, parse_float=decimal.Decimal) for (t,) in con.execute(
            f"SELECT to_json(d) FROM ({query})").fetchall()]
    finally:
        con.close()
    assert [r["d"] for r in rows] == duck
    cells = stdout_of("sql", model_db, query, "--format", "csv").decode()
    with io.StringIO(cells, newline="") as f:
        lists = [json.loads(r["l"], parse_float=decimal.Decimal) for r in csv.DictReader(f)]
    assert lists == [[decimal.Decimal(w)] for w in want], cells


@pytest.mark.parametrize("into", [False, True])
@pytest.mark.parametrize("out_format", ["csv", "json"])
def test_score_plots_with_csv_or_json_keeps_stdout_the_rows_alone(model_db: str, tmp_path: Path, out_format: str,
                                                                into: bool) -> None:
    # `score --plots DIR --top 5 --format json > top.json`: the "plot: PATH" lines followed the array on stdout, so
    # jq failed on the file; they go to stderr, as the 'wrote' line of --into does.
    plots = tmp_path / "plots"
    args = ["score", model_db, "tx_ae", "transactions", "--plots", str(plots), "--top", "3", "--format", out_format]
    if into:
        args = [*args, "--into", f"scores_{out_format}", "--replace"]
        # --into writes: a copy of the module's database, so the other tests' one stays read-only
        db = tmp_path / "m.duckdb"
        shutil.copy(model_db, db)
        args[1] = str(db)
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    if out_format == "json":
        assert len(json.loads(r.stdout)) == 3, r.stdout
    else:
        with io.StringIO(r.stdout, newline="") as f:
            assert len(list(csv.DictReader(f))) == 3, r.stdout
    assert f"plot: {plots}" in r.stderr and (plots / "tx_ae_v1_scores.png").exists(), r.stderr


def test_json_keeps_every_column_of_a_result_whose_names_repeat_naming_them_as_duckdb_does(model_db: str) -> None:
    # A self-join's `SELECT a.count, b.count` printed one "count" per object: a column silently lost. The keys are
    # the names DuckDB gives the same columns in a subquery or CREATE TABLE AS (count, count_1).
    query = "SELECT 1 AS n, 2 AS n, 3 AS N, 4 AS n_1, 5 AS m"
    out = stdout_of("sql", model_db, query, "--format", "json").decode()
    con = duckdb.connect()
    try:
        names = con.sql(f"SELECT * FROM ({query})").columns
    finally:
        con.close()
    assert json.loads(out) == [dict(zip(names, [1, 2, 3, 4, 5], strict=True))], out
    assert names == ["n", "n_1", "N_2", "n_1_1", "m"]


def test_a_query_with_accented_names_and_an_ending_semicolon_works_in_every_command(model_db: str,
                                                                                    tmp_path: Path) -> None:
    """DuckDB's tokenizer counts UTF-8 bytes, and the code that drops a pasted query's ending ';' and comments took
    its offsets for character positions: a query naming "Montant (€)" ended in a traceback (IndexError), or was cut
    short, in train, score and explain."""
    db = str(tmp_path / "eu.duckdb")
    Path(db).write_bytes(Path(model_db).read_bytes())
    run("sql", "--write", db, 'CREATE TABLE tx AS SELECT transaction_id, count AS "Nombre", amount AS "Montant (€)", '
                              "label FROM transactions")
    source = 'SELECT * FROM tx WHERE "Montant (€)" > 0 -- montants réels\n;'
    n = run("sql", db, 'SELECT count(*) FROM tx WHERE "Montant (€)" > 0', "--format", "csv").split()[-1]
    out = run("train", db, "eu", source, "-f", "Nombre", "-f", "Montant (€)", "--quiet", "--epochs", "2")
    assert f"stored eu@1: {n} rows" in out, out
    assert "9001" in run("score", db, "eu", source, "--top", "2")
    assert "row transaction_id=9001" in run("explain", db, "eu", source, "--where", "transaction_id = 9001 -- é")
    assert f"wrote {n} scored rows" in run("score", db, "eu", source, "--into", "Résultats (€)")


def test_sql_with_a_text_column_of_amounts_names_the_expression_for_that_column(model_db: str, tmp_path: Path) -> None:
    """An export's "$1,234.50" passed to the functions: the fix was TRY_CAST(col AS DOUBLE), NULL for every one."""
    csv = tmp_path / "export.csv"
    csv.write_text("Txn Count,Amount USD\n" + "".join(f'{i % 9 + 1},"${(i % 9 + 1) * 1234.5:,.2f}"\n'
                                                       for i in range(50)))
    out = fails_in_one_line("sql", model_db, f"SELECT anomaly_score('tx_ae', \"Txn Count\", \"Amount USD\") "
                                             f"FROM '{csv}'")
    expr = re.search(r"into a number: (TRY_CAST\(.*? AS DOUBLE\)) reads numbers", out)
    assert expr is not None and '"Amount USD"' in expr.group(1), out
    read = run("sql", model_db, f"SELECT max({expr.group(1)}) AS m FROM '{csv}'", "--format", "csv")
    assert read.split() == ["m", "11110.5"], read


def test_a_write_without_write_exits_2_as_a_missing_option(model_db: str) -> None:
    """`sql DB "CREATE TABLE ..."` without --write said to add --write but exited 1 ("any other error"); a missing
    option is what exit code 2 stands for, and a script that checks codes should be able to tell it apart."""
    res = CliRunner().invoke(cli, ["sql", model_db, "CREATE TABLE mine AS SELECT 1 AS x"], catch_exceptions=False)
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "add --write to allow writes" in res.output and len(res.output.strip().splitlines()) == 1, res.output
    # a write the database refuses for another reason keeps its own code
    res = CliRunner().invoke(cli, ["sql", model_db, "SELECT * FROM nosuch"], catch_exceptions=False)
    assert res.exit_code == 6, (res.exit_code, res.output)


@pytest.mark.parametrize("out_format", ["csv", "json"])
def test_sql_streamed_result_that_fails_midway_says_the_rows_printed_are_not_the_whole_result(
        model_db: str, out_format: str) -> None:
    # A statement failing after its first rows were streamed left a CSV on stdout that reads as complete, and the
    # error line did not say otherwise: a script that missed the exit code loaded part of the table.
    query = "SELECT i, CASE WHEN i < 1500000 THEN i ELSE error('boom at ' || i) END AS x FROM range(2000000) t(i)"
    r = CliRunner().invoke(cli, ["sql", model_db, query, "--format", out_format], catch_exceptions=False)
    assert r.exit_code == 1, r.stderr
    printed = r.stdout.count("\n") - 1 if out_format == "csv" else r.stdout.count('"i":')
    assert printed > 0, r.stdout[:200]
    assert "boom at" in r.stderr
    assert f"{printed:,} rows were printed before the error" in r.stderr, r.stderr


def test_sql_dash_reads_the_sql_from_standard_input(model_db: str) -> None:
    # `ad-duckdb sql DB - < report.sql` (as psql -f - and `duckdb DB < f`) ran "-" as SQL: 'syntax error at or
    # near "-"', where every other tool reads the script from standard input.
    script = "SELECT count(*) AS n FROM transactions;\nSELECT 41 + 1 AS answer;\n"
    for args in (["-"], ["-", "--format", "csv"], ["--format", "json", "-"]):
        res = CliRunner().invoke(cli, ["sql", model_db, *args], input=script, catch_exceptions=False)
        assert res.exit_code == 0, res.output
        assert "1502" in res.output and "42" in res.output and "syntax error" not in res.output, res.output
    res = CliRunner().invoke(cli, ["sql", model_db, "-"], input="", catch_exceptions=False)
    # as psql: a script without statements is no error, said on stderr
    assert res.exit_code == 0 and res.stdout == "" and "standard input is empty" in res.stderr, res.output
    # a real pipe, as a cron job's heredoc gives it
    piped = subprocess.run([sys.executable, "-m", "ad_duckdb", "sql", model_db, "-", "--format", "csv"], input=script,
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == "n\n1502\n\nanswer\n42\n", piped.stdout
    assert "not both" in run("sql", model_db, "-", "--file", "-", ok=False)


def _stdout(*args: str) -> tuple[str, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.stdout, res.stderr


def test_evaluate_explain_and_threshold_print_json_and_csv_for_scripts(model_db: str, tmp_path: Path) -> None:
    # A job that gates a deploy on AUC-PR, logs why a row was flagged, or stores a threshold and reads its value
    # back had to cut the figures out of aligned text: --format was on sql, score, compare, list and show only.
    out, err = _stdout("evaluate", model_db, "tx_ae", "transactions", "--label", "label", "--format", "json")
    doc = json.loads(out)
    with_text = run("evaluate", model_db, "tx_ae", "transactions", "--label", "label")
    assert doc["model"] == "tx_ae@1" and doc["rows"] == 1502 and doc["anomalies"] == 2, doc
    assert f"AUC-ROC {doc['auc_roc']:.4f}" in with_text and f"AUC-PR {doc['auc_pr']:.4f}" in with_text
    lo, hi = doc["auc_roc_interval"]
    assert lo <= doc["auc_roc"] <= hi and "default" in doc["at_thresholds"], doc
    assert doc["table"] and {"threshold", "precision", "recall", "f1", "flagged_share"} <= set(doc["table"][0])
    out, _ = _stdout("evaluate", model_db, "tx_ae", "transactions", "--label", "label", "--format", "csv")
    got = list(csv.DictReader(io.StringIO(out)))
    assert [float(r["threshold"]) for r in got] == [t["threshold"] for t in doc["table"]]
    assert [float(r["recall"]) for r in got] == [t["recall"] for t in doc["table"]]

    out, err = _stdout("explain", model_db, "tx_ae", "transactions", "--where", "transaction_id > 1000", "--limit",
                       "3", "--format", "json")
    rows = json.loads(out)
    assert [r["transaction_id"] for r in rows][0] == 9001 and len(rows) == 3, rows
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        want = con.execute("SELECT anomaly_score('tx_ae', count, amount), is_anomaly('tx_ae', count, amount) "
                           "FROM transactions WHERE transaction_id = 9001").fetchall()[0]
    finally:
        con.close()
    assert rows[0]["anomaly_score"] == pytest.approx(want[0], rel=1e-6) and rows[0]["is_anomaly"] is want[1]
    assert 0 <= rows[0]["anomaly_percentile"] <= 1 and set(rows[0]["anomaly_terms"]) >= {"reconstruction"}
    shares = rows[0]["anomaly_explain"]
    assert {s["feature"] for s in shares} == {"count", "amount"} and sum(s["share"] for s in shares) == pytest.approx(1)
    assert "showing 3 of 502 matching rows" in err and err.startswith("note: "), err
    out, _ = _stdout("explain", model_db, "tx_ae", "transactions", "--where", "transaction_id = 9002",
                     "--format", "csv")
    got = list(csv.DictReader(io.StringIO(out)))
    assert len(got) == 1 and got[0]["transaction_id"] == "9002" and got[0]["is_anomaly"] in ("true", "false")
    assert {s["feature"] for s in json.loads(got[0]["anomaly_explain"])} == {"count", "amount"}

    db = str(tmp_path / "t.duckdb")
    shutil.copyfile(model_db, db)
    out, _ = _stdout("threshold", db, "tx_ae", "cut", "--method", "max_f1", "--source", "transactions", "--label",
                     "label", "--format", "json")
    th = json.loads(out)
    assert th["model"] == "tx_ae@1" and th["name"] == "cut" and th["method"] == "max_f1", th
    assert th["f1"] is not None and th["chosen_on"], th
    con = ad_duckdb.connect(db, read_only=True)
    try:
        assert con.execute("SELECT anomaly_threshold('tx_ae', 'cut')").fetchall()[0][0] == th["value"]
    finally:
        con.close()


def test_a_min_cost_threshold_and_evaluate_costs_print_one_json_document(model_db: str, tmp_path: Path) -> None:
    # min_cost prints what its cut costs on a line of its own; with --format json that line went to stdout after the
    # object, and json.loads of the output failed
    db = str(tmp_path / "t.duckdb")
    shutil.copyfile(model_db, db)
    out, err = _stdout("threshold", db, "tx_ae", "cheap", "--method", "min_cost", "--miss-cost", "400", "--alarm-cost",
                       "5", "--source", "transactions", "--label", "label", "--format", "json")
    th = json.loads(out)
    assert th["method"] == "min_cost" and "per missed anomaly" in err, (th, err)
    out, _ = _stdout("evaluate", db, "tx_ae", "transactions", "--label", "label", "--miss-cost", "400",
                     "--alarm-cost", "5", "--format", "json")
    doc = json.loads(out)
    assert doc["costs"]["best"]["value"] == pytest.approx(th["value"]), (doc["costs"], th)
    assert doc["at_thresholds"]["cheap"]["cost_per_row"] == doc["costs"]["best"]["cost_per_row"], doc


def test_sql_with_text_amounts_as_the_first_feature_names_the_expression_that_reads_them(model_db: str,
                                                                                      tmp_path: Path) -> None:
    """Text amounts ("1.234,50") as the FIRST feature argument: DuckDB's binder refuses them before the functions
    run, and the fix given was TRY_CAST(col AS DOUBLE), NULL for every one; in the other places the argument's own
    expression was named."""
    csv = tmp_path / "export.csv"
    csv.write_text("Ref;Amount EUR;Txn Count\n" + "".join(f'{i};"{(i % 9 + 1) * 1234.5:,.2f}";{i % 9 + 1}\n'.replace(
        ",", "X").replace(".", ",").replace("X", ".") for i in range(50)))
    for query in (f"SELECT Ref, anomaly_score('tx_ae', \"Amount EUR\", \"Txn Count\") AS s FROM '{csv}' "
                  "WHERE \"Txn Count\" > 0 ORDER BY s DESC LIMIT 3",
                  f"SELECT max(anomaly_score('tx_ae', \"Amount EUR\", \"Txn Count\")) FROM '{csv}' GROUP BY Ref % 2",
                  f"SELECT count(*) FROM read_csv('{csv}') WHERE is_anomaly('tx_ae', \"Amount EUR\", \"Txn Count\")"):
        out = fails_in_one_line("sql", model_db, query)
        expr = re.search(r"into a number: (TRY_CAST\(.*? AS DOUBLE\)) reads numbers written as these are", out)
        assert expr is not None and '"Amount EUR"' in expr.group(1) and "decimal comma" in out, (query, out)
        read = run("sql", model_db, f"SELECT max({expr.group(1)}) AS m FROM '{csv}'", "--format", "csv")
        assert read.split() == ["m", "11110.5"], read
    # a first feature of words, not amounts, keeps the general fix
    out = fails_in_one_line("sql", model_db, f"SELECT anomaly_score('tx_ae', Ref::VARCHAR || 'x', \"Txn Count\") "
                                             f"FROM '{csv}'")
    assert "anomaly_score's first feature argument is VARCHAR" in out and "written as these are" not in out, out


def test_a_folder_of_parquet_files_as_the_source_names_the_glob_that_reads_it(tmp_path: Path) -> None:
    """Spark and pandas (partition_cols) write a dataset as a folder: `train DB m out/` said "Table with name out/
    does not exist! Did you mean "pg_class"?", and `out/*` the same (the folder's _SUCCESS and .crc files too)."""
    out = tmp_path / "out"
    (out / "region=eu").mkdir(parents=True)
    for k in range(2):
        duckdb.sql(f"COPY (SELECT range AS qty, range * 2.5 + {k} AS amount FROM range(40)) "
                   f"TO '{out / f'part-0000{k}-x.snappy.parquet'}'")
    (out / "_SUCCESS").write_text("")
    (out / ".part-00000-x.snappy.parquet.crc").write_bytes(b"crc")
    db = str(tmp_path / "m.duckdb")
    for src in (str(out), f"{out}/", f"{out}/*"):
        res = CliRunner().invoke(cli, ["train", db, "m", src, "--quiet"], catch_exceptions=False)
        assert res.exit_code == 6 and "is a folder" in res.output and "pg_" not in res.output, res.output
        glob = re.search(r"read its files with (\S+?)(?:[,;.]? |$)", res.output)
        assert glob is not None and glob.group(1) == f"'{out}/*.parquet'", res.output
        assert "--quiet" not in res.output
        ok = CliRunner().invoke(cli, ["train", db, "m", glob.group(1).strip("'"), "--quiet", "-f", "qty",
                                      "-f", "amount", "--epochs", "2", "--n-models", "1"], catch_exceptions=False)
        assert ok.exit_code == 0, ok.output
    # partition folders (key=value) below: the recursive glob, read with the keys
    sub = tmp_path / "lake"
    for m in (1, 2):
        (sub / f"month={m}").mkdir(parents=True)
        duckdb.sql(f"COPY (SELECT range AS qty FROM range(30)) TO '{sub / f'month={m}' / 'data.parquet'}'")
    res = CliRunner().invoke(cli, ["train", db, "m2", str(sub), "--quiet"], catch_exceptions=False)
    assert res.exit_code == 6 and f"'{sub}/**/*.parquet'" in res.output, res.output


def test_explain_for_scripts_of_a_scored_table_gives_the_fresh_scores_under_their_names(model_db: str,
                                                                                       tmp_path: Path) -> None:
    """explain --format json|csv of a scored table (its flagged rows, a natural thing to explain) kept the table's old
    score columns first: json's "anomaly_score" was the stored score (after a retrain, another model's) and the one
    just computed came as "anomaly_score_1"; csv's header named each twice. A label of the user's called is_anomaly
    took the flag's key the same way; scoring refuses such a column, and so does explain for scripts."""
    db = str(tmp_path / "t.duckdb")
    shutil.copyfile(model_db, db)
    run("score", db, "tx_ae", "transactions", "--into", "tx_scores", "-c", "transaction_id", "-c", "count", "-c",
        "amount", "--top", "0")
    con = ad_duckdb.connect(db)
    try:
        # as a retrain leaves them: the stored scores are another model's
        con.execute("UPDATE tx_scores SET anomaly_score = -1, anomaly_percentile = -1, is_anomaly = NOT is_anomaly")
        fresh = con.execute("SELECT anomaly_score('tx_ae', count, amount), anomaly_percentile('tx_ae', count, amount), "
                            "is_anomaly('tx_ae', count, amount) FROM transactions WHERE transaction_id = 9001"
                            ).fetchall()[0]
    finally:
        con.close()
    out, _ = _stdout("explain", db, "tx_ae", "tx_scores", "--where", "transaction_id = 9001", "--format", "json")
    row = json.loads(out)[0]
    assert not any(k.endswith("_1") for k in row), row
    assert row["anomaly_score"] == pytest.approx(fresh[0], rel=1e-6), row
    assert (row["anomaly_percentile"], row["is_anomaly"]) == (pytest.approx(fresh[1]), fresh[2]), row
    out, _ = _stdout("explain", db, "tx_ae", "tx_scores", "--where", "transaction_id = 9001", "--format", "csv")
    header = out.splitlines()[0].split(",")
    assert header == ["transaction_id", "count", "amount", "anomaly_score", "anomaly_percentile", "is_anomaly",
                      "anomaly_terms", "anomaly_explain", "anomaly_imputed"], header  # the new one last
    own = "SELECT transaction_id, count, amount, label AS is_anomaly FROM transactions"
    for fmt in ("json", "csv"):
        msg = fails_in_one_line("explain", db, "tx_ae", own, "--where", "transaction_id = 9001", "--format", fmt)
        assert "'is_anomaly' (INTEGER) of its own" in msg and "RENAME (is_anomaly AS label)" in msg, msg
        assert "-c COLUMN" not in msg, msg
    assert "is_anomaly=" in run("explain", db, "tx_ae", own, "--where", "transaction_id = 9001")


def test_evaluate_csv_with_costs_says_where_the_costs_are(model_db: str) -> None:
    """evaluate --format csv --miss-cost 400 --alarm-cost 5 printed the candidate thresholds alone: the costs asked
    for were dropped without a word."""
    out, err = _stdout("evaluate", model_db, "tx_ae", "transactions", "--label", "label", "--miss-cost", "400",
                       "--alarm-cost", "5", "--format", "csv")
    assert out.splitlines()[0] == "threshold,precision,recall,f1,flagged_share,training_flagged_share", out
    assert ("note: --format csv prints the candidate thresholds, without costs; each threshold's cost and the "
            "cheapest cut are in --format json (costs, at_thresholds' cost_per_row)") in err, err
    _, err = _stdout("evaluate", model_db, "tx_ae", "transactions", "--label", "label", "--format", "csv")
    assert "without costs" not in err, err


def test_an_in_memory_database_reads_without_write_and_refuses_to_store_a_model(tmp_path: Path,
                                                                                  model_db: str) -> None:
    """`sql :memory: "SELECT * FROM read_parquet(...)"` failed with DuckDB's "Cannot launch in-memory database in
    read-only mode" (an in-memory database has nothing to protect); `train :memory:` "stored" a model that was gone
    when the command ended; a model looked up there was to be trained, not found in the file that holds it."""
    parquet = tmp_path / "x.parquet"
    duckdb.sql(f"COPY (SELECT range::DOUBLE AS a, (range * 7 % 13)::DOUBLE AS b FROM range(50)) TO '{parquet}'")
    src = f"read_parquet('{parquet}')"
    assert run("sql", ":memory:", f"SELECT count(*) AS n FROM {src}", "--format", "csv").split() == ["n", "50"]
    assert run("sql", ":memory:", "CREATE TABLE t AS SELECT 1 AS x; SELECT x FROM t", "--format", "csv").split() \
        == ["x", "1"]
    assert "no models stored" in run("list", ":memory:")
    for args in (("train", ":memory:", "m", src, "--quiet"), ("import", ":memory:", str(tmp_path / "m.onnx"))):
        res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert res.exit_code == 3, res.output
        out = res.output
        assert out.startswith("Error: ") and len(out.strip().splitlines()) == 1, out
        assert "':memory:'" in out and "in-memory" in out and ".duckdb" in out, out
    assert not (tmp_path / "m.onnx").exists()
    for args in (("score", ":memory:", "tx_ae", src), ("show", ":memory:", "tx_ae"),
                 ("sql", ":memory:", "SELECT anomaly_score('tx_ae', 1.0, 2.0)")):
        res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert res.exit_code == 5, res.output
        assert "in-memory" in res.output and "the database file" in res.output, res.output
    # a model of an attached file: use that file, not an import into a database that keeps nothing
    out = fails_in_one_line("sql", ":memory:", "SELECT anomaly_score('tx_ae', 1.0, 2.0)", "--attach", model_db)
    assert "ad-duckdb sql" in out and "import" not in out, out


def test_an_empty_db_argument_is_refused_by_every_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DB '' (a script's unset "$DB") is an in-memory database to DuckDB: `train` "stored" a model that was gone when
    it ended, and a refused train or import ended in a traceback (its clean-up removed the folder '.'), as `serve` did,
    `sql --write` said ok, `list` said "Cannot launch in-memory database in read-only mode!"."""
    monkeypatch.chdir(tmp_path)
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"not a model")
    for args in (("train", "", "m", "SELECT range::DOUBLE AS a FROM range(50)", "--quiet", "--epochs", "1"),
                 ("import", "", str(onnx)), ("import", "", str(tmp_path / "none.onnx")), ("list", ""),
                 ("sql", "--write", "", "CREATE TABLE t AS SELECT 1 AS x"), ("score", "", "m", "t", "--into", "o"),
                 ("drop", "", "m", "--yes"), ("serve", "", "--port", "0")):
        res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert res.exit_code == 3, (args, res.output)
        out = res.output
        assert out.startswith("Error: DB '' is empty: give the path of a .duckdb file") and \
            len(out.strip().splitlines()) == 1, (args, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_an_empty_option_or_path_is_refused_not_read_as_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  model_db: str) -> None:
    """A script's unset variable gives '': score --into '' printed the rows and wrote no table (exit 0), -f '' trained
    on every numeric column, -c '' kept every column, --plots '' drew nothing, and a path '' was the folder '.':
    import '' stored every .onnx file of the working folder, export wrote NAME.onnx there, dbt-package --copy-to ''
    called the working folder one of other files."""
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "m.duckdb")
    shutil.copy(model_db, db)
    before = run("list", db)
    run("export", db, "tx_ae", "tx_ae.onnx")
    for args, says in (
            (("train", db, "m2", "transactions", "-f", "", "--quiet"), "-f '' names no column: give the feature columns"),
            (("train", db, "m2", "transactions", "-f", ",", "--quiet"), "-f ',' names no column"),
            (("score", db, "tx_ae", "transactions", "-c", ""), "-c '' names no column: give the columns to keep"),
            (("score", db, "tx_ae", "transactions", "--into", ""), "--into '' is empty: give the table to write"),
            (("score", db, "tx_ae", "transactions", "--plots", ""), "--plots '' is empty: give the folder"),
            (("evaluate", db, "tx_ae", "transactions", "--label", "label", "--plots", ""), "--plots '' is empty"),
            (("export", db, "tx_ae", ""), "PATH '' is empty: give the .onnx file or folder to write, e.g. tx_ae.onnx"),
            (("export", db, "--all", ""), "DIR '' is empty"),
            (("import", db, ""), "PATH '' is empty: give the .onnx file `ad-duckdb export` wrote"),
            (("dbt-package", "--copy-to", ""), "--copy-to '' is empty: give the folder")):
        res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert res.exit_code == 2, (args, res.output)
        assert res.output.startswith(f"Error: {says}") and len(res.output.strip().splitlines()) == 1, (args, res.output)
    assert run("list", db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.duckdb", "tx_ae.onnx"]


def test_a_source_query_failing_mid_stream_says_its_own_error_without_our_traceback(tmp_path: Path,
                                                                                    model_db: str) -> None:
    """A row of the source's query that DuckDB cannot compute, past the first batch (a cast of text, error()), stopped
    score with "reading the stream registered as '__ad_scored' failed: IOError: ... Detail: Python exception:
    Traceback (most recent call last): File ...": a traceback of ours in the one-line error; explain with DuckDB's
    words alone."""
    db = str(tmp_path / "m.duckdb")
    shutil.copy(model_db, db)
    run("score", db, "tx_ae", "transactions", "--into", "scores")
    before = run("sql", db, "SELECT count(*), sum(anomaly_score) FROM scores")
    bad = ("SELECT k * 100000 + transaction_id AS transaction_id, count, CASE WHEN k = 150 AND transaction_id = 7 "
           "THEN error('amount feed broke') ELSE amount END AS amount FROM transactions, range(200) r(k)")
    for more in (["--top", "3"], ["--into", "scores", "--replace", "--quiet"], ["--into", "fresh", "--quiet"]):
        out = fails_in_one_line("score", db, "tx_ae", bad, *more)
        assert out.startswith(f"Error: Scoring with 'tx_ae': cannot read {bad!r}: Invalid Input Error: amount feed "
                              "broke."), out
        assert "Traceback" not in out and "__ad_scored" not in out, out
    assert run("sql", db, "SELECT count(*), sum(anomaly_score) FROM scores") == before
    assert "fresh" not in run("sql", db, "SELECT table_name FROM information_schema.tables", "--format", "csv")
    # explain read it as DuckDB's words alone, naming neither the model nor the source
    bad = ("SELECT transaction_id, count, CASE WHEN transaction_id = 7 THEN error('amount feed broke') ELSE amount "
           "END AS amount FROM transactions")
    out = fails_in_one_line("explain", db, "tx_ae", bad, "--where", "transaction_id > 0")
    assert out == f"Error: Explaining with 'tx_ae@1': cannot read {bad!r}: Invalid Input Error: amount feed broke.\n", out


def test_the_library_names_the_model_and_source_of_a_query_failing_mid_stream(model_db: str) -> None:
    """ad_duckdb.score without into read the scores through pyarrow, which passed DuckDB's error on as a bare OSError
    ("Invalid Input Error: amount feed broke"): no model, no source, and a caller's ``except duckdb.Error`` missed it.
    It is the CLI's message, of the kind DuckDB raises for the query run alone."""
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        bad = ("SELECT k * 100000 + transaction_id AS transaction_id, count, CASE WHEN k = 150 AND transaction_id = 7 "
               "THEN error('amount feed broke') ELSE amount END AS amount FROM transactions, range(200) r(k)")
        with pytest.raises(duckdb.InvalidInputException) as caught:
            ad_duckdb.score(con, "tx_ae", bad)
        assert str(caught.value) == f"Scoring with 'tx_ae': cannot read {bad!r}: Invalid Input Error: amount feed broke."
        with pytest.raises(duckdb.InvalidInputException):  # the same kind as the query alone
            con.execute(bad).fetchall()
        # a kind DuckDB does not name as a class is still one of its errors
        odd = readhints.passed_on_error("Scoring with 'm'", "t", OSError("Strange Thing Error: it broke"))
        assert type(odd) is duckdb.Error and str(odd) == "Scoring with 'm': cannot read 't': Strange Thing Error: it broke."
    finally:
        con.close()


def test_import_reads_a_model_file_from_a_pipe(tmp_path: Path, model_db: str) -> None:
    """`ad-duckdb import DB <(curl ...)` (or a named pipe) gives a path that exists but is no regular file: it was
    "Model file '/dev/fd/63' does not exist"; /dev/null was too, where it is an empty file."""
    import threading

    onnx = tmp_path / "tx_ae.onnx"
    run("export", model_db, "tx_ae", str(onnx))
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    # daemon: where the import never opens the pipe, the writer's open waits forever, and must not hold the run
    writer = threading.Thread(target=lambda: fifo.write_bytes(onnx.read_bytes()), daemon=True)
    writer.start()
    db = str(tmp_path / "other.duckdb")
    try:
        assert run("import", db, str(fifo), "--name", "piped").strip() == \
            "stored piped@1 (exported as tx_ae@1: pin 'piped@1' here)"
    finally:
        writer.join(timeout=30)
    res = CliRunner().invoke(cli, ["import", db, os.devnull], catch_exceptions=False)
    assert res.exit_code == 8 and f"Model file {os.devnull!r} is empty (0 bytes)" in res.output, res.output


def test_a_path_whose_name_is_too_long_for_the_file_system_is_named_not_a_traceback(tmp_path: Path,
                                                                                      model_db: str) -> None:
    """Path.exists raises for a name the file system refuses (ENAMETOOLONG, over 255 bytes on Linux) rather than
    answer False: list, show, score, sql --write, import and --attach of such a path ended in a traceback, exit 1."""
    long = str(tmp_path / ("x" * 300 + ".duckdb"))
    for code, args in ((3, ("list", long)), (3, ("score", long, "tx_ae", "transactions", "--into", "o")),
                       (3, ("sql", "--write", long, "SELECT 1")), (3, ("serve", long, "--port", "0")),
                       (6, ("import", model_db, long.replace(".duckdb", ".onnx"))),
                       (3, ("score", model_db, "tx_ae", "transactions", "--attach", long))):
        res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert res.exit_code == code, (args, res.exit_code, res.output)
        assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1, (args, res.output)
        assert "File name too long" in res.output, (args, res.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_json_file_named_without_read_json_is_read_as_a_csv_or_parquet_file_is(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                                 model_db: str) -> None:
    """The source tx.json ("tx"."json" to SQL) failed in every command with "Python Object "json" of type "module"
    found on line ".../features.py:186" not suitable for replacement scans": DuckDB's replacement scan read the last
    part alone in ad_duckdb's own module, which imports json; tx.csv and tx.parquet were read."""
    monkeypatch.chdir(tmp_path)
    duckdb.sql("COPY (SELECT range % 9 + 1 AS count, range % 13 * 2.5 AS amount FROM range(50)) TO 'tx.json'")
    top = run("score", model_db, "tx_ae", "tx.json", "--top", "2", "--format", "csv")
    assert top.splitlines()[0].startswith("count,amount,anomaly_score") and len(top.splitlines()) == 3, top
    assert run("sql", model_db, "SELECT count(*) AS n FROM tx.json", "--format", "csv").split() == ["n", "50"]
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        assert ad_duckdb.score(con, "tx_ae", "tx.json").num_rows == 50
    finally:
        con.close()


def test_a_folder_source_is_judged_by_its_data_not_by_a_writers_hidden_or_temporary_files(tmp_path: Path) -> None:
    """A Spark job still writing (or one that died) leaves its files under _temporary/: the folder was called "a folder
    of folders (partitions)" and given '**/*.parquet', which reads those half-written files as data; and the hint
    walked every file below the folder (9 s on a folder as large as /usr) to say so."""
    out = tmp_path / "out"
    (out / "_temporary" / "0").mkdir(parents=True)
    duckdb.sql(f"COPY (SELECT range AS qty FROM range(30)) TO '{out / '_temporary' / '0' / 'part-0.parquet'}'")
    (out / ".git").mkdir()
    (out / ".git" / "x.csv").write_text("a\n1\n")
    db = str(tmp_path / "m.duckdb")
    res = CliRunner().invoke(cli, ["train", db, "m", str(out), "--quiet"], catch_exceptions=False)
    assert res.exit_code == 6 and "holds no .parquet, .csv or .json file" in res.output, res.output
    assert "**" not in res.output, res.output


def _export(path: Path, n: int, total: str | None, seed: int = 0) -> str:
    """A spreadsheet export of ``n`` transactions; ``total``: the first cell of a last row that sums them ("Total",
    or "" for a row of sums alone), None for none."""
    rng = np.random.default_rng(seed)
    count = rng.poisson(8, n) + 1
    amount = np.round(count * rng.lognormal(3.0, 0.25, n), 2)
    lines = [f"{i};{c};{a:.2f}" for i, (c, a) in enumerate(zip(count, amount, strict=True))]
    if total is not None:
        lines.append(f"{total};{count.sum()};{amount.sum():.2f}")
    path.write_text("ID;Count;Amount\n" + "\n".join(lines) + "\n")
    return f"read_csv('{path}')"


def test_a_scored_totals_row_at_the_top_is_named_with_the_filter_that_leaves_it_out(tmp_path: Path) -> None:
    """A month's export scored with `score --top` / `--into` ends in its totals row, which scores as the top
    anomaly, shown first without a word: an analyst reads it as the month's worst transaction."""
    db = str(tmp_path / "m.duckdb")
    with ad_duckdb.connect(db) as con:
        ad_duckdb.train(con, "tx", _export(tmp_path / "train.csv", 400, None), features=["Count", "Amount"], **FAST)
    for total, marked in (("Total", "'Total' in 'ID'"), ("", "")):
        source = _export(tmp_path / "month.csv", 300, total, seed=1)
        for args in (["--top", "5"], ["--into", "s", "--replace"], ["--into", "s", "--replace", "--top", "3"]):
            res = CliRunner().invoke(cli, ["score", db, "tx", source, *args], catch_exceptions=False)
            assert res.exit_code == 0, res.output
            notes = [n for n in res.stderr.splitlines() if "totals row" in n]
            assert len(notes) == 1 and marked in notes[0], (total, args, res.output)
            fixed = re.search(r'score without it: ad-duckdb score \S+ tx "(.*?)"', notes[0]).group(1)
            with duckdb.connect() as check:
                assert check.execute(f"SELECT count(*) FROM ({fixed})").fetchall() == [(300,)], notes
            res = CliRunner().invoke(cli, ["score", db, "tx", fixed, *args], catch_exceptions=False)
            assert res.exit_code == 0 and "totals row" not in res.output, res.output
        source = _export(tmp_path / "month.csv", 300, None, seed=1)
        res = CliRunner().invoke(cli, ["score", db, "tx", source, "--top", "5"], catch_exceptions=False)
        assert res.exit_code == 0 and "totals row" not in res.output, res.output


def test_no_scored_totals_row_note_on_the_examples_and_adbench_data(tmp_path: Path) -> None:
    """No false alarm on the example transactions and an ADBench set, with --top and with --into."""
    from conftest import DATA

    db = str(tmp_path / "m.duckdb")
    with ad_duckdb.connect(db) as con:
        make_transactions(con)
        X = np.load(DATA / "adbench" / "38_thyroid.npz")["X"]
        con.execute("CREATE TABLE thyroid AS SELECT * FROM (SELECT unnest(?) AS a, unnest(?) AS b, unnest(?) AS c, "
                    "unnest(?) AS d, unnest(?) AS e, unnest(?) AS f)", [X[:, j].tolist() for j in range(6)])
        ad_duckdb.train(con, "tx", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.train(con, "th", "thyroid", **FAST)
    for model, source in (("tx", "transactions"), ("th", "thyroid")):
        for args in (["--top", "5"], ["--into", "s", "--replace"]):
            out = run("score", db, model, source, *args)
            assert "totals row" not in out, out


def test_a_scored_totals_row_is_named_with_append_and_with_columns_left_out(tmp_path: Path) -> None:
    """`score --into T --append` gave no note on the totals row this run added (the table mixes earlier runs'
    rows), and `-c` gave none either (the check read the features from the table, which then has none)."""
    db = str(tmp_path / "m.duckdb")
    with ad_duckdb.connect(db) as con:
        ad_duckdb.train(con, "tx", _export(tmp_path / "train.csv", 400, None), features=["Count", "Amount"], **FAST)
    first = f"SELECT ID::VARCHAR AS ID, Count, Amount FROM {_export(tmp_path / 'm1.csv', 300, None, seed=1)}"
    month = _export(tmp_path / "m2.csv", 300, "Total", seed=2)
    res = CliRunner().invoke(cli, ["score", db, "tx", first, "--into", "log", "--append"], catch_exceptions=False)
    assert res.exit_code == 0 and "totals row" not in res.output, res.output
    for args in (["--into", "log", "--append"], ["--into", "log", "--append", "--top", "3"],
                 ["--into", "s", "--replace", "-c", "ID"], ["--into", "s2", "-c", "ID", "--append"],
                 ["--top", "3", "-c", "ID"]):
        res = CliRunner().invoke(cli, ["score", db, "tx", month, *args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        notes = [n for n in res.stderr.splitlines() if "totals row" in n]
        assert len(notes) == 1 and "'Total' in 'ID'" in notes[0], (args, res.output)
        fixed = re.search(r'ad-duckdb score \S+ tx "(.*?)"', notes[0]).group(1)
        with duckdb.connect() as check:
            assert check.execute(f"SELECT count(*) FROM ({fixed})").fetchall() == [(300,)], notes
        if "--append" in args:  # the statement that takes it out of the table deletes it and no other row
            delete = shlex.split(notes[0].split(" --write ")[1])[0]
            with duckdb.connect(db) as check:
                before = check.execute(f"SELECT count(*) FROM {args[1]}").fetchall()[0][0]
                check.execute(delete)
                assert check.execute(f"SELECT count(*) FROM {args[1]} WHERE ID = 'Total'").fetchall() == [(0,)]
                assert check.execute(f"SELECT count(*) FROM {args[1]}").fetchall()[0][0] == before - 1
    # the log's rows of the first run hold no totals row; nor does a run adding a month without one
    third = f"SELECT ID::VARCHAR AS ID, Count, Amount FROM {_export(tmp_path / 'm3.csv', 300, None, seed=3)}"
    res = CliRunner().invoke(cli, ["score", db, "tx", third, "--into", "log", "--append"], catch_exceptions=False)
    assert res.exit_code == 0 and "totals row" not in res.output, res.output


def test_a_scored_grand_total_beside_subtotal_rows_gets_the_source_without_any_of_them(tmp_path: Path) -> None:
    """A ledger with a subtotal row per group ("North Total", as Excel's Subtotal writes it) and a grand total,
    scored: the note's source left out 'Grand Total' alone, and scoring it showed the subtotals at the top."""
    db = str(tmp_path / "m.duckdb")
    with ad_duckdb.connect(db) as con:
        ad_duckdb.train(con, "tx", _export(tmp_path / "train.csv", 400, None), features=["Count", "Amount"], **FAST)
    rng = np.random.default_rng(4)
    lines, sums = [], np.zeros(2)
    for g, region in enumerate(("North", "South", "East", "West", "Central")):
        count = rng.poisson(8, 60) + 1
        amount = np.round(count * rng.lognormal(3.0, 0.25, 60), 2)
        lines += [f"{region}{g}{i};{c};{a:.2f}" for i, (c, a) in enumerate(zip(count, amount, strict=True))]
        lines.append(f"{region} Total;{count.sum()};{amount.sum():.2f}")
        sums += [count.sum(), amount.sum()]
    lines.append(f"Grand Total;{int(sums[0])};{sums[1]:.2f}")
    (tmp_path / "ledger.csv").write_text("ID;Count;Amount\n" + "\n".join(lines) + "\n")
    source = f"read_csv('{tmp_path / 'ledger.csv'}')"
    res = CliRunner().invoke(cli, ["score", db, "tx", source, "--top", "3"], catch_exceptions=False)
    notes = [n for n in res.stderr.splitlines() if "totals row" in n]
    assert res.exit_code == 0 and len(notes) == 1 and "not totals" in notes[0], res.output
    fixed = re.search(r'score without them: ad-duckdb score \S+ tx "(.*?)"', notes[0]).group(1)
    with duckdb.connect() as check:
        assert check.execute(f"SELECT count(*) FROM ({fixed})").fetchall() == [(300,)], notes


def test_sql_json_writes_each_kind_of_value_as_the_general_encoder_does(tmp_path: Path) -> None:
    """`sql --format json` writes the common values (numbers, text, dates, NULL) by their type alone, several times
    faster than the general walk: the text must stay what that walk writes for every kind, in one batch or many."""
    from ad_duckdb import jsonvalues
    from ad_duckdb.sqlrun import _STREAM_ROWS

    query = ("SELECT range AS i, (range % 3 = 0) AS b, CASE range % 5 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN "
             "'-inf'::DOUBLE WHEN 2 THEN -0.0 ELSE range / 7 END AS f, (range / 3)::DECIMAL(18,3) AS dec, "
             "(range * 1e20)::DECIMAL(38,2) AS big, 'q\"\\' || range || chr(10) || 'é€' AS s, "
             "DATE '2024-02-29' + range::INTEGER AS d, TIMESTAMP '2024-01-01 01:02:03.5' + INTERVAL (range) SECOND "
             "AS ts, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tz, TIME '12:34:56' AS t, INTERVAL (range) MINUTE AS iv, "
             "CASE WHEN range % 4 = 0 THEN NULL ELSE [range, NULL] END AS l, {'k': range, 'v': 'x'} AS st, "
             "MAP {'a': range} AS m, '\\xAA'::BLOB AS bl, range::HUGEINT * 1000000000000 AS h, "
             "gen_random_uuid() AS u, 1.5::FLOAT AS fl FROM range(?)")
    rows_n = _STREAM_ROWS + 3  # across a batch boundary
    db = str(tmp_path / "k.duckdb")
    con = duckdb.connect(db)
    try:
        con.execute(f"CREATE TABLE k AS {query}", [rows_n])
        names = [d[0] for d in con.execute("SELECT * FROM k ORDER BY i").description]
        rows = con.fetchall()
    finally:
        con.close()
    want = "[\n" + ",\n".join(" " + jsonvalues.dumps(dict(zip(names, r, strict=True)), indent=1).replace("\n", "\n ")
                              for r in rows) + "\n]\n"
    out = stdout_of("sql", db, "SELECT * FROM k ORDER BY i", "--format", "json").decode()
    assert out == want
    assert len(json.loads(out)) == rows_n
    empty = stdout_of("sql", db, "SELECT * FROM k WHERE false", "--format", "json").decode()
    assert empty == "[]\n"


def test_an_appended_totals_row_note_deletes_no_row_of_a_shop_named_with_a_totals_word(tmp_path: Path) -> None:
    """`score --append` of an incremental query whose run added a totals row ('Total' in merchant), beside shops
    named 'Total Wine & More' and 'Dim Sum House': the note's DELETE named those shops too (the subtotal pattern
    matched them), and running it deleted a fifth of the log's rows."""
    db = str(tmp_path / "m.duckdb")
    rng = np.random.default_rng(5)
    with ad_duckdb.connect(db) as con:
        shops = ["Total Wine & More" if i % 50 == 0 else "Dim Sum House" if i % 7 == 0 else f"Shop {i % 13}"
                 for i in range(600)]
        con.execute("CREATE TABLE tx AS SELECT unnest(?) AS seq, unnest(?) AS merchant, unnest(?) AS amount, "
                    "unnest(?) AS qty", [list(range(600)), shops, np.round(rng.lognormal(3, 0.4, 600), 2).tolist(),
                                         (np.arange(600) % 5 + 1).astype(float).tolist()])
        ad_duckdb.train(con, "m", "SELECT * FROM tx WHERE seq < 400", features=["amount", "qty"], **FAST)
        con.execute("INSERT INTO tx SELECT 10000, 'Total', sum(amount), sum(qty) FROM tx WHERE seq >= 400")
    src = "SELECT * FROM tx WHERE seq > (SELECT coalesce(max(seq), -1) FROM log)"
    first = CliRunner().invoke(cli, ["score", db, "m", "SELECT * FROM tx WHERE seq < 400", "--into", "log",
                                     "--append"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    res = CliRunner().invoke(cli, ["score", db, "m", src, "--into", "log", "--append"], catch_exceptions=False)
    notes = [n for n in res.stderr.splitlines() if "totals row" in n]
    assert res.exit_code == 0 and len(notes) == 1 and "('Total' in 'merchant')" in notes[0], res.output
    delete = shlex.split(notes[0].split(" --write ")[1])[0]
    with duckdb.connect(db) as check:
        check.execute(delete)
        assert check.execute("SELECT count(*), count(*) FILTER (WHERE merchant = 'Total') FROM log").fetchall() == \
            [(600, 0)], delete


def test_score_append_of_a_bigint_feature_beyond_2_53_is_written(tmp_path: Path) -> None:
    """`score --append` (and `-c`) of a BIGINT feature above 2^53 (amounts in micro-units): the totals-row watch's
    safe cast to float64 refused the value, and the whole scoring failed with pyarrow's traceback as the message,
    where the plain --into wrote every row."""
    db = str(tmp_path / "m.duckdb")
    with ad_duckdb.connect(db) as con:
        # not rising row by row: amounts, not a clock in microseconds (which train notes as a point in time)
        con.execute("CREATE TABLE t AS SELECT i AS id, (9007199254740993 + (i * 37 % 300) * 1000 + i % 7)::BIGINT "
                    "AS micro, "
                    "(i % 11)::DOUBLE AS x FROM range(300) t(i)")
        ad_duckdb.train(con, "m", "t", features=["micro", "x"], **FAST)
    for args in (["--into", "log", "--append"], ["--into", "s", "-c", "id"]):
        res = CliRunner().invoke(cli, ["score", db, "m", "t", *args], catch_exceptions=False)
        assert res.exit_code == 0 and "Traceback" not in res.output, (args, res.output)
        with duckdb.connect(db) as check:
            assert check.execute(f"SELECT count(*) FROM {args[1]}").fetchall() == [(300,)]


def _column_edges(table: list[str]) -> list[tuple[int, int]]:
    """Each column's first and last character, from a table's rule of dashes (its second line)."""
    return [m.span() for m in re.finditer(r"-+", table[1])]


def _aligned(table: list[str], numeric: set[str]) -> None:
    """Each column in ``numeric`` ends every cell at its header's last character, every other starts at its first."""
    for start, end in _column_edges(table):
        name = table[0][start:end].strip()
        cells = [line[start:end] for line in table[2:]]
        assert cells and all(c.strip() for c in cells), (name, table)
        if {c.strip() for c in cells} == {"NULL"}:
            continue  # no number to align: a NULL-only column is left-aligned, as sql prints one
        if name in numeric:
            assert all(not c.endswith(" ") for c in cells), (name, table)
        else:
            assert all(not c.startswith(" ") for c in cells), (name, table)


def _table_after(out: str, header: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith(header))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip() or lines[i].startswith("note: ")),
               len(lines))
    return lines[start:end]


def test_every_commands_table_right_aligns_its_numbers(model_db: str) -> None:
    """`sql` right-aligned numbers (as psql and DuckDB's shell do), but list, show and evaluate printed theirs
    left-aligned like text: one tool printed numbers two ways, and 1500 over 12 read by its first digit. Text keeps
    to the left."""
    def stdout(*args: str) -> str:
        res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.stdout

    listed = stdout("list", model_db)
    _aligned(_table_after(listed, "name"), {"version", "n_features", "train_rows", "onnx_bytes"})
    shown = stdout("show", model_db, "tx_ae")
    _aligned(_table_after(shown, "feature"), {"fill (NULL/NaN)", "center", "scale"})
    _aligned(_table_after(shown, "threshold"), {"value", "precision", "recall", "f1", "flagged_training",
                                               "flagged_chosen_on"})
    evaluated = stdout("evaluate", model_db, "tx_ae", "transactions", "--label", "label")
    candidates = _table_after(evaluated, "candidate thresholds")[1:]
    _aligned(candidates, {"threshold", "precision", "recall", "f1", "flagged_labelled", "flagged_training"})


def test_sql_with_a_model_name_in_double_quotes_says_to_use_single_quotes(model_db: str) -> None:
    """anomaly_score("tx_ae", ...), a string as Python or MySQL write it, left DuckDB's 'Referenced column "tx_ae"
    not found' alone, while the same name unquoted was told it is the model argument: in SQL double quotes name a
    column, and the model name is a string."""
    for q, hint in (
            ('SELECT anomaly_score("tx_ae", count, amount) FROM transactions',
             "(tx_ae is the model argument of anomaly_score, not a column: write the model name as a string in single "
             "quotes, anomaly_score('tx_ae', ...))"),
            ('SELECT is_anomaly_at("tx_ae@1", "p99", count, amount) FROM transactions',
             "(tx_ae@1 is the model argument of is_anomaly_at, not a column: write the model name as a string in "
             "single quotes, is_anomaly_at('tx_ae@1', ...))"),
            ("SELECT is_anomaly_at('tx_ae', \"p99\", count, amount) FROM transactions",
             "(p99 is the threshold-name argument of is_anomaly_at, not a column: write it as a string in single "
             "quotes, is_anomaly_at(model, 'p99', ...))")):
        out = fails_in_one_line("sql", model_db, q)
        assert hint in out, out


def test_sql_with_the_query_unquoted_says_to_quote_it(model_db: str, tmp_path: Path) -> None:
    """`ad-duckdb sql DB SELECT count(*) FROM t` gave click's bare "Got unexpected extra arguments (count(*) FROM t)":
    QUERY is one argument, and the message did not say to quote it. Joining the words instead would run whatever the
    shell made of them (a * becomes the names of the files here), so the fix is said, with the command to paste."""
    db = shlex.quote(model_db)
    for words, fix in ((["SELECT", "count(*)", "FROM", "transactions"], f"{db} 'SELECT count(*) FROM transactions'"),
                       (["SELECT", "1"], f"{db} 'SELECT 1'"),
                       # the options given stay in the command offered
                       (["--format", "csv", "SELECT", "42", "AS", "x"], f"{db} --format csv 'SELECT 42 AS x'")):
        res = CliRunner().invoke(cli, ["sql", model_db, *words], catch_exceptions=False)
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output and "unexpected extra" not in res.output, res.output
        fix = f"ad-duckdb sql {fix}"
        assert fix in res.output, res.output
        # the command offered runs as stated
        assert "Error" not in run(*shlex.split(fix)[1:])
    # an option mistyped after the query is still called an unknown option, not a query to quote
    res = CliRunner().invoke(cli, ["sql", model_db, "SELECT 1", "--formt", "csv"], catch_exceptions=False)
    assert res.exit_code == 2 and "No such option '--formt'" in res.output, res.output


def test_sql_with_a_star_the_shell_expanded_says_so(model_db: str, tmp_path: Path) -> None:
    """An unquoted `SELECT * FROM t` reaches the command as SELECT a.csv b.txt FROM t (bash replaces * by the names of
    the files of the current directory): the message says that the shell did so, and the command to paste has the *
    back. Run through a real shell, in a directory holding files."""
    here = tmp_path / "work dir"
    here.mkdir()
    for name in ("a.csv", "b.txt", "notes"):
        (here / name).write_text("x\n")
    out = subprocess.run(["bash", "-c", f"{shlex.quote(sys.executable)} -m ad_duckdb.cli sql {shlex.quote(model_db)} "
                                        "SELECT * FROM transactions LIMIT 1"],
                         capture_output=True, text=True, timeout=300, cwd=here, stdin=subprocess.DEVNULL,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"})
    assert out.returncode == 2, out.stderr
    assert "the shell replaced the * of the query by the names of the files in this directory" in out.stderr, out.stderr
    assert "(a.csv, b.txt, notes)" in out.stderr, out.stderr
    fix = f"ad-duckdb sql {shlex.quote(model_db)} 'SELECT * FROM transactions LIMIT 1'"
    assert fix in out.stderr, out.stderr
    assert "transaction_id" in run(*shlex.split(fix)[1:])
    # words that are not every file name here are no * the shell expanded: no such claim
    res = CliRunner().invoke(cli, ["sql", model_db, "SELECT", "a.csv"], catch_exceptions=False)
    assert res.exit_code == 2 and "shell replaced" not in res.output, res.output


def test_score_into_its_own_source_table_says_what_each_option_does_to_it(model_db: str, tmp_path: Path) -> None:
    """`score DB m transactions --into transactions` said first to pass --append (which failed on a table without the
    score columns, and once it had them added every row a second time) and that --replace loses the table's rows,
    though --replace rewrites it with every row and column plus the scores. The message now puts --replace first,
    says what it keeps, offers a new table, and --append on the source table itself is refused."""
    path = str(tmp_path / "own.duckdb")
    shutil.copy(model_db, path)
    before = duckdb.connect(path, read_only=True)
    rows = before.execute("SELECT * FROM transactions ORDER BY transaction_id").fetchall()
    cols = [r[0] for r in before.execute("DESCRIBE transactions").fetchall()]
    before.close()

    def table(name: str = "transactions") -> tuple[list[str], list[tuple[object, ...]]]:
        con = duckdb.connect(path, read_only=True)
        try:
            return ([r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()],
                    con.execute(f"SELECT * FROM {name} ORDER BY transaction_id").fetchall())
        finally:
            con.close()

    n = len(rows)
    in_place = (f"To add the scores to it in place, pass --replace: it is rewritten with its {n} "
                "rows and every column, plus the score columns (fresh ones in place of an earlier scoring's).")
    new_table = ("Or write the scored rows to a new table, e.g. --into transactions_scored, which "
                 "leaves 'transactions' as it is.")
    out = fails_in_one_line("score", path, "tx_ae", "transactions", "--into", "transactions")
    assert out.startswith("Error: Table 'transactions' exists, and it is the source scored. ") and in_place in out, out
    assert new_table in out and "rows are lost" not in out, out
    assert "Not --append: it would add each of its rows a second time." in out, out
    assert out.index("--replace") < out.index("--into transactions_scored") < out.index("--append"), out
    assert "CLI:" not in out and "replace=" not in out and "into=" not in out, out
    # --append, refused as said, whether or not the table has the score columns yet; nothing written
    appended = fails_in_one_line("score", path, "tx_ae", "transactions", "--into", "transactions", "--append")
    assert ("Table 'transactions' is the source scored, whole: --append would add each of its "
            f"{n} rows a second time. {in_place.replace('--replace', '--replace instead')}") in appended
    assert table() == (cols, rows)
    # the new table, as stated: the source as it is
    assert "wrote" in run("score", path, "tx_ae", "transactions", "--into", "transactions_scored")
    assert table() == (cols, rows)
    scored_cols, scored = table("transactions_scored")
    assert scored_cols == [*cols, "anomaly_score", "anomaly_percentile", "is_anomaly"] and len(scored) == n
    # --replace, as stated: every row and column, plus the scores; again: fresh ones in their place
    for _ in range(2):
        assert f"wrote {n} scored rows to transactions" in run("score", path, "tx_ae", "transactions", "--into",
                                                                "transactions", "--replace")
        now_cols, now = table()
        assert now_cols == scored_cols and [r[:len(cols)] for r in now] == rows, now_cols
    # --append once the table has the score columns: still refused, no row added twice
    again = fails_in_one_line("score", path, "tx_ae", "transactions", "--into", "transactions", "--append")
    assert "would add each of its" in again and len(table()[1]) == n, again
    # -c on the table itself: told that -c would drop its other columns, and what to do, not --append first
    kept = fails_in_one_line("score", path, "tx_ae", "transactions", "--into", "transactions", "--replace",
                             "-c", "transaction_id")
    assert kept.startswith("Error: Table 'transactions' is the source scored; written with the --column "
                           "kept only, it would lose its other columns. To add the scores to it in place, leave "
                           "--column out and pass --replace"), kept
    assert len(table()[1]) == n


def test_a_source_query_unquoted_says_to_quote_it_in_every_command(model_db: str, tmp_path: Path) -> None:
    """`ad-duckdb score DB tx_ae SELECT count, amount FROM t --top 3` gave click's bare "Got unexpected extra
    arguments (count, amount FROM t)", as sql did before it said to quote the query: train, score, compare, explain,
    evaluate (SOURCE) and threshold (--source) say so too, with the command to paste, the options given kept."""
    db = str(tmp_path / "copy.duckdb")
    shutil.copy(model_db, db)
    q = ["SELECT", "count,", "amount,", "label", "FROM", "transactions"]
    query = "'SELECT count, amount, label FROM transactions'"
    d = shlex.quote(db)
    for args, fix in (
            (["score", db, "tx_ae", *q, "--top", "3", "--format", "csv"],
             f"ad-duckdb score {d} tx_ae --top 3 --format csv {query}"),
            # a group option and a --no- flag are kept too
            (["--wait", "1.5", "train", db, "tx_q", *q, "-f", "count", "-f", "amount", "--no-robust", "--epochs", "2"],
             f"ad-duckdb --wait 1.5 train {d} tx_q --feature count --feature amount --no-robust --epochs 2 {query}"),
            (["compare", db, "tx_ae", "tx_q", *q, "--top", "2"], f"ad-duckdb compare {d} tx_ae tx_q --top 2 {query}"),
            (["explain", db, "tx_ae", *q, "--where", "count > 1", "--limit", "1"],
             f"ad-duckdb explain {d} tx_ae --where 'count > 1' --limit 1 {query}"),
            (["evaluate", db, "tx_ae", *q, "--label", "label"], f"ad-duckdb evaluate {d} tx_ae --label label {query}"),
            (["threshold", db, "tx_ae", "cut", "--method", "max_f1", "--source", *q, "--label", "label"],
             f"ad-duckdb threshold {d} tx_ae cut --method max_f1 --label label --source {query}")):
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output and "unexpected extra" not in res.output, res.output
        assert "is one argument, and the query came as 6 words; quote the whole query" in res.output, res.output
        assert fix in res.output, res.output
        # the command offered runs as stated
        run(*shlex.split(fix)[1:])
    # a table followed by other words is no query split by the shell: click's message stays
    res = CliRunner().invoke(cli, ["train", db, "tx_r", "transactions", "count", "amount"], catch_exceptions=False)
    assert res.exit_code == 2 and "Got unexpected extra arguments (count amount)" in res.output, res.output
    res = CliRunner().invoke(cli, ["threshold", db, "tx_ae", "c", "--method", "max_f1", "--source", "transactions",
                                   "extra", "--label", "label"], catch_exceptions=False)
    assert res.exit_code == 2 and "Got unexpected extra argument (extra)" in res.output, res.output


def test_a_source_with_a_star_the_shell_expanded_says_so(model_db: str, tmp_path: Path) -> None:
    """`ad-duckdb score DB tx_ae SELECT * FROM t` unquoted: bash replaces the * by the names of the files here, and
    the message says so, with the * back in the command to paste. Run through a real shell."""
    here = tmp_path / "work dir"
    here.mkdir()
    for name in ("a.csv", "b.txt"):
        (here / name).write_text("x\n")
    out = subprocess.run(["bash", "-c", f"{shlex.quote(sys.executable)} -m ad_duckdb.cli score "
                                        f"{shlex.quote(model_db)} tx_ae SELECT * FROM transactions --top 2"],
                         capture_output=True, text=True, timeout=300, cwd=here, stdin=subprocess.DEVNULL,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"})
    assert out.returncode == 2, out.stderr
    assert "the shell replaced the * of the query by the names of the files in this directory (a.csv, b.txt)" \
        in out.stderr, out.stderr
    fix = f"ad-duckdb score {shlex.quote(model_db)} tx_ae --top 2 'SELECT * FROM transactions'"
    assert fix in out.stderr, out.stderr
    assert "transaction_id" in run(*shlex.split(fix)[1:])


def test_a_folder_named_alone_or_a_glob_of_an_unknown_ending_is_named_as_files_not_a_missing_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: `train m.duckdb m lake` (a folder in the working folder, named as `ls` shows it) said "it does not exist
    as a table or view in this database", and `lake/*/*.parq` or `*.parq` (an ending DuckDB does not read alone)
    "Table with name *.parq does not exist! Did you mean "pg_attrdef"?", a catalog table offered for files."""
    monkeypatch.chdir(tmp_path)
    for m in (1, 2):
        Path(f"lake/month={m}").mkdir(parents=True)
        duckdb.sql(f"COPY (SELECT range AS qty FROM range(30)) TO 'lake/month={m}/data.parquet'")
        duckdb.sql(f"COPY (SELECT range AS qty FROM range(30)) TO 'part{m}.parq' (FORMAT parquet)")
    res = CliRunner().invoke(cli, ["train", "m.duckdb", "m", "lake", "--quiet"], catch_exceptions=False)
    assert res.exit_code == 6 and "'lake/**/*.parquet'" in res.output, res.output
    for src, says in (("lake/*/*.parq", "no file matches 'lake/*/*.parq'"),
                      ("*.parq", "read_parquet('*.parq')")):
        res = CliRunner().invoke(cli, ["train", "m.duckdb", "m", src, "--quiet"], catch_exceptions=False)
        assert res.exit_code == 6 and says in res.output, res.output
        assert "pg_" not in res.output and "sqlite_" not in res.output and "Catalog Error" not in res.output, res.output
    assert not Path("m.duckdb").exists()


def _trained_with(tmp_path: Path, name: str, *flags: str) -> tuple[str, str, dict[str, Any]]:
    """A model ``name`` trained by `train ... -f count -f amount FLAGS` on a new file of 600 transactions: the file's
    path, train's output and the stored params."""
    path = str(tmp_path / f"{name}.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=600)
    con.close()
    out = run("train", path, name, "transactions", "-f", "count", "-f", "amount", *flags, "--epochs", "2", "--quiet")
    with duckdb.connect(path, read_only=True) as c:
        params = json.loads(c.execute("SELECT params FROM ad_models WHERE name = ?", [name]).fetchone()[0])
    return path, out, params


def test_train_code_sizes_flag(tmp_path: Path) -> None:
    """--code-sizes 2,4: two members with codes of 2 and 4 numbers (n_models and latent_dim follow), stored with the
    model and said in train's line; sizes that are not positive whole numbers, or an --n-models that disagrees, are
    one-line errors that name the flag."""
    path, out, params = _trained_with(tmp_path, "ms", "--code-sizes", "2,4")
    assert "latent 4, codes cut to 2, 4 (2 members)" in out, out
    assert (params["code_sizes"], params["n_models"], params["latent_dim"]) == ([2, 4], 2, 4)
    for bad in ("2,x", "2,0", ""):  # as click refuses --epochs x: usage, then the error, exit 2
        res = CliRunner().invoke(cli, ["train", path, "ms", "transactions", "-f", "count", "--code-sizes", bad])
        assert res.exit_code == 2 and "Traceback" not in res.output, res.output
        assert f"Error: Invalid value for '--code-sizes': {bad!r} is not a list of positive whole numbers, e.g. " \
               "2,4,8,16" in res.output, res.output
    res = CliRunner().invoke(cli, ["train", path, "ms", "transactions", "-f", "count", "--code-sizes", "2,4,8,16",
                                   "--n-models", "3"])
    assert res.exit_code == 2 and res.output.startswith("Error: Invalid value for '--code-sizes': ")
    assert "but --n-models 3: set --n-models 4, or leave --n-models out" in res.output, res.output


def test_train_hidden_dims_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--hidden-dims 16,8: the encoder's widths, stored with the model and said in train's line (the default code of
    8 under them); widths that are not positive whole numbers, a code wider than the last of them, and layers too
    large to store are one-line errors that name the flag, in the command line's spelling."""
    path, out, params = _trained_with(tmp_path, "hd", "--hidden-dims", "16,8")
    assert "layers [16, 8] latent 8" in out, out
    assert params["hidden_dims"] == [16, 8]
    for bad in ("32,x", "0", "", "32,,16"):
        res = CliRunner().invoke(cli, ["train", path, "hd", "transactions", "-f", "count", "--hidden-dims", bad])
        assert res.exit_code == 2 and "Traceback" not in res.output, res.output
        assert f"Error: Invalid value for '--hidden-dims': {bad!r} is not a list of positive whole numbers, e.g. " \
               "32,16 (one width per layer of the encoder)." in " ".join(res.output.split()), res.output
    res = CliRunner().invoke(cli, ["train", path, "hd", "transactions", "-f", "count", "-f", "amount",
                                   "--hidden-dims", "8,4", "--code-sizes", "2,4,8", "--quiet"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and said.startswith("Error: Invalid value for '--code-sizes': --code-sizes 2,4,8 on 2 "
                                                  "features (Model 'hd'): the code is computed from the last hidden "
                                                  "layer's 4 numbers (--hidden-dims 8,4)"), res.output
    assert "e.g. --code-sizes 2,4, or widen the last of --hidden-dims to at least 8." in said, res.output
    assert "hidden_dims=" not in said and "code_sizes=" not in said, res.output
    monkeypatch.setenv("AD_DUCKDB_MAX_MODEL_BYTES", "200000")
    res = CliRunner().invoke(cli, ["train", path, "hd", "transactions", "-f", "count", "-f", "amount",
                                   "--hidden-dims", "200,200", "--n-models", "2", "--quiet"])
    said = " ".join(res.output.split())
    assert res.exit_code != 0 and "Traceback" not in res.output, res.output
    assert "Model 'hd': --hidden-dims 200,200 on 2 features x --n-models 2 makes " in said, res.output
    assert "(the default for 2 features is 32,16) or fewer members" in said, res.output
    with duckdb.connect(path, read_only=True) as c:  # nothing stored by the refused runs
        assert c.execute("SELECT count(*) FROM ad_models WHERE name = 'hd'").fetchone()[0] == 1


def test_train_latent_dim_flag(tmp_path: Path) -> None:
    """--latent-dim 4: the code's length, stored with the model, said in train's line and in show's shell command;
    a length that is no positive int, wider than the last layer, or shorter than --code-sizes' largest is a one-line
    error that names the flags, in the command line's spelling, and stores nothing."""
    path, out, params = _trained_with(tmp_path, "ld", "--latent-dim", "4")
    assert "layers [32, 16] latent 4" in out, out
    assert params["latent_dim"] == 4
    assert "or in a shell: ad-duckdb train " in run("show", path, "ld")
    cases = {
        ("0",): "Error: Invalid value for '--latent-dim': must be a positive int (or leave the option out). Got 0",
        ("17",): "Error: Invalid value for '--latent-dim': --latent-dim 17 on 2 features (Model 'ld'): the code is "
                 "computed from the last hidden layer's 16 numbers (the default for 2 features), so a code of more "
                 "than 16 holds nothing more, only costs: set --latent-dim to at most 16 (or leave it out: 8), or "
                 "widen the last of --hidden-dims to at least 17.",
        ("2", "--code-sizes", "2,4"): "Error: Invalid value for '--code-sizes': --code-sizes 2,4 cuts codes to at "
                                      "most 4 numbers, but --latent-dim 2 makes codes of 2: set --latent-dim 4 (or "
                                      "more), or leave --latent-dim out (it is then the largest size).",
        ("20", "--hidden-dims", "16,8", "--code-sizes", "2,4"): "(--hidden-dims 16,8), so a code of more than 8 holds "
                                                                "nothing more, only costs: set --latent-dim to at most "
                                                                "8 (or leave it out: 4)",
    }
    for (value, *more), says in cases.items():
        res = CliRunner().invoke(cli, ["train", path, "ld", "transactions", "-f", "count", "-f", "amount",
                                       "--latent-dim", value, *more, "--epochs", "2", "--quiet"])
        said = " ".join(res.output.split())
        assert res.exit_code == 2 and "Traceback" not in res.output and says in said, res.output
        assert "latent_dim=" not in said and "code_sizes=" not in said and "hidden_dims=" not in said, res.output
    with duckdb.connect(path, read_only=True) as c:  # nothing stored by the refused runs
        assert c.execute("SELECT count(*) FROM ad_models WHERE name = 'ld'").fetchone()[0] == 1


def test_train_fill_line_and_the_all_null_rows_note_of_a_quoted_column(tmp_path: Path) -> None:
    """The fill line said "filled NULL / NaN values with the training median: Amount EUR 400, ratio 207", the
    counts read as the medians; and the note on rows of every feature NULL gave where=""Amount EUR" IS NOT NULL", a
    filter that is not one Python string (nor one shell word as --where "..."). Now each column's count and median
    are told apart, and the filter is given as a string that runs as the note says."""

    path = str(tmp_path / "q.duckdb")
    con = ad_duckdb.connect(path)
    con.execute('CREATE TABLE t AS SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 37) * 2.5 + 10 END AS "Amount EUR" '
                "FROM range(600) r(i)")
    median = con.execute('SELECT median("Amount EUR") FROM t').fetchone()[0]
    con.close()
    out = run("train", path, "q", "t", "-f", "Amount EUR", "--epochs", "1", "--quiet")
    assert f"filled NULL / NaN values with the training median: Amount EUR (60 values, median {median:g})" in out, out
    said = re.search(r"--where (\S.*?) and --robust", out)
    assert said is not None and "where=" not in out and "robust=" not in out, out
    where = shlex.split(said.group(1))[0]
    assert shlex.split(said.group(1)) == ['"Amount EUR" IS NOT NULL'], said.group(1)
    out = run("train", path, "q", "t", "-f", "Amount EUR", "--where", where, "--robust", "--epochs", "1", "--quiet")
    assert "540 rows" in out and "filled" not in out, out


@pytest.mark.parametrize(("where", "says"), [
    # the WHERE keyword typed in, as after a SELECT: its fix is the condition alone
    ("WHERE count > 1", "starts with the keyword WHERE, which ad_duckdb adds: give the condition alone, "
                        "--where 'count > 1'."),
    ("where count > 1 ", "--where 'count > 1'."),
    # the parser's "at or near ")"" named the parenthesis of ad_duckdb's own query, which the user never wrote
    ("count > 1 AND (amount > 5", "opens 1 parenthesis it does not close"),
    ("amount >> ", "ends before its condition does (Parser Error: syntax error at the end of the filter)"),
    # DuckDB's excerpt quoted the wrapping query ('LINE 1: SELECT * FROM (SELECT 1) AS _w ...') and cut the ')'
    ("day >= '2026-02-01", "is not valid SQL here (Parser Error: unterminated string literal)."),
    ("count IS NOT NUL", 'is not valid SQL here (Parser Error: syntax error at or near "NUL").'),
])
def test_a_where_that_does_not_parse_is_told_in_the_users_own_words(model_db: str, where: str, says: str) -> None:
    for cmd in (["train", model_db, "never_ae", "transactions", "-f", "count", "--quiet", "--where", where],
                ["explain", model_db, "tx_ae", "transactions", "--where", where],
                ["evaluate", model_db, "tx_ae", "transactions", "--label", "label", "--where", where]):
        out = fails_in_one_line(*cmd)
        assert says in out, (cmd[0], out)
        assert "LINE" not in out and "_w" not in out and "^" not in out, out
        bare = out.replace(repr(where), "")  # the user's own parentheses may be unbalanced; the message's are not
        assert bare.count("(") == bare.count(")"), out


def test_the_label_query_suggested_for_a_table_named_with_a_space_runs(tmp_path: Path) -> None:
    """evaluate on a 'yes'/'no' label of table "Tx Data" suggested "SELECT *, (flag = 'yes')::INTEGER AS is_anomaly
    FROM Tx Data", a syntax error where it was pasted: the name is quoted as SQL needs it, and the query runs."""
    path = str(tmp_path / "sp.duckdb")
    con = ad_duckdb.connect(path)
    make_labelled(con)
    con.execute("""CREATE TABLE "Tx Data" AS SELECT *, CASE label WHEN 1 THEN 'yes' ELSE 'no' END AS flag
                   FROM transactions""")
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    out = fails_in_one_line("evaluate", path, "tx_ae", "Tx Data", "--label", "flag")
    said = re.search(r"pass that query as the source, e.g. ('.*?'|\".*?\") --label is_anomaly", out)
    assert said is not None, out
    query = shlex.split(said.group(1))[0]
    assert query.endswith('FROM "Tx Data"'), query
    out = run("evaluate", path, "tx_ae", query, "--label", "is_anomaly")
    assert "AUC-ROC" in out, out


def test_an_incremental_source_that_reads_an_empty_scores_table_is_told_it_selects_nothing(model_db: str,
                                                                                            tmp_path: Path) -> None:
    """`--append` with "id > (SELECT max(id) FROM tx_scores)" (score --help's example) over a scores table created
    empty (a first run before any row came) selects no row, run after run: max() of no rows is NULL. Each run said
    "normal when no new rows came since the last run"; it now names the NULL and the coalesce that fixes it."""
    db = str(tmp_path / "inc.duckdb")
    shutil.copy(model_db, db)
    run("score", db, "tx_ae", "SELECT * FROM transactions WHERE false", "--into", "s", "-c", "transaction_id",
        "--append")
    source = "SELECT * FROM transactions WHERE transaction_id > (SELECT max(transaction_id) FROM s)"
    out = run("score", db, "tx_ae", source, "--into", "s", "-c", "transaction_id", "--append")
    assert "added 0 scored rows to s (now 0 rows" in out, out
    assert "s holds no rows yet and the source reads it" in out and "coalesce(max(" in out, out
    assert "normal when no new rows came" not in out, out
    fixed = "SELECT * FROM transactions WHERE transaction_id > (SELECT coalesce(max(transaction_id), -1) FROM s)"
    out = run("score", db, "tx_ae", fixed, "--into", "s", "-c", "transaction_id", "--append")
    assert "added 1502 scored rows" in out, out
    out = run("score", db, "tx_ae", fixed, "--into", "s", "-c", "transaction_id", "--append")
    assert "normal when no new rows came since the last run" in out and "holds no rows yet" not in out, out


def test_train_code_sizes_wider_than_the_layer_is_a_wrong_option(tmp_path: Path) -> None:
    """--code-sizes 1000 on 2 features was accepted (a 1000-number code from a layer of 16): now exit 2, naming the
    flag, the value, the feature count and the sizes that fit."""
    path = str(tmp_path / "ms.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=300)
    con.close()
    res = CliRunner().invoke(cli, ["train", path, "ms", "transactions", "-f", "count", "-f", "amount",
                                   "--code-sizes", "1000", "--quiet"])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert res.output.startswith("Error: Invalid value for '--code-sizes': --code-sizes 1000 on 2 features (Model "
                                 "'ms'): "), res.output
    assert "give sizes of at most 16, e.g. --code-sizes 2,4,8,16" in " ".join(res.output.split()), res.output


def test_sql_call_without_the_model_name_or_features_says_what_to_write(model_db: str) -> None:
    """anomaly_score(count, amount) (the model's name left out) failed with DuckDB's bare "No function matches", and
    anomaly_score(5, 5, 300) said its first feature "is INTEGER_LITERAL, not a number" and to CAST(5 AS DOUBLE);
    anomaly_score('tx_ae') and anomaly_threshold('tx_ae') gave no hint. The first argument is the model's name in
    quotes, then come the features (anomaly_threshold: then the threshold's name): say that."""
    for call, func, here in (("anomaly_score(count, amount)", "anomaly_score", "INTEGER"),
                             ("anomaly_score(5, 5, 300)", "anomaly_score", "INTEGER_LITERAL"),
                             ("anomaly_explain(5::BIGINT, count, amount)", "anomaly_explain", "BIGINT"),
                             ("anomaly_threshold(0.99, 'p99')", "anomaly_threshold", "DECIMAL(3,2)")):
        out = " ".join(fails_in_one_line("sql", model_db, f"SELECT {call} FROM transactions").split())
        assert f"{func}'s first argument is the model's name in quotes ('tx_ae', or 'tx_ae@2' for one version), " \
               f"here {here}" in out, (call, out)
        assert "not a number" not in out and "CAST(" not in out, (call, out)
    for call, fix in (("anomaly_score('tx_ae')", "anomaly_score('tx_ae', x1, x2, ...)"),
                      ("is_anomaly_at('tx_ae', 'p99')", "is_anomaly_at('tx_ae', 'p99', x1, x2, ...)"),
                      ("anomaly_threshold('tx_ae')", "anomaly_threshold('tx_ae', 'default')")):
        out = " ".join(fails_in_one_line("sql", model_db, f"SELECT {call} FROM transactions").split())
        assert fix in out and "ad-duckdb show DB MODEL" in out, (call, out)


def test_sql_script_sees_thresholds_its_own_statements_write(model_db: str, tmp_path: Path) -> None:
    """A `sql --write` script that stored a threshold with INSERT INTO ad_thresholds (or changed one with UPDATE, or
    took one out with DELETE) scored its next statements with the thresholds loaded when it started: the INSERTed one
    was "no threshold 'mine'", an UPDATEd one kept its old value, a DELETEd one was still used. The functions now
    load the store again after a statement that changed it."""
    db = str(tmp_path / "th.duckdb")
    shutil.copy(model_db, db)
    insert = ("INSERT INTO ad_thresholds (model, version, threshold_name, value, method, created_at) "
              "VALUES ('tx_ae', 1, 'mine', 20.0, 'manual', now())")
    out = run("sql", "--write", "--format", "csv", db, f"{insert}; SELECT anomaly_threshold('tx_ae', 'mine') AS t")
    assert out.splitlines()[-1] == "20.0", out
    out = run("sql", "--write", "--format", "csv", db, "UPDATE ad_thresholds SET value = 30 WHERE threshold_name = "
              "'mine'; SELECT anomaly_threshold('tx_ae', 'mine') AS t, is_anomaly_at('tx_ae', 'mine', 1, 25) AS f")
    assert out.splitlines()[-1] == "30.0,false", out
    out = run("sql", "--write", db, "DELETE FROM ad_thresholds WHERE threshold_name = 'mine'; "
              "SELECT anomaly_threshold('tx_ae', 'mine')", ok=False)
    assert "has no threshold 'mine'" in out, out


def test_a_store_without_its_thresholds_table_says_so_and_lets_sql_put_it_back(model_db: str, tmp_path: Path) -> None:
    """After ALTER TABLE ad_thresholds RENAME TO old_th, every `ad-duckdb sql` failed with DuckDB's "Table with name
    ad_thresholds does not exist!" (exit 6), also the ALTER that renames it back, as registering the functions read
    it. The functions now register, their calls name the missing table and the fix, and the fix runs."""
    db = str(tmp_path / "th.duckdb")
    shutil.copy(model_db, db)
    con = duckdb.connect(db)
    con.execute("ALTER TABLE ad_thresholds RENAME TO old_th")
    con.close()
    res = CliRunner().invoke(cli, ["sql", db, "SELECT anomaly_score('tx_ae', 5, 300)"], catch_exceptions=False)
    assert res.exit_code != 0 and "ad_thresholds" in res.output and "missing" in res.output, res.output
    assert "RENAME TO ad_thresholds" in res.output and "restore-thresholds" in res.output, res.output
    res = CliRunner().invoke(cli, ["sql", "--write", db, "ALTER TABLE old_th RENAME TO ad_thresholds; "
                                   "SELECT is_anomaly('tx_ae', 5, 300) AS f"], catch_exceptions=False)
    assert res.exit_code == 0 and res.output.split()[-1] in ("true", "false"), res.output


def test_show_prints_a_thresholds_precision_recall_and_f1_to_three_decimals(model_db: str, tmp_path: Path) -> None:
    """show's threshold table printed a labelled threshold's precision whole (0.9609375) beside rounded columns, where
    evaluate and threshold print three decimals: now the same three."""
    db = str(tmp_path / "m.duckdb")
    shutil.copy(model_db, db)
    run("threshold", db, "tx_ae", "best", "--method", "max_f1", "--source", "transactions", "--label", "label")
    row = next(ln.split() for ln in run("show", db, "tx_ae").splitlines() if ln.startswith("best "))
    assert row[2] == "max_f1" and all(re.fullmatch(r"[01]\.\d{3}", v) for v in row[3:6]), row
