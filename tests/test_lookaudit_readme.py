"""The README's quick start, run as written: each command line of its block, in order, in a fresh folder holding the
example scripts it names. tests/test_docs.py checks that documented lines parse; this one checks that they run, and
that what their comments promise (the plot files, the Parquet file) is there afterwards."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ad_duckdb.cli import cli

from conftest import ROOT

README = (ROOT / "README.md").read_text()


def _quick_start_lines() -> list[str]:
    """The command lines of the README's quick start block (its first ```sh block)."""
    section = README.split("## Quick start", 1)[1]
    block = re.findall(r"```sh\n(.*?)```", section, flags=re.S)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def _run(line: str) -> tuple[int, str]:
    """One README line in the working folder: `python SCRIPT ...` with this interpreter, `ad-duckdb ...` in-process
    (stdin empty and not a terminal, as in a script); its exit code and output."""
    words = shlex.split(line, comments=True)
    if words[0] == "python":
        r = subprocess.run([sys.executable, *words[1:]], capture_output=True, text=True, timeout=300)
        return r.returncode, r.stdout + r.stderr
    assert words[0] == "ad-duckdb", line
    res = CliRunner().invoke(cli, words[1:], input="")
    return res.exit_code, res.output + (f"\n{res.exc_info[1]!r}" if res.exc_info and res.exit_code not in (0,) else "")


def test_readme_quick_start_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _quick_start_lines()
    assert len(lines) >= 10 and lines[0].startswith("python examples/transactions/generate.py"), lines
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples" / "transactions", tmp_path / "examples" / "transactions",
                    ignore=shutil.ignore_patterns("out", "__pycache__"))
    for line in lines:
        if "examples/transactions/out/transactions.duckdb" in line:
            # the database `make demo` writes: made as walkthrough.sql's own header says
            assert "-f count,amount,distinct_cards,refunds" in (ROOT / "examples/transactions/walkthrough.sql").read_text()
            for before in ("python examples/transactions/generate.py examples/transactions/out/transactions.duckdb",
                           "ad-duckdb train examples/transactions/out/transactions.duckdb tx_ae transactions "
                           "-f count,amount,distinct_cards,refunds"):
                code, out = _run(before)
                assert code == 0, (before, out)
        code, out = _run(line)
        assert code == 0, (line, out)
        assert "Traceback" not in out and "Error:" not in out, (line, out)
    # what the comments promise
    assert (tmp_path / "plots" / "tx_ae_v1_scores.png").stat().st_size > 0
    assert (tmp_path / "plots" / "tx_ae_v1_scores_over_time.png").stat().st_size > 0
    assert (tmp_path / "tx_scores.parquet").stat().st_size > 0
    # each line runs as pasted, with no file of the reader's own: the --write line once read a tx.csv no line made
    # (a new user's paste failed, "No files found that match the pattern"); it now reads a file an earlier line wrote
    import duckdb

    with duckdb.connect(str(tmp_path / "mine.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tx_scores").fetchone() == (20000,)
