"""The default detector against PyOD baselines on the confirmatory (non-ADBench) data of bench/confirm_kde.py.
(An experiment, not a test.) Results: bench/results/baselines_other_2026-12-02.md.

Why: on ADBench's 28 files, unlabelled, the default scores 78.1 mean AUC against IForest's 76.5 (published 76.52;
bench/results/quality_2026-12-02.md). The defaults were chosen while looking at ADBench, so this run checks the
comparison on the 87 data sets of bench/confirm_kde.py (SKAB 34, NAB 52, fraud_oracle 1), which the defaults were
never tuned on. Everything below was written down and committed before any result of a baseline on these data was
seen.

Data: exactly confirm_kde's (its `datasets` and `load` are imported, not copied): the same features, labels, skips.

Protocol (confirm_kde's): fit on ALL rows of a data set, labels unused; score all rows; AUC-ROC
(ad_duckdb.metrics.auc_roc) x 100; seeds 0, 1, 2; at most 2 worker processes, 1 thread each (torch, BLAS, OpenMP).
Scores that are NaN count as +inf (most anomalous), as in confirm_kde.

Candidates:
    default  AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=True), as confirm_kde
             fits it; scores: det.decision_function(X).
    PyOD     IForest, ECOD, KNN, LOF, COPOD, HBOS, PCA, OCSVM with PyOD's default parameters, and random_state=seed
             for those that take one (IForest, PCA). Scores: `decision_scores_` after fit, i.e. PyOD's scores of
             the rows it was fitted on (the rows scored here are exactly those). For KNN and LOF this leaves a row
             out of its own neighbours; decision_function(X) would count each row as its own nearest neighbour.
             The others are seed-free, so their three seeds must agree (a check on the run).
Inputs: KNN, LOF, OCSVM and PCA get each column standardised with the training rows' mean and std (here: all
rows), as ADBench does for classical methods; a column with std 0 would be centred only (none of the 87 data sets
has one). IForest, ECOD, COPOD and HBOS get the raw features: they are invariant to per-column scaling (trees,
per-column ranks or ECDFs, per-column histograms). No data set has missing values.

Time rule: if one (data set, seed) run of a method takes over MAX_SECONDS = 60 s (fit + scoring), the method is
dropped entirely from the comparison and reported as dropped; no subsampling. Runs go largest data set first, and
when a run exceeds the limit the method's runs not yet started are cancelled.

Report (--summarize): per family (skab, nab, fraud) the mean AUC of each method (a family's mean over seeds 0-2 is
the mean over its data sets of each data set's mean over the seeds), the mean of the three family means, the same
per seed for the default and the best baseline, each method's rank per family, and, for context, the published
ADBench unlabelled means of the same PyOD methods over the 28 files of bench/quality.py
(../shared/data/reference/adbench_unsupervised_aucroc.csv).

Usage (PYTHONPATH=. OMP_NUM_THREADS=1, the project's venv):
    python bench/baselines_other.py --out baselines.csv --jobs 2     # every data set x seeds 0 1 2 x method (resumes)
    python bench/baselines_other.py --only skab/valve1/0 --seeds 0 --out smoke.csv --jobs 1
    python bench/baselines_other.py --summarize baselines.csv
"""

from __future__ import annotations

import functools
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from confirm_kde import DATA, FAMILIES, _md, append_rows, datasets, load, parse_args  # noqa: E402

PYOD = ("IForest", "ECOD", "KNN", "LOF", "COPOD", "HBOS", "PCA", "OCSVM")
METHODS = ("default", *PYOD)
STANDARDISED = frozenset({"KNN", "LOF", "OCSVM", "PCA"})
SEEDED = frozenset({"IForest", "PCA"})
MAX_SECONDS = 60.0


def pyod_scores(method: str, X: np.ndarray, seed: int) -> np.ndarray:
    """PyOD's scores of the rows `method` (default parameters) was fitted on."""
    from pyod.models.copod import COPOD
    from pyod.models.ecod import ECOD
    from pyod.models.hbos import HBOS
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from pyod.models.ocsvm import OCSVM
    from pyod.models.pca import PCA

    cls = {"IForest": IForest, "ECOD": ECOD, "KNN": KNN, "LOF": LOF, "COPOD": COPOD, "HBOS": HBOS, "PCA": PCA,
           "OCSVM": OCSVM}[method]
    if method in STANDARDISED:
        sd = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    det = cls(random_state=seed) if method in SEEDED else cls()
    return np.asarray(det.fit(X).decision_scores_, dtype=np.float64)


@functools.cache
def _warm(method: str) -> None:
    """Import and, for PyOD, fit `method` once on a tiny array in this process, so the timed runs do not include
    imports or numba's first compilation."""
    import torch

    torch.set_num_threads(1)
    from ad_duckdb.detector import AutoEncoderDetector  # noqa: F401 - the import is the warm-up

    if method != "default":
        pyod_scores(method, np.random.default_rng(0).normal(size=(64, 2)), 0)


def run_one(task: tuple[str, str, int, str]) -> dict[str, Any]:
    fam, name, seed, method = task
    from threadpoolctl import threadpool_limits

    from ad_duckdb.metrics import auc_roc

    X, y = load(fam, name)
    with threadpool_limits(1):
        _warm(method)
        t0 = time.perf_counter()
        if method == "default":
            from ad_duckdb.detector import AutoEncoderDetector

            det = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=True).fit(X)
            s = det.decision_function(X)
        else:
            s = pyod_scores(method, X, seed)
        secs = time.perf_counter() - t0
    s = np.nan_to_num(s, nan=np.inf)
    return {"family": fam, "dataset": name, "seed": seed, "method": method, "rows": len(y),
            "anomalies": int(y.sum()), "features": X.shape[1], "auc": auc_roc(s, y) * 100, "fit_s": round(secs, 3)}


def run(out: str, jobs: int, seeds: list[int], methods: list[str], only: list[str] | None) -> None:
    kept, skipped = datasets(nab_cut=False)
    for s in skipped:
        print(f"skipped {s}", file=sys.stderr)
    if only:
        kept = [(f, n) for f, n in kept if f"{f}/{n}" in only]
    done: set[tuple[str, str, int, str]] = set()
    if Path(out).exists():
        prev = pd.read_csv(out)
        done = set(zip(prev.family, prev.dataset, prev.seed, prev.method, strict=True))
    # largest first: a method too slow for the time rule shows it on its first runs, and short runs end the pool
    sizes = {k: len(load(*k)[1]) for k in kept}
    tasks = sorted(((f, n, s, m) for f, n in kept for s in seeds for m in methods if (f, n, s, m) not in done),
                   key=lambda t: -sizes[(t[0], t[1])])
    print(f"{len(kept)} data sets, {len(tasks)} runs to do", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        futs: dict[Future[dict[str, Any]], tuple[str, str, int, str]] = {ex.submit(run_one, t): t for t in tasks}
        for i, fut in enumerate(as_completed(futs), 1):
            if fut.cancelled():
                continue
            r = fut.result()
            append_rows(out, [r])
            print(f"{i}/{len(tasks)} {r['family']}/{r['dataset']} seed {r['seed']} {r['method']} rows {r['rows']} "
                  f"{r['fit_s']:.1f}s ({time.perf_counter() - t0:.0f}s)", file=sys.stderr, flush=True)
            if r["fit_s"] > MAX_SECONDS:
                n = sum(g.cancel() for g, t in futs.items() if t[3] == r["method"])
                print(f"{r['method']} over {MAX_SECONDS:g}s: dropped, {n} runs cancelled", file=sys.stderr, flush=True)


def adbench_means(methods: list[str]) -> pd.Series:
    """Published ADBench unlabelled AUC of `methods`, mean over the 28 files of the reference CSV."""
    ref = pd.read_csv(DATA / "reference" / "adbench_unsupervised_aucroc.csv")
    return ref[methods].mean().rename("ADBench 28 files (published)")


def summarize(paths: list[str]) -> str:
    df = pd.concat([pd.read_csv(p) for p in paths])
    fams = [f for f in FAMILIES if f in set(df.family)]
    slow = df.groupby("method")["fit_s"].max()
    dropped = [m for m in METHODS if m in slow.index and slow[m] > MAX_SECONDS]
    out = [f"Dropped by the {MAX_SECONDS:g} s rule: " + (", ".join(f"{m} (slowest run {slow[m]:.1f} s)" for m in dropped)
                                                         if dropped else "none") + ".", ""]
    df = df[~df.method.isin(dropped)]
    methods = [m for m in METHODS if m in set(df.method)]
    runs = df.groupby("method").size()
    out += ["Runs per method: " + ", ".join(f"{m} {runs[m]}" for m in methods) + ".", ""]
    sets = df[(df.method == "default") & (df.seed == df.seed.min())]
    cnt = sets.groupby("family").agg(data_sets=("dataset", "size"), rows=("rows", "sum"), anomalies=("anomalies", "sum"))
    out += ["Data sets per family:", "", _md(cnt.loc[fams], "{}"), ""]

    per_set = df.groupby(["family", "dataset", "method"])["auc"].mean().reset_index()
    fam = per_set.groupby(["method", "family"])["auc"].mean().unstack()[fams].loc[methods]
    fam["mean of families"] = fam.mean(axis=1)
    fam = fam.sort_values("mean of families", ascending=False)
    fam.index = [("default (ours)" if m == "default" else m) for m in fam.index]
    fam.index.name = "method (mean over seeds 0-2)"
    out += ["Family means (AUC-ROC x100), sorted by the mean of families:", "", _md(fam), ""]

    rk = fam.rank(ascending=False, method="min").astype(int)
    rk.index.name = "method: rank (1 = highest mean)"
    out += [f"Ranks among the {len(methods)} methods:", "", _md(rk, "{}"), ""]
    me = "default (ours)"
    out += [f"- ours is {rk.loc[me, c]} of {len(methods)} on {c}" for c in rk.columns]

    base = fam.drop(index=me)
    best = str(base["mean of families"].idxmax())
    ps = df.groupby(["method", "seed", "family"])["auc"].mean().unstack()[fams]
    ps["mean of families"] = ps.mean(axis=1)
    lines = []
    for s in sorted(set(df.seed)):
        on = ps.xs(s, level="seed")
        top = str(on.drop(index="default")["mean of families"].idxmax())
        for m in dict.fromkeys(["default", best, top]):
            lines.append((f"seed {s}: {'default (ours)' if m == 'default' else m}"
                          + (" (best baseline over seeds 0-2)" if m == best else "")
                          + (" (best baseline on this seed)" if m == top and m != best else ""), on.loc[m]))
    pst = pd.DataFrame([v for _, v in lines], index=[k for k, _ in lines])
    pst.index.name = "seed: method"
    out += ["", f"Per seed, ours against the best baseline ({best}, by the mean of families over seeds 0-2):", "",
            _md(pst), ""]
    wins = per_set.pivot_table(index=["family", "dataset"], columns="method", values="auc")
    wins = (wins["default"] > wins[best]).groupby(level="family").agg(["sum", "size"])
    out += [f"Data sets where ours has the higher mean AUC over seeds than {best}: "
            + ", ".join(f"{f} {wins.loc[f, 'sum']} of {wins.loc[f, 'size']}" for f in fams) + ".", ""]

    seed_free = df[df.method.isin([m for m in PYOD if m not in SEEDED])]
    spread = seed_free.groupby(["method", "family", "dataset"])["auc"].agg(lambda a: a.max() - a.min())
    out += [f"Seed-free baselines: largest AUC difference between seeds of one data set: {spread.max():.6f}.", ""]

    ref = adbench_means([m for m in PYOD if m not in dropped])
    out += ["For context, published ADBench unlabelled AUC of the same PyOD methods, mean over the 28 files of "
            "bench/quality.py (ours there: 78.07, bench/results/quality_2026-12-02.md, bootstrap protocol):", "",
            _md(ref.sort_values(ascending=False).to_frame().rename_axis("method")), ""]

    t = df.groupby(["method", "family"])["fit_s"].agg(["mean", "max"]).unstack()
    t.columns = [f"{f} {a}" for a, f in t.columns]
    t = t[[f"{f} {a}" for f in fams for a in ("mean", "max")]].loc[methods]
    t.index.name = "method: seconds per run (fit + scoring)"
    out += ["Times (seconds per run; 2 workers, 1 thread each):", "", _md(t), ""]

    ds = per_set.pivot_table(index=["family", "dataset"], columns="method", values="auc")[methods]
    ds.index = [f"{f}/{n}" for f, n in ds.index]
    ds.index.name = "data set (mean over seeds)"
    out += ["Per data set:", "", _md(ds)]
    return "\n".join(out)


def main() -> None:
    a = parse_args(__doc__, lambda ap: ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS),
                   summarize)
    if a is not None:
        run(a.out, min(a.jobs, 2), a.seeds, a.methods, a.only)


if __name__ == "__main__":
    main()
