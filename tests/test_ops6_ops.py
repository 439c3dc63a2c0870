"""Operations left open (ops6): a damaged block of the stored thresholds, history on a damaged store, a
--replace-where whose condition cannot be read on a held row, a score table that records no threshold, and a
nightly job meeting another process on its file."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from test_hardaudit_damage import _byte_changed
from test_ops4_ops import _cli, _day, days_db  # noqa: F401  (the fixture, used by name)

import ad_duckdb

from conftest import ROOT


@contextlib.contextmanager
def _no_notes() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ad_duckdb.AdDuckDBWarning)
        yield


def _copy(days_db: Path, tmp_path: Path) -> Path:  # noqa: F811
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    return db


def _stored(db: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT model, version, threshold_name, value, method FROM ad_thresholds "
                           "ORDER BY ALL").fetchall()


def test_a_damaged_block_of_the_thresholds_is_named_with_what_reads_and_a_repair_that_loses_nothing(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # Before: every command said "the database file is damaged ... restore the file from a backup": neither that
    # only the thresholds were lost, nor that the models and tables read, nor a repair short of a backup.
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.set_threshold(con, "ev", "cut", "manual", value=7.5)
        ad_duckdb.set_threshold(con, "ev", "fl", "flag_budget", target=0.2,
                                source="SELECT *, (count > 14)::INT AS label FROM events", label="label")
    good = {(m, v, n): (val, how) for m, v, n, val, how in _stored(db)}
    _byte_changed(db, "ad_thresholds", "value")
    before = db.read_bytes()
    listed = _cli("list", str(db))  # the models read (ops7: only the calls needing a threshold fail)
    assert listed.returncode == 0 and "ev" in listed.stdout, listed
    for args in (["score", str(db), "ev", "events", "--top", "3"],):
        res = _cli(*args)
        assert res.returncode == 3 and len(res.stderr.strip().splitlines()) == 1, (args, res)
        said = res.stderr
        assert said.startswith(f"Error: Cannot read the thresholds stored in {str(db)!r}: the block holding table "
                               "ad_thresholds is damaged"), said
        assert "The models themselves still read (ev@1)" in said and "as do its own tables (events)" in said, said
        assert f"ad-duckdb restore-thresholds {db}" in said and "restore the file from a backup" in said, said
    own = _cli("sql", str(db), "SELECT count(*) FROM events")
    assert own.returncode == 0 and own.stdout.split()[-1] == "600", own
    assert db.read_bytes() == before  # left as it was
    with ad_duckdb.connect(str(db), read_only=True) as con:
        with pytest.raises(duckdb.Error, match=r"Cannot read the thresholds stored in .*restore-thresholds"):
            con.execute("SELECT is_anomaly('ev', count, amount) FROM events").fetchall()
    fixed = _cli("restore-thresholds", str(db))
    assert fixed.returncode == 0, fixed
    out = fixed.stdout
    assert "ev@1: default, p90, p95, p99, p999 stored again from its training scores" in out, out
    assert "kept as table ad_thresholds_damaged" in out, out
    # the goal ad_models keeps: the command that chooses it again; a cut of one's own: stored again from the changelog
    assert re.search(r"'fl' of ev@1 .*ad-duckdb threshold \S+ ev@1 fl --method flag_budget --target 0\.2", out), out
    assert "'cut' of ev@1 stored again as last set" in out and "thresholds of your own set by value" not in out, out
    now = {(m, v, n): (val, how) for m, v, n, val, how in _stored(db)}
    assert set(now) == {("ev", 1, n) for n in ("default", "p90", "p95", "p99", "p999", "cut")}, now
    for key, (val, how) in now.items():
        assert how == good[key][1] and val == pytest.approx(good[key][0], rel=1e-9), (key, val, good[key])
    scored = _cli("score", str(db), "ev", "events", "--top", "3", "--format", "csv")
    assert scored.returncode == 0 and len(scored.stdout.splitlines()) == 4, scored
    with duckdb.connect(str(db), read_only=True) as con:  # the damaged block kept, not dropped: nothing thrown away
        assert con.execute("SELECT count(*) FROM ad_thresholds_damaged").fetchall() == [(7,)]
    again = _cli("restore-thresholds", str(db))
    assert again.returncode == 0 and "nothing to restore" in again.stdout, again


def test_history_of_a_store_whose_names_block_is_damaged_reads_the_changelog_and_says_what_it_could_not(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # Before: history exited 3 with the damaged store's message, though the changelog (ad_model_log) and the
    # thresholds are other blocks and read: the audit trail of who stored and promoted what was out of reach.
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.train(con, "ev", "events", features=["count", "amount"], n_models=1, max_steps=30, progress=False)
        ad_duckdb.rollback(con, "ev")
    _byte_changed(db, "ad_models", "name")  # the block of every model's name, features and training figures
    before = db.read_bytes()
    res = _cli("history", str(db), "ev")
    assert res.returncode == 0, res
    assert "ev@2" in res.stdout and "ev@1" in res.stdout and "rolled back to: 'ev' was ev@2" in res.stdout, res.stdout
    assert "thresholds: default" in res.stdout, res.stdout  # from ad_thresholds, which reads
    assert "its row in ad_models cannot be read" in res.stdout, res.stdout
    said = res.stderr
    assert said.startswith("note: ") and "the block holding the stored models' names" in said, said
    assert "from its changelog (ad_model_log) and thresholds" in said and "sha256" in said, said
    got = _cli("history", str(db), "ev", "--format", "json")
    assert got.returncode == 0, got
    doc = json.loads(got.stdout)
    assert [(v["version"], v["status"]) for v in doc["versions"]] == [(1, "unreadable"), (2, "unreadable")], doc
    assert doc["current"] == 1 and "block holding the stored models' names" in doc["unreadable"], doc
    assert doc["versions"][0]["thresholds"]["default"] > 0, doc
    with ad_duckdb.connect(str(db), read_only=True) as con, pytest.warns(ad_duckdb.AdDuckDBWarning, match="changelog"):
        assert ad_duckdb.model_history(con, "ev")["versions"][1]["events"][0]["event"] == "trained"
    assert db.read_bytes() == before


def test_replace_where_whose_delete_cannot_convert_a_held_row_names_the_column_value_and_the_condition_to_write(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # A history table whose day column is text (loaded from CSV), where a late row holds 'n/a'. The check before
    # the scoring reads the condition on the first rows only; the DELETE met the bad one. Before: "Error: Conversion
    # Error: invalid date field format: "n/a" ... LINE 1: DELETE FROM "hist" WHERE (day = DATE '2026-12-02'", which
    # named neither the table's row nor what to write instead (the table was left as it was).
    db = _copy(days_db, tmp_path)
    held = ("SELECT order_ref || '-' || r AS order_ref, CASE WHEN r = 9 AND day = DATE '2026-12-03' THEN 'n/a' "
            "ELSE day::VARCHAR END AS day, count, amount FROM events, range(10) t(r) ORDER BY r, order_ref")
    rerun = "SELECT order_ref, day::VARCHAR AS day, count, amount FROM events WHERE day = DATE '2026-12-02'"
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.score(con, "ev", held, into="hist", append=True)
        before = con.execute("SELECT * FROM hist ORDER BY ALL").fetchall()
        with pytest.raises(ad_duckdb.BadInputError) as got:
            ad_duckdb.score(con, "ev", rerun, into="hist", replace_where="day = DATE '2026-12-02'")
        said = str(got.value)
        assert "cannot be evaluated on every row hist holds: its column day (VARCHAR) holds 'n/a'" in said, said
        assert "which does not convert to DATE" in said and "hist was left as it was" in said, said
        fix = re.search(r'write "([^"]+)"', said)
        assert fix is not None and fix.group(1) == "TRY_CAST(day AS DATE) = DATE '2026-12-02'", said
        assert "day = '2026-12-02'" in said and "DELETE FROM" not in said, said
        assert con.execute("SELECT * FROM hist ORDER BY ALL").fetchall() == before
        # the condition the message gives runs: the day's 2000 held rows replaced by the 200 new ones
        assert ad_duckdb.score(con, "ev", rerun, into="hist", replace_where=fix.group(1)) == 200
        assert con.execute("SELECT count(*) FROM hist WHERE day = '2026-12-02'").fetchall() == [(200,)]
    res = _cli("score", str(db), "ev", rerun, "--into", "hist", "--replace-where", "day = DATE '2026-12-02'")
    assert res.returncode == 1 and res.stderr.startswith("Error: Scoring with 'ev': --replace-where "
                                                         "\"day = DATE '2026-12-02'\" cannot"), res
    assert "TRY_CAST(day AS DATE)" in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr


def _unmarked_cut(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The is_anomaly mark as builds before the threshold was recorded in it wrote it (no cut)."""
    (comment,) = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = ? AND column_name = "
                             "'is_anomaly'", [table]).fetchall()[0]
    old = re.sub(r', is_anomaly at threshold "[^"]*"', "", comment)
    assert old != comment and "threshold" not in old.split(";")[0], comment
    con.execute(f"COMMENT ON COLUMN {table}.is_anomaly IS '{old}'")


@pytest.mark.parametrize("how", ["earlier build", "copy"])
def test_appending_to_a_table_whose_flags_record_no_threshold_says_so_once(
        days_db: Path, tmp_path: Path, how: str) -> None:  # noqa: F811
    # Before: a table scored before the threshold was recorded in its mark (or copied, which drops the comments)
    # read as "cut unknown" and a run at another cut added its rows beside without a word; the run then recorded
    # its own cut for the whole table, and later runs trusted it.
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", append=True)
        if how == "earlier build":
            _unmarked_cut(con, "hist")
        else:
            con.execute("ALTER TABLE hist RENAME TO hist0")
            con.execute("CREATE TABLE hist AS FROM hist0")
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
            ad_duckdb.score(con, "ev", _day("2026-12-02"), into="hist", append=True, threshold="p95")
        said = " ".join(str(w.message) for w in got)
        assert "hist's is_anomaly records no threshold for the 200 rows it held" in said, said
        assert "this run's 200 rows are at threshold 'p95'" in said and "now records 'p95'" in said, said
        assert "replace_where=" in said and "replace=True" in said and "--" not in said, said
        with _no_notes():  # recorded now: the next run at the same cut says nothing
            ad_duckdb.score(con, "ev", _day("2026-12-03"), into="hist", append=True, threshold="p95")
        assert con.execute("SELECT count(*) FROM hist").fetchall() == [(600,)]


def test_a_nightly_append_that_fills_the_disk_says_whether_the_table_changed_and_to_run_again(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # A cron job appending scores on a disk that fills up. Before: "No space left on device (... `ad-duckdb list`, or
    # the table, shows whether this one was.)": the operator had to find out by hand whether the run's rows were
    # added before a retry, which adds them twice if they were. The disk is a tmpfs in a mount namespace of the
    # test's own (unshare), gone when it ends.
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:  # last night's run
        ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", append=True)
    disk = tmp_path / "disk"
    disk.mkdir()
    ad = Path(sys.executable).parent / "ad-duckdb"
    run = shlex.join([str(ad), "score", "d.duckdb", "ev", _day("2026-12-02"), "--into", "hist", "--append"])
    script = (f"mount -t tmpfs -o size=12m tmpfs {shlex.quote(str(disk))} && cd {shlex.quote(str(disk))} && "
              f"cp {shlex.quote(str(db))} d.duckdb && (dd if=/dev/zero of=filler bs=64k 2>/dev/null; true) && "
              f"({run}; echo \"rc=$?\"; rm filler; {run} 2>/dev/null)")
    res = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", script], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "rc=1" in res.stdout, res
    said = res.stderr
    assert "No space left on device" in said and "The disk is full" in said, said
    assert "hist was not changed (200 rows): the rows are added in one transaction, all or none" in said, said
    assert "run the command again once there is room" in said and "shows whether" not in said, said
    # the run again, once the filler is gone, adds the day once
    assert "added 200 scored rows to hist (now 400 rows" in res.stdout, res
