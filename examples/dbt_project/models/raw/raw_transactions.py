"""The generation step: daily per-merchant transaction aggregates with planted anomalies.

In a real project this table is a dbt source (your warehouse's transactions). Here a dbt Python model
generates it so the project runs anywhere without network or seeds. The rows come from the installed
package's generator, ad_duckdb.examplerows, which examples/transactions/generate.py writes too (the same seed
gives the same rows; tests/test_dbt.py checks that), plus a ``planted_kind`` column (NULL for normal rows)
kept for checking only: the models that score never read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ad_duckdb.examplerows import example_rows


def generate_arrays(rows: int = 20_000, seed: int = 7, anomaly_share: float = 0.01) -> pa.Table:
    made = example_rows(rows, seed, anomaly_share)
    cols = made.columns
    planted = np.full(rows, None, dtype=object)
    planted[made.planted] = made.kinds
    return pa.table({
        "transaction_id": pa.array(cols["transaction_id"], pa.int64()),
        "day": pa.array(cols["day"], pa.date32()),
        "merchant_id": pa.array(cols["merchant_id"], pa.int32()),
        "count": pa.array(cols["count"], pa.int32()),
        "amount": pa.array(cols["amount"]),
        "distinct_cards": pa.array(cols["distinct_cards"], pa.int32()),
        "refunds": pa.array(cols["refunds"], pa.int32()),
        "planted_kind": pa.array(planted, pa.string()),
    })


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table")
    rows = dbt.config.get("rows")  # from models/raw/raw.yml (vars tx_rows, tx_seed)
    seed = dbt.config.get("seed")
    table = generate_arrays(int(rows), int(seed))
    session.register("__ad_raw_transactions", table)
    # DECIMAL(14,2) like generate.py, so SQL sees the money column with the type an analyst would have.
    out = session.sql("SELECT * REPLACE (amount::DECIMAL(14,2) AS amount) FROM __ad_raw_transactions").to_arrow_table()
    session.unregister("__ad_raw_transactions")
    return out
