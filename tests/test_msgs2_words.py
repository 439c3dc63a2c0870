"""Messages of train, score, evaluate and compare in the caller's spelling: ``top=`` from Python, ``--top`` from the
command line, never the other surface's spelling alone, and no ``x= (CLI: --x)`` giving each reader both."""

from __future__ import annotations

from collections.abc import Iterator

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


def test_compare_says_top_and_where_as_the_caller_spells_them(db: str) -> None:
    py = _python(db, "ad_duckdb.compare_versions(con, 'm@1', 'm@2', 't', top=0)")
    _neither_other(py, _cli("compare", db, "m@1", "m@2", "t", "--top", "0"), "top")
    py = _python(db, "ad_duckdb.compare_versions(con, 'm@1', 'm@2', 't', where='xx > 1')")
    cmd = _cli("compare", db, "m@1", "m@2", "t", "--where", "xx > 1")
    assert "where='xx > 1' does not run on 't'" in py, py
    assert "--where 'xx > 1' does not run on 't'" in cmd, cmd
    _neither_other(py, cmd, "where")


def test_evaluate_says_its_costs_and_label_as_the_caller_spells_them(db: str) -> None:
    py = _python(db, "ad_duckdb.evaluate(con, 'm', 't', label='lab', miss_cost=400)")
    cmd = _cli("evaluate", db, "m", "t", "--label", "lab", "--miss-cost", "400")
    assert "miss_cost= goes with alarm_cost=" in py, py
    assert "--miss-cost goes with --alarm-cost" in cmd, cmd
    _neither_other(py, cmd, "alarm_cost")
    py = _python(db, "ad_duckdb.evaluate(con, 'm', 't', label='x + 1')")
    cmd = _cli("evaluate", db, "m", "t", "--label", "x + 1")
    _neither_other(py, cmd, "label")
