"""A notebook's time series: a pandas frame indexed by its times (``set_index('ts')``, ``resample``'s result) is
plotted over time by ``plot_scores_over_time`` as ``score`` reads it, its index a column, not refused with "make
it one: reset_index()"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ad_duckdb

from conftest import FAST


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({"ts": pd.date_range("2026-01-01", periods=n, freq="h"), "qty": rng.poisson(5, n),
                       "price": rng.gamma(2, 10, n).round(2)})
    df.loc[5, "price"] = 5000
    return df


def test_a_frame_indexed_by_its_times_is_plotted_over_time() -> None:
    pytest.importorskip("matplotlib")
    df = _frame()
    con = ad_duckdb.connect()
    try:
        ad_duckdb.train(con, "m", "df", features=["qty", "price"], **FAST)
        new = df.set_index("ts")  # noqa: F841 (read by name)
        fig = ad_duckdb.plot_scores_over_time(con, "m", "new")
        also = ad_duckdb.plot_scores_over_time(con, "m", "new", time="ts")
        scored = ad_duckdb.score(con, "m", "new").to_pandas()
    finally:
        con.close()
    for f in (fig, also):
        ax = f.axes[0]
        assert "ts" in ax.get_xlabel(), ax.get_xlabel()
        # the x axis spans the frame's 25 days: dates, not row numbers
        lo, hi = ax.get_xlim()
        assert 20 < hi - lo < 40, (lo, hi)
    assert list(scored.columns[:1]) == ["ts"]  # as score reads it
