"""The note when a model ranks the rows labelled 0 clearly above those labelled 1: the labels likely
inverted (1 on the normal rows), or anomalies the model does not find odd. Said by ``evaluate``, by a goal's
threshold and by ``compare_versions``."""

from __future__ import annotations

import numpy as np

from . import intervals, optionwords, thresholds, weights
from .scoring import LoadedModel
from .sqltext import quote_ident
from .store import ModelRecord


def _weighted_inverted(lm: LoadedModel | ModelRecord, label: str, s: np.ndarray, y: np.ndarray, w: np.ndarray,
                       c: dict[str, np.ndarray]) -> str | None:
    """``_inverted_labels`` of rows of weights ``w`` (their ``weights.curve`` ``c``): the weighted AUC-ROC and its
    interval on Kish's effective sizes."""
    from .auc import curve_auc_roc

    pos, neg = float(c["tp"][-1]), float(c["flagged"][-1] - c["tp"][-1])
    auc = curve_auc_roc(c, pos, neg)
    eff = (weights.effective(w[y == 1]), weights.effective(w[y == 0]))
    return _inverted_labels(lm, label, s, y, auc, intervals.auc_roc(c, pos, neg, auc, eff=eff))


# Below this AUC-ROC (and clearly below 0.5) the labels may be inverted: inverted, they would give at least 0.6
SLIGHTLY_BELOW_CHANCE = 0.4
_A_LITTLE_BELOW = "is a little below 0.5"


def _inverted_labels(lm: LoadedModel | ModelRecord, label: str, s: np.ndarray, y: np.ndarray,
                     auc: float | None = None, ci: intervals.AUCInterval | None = None) -> str | None:
    """A note when the model ranks the rows labelled 0 clearly above those labelled 1 (the whole 95% interval of
    AUC-ROC below 0.5). Why: labels with 1 on the normal rows (scikit-learn's predict gives 1 to inliers) passed the
    0/1 check, and every figure, and every goal (max_f1 flagged every row), came out inverted without a word."""
    from .auc import curve_auc_roc

    n_pos = int(y.sum())
    if auc is None or ci is None:  # ``auc`` and ``ci``: their AUC-ROC and its interval, when already computed
        c = thresholds.curve(s, y)
        auc = curve_auc_roc(c, n_pos, len(y) - n_pos)
        ci = intervals.auc_roc(c, n_pos, len(y) - n_pos, auc)
    lo, hi = ci.low, ci.high
    if not hi < 0.5:  # NaN (one class only) or not clearly below chance: nothing to say
        return None
    if auc > SLIGHTLY_BELOW_CHANCE:
        # Why not the inversion question: on many rows a model at chance is "clearly" below 0.5 by a hair, and
        # inverted labels would make it no better; the labels are then likely right and the model blind to them
        return (f"AUC-ROC {auc:.3f} (95% interval {lo:.3f}-{hi:.3f}) {_A_LITTLE_BELOW}: {lm.ref} ranks the rows "
                f"labelled 1 no better than chance, and inverting label column {label!r} would make it "
                f"{1 - auc:.3f}, no better. These anomalies are not what {lm.ref} finds odd in its features "
                f"({', '.join(lm.feature_names)}): add the columns that tell them apart, or train on rows known "
                f"normal ({optionwords.opt('where')}).")
    return (f"AUC-ROC {auc:.3f} (95% interval {lo:.3f}-{hi:.3f}) is below 0.5: {lm.ref} scores the rows labelled 0 "
            f"above those labelled 1. Is label column {label!r} inverted? It must be 1 for an anomaly; if 1 marks "
            f"normal rows, pass ({quote_ident(label)} = 0)::INTEGER AS is_anomaly from a query "
            f"({optionwords.opt('label', 'is_anomaly')}). If the labels are right, {lm.ref} ranks these anomalies as "
            "normal.")
