"""A pandas time series whose times are an unnamed DatetimeIndex (``pd.date_range(...)`` as the index, a
``resample``'s result of an unnamed index) is plotted over time where the time axis is needed (``plot_scores_over_time``,
``evaluate(plots_dir=)``), its index read as a column ``index``, as ``reset_index()`` names it: it was refused with
"make it one: readings_t = readings.reset_index()". ``score`` keeps giving such a frame's scores with its row labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import ad_duckdb

from conftest import FAST


def _readings(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)},
                        index=pd.date_range("2024-01-01", periods=n, freq="h"))


def test_an_unnamed_datetime_index_is_the_time_axis(tmp_path: Path) -> None:
    import matplotlib  # noqa: F401 - installed by make (the plots extra): a missing one fails, never skips

    readings = _readings()
    labelled = readings.assign(label=(np.arange(len(readings)) % 40 == 0).astype(int))  # noqa: F841 (read by name)
    con = ad_duckdb.connect()
    try:
        ad_duckdb.train(con, "valve", "readings", **FAST)
        figs = [ad_duckdb.plot_scores_over_time(con, "valve", "readings"),
                ad_duckdb.plot_scores_over_time(con, "valve", "readings", time="index")]
        rep = ad_duckdb.evaluate(con, "valve", "labelled", label="label", plots_dir=tmp_path)
        scored = ad_duckdb.score(con, "valve", "readings").to_pandas()
    finally:
        con.close()
    for fig in figs:
        ax = fig.axes[0]
        lo, hi = ax.get_xlim()
        assert 12 < hi - lo < 25, (lo, hi)  # the frame's 17 days as dates, not row numbers
    assert any("_over_time" in p.name for p in map(Path, rep.plots)), rep.plots
    assert not any("reset_index" in n for n in rep.notes), rep.notes
    # score as before: the times are the returned rows' labels, so the scores line up with the frame
    assert scored.index.equals(readings.index) and list(scored.columns[:2]) == ["a", "b"], scored.columns
