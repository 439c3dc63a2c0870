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
