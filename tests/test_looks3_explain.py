"""A row with a NULL beside a value far beyond its training range is explained by that value, not by a column
nearer the middle: the NULL's fill no longer takes the credit away from it."""

from __future__ import annotations

import warnings

import numpy as np

import ad_duckdb

from conftest import FAST


def test_a_null_beside_a_far_out_amount_leaves_the_amount_named_first() -> None:
    """An order export with NULL discounts: order 1508 (qty 13, amount 4379.6, 40x the usual, discount NULL) was
    explained 'qty 100%, amount 0%'. Its discount was filled in proportion to the far-out amount (-0.2, itself
    outside the training range) and took part in the Shapley values, so adding the amount to a coalition holding
    that fill lowered the score: the amount's part came out negative, was cut to 0, and the discount's, set to 0
    as a missing value is never a reason, took the credit with it. The same row with its discount given is
    explained by the amount, as is the row with the NULL."""
    rng = np.random.default_rng(3)
    n = 3000
    qty, amount, discount = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):  # as the export was written: the rows drawn in turn
        qty[i] = int(rng.poisson(5)) + 1
        amount[i] = round(float(rng.lognormal(4, 0.6)) * qty[i] / 5, 2) * (40 if i % 500 == 7 else 1)
        discount[i] = round(float(rng.uniform(0, 0.3)), 2)
        rng.choice(4)  # the region drawn
    amount[(np.arange(n) % 97 == 0) | (np.arange(n) % 131 == 0)] = np.nan  # '' and 'N/A' read as NULL
    discount[::11] = np.nan
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE orders AS SELECT unnest(?) AS qty, unnest(?) AS amount, unnest(?) AS discount",
                    [qty.tolist(), *([None if np.isnan(v) else float(v) for v in c] for c in (amount, discount))])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "m", "orders", features=["qty", "amount", "discount"], robust=True, **FAST)
        top = {}
        for disc in ("NULL", "0.15"):
            e = con.execute(f"SELECT anomaly_explain('m', 13.0, 4379.6, {disc})").fetchall()[0][0]
            shares = {x["feature"]: x["share"] for x in e}
            top[disc] = e[0]["feature"]
            assert shares["amount"] > 0.5, (disc, e)
        assert top == {"NULL": "amount", "0.15": "amount"}, top
        # a missing value is still never a reason
        e = con.execute("SELECT anomaly_explain('m', 13.0, 4379.6, NULL)").fetchall()[0][0]
        assert {x["feature"]: x["share"] for x in e}["discount"] == 0.0, e
    finally:
        con.close()
