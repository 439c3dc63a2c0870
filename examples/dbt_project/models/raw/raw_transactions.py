"""The generation step: daily per-merchant transaction aggregates with planted anomalies.

In a real project this table is a dbt source (your warehouse's transactions). Here a dbt Python model
generates it so the project runs anywhere without network or seeds. The logic is the same as
examples/transactions/generate.py (same distributions, same seed gives the same rows; tests/test_dbt.py
checks that) plus a ``planted_kind`` column (NULL for normal rows) kept for checking only: the models
that score never read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

KINDS = ("huge_amount", "burst", "joint_law", "card_testing", "refund_storm")


def generate_arrays(rows: int = 20_000, seed: int = 7, anomaly_share: float = 0.01) -> pa.Table:
    rng = np.random.default_rng(seed)
    n_merchants = max(20, rows // 60)
    size = rng.lognormal(2.2, 1.0, n_merchants)  # mean daily transactions per merchant
    ticket = rng.lognormal(3.4, 0.45, n_merchants)  # mean ticket per merchant
    merchant = rng.integers(0, n_merchants, rows)
    count = rng.poisson(size[merchant]) + 1
    amount = count * ticket[merchant] * rng.lognormal(0.0, 0.12, rows)
    distinct = np.maximum(1, np.round(count * rng.uniform(0.8, 1.0, rows))).astype(np.int64)
    refunds = rng.binomial(count, 0.02)

    n_anom = max(len(KINDS), int(rows * anomaly_share))
    idx = rng.choice(rows, n_anom, replace=False)
    kinds = np.array([KINDS[i % len(KINDS)] for i in range(n_anom)])
    for i, kind in zip(idx, kinds, strict=True):
        m = merchant[i]
        if kind == "huge_amount":
            amount[i] = count[i] * ticket[m] * rng.uniform(30, 100)
        elif kind == "burst":
            count[i] = int(np.quantile(count, 0.999) * rng.uniform(3, 6))
            amount[i] = count[i] * ticket[m] * rng.lognormal(0, 0.1)
            distinct[i] = int(count[i] * 0.9)
        elif kind == "joint_law":
            # a typical amount of a busy merchant, paid in one or two transactions
            count[i] = int(rng.integers(1, 3))
            amount[i] = float(np.quantile(amount, rng.uniform(0.80, 0.95)))
            distinct[i] = count[i]
            refunds[i] = 0
        elif kind == "card_testing":
            count[i] = int(np.quantile(count, rng.uniform(0.80, 0.95)))
            amount[i] = count[i] * rng.uniform(1.0, 3.0)  # tiny test charges
            distinct[i] = int(rng.integers(1, 3))
        elif kind == "refund_storm":
            count[i] = max(int(count[i]), 10)
            refunds[i] = int(count[i] * rng.uniform(0.7, 1.0))
            amount[i] = count[i] * ticket[m] * rng.lognormal(0, 0.12)
            distinct[i] = int(count[i] * 0.9)
    days = np.datetime64("2026-01-01") + rng.integers(0, 90, rows).astype("timedelta64[D]")
    order = np.argsort(days, kind="stable")
    tx_id = np.empty(rows, dtype=np.int64)
    tx_id[order] = np.arange(1, rows + 1)
    planted = np.full(rows, None, dtype=object)
    planted[idx] = kinds
    return pa.table({
        "transaction_id": pa.array(tx_id, pa.int64()),
        "day": pa.array(days.astype("datetime64[D]"), pa.date32()),
        "merchant_id": pa.array(merchant, pa.int32()),
        "count": pa.array(count, pa.int32()),
        "amount": pa.array(np.round(amount, 2)),
        "distinct_cards": pa.array(distinct, pa.int32()),
        "refunds": pa.array(refunds, pa.int32()),
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
