"""A Ctrl-C while `ad-duckdb` exits, after its command ended (Python's shutdown: the wait for threads, the exit
hooks that close connections): exit 130 and one line, never Python's death by SIGINT (exit -2) or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]

# The command `ad-duckdb list DB`, with a Ctrl-C sent to the process at ``at``:
# - "threads": while Python waits for a thread at shutdown (after main returned);
# - "hooks": in an exit hook registered once the command line is imported, so it runs before ours;
# - "last": in an exit hook registered before the command starts, so it runs after every one of ours.
_SEND_AT = """
import atexit, os, signal, sys, threading, time
at = {at!r}
def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.3)  # the handler runs in the main thread, while this one still holds the shutdown
if at == "threads":
    def wait():
        while threading.main_thread().is_alive():
            time.sleep(0.005)
        ctrl_c()
    threading.Thread(target=wait).start()
elif at == "hooks":
    class Hook:
        def find_spec(self, name, path=None, target=None):
            if name == "ad_duckdb.cli":
                atexit.register(ctrl_c)
            return None
    sys.meta_path.insert(0, Hook())
else:
    atexit.register(ctrl_c)
import runpy
sys.argv = ["ad-duckdb", "list", {db!r}]
runpy.run_module("ad_duckdb", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("at", ["threads", "hooks", "last"])
def test_ctrl_c_while_the_command_exits_says_one_line(tmp_path: Path, at: str) -> None:
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    code = _SEND_AT.format(at=at, db=str(db))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    if at == "last":
        # after the last of our code has run the command is over: the Ctrl-C changes nothing (no -2, no traceback)
        assert proc.returncode == 0 and proc.stderr == "", (proc.returncode, proc.stderr[-2000:])
    else:
        assert proc.returncode == 130, (proc.returncode, proc.stderr[-2000:])
        assert proc.stderr == ("Error: interrupted (Ctrl-C) while the command was exiting, after it had ended "
                               "(exit code 0).\n"), proc.stderr
