"""Experiment: use the centre-distance term only when the training rows have one mode (not a test, not part of the
model). Results: bench/results/modes_2026-12-02.md.

Why kept: on 6_cardio (semi-supervised, seeds 0-2) the default scores 92.35 against the reference VAE's 96.55.
Twelve families failed (bench/results/*_2026-12-01.md, calibrated_terms_2026-12-02.md), always the same way:
cardio rewards a distance from the centre (z_std), and the files whose NORMAL rows have several modes (landsat,
optdigits, satellite, vowels, Wilt, pendigits, mnist) pay for it. Synthetic outliers, EM / MV curves and held-out
tails asked "which score separates outliers?"; this script asks the training rows directly whether they have one
mode or several (a property of the training rows alone, so a label-free rule), and adds z_std only when one.

All rules and constants below were written down before any per-file statistic or AUC was seen.

Rows: the model's transformed training rows z (the fitted detector's feature specs applied to the training rows,
ad_duckdb.features.transform, i.e. what graph_.pre computes), at most SAMPLE_ROWS of them sampled with
rng(seed + 7000), then each column standardised by the sample's mean and std floored at Z_STD_FLOOR: the space in
which z_std measures its distance (global_terms.py), so "one mode" is asked where the centre term would act.

Statistic 1, the gap statistic (Tibshirani, Walther & Hastie 2001): W_k = the pooled within-cluster sum of squares
of k-means with k = 1..K_MAX (seeded Lloyd, k-means++ initial centroids, LLOYD_ITERS iterations, one start);
the reference: B uniform samples of the same size in the box aligned to the sample's principal axes (the paper's
variant b); Gap(k) = mean_b log W_k(ref_b) - log W_k(data), s_k = sd_b(log W_k(ref_b)) sqrt(1 + 1/B).
    gap_k     the paper's 1-SE rule: the smallest k with Gap(k) >= Gap(k+1) - s_{k+1} (K_MAX if none)
    gap_x     (Gap(2) - Gap(1)) / s_2: how far two clusters beat one, in the reference's spreads (gap_k = 1 iff <= 1)
Statistic 2, Gaussian reference: r = log(W_K_MAX / W_1); the same for B Gaussian samples of the same size with the
sample's covariance (drawn along its principal axes);
    gauss_x   mean_b r(gauss_b) - r(data): how much more the data's dispersion falls with K_MAX clusters than a
              single Gaussian's of the same covariance (0 for Gaussian data; larger = more clustered)
(The dip test on principal axes, optional in the brief, is not computed.)

Candidates, each z_std term divided by its median over the training rows (global_terms.run_one):
    default          the default score s
    all4, all2       s + W z_std on every file (the ceilings of "always add"; W = 4, 2)
    zstd             z_std alone (a ceiling for cardio)
    sel_gap4/2       s + W z_std if gap_k == 1, else s
    sel_gauss4/2     s + W z_std if gauss_x <= GAUSS_TAU, else s
    soft_gap         s + 4 clip(1 - gap_x / 2, 0, 1) z_std   (full weight at gap_x <= 0, half at the 1-SE bound 1)
    soft_gauss       s + 4 clip(1 - gauss_x / (2 GAUSS_TAU), 0, 1) z_std   (half weight at GAUSS_TAU)
GAUSS_TAU = 0.1: one mode when the data's dispersion at K_MAX clusters is within about 10% of a Gaussian's.

Gate (brief): cardio >= 96.55, thyroid >= 98.55, shuttle >= 99.35 (semi) and both 28-file means >= the default's.

Usage:
    python bench/modes.py --screen --out stats.csv --jobs 2       # the statistics only (no network is trained)
    python bench/modes.py --screen --summarize stats.csv          # which files they call single-mode
    python bench/modes.py --out full.csv --jobs 2                 # 28 files x semi/unsup x seeds 0 1 2, AUCs
    MODES_SCREEN=stats.csv python bench/modes.py --out full.csv   # the same, the statistics read from the screen
    python bench/modes.py --summarize full.csv                    # candidate tables, then the statistics table
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from global_terms import Z_STD_FLOOR, _std_dist, fit_default, main, summarize  # noqa: E402
from quality import split  # noqa: E402

SAMPLE_ROWS = 5_000
K_MAX = 8
B = 10
LLOYD_ITERS = 25  # as trainer._kmeans
GAUSS_TAU = 0.1
WEIGHTS = (4.0, 2.0)
STAT_KEYS = ("gap_k", "gap_x", "gauss_x")
# MODES_SCREEN=stats.csv: take the statistics from the screen's CSV instead of recomputing them (same rows, same
# seeds: the same numbers; recomputing doubles the run on 2 shared cores)
SCREEN_CSV = os.environ.get("MODES_SCREEN")


def _lloyd_w(A: np.ndarray, k: int, rng: np.random.Generator) -> float:
    """Pooled within-cluster sum of squares of seeded k-means (k-means++ start, LLOYD_ITERS Lloyd steps)."""
    if k == 1:
        return float(((A - A.mean(0)) ** 2).sum())
    sq = (A * A).sum(1)
    cent = [A[rng.integers(len(A))]]
    d2 = np.maximum(sq - 2 * A @ cent[0] + cent[0] @ cent[0], 0.0)
    for _ in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else None
        c = A[rng.choice(len(A), p=p)]
        cent.append(c)
        d2 = np.minimum(d2, np.maximum(sq - 2 * A @ c + c @ c, 0.0))
    C = np.array(cent)
    for _ in range(LLOYD_ITERS):
        a = (sq[:, None] - 2 * A @ C.T + (C * C).sum(1)[None]).argmin(1)
        counts = np.bincount(a, minlength=k)
        onehot = np.zeros((k, len(A)))
        onehot[a, np.arange(len(A))] = 1.0
        sums = onehot @ A
        C = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], C)
    a = (sq[:, None] - 2 * A @ C.T + (C * C).sum(1)[None]).argmin(1)
    return float(((A - C[a]) ** 2).sum())


def _log_w(A: np.ndarray, rng: np.random.Generator, ks: range) -> np.ndarray:
    # a floor so that a sample of identical rows does not give log 0
    return np.log(np.maximum([_lloyd_w(A, k, rng) for k in ks], 1e-12))


def modality_stats(Z: np.ndarray, seed: int) -> dict[str, float]:
    """The statistics of the docstring on the model's transformed training rows Z."""
    rng = np.random.default_rng(seed + 7000)
    if len(Z) > SAMPLE_ROWS:
        Z = Z[rng.choice(len(Z), SAMPLE_ROWS, replace=False)]
    Z = np.nan_to_num(Z.astype(np.float64))
    A = (Z - Z.mean(0)) / np.maximum(Z.std(0), Z_STD_FLOOR)
    # principal axes (W_k does not change under a rotation, so all clustering runs in the rotated coordinates)
    _, sv, Vt = np.linalg.svd(A, full_matrices=False)
    P = A @ Vt.T
    n, m = P.shape
    ks = range(1, K_MAX + 1)
    lw = _log_w(P, rng, ks)
    lo, hi = P.min(0), P.max(0)
    ref = np.array([_log_w(lo + (hi - lo) * rng.random((n, m)), rng, ks) for _ in range(B)])
    gap = ref.mean(0) - lw
    s = ref.std(0) * np.sqrt(1 + 1 / B)
    gap_k = next((k for k in range(1, K_MAX) if gap[k - 1] >= gap[k] - s[k]), K_MAX)
    gap_x = (gap[1] - gap[0]) / max(s[1], 1e-12)
    sd_axes = sv / np.sqrt(n)  # the sample's std along each principal axis
    two = range(1, K_MAX + 1, K_MAX - 1)  # k = 1 and K_MAX only
    r_gauss = [np.diff(_log_w(rng.standard_normal((n, m)) * sd_axes, rng, two))[0] for _ in range(B)]
    r_data = lw[K_MAX - 1] - lw[0]
    return {"gap_k": int(gap_k), "gap_x": float(gap_x), "gauss_x": float(np.mean(r_gauss) - r_data),
            **{f"gap{k}": float(g) for k, g in zip(ks, gap, strict=True)}}


def weights(st: dict[str, float]) -> dict[str, float]:
    """Candidate -> weight of z_std, from the statistics alone (the rules of the docstring)."""
    out = {"default": 0.0}
    for w in WEIGHTS:
        out[f"all{w:g}"] = w
        out[f"sel_gap{w:g}"] = w if st["gap_k"] == 1 else 0.0
        out[f"sel_gauss{w:g}"] = w if st["gauss_x"] <= GAUSS_TAU else 0.0
    out["soft_gap"] = 4.0 * float(np.clip(1 - st["gap_x"] / 2, 0, 1))
    out["soft_gauss"] = 4.0 * float(np.clip(1 - st["gauss_x"] / (2 * GAUSS_TAU), 0, 1))
    return out


def _screen_z(Xtr: np.ndarray, protocol: str) -> np.ndarray:
    """The training rows transformed by feature specs fitted as AutoEncoderDetector.fit fits them (robust range
    quantile for the unsupervised protocol, constant columns kept), without training a network."""
    from ad_duckdb.features import RANGE_QUANTILE_UNLABELLED, fit_specs, transform

    names = [f"x{j}" for j in range(Xtr.shape[1])]
    specs, _ = fit_specs(Xtr, names, ["DOUBLE"] * Xtr.shape[1], model="model", source=None,
                         range_quantile=RANGE_QUANTILE_UNLABELLED if protocol == "unsup" else 0.0,
                         constant_columns="keep")
    return transform(Xtr, specs)


def run_stats(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    """The statistics only (no network is trained)."""
    path, protocol, seed = task
    d = np.load(path)
    X, y = d["X"].astype(np.float64), d["y"].astype(np.int64)
    tr, _ = split(y, protocol, seed)
    t0 = time.perf_counter()
    st = modality_stats(_screen_z(X[tr], protocol), seed)
    return [{"file": Path(path).name, "protocol": protocol, "seed": seed, **st, "stat_s": time.perf_counter() - t0}]


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    path, protocol, seed = task
    from ad_duckdb.features import transform
    from ad_duckdb.metrics import auc_roc

    det, X, y, tr, te, fit_s = fit_default(path, protocol, seed)
    t1 = time.perf_counter()
    Ztr = transform(X[tr], det.specs_)
    if SCREEN_CSV:
        # the screen's statistics, valid only if its rows are the fitted detector's z (checked, not assumed)
        if not np.array_equal(Ztr, _screen_z(X[tr], protocol), equal_nan=True):
            raise RuntimeError(f"{path} {protocol} {seed}: the screen's z differs from the fitted detector's")
        import pandas as pd

        sc = pd.read_csv(SCREEN_CSV)
        hit = sc[(sc.file == Path(path).name) & (sc.protocol == protocol) & (sc.seed == seed)]
        st = hit.iloc[0].to_dict()
    else:
        st = modality_stats(Ztr, seed)
    mu, sd = Ztr.mean(0), np.maximum(Ztr.std(0), Z_STD_FLOOR)
    scale = float(np.median(_std_dist(Ztr, mu, sd)))
    scale = scale if np.isfinite(scale) and scale > 1e-12 else 1.0
    t = np.nan_to_num(_std_dist(transform(X[te], det.specs_), mu, sd), nan=np.inf) / scale
    s = np.nan_to_num(det.decision_function(X[te]), nan=np.inf)
    base = {"file": Path(path).name, "protocol": protocol, "seed": seed}
    stats = {k: st[k] for k in STAT_KEYS}
    rows = [{**base, "cand": "zstd", "mode": "-", "w": float("nan"), "auc": auc_roc(t, y[te]) * 100, **stats}]
    for cand, w in weights(st).items():
        rows.append({**base, "cand": cand, "mode": "-", "w": w, "auc": auc_roc(s + w * t, y[te]) * 100, **stats})
    rows.sort(key=lambda r: r["cand"] != "default")  # main() prints the first row's AUC: the default's
    extra_s = time.perf_counter() - t1
    for r in rows:
        r["fit_s"], r["extra_s"] = fit_s, extra_s
    return rows


def stats_table(paths: list[str]) -> str:
    """Per file and protocol: gap_k per seed, mean gap_x and gauss_x, the seeds each rule calls single-mode; with AUC
    rows present also the default's AUC and what all4 changes (known only after the fact: how well the statistic
    tells the files apart), and the Spearman correlation of each statistic with that change."""
    import pandas as pd

    df = pd.concat([pd.read_csv(p) for p in paths])
    has_auc = "auc" in df
    st = df.drop_duplicates(["file", "protocol", "seed"])
    out = []
    for prot in sorted(st.protocol.unique(), reverse=True):
        hdr = ["file", "gap_k (seeds)", "gap_x", "gauss_x", "single: gap", "single: gauss"]
        if has_auc:
            hdr += ["default", "all4 - default"]
        out += [f"\n{prot}:\n", "| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
        sub = st[st.protocol == prot]
        gains, xs = [], {k: [] for k in STAT_KEYS}
        for f, g in sorted(sub.groupby("file"), key=lambda kv: int(kv[0].split("_")[0])):
            cells = [f.split(".")[0], " ".join(str(int(k)) for k in g.sort_values("seed").gap_k),
                     f"{g.gap_x.mean():.1f}", f"{g.gauss_x.mean():.3f}",
                     f"{int((g.gap_k == 1).sum())}/{len(g)}", f"{int((g.gauss_x <= GAUSS_TAU).sum())}/{len(g)}"]
            if has_auc:
                a = df[(df.file == f) & (df.protocol == prot)].groupby("cand").auc.mean()
                gains.append(a["all4"] - a["default"])
                for k in STAT_KEYS:
                    xs[k].append(g[k].mean())
                cells += [f"{a['default']:.2f}", f"{a['all4'] - a['default']:+.2f}"]
            out.append("| " + " | ".join(cells) + " |")
        if has_auc:
            rho = {k: pd.Series(v).corr(pd.Series(gains), method="spearman") for k, v in xs.items()}
            out.append("\nSpearman(statistic, all4 - default) over files: "
                       + ", ".join(f"{k} {r:+.2f}" for k, r in rho.items()))
    return "\n".join(out)


def tables(paths: list[str]) -> str:
    return summarize(paths) + "\n" + stats_table(paths)


if __name__ == "__main__":
    if "--screen" in sys.argv:
        sys.argv.remove("--screen")
        main(run_stats, stats_table)
    else:
        main(run_one, tables)
