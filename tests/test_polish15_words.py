"""Messages that still named both surfaces, or the other one (polish15): each says what its reader can run."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import psycopg
import pytest
import test_msgs2_words
from click.testing import CliRunner
from test_msgs2_words import _cli, _python
from test_msgs3_words import with_own_p99

import ad_duckdb
from ad_duckdb import store, storeload
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBWarning
from ad_duckdb.fromstore import training_scores_note

import test_server
from conftest import FAST

db = test_msgs2_words.db  # model m (two versions) on t (x, y, lab)

MOVED = "SELECT x + 1000 AS x, y FROM t"  # every row's x far above its training range


def test_a_detectors_missing_training_scores_note_says_pythons_calls_only(db: str) -> None:
    # Before: "(ad_duckdb.train(...) or ad-duckdb train, ...)" and "(ad_duckdb.export_model, or ad-duckdb export)"
    # to a notebook's AutoEncoderDetector, a Python object.
    con = ad_duckdb.connect(db)
    try:
        rec = storeload.load(con, "m")
    finally:
        con.close()
    for summary in (True, False):
        text = training_scores_note(rec, "predict_proba(X, method='unify')", "their ranks", summary=summary)
        assert "ad_duckdb.train(" in text and "ad-duckdb" not in text, text
    imported = store.ModelRecord(**{**rec.__dict__, "source": "imported from m.onnx (m@1; t)"})
    text = training_scores_note(imported, "predict_proba(X, method='unify')", "their ranks", summary=False)
    assert "ad_duckdb.export_model" in text and "ad-duckdb" not in text, text


def test_a_number_as_scores_threshold_gets_the_hint_in_the_callers_words(db: str) -> None:
    # Before: from the command line, --threshold 0.02 said to store a threshold named '0.02' at the 0.995 quantile;
    # the hint to store a contamination share (said from Python) named set_threshold.
    py = _python(db, "ad_duckdb.score(con, 'm', 't', threshold=0.02)")
    assert "ad_duckdb.set_threshold(con, 'm', 'c2', 'contamination', target=0.02)" in py, py
    assert "then threshold='c2'" in py and "ad-duckdb" not in py and "--" not in py, py
    cmd = _cli("score", db, "m", "t", "--threshold", "0.02")
    assert f"ad-duckdb threshold {db} m c2 --method contamination --target 0.02" in cmd, cmd
    assert "then --threshold c2" in cmd and "set_threshold" not in cmd and "threshold=" not in cmd, cmd


def _drift_notes(caught: list[warnings.WarningMessage]) -> str:
    return " ".join(" ".join(str(w.message).split()) for w in caught if "moved away" in str(w.message))


def test_the_drift_notes_retrain_advice_in_the_callers_words(db: str) -> None:
    # Before: "(ad-duckdb train ... --where, or where= in Python)" from Python, dbt and the command line alike.
    con = ad_duckdb.connect(db)
    try:
        for run in (lambda: ad_duckdb.score(con, "m", MOVED),
                    lambda: con.execute(f"SELECT max(anomaly_score('m', x, y)) FROM ({MOVED})").fetchall()):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", AdDuckDBWarning)
                run()
            py = _drift_notes(caught)
            assert "ad_duckdb.train(..., where=...)" in py and "ad-duckdb" not in py and "--where" not in py, py
    finally:
        con.close()
    for args in (["score", db, "m", MOVED], ["sql", db, f"SELECT max(anomaly_score('m', x, y)) FROM ({MOVED})"]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
        out = " ".join(res.output.split())
        assert "moved away" in out and "ad-duckdb train ... --where" in out, out
        assert "where=" not in out and "in Python" not in out, out


def test_a_staged_retrains_not_carried_note_says_what_flags_by_the_new_cut(tmp_path: Path) -> None:
    # Before: "is_anomaly_at('m', 'p99', ...) now flags by the training scores of m@2", though a staged retrain
    # leaves 'm' meaning m@1: the version's calls do, and the name's once m@2 is promoted.
    con = with_own_p99(str(tmp_path / "r.duckdb"))
    try:
        said = []
        for promote, seed in ((False, 1), (True, 2)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", AdDuckDBWarning)
                ad_duckdb.train(con, "m", "t", features=["x", "y"], carry_thresholds=True, promote=promote,
                                seed=seed, **FAST)
            said.append(" ".join(" ".join(str(w.message).split()) for w in caught if "not carried" in str(w.message)))
    finally:
        con.close()
    staged, promoted = said
    assert "is_anomaly_at('m@2', 'p99', ...) now flags by the training scores of m@2" in staged, staged
    assert "is_anomaly_at('m', 'p99', ...) once m@2 is promoted" in staged, staged
    assert "is_anomaly_at('m', 'p99', ...) now flags by the training scores of m@3" in promoted, promoted


def test_serves_missing_threshold_says_how_a_retrain_keeps_them_beside_this_server(db: str, tmp_path: Path) -> None:
    # Before: "train with --carry-thresholds", a flag of a command that cannot write the file this server holds.
    for mode in ((), ("--snapshot",)):
        copy = str(tmp_path / f"s{len(mode)}.duckdb")
        shutil.copy(db, copy)
        with test_server.serve(copy, *mode) as s, psycopg.connect(s.url()) as conn:
            with pytest.raises(psycopg.Error) as e:
                conn.execute("SELECT anomaly_threshold('m', 'mine')").fetchall()
        msg = " ".join(str(e.value.diag.message_primary).split())
        assert "carry_thresholds=True (ad_duckdb.train)" in msg and "--carry-thresholds (ad-duckdb train)" in msg, msg
        if mode:
            assert f"then SIGHUP (kill -HUP {s.proc.pid})" in msg, msg
        else:
            assert f"stop it (kill {s.proc.pid})" in msg and "or serve with --snapshot" in msg, msg
