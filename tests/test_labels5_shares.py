"""labels5: ModelInfo's flagged shares split by the rows they are shares of; evaluate on a held-out part names a goal
threshold that flags none of its rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ad_duckdb

from conftest import FAST, make_transactions


def test_model_info_splits_training_and_labelled_shares(tmp_path: Path) -> None:
    """`show` split its one flagged column into flagged_training and flagged_chosen_on, but the Python ModelInfo's
    ``flagged_shares`` still held 0.01 of the training rows for `default` beside 0.2 of 40 labelled rows for a
    max_f1 cut, in one dict. ModelInfo now has ``flagged_training`` (every threshold's share of the training rows,
    from their score quantiles for a cut chosen elsewhere) and ``flagged_chosen_on`` (the share of the rows a cut
    was chosen on where those are not the training rows, else None), as `show` prints; ``flagged_shares`` keeps
    what it held (each threshold's stored share), for code that reads it."""
    path = str(tmp_path / "s.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=3000)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        con.execute("CREATE TABLE reviewed AS SELECT transaction_id, count * if(transaction_id <= 8, 40, 1) AS count, "
                    "amount, (transaction_id <= 8)::INTEGER AS label FROM transactions WHERE transaction_id <= 40")
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
