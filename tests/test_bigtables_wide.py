"""A wide table (many columns): what explaining its rows costs is said before a long run, and explain's lines fit a
terminal. Real DuckDB files, real training and onnxruntime."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import explaincost
from ad_duckdb.cli import cli

from conftest import FAST, unwrapped

WIDE = 24  # past the 20 features a row's line shows


@pytest.fixture(scope="module")
def wide_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("wide") / "w.duckdb")
    con = ad_duckdb.connect(path)
    cols = ", ".join(f"(hash(i * {k + 1}) % 1000) / 10.0 AS a_rather_long_column_name_{k}" for k in range(WIDE))
    con.execute(f"CREATE TABLE wide AS SELECT i AS id, {cols} FROM range(400) t(i)")
    ad_duckdb.train(con, "wide_ae", "wide", features=[f"a_rather_long_column_name_{k}" for k in range(WIDE)], **FAST)
    con.close()
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def test_a_long_explanation_is_announced_with_its_cost_and_how_to_shorten_it(
        wide_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: `score --into --explain` on 150 columns ran at ~365 rows/s (each row scored 1200 times), hours on
    # millions of rows, without a word before the run. Now a note first, with the rows, the columns, the measured
    # rate and how to explain fewer rows. The thresholds are 0 here, so that every run is "long".
    path = tmp_path / "w.duckdb"
    path.write_bytes(Path(wide_db).read_bytes())
    monkeypatch.setattr(explaincost, "LONG_SECONDS", 0.0)
    monkeypatch.setattr(explaincost, "SHORT_PASSES", 0)
    passes = explaincost.passes(WIDE)
    assert passes == len(ad_duckdb.shapley.coalitions(WIDE)) > 8 * (WIDE - 1)
    code, out, err = invoke("score", str(path), "wide_ae", "wide", "--into", "s", "--explain", "--quiet")
    assert code == 0 and out.startswith("wrote 400 scored rows"), (out, err)
    said = re.search(rf"^note: explaining 400 rows of {WIDE} columns will take about \d+ s here \(about [\d,]+ rows/s: "
                     rf"each row is scored {passes} times for its columns' shares\); (.*)$", err, re.M)
    assert said and f"ad-duckdb explain {path} wide_ae s --where is_anomaly --limit 1000" in said[1], err
    code, out, err = invoke("score", str(path), "wide_ae", "wide", "--top", "7")
    assert code == 0 and re.search(r"^note: explaining 7 rows of .*; a smaller --top shortens it$", err, re.M), err
    code, out, err = invoke("explain", str(path), "wide_ae", "wide", "--where", "id < 50", "--limit", "30")
    assert code == 0 and re.search(r"^note: explaining 30 rows of .*; a smaller --limit or a narrower --where "
                                   r"shortens it$", err, re.M), err
    monkeypatch.setattr(explaincost, "LONG_SECONDS", 60.0)
    monkeypatch.setattr(explaincost, "SHORT_PASSES", 2_000_000)
    code, out, err = invoke("score", str(path), "wide_ae", "wide", "--into", "s", "--replace", "--explain", "--quiet")
    assert code == 0 and "note: explaining" not in err, err  # a short run: nothing more said than before


def test_explain_fits_a_100_column_terminal_and_its_lines_read_as_before(wide_db: str) -> None:
    # Before: a column's line ran 130-190 characters (name, share, bar, value, median, typical range, where it
    # stands) and a wide row's `row` line thousands, folded mid-word by the terminal. Now each line is at most 100
    # characters: a long one continues on indented lines, broken between words; the row line of a model of more
    # than 20 features leaves their values to the column lines (and --format json).
    res = CliRunner().invoke(cli, ["explain", wide_db, "wide_ae", "wide", "--where", "id < 3", "--limit", "2"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert max(len(x) for x in lines) <= 100, [x for x in lines if len(x) > 100]
    assert any(x.startswith(" " * 24) and not x.startswith(" " * 25) for x in lines), res.stdout  # under the share
    logical = unwrapped(res.stdout).splitlines()
    rows = [x for x in logical if x.startswith("row ")]
    assert len(rows) == 2 and all(x.startswith("row id=") for x in rows), logical
    assert rows[0].endswith(f", and its {WIDE} feature values (the ones that matter below; every one with "
                            "--format json)") and "a_rather_long_column_name_0=" not in rows[0], rows[0]
    cols = [x for x in logical if x.startswith("  a_rather_long_column_name_")]
    assert cols and all(re.fullmatch(r"  a_rather_long_column_name_\d+ +[\d.]+% #* +\(value .*, training median "
                                     r".*\)", x) for x in cols), cols
    out = CliRunner().invoke(cli, ["explain", wide_db, "wide_ae", "wide", "--where", "id < 3", "--limit", "2",
                                   "--format", "json"], catch_exceptions=False).stdout
    assert '"a_rather_long_column_name_0": ' in out  # scripts get every value, as before
