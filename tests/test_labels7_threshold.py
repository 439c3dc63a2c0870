"""labels7: threshold's printed intervals of a cut chosen on an audit sample split the missed anomalies by weight, as
evaluate --weight's do (missstrata): a stratum below the audit's cut where it drew no anomaly may still hide some."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_polish15_intervals import _audit, _chosen

from ad_duckdb import thresholds
from ad_duckdb.store import Threshold


def test_thresholds_recall_interval_counts_the_unseen_stratum_as_evaluates(tmp_path: Path) -> None:
    """Rows by score: the 7 highest anomalies, the next 40 reviewed (weight 1: 10 normal rows, then 10 anomalies
    among 20 normal rows), the rest audited 1 in 10 (weight 10), no anomaly drawn there. At the cut above the 7,
    evaluate's recall interval bounds the missed total with one more count at weight 10; threshold printed the
    interval of the missed cell as drawn (10 of weight 1), a higher lower end."""
    con = _audit(tmp_path)
    try:
        con.execute("UPDATE lab SET is_fraud = 0 WHERE w = 10")  # no anomaly drawn below the reviewed rows
        th, at = _chosen(con)
    finally:
        con.close()
    assert at["tp"] == 7 and at["fn"] == 10, at
    drawn = thresholds.wilson(7, 17)  # the missed cell as drawn: 10 anomalies of weight 1
    assert at["recall_lo"] < drawn[0] - 0.02, at  # evaluate counts the unseen stratum
    printed = thresholds.figure_intervals(th)
    assert (printed["recall_lo"], printed["recall_hi"]) == pytest.approx((at["recall_lo"], at["recall_hi"]),
                                                                        abs=1e-6), (printed, at, th.chosen_on)
    assert (printed["precision_lo"], printed["precision_hi"]) == pytest.approx(
        (at["precision_lo"], at["precision_hi"]), abs=1e-6), (printed, at)
    # a chosen_on stored before (no word of the strata) reads as it did
    old = Threshold(**{**th.__dict__, "chosen_on": th.chosen_on.split(", a missed anomaly")[0] + ")"})
    assert old.chosen_on != th.chosen_on, th.chosen_on
    before = thresholds.figure_intervals(old)
    assert before["recall_lo"] == pytest.approx(drawn[0], abs=1e-6), before
