"""Operations of a nightly job (ops5): score --into --replace-where, notes and closed pipes of every printing command,
a damaged block of the models' names, and a job run by cron."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from test_hardaudit_damage import _byte_changed
from test_ops4_ops import _cli, _damage_onnx_block, _day, _hist, days_db, two_models_db  # noqa: F401  (the fixtures, used by name)

import ad_duckdb

from conftest import FAST, ROOT


def _copy(days_db: Path, tmp_path: Path) -> Path:  # noqa: F811
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    return db


def test_replace_where_empties_a_day_whose_source_has_no_rows_now(days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # Before: only --replace-partition, which takes the days to replace from the new rows: a day whose rows were
    # withdrawn upstream scored no row, replaced none, and kept yesterday's stale scores.
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        for day in ("2026-12-01", "2026-12-02"):  # the first run creates the table
            assert ad_duckdb.score(con, "ev", _day(day), into="hist", replace_where=f"day = DATE '{day}'",
                                   model_column=True) == 200
        first = _hist(con)
        gone: list[int] = []
        assert ad_duckdb.score(con, "ev", _day("2026-12-02"), into="hist", replace_where="day = DATE '2026-12-02'",
                               model_column=True, _replaced=gone) == 200
        assert gone == [200] and len(_hist(con)) == 400
        assert ad_duckdb.score(con, "ev", _day("2026-12-02") + " AND false", into="hist",
                               replace_where="day = DATE '2026-12-02'", model_column=True) == 0
        assert _hist(con) == first[:200]
    res = _cli("score", str(db), "ev", _day("2026-12-01") + " AND false", "--into", "hist", "--replace-where",
               "day = DATE '2026-12-01'", "--model-column")
    assert res.returncode == 0, res
    assert "replaced 200 rows of hist (those where day = DATE '2026-12-01') with 0 scored rows (now 0 rows" \
        in res.stdout, res.stdout
    assert "200 rows of hist where day = DATE '2026-12-01' were deleted and none added" in res.stderr, res.stderr
    back = _cli("score", str(db), "ev", _day("2026-12-01"), "--into", "hist", "--replace-where",
                "day = DATE '2026-12-01'", "--format", "json", "--model-column")
    assert back.returncode == 0, back
    assert json.loads(back.stdout) | {"model": None} == {"model": None, "table": "hist", "rows_written": 200,
                                                         "table_rows": 200, "appended": True, "rows_replaced": 0}
    assert "--replace-where" in _cli("score", "--help").stdout


def test_replace_where_refuses_new_rows_it_does_not_select_and_keeps_the_table(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # a rerun of the wrong day, or a condition narrower than the source: the rows outside would stay beside the
    # rows the next rerun keeps, so the run is refused in its transaction
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        with pytest.raises(ad_duckdb.BadInputError, match=r"200 of the 200 new rows are not selected by replace_where"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where="day = DATE '2026-12-02'")
        assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name = 'hist'").fetchall()  # not created
        ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where="day = DATE '2026-12-01'")
        before = con.execute("SELECT * FROM hist ORDER BY order_ref").fetchall()
        two_days = "SELECT order_ref, event_uuid, day, count, amount FROM events WHERE day <= DATE '2026-12-02'"
        with pytest.raises(ad_duckdb.BadInputError, match=r"200 of the 400 new rows .*hist was left as it was"):
            ad_duckdb.score(con, "ev", two_days, into="hist", replace_where="day = DATE '2026-12-01'")
        # NULL is not selected either: a row of no day would never be replaced by a rerun
        with pytest.raises(ad_duckdb.BadInputError, match=r"1 of the 201 new rows"):
            ad_duckdb.score(con, "ev", _day("2026-12-01") + " UNION ALL SELECT 'x', NULL, NULL, 3, 30.0",
                            into="hist", replace_where="day = DATE '2026-12-01'")
        assert con.execute("SELECT * FROM hist ORDER BY order_ref").fetchall() == before


@pytest.mark.parametrize("condition", ["1=1; DROP TABLE events", "true) OR (true", "day = DATE '2026-12-01';"])
def test_replace_where_is_one_condition_and_runs_no_other_statement(days_db: Path, tmp_path: Path,  # noqa: F811
                                                                    condition: str) -> None:
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_partition="day")
        with pytest.raises(ad_duckdb.BadInputError, match="The filter"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where=condition)
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(600,)]
        assert con.execute("SELECT count(*) FROM hist").fetchall() == [(200,)]


def test_replace_where_refuses_a_condition_the_table_cannot_read_and_other_modes(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_partition="day")
        with pytest.raises(ad_duckdb.BadInputError, match=r"replace_where.*'dy = 1' cannot be read on hist.*dy"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where="dy = 1")
        # a cron line whose date command failed: refused before the scoring, naming the table, not our staged one
        with pytest.raises(ad_duckdb.BadInputError, match=r"\"day = DATE ''\" cannot be read on hist \(Conversion"
                           ) as got:
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where="day = DATE ''")
        assert "__ad_" not in str(got.value), got.value
        for kw in ({"replace_partition": "day"}, {"replace": True}):
            with pytest.raises(ad_duckdb.OptionError, match="replace_where"):
                ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where="day = DATE '2026-12-01'",
                                **kw)
        with pytest.raises(ad_duckdb.OptionError, match="replace_where"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), replace_where="day = DATE '2026-12-01'")
        assert con.execute("SELECT day, count(*) FROM hist GROUP BY day").fetchall() == [(date(2026, 12, 1), 200)]
    both = _cli("score", str(db), "ev", _day("2026-12-01"), "--into", "hist", "--replace-where", "true",
                "--replace-partition", "day")
    assert both.returncode == 2 and "give one of them" in both.stderr and "Traceback" not in both.stderr, both


def test_replace_partition_of_no_rows_points_to_replace_where(days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    db = _copy(days_db, tmp_path)
    assert _cli("score", str(db), "ev", _day("2026-12-01"), "--into", "hist", "--replace-partition",
                "day").returncode == 0
    res = _cli("score", str(db), "ev", _day("2026-12-01") + " AND false", "--into", "hist", "--replace-partition",
               "day")
    assert res.returncode == 0 and "keeps any earlier rows of that day" in res.stderr, res
    assert "--replace-where \"day = ...\"" in res.stderr, res.stderr
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM hist").fetchall() == [(200,)]


def _damage_names_block(path: Path) -> None:
    """Change a byte of the block holding ad_models.name (and the other small columns of every model)."""
    with duckdb.connect(str(path), read_only=True) as con:
        apart = con.execute("SELECT min(block_id) FILTER (column_name = 'name') NOT IN (SELECT block_id FROM "
                            "pragma_storage_info('ad_models') WHERE column_name = 'onnx') FROM "
                            "pragma_storage_info('ad_models') WHERE block_id >= 0").fetchall()[0][0]
    assert apart  # the ONNX bytes read: the test is of the names' block alone
    _byte_changed(path, "ad_models", "name")


def test_a_damaged_block_of_the_models_names_leaves_the_file_readable_and_names_what_is_lost(
        two_models_db: tuple[Path, Path], tmp_path: Path) -> None:  # noqa: F811
    # Before: connect, and every command (sql on the user's own tables too), failed on the whole file: "the database
    # file is damaged ... restore the file from a backup", though only the block of the models' names was, and
    # neither which models were lost nor how to save the rest was said.
    db = tmp_path / "m.duckdb"
    db.write_bytes(two_models_db[0].read_bytes())
    _damage_names_block(db)
    before = db.read_bytes()
    with ad_duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tx").fetchall() == [(400,)]
        with pytest.raises(duckdb.Error, match=r"block holding the stored models' names.*it held 'a_ae', 'b_ae'"):
            con.execute("SELECT anomaly_score('a_ae', count, amount) FROM tx").fetchall()
        with pytest.raises(ad_duckdb.DatabaseUnavailableError, match=r"no model stored in it can be loaded"):
            ad_duckdb.list_models(con)
    for args in (["list", str(db)], ["show", str(db), "a_ae"], ["export", str(db), "a_ae", str(tmp_path / "x.onnx")],
                 ["score", str(db), "a_ae", "tx", "--top", "3"],
                 ["sql", str(db), "SELECT anomaly_score('a_ae', count, amount) FROM tx"]):
        res = _cli(*args)
        assert res.returncode == 3 and len(res.stderr.strip().splitlines()) == 1, (args, res)
        said = res.stderr
        assert said.startswith(f"Error: Cannot read {str(db)!r}: the database file is damaged, it holds a block "
                               "whose checksum does not match"), said
        assert "the block holding the stored models' names, features and training figures (table ad_models)" in said
        assert "it held 'a_ae', 'b_ae'" in said and "as do its own tables (tx)" in said, said
        assert "restore the file from a backup" in said and "ad-duckdb import NEW.duckdb FILE" in said, said
    own = _cli("sql", str(db), "SELECT count(*) FROM tx")
    assert own.returncode == 0 and own.stdout.split()[-1] == "400", own
    # the recovery said: the tables copied to a new file, the exported model imported there
    copy = re.search(r'ad-duckdb sql NEW\.duckdb --write "([^"]+)"', said)
    assert copy is not None, said
    new = tmp_path / "new.duckdb"
    assert _cli("sql", str(new), "--write", copy.group(1)).returncode == 0
    assert _cli("import", str(new), str(two_models_db[1])).returncode == 0
    with ad_duckdb.connect(str(new)) as con:
        assert ad_duckdb.score(con, "a_ae", "tx").num_rows == 400
    assert db.read_bytes() == before  # left as it was


def test_sql_calling_a_model_whose_onnx_block_is_damaged_says_the_models_problem_as_score_does(
        two_models_db: tuple[Path, Path], tmp_path: Path) -> None:  # noqa: F811
    # Before: exit 3, "Cannot read DB: the database file is damaged ... (Invalid Input Error: Python exception
    # occurred while executing the UDF: IntegrityError: Model 'a_ae@1': ...). ... restore the file from a backup":
    # the model's own message and recovery (drop it, import its export) buried in the file's, where score said it
    # alone with exit 8.
    db = tmp_path / "m.duckdb"
    db.write_bytes(two_models_db[0].read_bytes())
    _damage_onnx_block(db)
    scored = _cli("score", str(db), "a_ae", "tx", "--top", "3")
    called = _cli("sql", str(db), "SELECT anomaly_score('a_ae', count, amount) FROM tx")
    for res in (scored, called):
        assert res.returncode == 8, res
        assert res.stderr.startswith("Error: Model 'a_ae@1': its stored ONNX bytes are in a damaged block"), res.stderr
        assert "Cannot read" not in res.stderr and "executing the UDF" not in res.stderr, res.stderr


def _on_read_only_mount(src: Path, mnt: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``ad-duckdb ARGS`` with ``src`` mounted read-only at ``mnt``, in a mount namespace of its own (unshare): the
    mount is gone when the command ends."""
    ad = Path(sys.executable).parent / "ad-duckdb"
    script = (f"mount --bind {shlex.quote(str(src))} {shlex.quote(str(mnt))} && mount -o remount,bind,ro "
              f"{shlex.quote(str(mnt))} && cd {shlex.quote(str(cwd or mnt))} && exec {shlex.join([str(ad), *args])}")
    return subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", script], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_write_to_a_database_on_a_read_only_mount_says_so_and_reads_still_work(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # A cron job's copy of the models on a read-only volume. Before: "its folder ... is not writable by this user ...
    # Fix: make the folder writable (chmod u+w)", which cannot help on a read-only mount (nor was root stopped by
    # permissions). The mount is made in a mount namespace of the test's own (unshare), gone when it ends.
    src, mnt = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    mnt.mkdir()
    _copy(days_db, src)
    db = mnt / "d.duckdb"
    wrote = _on_read_only_mount(src, mnt, "score", str(db), "ev", "events", "--into", "s")
    assert wrote.returncode == 3, wrote
    assert f"its folder {str(mnt)!r} is on a file system mounted read-only" in wrote.stderr, wrote.stderr
    assert "chmod" not in wrote.stderr and "work on a copy in a writable folder" in wrote.stderr, wrote.stderr
    read = _on_read_only_mount(src, mnt, "score", str(db), "ev", "events", "--top", "2", "--format", "csv")
    assert read.returncode == 0 and len(read.stdout.splitlines()) == 3, read
    # an export or a plot written into the read-only working folder: the error names the file asked for. Before:
    # "Read-only file system: '.ev.onnx.4711.tmp'", the temporary file's name, from the clean-up after the failure
    exported = _on_read_only_mount(src, mnt, "export", str(db), "ev", "ev.onnx")
    assert exported.returncode == 1, exported
    assert exported.stderr.startswith("Error: Read-only file system: 'ev.onnx' (in the working folder"), exported
    assert ".tmp" not in exported.stderr, exported.stderr
    (src / "plots").mkdir()
    plotted = _on_read_only_mount(src, mnt, "score", str(db), "ev", "events", "--plots", "plots", "--top", "0")
    assert plotted.returncode == 1 and "Read-only file system: 'plots'" in plotted.stderr, plotted
    assert ".tmp" not in plotted.stderr, plotted.stderr


@pytest.fixture(scope="module")
def noted_db(days_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """days_db with ev@1's threshold 'cut', ev@2 staged, a table of 3 labelled anomalies (few) and one whose amounts moved (drifted)."""
    db = tmp_path_factory.mktemp("ops5_notes") / "n.duckdb"
    db.write_bytes(days_db.read_bytes())
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.set_threshold(con, "ev", "cut", "quantile", target=0.95)  # one ev@2 lacks
        ad_duckdb.train(con, "ev", "events", features=["count", "amount"], promote=False, **FAST)
        con.execute("CREATE TABLE few AS SELECT *, (order_ref IN ('o-000001', 'o-000002', 'o-000003'))::INT AS label "
                    "FROM events")
        con.execute("CREATE TABLE drifted AS SELECT * REPLACE (amount * 50 AS amount), 0 AS label FROM events")
    return db


# (command, whether a note made an error fails it): each prints a report or rows
_PRINTING = [
    (["evaluate", "{db}", "ev", "few", "--label", "label"], True),          # few labelled anomalies
    (["evaluate", "{db}", "ev", "drifted", "--label", "label"], True),      # rows moved away from training
    (["compare", "{db}", "ev@1", "ev@2", "drifted"], True),                 # thresholds ev@2 lacks
    (["score", "{db}", "ev", "drifted", "--top", "5"], True),               # rows moved away from training
    (["score", "{db}", "ev", "drifted", "--top", "5", "--format", "json"], True),
    (["explain", "{db}", "ev", "drifted", "--where", "count > 0"], False),
    (["check-threshold", "{db}", "ev", "p99", "--source", "drifted"], False),
    (["list", "{db}"], False),
    (["show", "{db}", "ev"], False),
    (["history", "{db}", "ev"], False),
    (["sql", "{db}", "SELECT *, anomaly_score('ev', count, amount) FROM drifted"], False),
]


@pytest.mark.parametrize(("args", "fails"), _PRINTING, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_printing_commands_under_pythonwarnings_error_fail_before_printing_and_end_quietly_on_a_closed_pipe(
        noted_db: Path, args: list[str], fails: bool) -> None:
    # A job keeping stdout as its report under PYTHONWARNINGS=error: a note made an error must fail the command
    # before any row or report line is printed (one printed, then "failed", was kept as a report of a failed run); and
    # `| head -1` ends a command without a traceback or "Exception ignored", exit 141 (or 0 when it had finished).
    args = [a.replace("{db}", str(noted_db)) for a in args]
    strict = _cli(*args, env={"PYTHONWARNINGS": "error"})
    if fails:
        assert strict.returncode == 1 and strict.stdout == "", strict
        assert "made an error by PYTHONWARNINGS" in strict.stderr, strict.stderr
    else:
        assert strict.returncode in (0, 9) and strict.stdout, strict
    assert "Traceback" not in strict.stderr, strict.stderr
    ad = Path(sys.executable).parent / "ad-duckdb"
    with subprocess.Popen([str(ad), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # as `| head -1` does once it has its line
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=300)
    assert code in (0, 9, 141), (code, err)
    assert "Traceback" not in err and "Exception ignored" not in err, err


def _sh(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_closed_stdout_or_stderr_is_an_output_error_or_dropped_not_a_traceback(noted_db: Path) -> None:
    # A cron line or a daemon with its standard streams closed (>&-, 2>&-). Before: stdout closed, every line was
    # dropped without a word and the exit printed "AttributeError: 'NoneType' object has no attribute 'flush'", a
    # traceback; stderr closed, the error line went into stdout, in the middle of the CSV a job kept.
    ad = shlex.quote(str(Path(sys.executable).parent / "ad-duckdb"))
    db = shlex.quote(str(noted_db))
    closed = _sh(f"exec {ad} list {db} >&-")
    assert closed.returncode == 1, closed
    assert closed.stderr.startswith("Error: writing the output (stdout): standard output is closed (>&-); the "
                                    "output is incomplete: give the command an output"), closed.stderr
    assert len(closed.stderr.splitlines()) == 1, closed.stderr
    failed = _sh(f"exec {ad} score {db} ev no_such_table --top 1 --format csv 2>&-")
    assert failed.returncode == 6 and failed.stdout == "", failed
    rows = _sh(f"exec {ad} score {db} ev events --top 2 --format csv 2>&-")
    assert rows.returncode == 0 and len(rows.stdout.splitlines()) == 3, rows
