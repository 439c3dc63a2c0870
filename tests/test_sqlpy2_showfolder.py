"""`show`'s retrain call for a model trained on a relative file path (``tx.parquet``, ``read_csv('data/tx.csv')``):
the call reads the file where training read it, run from any folder (the training's working folder is kept with the
model), and a model stored before that folder was kept says what its path is relative to."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, cli_in_process


def _files(folder: Path) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300)})
    (folder / "data").mkdir()
    df.to_parquet(folder / "tx.parquet")
    df.to_csv(folder / "data" / "tx.csv", index=False)


def _in_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``folder``, made and made the working folder (a cron job's, which is not where training ran)."""
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding ``_files``, made the working folder, where training reads them by relative paths."""
    project = _in_folder(tmp_path / "project", monkeypatch)
    _files(project)
    return project


def _show(db: Path) -> dict[str, object]:
    r = CliRunner().invoke(cli, ["show", str(db), "m", "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)  # type: ignore[no-any-return]


@pytest.mark.parametrize("source", ["tx.parquet", "read_csv('data/tx.csv')"])
def test_the_retrain_call_of_a_relative_path_runs_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 source: str) -> None:
    project = _in_project(tmp_path, monkeypatch)
    con = ad_duckdb.connect("w.duckdb")
    try:
        ad_duckdb.train(con, "m", source, **FAST)
        sha = con.execute("SELECT sha256 FROM ad_models").fetchall()[0][0]
    finally:
        con.close()
    elsewhere = _in_folder(tmp_path / "cron", monkeypatch)
    doc = _show(project / "w.duckdb")
    call = str(doc["retrain_with"])
    assert str(project) in call, call  # the path training read, in full
    con = ad_duckdb.connect(str(elsewhere / "again.duckdb"))
    try:
        exec(call, {"ad_duckdb": ad_duckdb, "con": con})
        again = con.execute("SELECT sha256 FROM ad_models").fetchall()[0][0]
    finally:
        con.close()
    assert again == sha  # the same rows, the same model


@pytest.mark.parametrize("source", ["tx.parquet", "read_csv('data/tx.csv')"])
def test_the_shell_command_of_a_relative_path_runs_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 source: str) -> None:
    # Trained from a shell in the project's folder; show's shell command, run from another folder (a cron job's),
    # reads the same file and stores the same model.
    project = _in_project(tmp_path, monkeypatch)
    trained = cli_in_process("train", "w.duckdb", "m", source, "--epochs", "2", "--quiet")
    assert trained.returncode == 0, trained.stderr
    _in_folder(tmp_path / "cron", monkeypatch)
    command = str(_show(project / "w.duckdb")["retrain_command"])
    words = shlex.split(command)
    assert str(project) in words[4] and words[:2] == ["ad-duckdb", "train"], command  # the file training read, in full
    assert cli_in_process(*words[1:], "--quiet").returncode == 0, command
    with duckdb.connect(str(project / "w.duckdb"), read_only=True) as con:
        shas = [sha for (sha,) in con.execute("SELECT sha256 FROM ad_models ORDER BY version").fetchall()]
    assert len(shas) == 2 and shas[0] == shas[1], command  # the same rows, the same model


def test_an_older_record_says_what_its_relative_path_is_relative_to(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    con = ad_duckdb.connect("w.duckdb")
    try:
        ad_duckdb.train(con, "m", "tx.parquet", **FAST)
        # a record of an earlier release, which kept no working folder
        con.execute("UPDATE ad_models SET metrics = json_merge_patch(metrics, '{\"train_folder\": null}')")
    finally:
        con.close()
    r = CliRunner().invoke(cli, ["show", "w.duckdb", "m"])
    assert r.exit_code == 0, r.output
    assert "retrain with: ad_duckdb.train(con, 'm', 'tx.parquet'" in r.output, r.output
    assert "note: 'tx.parquet' is relative to the working folder of the process that trained m@1" in r.output, r.output
    assert os.fspath(tmp_path) not in r.output.split("retrain with:")[1].split("\n")[0]
