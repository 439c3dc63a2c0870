"""Messages around a model's versions: an imported model's source in `show`, a dropped pinned version, `compare` of
one model twice, and a feature column renamed upstream."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def test_show_of_an_imported_model_says_whether_this_database_holds_its_source(tmp_path: Path) -> None:
    """A model promoted by export and import into a database that has its training table said the database "may not
    hold" it, the same as where it does not: now it says the table is here, with the model's columns, or is not."""
    dev = str(tmp_path / "dev.duckdb")
    con = ad_duckdb.connect(dev)
    try:
        make_transactions(con, n=400)
        ad_duckdb.train(con, "tm", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.export_model(con, "tm", tmp_path / "tm.onnx")
    finally:
        con.close()
    prod = str(tmp_path / "prod.duckdb")
    con = ad_duckdb.connect(prod)
    try:
        make_transactions(con, n=400)
        ad_duckdb.import_model(con, tmp_path / "tm.onnx")
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["show", prod, "tm"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    note = next(ln for ln in res.stdout.splitlines() if ln.startswith("  note: this model was imported"))
    assert "may not hold" not in note, note
    assert "this database has a table 'transactions' with the model's columns" in note, note
    empty = str(tmp_path / "empty.duckdb")
    con = ad_duckdb.connect(empty)
    try:
        ad_duckdb.import_model(con, tmp_path / "tm.onnx")
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["show", empty, "tm"], catch_exceptions=False)
    note = next(ln for ln in res.stdout.splitlines() if ln.startswith("  note: this model was imported"))
    assert "which this one does not hold" in note, note


def test_a_dropped_pinned_version_points_at_its_stored_copy_or_the_columns_stored_versions_take(tmp_path: Path) -> None:
    """'tx_ae@1' was dropped, then rolled back by importing its exported file (as tx_ae@3): scoring the pinned
    'tx_ae@1' said only that it was dropped and to pin another version, not which one is the same model; for a
    version with no copy, which columns the stored ones take (the drop's note said so, the error did not)."""
    from ad_duckdb.exceptions import ModelNotFoundError

    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=400)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.export_model(con, "tx_ae@1", tmp_path / "v1.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the notes on other columns than tx_ae@1's
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount", "transaction_id"], **FAST)
            ad_duckdb.drop_model(con, "tx_ae@1")
            ad_duckdb.import_model(con, tmp_path / "v1.onnx")  # the rollback: tx_ae@3
        for call in (lambda: ad_duckdb.score(con, "tx_ae@1", "transactions"),
                     lambda: con.execute("SELECT anomaly_score('tx_ae@1', count, amount) FROM transactions").fetchall()):
            with pytest.raises((ModelNotFoundError, duckdb.Error)) as e:
                call()
            msg = str(e.value)
            assert "was dropped" in msg, msg
            assert ("A stored copy of it, if the file came from this database: 'tx_ae@3' (imported from v1.onnx "
                    "(tx_ae@1; transactions)), an import of a file exported as 'tx_ae@1'; pin 'tx_ae@3' where") in msg, msg
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.drop_model(con, "tx_ae@2")
        with pytest.raises(ModelNotFoundError) as e:
            ad_duckdb.score(con, "tx_ae@2", "transactions")
        msg = str(e.value)
        assert "'tx_ae@3' takes (count, amount)" in msg, msg
        assert "stored copy" not in msg, msg
    finally:
        con.close()
