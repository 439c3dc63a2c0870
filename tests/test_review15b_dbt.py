"""review15b: the dbt package's ``ad_duckdb.check_calls`` post-hook (dbt14) on views an analytics engineer writes.
A call whose features come from DuckDB's ``*COLUMNS([...])`` (one argument in the text, its columns' count when bound)
was probed with one NULL feature, so a view that reads fine failed its build ("got 1 feature argument(s), but model
'tx_ae@1' takes 3")."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

import ad_duckdb
from ad_duckdb.dbtcalls import create_calls_function


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    db = str(tmp_path_factory.mktemp("review15b_dbt") / "wh.duckdb")
    c = ad_duckdb.connect(db)
    c.execute("CREATE TABLE tx AS SELECT range AS id, (5 + range % 17)::INTEGER AS count, "
              "((5 + range % 17) * (20 + range % 11))::DOUBLE AS amount, (3 + range % 13)::INTEGER AS cards "
              "FROM range(600)")
    ad_duckdb.train(c, "tx_ae", "tx", features=["count", "amount", "cards"], max_steps=30, seed=0, progress=False)
    create_calls_function(c)  # as the dbt plugin does on dbt's connection
    yield c
    c.close()


def _check(con: duckdb.DuckDBPyConnection, name: str, query: str) -> str:
    con.execute(f"CREATE OR REPLACE VIEW {name} AS {query}")
    row = con.execute("SELECT check_anomaly_calls(sql, ?) FROM duckdb_views() WHERE view_name = ?",
                      [name, name]).fetchone()
    assert row is not None
    return str(row[0])


def test_a_view_of_unpacked_columns_builds(con: duckdb.DuckDBPyConnection) -> None:
    query = "SELECT id, anomaly_score('tx_ae', *COLUMNS(['count', 'amount', 'cards'])) AS s FROM tx"
    assert len(con.execute(f"SELECT * FROM ({query}) LIMIT 3").fetchall()) == 3  # the view reads fine
    assert _check(con, "v_unpacked", query) == "1 call(s) checked"  # a list's names counted (dbt16)
    # the same view's other calls are still checked, and a wrong one still fails the build
    assert _check(con, "v_mixed", query.replace(" AS s", " AS s, anomaly_score('tx_ae', count, amount, cards) AS t")) \
        == "1 call(s) checked"  # one probe for the two calls alike
    with pytest.raises(duckdb.Error, match="got 2 feature argument"):
        _check(con, "v_wrong", query.replace(" AS s", " AS s, anomaly_score('tx_ae', count, amount) AS t"))


def test_a_call_per_column_is_still_checked(con: duckdb.DuckDBPyConnection) -> None:
    # COLUMNS(...) without the star makes one call per column, each of one feature: wrong for a model of three
    with pytest.raises(duckdb.Error, match="got 1 feature argument"):
        _check(con, "v_each", "SELECT anomaly_score('tx_ae', COLUMNS(['count', 'amount'])) FROM tx")


def test_a_model_not_yet_trained_names_the_build_order(con: duckdb.DuckDBPyConnection) -> None:
    """A view naming 'fraud_ae', which a Python model of the same project trains: with no ref() to that model, dbt
    may build the view first (a fresh warehouse). The message said to fix the call in the model's SQL and to train
    with ad_duckdb.train; the call is right, and the fix is the view's build order."""
    with pytest.raises(duckdb.Error) as e:
        _check(con, "v_later", "SELECT anomaly_score('fraud_ae', count, amount) FROM tx")
    said = str(e.value)
    assert "No model 'fraud_ae'" in said and "-- depends_on: {{ ref('" in said, said
    assert "so fix the call" not in said, said
    # a misspelt name is still the call to fix
    with pytest.raises(duckdb.Error, match="Did you mean 'tx_ae'.*fix the call") as e:
        _check(con, "v_typo", "SELECT anomaly_score('tx_ea', count, amount, cards) FROM tx")
