"""The scores histogram (``score --plots``, ``plot_scores``) of a spreadsheet export with its totals row: that row, the
sum of all the others, scored far above every transaction and was drawn as one, stretching the score axis until the
rows and thresholds that matter sat in its first bins, and it was counted among the rows each threshold flags. It is
now left out of the histogram (found by its values, as training's and ``--top``'s notes find it), and the title says
so; a source without such a row is drawn whole."""

from __future__ import annotations

import numpy as np

import ad_duckdb

from conftest import FAST


def _bars(fig) -> float:  # type: ignore[no-untyped-def]
    ax = fig.axes[0]
    return float(sum(p.get_height() for p in ax.patches if hasattr(p, "get_height")))


def test_the_histogram_leaves_out_a_totals_row() -> None:
    import matplotlib  # noqa: F401 - installed by make (the plots extra): a missing one fails, never skips

    con = ad_duckdb.connect()
    try:
        rng = np.random.default_rng(0)
        count = rng.poisson(8, 1500) + 1
        amount = np.round(count * rng.lognormal(3.0, 0.25, 1500), 2)
        con.execute("CREATE TABLE tx AS SELECT unnest(?) AS id, unnest(?)::INTEGER AS count, "
                    "unnest(?)::DECIMAL(12,2) AS amount", [[str(i) for i in range(1500)], count.tolist(),
                                                           amount.tolist()])
        ad_duckdb.train(con, "m", "tx", features=["count", "amount"], **FAST)
        whole = ad_duckdb.plot_scores(con, "m", "tx")
        con.execute("CREATE TABLE export AS SELECT * FROM tx UNION ALL "
                    "SELECT 'Total', sum(count), sum(amount) FROM tx")
        with_total = ad_duckdb.plot_scores(con, "m", "export")
        top = con.execute("SELECT max(anomaly_score('m', count, amount)) FROM export").fetchone()[0]
        rest = con.execute("SELECT max(anomaly_score('m', count, amount)) FROM tx").fetchone()[0]
    finally:
        con.close()
    assert _bars(whole) == 1500 and "totals row" not in whole.axes[0].get_title()
    assert top > 3 * rest  # the totals row scores far above every transaction
    ax = with_total.axes[0]
    assert _bars(with_total) == 1500, _bars(with_total)  # the 1500 transactions, not the totals row
    assert "totals row left out" in ax.get_title(), ax.get_title()
