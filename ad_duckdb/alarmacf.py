"""How many fewer independent rows a stretch of scores is worth for its alarms, read off the scores' own
autocorrelation at every lag (``inflation``), not off the lag-1 correlation through an AR(1) (alarmperiods).

Why: an AR(1) from the lag-1 correlation alone misjudges processes whose correlation falls off otherwise. A slow
level under as much fast noise has a lag-1 correlation of 0.5 but moves together over hundreds of readings (the
AR(1) held 77% of later weeks, now 90%); an oscillating AR(2) of lag-1 0.97 forgets within a few dozen readings
(the AR(1) gave intervals twice as wide as needed, holding 99.9%, now 97%). bench/alarm_processes.py measures them
(bench/results/alarm_processes_2026-12-05.md). Where the correlation falls off no faster than an AR(1)'s, the
AR(1)'s inflation stays a floor (``like_ar1``).

How: the scores' ranks as normal scores (so a skewed score's outliers do not lead it), their sample autocorrelation
r_k by FFT, less the bias of the stretch's own mean (``debias``), each turned into the correlation of two alarms k
rows apart (the orthant probability of two normal values of correlation r_k above the cut's quantile), summed as
Geyer's initial positive sequence (``geyer``: where the correlation has died into noise the sum stops), as MCMC's
effective sample size is read.
"""

from __future__ import annotations

import math
from functools import cache
from statistics import NormalDist

import numpy as np

# theta points of the orthant integral over (-pi/2, pi/2] (its integrand is smooth in theta; as alarmperiods')
_THETA = np.linspace(-math.pi / 2 + 1e-6, math.pi / 2, 8193)
# normal quantiles on a grid even in the log-odds of p, read between (within 1e-6 of the exact: normal scores of
# ranks need no more, and a million exact calls took seconds)
_LOGIT = np.linspace(-30.0, 30.0, 12001)
# stretches of more values than BLOCK read their autocorrelation block by block, at lags up to MOST_LAGS (at a
# reading every 5 minutes, 227 days)
BLOCK = 1 << 21
MOST_LAGS = 1 << 16
# a sum of the stretch's own mean's bias above this share of its rows says the stretch is worth about one
# independent stretch; the correction stops growing there
MOST_BIAS = 0.5


@cache
def _quantiles() -> np.ndarray:
    """The normal quantiles at _LOGIT's points. Why computed at first use, not on import: every ``ad-duckdb``
    command imports this module (a few milliseconds of 12001 exact calls each time), while few read an alarm rate."""
    return np.array([NormalDist().inv_cdf(1.0 / (1.0 + math.exp(-v))) for v in _LOGIT])


def _normal_scores(p: np.ndarray) -> np.ndarray:
    logit = np.log(p)
    logit -= np.log1p(-p)  # in place: a temporary fewer of the rows' size (80 MB at 10 million)
    return np.interp(logit, _LOGIT, _quantiles())


def mid_ranks(x: np.ndarray) -> np.ndarray:
    """Each value's rank from 0, ties their mean rank (scipy's ``rankdata`` less 1).

    Why its own function: alarm_rate reads both the lag-1 correlation (alarmperiods) and every lag's (here) off the
    ranks of the same scores in time order, and ranking 10 million of them is a sort; it ranks them once."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if not n:
        return np.empty(0)
    # Why not np.unique(return_inverse, return_counts): it holds five arrays of every row at once (sorted values,
    # their order, a mask, its running sum, the inverse), 1.2 GB of a 10-million-row alarm_rate's peak; here the
    # order and one array of ranks, the same numbers
    order = np.argsort(x)
    xs = x[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    new[1:] &= ~(np.isnan(xs[1:]) & np.isnan(xs[:-1]))  # NaNs tie, as np.unique takes them
    del xs
    counts = np.diff(np.append(np.flatnonzero(new), n))
    del new
    ranks = np.empty(n)
    ranks[order] = np.repeat(np.cumsum(counts) - (counts + 1) / 2.0, counts)
    return ranks


def normal_acf(scores: np.ndarray, debiased: bool = True, ranks: np.ndarray | None = None) -> np.ndarray:
    """The autocorrelation r_1 .. r_{n-1} of the scores' ranks as normal scores (ties: their mean rank), scores in
    time order, less the bias of the stretch's own mean (``debiased``); empty for fewer than 3 scores or all
    tied. ``ranks``: the scores' ``mid_ranks`` where the caller has them."""
    x = np.asarray(scores, dtype=np.float64)
    n = len(x)
    if n < 3:
        return np.empty(0)
    rank = mid_ranks(x) if ranks is None else ranks
    if rank.max() == rank.min():
        return np.empty(0)
    p = rank + 0.5
    p /= n
    z = _normal_scores(p)
    del p
    z -= z.mean()
    acov = _autocovariance(z)
    return debias(acov[1:] / acov[0], n) if debiased else acov[1:] / acov[0]


def _autocovariance(z: np.ndarray) -> np.ndarray:
    """Sums of z_t z_{t+k}: by one FFT at every lag up to ``BLOCK`` values, else block by block at lags up to
    ``MOST_LAGS`` (one FFT of 20 million values held 1.1 GB)."""
    n = len(z)
    if n <= BLOCK:
        size = 1 << (2 * n - 1).bit_length()  # no wrap-around at any lag
        f = np.fft.rfft(z, size)
        return np.asarray(np.fft.irfft(f * np.conj(f), size)[:n])
    size = 1 << (BLOCK + MOST_LAGS).bit_length()
    acov = np.zeros(MOST_LAGS + 1)
    for i in range(0, n, BLOCK):
        # a block against itself and the lags that run past its end
        a = np.fft.rfft(z[i:i + BLOCK], size)
        b = np.fft.rfft(z[i:i + BLOCK + MOST_LAGS], size)
        acov += np.fft.irfft(np.conj(a) * b, size)[:MOST_LAGS + 1]
    return acov


def geyer(c: np.ndarray) -> np.ndarray:
    """Correlations c_1, c_2, ... cut where Geyer's initial positive sequence stops (at the first pair of lags
    c_{2m} + c_{2m+1}, c_0 = 1, at or below 0) and made monotone pair by pair."""
    full = np.r_[1.0, c]
    if len(full) % 2:
        full = full[:-1]
    raw = full[0::2] + full[1::2]
    stop = np.nonzero(raw <= 0)[0]
    raw = raw[: stop[0] if len(stop) else len(raw)]
    pairs = np.minimum.accumulate(raw)
    scale = np.divide(pairs, raw, out=np.ones_like(pairs), where=raw != 0)
    return (full[: 2 * len(pairs)] * np.repeat(scale, 2))[1:]


def debias(r: np.ndarray, n: int, rounds: int = 8) -> np.ndarray:
    """The sample autocorrelation less the bias of the stretch's own mean: it reads about (rho_k - b) / (1 - b),
    b = tau / n, tau = 1 + 2 sum rho_k, so a week of 2016 readings correlated 0.995 read every lag 0.2 low and its
    correlation died in a few hundred lags, not a thousand (its week interval held 88% of later weeks, then 91%);
    tau is read again from the corrected lags, a few rounds."""
    out = r
    for _ in range(rounds):
        b = min((1.0 + 2.0 * float(np.sum(geyer(out)))) / n, MOST_BIAS)
        out = r * (1.0 - b) + b
    return np.minimum(out, 1.0)


def flag_correlation(r: np.ndarray, share: float) -> np.ndarray:
    """The correlation of two alarms (each a normal value above its 1 - share quantile) whose normal values have
    correlation r: the orthant probability's derivative in the correlation, integrated over theta = asin(r)."""
    z = NormalDist().inv_cdf(1.0 - share)
    f = np.exp(-z * z / (1.0 + np.sin(_THETA)))
    running = np.r_[0.0, np.cumsum((f[1:] + f[:-1]) / 2.0 * np.diff(_THETA))]
    running -= float(np.interp(0.0, _THETA, running))
    both = np.interp(np.arcsin(np.clip(r, -1.0, 1.0)), _THETA, running) / (2.0 * math.pi)
    return np.asarray(both / (share * (1.0 - share)))


def inflation(acf: np.ndarray, rows: float, share: float) -> float:
    """How many times the variance of the alarms among ``rows`` consecutive rows exceeds independent rows', at
    ``share`` flagged, of scores whose normal scores have autocorrelation ``acf`` (r_1, r_2, ...; ``normal_acf``):
    1 + 2 sum of (1 - k / rows) c_k over Geyer's sequence of the alarms' correlations c_k; at least 1."""
    if len(acf) == 0 or rows < 2 or not 0 < share < 1:
        return 1.0
    c = geyer(flag_correlation(np.asarray(acf[: int(min(len(acf), rows - 1))]), share))
    lags = np.arange(1, len(c) + 1, dtype=np.float64)
    return float(max(1.0, 1.0 + 2.0 * np.sum((1.0 - lags / rows) * c)))


def like_ar1(acf: np.ndarray) -> bool:
    """Whether the correlation falls off no faster than an AR(1) of its lag-1 correlation r_1 says: at the lag k
    where r_1^k is 1/e, r_k is at least half that. Then the AR(1)'s inflation is a floor: the sample correlation of
    a stretch worth a few independent readings is noise far out (at 0.995, a week's lags read +-0.4), and Geyer's
    sum stopped early half the time (the week interval held 90% of later weeks, with the floor 92%, as the AR(1)
    alone). An AR(2) whose correlation dies fast is not held to it (r_34 near 0 where 0.97^34 is 0.36)."""
    if len(acf) < 2 or not 0 < acf[0] < 1:
        return False
    k = min(math.ceil(-1.0 / math.log(float(acf[0]))), len(acf))
    return bool(acf[k - 1] >= 0.5 * float(acf[0]) ** k)
