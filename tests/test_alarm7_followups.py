"""alarm_rate follow-ups: a TIMESTAMP of a zone's wall-clock times said as such (timestamps_in=), check-threshold's
own weight column (weight=, weight=False), and messages in the caller's spelling (tz= from Python, --tz from the
command line)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from test_alarm6_budget import WEEK2, WEEK3, _copy, _per_day
from test_alarm6_budget import budget as budget  # model m on readings r (x, y) from Monday 2024-01-01

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST

# Paris wall-clock readings every 5 minutes (as a Paris logger writes them) from Monday 16 March 2026, four weeks:
# the clocks go forward on Sunday 29 March (no 02:00-02:59 that day)
PARIS = ("SELECT i, timezone('Europe/Paris', TIMESTAMPTZ '2026-03-15 23:00:00+00' + i * INTERVAL 5 MINUTE) AS ts, "
         "sin(i / 37.0) + ((hash(i) % 1000) / 1000.0 - 0.5) AS x, "
         "cos(i / 53.0) + ((hash(i * 7 + 1) % 1000) / 1000.0 - 0.5) AS y FROM range(8064) r(i)")
BUSINESS = "hour(ts) BETWEEN 9 AND 16 AND dayofweek(ts) BETWEEN 1 AND 5"
AFTER = "ts >= '2026-03-23'"  # three weeks: the last of winter time and two of summer time


@pytest.fixture(scope="module")
def paris(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Model p trained on the first week of the Paris readings; biz: their business hours."""
    path = tmp_path_factory.mktemp("alarm7") / "paris.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        con.execute(f"CREATE TABLE r AS {PARIS}")
        con.execute(f"CREATE TABLE biz AS SELECT * FROM r WHERE {BUSINESS}")
        ad_duckdb.train(con, "p", "r", features=["x", "y"], where="ts < '2026-03-23'", **FAST)
    finally:
        con.close()
    yield str(path)


def test_a_timestamp_of_wall_clock_times_is_said_to_be_in_its_zone(paris: str) -> None:
    """Paris business hours (9:00-16:59 wall clock) in a TIMESTAMP, across the March DST change: tz='Europe/Paris'
    took the times as UTC, so their hours read 10:00-18:59 (winter +1, summer +2) and nothing said it assumed UTC.
    The statement now says which it assumed and how to say otherwise, and timestamps_in='Europe/Paris' reads them
    as Paris's own: 9:00-16:59 on 15 working days, kept for check-threshold."""
    con = ad_duckdb.connect(paris)
    try:
        as_utc = ad_duckdb.set_threshold(con, "p", "utc3", "alarm_rate", source="biz", where=AFTER, per_day=3,
                                         time="ts", tz="Europe/Paris")
        wall = ad_duckdb.set_threshold(con, "p", "wall3", "alarm_rate", source="biz", where=AFTER, per_day=3,
                                       time="ts", timestamps_in="Europe/Paris")
        with pytest.raises(ad_duckdb.OptionError, match=r"timestamps_in='Mars/Base' is no time zone"):
            ad_duckdb.set_threshold(con, "p", "bad", "alarm_rate", source="biz", per_day=3, time="ts",
                                    timestamps_in="Mars/Base")
        con.execute("CREATE TABLE biz_tz AS SELECT * REPLACE (timezone('Europe/Paris', ts) AS ts) FROM biz")
        with pytest.raises(ad_duckdb.OptionError, match=r"TIMESTAMPTZ, which holds instants.*tz='Europe/Paris'"):
            ad_duckdb.set_threshold(con, "p", "bad", "alarm_rate", source="biz_tz", per_day=3, time="ts",
                                    timestamps_in="Europe/Paris")
        checked = ad_duckdb.check_threshold(con, "p", "wall3", "biz", where=AFTER)
        flagged = con.execute(f"SELECT count(*) FILTER (WHERE is_anomaly_at('p', 'wall3', x, y)) FROM biz "
                              f"WHERE {AFTER}").fetchall()[0][0]
    finally:
        con.close()
    said = " ".join((as_utc.chosen_on or "").split())
    assert "days in Europe/Paris, ts's TIMESTAMP times taken as UTC" in said, said
    assert "timestamps_in='Europe/Paris'" in said and "09:00-16:59" not in said, said
    on = " ".join((wall.chosen_on or "").split())
    assert "fall at 09:00-16:59 of each day" in on and "read as Europe/Paris wall-clock times" in on, on
    assert ("2026-03-23 09:00:00 Europe/Paris to 2026-04-10 16:55:00 Europe/Paris: 2.14 weeks of rows" in on
            and "96 rows a day" in on and "its 15 whole days" in on), on
    assert flagged == 45, on  # 3 on each of the 15 working days
    assert checked.measured == pytest.approx(3.0) and not checked.outside, checked.message


def test_a_dst_day_of_wall_clock_times_is_23_hours_not_an_outage(paris: str) -> None:
    """By hour, every reading of the Paris week holding the change: read as their own wall time, 01:55 to 03:00 on
    29 March was a step of 65 minutes, a gap over an hour; read as Paris's, it is 5 minutes."""
    week = "ts >= '2026-03-23' AND ts < '2026-03-30'"
    con = ad_duckdb.connect(paris)
    try:
        own = ad_duckdb.set_threshold(con, "p", "own", "alarm_rate", source="r", where=week, per_hour=0.5,
                                      time="ts")
        wall = ad_duckdb.set_threshold(con, "p", "wall", "alarm_rate", source="r", where=week, per_hour=0.5,
                                       time="ts", timestamps_in="Europe/Paris")
    finally:
        con.close()
    assert "gaps over an hour left out" in (own.chosen_on or ""), own.chosen_on
    on = " ".join((wall.chosen_on or "").split())
    # 7 days less the hour the clocks skipped
    assert "gaps over" not in on and "6.96 days" in on and "its 167 whole hours" in on, on


def test_timestamps_in_from_the_command_line_and_check_threshold(paris: str, tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    db.write_bytes(Path(paris).read_bytes())
    args = ["threshold", str(db), "p", "w3", "--method", "alarm_rate", "--per-day", "3", "--time", "ts",
            "--source", "biz", "--where", AFTER]
    utc = CliRunner().invoke(cli, [*args, "--tz", "Europe/Paris"])
    assert utc.exit_code == 0, utc.output
    # the command line's spelling, not Python's
    assert "say so with --timestamps-in Europe/Paris" in " ".join(utc.output.split()), utc.output
    res = CliRunner().invoke(cli, [*args, "--timestamps-in", "Europe/Paris"])
    assert res.exit_code == 0, res.output
    assert "09:00-16:59" in res.output, res.output
    con = ad_duckdb.connect(str(db))
    try:
        goal = json.loads(con.execute("SELECT metrics::VARCHAR FROM ad_models").fetchall()[0][0])["threshold_goals"]
        con.execute("CREATE TABLE moved AS SELECT * REPLACE (x * 3 AS x) FROM biz")
    finally:
        con.close()
    assert goal["w3"]["timestamps_in"] == "Europe/Paris", goal
    check = CliRunner().invoke(cli, ["check-threshold", str(db), "p", "w3", "--source", "moved", "--format", "json"])
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["message"].endswith("--timestamps-in Europe/Paris"), check.stdout
    assert "--timestamps-in" in CliRunner().invoke(cli, ["check-threshold", "--help"]).output


def test_check_threshold_weighs_by_the_column_named_or_none(budget: str, tmp_path: Path) -> None:
    """A budget set on a 1-in-4 sample weighted by w: check-threshold read the goal's column or, where the rows lacked
    it, none, so a later sample whose weights are in another column read as a quarter of its alarms, and a column
    named w holding something else could not be left out. weight= names the column (CLI --weight), weight=False
    none (CLI --no-weight)."""
    con = _copy(budget, tmp_path)
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    try:
        con.execute("CREATE TABLE s AS SELECT *, 4.0 AS w FROM r WHERE i % 4 = 0")
        con.execute("CREATE TABLE later AS SELECT *, 4.0 AS wt, 1000.0 AS w FROM r WHERE i % 4 = 0")
        ad_duckdb.set_threshold(con, "m", "thirty", "alarm_rate", source="s", where=WEEK2, per_day=30, time="ts",
                                weight="w")
        truth = _per_day(con, "thirty", WEEK3)
        named = ad_duckdb.check_threshold(con, "m", "thirty", "later", where=WEEK3, weight="wt")
        unweighted = ad_duckdb.check_threshold(con, "m", "thirty", "later", where=WEEK3, weight=False)
        with pytest.raises(ad_duckdb.AdDuckDBError, match=r"weight column 'wtt' is not in 'later'.*'wt'"):
            ad_duckdb.check_threshold(con, "m", "thirty", "later", where=WEEK3, weight="wtt")
    finally:
        con.close()
    assert 0.7 * truth <= named.measured <= 1.4 * truth, (truth, named.message)
    assert "weighted by wt:" in named.message and "as it was set" not in named.message, named.message
    # each row one row: the sample's own alarms a day, a quarter of the readings'
    assert unweighted.measured == pytest.approx(named.measured / 4, rel=1e-9), unweighted.message
    assert "weighted" not in unweighted.message, unweighted.message
    base = ["check-threshold", db, "m", "thirty", "--source", "later", "--where", WEEK3, "--format", "json"]
    got = CliRunner().invoke(cli, [*base, "--weight", "wt"])
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["measured"] == pytest.approx(named.measured), got.stdout
    none = CliRunner().invoke(cli, [*base, "--no-weight"])
    assert none.exit_code == 0 and json.loads(none.stdout)["measured"] == pytest.approx(unweighted.measured)
    both = CliRunner().invoke(cli, [*base, "--weight", "wt", "--no-weight"])
    assert both.exit_code == 2 and "contradict" in both.output, both.output


def test_messages_name_the_callers_spelling(budget: str, tmp_path: Path) -> None:
    """alarm_rate's messages said both spellings, `series= (CLI: --series)`, to either reader: from Python the
    keyword, from the command line the flag."""
    con = _copy(budget, tmp_path)
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    try:
        with pytest.raises(ad_duckdb.OptionError) as py:
            ad_duckdb.set_threshold(con, "m", "x", "alarm_rate", source="r", per_day=3)
        with pytest.raises(ad_duckdb.OptionError) as tz:
            ad_duckdb.set_threshold(con, "m", "x", "alarm_rate", source="r", per_day=3, time="ts", tz="Mars/Base")
    finally:
        con.close()
    assert "time='ts'" in str(py.value) and "CLI" not in str(py.value) and "--" not in str(py.value), py.value
    assert "tz='Mars/Base' is no time zone" in str(tz.value) and "CLI" not in str(tz.value), tz.value
    res = CliRunner().invoke(cli, ["threshold", db, "m", "x", "--method", "alarm_rate", "--per-day", "3",
                                   "--source", "r"])
    assert res.exit_code != 0 and "--time ts" in res.output, res.output
    assert "time=" not in res.output and "per_day=" not in res.output and "CLI:" not in res.output, res.output
    res = CliRunner().invoke(cli, ["threshold", db, "m", "x", "--method", "alarm_rate", "--per-day", "3",
                                   "--time", "ts", "--source", "r", "--tz", "Mars/Base"])
    assert "--tz Mars/Base is no time zone" in res.output and "tz=" not in res.output, res.output
    # the Python surface again after a command ran in this process
    with duckdb.connect(db) as c:
        assert c.execute("SELECT 1").fetchall() == [(1,)]
    con = ad_duckdb.connect(db)
    try:
        with pytest.raises(ad_duckdb.OptionError, match=r"tz='Mars/Base' is no time zone"):
            ad_duckdb.set_threshold(con, "m", "x", "alarm_rate", source="r", per_day=3, time="ts", tz="Mars/Base")
    finally:
        con.close()


def test_the_dbt_function_takes_timestamps_in(paris: str, tmp_path: Path) -> None:
    # the macro's function refused an option it did not know: timestamps_in reaches set_threshold from dbt too
    from ad_duckdb import dbtthreshold

    db = tmp_path / "p.duckdb"
    db.write_bytes(Path(paris).read_bytes())
    con = duckdb.connect(str(db))
    try:
        dbtthreshold.create_threshold_function(con)
        opts = {"package_version": ad_duckdb.__version__, "source": "biz", "where": AFTER, "per_day": 3,
                "time": "ts", "timestamps_in": "Europe/Paris"}
        got = json.loads(con.execute("SELECT store_anomaly_threshold('p', 'dbt3', 'alarm_rate', ?)",
                                     [json.dumps(opts)]).fetchall()[0][0])
    finally:
        con.close()
    on = " ".join(got["chosen_on"].split())
    assert "read as Europe/Paris wall-clock times" in on and "09:00-16:59" in on and "CLI" not in on, on


def test_bursty_events_quiet_days_are_time_covered_not_outages() -> None:
    """Events that come in bursts (10 within minutes, a burst a day at random): the steps' spread was read from the
    steps within bursts, so every quiet day between bursts was an outage and 120 days read as 46-58 (the rows a day
    doubled). The gaps between bursts are now read as their own process where they look random; regular gaps (the
    nights and weekends of business hours) and an outage in regular readings are still breaks."""
    from ad_duckdb import alarmspan

    day = 86400.0
    for seed in range(3):
        rng = np.random.default_rng(seed)
        for per_day, size in ((1, 10), (0.5, 20), (3, 5)):
            starts = np.cumsum(rng.exponential(day / per_day, int(120 * per_day * 1.5)))
            starts = starts[starts < 120 * day]
            t = np.sort(np.concatenate([s + np.cumsum(rng.exponential(90.0, size)) for s in starts])) + 1.7e9
            got = alarmspan.cover(t, None, "day", day)
            assert got is not None and got.covered >= 110 * day, (seed, per_day, size, got)
    # 8 weeks of business-hour readings: 5 days a week; a week of 5-minute readings with a 3-day outage: 4 days
    monday = 1388966400.0
    biz = np.array([monday + w * 7 * day + d * day + 9 * 3600 + k * 300.0 for w in range(8) for d in range(5)
                    for k in range(96)])
    got = alarmspan.cover(biz, None, "day", day)
    assert got is not None and got.covered == pytest.approx(40 * day), got
    allday = monday + np.arange(7 * 288) * 300.0
    down = allday[(allday < monday + 2 * day) | (allday >= monday + 5 * day)]
    got = alarmspan.cover(down, None, "day", day)
    assert got is not None and got.covered == pytest.approx(4 * day) and got.breaks == 1, got
