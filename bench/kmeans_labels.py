"""Label rows with K-means, then train a classifier on those labels: does it detect better than the default?
(An experiment, not a test.) Results: bench/results/kmeans_labels_<date>.md and a CSV beside it.

Why: analysts with an unlabelled table ask whether they must label it first, and whether they can make labels with
K-means (rows far from their centroid, or rows of small clusters, called anomalies) and train a classifier on them.
The expectation written down before the run: the classifier learns the K-means rule back, so it ranks rows much as
K-means does and is no better a detector than the K-means score that made its labels; the unlabelled default needs
no such step. This run measures it. Everything below was written down before the full run (a smoke run on two
files, seed 0, was allowed, to time it).

Data: the 28 ADBench files of ../shared/data/adbench, read as bench/quality.py reads them (X as float64, y as int),
seeds 0, 1, 2, its unsupervised protocol with its own split function (`split(y, "unsup", seed)`, imported): fit on
a bootstrap resample of all rows (labels unused), score every row, AUC-ROC x 100 against the true labels
(ad_duckdb.metrics.auc_roc, as bench/quality.py).

Protocol, per file and seed:
    Features: sklearn StandardScaler fitted on the fit rows, applied to every row; NaN after scaling -> 0 (as
    bench/quality.py's PyOD baselines do; a column constant on the fit rows keeps scale 1 there).
    At most MAX_FIT = 20,000 of the fit rows, sampled without replacement with np.random.default_rng(seed) when
    there are more, are what K-means and the classifier see (the largest files stay cheap).
    K-means: sklearn KMeans(n_clusters=8, n_init=10, random_state=seed) on those rows. A row's distance = its
    distance to its own (nearest) centroid.
    Two labelling recipes users write (SHARE = 10% of the fit rows; ADBench's anomaly shares are mostly 1-15%):
      far    pseudo-label 1 for the top 10% of the fit rows by distance (the ceil(0.1 n) largest); K-means score =
             the distance. Every row's pseudo-label: distance >= the smallest distance labelled 1 on the fit rows.
      small  clusters sorted by their fit-row count, smallest first, added while their total stays <= 10% of the
             fit rows (if even the smallest is over 10%, just it); pseudo-label 1 for the rows of those clusters.
             K-means score: 1 for those clusters' rows else 0, plus distance / max distance over the scored rows
             (a tie-breaker, so the AUC is defined). Every row's pseudo-label: its nearest centroid is one of them.
    Classifiers, fitted on the same (at most 20,000) rows with the pseudo-labels, score = predict_proba(X)[:, 1]
    on every row:
      rf     RandomForestClassifier(n_estimators=200, min_samples_leaf=1, random_state=seed, n_jobs=2)
      hgb    HistGradientBoostingClassifier(random_state=seed), only with --hgb: left out of the full run,
             decided before it (no full-run result seen): it does not cost little here. On 22_magic.gamma, seed 0
             (19,020 fit rows), on this shared machine, it took 80 s CPU on the `far` labels against the forest's
             12 s (its OpenMP threads spin while the cores are busy), which would have doubled the run.

Metrics per recipe, file and seed (file = mean over seeds; then the mean over the 28 files):
    kmeans AUC    the K-means score against the true labels
    clf AUC       the classifier's score against the true labels
    back AUC      "learned back": the classifier's score against every row's pseudo-label
    spearman      Spearman correlation between the classifier's score and the K-means score (every row)
Beside them, stored (not re-run): our unlabelled default, method ad_duckdb:default, protocol unsup of
bench/results/quality_2026-12-02_rerun.csv (same files, seeds and split function, so the same rows; checked
first: its 84 rows average 78.06), and PyOD IForest (pyod:IForest, unsup) of bench/results/quality_2026-12-01.csv,
the run whose 76.5 README's "Quality and speed" quotes. CPU time: time.process_time of the whole run (K-means
and the forests run threads in this process; tasks run one after another).

Usage (PYTHONPATH=. with the project's venv):
    python bench/kmeans_labels.py                          # 28 files x seeds 0 1 2; writes the results files
    python bench/kmeans_labels.py --files thyroid cardio --seeds 0     # a smoke run; prints, writes nothing
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from quality import DATA, split  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_CSV = RESULTS / "quality_2026-12-02_rerun.csv"
IFOREST_CSV = RESULTS / "quality_2026-12-01.csv"
DEFAULT_CHECK = 78.06  # the stored unsup ad_duckdb:default mean this run compares with (README's 78.1)
SEEDS = (0, 1, 2)
K = 8
SHARE = 0.10
MAX_FIT = 20_000
RECIPES = ("far", "small")
METRICS = ("kmeans", "clf", "back", "spearman")


def small_clusters(counts: np.ndarray, share: float) -> list[int]:
    """The smallest clusters whose rows together stay <= share of all (at least the smallest one)."""
    limit = share * counts.sum()
    chosen: list[int] = []
    total = 0
    for c in np.argsort(counts, kind="stable"):
        if total + counts[c] > limit:
            break
        chosen.append(int(c))
        total += int(counts[c])
    return chosen or [int(np.argmin(counts))]


def recipe_labels(recipe: str, dist: np.ndarray, near: np.ndarray, fit_rows: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(K-means score of every row, pseudo-label of every row, pseudo-label of the fit rows)."""
    if recipe == "far":
        n_pos = math.ceil(SHARE * len(fit_rows))
        order = np.argsort(-dist[fit_rows], kind="stable")
        fit_lab = np.zeros(len(fit_rows), dtype=np.int64)
        fit_lab[order[:n_pos]] = 1
        cut = dist[fit_rows][order[n_pos - 1]]
        return dist, (dist >= cut).astype(np.int64), fit_lab
    counts = np.bincount(near[fit_rows], minlength=K)
    in_small = np.isin(near, small_clusters(counts, SHARE))
    top = float(dist.max()) or 1.0
    return in_small + dist / top, in_small.astype(np.int64), in_small[fit_rows].astype(np.int64)


def classifiers(seed: int, hgb: bool) -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    out: dict[str, Any] = {"rf": RandomForestClassifier(n_estimators=200, min_samples_leaf=1, random_state=seed,
                                                        n_jobs=2)}
    if hgb:
        out["hgb"] = HistGradientBoostingClassifier(random_state=seed)
    return out


def run_one(path: Path, seed: int, hgb: bool) -> list[dict[str, Any]]:
    from scipy.stats import spearmanr  # type: ignore[import-untyped]
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    from ad_duckdb.metrics import auc_roc

    cpu0 = time.process_time()
    d = np.load(path)
    X, y = d["X"].astype(np.float64), d["y"].astype(np.int64)
    tr, te = split(y, "unsup", seed)
    sc = StandardScaler().fit(X[tr])
    Z = np.nan_to_num(sc.transform(X[te]))  # te is every row, in order
    fit_rows = tr
    if len(fit_rows) > MAX_FIT:
        fit_rows = fit_rows[np.random.default_rng(seed).choice(len(fit_rows), MAX_FIT, replace=False)]
    km = KMeans(n_clusters=K, n_init=10, random_state=seed).fit(Z[fit_rows])
    cdist = km.transform(Z)
    near = cdist.argmin(axis=1)
    dist = cdist[np.arange(len(near)), near]
    rows = []
    for recipe in RECIPES:
        km_score, lab_all, lab_fit = recipe_labels(recipe, dist, near, fit_rows)
        for name, clf in classifiers(seed, hgb).items():
            c0 = time.process_time()
            s = clf.fit(Z[fit_rows], lab_fit).predict_proba(Z)[:, 1]
            rho = spearmanr(s, km_score).statistic
            rows.append({"file": path.name, "seed": seed, "recipe": recipe, "classifier": name,
                         "kmeans": auc_roc(km_score, y[te]) * 100, "clf": auc_roc(s, y[te]) * 100,
                         "back": auc_roc(s, lab_all) * 100, "spearman": float(rho),
                         "pseudo_share": float(lab_all.mean()), "clf_cpu_s": time.process_time() - c0})
    for r in rows:
        r["task_cpu_s"] = time.process_time() - cpu0
    return rows


def stored(path: Path, method: str) -> dict[str, list[float]]:
    """AUCs of one method on the unsup protocol, per file (one per seed)."""
    out: dict[str, list[float]] = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["protocol"] == "unsup" and r["method"] == method and int(r["seed"]) in SEEDS:
                out.setdefault(r["file"], []).append(float(r["auc"]))
    return out


def table(rows: list[dict[str, Any]], recipe: str, clf: str, default: dict[str, list[float]],
          iforest: dict[str, list[float]]) -> tuple[str, dict[str, float]]:
    files = sorted({r["file"] for r in rows}, key=lambda f: int(f.split("_")[0]))
    head = ["file", "K-means AUC", f"{clf} AUC", "back AUC", "Spearman", "default AUC", "IForest AUC"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    per_file: dict[str, list[float]] = {h: [] for h in head[1:]}
    for f in files:
        sel = [r for r in rows if r["file"] == f and r["recipe"] == recipe and r["classifier"] == clf]
        vals = [float(np.mean([r[m] for r in sel])) for m in METRICS]
        vals += [float(np.mean(default[f])) if f in default else math.nan,
                 float(np.mean(iforest[f])) if f in iforest else math.nan]
        for h, v in zip(head[1:], vals, strict=True):
            per_file[h].append(v)
        lines.append("| " + " | ".join([f, *(f"{v:.3f}" if h == "Spearman" else f"{v:.1f}"
                                            for h, v in zip(head[1:], vals, strict=True))]) + " |")
    means = {h: float(np.nanmean(v)) for h, v in per_file.items()}
    lines.append("| " + " | ".join([f"**mean ({len(files)} files)**",
                                    *(f"**{v:.3f}**" if h == "Spearman" else f"**{v:.2f}**"
                                      for h, v in means.items())]) + " |")
    return "\n".join(lines), means


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", nargs="*", help="substrings of file names (default: all 28; then nothing is written)")
    ap.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    ap.add_argument("--hgb", action="store_true", help="also HistGradientBoostingClassifier (slow here; see above)")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()

    default = stored(DEFAULT_CSV, "ad_duckdb:default")
    n_default = sum(len(v) for v in default.values())
    mean_default = float(np.mean([a for v in default.values() for a in v]))
    # The comparison is only fair if the stored rows are this protocol's (28 files x 3 seeds, README's 78.1).
    if n_default != 84 or round(mean_default, 2) != DEFAULT_CHECK:
        sys.exit(f"{DEFAULT_CSV.name}: {n_default} unsup default rows averaging {mean_default:.2f}, "
                 f"expected 84 averaging {DEFAULT_CHECK}")
    iforest = stored(IFOREST_CSV, "pyod:IForest")

    files = sorted((DATA / "adbench").glob("*.npz"))
    if args.files:
        files = [f for f in files if any(s.lower() in f.name.lower() for s in args.files)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rows: list[dict[str, Any]] = []
    for i, f in enumerate(files, 1):
        for seed in args.seeds:
            rows += run_one(f, seed, args.hgb)
        with open(Path(args.out) / "kmeans_labels_partial.csv", "w", newline="") as fh:  # survives an interrupt
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        print(f"\r{i}/{len(files)} files ({time.process_time() - cpu0:.0f}s CPU)", end="", file=sys.stderr)
    print(file=sys.stderr)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    stamp = dt.datetime.now().strftime("%Y-%m-%d")
    clfs = sorted({r["classifier"] for r in rows}, key=lambda c: c != "rf")
    report = [f"# K-means labels, then a classifier, against the unlabelled default: {stamp}",
              f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; seeds {args.seeds}; {cpu:.0f} s CPU ({wall:.0f} s wall, shared machine)",
              "Protocol: the module docstring of bench/kmeans_labels.py. AUC-ROC x 100 against the true labels, mean "
              "over seeds; 'back AUC': the classifier's score against the K-means pseudo-labels of every row; "
              "'Spearman': between the classifier's score and the K-means score. 'default AUC': ad_duckdb:default, "
              f"unsup, from {DEFAULT_CSV.name}; 'IForest AUC': pyod:IForest, unsup, from {IFOREST_CSV.name} "
              "(both stored, same split function and seeds)."]
    summary: list[str] = []
    for recipe in RECIPES:
        for clf in clfs:
            text, means = table(rows, recipe, clf, default, iforest)
            title = f"Recipe `{recipe}`, classifier `{clf}`"
            report += ["", f"## {title}", "", text]
            print(f"\n{title}\n{text}")
            summary.append(f"{recipe}/{clf}: " + ", ".join(f"{h} {v:.3f}" if h == "Spearman" else f"{h} {v:.2f}"
                                                          for h, v in means.items()))
    print("\n" + "\n".join(summary))
    print(f"{cpu:.0f} s CPU, {wall:.0f} s wall")
    if not args.files:
        out = Path(args.out)
        (out / f"kmeans_labels_{stamp}.md").write_text("\n".join(report) + "\n")
        with open(out / f"kmeans_labels_{stamp}.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        print(f"wrote {out / f'kmeans_labels_{stamp}.md'}")


if __name__ == "__main__":
    main()
