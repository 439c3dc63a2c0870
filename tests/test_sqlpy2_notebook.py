"""A notebook's time series: a pandas frame indexed by its times (``set_index('ts')``, ``resample``'s result) is
plotted over time by ``plot_scores_over_time`` as ``score`` reads it, its index a column, not refused with "make
it one: reset_index()"."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    import matplotlib  # noqa: F401 - installed by make (the plots extra): a missing one fails, never skips
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


def test_scores_of_a_filtered_frame_come_back_with_its_row_labels() -> None:
    """``sub = df[df.qty > 5]`` keeps df's row labels (1, 4, 6, ...); its scores came back numbered 0..n-1, so the
    notebook's ``sub["score"] = scores["anomaly_score"]`` aligned them by label: most rows NaN, the rest another
    row's score, without a word. ``.to_pandas()`` now gives the frame's own index, as ``pa.Table.from_pandas`` keeps
    one."""
    df = _frame().drop(columns=["ts"])
    con = ad_duckdb.connect()
    try:
        ad_duckdb.train(con, "m", "df", **FAST)
        sub = df[df.qty > 5].copy()
        scored = ad_duckdb.score(con, "m", "sub")
        want = [r[0] for r in con.execute("SELECT anomaly_score('m', qty, price) FROM sub").fetchall()]
        tail = df.iloc[100:]  # noqa: F841 (read by name): a RangeIndex from 100
        tail_scored = ad_duckdb.score(con, "m", "tail").to_pandas()
        plain = ad_duckdb.score(con, "m", "df")
    finally:
        con.close()
    s = scored.to_pandas()
    assert s.index.equals(sub.index), s.index[:5]
    sub["score"] = s["anomaly_score"]
    assert not sub["score"].isna().any()
    np.testing.assert_allclose(sub["score"].to_numpy(), want, rtol=1e-6)
    assert list(tail_scored.index[:2]) == [100, 101] and "__index_level_0__" not in tail_scored.columns
    assert plain.column_names == ["qty", "price", "anomaly_score", "anomaly_percentile", "is_anomaly"]
    assert plain.to_pandas().index.equals(pd.RangeIndex(len(df)))
