"""Governance: the same data, options and seed train the same model (same sha256, same thresholds), and a stored
model's record says how to train it again."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import ROOT, cli_in_process, make_transactions


def _trained(con: object, name: str, **params: object) -> tuple[str, list[tuple[str, float]]]:
    """The sha256 and thresholds of a fresh training of ``name`` on table h."""
    info = ad_duckdb.train(con, name, "h", features=["a", "b"], epochs=2, max_train_rows=500, progress=False,
                           **params)
    sha = con.execute("SELECT sha256 FROM ad_models WHERE name = ? AND version = ?", [name, info.version]).fetchone()
    return sha[0], sorted(info.thresholds.items())


def test_a_connection_without_insertion_order_trains_the_same_model(tmp_path: Path) -> None:
    # Before: with SET preserve_insertion_order = false (DuckDB's advice for large loads), a table of several row
    # groups reached training in another order on each read on 2+ threads, and row order decides the shuffles and
    # the max_train_rows sample: the same call stored another model (sha256 and thresholds) each time.
    path = str(tmp_path / "h.duckdb")
    with duckdb.connect(path) as con:  # several row groups, read back from the file as a warehouse table is
        con.execute("CREATE TABLE h AS SELECT (range % 97)::DOUBLE + random() AS a, "
                    "(range % 13)::DOUBLE * 2 + random() AS b FROM range(600000)")
    con = ad_duckdb.connect(path)
    try:
        con.execute("SET threads = 4")  # a parallel scan, whatever the machine's core count
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # training notes are not the point here
            ordered = _trained(con, "ordered")
            con.execute("SET preserve_insertion_order = false")
            unordered = [_trained(con, f"unordered_{i}") for i in range(3)]
        assert unordered == [ordered] * 3
        # the user's own setting is left as they set it
        assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0] is False
    finally:
        con.close()


_RETRAIN_CASES = [
    {},  # robust (no labels), sizes and epochs chosen by train
    {"where": "count > 3", "epochs": 3, "contamination": 0.05},
    {"kind": "vae", "epochs": 2, "seed": 7},
    {"n_models": 2, "epochs": 2, "hidden_dims": (16, 8), "latent_dim": 4},
    {"max_train_rows": 300, "epochs": 2, "robust": False, "batch_size": 64},
    {"source": "SELECT * FROM transactions WHERE amount > 50", "epochs": 2, "lr": 0.003},
    {"code_sizes": (2, 4, 8), "epochs": 2},  # n_models 3 and latent_dim 8 follow from it
    {"code_sizes": [3, 5], "latent_dim": 6, "where": "count > 3", "epochs": 2},
    # every option a flag of ad-duckdb train: show's shell command is run too
    {"hidden_dims": (16, 8), "robust": False, "max_train_rows": 300, "epochs": 2, "seed": 3},
    {"source": "SELECT * FROM transactions WHERE count <> 5", "where": "amount::VARCHAR <> '12.00'", "n_models": 2,
     "robust": True, "constant_columns": "keep", "epochs": 2},
]
# The options ad-duckdb train has no flag for: a model trained with one has no shell command
_NO_FLAG = ("kind", "batch_size", "lr")


@pytest.mark.parametrize("case", _RETRAIN_CASES, ids=lambda c: ",".join(c) or "defaults")
def test_show_says_the_call_that_trains_the_same_model_again(tmp_path: Path, case: dict[str, object]) -> None:
    # Before: show printed the params as JSON, but not the data (train_source and train_where sit among the metrics),
    # the kind, or which stored params train chose itself (layer sizes, robust): a lead could not tell which call
    # made a model without reading the code. The line is run here as printed, and must store the same bytes.
    path = str(tmp_path / "r.duckdb")
    opts = dict(case)
    source = str(opts.pop("source", "transactions"))
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=400)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "m", source, features=["count", "amount"], progress=False, **opts)
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["show", path, "m"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("retrain with: ")]
    assert len(lines) == 1, res.stdout
    call = lines[0].removeprefix("retrain with: ")
    assert call.startswith("ad_duckdb.train(con, 'm', ") and "features=['count', 'amount']" in call, call
    assert "progress" not in call and "variational" not in call, call
    doc = json.loads(CliRunner().invoke(cli, ["show", path, "m", "--format", "json"]).stdout)
    assert doc["retrain_with"] == call
    command = doc["retrain_command"]
    no_flag = [n for n in _NO_FLAG if n in case]
    if no_flag:
        assert command is None, command
        assert f"  (no shell command: {', '.join(no_flag)} ha" in res.stdout, res.stdout
    else:
        assert command is not None and f"  or in a shell: {command}" in res.stdout, res.stdout
        assert command.startswith(f"ad-duckdb train {path} m ") and " -f count,amount " in command, command
    assert "libraries: ad_duckdb " in res.stdout and " torch " in res.stdout, res.stdout
    con = ad_duckdb.connect(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eval(call, {"ad_duckdb": ad_duckdb, "con": con})  # noqa: S307 - the line show printed, as a user runs it
        rows = con.execute("SELECT version, sha256 FROM ad_models WHERE name = 'm' ORDER BY version").fetchall()
        th = con.execute("SELECT version, list((threshold_name, value) ORDER BY threshold_name) FROM ad_thresholds "
                         "WHERE model = 'm' GROUP BY version ORDER BY version").fetchall()
    finally:
        con.close()
    assert [v for v, _ in rows] == [1, 2] and rows[0][1] == rows[1][1], (call, rows)
    assert th[0][1] == th[1][1], call
    if command is not None:  # the shell command as a user pastes it: the shell's words, as the shell splits them
        words = shlex.split(command)
        assert words[:2] == ["ad-duckdb", "train"], command
        ran = cli_in_process(*words[1:], "--quiet")
        assert ran.returncode == 0, ran.stderr
        with duckdb.connect(path, read_only=True) as c:
            third = c.execute("SELECT sha256 FROM ad_models WHERE name = 'm' AND version = 3").fetchone()
        assert third is not None and third[0] == rows[0][1], command


def test_the_shell_command_quotes_column_names_and_filters_as_a_shell_reads_them(tmp_path: Path) -> None:
    # Columns named with a space or a comma, and a filter with a quoted literal: each a shell word of its own
    # (-f 'Amount EUR', not -f 'Amount EUR,x'; a,b is one as it is, and train reads it as the column), the filter
    # in double quotes; run as printed, the same model.
    path = str(tmp_path / "q.duckdb")
    with duckdb.connect(path) as con:
        con.execute("""CREATE TABLE t AS SELECT (i % 37) * 2.5 + 10 AS "Amount EUR", (i % 11)::DOUBLE AS "a,b",
                       sqrt(i) AS x, CASE WHEN i % 4 = 0 THEN 'skip' ELSE 'keep' END AS tag FROM range(800) r(i)""")
    trained = cli_in_process("train", path, "q", "t", "-f", "Amount EUR", "-f", "a,b", "-f", "x", "--where",
                             "tag = 'keep'", "--epochs", "2", "--quiet")
    assert trained.returncode == 0, trained.stderr
    command = json.loads(cli_in_process("show", path, "q", "--format", "json").stdout)["retrain_command"]
    assert command == (f"ad-duckdb train {path} q t -f 'Amount EUR' -f a,b -f x --where \"tag = 'keep'\" "
                       "--epochs 2 --seed 0"), command
    ran = cli_in_process(*shlex.split(command)[1:], "--quiet")
    assert ran.returncode == 0, ran.stderr
    with duckdb.connect(path, read_only=True) as con:
        shas = [sha for (sha,) in con.execute("SELECT sha256 FROM ad_models ORDER BY version").fetchall()]
    assert len(shas) == 2 and shas[0] == shas[1], command


def test_show_of_a_record_without_its_source_says_so(tmp_path: Path) -> None:
    # A model stored before train_source was recorded: no call is made up from the display text of source.
    path = str(tmp_path / "old.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=400)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], epochs=2, progress=False)
        con.execute("UPDATE ad_models SET metrics = json_remove(metrics, '$.train_source'), lib_versions = NULL")
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["show", path, "m"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert ("retrain with: not recorded (a model stored before ad_duckdb recorded the source it was trained on; "
            "its source column says 'transactions')") in res.stdout, res.stdout
    assert "libraries: not recorded" in res.stdout, res.stdout
    assert json.loads(CliRunner().invoke(cli, ["show", path, "m", "--format", "json"]).stdout)["retrain_with"] is None


def _after_calls(lines: list[str]) -> int:
    """The index of show's first line after its retrain call and, when there is one, its shell command."""
    at = next(i for i, ln in enumerate(lines) if ln.startswith("retrain with: ")) + 1
    return at + lines[at].startswith("  or in a shell: ")


def test_show_notes_a_dataframe_source_and_an_imported_models_source(tmp_path: Path) -> None:
    # Before: the call named 'df' (a DataFrame of the training session) or, for an imported model, a table of the
    # database it was exported from, as if either were a table here, without a word.
    import pandas as pd

    path = str(tmp_path / "df.duckdb")
    rows = range(300)
    df = pd.DataFrame({"count": [i % 7.0 for i in rows], "amount": [i % 11.0 for i in rows]})  # noqa: F841  (by name)
    con = ad_duckdb.connect(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "dfm", "df", epochs=2, progress=False)
        make_transactions(con, n=400)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "tm", "transactions", features=["count", "amount"], epochs=2, progress=False)
        ad_duckdb.export_model(con, "tm", tmp_path / "tm.onnx")
    finally:
        con.close()
    other = str(tmp_path / "other.duckdb")
    con = ad_duckdb.connect(other)
    try:
        ad_duckdb.import_model(con, tmp_path / "tm.onnx")
    finally:
        con.close()
    says = {
        (path, "dfm"): "  note: 'df' was a Python variable (a DataFrame or Arrow table) of the session that trained "
                       "this model, not a table of the database: run the call in Python where that name holds the "
                       "same rows in the same order.",
        (other, "tm"): "  note: this model was imported (imported from tm.onnx (tm@1; transactions)): 'transactions' "
                       "is a source of the database it was exported from, which this one does not hold; run the call "
                       "there, or on a source of the same rows.",
        (path, "tm"): None,
    }
    for (db, name), note in says.items():
        res = CliRunner().invoke(cli, ["show", db, name], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        lines = res.stdout.splitlines()
        at = _after_calls(lines)
        if note is None:
            assert not lines[at].startswith("  note:"), res.stdout
        else:
            assert lines[at] == note, res.stdout
        doc = json.loads(CliRunner().invoke(cli, ["show", db, name, "--format", "json"]).stdout)
        assert doc["retrain_note"] == (note.removeprefix("  note: ") if note else None)


def test_show_notes_a_source_in_a_database_the_training_connection_had_attached(tmp_path: Path) -> None:
    """Trained on lake.main.tx from a connection that had ATTACHed lake: show's call named it as a table here, and
    run as shown (or as the same ad-duckdb train) it failed, since ATTACH lasts one connection. The file is kept with
    the model: the note gives the ATTACH to run, the shell command passes it with --attach, and both store the same
    model again."""
    lake = str(tmp_path / "lake.duckdb")
    with duckdb.connect(lake) as con:
        make_transactions(con, n=300)
    path = str(tmp_path / "wh.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute(f"ATTACH '{lake}' AS lake (READ_ONLY)")
        con.execute("ATTACH ':memory:' AS scratch")  # attached, but not read by the source: not kept
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "lk", "lake.main.transactions", features=["count", "amount"], epochs=2,
                            progress=False)
            make_transactions(con, n=300)  # the database's own name in a source needs no note
            ad_duckdb.train(con, "here", "wh.main.transactions", features=["count", "amount"], epochs=2,
                            progress=False)
            # a view over a view over lake's table reads lake too
            con.execute("CREATE VIEW lv AS SELECT * FROM lake.main.transactions WHERE count > 2")
            con.execute("CREATE VIEW lv2 AS SELECT * FROM lv")
            ad_duckdb.train(con, "viewed", "lv2", features=["count", "amount"], epochs=2, progress=False)
    finally:
        con.close()
    doc = json.loads(cli_in_process("show", path, "viewed", "--format", "json").stdout)
    assert doc["metrics"]["train_attached"] == {"lake": lake}, doc["metrics"]
    ran = cli_in_process(*shlex.split(doc["retrain_command"])[1:], "--quiet")
    assert ran.returncode == 0 and " --attach " in doc["retrain_command"], ran.stderr
    with duckdb.connect(path, read_only=True) as con:
        viewed = con.execute("SELECT count(DISTINCT sha256), count(*) FROM ad_models WHERE name = 'viewed'").fetchone()
    assert viewed == (1, 2), viewed
    res = CliRunner().invoke(cli, ["show", path, "lk"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    attach = f"ATTACH '{lake}' AS \"lake\" (TYPE duckdb, READ_ONLY)"
    assert lines[_after_calls(lines)] == (f"  note: 'lake' was a database the training connection had attached: run "
                                          f"{attach} on con first (the shell command attaches it with --attach)."), res.stdout
    doc = json.loads(CliRunner().invoke(cli, ["show", path, "lk", "--format", "json"]).stdout)
    assert doc["metrics"]["train_attached"] == {"lake": lake}, doc["metrics"]
    assert f" --attach {lake} " in doc["retrain_command"], doc["retrain_command"]
    con = ad_duckdb.connect(path)
    try:
        con.execute(attach)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eval(doc["retrain_with"], {"ad_duckdb": ad_duckdb, "con": con})  # noqa: S307 - as show printed it
    finally:
        con.close()
    ran = cli_in_process(*shlex.split(doc["retrain_command"])[1:], "--quiet")
    assert ran.returncode == 0, ran.stderr
    with duckdb.connect(path, read_only=True) as con:
        shas = [sha for (sha,) in con.execute("SELECT sha256 FROM ad_models WHERE name = 'lk' ORDER BY version").fetchall()]
    assert len(shas) == 3 and len(set(shas)) == 1, shas
    doc = json.loads(CliRunner().invoke(cli, ["show", path, "here", "--format", "json"]).stdout)
    assert doc["retrain_note"] is None and "train_attached" not in doc["metrics"] and "--attach" not in doc["retrain_command"]
    # a record of a release that did not keep the files: the note says how to attach one, not which
    with duckdb.connect(path) as con:
        con.execute("UPDATE ad_models SET metrics = json_remove(metrics, '$.train_attached') WHERE name = 'lk'")
    lines = CliRunner().invoke(cli, ["show", path, "lk@1"], catch_exceptions=False).stdout.splitlines()
    assert lines[_after_calls(lines)] == ("  note: 'lake' was a database the training connection had attached (ATTACH "
                                          "'...' AS lake); attach the same file under that name on con first. From the "
                                          "command line, pass the file it is in with --attach path/to/lake.duckdb "
                                          "(read-only; --attach PATH=lake for a file named otherwise)."), lines


# each pair of arguments: a database and the source to train its model on, one after the other in one process
_API_CHILD = """
import sys, warnings, torch, ad_duckdb
torch.set_num_threads(2)
warnings.simplefilter("ignore")
for db, source in zip(sys.argv[1::2], sys.argv[2::2]):
    con = ad_duckdb.connect(db)
    con.execute("SET threads = 1")
    ad_duckdb.train(con, "m", source, features=["count", "amount"], epochs=3, progress=False)
    con.close()
"""


def test_the_same_call_in_fresh_processes_and_environments_stores_the_same_model(tmp_path: Path) -> None:
    # The promise of --seed's help ("the same data, options and seed train the same model") across what differs
    # between a laptop, a cron job and a notebook: the command line or Python, torch and DuckDB thread counts,
    # hash seeds, and the rows as a table or as a Parquet file of them.
    base = tmp_path / "base.duckdb"
    con = duckdb.connect(str(base))
    make_transactions(con, n=400)
    parquet = tmp_path / "tx.parquet"
    con.execute(f"COPY transactions TO '{parquet}' (FORMAT parquet)")
    con.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    dbs = {label: tmp_path / f"{label}.duckdb" for label in ("cli", "api", "parquet")}
    # two fresh processes: the Parquet rows train in the Python one, after its table (a second training in one
    # process must not differ either), so each of the three is compared with one from another process
    runs = {
        "cli": ([sys.executable, "-m", "ad_duckdb", "train", str(dbs["cli"]), "m", "transactions", "-f", "count",
                 "-f", "amount", "--epochs", "3", "--quiet"], {"OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "1"}),
        "api": ([sys.executable, "-c", _API_CHILD, str(dbs["api"]), "transactions", str(dbs["parquet"]),
                 f"read_parquet('{parquet}')"], {"OMP_NUM_THREADS": "2", "PYTHONHASHSEED": "2"}),
    }
    for db in dbs.values():
        shutil.copy(base, db)
    for label, (argv, extra) in runs.items():
        r = subprocess.run(argv, capture_output=True, text=True, timeout=300, env={**env, **extra},
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, (label, r.stderr[-2000:])
    stored = {}
    for label, db in dbs.items():
        with duckdb.connect(str(db), read_only=True) as c:
            stored[label] = (c.execute("SELECT sha256 FROM ad_models").fetchall(),
                             c.execute("SELECT threshold_name, value FROM ad_thresholds ORDER BY 1").fetchall())
    assert stored["api"] == stored["cli"] and stored["parquet"] == stored["cli"], stored


def test_show_says_a_model_learned_from_a_sample_of_its_rows(tmp_path: Path) -> None:
    # Before: "trained on 400 rows of transactions" for a model whose network learned from a seeded sample of 200
    # (max_train_rows), the 400 being the rows its thresholds were scored on: a lead read the wrong amount of data.
    path = str(tmp_path / "s.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=400)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], epochs=2, max_train_rows=200,
                            progress=False)
            ad_duckdb.train(con, "whole", "transactions", features=["count", "amount"], epochs=2, progress=False)
    finally:
        con.close()
    head = CliRunner().invoke(cli, ["show", path, "m"], catch_exceptions=False).stdout.splitlines()[0]
    assert head.endswith("trained on a seeded sample of 200 of the 400 rows of transactions "
                         "(thresholds from all 400; max_train_rows=200)"), head
    head = CliRunner().invoke(cli, ["show", path, "whole"], catch_exceptions=False).stdout.splitlines()[0]
    assert head.endswith("trained on 400 rows of transactions"), head
