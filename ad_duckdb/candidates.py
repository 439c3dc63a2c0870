"""The candidate table: a readable sample of the threshold curve, each cut the shortest decimal that flags what its
figures count."""

from __future__ import annotations

import numpy as np

from . import leancurve
from .thresholds import curve


def candidate_table(scores: np.ndarray, labels: np.ndarray, n: int = 25,
                    c: dict[str, np.ndarray] | None = None) -> list[dict[str, float]]:
    """A readable sample of the threshold curve: about ``n`` rows spread over the flagged share; ``c``: the
    ``thresholds.curve`` of the rows, when already computed."""
    c = curve(scores, labels) if c is None else c
    if len(c["scores"]) == 0:
        return []
    shares = np.geomspace(1.0 / len(scores), 1.0, n)
    found = c.share_index(shares) if isinstance(c, leancurve.LeanCurve) else np.searchsorted(c["flagged_share"], shares)
    idx = np.unique(found.clip(0, len(c["scores"]) - 1))
    distinct = c["scores"][::-1]  # ascending, as np.unique's, without sorting the rows again
    rows = leancurve.rows_at(c, idx)
    for r in rows:
        r["threshold"] = _short_cut(r["threshold"], distinct)
    return rows


def _short_cut(t: float, distinct: np.ndarray) -> float:
    """The shortest decimal (of 6 significant digits or more) that flags what ``t`` does among ``distinct`` (the
    sorted scores), in the middle half of the gap ``t`` lies in; ``t`` itself where none is.

    Why: the table is read to be typed back (``--method manual --value V``), and 6 digits of a cut between scores
    1e-7 apart, or of the one just below the lowest score, flagged a row more or less than its figures count. The
    middle half keeps the margin a midpoint has against the float32 rounding of scores computed again."""
    i = int(np.searchsorted(distinct, t, side="right"))
    if i >= len(distinct) or not np.isfinite(t):
        return t
    hi = float(distinct[i])
    lo = float(distinct[i - 1]) if i > 0 else hi - max(abs(hi), 1e-300) * 1e-3  # below the lowest: within 0.1%
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return t
    a, b, mid = lo + (hi - lo) / 4, hi - (hi - lo) / 4, lo + (hi - lo) / 2
    for digits in range(6, 18):
        v = float(f"{mid:.{digits}g}")
        if a <= v <= b:
            return v
    return t
