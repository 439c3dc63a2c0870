"""Experiment: global-distance terms added to ad_duckdb's default score (not a test, not part of the model).

Why kept: on 6_cardio the default model (92.14, semi-supervised) stays below the reference VAE/PCA columns
(96.55 / 96.54), whose scores behave like a row's distance from the centre of standardised data. This script
measures whether adding such a term (latent or input space; plain, or Mahalanobis with a shrunk covariance)
would close that gap without costing the other files. Results: bench/results/global_terms_2026-12-01.md.

One detector fit per (file, protocol, seed), exactly as bench/quality.py's run_one does for the "default"
variant; then several global-distance terms are computed offline from that fit and evaluated:
    alone, default + term, default + 0.5 * term (and, as a diagnostic, default + 2 / 4 x term)
where each term is divided by its median over the training rows (the rows the detector was fitted on).

Usage:
    python bench/global_terms.py --files cardio thyroid shuttle --protocols semi --out quick.csv
    python bench/global_terms.py --out full.csv            # 28 files x semi/unsup x seeds 0 1 2
    python bench/global_terms.py --summarize full.csv      # the results table
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from quality import DATA, split  # noqa: E402  (the benchmark's own data and split)

Z_STD_FLOOR = 1e-2  # floor of a column's std in the model's robust units (z)
RIDGE = 1e-3


def _std_dist(A: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(((A - mu) / sd) ** 2, axis=1))


class Maha:
    """Mahalanobis distance with a shrunk covariance fitted on rows T (columns first standardised by
    ``sd``, so the ridge is relative to each column's spread)."""

    def __init__(self, T: np.ndarray, kind: str, sd: np.ndarray | None = None) -> None:
        self.mu = T.mean(0)
        self.sd = np.ones(T.shape[1]) if sd is None else sd
        S = (T - self.mu) / self.sd
        k = S.shape[1]
        if kind == "ridge":
            C = np.cov(S, rowvar=False, bias=True).reshape(k, k)
            C = C + RIDGE * max(np.trace(C) / k, 1e-12) * np.eye(k)
        else:  # Ledoit-Wolf
            from sklearn.covariance import ledoit_wolf

            sub = S if len(S) <= 200_000 else S[np.random.default_rng(0).choice(len(S), 200_000, replace=False)]
            C, _ = ledoit_wolf(sub, assume_centered=False)
            C = C + 1e-9 * max(np.trace(C) / k, 1e-12) * np.eye(k)
        w, V = np.linalg.eigh(C)
        w = np.maximum(w, 1e-12 * max(w.max(), 1e-300))
        self.W = V / np.sqrt(w)  # whitening: (S @ W) has identity covariance

    def __call__(self, A: np.ndarray) -> np.ndarray:
        out = np.empty(len(A))
        for i in range(0, len(A), 50_000):
            P = ((A[i:i + 50_000] - self.mu) / self.sd) @ self.W
            out[i:i + 50_000] = np.sqrt((P * P).sum(1))
        return out


def candidate_terms(det: Any, Xtr: np.ndarray, Xte: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (term on training rows, term on test rows)."""
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
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    # 1. latent centre
    mu_h = Htr.mean(0)
    out["lat_center"] = (np.linalg.norm(Htr - mu_h, axis=1), np.linalg.norm(Hte - mu_h, axis=1))
    # 2. latent Mahalanobis, shrunk
    for kind in ("ridge", "lw"):
        m = Maha(Htr, kind)
        out[f"lat_maha_{kind}"] = (m(Htr), m(Hte))
    # 3. standardized distance on the model's transformed features z
    mu_z = Ztr.mean(0)
    sd_z = np.maximum(Ztr.std(0), Z_STD_FLOOR)
    out["z_std"] = (_std_dist(Ztr, mu_z, sd_z), _std_dist(Zte, mu_z, sd_z))
    # 4. Mahalanobis on z (columns standardised by the floored std first, then shrunk covariance)
    for kind in ("ridge", "lw"):
        m = Maha(Ztr, kind, sd_z)
        out[f"z_maha_{kind}"] = (m(Ztr), m(Zte))
    # 5. raw X standardised by training mean/std (no slog); NaN -> training median; zero std -> 1 (sklearn)
    med = np.nanmedian(Xtr, axis=0)
    Xtr_ = np.where(np.isnan(Xtr), med, Xtr)
    Xte_ = np.where(np.isnan(Xte), med, Xte)
    mu_x = Xtr_.mean(0)
    sd_x = Xtr_.std(0)
    sd_x = np.where(sd_x > 1e-12 * np.maximum(np.abs(mu_x), 1.0), sd_x, 1.0)
    out["x_std"] = (_std_dist(Xtr_, mu_x, sd_x), _std_dist(Xte_, mu_x, sd_x))
    # 5b (extra): Mahalanobis on standardised raw X
    for kind in ("ridge", "lw"):
        m = Maha(Xtr_, kind, sd_x)
        out[f"x_maha_{kind}"] = (m(Xtr_), m(Xte_))
    return out


def fit_default(path: str, protocol: str, seed: int) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """The default detector fitted on one file's training split, as bench/quality.py fits it (robust training unless
    the rows are known normal): the detector, X, y, the training and scored rows' indices, and the fit's seconds."""
    import torch

    torch.set_num_threads(1)
    from ad_duckdb.detector import AutoEncoderDetector

    d = np.load(path)
    X, y = d["X"].astype(np.float64), d["y"].astype(np.int64)
    tr, te = split(y, protocol, seed)
    t0 = time.perf_counter()
    det = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=protocol == "unsup").fit(X[tr])
    return det, X, y, tr, te, time.perf_counter() - t0


def auc_rows(path: str, protocol: str, seed: int, y_te: np.ndarray
             ) -> tuple[list[dict[str, Any]], Callable[[str, str, np.ndarray, float], None]]:
    """An experiment's result rows of one (file, protocol, seed) and ``add(cand, mode, scores, fit seconds)``, which
    appends a row with the scores' AUC-ROC x100 (a NaN score ranks as the most anomalous)."""
    from ad_duckdb.metrics import auc_roc

    base = {"file": Path(path).name, "protocol": protocol, "seed": seed}
    rows: list[dict[str, Any]] = []

    def add(cand: str, mode: str, v: np.ndarray, secs: float) -> None:
        rows.append({**base, "cand": cand, "mode": mode, "auc": auc_roc(np.nan_to_num(v, nan=np.inf), y_te) * 100,
                     "fit_s": secs})

    return rows, add


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    path, protocol, seed = task
    from ad_duckdb.metrics import auc_roc

    det, X, y, tr, te, fit_s = fit_default(path, protocol, seed)
    s = det.decision_function(X[te])
    base = {"file": Path(path).name, "protocol": protocol, "seed": seed}
    rows = [{**base, "cand": "default", "mode": "-", "auc": auc_roc(s, y[te]) * 100, "fit_s": fit_s}]
    t1 = time.perf_counter()
    for name, (ttr, tte) in candidate_terms(det, X[tr], X[te]).items():
        tte = np.nan_to_num(tte, nan=np.inf)
        scale = float(np.median(ttr))
        scale = scale if np.isfinite(scale) and scale > 1e-12 else 1.0
        t = tte / scale
        for mode, v in (("alone", t), ("add1", s + t), ("add0.5", s + 0.5 * t), ("add2", s + 2 * t), ("add4", s + 4 * t)):
            rows.append({**base, "cand": name, "mode": mode, "auc": auc_roc(v, y[te]) * 100, "fit_s": fit_s})
    extra_s = time.perf_counter() - t1
    for r in rows:
        r["extra_s"] = extra_s
    return rows


def summarize(paths: list[str]) -> str:
    """Per candidate and mode: cardio / thyroid / shuttle (semi), the 28-file means, files dropping over 1 point;
    then each candidate's per-seed change of the means."""
    import pandas as pd

    df = pd.concat([pd.read_csv(p) for p in paths])
    m = df.groupby(["protocol", "file", "cand", "mode"])["auc"].mean().reset_index()
    base = m[m.cand == "default"].set_index(["protocol", "file"])["auc"]
    m["delta"] = m.apply(lambda r: r.auc - base[(r.protocol, r.file)], axis=1)
    prots = sorted(m.protocol.unique(), reverse=True)
    n_files = {p: int((base.index.get_level_values(0) == p).sum()) for p in prots}
    base_mean = {p: float(base[p].mean()) for p in prots}
    hdr = ["candidate", "mode", "cardio semi", "thyroid semi", "shuttle semi",
           *[f"{p} mean ({n_files[p]})" for p in prots], "files dropping >1pt (semi)", "files dropping >1pt (unsup)",
           "meets"]
    out = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    keys = sorted(m[["cand", "mode"]].drop_duplicates().values.tolist(), key=lambda k: (k[0] != "default", k[0], k[1]))
    for cand, mode in keys:
        sub = m[(m.cand == cand) & (m["mode"] == mode)]

        def semi(name: str, sub: Any = sub) -> float:
            hit = sub[(sub.protocol == "semi") & sub.file.str.contains(name)].auc
            return float(hit.iloc[0]) if len(hit) else float("nan")

        means = {p: float(sub[sub.protocol == p].auc.mean()) for p in prots}
        drops = {p: ", ".join(f"{r.file.split('.')[0]} {r.delta:+.1f}"
                              for r in sub[(sub.protocol == p) & (sub.delta < -1)].itertuples())
                 for p in ("semi", "unsup")}
        ca, th, sh = semi("cardio"), semi("thyroid"), semi("shuttle")
        ok = (ca >= 96.55 and th >= 98.55 and sh >= 99.35 and len(prots) == 2
              and all(means[p] >= base_mean[p] - 1e-9 for p in prots))
        cells = [cand, mode, f"{ca:.2f}", f"{th:.2f}", f"{sh:.2f}", *[f"{means[p]:.2f}" for p in prots],
                 drops["semi"] or "-", drops["unsup"] or "-", "YES" if ok else "no"]
        out.append("| " + " | ".join(cells) + " |")
    # per-seed change of the means (a gain must not rest on one seed)
    ps = df.groupby(["protocol", "seed", "cand", "mode"])["auc"].mean().reset_index()
    pb = ps[ps.cand == "default"].set_index(["protocol", "seed"])["auc"]
    seeds = sorted(ps.seed.unique())
    hdr2 = ["candidate", "mode", *[f"{p} seed {s}" for p in prots for s in seeds]]
    out += ["", "| " + " | ".join(hdr2) + " |", "|" + "---|" * len(hdr2)]
    for cand, mode in keys[1:]:
        sub = ps[(ps.cand == cand) & (ps["mode"] == mode)].set_index(["protocol", "seed"])["auc"]
        cells = [f"{sub[(p, s)] - pb[(p, s)]:+.2f}" if (p, s) in sub.index else "-" for p in prots for s in seeds]
        out.append("| " + " | ".join([cand, mode, *cells]) + " |")
    return "\n".join(out)


def take_cands(env: str, cands: list[str]) -> None:
    """Take ``--cands a,b`` off the command line before ``main`` reads the rest: into ``cands`` and the environment
    variable ``env``, where the worker processes of ``main`` read which candidates to fit."""
    if "--cands" in sys.argv:
        i = sys.argv.index("--cands")
        os.environ[env] = sys.argv[i + 1]
        cands[:] = sys.argv[i + 1].split(",")
        del sys.argv[i:i + 2]


def main(run: Callable[[tuple[str, str, int]], list[dict[str, Any]]] = run_one,
         tables: Callable[[list[str]], str] = summarize, description: str | None = None) -> None:
    """The command line of an experiment on the ADBench files: ``run`` fits one (file, protocol, seed) and returns
    its rows (written to --out as they come), ``tables`` turns such CSVs into the results tables (--summarize)."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", nargs="*")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    ap.add_argument("--protocols", nargs="*", default=["semi", "unsup"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", help="CSV of per-run AUCs to write")
    ap.add_argument("--summarize", nargs="+", metavar="CSV", help="print the results tables of earlier runs instead")
    a = ap.parse_args()
    if a.summarize:
        print(tables(a.summarize))
        return
    if not a.out:
        ap.error("--out is required to run")
    files = sorted((DATA / "adbench").glob("*.npz"))
    if a.files:
        files = [f for f in files if any(s.lower() in f.name.lower() for s in a.files)]
    files.sort(key=lambda f: -f.stat().st_size)
    tasks = [(str(f), p, s) for f in files for p in a.protocols for s in a.seeds]
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=a.jobs) as ex:
        for i, res in enumerate(ex.map(run, tasks), 1):
            rows += res
            with open(a.out, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            r = res[0]
            shown = " ".join(f"{k}={r[k]:.2f}" for k in ("auc", "fit_s", "extra_s") if k in r)
            print(f"{i}/{len(tasks)} {r['file']} {r['protocol']} {r['seed']} {shown} ({time.perf_counter() - t0:.0f}s)",
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
