"""Operations of a nightly job (ops4): score --top under PYTHONWARNINGS=error, --append's repeated-ids check on text
and uuid ids and beside a user's own rowid column, score --into --replace-partition, and a damaged model store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ad_duckdb

from conftest import FAST, ROOT

AD_DUCKDB = Path(sys.executable).parent / "ad-duckdb"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([str(AD_DUCKDB), *args], capture_output=True, text=True, timeout=300, env=full)


def _export(path: Path, n: int, total: bool, seed: int = 0) -> str:
    """A spreadsheet export of ``n`` transactions, ending in its totals row when ``total``."""
    rng = np.random.default_rng(seed)
    count = rng.poisson(8, n) + 1
    amount = np.round(count * rng.lognormal(3.0, 0.25, n), 2)
    lines = [f"{i};{c};{a:.2f}" for i, (c, a) in enumerate(zip(count, amount, strict=True))]
    if total:
        lines.append(f"Total;{count.sum()};{amount.sum():.2f}")
    path.write_text("ID;Count;Amount\n" + "\n".join(lines) + "\n")
    return f"read_csv('{path}')"


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database with model 'tx' trained on an export, and an export whose last row is its totals."""
    folder = tmp_path_factory.mktemp("ops4_top")
    db = folder / "m.duckdb"
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.train(con, "tx", _export(folder / "train.csv", 400, False), features=["Count", "Amount"], **FAST)
    return db, _export(folder / "month.csv", 300, True, seed=1)


@pytest.mark.parametrize("args", [["--top", "5"], ["--top", "5", "--format", "csv"],
                                  ["--into", "s", "--replace", "--top", "3"]])
def test_score_top_under_pythonwarnings_error_fails_before_printing_any_row(
        export_db: tuple[Path, str], args: list[str]) -> None:
    # Before: the rows were printed on stdout, then the totals-row note was made an error (exit 1): a job that keeps
    # stdout as its report kept a report of a run that failed, and a retry printed it again.
    db, month = export_db
    strict = _cli("score", str(db), "tx", month, *args, env={"PYTHONWARNINGS": "error"})
    assert strict.returncode == 1, strict
    # no row printed (with --into, the 'wrote' line says the scores are stored, as they are)
    assert "anomaly_score" not in strict.stdout and "Total" not in strict.stdout, strict.stdout
    assert strict.stdout == "" or strict.stdout.startswith("wrote 301 scored rows to s"), strict.stdout
    assert "totals row" in strict.stderr and "PYTHONWARNINGS" in strict.stderr, strict.stderr
    # without the filter the rows print, and the note follows as a note
    plain = _cli("score", str(db), "tx", month, *args)
    assert plain.returncode == 0 and "anomaly_score" in plain.stdout and "totals row" in plain.stderr, plain
