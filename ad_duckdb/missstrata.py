"""The missed anomalies of a weighted sample split by weight: the heaviest weight a missed anomaly could have had,
and the missed cell that recall's lower end reads from it.

Why: with the alerts all reviewed (weight 1) and the rest audited 1 in k (weight k), the anomalies missed at a cut
above the audit's own are of two strata, the reviewed ones between the two cuts (weight 1) and those below the
audit's cut, seen only where the audit drew one (weight k). Where it drew none, the missed cell held the reviewed
ones alone and read as complete, and recall's interval held the process's recall in 26-99% of simulated audits
(bench/results/recall_strata_2026-12-05.md). The missed total is a weighted sum of counts, as a directly
standardized rate; its upper end is Fay and Feuer's (1997): one more count at the heaviest weight of any stratum,
drawn or not, so an empty stratum's count is bounded at its weight."""

from __future__ import annotations

from typing import Any

import numpy as np


def heaviest_miss(s: np.ndarray, y: np.ndarray, w: np.ndarray, flag: np.ndarray) -> float | None:
    """The weight a missed anomaly could have, where it is above every missed anomaly's drawn and the normal rows
    weigh more below the cut than at it (None elsewhere): the heaviest unflagged normal row's weight times the
    classes' ratio among the flagged rows (a flagged anomaly's weight over the normal rows' at the cut). Weights
    read as a product of one factor per class and one per stratum, as ``recall_interval``'s: an audit's ratio is 1
    (its missed anomalies below the audit's cut weigh k, as its normal rows there).

    Why only where the normal rows weigh more below the cut: there the sample was drawn by score (an audit's cut
    under this one), and a stratum below may hide misses; weights that do not rise below the cut (normal rows
    sampled 1 in k, or weights of their own per row) leave the missed cell as drawn."""
    caught, at_cut = flag & y, _at_cut(s, y, w, flag)
    if at_cut is None or not caught.any():
        return None
    heaviest = float(w[~flag & ~y].max()) * _scale(w[caught]) / _scale(w[at_cut])
    missed = ~flag & y
    drawn = float(w[missed].max()) if missed.any() else 0.0
    return heaviest if heaviest > drawn * (1 + 1e-9) and np.isfinite(heaviest) else None


def unseen_caught(s: np.ndarray, y: np.ndarray, w: np.ndarray, flag: np.ndarray) -> float | None:
    """Where no anomaly is flagged and the normal rows weigh more below the cut than at it, the weight a flagged
    anomaly would have had: the normal rows' at the cut times the classes' ratio read among the unflagged rows
    scoring nearest below the cut; None elsewhere.

    Why not the product of the other three cells' weights, as ``recall_interval`` reads it: at a cut above an
    audit's, the unflagged normal rows mix the reviewed (1) and the audited (k), and that read a caught anomaly as
    standing for 1/k of a row, so that 4 missed anomalies of weight 1 and none caught gave recall's upper end 0.03
    where 0.49 fits."""
    missed, at_cut = ~flag & y, _at_cut(s, y, w, flag)
    if at_cut is None or (flag & y).any() or not missed.any():
        return None
    return _scale(w[at_cut]) * _scale(w[_nearest(s, missed)]) / _scale(w[_nearest(s, ~flag & ~y)])


def _at_cut(s: np.ndarray, y: np.ndarray, w: np.ndarray, flag: np.ndarray) -> np.ndarray | None:
    """The normal rows at the cut (those flagged, or the unflagged ones scoring nearest below it where none is),
    where some unflagged normal row weighs more than every one of them; None elsewhere."""
    unflagged = ~flag & ~y
    if not unflagged.any():
        return None
    at = flag & ~y
    if not at.any():
        at = _nearest(s, unflagged)
    return at if float(w[unflagged].max()) > float(w[at].max()) * (1 + 1e-9) else None


def _nearest(s: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The rows of ``rows`` at their highest score."""
    return rows & (s == s[rows].max())


def _scale(w: np.ndarray) -> float:
    """The rows an effective row stands for: sum w^2 / sum w."""
    return float((w * w).sum() / w.sum())


def upper_cell(fn: Any, fn2: Any, heaviest: Any) -> tuple[Any, Any]:
    """The missed cell (effective count, rows each stands for) whose 95% upper end is Fay and Feuer's for the missed
    total ``fn`` (sum of squared weights ``fn2``) with a stratum of weight ``heaviest`` that may hold more: gamma's
    shape (fn + h)^2 / (fn2 + h^2) less the one count added, at scale (fn2 + h^2) / (fn + h). Equal weights h give
    the count itself at scale h, as before."""
    fn, fn2 = np.asarray(fn, dtype=np.float64), np.asarray(fn2, dtype=np.float64)
    return (fn + heaviest) ** 2 / (fn2 + heaviest ** 2) - 1.0, (fn2 + heaviest ** 2) / (fn + heaviest)


def per_cut(s: np.ndarray, y: np.ndarray, w: np.ndarray, last: np.ndarray) -> dict[str, np.ndarray]:
    """``heaviest_miss``, ``unseen_caught`` and the weight a flagged normal row would have had where none is
    (``weights.confusion``'s ``unseen_fp``) at every cut of a curve at once, NaN where each is None: rows ``s``,
    ``y``, ``w`` sorted by score, highest first; ``last``: each cut's last flagged row (``weights.curve``'s).

    Why: a goal with ``confident=True`` reads the lower ends at every cut (``weights.lower_ends``), and read the
    missed cell as drawn where evaluate's and threshold's printed intervals count the unseen stratum: min_recall
    --target 0.6 --confident stored a cut whose printed recall interval began at 0.583. Why not ``confusion`` per
    cut: one pass of the rows each, a cut per distinct score."""
    yb = np.asarray(y).astype(bool)
    normal = ~yb
    after = last + 1
    n_flagged, a_flagged = np.cumsum(normal)[last], np.cumsum(yb)[last]
    n_total, a_total = int(normal.sum()), int(yb.sum())
    max_unflagged = np.r_[np.maximum.accumulate(np.where(normal, w, -np.inf)[::-1])[::-1], -np.inf][after]
    max_missed = np.r_[np.maximum.accumulate(np.where(yb, w, -np.inf)[::-1])[::-1], -np.inf][after]
    max_flagged = np.maximum.accumulate(np.where(normal, w, -np.inf))[last]
    wn, wa = w[normal], w[yb]
    fp, fp2 = np.cumsum(np.where(normal, w, 0.0))[last], np.cumsum(np.where(normal, w * w, 0.0))[last]
    tp, tp2 = np.cumsum(np.where(yb, w, 0.0))[last], np.cumsum(np.where(yb, w * w, 0.0))[last]
    next_n_scale, next_n_max = _next_group(s[normal], wn, n_flagged)
    next_a_scale, _ = _next_group(s[yb], wa, a_flagged)
    with np.errstate(invalid="ignore", divide="ignore"):
        some_flagged = n_flagged > 0
        at_scale = np.where(some_flagged, fp2 / fp, next_n_scale)
        at_max = np.where(some_flagged, max_flagged, next_n_max)
        at_cut = (n_flagged < n_total) & (max_unflagged > at_max * (1 + 1e-9))
        heaviest = max_unflagged * (tp2 / tp) / at_scale
        drawn = np.where(np.isfinite(max_missed), max_missed, 0.0)
        heaviest = np.where(at_cut & (a_flagged > 0) & (heaviest > drawn * (1 + 1e-9)) & np.isfinite(heaviest),
                            heaviest, np.nan)
        caught = np.where(at_cut & (a_flagged == 0) & (a_flagged < a_total),
                          at_scale * next_a_scale / next_n_scale, np.nan)
    unseen_fp = np.where(some_flagged, np.nan, next_n_scale)
    return {"heaviest_miss": heaviest, "unseen_caught": caught, "unseen_fp": unseen_fp}


def _next_group(s: np.ndarray, w: np.ndarray, taken: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of one class's rows ``s``, ``w`` (sorted by score, highest first), those at the highest score below each
    cut (``taken``: how many of them it flags): their sum w^2 / sum w and their heaviest weight; NaN past the last."""
    if len(s) == 0:
        nan = np.full(len(taken), np.nan)
        return nan, nan
    start = np.r_[True, s[1:] != s[:-1]]
    group = np.cumsum(start) - 1
    sums, squares = np.bincount(group, w), np.bincount(group, w * w)
    heaviest = np.maximum.reduceat(w, np.flatnonzero(start))
    g = group[np.minimum(taken, len(s) - 1)]
    past = taken >= len(s)
    return np.where(past, np.nan, squares[g] / sums[g]), np.where(past, np.nan, heaviest[g])
