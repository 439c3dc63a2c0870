"""A Ctrl-C while `ad-duckdb` starts, at every point our code runs: exit 130 and one line, never Python's own death
by SIGINT (exit -2) or a traceback (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A Ctrl-C landing while the module ``stop_at`` is imported, made certain: an import hook raises it there
_RAISE_AT = """
import sys
class Stop:
    def find_spec(self, name, path=None, target=None):
        if name == {stop_at!r}:
            raise KeyboardInterrupt
        return None
sys.meta_path.insert(0, Stop())
import runpy
sys.argv = ["ad-duckdb", "list", {db!r}]
runpy.run_module("ad_duckdb", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("stop_at", ["ad_duckdb.launch", "ad_duckdb.stdfds", "ad_duckdb.outputerrors",
                                     "ad_duckdb.cli"])
def test_ctrl_c_while_the_command_starts_exits_130_with_one_line(tmp_path: Path, stop_at: str) -> None:
    # A Ctrl-C in launch's own imports (stdfds, before its guard) or in __main__'s import of launch killed Python by
    # SIGINT: exit -2, a traceback, where every later point says one line and exits 130
    code = _RAISE_AT.format(stop_at=stop_at, db=str(tmp_path / "w.duckdb"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 130, (proc.returncode, proc.stderr[-2000:])
    assert proc.stderr == "Error: interrupted (Ctrl-C) while the command was starting; it did nothing.\n"
