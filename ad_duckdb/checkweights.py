"""The sample weights check-threshold reads: the weight column an alarm_rate threshold was set with (its goal's
``weight``), where the rows checked hold it.

Why: a threshold set on a 1-in-4 sample (weight 4) counts each of its rows as 4 readings; checked on a later 1-in-4
sample read unweighted, its alarms a day were the sample's, a quarter of the readings', and a threshold keeping its
budget was called "fewer alarms than promised". Rows without the column (every reading of a later stretch) are each
one row, which is what they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def column(goal: Any, cols: list[tuple[str, str]]) -> str | None:
    """The goal's weight column as the rows' source names it; None where the goal has none or the source lacks it."""
    named = goal.get("weight") if isinstance(goal, dict) else None
    if not isinstance(named, str) or not named:
        return None
    return {c.lower(): c for c, _ in cols}.get(named.lower())


def said(weight: str | None, w: np.ndarray | None, share: float, total: float) -> str:
    """The rows' weighted count after their count in the check's statement ('' for unweighted rows)."""
    if weight is None or w is None:
        return ""
    return f" (weighted by {weight}, as it was set: {share * total:,.4g} of {total:,.4g} rows)"
