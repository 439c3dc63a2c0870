"""threshold's printed precision interval for a cut chosen on weighted rows (polish15): the same as evaluate
--weight's for that cut, where only anomalies are flagged and the normal rows scoring nearest below the cut weigh as
they do (alarm8: then the flagged rows are all the alerts, and precision is Wilson's of them)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import ad_duckdb
from ad_duckdb import thresholds
from ad_duckdb.store import Threshold

from conftest import FAST


def _audit(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Model m on t; table lab: t's rows by their score, labelled as an audit reviews them: the 7 highest anomalies,
    the next 40 reviewed (weight 1: 10 normal rows, then 10 anomalies among 20 more normal rows), the rest audited 1
    in 10 (weight 10: 2 anomalies among them)."""
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t AS SELECT (range % 37)::DOUBLE AS x, (range * 7 % 13)::DOUBLE AS y FROM range(600)")
    ad_duckdb.train(con, "m", "t", features=["x", "y"], **FAST)
    con.execute("CREATE TABLE lab AS SELECT x, y, CASE WHEN r < 7 THEN 1 WHEN r < 17 THEN 0 WHEN r < 47 THEN "
                "(r % 3 = 0)::INTEGER ELSE (r IN (100, 200))::INTEGER END AS is_fraud, "
                "CASE WHEN r < 47 THEN 1.0 ELSE 10.0 END AS w FROM (SELECT x, y, row_number() OVER "
                "(ORDER BY anomaly_score('m', x, y) DESC) - 1 AS r FROM t) WHERE r < 260")
    return con


def _chosen(con: duckdb.DuckDBPyConnection) -> tuple[Threshold, dict[str, float]]:
    """Threshold pr (min_precision 0.95) chosen on lab weighted by w, and evaluate --weight's figures at it."""
    th = ad_duckdb.set_threshold(con, "m", "pr", "min_precision", target=0.95, source="lab", label="is_fraud",
                                 weight="w")
    return th, ad_duckdb.evaluate(con, "m", "lab", label="is_fraud", weight="w").at_thresholds["pr"]


def test_thresholds_interval_is_evaluates_where_only_anomalies_are_flagged(tmp_path: Path) -> None:
    # Before: threshold printed precision 0.06-1 (joined with the ends from recall and the false-alarm rate), where
    # evaluate --weight said Wilson's of 7 of 7, 0.646-1, for the same cut.
    con = _audit(tmp_path)
    try:
        th, at = _chosen(con)
    finally:
        con.close()
    assert at["fp"] == 0 and at["tp"] == 7, at
    lo, hi = thresholds.wilson(7, 7)
    assert (at["precision_lo"], at["precision_hi"]) == pytest.approx((lo, hi)), at
    printed = thresholds.figure_intervals(th)
    assert (printed["precision_lo"], printed["precision_hi"]) == pytest.approx((lo, hi), abs=1e-6), printed
    assert (printed["recall_lo"], printed["recall_hi"]) == pytest.approx((at["recall_lo"], at["recall_hi"]),
                                                                        abs=1e-6), (printed, at)
    # a chosen_on stored before (no word of the normal rows below the cut) reads as it did: joined, wider
    old = th.chosen_on.replace(", the normal rows nearest below it weighing as the flagged anomalies", "")
    assert old != th.chosen_on
    before = thresholds.figure_intervals(Threshold(**{**th.__dict__, "chosen_on": old}))
    assert before["precision_lo"] < lo - 0.1 and before["precision_hi"] == pytest.approx(1.0), before
