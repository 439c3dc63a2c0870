"""tests/dbtrun.py runs dbt in the test process: each run must leave nothing behind that the next run or the test sees,
as a `dbt` process of its own did (its database closed, dbt's flags, the environment, the working directory)."""

from __future__ import annotations

import os
from pathlib import Path

import dbt.flags
import duckdb
import pytest
from dbtrun import run_dbt


def _project(work: Path, db: str, rows: int) -> Path:
    (work / "models").mkdir(parents=True)
    (work / "dbt_project.yml").write_text("name: iso\nversion: '1.0'\nprofile: iso\nmodels:\n  iso:\n"
                                          "    +materialized: table\n")
    (work / "profiles.yml").write_text(f"iso:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                       f"      path: {db}\n      threads: 1\n")
    (work / "models" / "r.sql").write_text(f"select range as i from range({rows})\n")
    return work


def test_runs_in_process_leave_nothing_to_the_next_run_or_the_test(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_TARGET", "nope")  # a developer's: the subprocess left it out, so must this
    flags, cwd, env = dbt.flags.get_flags(), Path.cwd(), dict(os.environ)
    first = run_dbt(["build", "--profiles-dir", ".", "--empty"], _project(tmp_path / "a", "a.duckdb", 3))
    second = run_dbt(["run", "--profiles-dir", "."], _project(tmp_path / "b", "b.duckdb", 5))
    assert first.returncode == 0 and second.returncode == 0, first.stdout[-3000:] + second.stdout[-3000:]
    assert "Completed successfully" in second.stdout and "PASS=1" in second.stdout, second.stdout[-3000:]
    # each run wrote its own project's file, and closed it: opened here with another configuration (read-only),
    # which DuckDB refuses while this process still holds it open read-write
    for db, rows in (("a/a.duckdb", 3), ("b/b.duckdb", 5)):
        con = duckdb.connect(str(tmp_path / db), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM r").fetchall() == [(rows,)]
        finally:
            con.close()
    # the --empty run's flags are gone (train_model reads EMPTY from them), as are its env and folder
    assert dbt.flags.get_flags() is flags and Path.cwd() == cwd
    assert dict(os.environ) == env
    # a failing run's exit code is the command line's
    (tmp_path / "b" / "models" / "r.sql").write_text("select * from no_such_table\n")
    failed = run_dbt(["run", "--profiles-dir", "."], tmp_path / "b")
    assert failed.returncode == 1 and "no_such_table" in failed.stdout, failed.stdout[-3000:]
