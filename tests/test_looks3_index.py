"""A frame whose index is named like a score column (an earlier run's scores set as its index) is refused with the
fix that works on a frame: name the index otherwise, not rename a column it does not have."""

from __future__ import annotations

import numpy as np
import pytest

import ad_duckdb
from ad_duckdb.exceptions import BadInputError

from conftest import FAST, make_transactions


@pytest.mark.parametrize("level", ["anomaly_score", "is_anomaly"])
def test_an_index_named_like_a_score_column_says_it_is_the_index_and_how_to_rename_it(level: str) -> None:
    """'frame' has a column 'anomaly_score' of its own, the error said, and offered a query renaming that column: the
    frame has no such column (its index has that name, kept beside the scores), so nothing pointed at the index."""
    con = ad_duckdb.connect()
    make_transactions(con, n=600)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    df = con.sql("SELECT transaction_id, count, amount FROM transactions LIMIT 50").df()
    frame = df.assign(**{level: np.arange(50.0)}).set_index(level)
    assert level not in frame.columns
    with pytest.raises(BadInputError) as e:
        ad_duckdb.score(con, "tx_ae", "frame")
    msg = str(e.value)
    assert f"the index of 'frame' is named {level!r}" in msg, msg
    new = "label" if level == "is_anomaly" else f"{level}_own"
    fix = f"frame_r = frame.rename_axis(index={{{level!r}: {new!r}}})"
    assert fix in msg, msg
    assert "RENAME" not in msg, msg  # the query's fix named a column the frame lacks
    # the fix works as written
    frame_r = frame.rename_axis(index={level: new})
    assert frame_r.index.names == [new]
    out = ad_duckdb.score(con, "tx_ae", "frame_r")
    assert new in out.column_names and "anomaly_score" in out.column_names and out.num_rows == 50
    con.close()
