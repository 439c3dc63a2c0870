"""The column a row's oddest column is odd against, for ``ad-duckdb explain``'s line on rows whose values are each
typical on their own (the combination is what is unusual).

Why not the column with the second largest share: a value at its training median has no Shapley share at all
(putting it in place of the median changes nothing), so where a row breaks b = 2 a with a at its median, b took all
the share and the second "largest" was a column of noise with 0%: the line said "b against c". On rows breaking
b = 2 a (a near its median, three noise columns; seeds 0-2) that named the pair 42-50% of the time; asking which
other column, moved, makes the row fit names it every time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FeatureSpec, is_integer_type
from .missing import candidates
from .scoring import LoadedModel

# The partner's best value must take at least this share off the row's score: less, and no one column's value is
# what the odd one goes against (several together are), so none is named as if it were.
PARTNER_DROP = 0.25


@dataclass(frozen=True)
class Partner:
    """Column ``column`` (an index into the model's features) at ``value`` gives the row the score ``score``."""

    column: int
    value: float
    score: float


def relation_partner(lm: LoadedModel, x: np.ndarray, present: np.ndarray, top: int) -> Partner | None:
    """Of the row's other present columns, the one whose value, moved to the training median or 0.5, 1 or 2 robust
    spreads around it (inside the training range; whole numbers for an integer column), lowers the row's score
    most, with that value and score; None where no such move takes PARTNER_DROP of the score off.

    ``x``: the row as scored (no NaN: ``LoadedModel.as_scored``); ``present``: which of its values the source held
    (a missing value is never a reason, so never a partner); ``top``: the column with the largest share."""
    specs = lm.rec.features
    tried: list[tuple[int, float]] = []
    for k, values in enumerate(_moves(specs)):
        if k != top and present[k]:
            tried.extend((k, float(v)) for v in values if v != x[k])
    if not tried:
        return None
    rows = np.repeat(x[None, :], len(tried) + 1, axis=0)
    for i, (k, v) in enumerate(tried, start=1):
        rows[i, k] = v
    s = lm.scores(rows, missing=False).astype(np.float64)
    best = int(np.argmin(s[1:]))
    if not s[1 + best] <= (1.0 - PARTNER_DROP) * s[0]:
        return None
    k, v = tried[best]
    return Partner(k, v, float(s[1 + best]))


def _moves(specs: list[FeatureSpec]) -> list[np.ndarray]:
    """Per column, the values ``relation_partner`` tries: ``missing.candidates`` and the median."""
    out = []
    for f, c in zip(specs, candidates(specs), strict=True):
        v = np.append(c, f.fill)
        out.append(np.unique(np.round(v) if is_integer_type(f.sql_type) else v))
    return out
