"""compare --label --weight's AUC-ROC difference on few (effective) labelled anomalies."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import smallpaired, weights
from ad_duckdb.cli import cli
from ad_duckdb.pairedauc import PAIRED_DELONG, PAIRED_NO_SPREAD, paired_auc_roc

from conftest import FAST, make_transactions


def _sampled(rng: np.random.Generator, m: int, d: float,
             delta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """bench/compare_delong.py's sampled design: 20,000 normal rows N(0, 1) sampled 1 in 50 (weight 50), every
    anomaly kept (weight 1), N(d, 1) for version a and N(d + delta, 1) for b, the versions' noise correlated 0.6."""
    n = 20_000
    y = np.r_[np.ones(m, bool), np.zeros(n, bool)]
    e1, e2 = rng.normal(size=m + n), rng.normal(size=m + n)
    sa, sb = d * y + e1, (d + delta) * y + 0.6 * e1 + 0.8 * e2
    keep = y | (np.arange(m + n) < m + n // 50)
    return sa[keep], sb[keep], y[keep], np.where(y, 1.0, 50.0)[keep]


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def test_weighted_difference_interval_on_few_anomalies_holds_the_true_difference() -> None:
    """Unweighted, compare's interval of b - a on 10 labelled anomalies or fewer was widened (DeLong's joined with
    MOVER's), but with --weight it stayed DeLong's alone: with every anomaly kept and the normal rows sampled 1 in
    50, it held a better version's true gain in 77/81/85% of draws at 3/5/10 anomalies (bench/small_intervals.py
    delong-weighted, 1,000 draws a cell). It is now widened the same way below 11 effective anomalies, from each
    version's weighted DeLong logit interval; here a fixed seed's 300 draws at 5 anomalies."""
    rng = np.random.default_rng(7)
    true = _phi(2.8 / math.sqrt(2)) - _phi(2.3 / math.sqrt(2))
    held, methods = [], set()
    for _ in range(300):
        p = weights.paired_auc_roc(*_sampled(rng, 5, 2.3, 0.5))
        held.append(p.low <= true <= p.high)
        assert p.low <= p.diff <= p.high
        assert (p.p_value < 0.05) <= (p.low > 0 or p.high < 0), p
        methods.add(p.method)
    assert np.mean(held) >= 0.88, np.mean(held)  # DeLong's alone: 0.81
    assert methods <= {smallpaired.METHOD, PAIRED_NO_SPREAD}, methods
    # equal versions: called different no more often than 5%
    rng = np.random.default_rng(8)
    called = [weights.paired_auc_roc(*_sampled(rng, 5, 1.0, 0.0)).p_value < 0.05 for _ in range(300)]
    assert np.mean(called) <= 0.05, np.mean(called)
    # unit weights: the unweighted test's figures
    sa, sb, y, _w = _sampled(np.random.default_rng(3), 6, 2.3, 0.5)
    got, plain = weights.paired_auc_roc(sa, sb, y, np.ones(len(y))), paired_auc_roc(sa, sb, y)
    assert (got.method, round(got.low, 9), round(got.high, 9)) == (plain.method, round(plain.low, 9),
                                                                    round(plain.high, 9))
    # 11 effective anomalies and more: DeLong's alone, symmetric
    p = weights.paired_auc_roc(*_sampled(np.random.default_rng(9), 20, 2.3, 0.5))
    assert p.method == PAIRED_DELONG
    assert abs((p.diff - p.low) - (p.high - p.diff)) < 1e-9


def test_compare_with_weights_on_few_anomalies_names_the_widened_test(tmp_path: Path) -> None:
    """`compare --label --weight` on 6 frauds among normal rows sampled 1 in 50 gives the widened interval and says
    which test made it (`labelled.test`)."""
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=2000)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **{**FAST, "seed": 1})
        con.execute("CREATE TABLE audit AS SELECT transaction_id, count, amount * if(transaction_id <= 6, 1.6, 1) AS amount, "
                    "(transaction_id <= 6)::INTEGER AS label, if(transaction_id <= 6, 1, 50) AS w "
                    "FROM transactions WHERE transaction_id <= 6 OR transaction_id % 50 = 0")
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["compare", path, "m@1", "m@2", "audit", "--label", "label", "--weight", "w",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["labelled"]["test"] == smallpaired.METHOD, doc["labelled"]
    low, high, diff = (doc["labelled"][k] for k in ("auc_roc_diff_low", "auc_roc_diff_high", "auc_roc_diff"))
    assert low <= diff <= high, doc["labelled"]
