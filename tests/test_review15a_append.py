"""The first ``append=True`` run of an incremental job whose source reads the scores table by its bare name after
``USE analytics`` (or ``SET search_path``): the two features (bare names follow the caller's schema; the first run
makes the table) did not compose, and the run failed saying the source read a column the table would not have."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import ad_duckdb

from conftest import FAST

_SINCE = "SELECT * FROM tx WHERE id > (SELECT coalesce(max(id), -1) FROM sc)"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """analytics.tx (600 rows) and a model trained on it; main holds another tx of 10 rows."""
    path = str(tmp_path_factory.mktemp("review15a_append") / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE SCHEMA analytics")
        con.execute("CREATE TABLE main.tx AS SELECT range AS id, 1.0 AS x, 1.0 AS y FROM range(10)")
        con.execute("CREATE TABLE analytics.tx AS SELECT range AS id, (range % 37)::DOUBLE AS x, "
                    "(range * 7 % 13)::DOUBLE AS y FROM range(600)")
        ad_duckdb.train(con, "m", "analytics.tx", features=["x", "y"], **FAST)
    finally:
        con.close()
    yield path


@pytest.mark.parametrize("use", ["USE analytics", "SET search_path = 'analytics'"])
def test_first_append_after_use_makes_the_table_the_bare_name_reads(db: str, use: str) -> None:
    con = ad_duckdb.connect(db)
    try:
        con.execute(use)
        assert ad_duckdb.score(con, "m", _SINCE, into="analytics.sc", columns=["id"], append=True) == 600
        con.execute("INSERT INTO analytics.tx SELECT 600 + range, 3, 4 FROM range(5)")
        # the second run reads the table the first made: only the new rows
        assert ad_duckdb.score(con, "m", _SINCE, into="analytics.sc", columns=["id"], append=True) == 5
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM analytics.sc").fetchall() == [(605, 605)]
        # nothing was made in main, where ad_duckdb's own cursor starts
        assert con.execute("SELECT schema_name FROM duckdb_tables() WHERE table_name = 'sc'").fetchall() == \
            [("analytics",)]
    finally:
        con.execute("DROP TABLE IF EXISTS analytics.sc")
        con.execute("DELETE FROM analytics.tx WHERE id >= 600")
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
