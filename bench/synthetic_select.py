"""Experiment: choose the score's combination of terms per data set from synthetic outliers (not a test, not part
of the model).

Why kept: on 6_cardio the default (92.43, semi-supervised) stays below the published VAE column (96.55). A fixed
distance-from-centre term lifts cardio but costs the files with several normal modes (global_terms_2026-12-01.md).
This script measures a data-driven alternative: per fit, choose among a small fixed set of weightings the one that
best separates held-out training rows from synthetic outliers made from the training rows only (labels unused).
Results: bench/results/synthetic_select_2026-12-01.md.

Per (file, protocol, seed), as bench/quality.py fits the default (global_terms.fit_default):
- the main fit on the training rows; every candidate scored on the benchmark's scored rows (its test AUC);
- a selection fit of the same detector on a random 70% of the training rows (distinct rows; in the unsupervised
  protocol the bootstrap's duplicates are dropped first), the other 30% held out; four kinds of synthetic outliers
  from the 70% only: (a) rows pushed away from the column medians by a factor 1.5-3, (b) uniform in the rows'
  bounding box widened by 10% per side, (c) each column from an independent random row (breaks the joint law),
  (d) rows with Gaussian jitter of 0.25 column standard deviations. Each candidate's AUC of held-out rows vs
  each kind is recorded (sel_a .. sel_d).
Candidates (each extra term divided by its median over the fit's training rows, as in global_terms.py):
    default; default + W x x_std, default + W x box (W = 0.5, 1, 2, 4); x_std, box alone;
    rank-average of (default, x_std) and of (default, box) within the scored set
x_std = RMS of the row standardised by the training mean / std (global_terms.py). box = the hinge of the
standardised row outside [0, 1]^d, RMS over columns: what PyOD's VAE with a sigmoid output adds to its error
(reference_vae_2026-12-01.md). The selection rules (fixed before the run) are applied in --summarize:
    sel_mean: the largest mean AUC over the four kinds (ties: the earlier candidate, default first)
    sel_worst: the largest smallest-AUC over the kinds; sel_a .. sel_d: one kind alone (diagnostics)

Usage:
    python bench/synthetic_select.py --files cardio --protocols semi --out oracle.csv   # the cardio ceiling
    python bench/synthetic_select.py --out full.csv        # 28 files x semi/unsup x seeds 0 1 2
    python bench/synthetic_select.py --summarize full.csv  # the results tables
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from global_terms import fit_default, main  # noqa: E402  (the same fit and command line)

WEIGHTS = (0.5, 1.0, 2.0, 4.0)
KINDS = ("a", "b", "c", "d")
HOLD_FRACTION = 0.3
MAX_EVAL_ROWS = 5000  # held-out rows and synthetic rows per kind, at most
# sel_mean is the selector measured; the others are diagnostics (how much the pick depends on the outlier kind)
SEL_RULES = ("sel_mean", "sel_worst", *(f"sel_{k}" for k in KINDS))


class Centre:
    """x_std and box terms against rows T: NaN -> T's median, standardised by T's mean / std (zero std -> 1)."""

    def __init__(self, T: np.ndarray) -> None:
        self.med = np.nanmedian(T, axis=0)
        T = np.where(np.isnan(T), self.med, T)
        self.mu = T.mean(0)
        sd = T.std(0)
        self.sd = np.where(sd > 1e-12 * np.maximum(np.abs(self.mu), 1.0), sd, 1.0)

    def __call__(self, A: np.ndarray) -> dict[str, np.ndarray]:
        S = (np.where(np.isnan(A), self.med, A) - self.mu) / self.sd
        hinge = np.minimum(S, 0.0) ** 2 + np.maximum(S - 1.0, 0.0) ** 2
        return {"x_std": np.sqrt(np.mean(S * S, axis=1)), "box": np.sqrt(np.mean(hinge, axis=1))}


def _ranks(v: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(v) / len(v)


def candidates(det: Any, Ttr: np.ndarray, A: np.ndarray) -> dict[str, np.ndarray]:
    """Every candidate score of rows A, for a detector fitted on Ttr (extra terms scaled by their medians on Ttr)."""
    c = Centre(Ttr)
    on_tr, on_a = c(Ttr), c(A)
    s = np.nan_to_num(det.decision_function(A), nan=np.inf)
    out = {"default": s}
    for name in ("x_std", "box"):
        scale = float(np.median(on_tr[name]))
        # box is zero on most rows of some files: then the mean, then 1
        if not scale > 1e-12:
            scale = float(np.mean(on_tr[name]))
        scale = scale if np.isfinite(scale) and scale > 1e-12 else 1.0
        t = np.nan_to_num(on_a[name] / scale, nan=np.inf)
        for w in WEIGHTS:
            out[f"+{w:g}{name}"] = s + w * t
        out[f"{name}_alone"] = t
        out[f"rank_{name}"] = _ranks(s) + _ranks(t)
    return out


def synthetic(T: np.ndarray, m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Four kinds of synthetic outliers, m rows each, from rows T only."""
    T = np.where(np.isnan(T), np.nanmedian(T, axis=0), T)
    n, d = T.shape
    med = np.median(T, axis=0)
    lo, hi = T.min(0), T.max(0)
    width = hi - lo
    sd = T.std(0)
    pick = T[rng.integers(0, n, m)]
    f = rng.uniform(1.5, 3.0, (m, 1))
    return {
        "a": med + f * (pick - med),
        "b": rng.uniform(lo - 0.1 * width, hi + 0.1 * width, (m, d)),
        "c": T[rng.integers(0, n, (m, d)), np.arange(d)],
        "d": T[rng.integers(0, n, m)] + rng.normal(0.0, 1.0, (m, d)) * 0.25 * sd,
    }


def selection_aucs(path: str, protocol: str, seed: int, X: np.ndarray, tr: np.ndarray) -> dict[str, dict[str, float]]:
    """candidate -> kind -> AUC x100 of held-out training rows vs that kind of synthetic outliers, from a fit on the
    other 70% of the training rows."""
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.metrics import auc_roc

    rng = np.random.default_rng(10_000 + seed)
    rows = np.unique(tr) if protocol == "unsup" else tr.copy()
    rng.shuffle(rows)
    n_hold = max(1, int(round(len(rows) * HOLD_FRACTION)))
    hold, fit_rows = rows[:n_hold], rows[n_hold:]
    if len(hold) > MAX_EVAL_ROWS:
        hold = hold[:MAX_EVAL_ROWS]
    T = X[fit_rows]
    det = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=protocol == "unsup").fit(
        T, score_training_rows=False)
    m = min(max(len(hold), 200), MAX_EVAL_ROWS)
    syn = synthetic(T, m, rng)
    A = np.concatenate([X[hold], *syn.values()])
    cands = candidates(det, T, A)
    out: dict[str, dict[str, float]] = {}
    for name, v in cands.items():
        out[name] = {}
        for i, kind in enumerate(syn):
            # (rank_ candidates are ranked within all evaluated rows, as on the scored rows within those)
            part = np.concatenate([v[: len(hold)], v[len(hold) + i * m: len(hold) + (i + 1) * m]])
            lab = np.r_[np.zeros(len(hold)), np.ones(m)]
            out[name][kind] = auc_roc(part, lab) * 100
    return out


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    path, protocol, seed = task
    from ad_duckdb.metrics import auc_roc

    det, X, y, tr, te, fit_s = fit_default(path, protocol, seed)
    test = candidates(det, X[tr], X[te])
    t1 = time.perf_counter()
    sel = selection_aucs(path, protocol, seed, X, tr)
    sel_s = time.perf_counter() - t1
    base = {"file": Path(path).name, "protocol": protocol, "seed": seed}
    rows = []
    for name, v in test.items():
        r = {**base, "cand": name, "mode": "-", "auc": auc_roc(v, y[te]) * 100}
        r.update({f"sel_{k}": sel[name][k] for k in KINDS})
        r.update({"fit_s": fit_s, "extra_s": sel_s})
        rows.append(r)
    return rows


def _pick(g: Any, rule: str) -> str:
    """The candidate a selection rule picks from one fit's rows (in candidate order: default first)."""
    cols = [f"sel_{k}" for k in KINDS]
    if rule == "sel_mean":
        crit = g[cols].mean(axis=1)
    elif rule == "sel_worst":
        crit = g[cols].min(axis=1)
    else:  # one kind alone
        crit = g[rule]
    return str(g.cand.iloc[int(np.argmax(crit.to_numpy()))])


def summarize(paths: list[str]) -> str:
    """Selectors and fixed candidates: cardio / thyroid / shuttle (semi), the 28-file means, files dropping > 1 point;
    per-seed changes of the means; what each selector picked."""
    import pandas as pd
    from global_terms import summarize as fixed_tables

    df = pd.concat([pd.read_csv(p) for p in paths])
    order = {c: i for i, c in enumerate(dict.fromkeys(df.cand))}
    df["_o"] = df.cand.map(order)
    df = df.sort_values(["file", "protocol", "seed", "_o"])
    picked = []
    for (f, p, s), g in df.groupby(["file", "protocol", "seed"], sort=False):
        for rule in SEL_RULES:
            c = _pick(g, rule)
            hit = g[g.cand == c].iloc[0]
            picked.append({"file": f, "protocol": p, "seed": s, "cand": rule, "mode": c, "auc": hit.auc})
    pk = pd.DataFrame(picked)
    tmp = Path(tempfile.mkstemp(suffix=".csv")[1])
    pd.concat([df.drop(columns="_o"), pk.assign(mode="-")])[["file", "protocol", "seed", "cand", "mode", "auc"]].to_csv(
        tmp, index=False)
    try:
        table = fixed_tables([str(tmp)])
    finally:
        tmp.unlink()
    lines = ["", "What each selector picked (runs per candidate, over files x seeds):", ""]
    for rule in SEL_RULES:
        for p in sorted(pk.protocol.unique(), reverse=True):
            cnt = pk[(pk.cand == rule) & (pk.protocol == p)]["mode"].value_counts()
            lines.append(f"- {rule} {p}: " + ", ".join(f"{k} {v}" for k, v in cnt.items()))
    key = pk[pk.file.str.contains("cardio|thyroid|shuttle") & (pk.protocol == "semi")]
    lines += ["", "Picks on cardio / thyroid / shuttle (semi, seeds in order):", ""]
    for (f, rule), g in key.groupby(["file", "cand"]):
        lines.append(f"- {f} {rule}: " + ", ".join(f"{r.mode} ({r.auc:.2f})" for r in g.sort_values("seed").itertuples()))
    return table + "\n" + "\n".join(lines)


if __name__ == "__main__":
    main(run_one, summarize, __doc__)
