"""Figures as reports print them: counts of rows (or of what weighted rows stand for), thresholds, shares."""

from __future__ import annotations

import math


def count_text(v: float) -> str:
    """A count of rows, or of what weighted rows stand for: whole numbers plain, others to 6 digits."""
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.6g}"


def value_text(v: float) -> str:
    """A threshold as a report prints it: 6 significant digits, without an exponent from 1 to 1e12 (a value of
    299998.5 read 3e+05, a figure no one types back)."""
    text = f"{v:.6g}"
    return f"{v:.0f}" if "e" in text and 1 <= abs(v) < 1e12 else text


def share_text(p: float) -> str:
    """A share as a percentage, ``0.02%``; below 0.01% to its first significant digit (``0.001%``), so 1 row in
    100,000 does not read as none."""
    if 0 < abs(p) < 5e-5:
        return f"{p * 100:.{-math.floor(math.log10(abs(p) * 100))}f}%"
    return f"{p:.2%}"
