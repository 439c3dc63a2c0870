"""Operations of a nightly job (ops4): score --top under PYTHONWARNINGS=error, --append's repeated-ids check on text
and uuid ids and beside a user's own rowid column, score --into --replace-partition, and a damaged model store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
from builtonce import built_once

import ad_duckdb

from conftest import FAST, ROOT, cli_in_process

AD_DUCKDB = Path(sys.executable).parent / "ad-duckdb"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command's exit code, stdout and stderr. Run in this process (click's CliRunner): these tests are about
    what it does and says; with ``env`` (a process's environment, PYTHONWARNINGS=error) by the installed
    ``ad-duckdb`` in a process of its own (``cli_process``)."""
    if env is not None:
        return cli_process(*args, env=env)
    return cli_in_process(*args)


def cli_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed ``ad-duckdb`` run in a process of its own: for tests of what another process sees."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([str(AD_DUCKDB), *args], capture_output=True, text=True, timeout=300, env=full)


def _export(path: Path, n: int, total: bool, seed: int = 0) -> str:
    """A spreadsheet export of ``n`` transactions, ending in its totals row when ``total``."""
    rng = np.random.default_rng(seed)
    count = rng.poisson(8, n) + 1
    amount = np.round(count * rng.lognormal(3.0, 0.25, n), 2)
    lines = [f"{i};{c};{a:.2f}" for i, (c, a) in enumerate(zip(count, amount, strict=True))]
    if total:
        lines.append(f"Total;{count.sum()};{amount.sum():.2f}")
    path.write_text("ID;Count;Amount\n" + "\n".join(lines) + "\n")
    return f"read_csv('{path}')"


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database with model 'tx' trained on an export, and an export whose last row is its totals."""
    folder = tmp_path_factory.mktemp("ops4_top")
    db = folder / "m.duckdb"
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.train(con, "tx", _export(folder / "train.csv", 400, False), features=["Count", "Amount"], **FAST)
    return db, _export(folder / "month.csv", 300, True, seed=1)


@pytest.mark.parametrize("args", [["--top", "5"], ["--top", "5", "--format", "csv"],
                                  ["--into", "s", "--replace", "--top", "3"]])
def test_score_top_under_pythonwarnings_error_fails_before_printing_any_row(
        export_db: tuple[Path, str], args: list[str]) -> None:
    # Before: the rows were printed on stdout, then the totals-row note was made an error (exit 1): a job that keeps
    # stdout as its report kept a report of a run that failed, and a retry printed it again.
    db, month = export_db
    strict = _cli("score", str(db), "tx", month, *args, env={"PYTHONWARNINGS": "error"})
    assert strict.returncode == 1, strict
    # no row printed (with --into, the 'wrote' line says the scores are stored, as they are)
    assert "anomaly_score" not in strict.stdout and "Total" not in strict.stdout, strict.stdout
    assert strict.stdout == "" or strict.stdout.startswith("wrote 301 scored rows to s"), strict.stdout
    assert "totals row" in strict.stderr and "PYTHONWARNINGS" in strict.stderr, strict.stderr
    # without the filter the rows print, and the note follows as a note
    plain = _cli("score", str(db), "tx", month, *args)
    assert plain.returncode == 0 and "anomaly_score" in plain.stdout and "totals row" in plain.stderr, plain


@pytest.fixture(scope="module")
def days_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file database: events(order_ref VARCHAR, event_uuid UUID, day DATE, count, amount) over three days, 200 rows
    a day, and model 'ev' trained on them. Made once per process: test_ops5_ops, test_ops6_ops and
    test_ops7_thresholds borrow it, each module with a copy of its own (builtonce.py)."""
    def build(folder: Path) -> None:
        rng = np.random.default_rng(3)
        n = 600
        count = rng.poisson(8, n) + 1
        amount = np.round(count * rng.lognormal(3.0, 0.25, n), 2)
        with ad_duckdb.connect(str(folder / "d.duckdb")) as con:
            con.execute("CREATE TABLE events AS SELECT 'o-' || lpad(i::VARCHAR, 6, '0') AS order_ref, "
                        "md5(i::VARCHAR)::UUID AS event_uuid, DATE '2026-12-01' + (i // 200)::INTEGER AS day, "
                        "c::INTEGER AS count, a::DOUBLE AS amount "
                        "FROM (SELECT unnest(range(?)) AS i, unnest(?) AS c, unnest(?) AS a)",
                        [n, count.tolist(), amount.tolist()])
            ad_duckdb.train(con, "ev", "events", features=["count", "amount"], **FAST)

    return built_once("ops4_days", tmp_path_factory, build) / "d.duckdb"


def _day(day: str, columns: str = "order_ref, event_uuid, day, count, amount") -> str:
    return f"SELECT {columns} FROM events WHERE day = DATE '{day}'"


@pytest.mark.parametrize("idcol", ["order_ref", "event_uuid"])
def test_append_notes_a_day_added_twice_told_by_a_text_or_uuid_id(days_db: Path, tmp_path: Path, idcol: str) -> None:
    # Before: only integer ids were checked, so a retried day of orders keyed 'o-000123' or by a UUID was added a
    # second time without a word, and every daily count of anomalies built on the table doubled.
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    cols = f"{idcol}, day, count, amount"
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.score(con, "ev", _day("2026-12-01", cols), into="hist", append=True)
        with warnings_caught() as got:
            ad_duckdb.score(con, "ev", _day("2026-12-02", cols), into="hist", append=True)
        assert not [w for w in got if "held already" in str(w.message)], [str(w.message) for w in got]
        with warnings_caught() as got:
            ad_duckdb.score(con, "ev", _day("2026-12-02", cols), into="hist", append=True)
        said = [str(w.message) for w in got if "held already" in str(w.message)]
        assert len(said) == 1 and f"200 of the 200 rows added to hist have a {idcol}" in said[0], said


def test_append_notes_repeated_ids_in_a_table_with_its_own_rowid_column(days_db: Path, tmp_path: Path) -> None:
    # Before: a table with a column named rowid (an export of a SQLite table keeps it) hid DuckDB's row ids behind
    # it: the check read the user's values as the rows' positions, and a day added twice went without a word.
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    cols = "row_number() OVER (ORDER BY order_ref) AS rowid, order_ref, day, count, amount"
    with ad_duckdb.connect(str(db)) as con:
        for day in ("2026-12-01", "2026-12-02"):
            with warnings_caught() as got:
                ad_duckdb.score(con, "ev", _day(day, cols), into="hist", append=True)
            assert not [w for w in got if "held already" in str(w.message)], [str(w.message) for w in got]
        with warnings_caught() as got:
            ad_duckdb.score(con, "ev", _day("2026-12-02", cols), into="hist", append=True)
        said = [str(w.message) for w in got if "held already" in str(w.message)]
        assert len(said) == 1 and "200 of the 200 rows added to hist have a order_ref" in said[0], said
        assert con.execute("SELECT count(*), count(DISTINCT rowid) FROM hist").fetchall() == [(600, 200)]


@contextmanager
def warnings_caught() -> Iterator[list[warnings.WarningMessage]]:
    """Every note of the block, recorded (pytest's filterwarnings=error would raise the first)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _hist(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute("SELECT day, order_ref, anomaly_score, anomaly_model FROM hist ORDER BY day, order_ref"
                       ).fetchall()


def test_replace_partition_replaces_the_days_rescored_and_keeps_the_others(days_db: Path, tmp_path: Path) -> None:
    # Before: no such mode; a nightly job re-scoring one day into its history table deleted that day by hand first,
    # in a transaction of its own: a failed scoring after the delete left the day missing.
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    with ad_duckdb.connect(str(db)) as con:
        for day in ("2026-12-01", "2026-12-02"):  # the first run creates the table
            assert ad_duckdb.score(con, "ev", _day(day), into="hist", replace_partition=["day"],
                                   model_column=True) == 200
        first = _hist(con)
        ad_duckdb.train(con, "ev", "events", features=["count", "amount"], **{**FAST, "max_steps": 300})
        with warnings_caught() as got:
            assert ad_duckdb.score(con, "ev", _day("2026-12-02"), into="hist", replace_partition="day",
                                   model_column=True) == 200
        assert not [w for w in got if "held already" in str(w.message)], [str(w.message) for w in got]
        after = _hist(con)
        assert len(after) == 400
        assert after[:200] == first[:200]  # day 1 as it was
        assert {r[3] for r in after[200:]} == {"ev@2"} and [r[:2] for r in after[200:]] == [r[:2] for r in first[200:]]
        # a day added by the mode, beside the others
        ad_duckdb.score(con, "ev", _day("2026-12-03"), into="hist", replace_partition=["day"], model_column=True)
        assert con.execute("SELECT day, count(*) FROM hist GROUP BY day ORDER BY day").fetchall() == [
            (d, 200) for d in (date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3))]


def test_replace_partition_failing_half_way_leaves_the_table_as_it_was(days_db: Path, tmp_path: Path) -> None:
    # A re-scoring that fails while its rows are scored (a value the source cannot read, late in the day), or once
    # the day's old rows are deleted (the table's own key refuses a new row): the table keeps every row it held.
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    with ad_duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE hist (order_ref VARCHAR PRIMARY KEY, event_uuid UUID, day DATE, count INTEGER, "
                    "amount DOUBLE, anomaly_score DOUBLE, anomaly_percentile DOUBLE, is_anomaly BOOLEAN, "
                    "anomaly_model VARCHAR)")
        for day in ("2026-12-01", "2026-12-02"):
            ad_duckdb.score(con, "ev", _day(day), into="hist", replace_partition=["day"], model_column=True)
        before = _hist(con)
        late = ("SELECT order_ref, event_uuid, day, CASE WHEN order_ref = 'o-000390' THEN error('upstream row "
                "unreadable') ELSE count END AS count, amount FROM events WHERE day = DATE '2026-12-02'")
        with pytest.raises(duckdb.Error, match="upstream row unreadable"):
            ad_duckdb.score(con, "ev", late, into="hist", replace_partition=["day"], model_column=True, batch_rows=50)
        assert _hist(con) == before
        # day 2 re-scored with a row of day 1 restated as day 2: its key is held under day 1, refused after the delete
        moved = ("SELECT order_ref, event_uuid, DATE '2026-12-02' AS day, count, amount FROM events "
                 "WHERE day = DATE '2026-12-02' OR order_ref = 'o-000005'")
        with pytest.raises(duckdb.ConstraintException):
            ad_duckdb.score(con, "ev", moved, into="hist", replace_partition=["day"], model_column=True)
        assert _hist(con) == before
        # and a re-scoring of day 2 itself succeeds with the key: the old rows go before the new ones come
        assert ad_duckdb.score(con, "ev", _day("2026-12-02"), into="hist", replace_partition=["day"],
                               model_column=True) == 200
        assert [r[:2] for r in _hist(con)] == [r[:2] for r in before]


def test_replace_partition_refuses_a_column_not_written_and_other_modes(days_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    with ad_duckdb.connect(str(db)) as con:
        with pytest.raises(ad_duckdb.BadInputError, match=r"'dy'.*not among the columns written.*'day'"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_partition=["dy"])
        with pytest.raises(ad_duckdb.BadInputError, match=r"'day'.*not among the columns written"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_partition=["day"],
                            columns=["order_ref"])
        with pytest.raises(ad_duckdb.OptionError, match="replace_partition"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_partition=["day"], replace=True)
        with pytest.raises(ad_duckdb.OptionError, match="replace_partition"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), replace_partition=["day"])
        assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name = 'hist'").fetchall()


def test_cli_replace_partition_says_the_rows_replaced(days_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    first = _cli("score", str(db), "ev", _day("2026-12-01"), "--into", "hist", "--replace-partition", "day")
    assert first.returncode == 0 and "replaced 0 rows" in first.stdout and "200 scored rows" in first.stdout, first
    again = _cli("score", str(db), "ev", _day("2026-12-01"), "--into", "hist", "--replace-partition", "day")
    assert again.returncode == 0, again
    assert "replaced 200 rows of hist" in again.stdout and "now 200 rows" in again.stdout, again.stdout
    assert "--replace-partition" in _cli("score", "--help").stdout
    summary = _cli("score", str(db), "ev", _day("2026-12-01"), "--into", "hist", "--replace-partition", "day",
                   "--format", "json")
    assert summary.returncode == 0, summary
    assert json.loads(summary.stdout) | {"model": None} == {"model": None, "table": "hist", "rows_written": 200,
                                                            "table_rows": 200, "appended": True, "rows_replaced": 200}


def test_cli_replace_partition_of_no_rows_replaces_none_and_says_so(days_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    odd = "SELECT order_ref, day AS \"the day's\", count, amount FROM events WHERE day = DATE '2026-12-01'"
    assert _cli("score", str(db), "ev", odd, "--into", "hist", "--replace-partition", "the day's").returncode == 0
    empty = odd.replace("2026-12-01", "2026-12-09")
    res = _cli("score", str(db), "ev", empty, "--into", "hist", "--replace-partition", "the day's")
    assert res.returncode == 0 and "no rows of hist were replaced" in res.stderr, res
    again = _cli("score", str(db), "ev", odd, "--into", "hist", "--replace-partition", "the day's")
    assert again.returncode == 0 and "replaced 200 rows of hist" in again.stdout, again
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM hist").fetchall() == [(200,)]


def test_cli_replace_partition_failed_by_a_note_after_the_commit_says_the_rows_were_replaced(
        days_db: Path, tmp_path: Path) -> None:
    # A note made an error (PYTHONWARNINGS=error) comes once the rows are stored; the day holds as many rows as
    # before, and an outcome told by the row count said the table "was not changed".
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    for day in ("2026-12-01", "2026-12-02"):
        assert _cli("score", str(db), "ev", _day(day), "--into", "hist", "--replace-partition", "day").returncode == 0
    # day 2 re-scored with a row of day 1 restated as day 2: the note on its id, held under day 1
    moved = ("SELECT order_ref, event_uuid, DATE '2026-12-02' AS day, count, amount FROM events "
             "WHERE day = DATE '2026-12-02' OR order_ref = 'o-000005'")
    res = _cli("score", str(db), "ev", moved, "--into", "hist", "--replace-partition", "day",
               env={"PYTHONWARNINGS": "error"})
    assert res.returncode == 1, res
    assert re.search(r"1 of the 201 rows added to hist have a (order_ref|event_uuid) that hist holds under another "
                     "day", res.stderr), res.stderr
    assert "meanwhile 200 rows of hist were replaced with this run's (now 401 rows" in res.stderr, res.stderr
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM hist WHERE day = DATE '2026-12-02'").fetchall() == [(201,)]


@pytest.fixture(scope="module")
def two_models_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A file database with models 'a_ae' and 'b_ae' (wide enough that their ONNX bytes fill blocks of their own,
    apart from the rows' other columns), and 'a_ae' exported to a .onnx file. Made once per process: test_ops5_ops
    borrows it, with a copy of its own (builtonce.py)."""
    def build(folder: Path) -> None:
        with ad_duckdb.connect(str(folder / "m.duckdb")) as con:
            con.execute("CREATE TABLE tx AS SELECT range AS id, 1 + range % 20 AS count, (1 + range % 20) * "
                        "(20 + range % 7) AS amount FROM range(400)")
            for name in ("a_ae", "b_ae"):
                ad_duckdb.train(con, name, "tx", features=["count", "amount"], n_models=1, max_steps=20,
                                progress=False, hidden_dims=(256, 128))
            ad_duckdb.export_model(con, "a_ae", str(folder / "a_ae.onnx"))

    folder = built_once("ops4_damage", tmp_path_factory, build)
    return folder / "m.duckdb", folder / "a_ae.onnx"


def _damage_onnx_block(path: Path) -> None:
    """Change a byte of the first block holding ad_models.onnx (its checksum then fails)."""
    with duckdb.connect(str(path), read_only=True) as con:
        block = con.execute("SELECT min(block_id) FROM pragma_storage_info('ad_models') WHERE column_name = 'onnx' "
                            "AND block_id >= 0").fetchall()[0][0]
        meta = con.execute("SELECT list(DISTINCT block_id) FROM pragma_storage_info('ad_models') "
                           "WHERE column_name = 'name'").fetchall()[0][0]
        size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
    assert block not in meta  # the names are readable: the test is of the ONNX bytes alone
    with open(path, "r+b") as f:
        f.seek(3 * 4096 + block * size + 100)
        b = f.read(1)
        f.seek(3 * 4096 + block * size + 100)
        f.write(bytes([b[0] ^ 0xFF]))


def test_a_damaged_block_of_stored_models_names_them_and_the_recovery(
        two_models_db: tuple[Path, Path], tmp_path: Path) -> None:
    # Before: one damaged block of the models' ONNX bytes made the whole file unreadable to every command: `list`,
    # and any connect, said "the database file is damaged ... restore the file from a backup", naming no model,
    # though the models' names and the rest of the file read well; the user could not tell which models to import.
    db = tmp_path / "m.duckdb"
    db.write_bytes(two_models_db[0].read_bytes())
    _damage_onnx_block(db)
    listed = _cli("list", str(db), "--format", "json")
    assert listed.returncode == 0, listed
    rows = json.loads(listed.stdout)
    rows = rows["models"] if isinstance(rows, dict) else rows
    assert {(r["name"], r["status"]) for r in rows} == {("a_ae", "damaged"), ("b_ae", "damaged")}, rows
    problem = next(r["problem"] for r in rows if r["name"] == "a_ae")
    assert "damaged block" in problem and "ad-duckdb drop" in problem and "ad-duckdb import" in problem, problem
    # the file's other tables still read, and scoring the model says what is wrong with it
    with ad_duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM tx").fetchall() == [(400,)]
        with pytest.raises(ad_duckdb.AdDuckDBError, match=r"a_ae.*damaged block"):
            ad_duckdb.score(con, "a_ae", "tx")
    # the recovery said: drop the damaged models, import the exported one; it then scores
    for name in ("a_ae", "b_ae"):
        assert _cli("drop", str(db), name, "--yes").returncode == 0
    imported = _cli("import", str(db), str(two_models_db[1]))
    assert imported.returncode == 0, imported
    with ad_duckdb.connect(str(db)) as con:
        assert ad_duckdb.score(con, "a_ae", "tx").num_rows == 400


def test_replace_partition_by_a_column_that_does_not_partition_the_rows_says_so(days_db: Path, tmp_path: Path) -> None:
    # Before (of the new mode): partitioned by each row's own value (an event's timestamp, an id), a rerun replaced
    # only the rows of those very values and kept the others beside the new rows, without a word.
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    with ad_duckdb.connect(str(db)) as con:
        with warnings_caught() as got:
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_partition=["day"])
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_partition=["day"])
        assert not [w for w in got if "does not partition" in str(w.message)], [str(w.message) for w in got]
        with warnings_caught() as got:
            ad_duckdb.score(con, "ev", _day("2026-12-02"), into="hist", replace_partition=["order_ref"])
        said = [str(w.message) for w in got if "does not partition" in str(w.message)]
        assert len(said) == 1 and "order_ref: 200 distinct values in the 200 new rows" in said[0], said
        # made an error, it leaves the table as it was
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ad_duckdb.AdDuckDBWarning, match="does not partition"):
                ad_duckdb.score(con, "ev", _day("2026-12-03"), into="hist", replace_partition=["order_ref"])
        assert con.execute("SELECT count(*) FROM hist").fetchall() == [(400,)]
