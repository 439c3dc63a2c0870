"""review15b: the autumn hour the clocks repeat (alarm8's alarmfold) in readings stored newest first. Of a repeated
wall time's readings the first read were taken as the earlier pass, as a logger writes them; a table exported newest
first (ORDER BY ts DESC) reads the later pass first, so the two passes swapped hours and the same readings gave
other numbers than stored oldest first (1,917 independent rows for 1,906)."""

from __future__ import annotations

import numpy as np
from test_alarm8_intervals import AUTUMN


def test_unfold_reads_a_newest_first_stretch_backwards() -> None:
    from ad_duckdb import alarmfold
    later = 1792891800.0  # 2026-10-25 01:30 UTC: 02:30 CET, the later pass of Paris' 02:30 that night
    before, after = later - 7200, later + 1800  # 01:30 CEST (23:30 UTC) and 03:00 CET (02:00 UTC)
    newest_first = np.array([after, later, later, before])
    assert alarmfold.unfold(newest_first, None, None, "Europe/Paris", None)[0].tolist() \
        == [after, later, later - 3600, before]
    oldest_first = newest_first[::-1].copy()
    assert alarmfold.unfold(oldest_first, None, None, "Europe/Paris", None)[0].tolist() \
        == [before, later - 3600, later, after]
    # two series, each newest first, read one after the other: each series' own order decides
    series = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    both = np.r_[newest_first, newest_first]
    assert alarmfold.unfold(both, None, series, "Europe/Paris", None)[0].tolist() \
        == [after, later, later - 3600, before] * 2


def test_the_same_readings_stored_newest_first_give_the_same_threshold() -> None:
    import ad_duckdb

    from conftest import FAST
    said = {}
    for order in ("ASC", "DESC"):
        con = ad_duckdb.connect()
        try:
            con.execute(f"CREATE TABLE r AS SELECT * FROM ({AUTUMN}) ORDER BY i {order}")
            ad_duckdb.train(con, "p", "(SELECT * FROM r ORDER BY i)", features=["x", "y"], where="ts < '2026-10-22'",
                            **FAST)
            th = ad_duckdb.set_threshold(con, "p", "half", "alarm_rate", source="r", where="ts >= '2026-10-22'",
                                         per_hour=0.5, time="ts", timestamps_in="Europe/Paris")
            said[order] = " ".join((th.chosen_on or "").split())
        finally:
            con.close()
    assert "12 rows an hour" in said["ASC"] and "share their time" not in said["DESC"], said
    assert said["DESC"] == said["ASC"]
