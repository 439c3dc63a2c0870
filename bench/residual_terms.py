"""Experiment: residual-covariance, latent-Gaussian and jittered scoring (not a test, not part of the model).
Results: bench/results/residual_terms_2026-12-04.md.

Why kept: on 6_cardio (semi-supervised, seeds 0-2) the default scores 92.43 against the reference VAE's 96.55.
Sixteen families failed (README "Where a published method wins"); this script measures three new ones, each
computed offline from one default fit per (file, protocol, seed) (global_terms.fit_default, as bench/quality.py
fits it). Candidates and constants were written down before the first run.

Family a, error covariance. Why: the reconstruction errors of normal rows are correlated (a network that
under-reconstructs one column tends to under-reconstruct its correlated ones), and today's term weighs each
column's squared error on its own. An anomaly that breaks that pattern is far in Mahalanobis terms even when its
squared errors are ordinary. r = reconstruction - z (signed, per column, the model's transformed features z).
    res_maha     Ledoit-Wolf Mahalanobis distance of r, mean and covariance of r on the trainer's validation rows
                 (held out from training: rng(seed).permutation(n)[:round(0.1 n)], as trainer.fit_ensemble draws
                 them; all training rows when it holds none, n < 50), divided by its median on those rows
    modes: alone; rec_instead (the default score with res_maha in place of the reconstruction term);
           add0.5, add1 (the default score + W res_maha)
Family b, latent Gaussian. Why: one Gaussian of the 8-number codes is the simplest density of the code, smooth
where the nearest-centroid distance has cell boundaries. (Added beside the score it was measured on 2026-12-01,
global_terms lat_maha_lw; here it replaces the neighbour term.)
    lat_gauss    Ledoit-Wolf Mahalanobis distance of the code, mean and covariance of the training rows' codes,
                 divided by its median over the training rows
    modes: alone; nb_instead (the default score with lat_gauss in place of the neighbour term)
Family c, jittered scoring (test-time augmentation). Why: the score's three terms are non-smooth in the row (a
minimum over centroids, a ReLU network, a hinge at the training range); an unseen normal row lying between training
rows can hit a spike that its neighbourhood does not have, while an anomaly scores high throughout its
neighbourhood. The score's mean over a neighbourhood as wide as the gaps between training rows keeps the second
and smooths the first. The width comes from the data, not from a knob tuned per file: sigma = F x (median distance
from a training row to its nearest other distinct training row, in z; 2000 rows sampled) / sqrt(d) per column.
    tta_0.5, tta_1   the default score averaged over M = 8 copies of the row's z with N(0, sigma^2) noise added
                     (F = 0.5, 1; seeded rng(seed + 9000))

Usage:
    python bench/residual_terms.py --files cardio thyroid shuttle --protocols semi --out screen.csv
    python bench/residual_terms.py --out full.csv                 # 28 files x semi/unsup x seeds 0 1 2
    python bench/residual_terms.py --summarize full.csv           # the results tables and the rule
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from global_terms import Maha, fit_default, main  # noqa: E402  (the same fit and shrunk Mahalanobis)

TTA_COPIES = 8
TTA_FACTORS = (0.5, 1.0)
NN_SAMPLE = 2000
VALIDATION_FRACTION = 0.1  # TrainParams.validation_fraction's default
# The rule of results/residual_terms_2026-12-04.md: the default's figures of quality_2026-12-02_rerun.md are
# re-measured in the same run; these are the bars on the two files the default meets.
MEAN_SLACK = 0.1
BARS = {"thyroid": 98.55, "shuttle": 99.35}


def _terms_from_z(g: Any, z: Any) -> dict[str, Any]:
    """The score's terms from transformed rows z [B, d], as ScoringGraph.terms computes them from raw rows (one
    member or several: each term averaged over the members); also the code and the signed residual."""
    import torch

    h, recon = g.ae(z)
    diff = recon - z
    out = {"reconstruction": torch.sqrt(((diff * diff) * g.rec_weight).mean(0).sum(-1)),
           "code": h.mean(0), "residual": diff.mean(0)}
    if g.knn_k > 0:
        out["neighbour"] = (g.knn_distance(h) * g.knn_weight).mean(0)
    if g.range_weight > 0:
        out["range"] = g.range_weight * torch.relu(torch.abs(z + g.range_neg_mid) + g.range_neg_half).sum(-1)
    return out


def _pass(g: Any, Z: np.ndarray, rng: np.random.Generator | None = None, sigma: float = 0.0) -> dict[str, np.ndarray]:
    import torch

    parts: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for i in range(0, len(Z), 8192):
            z = Z[i:i + 8192]
            if rng is not None:
                z = z + rng.normal(0.0, sigma, z.shape)
            for k, v in _terms_from_z(g, torch.from_numpy(z.astype(np.float32))).items():
                parts.setdefault(k, []).append(v.numpy().astype(np.float64))
    return {k: np.concatenate(v) for k, v in parts.items()}


def _score(t: dict[str, np.ndarray]) -> np.ndarray:
    return t["reconstruction"] + t.get("neighbour", 0.0) + t.get("range", 0.0)


def _nn_gap(Z: np.ndarray, seed: int) -> float:
    """Median distance from a sampled distinct training row to its nearest other distinct training row."""
    U = np.unique(Z, axis=0)
    if len(U) < 2:
        return 0.0
    q = U[np.random.default_rng(seed + 9100).choice(len(U), min(NN_SAMPLE, len(U)), replace=False)]
    best = np.full(len(q), np.inf)
    q_sq = (q * q).sum(1)[:, None]
    for i in range(0, len(U), 20_000):
        B = U[i:i + 20_000]
        d2 = np.maximum(q_sq - 2 * q @ B.T + (B * B).sum(1)[None, :], 0.0)
        d2[d2 <= 1e-18] = np.inf  # the row itself
        best = np.minimum(best, d2.min(1))
    best = best[np.isfinite(best)]
    return float(np.sqrt(np.median(best))) if len(best) else 0.0


def _scaled(term_tr: np.ndarray, term_te: np.ndarray) -> np.ndarray:
    scale = float(np.median(term_tr))
    return np.nan_to_num(term_te, nan=np.inf) / (scale if np.isfinite(scale) and scale > 1e-12 else 1.0)


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    path, protocol, seed = task
    from ad_duckdb.metrics import auc_roc

    det, X, y, tr, te, fit_s = fit_default(path, protocol, seed)
    s = det.decision_function(X[te])
    g = det.graph_
    t1 = time.perf_counter()
    import torch

    with torch.no_grad():
        Ztr = g.pre(torch.from_numpy(X[tr].astype(np.float32))).numpy().astype(np.float64)
        Zte = g.pre(torch.from_numpy(X[te].astype(np.float32))).numpy().astype(np.float64)
    ttr, tte = _pass(g, Ztr), _pass(g, Zte)
    # the offline terms are the model's: a mistake here would measure another model
    if not np.allclose(_score(tte), s, rtol=1e-4, atol=1e-4):
        raise AssertionError(f"{path} {protocol} {seed}: offline score differs from decision_function "
                             f"by {np.abs(_score(tte) - s).max():g}")
    y_te = y[te]
    base = {"file": Path(path).name, "protocol": protocol, "seed": seed, "fit_s": fit_s}
    rows: list[dict[str, Any]] = [{**base, "cand": "default", "mode": "-", "auc": auc_roc(s, y_te) * 100}]

    def add(cand: str, mode: str, v: np.ndarray) -> None:
        rows.append({**base, "cand": cand, "mode": mode, "auc": auc_roc(v, y_te) * 100})

    for k in ("reconstruction", "neighbour", "range"):
        if k in tte:
            add(k, "alone", tte[k])
    # a: residual covariance on the trainer's held-out rows
    n = len(Ztr)
    n_val = int(round(n * VALIDATION_FRACTION)) if n >= 50 else 0
    val = np.random.default_rng(seed).permutation(n)[:n_val] if n_val else np.arange(n)
    m = Maha(ttr["residual"][val], "lw")
    res = _scaled(m(ttr["residual"][val]), m(tte["residual"]))
    add("res_maha", "alone", res)
    add("res_maha", "rec_instead", s - tte["reconstruction"] + res)
    for w in (0.5, 1.0):
        add("res_maha", f"add{w:g}", s + w * res)
    # b: one Gaussian of the codes in place of the neighbour term
    m = Maha(ttr["code"], "lw")
    lat = _scaled(m(ttr["code"]), m(tte["code"]))
    add("lat_gauss", "alone", lat)
    if "neighbour" in tte:
        add("lat_gauss", "nb_instead", s - tte["neighbour"] + lat)
    # c: the score averaged over jittered copies
    gap = _nn_gap(Ztr, seed)
    for f in TTA_FACTORS:
        sigma = f * gap / np.sqrt(Ztr.shape[1])
        rng = np.random.default_rng(seed + 9000)
        acc = np.zeros(len(Zte))
        for _ in range(TTA_COPIES):
            acc += _score(_pass(g, Zte, rng, sigma))
        add(f"tta_{f:g}", "mean", acc / TTA_COPIES)
    extra_s = time.perf_counter() - t1
    for r in rows:
        r["extra_s"] = extra_s
        r["nn_gap"] = gap
    return rows


def summarize(paths: list[str]) -> str:
    """Per candidate and mode: cardio / thyroid / shuttle (semi), the 28-file means and their change, files moving
    over 1 point, the rule's verdict; then the per-seed change of the means."""
    import pandas as pd

    df = pd.concat([pd.read_csv(p) for p in paths])
    m = df.groupby(["protocol", "file", "cand", "mode"])["auc"].mean().reset_index()
    base = m[m.cand == "default"].set_index(["protocol", "file"])["auc"]
    m["delta"] = [r.auc - base[(r.protocol, r.file)] for r in m.itertuples()]
    prots = [p for p in ("semi", "unsup") if p in set(m.protocol)]
    n_files = {p: int((base.index.get_level_values(0) == p).sum()) for p in prots}
    base_mean = {p: float(base[p].mean()) for p in prots}
    hdr = ["candidate", "mode", "cardio semi", "thyroid semi", "shuttle semi",
           *[f"{p} mean ({n_files[p]}) [change]" for p in prots], "files moving >1pt (semi)",
           "files moving >1pt (unsup)", "rule"]
    out = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    keys = sorted(m[["cand", "mode"]].drop_duplicates().values.tolist(), key=lambda k: (k[0] != "default", k[0], k[1]))
    for cand, mode in keys:
        sub = m[(m.cand == cand) & (m["mode"] == mode)]

        def semi(name: str, sub: Any = sub) -> float:
            hit = sub[(sub.protocol == "semi") & sub.file.str.contains(name)].auc
            return float(hit.iloc[0]) if len(hit) else float("nan")

        means = {p: float(sub[sub.protocol == p].auc.mean()) for p in prots}
        moves = {p: ", ".join(f"{r.file.split('.')[0]} {r.delta:+.1f}"
                              for r in sub[(sub.protocol == p) & (sub.delta.abs() > 1)].itertuples())
                 for p in ("semi", "unsup")}
        ca, th, sh = semi("cardio"), semi("thyroid"), semi("shuttle")
        full = all(n_files[p] == 28 for p in prots) and len(prots) == 2
        lifts = ca > semi_base(base, "cardio")
        ok = (lifts and th >= BARS["thyroid"] and sh >= BARS["shuttle"]
              and all(means[p] >= base_mean[p] - MEAN_SLACK for p in prots))
        verdict = "-" if cand == "default" else ("no: cardio not lifted" if not lifts
                                                 else ("PASSES" if ok else "no") if full else "lifts (screen)")
        cells = [cand, mode, f"{ca:.2f}", f"{th:.2f}", f"{sh:.2f}",
                 *[f"{means[p]:.2f} [{means[p] - base_mean[p]:+.2f}]" for p in prots],
                 moves["semi"] or "-", moves["unsup"] or "-", verdict]
        out.append("| " + " | ".join(cells) + " |")
    ps = df.groupby(["protocol", "seed", "cand", "mode"])["auc"].mean().reset_index()
    pb = ps[ps.cand == "default"].set_index(["protocol", "seed"])["auc"]
    seeds = sorted(ps.seed.unique())
    hdr2 = ["candidate", "mode", *[f"{p} seed {s}" for p in prots for s in seeds]]
    out += ["", "Per-seed change of the mean against the default:", "",
            "| " + " | ".join(hdr2) + " |", "|" + "---|" * len(hdr2)]
    for cand, mode in keys[1:]:
        sub2 = ps[(ps.cand == cand) & (ps["mode"] == mode)].set_index(["protocol", "seed"])["auc"]
        cells = [f"{sub2[(p, s)] - pb[(p, s)]:+.2f}" if (p, s) in sub2.index else "-" for p in prots for s in seeds]
        out.append("| " + " | ".join([cand, mode, *cells]) + " |")
    return "\n".join(out)


def semi_base(base: Any, name: str) -> float:
    hit = [v for (p, f), v in base.items() if p == "semi" and name in f]
    return float(hit[0]) if hit else float("nan")


if __name__ == "__main__":
    main(run_one, summarize, __doc__)
