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
import pyarrow as pa

# the rows themselves come from the package, which the dbt example's raw_transactions model reads them from too
from ad_duckdb.examplerows import KINDS, example_rows

__all__ = ["KINDS", "generate"]


def generate(path: str | Path, rows: int = 20_000, seed: int = 7, anomaly_share: float = 0.01) -> dict[str, int]:
    """Write the two tables to ``path`` (replacing them); returns the count of planted rows per kind."""
    made = example_rows(rows, seed, anomaly_share)
    tx_id, kinds = made.columns["transaction_id"], made.kinds

    con = duckdb.connect(str(path))
    try:
        con.execute("DROP TABLE IF EXISTS transactions")
        con.execute("DROP TABLE IF EXISTS planted_anomalies")
        # from Arrow columns rather than Python lists: a list of 10 million values per column held gigabytes
        rows_tbl = pa.table(made.columns)
        planted_tbl = pa.table({"transaction_id": tx_id[made.planted], "kind": kinds.astype(object)})
        con.register("generated_rows", rows_tbl)
        con.register("generated_planted", planted_tbl)
        con.execute(
            "CREATE TABLE transactions AS SELECT transaction_id::BIGINT AS transaction_id, day::DATE AS day, "
            "merchant_id::INTEGER AS merchant_id, count::INTEGER AS count, amount::DECIMAL(14,2) AS amount, "
            "distinct_cards::INTEGER AS distinct_cards, refunds::INTEGER AS refunds FROM generated_rows"
        )
        con.execute("CREATE TABLE planted_anomalies AS SELECT transaction_id::BIGINT AS transaction_id, kind "
                    "FROM generated_planted")
        con.unregister("generated_rows")
        con.unregister("generated_planted")
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
