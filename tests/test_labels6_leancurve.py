"""evaluate's curve kept to its counts (leancurve): the same floats as the whole curve, in fewer arrays."""

from __future__ import annotations

import numpy as np
import pytest

from ad_duckdb import intervals, leancurve, thresholds
from ad_duckdb.auc import auc_pr, auc_roc, curve_auc_roc
from ad_duckdb.candidates import candidate_table


def _rows(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = np.round(rng.gamma(2.0, 1.0, 5000), 2)  # ties, also across classes
    s[:3] = (np.inf, np.inf, -np.inf)
    y = rng.random(5000) < 0.05
    y[0] = True
    return s, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lean_curve_gives_the_whole_curves_floats(seed: int) -> None:
    s, y = _rows(seed)
    whole, lean = thresholds.curve(s, y), leancurve.LeanCurve(s, y)
    assert set(lean) == {"tp", "flagged", "scores"}  # what it holds: three arrays of the eight
    for k, v in whole.items():
        np.testing.assert_array_equal(lean[k], v, err_msg=k)  # computed whole where asked
    assert set(lean) == {"tp", "flagged", "scores"}  # and not kept
    assert candidate_table(s, y, c=lean) == candidate_table(s, y, c=whole)
    assert auc_pr(s, y, c=lean) == auc_pr(s, y, c=whole)
    a = int(y.sum())
    auc = curve_auc_roc(lean, a, len(y) - a)
    assert auc == auc_roc(s, y)
    assert intervals.auc_roc(lean, a, len(y) - a, auc) == intervals.auc_roc(whole, a, len(y) - a, auc)
    for i in (0, 1, len(lean["scores"]) // 2, len(lean["scores"]) - 1):
        assert lean.row(i) == {k: float(whole[k][i]) for k in ("threshold", "precision", "recall", "f1",
                                                                 "flagged_share")}


def test_curve_counts_by_brute_force() -> None:
    s, y = _rows(3)
    s = s[:400]
    y = y[:400]
    c = thresholds.curve(s, y)
    for i, v in enumerate(c["scores"]):
        assert c["flagged"][i] == (s >= v).sum() and c["tp"][i] == (y & (s >= v)).sum()
        assert ((s > c["threshold"][i]) == (s >= v)).all() or v == -np.inf  # no float lies below -inf
    assert np.array_equal(leancurve.diff0(c["tp"]), np.diff(c["tp"], prepend=0.0))
