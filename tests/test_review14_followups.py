"""review14: this session's labels, alarm, score and scale changes read as their users read them."""

from __future__ import annotations

from pathlib import Path

from test_alarm6_budget import WEEK2, WEEK3, _copy
from test_alarm6_budget import budget as budget  # model m on readings r (x, y) from Monday 2024-01-01

import ad_duckdb

from conftest import FAST


def test_check_threshold_chooses_again_on_the_version_it_checked(budget: str, tmp_path: Path) -> None:
    """check-threshold of m@1's threshold, where 'm' means a newer version: the command it gave to choose the
    threshold again named 'm', which stores it on the newer version and leaves m@1's cut as it was."""
    con = _copy(budget, tmp_path)
    try:
        con.execute("CREATE TABLE s AS SELECT *, 4.0 AS w FROM r WHERE i % 4 = 0")
        ad_duckdb.set_threshold(con, "m", "thirty", "alarm_rate", source="s", where=WEEK2, per_day=30, time="ts",
                                weight="w")
        ad_duckdb.train(con, "m", "r", features=["x", "y"], where="ts < '2024-01-08'", **{**FAST, "seed": 1})
        # unweighted: a quarter of the alarms, outside the promise, so the check says how to choose it again
        pinned = ad_duckdb.check_threshold(con, "m@1", "thirty", "s", where=WEEK3, weight=False)
        ad_duckdb.set_threshold(con, "m", "thirty", "alarm_rate", source="s", where=WEEK2, per_day=30, time="ts",
                                weight="w")
        bare = ad_duckdb.check_threshold(con, "m", "thirty", "s", where=WEEK3, weight=False)
    finally:
        con.close()
    assert pinned.outside, pinned.message
    assert " m@1 thirty --method alarm_rate" in pinned.message, pinned.message
    assert " m thirty " not in pinned.message, pinned.message
    # the bare name checked (its newest version): the command keeps the name as it was given
    assert bare.outside and " m thirty --method alarm_rate" in bare.message, bare.message


def test_an_outage_of_regular_readings_with_dropouts_stays_a_break() -> None:
    """Readings every 5 minutes with many short dropouts (80 in 60 days, 3 hours on average) and one 40-hour
    outage: the dropouts, read as the gaps between bursts of randomly timed events, stretched the break to 49-59
    hours, and the outage counted as time covered (its alarms a day read low). A schedule's steps, all alike
    within its runs, are not bursts of random events."""
    import numpy as np

    from ad_duckdb import alarmspan

    for seed in (0, 2):
        rng = np.random.default_rng(seed)
        t = np.arange(0, 60 * 86400, 300.0)
        keep = np.ones(len(t), bool)
        for s in rng.uniform(0, 60 * 86400, 80):
            keep &= ~((t >= s) & (t < s + rng.exponential(3 * 3600)))
        keep &= ~((t >= 30 * 86400) & (t < 30 * 86400 + 40 * 3600))
        span = alarmspan.cover(t[keep], None, "day", 86400.0)
        assert span is not None and span.breaks >= 1, (seed, span)
        assert span.covered <= 60 * 86400 - 39 * 3600, (seed, span)


def test_paired_flags_of_a_uniform_sample_expect_half() -> None:
    """compare --weight on a uniform sample (every row weight 3.3): the two cells' sampling rates differ in the last
    bits of their sums, so the test expected 0.4999999999999999 of the rows to be b's and said '0.5 of them expected
    b's if alike', as if the cells were sampled at different rates; equal rates are McNemar's 0.5."""
    import numpy as np

    from ad_duckdb import pairedflags

    said = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(100, 3000))
        fa, fb, y = rng.random(n) < 0.3, rng.random(n) < 0.3, rng.random(n) < 0.2
        for w in (3.3, 1.1, 2.7):
            t = pairedflags.test(fa, fb, np.full(n, w), y, pairedflags.ANOMALIES)
            plain = pairedflags.test(fa, fb, None, y, pairedflags.ANOMALIES)
            assert t.expected_b_share == 0.5, (seed, w, t)
            assert t.p_value == plain.p_value, (seed, w, t)
            said += "expected" in pairedflags.verdict(t, "a", "b")
    assert said == 0


def test_a_staged_retrain_names_its_version_in_the_command_choosing_a_goal_again(tmp_path: Path) -> None:
    """A retrain staged with promote=False whose carried goal's rows lack its new columns: the command to choose the
    goal again on a query of them named 'tx_ae', which still means the older version, so it stored the cut there
    and the staged version kept its training-score stand-in."""
    import warnings

    from test_lifecycleaudit_months import renamed_months

    path = tmp_path / "w.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        renamed_months(con)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "tx_ae", "month2", features=["count", "amount", "refund_count"],
                            carry_thresholds=True, promote=False, **FAST)
    finally:
        con.close()
    said = [str(w.message) for w in seen if "not chosen again on its labels" in str(w.message)]
    assert len(said) == 1, [str(w.message) for w in seen]
    assert f"ad-duckdb threshold {path} tx_ae@2 f1 --method max_f1 --source SOURCE" in said[0], said[0]
