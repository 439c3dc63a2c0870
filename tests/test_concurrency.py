"""Concurrency: scoring threads while the model is re-trained, and two processes training into one file.

Assertions are about behaviour only (no query fails, every row is scored by one complete stored
version, a pinned 'name@N' never changes). The throughput of 1 vs 2 scoring threads is measured and
printed (run with ``-s`` to see it), never asserted: the machine is shared.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import pytest

import ad_duckdb
from ad_duckdb import store, storeload, thresholdrows

from conftest import FAST, ROOT, make_transactions

T = TypeVar("T")

SCORE_Q = "SELECT anomaly_score(?, count, amount) FROM transactions ORDER BY transaction_id"


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file database with transactions (3000 rows) and tx_ae@1."""
    path = tmp_path_factory.mktemp("conc") / "base.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=3000)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    finally:
        con.close()
    return path


def _scores(cur: duckdb.DuckDBPyConnection, ref: str) -> np.ndarray:
    return np.array([r[0] for r in cur.execute(SCORE_Q, [ref]).fetchall()], dtype=np.float64)


def test_scoring_threads_while_retraining(base_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "conc.duckdb"
    path.write_bytes(base_db.read_bytes())
    con = ad_duckdb.connect(str(path))
    n_threads = 4
    stop = threading.Event()
    latest: list[np.ndarray] = []
    pinned: list[np.ndarray] = []
    after: list[np.ndarray] = []  # rounds that started once every re-training was stored
    errors: list[BaseException] = []
    lock = threading.Lock()  # guards the result lists only, never the scoring

    def scorer(k: int) -> None:
        cur = con.cursor()
        try:
            rounds = 0
            while True:
                # Why read before the round: the last round must start after the last version was stored.
                final = stop.is_set()
                a = _scores(cur, "tx_ae")
                b = _scores(cur, "tx_ae@1")
                with lock:
                    latest.append(a)
                    pinned.append(b)
                    if final:
                        after.append(a)
                rounds += 1
                if final and rounds >= 2:
                    break
        except BaseException as e:  # noqa: BLE001 - any failure is what the test reports
            with lock:
                errors.append(e)
        finally:
            cur.close()

    threads = [threading.Thread(target=scorer, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    try:
        # Two re-trainings under the same name while the threads score (different seeds: different scores; 200 steps
        # give versions that differ on every row for seeds 0-2, and the scorers many rounds during each)
        for seed in (1, 2):
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"],
                            **{**FAST, "seed": seed, "max_steps": 200})
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=300)
    try:
        assert errors == []
        assert [m["version"] for m in ad_duckdb.list_models(con)] == [1, 2, 3]
        refs = {v: _scores(con, f"tx_ae@{v}") for v in (1, 2, 3)}
    finally:
        con.close()
    ref_matrix = np.stack([refs[1], refs[2], refs[3]])  # [3 versions, rows]
    # The versions really differ on most rows, so "equals one version" is a meaningful check.
    assert np.mean(~np.isclose(refs[1], refs[2], rtol=1e-5)) > 0.5
    seen: set[int] = set()
    mixed = 0
    for a in latest:
        match = np.isclose(a[None, :], ref_matrix, rtol=1e-6, atol=0)  # which version scored each row
        assert match.any(axis=0).all(), "a row's score matches no complete stored version"
        versions = {int(np.argmax(match[:, i])) + 1 for i in range(0, len(a), 500)}
        seen |= versions
        mixed += len(versions) > 1
    for b in pinned:
        np.testing.assert_array_equal(b, refs[1])  # 'tx_ae@1' never changes version
    assert len(latest) >= n_threads * 2
    assert len(after) >= n_threads
    for a in after:  # a query that starts after a re-training is stored scores with it
        np.testing.assert_allclose(a, refs[3], rtol=1e-6, atol=0)
    assert 3 in seen
    print(f"\nconcurrency: {len(latest) + len(pinned)} queries by {n_threads} threads during 2 re-trainings, "
          f"0 failed; versions seen by 'tx_ae': {sorted(seen)}; queries that spanned a retrain: {mixed}")


def test_scoring_throughput_one_vs_two_threads(base_db: Path, tmp_path: Path) -> None:
    """Threads scoring through cursors of one connection are not serialized by a lock of ours."""
    path = tmp_path / "tp.duckdb"
    path.write_bytes(base_db.read_bytes())
    con = ad_duckdb.connect(str(path), config={"threads": 1})  # one DuckDB thread per query: threads are ours
    # Size the table so one query takes about half a second here (model speed varies with its size).
    con.execute("SELECT sum(anomaly_score('tx_ae', count, amount)) FROM transactions").fetchall()
    t0 = time.perf_counter()
    con.execute("SELECT sum(anomaly_score('tx_ae', count, amount)) FROM transactions").fetchall()
    reps = int(min(200, max(2, 0.5 / max(time.perf_counter() - t0, 1e-6))))
    con.execute(f"CREATE TABLE big AS SELECT t.* FROM transactions t, range({reps})")
    n_rows = 3000 * reps
    q = "SELECT sum(anomaly_score('tx_ae', count, amount)) FROM big"
    expected = con.execute(q).fetchall()[0][0]
    results: list[float] = []

    def run(n_queries: int) -> None:
        cur = con.cursor()
        try:
            for _ in range(n_queries):
                results.append(cur.execute(q).fetchall()[0][0])
        finally:
            cur.close()

    def timed(n_threads: int, n_queries: int) -> float:
        ts = [threading.Thread(target=run, args=(n_queries,)) for _ in range(n_threads)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return n_threads * n_queries * n_rows / (time.perf_counter() - t0)

    try:
        one = timed(1, 4)
        two = timed(2, 4)
    finally:
        con.close()
    assert results == [expected] * 12  # same answer from every thread
    print(f"\nthroughput: 1 thread {one / 1e6:.2f}M rows/s, 2 threads {two / 1e6:.2f}M rows/s "
          f"(x{two / one:.2f} on {os.cpu_count()} shared cores)")



def test_two_cursors_score_at_the_same_time(base_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README (Security): threads scoring through cursors of one connection are not serialized by a lock of ours.
    The first two onnxruntime runs wait for each other at a barrier: with any lock of ours around scoring, the second
    could not start while the first waits, the barrier would break and the queries fail. No clock is read."""
    import onnxruntime

    path = tmp_path / "both.duckdb"
    path.write_bytes(base_db.read_bytes())
    con = ad_duckdb.connect(str(path), config={"threads": 1})  # one DuckDB thread per query: the overlap is ours
    q = "SELECT sum(anomaly_score('tx_ae', count, amount)) FROM transactions"
    expected = con.execute(q).fetchall()[0][0]  # sessions made before the race
    meet = threading.Barrier(2, timeout=120)
    calls = [0]
    calls_lock = threading.Lock()
    real_run = onnxruntime.InferenceSession.run

    def run_meeting_the_other(self: onnxruntime.InferenceSession, *args: object, **kwargs: object) -> object:
        with calls_lock:
            calls[0] += 1
            first_two = calls[0] <= 2
        if first_two:
            meet.wait()  # returns only once a second run has started beside this one
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(onnxruntime.InferenceSession, "run", run_meeting_the_other)
    results: list[object] = []
    errors: list[BaseException] = []

    def score() -> None:
        cur = con.cursor()
        try:
            results.append(cur.execute(q).fetchall()[0][0])
        except BaseException as e:  # reported below, with the other thread's outcome
            errors.append(e)
        finally:
            cur.close()

    threads = [threading.Thread(target=score) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        monkeypatch.undo()
        con.close()
    assert errors == [] and not meet.broken
    assert results == [expected, expected]


CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import ad_duckdb, ad_duckdb.detector, ad_duckdb.export  # pay the torch import before the race
    from ad_duckdb.exceptions import BadInputError
    from conftest import FAST
    print("READY", flush=True)
    sys.stdin.readline()
    try:
        con = ad_duckdb.connect({path!r})
    except BadInputError as e:
        print("LOCKED", e, flush=True)
        sys.exit(3)
    try:
        info = ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{{**FAST, "seed": {seed}}})
        print("STORED", info.version, flush=True)
    finally:
        con.close()
""")


def test_two_processes_training_into_one_file(base_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "race.duckdb"
    path.write_bytes(base_db.read_bytes())
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD.format(tests=str(ROOT / "tests"), path=str(path), seed=s)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for s in (11, 12)
    ]
    outs: list[tuple[int, str, str]] = []
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line.strip() == "READY", p.stderr.read() if p.stderr else line
        for p in procs:  # both go at once
            assert p.stdin is not None
            p.stdin.write("GO\n")
            p.stdin.flush()
        for p in procs:
            out, err = p.communicate(timeout=600)
            outs.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()  # closes the pipes
    codes = sorted(rc for rc, _, _ in outs)
    assert codes in ([0, 0], [0, 3]), outs
    for rc, out, _ in outs:
        if rc == 3:  # the loser got our clear lock error, naming the fix
            # (not "open it read-only": a writer's lock refuses readers too)
            assert "for writing: another process has it open for writing" in out and "wait for it to finish" in out
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        cur = con.cursor()
        recs, problems = storeload.load_all(cur)
        cur.close()
        assert problems == {}  # no half-written row
        versions = [r.version for r in recs]
        assert versions == list(range(1, 2 + codes.count(0)))
        for r in recs:  # each stored version is complete: thresholds and scores
            assert {t.name for t in r.thresholds} >= {"default", "p99"}
            got = con.execute(f"SELECT count(anomaly_score('tx_ae@{r.version}', count, amount)) FROM transactions")
            assert got.fetchall()[0][0] == 3000
        orphans = con.execute("SELECT count(*) FROM ad_thresholds t ANTI JOIN ad_models m "
                              "ON t.model = m.name AND t.version = m.version").fetchall()[0][0]
        assert orphans == 0
    finally:
        con.close()
    print(f"\ntwo writers: exit codes {codes} ({'one won, one got the lock error' if 3 in codes else 'both stored'})")


_SAME_FILE_TWICE = """
import gc, sys
import ad_duckdb
p = sys.argv[1]
# a notebook cell that connects, run twice: the first connection object is dropped
con = ad_duckdb.connect(p)
con = ad_duckdb.connect(p)
gc.collect()
first = con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0]
# two connections, the first one closed
c1, c2 = ad_duckdb.connect(p), ad_duckdb.connect(p)
c1.close()
assert c2.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] == first
ad_duckdb.register(c2)
ad_duckdb.refresh(c2)
assert c2.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] == first
# when every connection is closed and gone, the file is released: another process can write it; a plain
# connection still open then gets a clear error (register it), never freed code
import duckdb
plain = duckdb.connect(p)
con.close(); c2.close()
del con, c1, c2
gc.collect()
try:
    plain.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()
    raise AssertionError("expected the functions to be gone")
except duckdb.CatalogException:
    pass
ad_duckdb.register(plain)
assert plain.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] == first
plain.close()
del plain
gc.collect()
# the same with connection settings, which DuckDB requires a second connection to repeat
c1, c2 = ad_duckdb.connect(p, config={"threads": 1}), ad_duckdb.connect(p, config={"threads": 1})
c1.close(); del c1; gc.collect()
assert c2.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] == first
c2.close(); del c2; gc.collect()
import subprocess
subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('CREATE TABLE w (x INT)')", p],
               check=True)
con = ad_duckdb.connect(p)  # and this process can open it again
assert con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] == first
con.close(); del con; gc.collect()
# plain connections with settings, both registered: the second registration cannot reopen the file with those
# settings, so it is refused with a message (the functions stay usable from the first; no crash later)
d1, d2 = duckdb.connect(p, config={"threads": 1}), duckdb.connect(p, config={"threads": 1})
ad_duckdb.register(d1)
try:
    ad_duckdb.register(d2)
    raise AssertionError("expected a refusal")
except ad_duckdb.BadInputError as e:
    assert "ad_duckdb.connect(path, config=...)" in str(e), e
assert d1.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] == first
d1.close(); d2.close(); del d1, d2; gc.collect()
# an in-memory database: registering a cursor keeps the functions (there is no file to reopen)
m = ad_duckdb.connect()
m.execute("ATTACH '" + p + "' AS w (READ_ONLY)")
m.execute("CREATE TABLE ad_models AS SELECT * FROM w.ad_models")
m.execute("CREATE TABLE ad_thresholds AS SELECT * FROM w.ad_thresholds")
ad_duckdb.refresh(m)
cur = m.cursor()
ad_duckdb.register(cur)
assert cur.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] == first
assert m.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] == first
print("ok")
"""


def test_two_connections_to_one_file_in_one_process(base_db: Path, tmp_path: Path) -> None:
    # DuckDB frees a Python function when the connection that created it closes; calling it from another
    # connection of the same file then crashed the process (SIGSEGV). Run in a child so a crash is a failure.
    path = tmp_path / "twice.duckdb"
    path.write_bytes(base_db.read_bytes())
    r = subprocess.run([sys.executable, "-c", _SAME_FILE_TWICE, str(path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), (r.returncode, r.stderr[-2000:])


_REOPEN_AFTER_CLOSE = """
import subprocess, sys
import ad_duckdb
p = sys.argv[1]
Q = "SELECT anomaly_score('tx_ae', 5, 100)"
c1, c2 = ad_duckdb.connect(p), ad_duckdb.connect(p)
first = c2.execute(Q).fetchall()[0][0]
# other settings while both are open: refused naming the file and the fix, not DuckDB's bare "different configuration"
try:
    ad_duckdb.connect(p, read_only=True)
    raise AssertionError("expected a refusal")
except ad_duckdb.DatabaseUnavailableError as e:
    assert repr(p) in str(e) and "close" in str(e) and "read_only=False" in str(e), e
assert c1.execute(Q).fetchall()[0][0] == first
# both closed, their objects still referenced (a notebook's variables): the file opens again with other settings
c1.close(); c2.close()
ro = ad_duckdb.connect(p, read_only=True)
assert ro.execute(Q).fetchall()[0][0] == first
ro.close()
subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('CREATE TABLE w (x INT)')", p],
               check=True)
# a plain connection still open: the same refusal, not DuckDB's bare one
import duckdb
c1, c2, plain = ad_duckdb.connect(p), ad_duckdb.connect(p), duckdb.connect(p)
c1.close(); c2.close()
try:
    ad_duckdb.connect(p, read_only=True)
    raise AssertionError("expected a refusal")
except ad_duckdb.DatabaseUnavailableError as e:
    assert "open already with other settings" in str(e), e
plain.close()
print("ok")
"""


def test_a_file_reopens_with_other_settings_once_its_connections_are_closed(base_db: Path, tmp_path: Path) -> None:
    # Two connections to one file move the functions to a connection of ours, which closed only when the user's
    # connections were garbage-collected: after con.close() on both (variables still set), opening the file
    # read-only in the same process failed with DuckDB's "different configuration than existing connections".
    path = tmp_path / "reopen.duckdb"
    path.write_bytes(base_db.read_bytes())
    r = subprocess.run([sys.executable, "-c", _REOPEN_AFTER_CLOSE, str(path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), (r.returncode, r.stderr[-2000:])


_REREGISTER_WHILE_QUERYING = """
import sys, threading
import pyarrow as pa
import pyarrow.compute as pc
import ad_duckdb
p = sys.argv[1]
con = ad_duckdb.connect(p)
# The batch holding row GATE_ROW waits in the middle of the query (rows before and after it call anomaly_score) until
# the functions have been moved or replaced: the query surely calls the removed ones after, as a loaded machine or a
# long query would (a query of millions of rows and a pause of 0.3 s before did it by timing, 15 s a run).
GATE_ROW = 200000
reached, release = threading.Event(), threading.Event()
def gate(i: pa.Array) -> pa.Array:
    if pc.any(pc.equal(i, GATE_ROW)).as_py():
        reached.set()
        release.wait()
    return pc.multiply(i, 0)
con.create_function("gate", gate, ["BIGINT"], "BIGINT", type="arrow", side_effects=True)
Q = ("SELECT count(s), count(DISTINCT s) FROM (SELECT anomaly_score('tx_ae', i % 20 + 1 + gate(i), (i % 20 + 1) * 20.0) "
     "s FROM range(400000) t(i))")
want = con.execute(Q.replace("400000", "40")).fetchall()[0]
others = []
for step in ("second connection", "register(replace=True)", "register(models=..., replace=True)"):
    out = []
    reached.clear()
    release.clear()
    def run():
        cur = con.cursor()
        out.append(cur.execute(Q).fetchall()[0])
        cur.close()
    t = threading.Thread(target=run)
    t.start()
    reached.wait()  # the query is calling anomaly_score now, and waits for the step below
    if step == "second connection":  # a notebook cell that connects, run again while a query runs
        others.append(ad_duckdb.connect(p))
    elif step == "register(replace=True)":
        ad_duckdb.register(con, replace=True)
    else:
        ad_duckdb.register(con, models=["tx_ae"], replace=True)
    assert t.is_alive(), step
    release.set()
    t.join()
    assert out == [(400000, want[1])], (step, out, want)
    assert con.execute(Q.replace("400000", "40")).fetchall()[0] == want
print("ok")
"""


def test_functions_moved_or_replaced_while_a_query_runs(base_db: Path, tmp_path: Path) -> None:
    # A second ad_duckdb.connect to the file moves the functions to a connection of ours, and register(replace=True)
    # re-creates them; both remove the old Python functions from DuckDB, which dropped its reference to them while
    # a query on another thread was still calling them: the process crashed (SIGSEGV). Run in a child.
    path = tmp_path / "rereg.duckdb"
    path.write_bytes(base_db.read_bytes())
    r = subprocess.run([sys.executable, "-c", _REREGISTER_WHILE_QUERYING, str(path)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), (r.returncode, r.stderr[-2000:])


def test_trainings_on_several_threads_give_the_model_a_lone_training_gives(base_db: Path, tmp_path: Path) -> None:
    # A dbt run with threads > 1 trains its Python models at the same time, on cursors of one connection. Before,
    # one training's torch.manual_seed could land between another's seeding and its weight initialisation (both
    # use torch's global generator): the same data and seed gave another model (scores off by up to 4.5 in a
    # run of this test) depending on timing.
    path = tmp_path / "t.duckdb"
    path.write_bytes(base_db.read_bytes())
    # several members: their initialisation takes long enough for another thread to run in between
    params = {**FAST, "max_steps": 60, "n_models": 5}
    con = ad_duckdb.connect(str(path))
    try:
        ad_duckdb.train(con, "lone", "transactions", features=["count", "amount"], **params)
        n_threads, rounds = 4, 2
        names = [f"together_{i}" for i in range(n_threads * rounds)]
        start = threading.Barrier(n_threads)
        errors: list[BaseException] = []

        def train(name: str) -> None:
            cur = con.cursor()
            try:
                start.wait()
                ad_duckdb.train(cur, name, "transactions", features=["count", "amount"], **params)
            except BaseException as e:  # noqa: BLE001 - reported by the assertion below
                errors.append(e)
            finally:
                cur.close()

        for r in range(rounds):
            workers = [threading.Thread(target=train, args=(n,)) for n in names[r * n_threads:(r + 1) * n_threads]]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        assert not errors, errors
        ad_duckdb.refresh(con)
        lone = _scores(con, "lone")
        off = {n: float(np.abs(_scores(con, n) - lone).max()) for n in names}
        assert all(v == 0.0 for v in off.values()), off
    finally:
        con.close()


HOLD_UNTIL_TOLD = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])  # a writer: a training run, a cron job's `score --into --append`
    print("HELD", flush=True)
    sys.stdin.readline()
    con.close()
    print("RELEASED", flush=True)
""")


class _OnWaiting(logging.Handler):
    """Runs ``then`` at the first log record saying that a connect waits for the file."""

    def __init__(self, then: Callable[[], None]) -> None:
        super().__init__()
        self.then, self.seen = then, 0

    def emit(self, record: logging.LogRecord) -> None:
        if "waiting" in record.getMessage():
            self.seen += 1
            if self.seen == 1:
                self.then()


@contextmanager
def released_when_waiting(holder: subprocess.Popen[str]) -> Iterator[_OnWaiting]:
    """While inside: the first log line saying a call waits for the file tells ``holder`` (HOLD_UNTIL_TOLD) to let
    go, so the call is known to have waited; the handler counts the waits (``.seen``)."""
    def release() -> None:
        assert holder.stdin is not None
        holder.stdin.write("GO\n")
        holder.stdin.flush()

    seen = _OnWaiting(release)
    log = logging.getLogger("ad_duckdb")
    level = log.level
    log.addHandler(seen)
    log.setLevel(logging.INFO)
    try:
        yield seen
    finally:
        log.removeHandler(seen)
        log.setLevel(level)


def test_python_connect_waits_for_a_file_another_process_holds(base_db: Path, tmp_path: Path) -> None:
    """An Airflow task retraining from Python while the cron job's scoring still holds the file got "wait for it
    to finish" and no way to, though the command line has --wait: connect(wait=SECONDS) now polls the lock, logs
    that it waits (naming the holder), and names its wait in the error when the file stays held."""
    path = tmp_path / "held.duckdb"
    path.write_bytes(base_db.read_bytes())
    holder = subprocess.Popen([sys.executable, "-c", HOLD_UNTIL_TOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "HELD"
        with pytest.raises(ad_duckdb.DatabaseLockedError, match=r"Conflicting lock is held in .*\(PID \d+\).*"
                           r"ad_duckdb\.connect\(\.\.\., wait=SECONDS\) waits for the file to be free"):
            ad_duckdb.connect(str(path))
        with pytest.raises(ad_duckdb.DatabaseLockedError, match=r"\(waited 0\.2s with wait=0\.2\)$"):
            ad_duckdb.connect(str(path), wait=0.2)

        with released_when_waiting(holder) as seen:
            con = ad_duckdb.connect(str(path), wait=600)
        try:
            assert seen.seen >= 1  # it did wait: the holder let go only once the first attempt had been refused
            assert con.execute("SELECT anomaly_score('tx_ae', 1, 2.0) > 0").fetchone() == (True,)
        finally:
            con.close()
        assert holder.stdout.readline().strip() == "RELEASED"
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate()  # closes its pipes


def _at_once(con: duckdb.DuckDBPyConnection, n: int, job: Callable[[duckdb.DuckDBPyConnection], T]) -> list[T]:
    """``job(cursor)`` on ``n`` threads, each with a cursor of ``con``, started together; their results. Warnings
    are recorded, not raised (filterwarnings=error), and a thread's exception fails the test."""
    start = threading.Barrier(n)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        cur = con.cursor()
        try:
            start.wait()
            results.append(job(cur))
        except BaseException as e:
            errors.append(e)
        finally:
            cur.close()

    workers = [threading.Thread(target=run) for _ in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    return results


def test_imports_of_one_file_at_once_store_it_once(base_db: Path, tmp_path: Path) -> None:
    """A deployment step run by several workers of one process at once (dbt threads, a retried task beside the
    first): importing a file that the latest version already holds stores nothing, but the check ran before the
    save's transaction, so three imports at once stored the same model as m@1, m@2 and m@3."""
    src = ad_duckdb.connect(str(base_db), read_only=True)
    try:
        ad_duckdb.export_model(src, "tx_ae", str(tmp_path / "tx_ae.onnx"))
    finally:
        src.close()
    con = ad_duckdb.connect(str(tmp_path / "deploy.duckdb"))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            versions = _at_once(con, 3, lambda cur: ad_duckdb.import_model(cur, str(tmp_path / "tx_ae.onnx")).version)
        assert versions == [1, 1, 1], versions
        assert con.execute("SELECT name, version FROM ad_models").fetchall() == [("tx_ae", 1)]
        said = [str(w.message) for w in caught if "nothing imported" in str(w.message)]
        assert len(said) == 2 and said[0].startswith("tx_ae@1 is already this model"), [str(w.message) for w in caught]
    finally:
        con.close()


def test_two_incremental_appends_at_once_score_each_new_row_once(base_db: Path, tmp_path: Path) -> None:
    """A scheduler in one process whose 10-minute job overlapped its previous run (two threads, each
    score(..., append=True) of the rows past the table's last id): both read the table as it was before either
    wrote, and every new row was added twice. Across processes the file lock made the second wait; in one process
    nothing did."""
    path = tmp_path / "append.duckdb"
    path.write_bytes(base_db.read_bytes())
    con = ad_duckdb.connect(str(path))
    try:
        first = ad_duckdb.score(con, "tx_ae", "SELECT * FROM transactions WHERE transaction_id < 1000",
                                into="tx_scores", columns=["transaction_id"], append=True)
        since = ("SELECT * FROM transactions WHERE transaction_id > "
                 "(SELECT coalesce(max(transaction_id), -1) FROM tx_scores)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the run that finds no new row says so
            added = _at_once(con, 2, lambda cur: ad_duckdb.score(cur, "tx_ae", since, into="tx_scores",
                                                                 columns=["transaction_id"], append=True))
        total = con.execute("SELECT count(*) FROM transactions").fetchone()
        assert total is not None
        assert sorted(added) == [0, total[0] - first], added
        assert con.execute("SELECT count(*), count(DISTINCT transaction_id) FROM tx_scores").fetchone() == (total[0],) * 2
    finally:
        con.close()


def test_incremental_appends_take_turns_however_the_table_is_written(base_db: Path, tmp_path: Path) -> None:
    """Two overlapping incremental runs (as above) where one job names the table ``tx_scores`` and the other
    ``main."TX_SCORES"``, or the file's database name: DuckDB's same table, but the lock was keyed by the name as
    written, so they did not take turns and each added the same new rows. Which lock a run takes is checked, not a
    race: the race itself rarely shows on a loaded machine."""
    from ad_duckdb.intotable import _appended_table

    path = tmp_path / "append_names.duckdb"
    path.write_bytes(base_db.read_bytes())
    con = ad_duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA audit")
        con.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
        ad_duckdb.score(con, "tx_ae", "SELECT * FROM transactions WHERE transaction_id < 10", into="tx_scores",
                        columns=["transaction_id"], append=True)
        cur = con.cursor()
        try:
            same = {_appended_table(cur, t) for t in
                    ("tx_scores", 'main."TX_SCORES"', ' append_names.main.Tx_Scores ', '"append_names".tx_scores')}
            assert len(same) == 1, same
            # not yet made: resolved as DuckDB would create it
            fresh = {_appended_table(cur, t) for t in ("new_scores", "main.new_scores", "NEW_SCORES")}
            assert len(fresh) == 1, fresh
            others = {_appended_table(cur, t) for t in ("audit.tx_scores", "other.tx_scores", "tx_scores")}
            assert len(others) == 3, others
        finally:
            cur.close()
    finally:
        con.close()


def test_a_threshold_is_not_stored_for_a_version_dropped_meanwhile(base_db: Path, tmp_path: Path) -> None:
    """set_threshold chose its value on a loaded model, then stored it; a drop in another thread between the two
    left an ad_thresholds row for a version that no longer exists (an orphan that a later tx_ae@1 would never get,
    since version numbers are not reused, but that integrity checks and listings trip over)."""
    path = tmp_path / "orphan.duckdb"
    path.write_bytes(base_db.read_bytes())
    con = ad_duckdb.connect(str(path))
    try:
        ad_duckdb.drop_model(con, "tx_ae@1")
        th = store.Threshold("late", 1.0, "manual")
        cur = con.cursor()
        try:
            with pytest.raises(ad_duckdb.ModelNotFoundError, match=r"tx_ae@1.*dropped"):
                thresholdrows.set_threshold(cur, "tx_ae", 1, th, None)
        finally:
            cur.close()
        assert con.execute("SELECT count(*) FROM ad_thresholds WHERE model = 'tx_ae'").fetchone() == (0,)
    finally:
        con.close()


def test_two_writes_of_one_output_file_at_once_leave_it_whole(tmp_path: Path) -> None:
    """An exported model or a plot is written to a temporary file beside it, then renamed (savefile.write_whole). The
    temporary name held only the process id, so two threads of one process writing the same path (an Airflow worker
    exporting a model in two tasks, dbt threads plotting into one folder) shared it: the other write truncated and
    renamed it mid-way, and the file left under the real name was half of this one. Here the other thread's write is
    made to land at that moment."""
    from ad_duckdb.savefile import write_whole

    path = tmp_path / "tx_ae.onnx"
    half = b"A" * 4096

    def written_in_two_parts(tmp: Path) -> None:
        tmp.write_bytes(half)
        write_whole(path, lambda other: other.write_bytes(b"B" * 100))  # another thread's write, meanwhile
        with open(tmp, "ab") as f:
            f.write(half)

    write_whole(path, written_in_two_parts)
    assert path.read_bytes() == half + half  # the last write's file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["tx_ae.onnx"]  # no temporary file left
