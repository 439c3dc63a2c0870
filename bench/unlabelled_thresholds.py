"""Experiment: where to cut without labels. Thresholds taken from the training scores alone, judged by the labels.

Why kept: most users have no labels, and the default threshold flags a fixed share of rows (contamination 0.01)
whatever the data hold. This script measures rules that read the shape of the training scores instead (outlier
fences on the scores or their logs, Otsu's split of the log scores) against fixed shares, on the 28 ADBench files.
Results: bench/results/unlabelled_thresholds_2026-12-01.md.

One default fit per (file, protocol, seed), as bench/quality.py fits it. Each rule sees only the training rows'
scores; precision, recall and F1 are measured on the scored rows (bench/quality.py's split).

Usage:
    python bench/unlabelled_thresholds.py --files cardio thyroid --seeds 0 --out quick.csv
    python bench/unlabelled_thresholds.py --out full.csv          # 28 files x semi/unsup x seeds 0 1 2
    python bench/unlabelled_thresholds.py --summarize full.csv
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from global_terms import fit_default, main  # noqa: E402  (the same fit and command line)


def _mad_fence(v: np.ndarray, k: float) -> float:
    med = float(np.median(v))
    return med + k * 1.4826 * float(np.median(np.abs(v - med)))


def _otsu(v: np.ndarray, bins: int = 256) -> float:
    hist, edges = np.histogram(v, bins=bins)
    mids = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * mids) / np.maximum(w0, 1)
    m1 = (np.sum(hist * mids) - np.cumsum(hist * mids)) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    return float(edges[1:][int(np.argmax(between[:-1]))])


def rules(train: np.ndarray) -> dict[str, float]:
    """Each rule's threshold from the training scores (a row is flagged when its score is above it)."""
    lg = np.log(np.maximum(train, 1e-12))
    q1, q3 = np.quantile(train, [0.25, 0.75])
    lq1, lq3 = np.quantile(lg, [0.25, 0.75])
    out = {f"share {s:g}": float(np.quantile(train, 1 - s)) for s in (0.001, 0.01, 0.02, 0.05, 0.1)}
    out |= {
        "tukey 1.5": float(q3 + 1.5 * (q3 - q1)),
        "tukey 3": float(q3 + 3 * (q3 - q1)),
        "mad 3": _mad_fence(train, 3),
        "mad 5": _mad_fence(train, 5),
        "log tukey 1.5": float(np.exp(lq3 + 1.5 * (lq3 - lq1))),
        "log tukey 3": float(np.exp(lq3 + 3 * (lq3 - lq1))),
        "log mad 3": float(np.exp(_mad_fence(lg, 3))),
        "log mad 5": float(np.exp(_mad_fence(lg, 5))),
        "log otsu": float(np.exp(_otsu(lg))),
    }
    return out


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    path, protocol, seed = task
    det, X, y, tr, te, _ = fit_default(path, protocol, seed)
    s_tr, s_te, y_te = det.decision_scores_, det.decision_function(X[te]), y[te]
    rows = []
    for rule, t in rules(s_tr).items():
        flag = s_te > t
        tp = int(np.sum(flag & (y_te == 1)))
        prec = tp / flag.sum() if flag.sum() else float("nan")
        rec = tp / max(1, int(y_te.sum()))
        f1 = 2 * prec * rec / (prec + rec) if flag.sum() and prec + rec > 0 else 0.0
        rows.append({"file": Path(path).name, "protocol": protocol, "seed": seed, "rule": rule, "precision": prec,
                     "recall": rec, "f1": f1, "flagged": float(flag.mean()), "anomalies": float(y_te.mean())})
    return rows


def summarize(paths: list[str]) -> str:
    import pandas as pd

    df = pd.concat([pd.read_csv(p) for p in paths])
    out = []
    for prot, sub in df.groupby("protocol", sort=False):
        per_seed = sub.groupby(["rule", "seed"])["f1"].mean().unstack()
        m = sub.groupby("rule").agg(f1=("f1", "mean"), precision=("precision", "mean"), recall=("recall", "mean"),
                                    flagged=("flagged", "mean"), anomalies=("anomalies", "mean"))
        # how often a rule flags nothing, or more than three times the anomalies' share
        none = sub.assign(z=sub.flagged == 0).groupby("rule")["z"].mean()
        over = sub.assign(z=sub.flagged > 3 * sub.anomalies).groupby("rule")["z"].mean()
        best = sub.groupby(["file", "seed"])["f1"].transform("max")
        near = sub.assign(z=sub.f1 >= best - 0.05).groupby("rule")["z"].mean()
        n = sub.groupby(["file", "seed"]).ngroups
        out += [f"## {prot} ({n} file x seed runs)", "",
                "| rule | F1 | F1 per seed | precision | recall | flagged | none flagged | > 3x anomalies | within 0.05 of the best rule's F1 |",
                "|---|---|---|---|---|---|---|---|---|"]
        for rule in m.sort_values("f1", ascending=False).index:
            r = m.loc[rule]
            seeds = " / ".join(f"{v:.3f}" for v in per_seed.loc[rule])
            out.append(f"| {rule} | {r.f1:.3f} | {seeds} | {r.precision:.3f} | {r.recall:.3f} | {r.flagged:.3f} | "
                       f"{none[rule]:.0%} | {over[rule]:.0%} | {near[rule]:.0%} |")
        out.append(f"\nMean share of anomalies among the scored rows: {m.anomalies.iloc[0]:.3f}.\n")
    return "\n".join(out)


if __name__ == "__main__":
    main(run_one, summarize, __doc__)
