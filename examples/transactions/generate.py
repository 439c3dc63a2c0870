"""Generate a DuckDB file of daily per-merchant transaction aggregates with planted anomalies.

Table ``transactions`` (what an analyst has; no labels):
    transaction_id BIGINT, day DATE, merchant_id INTEGER,
    count INTEGER          -- card transactions in the aggregate
    amount DECIMAL(14,2)   -- their total value
    distinct_cards INTEGER -- how many different cards paid
    refunds INTEGER        -- refunds issued

Table ``planted_anomalies(transaction_id, kind)`` says which rows were planted, for checking only.
Kinds:
    huge_amount   the amount alone is extreme (x30 to x100 the merchant's usual)
    burst         count and amount both extreme but in proportion (extreme along the joint law)
    joint_law     a tiny count with a large amount: neither column is unusual on its own
    card_testing  many transactions from very few cards
    refund_storm  almost every transaction refunded

Usage: python examples/transactions/generate.py out/transactions.duckdb [--rows 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import numpy as np

KINDS = ("huge_amount", "burst", "joint_law", "card_testing", "refund_storm")


def generate(path: str | Path, rows: int = 20_000, seed: int = 7, anomaly_share: float = 0.01) -> dict[str, int]:
    """Write the two tables to ``path`` (replacing them); returns the count of planted rows per kind."""
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

    con = duckdb.connect(str(path))
    try:
        con.execute("DROP TABLE IF EXISTS transactions")
        con.execute("DROP TABLE IF EXISTS planted_anomalies")
        con.execute(
            "CREATE TABLE transactions AS SELECT unnest(?)::BIGINT AS transaction_id, unnest(?)::DATE AS day, "
            "unnest(?)::INTEGER AS merchant_id, unnest(?)::INTEGER AS count, unnest(?)::DECIMAL(14,2) AS amount, "
            "unnest(?)::INTEGER AS distinct_cards, unnest(?)::INTEGER AS refunds",
            [tx_id.tolist(), [str(d) for d in days], merchant.tolist(), count.tolist(), np.round(amount, 2).tolist(),
             distinct.tolist(), refunds.tolist()],
        )
        con.execute(
            "CREATE TABLE planted_anomalies AS SELECT unnest(?)::BIGINT AS transaction_id, unnest(?) AS kind",
            [tx_id[idx].tolist(), kinds.tolist()],
        )
    finally:
        con.close()
    return {k: int((kinds == k).sum()) for k in KINDS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", help="DuckDB file to write (tables are replaced)")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    Path(args.path).parent.mkdir(parents=True, exist_ok=True)
    planted = generate(args.path, args.rows, args.seed)
    print(f"wrote {args.rows} rows to {args.path}; planted: {planted}")


if __name__ == "__main__":
    main()
