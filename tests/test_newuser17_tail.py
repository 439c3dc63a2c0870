"""A cut read off the score plot in the gap below a few far-out rows: the share of training rows it flags.

Before: read off the 1001 stored quantiles, whose last step (the top 0.1% of the rows) was a straight line up to the
highest score, so on 200,000 rows a cut of 10 between the bulk (up to 7) and five planted rows (130) was said to flag
0.097% of the training rows, not 0.0025%; `show` printed that, `check-threshold` called the next month's 0 flags
"fewer alarms than promised", and `train --carry-thresholds` moved the cut to the 99.9% point of the new scores, 194
flags where the user's cut flagged none."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

import ad_duckdb

from conftest import FAST

N, PLANTED = 10000, 3


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("tail") / "w.duckdb")
    rng = np.random.default_rng(0)
    count = rng.poisson(8, N) + 1
    amount = np.round(count * rng.lognormal(3.0, 0.25, N), 2)
    amount[:PLANTED] = 9000.0  # tiny counts with large amounts
    count[:PLANTED] = 1
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE tx AS SELECT unnest(?)::INTEGER AS count, unnest(?)::DOUBLE AS amount",
                    [count.tolist(), amount.tolist()])
        ad_duckdb.train(con, "m", "tx", features=["count", "amount"], **{**FAST, "max_steps": 100})
    finally:
        con.close()
    return path


def _scores(con: duckdb.DuckDBPyConnection, ref: str) -> np.ndarray:
    return np.array([r[0] for r in con.execute(f"SELECT anomaly_score('{ref}', count, amount) FROM tx").fetchall()])


def test_a_cut_in_the_gap_flags_the_share_of_rows_above_it(db: str) -> None:
    con = ad_duckdb.connect(db)
    try:
        s = np.sort(_scores(con, "m@1"))
        bulk, planted = s[-PLANTED - 1], s[-PLANTED]
        assert planted > 2 * bulk, (bulk, planted)  # a gap a user reads off the plot
        cut = float(np.sqrt(bulk * planted))
        t = ad_duckdb.set_threshold(con, "m@1", "cut", "manual", value=cut)
        assert t.flagged_share == pytest.approx(PLANTED / N, abs=1.5 / N), t.flagged_share
        # the rows below the top ones read as they did: a cut at the bulk's 99% point
        p99 = float(np.quantile(s, 0.99))
        t99 = ad_duckdb.set_threshold(con, "m@1", "c99", "manual", value=p99)
        assert t99.flagged_share == pytest.approx(0.01, abs=0.001), t99.flagged_share
        # anomaly_percentile of the second highest row: the share of training rows below it
        second = con.execute("SELECT anomaly_percentile('m@1', count, amount) AS p FROM tx ORDER BY p DESC "
                             "LIMIT 2").fetchall()[1][0]
        assert second == pytest.approx((N - 2) / (N - 1), abs=1.5 / N), second
    finally:
        con.close()


def test_a_retrain_carries_the_cut_to_the_same_few_rows(db: str) -> None:
    con = ad_duckdb.connect(db)
    try:
        s = np.sort(_scores(con, "m@1"))
        ad_duckdb.set_threshold(con, "m@1", "gap", "manual", value=float(np.sqrt(s[-PLANTED - 1] * s[-PLANTED])))
        ad_duckdb.train(con, "m", "tx", features=["count", "amount"], carry_thresholds=True, seed=1,
                        **{**FAST, "max_steps": 100})
        cut = con.execute("SELECT anomaly_threshold('m@2', 'gap')").fetchall()[0][0]
        flagged = int((_scores(con, "m@2") > cut).sum())
        assert flagged <= PLANTED + 1, (flagged, cut)  # before: 10, the 99.9% point of the new scores
    finally:
        con.close()


def test_sql_names_the_command_that_trains_an_unknown_model(tmp_path: Path) -> None:
    """`ad-duckdb sql DB "SELECT anomaly_score('nope', ...) FROM t"` said "Train one with ad_duckdb.train(con, ...)":
    the functions run on DuckDB's threads, where the command's spelling was not known."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    db = str(tmp_path / "w.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE t AS SELECT range AS a, range * 2 AS b FROM range(100)")
    con.close()
    res = CliRunner().invoke(cli, ["sql", db, "SELECT anomaly_score('nope', a, b) FROM t"])
    assert res.exit_code != 0, res.output
    assert "Train one with `ad-duckdb train`" in res.output and "ad_duckdb.train" not in res.output, res.output


def test_explain_where_a_number_against_a_text_id_says_to_quote_it(tmp_path: Path) -> None:
    """The README's `--where "transaction_id = 42"` on a warehouse whose ids are text ('TX00000042') gave DuckDB's
    conversion error alone; it now says the column is text and how to write the value."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    db = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(db)
    try:
        con.execute("CREATE TABLE t AS SELECT 'TX' || lpad(range::VARCHAR, 8, '0') AS Transaction_ID, "
                    "1 + range % 7 AS n, 10.0 + (range * 37) % 50 AS amount FROM range(300)")
        ad_duckdb.train(con, "m", "t", features=["n", "amount"], **{**FAST, "max_steps": 30})
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["explain", db, "m", "t", "--where", "transaction_id = 42"])
    assert res.exit_code != 0, res.output
    assert "Transaction_ID is text (VARCHAR)" in res.output and "transaction_id = '42'" in res.output, res.output
