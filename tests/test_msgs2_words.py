"""Messages of train, score, evaluate and compare in the caller's spelling: ``top=`` from Python, ``--top`` from the
command line, never the other surface's spelling alone, and no ``x= (CLI: --x)`` giving each reader both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Model m (two versions) on t (x, y, lab: 1 in 50 rows, where x is large)."""
    path = str(tmp_path_factory.mktemp("msgs2") / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 37)::DOUBLE AS x, (range * 7 % 13)::DOUBLE AS y, "
                    "(range % 50 = 0)::INTEGER AS lab FROM range(1000)")
        con.execute("UPDATE t SET x = 500 WHERE lab = 1")
        for seed in (0, 1):
            ad_duckdb.train(con, "m", "t", features=["x", "y"], where="lab = 0", seed=seed, **FAST)
    finally:
        con.close()
    yield path


def _python(db: str, call: str) -> str:
    con = ad_duckdb.connect(db)
    try:
        with pytest.raises(ad_duckdb.AdDuckDBError) as e:
            eval(call, {"ad_duckdb": ad_duckdb, "con": con})
    finally:
        con.close()
    return " ".join(str(e.value).split())


def _cli(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code != 0, res.output
    return " ".join(res.output.split())


def _neither_other(py: str, cmd: str, keyword: str) -> None:
    flag = "--" + keyword.replace("_", "-")
    assert f"{keyword}=" in py and "CLI:" not in py and flag not in py, py
    assert flag in cmd and "CLI:" not in cmd and f"{keyword}=" not in cmd, cmd


def _says(db: str, call: str, args: list[str], py_text: str, cli_text: str, keyword: str) -> None:
    """``call`` from Python says ``py_text``, ``args`` on the command line ``cli_text``; neither the other's word."""
    py, cmd = _python(db, call), _cli(*args)
    assert py_text in py, py
    assert cli_text in cmd, cmd
    _neither_other(py, cmd, keyword)


def test_compare_says_top_and_where_as_the_caller_spells_them(db: str) -> None:
    py = _python(db, "ad_duckdb.compare_versions(con, 'm@1', 'm@2', 't', top=0)")
    _neither_other(py, _cli("compare", db, "m@1", "m@2", "t", "--top", "0"), "top")
    _says(db, "ad_duckdb.compare_versions(con, 'm@1', 'm@2', 't', where='xx > 1')",
          ["compare", db, "m@1", "m@2", "t", "--where", "xx > 1"],
          "where='xx > 1' does not run on 't'", "--where 'xx > 1' does not run on 't'", "where")


def test_evaluate_says_its_costs_and_label_as_the_caller_spells_them(db: str) -> None:
    _says(db, "ad_duckdb.evaluate(con, 'm', 't', label='lab', miss_cost=400)",
          ["evaluate", db, "m", "t", "--label", "lab", "--miss-cost", "400"],
          "miss_cost= goes with alarm_cost=", "--miss-cost goes with --alarm-cost", "alarm_cost")
    py = _python(db, "ad_duckdb.evaluate(con, 'm', 't', label='x + 1')")
    _neither_other(py, _cli("evaluate", db, "m", "t", "--label", "x + 1"), "label")


def test_score_into_says_its_options_as_the_caller_spells_them(db: str, tmp_path: Path) -> None:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(Path(db).read_bytes())
    con = ad_duckdb.connect(str(copy))
    try:
        ad_duckdb.score(con, "m", "t", into="s", columns=["x"])
    finally:
        con.close()
    db = str(copy)
    _says(db, "ad_duckdb.score(con, 'm', 't', into='s')", ["score", db, "m", "t", "--into", "s"],
          "pass append=True to add", "pass --append to add", "append")
    _says(db, "ad_duckdb.score(con, 'm', 't', into='s')", ["score", db, "m", "t", "--into", "s"],
          "or replace=True to overwrite it", "or --replace to overwrite it", "replace")
    _says(db, "ad_duckdb.score(con, 'm', 't', into='s', replace_where='nope > 1')",
          ["score", db, "m", "t", "--into", "s", "--replace-where", "nope > 1"],
          "replace_where='nope > 1' cannot be read", "--replace-where 'nope > 1' cannot be read", "replace_where")
    _says(db, "ad_duckdb.score(con, 'm', 't', replace=True)", ["score", db, "m", "t", "--replace"],
          "replace=True overwrites the into= table", "--replace overwrites the --into table", "into")
    py = _python(db, "ad_duckdb.score(con, 'm', 't', columns=['nope'])")
    cmd = _cli("score", db, "m", "t", "-c", "nope")
    assert "columns= names ['nope']" in py and "--column names ['nope']" in cmd, (py, cmd)
    assert "CLI:" not in py + cmd and "--column" not in py and "columns=" not in cmd, (py, cmd)


def test_train_says_its_filter_and_options_as_the_caller_spells_them(db: str, tmp_path: Path) -> None:
    _says(db, "ad_duckdb.train(con, 'few', 't', features=['x', 'y'], where='x < 0')",
          ["train", db, "few", "t", "-f", "x", "-f", "y", "--where", "x < 0"],
          "Check the table and the where= filter", "Check the table and the --where filter", "where")
    con = ad_duckdb.connect(db)
    try:
        con.execute("CREATE OR REPLACE TABLE c AS SELECT 5 AS k, (range % 7)::DOUBLE AS x FROM range(50)")
    finally:
        con.close()
    _says(db, "ad_duckdb.train(con, 'k', 'c', features=['k', 'x'])", ["train", db, "k", "c", "-f", "k", "-f", "x"],
          "pass constant_columns='keep' to score", "pass --constant-columns keep to score", "constant_columns")


def test_a_missing_threshold_says_how_to_carry_them_as_the_caller_spells_it(db: str) -> None:
    _says(db, "ad_duckdb.score(con, 'm', 't', threshold='nope')", ["score", db, "m", "t", "--threshold", "nope"],
          "train with carry_thresholds=True", "train with --carry-thresholds", "carry_thresholds")
