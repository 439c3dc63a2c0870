"""What ``predict_proba`` and ``predict_confidence`` read of a model's training scores, for a fitted detector (every
score) and for one loaded from the store (a summary kept in the model's metrics).

Why a summary: the store keeps no score per training row (20M rows would be 160 MB per version). PyOD's formulas
need only the lowest and highest score ('linear'), their mean and standard deviation ('unify'), and for the
confidence each score's rank among the training scores, which matters only near the threshold's rank: a binomial
tail whose width is sqrt(n c (1 - c)) ranks. So a stored model keeps the scores of the ranks within
``_exact_ranks`` of the threshold's exactly, and beyond them the confidence is 1 to float64 rounding, whatever the
rank read from the 1001 quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

STD = "train_score_std"
RANKS = "threshold_ranks"
# the binomial tail beyond the ranks kept: a confidence of 1 to float64 rounding
_TAIL = 1e-17
# at most this many scores either side (16 KB of JSON): exact ranks for up to about 1.6M training rows at the default
# contamination; beyond, the outer ranks are read from the quantiles
_MOST = 1024


def _threshold_rank(n: int, contamination: float) -> int:
    """The rank (scores at or below it) where the confidence turns: ``confidence.confidence``'s k."""
    return n - int(n * contamination)


def stored_summary(scores: np.ndarray, contamination: float) -> dict[str, Any]:
    """The metrics a new model keeps for predict_proba and predict_confidence: the scores' standard deviation and the
    sorted scores of the ranks around the threshold's (``first``: the 0-based rank of the first). ``scores`` may
    be reordered in place (``thresholds.score_quantiles``' own=True)."""
    n = len(scores)
    k = _threshold_rank(n, contamination)
    lo, hi = _exact_ranks(n, k)
    std = float(scores.std())  # before the partition: the same value, in the rows' order as fit's decision_scores_
    scores.partition([lo, hi])
    window = np.sort(scores[lo:hi + 1])
    return {STD: std, RANKS: {"first": lo, "scores": [float(v) for v in window]}}


def _exact_ranks(n: int, k: int) -> tuple[int, int]:
    """The ranks (0-based, first and last) whose scores a stored model keeps: beyond them the binomial tail the
    confidence reads is below ``_TAIL`` (1 to float64 rounding) whatever a score's exact rank. Widened until it is,
    as for a few anomalies (k near n) the tail is far longer than a normal one of the same width."""
    from .confidence import regularized_beta

    def tail(rank: int) -> float:  # the confidence's anomaly probability for a score of ``rank`` scores at or below
        p = (1.0 + rank) / (2.0 + n)
        return float(regularized_beta(k + 1.0, float(n - k), np.array([p]))[0]) if k < n else 0.0

    half = 16
    while half < _MOST and ((k - half > 0 and tail(k - half) > _TAIL) or (k + half < n and 1.0 - tail(k + half + 1) > _TAIL)):
        half *= 2
    return max(0, k - half), min(n - 1, k + half)


@dataclass(frozen=True)
class TrainingScores:
    """What the probability conversions need of ``n`` training scores; ``std`` None and ``window`` None when a
    stored model predates them."""

    n: int
    low: float
    high: float
    mean: float | None
    std: float | None
    quantiles: np.ndarray | None  # None: ``exact`` holds every score, sorted
    exact: np.ndarray  # every score (fitted), or those of ranks first .. first + len - 1 (stored)
    first: int = 0

    @classmethod
    def of_scores(cls, scores: np.ndarray) -> TrainingScores:
        given = np.asarray(scores, dtype=np.float64)
        given = given[~np.isnan(given)]
        s = np.sort(given)  # mean and std in the rows' order, as before: the same last digits
        return cls(len(s), float(s[0]), float(s[-1]), float(given.mean()), float(given.std()), None, s)

    @classmethod
    def of_metrics(cls, n: int | None, metrics: dict[str, Any]) -> TrainingScores | None:
        """A stored model's; None when it holds no quantiles (a model imported from a file without them)."""
        if not n or not isinstance(metrics.get("score_quantiles"), list) or len(metrics["score_quantiles"]) < 2:
            return None
        q = np.asarray(metrics["score_quantiles"], dtype=np.float64)
        ranks = metrics.get(RANKS)
        std = metrics.get(STD)
        window = np.asarray(ranks["scores"], dtype=np.float64) if ranks else np.empty(0)
        return cls(n, float(q[0]), float(q[-1]), metrics.get("train_score_mean"), None if std is None else float(std),
                   q, window, int(ranks["first"]) if ranks else 0)

    @property
    def ranks_known(self) -> bool:
        return self.quantiles is None or len(self.exact) > 0

    def at_or_below(self, s: np.ndarray) -> np.ndarray:
        """How many training scores are at or below each of ``s`` (NaN: 0)."""
        if self.quantiles is None:
            return np.searchsorted(self.exact, s, side="right")
        s = np.where(np.isnan(s), -np.inf, s)  # a NaN score's confidence is NaN whatever its rank
        w, first = self.exact, self.first
        inside = first + np.searchsorted(w, s, side="right")
        # beyond the exact ranks: the rank where the quantiles' piecewise-linear curve reaches s, kept beyond them
        q = self.quantiles
        j = np.clip(np.searchsorted(q, s, side="right") - 1, 0, len(q) - 2)
        gap = q[j + 1] - q[j]
        frac = np.where(gap > 0, (s - q[j]) / np.where(gap > 0, gap, 1.0), 1.0)
        pos = np.clip((j + np.clip(frac, 0.0, 1.0)) / (len(q) - 1), 0.0, 1.0) * (self.n - 1)
        read = np.where(s < q[0], 0, np.floor(pos + 1e-9).astype(np.int64) + 1)
        read = np.where(s < w[0], np.minimum(read, first), np.maximum(read, first + len(w)))
        return np.where((s >= w[0]) & (s < w[-1]), inside, read).astype(np.int64)
