"""evaluate's threshold curve kept to the three arrays the others are computed from: ``tp``, ``flagged`` and
``scores`` (``thresholds.curve_counts``). The candidate table reads its 25 rows' precision, recall, F1, flagged share
and cut at their indices, and AUC-PR its terms in two arrays; any other array a reader asks for is computed whole
(``thresholds.curve``'s, the same floats).

Why: evaluate's peak at 10 million distinct scores was DuckDB's label join plus the curve's 8 arrays of 80 MB each,
of which it reads 25 rows of five; the figures are the same floats (bench/results/stat_memory_2026-12-05.md)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import thresholds


class LeanCurve(dict):  # type: ignore[type-arg]
    """``thresholds.curve`` holding ``tp``, ``flagged`` and ``scores``; ``n``: the rows' count, ``pos``: the
    anomalies'. A key it does not hold is computed whole from them on each read (not kept)."""

    def __init__(self, scores: np.ndarray, labels: np.ndarray) -> None:
        tp, flagged, desc, n = thresholds.curve_counts(scores, labels)
        super().__init__(tp=tp, flagged=flagged, scores=desc)
        self.n = n
        self.pos = float(tp[-1]) if len(tp) else 0.0

    def __missing__(self, key: str) -> np.ndarray:
        if key == "threshold":
            return thresholds.cut_values(self["scores"])
        if key == "flagged_share":
            return self["flagged"] / self.n
        precision = self["tp"] / self["flagged"]
        recall = self["tp"] / self.pos if self.pos > 0 else np.zeros_like(self["tp"])
        if key == "precision":
            return precision
        if key == "recall":
            return recall
        if key == "f1":
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        raise KeyError(key)

    def row(self, i: int) -> dict[str, float]:
        """The curve's threshold, precision, recall, F1 and flagged share at index ``i``: the floats of the whole
        arrays' (each an elementwise operation of float64)."""
        tp, flagged, desc = self["tp"][i], self["flagged"][i], self["scores"]
        precision = tp / flagged
        recall = tp / self.pos if self.pos > 0 else np.float64(0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else np.float64(0.0)
        if i < len(desc) - 1:
            with np.errstate(invalid="ignore"):
                cut = (desc[i] + desc[i + 1]) / 2.0
            cut = cut if np.isfinite(cut) else desc[i + 1]
        else:
            cut = np.nextafter(desc[-1], -np.inf)
        return {"threshold": float(cut), "precision": float(precision), "recall": float(recall), "f1": float(f1),
                "flagged_share": float(flagged / self.n)}

    def share_index(self, share: np.ndarray) -> np.ndarray:
        """``np.searchsorted(flagged_share, share)``: the first index whose flagged share is ``share`` or more,
        found on ``flagged`` and checked on the share's own float (a few shares: the table's)."""
        f, n = self["flagged"], self.n
        out = np.searchsorted(f, np.asarray(share) * n)
        for j, g in enumerate(np.asarray(share)):
            i = int(out[j])
            while i > 0 and f[i - 1] / n >= g:
                i -= 1
            while i < len(f) and f[i] / n < g:
                i += 1
            out[j] = i
        return out

    def auc_pr(self) -> float:
        """Average precision, as ``auc.auc_pr`` sums it (the same terms, the same float), in two arrays."""
        tp = self["tp"]
        step = np.empty_like(tp)
        buf = tp / self.pos  # recall
        step[0] = buf[0] - 0.0
        np.subtract(buf[1:], buf[:-1], out=step[1:])
        np.divide(tp, self["flagged"], out=buf)  # precision
        step *= buf
        return float(np.sum(step))


def diff0(a: np.ndarray) -> np.ndarray:
    """``np.diff(a, prepend=0.0)`` (the same floats) in one new array, without the joined copy it makes first."""
    out = np.empty_like(a)
    if len(a):
        out[0] = a[0] - 0.0
        np.subtract(a[1:], a[:-1], out=out[1:])
    return out


def rows_at(c: Any, idx: np.ndarray) -> list[dict[str, float]]:
    """The candidate table's rows at ``idx`` of a curve, lean or whole."""
    if isinstance(c, LeanCurve):
        return [c.row(int(i)) for i in idx]
    return [{k: float(c[k][i]) for k in ("threshold", "precision", "recall", "f1", "flagged_share")} for i in idx]
