"""alarm_rate follow-ups of the dbt round: check-threshold's --tz, and by week a stretch of under 3 calendar weeks
counted as the by-day rule counts its days."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from test_alarmrate_thresholds import plant as plant  # NAB's machine_temperature and model t

import ad_duckdb
from ad_duckdb import alarmspan
from ad_duckdb.cli import cli

# weekdays 9:00-16:59 of three weeks, in the Pacific wall times of the TIMESTAMPTZ table pac
BUSINESS = ("ts >= '2013-12-30' AND ts < '2014-01-20' AND dayofweek(ts) BETWEEN 1 AND 5 "
            "AND hour(ts) BETWEEN 9 AND 16")


def _pacific(plant: str, tmp_path: Path) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """A copy of the plant's database with its readings as Pacific TIMESTAMPTZs (pac: business hours, pac_all: all
    of them), open in a Pacific session."""
    db = tmp_path / "pac.duckdb"
    shutil.copy(plant, db)
    con = ad_duckdb.connect(str(db))
    con.execute(f"CREATE TABLE pac AS SELECT timezone('America/Los_Angeles', ts) AS ts, value, diff FROM m WHERE {BUSINESS}")
    con.execute("CREATE TABLE pac_all AS SELECT timezone('America/Los_Angeles', ts) AS ts, value, diff FROM m")
    con.execute("SET TimeZone = 'America/Los_Angeles'")
    return db, con


def test_check_threshold_tz_reads_days_in_the_zone_named(plant: str, tmp_path: Path) -> None:
    """A TIMESTAMPTZ table of Pacific business hours, its threshold set in a Pacific session: check-threshold from the
    command line (a process in UTC) had --series but no --tz, so it read the days in UTC and the command it gave to
    choose the threshold again on drifted rows did too (its weekend and volume checks on UTC days). Now --tz (Python
    tz=) names the zone, refused by name when DuckDB knows no such zone, and without a time column to read."""
    db, con = _pacific(plant, tmp_path)
    try:
        ad_duckdb.set_threshold(con, "t", "biz3", "alarm_rate", source="pac", per_day=3, time="ts")
        con.execute("SET TimeZone = 'UTC'")
        pac = ad_duckdb.check_threshold(con, "t", "biz3", "pac", tz="America/Los_Angeles")
        with pytest.raises(ad_duckdb.OptionError, match=r"tz='Mars/Base' is no time zone"):
            ad_duckdb.check_threshold(con, "t", "biz3", "pac", tz="Mars/Base")
        ad_duckdb.set_threshold(con, "t", "share", "contamination", target=0.01)
        with pytest.raises(ad_duckdb.OptionError, match=r"tz= reads the rows' times; name their"):
            ad_duckdb.check_threshold(con, "t", "share", "pac", tz="America/Los_Angeles")
    finally:
        con.close()
    assert pac.measured == pytest.approx(3.0) and pac.outside is False, pac.message
    # the whole series holds the plant's failures: outside, and the command to choose it again keeps the zone
    args = ["check-threshold", str(db), "t", "biz3", "--source", "pac_all", "--format", "json"]
    zoned = CliRunner().invoke(cli, [*args, "--tz", "America/Los_Angeles"])
    assert zoned.exit_code == 0, zoned.output
    got = json.loads(zoned.stdout)
    assert got["outside"] is True, got["message"]
    assert got["message"].endswith("--time ts --source pac_all --tz America/Los_Angeles"), got["message"]
    assert "--tz" in CliRunner().invoke(cli, ["check-threshold", "--help"]).output


def test_by_week_a_stretch_of_under_3_calendar_weeks_counts_its_days_as_by_day() -> None:
    """By week, a stretch of under 3 calendar weeks was read first row to last: one business week (Monday 9:00 to
    Friday 17:00) was 0.62 of a week, so "15 a week" flagged 9.3 on it, while by day it is 5 days of rows and "3 a
    day" 3 on each. Its days are now counted as by day, over the days a week the table has rows in."""
    monday = 1388966400.0  # 6 January 2014
    day, week = 86400.0, 7 * 86400.0

    def biz(weeks: int) -> np.ndarray:
        return np.array([monday + w * week + d * day + 9 * 3600 + k * 300.0 for w in range(weeks) for d in range(5)
                         for k in range(96)])

    for weeks in (1, 2, 4):
        got = alarmspan.cover(biz(weeks), None, "week", week)
        # one Monday-Friday spans no weekend: whether the table has rows at weekends cannot be told, so 7 days a
        # week (alarm6); a weekend without rows inside the stretch makes it 5
        assert got is not None and got.covered == pytest.approx(weeks * week if weeks > 1 else 5 / 7 * week), got
        assert got.breaks == 0 and got.weekends_unknown is (weeks == 1), (weeks, got)
        by_day = alarmspan.cover(biz(weeks), None, "day", day)
        assert by_day is not None and by_day.covered == 5 * weeks * day
    # 24-hour readings: a week from a Wednesday noon is a week, Monday to Friday 5/7 of one, two weeks two
    allday = monday + np.arange(14 * 288) * 300.0
    for rows, weeks in ((allday[:5 * 288], 5 / 7), (allday[2 * 288 + 144:9 * 288 + 144], 1.0), (allday, 2.0)):
        got = alarmspan.cover(rows, None, "week", week)
        assert got is not None and got.covered == pytest.approx(weeks * week), (weeks, got)
    # an outage of 3 days in two weeks of 24-hour readings: its week holds 4 days of rows, as an edge week of a
    # longer stretch would (no gap over a week: no break)
    down = allday[(allday < monday + 4 * day) | (allday >= monday + 7 * day)]
    got = alarmspan.cover(down, None, "week", week)
    assert got is not None and got.covered == pytest.approx(11 / 7 * week) and got.breaks == 0, got


def test_thirty_a_week_on_one_business_week_flags_thirty(plant: str) -> None:
    # the same on NAB's machine_temperature: "30 a week" on its Monday-Friday 9:00-16:59 flagged 30*0.62, then 30;
    # a stretch spanning no weekend is now counted 7 days a week (30 * 5/7 on its 5 days) and says so (alarm6)
    one = ("ts >= '2014-01-06' AND ts < '2014-01-11' AND hour(ts) BETWEEN 9 AND 16")
    con = ad_duckdb.connect(plant)
    try:
        th = ad_duckdb.set_threshold(con, "t", "week30", "alarm_rate", source="m", where=one, per_week=30, time="ts")
        flagged = con.execute(f"SELECT count(*) FILTER (WHERE is_anomaly_at('t', 'week30', value, diff)) FROM m "
                              f"WHERE {one}").fetchall()[0][0]
    finally:
        con.close()
    on = " ".join((th.chosen_on or "").split())
    assert flagged == 21 and "5 days, 672 rows a week" in on and "weekends cannot be told" in on, on


def test_a_timestamptz_stretch_is_said_in_the_zone_whose_days_count(plant: str, tmp_path: Path) -> None:
    # In a Pacific session the statement said the stretch ran "2013-12-30 17:00:00+00 to 2014-01-18 00:55:00+00" (the
    # rows' cursor is in the process's zone) beside "its rows fall at 09:00-16:59 of each day": now its wall times
    _, con = _pacific(plant, tmp_path)
    try:
        th = ad_duckdb.set_threshold(con, "t", "biz3", "alarm_rate", source="pac", per_day=3, time="ts")
        utc = ad_duckdb.set_threshold(con, "t", "biz3u", "alarm_rate", source="m", where=BUSINESS, per_day=3,
                                      time="ts")
    finally:
        con.close()
    on = " ".join((th.chosen_on or "").split())
    assert ("2013-12-30 09:00:00 America/Los_Angeles to 2014-01-17 16:55:00 America/Los_Angeles: 2.14 weeks" in on
            and "fall at 09:00-16:59 of each day" in on), on
    assert "2013-12-30 09:00:00 to 2014-01-17 16:55:00: 2.14 weeks" in (utc.chosen_on or ""), utc.chosen_on


def test_a_timestamptz_thresholds_session_zone_is_kept_for_check_threshold(plant: str, tmp_path: Path) -> None:
    # set in a Pacific session (a dbt profile's TimeZone, SET TimeZone), the goal kept no zone: check-threshold from
    # the command line (the process's zone) read its days in UTC, and its command to choose it again lost the zone
    db, con = _pacific(plant, tmp_path)
    try:
        ad_duckdb.set_threshold(con, "t", "biz3", "alarm_rate", source="pac", per_day=3, time="ts")
        ad_duckdb.set_threshold(con, "t", "wall", "alarm_rate", source="m", where=BUSINESS, per_day=3, time="ts")
        goals = json.loads(con.execute("SELECT metrics::VARCHAR FROM ad_models").fetchall()[0][0])["threshold_goals"]
    finally:
        con.close()
    assert goals["biz3"]["tz"] == "America/Los_Angeles" and "tz" not in goals["wall"], goals
    res = CliRunner().invoke(cli, ["check-threshold", str(db), "t", "biz3", "--source", "pac_all", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["message"].endswith("--source pac_all --tz America/Los_Angeles"), res.stdout
