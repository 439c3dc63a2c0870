"""The Python API on a model stored only in a database file the connection ATTACHes: the error names that file and
how to reach the model (connect to it, or copy the model over), as the CLI's does, not only "known models: none
yet"; the copy it describes then scores."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import ad_duckdb
from ad_duckdb import AutoEncoderDetector

from conftest import FAST


def stored(path: Path, name: str) -> Path:
    """A database at ``path`` with a table t (x, y) and a model ``name`` trained on it."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300)})  # noqa: F841 (read by name)
    con = ad_duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE t AS SELECT * FROM df")
        ad_duckdb.train(con, name, "t", **FAST)
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored(tmp_path_factory.mktemp("lake") / "lake.duckdb", "lake_ae")


def _calls(tmp: Path) -> dict[str, Callable[[duckdb.DuckDBPyConnection], object]]:
    return {
        "score": lambda con: ad_duckdb.score(con, "lake_ae", "lake.t"),
        "evaluate": lambda con: ad_duckdb.evaluate(con, "lake_ae", "SELECT *, x > 2 AS l FROM lake.t", label="l"),
        "set_threshold": lambda con: ad_duckdb.set_threshold(con, "lake_ae", "c", "contamination", target=0.1),
        "load_model": lambda con: ad_duckdb.load_model(con, "lake_ae@1"),
        "from_store": lambda con: AutoEncoderDetector.from_store(con, "lake_ae"),
        "export_model": lambda con: ad_duckdb.export_model(con, "lake_ae", tmp / "x.onnx"),
    }


def test_the_python_api_names_the_attached_file_holding_the_model(lake: Path, tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(tmp_path / "models.duckdb"))
    try:
        con.execute(f"ATTACH '{lake}' AS lake (READ_ONLY)")
        for what, call in _calls(tmp_path).items():
            with pytest.raises(ad_duckdb.ModelNotFoundError) as e:
                call(con)
            msg = str(e.value)
            assert f"'lake_ae' is stored in the attached database 'lake' ({os.path.abspath(lake)})" in msg, (what, msg)
            assert f"ad_duckdb.connect({str(os.path.abspath(lake))!r})" in msg, (what, msg)
            assert "ad_duckdb.export_model(" in msg and "ad_duckdb.import_model(con, " in msg, (what, msg)
            assert "(that file)" not in msg, (what, msg)  # the file is named instead
    finally:
        con.close()


def test_the_copy_the_error_describes_scores(lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    con = ad_duckdb.connect("models.duckdb")
    try:
        con.execute(f"ATTACH '{lake}' AS lake (READ_ONLY)")
        with pytest.raises(ad_duckdb.ModelNotFoundError) as e:
            ad_duckdb.score(con, "lake_ae", "lake.t")
        copy = str(e.value).split("copy it into this database: ")[1].split("; then ")[0]
        exec(copy, {"ad_duckdb": ad_duckdb})  # the model file, written from the attached database
        ad_duckdb.import_model(con, "lake_ae.onnx")
        assert ad_duckdb.score(con, "lake_ae", "lake.t").num_rows == 300
    finally:
        con.close()


def test_no_file_is_named_for_a_model_no_attached_file_holds(lake: Path, tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(tmp_path / "models.duckdb"))
    try:
        con.execute(f"ATTACH '{lake}' AS lake (READ_ONLY)")
        with pytest.raises(ad_duckdb.ModelNotFoundError) as e:
            ad_duckdb.score(con, "other_ae", "lake.t")
    finally:
        con.close()
    assert "is stored in the attached database" not in str(e.value), str(e.value)


def test_a_query_of_the_users_own_names_the_attached_file(lake: Path, tmp_path: Path) -> None:
    """The functions in a query of the user's own (con.sql): the file is attached after connect(), and named at the
    miss, through the connection that registered."""
    con = ad_duckdb.connect(str(tmp_path / "models.duckdb"))
    try:
        con.execute(f"ATTACH '{lake}' AS lake (READ_ONLY)")
        with pytest.raises(duckdb.Error) as e:
            con.sql("SELECT anomaly_score('lake_ae', x, y) FROM lake.t").fetchall()
    finally:
        con.close()
    msg = str(e.value)
    assert f"'lake_ae' is stored in the attached database 'lake' ({os.path.abspath(lake)})" in msg, msg
    assert "(that file)" not in msg, msg
