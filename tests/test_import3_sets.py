"""Moving every model of a database at once: ``export DB --all DIR`` and ``import DB DIR``."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions, make_versioned_models


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with tx_ae@1, tx_ae@2 (a manual and a max_f1 threshold) and small@1."""
    path = tmp_path_factory.mktemp("import3") / "dev.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_versioned_models(con)
        ad_duckdb.train(con, "small", "transactions", features=["amount"], **FAST)
    finally:
        con.close()
    return path


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def _thresholds(db: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT m.name, m.version, m.sha256, t.threshold_name, t.value, t.method FROM ad_models m "
                           "JOIN ad_thresholds t ON t.model = m.name AND t.version = m.version ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_every_version_moves_to_another_database_and_a_rerun_stores_nothing(dev: Path, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    code, out = _cli("export", str(dev), "--all", str(folder))
    assert code == 0, out
    assert out.strip() == f"wrote 3 model files to {folder}"
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "small@1.onnx", "tx_ae@1.onnx", "tx_ae@2.onnx"]
    prod = tmp_path / "prod.duckdb"
    code, out = _cli("import", str(prod), str(folder))
    assert code == 0, out
    assert out.splitlines() == ["stored small@1 from small@1.onnx", "stored tx_ae@1 from tx_ae@1.onnx",
                                "stored tx_ae@2 from tx_ae@2.onnx"]
    assert _thresholds(prod) == _thresholds(dev)  # every version, in order, with its thresholds (and goals' methods)
    code, out = _cli("import", str(prod), str(folder))
    assert code == 0, out
    assert "already stored tx_ae@1 from tx_ae@1.onnx" in out and "nothing imported" in out
    assert _thresholds(prod) == _thresholds(dev)
    # a second export refuses to overwrite, naming the files and the option
    code, out = _cli("export", str(dev), "--all", str(folder))
    assert code != 0 and "tx_ae@1.onnx" in out and "--replace" in out


def test_a_set_with_one_bad_file_stores_nothing(dev: Path, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    assert _cli("export", str(dev), "--all", str(folder))[0] == 0
    (folder / "tx_ae@2.onnx").write_bytes((folder / "tx_ae@2.onnx").read_bytes()[:-40])  # cut short in the copy
    prod = tmp_path / "prod.duckdb"
    code, out = _cli("import", str(prod), str(folder))
    assert code != 0 and "tx_ae@2.onnx" in out, out
    assert not prod.exists()  # the database the import created is removed: nothing was stored
    # into a database that exists: none of the set is stored
    con = ad_duckdb.connect(str(prod))
    make_transactions(con)
    con.close()
    code, out = _cli("import", str(prod), str(folder))
    assert code != 0
    con = duckdb.connect(str(prod), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ad_models'").fetchall() == [(0,)] \
            or con.execute("SELECT count(*) FROM ad_models").fetchall() == [(0,)]
    finally:
        con.close()



def test_a_damaged_version_exports_nothing_and_names_the_fix(dev: Path, tmp_path: Path) -> None:
    db = tmp_path / "damaged.duckdb"
    shutil.copy(dev, db)
    con = duckdb.connect(str(db))
    con.execute("UPDATE ad_models SET sha256 = repeat('0', 64) WHERE name = 'tx_ae' AND version = 1")
    con.close()
    folder = tmp_path / "set"
    code, out = _cli("export", str(db), "--all", str(folder))
    assert code != 0 and "tx_ae@1" in out and "Nothing was exported" in out and "ad-duckdb drop" in out, out
    assert not folder.exists() or not any(folder.iterdir())


def test_a_set_carries_which_version_each_name_means(dev: Path, tmp_path: Path) -> None:
    """Moving a set to prod after a rollback in dev: 'tx_ae' meant tx_ae@1 there, but the imported set made it mean
    the newest, tx_ae@2, so prod's dashboards scored with the version dev had rolled back from. export --all writes
    which version each name means (current.json) and import stores it: the same version, under its number here; a
    re-run changes nothing; a name meaning its newest writes no entry."""
    src = tmp_path / "dev.duckdb"
    shutil.copy(dev, src)
    assert _cli("rollback", str(src), "tx_ae")[0] == 0
    out = tmp_path / "set"
    assert _cli("export", str(src), "--all", str(out))[0] == 0
    prod = tmp_path / "prod.duckdb"
    con = ad_duckdb.connect(str(prod))
    try:
        make_transactions(con, n=300)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)  # prod's own tx_ae@1
    finally:
        con.close()
    for _ in range(2):  # a re-run moves nothing
        code, said = _cli("import", str(prod), str(out))
        assert code == 0, said
        con = ad_duckdb.connect(str(prod), read_only=True)
        try:
            # dev's tx_ae@1 is prod's tx_ae@2 (prod's own is @1); small means its only version
            assert con.execute("SELECT anomaly_model('tx_ae'), anomaly_model('small')").fetchone() == ("tx_ae@2",
                                                                                                    "small@1")
        finally:
            con.close()
    assert "'tx_ae' means tx_ae@2 (the set's tx_ae@1), as where the set was exported" in said, said
