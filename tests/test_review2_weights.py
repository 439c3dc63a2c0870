"""Review of the weights round: compare's weight= without a label said so only after scoring every row with both
versions; evaluate's first line put the weighted share of anomalies beside the rows read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import ad_duckdb
from ad_duckdb.compare import compare_versions

from conftest import FAST


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    c = ad_duckdb.connect(str(tmp_path_factory.mktemp("review2") / "w.duckdb"))
    try:
        c.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range % 50) * 2.0 + (range % 7) / 7.0 AS b "
                  "FROM range(2000)")
        for seed in (0, 1):
            ad_duckdb.train(c, "m", "t", features=["a", "b"], **{**FAST, "seed": seed})
        c.execute("CREATE TABLE lab AS SELECT a, b, 0 AS y, 50 AS w FROM t WHERE a < 40 "
                  "UNION ALL SELECT range % 50, 100.0 - (range % 50) * 2.0, 1, 1 FROM range(40)")
        yield c
    finally:
        c.close()


def test_compare_weight_without_label_is_refused_before_any_row_is_read(con: duckdb.DuckDBPyConnection) -> None:
    # The option mistake was found after both versions had scored every row of the source (minutes on a large
    # table), and behind any error of the source itself: here the table that does not exist.
    with pytest.raises(ad_duckdb.OptionError, match=r"weight= weighs labelled rows: give label= too"):
        compare_versions(con, "m@1", "m@2", "no_such_table", weight="w")


def test_weighted_evaluate_first_line_says_whose_share_of_anomalies(con: duckdb.DuckDBPyConnection) -> None:
    # "1640 rows, 40 labelled anomalies (0.05%; weighted by w: ...)" read as 40 of 1640 rows being 0.05%: the share
    # is of the rows the weights stand for, so it is said after them.
    rep = ad_duckdb.evaluate(con, "m@2", "lab", label="y", weight="w")
    first = str(rep).splitlines()[0]
    assert re.fullmatch(r"model m@2: \d+ rows, 40 labelled anomalies \(weighted by w: \d+ rows, 40 anomalies, "
                        r"[\d.]+%\)", first), first
    unweighted = str(ad_duckdb.evaluate(con, "m@2", "lab", label="y")).splitlines()[0]
    assert re.fullmatch(r"model m@2: \d+ rows, 40 labelled anomalies \([\d.]+%\)", unweighted), unweighted


def test_weighted_plots_are_drawn_by_weight_with_no_note_saying_otherwise(con: duckdb.DuckDBPyConnection,
                                                                         tmp_path: Path) -> None:
    # The plots of a weighted evaluate once counted each row once, under a note saying so; they now draw the weights
    # (test_weights_labelled checks the curve drawn), so no note may still say they do not.
    rep = ad_duckdb.evaluate(con, "m@2", "lab", label="y", weight="w", plots_dir=str(tmp_path / "plots"))
    assert rep.plots and all(Path(p).exists() for p in rep.plots), rep.plots
    assert not any("count each row once" in n for n in rep.notes), rep.notes


def _suggested(message: str) -> tuple[str, str]:
    """The query an error suggests as the source, and the weight= it says to pass with it."""
    m = re.search(r'"(SELECT [^"]+)" with (?:the same )?weight=\'(\w+)\'', message)
    assert m is not None, message
    return m.group(1), m.group(2)


def test_a_bad_weights_suggested_query_runs(con: duckdb.DuckDBPyConnection) -> None:
    # The fix for a NULL weight was "SELECT *, coalesce(w, 1) AS w FROM ..." with weight='w': beside the source's own
    # w, DuckDB names the new column w_1, so weight='w' read the NULLs again and the same error came back (and a NaN
    # weight, named in the same error, is no NULL to coalesce). Likewise the cast of a text weight column.
    con.execute("CREATE OR REPLACE VIEW lab_bad AS SELECT a, b, y, CASE WHEN a = 3 THEN NULL WHEN a = 4 THEN 'NaN'::DOUBLE "
                "ELSE w::DOUBLE END AS w, w::VARCHAR AS wt FROM lab")
    for col in ("w", "wt"):
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.evaluate(con, "m@2", "lab_bad", label="y", weight=col)
        query, weight = _suggested(str(e.value))
        rep = ad_duckdb.evaluate(con, "m@2", query, label="y", weight=weight)
        assert rep.weights is not None and rep.weights["anomalies"] == 40, (col, query)
