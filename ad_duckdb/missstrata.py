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


def upper_cell(fn: Any, fn2: Any, heaviest: float) -> tuple[Any, Any]:
    """The missed cell (effective count, rows each stands for) whose 95% upper end is Fay and Feuer's for the missed
    total ``fn`` (sum of squared weights ``fn2``) with a stratum of weight ``heaviest`` that may hold more: gamma's
    shape (fn + h)^2 / (fn2 + h^2) less the one count added, at scale (fn2 + h^2) / (fn + h). Equal weights h give
    the count itself at scale h, as before."""
    fn, fn2 = np.asarray(fn, dtype=np.float64), np.asarray(fn2, dtype=np.float64)
    return (fn + heaviest) ** 2 / (fn2 + heaviest ** 2) - 1.0, (fn2 + heaviest ** 2) / (fn + heaviest)
