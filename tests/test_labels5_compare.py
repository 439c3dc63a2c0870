"""labels5: compare --label's per-threshold precision and recall with their 95% intervals, and the exact McNemar
test of the rows only one version flags."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import pairedflags, weights
from ad_duckdb.cli import cli
from ad_duckdb.confusion import confusion

from conftest import FAST, make_transactions


def test_exact_mcnemar_counts_the_rows_only_one_version_flags() -> None:
    """The paired test at a threshold reads only the rows the two versions flag differently: of 13 anomalies only
    one version catches, 12 are b's: p = 2 (1 + 13) / 2^13; equal rates of sampling (unweighted, or one weight a
    class) give McNemar's 0.5; an audit (a's alerts weight 1, the rest 1 in 50) expects 1/51 of them b's."""
    fa = np.r_[np.ones(20, bool), np.ones(1, bool), np.zeros(12, bool), np.zeros(7, bool)]
    fb = np.r_[np.ones(20, bool), np.zeros(1, bool), np.ones(12, bool), np.zeros(7, bool)]
    t = pairedflags.test(fa, fb, None, np.ones(len(fa), bool), pairedflags.ANOMALIES)
    assert (t.only_a, t.only_b, t.expected_b_share) == (1, 12, 0.5)
    assert t.p_value == pytest.approx(2 * (1 + 13) / 2**13)
    said = pairedflags.verdict(t, "m@1", "m@2")
    assert "m@2 alone catches 12 and m@1 alone 1" in said and "m@2 catches more anomalies, unlikely to be chance" in said
    # one weight on every row of the class: the same test
    tw = pairedflags.test(fa, fb, np.full(len(fa), 50.0), np.ones(len(fa), bool), pairedflags.ANOMALIES)
    assert (tw.expected_b_share, tw.p_value) == (0.5, pytest.approx(t.p_value))
    assert (tw.only_a_weighted, tw.only_b_weighted) == (50.0, 600.0)
    # an audit by a's flags: a's alerts weigh 1, the rest 50. 12 sampled b-only rows stand for 600 rows, against 1
    w = np.where(fa, 1.0, 50.0)
    ta = pairedflags.test(fa, fb, w, np.ones(len(fa), bool), pairedflags.ANOMALIES)
    assert ta.expected_b_share == pytest.approx(1 / 51)
    assert ta.p_value == pytest.approx(pairedflags.binomial_two_sided(12, 13, 1 / 51))
    assert ta.p_value < 1e-15
    # and 1 sampled b-only row of weight 50 beside 40 a-only alerts: 50 against 40 rows, no difference shown
    fa2 = np.r_[np.ones(40, bool), np.zeros(1, bool), np.zeros(30, bool)]
    fb2 = np.r_[np.zeros(40, bool), np.ones(1, bool), np.zeros(30, bool)]
    t2 = pairedflags.test(fa2, fb2, np.where(fa2, 1.0, 50.0), np.ones(len(fa2), bool), pairedflags.ANOMALIES)
    assert t2.p_value > 0.05, t2
    assert "could be chance" in pairedflags.verdict(t2, "m@1", "m@2")
    # against scipy's exact binomial test, where it is at hand
    for k, n, p in ((3, 10, 0.2), (40, 1000, 0.02), (0, 5, 0.5), (7, 7, 0.5)):
        ours = pairedflags.binomial_two_sided(k, n, p)
        probs = [math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(n + 1)]
        assert ours == pytest.approx(min(1.0, sum(q for q in probs if q <= probs[k] * (1 + 1e-7))), rel=1e-9)


def _two_versions(path: str) -> None:
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=2000)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **{**FAST, "seed": 1, "max_steps": 150})
        con.execute("CREATE TABLE reviewed AS SELECT transaction_id, count * if(transaction_id % 10 = 0, 1.7, 1) AS count, "
                    "amount, (transaction_id % 10 = 0)::INTEGER AS label FROM transactions WHERE transaction_id <= 600")
    finally:
        con.close()


def test_compare_gives_each_threshold_intervals_and_the_paired_test(tmp_path: Path) -> None:
    """compare --label printed each version's precision and recall at each threshold as bare figures: two
    evaluations' intervals overlap where one version is surely better, and a reader could not tell a retrain's
    gain at the alert cut from chance. Each figure now has evaluate's 95% interval, and each threshold both
    versions have gets the exact McNemar test of the anomalies and of the normal rows only one version flags, said
    in plain words (could be chance / unlikely to be chance)."""
    path = str(tmp_path / "c.duckdb")
    _two_versions(path)
    con = ad_duckdb.connect(path, read_only=True)
    try:
        r = ad_duckdb.compare_versions(con, "m@1", "m@2", "reviewed", label="label")
        s = {v: np.array([x[0] for x in con.execute(
            f"SELECT anomaly_score('m@{v}', count, amount) FROM reviewed ORDER BY transaction_id").fetchall()])
            for v in (1, 2)}
        y = np.array([x[0] for x in con.execute("SELECT label FROM reviewed ORDER BY transaction_id").fetchall()])
    finally:
        con.close()
    yb = y.astype(bool)
    by = {t.name: t for t in r.thresholds}
    assert "default" in by
    for t in r.thresholds:
        for side, value, sc in (("a", t.value_a, s[1]), ("b", t.value_b, s[2])):
            m = confusion(sc, y, value)
            assert getattr(t, f"recall_{side}_lo") == pytest.approx(m["recall_lo"])
            assert getattr(t, f"recall_{side}_hi") == pytest.approx(m["recall_hi"])
            if m["tp"] + m["fp"]:
                assert getattr(t, f"precision_{side}_lo") == pytest.approx(m["precision_lo"])
                assert getattr(t, f"precision_{side}_hi") == pytest.approx(m["precision_hi"])
        fa, fb = s[1] > t.value_a, s[2] > t.value_b
        assert t.paired is not None and [p.rows for p in t.paired] == ["anomalies", "normal rows"]
        for p, rows in zip(t.paired, (yb, ~yb), strict=True):
            assert (p.only_a, p.only_b) == (int((fa & ~fb & rows).sum()), int((fb & ~fa & rows).sum()))
            assert p.p_value == pytest.approx(pairedflags.binomial_two_sided(p.only_b, p.only_a + p.only_b, 0.5))
    text = str(r)
    assert "exact McNemar" in text
    d = by["default"]
    line = next(x for x in text.splitlines() if x.strip().startswith("default:"))
    assert f"of the anomalies, m@2 alone catches {d.paired[0].only_b} and m@1 alone {d.paired[0].only_a}" in line
    # each precision and recall cell shows its interval
    row = next(x for x in text.splitlines() if x.startswith("default "))
    assert f"{d.recall_a:.3f} ({d.recall_a_lo:.3f}-{d.recall_a_hi:.3f})" in row, row

    res = CliRunner().invoke(cli, ["compare", path, "m@1", "m@2", "reviewed", "--label", "label", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = {t["name"]: t for t in json.loads(res.stdout)["thresholds"]}
    assert doc["default"]["paired"][0]["only_b"] == d.paired[0].only_b
    assert doc["default"]["recall_b_lo"] == pytest.approx(d.recall_b_lo)


def test_weighted_compare_tests_the_flags_at_each_cells_sampling_rate(tmp_path: Path) -> None:
    """With --weight, each threshold's intervals are evaluate --weight's, and the paired test weighs each cell by
    its sampling rate (normal rows sampled 1 in 50: one rate a class, McNemar's 0.5)."""
    path = str(tmp_path / "w.duckdb")
    _two_versions(path)
    con = ad_duckdb.connect(path, read_only=True)
    try:
        q = "SELECT *, if(label = 1, 1, 50) AS w FROM reviewed WHERE label = 1 OR transaction_id % 50 = 1"
        r = ad_duckdb.compare_versions(con, "m@1", "m@2", q, label="label", weight="w")
        rows = con.execute(f"SELECT anomaly_score('m@1', count, amount), anomaly_score('m@2', count, amount), label, w "
                           f"FROM ({q})").fetchnumpy()
    finally:
        con.close()
    sa, sb, y, w = (np.asarray(rows[k], dtype=np.float64) for k in rows)
    d = next(t for t in r.thresholds if t.name == "default")
    m = weights.confusion(sa, y, w, d.value_a)
    assert d.recall_a_lo == pytest.approx(m["recall_lo"]) and d.recall_a_hi == pytest.approx(m["recall_hi"])
    assert d.paired is not None
    assert [p.expected_b_share for p in d.paired] == [0.5, 0.5]
    fa, fb, n = sa > d.value_a, sb > d.value_b, y == 0
    assert d.paired[1].only_a_weighted == pytest.approx(float(w[fa & ~fb & n].sum()))


def test_an_audit_cell_without_sampled_rows_takes_the_rate_of_the_rows_beside_it() -> None:
    """An audit drawn by a's alerts (weight 1) and 1 in 50 of the rest (weight 50) that drew no anomaly below the
    alerts: the anomalies b alone flags took the rate of the anomalies b flags (the alerts', 1), and 10 anomalies a
    alone catches against none of b's read as a real difference (p = 0.002), where none of b's was expected to be
    drawn. The rate is now read from the rows beside that cell (the normal rows b alone flags: 1 in 50)."""
    fa = np.r_[np.ones(10, bool), np.ones(5, bool), np.zeros(3, bool), np.zeros(40, bool)]
    fb = np.r_[np.zeros(10, bool), np.ones(5, bool), np.ones(3, bool), np.zeros(40, bool)]
    y = np.r_[np.ones(15, bool), np.zeros(43, bool)]
    w = np.where(fa, 1.0, 50.0)
    t = pairedflags.test(fa, fb, w, y, pairedflags.ANOMALIES)
    assert (t.only_a, t.only_b) == (10, 0)
    assert t.expected_b_share == pytest.approx(1 / 51)
    assert t.p_value > 0.5, t
