"""Sensor and time-series workflows: window features in a view over a Parquet file per day, a known-normal period,
daily scoring, and what the messages on the way tell a plant engineer."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import duckdb
import pytest

import ad_duckdb

from conftest import FAST

# The README's sensor_features view, per machine, over a Parquet file per day
VIEW = """CREATE OR REPLACE VIEW temps AS
SELECT machine, ts, temp,
       temp - lag(temp) OVER w AS temp_change,
       avg(temp) OVER last12 AS temp_mean1h
FROM read_parquet('{glob}')
WINDOW w AS (PARTITION BY machine ORDER BY ts), last12 AS (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW)"""


def _lake(con: duckdb.DuckDBPyConnection, folder: Path, days: int = 4) -> str:
    """A Parquet file per day of 5-minute readings of two machines; the glob that reads them all."""
    folder.mkdir()
    for d in range(days):
        con.execute(
            f"COPY (SELECT ['m1', 'm2'][i % 2 + 1] AS machine, TIMESTAMP '2024-01-01' + INTERVAL {d} DAY "
            "+ INTERVAL 5 MINUTE * (i // 2) AS ts, 70 + 5 * sin(i / 40) + (i * 7919 % 100) / 50.0 AS temp "
            f"FROM range(576) t(i)) TO '{folder / f'day{d}.parquet'}'")
    return str(folder / "*.parquet")


def test_scoring_a_days_file_without_the_views_window_features_names_the_view(tmp_path: Path) -> None:
    """A model trained on a view of window features (lag, a rolling mean) over the files, scored on one day's file:
    the error said "Rename them in a query: SELECT x AS temp_change, ...", as if the file held them under other
    names; it names the view the model was trained on, which computes them from the rows before."""
    con = ad_duckdb.connect()
    try:
        con.execute(VIEW.format(glob=_lake(con, tmp_path / "lake")))
        ad_duckdb.train(con, "m1", "temps", features=["temp", "temp_change", "temp_mean1h"],
                        where="machine = 'm1' AND ts < '2024-01-03'", **FAST)
        day = str(tmp_path / "lake" / "day3.parquet")
        with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
            ad_duckdb.score(con, "m1", day)
        msg = str(e.value)
        assert "lacks ['temp_change', 'temp_mean1h']" in msg
        assert re.search(r'trained on temps, which has them.*SELECT \* FROM "temps" WHERE', msg), msg
        # the query it names scores that day's rows
        got = ad_duckdb.score(con, "m1", "SELECT * FROM temps WHERE machine = 'm1' AND ts >= '2024-01-04'")
        assert got.num_rows == 288
        # a query of the view's rows without those columns is told the same
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"trained on temps, which has them"):
            ad_duckdb.score(con, "m1", "SELECT machine, ts, temp FROM temps")
        # without the view, the advice to rename them (the source's close names: versions2)
        con.execute("CREATE TABLE other AS SELECT 1.0 AS temp, 2.0 AS change, 3.0 AS mean1h FROM range(5)")
        con.execute("DROP VIEW temps")
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"\(its columns: temp, change, mean1h\)\. 'other' has "
                           r"'change', 'mean1h', close to 'temp_change', 'temp_mean1h' \(renamed upstream\?\): score "
                           r"SELECT \* RENAME \(change AS temp_change, mean1h AS temp_mean1h\) FROM other\.$"):
            ad_duckdb.score(con, "m1", "other")
    finally:
        con.close()


def test_epoch_seconds_of_a_timestamp_are_no_default_feature_and_named_get_a_note() -> None:
    """DuckDB's epoch(ts) is a DOUBLE: a view with `epoch(ts) AS t` trained with no features named took t, every
    later row then lay beyond its training range (73% of NAB machine_temperature's next two normal days flagged, 2%
    before), and the README's "training says so" held only for a TIMESTAMP column. Such a column is left out by
    default, as integers rising row by row (epoch_ms(ts)) are, and named as a feature it gets a note."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE r AS SELECT TIMESTAMP '2024-01-01' + INTERVAL 5 MINUTE * i AS ts, "
                    "70 + 5 * sin(i / 40) + (i * 7919 % 100) / 50.0 AS temp, (i * 31 % 17)::DOUBLE AS load "
                    "FROM range(600) t(i)")
        con.execute("CREATE VIEW v AS SELECT * EXCLUDE ts, epoch(ts) AS t, epoch_ms(ts) AS t_ms FROM r")
        assert con.execute("SELECT typeof(t), typeof(t_ms) FROM v LIMIT 1").fetchone() == ("DOUBLE", "BIGINT")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'t' \(rising row by row, with values of epoch "
                          r"seconds, a point in time as a number\)") as caught:
            info = ad_duckdb.train(con, "m", "v", where="t < epoch(TIMESTAMP '2024-01-02')", **FAST)
        assert info.features == ["temp", "load"], [str(w.message) for w in caught]
        # named, it is trained on, with a note naming it and what to train on instead
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"feature 't' rises row by row .* epoch seconds .* every "
                          r"row later than the training rows lies beyond its training range .* hour\(ts\)"):
            ad_duckdb.train(con, "m2", "v", features=["temp", "t"], where="t < epoch(TIMESTAMP '2024-01-02')", **FAST)
        # a measurement that rises over the training rows, but not like a time, is left alone
        con.execute("CREATE VIEW w AS SELECT temp, row_number() OVER () * 0.5 AS level FROM r")
        with warnings.catch_warnings():
            warnings.simplefilter("error", ad_duckdb.AdDuckDBWarning)
            info = ad_duckdb.train(con, "m3", "w", features=["temp", "level"], **FAST)
            assert info.features == ["temp", "level"]
            assert ad_duckdb.train(con, "m4", "w", **FAST).features == ["temp", "level"]
    finally:
        con.close()


def test_the_moved_columns_note_prints_a_narrow_range_of_large_values_apart() -> None:
    """A pressure in pascals (101300 to 101349 in training) read 400 Pa high: the note said "outside its training
    range 1.013e+05 to 1.013e+05; median 1.017e+05 against 1.013e+05", a range of one number; it prints the
    digits that tell the numbers apart."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE r AS SELECT 101300 + (i * 7919 % 50)::DOUBLE AS pressure, "
                    "20 + (i * 31 % 17) / 4.0 AS flow FROM range(600) t(i)")
        ad_duckdb.train(con, "m", "r", **FAST)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="Columns that moved") as caught:
            ad_duckdb.score(con, "m", "SELECT pressure + 400 AS pressure, flow FROM r", outputs=["anomaly_score"])
        msg = next(str(w.message) for w in caught if "Columns that moved" in str(w.message))
        got = re.search(r"'pressure' \(\S+ of the rows with a value (?:above|below) its training range (\S+) to (\S+) "
                        r"\(the middle 99% of its training values\); median (\S+) against (\S+) in training", msg)
        assert got, msg
        lo, hi, median, fill = (float(g) for g in got.groups())
        want_lo, want_hi = (float(v) for v in con.execute(
            "SELECT quantile_cont(pressure, 0.005), quantile_cont(pressure, 0.995) FROM r").fetchone())
        assert abs(lo - want_lo) <= 1 and abs(hi - want_hi) <= 1 and hi - lo > 40, msg
        assert abs(median - fill - 400) <= 1, msg
    finally:
        con.close()


def test_explain_prints_a_window_features_value_as_tables_do(tmp_path: Path) -> None:
    """A lag() difference of two readings is a float with noise in its last digits: explain's column line said
    "value 5.564688029999999" (and "value 0.03284919999999999" for a rolling mean) beside "training median -0.02";
    it prints the value as score's table does (5.56469), and keeps the row line's exact one, which pastes into
    --where."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    db = str(tmp_path / "t.duckdb")
    con = ad_duckdb.connect(db)
    try:
        con.execute("CREATE TABLE r AS SELECT i AS rn, 70 + 5 * sin(i / 40) + (i * 7919 % 100) / 50.0 AS temp "
                    "FROM range(600) t(i)")
        con.execute("CREATE VIEW v AS SELECT rn, temp, temp - lag(temp) OVER (ORDER BY rn) AS temp_change FROM r")
        ad_duckdb.train(con, "m", "v", features=["temp", "temp_change"], where="rn < 500", **FAST)
        change = con.execute("SELECT temp_change FROM v WHERE rn = 550").fetchone()[0]
    finally:
        con.close()
    assert len(repr(change)) > 14  # the noise this test is about
    res = CliRunner().invoke(cli, ["explain", db, "m", "v", "--where", "rn = 550"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"temp_change={change!r}" in res.output  # the row line: exact
    line = next(s for s in res.output.splitlines() if s.lstrip().startswith("temp_change "))
    assert f"(value {change:.6g}, " in line and repr(change) not in line, line


def test_a_reading_and_its_rolling_mean_are_not_taken_for_swapped_arguments() -> None:
    """NAB's ambient_temperature with the README's window features (the value, its lag() difference, its rolling
    mean and spread), trained on its first 15%: a query over the later rows failed with "the arguments look out of
    order ... once arguments 1 and 3 ('x0' and 'm0') are swapped". A reading and its rolling mean hold the same
    values, so swapping them is no sign of a wrong order; the query scores."""
    csv = Path(__file__).resolve().parents[2] / "shared/data/timeseries/nab/data/realKnownCause/" \
        "ambient_temperature_system_failure.csv"
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE r AS SELECT row_number() OVER () - 1 AS rn, value FROM read_csv(?)", [str(csv)])
        con.execute("CREATE VIEW f AS SELECT rn, value AS x0, value - lag(value) OVER w AS d0, "
                    "CASE WHEN count(*) OVER last = 30 THEN avg(value) OVER last END AS m0, "
                    "CASE WHEN count(*) OVER last = 30 THEN stddev(value) OVER last END AS s0 FROM r "
                    "WINDOW w AS (ORDER BY rn), last AS (w ROWS BETWEEN 29 PRECEDING AND CURRENT ROW)")
        ad_duckdb.train(con, "m", "f", features=["x0", "d0", "m0", "s0"], where="rn < 1090", seed=1, progress=False)
        n = con.execute("SELECT count(anomaly_score('m', x0, d0, m0, s0)) FROM f WHERE rn >= 1090").fetchone()[0]
        assert n == 7267 - 1090
        # a real swap of columns of other values is still caught
        con.execute("CREATE TABLE t AS SELECT (i * 7919 % 100)::DOUBLE AS a, 1000 + (i * 31 % 17)::DOUBLE AS b "
                    "FROM range(600) t(i)")
        ad_duckdb.train(con, "ab", "t", **FAST)
        with pytest.raises(duckdb.InvalidInputException, match="look out of order"):
            con.execute("SELECT anomaly_score('ab', b, a) FROM t").fetchall()
    finally:
        con.close()
