"""After ``USE analytics`` (or ``SET search_path``) a bare table name reads what the caller's own SQL reads: train,
score, evaluate and explain were refused ("ad_duckdb reads through a cursor of its own, which starts in main").
On a file database holding a table of the same name in two schemas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import ad_duckdb

from conftest import FAST


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """t in main (10 rows) and in analytics (600 rows, 1 in 50 labelled and far out)."""
    path = str(tmp_path_factory.mktemp("msgs3schema") / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE SCHEMA analytics")
        con.execute("CREATE TABLE main.t AS SELECT range::DOUBLE AS x, 1.0 AS y, 0 AS lab FROM range(10)")
        con.execute("CREATE TABLE analytics.t AS SELECT (range % 37)::DOUBLE AS x, (range * 7 % 13)::DOUBLE AS y, "
                    "(range % 50 = 0)::INTEGER AS lab FROM range(600)")
        con.execute("UPDATE analytics.t SET x = 500 WHERE lab = 1")
    finally:
        con.close()
    yield path


@pytest.mark.parametrize("use", ["USE analytics", "SET search_path = 'analytics'"])
def test_bare_names_follow_the_callers_schema(two: str, use: str) -> None:
    con = ad_duckdb.connect(two)
    try:
        con.execute(use)
        info = ad_duckdb.train(con, "m", "t", features=["x", "y"], where="lab = 0", **FAST)
        assert info.train_rows == 588, info  # analytics.t's 600 rows less the 12 labelled, not main.t's 10
        scored = ad_duckdb.score(con, "m", "t")
        assert scored.num_rows == 600
        top = ad_duckdb.score(con, "m", "SELECT * FROM t WHERE lab = 1")
        assert top.num_rows == 12 and all(top.column("is_anomaly").to_pylist())
        why = ad_duckdb.score(con, "m", "SELECT * FROM t WHERE lab = 1", explain=True)
        assert why.num_rows == 12 and "x" in str(why.column("anomaly_explain")[0]), why
        ev = ad_duckdb.evaluate(con, "m", "t", label="lab")
        assert ev.auc_roc > 0.9, ev
        # the SQL function on the same rows agrees
        n = con.execute("SELECT count(*) FILTER (WHERE is_anomaly('m', x, y)) FROM t").fetchall()[0][0]
        assert n == sum(scored.column("is_anomaly").to_pylist())
        # and the store stayed in main: a fresh connection (no USE) finds the model
        assert [r[0] for r in con.execute("SELECT DISTINCT schema_name FROM duckdb_tables() "
                                          "WHERE table_name = 'ad_models'").fetchall()] == ["main"]
        con.execute("USE main")
        ad_duckdb.drop_model(con, "m")
    finally:
        con.close()
