"""review7: interactions of the lifecycle (promote / --no-promote) with import's 're-import stores nothing' rule."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


@pytest.fixture
def staged(tmp_path: Path) -> str:
    """tx_ae@1 what 'tx_ae' means, tx_ae@2 staged (promote=False)."""
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], promote=False,
                        **{**FAST, "seed": 1})
    finally:
        con.close()
    return path


def _versions(path: str) -> list[int]:
    con = ad_duckdb.connect(path)
    try:
        return [m["version"] for m in ad_duckdb.list_models(con)]
    finally:
        con.close()


def test_a_rerun_staged_import_of_the_staged_version_stores_nothing(staged: str, tmp_path: Path) -> None:
    """A deployment step staging each night's file (import --no-promote) compared the file with the version the bare
    name means (tx_ae@1), not with the staged tx_ae@2 it had stored the night before: each rerun stored one more
    copy (tx_ae@3, @4, ...). A rerun stores nothing, as an import of the newest version always did."""
    onnx = str(tmp_path / "v2.onnx")
    con = ad_duckdb.connect(staged)
    try:
        ad_duckdb.export_model(con, "tx_ae@2", onnx)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"tx_ae@2 is already this model"):
            info = ad_duckdb.import_model(con, onnx, promote=False)
        assert info.version == 2
    finally:
        con.close()
    assert _versions(staged) == [1, 2]


def test_an_import_of_what_the_name_means_stores_nothing(staged: str, tmp_path: Path) -> None:
    """The file of tx_ae@1, what 'tx_ae' means while tx_ae@2 is staged, re-imported: it stored tx_ae@3, a copy of
    tx_ae@1, and moved the name onto the copy. Nothing is stored, and the name keeps meaning tx_ae@1."""
    onnx = str(tmp_path / "v1.onnx")
    con = ad_duckdb.connect(staged)
    try:
        ad_duckdb.export_model(con, "tx_ae@1", onnx)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"tx_ae@1 is already this model"):
            info = ad_duckdb.import_model(con, onnx)
        assert info.version == 1
        assert con.execute("SELECT anomaly_model('tx_ae')").fetchone()[0] == "tx_ae@1"
    finally:
        con.close()
    assert _versions(staged) == [1, 2]


def test_an_import_of_the_staged_version_says_the_name_still_means_another(staged: str, tmp_path: Path) -> None:
    """Importing (to promote) the file of the staged tx_ae@2 stores nothing, as it is stored: the note and the CLI said
    only 'already stored tx_ae@2', and dashboards calling 'tx_ae' kept scoring with tx_ae@1 unsaid. Both say what the
    name means and how to promote."""
    onnx = str(tmp_path / "v2.onnx")
    con = ad_duckdb.connect(staged)
    try:
        ad_duckdb.export_model(con, "tx_ae@2", onnx)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            ad_duckdb.import_model(con, onnx)
        said = " ".join(str(w.message) for w in rec)
        assert "'tx_ae' means tx_ae@1" in said and "promote" in said, said
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["import", staged, onnx])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines()[0] == "already stored tx_ae@2"
    assert f"`ad-duckdb promote {staged} tx_ae@2`" in res.stdout
    assert _versions(staged) == [1, 2]
