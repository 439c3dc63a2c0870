"""Hand-set thresholds (set by value, quantile or contamination) leave a changelog entry in ad_model_log, so that
``ad-duckdb restore-thresholds`` stores them again after the block holding ad_thresholds was damaged."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from test_hardaudit_damage import _byte_changed
from test_ops4_ops import _cli, days_db  # noqa: F401  (the fixture, used by name)

import ad_duckdb

from conftest import FAST


def _copy(days_db: Path, tmp_path: Path) -> Path:  # noqa: F811
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    return db


def _stored(db: Path) -> dict[tuple[str, int, str], tuple[float, str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT model, version, threshold_name, value, method, chosen_on FROM ad_thresholds").fetchall()
    return {(m, v, n): (val, how, on) for m, v, n, val, how, on in rows}


def test_cuts_set_by_hand_are_stored_again_by_restore_thresholds_latest_wins(
        days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # Before: set_threshold wrote nothing to ad_model_log, so restore-thresholds could only say "set them again".
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.set_threshold(con, "ev", "cut", "manual", value=7.5)
        ad_duckdb.set_threshold(con, "ev", "qc", "quantile", target=0.9)
        ad_duckdb.set_threshold(con, "ev", "cut", "manual", value=12.0)  # replaced: the latest entry wins
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="replaces the stored one"):  # a training one, set by hand
            ad_duckdb.set_threshold(con, "ev", "default", "contamination", target=0.05)
    good = _stored(db)
    assert good[("ev", 1, "cut")][:2] == (12.0, "manual")
    _byte_changed(db, "ad_thresholds", "value")
    fixed = _cli("restore-thresholds", str(db))
    assert fixed.returncode == 0, fixed
    out = fixed.stdout
    assert "'cut', 'default', 'qc' of ev@1 stored again as last set" in out, out
    assert "cannot be named here" not in out and "a cut of your own set before 20" in out, out
    now = _stored(db)
    assert set(now) == set(good), (now, good)
    for key, (val, how, on) in good.items():
        assert now[key][1] == how and now[key][2] == on and now[key][0] == pytest.approx(val, rel=1e-9), (key, now)
    scored = _cli("score", str(db), "ev", "events", "--top", "3", "--format", "csv")
    assert scored.returncode == 0 and len(scored.stdout.splitlines()) == 4, scored
    # history names each cut set, with its value
    hist = _cli("history", str(db), "ev")
    assert hist.returncode == 0, hist
    assert "threshold 'cut' set to 7.5 (manual) by" in hist.stdout, hist.stdout
    assert "threshold 'cut' set to 12 (manual) by" in hist.stdout, hist.stdout
    assert "threshold 'qc' set to" in hist.stdout and "(quantile) by" in hist.stdout, hist.stdout
    with ad_duckdb.connect(str(db), read_only=True) as con:
        events = ad_duckdb.model_history(con, "ev")["versions"][0]["events"]
    assert [e["event"] for e in events] == ["trained", *["threshold set"] * 4], events
    assert events[3]["threshold"] == {"name": "cut", "value": 12.0, "method": "manual"}, events[3]


def test_a_file_without_the_changelog_entries_restores_as_before(days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # An older file: its hand-set cut left no entry, so restore stores the training thresholds and says to set it again
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.set_threshold(con, "ev", "cut", "manual", value=7.5)
        con.execute("DELETE FROM ad_model_log WHERE event = 'threshold set'")
    _byte_changed(db, "ad_thresholds", "value")
    fixed = _cli("restore-thresholds", str(db))
    assert fixed.returncode == 0, fixed
    assert "thresholds of your own set by value" in fixed.stdout, fixed.stdout
    assert set(_stored(db)) == {("ev", 1, n) for n in ("default", "p90", "p95", "p99", "p999")}


def _two_versions_with_cuts(days_db: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A copy of days_db with ev@1 holding cut 'cut' and ev@2 (a retrain) holding 'cut2'."""
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.set_threshold(con, "ev", "cut", "manual", value=7.5)
        ad_duckdb.train(con, "ev", "events", features=["count", "amount"], **FAST)
        ad_duckdb.set_threshold(con, "ev@2", "cut2", "manual", value=9.0)
    return db


def test_a_dropped_version_s_cuts_stay_dropped(days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    db = _two_versions_with_cuts(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.drop_model(con, "ev@1")
    _byte_changed(db, "ad_thresholds", "value")
    fixed = _cli("restore-thresholds", str(db))
    assert fixed.returncode == 0, fixed
    keys = set(_stored(db))
    assert ("ev", 2, "cut2") in keys and not any(v == 1 for _m, v, _n in keys), keys


def test_restore_on_a_file_with_no_thresholds_table_says_so(tmp_path: Path) -> None:
    db = tmp_path / "plain.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    res = _cli("restore-thresholds", str(db))
    assert res.returncode == 0, res
    said = res.stdout + res.stderr
    assert "the thresholds stored" not in said and "read." not in said, said
    assert "stores no model" in said, said


def test_thresholds_deleted_by_hand_are_stored_again_and_only_those(days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # Before: rows deleted from a readable ad_thresholds got "nothing to restore: the thresholds ... read", while
    # every command said the version has no threshold 'default'
    db = _two_versions_with_cuts(days_db, tmp_path)
    good = _stored(db)
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM ad_thresholds WHERE version = 1")
        con.execute("DELETE FROM ad_thresholds WHERE version = 2 AND threshold_name IN ('p95', 'cut2')")
        con.execute("UPDATE ad_thresholds SET value = 42 WHERE version = 2 AND threshold_name = 'default'")
    lost = _cli("score", str(db), "ev@1", "events", "--top", "3")
    assert lost.returncode != 0 and f"restore-thresholds {db}" in lost.stderr, lost
    fixed = _cli("restore-thresholds", str(db))
    assert fixed.returncode == 0, fixed
    assert "ev@1: default, p90, p95, p99, p999 stored again" in fixed.stdout, fixed.stdout
    assert "ev@2: p95 stored again" in fixed.stdout and "'cut2' of ev@2 stored again" in fixed.stdout, fixed.stdout
    assert "'cut' of ev@1 stored again" in fixed.stdout and "damaged" not in fixed.stdout, fixed.stdout
    now = _stored(db)
    assert set(now) == set(good), (now, good)
    assert now[("ev", 2, "default")][0] == 42  # a row that is there is not touched
    for key in set(good) - {("ev", 2, "default")}:
        assert now[key][0] == pytest.approx(good[key][0], rel=1e-6) and now[key][1] == good[key][1], (key, now)
    assert _cli("score", str(db), "ev@1", "events", "--top", "3").returncode == 0
    again = _cli("restore-thresholds", str(db))
    assert again.returncode == 0 and "nothing to restore" in again.stdout, again
    assert set(_stored(db)) == set(good)


def test_a_dropped_thresholds_table_is_made_again(days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.set_threshold(con, "ev", "cut", "manual", value=7.5)
    good = _stored(db)
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE ad_thresholds")
    listed = _cli("list", str(db))
    assert listed.returncode != 0 and "restore-thresholds" in listed.stderr, listed
    fixed = _cli("restore-thresholds", str(db))
    assert fixed.returncode == 0 and "was missing" in fixed.stdout, fixed
    assert set(_stored(db)) == set(good)
    assert _cli("list", str(db)).returncode == 0


def test_a_cut_carried_by_a_retrain_is_stored_again_on_the_new_version(days_db: Path, tmp_path: Path) -> None:  # noqa: F811
    # A retrain with carry_thresholds wrote the carried cut with the model, not through set_threshold: without an
    # entry, restore lost it on the new version
    db = _copy(days_db, tmp_path)
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.set_threshold(con, "ev", "cut", "manual", value=7.5)
        ad_duckdb.train(con, "ev", "events", features=["count", "amount"], carry_thresholds=True, **FAST)
    good = _stored(db)
    assert ("ev", 2, "cut") in good, good
    _byte_changed(db, "ad_thresholds", "value")
    fixed = _cli("restore-thresholds", str(db))
    assert fixed.returncode == 0 and "'cut' of ev@2 stored again as last set" in fixed.stdout, fixed
    now = _stored(db)
    assert set(now) == set(good) and now[("ev", 2, "cut")] == good[("ev", 2, "cut")], (now, good)
    with ad_duckdb.connect(str(db), read_only=True) as con:
        events = ad_duckdb.model_history(con, "ev")["versions"][1]["events"]
    assert [e["event"] for e in events] == ["trained", "threshold set"], events
