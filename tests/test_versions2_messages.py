"""Messages around a model's versions: an imported model's source in `show`, a dropped pinned version, `compare` of
one model twice, and a feature column renamed upstream."""

from __future__ import annotations

from pathlib import Path

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
