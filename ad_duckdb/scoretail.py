"""The highest training scores, kept exactly beside the 1001 stored quantiles, where the rows a cut is set for lie.

Why: the quantiles' last step spans the top 0.1% of the training rows (200 of 200,000), read as a straight line up to
the highest score. A cut a user reads off the score plot lies there, in the gap below a few far-out rows: on 200,000
rows a cut of 10 between the bulk (up to 7) and five rows at 130 was said to flag 0.097% of the rows (the line's
point), not 0.0025%, and `--carry-thresholds` moved it to the 99.9% point of the next version's scores, 194 flags
where it had flagged none. So a model keeps the scores of that step's rows (at most ``_MOST``; beyond, the rows
between the last kept one and the 99.9% quantile are still read off the line).
"""

from __future__ import annotations

from typing import Any

import numpy as np

TOP = "score_top"
_MOST = 1024


def stored(scores: np.ndarray) -> dict[str, Any]:
    """The metrics entry a new model keeps: the sorted highest scores and ``first``, the 0-based rank of the lowest
    of them. ``scores`` may be reordered in place (as ``thresholds.score_quantiles``' own=True)."""
    n = len(scores)
    if n < 2:
        return {}
    keep = min(n, _MOST, -(-(n - 1) // 1000) + 1)  # the ranks from the 99.9% quantile's up
    first = n - keep
    scores.partition(first)
    return {TOP: {"first": first, "scores": [float(v) for v in np.sort(scores[first:])]}}


def points(quantiles: np.ndarray, metrics: dict[str, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """The stored training scores as (score, share of training rows at or below its rank) points, ascending: the
    quantile grid, whose last steps give way to the exact top scores where the model keeps them."""
    q = np.asarray(quantiles, dtype=np.float64)
    grid = np.linspace(0.0, 1.0, len(q))
    top = (metrics or {}).get(TOP)
    if not top or len(top.get("scores") or []) < 1:
        return q, grid
    exact = np.asarray(top["scores"], dtype=np.float64)
    n = int(top["first"]) + len(exact)
    if n < 2:
        return q, grid
    at = (int(top["first"]) + np.arange(len(exact))) / (n - 1)
    below = grid < at[0]
    values = np.r_[q[below], exact]
    # a quantile below the first exact rank is no higher than its score but for float rounding: kept ascending
    return np.maximum.accumulate(values), np.r_[grid[below], at]
