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
import bisect
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

KINDS = ("huge_amount", "burst", "joint_law", "card_testing", "refund_storm")


class _Quantiles:
    """``np.quantile`` of a column that planting changes a value at a time, without a pass over the column per
    read: the column sorted once, the values taken out and put in since kept sorted beside it (a few thousand),
    and each order statistic found by bisection; the same numbers as ``np.quantile`` of the column as it is."""

    def __init__(self, values: np.ndarray) -> None:
        self.sorted = np.sort(values)
        self.gone: list[float] = []
        self.added: list[float] = []

    def replace(self, old: float, new: float) -> None:
        pos = bisect.bisect_left(self.added, old)
        if pos < len(self.added) and self.added[pos] == old:
            del self.added[pos]
        else:
            bisect.insort(self.gone, old)
        bisect.insort(self.added, new)

    def _at_most(self, v: float) -> int:
        return (int(np.searchsorted(self.sorted, v, side="right")) - bisect.bisect_right(self.gone, v)
                + bisect.bisect_right(self.added, v))

    def _kth(self, k: int) -> float:
        """The k-th smallest value (from 0): the least value with more than k values at most it, found among the
        sorted column's values and among those put in (a value taken out is no answer: the count rises at none)."""
        best = np.inf
        for vals in (self.sorted, self.added):
            lo, hi = 0, len(vals)
            while lo < hi:
                mid = (lo + hi) // 2
                if self._at_most(vals[mid]) > k:
                    hi = mid
                else:
                    lo = mid + 1
            if lo < len(vals):
                best = min(best, vals[lo])
        return best

    def quantile(self, q: float) -> float:
        n = len(self.sorted)
        at = (n - 1) * q  # numpy's 'linear' method, interpolated by numpy itself between the two neighbours
        below = int(np.floor(at))
        pair = np.array([self._kth(below), self._kth(min(below + 1, n - 1))], dtype=self.sorted.dtype)
        return float(np.quantile(pair, at - below))


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
    # Why tracked: each planted row reads a quantile of the column as planting has left it so far; read off the
    # whole column each time, 10 million rows took hours (a pass over every row for each of 40,000 planted rows)
    q_count, q_amount = _Quantiles(count), _Quantiles(amount)

    def set_count(i: int, v: int) -> None:
        q_count.replace(count[i], v)
        count[i] = v

    def set_amount(i: int, v: float) -> None:
        q_amount.replace(amount[i], v)
        amount[i] = v

    for i, kind in zip(idx, kinds, strict=True):
        m = merchant[i]
        if kind == "huge_amount":
            set_amount(i, count[i] * ticket[m] * rng.uniform(30, 100))
        elif kind == "burst":
            set_count(i, int(q_count.quantile(0.999) * rng.uniform(3, 6)))
            set_amount(i, count[i] * ticket[m] * rng.lognormal(0, 0.1))
            distinct[i] = int(count[i] * 0.9)
        elif kind == "joint_law":
            # a typical amount of a busy merchant, paid in one or two transactions
            set_count(i, int(rng.integers(1, 3)))
            set_amount(i, float(q_amount.quantile(rng.uniform(0.80, 0.95))))
            distinct[i] = count[i]
            refunds[i] = 0
        elif kind == "card_testing":
            set_count(i, int(q_count.quantile(rng.uniform(0.80, 0.95))))
            set_amount(i, count[i] * rng.uniform(1.0, 3.0))  # tiny test charges
            distinct[i] = int(rng.integers(1, 3))
        elif kind == "refund_storm":
            set_count(i, max(int(count[i]), 10))
            refunds[i] = int(count[i] * rng.uniform(0.7, 1.0))
            set_amount(i, count[i] * ticket[m] * rng.lognormal(0, 0.12))
            distinct[i] = int(count[i] * 0.9)
    days = np.datetime64("2026-01-01") + rng.integers(0, 90, rows).astype("timedelta64[D]")
    order = np.argsort(days, kind="stable")
    tx_id = np.empty(rows, dtype=np.int64)
    tx_id[order] = np.arange(1, rows + 1)

    con = duckdb.connect(str(path))
    try:
        con.execute("DROP TABLE IF EXISTS transactions")
        con.execute("DROP TABLE IF EXISTS planted_anomalies")
        # from Arrow columns rather than Python lists: a list of 10 million values per column held gigabytes
        rows_tbl = pa.table({"transaction_id": tx_id, "day": days, "merchant_id": merchant, "count": count,
                             "amount": np.round(amount, 2), "distinct_cards": distinct, "refunds": refunds})
        planted_tbl = pa.table({"transaction_id": tx_id[idx], "kind": kinds.astype(object)})
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
