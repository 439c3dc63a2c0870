"""Numbers as the commands print them: to the digits a column's spread tells apart."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .features import FeatureSpec, raw_values
from .texttable import float_text as _float_text


def _spread_places(spread: float) -> int:
    """Decimals that show 3 significant digits of a spread (a range's width, a column's robust spread)."""
    return max(0, 2 - math.floor(math.log10(spread)))


def _against_spread(v: float, spread: float) -> str:
    """``v`` as tables print it, unless that loses digits its ``spread`` tells apart: then to 3 significant digits of
    the spread (whole numbers for a large one).

    Why: a BIGINT column near 9e18 with a spread of 1e7 showed fill and center as "9e+18", the same for any median."""
    text = _float_text(v)
    if not (math.isfinite(v) and math.isfinite(spread) and spread > 0) or abs(float(text) - v) <= spread / 1000:
        return text
    return f"{v:.{_spread_places(spread)}f}"


def _decimals(values: Sequence[float], least: int) -> int:
    """How many decimals a column of figures is printed with, one number for the whole column: ``least``, or more
    until its smallest non-zero value shows its first significant digit.

    Why one per column: each cell to 6 digits read "5e-05" above "0.0001" and "0.00015" (evaluate's candidates)."""
    tiny = min((abs(v) for v in values if v and math.isfinite(v)), default=1.0)
    return max(least, min(-math.floor(math.log10(tiny)), 12))


def _raw_spread(spec: FeatureSpec) -> float:
    """A column's robust spread in its own units (around the median: its signed log, if any, undone)."""
    lo, hi = raw_values(spec, np.array([-1.0, 1.0]))
    return float(hi - lo) / 2
