"""The first ``append=True`` run of an incremental job whose source reads the scores table by its bare name after
``USE analytics`` (or ``SET search_path``): the two features (bare names follow the caller's schema; the first run
makes the table) did not compose, and the run failed saying the source read a column the table would not have; a
bare name's rowid after USE; the empty-table note of a first run whose source has no rows yet."""

from __future__ import annotations

import pytest
import test_msgs3_schema

import ad_duckdb
from ad_duckdb.exceptions import BadInputError

from conftest import FAST

# msgs3's file: t in main (10 rows) and in analytics (600 rows, x at most 500)
two = test_msgs3_schema.two
_SINCE = "SELECT * FROM t WHERE x > (SELECT coalesce(max(x), -1) FROM sc)"


@pytest.fixture(scope="module")
def db(two: str) -> str:
    """msgs3's file and a model trained on analytics.t."""
    con = ad_duckdb.connect(two)
    try:
        ad_duckdb.train(con, "m", "analytics.t", features=["x", "y"], **FAST)
    finally:
        con.close()
    return two


@pytest.mark.parametrize("use", ["USE analytics", "SET search_path = 'analytics'"])
def test_first_append_after_use_makes_the_table_the_bare_name_reads(db: str, use: str) -> None:
    con = ad_duckdb.connect(db)
    try:
        con.execute(use)
        assert ad_duckdb.score(con, "m", _SINCE, into="analytics.sc", columns=["x"], append=True) == 600
        con.execute("INSERT INTO analytics.t SELECT 600 + range, 4, 0 FROM range(5)")
        # the second run reads the table the first made: only the new rows
        assert ad_duckdb.score(con, "m", _SINCE, into="analytics.sc", columns=["x"], append=True) == 5
        assert con.execute("SELECT count(*), count(*) FILTER (WHERE x >= 600) FROM analytics.sc").fetchall() == \
            [(605, 5)]
        # nothing was made in main, where ad_duckdb's own cursor starts
        assert con.execute("SELECT schema_name FROM duckdb_tables() WHERE table_name = 'sc'").fetchall() == \
            [("analytics",)]
    finally:
        con.execute("DROP TABLE IF EXISTS analytics.sc")
        con.execute("DELETE FROM analytics.t WHERE x >= 600")
        con.close()


def test_rowid_of_a_bare_name_after_use_is_refused_with_the_schema_to_name(db: str) -> None:
    """A view of the caller's table has no rowid: the source failed with DuckDB's "rowid not found" (candidate
    bindings x), which the user's own query on the same connection does not; it is refused naming the schema."""
    con = ad_duckdb.connect(db)
    try:
        con.execute("USE analytics")
        assert con.execute("SELECT count(rowid) FROM t").fetchall() == [(600,)]
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "m", "SELECT rowid AS id, * FROM t")
        said = str(e.value)
        assert "analytics" in said and "USE" in said and "Binder Error" not in said, said
        # named with its schema, it scores the caller's rows
        assert ad_duckdb.score(con, "m", "SELECT rowid AS id, * FROM analytics.t").num_rows == 600
    finally:
        con.close()


def test_an_empty_source_on_the_first_run_is_not_blamed_on_a_bare_max(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The README's cron line (its max already in coalesce) on a source with no rows yet: the note told to write
    coalesce(max(id), -1), which the line has; a bare max over the table made empty still gets that advice."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    from conftest import make_transactions

    path = str(tmp_path_factory.mktemp("review15a_empty") / "warehouse.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=500)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        con.execute("CREATE TABLE arriving AS SELECT * FROM transactions LIMIT 0")
    finally:
        con.close()
    since = "SELECT * FROM arriving WHERE transaction_id > ({}(SELECT max(transaction_id) FROM {}){})"
    for into, guarded, told in (("a_scores", True, False), ("b_scores", False, True)):
        source = since.format("coalesce(" if guarded else "", into, ", -1)" if guarded else "")
        res = CliRunner().invoke(cli, ["score", path, "tx_ae", source, "--into", into, "-c", "transaction_id",
                                       "--append"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        assert f"added 0 scored rows to {into} (now 0 rows" in res.output, res.output
        assert ("Write coalesce(max(id), -1)" in res.output) is told, res.output
        assert ("normal when no new rows came" in res.output) is not told, res.output
