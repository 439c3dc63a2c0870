"""A training lets go of its database file while the network learns, so colleagues can use the file meanwhile.

Each test runs the training in a child process whose fit, once done, writes a file and waits for one from the
test: the test's own commands then run while the training is provably between its reads and its store (no clock).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

import ad_duckdb
from ad_duckdb import storeload

from conftest import FAST, ROOT, cli_in_process, make_transactions

# What these tests train in this process: how well it fits is asserted nowhere, only what is stored and when.
ONE_EPOCH = {**FAST, "epochs": 1}

# The child: AutoEncoderDetector.fit as it is, then a pause until the test says GO (or sends SIGINT). One epoch: the
# tests are of the file while the network learns and of what is stored after, not of how well it fits.
CHILD = textwrap.dedent("""
    import os, sys, time, runpy, warnings
    sys.path.insert(0, {root!r})
    from ad_duckdb import detector
    fit = detector.AutoEncoderDetector.fit
    def paused_fit(self, *a, **k):
        out = fit(self, *a, **k)
        open({fitted!r}, "w").close()
        while not os.path.exists({go!r}):
            time.sleep(0.05)
        return out
    detector.AutoEncoderDetector.fit = paused_fit
    how, path = sys.argv[1], sys.argv[2]
    if how == "new":  # a first training into a new database, of rows a query makes
        sys.argv = ["ad-duckdb", "train", path, "tx_ae", "SELECT (range % 13)::DOUBLE AS count, "
                    "(range % 7)::DOUBLE * 3 + range % 13 AS amount FROM range(3000)", "--n-models", "1", "--epochs", "1",
                    "--quiet"]
        runpy.run_module("ad_duckdb", run_name="__main__")
    elif how in ("cli", "carry"):
        sys.argv = ["ad-duckdb", "train", path, "tx_ae", "transactions", "-f", "count", "-f", "amount",
                    "--n-models", "1", "--epochs", "1", "--quiet"] + (["--carry-thresholds"] if how == "carry" else [])
        runpy.run_module("ad_duckdb", run_name="__main__")
    else:
        import ad_duckdb
        warnings.simplefilter("always")
        source = ("SELECT (range % 13)::DOUBLE AS count, (range % 7)::DOUBLE * 3 + range % 13 AS amount "
                  "FROM range(3000)") if how == "newpy" else "transactions"
        info = ad_duckdb.train(path, "tx_ae", source, features=["count", "amount"], n_models=1,
                               epochs=1, progress=False)
        print("stored", info.ref)
""")


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The colleague's command, run in this process (click's CliRunner): the process that trains meanwhile is the
    child of ``_paused_training``, another process than this one."""
    done = cli_in_process(*args)
    if check:
        assert done.returncode == 0, done
    return done


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trainlock") / "shared.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=3000)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **ONE_EPOCH)  # tx_ae@1
    finally:
        con.close()
    return path


@pytest.fixture()
def db(trained_file: Path, tmp_path: Path) -> Path:
    """A file of its own for each test (its trainings store tx_ae@2), a byte copy of trained_file's."""
    path = tmp_path / "shared.duckdb"
    shutil.copyfile(trained_file, path)
    return path


@contextmanager
def _paused_training(how: str, path: Path, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A child training tx_ae on ``path`` (``how``: 'cli' or 'python'), yielded once its fit is done and paused."""
    fitted, go = tmp_path / "fitted", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # SIGINT reset: a test run started in the background (`make test &`, CI runners) ignores it, and a child inherits
    # that, so the Ctrl-C these tests send would never arrive and the child would wait for GO
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), fitted=str(fitted), go=str(go)), how, str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        while not fitted.exists():
            assert child.poll() is None, child.communicate()
            time.sleep(0.05)
        yield child
    finally:
        go.touch()
        if child.poll() is None:
            try:
                child.wait(timeout=600)
            except subprocess.TimeoutExpired:
                child.kill()
        child.communicate()


def _versions(path: Path) -> list[int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT version FROM ad_models WHERE name = 'tx_ae' ORDER BY 1").fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("how", ["cli", "python"])
def test_the_file_is_free_while_the_model_trains(db: Path, tmp_path: Path, how: str) -> None:
    """A colleague's `ad-duckdb sql` failed (exit 4, "another process has it open for writing") for the whole
    training, as the training held the file from its first read to its store. Now: the colleague reads, writes and
    even stores a version of the same name meanwhile; the training then stores the next number, and says that the
    rows it learned from changed under it."""
    with _paused_training(how, db, tmp_path) as child:
        assert _cli("sql", str(db), "SELECT count(*) FROM transactions").stdout.split()[-1] == "3000"
        ours = _cli("train", str(db), "tx_ae", "transactions", "-f", "count", "-f", "amount", "--n-models", "1",
                    "--quiet")
        assert "stored tx_ae@2" in ours.stdout
        _cli("sql", "--write", str(db), "INSERT INTO transactions SELECT * FROM transactions LIMIT 10")
        (tmp_path / "go").touch()
        out, err = child.communicate(timeout=600)
    assert child.returncode == 0, (out, err)
    assert "stored tx_ae@3" in out  # numbered at store time, after the colleague's @2
    assert "changed while the model trained" in err and "transactions" in err
    assert _versions(db) == [1, 2, 3]
    con = ad_duckdb.connect(str(db), read_only=True)
    try:
        recs, problems = storeload.load_all(con.cursor())
        assert problems == {}
        rec = next(r for r in recs if r.version == 3)
        assert {t.name for t in rec.thresholds} >= {"default", "p99"}
        assert con.execute("SELECT count(anomaly_score('tx_ae@3', count, amount)) FROM transactions").fetchone() \
            == (3010,)
    finally:
        con.close()


@pytest.mark.parametrize("how", ["cli", "python"])
def test_ctrl_c_while_the_file_is_let_go_stores_nothing(db: Path, tmp_path: Path, how: str) -> None:
    """A Ctrl-C (SIGINT) while the network learns, the file closed, stores nothing and says nothing was stored."""
    with _paused_training(how, db, tmp_path) as child:
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=600)
    assert child.returncode != 0, (out, err)
    if how == "cli":
        assert child.returncode == 130, (out, err)
        assert "was stored" not in out + err
    assert "stored" not in out
    assert _versions(db) == [1]


def test_a_connection_passed_in_stays_open(db: Path) -> None:
    """train(con, ...) cannot close the caller's connection: it is the same, usable connection afterwards."""
    con = ad_duckdb.connect(str(db))
    try:
        info = ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **ONE_EPOCH)
        assert info.ref == "tx_ae@2"
        assert con.execute("SELECT anomaly_score('tx_ae', 3, 20.0) > 0").fetchone() == (True,)
    finally:
        con.close()


def test_train_on_a_path_stores_and_closes_the_file(db: Path) -> None:
    """train('file.duckdb', ...) opens the file itself (it was refused: "takes a DuckDB connection first") and
    leaves it closed, so another process may open it for writing at once."""
    info = ad_duckdb.train(str(db), "tx_ae", "transactions", features=["count", "amount"], **ONE_EPOCH)
    assert info.ref == "tx_ae@2"
    assert _cli("sql", "--write", str(db), "SELECT count(*) FROM ad_models").returncode == 0
    assert _versions(db) == [1, 2]


def test_train_on_a_mistyped_path_leaves_no_empty_database(tmp_path: Path) -> None:
    """As `ad-duckdb train` does: a file train(path) created is removed again when the training fails; a connection
    or anything else is still refused as before."""
    path = tmp_path / "typo.duckdb"
    with pytest.raises(ad_duckdb.AdDuckDBError, match="transactions"):
        ad_duckdb.train(str(path), "tx_ae", "transactions", **ONE_EPOCH)
    assert not path.exists()
    with pytest.raises(ad_duckdb.BadInputError, match=r"^train\(\) takes a DuckDB connection first .*builtins\.dict"):
        ad_duckdb.train({}, "tx_ae", "transactions")  # type: ignore[arg-type]


HOLD_READ_ONLY = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)  # a BI tool or a colleague's read-only session
    print("HELD", flush=True)
    sys.stdin.readline()
    con.close()
""")


@pytest.mark.parametrize("how", ["cli", "python"])
def test_a_training_waits_to_store_while_another_process_holds_the_file(db: Path, tmp_path: Path, how: str) -> None:
    """A reader that opened the file while the model trained holds it when the model is to be stored: the training
    says it waits (it would otherwise look hung) and stores once the reader is done, rather than throwing the
    trained model away. Ten minutes, or train(path, ..., wait=) if longer (as ad-duckdb --wait)."""
    fitted, go = tmp_path / "fitted", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # progress lines on: the CLI's without --quiet, Python's without progress=False
    script = CHILD.format(root=str(ROOT), fitted=str(fitted), go=str(go)).replace('"--quiet"', '"--seed", "0"').replace(
        "epochs=1, progress=False)", "epochs=1, wait=900)")
    child = subprocess.Popen([sys.executable, "-c", script, how, str(db)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    holder: subprocess.Popen[str] | None = None
    try:
        while not fitted.exists():
            assert child.poll() is None, child.communicate()
            time.sleep(0.05)
        # the reader opens the file while the model trains: it was let go
        holder = subprocess.Popen([sys.executable, "-c", HOLD_READ_ONLY, str(db)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdin is not None and child.stderr is not None
        assert holder.stdout.readline().strip() == "HELD"
        go.touch()
        for line in child.stderr:
            if "waiting up to" in line:
                assert "another process holds the database file" in line
                assert f"waiting up to {600 if how == 'cli' else 900}s" in line, line
                break
        else:
            raise AssertionError(child.communicate())
        holder.stdin.write("GO\n")
        holder.stdin.flush()
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, (out, err)
        assert "stored tx_ae@2" in out
    finally:
        for p in (child, holder):
            if p is None:
                continue
            if p.poll() is None:
                p.kill()
            p.communicate()
    assert _versions(db) == [1, 2]


def test_a_retrain_carrying_thresholds_says_so_when_its_versions_were_dropped_meanwhile(db: Path,
                                                                                       tmp_path: Path) -> None:
    """A colleague dropped tx_ae (its threshold 'cut' with it) while the nightly --carry-thresholds retrain learned:
    the retrain stored tx_ae@2 without 'cut' and said nothing, so is_anomaly_at('tx_ae', 'cut', ...) failed the next
    morning with no word in the job's log on why."""
    _cli("threshold", str(db), "tx_ae", "cut", "--method", "quantile", "--target", "0.95")
    with _paused_training("carry", db, tmp_path) as child:
        _cli("drop", str(db), "tx_ae", "--yes")
        (tmp_path / "go").touch()
        out, err = child.communicate(timeout=600)
    assert child.returncode == 0, (out, err)
    assert "stored tx_ae@2" in out
    assert "dropped while it trained" in err and "'cut'" in err and "ad-duckdb threshold" in err


@pytest.mark.parametrize("written", [False, True])
def test_a_new_database_let_go_while_training_is_removed_on_failure_only_if_still_empty(tmp_path: Path,
                                                                                       written: bool) -> None:
    """`ad-duckdb train` removes the database it created when it fails (a mistyped path). Now that the file is let
    go while the model trains, another process may write into it meanwhile: a Ctrl-C then removed their table too."""
    path = tmp_path / "new.duckdb"
    with _paused_training("new", path, tmp_path) as child:
        if written:
            _cli("sql", "--write", str(path), "CREATE TABLE theirs AS SELECT 42 AS answer")
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=600)
    assert child.returncode == 130, (out, err)
    assert path.exists() == written
    if written:
        assert _cli("sql", str(path), "SELECT answer FROM theirs").stdout.split()[-1] == "42"


def test_train_on_a_new_path_let_go_keeps_the_file_another_process_wrote(tmp_path: Path) -> None:
    """As the command line: ad_duckdb.train('new.duckdb', ...) removes the file it created when it fails, but not
    once another process wrote into it while the model trained."""
    path = tmp_path / "new.duckdb"
    with _paused_training("newpy", path, tmp_path) as child:
        _cli("sql", "--write", str(path), "CREATE TABLE theirs AS SELECT 42 AS answer")
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=600)
    assert child.returncode != 0 and "KeyboardInterrupt" in err, (out, err)
    assert _cli("sql", str(path), "SELECT answer FROM theirs").stdout.split()[-1] == "42"
