"""Crashes: a process SIGKILLed while training, or while bulk scoring into a table, loses nothing.

Each child is a real ``python`` process on a copy of one database file; the parent kills it at a
known point (the training progress bar has advanced; scoring has started) and then reopens the file.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import ad_duckdb
from ad_duckdb import storeload

from conftest import FAST, ROOT, make_transactions


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "base.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=3000)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    finally:
        con.close()
    return path


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def _scores(path: Path, ref: str) -> np.ndarray:
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(f"SELECT anomaly_score('{ref}', count, amount) FROM transactions ORDER BY transaction_id")
        return np.array([r[0] for r in rows.fetchall()])
    finally:
        con.close()


def _tables(path: Path) -> set[str]:
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()


def _spawn(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT))


def _wait_for(stream: object, pattern: str, timeout: float) -> str:
    """Read ``stream`` (unbuffered, char by char) until ``pattern`` matches; returns what was read."""
    seen = ""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()  # type: ignore[attr-defined]
    while time.monotonic() < deadline:
        ch = os.read(fd, 1).decode(errors="replace")
        if not ch:
            break
        seen += ch
        if re.search(pattern, seen):
            return seen
    raise AssertionError(f"child never printed {pattern!r}; it printed: {seen[-2000:]}")


def test_sigkill_during_training_leaves_no_partial_model(base_db: Path, tmp_path: Path) -> None:
    path = _copy(base_db, tmp_path / "train_kill.duckdb")
    before = _scores(path, "tx_ae")
    child = _spawn(f"""
        import ad_duckdb
        con = ad_duckdb.connect({str(path)!r})
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], n_models=1,
                        max_steps=10_000_000, epochs=100_000, patience=10_000, progress=True)
    """)
    try:
        # The progress line at the start of the loop (stderr is a pipe: lines, not the bar), and a second into the
        # optimizer steps: the child is inside the training loop.
        _wait_for(child.stderr, r"training tx_ae: 0/\d{6,} steps\n", timeout=300)
        time.sleep(1)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert _tables(path) == {"transactions", "ad_models", "ad_thresholds", "ad_model_versions", "ad_model_current",
                            "ad_model_log"}
    con = ad_duckdb.connect(str(path))
    try:
        assert [(m["name"], m["version"]) for m in ad_duckdb.list_models(con)] == [("tx_ae", 1)]
        cur = con.cursor()
        recs, problems = storeload.load_all(cur)
        cur.close()
        assert problems == {} and len(recs) == 1
        assert con.execute("SELECT count(*) FROM ad_thresholds WHERE version <> 1").fetchall()[0][0] == 0
    finally:
        con.close()
    np.testing.assert_array_equal(_scores(path, "tx_ae"), before)  # the previous version still scores
    # And the file still takes a new version afterwards.
    con = ad_duckdb.connect(str(path))
    try:
        assert ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST).version == 2
    finally:
        con.close()


# The child's CPU time (all its threads') at START and the CPU time and wall time its scoring took at DONE
SCORE_CHILD = """
    import time, ad_duckdb
    con = ad_duckdb.connect({path!r})
    c0 = time.process_time()
    print("START", c0, flush=True)
    t0 = time.perf_counter()
    n = ad_duckdb.score(con, "tx_ae", "SELECT t.* FROM transactions t, range({reps})", into="scored", replace=True)
    print("DONE", n, round(time.process_time() - c0, 3), round(time.perf_counter() - t0, 3), flush=True)
    con.close()
"""


def _reps_for_seconds(path: Path, seconds: float) -> int:
    """How many copies of the 3000 transactions make bulk scoring take about ``seconds`` here (measured)."""
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        ad_duckdb.score(con, "tx_ae", "transactions")  # warm the session
        t0 = time.perf_counter()
        ad_duckdb.score(con, "tx_ae", "SELECT t.* FROM transactions t, range(10)")
        per_rep = (time.perf_counter() - t0) / 10
    finally:
        con.close()
    return int(min(2000, max(10, seconds / max(per_rep, 1e-6))))


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) process ``pid`` has spent so far: it rises only while the process works."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_score_child(path: Path, kill_after_cpu: float | None, reps: int) -> tuple[bool, str]:
    """Run a bulk-scoring child; SIGKILL it once its scoring has spent ``kill_after_cpu`` seconds of CPU time.
    Returns (finished, output). Why CPU time, not the clock: the kill must land part-way through the work, and a
    loaded machine (or one less loaded than during the full run measured) stretches or shrinks the clock's time of
    the same work, so kills timed by the clock landed after the run had ended."""
    child = _spawn(SCORE_CHILD.format(path=str(path), reps=reps))
    try:
        assert child.stdout is not None
        started = _wait_for(child.stdout, r"START \S+\n", timeout=120)
        if kill_after_cpu is None:
            out, err = child.communicate(timeout=300)
            assert child.returncode == 0, err
            return True, out
        at = float(started.split()[-1]) + kill_after_cpu
        while child.poll() is None and _cpu_seconds(child.pid) < at:
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=60)
        return "DONE" in out, out
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def test_sigkill_during_bulk_scoring_leaves_no_partial_table(base_db: Path, tmp_path: Path) -> None:
    # A full run first: how long scoring takes here, and a complete table to check "replace" against.
    full = _copy(base_db, tmp_path / "full.duckdb")
    reps = _reps_for_seconds(full, 3.0)
    finished, out = _run_score_child(full, None, reps)
    cpu, took = map(float, out.split()[-2:])
    n_rows = 3000 * reps
    assert int(out.split()[-3]) == n_rows
    con = ad_duckdb.connect(str(full), read_only=True)
    try:
        want_sum = con.execute("SELECT sum(anomaly_score) FROM scored").fetchall()[0][0]
    finally:
        con.close()

    killed_mid_way = 0
    for i, (start, fraction) in enumerate([(base_db, 0.1), (base_db, 0.5), (full, 0.3), (full, 0.8)]):
        path = _copy(start, tmp_path / f"kill{i}.duckdb")
        finished, _ = _run_score_child(path, cpu * fraction, reps)
        killed_mid_way += not finished
        con = ad_duckdb.connect(str(path), read_only=True)
        try:
            tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            if start is base_db and not finished:
                assert "scored" not in tables  # no partial table
            else:
                # The table is complete: the old one (replace was cut short) or the new one, never a mix.
                n, s = con.execute("SELECT count(*), sum(anomaly_score) FROM scored").fetchall()[0]
                assert n == n_rows and s == pytest.approx(want_sum, rel=1e-9)
            assert con.execute("SELECT count(anomaly_score('tx_ae', count, amount)) FROM transactions"
                               ).fetchall()[0][0] == 3000
        finally:
            con.close()
    assert killed_mid_way >= 2  # the kills really landed while scoring ran
    print(f"\nbulk scoring: a full run of {n_rows} rows took {took:.2f}s; {killed_mid_way} of 4 kills landed mid-way, "
          "none left a partial table")


def _cli_with_file_size_limit(*args: str) -> subprocess.CompletedProcess[str]:
    """The command in a process that may not write a byte of any file (RLIMIT_FSIZE; SIGXFSZ ignored, so a write
    fails with EFBIG): every commit fails as on a full disk, reproducibly and without mounting anything."""
    import resource

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))

    return subprocess.run([sys.executable, "-m", "ad_duckdb.cli", *args], capture_output=True, text=True, timeout=300,
                          preexec_fn=limit, cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("command", ["score", "drop", "evaluate"])
def test_a_failed_commit_reports_its_cause_and_keeps_what_was_stored(base_db: Path, tmp_path: Path,
                                                                       command: str) -> None:
    # Before: when COMMIT failed (a full disk, a file size limit), the ROLLBACK after it failed too ("no transaction
    # is active") and its error replaced the real one: "Error: TransactionContext Error: cannot rollback - no
    # transaction is active", which says nothing of the disk.
    import duckdb

    path = _copy(base_db, tmp_path / f"{command}.duckdb")
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE scored AS SELECT 1 AS kept FROM range(3)")
    con.execute("CREATE TABLE labelled AS SELECT *, (amount > 300)::INTEGER AS label FROM transactions")
    con.execute("CHECKPOINT")  # nothing left for the limited process to write back but its own work
    con.close()
    args = {"score": ("score", str(path), "tx_ae", "transactions", "--into", "scored", "--replace"),
            "drop": ("drop", str(path), "tx_ae", "--yes"),
            "evaluate": ("evaluate", str(path), "tx_ae", "labelled", "--label", "label", "--into", "scored",
                         "--replace")}[command]
    p = _cli_with_file_size_limit(*args)
    assert p.returncode == 1 and "File too large" in p.stderr and "cannot rollback" not in p.stderr, p.stderr
    assert p.stderr.startswith("Error: ") and len(p.stderr.strip().splitlines()) == 1, p.stderr
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*), min(kept) FROM scored").fetchall() == [(3, 1)]
        assert [(m["name"], m["version"]) for m in ad_duckdb.list_models(con)] == [("tx_ae", 1)]
        assert ad_duckdb.load_model(con, "tx_ae").version == 1
    finally:
        con.close()
