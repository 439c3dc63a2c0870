"""`score --into`'s rows scored ahead (``scoreahead``): the read ahead waits with --wait for a file another process
writes, and rows that did not change between the read ahead and the write keep the results scored ahead."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_ops16_scoreahead import _write_from_another_process

import ad_duckdb
from ad_duckdb import scoreahead, scorecmd
from ad_duckdb.cli import cli

from conftest import FAST, copy_tx_ae, make_transactions

# a process of its own holding DB for writing (which DuckDB refuses others, even to read) until it reads a line
_HOLDER = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute('CREATE TABLE IF NOT EXISTS held (x INT)'); "
           "print('held', flush=True); sys.stdin.readline(); c.close()")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tx_ae_master: Path) -> str:
    """make_transactions' 3000 rows and tx_ae on them: a byte copy of conftest's tx_ae_master, the same file."""
    return copy_tx_ae(tx_ae_master, tmp_path_factory.mktemp("ahead17") / "warehouse.duckdb")


@pytest.fixture()
def db(trained: str, tmp_path: Path) -> str:
    """A copy of the trained file, for a test that changes it."""
    path = str(tmp_path / "warehouse.duckdb")
    shutil.copy(trained, path)
    return path


def _holder(db: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _let_go(proc: subprocess.Popen[str]) -> None:
    proc.communicate("\n", timeout=30)  # closes its pipes too
    assert proc.returncode == 0


def test_with_wait_the_read_ahead_waits_for_a_writer_and_scores_unlocked(db: str) -> None:
    holder = _holder(db)
    # the read ahead, as `ad-duckdb --wait 60 score DB tx_ae transactions --into t` runs it, in a thread of its own
    # while the other process holds the file
    got: list[scoreahead.Ahead | None] = []
    ctx = cli.make_context("ad-duckdb", ["--wait", "60", "list", db])

    def read_ahead() -> None:
        with ctx:
            got.append(scorecmd._scored_ahead(db, "tx_ae", "transactions", "t", (), False, False, "default", False,
                                                (), False, 60.0))

    thread = threading.Thread(target=read_ahead)
    thread.start()
    thread.join(0.7)
    assert thread.is_alive()  # still waiting for the file
    _let_go(holder)
    thread.join(60)
    assert got and got[0] is not None  # read once the file was free, and scored with no lock held
    con = ad_duckdb.connect(db)
    try:
        with scoreahead.reused(got[0]):
            assert ad_duckdb.score(con, "tx_ae", "transactions", into="t") == 3000
        assert got[0].taken == 3000
    finally:
        con.close()


def test_the_command_with_wait_scores_a_file_another_process_held(db: str) -> None:
    holder = _holder(db)
    cmd = subprocess.Popen([sys.executable, "-m", "ad_duckdb", "--wait", "60", "score", db, "tx_ae", "transactions",
                            "--into", "by_cli", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert cmd.stderr is not None
    waiting = cmd.stderr.readline()  # said before it waits
    _let_go(holder)
    out, err = cmd.communicate(timeout=120)
    assert cmd.returncode == 0, err
    assert "waiting up to 60s (--wait)" in waiting, waiting
    assert "waiting" not in err  # once: the write found the file free
    con = ad_duckdb.connect(db)
    try:
        ad_duckdb.score(con, "tx_ae", "transactions", into="by_api")
        both = [con.execute(f"SELECT * FROM {t}").fetchall() for t in ("by_cli", "by_api")]
    finally:
        con.close()
    assert both[0] == both[1]


def test_with_wait_a_file_held_throughout_fails_after_one_wait(db: str) -> None:
    holder = _holder(db)
    try:
        res = subprocess.run([sys.executable, "-m", "ad_duckdb", "--wait", "0.6", "score", db, "tx_ae",
                              "transactions", "--into", "t", "--quiet"], capture_output=True, text=True, timeout=120)
    finally:
        _let_go(holder)
    assert res.returncode == 4, res.stderr
    assert res.stderr.count("waiting up to 0.6s") == 1, res.stderr  # not a second wait as long by the write
    assert "waited 0.6s with --wait" in res.stderr, res.stderr


def _read_ahead(db: str, explain: bool = False) -> scoreahead.Ahead:
    """The rows of transactions read and scored as `score --into` does ahead, on a read-only open closed after."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        outputs = ["anomaly_score", "anomaly_percentile", "is_anomaly"]
        pending = scoreahead.read(con, "tx_ae", "transactions", [], outputs, explain, "default", False)
    finally:
        con.close()
    assert pending is not None
    return pending.score()


def _with_and_without(db: str, ahead: scoreahead.Ahead, explain: bool = False) -> list[list[tuple[object, ...]]]:
    """The table written with the rows scored ahead, and the one written without, row by row in order."""
    con = ad_duckdb.connect(db)
    try:
        with scoreahead.reused(ahead):
            ad_duckdb.score(con, "tx_ae", "transactions", into="ahead", explain=explain)
        ad_duckdb.score(con, "tx_ae", "transactions", into="fresh", explain=explain)
        return [con.execute(f"SELECT * FROM {t}").fetchall() for t in ("ahead", "fresh")]
    finally:
        con.close()


def _same_table(got: list[tuple[object, ...]], want: list[tuple[object, ...]], score_at: int) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        # the score, of rows scored in batches of other sizes: to the last bits alone (CPUs differ there)
        assert g[score_at] == pytest.approx(w[score_at], rel=1e-9)
        assert g[:score_at] + g[score_at + 1:] == w[:score_at] + w[score_at + 1:]


def test_rows_updated_meanwhile_are_scored_again_and_the_others_keep_theirs(db: str) -> None:
    ahead = _read_ahead(db)
    changed = 3000 // 97  # ids 97, 194, ...: from the first, every later row was scored again
    _write_from_another_process(db, "UPDATE transactions SET amount = amount * 40 WHERE transaction_id % 97 = 0")
    got, want = _with_and_without(db, ahead)
    assert ahead.taken == 3000 - changed
    _same_table(got, want, score_at=4)


def test_rows_deleted_and_added_meanwhile_leave_the_others_their_results(db: str) -> None:
    ahead = _read_ahead(db, explain=True)
    _write_from_another_process(db, "DELETE FROM transactions WHERE transaction_id < 100; INSERT INTO transactions "
                                "SELECT transaction_id + 10000, count + 50, amount * 9, amount_d FROM transactions "
                                " WHERE transaction_id BETWEEN 100 AND 139")
    got, want = _with_and_without(db, ahead, explain=True)
    assert ahead.taken == 2901  # ids 100 to 3000; the 40 new rows scored in the write
    _same_table(got, want, score_at=4)


def test_restore_says_cuts_an_older_build_set_after_the_first_logged_one_are_not_named(tmp_path: Path) -> None:
    """A file written partly by an older build (checked with a real one: a checkout from before the changelog kept
    each threshold set, run on the file after this release set a cut) holds cuts that build set, unlogged, on
    versions stored after the first logged cut; restore-thresholds named only the versions stored before it, so
    those were lost without a word. Made here as that build leaves it: a cut in ad_thresholds with no log entry."""
    from click.testing import CliRunner
    from test_hardaudit_damage import _byte_changed

    db = tmp_path / "mixed.duckdb"
    con = ad_duckdb.connect(str(db))
    try:
        make_transactions(con, n=600)
        fast = {**FAST, "max_steps": 50}
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **fast)
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=5.0)  # logged: the first
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **fast)
        # the older build's `threshold ... tx_ae@2 old_cut --method manual --value 9`: the row alone
        con.execute("INSERT INTO ad_thresholds (model, version, threshold_name, value, method, chosen_on, "
                    "flagged_share, created_at) VALUES ('tx_ae', 2, 'old_cut', 9.0, 'manual', 'set by hand', 0.001, "
                    "now()::TIMESTAMP)")
    finally:
        con.close()
    _byte_changed(db, "ad_thresholds", "value")
    res = CliRunner().invoke(cli, ["restore-thresholds", str(db)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "'cut' of tx_ae@1 stored again as last set" in res.output, res.output
    line = next((ln for ln in res.output.splitlines() if "older ad-duckdb" in ln), "")
    assert "not named here" in line and "set it again if ad-duckdb show lacks it" in line, res.output


def test_the_note_on_a_long_explanation_is_said_once_before_the_rows_are_scored_ahead(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The note came from the write, after the explanations (the long part) were scored ahead, and its probe ran under
    # the write lock; it is now said on the read ahead's open, once. Every run is "long" at thresholds of 0.
    from click.testing import CliRunner

    from ad_duckdb import explaincost

    monkeypatch.setattr(explaincost, "LONG_SECONDS", 0.0)
    monkeypatch.setattr(explaincost, "SHORT_PASSES", 0)
    res = CliRunner().invoke(cli, ["score", db, "tx_ae", "transactions", "--into", "s", "--explain",
                                              "--quiet"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert res.stderr.count("note: explaining 3,000 rows of 2 columns will take about") == 1, res.stderr
    assert f"ad-duckdb explain {db} tx_ae s --where is_anomaly --limit 1000" in res.stderr, res.stderr
