"""The Python API after the caller's USE: score(into=) writes where the caller's own CREATE TABLE would, and a real
column named rowid is read as the caller reads it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import ad_duckdb

from conftest import FAST


@pytest.fixture
def used(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A connection after USE analytics, with analytics.tx (a real column named rowid) and model 'ae' in main."""
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA analytics; CREATE TABLE analytics.tx AS SELECT range AS id, range::DOUBLE AS a, "
                "sqrt(range) AS b, 1000 + range AS rowid FROM range(400)")
    ad_duckdb.train(con, "ae", "analytics.tx", features=["a", "b"], **FAST)
    con.execute("USE analytics")
    return con


def test_score_into_after_use_writes_in_the_callers_schema(used: duckdb.DuckDBPyConnection) -> None:
    # after USE analytics, score(into='scored') was refused ("Name the schema of the new table"), where the user's
    # own CREATE TABLE scored makes analytics.scored; the model tables stay in main
    assert ad_duckdb.score(used, "ae", "tx", into="scored", columns=["id"], progress=False) == 400
    assert used.execute("SELECT count(*), min(id) FROM analytics.scored").fetchall() == [(400, 0)]
    assert used.execute("SELECT count(*) FROM scored").fetchall() == [(400,)]
    assert ad_duckdb.score(used, "ae", "SELECT id + 1000 AS id, a, b FROM tx WHERE id < 10", into="scored", columns=["id"],
                           append=True, progress=False) == 10
    assert used.execute("SELECT count(*) FROM analytics.scored").fetchall() == [(410,)]
    tables = used.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
    assert ("main", "scored") not in tables and ("main", "ad_models") in tables
    assert ("analytics", "ad_models") not in tables


def test_score_into_after_use_writes_an_existing_table_where_the_caller_finds_it(
        used: duckdb.DuckDBPyConnection) -> None:
    # a table of that name in main, and the caller's in analytics: the caller's name means analytics.scored
    used.execute("CREATE TABLE main.scored AS SELECT 1 AS keep")
    ad_duckdb.score(used, "ae", "SELECT id + 1000 AS id, a, b FROM tx WHERE id < 5", into="analytics.scored", columns=["id"],
                    progress=False)
    assert ad_duckdb.score(used, "ae", "tx", into="scored", columns=["id"], append=True, progress=False) == 400
    assert used.execute("SELECT count(*) FROM analytics.scored").fetchall() == [(405,)]
    assert used.execute("SELECT * FROM main.scored").fetchall() == [(1,)]


def test_a_real_rowid_column_is_read_after_use(used: duckdb.DuckDBPyConnection) -> None:
    # the source named a column rowid: refused after USE, as DuckDB's row number, which a view over the table lacks;
    # a table that has such a column is read as the caller's own query reads it
    out = ad_duckdb.score(used, "ae", "SELECT * FROM tx WHERE rowid < 1010", columns=["rowid"], progress=False)
    assert sorted(out.column("rowid").to_pylist()) == list(range(1000, 1010))
    theirs = used.execute("SELECT anomaly_score('ae', a, b) FROM tx WHERE rowid < 1010 ORDER BY rowid").fetchall()
    pairs = zip(out.column("rowid").to_pylist(), out.column("anomaly_score").to_pylist(), strict=True)
    ours = [score for _, score in sorted(pairs)]
    assert ours == pytest.approx([r[0] for r in theirs], rel=1e-4)


def test_duckdbs_rowid_is_still_refused_after_use(used: duckdb.DuckDBPyConnection) -> None:
    # a table without such a column: rowid is DuckDB's row number, which a view over the table has not; still refused
    used.execute("CREATE TABLE plain AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(50)")
    with pytest.raises(ad_duckdb.AdDuckDBError, match=r"FROM .*analytics\.table"):
        ad_duckdb.score(used, "ae", "SELECT * FROM plain WHERE rowid < 10", progress=False)


def test_evaluate_into_after_use_writes_in_the_callers_schema(used: duckdb.DuckDBPyConnection) -> None:
    # evaluate(into=) is score(into=)'s twin: a new table named without a schema after USE was refused
    used.execute("CREATE TABLE lab AS SELECT a, b, (id % 50 = 0)::INT AS y FROM tx")
    ad_duckdb.evaluate(used, "ae", "lab", label="y", into="evaluated", progress=False)
    assert used.execute("SELECT count(*) > 0 FROM analytics.evaluated").fetchall() == [(True,)]
    assert ("main", "evaluated") not in used.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
