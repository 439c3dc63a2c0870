"""How training and scoring scale with the table: no redundant passes, no whole-table copies in Python.

Behaviour only (what is read, scored and kept, and that results equal the simple path); never wall time.
"""

from __future__ import annotations

import numpy as np
import pytest

import ad_duckdb
from ad_duckdb.detector import AutoEncoderDetector

from conftest import FAST, make_transactions


def test_train_does_not_score_the_training_rows_with_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """ad_duckdb.train takes its thresholds from the ONNX scores of every row; a torch pass over the training
    sample as well was thrown away (about a third of a default training on 1M rows)."""
    calls: list[int] = []
    real = AutoEncoderDetector.decision_function

    def counted(self: AutoEncoderDetector, X: np.ndarray) -> np.ndarray:
        calls.append(len(X))
        return real(self, X)

    monkeypatch.setattr(AutoEncoderDetector, "decision_function", counted)
    con = ad_duckdb.connect(":memory:")
    try:
        make_transactions(con, n=500)
        info = ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        assert calls == []
        # the thresholds still come from the scores SQL computes, over every row
        flagged = con.execute("SELECT avg(is_anomaly('tx_ae', count, amount)::INTEGER) FROM transactions").fetchall()[0][0]
        assert flagged == pytest.approx(info.flagged_shares["default"])
    finally:
        con.close()
    # the detector used on its own still scores its training rows, as scikit-learn-shaped detectors do
    X = np.random.default_rng(0).normal(size=(200, 3))
    det = AutoEncoderDetector(**FAST).fit(X)
    assert calls == [200] and len(det.decision_scores_) == 200 and np.isfinite(det.threshold_)
