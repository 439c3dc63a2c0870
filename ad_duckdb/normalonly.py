"""``evaluate`` on labelled rows none of which is an anomaly: each threshold's false-alarm rate, the one figure
such rows define.

Why a report, not an error: rows known to be normal (a day checked to be clean, a replayed week without incidents)
are how a new model or threshold is judged before it pages anyone, and "what share of them would it flag" is the
question. Recall, F1, AUC-ROC and AUC-PR need anomalies: they are NaN (JSON null), said so, not 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import intervals, thresholds, weights
from .numbertext import share_text, value_text
from .report import Report
from .scoring import LoadedModel

NOTE = ("No row here is labelled an anomaly (1): each threshold's flagged share is its false-alarm rate, with its 95% "
        "interval; recall, F1, AUC-ROC and AUC-PR are undefined without anomalies (NaN; JSON null), and there are no "
        "candidate cut-offs to trade recall against. Add rows labelled 1 to judge those.")

AUC_METHOD = "undefined: no labelled anomaly"


def report(lm: LoadedModel, s: np.ndarray, w: np.ndarray | None, share: float | None) -> Report:
    """evaluate's ``report.Report`` of scores ``s`` of rows all labelled 0 (``w``: their weights, all above 0):
    each stored threshold's flags as false alarms, their rate and its Wilson interval (of Kish's effective size
    with weights)."""
    weight = np.ones(len(s)) if w is None else np.asarray(w, dtype=np.float64)
    total = float(weight.sum())
    n_eff = float(len(s)) if w is None else float(weights.effective(weight))
    at: dict[str, dict[str, float]] = {}
    for name, value in sorted(lm.thresholds.items()):
        flag = s > value
        fp = float(weight[flag].sum())
        rate = fp / total if total else float("nan")
        lo, hi = thresholds.wilson(rate * n_eff, n_eff)
        counts: dict[str, float] = {"tp": 0, "fp": int(fp) if w is None else fp, "fn": 0,
                                    "tn": int(total - fp) if w is None else total - fp}
        at[name] = {"value": value, **counts,
                    # every flag a false alarm: precision 0 where it flags any row, undefined where none
                    "precision": 0.0 if fp else float("nan"), "recall": float("nan"), "f1": float("nan"),
                    "flagged_share": rate, "false_alarm_rate": rate,
                    "false_alarm_rate_lo": float(lo), "false_alarm_rate_hi": float(hi)}
        if share is not None:
            at[name]["precision_at_share"] = float("nan")  # needs the recall anomalies give
    nan = float("nan")
    return Report(model=lm.ref, rows=len(s), anomalies=0, auc_roc=nan, auc_pr=nan, at_thresholds=at,
                          table=[], anomaly_share=share, auc_roc_ci=intervals.AUCInterval(nan, nan, AUC_METHOD))


def lines(rep: Report, width: int) -> list[str]:
    """The threshold table ``print(report)`` shows for such a report: false alarms and their rate, in place of the
    precision and recall columns it cannot fill."""
    out = [f"{'threshold':<{width}}{'value':>12}{'false alarms':>14}{'false-alarm rate':>18}{'(95%)':>15}"]
    for name, m in rep.at_thresholds.items():
        ci = f"{share_text(m['false_alarm_rate_lo'])}-{share_text(m['false_alarm_rate_hi'])}"
        out.append(f"{name:<{width}}{value_text(m['value']):>12}{_count(m['fp']):>14}"
                   f"{share_text(m['false_alarm_rate']):>18}{ci:>15}")
    if rep.at_thresholds:
        out.append("(false-alarm rate: the share of these normal rows each threshold flags; 95%: Wilson interval)")
    return out


def _count(v: Any) -> str:
    return f"{v:.0f}" if isinstance(v, float) else str(v)
