"""How an alarm rate varies from period to period (hour, day, week) of the stretch it was set on, and the intervals
that gives for later periods.

Why not the rows' binomial (Wilson) interval alone: it treats rows as independent, but sensor readings close in time
move together, so alarms come in runs and periods vary far more than rows would make them. On NAB's
machine_temperature, "3 a day" set on one normal week flagged 8.7, 2.7 and 3.3 a day in three later weeks, while
Wilson's interval was 1.97-4.57. The periods' own spread carries the dependence within a period: a t interval over
the periods' rates (bench/alarm_interval.py: its coverage on autocorrelated scores and NAB series).

Why not that alone: a week of readings as correlated as 0.98-0.995 from one to the next holds few independent
stretches, and its 7 days move together; the t interval took them as 7 independent days and held 66-80% of later
weeks. The rows' lag-1 correlation says how much fewer independent rows the stretch is worth (``inflation``), and a
count of that few effective alarms is a skewed guess of the rate (``predictive``); the wider of the two intervals is
said (bench/results/alarm_interval_before_after_2026-12-05.md). set_threshold now reads the rows' autocorrelation
at every lag (alarmacf, ``spread``'s ``acf``), the AR(1) of the lag-1 correlation a floor where the correlation
falls off no faster than an AR(1)'s (bench/results/alarm_processes_2026-12-05.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from . import alarmacf, intervals
from .thresholds import Z95

# Fewer periods than this give no spread worth a t interval (with 2, t's 95% quantile is 4.3 and the spread of two
# values is little more than a guess)
MIN_PERIODS = 3
# A period holding fewer rows than this share of a typical one (the stretch's last, cut short) is left out of the
# spread: its rate is of few rows, noisier than the others
PART = 0.5
# The highest lag-1 correlation taken: nearer 1 the effective rows of a stretch tend to none
MOST_LAG1 = 0.9999
# n (1 - r) at and under which the lag-1 estimate takes a second half of Kendall's bias term (``lag1``)
NEAR_UNIT = 15.0
# Alarms whose variance among a period's rows is at most this many times independent rows' are counted as whole
# alarms (a neighbour correlation of 0.5 makes it 1.37 over a day of 288 readings at 3 a day; 0.9 makes it 6)
INDEPENDENT = 1.5
# the normal's 95% quantile: a one-sided 95% upper end
Z90 = NormalDist().inv_cdf(0.95)
# theta points of the flags' correlation integral, each lag's read off its running sum (its integrand is smooth in
# theta: 4097 give 7 digits; one point per lag took 4 s at a lag-1 correlation of 0.9999, 138,000 lags)
_THETA = np.linspace(0.0, 1.0, 4097)


@dataclass(frozen=True)
class PeriodSpread:
    """Alarms per period on each whole period of the stretch, and 95% intervals for later ones: ``one`` for a single
    later period, ``same`` for the mean over a later stretch of as many periods."""

    periods: int
    least: float
    most: float
    one: tuple[float, float]
    same: tuple[float, float]
    # the rows' lag-1 correlation in time (lag1) and the independent rows the stretch is worth for its alarms
    lag1: float = 0.0
    effective: float = 0.0


def t95(df: int) -> float:
    """Student's t 0.975 quantile for ``df`` degrees of freedom (Cornish-Fisher from the normal one: within 0.2% from
    3 degrees up; exact below, where the expansion is poor)."""
    exact = {1: 12.7062047, 2: 4.30265273, 3: 3.18244631}
    if df in exact:
        return exact[df]
    z, v = Z95, float(df)
    return (z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3)
            + (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / (92160 * v ** 4))


def period_of(seconds: np.ndarray, length: float) -> np.ndarray:
    """Each row's period, counted from the stretch's first time (its first period starts there, not at midnight, so
    a week of readings from noon is 7 whole days); -1 for a row with no time."""
    t = np.asarray(seconds, dtype=np.float64)
    ok = np.isfinite(t)
    out = np.full(len(t), -1, dtype=np.int64)
    if ok.any():
        out[ok] = np.floor((t[ok] - t[ok].min()) / length).astype(np.int64)
    return out


def lag1(scores: np.ndarray, ranks: np.ndarray | None = None) -> float:
    """The lag-1 correlation of scores in time order, as of normal scores of their ranks (Spearman's, turned into
    the Gaussian one by 2 sin(pi r / 6), so a skewed score's outliers do not lead it), less its small-sample bias
    (Kendall's (1 + 3r) / n, half as much again near 1); 0 for none or a negative one, at most ``MOST_LAG1``."""
    x = np.asarray(scores, dtype=np.float64)
    if len(x) < 3:
        return 0.0
    rank = alarmacf.mid_ranks(x) if ranks is None else ranks  # ties: their mean rank
    a, b = rank[:-1] - rank[:-1].mean(), rank[1:] - rank[1:].mean()
    den = math.sqrt(float(a @ a) * float(b @ b))
    if den == 0:
        return 0.0
    r = 2.0 * math.sin(math.pi * float(a @ b) / den / 6.0)
    if r <= 0:
        return 0.0
    n = len(x)
    # Why more near 1: where the stretch holds few of the correlation's time constants (n (1 - r) under NEAR_UNIT,
    # 15), Kendall's first-order term left about half the bias: a week of 2016 readings correlated 0.995 read
    # 0.9942 on average (0.0008 low: 1 - r 17% high, the stretch worth that many more independent rows), and its week
    # intervals held 94.1% of later weeks over four seeded runs; half a term more there, fading as n (1 - r) grows
    # (bench/results/alarm_interval_lag1_2026-12-06.md)
    near = min(1.0, NEAR_UNIT / (n * max(1.0 - r, 1e-12)))
    return min(r + (1.0 + 3.0 * r) / n * (1.0 + 0.5 * near), MOST_LAG1)


def inflation(rows: float, rho: float, share: float) -> float:
    """How many times the variance of the alarms among ``rows`` consecutive rows exceeds that of independent rows,
    for scores whose normal scores are AR(1) of lag-1 correlation ``rho`` flagged at ``share``: 1 + 2 sum over lags
    k of (1 - k / rows) times the flags' correlation at lag k, that of two normal values of correlation rho^k above
    their (1 - share) quantile (the orthant probability's derivative in the correlation, integrated over
    theta = asin(c), where it is smooth)."""
    if rho <= 0 or rows < 2 or not 0 < share < 1:
        return 1.0
    lags = np.arange(1, int(min(rows - 1, math.ceil(math.log(1e-6) / math.log(rho)))) + 1, dtype=np.float64)
    z = NormalDist().inv_cdf(1.0 - share)
    theta = _THETA * math.asin(rho)
    f = np.exp(-z * z / (1.0 + np.sin(theta)))
    running = np.r_[0.0, np.cumsum((f[1:] + f[:-1]) / 2.0 * np.diff(theta))]
    both = np.interp(np.arcsin(rho ** lags), theta, running) / (2.0 * math.pi)
    return float(1.0 + 2.0 * np.sum((1.0 - lags / rows) * both / (share * (1.0 - share))))


def predictive(alarms: float, ratio: float, top: float = 0.975) -> tuple[float, float]:
    """The 95% interval of the effective alarms on a later stretch ``ratio`` times as many effective rows as one
    that gave ``alarms`` (``top``: its upper end's level, the lower one's 1 - top): Poisson of a rate whose belief
    after ``alarms`` is Gamma(alarms + 1) (a flat prior), which is negative binomial, its quantiles read between
    whole counts. Why a count's interval, not a normal one:
    a stretch worth 1 effective alarm could be a calm one, and a later one as long then flags many times more
    (0-6.6 effective alarms)."""
    a, q = alarms + 1.0, ratio / (1.0 + ratio)
    mean, sd = a * q / (1.0 - q), math.sqrt(a * q) / (1.0 - q)
    j = np.arange(1, int(mean + 12.0 * sd + 20.0) + 1, dtype=np.float64)
    log_pmf = a * math.log(1.0 - q) + np.r_[0.0, np.cumsum(np.log((j - 1.0 + a) / j) + math.log(q))]
    cum = np.r_[0.0, np.cumsum(np.exp(log_pmf))]

    def at(level: float) -> float:
        # between whole counts, as far into the step as reaches the level: each effective alarm stands for many
        # alarms, and whole steps overshot 95% (97% of later days, 3 times as wide, on a 28-day stretch)
        i = int(np.searchsorted(cum, level)) - 1  # cum[i] = P(count <= i - 1) < level <= cum[i + 1]
        return max(0.0, float(i - 1 + (level - cum[i]) / (cum[i + 1] - cum[i])))

    return at(1.0 - top), at(top)


def mid_p_end(end: float) -> float:
    """The whole count ending an interval whose end, read between whole counts (``predictive``), is ``end``: a count
    c is inside where its mid-p value, P(more than c) + P(c) / 2, is above the level left out, that is where c is
    below ``end`` + 1/2, so the whole count nearest ``end``.

    Why not the next whole count up: at 3 alarms a day on 7 days of independent rows the count's end is 6.08, and
    7 held 98% of later days where 6 holds 95% (bench/results/alarm_interval_midp_2026-12-06.md); an hour's 1.6-1.9
    at 0.5 an hour stays 2 (1 would hold 91%)."""
    return float(math.floor(end + 0.5))


def spread(flagged: np.ndarray, period: np.ndarray, rows_per: float, rho: float = 0.0,
           weights: np.ndarray | None = None, acf: np.ndarray | None = None) -> PeriodSpread | None:
    """The spread of alarms per period over the whole periods of a stretch (``flagged``: each row's alarm;
    ``period``: each row's period, -1 for none; ``rows_per``: the stretch's rows per period, which turns a period's
    share of alarms into alarms per period; ``rho``: the rows' ``lag1``; ``weights``: each row's sample weight, a
    row counted as that many rows, the effective rows Kish's (sum w)^2 / sum w^2; ``acf``: the scores'
    ``alarmacf.normal_acf`` in time order, which then says how the alarms move together instead of an AR(1) of
    ``rho``); None for no whole period. Under ``MIN_PERIODS`` whole periods their spread says nothing, and the
    intervals are the count's alone (``periods`` says how many there were).

    A later period's rate differs from the target by its own variation and by the cut's error (the cut is fitted to
    this stretch's periods): var = s^2 (1 + 1/m) for one period, s^2 (1/m + 1/m) for the mean of m later ones; the
    interval said is the wider of that t interval and the one of the alarms' effective count (``predictive``), ending
    at most at ``rows_per`` (a period flags no more rows than it holds)."""
    p = np.asarray(period)
    keep = p >= 0
    every = bool(keep.all())
    p_kept = p if every else p[keep]
    rows = np.bincount(p_kept)
    weighed: np.ndarray
    alarms: np.ndarray
    if weights is None:
        # Why counted, not weighed by ones: at 10 million rows each float copy of the rows is 80 MB, at alarm_rate's
        # peak; sums of 1s and of 0/1 are these counts exactly, so the numbers are the same
        alarm = np.asarray(flagged, dtype=bool)
        alarm = alarm if every else alarm[keep]
        weighed = rows.astype(np.float64)
        alarms = np.bincount(p_kept[alarm], minlength=len(rows)).astype(np.float64)
        n_kept, n_alarms = float(len(p_kept)), float(np.count_nonzero(alarm))
        kish_sums = (n_kept, n_kept)  # sum w, sum w^2
        del alarm
    else:
        w = np.asarray(weights, dtype=np.float64)
        f = np.asarray(flagged, dtype=np.float64)
        weighed = np.bincount(p_kept, weights=w[keep], minlength=len(rows))
        alarms = np.bincount(p_kept, weights=(f * w)[keep], minlength=len(rows))
        n_kept, n_alarms = float(np.sum(w[keep])), float(np.sum((f * w)[keep]))
        kish_sums = (n_kept, float(np.sum(w[keep] ** 2)))
    del p_kept
    whole = rows >= PART * np.median(rows[rows > 0]) if rows.any() else rows > 0
    whole &= weighed > 0
    m = int(whole.sum())
    if m == 0:
        return None
    rate = alarms[whole] / weighed[whole] * rows_per
    mean = float(rate.mean())
    # under MIN_PERIODS no t: a band of none, so the count's interval is the wider
    sd, t = (float(rate.std(ddof=1)), t95(m - 1)) if m >= MIN_PERIODS else (0.0, 0.0)

    def band(scale: float) -> tuple[float, float]:
        half = t * sd * math.sqrt(scale)
        return max(0.0, mean - half), mean + half

    # the effective count: the rows Kish's size is worth, fewer by how their alarms move together
    n, share = int(keep.sum()), float(np.float64(n_alarms) / np.float64(n_kept))
    kish = kish_sums[0] ** 2 / kish_sums[1] / n
    per = float(rows[whole].mean())
    def worse(rows: float) -> float:
        # how many times independent rows' variance the alarms among ``rows`` consecutive rows have
        if acf is None:
            return inflation(rows, rho, share)
        by_acf = alarmacf.inflation(acf, rows, share)
        return max(by_acf, inflation(rows, rho, share)) if alarmacf.like_ar1(acf) else by_acf

    eff_n, eff_per = n * kish / worse(n), per * kish / worse(per)
    lo_n, hi_n = predictive(share * eff_n, 1.0)
    lo_1, hi_1 = predictive(share * eff_n, eff_per / eff_n)
    one, same = band(1.0 + 1.0 / m), band(2.0 / m)
    if min(one[0], lo_1) <= 0 and worse(per) <= INDEPENDENT:
        # from 0, the interval holds every later period below its upper end, and all of the 5% it leaves out is
        # above: at the 97.5% end it held 98.5% of later days (28 days of independent scores at 3 a day: 0-7,
        # where 0-6 holds 96%). Only where the rows are about independent: there the count is of the alarms
        # themselves; where they move together it is of effective alarms, a rougher guess, and its 95% end held
        # 92-93% of later days at a neighbour correlation of 0.9-0.995 (bench/results/alarm_oneday_2026-12-05.md)
        one = (0.0, mean + (intervals.t_quantile(Z90, m - 1) if m >= MIN_PERIODS else 0.0) * sd * math.sqrt(1.0 + 1.0 / m))
        lo_1, hi_1 = 0.0, predictive(share * eff_n, eff_per / eff_n, 0.95)[1]
    hi_1 = hi_1 / eff_per * rows_per
    if weights is None:
        # a later period's alarms are a whole number: an end of 1.86 an hour left out the hours of 2 (8% of them at
        # 0.5 an hour), and the interval held 92% of later hours where rows are independent
        hi_1 = mid_p_end(hi_1)
    # a later period flags at most the rows it holds: at a lag-1 correlation near 1 a stretch is worth about one
    # independent row, and its count's interval said 0-106 alarms on a later day of 24 hourly readings
    top = rows_per
    return PeriodSpread(periods=m, least=float(rate.min()), most=float(rate.max()),
                        one=(float(min(one[0], lo_1 / eff_per * rows_per, top)), float(min(max(one[1], hi_1), top))),
                        same=(float(min(same[0], lo_n / eff_n * rows_per, top)),
                              float(min(max(same[1], hi_n / eff_n * rows_per), top))),
                        lag1=float(rho), effective=float(eff_n))
