"""The sample weights check-threshold reads: the weight column an alarm_rate threshold was set with (its goal's
``weight``), where the rows checked hold it.

Why: a threshold set on a 1-in-4 sample (weight 4) counts each of its rows as 4 readings; checked on a later 1-in-4
sample read unweighted, its alarms a day were the sample's, a quarter of the readings', and a threshold keeping its
budget was called "fewer alarms than promised". Rows without the column (every reading of a later stretch) are each
one row, which is what they are. ``weight=`` (CLI ``--weight``) names another column (a later sample whose weights
are in a column of another name), ``weight=False`` (CLI ``--no-weight``) none: before, a column of the goal's name
holding something else weighed the rows, and a later sample's weights under another name could not be read.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from . import weights as sample_weights


def column(goal: Any, cols: list[tuple[str, str]], given: str | Literal[False] | None = None, ref: str = "",
           source: str = "") -> str | None:
    """The weight column as the rows' source names it: ``given`` (checked: a column of ``source``, as set_threshold
    checks its own), none for False, else the goal's; None where the goal has none or the source lacks it."""
    if given is False:
        return None
    if given is not None:
        return sample_weights.check_column(ref, source, given, "", cols)
    named = goal.get("weight") if isinstance(goal, dict) else None
    if not isinstance(named, str) or not named:
        return None
    return {c.lower(): c for c, _ in cols}.get(named.lower())


def said(weight: str | None, w: np.ndarray | None, share: float, total: float, as_set: bool = True) -> str:
    """The rows' weighted count after their count in the check's statement ('' for unweighted rows); ``as_set``:
    the column is the goal's, not one the check named."""
    if weight is None or w is None:
        return ""
    return f" (weighted by {weight}{', as it was set' if as_set else ''}: {share * total:,.4g} of {total:,.4g} rows)"
