"""Stored thresholds in operation (ops7): a hand-set cut carried by retrains, restored and imported cuts' times and
log entries, score-only calls on a store whose thresholds block is damaged, and serve's fix for a missing one."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from test_hardaudit_damage import _byte_changed
from test_ops4_ops import _cli, days_db  # noqa: F401  (the fixture, used by name)

import ad_duckdb

from conftest import FAST


def _table(con: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(7)
    n = 800
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS a, unnest(?) AS b",
                [rng.normal(size=n).tolist(), rng.normal(size=n).tolist()])


def _hand_cut(con: duckdb.DuckDBPyConnection) -> float:
    """Model 'm' on table t, with 'cut' typed in where about 5% of its training rows score above it."""
    _table(con)
    ad_duckdb.train(con, "m", "t", features=["a", "b"], **FAST)
    cut = float(np.quantile(ad_duckdb.load_model(con, "m").metrics["score_quantiles"], 0.95))
    ad_duckdb.set_threshold(con, "m", "cut", "manual", value=cut)
    return cut


def test_a_hand_set_cut_stays_manual_through_retrains_and_names_its_hand_value() -> None:
    # Before: the first retrain stored it with method 'quantile', and the second's chosen_on said
    # "carried from m@2 (quantile, ...)": nothing left said the cut was set by hand, or to what.
    con = ad_duckdb.connect()
    try:
        cut = _hand_cut(con)
        for seed in (1, 2):
            ad_duckdb.train(con, "m", "t", features=["a", "b"], seed=seed, carry_thresholds=True, **FAST)
        got = ad_duckdb.load_model(con, "m@3").threshold("cut")
        assert got is not None and got.method == "manual", got
        assert (got.chosen_on or "").startswith("carried from m@2 (manual, "), got.chosen_on
        assert f"set by hand on m@1 as {cut:.6g}" in (got.chosen_on or ""), got.chosen_on
        # still moved to the same point (about 5% of training rows above it), not copied
        assert got.flagged_share is not None and abs(got.flagged_share - 0.05) < 0.01, got
    finally:
        con.close()


def test_restored_cuts_keep_the_time_they_were_set_and_imported_cuts_are_logged_with_their_file(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # Before: restore-thresholds stored a logged cut with the time of the restore (show and the .onnx file's
    # threshold_times then said it was set today), and a cut that came in an imported file left no log entry, so
    # restore-thresholds could not store it again and history did not say where it came from.
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    onnx = tmp_path / "ev.onnx"
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.set_threshold(con, "ev", "cut", "manual", value=7.5)
        set_at = con.execute("SELECT created_at FROM ad_thresholds WHERE threshold_name = 'cut'").fetchall()[0][0]
        ad_duckdb.export_model(con, "ev", str(onnx))
    other = tmp_path / "o.duckdb"
    with ad_duckdb.connect(str(other)) as con:
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(db)])
        con.execute("CREATE TABLE events AS FROM src.events")
        con.execute("DETACH src")
        ad_duckdb.import_model(con, str(onnx))
        events = ad_duckdb.model_history(con, "ev")["versions"][0]["events"]
    assert [e["event"] for e in events] == ["imported", "threshold set"], events
    assert events[1]["threshold"] == {"name": "cut", "value": 7.5, "method": "manual", "imported_from": "ev.onnx"}
    hist = _cli("history", str(other), "ev")
    assert hist.returncode == 0 and "threshold 'cut' set to 7.5 (manual), imported from ev.onnx" in hist.stdout, hist
    for path in (db, other):
        _byte_changed(path, "ad_thresholds", "value")
        fixed = _cli("restore-thresholds", str(path))
        assert fixed.returncode == 0 and "'cut' of ev@1 stored again as last set" in fixed.stdout, fixed
        with duckdb.connect(str(path), read_only=True) as con:
            got = con.execute("SELECT value, method, created_at FROM ad_thresholds WHERE threshold_name = 'cut'"
                              ).fetchall()
        assert got == [(7.5, "manual", set_at)], (path, got, set_at)


def test_a_damaged_thresholds_block_stops_only_the_calls_that_need_a_threshold(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # Before: anomaly_score, which reads no threshold, failed with "Cannot read the thresholds stored in ..." as
    # is_anomaly did, so every dashboard and job stopped until restore-thresholds ran.
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    with ad_duckdb.connect(str(db), read_only=True) as con:
        good = con.execute("SELECT anomaly_score('ev', count, amount), anomaly_percentile('ev', count, amount) "
                           "FROM events ORDER BY order_ref").fetchall()
    _byte_changed(db, "ad_thresholds", "value")
    before = db.read_bytes()
    with ad_duckdb.connect(str(db), read_only=True) as con:
        now = con.execute("SELECT anomaly_score('ev', count, amount), anomaly_percentile('ev', count, amount) "
                          "FROM events ORDER BY order_ref").fetchall()
        assert now == good
        explained = con.execute("SELECT anomaly_explain('ev', count, amount) FROM events LIMIT 2").fetchall()
        assert len(explained) == 2 and all(e[0] for e in explained), explained
        for call in ("is_anomaly('ev', count, amount)", "is_anomaly_at('ev', 'p99', count, amount)"):
            with pytest.raises(duckdb.Error, match=r"Cannot read the thresholds stored in .*restore-thresholds"):
                con.execute(f"SELECT {call} FROM events").fetchall()
    sql = _cli("sql", str(db), "SELECT round(max(anomaly_score('ev', count, amount)), 6) FROM events")
    assert sql.returncode == 0 and sql.stdout.split()[-1] == f"{max(s for s, _ in good):.6f}".rstrip("0"), sql
    flagged = _cli("sql", str(db), "SELECT count(*) FROM events WHERE is_anomaly('ev', count, amount)")
    assert flagged.returncode != 0 and f"ad-duckdb restore-thresholds {db}" in flagged.stderr, flagged
    assert "Traceback" not in flagged.stderr
    assert db.read_bytes() == before


def test_check_threshold_judges_a_carried_hand_cut_by_the_share_it_was_moved_to_keep() -> None:
    # A carried cut was a 'quantile', which check-threshold judges by the share of training rows it flags; kept as
    # 'manual' (above) it would lose that verdict, and a nightly `check-threshold --fail-outside` its alarm.
    from ad_duckdb.thresholdcheck import check_threshold

    con = ad_duckdb.connect()
    try:
        _hand_cut(con)
        hand = check_threshold(con, "m", "cut", "t")
        # a cut typed in: judged by the share of training rows it flags, here on those rows
        assert hand.outside is False and "keeps its promise" in hand.message, hand.message
        ad_duckdb.train(con, "m", "t", features=["a", "b"], seed=1, carry_thresholds=True, **FAST)
        moved = check_threshold(con, "m", "cut", "t")
        assert moved.method == "manual" and moved.outside is False, moved.message
        assert "keeps its promise" in moved.message, moved.message
        con.execute("CREATE TABLE t2 AS SELECT a * 3 AS a, b * 3 AS b FROM t")  # drifted: far more rows flagged
        drifted = check_threshold(con, "m", "cut", "t2")
        assert drifted.outside is True, drifted.message
    finally:
        con.close()


def test_a_command_s_missing_threshold_says_nothing_of_open_transactions(days_db: Path) -> None:  # noqa: F811
    # Before: a nightly `score --into --threshold NAME` whose threshold was missing ended its error with "One written
    # by SQL in an open transaction (BEGIN without COMMIT) is seen here once committed ...", which a command's own
    # connection never meets (no other process can write the file meanwhile), sending on-call looking for one.
    res = _cli("score", str(days_db), "ev", "events", "--top", "3", "--threshold", "nightly_cut")
    assert res.returncode == 5 and "has no threshold 'nightly_cut'" in res.stderr, res
    assert "ad-duckdb threshold" in res.stderr and "open transaction" not in res.stderr, res.stderr
