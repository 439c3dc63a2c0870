"""The last messages that said ``x= (CLI: --x)`` or a call beside a command, in the caller's spelling (msgs3): each
reader gets their own words only; and a retrain's notes name the version that lacks the cut (a staged retrain
leaves the bare name meaning the older one)."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import pytest
import test_msgs2_words
from click.testing import CliRunner
from test_msgs2_words import _cli, _python

import ad_duckdb
from ad_duckdb import optionwords
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBWarning

from conftest import FAST

db = test_msgs2_words.db  # model m (two versions) on t (x, y, lab)


def test_a_filter_starting_with_where_in_the_callers_spelling(db: str) -> None:
    py = _python(db, "ad_duckdb.train(con, 'k', 't', features=['x', 'y'], where='WHERE x > 1')")
    cmd = _cli("train", db, "k", "t", "-f", "x", "-f", "y", "--where", "WHERE x > 1")
    assert "give the condition alone, where='x > 1'." in py and "CLI" not in py and "--where" not in py, py
    assert "give the condition alone, --where 'x > 1'." in cmd and "CLI" not in cmd and "where=" not in cmd, cmd


def test_keep_with_a_version_in_pythons_spelling(db: str) -> None:
    py = _python(db, "ad_duckdb.drop_model(con, 'm@1', keep=2)")
    assert py.startswith("keep= prunes the older versions") and "got 'm@1' and keep=2." in py, py
    assert "CLI" not in py and "--keep" not in py, py


def test_a_store_copy_and_export_hints_in_the_callers_spelling(db: str, tmp_path: Path) -> None:
    con = ad_duckdb.connect(db)
    try:
        ad_duckdb.export_model(con, "m", str(tmp_path / "m.onnx"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AdDuckDBWarning)
            ad_duckdb.import_model(con, str(tmp_path / "m.onnx"))
    finally:
        con.close()
    py = " ".join(str(w.message) for w in caught)
    assert "Pass name= to store a copy" in py and "CLI" not in py and "--name" not in py, py
    res = CliRunner().invoke(cli, ["import", db, str(tmp_path / "m.onnx")])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "Pass --name to store a copy" in out and "CLI" not in out and "name=" not in out, out


def test_stored_statement_is_said_in_the_readers_spelling() -> None:
    """A threshold's stored statement (chosen_on) is read later by any surface: it keeps both spellings, and each
    reader is shown its own."""
    text = f"days in Europe/Paris; if so, say so with {optionwords.stored('timestamps_in', 'Europe/Paris')}"
    assert optionwords.said_stored(text).endswith("say so with timestamps_in='Europe/Paris'")
    token = optionwords.SURFACE.set("cli")
    try:
        assert optionwords.said_stored(text).endswith("say so with --timestamps-in Europe/Paris")
    finally:
        optionwords.SURFACE.reset(token)


def with_own_p99(path: str) -> duckdb.DuckDBPyConnection:
    """A connection to a new database ``path`` holding model m on t (x, y), whose 'p99' is a cut of the user's
    (manual, 5) stored under the training's name."""
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT (range % 37)::DOUBLE AS x, (range * 7 % 13)::DOUBLE AS y FROM range(600)")
    ad_duckdb.train(con, "m", "t", features=["x", "y"], **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AdDuckDBWarning)  # 'p99' replaces the training's: the case here
        ad_duckdb.set_threshold(con, "m", "p99", "manual", value=5.0)
    return con


def test_a_staged_retrain_names_the_version_that_lacks_the_users_cut(tmp_path: Path) -> None:
    """A cut of the user's stored under a training's name ('p99') is not carried by a retrain; the note's fix named
    the bare name, which after a staged retrain (promote=False) still means the older version, on which it would
    have stored the cut."""
    path = str(tmp_path / "r.duckdb")
    con = with_own_p99(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AdDuckDBWarning)
            ad_duckdb.train(con, "m", "t", features=["x", "y"], carry_thresholds=True, promote=False, seed=1, **FAST)
    finally:
        con.close()
    py = " ".join(" ".join(str(w.message).split()) for w in caught if "not carried" in str(w.message))
    assert "ad_duckdb.set_threshold(con, 'm@2', 'p99_manual', 'manual', ...)" in py, py
    assert "CLI" not in py and "ad-duckdb threshold" not in py, py
    res = CliRunner().invoke(cli, ["train", path, "m", "t", "-f", "x", "-f", "y", "--carry-thresholds",
                                   "--no-promote", "--quiet", "--epochs", "2", "--n-models", "1"])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert f"ad-duckdb threshold {path} m@3 p99_manual --method manual ..." in out, out
    assert "set_threshold" not in out and "CLI" not in out, out


class _CtrlCInStrip(str):
    """A source name whose first use in Python raises what a Ctrl-C landing there raises."""

    def strip(self, chars: str | None = None) -> str:
        raise KeyboardInterrupt


@pytest.mark.parametrize("call", ["score", "evaluate"])
def test_a_ctrl_c_before_duckdb_runs_is_said_as_one_mid_query(db: str, call: str) -> None:
    """A Ctrl-C mid-query is KeyboardInterrupt("ad_duckdb.score with 'm' interrupted; nothing half-written is
    kept ..."); one landing at the call's start, before DuckDB ran, was a bare KeyboardInterrupt."""
    con = ad_duckdb.connect(db)
    try:
        with pytest.raises(KeyboardInterrupt) as e:
            if call == "score":
                ad_duckdb.score(con, "m", _CtrlCInStrip("t"))
            else:
                ad_duckdb.evaluate(con, "m", _CtrlCInStrip("t"), label="lab")
    finally:
        con.close()
    assert str(e.value).startswith(f"ad_duckdb.{call} with 'm' interrupted; nothing half-written is kept"), e.value


def test_an_unknown_model_says_how_to_train_one_in_the_callers_spelling(db: str) -> None:
    py = _python(db, "ad_duckdb.score(con, 'nope', 't')")
    assert "Train one with ad_duckdb.train(con, ...)." in py and "ad-duckdb train" not in py, py
    cmd = _cli("score", db, "nope", "t")
    assert "Train one with `ad-duckdb train`." in cmd and "ad_duckdb.train" not in cmd, cmd
