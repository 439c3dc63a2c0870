"""Readers meeting a long ``score --into`` run in another process: every entry point names what holds the file (its
command, since when) and what to do, in one line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from test_ops4_ops import AD_DUCKDB, cli_process, days_db  # noqa: F401  (the fixture, used by name)

import ad_duckdb

from conftest import cli_in_process

# A source that takes far longer to score than the test runs: the run holds the file until it is stopped.
_ENDLESS = "SELECT (i % 20)::INTEGER AS count, (i % 97)::DOUBLE AS amount FROM range(4000000000) t(i)"


def _held_by_other_process(db: Path, job: subprocess.Popen[str]) -> None:
    """Returns once ``job`` holds ``db`` (a read-only open is refused): its lock is taken when its command starts."""
    while True:
        assert job.poll() is None, job.communicate()
        try:
            duckdb.connect(str(db), read_only=True).close()
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                return
        # Why a pause: the job starts, reads and scores its rows ahead before it takes the write lock; a loop
        # of opens without one kept a core busy that the job (and the other test worker) needed
        time.sleep(0.05)


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM (as a scheduler stops a job), then a kill if it does not end."""
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def running(days_db: Path, tmp_path_factory: pytest.TempPathFactory  # noqa: F811
            ) -> Iterator[tuple[Path, subprocess.Popen[str], subprocess.Popen[str]]]:
    """A copy of days_db that a dashboard's `ad-duckdb serve --snapshot` serves and that a real `ad-duckdb score
    --into` run started after it in another process is writing (all the tests meet the same run)."""
    db = tmp_path_factory.mktemp("intolock") / "nightly.duckdb"
    db.write_bytes(days_db.read_bytes())
    server = subprocess.Popen([str(AD_DUCKDB), "serve", str(db), "--port", "0", "--snapshot"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    job: subprocess.Popen[str] | None = None
    try:
        assert server.stdout is not None and server.stdout.readline().startswith("serving"), server.communicate()
        # --wait: the look below for its lock may hold the file a moment as it starts. The bound on the rows it reads
        # and scores ahead (a batch, not 15 million rows: seconds of each start) only brings its lock sooner
        job = subprocess.Popen([str(AD_DUCKDB), "--wait", "60", "score", str(db), "ev", _ENDLESS, "--into",
                                "big_scores", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "AD_DUCKDB_SCORE_AHEAD_VALUES": "1"})
        _held_by_other_process(db, job)
        yield db, job, server
    finally:
        for p in (job, server):
            if p is not None:
                _stop(p)


@pytest.fixture(scope="module")
def scoring(running: tuple[Path, subprocess.Popen[str], subprocess.Popen[str]]
            ) -> tuple[Path, subprocess.Popen[str]]:
    """The file and the scoring run that holds it."""
    return running[0], running[1]


def _names_the_run(text: str, job: subprocess.Popen[str]) -> None:
    assert f"PID {job.pid}" in text, text
    # the command, not DuckDB's "held in /usr/bin/python3.11": which job holds it
    assert re.search(r"`ad-duckdb --wait 60 score \S*nightly\.duckdb ev .* --into big_scores --quiet`", text), text
    assert re.search(r"running since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(for \d", text), text
    assert "--wait" in text or "wait=" in text, text


@pytest.mark.parametrize("args", [["sql", "{db}", "SELECT 1"], ["list", "{db}"], ["show", "{db}", "ev"],
                                  ["score", "{db}", "ev", "events", "--top", "3"],
                                  ["score", "{db}", "ev", "events", "--into", "s2"],
                                  ["serve", "{db}", "--port", "0"]])
def test_every_command_names_the_scoring_run_that_holds_the_file(
        scoring: tuple[Path, subprocess.Popen[str]], args: list[str]) -> None:
    # Before: "Conflicting lock is held in /root/.../python3.11 (PID 8377)": the interpreter every Python job runs in,
    # not which job, nor whether it started a minute or a day ago; a writer locked out by a writer was told to "open
    # it read-only", which a writer's lock refuses too.
    db, job = scoring
    # (the lock is the other process's; a reader's command runs in this one, but for the server, a process of its own)
    run = cli_process if args[0] == "serve" else cli_in_process
    res = run(*[a.format(db=db) for a in args])
    assert res.returncode == 4, res
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in res.stderr, res.stderr
    _names_the_run(lines[0], job)
    assert "open it read-only" not in lines[0], lines[0]
    if "--into" not in args:  # a reader that cannot wait reads a copy (serve: --snapshot)
        assert "copy" in lines[0], lines[0]


@pytest.mark.parametrize("read_only", [True, False])
def test_connect_names_the_scoring_run_that_holds_the_file(
        scoring: tuple[Path, subprocess.Popen[str]], read_only: bool) -> None:
    db, job = scoring
    with pytest.raises(ad_duckdb.DatabaseLockedError) as e:
        ad_duckdb.connect(str(db), read_only=read_only).close()
    _names_the_run(str(e.value), job)
    assert "open it read-only" not in str(e.value), str(e.value)


def test_the_holders_command_is_shown_as_typed_with_its_secrets_hidden() -> None:
    from ad_duckdb.lockholder import shown_command

    assert shown_command(["/usr/bin/python3.11", "-m", "ad_duckdb", "serve", "w.duckdb", "--password", "hunter2"]) == (
        "ad-duckdb serve w.duckdb --password '***'")
    assert shown_command(["/venv/bin/python3", "/venv/bin/dbt", "run", "--token=abc",
                          "postgresql://me:pw@host/db"]) == "dbt run '--token=***' 'postgresql://me:***@host/db'"
    assert shown_command(["/usr/bin/python3", "-c", "import duckdb"]) == "python3 -c 'import duckdb'"
    assert len(shown_command(["ad-duckdb", "score", "w.duckdb", "m", "SELECT " + "x, " * 500])) == 300
    assert shown_command(["python", "-c", "import sys\nprint(1)"]) == "python -c 'import sys print(1)'"  # one line


def test_a_snapshot_servers_reload_names_the_scoring_run_that_holds_the_file(
        running: tuple[Path, subprocess.Popen[str], subprocess.Popen[str]]) -> None:
    # A dashboard's `serve --snapshot`, sent SIGHUP while the nightly run still writes: the log said DuckDB's
    # "held in .../python3.11 (PID n)" only; it keeps serving the previous copy.
    _, job, server = running
    server.send_signal(signal.SIGHUP)
    assert server.stderr is not None
    line = server.stderr.readline()
    assert "reload failed, still serving the previous copy" in line, line
    assert f"PID {job.pid}" in line and "`ad-duckdb --wait 60 score " in line and "running since " in line, line
