"""The rank correlation of two versions' scores over the rows weighted labelled rows stand for (``compare --label
--weight``): Spearman's, each row counted as its weight.

Why: with normal rows sampled 1 in 50 (weight 50) and every anomaly kept, compare's rank correlation counted the
sampled rows once each, so the anomalies, a few percent of the rows stood for, were a third of the rows it ranked;
its flagged counts, top overlap and figures were already of the rows stood for."""

from __future__ import annotations

import math

import numpy as np


def weighted_ranks(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each row's place among the rows stood for: the weight of the rows scoring below it plus half the weight of
    those scoring the same (its own included), as a midrank counts ties; with weights 1, the midrank less 1/2."""
    order = np.argsort(s, kind="stable")
    ss, ws = s[order], w[order]
    starts = np.r_[0, np.flatnonzero(ss[1:] != ss[:-1]) + 1] if len(ss) else np.zeros(0, dtype=np.int64)
    group_w = np.add.reduceat(ws, starts) if len(ws) else ws
    mid = np.cumsum(group_w) - group_w / 2.0
    out = np.empty_like(ws)
    out[order] = np.repeat(mid, np.diff(np.r_[starts, len(ws)]))
    return out


def weighted_spearman(sa: np.ndarray, sb: np.ndarray, w: np.ndarray) -> float | None:
    """Spearman's correlation of ``sa`` and ``sb`` over rows of weights ``w`` (>= 0; a row of weight 0 counts as
    none): Pearson's of their weighted ranks, each row counted as its weight; with whole weights, the correlation
    of the rows repeated that many times. None where one side's scores are all equal or no row weighs anything."""
    keep = w > 0
    sa, sb, w = (np.asarray(v, dtype=np.float64)[keep] for v in (sa, sb, w))
    total = float(w.sum())
    if not total > 0:
        return None
    ra, rb = weighted_ranks(sa, w), weighted_ranks(sb, w)
    da, db = ra - float(np.sum(w * ra)) / total, rb - float(np.sum(w * rb)) / total
    vx, vy = float(np.sum(w * da * da)), float(np.sum(w * db * db))
    # a spread of rounding only (every score equal): relative to the ranks' own size
    if vx <= 1e-12 * total**3 or vy <= 1e-12 * total**3:
        return None
    return max(-1.0, min(1.0, float(np.sum(w * da * db)) / (math.sqrt(vx) * math.sqrt(vy))))
