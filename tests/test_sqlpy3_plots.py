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


def test_explain_says_when_a_missing_value_was_scored_beyond_the_training_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A NULL beside a partner far out is scored at a value in proportion to it (y = 2x: x at 40, y about 80), beyond
    the column's training range, which the score's range term counts; explain said only "scored at 79.3 (median 20)",
    leaving the range term the terms line named without a column. It now says the value lies beyond the range."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    rng = np.random.default_rng(0)
    x = rng.normal(10, 2, 1500)
    db = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(db)
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?) AS x, unnest(?) AS y",
                    [x.tolist(), (2 * x + rng.normal(0, 0.2, 1500)).tolist()])
        ad_duckdb.train(con, "m", "t", **FAST)
        hi = con.execute("SELECT quantile_cont(y, 0.995) FROM t").fetchone()[0]
        filled = con.execute("SELECT anomaly_imputed('m', 40, NULL)['y'], anomaly_imputed('m', 10, NULL)['y']").fetchone()
    finally:
        con.close()
    assert filled[0] > hi and filled[1] < hi, (filled, hi)  # the case at hand: the fill beyond the range, and one inside
    out = CliRunner().invoke(cli, ["explain", db, "m", "SELECT 1 AS id, 40 AS x, NULL::DOUBLE AS y UNION ALL "
                                   "SELECT 2, 10, NULL", "--where", "true"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    far, near = text.split("row id=2") if text.index("row id=1") < text.index("row id=2") else text.split("row id=1")[::-1]
    assert "missing, scored at its most typical value beside the others" in far
    assert "beyond 29.8: 99% of training values were between" in far and "range term counts it" in far, far
    assert "beyond" not in near.split("value NULL")[1], near
