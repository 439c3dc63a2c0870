"""Shared fixtures: real DuckDB (in-memory and file), real training, real onnxruntime."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

import ad_duckdb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "examples" / "transactions"))

FAST = {"n_models": 1, "max_steps": 600, "progress": False}


def cli_in_process(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``ad-duckdb ARGS`` run in this process by click's CliRunner (standard input ``input``, never a terminal, as
    in a pipe), as the CompletedProcess a subprocess gives: for tests of what a command does and says, not of a
    process of its own (locks held by another process, signals, a fresh interpreter keep their subprocesses)."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    # prog_name as the installed script gives it (cli.main), so usage lines read "Usage: ad-duckdb ..."
    res = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False, prog_name="ad-duckdb")
    return subprocess.CompletedProcess(["ad-duckdb", *args], res.exit_code, res.stdout, res.stderr)


# The system calls a program waiting for its terminal blocks in (read, poll, select and their p-forms), by Linux's
# numbers on each machine: /proc/PID/syscall names a blocked process's call by number
_TERMINAL_WAITS = {"x86_64": {0, 7, 23, 270, 271}, "aarch64": {63, 72, 73}}


def wait_reading_terminal(pid: int, transcript: bytes) -> None:
    """Return once process ``pid`` (its main thread) is blocked reading its terminal: a prompt's readline waits for a
    key. Why: the prompt is drawn just before readline waits, and a signal (a Ctrl-C, a SIGTERM) that comes between
    the two is handled only at the next key, so a test sending one as soon as it sees the prompt waits for an answer
    that never comes; a loaded machine can stall a process there longer than any fixed sleep. Where Linux's
    /proc/PID/syscall cannot be read (another system, a kernel that keeps it from this user), a half-second sleep
    instead, enough on a machine that is not loaded. ``transcript``: the session's output so far, for the failure
    message."""
    import platform
    import time

    calls = _TERMINAL_WAITS.get(platform.machine())
    proc = Path(f"/proc/{pid}")
    deadline = time.monotonic() + 120
    while calls is not None:
        try:
            call = (proc / "syscall").read_text().split()  # "running" while it runs
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            if not proc.exists():
                return  # the process ended: the caller's next read of its terminal says so
            break  # a kernel built without /proc/PID/syscall
        except PermissionError:
            break
        if state in ("Z", "X") or (state == "S" and call[0].isdigit() and int(call[0]) in calls):
            return  # ended (as above), or waiting
        assert time.monotonic() < deadline, \
            f"not waiting for its terminal within 120 s; transcript: {transcript.decode(errors='replace')}"
        time.sleep(0.01)
    time.sleep(0.5)


def pytest_configure(config: pytest.Config) -> None:
    # Why one thread under xdist (make test runs two workers): the workers already keep the cores busy, and each
    # worker's torch threads on top of them would only contend for the same cores
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


def pytest_report_header(config: pytest.Config) -> str:
    import onnxruntime
    import pyarrow
    import torch

    return (f"duckdb {duckdb.__version__}, torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, "
            f"pyarrow {pyarrow.__version__}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["memory", "file", "both"], default="both",
                     help="run connection tests on an in-memory DB, a file DB, or both")


def make_transactions(con: duckdb.DuckDBPyConnection, n: int = 3000, seed: int = 0) -> None:
    """count / amount rising together (amount ~ count x ticket), with mixed SQL types."""
    rng = np.random.default_rng(seed)
    count = rng.poisson(8, n) + 1
    amount = np.round(count * rng.lognormal(3.0, 0.25, n), 2)
    con.execute(
        "CREATE OR REPLACE TABLE transactions AS SELECT unnest(?)::BIGINT AS transaction_id, "
        "unnest(?)::INTEGER AS count, unnest(?)::DECIMAL(12,2) AS amount, unnest(?)::DOUBLE AS amount_d",
        [list(range(1, n + 1)), count.tolist(), amount.tolist(), amount.tolist()],
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_kind" in metafunc.fixturenames:
        opt = metafunc.config.getoption("--db")
        metafunc.parametrize("db_kind", ["memory", "file"] if opt == "both" else [opt], scope="session")


@pytest.fixture(scope="session")
def tx_ae_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file holding make_transactions' table and tx_ae (count, amount) trained on it with FAST, made once a session.
    Never opened by a test: each takes a byte copy (``copy_tx_ae``), the file it used to train for itself."""
    path = tmp_path_factory.mktemp("tx_master") / "tx.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    finally:
        con.close()
    return path


def copy_tx_ae(master: Path, dest: str | Path) -> str:
    """A byte copy of ``tx_ae_master`` at ``dest``, as a path string."""
    shutil.copyfile(master, dest)
    return str(dest)


@pytest.fixture(scope="session")
def trained_db(tmp_path_factory: pytest.TempPathFactory, db_kind: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database (path or ':memory:'-like handle) with table transactions and model tx_ae trained on it."""
    if db_kind == "file":
        # asked for here, not as an argument: a run of in-memory connections only never trains it
        master = request.getfixturevalue("tx_ae_master")
        yield copy_tx_ae(master, tmp_path_factory.mktemp("db") / "tx.duckdb")
    else:
        yield ":memory:"


@pytest.fixture
def con(trained_db: str, db_kind: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the functions registered and model tx_ae (features count, amount) stored."""
    if db_kind == "file":
        c = ad_duckdb.connect(trained_db)
    else:
        c = ad_duckdb.connect(":memory:")
        make_transactions(c)
        ad_duckdb.train(c, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="session")
def mem_con() -> Iterator[duckdb.DuckDBPyConnection]:
    """One in-memory database with tx_ae trained once, shared by read-only tests."""
    c = ad_duckdb.connect(":memory:")
    make_transactions(c)
    ad_duckdb.train(c, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    try:
        yield c
    finally:
        c.close()


def load_adbench(stem: str) -> tuple[np.ndarray, np.ndarray]:
    f = next((DATA / "adbench").glob(f"*_{stem}.npz"))
    d = np.load(f)
    return d["X"].astype(np.float64), d["y"].astype(np.int64)


def unwrapped(text: str) -> str:
    """``ad-duckdb explain``'s lines as one line each, its continuation lines (indented 4 or more, see
    explainlines) joined back with the space the wrap took: the tests reading a column's whole line read it so;
    test_bigtables_wide checks the wrapped layout itself."""
    out: list[str] = []
    for line in text.split("\n"):
        if line.startswith("    ") and out:
            out[-1] += " " + line.lstrip(" ")
        else:
            out.append(line)
    return "\n".join(out)


def make_versioned_models(con: duckdb.DuckDBPyConnection) -> None:
    """transactions and lab (labelled), with tx_ae@1 and tx_ae@2 (a manual 'cut' and a max_f1 'best' chosen on lab):
    a dev database whose models are moved elsewhere (import tests)."""
    import warnings

    make_transactions(con)
    con.execute("CREATE TABLE lab AS SELECT *, (amount > 300)::INTEGER AS label FROM transactions")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=1, **FAST)
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=7.5)
        ad_duckdb.set_threshold(con, "tx_ae", "best", "max_f1", source="lab", label="label")


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/test_server.py's warehouse (transactions and tx_ae), made once a session for the server tests that
    query it without a fixture of their own (a module importing test_server.warehouse made one per module)."""
    import test_server

    return str(test_server.warehouse.__wrapped__(tmp_path_factory))


@pytest.fixture(scope="session")
def server(warehouse: str, request: pytest.FixtureRequest) -> Any:
    """A read-only `ad-duckdb serve` of ``warehouse``, one a session (a worker's) for the files that only query it:
    each started its own (test_server.server, per module). The same server test_server.py's fixture gives
    (test_server.shared_server), stopped at the session's end with test_server.serve's checks (exit 0, no traceback
    in its log)."""
    import test_server

    return test_server.shared_server(request, "server", lambda: test_server.serve(warehouse))


@pytest.fixture(scope="session")
def tx_t_master(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """(A file of the example transactions with text columns channel and country (test_review11_textcols._with_text)
    and tx_t trained on count, amount, refunds, channel, country with FAST; train's TrainInfo), made once a session.
    Never written by a test: a module takes a byte copy (or reads it), the file four modules each trained for
    themselves."""
    from test_review11_textcols import NUMS, _with_text

    path = tmp_path_factory.mktemp("tx_t_master") / "tx.duckdb"
    _with_text(path)
    con = ad_duckdb.connect(str(path))
    try:
        info = ad_duckdb.train(con, "tx_t", "transactions", features=[*NUMS, "channel", "country"], **FAST)
    finally:
        con.close()
    return path, info
