"""An analyst's big table (millions of rows): one example generator for the script and the dbt project, the ad-duckdb
sql command's progress on long queries, alarm_rate's and evaluate's memory, and scoring without torch."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ad_duckdb.cli import cli
from ad_duckdb.examplerows import example_rows

from conftest import copy_tx_ae

ROOT = Path(__file__).resolve().parents[1]
RAW_MODEL = ROOT / "examples" / "dbt_project" / "models" / "raw" / "raw_transactions.py"


def test_the_dbt_example_generates_its_rows_with_the_package_generator() -> None:
    """raw_transactions.py was a copy of the generator that read each planted row's quantile off the whole column (1M
    rows: 70 s); it must draw no rows of its own but take them from ad_duckdb.examplerows, as generate.py does."""
    tree = ast.parse(RAW_MODEL.read_text())
    calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
             for n in ast.walk(tree) if isinstance(n, ast.Call)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "ad_duckdb.examplerows"
                for a in n.names}
    assert "example_rows" in imported and "example_rows" in calls
    assert not {"default_rng", "quantile", "lognormal"} & calls


def test_example_rows_are_those_of_the_generator_as_first_written() -> None:
    from test_scale_audit import _reference

    want = _reference(30_000, 3)
    got = example_rows(30_000, 3)
    for name, col in got.columns.items():
        np.testing.assert_array_equal(col, want[name], err_msg=name)
    np.testing.assert_array_equal(got.columns["transaction_id"][got.planted], want["planted"])
    np.testing.assert_array_equal(got.kinds, want["kinds"])


@pytest.fixture(scope="module")
def scored_db(tmp_path_factory: pytest.TempPathFactory, tx_ae_master: Path) -> str:
    return copy_tx_ae(tx_ae_master, tmp_path_factory.mktemp("big14") / "tx.duckdb")


def test_sql_shows_a_long_statements_progress_on_stderr_and_leaves_stdout_alone(
        scored_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ad-duckdb sql` on a query scoring millions of rows was silent until its result, where `score` shows its
    progress; in a log (stderr not a terminal) it now writes a line every 30 s (here every poll), and --quiet none;
    stdout is the result alone either way (DuckDB's own bar would print there)."""
    from ad_duckdb import progress, queryprogress

    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 0.0, raising=False)
    monkeypatch.setattr(queryprogress, "POLL_SECONDS", 0.01, raising=False)
    query = ("SELECT count(*) AS n, round(sum(anomaly_score('tx_ae', t.count, t.amount)), 0) AS s "
             "FROM transactions t, range(700) r")
    shown = CliRunner().invoke(cli, ["sql", scored_db, query, "--format", "csv"], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.stderr.splitlines() if line.strip()]
    assert lines and all(re.fullmatch(r"running the statement: \d+%, \d+s", line) for line in lines), shown.stderr
    assert shown.stdout.splitlines()[0] == "n,s" and shown.stdout.splitlines()[1].startswith("2100000,")

    quiet = CliRunner().invoke(cli, ["sql", scored_db, query, "--format", "csv", "--quiet"], catch_exceptions=False)
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == shown.stdout
    # a second statement is named by its number; the settings the display needs do not print DuckDB's bar to stdout
    two = CliRunner().invoke(cli, ["sql", scored_db, f"SELECT 1 AS one; {query}"], catch_exceptions=False)
    assert two.exit_code == 0, two.output
    assert re.search(r"^statement 2 of 2: \d+%, \d+s$", two.stderr, re.M), two.stderr
    assert "%" not in two.stdout


def test_mid_ranks_are_scipys_rankdata_less_one_ties_and_nans_alike() -> None:
    """alarm_rate ranks its 10 million scores once; the ranking keeps fewer copies of them now, same numbers."""
    from scipy.stats import rankdata

    from ad_duckdb import alarmacf

    rng = np.random.default_rng(0)
    for x in (rng.normal(size=5000), rng.integers(0, 7, 5000).astype(float), np.array([3.0]), np.array([2.0, 2.0]),
              np.r_[rng.gamma(2.0, 1.0, 3000).round(1), [np.nan] * 4]):
        got = alarmacf.mid_ranks(x)
        want = rankdata(x, nan_policy="omit") - 1
        nans = np.isnan(x)
        want[nans] = (len(x) - 1) - (nans.sum() - 1) / 2.0  # as before: NaNs one tie group after every number
        np.testing.assert_array_equal(got, want)


_NO_TORCH_CLI = """
import sys
sys.modules["torch"] = None  # any import of torch (or torch._dynamo, 1-3 s) on these paths fails
from ad_duckdb.launch import main
sys.argv = ["ad-duckdb", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("args", [
    ["score", "{db}", "tx_ae", "transactions", "--top", "3"],
    ["sql", "{db}", "SELECT count(*) FILTER (WHERE is_anomaly('tx_ae', count, amount)) FROM transactions"],
    ["evaluate", "{db}", "tx_ae", "SELECT *, (count > 15)::INT AS label FROM transactions", "--label", "label"],
    ["threshold", "{db}", "tx_ae", "half_pct", "--method", "alarm_rate", "--rate", "0.5%", "--source", "transactions"],
])
def test_the_scoring_commands_import_no_torch(scored_db: str, args: list[str]) -> None:
    """`ad-duckdb score` / `sql` / `evaluate` / `threshold` on a big table pay no torch import (torch._dynamo alone
    took 3.3 s): only training needs it."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", _NO_TORCH_CLI, *(a.format(db=scored_db) for a in args)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "torch" not in res.stderr.lower(), res.stderr
