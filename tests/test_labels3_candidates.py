"""evaluate's candidate table beside the traffic: its flagged share is of the labelled rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def _labelled(path: str) -> None:
    """A model trained on 3,000 normal transactions, and 40 reviewed rows beside them: 8 frauds (count x 40) and 32
    normal rows, as a data scientist's first labels are."""
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=3000)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        con.execute("CREATE TABLE reviewed AS SELECT transaction_id, count * if(transaction_id <= 8, 40, 1) AS count, "
                    "amount, (transaction_id <= 8)::INTEGER AS label FROM transactions WHERE transaction_id <= 40")
        con.execute("CREATE TABLE scored AS SELECT * FROM transactions")
    finally:
        con.close()


def test_candidate_table_gives_the_share_of_the_training_rows_flagged_beside_the_labelled_rows_share(
        tmp_path: Path) -> None:
    """The candidate table's flagged_share was the share of the 40 labelled rows (8 of them frauds) each cut flags:
    a cut flagging 20% of them flags about 1% of the traffic, and a user budgeting reviews from that column planned
    twenty times the alerts. The table now names its columns flagged_labelled and flagged_training, the latter the
    share of the model's training rows flagged (from their stored score quantiles, as `threshold` prints);
    --format csv / json and --into add training_flagged_share beside flagged_share (kept: of the labelled rows)."""
    path = str(tmp_path / "c.duckdb")
    _labelled(path)
    con = ad_duckdb.connect(path)
    try:
        rep = ad_duckdb.evaluate(con, "m", "reviewed", label="label")
        scores = np.array([r[0] for r in con.execute(
            "SELECT anomaly_score('m', count, amount) FROM transactions").fetchall()])
    finally:
        con.close()
    assert rep.table
    for r in rep.table:
        assert r["training_flagged_share"] == pytest.approx(np.mean(scores > r["threshold"]), abs=0.003), r
    # the labelled rows flag far more than the training rows at the cuts that catch the frauds
    r = next(r for r in rep.table if r["recall"] == 1.0)
    assert r["flagged_share"] >= 0.2 > 0.05 > r["training_flagged_share"], r

    run = CliRunner()
    res = run.invoke(cli, ["evaluate", path, "m", "reviewed", "--label", "label"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("candidate thresholds"))
    assert "flagged_training is the share of the model's training rows" in lines[start], lines[start]
    head = lines[start + 1].split()
    assert head == ["threshold", "precision", "recall", "f1", "flagged_labelled", "flagged_training"], head
    rows = [x.split() for x in lines[start + 3:start + 3 + len(rep.table)]]
    for printed, r in zip(rows, rep.table, strict=True):
        assert float(printed[4].rstrip("%")) / 100 == pytest.approx(r["flagged_share"], rel=0.1), printed
        assert float(printed[5].rstrip("%")) / 100 == pytest.approx(r["training_flagged_share"], abs=0.0005), printed

    res = run.invoke(cli, ["evaluate", path, "m", "reviewed", "--label", "label", "--format", "csv"])
    got = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(got[0]) == ["threshold", "precision", "recall", "f1", "flagged_share", "training_flagged_share"]
    res = run.invoke(cli, ["evaluate", path, "m", "reviewed", "--label", "label", "--format", "json"])
    doc = json.loads(res.stdout)
    assert doc["table"][0]["training_flagged_share"] == pytest.approx(rep.table[0]["training_flagged_share"])

    con = ad_duckdb.connect(path)
    try:
        ad_duckdb.evaluate(con, "m", "reviewed", label="label", into="cands")
        cols = [c[0] for c in con.execute("DESCRIBE cands").fetchall()]
        assert cols[-2:] == ["flagged_share", "training_flagged_share"], cols
    finally:
        con.close()


def test_threshold_chosen_on_labelled_rows_says_what_it_flags_of_the_training_rows(tmp_path: Path) -> None:
    """`threshold --method max_f1` on 40 reviewed rows (8 frauds) printed "flagged_share 0.200" and nothing else
    of what the cut flags: 20% of the labelled rows, read as 20% of the traffic, where it flags about 1% of the
    rows the model trained on (only flag_budget said so). Every method chosen on labelled rows now says both where
    they differ, and --format json gives training_flagged_share."""
    path = str(tmp_path / "t.duckdb")
    _labelled(path)
    run = CliRunner()
    for method, extra in (("max_f1", []), ("min_recall", ["--target", "0.9"]),
                          ("min_cost", ["--miss-cost", "400", "--alarm-cost", "5"])):
        res = run.invoke(cli, ["threshold", path, "m", method, "--method", method, "--source", "reviewed", "--label",
                               "label", *extra])
        assert res.exit_code == 0, res.output
        line = next((x for x in res.stdout.splitlines() if "of the labelled rows and" in x), None)
        assert line is not None and "of the training rows of transactions (from their score quantiles" in line, \
            (method, res.stdout)
        res = run.invoke(cli, ["threshold", path, "m", method, "--method", method, "--source", "reviewed", "--label",
                               "label", *extra, "--format", "json"])
        doc = json.loads(res.stdout)
        assert doc["flagged_share"] > 2 * doc["training_flagged_share"] >= 0, doc
    # chosen on the training scores: one share, of the training rows, as before
    res = run.invoke(cli, ["threshold", path, "m", "q", "--method", "quantile", "--target", "0.99"])
    assert res.exit_code == 0 and "of the labelled rows" not in res.stdout, res.stdout
