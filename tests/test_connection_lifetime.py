"""How long ad_duckdb keeps a connection: no longer than its user does, and closed at interpreter exit as a plain
connection is (DuckDB checkpoints then). Each case runs in a child process, as the file lock and the process exit
are the point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

_TRAIN_NO_CLOSE = """
import sys
import duckdb
import ad_duckdb
p, how = sys.argv[1], sys.argv[2]
con = duckdb.connect(p) if how == "register" else ad_duckdb.connect(p)
if how == "register":
    ad_duckdb.register(con)
if how == "two connections":  # both kept: the functions live on a connection of ad_duckdb's own
    other = ad_duckdb.connect(p)
con.execute("CREATE TABLE t AS SELECT range::DOUBLE a, (range % 7)::DOUBLE b FROM range(1000)")
ad_duckdb.train(con, "m", "t", progress=False, max_steps=20, n_models=1)
print("trained")
"""


@pytest.mark.parametrize("how", ["connect", "register", "two connections"])
def test_a_script_that_never_closes_leaves_its_models_in_the_file(tmp_path: Path, how: str) -> None:
    # Before: the functions' registry kept the connection alive past the end of the script, so it was never closed
    # and DuckDB never checkpointed: the model and the table were only in the .wal file, and a copy of the .duckdb
    # file alone (a backup, an upload) held no model.
    path = tmp_path / "wal.duckdb"
    r = subprocess.run([sys.executable, "-c", _TRAIN_NO_CLOSE, str(path), how], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and "trained" in r.stdout, r.stderr[-2000:]
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(path, copy)  # without the .wal file
    con = duckdb.connect(str(copy))
    try:
        assert con.execute("SELECT count(*) FROM t").fetchall()[0][0] == 1000
        assert con.execute("SELECT name FROM ad_models").fetchall() == [("m",)]
    finally:
        con.close()


_OTHER_PROCESS_OPENS = """
def other_process_opens(p):
    import subprocess, sys
    r = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()", p],
                       capture_output=True, text=True)
    return r.returncode == 0
"""

_LOCK_RELEASED = _OTHER_PROCESS_OPENS + """
import gc, sys
import duckdb
import ad_duckdb
p, case = sys.argv[1], sys.argv[2]
if case == "cell run twice":
    con = ad_duckdb.connect(p)
    con = ad_duckdb.connect(p)
    con.execute("CREATE OR REPLACE TABLE t AS SELECT 1 AS x")
    con.close()
    gc.collect()
    # the variable is still set (a notebook's), as it is after closing a plain connection
    assert other_process_opens(p), "closed, but the file is still held"
    con = ad_duckdb.connect(p)  # and this process can open it again, functions and all
    assert con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'anomaly_score'").fetchall()[0][0]
    con.close()
elif case == "dropped unclosed":
    con = ad_duckdb.connect(p)
    del con
    gc.collect()
    assert other_process_opens(p), "dropped, but the file is still held"
elif case == "registered plain, dropped":
    con = duckdb.connect(p)
    ad_duckdb.register(con)
    del con
    gc.collect()
    assert other_process_opens(p), "dropped, but the file is still held"
print("ok")
"""


@pytest.mark.parametrize("case", ["cell run twice", "dropped unclosed", "registered plain, dropped"])
def test_closing_or_dropping_the_connection_releases_the_file(tmp_path: Path, case: str) -> None:
    # Before: a notebook cell `con = ad_duckdb.connect(path)` run twice kept the first connection's functions on a
    # connection of ours until every connection object was garbage-collected, so con.close() left the file locked for
    # other processes; and a connection dropped without close() stayed open for the life of the process.
    path = tmp_path / "lock.duckdb"
    r = subprocess.run([sys.executable, "-c", _LOCK_RELEASED, str(path), case], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), (r.returncode, r.stderr[-2000:])
