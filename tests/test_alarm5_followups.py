"""alarm_rate follow-ups: the promise kept as data for check-threshold, what "a day" counts for tables whose rows
cover part of each day or come at random times, days in the time column's own zone, and several series in one
table."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from test_alarmrate_thresholds import plant as plant  # NAB's machine_temperature and model t
from test_followup_alarms import taxi as taxi  # NAB's nyc_taxi, model x, 'three' set at 3 a day

import ad_duckdb
from ad_duckdb import alarmpromise, alarmspan
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBWarning

from conftest import FAST, ROOT

NAB = ROOT.parent / "shared" / "data" / "timeseries" / "nab" / "data" / "realKnownCause"
AUGUST = "ts >= '2014-08-01' AND ts < '2014-08-15'"


def _goal(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any]:
    metrics = json.loads(con.execute("SELECT metrics::VARCHAR FROM ad_models WHERE name = 'x'").fetchall()[0][0])
    return metrics["threshold_goals"][name]


def _whole(interval: list[float], periods: int) -> tuple[float, ...]:
    from ad_duckdb import alarmperiods
    return tuple(alarmperiods.mid_p_end(end * periods) / periods for end in interval)


def test_check_threshold_reads_the_promised_interval_from_data_not_the_statements_text(taxi: str,
                                                                                        tmp_path: Path) -> None:
    """check-threshold read the interval back by parsing the statement: a statement edited or shortened (or worded
    otherwise by a later build) left it with "no interval to compare with", and it compared with the statement's
    3 significant digits. The promise is now stored with the threshold's goal, and goals stored before still read
    off the text."""
    copy = tmp_path / "taxi.duckdb"
    copy.write_bytes(Path(taxi).read_bytes())
    con = ad_duckdb.connect(str(copy))
    try:
        t = ad_duckdb.load_model(con, "x").threshold("three")
        kept = alarmpromise.read(_goal(con, "three"), t.value)
        assert kept is not None and kept["per"] == "day" and kept["periods"] == 14 and kept["rows"] == 672, kept
        got = ad_duckdb.check_threshold(con, "x", "three", "taxi", where=AUGUST)
        # the stored numbers, not 3 digits of them: the whole counts nearest them over the 14 days (alarms are whole)
        assert (got.expected_lo, got.expected_hi) == _whole(kept["same"], 14)
        assert "over a later stretch as long as its 14 days" in got.message
        # the statement lost: the verdict still stands on the stored promise
        con.execute("UPDATE ad_thresholds SET chosen_on = 'set on July' WHERE threshold_name = 'three'")
        lost = ad_duckdb.check_threshold(con, "x", "three", "taxi", where=AUGUST)
        assert lost.outside is got.outside and (lost.expected_lo, lost.expected_hi) == _whole(kept["same"], 14)
        assert "holds no interval" not in lost.message
        # a shorter stretch: the promise's interval for one later day
        day = ad_duckdb.check_threshold(con, "x", "three", "taxi", where="ts >= '2014-08-03' AND ts < '2014-08-04'")
        assert (day.expected_lo, day.expected_hi) == _whole(kept["one"], 1) and "on one later day" in day.message
        # a goal stored before (no promise) with its statement: read off the text, as before
        ad_duckdb.set_threshold(con, "x", "three", "alarm_rate", source="taxi", per_day=3, time="ts",
                                where="ts >= '2014-07-15' AND ts < '2014-07-29'")
        con.execute("UPDATE ad_models SET metrics = json_remove(metrics, '$.threshold_goals.three.promise') "
                    "WHERE name = 'x'")
        assert "promise" not in _goal(con, "three")
        old = ad_duckdb.check_threshold(con, "x", "three", "taxi", where=AUGUST)
        assert old.expected_lo == pytest.approx(got.expected_lo, rel=5e-3) and old.outside is got.outside
        # a value set again by hand: its promise was of another cut, so it is not read
        assert alarmpromise.read(kept | {"value": kept["value"] * 1.1}, t.value) is None
        # a share target: the share's interval stored too
        ad_duckdb.set_threshold(con, "x", "half", "alarm_rate", source="taxi", rate="5%",
                                where="ts >= '2014-07-15' AND ts < '2014-07-29'")
        half = ad_duckdb.load_model(con, "x").threshold("half")
        share = alarmpromise.read(_goal(con, "half"), half.value)
        assert share is not None and share["per"] is None and share["rows"] == 672
        con.execute("UPDATE ad_thresholds SET chosen_on = 'set on July' WHERE threshold_name = 'half'")
        checked = ad_duckdb.check_threshold(con, "x", "half", "taxi", where=AUGUST)
        assert (checked.expected_lo, checked.expected_hi) == tuple(share["share"]), checked.message
        assert "(of the 672 rows it was set on)" in checked.message
    finally:
        con.close()


def test_a_retrain_carrying_an_alarm_rate_threshold_stores_the_new_cuts_promise(taxi: str, tmp_path: Path) -> None:
    copy = tmp_path / "taxi.duckdb"
    copy.write_bytes(Path(taxi).read_bytes())
    con = ad_duckdb.connect(str(copy))
    try:
        ad_duckdb.train(con, "x", "taxi", features=["value", "diff", "hr"], carry_thresholds=True,
                        where="ts >= '2014-07-01' AND ts < '2014-07-15'", **FAST)
        rec = ad_duckdb.load_model(con, "x@2")
        kept = alarmpromise.read(rec.metrics["threshold_goals"]["three"], rec.threshold("three").value)
        assert kept is not None and kept["periods"] == 14
    finally:
        con.close()


WEEK = "ts >= '2013-12-25' AND ts < '2014-01-01'"
LATER = "ts >= '2014-01-08' AND ts < '2014-01-15'"  # 1-8 January repeats an hour of readings


def _runs(con: duckdb.DuckDBPyConnection, name: str, where: str) -> tuple[int, int]:
    flag = f"is_anomaly_at('t', '{name}', value, diff)"
    return con.execute(
        f"SELECT count(*) FILTER (WHERE f AND NOT coalesce(prev, false)), count(*) FILTER (WHERE f) FROM "
        f"(SELECT {flag} AS f, lag({flag}) OVER (ORDER BY ts) AS prev FROM m WHERE {where})").fetchall()[0]


def test_episodes_are_counted_within_each_series_of_a_table_of_several(plant: str, tmp_path: Path) -> None:
    """Two sensors in one table (machine_temperature's readings, the second a minute after the first): episodes
    were runs across their interleaved readings, so each run of one sensor joined the other's and the statement said
    half the episodes; with the readings at the same times it said none, and nothing said why. series='sensor'
    counts them within each sensor; the check reads it from the threshold's goal."""
    copy = tmp_path / "plant.duckdb"
    copy.write_bytes(Path(plant).read_bytes())
    con = ad_duckdb.connect(str(copy))
    try:
        con.execute("CREATE TABLE two AS SELECT 'a' AS sensor, ts, value, diff FROM m UNION ALL "
                    "SELECT 'b', ts + INTERVAL 1 MINUTE, value, diff FROM m")
        con.execute("CREATE TABLE same AS SELECT 'a' AS sensor, ts, value, diff FROM m UNION ALL "
                    "SELECT 'b', ts, value, diff FROM m")
        ad_duckdb.set_threshold(con, "t", "one", "alarm_rate", source="m", where=WEEK, per_day=3, time="ts")
        runs, readings = _runs(con, "one", WEEK)
        for table in ("two", "same"):
            ad_duckdb.set_threshold(con, "t", table, "alarm_rate", source=table, where=WEEK, per_day=6, time="ts",
                                    series="sensor")
            on = " ".join((ad_duckdb.load_model(con, "t").threshold(table).chosen_on or "").split())
            assert f"flags {2 * readings} of 4032 rows" in on, on
            assert (f"as episodes (runs of consecutive flagged readings within each sensor, e.g. one page each): "
                    f"{2 * runs}, {2 * runs / 7:.3g} a day") in on, on
        # without it: the shared times say why no episodes, and the fix
        ad_duckdb.set_threshold(con, "t", "same_bare", "alarm_rate", source="same", where=WEEK, per_day=6, time="ts")
        on = " ".join((ad_duckdb.load_model(con, "t").threshold("same_bare").chosen_on or "").split())
        assert ("episodes not counted: 2016 rows share their time with another row, so runs cannot be told in time "
                "order: where the rows are several series in one table, name the column telling them apart with "
                "series=;") in on, on
        # the check: episodes within each sensor on a later week, from the goal's series
        later_runs, _ = _runs(con, "one", LATER)
        got = ad_duckdb.check_threshold(con, "t", "two", "two", where=LATER)
        assert got.episodes == 2 * later_runs, got.message
        assert got.message.endswith("--series sensor") or not got.outside, got.message
        with pytest.raises(ad_duckdb.SourceNotFoundError, match="series column 'sensr' is not in 'two'.*sensor"):
            ad_duckdb.set_threshold(con, "t", "x", "alarm_rate", source="two", where=WEEK, per_day=6, time="ts",
                                    series="sensr")
        with pytest.raises(ad_duckdb.OptionError, match="series= .*time="):
            ad_duckdb.set_threshold(con, "t", "x", "alarm_rate", source="two", where=WEEK, rate="1%", series="sensor")
    finally:
        con.close()


TAXI = NAB / "nyc_taxi.csv"
STRETCH = "ts >= '2014-07-15' AND ts < '2014-08-12'"
_WEEKEND = re.compile(r"its weekend days flagged ([\d.]+) alarms a day and its weekdays ([\d.]+)")


def _weekend(said: list[str]) -> tuple[str, str, str]:
    one = [s for s in said if "weekend days flagged" in s]
    assert len(one) == 1, said
    m = _WEEKEND.search(one[0])
    assert m is not None, one[0]
    return m[1], m[2], one[0]


def test_weekends_are_read_in_the_time_columns_zone_not_utc(tmp_path: Path) -> None:
    """NAB's nyc_taxi as a Pacific table (a TIMESTAMPTZ of its wall times in America/Los_Angeles): the weekend check
    read days in UTC, so its Saturday ran from Friday 17:00 to Saturday 17:00, and the weekend's and weekdays' rates
    it said were not the table's. Now a TIMESTAMPTZ's days are the session zone's (or tz=, CLI --tz), and a UTC
    TIMESTAMP's with tz=; the suggested filter reads the day in that zone."""
    db = tmp_path / "pac.duckdb"
    con = ad_duckdb.connect(str(db))
    try:
        con.execute(f"CREATE TABLE taxi AS SELECT timestamp AS ts, value, hour(timestamp) AS hr FROM "
                    f"read_csv('{TAXI}')")
        con.execute("CREATE TABLE pac AS SELECT timezone('America/Los_Angeles', ts) AS ts, value, hr FROM taxi")
        con.execute("CREATE TABLE utc AS SELECT timezone('UTC', timezone('America/Los_Angeles', ts)) AS ts, value, "
                    "hr FROM taxi")  # the same instants, stored as UTC wall times
        ad_duckdb.train(con, "taxi_ae", "taxi", features=["value", "hr"], where="ts < '2014-07-15'", **FAST)
        with pytest.warns(AdDuckDBWarning) as got:
            ad_duckdb.set_threshold(con, "taxi_ae", "wall", "alarm_rate", source="taxi", where=STRETCH, per_day=3,
                                    time="ts")
        we, wd, _ = _weekend([str(w.message) for w in got])
        pac_where = ("ts >= TIMESTAMPTZ '2014-07-15 00:00:00-07' AND ts < TIMESTAMPTZ '2014-08-12 00:00:00-07'")
        con.execute("SET TimeZone = 'America/Los_Angeles'")
        with pytest.warns(AdDuckDBWarning) as got:
            ad_duckdb.set_threshold(con, "taxi_ae", "pac", "alarm_rate", source="pac", where=pac_where, per_day=3,
                                    time="ts")
        pwe, pwd, said = _weekend([str(w.message) for w in got])
        assert (pwe, pwd) == (we, wd), said
        assert "dayofweek(timezone('America/Los_Angeles', ts)) IN (0, 6)" in said, said
        # a UTC wall-time TIMESTAMP, with tz=
        utc_where = "ts >= TIMESTAMP '2014-07-15 07:00:00' AND ts < TIMESTAMP '2014-08-12 07:00:00'"
        with pytest.warns(AdDuckDBWarning) as got:
            ad_duckdb.set_threshold(con, "taxi_ae", "utc", "alarm_rate", source="utc", where=utc_where, per_day=3,
                                    time="ts", tz="America/Los_Angeles")
        assert _weekend([str(w.message) for w in got])[:2] == (we, wd)
        with pytest.raises(ad_duckdb.OptionError, match=r"tz='Mars/Base' is no time zone"):
            ad_duckdb.set_threshold(con, "taxi_ae", "x", "alarm_rate", source="utc", where=utc_where, per_day=3,
                                    time="ts", tz="Mars/Base")
    finally:
        con.close()
    # the command line's process is in UTC here: --tz names the table's zone
    res = CliRunner().invoke(cli, ["threshold", str(db), "taxi_ae", "pac_cli", "--method", "alarm_rate", "--per-day",
                                   "3", "--time", "ts", "--source", "pac", "--where", pac_where, "--tz",
                                   "America/Los_Angeles"])
    assert res.exit_code == 0, res.output
    assert _weekend([" ".join(res.stderr.split())])[:2] == (we, wd), res.stderr
    con = ad_duckdb.connect(str(db), read_only=True)
    try:
        goals = json.loads(con.execute("SELECT metrics::VARCHAR FROM ad_models").fetchall()[0][0])["threshold_goals"]
        assert goals["pac_cli"]["tz"] == "America/Los_Angeles" and "tz" not in goals["wall"]
    finally:
        con.close()


BUSINESS = ("ts >= '2013-12-30' AND ts < '2014-01-20' AND dayofweek(ts) BETWEEN 1 AND 5 "
            "AND hour(ts) BETWEEN 9 AND 16")


def test_a_day_of_business_hours_is_a_calendar_day_of_rows(plant: str) -> None:
    """machine_temperature's readings on weekdays 9:00-16:59 of three weeks (15 days of 96 readings): the span was
    read from each week's Monday 9:00 to its Friday 16:55, 4.33 days a week, so "3 a day" read 111 rows a day and
    flagged 2.6 on each working day. A day is now a calendar day of rows: 15 days of 96 rows, 3 on each, said to fall
    in those hours; by hour, 40 hours a week of 12 rows."""
    con = ad_duckdb.connect(plant)
    try:
        th = ad_duckdb.set_threshold(con, "t", "biz3", "alarm_rate", source="m", where=BUSINESS, per_day=3,
                                     time="ts")
        rows, alarms, days = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE is_anomaly_at('t', 'biz3', value, diff)), count(DISTINCT "
            f"ts::DATE) FROM m WHERE {BUSINESS}").fetchall()[0]
        hourly = ad_duckdb.set_threshold(con, "t", "biz_hour", "alarm_rate", source="m", where=BUSINESS,
                                         per_hour=0.5, time="ts")
        weekly = ad_duckdb.set_threshold(con, "t", "biz_week", "alarm_rate", source="m", where=BUSINESS,
                                         per_week=15, time="ts")
        got = ad_duckdb.check_threshold(con, "t", "biz3", "m", where=BUSINESS)
    finally:
        con.close()
    on = " ".join((th.chosen_on or "").split())
    assert (rows, days) == (1440, 15) and alarms == 45, on
    assert ("2.14 weeks of rows in 2.62 weeks (gaps over a day left out), 96 rows a day (its rows fall at "
            "09:00-16:59 of each day: a day is a day of rows") in on, on
    assert "12 rows an hour" in (hourly.chosen_on or ""), hourly.chosen_on
    assert "3 weeks, 480 rows a week" in (weekly.chosen_on or ""), weekly.chosen_on
    # the check counts the days alike: 3 a day on the rows it was set on
    assert got.measured == pytest.approx(3.0) and "(2.14 weeks)" in got.message, got.message


def _events(days: int, seed: int, outage: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Events 3 a day at random times over ``days`` days from 1 January 2024 (a Poisson process: rows only when
    something happens), each with a reading; none in ``outage`` (its first and last day)."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(86400 / 3, days * 5))
    t = t[t < days * 86400]
    if outage is not None:
        t = t[(t < outage[0] * 86400) | (t >= outage[1] * 86400)]
    return 1704067200 + t, rng.normal(size=len(t))


def test_a_sparse_event_tables_quiet_days_are_time_covered_and_an_outage_is_not() -> None:
    """Events 3 a day at random times over 120 days, "one alarm in 5 days" (0.2 a day): every gap over a day read
    as an outage (21 of them: 99 days), so the rows a day read 21% high and the alarms a day low; and the days' chance counts (1 to 5 events)
    warned of days of unlike volume. Gaps as long as the spacing makes likely are now the process's quiet, and a
    day's count as varied as chance makes it no volume to warn of; 8 days without events are still an outage."""
    con = ad_duckdb.connect()
    try:
        t, x = _events(180, 3)
        con.execute("CREATE TABLE ev AS SELECT to_timestamp(t)::TIMESTAMP AS ts, x, x * x AS x2 FROM "
                    "(SELECT unnest(?) AS t, unnest(?) AS x)", [t.tolist(), x.tolist()])
        ad_duckdb.train(con, "e", "ev", features=["x", "x2"], where="ts < '2024-03-01'", **FAST)
        stretch = "ts >= '2024-03-01'"
        n = con.execute(f"SELECT count(*) FROM ev WHERE {stretch}").fetchall()[0][0]
        long_gaps = con.execute(f"SELECT count(*) FROM (SELECT ts - lag(ts) OVER (ORDER BY ts) AS d FROM ev WHERE "
                                f"{stretch}) WHERE d > INTERVAL 1 DAY").fetchall()[0][0]
        assert long_gaps >= 5  # what read as outages
        th = ad_duckdb.set_threshold(con, "e", "three", "alarm_rate", source="ev", where=stretch, per_day=0.2,
                                     time="ts")
        on = " ".join((th.chosen_on or "").split())
        assert "gaps over" not in on, on
        rows_a_day = float(re.search(r", ([\d.]+) rows a day", on)[1])  # type: ignore[index]
        assert rows_a_day == pytest.approx(n / 120, rel=0.02), on
        flagged = con.execute(f"SELECT count(*) FILTER (WHERE is_anomaly_at('e', 'three', x, x2)) FROM ev WHERE "
                              f"{stretch}").fetchall()[0][0]
        assert flagged / 120 == pytest.approx(0.2, abs=0.01)
        # an outage of 8 days among them: left out, the rest kept
        t2, x2 = _events(180, 3, outage=(150, 158))
        con.execute("CREATE TABLE down AS SELECT to_timestamp(t)::TIMESTAMP AS ts, x, x * x AS x2 FROM "
                    "(SELECT unnest(?) AS t, unnest(?) AS x)", [t2.tolist(), x2.tolist()])
        gap = ad_duckdb.set_threshold(con, "e", "down3", "alarm_rate", source="down", where=stretch,
                                      per_day=0.2, time="ts")
        on = " ".join((gap.chosen_on or "").split())
        n2 = con.execute(f"SELECT count(*) FROM down WHERE {stretch}").fetchall()[0][0]
        assert "(gaps over a day left out)" in on, on
        rows_a_day = float(re.search(r", ([\d.]+) rows a day", on)[1])  # type: ignore[index]
        assert rows_a_day == pytest.approx(n2 / 112, rel=0.03), on
    finally:
        con.close()


def test_the_time_covered_by_day_hour_and_week_for_tables_of_several_shapes() -> None:
    monday = 1388966400.0  # 6 January 2014
    week = 7 * 86400.0
    biz = np.array([monday + w * week + d * 86400 + 9 * 3600 + k * 300.0 for w in range(4) for d in range(5)
                    for k in range(96)])
    by = {per: alarmspan.cover(biz, None, per, p) for per, p in (("day", 86400.0), ("hour", 3600.0), ("week", week))}
    assert by["day"] is not None and by["day"].covered == 20 * 86400 and by["day"].hours == tuple(range(9, 17))
    assert by["hour"] is not None and by["hour"].covered == 160 * 3600
    assert by["week"] is not None and by["week"].covered == 4 * week
    # readings all day from a Wednesday noon: 7 days, and 4 weeks by week
    noon = monday + 2 * 86400 + 12 * 3600 + np.arange(28 * 288) * 300.0
    assert alarmspan.cover(noon[:2016], None, "day", 86400.0).covered == week  # type: ignore[union-attr]
    assert alarmspan.cover(noon, None, "week", week).covered == pytest.approx(4 * week)  # type: ignore[union-attr]
    # daily dates of 50 merchants, and weekly snapshots: each row stands for its step
    dates = monday + np.repeat(np.arange(14), 50) * 86400.0
    assert alarmspan.cover(dates, None, "day", 86400.0).covered == 14 * 86400  # type: ignore[union-attr]
    mondays = monday + np.arange(10) * week
    assert alarmspan.cover(mondays, None, "day", 86400.0).covered == 10 * week  # type: ignore[union-attr]
    assert alarmspan.cover(np.array([monday]), None, "day", 86400.0) is None


def test_a_date_columns_days_are_its_own_whatever_tz_says(tmp_path: Path) -> None:
    """A DATE has no zone, but tz= (CLI --tz) read it as midnight UTC moved into the zone: in America/Los_Angeles
    every date became the afternoon before, so a Saturday's rows counted as Friday's, the weekend's and weekdays'
    rates said were other days', and the suggested filter (dayofweek(timezone('America/Los_Angeles',
    timezone('UTC', d::TIMESTAMP))) IN (0, 6)) picked Fridays and Saturdays. A DATE's days are its own now, tz= or
    not (still checked for a known zone)."""
    con = ad_duckdb.connect(str(tmp_path / "d.duckdb"))
    try:
        con.execute(f"CREATE TABLE taxi AS SELECT timestamp AS ts, value, hour(timestamp) AS hr FROM "
                    f"read_csv('{TAXI}')")
        con.execute("CREATE TABLE dtaxi AS SELECT ts::DATE AS d, value, hr FROM taxi")
        ad_duckdb.train(con, "taxi_ae", "taxi", features=["value", "hr"], where="ts < '2014-07-15'", **FAST)
        where = "d >= DATE '2014-07-15' AND d < DATE '2014-08-12'"
        said = []
        for tz in (None, "America/Los_Angeles"):
            with pytest.warns(AdDuckDBWarning) as got:
                ad_duckdb.set_threshold(con, "taxi_ae", f"d{len(said)}", "alarm_rate", source="dtaxi", where=where,
                                        per_day=3, time="d", tz=tz)
            said.append(_weekend([str(w.message) for w in got]))
        assert said[1][:2] == said[0][:2], said
        assert "dayofweek(d) IN (0, 6)" in said[1][2] and "timezone(" not in said[1][2], said[1][2]
        with pytest.raises(ad_duckdb.OptionError, match=r"tz='Mars/Base' is no time zone"):
            ad_duckdb.set_threshold(con, "taxi_ae", "x", "alarm_rate", source="dtaxi", where=where, per_day=3,
                                    time="d", tz="Mars/Base")
    finally:
        con.close()
