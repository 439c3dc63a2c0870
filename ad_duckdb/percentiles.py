"""The share of training rows below a score, read off a model's stored quantiles."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import scoretail


def share_of_training_above(quantiles: Any, t: float, metrics: dict[str, Any] | None = None) -> float:
    """The share of training rows a threshold ``t`` flags (``score > t``), read off a stored quantile grid and the
    exact top scores ``metrics`` keeps (as ``LoadedModel.share_above``, for a version that is not loaded)."""
    xp, fp = _percentile_curve(*scoretail.points(np.asarray(quantiles, dtype=np.float64), metrics))
    return float(1.0 - np.interp(np.nextafter(t, np.inf), xp, fp, left=0.0, right=1.0))


def _percentile_curve(q: np.ndarray, grid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points for ``np.interp`` giving "the share of training rows with a lower score" from a quantile grid (``grid``:
    each score's share, where not evenly spaced: ``scoretail.points``).

    Why not the grid itself: with tied training scores it holds runs of equal values, where np.interp lands
    anywhere in the run. Each run becomes two points: at its value the share where the run starts, just
    above it the share where it ends; between runs the curve is linear, as before.
    """
    if grid is None:
        grid = np.linspace(0.0, 1.0, len(q))
    starts = np.r_[0, np.nonzero(q[1:] != q[:-1])[0] + 1]
    ends = np.r_[starts[1:] - 1, len(q) - 1]
    xp = np.empty(2 * len(starts))
    fp = np.empty(2 * len(starts))
    xp[0::2], fp[0::2] = q[starts], grid[starts]
    xp[1::2], fp[1::2] = np.nextafter(q[starts], np.inf), grid[ends]
    return xp, fp
