"""alarm_rate as an on-call analyst uses it: an alarm budget ("at most N alarms a day") set on a stretch, then checked
a month later with check-threshold; the check reads the rows as the threshold was set on them (weighted, one series
or several), and a 5-day schedule is assumed only on evidence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from builtonce import built_once
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST

# readings every 5 minutes from Monday 2024-01-01, four weeks: x and y independent noise with a slow wander
READINGS = ("SELECT i, TIMESTAMP '2024-01-01' + i * INTERVAL 5 MINUTE AS ts, "
            "sin(i / 37.0) + ((hash(i) % 1000) / 1000.0 - 0.5) AS x, "
            "cos(i / 53.0) + ((hash(i * 7 + 1) % 1000) / 1000.0 - 0.5) AS y FROM range(8064) r(i)")
WEEK2 = "ts >= '2024-01-08' AND ts < '2024-01-15'"
WEEK3 = "ts >= '2024-01-15' AND ts < '2024-01-22'"


@pytest.fixture(scope="module")
def budget(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Model m trained on the first week of the readings. Made once per process: test_alarm7_followups borrows it,
    with a copy of its own (builtonce.py)."""
    def build(folder: Path) -> None:
        con = ad_duckdb.connect(str(folder / "budget.duckdb"))
        try:
            con.execute(f"CREATE TABLE r AS {READINGS}")
            ad_duckdb.train(con, "m", "r", features=["x", "y"], where="ts < '2024-01-08'", **FAST)
        finally:
            con.close()

    yield str(built_once("alarm6", tmp_path_factory, build) / "budget.duckdb")


def _copy(db: str, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    copy = tmp_path / "budget.duckdb"
    copy.write_bytes(Path(db).read_bytes())
    return ad_duckdb.connect(str(copy))


def _per_day(con: duckdb.DuckDBPyConnection, name: str, where: str) -> float:
    n, k = con.execute(f"SELECT count(*), count(*) FILTER (WHERE is_anomaly_at('m', '{name}', x, y)) FROM r "
                       f"WHERE {where}").fetchall()[0]
    return k / (n / 288)


def test_check_threshold_weighs_a_sample_as_the_threshold_was_set_on(budget: str, tmp_path: Path) -> None:
    """A budget set on a 1-in-4 sample of the readings (weight 4) and checked on a later 1-in-4 sample: the check
    read the sample unweighted, so its alarms a day were the sample's, a quarter of the readings', and a threshold
    keeping its budget was called 'fewer alarms than promised'. It reads the goal's weight column."""
    con = _copy(budget, tmp_path)
    try:
        con.execute("CREATE TABLE s AS SELECT *, 4.0 AS w FROM r WHERE i % 4 = 0")
        ad_duckdb.set_threshold(con, "m", "thirty", "alarm_rate", source="s", where=WEEK2, per_day=30, time="ts",
                                weight="w")
        truth = _per_day(con, "thirty", WEEK3)  # every reading of the later week
        got = ad_duckdb.check_threshold(con, "m", "thirty", "s", where=WEEK3)
        assert 0.7 * truth <= got.measured <= 1.4 * truth, (truth, got.message)
        assert "weighted by w" in got.message, got.message
        assert got.episodes is None, got.message  # a sample's neighbours in time are not the readings'
        # drifted rows: the command choosing it again weighs them too (unweighted, "30 a day" flagged 120)
        con.execute("CREATE TABLE drifted AS SELECT * REPLACE (x * 3 AS x) FROM s")
        moved = ad_duckdb.check_threshold(con, "m", "thirty", "drifted", where=WEEK3)
        assert moved.outside and moved.message.endswith("--weight w"), moved.message
        # checked on every reading (no weight column): each row is one row
        full = ad_duckdb.check_threshold(con, "m", "thirty", "r", where=WEEK3)
        assert full.measured == pytest.approx(truth, rel=1e-9), full.message
    finally:
        con.close()


BUSINESS = "hour(ts) BETWEEN 9 AND 16 AND dayofweek(ts) BETWEEN 1 AND 5"


def test_a_five_day_week_is_assumed_only_on_a_weekend_without_rows(budget: str, tmp_path: Path) -> None:
    """One Monday-Friday week of business hours was taken as a 5-day schedule, so '30 a week' flagged 30 on those
    5 days: where the table has rows at weekends too (a shop open on Saturdays, a filter picking weekdays) the
    weekends then added theirs. Evidence of a 5-day week is a weekend inside the stretch without rows; without one a
    week is 7 days, and the statement says that it could not tell."""
    con = _copy(budget, tmp_path)
    try:
        con.execute(f"CREATE VIEW b AS SELECT * FROM r WHERE {BUSINESS}")
        one_week = "ts >= '2024-01-08' AND ts < '2024-01-13'"  # Monday to Friday, no weekend spanned
        th = ad_duckdb.set_threshold(con, "m", "thirty", "alarm_rate", source="b", where=one_week, per_week=30,
                                     time="ts")
        on = " ".join((th.chosen_on or "").split())
        assert "5 days, 672 rows a week" in on, on
        assert ("its rows fall on weekdays only and the stretch spans no weekend, so whether the table has rows at "
                "weekends cannot be told: a week is counted as 7 days") in on, on
        # checked on one such week: the check counts its week alike, and says so
        got = ad_duckdb.check_threshold(con, "m", "thirty", "b", where="ts >= '2024-01-15' AND ts < '2024-01-20'")
        assert "(5 days; its rows fall on weekdays only and the stretch spans no weekend" in got.message, got.message
        # a weekend without rows inside the stretch: a 5-day week, 480 rows a week
        two_weeks = "ts >= '2024-01-08' AND ts < '2024-01-20'"
        th = ad_duckdb.set_threshold(con, "m", "thirty2", "alarm_rate", source="b", where=two_weeks,
                                     per_week=30, time="ts")
        on = " ".join((th.chosen_on or "").split())
        assert "2 weeks, 480 rows a week" in on, on
        assert "cannot be told" not in on, on
    finally:
        con.close()


def test_check_threshold_no_series_reads_the_rows_as_one_series(budget: str, tmp_path: Path) -> None:
    """check-threshold reads the series column the threshold was set with, and nothing turned that off: a column
    named as the series that is none (a region, a product line), or later rows without it, left the check with
    episodes within that column's values, or no check at all. series=False (CLI --no-series) reads the rows as one
    series in time order."""
    con = _copy(budget, tmp_path)
    try:
        con.execute("CREATE TABLE two AS SELECT 'a' AS sensor, ts, x, y FROM r UNION ALL "
                    "SELECT 'b', ts + INTERVAL 1 MINUTE, y, x FROM r")
        ad_duckdb.set_threshold(con, "m", "six", "alarm_rate", source="two", where=WEEK2, per_day=6, time="ts",
                                series="sensor")
        within = ad_duckdb.check_threshold(con, "m", "six", "two", where=WEEK3)
        across = ad_duckdb.check_threshold(con, "m", "six", "two", where=WEEK3, series=False)
        assert within.episodes is not None and across.episodes is not None
        assert across.episodes < within.episodes, (within.message, across.message)  # runs across the sensors join
        assert across.measured == within.measured, across.message
        assert "--series" not in across.message, across.message
        # rows without the goal's series column: refused with the way out, which works
        con.execute("CREATE TABLE one AS SELECT ts, x, y FROM r")
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"series column 'sensor' is not in 'one'.*"
                                                                 r"series=False"):
            ad_duckdb.check_threshold(con, "m", "six", "one", where=WEEK3)
        assert ad_duckdb.check_threshold(con, "m", "six", "one", where=WEEK3, series=False).episodes is not None
        with pytest.raises(ad_duckdb.BadInputError, match=r"series= .*must name the column"):
            ad_duckdb.check_threshold(con, "m", "six", "two", where=WEEK3, series=True)  # type: ignore[arg-type]
    finally:
        con.close()
    db = str(tmp_path / "budget.duckdb")
    res = CliRunner().invoke(cli, ["check-threshold", db, "m", "six", "--source", "one", "--where", WEEK3,
                                   "--no-series", "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["episodes"] is not None, res.output
    res = CliRunner().invoke(cli, ["check-threshold", db, "m", "six", "--source", "two", "--series", "sensor",
                                   "--no-series"])
    assert res.exit_code != 0 and "--series and --no-series" in res.output, res.output


def _macro(con: duckdb.DuckDBPyConnection, name: str, **options: object) -> dict[str, object]:
    """store_anomaly_threshold as the dbt macro ad_duckdb_set_threshold calls it: its arguments as one JSON object."""
    from ad_duckdb import dbtpackage

    given = json.dumps({"package_version": dbtpackage.package_version(), **options})
    out = con.execute("SELECT store_anomaly_threshold('m', ?, 'alarm_rate', ?)", [name, given]).fetchall()[0][0]
    return dict(json.loads(out))


def test_a_dbt_macros_errors_name_its_arguments_not_the_command_lines_flags(budget: str, tmp_path: Path) -> None:
    """dbt users' errors said "tz='Mars/Base' (CLI: --tz)" and "per_week=; CLI: --per-week": flags of a command
    line they do not use. Through the macro (the function store_anomaly_threshold), the message names the macro's
    arguments only; from Python and the command line it names both, as before."""
    from ad_duckdb.dbtthreshold import create_threshold_function

    con = _copy(budget, tmp_path)
    try:
        create_threshold_function(con)
        with pytest.raises(duckdb.Error) as e:
            _macro(con, "x", source="r", where=WEEK2, per_day=3, time="ts", tz="Mars/Base")
        assert "tz='Mars/Base' is no time zone" in str(e.value) and "CLI" not in str(e.value), e.value
        with pytest.raises(duckdb.Error) as e:
            _macro(con, "x", source="r", where=WEEK2, per_day=300, time="ts")
        assert "did you mean 300 a week (per_week=)?" in str(e.value) and "CLI" not in str(e.value), e.value
        with pytest.raises(duckdb.Error) as e:
            _macro(con, "x", source="r", where=WEEK2, rate="1%", series="sensor")
        assert "series= reads the rows' times; name their DATE or TIMESTAMP column with time=." in str(e.value), e.value
        # the statement the macro logs: in its arguments' words too (show keeps both)
        got = _macro(con, "biz", source=f"SELECT * FROM r WHERE {BUSINESS}", where=WEEK2, per_day=12, time="ts")
        assert "per_hour= counts by hour of rows" in str(got["chosen_on"]), got["chosen_on"]
        assert "CLI" not in str(got["chosen_on"]), got["chosen_on"]
        with pytest.raises(ad_duckdb.OptionError, match=r"tz='Mars/Base' is no time zone"):
            ad_duckdb.set_threshold(con, "m", "x", "alarm_rate", source="r", where=WEEK2, per_day=3, time="ts",
                                    tz="Mars/Base")
    finally:
        con.close()


def test_a_weekday_only_date_table_counts_its_weekdays_as_its_days() -> None:
    """Daily rows of 50 merchants on weekdays only (a DATE column): each Friday stood for 3 days, so three weeks of
    dates read as 19.3 days and '2 a day' flagged 2.6 on each weekday, while business hours of a TIMESTAMP count
    their weekdays. A weekday-only table spanning a weekend without rows counts its weekdays; a table with rows at
    weekends (or weekly rows) counts every day, as before."""
    con = ad_duckdb.connect()
    try:
        # 50 merchants' rows a day over 4 weeks from Monday 1 January, the days' x and y of the readings above
        con.execute(f"CREATE TABLE d AS SELECT DATE '2024-01-01' + (i // 50)::INT AS day, x AS a, y AS b "
                    f"FROM ({READINGS}) WHERE i < 1400")
        con.execute("CREATE VIEW weekdays AS SELECT * FROM d WHERE dayofweek(day) BETWEEN 1 AND 5")
        ad_duckdb.train(con, "m", "d", features=["a", "b"], where="day < '2024-01-08'", **FAST)
        stretch = "day >= '2024-01-08' AND day < '2024-01-27'"  # Monday 8 to Friday 26 January: 15 weekdays
        th = ad_duckdb.set_threshold(con, "m", "two", "alarm_rate", source="weekdays", where=stretch, per_day=2,
                                     time="day")
        on = " ".join((th.chosen_on or "").split())
        assert "(750 rows, 2024-01-08 to 2024-01-26: 2.14 weeks, 50 rows a day" in on, on
        got = con.execute("SELECT count(*) FILTER (WHERE is_anomaly_at('m', 'two', a, b)) FROM weekdays "
                          f"WHERE {stretch}").fetchall()[0][0]
        assert got == 30, on
        # checked later: the merchants' rows share their days, so no episodes, and the check says why as the
        # statement does (it left them out unsaid)
        later = ad_duckdb.check_threshold(con, "m", "two", "weekdays", where="day >= '2024-01-08'")
        assert "episodes not counted: 735 rows share their time with another row" in later.message, later.message
        # by week: 5 days a week, so '10 a week' is 2 on each weekday too
        week = ad_duckdb.set_threshold(con, "m", "ten", "alarm_rate", source="weekdays", where=stretch, per_week=10,
                                       time="day")
        assert "250 rows a week" in (week.chosen_on or ""), week.chosen_on
        # every day of the calendar: 19 days of 50 rows
        every = ad_duckdb.set_threshold(con, "m", "two_all", "alarm_rate", source="d", where=stretch, per_day=2,
                                        time="day")
        assert "50 rows a day" in (every.chosen_on or ""), every.chosen_on
    finally:
        con.close()


def test_a_week_checked_against_a_budget_set_on_two_weeks_takes_a_weeks_interval(budget: str, tmp_path: Path) -> None:
    """'30 a day' set on 14 days and checked on the 7 after them: the check took the interval for one later day
    (11.9-48.1), so a week flagging 45.7 a day, half again the budget, kept its promise. A stretch of k periods
    takes an interval between the one later period's and the whole stretch's, as the mean of k periods varies."""
    con = _copy(budget, tmp_path)
    try:
        ad_duckdb.set_threshold(con, "m", "thirty", "alarm_rate", source="r", time="ts", per_day=30,
                                where="ts >= '2024-01-08' AND ts < '2024-01-22'")
        con.execute("CREATE TABLE hot AS SELECT * REPLACE (x * 1.15 AS x) FROM r")
        week = "ts >= '2024-01-22' AND ts < '2024-01-29'"
        calm, hot = (ad_duckdb.check_threshold(con, "m", "thirty", src, where=week) for src in ("r", "hot"))
        day = ad_duckdb.check_threshold(con, "m", "thirty", "r", where="ts >= '2024-01-22' AND ts < '2024-01-23'")
        assert calm.expected_lo is not None and calm.expected_hi is not None
        assert day.expected_lo is not None and day.expected_hi is not None
        assert day.expected_lo < calm.expected_lo < 30 < calm.expected_hi < day.expected_hi, (day.message, calm.message)
        assert "over a later stretch of 7 days (between its" in calm.message and not calm.outside, calm.message
        assert hot.measured > 1.4 * 30 and hot.outside, hot.message
    finally:
        con.close()
