"""A threshold's confusion figures on labelled scores (precision, recall, F1 with Wilson intervals), and its
precision where anomalies are another share of the rows."""

from __future__ import annotations

import numpy as np

from . import intervals
from .thresholds import wilson


def confusion(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    flag = s > threshold
    tp = int(np.sum(flag & y))
    fp = int(np.sum(flag & ~y))
    fn = int(np.sum(~flag & y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    p_lo, p_hi = wilson(tp, tp + fp)
    r_lo, r_hi = wilson(tp, tp + fn)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": int(np.sum(~flag & ~y)), "precision": precision, "recall": recall,
            "f1": f1, "flagged_share": float(flag.mean()) if len(s) else 0.0,
            "precision_lo": p_lo, "precision_hi": p_hi, "recall_lo": r_lo, "recall_hi": r_hi}


def precision_at_share(m: dict[str, float], share: float) -> float:
    """The precision of ``confusion`` figures ``m`` where anomalies are ``share`` of the rows: recall and false-alarm
    rate do not depend on the labelled rows' own share, precision does. NaN where it is undefined (no row flagged,
    or no normal row to give a false-alarm rate)."""
    tp, fp, fn, tn = m["tp"], m["fp"], m["fn"], m["tn"]
    if not (tp + fp) or not (fp + tn) or not (tp + fn):
        return float("nan")
    caught, alarms = share * tp / (tp + fn), (1.0 - share) * fp / (fp + tn)
    return caught / (caught + alarms) if caught + alarms else float("nan")


def at_share(m: dict[str, float], share: float,
             counts: tuple[float, float, float, float] | None = None) -> dict[str, float]:
    """``precision_at_share`` of ``confusion`` figures ``m`` with its 95% interval (``intervals.precision_at_share``):
    the keys ``precision_at_share``, ``precision_at_share_lo`` and ``precision_at_share_hi``. ``counts``: the tp,
    fp, fn, tn the interval takes, when not ``m``'s (weighted rows: ``weights.effective_counts``)."""
    lo, hi = intervals.precision_at_share(*(counts or (m["tp"], m["fp"], m["fn"], m["tn"])), share)
    return {"precision_at_share": precision_at_share(m, share), "precision_at_share_lo": lo,
            "precision_at_share_hi": hi}
