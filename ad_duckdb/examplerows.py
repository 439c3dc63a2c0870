"""The example's rows: daily per-merchant transaction aggregates with planted anomalies, as numpy columns.

Why in the package: two places write these rows, examples/transactions/generate.py (a DuckDB file) and the dbt
example's raw_transactions model (a dbt Python model, which can import an installed package but not a script
beside it); one generator keeps them the same rows for the same seed, and both fast at millions of rows.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

KINDS = ("huge_amount", "burst", "joint_law", "card_testing", "refund_storm")


class Quantiles:
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


@dataclass(frozen=True)
class ExampleRows:
    """``columns``: transaction_id, day (datetime64[D]), merchant_id, count, amount (rounded to cents),
    distinct_cards, refunds, row for row; ``planted``: the rows planted, as indexes into them; ``kinds``: each
    planted row's kind (one of KINDS)."""

    columns: dict[str, np.ndarray]
    planted: np.ndarray
    kinds: np.ndarray


def example_rows(rows: int = 20_000, seed: int = 7, anomaly_share: float = 0.01) -> ExampleRows:
    """The example's ``rows`` rows for ``seed``, ``anomaly_share`` of them planted anomalies."""
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
    q_count, q_amount = Quantiles(count), Quantiles(amount)

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
    columns = {"transaction_id": tx_id, "day": days, "merchant_id": merchant, "count": count,
               "amount": np.round(amount, 2), "distinct_cards": distinct, "refunds": refunds}
    return ExampleRows(columns, idx, kinds)
