"""Sets of models moved with ``export DB --all DIR`` / ``import DB DIR``: the same notes as one file's import, a
manifest naming the set's files, and the names each version means in ``--format json``."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import modelsets
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def _train(path: Path, *trainings: tuple[str, list[str], int]) -> None:
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=300)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, features, seed in trainings:
                ad_duckdb.train(con, name, "transactions", features=features, seed=seed, **FAST)
    finally:
        con.close()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dev's tx_ae@1 of (count, amount_d), trained after prod's; small@1."""
    path = tmp_path_factory.mktemp("sets4") / "dev.duckdb"
    _train(path, ("tx_ae", ["count", "amount_d"], 0), ("small", ["amount"], 0))
    return path


@pytest.fixture
def prod(tmp_path: Path) -> Path:
    """prod's tx_ae@1 of (count, amount) with a cut 'c2' of its own."""
    path = tmp_path / "prod.duckdb"
    _train(path, ("tx_ae", ["count", "amount"], 3))
    con = ad_duckdb.connect(str(path))
    try:
        ad_duckdb.set_threshold(con, "tx_ae", "c2", "contamination", target=0.02)
    finally:
        con.close()
    return path


def _versions(db: Path) -> list[tuple[str, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [(str(n), int(v)) for n, v in con.execute("SELECT name, version FROM ad_models ORDER BY ALL").fetchall()]
    finally:
        con.close()


def test_a_set_import_gives_each_model_the_notes_one_file_import_gives(dev: Path, prod: Path, tmp_path: Path) -> None:
    """Before: `import prod.duckdb tx_ae@1.onnx` said that 'tx_ae' would take other columns and lose prod's 'c2',
    but `import prod.duckdb DIR` of the same file stored it and said nothing: dashboards calling 'tx_ae' with
    (count, amount) then scored amount as amount_d, and is_anomaly_at('tx_ae', 'c2', ...) failed."""
    folder = tmp_path / "set"
    assert _cli("export", str(dev), "--all", str(folder))[0] == 0
    single = tmp_path / "single.duckdb"
    shutil.copy(prod, single)
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as one:
        con = ad_duckdb.connect(str(single))
        try:
            ad_duckdb.import_model(con, folder / "tx_ae@1.onnx")
        finally:
            con.close()
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as many:
        con = ad_duckdb.connect(str(prod))
        try:
            modelsets.import_folder(con, folder)
        finally:
            con.close()
    said_one = sorted(str(w.message).replace(str(single), "DB") for w in one)
    said_many = sorted(str(w.message).replace(str(prod), "DB") for w in many)
    assert any("takes (count, amount_d), but 'tx_ae@1' took (count, amount)" in m for m in said_one), said_one
    assert any("no threshold 'c2'" in m for m in said_one), said_one
    assert said_many == said_one  # the same notes, naming the same versions (tx_ae@2 here either way)
    # as one file's import, a note turned into an error (-W error) stores none of the set
    fresh = tmp_path / "strict.duckdb"
    _train(fresh, ("tx_ae", ["count", "amount"], 3))
    con = ad_duckdb.connect(str(fresh))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ad_duckdb.AdDuckDBWarning, match="amount_d"):
                modelsets.import_folder(con, folder)
    finally:
        con.close()
    assert _versions(fresh) == [("tx_ae", 1)]


def test_a_set_import_names_an_older_model_it_makes_the_name_mean(dev: Path, tmp_path: Path) -> None:
    """The note a single import gives when the file's model was made before the latest version here."""
    folder = tmp_path / "set"
    assert _cli("export", str(dev), "--all", str(folder))[0] == 0
    newer = tmp_path / "newer.duckdb"
    _train(newer, ("small", ["amount"], 5))  # trained after dev's small@1
    con = ad_duckdb.connect(str(newer))
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'small' now scores with small@2, imported from "
                                                           r"'small@1.onnx' \(small@1, created .*a model made before small@1"):
            modelsets.import_folder(con, folder)
    finally:
        con.close()


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_set_names_its_files_and_an_import_refuses_a_folder_of_two_sets(dev: Path, prod: Path, tmp_path: Path) -> None:
    """Before: `import DB DIR` stored every .onnx of the folder, so two sets copied into one folder (dev's and
    staging's, `cp set_b/* set_a/`) were stored as one, each name's versions mixed in file-name order; and a file of
    one set copied over the other's file of the same name was stored without a word."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert _cli("export", str(dev), "--all", str(a))[0] == 0
    assert _cli("export", str(prod), "--all", str(b))[0] == 0
    assert _names(a) == ["manifest.json", "small@1.onnx", "tx_ae@1.onnx"]
    manifest = json.loads((a / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["small@1.onnx", "tx_ae@1.onnx"]
    assert manifest["means"] == {"small": "small@1", "tx_ae": "tx_ae@1"}
    target = tmp_path / "target.duckdb"
    # b's files copied into a: a's small@1.onnx is in no manifest now (b's replaced a's), tx_ae@1.onnx is b's
    mixed = tmp_path / "mixed"
    shutil.copytree(a, mixed)
    for p in b.iterdir():
        shutil.copy(p, mixed / p.name)
    code, out = _cli("import", str(target), str(mixed))
    assert code != 0 and "small@1.onnx" in out and "manifest.json" in out and "not of this set" in out, out
    assert "move them to a folder of their own" in out, out
    assert not target.exists()
    # one file of another set copied over this set's own of the same name
    over = tmp_path / "over"
    shutil.copytree(a, over)
    shutil.copy(b / "tx_ae@1.onnx", over / "tx_ae@1.onnx")
    code, out = _cli("import", str(target), str(over))
    assert code != 0 and "tx_ae@1.onnx is not the file" in out and "export the set again" in out, out
    # a file of the set missing (a copy cut short)
    short = tmp_path / "short"
    shutil.copytree(a, short)
    (short / "small@1.onnx").unlink()
    code, out = _cli("import", str(target), str(short))
    assert code != 0 and "small@1.onnx" in out and "lacks" in out, out
    assert not target.exists()
    # a folder written by the previous build (no manifest): every .onnx file, as that build's import read it
    old = tmp_path / "old"
    shutil.copytree(a, old)
    (old / "manifest.json").unlink()
    code, out = _cli("import", str(target), str(old))
    assert code == 0, out
    assert _versions(target) == [("small", 1), ("tx_ae", 1)]


def test_a_set_export_keeps_one_set_per_folder(dev: Path, prod: Path, tmp_path: Path) -> None:
    """Before: exporting a second database's set into a folder holding another's wrote beside it (no file name in
    common), and `--replace` left the earlier set's other files there; the folder's import then mixed both."""
    folder = tmp_path / "set"
    assert _cli("export", str(dev), "--all", str(folder))[0] == 0
    code, out = _cli("export", str(prod), "--all", str(folder))
    assert code != 0 and "manifest.json" in out and "--replace" in out, out
    code, out = _cli("export", str(prod), "--all", str(folder), "--replace")
    assert code == 0, out
    assert _names(folder) == ["manifest.json", "tx_ae@1.onnx"]  # dev's small@1.onnx went with its set
    target = tmp_path / "target.duckdb"
    assert _cli("import", str(target), str(folder))[0] == 0
    assert _versions(target) == [("tx_ae", 1)]
    # a file of the user's own in the folder is never removed: the export says which, and how to go on
    (folder / "mine.onnx").write_bytes(b"x")
    code, out = _cli("export", str(prod), "--all", str(folder), "--replace")
    assert code != 0 and "mine.onnx" in out and "empty folder" in out, out
    assert (folder / "mine.onnx").exists()


def test_json_of_a_set_says_which_version_each_name_means(dev: Path, tmp_path: Path) -> None:
    """Before: `import DB DIR --format json` listed file, model and stored only: a deployment script could not tell
    which version 'tx_ae' means after the import (current.json's names), nor could `export --all` say it."""
    src = tmp_path / "dev2.duckdb"
    shutil.copy(dev, src)
    con = ad_duckdb.connect(str(src))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount_d"], seed=1, promote=False,
                            **FAST)
    finally:
        con.close()
    folder = tmp_path / "set"
    code, out = _cli("export", str(src), "--all", str(folder), "--format", "json")
    assert code == 0, out
    assert json.loads(out) == [
        {"file": "small@1.onnx", "model": "small@1", "current": True},
        {"file": "tx_ae@1.onnx", "model": "tx_ae@1", "current": True},
        {"file": "tx_ae@2.onnx", "model": "tx_ae@2", "current": False}]
    target = tmp_path / "target.duckdb"
    _train(target, ("tx_ae", ["count", "amount_d"], 7))  # target's own tx_ae@1: the set's are @2 and @3 here
    code, out = _cli("import", str(target), str(folder), "--format", "json")
    assert code == 0, out
    assert json.loads(out[out.index("["):]) == [
        {"file": "small@1.onnx", "model": "small@1", "stored": True, "exported_as": "small@1", "current": True},
        {"file": "tx_ae@1.onnx", "model": "tx_ae@2", "stored": True, "exported_as": "tx_ae@1", "current": True},
        {"file": "tx_ae@2.onnx", "model": "tx_ae@3", "stored": True, "exported_as": "tx_ae@2", "current": False}]


def _set_with_a_staged_retrain(tmp_path: Path, trained: int) -> Path:
    """The folder `export --all` writes of dev's tx_ae: ``trained`` versions, then one staged (promote=False)."""
    src = tmp_path / "dev.duckdb"
    _train(src, *(("tx_ae", ["count", "amount"], seed) for seed in range(trained)))
    con = ad_duckdb.connect(str(src))
    try:
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=trained, promote=False,
                        **FAST)
    finally:
        con.close()
    folder = tmp_path / "set"
    assert _cli("export", str(src), "--all", str(folder))[0] == 0
    return folder


def test_a_rollback_after_a_set_is_deployed_goes_back_to_what_prod_meant(tmp_path: Path) -> None:
    """Before: the set's versions were stored one by one, each moving the name (logged as promoted), then the name
    was moved to the set's current one: `rollback prod tx_ae` after a bad deploy made 'tx_ae' mean the set's staged
    retrain (never used anywhere), not prod's version of the day before, and `history` showed that staged version as
    once meant. A deploy moves each name once, from what it meant here to the set's current version."""
    folder = _set_with_a_staged_retrain(tmp_path, trained=2)
    prod = tmp_path / "prod.duckdb"
    _train(prod, ("tx_ae", ["count", "amount"], 9))  # prod's own tx_ae@1: the set's 1, 2, 3 are 2, 3, 4 here
    code, out = _cli("import", str(prod), str(folder))
    assert code == 0, out
    con = ad_duckdb.connect(str(prod))
    try:
        assert con.execute("SELECT anomaly_model('tx_ae')").fetchone()[0] == "tx_ae@3"
        status = {v["version"]: v["status"] for v in ad_duckdb.model_history(con, "tx_ae")["versions"]}
        assert status == {1: "stored", 2: "stored", 3: "current", 4: "staged"}, status
    finally:
        con.close()
    code, out = _cli("rollback", str(prod), "tx_ae")
    assert code == 0 and out.strip() == "'tx_ae' now means tx_ae@1 (was tx_ae@3)", out
    # a re-run of the deploy stores nothing and leaves prod's rollback as it is
    code, out = _cli("import", str(prod), str(folder))
    assert code == 0 and "already stored tx_ae@3" in out, out
    con = ad_duckdb.connect(str(prod), read_only=True)
    try:
        assert con.execute("SELECT anomaly_model('tx_ae')").fetchone()[0] == "tx_ae@1"
    finally:
        con.close()


def test_a_rollback_in_a_fresh_prod_goes_where_it_would_have_gone_where_the_set_was_exported(tmp_path: Path) -> None:
    """A first deploy into an empty prod: the name meant nothing there before, so `rollback prod tx_ae` fell back to
    the newest older version, tx_ae@3, a retrain dev had staged and never used, while dev's rollback goes to tx_ae@1,
    what 'tx_ae' meant before tx_ae@4 was promoted. The manifest says where each name rolls back to."""
    src = tmp_path / "dev.duckdb"
    _train(src, ("tx_ae", ["count", "amount"], 0))
    con = ad_duckdb.connect(str(src))
    try:
        for seed in (1, 2, 3):
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=seed, promote=False,
                            **FAST)
        ad_duckdb.promote(con, "tx_ae@4")
    finally:
        con.close()
    folder = tmp_path / "set"
    assert _cli("export", str(src), "--all", str(folder))[0] == 0
    prod = tmp_path / "prod.duckdb"
    assert _cli("import", str(prod), str(folder))[0] == 0
    for db in (src, prod):
        code, out = _cli("rollback", str(db), "tx_ae")
        assert code == 0 and out.strip() == "'tx_ae' now means tx_ae@1 (was tx_ae@4)", (db, out)


def test_a_set_imported_with_no_promote_is_staged(dev: Path, tmp_path: Path) -> None:
    """Before: `import PROD DIR --no-promote` ignored --no-promote (taken only for one file): the set's versions
    became what prod's dashboards calling 'tx_ae' score with, though the deploy step asked to stage them for a look
    first. Now each name keeps meaning what it meant here (a name new here means the set's version, as a first
    training does), the output says so with the command that promotes it, and history calls them staged."""
    folder = tmp_path / "set"
    assert _cli("export", str(dev), "--all", str(folder))[0] == 0
    prod = tmp_path / "prod.duckdb"
    _train(prod, ("tx_ae", ["count", "amount_d"], 9))
    code, out = _cli("import", str(prod), str(folder), "--no-promote")
    assert code == 0, out
    assert "stored tx_ae@2 from tx_ae@1.onnx" in out, out
    assert "staged: 'tx_ae' still means tx_ae@1" in out and f"ad-duckdb promote {prod} tx_ae@2" in out, out
    con = ad_duckdb.connect(str(prod))
    try:
        assert con.execute("SELECT anomaly_model('tx_ae'), anomaly_model('small')").fetchone() == ("tx_ae@1",
                                                                                                "small@1")
        status = {v["version"]: v["status"] for v in ad_duckdb.model_history(con, "tx_ae")["versions"]}
        assert status == {1: "current", 2: "staged"}, status
    finally:
        con.close()
    code, out = _cli("promote", str(prod), "tx_ae@2")
    assert code == 0 and out.startswith("'tx_ae' now means tx_ae@2 (was tx_ae@1)"), out


def test_a_staged_import_does_not_say_the_name_now_means_it(dev: Path, prod: Path, tmp_path: Path) -> None:
    """Before: `import PROD tx_ae@1.onnx --no-promote` warned "'tx_ae' now means tx_ae@2, which has no threshold 'c2'
    ... queries ... fail from their next registration", though 'tx_ae' kept meaning prod's tx_ae@1 and nothing failed.
    The promotion says it, when it makes the name mean the version (promote's own note)."""
    folder = tmp_path / "set"
    assert _cli("export", str(dev), "--all", str(folder))[0] == 0
    con = ad_duckdb.connect(str(prod))
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            info = ad_duckdb.import_model(con, folder / "tx_ae@1.onnx", promote=False)
        assert info.ref == "tx_ae@2"
        assert not [str(w.message) for w in seen if "now means" in str(w.message)], [str(w.message) for w in seen]
        assert con.execute("SELECT anomaly_model('tx_ae')").fetchone()[0] == "tx_ae@1"
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.promote(con, "tx_ae@2")
        said = " ".join(str(w.message) for w in seen)
        assert "'tx_ae' now means tx_ae@2, which has no threshold 'c2'" in said, said
    finally:
        con.close()


def test_history_of_a_set_deployed_into_an_empty_database(tmp_path: Path) -> None:
    """The set's staged versions said "(staged: 'tx_ae' stayed tx_ae@None)" in a database the name was new to: each
    says the version the name means instead of it."""
    folder = _set_with_a_staged_retrain(tmp_path, trained=1)
    (folder / "manifest.json").unlink()  # as a build before the manifest wrote it: nothing says where it rolls back
    prod = tmp_path / "prod.duckdb"
    assert _cli("import", str(prod), str(folder))[0] == 0
    code, out = _cli("history", str(prod), "tx_ae")
    assert code == 0 and "None" not in out, out
    assert "imported (staged: 'tx_ae' stayed tx_ae@1)" in out, out


def test_a_staged_set_into_a_database_the_name_is_new_to_means_the_sets_version(tmp_path: Path) -> None:
    """--no-promote into an empty database: the name meant nothing there, so it means the set's current version (as
    a first training does), not the version the manifest says it rolls back to."""
    src = tmp_path / "dev.duckdb"
    _train(src, ("tx_ae", ["count", "amount"], 0), ("tx_ae", ["count", "amount"], 1))
    folder = tmp_path / "set"
    assert _cli("export", str(src), "--all", str(folder))[0] == 0
    assert json.loads((folder / "manifest.json").read_text())["rolls_back_to"] == {"tx_ae": "tx_ae@1"}
    prod = tmp_path / "prod.duckdb"
    code, out = _cli("import", str(prod), str(folder), "--no-promote")
    assert code == 0, out
    con = ad_duckdb.connect(str(prod), read_only=True)
    try:
        assert con.execute("SELECT anomaly_model('tx_ae')").fetchone()[0] == "tx_ae@2"
    finally:
        con.close()
