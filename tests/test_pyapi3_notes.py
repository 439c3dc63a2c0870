"""Every note (``AdDuckDBWarning``) a public call raises points at the user's line, the call in this file, whatever
the path inside the library that reached it: a notebook shows the note under the cell line that caused it, and
``-W``/``filterwarnings`` by module match the user's module."""

from __future__ import annotations

import _thread
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from test_drift import _pump

import ad_duckdb
from ad_duckdb import notes
from ad_duckdb.exceptions import AdDuckDBWarning

from conftest import FAST


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file with m@1 and m@2 (flow, pressure, temperature) trained on t's normal rows, k@1 (flow, pressure) and
    k@2 (all three); tables t (3% of its rows' pressure pushed off, label 1), moved (flow far from training) and
    fresh (300 other normal rows)."""
    path = str(tmp_path_factory.mktemp("notes") / "notes.duckdb")
    con = ad_duckdb.connect(path)
    try:
        _pump(con, "t", 2000, seed=0, planted=0.03)
        _pump(con, "moved", 1000, seed=1, flow=32.0)
        _pump(con, "fresh", 300, seed=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AdDuckDBWarning)
            for name, seed in (("m", 0), ("m", 1)):
                ad_duckdb.train(con, name, "t", features=["flow", "pressure", "temperature"], where="label = 0", seed=seed, **FAST)
            ad_duckdb.train(con, "k", "t", features=["flow", "pressure"], where="label = 0", **FAST)
            ad_duckdb.train(con, "k", "t", features=["flow", "pressure", "temperature"], where="label = 0", **FAST)
    finally:
        con.close()
    return path


@pytest.fixture
def con(stored: str, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copy(stored, tmp_path / "copy.duckdb")
    c = ad_duckdb.connect(str(tmp_path / "copy.duckdb"))
    yield c
    c.close()


def _quiet(call: Callable[[], object]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AdDuckDBWarning)
        call()


def _train_few_rows(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.train(con, "few", "SELECT * FROM t WHERE label = 0 LIMIT 40", features=["flow", "pressure", "temperature"], **FAST)


def _train_other_features(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.train(con, "m", "t", features=["flow", "pressure"], where="label = 0", **FAST)  # storesave.save's before_insert


def _train_carried_alarm_rate(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    _quiet(lambda: ad_duckdb.set_threshold(con, "m", "alarms", "alarm_rate", source="fresh", rate=0.01))
    # chosen again on the same rows for the new version (choose_goals_again), where the stretch is still short
    ad_duckdb.train(con, "m", "t", features=["flow", "pressure", "temperature"], where="label = 0", carry_thresholds=True, **FAST)


def _train_carried_goal_on_inverted_labels(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE inverted AS SELECT *, 1 - label AS ok FROM t")
    _quiet(lambda: ad_duckdb.set_threshold(con, "m", "f1", "max_f1", source="inverted", label="ok"))
    ad_duckdb.train(con, "m", "t", features=["flow", "pressure", "temperature"], where="label = 0", carry_thresholds=True, **FAST)


def _train_carried_goal_source_gone(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE labelled AS SELECT * FROM t")
    ad_duckdb.set_threshold(con, "m", "f1", "max_f1", source="labelled", label="label")
    con.execute("DROP TABLE labelled")
    ad_duckdb.train(con, "m", "t", features=["flow", "pressure", "temperature"], where="label = 0", carry_thresholds=True, **FAST)


def _train_default_features(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE wide AS SELECT row_number() OVER () AS reading_id, flow, pressure, temperature, 'x' AS site FROM t "
                "WHERE label = 0")
    ad_duckdb.train(con, "d", "wide", **FAST)


def _score_moved(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.score(con, "m", "moved")


def _score_into(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.score(con, "m", "moved", into="moved_scores")


def _evaluate_shadowed_frame(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    t = con.sql("SELECT * FROM t").df()  # noqa: F841 (read by name: a table t exists too, which is read)
    ad_duckdb.evaluate(con, "m", "t", label="label")


def _set_default_by_hand(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.set_threshold(con, "m", "default", "manual", value=1.0)


def _set_alarm_rate_short_stretch(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.set_threshold(con, "m", "alarms", "alarm_rate", source="fresh", rate=0.01)


def _set_on_inverted_labels(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.set_threshold(con, "m", "f1", "max_f1", source="SELECT *, 1 - label AS ok FROM t", label="ok")


def _compare_on_inverted_labels(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.compare_versions(con, "m@1", "m@2", "SELECT *, 1 - label AS ok FROM t", label="ok")


def _drop_latest_of_other_features(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.drop_model(con, "k@2")


def _import_same_model(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.export_model(con, "m", tmp_path / "m.onnx")
    ad_duckdb.import_model(con, tmp_path / "m.onnx")


def _frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.sql("SELECT flow, pressure, temperature, label FROM t LIMIT 500").df()


def _fit_on_label(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.AutoEncoderDetector(epochs=1, max_steps=20).fit(_frame(con))


def _predict_named_after_array(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    X = _frame(con)[["flow", "pressure", "temperature"]]
    det = ad_duckdb.AutoEncoderDetector(epochs=1, max_steps=20).fit(X.to_numpy())
    det.predict(X)


CALLS = [_train_few_rows, _train_other_features, _train_carried_alarm_rate,
         _train_carried_goal_on_inverted_labels, _train_carried_goal_source_gone, _train_default_features, _score_moved, _score_into,
         _evaluate_shadowed_frame, _set_default_by_hand, _set_alarm_rate_short_stretch, _set_on_inverted_labels,
         _compare_on_inverted_labels, _drop_latest_of_other_features, _import_same_model, _fit_on_label,
         _predict_named_after_array]


@pytest.mark.parametrize("call", CALLS, ids=[c.__name__.strip("_") for c in CALLS])
def test_a_note_points_at_the_users_line(call: Callable[[duckdb.DuckDBPyConnection, Path], None],
                                         con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        call(con, tmp_path)
    said = [w for w in seen if issubclass(w.category, AdDuckDBWarning)]
    assert said, [str(w.message) for w in seen]  # the call does raise a note
    assert [(w.filename, str(w.message)[:60]) for w in said] == [(__file__, str(w.message)[:60]) for w in said]


# the library's code on a thread of its own: a module of the package (by name) with nothing of the caller's below it
_PROBE = """
def probe(seen, done):
    try:
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            notes.warn("a note")
        seen.extend(got)
    finally:
        done.set()
"""


def test_a_note_raised_where_every_frame_is_ours_names_no_line() -> None:
    """On a thread whose every Python frame is the library's (one C code started, as DuckDB runs a function), the
    note names no line (notes.NO_CALLER): not file "sys", line 1, where a stacklevel past the stack's end puts it, nor
    the outermost frame, a line of the library (udfs.py) with its source under it, read as the library's fault."""
    seen: list[warnings.WarningMessage] = []
    done = threading.Event()
    scope = {"__name__": "ad_duckdb._probe", "notes": notes, "warnings": warnings}
    exec(compile(_PROBE, "<ad_duckdb probe>", "exec"), scope)
    _thread.start_new_thread(scope["probe"], (seen, done))
    assert done.wait(60)
    assert [(w.filename, w.lineno) for w in seen] == [(notes.NO_CALLER, 0)]
