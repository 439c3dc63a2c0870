"""Text features as an analyst with a text column meets them (review13): a long tail of rare values that training
read as "any other value", scored on its own, is no other column passed in its place."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import pytest

import ad_duckdb
from ad_duckdb.exceptions import AdDuckDBWarning

from conftest import FAST
from generate import generate

# every 12th row holds one of ~150 rare merchants (each well under 1% of the rows: any other value, 8% of training);
# the others one of 18 merchants, each about 5%
MERCHANT = ("CASE WHEN transaction_id % 12 = 0 THEN 'rare_' || (transaction_id % 997 % 150)::VARCHAR "
            "ELSE 'm' || lpad((transaction_id % 18)::VARCHAR, 2, '0') END")
CALL = "anomaly_score('tx_m', count, amount, merchant)"


@pytest.fixture(scope="module")
def tail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("review13_text") / "tx.duckdb"
    generate(path, rows=3000, seed=7)
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE OR REPLACE TABLE transactions AS SELECT *, {MERCHANT} AS merchant FROM transactions")
    finally:
        con.close()
    con = ad_duckdb.connect(str(path))
    try:
        ad_duckdb.train(con, "tx_m", "transactions", features=["count", "amount", "merchant"], **FAST)
    finally:
        con.close()
    return path


def test_the_rare_values_training_read_as_any_other_value_are_scored_alone(tail: Path) -> None:
    """A WHERE picking the rare merchants (or a table sorted so that a batch of rows holds only them) was refused as
    'another column passed in its place', though training read such values in 8% of its rows: the whole query
    failed. They are scored, with no note that they 'score as outliers'."""
    con = ad_duckdb.connect(str(tail), read_only=True)
    try:
        shares = con.execute("SELECT metrics FROM ad_models WHERE name = 'tx_m'").fetchone()[0]
        assert '"category_shares"' in str(shares), shares
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AdDuckDBWarning)
            rare = con.execute(f"SELECT count(*), avg({CALL}) FROM transactions WHERE merchant LIKE 'rare%'").fetchone()
        assert rare[0] == 250 and rare[1] is not None, rare
        said = [str(w.message) for w in caught if issubclass(w.category, AdDuckDBWarning)]
        assert not [m for m in said if "'merchant'" in m], said
        # the same rows scored among all of them score the same
        alone = con.execute(f"SELECT transaction_id, {CALL} FROM transactions WHERE merchant LIKE 'rare%' "
                            "ORDER BY 1").fetchall()
        among = con.execute(f"SELECT * FROM (SELECT transaction_id, merchant, {CALL} FROM transactions) "
                            "WHERE merchant LIKE 'rare%' ORDER BY 1").fetchall()
        assert [a[1] for a in alone] == pytest.approx([a[2] for a in among], rel=1e-6)
    finally:
        con.close()
