"""How an alarm rate varies from period to period (hour, day, week) of the stretch it was set on, and the intervals
that gives for later periods.

Why not the rows' binomial (Wilson) interval alone: it treats rows as independent, but sensor readings close in time
move together, so alarms come in runs and periods vary far more than rows would make them. On NAB's
machine_temperature, "3 a day" set on one normal week flagged 8.7, 2.7 and 3.3 a day in three later weeks, while
Wilson's interval was 1.97-4.57. The periods' own spread carries the dependence within a period: a t interval over
the periods' rates (bench/alarm_interval.py: its coverage on autocorrelated scores and NAB series).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .thresholds import Z95

# Fewer periods than this give no spread worth a t interval (with 2, t's 95% quantile is 4.3 and the spread of two
# values is little more than a guess)
MIN_PERIODS = 3
# A period holding fewer rows than this share of a typical one (the stretch's last, cut short) is left out of the
# spread: its rate is of few rows, noisier than the others
PART = 0.5


@dataclass(frozen=True)
class PeriodSpread:
    """Alarms per period on each whole period of the stretch, and 95% intervals for later ones: ``one`` for a single
    later period, ``same`` for the mean over a later stretch of as many periods."""

    periods: int
    least: float
    most: float
    one: tuple[float, float]
    same: tuple[float, float]


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


def spread(flagged: np.ndarray, period: np.ndarray, rows_per: float) -> PeriodSpread | None:
    """The spread of alarms per period over the whole periods of a stretch (``flagged``: each row's alarm;
    ``period``: each row's period, -1 for none; ``rows_per``: the stretch's rows per period, which turns a period's
    share of alarms into alarms per period); None for fewer than ``MIN_PERIODS`` whole periods.

    A later period's rate differs from the target by its own variation and by the cut's error (the cut is fitted to
    this stretch's periods): var = s^2 (1 + 1/m) for one period, s^2 (1/m + 1/m) for the mean of m later ones."""
    p = np.asarray(period)
    keep = p >= 0
    rows = np.bincount(p[keep])
    alarms = np.bincount(p[keep], weights=np.asarray(flagged, dtype=np.float64)[keep], minlength=len(rows))
    whole = rows >= PART * np.median(rows[rows > 0]) if rows.any() else rows > 0
    m = int(whole.sum())
    if m < MIN_PERIODS:
        return None
    rate = alarms[whole] / rows[whole] * rows_per
    mean, sd, t = float(rate.mean()), float(rate.std(ddof=1)), t95(m - 1)

    def band(scale: float) -> tuple[float, float]:
        half = t * sd * math.sqrt(scale)
        return max(0.0, mean - half), mean + half

    return PeriodSpread(periods=m, least=float(rate.min()), most=float(rate.max()), one=band(1.0 + 1.0 / m),
                        same=band(2.0 / m))
