"""What alarm_rate's "N a day" counts (flagged readings, and beside them episodes: runs of consecutive flagged
readings), and the check of a stored threshold's promise on later rows (``ad-duckdb check-threshold``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from builtonce import built_once
from click.testing import CliRunner
from test_alarmrate_thresholds import plant as plant  # NAB's machine_temperature and model t

import ad_duckdb
from ad_duckdb import alarmepisodes, alarmperiods
from ad_duckdb.cli import cli

from conftest import FAST, ROOT

NAB = ROOT.parent / "shared" / "data" / "timeseries" / "nab" / "data" / "realKnownCause"
WEEK = "ts >= '2013-12-25' AND ts < '2014-01-01'"


def test_episodes_are_runs_of_consecutive_flagged_readings_in_time_order() -> None:
    flagged = np.array([1, 1, 0, 1, 0, 0, 1, 1, 1], dtype=bool)
    t = np.arange(9.0)
    assert alarmepisodes.count(flagged, t) == 3
    # in time order, not the rows' order: reversed rows are the same runs
    assert alarmepisodes.count(flagged[::-1], t[::-1]) == 3
    # rows without a time are left out: the run of 3 at the end stays one across it
    assert alarmepisodes.count(np.r_[flagged, True], np.r_[t, np.nan]) == 3
    # rows sharing a time (several series) or weighted rows (a sample): runs cannot be told
    assert alarmepisodes.count(flagged, np.r_[t[:-1], 7.0]) is None
    assert alarmepisodes.count(flagged, t, weighted=True) is None
    assert alarmepisodes.count(np.zeros(4, dtype=bool), np.arange(4.0)) == 0
    assert alarmepisodes.text(None, 5, "day", 288, 2016) == ""


def test_alarm_rate_says_it_counts_flagged_readings_and_gives_the_episodes_beside_them(plant: str) -> None:
    """An on-call engineer's "3 alarms a day" means pages, runs of consecutive flagged readings; alarm_rate counts
    flagged rows, and its statement did not say which, nor how many runs its 21 alarms were."""
    con = ad_duckdb.connect(plant)
    try:
        ad_duckdb.set_threshold(con, "t", "three_pages", "alarm_rate", source="m", where=WEEK, per_day=3, time="ts")
        on = " ".join((ad_duckdb.load_model(con, "t").threshold("three_pages").chosen_on or "").split())
        flag = "is_anomaly_at('t', 'three_pages', value, diff)"
        runs, readings = con.execute(
            f"SELECT count(*) FILTER (WHERE f AND NOT coalesce(prev, false)), count(*) FILTER (WHERE f) FROM "
            f"(SELECT {flag} AS f, lag({flag}) OVER (ORDER BY ts) AS prev FROM m WHERE {WEEK})").fetchall()[0]
    finally:
        con.close()
    assert readings == 21 and 1 <= runs < 21
    assert (f"; as episodes (runs of consecutive flagged readings, e.g. one page each): {runs}, {runs / 7:.3g} a "
            f"day, {21 / runs:.3g} readings each on average (the alarms a day above count flagged readings)") in on, on
    # the docs say which is counted
    help_text = " ".join(CliRunner().invoke(cli, ["threshold", "--help"]).stdout.split())
    assert "count flagged rows (readings), not episodes" in help_text, help_text
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "counts flagged rows (readings), not episodes" in readme


@pytest.fixture(scope="module")
def taxi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """NAB's nyc_taxi (half-hourly passenger counts, July 2014 on) with each count's change and its hour; model x
    trained on 1-15 July, threshold 'three' set at 3 alarms a day on 15-29 July, both clear of NAB's labels. Made once
    per process: test_alarm5_followups borrows it, with a copy of its own (builtonce.py)."""
    def build(folder: Path) -> None:
        con = ad_duckdb.connect(str(folder / "taxi.duckdb"))
        try:
            con.execute(f"CREATE TABLE taxi AS SELECT timestamp AS ts, value, value - lag(value) OVER (ORDER BY "
                        f"timestamp) AS diff, hour(timestamp) AS hr FROM read_csv('{NAB / 'nyc_taxi.csv'}')")
            ad_duckdb.train(con, "x", "taxi", features=["value", "diff", "hr"],
                            where="ts >= '2014-07-01' AND ts < '2014-07-15'", **FAST)
            ad_duckdb.set_threshold(con, "x", "three", "alarm_rate", source="taxi", per_day=3, time="ts",
                                    where="ts >= '2014-07-15' AND ts < '2014-07-29'")
        finally:
            con.close()

    yield str(built_once("followup", tmp_path_factory, build) / "taxi.duckdb")


AUGUST = "ts >= '2014-08-01' AND ts < '2014-08-15'"
DECEMBER = "ts >= '2014-12-01' AND ts < '2014-12-15'"  # before NAB's Christmas window, after Thanksgiving's


def _sql_per_day(con: duckdb.DuckDBPyConnection, where: str) -> float:
    n, k = con.execute(f"SELECT count(*), count(*) FILTER (WHERE is_anomaly_at('x', 'three', value, diff, hr)) "
                       f"FROM taxi WHERE {where}").fetchall()[0]
    return k / (n / 48)


def test_check_threshold_reports_a_drifted_stretch_and_not_an_undrifted_one(taxi: str) -> None:
    """A threshold's promise drifts: "3 a day" set on July's taxi counts flags over 7 a day in December, and
    nothing said so. check_threshold compares the alarms a day on recent rows with the interval the threshold's
    statement gave for a later stretch as long, and says what to do."""
    con = ad_duckdb.connect(taxi, read_only=True)
    try:
        calm = ad_duckdb.check_threshold(con, "x", "three", "taxi", where=AUGUST)
        drifted = ad_duckdb.check_threshold(con, "x", "three", "taxi", where=DECEMBER)
        for got, where in ((calm, AUGUST), (drifted, DECEMBER)):
            assert got.per == "day" and got.rows == 672 and got.target == "3 alarms a day"
            assert got.measured == pytest.approx(_sql_per_day(con, where))  # what SQL flags there
            # the stored interval, for a later stretch as long as its 14 days, its ends the whole counts nearest
            # them over those days (a stretch's alarms are whole)
            on = " ".join((ad_duckdb.load_model(con, "x").threshold("three").chosen_on or "").split())
            said = re.search(r"([\d.]+)-([\d.]+) a day over a later stretch of 2 weeks", on)
            assert said is not None, on
            assert (got.expected_lo, got.expected_hi) == pytest.approx(
                tuple(alarmperiods.mid_p_end(float(end) * 14) / 14 for end in said.groups()), abs=1e-9), on
        assert calm.outside is False and calm.expected_lo <= calm.measured <= calm.expected_hi
        assert "it keeps its promise on these rows" in calm.message
        assert drifted.outside is True and drifted.measured > drifted.expected_hi
        assert (f"{drifted.measured:.3g} alarms a day in {drifted.episodes} episodes" in drifted.message
                and "more alarms than promised" in drifted.message), drifted.message
        assert drifted.message.endswith(f"choose it again on them: ad-duckdb threshold {taxi} x three --method "
                                        f"alarm_rate --per-day 3 --time ts --source taxi --where \"{DECEMBER}\"")
        # a stretch shorter than the one it was set on: the interval of one later day, wider
        day = ad_duckdb.check_threshold(con, "x", "three", "taxi", where="ts >= '2014-08-03' AND ts < '2014-08-04'")
        assert day.outside is False and day.expected_hi is not None and day.expected_hi > calm.expected_hi
        assert "on one later day" in day.message
        # a share of the training rows (the default, contamination 0.01): held on the training rows; on counts read
        # 1.3 times too high (a meter recalibrated), outside, said with the difference's interval
        trained = ad_duckdb.check_threshold(con, "x", "default", "taxi", time="ts",
                                            where="ts >= '2014-07-01' AND ts < '2014-07-15'")
        assert trained.target == "1.000% of rows" and trained.outside is False, trained.message
        assert "which holds 0: it keeps its promise" in trained.message
        late = ad_duckdb.check_threshold(con, "x", "default", "SELECT ts, value * 1.3 AS value, diff * 1.3 AS diff, "
                                         "hr FROM taxi", time="ts", where=AUGUST)
        assert late.outside is True and late.measured_lo is not None and late.expected_hi is not None
        assert late.measured_lo > late.expected_hi, late.message
        assert "which leaves out 0: more alarms than promised" in late.message, late.message
        assert "--method alarm_rate --rate 1% --time ts" in late.message
        with pytest.raises(ad_duckdb.ThresholdNotFoundError, match="Did you mean 'three'"):
            ad_duckdb.check_threshold(con, "x", "thre", "taxi", where=AUGUST)
        with pytest.raises(ad_duckdb.BadInputError, match=r"cover no period of 'ts'.*widen the filter"):
            ad_duckdb.check_threshold(con, "x", "three", "taxi", where="ts = '2014-08-03 10:00:00'")
        with pytest.raises(ad_duckdb.NoRowsError, match="has no rows"):
            ad_duckdb.check_threshold(con, "x", "three", "taxi", where="ts > '2099-01-01'")
    finally:
        con.close()
    # a cut typed in: judged by the share of training rows it flags
    con = ad_duckdb.connect(taxi)
    try:
        ad_duckdb.set_threshold(con, "x", "hand", "manual", value=1.0)
        hand = ad_duckdb.check_threshold(con, "x", "hand", "taxi", where=AUGUST)
        assert hand.outside is not None and "the share of training rows it flags" in hand.message, hand.message
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["check-threshold", taxi, "x", "three", "--source", "taxi", "--where", DECEMBER,
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["outside"] is True and doc["model"] == "x@1" and doc["per"] == "day", doc
    res = CliRunner().invoke(cli, ["check-threshold", taxi, "x", "three", "--source", "taxi", "--where", AUGUST])
    assert res.exit_code == 0 and "it keeps its promise on these rows" in res.stdout, res.output


def test_check_threshold_fail_outside_gives_a_monitor_its_own_exit_code(taxi: str) -> None:
    """A cron monitor runs check-threshold and must page on a broken promise without parsing JSON: with
    --fail-outside, a threshold outside its promised interval exits 9 (after printing the verdict), one that keeps
    it exits 0; without the flag both exit 0, as before."""
    res = CliRunner().invoke(cli, ["check-threshold", taxi, "x", "three", "--source", "taxi", "--where", DECEMBER,
                                   "--fail-outside"])
    assert res.exit_code == 9, res.output
    assert "more alarms than promised" in res.stdout
    res = CliRunner().invoke(cli, ["check-threshold", taxi, "x", "three", "--source", "taxi", "--where", AUGUST,
                                   "--fail-outside", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["outside"] is False
    res = CliRunner().invoke(cli, ["--help"])
    assert "9 a threshold outside its promise (check-threshold --fail-outside)" in " ".join(res.stdout.split())
