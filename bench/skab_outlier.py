"""The default detector on SKAB's published outlier-detection protocol (train on the known-normal start, threshold).
(An experiment, not a test.) Results: bench/results/skab_outlier_2026-12-02.md.

Why: users come from the classic recipe, an autoencoder trained on normal rows only and a threshold on its score.
SKAB (Skoltech Anomaly Benchmark) publishes a leaderboard for exactly that setting
(../shared/data/reference/skab_outlier_leaderboard.csv: F1, FAR %, MAR %; e.g. Conv-AE 0.78, T-squared+Q (PCA)
0.76, Vanilla AE 0.39, Isolation forest 0.29). This run says where the default stands on it, untuned. Everything
below was written down and committed before the full run (a smoke run on one file was allowed).

Data: every CSV under ../shared/data/timeseries/skab/data except anomaly-free/ (34 files: valve1 16, valve2 4,
other 14), read as SKAB's notebooks read them (`;`-separated, index `datetime`, file order kept). Features: the 8
sensor columns (every column but `anomaly` and `changepoint`); label: `anomaly`. No file has missing values and no
sensor column is constant in a file's first 400 rows (checked before writing this), but the rule below covers it.
Known: other/2.csv has 296 anomalous rows among its first 400; the protocol trains on them anyway, as SKAB's does.

Protocol (as the SKAB baselines' notebooks do it), per file and seed:
    train on the first TRAIN_ROWS = 400 rows, score EVERY row of the file (the training rows too).
    default  AutoEncoderDetector(seed=seed, progress=False, robust=False), fitted on those 400 rows. robust=False
             because the rows are known normal: ad_duckdb.api.train sets robust = (where is None), i.e. training
             on a filtered set of normal rows turns robust training off; this is the same. constant_columns="keep"
             only if a sensor is constant in the 400 rows (otherwise the default "error"). Scores:
             det.decision_function(X).
    IForest  PyOD IForest(random_state=seed), default parameters, on the raw 8 sensors (trees are invariant to
             per-column scaling), fitted on the same 400 rows; scores decision_function(X), training rows'
             scores decision_scores_. A same-run sanity check against the leaderboard's Isolation forest (0.29),
             which SKAB ran with scikit-learn's IsolationForest and its own threshold, so only roughly comparable.
Scores that are NaN count as +inf (anomalous); none are expected.

Threshold rules (each judged), from the training rows' scores t (np.quantile, linear interpolation):
    (A) default  the product's default: the detector's threshold_, the 1 - contamination quantile of t with
                 contamination 0.01 (the default), i.e. det.predict(X) = score > threshold_. For IForest the same
                 rule: score > the 0.99 quantile of decision_scores_ (not PyOD's own threshold_, which uses its
                 contamination 0.1).
    (B) ucl      the SKAB baselines' rule: score > UCL = 1.5 x the 0.99 quantile of t. (PyOD's IForest scores are
                 shifted so its own threshold sits at 0, so its 0.99 quantile is positive and 1.5 x it is defined;
                 the factor means less on a shifted scale than on a reconstruction error.)

Metrics (SKAB's binary evaluation): concatenate all 34 files' predictions and labels (i.e. sum TP, FP, TN, FN over
files), F1 of the anomaly class, FAR % = FP / (FP + TN) x 100, MAR % = FN / (FN + TP) x 100. Seeds 0, 1, 2:
each seed, and the mean over seeds of each metric. For context (threshold-free): the mean over files of the
per-file AUC-ROC (ad_duckdb.metrics.auc_roc) x 100, per seed and mean. No tuning, no other variants.

Usage (PYTHONPATH=. OMP_NUM_THREADS=1, the project's venv; at most 2 workers, 1 thread each):
    python bench/skab_outlier.py --out skab_outlier.csv --jobs 2          # 34 files x seeds 0 1 2 x 2 methods
    python bench/skab_outlier.py --only valve1/0 --seeds 0 --out smoke.csv --jobs 1
    python bench/skab_outlier.py --summarize skab_outlier.csv
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from confirm_kde import run_pool, seeded_main  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SKAB = DATA / "timeseries" / "skab" / "data"
LEADERBOARD = DATA / "reference" / "skab_outlier_leaderboard.csv"
TRAIN_ROWS = 400
SEEDS = (0, 1, 2)
METHODS = ("default", "IForest")
RULES = ("default", "ucl")
UCL_FACTOR = 1.5
UCL_QUANTILE = 0.99


def files() -> list[str]:
    """Every labelled SKAB file, as 'subdir/stem'."""
    return [f"{p.parent.name}/{p.stem}" for sub in ("valve1", "valve2", "other")
            for p in sorted((SKAB / sub).glob("*.csv"), key=lambda p: int(p.stem))]


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """X (the 8 sensors, float64) and y (0/1) of one SKAB file, in file order."""
    d = pd.read_csv(SKAB / f"{name}.csv", sep=";", index_col="datetime", parse_dates=True)
    return d.drop(columns=["anomaly", "changepoint"]).to_numpy(np.float64), d["anomaly"].to_numpy().astype(np.int64)


def fit_scores(method: str, Xtr: np.ndarray, X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Scores of every row, scores of the training rows, and rule (A)'s threshold."""
    if method == "default":
        from ad_duckdb.detector import AutoEncoderDetector

        constant = bool((np.ptp(Xtr, axis=0) == 0).any())
        det = AutoEncoderDetector(seed=seed, progress=False, robust=False,
                                  constant_columns="keep" if constant else "error").fit(Xtr)
        s = det.decision_function(X)
        # rule (A) is the product's predict; checked equal to the score comparison below
        pred = det.predict(X)
        if not np.array_equal(pred, (s > det.threshold_).astype(np.int64)):
            raise AssertionError("predict disagrees with decision_function > threshold_")
        return s, np.asarray(det.decision_scores_, dtype=np.float64), float(det.threshold_)
    from pyod.models.iforest import IForest

    iso = IForest(random_state=seed).fit(Xtr)
    t = np.asarray(iso.decision_scores_, dtype=np.float64)
    return np.asarray(iso.decision_function(X), dtype=np.float64), t, float(np.quantile(t, UCL_QUANTILE))


def counts(pred: np.ndarray, y: np.ndarray) -> dict[str, int]:
    p, a = pred.astype(bool), y.astype(bool)
    return {"tp": int((p & a).sum()), "fp": int((p & ~a).sum()), "tn": int((~p & ~a).sum()), "fn": int((~p & a).sum())}


def run_one(task: tuple[str, int, str]) -> list[dict[str, Any]]:
    name, seed, method = task
    import torch
    from threadpoolctl import threadpool_limits

    from ad_duckdb.metrics import auc_roc

    torch.set_num_threads(1)
    X, y = load(name)
    with threadpool_limits(1):
        t0 = time.perf_counter()
        s, t, thr_a = fit_scores(method, X[:TRAIN_ROWS], X, seed)
        secs = time.perf_counter() - t0
    s = np.nan_to_num(s, nan=np.inf)
    ucl = UCL_FACTOR * float(np.quantile(t, UCL_QUANTILE))
    auc = auc_roc(s, y) * 100
    base = {"dataset": name, "seed": seed, "method": method, "rows": len(y), "anomalies": int(y.sum())}
    return [base | {"rule": rule, "threshold": thr, **counts(s > thr, y), "auc": auc, "fit_s": round(secs, 3)}
            for rule, thr in (("default", thr_a), ("ucl", ucl))]


def run(out: str, jobs: int, seeds: list[int], only: list[str] | None) -> None:
    names = [n for n in files() if not only or n in only]
    done: set[tuple[str, int, str]] = set()
    if Path(out).exists():
        prev = pd.read_csv(out)
        done = set(zip(prev.dataset, prev.seed, prev.method, strict=True))
    tasks = [(n, s, m) for n in names for s in seeds for m in METHODS if (n, s, m) not in done]
    print(f"{len(names)} files, {len(tasks)} runs to do", file=sys.stderr, flush=True)
    run_pool(out, tasks, run_one, jobs,
             lambda r: f"{r['dataset']} seed {r['seed']} {r['method']} auc {r['auc']:.1f} {r['fit_s']:.1f}s")


def binary(c: pd.DataFrame) -> pd.Series:
    """SKAB's binary metrics of summed counts: F1 of the anomaly class, FAR %, MAR %."""
    tp, fp, tn, fn = (float(c[k].sum()) for k in ("tp", "fp", "tn", "fn"))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return pd.Series({"F1": f1, "FAR %": fp / (fp + tn) * 100, "MAR %": fn / (fn + tp) * 100})


def _md(df: pd.DataFrame, fmts: dict[str, str]) -> str:
    cols = [str(c) for c in df.columns]
    out = ["| " + " | ".join([df.index.name or "", *cols]) + " |", "|" + "---|" * (len(cols) + 1)]
    for k, r in df.iterrows():
        cells = ["" if pd.isna(v) else fmts.get(c, "{}").format(v) for c, v in zip(cols, r, strict=True)]
        out.append("| " + " | ".join([str(k), *cells]) + " |")
    return "\n".join(out)


def summarize(path: str) -> str:
    df = pd.read_csv(path)
    n_files = df.groupby(["method", "seed"]).dataset.nunique()
    out = ["Files per (method, seed): " + ", ".join(f"{m} seed {s}: {v}" for (m, s), v in n_files.items()) + ".", ""]
    one = df[(df.method == "default") & (df.rule == "default") & (df.seed == df.seed.min())]
    out += [f"Rows {one.rows.sum()}, anomalous {one.anomalies.sum()} ({one.anomalies.sum() / one.rows.sum():.1%}).", ""]
    label = {("default", "default"): "ad_duckdb default, rule A (threshold_, contamination 0.01)",
             ("default", "ucl"): "ad_duckdb default, rule B (UCL = 1.5 x q0.99)",
             ("IForest", "default"): "PyOD IForest, rule A (q0.99 of training scores)",
             ("IForest", "ucl"): "PyOD IForest, rule B (UCL = 1.5 x q0.99)"}
    rows, seeds = [], sorted(set(df.seed))
    for (m, rule), g in df.groupby(["method", "rule"], sort=False):
        per = pd.DataFrame({s: binary(g[g.seed == s]) for s in seeds}).T
        auc = g.groupby("seed").auc.mean()  # mean over files of the per-file AUC (rule-free: same for both rules)
        r = {"F1": per.F1.mean(), "FAR %": per["FAR %"].mean(), "MAR %": per["MAR %"].mean(), "AUC": auc.mean()}
        r |= {f"F1 s{s}": per.F1[s] for s in seeds} | {f"FAR s{s}": per["FAR %"][s] for s in seeds}
        r |= {f"MAR s{s}": per["MAR %"][s] for s in seeds} | {f"AUC s{s}": auc[s] for s in seeds}
        rows.append(pd.Series(r, name=label[(m, rule)]))
    ours = pd.DataFrame(rows)
    ours.index.name = "this run (mean over seeds, then per seed)"
    fm = {c: ("{:.3f}" if c.startswith("F1") else "{:.1f}") for c in ours.columns}
    out += ["This run (F1, FAR, MAR: mean over seeds 0-2 of each seed's value on all files concatenated; AUC: mean "
            "over files of the per-file AUC-ROC x 100):", "", _md(ours, fm), ""]
    lb = pd.read_csv(LEADERBOARD).set_index("algorithm")
    lb.columns = ["F1", "FAR %", "MAR %"]
    both = pd.concat([lb.assign(source="SKAB leaderboard"),
                      ours[["F1", "FAR %", "MAR %"]].assign(source="this run")]).sort_values("F1", ascending=False)
    both.index.name = "method (sorted by F1)"
    out += ["Beside the leaderboard:", "", _md(both, {"F1": "{:.2f}", "FAR %": "{:.2f}", "MAR %": "{:.2f}"}), ""]
    for name, r in ours.iterrows():
        f1 = round(float(r.F1), 2)  # the leaderboard gives F1 to 2 decimals
        parts = [(w, [a for a, v in lb.F1.items() if cmp(f1, v)]) for w, cmp in
                 (("above", lambda x, v: x > v), ("level with", lambda x, v: x == v), ("below", lambda x, v: x < v))]
        where = "; ".join(f"{w} {', '.join(a) or 'none'}" for w, a in parts)
        out.append(f"- {name}: F1 {r.F1:.3f} ({f1:.2f} at the leaderboard's precision); {where}.")
    t = df.drop_duplicates(["dataset", "seed", "method"]).groupby("method").fit_s.agg(["mean", "max"])
    out += ["", "Seconds per run (fit + scoring of one file; 2 workers, 1 thread each): "
            + ", ".join(f"{m} mean {v['mean']:.1f}, max {v['max']:.1f}" for m, v in t.iterrows()) + "."]
    return "\n".join(out)


def main() -> None:
    seeded_main(__doc__, "skab_outlier.csv", "files as subdir/stem, e.g. valve1/0", SEEDS, run, summarize)


if __name__ == "__main__":
    main()
