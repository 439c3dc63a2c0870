"""A text model scored where the totals-row watch sums the feature columns: `score --into -c id` (the README's cron
line), `score --into --append` and plot_scores.

Before: each failed with "score('', ...): feature argument 3 is VARCHAR, not a number", the watch summing the text
column as numbers (the model's name left empty), though the same rows scored with every column kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("textwatch") / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT i AS id, (i % 17)::DOUBLE AS a, (i % 5)::DOUBLE AS b, "
                    "CASE WHEN i % 11 = 0 THEN NULL ELSE ['x', 'y', 'z'][1 + (i % 3)::INT] END AS ch FROM range(300) r(i)")
        ad_duckdb.train(con, "m", "t", features=["a", "b", "ch"], n_models=1, max_steps=30, progress=False)
    finally:
        con.close()
    return path


@pytest.mark.parametrize("extra", [["-c", "id"], ["-c", "id", "--append"], ["--append"]])
def test_a_text_model_scores_into_a_table_with_only_some_columns_kept(db: str, extra: list[str]) -> None:
    into = "s_" + "_".join(e.strip("-") for e in extra)
    res = CliRunner().invoke(cli, ["score", db, "m", "t", "--into", into, "--quiet", *extra])
    assert res.exit_code == 0, res.output
    con = ad_duckdb.connect(db, read_only=True)
    try:
        assert con.execute(f"SELECT count(*), count(anomaly_score) FROM {into}").fetchall() == [(300, 300)]
    finally:
        con.close()


def test_plot_scores_of_a_text_model(db: str, tmp_path: Path) -> None:
    con = ad_duckdb.connect(db, read_only=True)
    try:
        ad_duckdb.plot_scores(con, "m", "t", out_dir=tmp_path)
    finally:
        con.close()
    assert list(tmp_path.rglob("*.png"))


@pytest.mark.parametrize("extra", [[], ["-c", "id", "--append"]])
def test_a_nightly_run_with_no_new_rows_writes_none_and_exits_0(db: str, extra: list[str]) -> None:
    """Before: "ValueError: cannot reshape array of size 0" and a traceback, from the keys of the rows read ahead."""
    into = "none_" + "_".join(e.strip("-") for e in extra)
    if extra:
        first = CliRunner().invoke(cli, ["score", db, "m", "t", "--into", into, "--quiet", *extra])
        assert first.exit_code == 0, first.output
    source = f"SELECT * FROM t WHERE id > (SELECT coalesce(max(id), -1) FROM {into})" if extra else \
        "SELECT * FROM t WHERE false"
    res = CliRunner().invoke(cli, ["score", db, "m", source, "--into", into, "--quiet", *extra])
    assert res.exit_code == 0, res.output
    assert "0 scored rows" in res.output, res.output
