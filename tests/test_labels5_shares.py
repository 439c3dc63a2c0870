"""labels5: ModelInfo's flagged shares split by the rows they are shares of; evaluate on a held-out part names a goal
threshold that flags none of its rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_labels3_candidates import _labelled

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def test_model_info_splits_training_and_labelled_shares(tmp_path: Path) -> None:
    """`show` split its one flagged column into flagged_training and flagged_chosen_on, but the Python ModelInfo's
    ``flagged_shares`` still held 0.01 of the training rows for `default` beside 0.2 of 40 labelled rows for a
    max_f1 cut, in one dict. ModelInfo now has ``flagged_training`` (every threshold's share of the training rows,
    from their score quantiles for a cut chosen elsewhere) and ``flagged_chosen_on`` (the share of the rows a cut
    was chosen on where those are not the training rows, else None), as `show` prints; ``flagged_shares`` keeps
    what it held (each threshold's stored share), for code that reads it."""
    path = str(tmp_path / "s.duckdb")
    _labelled(path)  # 3,000 transactions; 40 reviewed rows, 8 of them frauds
    con = ad_duckdb.connect(path)
    try:
        ad_duckdb.set_threshold(con, "m", "best", "max_f1", source="reviewed", label="label")
        scores = np.array([r[0] for r in con.execute(
            "SELECT anomaly_score('m', count, amount) FROM transactions").fetchall()])
        ad_duckdb.export_model(con, "m", tmp_path / "m.onnx")
        info = ad_duckdb.import_model(con, tmp_path / "m.onnx", name="m2")
        rec = ad_duckdb.load_model(con, "m")
    finally:
        con.close()
    by = {t.name: t for t in rec.thresholds}
    # unchanged: each threshold's stored share, whatever rows it is of
    assert info.flagged_shares["best"] == pytest.approx(by["best"].flagged_share)
    assert info.flagged_shares["default"] == pytest.approx(by["default"].flagged_share)
    # of the training rows, every threshold
    assert info.flagged_training["default"] == pytest.approx(by["default"].flagged_share)
    assert info.flagged_training["best"] == pytest.approx(np.mean(scores > by["best"].value), abs=0.003)
    # of the rows chosen on: the labelled cut's 40 rows; none for a cut from the training scores
    assert info.flagged_chosen_on["best"] == pytest.approx(by["best"].flagged_share)
    assert info.flagged_chosen_on["default"] is None
    assert by["best"].flagged_share > 4 * info.flagged_training["best"]
    assert info.flagged_share_of == {t.name: ("labelled rows" if t.name == "best" else "training rows")
                                     for t in rec.thresholds}


def test_evaluate_names_a_goal_threshold_that_flags_no_held_out_row(tmp_path: Path) -> None:
    """A precision goal chosen on a tuning half whose frauds were blatant sits above every score of a held-out half
    whose frauds are slight: evaluate left it out of its goal checks without a word (no flag, no precision), so the
    reader saw the other goals checked and this one not at all. It is now listed as flagging none of the held-out
    rows, with what that means: its precision cannot be checked here, and it catches none of these anomalies."""
    path = str(tmp_path / "g.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=3000)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        con.execute(
            "CREATE TABLE reviewed AS SELECT transaction_id, count * CASE WHEN transaction_id % 8 <> 0 THEN 1 "
            "WHEN transaction_id <= 200 THEN 40 ELSE 1.3 END AS count, amount, (transaction_id % 8 = 0)::INTEGER "
            "AS label, if(transaction_id <= 200, 'tune', 'holdout') AS part FROM transactions WHERE transaction_id <= 400")
        ad_duckdb.set_threshold(con, "m", "prec90", "min_precision", target=0.9, source="reviewed", label="label",
                                where="part = 'tune'")
        rep = ad_duckdb.evaluate(con, "m", "reviewed", label="label", where="part = 'holdout'")
    finally:
        con.close()
    m = rep.at_thresholds["prec90"]
    assert m["tp"] + m["fp"] == 0, m  # the design: the cut flags no held-out row
    checks = {c["threshold"]: c for c in rep.goal_checks}
    assert "prec90" in checks, rep.goal_checks
    c = checks["prec90"]
    assert c["verdict"] == "flags none"
    assert c["here"] is None and c["here_lo"] is None and c["here_hi"] is None
    assert c["flagged"] == 0 and c["anomalies_here"] == 25
    text = str(rep)
    line = next(x for x in text.splitlines() if x.strip().startswith("prec90") and "min_precision" in x)
    assert "flags none of these 200 rows" in line, line
    assert "catches none of their 25 anomalies" in line, line

    res = CliRunner().invoke(cli, ["evaluate", path, "m", "reviewed", "--label", "label", "--where",
                                   "part = 'holdout'", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = {g["threshold"]: g for g in json.loads(res.stdout)["goal_checks"]}
    assert doc["prec90"]["verdict"] == "flags none" and doc["prec90"]["here"] is None


def test_precision_of_alerts_sampled_alike_is_the_share_of_frauds_among_them() -> None:
    """A fraud analyst reviewed 100 of the 500 alerts (weight 5 each; 76 frauds) and 100 of the 49,500 other rows
    (weight 495; none a fraud): evaluate --weight gave the default threshold's precision 0.760 with the 95% interval
    0.025-0.983, the recall's uncertainty (how many frauds the 49,500 unreviewed rows hide) carried into it. The
    precision of the alerts is the share of frauds among them, and the 100 reviewed are an even sample of the 500:
    its interval is Wilson's of 76 in 100. Where the flagged rows weigh unlike (one sampled normal row standing for
    10 beside 187 anomalies), the interval stays the one that allows for what the sampled rows stand for."""
    from ad_duckdb import weights
    from ad_duckdb.thresholds import wilson

    s = np.r_[np.linspace(20, 30, 76), np.linspace(11, 19, 24), np.linspace(0, 9, 100)]
    y = np.r_[np.ones(76), np.zeros(124)]
    w = np.r_[np.full(100, 5.0), np.full(100, 495.0)]
    m = weights.confusion(s, y, w, 10.0)
    assert m["precision"] == pytest.approx(0.76)
    lo, hi = wilson(76, 100)
    assert (m["precision_lo"], m["precision_hi"]) == (pytest.approx(lo), pytest.approx(hi))
    assert m["recall_hi"] == 1.0 and m["recall_lo"] < 0.5  # recall stays as uncertain as the audit leaves it
    # the flagged rows weighing unlike: wider than Wilson's of the flagged rows' effective size
    s2 = np.r_[np.linspace(20, 30, 187), [15.0], np.linspace(0, 9, 300)]
    y2 = np.r_[np.ones(187), np.zeros(301)]
    w2 = np.r_[np.ones(187), [10.0], np.full(300, 10.0)]
    m2 = weights.confusion(s2, y2, w2, 10.0)
    assert m2["precision_lo"] < 0.9, m2
