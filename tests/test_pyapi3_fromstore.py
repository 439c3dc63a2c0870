"""``AutoEncoderDetector.from_store`` of a model whose record holds no summary of its training scores (no
``score_quantiles``): what is missing is said as it is (the imported file carried none; the stored record has none),
with the fix that works there, not "stored by an earlier release ... meanwhile predict_proba(X) (method='linear')",
which fails on such a model too."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ad_duckdb
from ad_duckdb import AutoEncoderDetector, onnxfile

from conftest import FAST

_SUMMARY = ("score_quantiles", "train_score_std", "threshold_ranks", "train_score_mean")


def _rows() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    load = rng.normal(size=600)
    return pd.DataFrame({"x": load + rng.normal(0, 0.1, 600), "y": 2 * load + rng.normal(0, 0.1, 600)})


@pytest.fixture(scope="module")
def bare_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model file whose metadata has no summary of the training scores (as a file written by another program,
    or an export from a release that stored none, has), its metadata digest intact."""
    d = tmp_path_factory.mktemp("bare")
    con = ad_duckdb.connect(str(d / "trained.duckdb"))
    try:
        df = _rows()  # noqa: F841 (read by name)
        ad_duckdb.train(con, "m", "df", **FAST)
        ad_duckdb.export_model(con, "m", d / "m.onnx")
    finally:
        con.close()
    rec = onnxfile.read_file(d / "m.onnx")
    rec.metrics = {k: v for k, v in rec.metrics.items() if k not in _SUMMARY}
    return onnxfile.write_file(rec, d / "model (1).onnx", replace=False)


def _calls(det: AutoEncoderDetector, X: pd.DataFrame) -> list[Callable[[], object]]:
    return [lambda: det.predict_proba(X), lambda: det.predict_proba(X, method="unify"),
            lambda: det.predict_confidence(X), lambda: det.predict(X, return_confidence=True)]


def test_a_model_imported_from_a_file_without_training_scores_says_so(bare_file: Path, tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(tmp_path / "deploy.duckdb"))
    try:
        ad_duckdb.import_model(con, bare_file)
        det = AutoEncoderDetector.from_store(con, "m")
    finally:
        con.close()
    X = _rows()
    assert det.predict(X).shape == (len(X),)  # scores and the stored threshold's answer still work
    for call in _calls(det, X):
        with pytest.raises(ad_duckdb.NotFittedError) as e:
            call()
        msg = str(e.value)
        assert "earlier release" not in msg
        assert "'model (1).onnx'" in msg and "carried no summary of its training scores" in msg, msg
        # the fix: a file that carries them, or a retrain; not predict_proba's 'linear', which needs them too
        assert "export_model" in msg and "import_model" in msg and "ad_duckdb.train" in msg, msg
        assert "method='linear'" not in msg, msg
        assert re.search(r"meanwhile decision_function\(X\) gives the scores and predict\(X\)", msg), msg


def test_a_stored_model_without_training_scores_says_so(bare_file: Path, tmp_path: Path) -> None:
    """The same record stored in the database it was trained in (its summary removed by hand, or by a tool of the
    user's): not an import, not an earlier release; train it again."""
    path = str(tmp_path / "own.duckdb")
    con = ad_duckdb.connect(path)
    try:
        ad_duckdb.import_model(con, bare_file)
        con.execute("UPDATE ad_models SET source = 't'")
        det = AutoEncoderDetector.from_store(con, "m")
    finally:
        con.close()
    for call in _calls(det, _rows()):
        with pytest.raises(ad_duckdb.NotFittedError) as e:
            call()
        msg = str(e.value)
        assert "earlier release" not in msg and "method='linear'" not in msg, msg
        assert "from_store('m@1'), a model stored without a summary of its training scores" in msg, msg
        assert "ad_duckdb.train" in msg, msg
