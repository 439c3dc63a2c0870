"""Recall's interval on an audit sample at a cut above the audit's own: the missed anomalies split by weight."""

from __future__ import annotations

import numpy as np
import pytest

from ad_duckdb import weights


def _audit(k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row above 2.0 reviewed (weight 1), the rest audited 1 in k (weight k): 18 anomalies above 3.5, two
    reviewed ones between 2.0 and 3.5, none drawn below 2.0; 40 reviewed normal rows between the cuts and 400
    audited ones below."""
    s = np.r_[np.linspace(3.6, 6.0, 18), 2.5, 3.0, np.linspace(2.05, 3.4, 40), np.linspace(-3.0, 1.9, 400)]
    y = np.r_[np.ones(20, bool), np.zeros(440, bool)]
    w = np.r_[np.ones(60), np.full(400, k)]
    return s, y, w


def test_recall_at_a_cut_above_the_audit_counts_the_unseen_heavy_stratum() -> None:
    s, y, w = _audit(50.0)
    c = weights.confusion(s, y, w, 3.5)
    assert c["recall"] == 0.9
    # none of the 400 audited rows below 2.0 was an anomaly, but each stands for 50: up to about 3.7 x 50 missed
    # anomalies fit that draw, so recall may be as low as 18 / (20 + 184), not 0.7 as the reviewed misses alone say
    assert c["recall_lo"] < 0.15
    assert c["recall_hi"] > 0.97
    # the upper end rests on the misses seen: unchanged
    cells = weights.confusion(s, y, np.ones_like(w), 3.5)
    assert c["recall_hi"] == cells["recall_hi"]


def test_recall_interval_unchanged_where_the_misses_weigh_as_the_rows_beside_them() -> None:
    s, y, w = _audit(1.0)  # every row kept: no heavier stratum
    c = weights.confusion(s, y, w, 3.5)
    lo, hi = weights.recall_interval(18.0, 18.0, 2.0, 2.0, 40.0, 40.0, 400.0, 400.0)
    assert (c["recall_lo"], c["recall_hi"]) == (lo, hi)
    # normal rows sampled 1 in 50, every anomaly kept (weight 1): a missed anomaly weighs 1 whatever the normal rows
    w2 = np.where(y, 1.0, 50.0)
    c2 = weights.confusion(s, y, w2, 3.5)
    assert (c2["recall_lo"], c2["recall_hi"]) == (lo, hi)


def test_recall_at_the_audits_own_cut_unchanged() -> None:
    s, y, w = _audit(50.0)
    s = s.copy()
    s[19] = 1.5  # one audited anomaly below the audit's cut, weight 50
    w = w.copy()
    w[19] = 50.0
    c = weights.confusion(s, y, w, 2.0)
    fn, fn2 = 50.0, 2500.0
    lo, hi = weights.recall_interval(19.0, 19.0, fn, fn2, 40.0, 40.0, 20_000.0, 20_000.0 * 50.0)
    assert (c["recall_lo"], c["recall_hi"]) == (lo, hi)


def test_recall_with_no_anomaly_caught_reads_a_caught_one_as_the_rows_at_the_cut() -> None:
    s, y, w = _audit(50.0)
    s = s.copy()
    s[:18] = np.linspace(2.1, 3.3, 18)  # every anomaly reviewed and missed at 3.5: none caught
    s[20:22] = (3.6, 3.7)  # two reviewed normal rows flagged
    c = weights.confusion(s, y, w, 3.5)
    assert c["recall"] == 0.0 and c["recall_lo"] == 0.0
    # 20 misses of weight 1 and no catch: Wilson's of 0 of 20 (0.16), not the 0.004 a caught anomaly read as
    # standing for 1/50 of a row gave
    lo, hi = weights.wilson(0.0, 20.0)
    assert c["recall_hi"] == pytest.approx(float(hi), rel=1e-12)
