"""A month of nightly retrains run by a scheduler: who the changelog names, and what carries from which version."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args), env=env)
    return res.exit_code, res.output


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "prod.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=300)
        for seed in range(2):
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=seed, **FAST)
    finally:
        con.close()
    return path


def _by(db: Path) -> list[tuple[str, str]]:
    con = ad_duckdb.connect(str(db), read_only=True)
    try:
        events = [e for v in ad_duckdb.model_history(con, "tx_ae")["versions"] for e in v["events"]]
        return [(e["event"], e["by"]) for e in sorted(events, key=lambda e: e["at"])]
    finally:
        con.close()


def test_a_scheduler_names_who_acted_in_the_changelog(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: "who" was always the operating system's login, the scheduler's service account for every job, so the
    changelog could not say which DAG (or which person who triggered it) promoted or rolled back a version."""
    code, out = _cli("--who", "airflow:nightly_retrain", "promote", str(db), "tx_ae@1")
    assert code == 0, out
    assert _by(db)[-1] == ("promoted", "airflow:nightly_retrain")
    code, out = _cli("rollback", str(db), "tx_ae", env={"AD_DUCKDB_USER": "alice via airflow"})
    assert code == 0, out
    assert _by(db)[-1] == ("rolled back", "alice via airflow")
    # the Python API reads the variable too (an Airflow PythonOperator)
    monkeypatch.setenv("AD_DUCKDB_USER", "dag:py")
    con = ad_duckdb.connect(str(db))
    try:
        ad_duckdb.promote(con, "tx_ae@1")
    finally:
        con.close()
    assert _by(db)[-1] == ("promoted", "dag:py")
    # an option given wins over the variable; neither given (or a blank one): the login, as before
    code, out = _cli("--who", "bob", "rollback", str(db), "tx_ae", env={"AD_DUCKDB_USER": "dag:py"})
    assert code == 0 and _by(db)[-1] == ("rolled back", "bob"), out
    monkeypatch.setenv("AD_DUCKDB_USER", "  ")
    code, out = _cli("promote", str(db), "tx_ae@1")
    assert code == 0, out
    import getpass
    assert _by(db)[-1] == ("promoted", getpass.getuser())
    # a later command in the same process does not keep an earlier one's --who
    monkeypatch.delenv("AD_DUCKDB_USER")
    assert _cli("rollback", str(db), "tx_ae")[0] == 0
    assert _by(db)[-1] == ("rolled back", getpass.getuser())
    code, out = _cli("--help")
    assert "--who" in out and "AD_DUCKDB_USER" in out
