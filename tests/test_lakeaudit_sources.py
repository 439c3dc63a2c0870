"""Sources that are not a plain table of the main schema: Parquet and CSV files (relative paths, globs, hive
partitions), views, other schemas, ATTACHed databases, names with dots, read by the command line and the Python API."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, ROOT, make_transactions, unwrapped

TRAIN = ("--epochs", "3", "--quiet")


def _invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args), input="")
    out = res.output + (f"\n{res.exc_info[1]!r}" if res.exc_info and res.exit_code not in (0, 1, 2, 3, 4, 5, 6, 7)
                        else "")
    return res.exit_code, out


def _lake(folder: Path) -> None:
    """folder/files/tx.parquet and folder/files/tx.csv: 600 transactions with an is_fraud label."""
    (folder / "files").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    make_transactions(con, n=600)
    con.execute("CREATE TABLE t AS SELECT *, (transaction_id % 50 = 0)::INTEGER AS is_fraud FROM transactions")
    con.execute(f"COPY t TO '{folder / 'files' / 'tx.parquet'}'")
    con.execute(f"COPY t TO '{folder / 'files' / 'tx.csv'}'")
    con.close()


def test_carried_alarm_rate_goal_on_a_relative_file_read_from_another_folder_is_a_note_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A threshold chosen on 'files/tx.parquet' in the project folder, carried by a retrain run from another folder
    (a scheduler's): the file is not found there. The retrain stored nothing and ended in a KeyError traceback for
    an alarm_rate goal (its command to choose again read a label it has not); a labelled goal's note did not say
    where the relative path had been read."""
    _lake(tmp_path)
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "m.duckdb")
    code, out = _invoke("train", db, "tx", "files/tx.parquet", "-f", "count,amount", *TRAIN)
    assert code == 0, out
    code, out = _invoke("threshold", db, "tx", "ar", "--method", "alarm_rate", "--rate", "2%", "--source",
                        "files/tx.parquet", "--where", "is_fraud = 0")
    assert code == 0, out
    code, out = _invoke("threshold", db, "tx", "f1", "--method", "max_f1", "--source",
                        "read_parquet('files/tx.parquet')", "--label", "is_fraud")
    assert code == 0, out
    (tmp_path / "jobs").mkdir()
    monkeypatch.chdir(tmp_path / "jobs")
    code, out = _invoke("train", db, "tx", str(tmp_path / "files" / "tx.parquet"), "-f", "count,amount", *TRAIN,
                        "--carry-thresholds")
    assert code == 0 and "Traceback" not in out and "KeyError" not in out, out
    text = " ".join(out.split())
    for name, fix in (("ar", "--rate 0.02"), ("f1", "--label is_fraud")):
        note = next(line for line in text.split("note: ") if line.startswith(f"Threshold {name!r}"))
        assert "no file matches 'files/tx.parquet'" in note, note
        # where it was chosen, so the retrain can be run from there, or the path made absolute
        assert f"chosen in the working folder {tmp_path}" in note, note
        assert f"--source \"read_parquet('{tmp_path}/files/tx.parquet')\"" in note or name == "ar", note
        assert f"--source '{tmp_path}/files/tx.parquet' " in note or name == "f1", note
        assert fix in note, note
    assert ad_duckdb.list_models(duckdb.connect(db, read_only=True))  # the new version was stored
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT max(version) FROM ad_models WHERE name = 'tx'").fetchall() == [(2,)]
    con.close()


def test_the_connections_file_search_path_finds_relative_files_for_train_score_and_evaluate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SET file_search_path on the user's connection finds 'files/tx.parquet' in its own queries; ad_duckdb reads
    through cursors of its own, which start without it: train said "no file matches" (read from the working
    folder) for a file the user's own SELECT had just read."""
    _lake(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    con = ad_duckdb.connect(str(tmp_path / "m.duckdb"))
    con.execute(f"SET file_search_path = '{tmp_path}'")
    assert con.sql("SELECT count(*) FROM 'files/tx.parquet'").fetchall() == [(600,)]
    info = ad_duckdb.train(con, "tx", "files/tx.parquet", features=["count", "amount"], **FAST)
    assert info.train_rows == 600
    assert ad_duckdb.score(con, "tx", "read_csv('files/tx.csv')").num_rows == 600
    ad_duckdb.score(con, "tx", "files/tx.parquet", into="scores")
    assert con.sql("SELECT count(*) FROM scores").fetchall() == [(600,)]
    assert ad_duckdb.evaluate(con, "tx", "files/tx.parquet", label="is_fraud").rows == 600
    th = ad_duckdb.set_threshold(con, "tx", "f1", "max_f1", source="files/tx.parquet", label="is_fraud")
    assert th.method == "max_f1"
    con.close()


def test_a_view_reading_a_database_not_attached_says_to_attach_it(tmp_path: Path) -> None:
    """A view of the models' file (dbt's, made with the warehouse attached) reading lake.main.tx, scored by a
    command that did not --attach it: DuckDB's 'schema "lake.main" does not exist' was passed on, with the advice
    to give an existing table, not the --attach that reads it."""
    lake = tmp_path / "lake.duckdb"
    con = duckdb.connect(str(lake))
    make_transactions(con, n=300)
    con.close()
    db = str(tmp_path / "models.duckdb")
    con = ad_duckdb.connect(db)
    con.execute(f"ATTACH '{lake}' AS lake (READ_ONLY)")
    ad_duckdb.train(con, "tx", "lake.main.transactions", features=["count", "amount"], **FAST)
    con.execute("CREATE VIEW lake_tx AS SELECT * FROM lake.main.transactions")
    con.close()
    for args in (("score", db, "tx", "lake_tx", "--top", "3"),
                 ("score", db, "tx", "SELECT * FROM lake.transactions", "--top", "3"),
                 ("explain", db, "tx", "lake_tx", "--where", "transaction_id = 4"),
                 ("sql", db, "SELECT count(*) FROM lake_tx")):
        code, out = _invoke(*args)
        assert code == 6, (args, out)
        text = " ".join(out.split())
        said = ("no database 'lake' is attached" if "lake.main" in text else
                "'lake' is neither a schema of database models")
        assert said in text and "--attach path/to/lake.duckdb" in text, (args, out)
    code, out = _invoke("score", db, "tx", "lake_tx", "--top", "3", "--attach", str(lake))
    assert code == 0, out


def test_a_dotted_table_name_read_as_schema_and_table_offers_the_quoted_name(tmp_path: Path) -> None:
    """A table named "tx.v2" (a copy made with a version in its name) given bare: DuckDB reads tx as a schema, and
    the message said 'tx' is no schema or database, and to attach tx.duckdb; the fix is the name in quotes."""
    db = str(tmp_path / "w.duckdb")
    con = duckdb.connect(db)
    make_transactions(con, n=300)
    con.execute('CREATE TABLE "tx.v2" AS SELECT * FROM transactions')
    con.close()
    code, out = _invoke("train", db, "tx", "tx.v2", "-f", "count,amount", *TRAIN)
    assert code == 6, out
    assert """'"tx.v2"'""" in unwrapped(out), out
    code, out = _invoke("train", db, "tx", '"tx.v2"', "-f", "count,amount", *TRAIN)
    assert code == 0, out


def _sources_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("### Sources: files, views, schemas and other database files", 1)[1].split("\n## ", 1)[0]


def test_readme_sources_examples_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's one example per kind of source (files, a glob of hive partitions, a query of files, a schema of
    an attached file, a view, a quoted name, a join of attached tables), then its Python block, in an empty folder."""
    import shlex
    import subprocess
    import sys

    section = _sources_section()
    lines = [line.strip() for line in re.findall(r"```sh\n(.*?)```", section, flags=re.S)[0].splitlines()
             if line.strip()]
    assert len(lines) >= 10, lines
    monkeypatch.chdir(tmp_path)
    for line in lines:
        words = shlex.split(line, comments=True)
        if words[0] == "python":
            r = subprocess.run([sys.executable, str(ROOT / words[1]), *words[2:]], capture_output=True, text=True,
                               timeout=300)
            code, out = r.returncode, r.stdout + r.stderr
        else:
            assert words[0] == "ad-duckdb", line
            code, out = _invoke(*words[1:])
        assert code == 0 and "Traceback" not in out and "Error:" not in out, (line, out)
    con = duckdb.connect("models.duckdb", read_only=True)
    assert con.execute("SELECT count(*), min(day), max(day) FROM feb_scores").fetchall()[0][0] > 0
    assert con.execute("SELECT count(*) FROM ad_models WHERE name = 'tx_ae'").fetchall() == [(4,)]
    con.close()
    block = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    exec(compile(block, "README sources block", "exec"), {})
    con = duckdb.connect("models.duckdb", read_only=True)
    assert con.execute("SELECT count(*) FROM scores").fetchall() == [(3000,)]
    con.close()


def test_a_command_naming_a_model_stored_only_in_an_attached_file_says_which_file_holds_it(tmp_path: Path) -> None:
    """The README says the error names the attached file that holds a model: `sql` did, but score, explain,
    threshold said only "No model 'lake_ae' ...; known models: none yet"."""
    lake = str(tmp_path / "lake.duckdb")
    con = ad_duckdb.connect(lake)
    make_transactions(con, n=300)
    ad_duckdb.train(con, "lake_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    db = str(tmp_path / "models.duckdb")
    assert _invoke("sql", "--write", db, "CREATE TABLE x AS SELECT 1 AS a")[0] == 0
    for args in (("score", db, "lake_ae", "lake.transactions", "--top", "3"),
                 ("explain", db, "lake_ae", "lake.transactions", "--where", "transaction_id = 4"),
                 ("threshold", db, "lake_ae", "q", "--method", "quantile", "--target", "0.99")):
        code, out = _invoke(*args, "--attach", lake)
        assert code == 5, (args, out)
        text = " ".join(out.split())
        assert f"'lake_ae' is stored in the attached database 'lake' ({lake})" in text, (args, out)
        assert f"ad-duckdb {args[0]} {lake}" in text, (args, out)


def test_hive_keys_read_as_text_are_partition_keys_not_text_of_numbers(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders month=01, month=02 (as strftime writes them) and region=EU: DuckDB reads those keys as text. The
    year=2026 key was left out as a partition key, but 'month' was offered as "VARCHAR, but all its values are
    numbers" with the TRY_CAST query that makes it a feature, so next month's folder scores as out of range."""
    monkeypatch.chdir(tmp_path)
    con = duckdb.connect()
    make_transactions(con, n=600)
    con.execute("COPY (SELECT *, 2026 AS year, lpad(((transaction_id % 3) + 1)::VARCHAR, 2, '0') AS month, "
                "CASE WHEN transaction_id % 2 = 0 THEN 'EU' ELSE 'US' END AS region FROM transactions) TO 'lake' "
                "(FORMAT parquet, PARTITION_BY (year, month, region))")
    con.close()
    assert sorted(p.name for p in (tmp_path / "lake" / "year=2026").iterdir()) == ["month=01", "month=02", "month=03"]
    con = ad_duckdb.connect(str(tmp_path / "m.duckdb"))
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
        info = ad_duckdb.train(con, "tx", "lake/**/*.parquet", **FAST)
    con.close()
    said = [str(w.message) for w in caught]
    keys = next(m for m in said if "hive partition key" in m)
    assert "'year' (folders year=2026, ...)" in keys and "'month' (folders month=0" in keys, keys
    assert "'region' (folders region=" in keys, keys
    assert not any("'month' (VARCHAR" in m or 'TRY_CAST(trim("month")' in m for m in said), said
    assert not any("'region' (VARCHAR)" in m for m in said), said
    assert {"year", "month", "region"}.isdisjoint(info.features), info.features


def test_a_goal_on_a_query_with_a_slash_in_a_text_literal_is_no_relative_file(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A threshold chosen on a query of a table, SELECT * FROM lab WHERE code <> 'n/a', read 'n/a' as a relative file
    path (any literal with a slash was one): carried by a retrain from another folder after the table lost a column,
    the note said it "was chosen in the working folder ..., where 'n/a' is '.../n/a'", to run the retrain from
    there, and its command to choose again had the filter's literal changed to '<folder>/n/a' (other rows). Only a
    literal that a query reads as a file (FROM 'x.parquet', read_parquet('files/*.parquet')) is one now."""
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "m.duckdb")
    con = duckdb.connect(db)
    make_transactions(con, n=600)
    con.execute("CREATE TABLE lab AS SELECT *, (transaction_id % 50 = 0)::INTEGER AS is_fraud, "
                "CASE WHEN transaction_id % 7 = 0 THEN 'n/a' ELSE 'ok' END AS code FROM transactions")
    con.close()
    code, out = _invoke("train", db, "tx", "transactions", "-f", "count,amount", *TRAIN)
    assert code == 0, out
    code, out = _invoke("threshold", db, "tx", "f1", "--method", "max_f1", "--source",
                        "SELECT * FROM lab WHERE code <> 'n/a'", "--label", "is_fraud")
    assert code == 0, out
    con = duckdb.connect(db)
    con.execute("ALTER TABLE lab RENAME amount TO amount_eur")
    con.close()
    (tmp_path / "jobs").mkdir()
    monkeypatch.chdir(tmp_path / "jobs")
    code, out = _invoke("train", db, "tx", "transactions", "-f", "count,amount", *TRAIN, "--carry-thresholds")
    assert code == 0 and "Traceback" not in out, out
    text = " ".join(out.split())
    note = next(line for line in text.split("note: ") if line.startswith("Threshold 'f1'"))
    assert "working folder" not in note and f"{tmp_path}/n/a" not in note, note
    assert "Choose it again on" in note, note


def test_a_carried_alarm_rate_goals_command_keeps_its_series_and_zone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command a carried alarm_rate goal's note gives to choose it again on the file's full path: it dropped the
    goal's --series and --tz, so run as given it counted episodes across sensors and days in another zone."""
    (tmp_path / "files").mkdir()
    con = duckdb.connect()
    con.execute("CREATE TABLE r AS SELECT TIMESTAMP '2026-01-05 00:00:00' + INTERVAL (i // 2) HOUR AS ts, "
                "'s' || (i % 2) AS sensor, (i * 37 % 11)::DOUBLE AS level, (i * 13 % 7)::DOUBLE AS rate "
                "FROM range(480) t(i)")
    con.execute(f"COPY r TO '{tmp_path / 'files' / 'r.parquet'}'")
    con.close()
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "m.duckdb")
    code, out = _invoke("train", db, "r", "files/r.parquet", "-f", "level,rate", *TRAIN)
    assert code == 0, out
    code, out = _invoke("threshold", db, "r", "three", "--method", "alarm_rate", "--per-day", "3", "--time", "ts",
                        "--series", "sensor", "--tz", "Europe/Paris", "--source", "files/r.parquet")
    assert code == 0, out
    (tmp_path / "jobs").mkdir()
    monkeypatch.chdir(tmp_path / "jobs")
    code, out = _invoke("train", db, "r", str(tmp_path / "files" / "r.parquet"), "-f", "level,rate", *TRAIN,
                        "--carry-thresholds")
    assert code == 0 and "Traceback" not in out, out
    note = next(line for line in " ".join(out.split()).split("note: ") if line.startswith("Threshold 'three'"))
    assert f"--source '{tmp_path}/files/r.parquet'" in note, note
    assert "--series sensor" in note and "--tz Europe/Paris" in note, note
