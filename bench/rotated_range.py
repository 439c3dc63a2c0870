"""Experiment: the range term on rotated axes (principal axes of z, or the encoder's code), not a test, not part of the model.

Why kept: on 6_cardio (semi-supervised, seeds 0-2) the default model scores 92.43 against the reference VAE's 96.55.
Earlier runs (bench/results/global_terms_2026-12-01.md, cardio_probes_2026-12-01.md) found cardio's anomalies extreme
along the directions the normal rows vary in; global distances from the centre help cardio but cost the 28-file
means. The model's range term counts how far a row lies outside the training range on each column. A row can be
outside the training range along a *combination* of columns while inside on each one; this script measures the
range term taken on rotated axes instead. Results: bench/results/rotated_range_2026-12-01.md.

One detector fit per (file, protocol, seed), as bench/quality.py's run_one does for the "default" variant (robust
training for the unsupervised protocol only); then, offline from that fit:
    pc_range       the range term on the principal axes of the training rows' z = pre(x) (axes with std above
                   AXIS_STD_FLOOR): per axis, the training range [lo, hi] by the detector's own rule (quantiles
                   RANGE_QUANTILE_UNLABELLED / 1 - that when robust, else min / max), the excess
                   relu(|p - mid| - half) in units of the axis's robust spread (IQR / 1.349, as features._spread,
                   floored at SPREAD_FLOOR), summed over the axes
    pc_range_std   the same in units of each axis's std (the whitened version)
    lat_range      the same per dimension of the encoder's code (mean over the ensemble members), robust spread
    lat_range_std  ... in units of each code dimension's std
Modes: the term alone; "replace" = default score - its range term + the term; default score + W x term (W = 0.5, 1,
2). The terms are in the same (robust) units as the model's own range term, so no further scaling.

Usage:
    python bench/rotated_range.py --files cardio thyroid shuttle --protocols semi --out quick.csv
    python bench/rotated_range.py --out full.csv            # 28 files x semi/unsup x seeds 0 1 2
    python bench/rotated_range.py --summarize full.csv      # the results tables
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from global_terms import fit_default, main  # noqa: E402  (the same fit, command line and tables)

AXIS_STD_FLOOR = 1e-3  # principal axes with a smaller std (in z units) are left out (exactly dependent columns)
SPREAD_FLOOR = 1e-2  # floor of an axis's spread, in z units (as Z_STD_FLOOR in global_terms.py)
WEIGHTS = (0.5, 1.0, 2.0)


class AxisRange:
    """The range term on the axes of A @ R (R: a rotation, or None for the identity)."""

    def __init__(self, A: np.ndarray, q: float, unit: str, R: np.ndarray | None = None) -> None:
        self.mu = A.mean(0)
        self.R = R
        P = self._project(A)
        lo, hi = np.quantile(P, q, axis=0), np.quantile(P, 1.0 - q, axis=0)
        self.mid, self.half = (lo + hi) / 2, (hi - lo) / 2
        if unit == "robust":
            q1, q3 = np.percentile(P, [25, 75], axis=0)
            s = (q3 - q1) / 1.349
            s = np.where(s > 1e-12, s, P.std(0))  # as features._spread
        else:
            s = P.std(0)
        self.spread = np.maximum(s, SPREAD_FLOOR)

    def _project(self, A: np.ndarray) -> np.ndarray:
        A = A - self.mu
        return A if self.R is None else A @ self.R

    def __call__(self, A: np.ndarray) -> np.ndarray:
        out = np.empty(len(A))
        for i in range(0, len(A), 50_000):
            P = self._project(A[i:i + 50_000])
            out[i:i + 50_000] = (np.maximum(np.abs(P - self.mid) - self.half, 0.0) / self.spread).sum(1)
        return out


def principal_axes(Z: np.ndarray) -> np.ndarray:
    C = np.cov(Z - Z.mean(0), rowvar=False, bias=True).reshape(Z.shape[1], Z.shape[1])
    w, V = np.linalg.eigh(C)
    keep = np.sqrt(np.maximum(w, 0.0)) > AXIS_STD_FLOOR
    return V[:, keep]


def candidate_terms(det: Any, Xtr: np.ndarray, Xte: np.ndarray, q: float) -> dict[str, np.ndarray]:
    """name -> term on the test rows (fitted on the training rows)."""
    import torch

    g = det.graph_

    def enc(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Zs, Hs = [], []
        with torch.no_grad():
            for i in range(0, len(X), 65536):
                z = g.pre(torch.from_numpy(X[i:i + 65536].astype(np.float32)))
                h, _ = g.ae(z)
                Zs.append(z.numpy().astype(np.float64))
                Hs.append(h.mean(0).numpy().astype(np.float64))  # mean over ensemble members
        return np.concatenate(Zs), np.concatenate(Hs)

    Ztr, Htr = enc(Xtr)
    Zte, Hte = enc(Xte)
    R = principal_axes(Ztr)
    out: dict[str, np.ndarray] = {}
    for unit, suffix in (("robust", ""), ("std", "_std")):
        out[f"pc_range{suffix}"] = AxisRange(Ztr, q, unit, R)(Zte)
        out[f"lat_range{suffix}"] = AxisRange(Htr, q, unit)(Hte)
    return out


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    path, protocol, seed = task
    from ad_duckdb.features import RANGE_QUANTILE_UNLABELLED
    from ad_duckdb.metrics import auc_roc

    det, X, y, tr, te, fit_s = fit_default(path, protocol, seed)
    robust = protocol == "unsup"  # fit_default's rule: robust training unless the rows are known normal
    s = det.decision_function(X[te])
    rng = det.score_terms(X[te])["range"]
    base = {"file": Path(path).name, "protocol": protocol, "seed": seed}
    rows = [{**base, "cand": "default", "mode": "-", "auc": auc_roc(s, y[te]) * 100},
            {**base, "cand": "col_range", "mode": "alone", "auc": auc_roc(rng, y[te]) * 100}]
    t1 = time.perf_counter()
    q = RANGE_QUANTILE_UNLABELLED if robust else 0.0
    for name, t in candidate_terms(det, X[tr], X[te], q).items():
        t = np.nan_to_num(t, nan=np.inf)
        modes = {"alone": t, "replace": s - rng + t, **{f"add{w:g}": s + w * t for w in WEIGHTS}}
        rows += [{**base, "cand": name, "mode": m, "auc": auc_roc(v, y[te]) * 100} for m, v in modes.items()]
    extra_s = time.perf_counter() - t1
    for r in rows:
        r["fit_s"], r["extra_s"] = fit_s, extra_s
    return rows


if __name__ == "__main__":
    main(run_one)
