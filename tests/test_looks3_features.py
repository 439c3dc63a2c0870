"""A few lone huge values (sentinels, typos) leave a column's scaling as its bulk needs it, however many times they
are written, up to a share of the rows (heavytail.LONE_SHARE)."""

from __future__ import annotations

import numpy as np

from ad_duckdb.features import fit_specs
from ad_duckdb.heavytail import LONE_SHARE, heavy_tailed, skewness


def test_one_or_two_lone_huge_values_take_the_same_scaling() -> None:
    """One 1e9 among a thousand amounts of about 100 left the column's plain scaling, a second one switched the whole
    column to the signed log: whether a sentinel was written once or twice squeezed the bulk the model learns."""
    rng = np.random.default_rng(0)
    bulk = rng.normal(100, 10, 1000)
    decisions = set()
    for k in (1, 2, 3, 5, 10):
        values = np.r_[bulk, np.full(k, 1e9)]
        assert skewness(values) > 2
        decisions.add(heavy_tailed(values))
        specs, _ = fit_specs(np.c_[values, rng.normal(size=values.size)], ["amount", "x"], ["DOUBLE", "DOUBLE"],
                             model="m", source="t")
        assert specs[0].transform == "none", (k, specs[0])
    assert decisions == {False}
    # values of both signs, far either way, set aside alike
    assert not heavy_tailed(np.r_[bulk, 1e9, -1e9])


def test_a_tail_of_many_far_values_or_a_real_heavy_tail_still_takes_the_log() -> None:
    """Past a share of the rows, far values are a tail of the column's own; a lognormal column and a 0/1 column of a
    few 1s keep the signed log as before."""
    rng = np.random.default_rng(1)
    bulk = rng.normal(100, 10, 1000)
    many = int(LONE_SHARE * 1000) + 5
    assert heavy_tailed(np.r_[bulk, np.geomspace(1e5, 1e9, many)])
    assert heavy_tailed(rng.lognormal(3, 1.2, 1000))
    assert heavy_tailed(rng.pareto(1.5, 1000))
    assert heavy_tailed(np.r_[np.zeros(799), 1.0, 1.0])
