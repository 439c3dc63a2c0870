"""Whether a training column is heavy-tailed, and so scaled after a signed log (``features.fit_specs``).

Why not the skewness alone: one value can make it: a single 1e9 (a typo, a sentinel) among a thousand amounts of
about 100 has a skewness of about 31, and switched the whole column to the signed log, which squeezes the bulk the
model is meant to learn (amounts of 80 to 120 a few hundredths apart) to fit one row. The choice is about the
column's bulk: where the skewness falls under the limit once the one value farthest from the median is set aside,
and that value lies more than ``LONE_SPREADS`` robust spreads out (the bulk then has a spread to measure it by), the
column is not heavy-tailed. Checked on the benchmark files: no column of the 28 ADBench files (whole, each seed's
semi-supervised half and bootstrap), nor of SKAB's first 400 rows or NAB's first 15% (values and their lag
differences), changes its scaling."""

from __future__ import annotations

import numpy as np

# |skewness| above this: the column spans orders of magnitude (counts, amounts); the best simple rule on ADBench
HEAVY_TAIL_SKEW = 2.0
# A lone value this many robust spreads (IQR / 1.349) of the rest from its median is one outlier, not a tail
LONE_SPREADS = 100.0


def skewness(v: np.ndarray) -> float:
    """The sample skewness of ``v`` (finite values); 0 for values without spread."""
    sd = float(np.std(v))
    return float(np.mean((v - v.mean()) ** 3)) / sd**3 if sd > 1e-12 else 0.0


def _skewed(v: np.ndarray) -> bool:
    s = skewness(v)
    return bool(np.isfinite(s) and abs(s) > HEAVY_TAIL_SKEW)


def heavy_tailed(finite: np.ndarray) -> bool:
    """Whether the column of ``finite`` values takes the signed log: skewed, and not by one value alone."""
    if not _skewed(finite):
        return False
    if finite.size < 4:
        return True
    far = np.abs(finite - np.median(finite))
    i = int(np.argmax(far))
    rest = np.delete(finite, i)
    if _skewed(rest):
        return True
    q1, q3 = np.percentile(rest, [25, 75])
    spread = float(q3 - q1) / 1.349
    # no spread in the rest (a 0/1 column of one 1): no bulk to measure the value against, the old rule stands
    return not (spread > 0 and abs(float(finite[i]) - float(np.median(rest))) / spread > LONE_SPREADS)
