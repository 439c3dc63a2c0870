"""review7: interactions of the lifecycle (promote / --no-promote) with import's 're-import stores nothing' rule."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import test_lifecycle3_versions
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST

# tx_ae@1 what 'tx_ae' means, tx_ae@2 staged (promote=False), and a view calling 'tx_ae': that file's fixture, shared
two_versions = test_lifecycle3_versions.two_versions
two_versions_file = test_lifecycle3_versions.two_versions_file  # the module-scoped file two_versions copies


def _versions(path: str) -> list[int]:
    con = ad_duckdb.connect(path)
    try:
        return [m["version"] for m in ad_duckdb.list_models(con)]
    finally:
        con.close()


def test_a_rerun_staged_import_of_the_staged_version_stores_nothing(two_versions: str, tmp_path: Path) -> None:
    """A deployment step staging each night's file (import --no-promote) compared the file with the version the bare
    name means (tx_ae@1), not with the staged tx_ae@2 it had stored the night before: each rerun stored one more
    copy (tx_ae@3, @4, ...). A rerun stores nothing, as an import of the newest version always did."""
    onnx = str(tmp_path / "v2.onnx")
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.export_model(con, "tx_ae@2", onnx)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"tx_ae@2 is already this model"):
            info = ad_duckdb.import_model(con, onnx, promote=False)
        assert info.version == 2
    finally:
        con.close()
    assert _versions(two_versions) == [1, 2]


def test_an_import_of_what_the_name_means_stores_nothing(two_versions: str, tmp_path: Path) -> None:
    """The file of tx_ae@1, what 'tx_ae' means while tx_ae@2 is staged, re-imported: it stored tx_ae@3, a copy of
    tx_ae@1, and moved the name onto the copy. Nothing is stored, and the name keeps meaning tx_ae@1."""
    onnx = str(tmp_path / "v1.onnx")
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.export_model(con, "tx_ae@1", onnx)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"tx_ae@1 is already this model"):
            info = ad_duckdb.import_model(con, onnx)
        assert info.version == 1
        assert con.execute("SELECT anomaly_model('tx_ae')").fetchone()[0] == "tx_ae@1"
    finally:
        con.close()
    assert _versions(two_versions) == [1, 2]


def test_an_import_of_the_staged_version_says_the_name_still_means_another(two_versions: str, tmp_path: Path) -> None:
    """Importing (to promote) the file of the staged tx_ae@2 stores nothing, as it is stored: the note and the CLI said
    only 'already stored tx_ae@2', and dashboards calling 'tx_ae' kept scoring with tx_ae@1 unsaid. Both say what the
    name means and how to promote."""
    onnx = str(tmp_path / "v2.onnx")
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.export_model(con, "tx_ae@2", onnx)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            ad_duckdb.import_model(con, onnx)
        said = " ".join(str(w.message) for w in rec)
        assert "'tx_ae' means tx_ae@1" in said and "promote" in said, said
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["import", two_versions, onnx])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines()[0] == "already stored tx_ae@2"
    assert f"`ad-duckdb promote {two_versions} tx_ae@2`" in res.stdout
    assert _versions(two_versions) == [1, 2]


def test_a_carrying_retrain_takes_a_threshold_from_what_the_name_means_not_a_staged_version(two_versions: str) -> None:
    """'c2' set on tx_ae@1 (what 'tx_ae' means), carried into the staged tx_ae@2 by a --no-promote retrain, then
    re-set on tx_ae@1 by the team whose dashboards call 'tx_ae'. The next carrying retrain took 'c2' from the newest
    version, the staged one nobody used, so the team's change was lost when it was promoted; and a 'default' the team
    set by hand on tx_ae@1 went uncarried without the note that says so. Both come from what the name means."""
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.drop_model(con, "tx_ae@2")  # restart the pair with 'c2' set before the staged retrain
        ad_duckdb.set_threshold(con, "tx_ae", "c2", "manual", value=5.0)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], promote=False,
                        carry_thresholds=True, **{**FAST, "seed": 1})
        assert con.execute("SELECT anomaly_model('tx_ae')").fetchone()[0] == "tx_ae@1"
        ad_duckdb.set_threshold(con, "tx_ae", "c2", "manual", value=9.0)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="replaces the stored one"):
            ad_duckdb.set_threshold(con, "tx_ae", "default", "manual", value=20.0)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            info = ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"],
                                   carry_thresholds=True, **{**FAST, "seed": 2})
        chosen = con.execute("SELECT chosen_on FROM ad_thresholds WHERE model = 'tx_ae' AND version = ? AND "
                             "threshold_name = 'c2'", [info.version]).fetchone()[0]
        assert chosen.startswith("carried from tx_ae@1 (manual, 9"), chosen
        said = " ".join(str(w.message) for w in rec)
        assert "'default' (manual, 20)" in said, said
    finally:
        con.close()


def test_promoting_what_the_name_already_means_logs_nothing(two_versions: str) -> None:
    """A deployment step re-run promotes tx_ae@2 twice: the second said "'tx_ae' already means tx_ae@2: nothing
    changed", yet the changelog got a second "promoted: 'tx_ae' was tx_ae@2" entry, a promotion from a version to
    itself that an audit reads as a change."""
    res = [CliRunner().invoke(cli, ["promote", two_versions, "tx_ae@2"]) for _ in range(2)]
    assert [r.exit_code for r in res] == [0, 0], [r.stderr for r in res]
    assert res[1].stdout.strip() == "'tx_ae' already means tx_ae@2: nothing changed"
    con = ad_duckdb.connect(two_versions)
    try:
        events = ad_duckdb.model_history(con, "tx_ae")["versions"][1]["events"]
    finally:
        con.close()
    assert [(e["event"], e["was"]) for e in events] == [("trained", 1), ("promoted", 1)], events


def test_a_script_with_two_connections_to_a_file_exits_cleanly(two_versions: str) -> None:
    """A script that opens the file with ad_duckdb.connect and again with duckdb.connect + register (a notebook's
    second cell, a library of its own), queries, and ends without close(): the work was done, but the process
    aborted at exit ("terminate called after throwing an instance of 'nanobind::abi1::python_error' ... import of
    sys halted"), exit code 134, so the job that ran it failed."""
    script = ("import duckdb, ad_duckdb\n"
              f"con = ad_duckdb.connect({two_versions!r})\n"
              f"con2 = duckdb.connect({two_versions!r})\n"
              "ad_duckdb.register(con2)\n"
              "print(con2.execute(\"SELECT anomaly_model('tx_ae')\").fetchone()[0])\n")
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(Path(ad_duckdb.__file__).parent.parent)},
                       stdin=subprocess.DEVNULL)
    assert (p.returncode, p.stdout.strip()) == (0, "tx_ae@1"), p.stderr
    assert "terminate called" not in p.stderr, p.stderr


@pytest.mark.parametrize("hook", ["settrace", "setprofile"])
def test_a_script_under_a_tracer_or_profiler_exits_without_a_message(two_versions: str, hook: str) -> None:
    """A script that connected and then ran under a tracer or profiler (coverage.py and debuggers set
    threading.settrace, profilers setprofile) printed "Exception ignored in: <function _track.<locals>.<lambda>
    ... TypeError: 'NoneType' object is not callable" at exit: its connection was collected in the teardown, after
    the module's names were set to None, and the callback that notes a connection gone looked one up."""
    script = ("import threading, ad_duckdb\n"
              f"con = ad_duckdb.connect({two_versions!r})\n"
              "print(con.execute(\"SELECT anomaly_model('tx_ae')\").fetchone()[0])\n"
              "mem = ad_duckdb.connect(':memory:')\n"
              f"threading.{hook}(lambda *args: None)\n")
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(Path(ad_duckdb.__file__).parent.parent)},
                       stdin=subprocess.DEVNULL)
    assert (p.returncode, p.stdout.strip(), p.stderr) == (0, "tx_ae@1", ""), p.stderr
