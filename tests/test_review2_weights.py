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
    with pytest.raises(ad_duckdb.OptionError, match=r"weight= \(CLI: --weight\) weighs labelled rows: give label="):
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


def test_weighted_plots_note_does_not_point_above(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # The note is printed under the AUC line, above the threshold table: "the figures above are weighted" pointed
    # at the AUCs alone, and the table's precisions and recalls below it are weighted too.
    rep = ad_duckdb.evaluate(con, "m@2", "lab", label="y", weight="w", plots_dir=str(tmp_path / "plots"))
    note = next(n for n in rep.notes if n.startswith("The plots count each row once"))
    assert "above" not in note and "every figure of the report (AUCs, thresholds' table) is weighted" in note, note
    text = str(rep)
    assert text.index("The plots count each row once") < text.index("threshold ")
