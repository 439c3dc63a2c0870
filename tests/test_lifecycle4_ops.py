"""A month of nightly retrains run by a scheduler: who the changelog names, and what carries from which version."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from test_lifecycle4_sets import _train

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args), env=env)
    return res.exit_code, res.output


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "prod.duckdb"
    _train(path, ("tx_ae", ["count", "amount"], 0), ("tx_ae", ["count", "amount"], 1))
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
    # a name with a line break, a tab or a terminal's escape is one line of history, each a space
    code, out = _cli("--who", "alice\nvia\tairflow\x1b[2J", "promote", str(db), "tx_ae@1")
    assert code == 0 and _by(db)[-1] == ("promoted", "alice via airflow [2J"), out


def _carried_from(con: duckdb.DuckDBPyConnection, version: int, name: str = "c2") -> str:
    row = con.execute("SELECT chosen_on FROM ad_thresholds WHERE model = 'tx_ae' AND version = ? AND "
                      "threshold_name = ?", [version, name]).fetchone()
    return str(row[0])


def test_a_carrying_retrain_takes_the_cut_set_last_on_a_staged_version(tmp_path: Path) -> None:
    """The reviewer of a staged retrain tunes its cut before promoting it ('c2' on tx_ae@2), and the next night's
    staged retrain runs before the promotion: it carried 'c2' from tx_ae@1 (what 'tx_ae' means), so the tuning was
    lost on tx_ae@3 and had to be done again after its promotion. A cut the user set on a staged version after
    staging it, later than the one the name's version has, is carried; a copy carried into a staged version by its
    training never wins over the promoted one's (test_review7_lifecycle), nor does a version rolled back from."""
    path = str(tmp_path / "nightly.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=300)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.set_threshold(con, "tx_ae", "c2", "manual", value=5.0)
        nightly = {"features": ["count", "amount"], "promote": False, "carry_thresholds": True}
        ad_duckdb.train(con, "tx_ae", "transactions", **nightly, **{**FAST, "seed": 1})  # tx_ae@2, staged
        ad_duckdb.set_threshold(con, "tx_ae@2", "c2", "manual", value=7.0)  # the reviewer's tuning
        ad_duckdb.train(con, "tx_ae", "transactions", **nightly, **{**FAST, "seed": 2})  # tx_ae@3
        assert con.execute("SELECT anomaly_model('tx_ae')").fetchone()[0] == "tx_ae@1"
        assert _carried_from(con, 3).startswith("carried from tx_ae@2 (manual, 7"), _carried_from(con, 3)
        # the team re-sets the promoted version's cut after that: it is the one set last
        ad_duckdb.set_threshold(con, "tx_ae@1", "c2", "manual", value=6.0)
        ad_duckdb.train(con, "tx_ae", "transactions", **nightly, **{**FAST, "seed": 3})  # tx_ae@4
        assert _carried_from(con, 4).startswith("carried from tx_ae@1 (manual, 6"), _carried_from(con, 4)
        # a version rolled back from is no candidate: its cut belonged to a model the team turned away from
        ad_duckdb.promote(con, "tx_ae@4")
        ad_duckdb.rollback(con, "tx_ae")
        ad_duckdb.set_threshold(con, "tx_ae@4", "c2", "manual", value=8.0)
        ad_duckdb.train(con, "tx_ae", "transactions", **nightly, **{**FAST, "seed": 4})  # tx_ae@5
        assert _carried_from(con, 5).startswith("carried from tx_ae@1 (manual, 6"), _carried_from(con, 5)
    finally:
        con.close()
