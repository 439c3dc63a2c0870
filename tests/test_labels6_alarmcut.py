"""alarm_rate's cut, found without an array per run of scores: the count nearest the share, the fewer on a tie."""

from __future__ import annotations

import numpy as np
import pytest

from ad_duckdb import alarmrate


def _nearest(s: np.ndarray, share: float, w: np.ndarray | None) -> float:
    """The flagged weight (or count) nearest share of the total among every cut between distinct scores."""
    ww = np.ones(len(s)) if w is None else w
    sums = np.array([ww[s >= v].sum() for v in np.unique(s)])
    want = share * ww.sum()
    gap = np.abs(sums - want)
    best = gap.min()
    return float(sums[np.isclose(gap, best, rtol=0, atol=1e-9 * max(want, 1.0))].min())


@pytest.mark.parametrize("seed", range(6))
def test_cut_flags_the_count_nearest_the_share(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    s = [rng.normal(size=n), np.round(rng.normal(size=n), 1), rng.integers(0, 4, n).astype(float)][seed % 3]
    if seed == 5:
        s[: n // 3] = np.inf
    for share in (0.5 / n, 0.01, 0.3, 0.999, 1.0):
        for w in (None, rng.integers(1, 9, n).astype(float)):
            value, k = alarmrate.cut(s, share, w)
            assert k == (s > value).sum()
            flagged = float(k if w is None else w[s > value].sum())
            assert flagged == pytest.approx(_nearest(s, share, w), abs=1e-9)


def test_scores_in_time_order() -> None:
    rng = np.random.default_rng(0)
    sec, sc, series = rng.integers(0, 50, 500).astype(float), rng.random(500), rng.integers(0, 3, 500)
    assert np.array_equal(alarmrate._in_time(sc, sec), sc[np.argsort(sec, kind="stable")])
    assert np.array_equal(alarmrate._in_time(sc, sec, series), sc[np.lexsort((sec, series))])
    sec[::7] = np.nan  # rows without a time left out
    ok = np.isfinite(sec)
    assert np.array_equal(alarmrate._in_time(sc, sec), sc[ok][np.argsort(sec[ok], kind="stable")])
