"""What alarm_rate's "N a day" counts (flagged readings, and beside them episodes: runs of consecutive flagged
readings), and the check of a stored threshold's promise on later rows (``ad-duckdb check``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import alarmepisodes
from ad_duckdb.cli import cli

from conftest import FAST, ROOT

NAB = ROOT.parent / "shared" / "data" / "timeseries" / "nab" / "data" / "realKnownCause"
WEEK = "ts >= '2013-12-25' AND ts < '2014-01-01'"


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """NAB's machine_temperature (a reading every 5 minutes) and each reading's change; model t trained on
    18-25 December 2013 (normal in NAB's labels), threshold 'three' set at 3 alarms a day on the week after."""
    path = tmp_path_factory.mktemp("followup") / "plant.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        con.execute(f"CREATE TABLE m AS SELECT timestamp AS ts, value, value - lag(value) OVER (ORDER BY timestamp) "
                    f"AS diff FROM read_csv('{NAB / 'machine_temperature_system_failure.csv'}')")
        ad_duckdb.train(con, "t", "m", features=["value", "diff"], where="ts >= '2013-12-18' AND ts < '2013-12-25'",
                        **FAST)
        ad_duckdb.set_threshold(con, "t", "three", "alarm_rate", source="m", where=WEEK, per_day=3, time="ts")
    finally:
        con.close()
    yield str(path)


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
    con = ad_duckdb.connect(plant, read_only=True)
    try:
        on = " ".join((ad_duckdb.load_model(con, "t").threshold("three").chosen_on or "").split())
        flag = "is_anomaly_at('t', 'three', value, diff)"
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
