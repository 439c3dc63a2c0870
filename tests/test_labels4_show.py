"""`show`'s thresholds table: each flagged share says which rows it is a share of."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def _stored(path: str) -> np.ndarray:
    """A model trained on 3,000 transactions with a max_f1 threshold chosen on 40 reviewed rows (8 frauds) and an
    alarm_rate one on the traffic; the training rows' scores."""
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=2000, seed=1)
        con.execute("CREATE TABLE later AS SELECT * FROM transactions")
        make_transactions(con, n=3000)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        con.execute("CREATE TABLE reviewed AS SELECT transaction_id, count * if(transaction_id <= 8, 40, 1) AS count, "
                    "amount, (transaction_id <= 8)::INTEGER AS label FROM transactions WHERE transaction_id <= 40")
        ad_duckdb.set_threshold(con, "m", "best", "max_f1", source="reviewed", label="label")
        ad_duckdb.set_threshold(con, "m", "rate", "alarm_rate", source="later", rate=0.05)
        return np.array([r[0] for r in con.execute(
            "SELECT anomaly_score('m', count, amount) FROM transactions").fetchall()])
    finally:
        con.close()


def test_show_names_which_rows_each_flagged_share_is_of(tmp_path: Path) -> None:
    """`show`'s one `flagged` column held the share of the training rows for `default`, `p99`, ... and the share
    of the 40 labelled rows for a max_f1 cut: 0.01 beside 0.2 in one column, where the max_f1 cut flags about 1% of
    the traffic. It now gives two columns: flagged_training (every threshold: of the model's training rows, from
    their score quantiles for a cut not chosen on them) and flagged_chosen_on (of the rows the threshold was chosen
    on, where those are not the training rows), with a line saying what each is; --format json gives each
    threshold's training_flagged_share and what its flagged_share is of."""
    path = str(tmp_path / "s.duckdb")
    scores = _stored(path)
    res = CliRunner().invoke(cli, ["show", path, "m"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("threshold "))
    head = lines[start].split()
    assert "flagged" not in head, head
    assert head[:8] == ["threshold", "value", "method", "precision", "recall", "f1", "flagged_training",
                        "flagged_chosen_on"], head
    rows = {x.split()[0]: x.split() for x in lines[start + 2:] if x.strip()[:1].isalpha() and len(x.split()) > 7}
    assert {"default", "p99", "best", "rate"} <= set(rows), rows
    assert "flagged_training: the share of the model's training rows" in lines[start - 1], lines[start - 1]
    assert "flagged_chosen_on: the share of the rows it was chosen on" in lines[start - 1], lines[start - 1]

    con = ad_duckdb.connect(path, read_only=True)
    try:
        rec = ad_duckdb.load_model(con, "m")
    finally:
        con.close()
    by = {t.name: t for t in rec.thresholds}
    # a cut from the training scores: its share of them; nothing chosen elsewhere
    assert float(rows["default"][6]) == pytest.approx(by["default"].flagged_share, abs=1e-6)
    assert rows["default"][7] == "NULL"
    # the labelled cut: the labelled rows' share beside the training rows'
    best = by["best"]
    assert float(rows["best"][7]) == pytest.approx(best.flagged_share, abs=1e-6)
    assert float(rows["best"][6]) == pytest.approx(np.mean(scores > best.value), abs=0.003)
    assert best.flagged_share > 4 * float(rows["best"][6])  # the two differ: the reason for two columns
    # alarm_rate: the rows of its stretch
    assert float(rows["rate"][7]) == pytest.approx(by["rate"].flagged_share, abs=1e-6)
    assert float(rows["rate"][6]) == pytest.approx(np.mean(scores > by["rate"].value), abs=0.003)

    res = CliRunner().invoke(cli, ["show", path, "m", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = {t["name"]: t for t in json.loads(res.stdout)["thresholds"]}
    assert doc["default"]["flagged_share_of"] == "training rows"
    assert doc["default"]["training_flagged_share"] == pytest.approx(by["default"].flagged_share)
    assert doc["best"]["flagged_share_of"] == "labelled rows"
    assert doc["best"]["flagged_share"] == pytest.approx(best.flagged_share)
    assert doc["best"]["training_flagged_share"] == pytest.approx(float(rows["best"][6]), abs=1e-5)
    assert doc["rate"]["flagged_share_of"] == "rows it was chosen on"
