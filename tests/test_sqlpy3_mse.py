"""``score``'s opt-in ``anomaly_mse`` column (Python ``mse=True``, CLI ``--mse``): BigQuery ML's ``ML.DETECT_ANOMALIES``
gives ``mean_squared_error`` beside ``is_anomaly``, and users migrating looked for it on the scored rows; only the SQL
function ``anomaly_mse`` had it. The column holds the same values as that function, on every path that scores a
table (returned rows, ``into=``, ``append=``, the CLI's ``--into`` and ``--top``)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import BadInputError

from conftest import FAST


def _db(tmp_path: Path) -> str:
    rng = np.random.default_rng(1)
    load = rng.normal(size=600)
    df = pd.DataFrame({"id": np.arange(600), "x": load + rng.normal(0, 0.1, 600),  # noqa: F841 (read by name)
                       "y": 2 * load + rng.normal(0, 0.1, 600)})
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT * FROM df")
        con.execute("INSERT INTO t VALUES (600, 1.0, -2.0), (601, NULL, 0.5)")  # against the relation; a NULL
        ad_duckdb.train(con, "m", "t", features=["x", "y"], **FAST)
    finally:
        con.close()
    return path


def _sql_mse(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    return np.array([r[0] for r in con.execute("SELECT anomaly_mse('m', x, y) FROM t ORDER BY id").fetchall()])


def test_score_writes_the_mse_column_the_sql_function_gives(tmp_path: Path) -> None:
    con = ad_duckdb.connect(_db(tmp_path))
    try:
        want = _sql_mse(con)
        plain = ad_duckdb.score(con, "m", "t")
        got = ad_duckdb.score(con, "m", "t", mse=True)
        only = ad_duckdb.score(con, "m", "t", outputs=["anomaly_score", "anomaly_mse"], columns=["id"])
        n = ad_duckdb.score(con, "m", "SELECT * FROM t WHERE id < 300", into="s", mse=True, columns=["id"])
        added = ad_duckdb.score(con, "m", "SELECT * FROM t WHERE id >= 300", into="s", mse=True, columns=["id"],
                                append=True)
        written = con.execute("SELECT anomaly_mse FROM s ORDER BY id").fetchall()
        typ = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 's'").fetchall())
        with pytest.raises(BadInputError, match=r"mse=True, as the table was scored"):  # the table was written with it
            ad_duckdb.score(con, "m", "SELECT * FROM t WHERE id > 1000", into="s", columns=["id"], append=True)
        # re-scoring the scored table replaces its earlier anomaly_mse (never written twice, never kept as the user's)
        ad_duckdb.score(con, "m", "t", into="full", mse=True)
        again = ad_duckdb.score(con, "m", "full", mse=True)
        without = ad_duckdb.score(con, "m", "full")
    finally:
        con.close()
    assert "anomaly_mse" not in plain.column_names  # opt-in: the default columns are as they were
    assert got.column_names[-4:] == ["anomaly_score", "anomaly_percentile", "is_anomaly", "anomaly_mse"]
    np.testing.assert_allclose(got.column("anomaly_mse").to_numpy(), want, rtol=1e-6)
    assert only.column_names == ["id", "anomaly_score", "anomaly_mse"]
    np.testing.assert_allclose(only.column("anomaly_mse").to_numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(got.column("anomaly_score").to_numpy(), plain.column("anomaly_score").to_numpy(),
                               rtol=1e-12)  # the scores themselves unchanged by asking for it
    assert (n, added) == (300, 302)
    np.testing.assert_allclose([r[0] for r in written], want, rtol=1e-6)
    assert typ["anomaly_mse"] == "DOUBLE"
    assert again.column_names.count("anomaly_mse") == 1 and "anomaly_mse" not in without.column_names
    # a typical row about 1; the row against the columns' relation far above; the NULL row scored at its fill
    assert 0.3 < float(np.median(want[:600])) < 3 and want[600] > 20 * np.median(want[:600]) and np.isfinite(want[601])


def test_the_cli_writes_and_prints_the_mse_column(tmp_path: Path) -> None:
    db = _db(tmp_path)
    res = CliRunner().invoke(cli, ["score", db, "m", "t", "--into", "s", "--mse", "-c", "id", "--quiet"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    top = CliRunner().invoke(cli, ["score", db, "m", "t", "--mse", "--top", "3", "--format", "json"],
                             catch_exceptions=False)
    assert top.exit_code == 0, top.output
    con = ad_duckdb.connect(db, read_only=True)
    try:
        want = _sql_mse(con)
        written = [r[0] for r in con.execute("SELECT anomaly_mse FROM s ORDER BY id").fetchall()]
    finally:
        con.close()
    np.testing.assert_allclose(written, want, rtol=1e-6)
    rows = json.loads(top.output)
    assert len(rows) == 3 and all(r["anomaly_mse"] == pytest.approx(want[r["id"]], rel=1e-6) for r in rows), rows
