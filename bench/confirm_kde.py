"""Confirmatory run: does the per-feature KDE term raise unlabelled-training AUC on data other than ADBench?
(An experiment, not a test, not part of the model.) Results: bench/results/confirm_kde_2026-12-02.md.

Why: bench/marginals.py found, after the fact, that z_kde (below) ADDED to the default score with weight W raised the
unlabelled 28-file ADBench mean AUC on every seed (W=0.5: 78.82, W=1: 79.05, default 78.06;
bench/results/marginals_2026-12-02.md). W and the term were picked after seeing ADBench, so before the term may
become the default for unlabelled training it must hold on other unlabelled data. Everything below (data, protocol,
candidates, decision rule) was written down and committed before any result on these data was seen (apart from a
smoke run on one SKAB file, seed 0, to check that the code runs).

Data sets (under ../shared/data, i.e. /work/shared/data), in three families:
    skab   every labelled CSV under timeseries/skab/data/{valve1, valve2, other} (34 files; `;`-separated).
           Label: column `anomaly`. Features: every numeric column except `anomaly` and `changepoint` (the 8
           sensors: Accelerometer1RMS, Accelerometer2RMS, Current, Pressure, Temperature, Thermocouple, Voltage,
           Volume Flow RateRMS); `datetime` dropped. One data set per CSV. (anomaly-free/ has no label column and
           no anomalies: not a data set.)
    nab    every series under timeseries/nab/data with at least one label window in labels/combined_windows.json.
           Label 1 for rows whose timestamp lies inside a window (both ends included). Features per row:
           [value, value - previous value]; the first row is dropped. One data set per series.
    fraud  fraud/fraud_oracle_vehicle_insurance.csv, label FraudFound_P. Features: its numeric columns other than
           the label and the id-like PolicyNumber and RepNumber, i.e. FRAUD_FEATURES = WeekOfMonth,
           WeekOfMonthClaimed, Age, Deductible, DriverRating, Year. One data set.
A data set is skipped (and listed as skipped) only if it has no anomalies or fewer than MIN_ROWS = 50 rows (or, a
guard for an undefined AUC, no normal rows).

Protocol: unlabelled, as bench/quality.py's unsup protocol but without the bootstrap: fit on ALL rows of the data
set (labels unused), AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=True), score
all rows, AUC-ROC (ad_duckdb.metrics.auc_roc) x 100. Seeds 0, 1, 2. torch.set_num_threads(1), at most 2 workers.

Candidates (s = the default score, NaN -> +inf):
    default      s
    kde_alone    t = z_kde / its median over the reference rows (reported, not judged)
    kde_add0.5   s + 0.5 t
    kde_add1     s + 1 t
z_kde exactly as bench/marginals.py computes it (its functions `kde`, `_scaled`): in the model's transformed space
z = features.transform(X, det.specs_), per non-constant feature j the surprisal -log f_j(z_j) under a 1-D Gaussian
KDE of the reference rows' column j, minus its minimum over the reference rows, summed over features; divided by the
sum's median over the reference rows. Reference rows: all training rows (= all rows), or, above
marginals.SAMPLE_ROWS of them, a sample of that many without replacement with rng(seed + marginals.SAMPLE_SEED_OFFSET).
Also (reported, not judged) the version an ONNX graph could hold:
    grid_add0.5, grid_add1 = s + W g, g the grid term / its median over the reference rows. Per non-constant
    feature: a table of -log f at G = 256 evenly spaced points over [min, max] of the reference column (f the same
    KDE as above: marginals' kernel centres and bandwidth, log f computed exactly at the table points); linear
    interpolation inside [min, max]; outside, the nearest edge's value plus (distance beyond the edge)^2 / (2 h^2),
    h the column's bandwidth (marginals.bandwidth). Minus its minimum over the reference rows, summed over features.
    Agreement with the exact term: AUC(grid_addW) - AUC(kde_addW) per data set and seed.

Decision rule (W = 0.5 and W = 1, candidate kde_addW against default):
    the term is CONFIRMED for weight W if, over seeds 0-2, (a) the mean AUC over all data sets of each family is at
    least the default's minus 0.2 for every family, and (b) the mean over the three families' means is higher than
    the default's, and (c) per seed, (b) holds on at least 2 of the 3 seeds. Otherwise NOT CONFIRMED. No other
    weights, no other variants judged.
(A family's mean over seeds 0-2 is the mean over its data sets of each data set's mean over the three seeds.)

Time box: the full run must end within about 70 minutes; if the first fits say it cannot, NAB is cut to the series in
realKnownCause + realAWSCloudwatch + realTraffic (--nab-cut), decided before any NAB AUC is seen.

Usage (PYTHONPATH=. OMP_NUM_THREADS=1, the project's venv):
    python bench/confirm_kde.py --out confirm.csv --jobs 2          # every data set x seeds 0 1 2 (resumes a CSV)
    python bench/confirm_kde.py --only skab/valve1/0 --seeds 0 --out smoke.csv --jobs 1
    python bench/confirm_kde.py --summarize confirm.csv             # the results tables and the verdict
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from marginals import SAMPLE_ROWS, SAMPLE_SEED_OFFSET, _log_density, _scaled, bandwidth, kde, kernel_centres  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SKAB = DATA / "timeseries" / "skab" / "data"
NAB = DATA / "timeseries" / "nab"
FRAUD = DATA / "fraud" / "fraud_oracle_vehicle_insurance.csv"
FRAUD_FEATURES = ["WeekOfMonth", "WeekOfMonthClaimed", "Age", "Deductible", "DriverRating", "Year"]
NAB_CUT = ("realKnownCause", "realAWSCloudwatch", "realTraffic")
FAMILIES = ("skab", "nab", "fraud")
MIN_ROWS = 50
G = 256
WEIGHTS = (0.5, 1.0)
SEEDS = (0, 1, 2)


def load(family: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """X (float64) and y (0/1) of one data set, named as datasets() names it."""
    if family == "skab":
        d = pd.read_csv(SKAB / f"{name}.csv", sep=";")
        y = d["anomaly"].to_numpy()
        feats = [c for c in d.select_dtypes("number").columns if c not in ("anomaly", "changepoint")]
        return d[feats].to_numpy(np.float64), y.astype(np.int64)
    if family == "nab":
        d = pd.read_csv(NAB / "data" / f"{name}.csv")
        ts = pd.to_datetime(d["timestamp"])
        y = np.zeros(len(d), dtype=np.int64)
        for lo, hi in _windows()[f"{name}.csv"]:
            y[((ts >= pd.Timestamp(lo)) & (ts <= pd.Timestamp(hi))).to_numpy()] = 1
        v = d["value"].to_numpy(np.float64)
        return np.column_stack([v[1:], np.diff(v)]), y[1:]
    d = pd.read_csv(FRAUD)
    return d[FRAUD_FEATURES].to_numpy(np.float64), d["FraudFound_P"].to_numpy().astype(np.int64)


def _windows() -> dict[str, list[list[str]]]:
    return json.loads((NAB / "labels" / "combined_windows.json").read_text())


def datasets(nab_cut: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """(family, name) of every data set kept, and the skipped ones with the reason."""
    cands = [("skab", f"{p.parent.name}/{p.stem}") for sub in ("valve1", "valve2", "other")
             for p in sorted((SKAB / sub).glob("*.csv"), key=lambda p: int(p.stem))]
    cands += [("nab", k[:-4]) for k, w in sorted(_windows().items())
              if w and (not nab_cut or k.split("/")[0] in NAB_CUT)]
    cands.append(("fraud", "fraud_oracle"))
    kept, skipped = [], []
    for fam, name in cands:
        _, y = load(fam, name)
        why = ("fewer than 50 rows" if len(y) < MIN_ROWS else "no anomalies" if y.sum() == 0
               else "no normal rows" if y.sum() == len(y) else "")
        (skipped.append(f"{fam}/{name}: {why}") if why else kept.append((fam, name)))
    return kept, skipped


def grid_term(R: np.ndarray, Qs: list[np.ndarray]) -> list[np.ndarray]:
    """The ONNX-buildable version of marginals.kde (the docstring's grid term) for R (first) and each Q."""
    out = [np.zeros(len(V)) for V in [R, *Qs]]
    for j in range(R.shape[1]):
        r = R[:, j]
        lo, hi = float(r.min()), float(r.max())
        if hi <= lo:
            continue
        h = bandwidth(r)
        centres, w = kernel_centres(r)
        pts = np.linspace(lo, hi, G)
        table = -_log_density(pts, centres, np.log(w / len(r)), h)

        def surprisal(v: np.ndarray, table: np.ndarray = table, pts: np.ndarray = pts, lo: float = lo,
                      hi: float = hi, h: float = h) -> np.ndarray:
            s = np.interp(v, pts, table)  # clamps to the edge values outside [lo, hi]
            beyond = np.maximum(lo - v, 0.0) + np.maximum(v - hi, 0.0)
            return s + beyond**2 / (2 * h * h)

        m = float(surprisal(r).min())
        for acc, V in zip(out, [R, *Qs], strict=True):
            acc += surprisal(V[:, j]) - m
    return out


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    fam, name, seed = task
    import torch

    torch.set_num_threads(1)
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.features import transform
    from ad_duckdb.metrics import auc_roc

    X, y = load(fam, name)
    t0 = time.perf_counter()
    det = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=True).fit(X)
    fit_s = time.perf_counter() - t0
    s = np.nan_to_num(det.decision_function(X), nan=np.inf)
    rng = np.random.default_rng(seed + SAMPLE_SEED_OFFSET)
    ref = np.arange(len(X)) if len(X) <= SAMPLE_ROWS else rng.choice(len(X), SAMPLE_ROWS, replace=False)
    R, Q = transform(X[ref], det.specs_), transform(X, det.specs_)
    t1 = time.perf_counter()
    tr_term, q_term = kde(R, [Q])
    t = _scaled(tr_term, q_term)
    kde_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    gr_term, gq_term = grid_term(R, [Q])
    g = _scaled(gr_term, gq_term)
    grid_s = time.perf_counter() - t2
    scores = {"default": s, "kde_alone": t}
    for w in WEIGHTS:
        scores[f"kde_add{w:g}"] = s + w * t
        scores[f"grid_add{w:g}"] = s + w * g
    fin = np.isfinite(t) & np.isfinite(g)
    rho = float(pd.Series(t[fin]).corr(pd.Series(g[fin]), method="spearman")) if fin.sum() > 2 else float("nan")
    base = {"family": fam, "dataset": name, "seed": seed, "rows": len(y), "anomalies": int(y.sum()),
            "features": X.shape[1], "fit_s": round(fit_s, 3), "kde_s": round(kde_s, 3), "grid_s": round(grid_s, 3),
            "term_spearman": round(rho, 6)}
    return [{**base, "cand": c, "auc": auc_roc(v, y) * 100} for c, v in scores.items()]


def _describe(r: dict[str, Any]) -> str:
    return f"{r['family']}/{r['dataset']} seed {r['seed']} rows {r['rows']} fit {r['fit_s']:.1f}s kde {r['kde_s']:.1f}s"


def run(out: str, jobs: int, seeds: list[int], nab_cut: bool, only: list[str] | None,
        run_one: Callable[[tuple[str, str, int]], list[dict[str, Any]]] = run_one,
        describe: Callable[[dict[str, Any]], str] = _describe) -> None:
    """``run_one`` on every (data set, seed) not yet in ``out`` (bench/confirm_multiscale.py passes its own)."""
    kept, skipped = datasets(nab_cut)
    for s in skipped:
        print(f"skipped {s}", file=sys.stderr)
    if only:
        kept = [(f, n) for f, n in kept if f"{f}/{n}" in only]
    done: set[tuple[str, str, int]] = set()
    if Path(out).exists():
        prev = pd.read_csv(out)
        done = set(zip(prev.family, prev.dataset, prev.seed, strict=True))
    # largest first, so the last tasks running are short ones and both workers stay busy
    sizes = {k: len(load(*k)[1]) for k in kept}
    tasks = sorted(((f, n, s) for f, n in kept for s in seeds if (f, n, s) not in done),
                   key=lambda t: -sizes[(t[0], t[1])])
    print(f"{len(kept)} data sets, {len(tasks)} runs to do", file=sys.stderr, flush=True)
    run_pool(out, tasks, run_one, jobs, describe)


def append_rows(out: str, rows: list[dict[str, Any]]) -> None:
    """Add rows to the CSV as each run ends, so a crash or a stop loses no finished run (reruns skip them)."""
    new = not Path(out).exists()
    with open(out, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new:
            w.writeheader()
        w.writerows(rows)


def run_pool(out: str, tasks: list[Any], run_one: Callable[[Any], list[dict[str, Any]]], jobs: int,
             describe: Callable[[dict[str, Any]], str]) -> None:
    """Each task's rows from ``jobs`` worker processes, appended to ``out`` as it ends, with a progress line."""
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        futs = [ex.submit(run_one, t) for t in tasks]
        for i, fut in enumerate(as_completed(futs), 1):
            rows = fut.result()
            append_rows(out, rows)
            print(f"{i}/{len(tasks)} {describe(rows[0])} ({time.perf_counter() - t0:.0f}s)", file=sys.stderr, flush=True)


def seeded_main(doc: str | None, out: str, only: str, seeds: tuple[int, ...],
                run: Callable[[str, int, list[int], list[str] | None], None], summarize: Callable[[str], str]) -> None:
    """The command line of a bench that runs files x seeds into a CSV (``run``) or summarizes one (``summarize``):
    ``--out`` (default ``out``), ``--jobs`` (at most 2: the machine's cores), ``--seeds``, ``--only`` (``only``: its
    help), ``--summarize CSV``."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=out)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seeds", type=int, nargs="+", default=list(seeds))
    ap.add_argument("--only", nargs="+", help=only)
    ap.add_argument("--summarize", metavar="CSV")
    a = ap.parse_args()
    if a.summarize:
        print(summarize(a.summarize))
    else:
        run(a.out, min(a.jobs, 2), a.seeds, a.only)


def _md(df: pd.DataFrame, fmt: str = "{:.2f}") -> str:
    cols = [str(c) for c in df.columns]
    out = ["| " + " | ".join([df.index.name or "", *cols]) + " |", "|" + "---|" * (len(cols) + 1)]
    for k, r in df.iterrows():
        cells = [fmt.format(v) if isinstance(v, float) else str(v) for v in r]
        out.append("| " + " | ".join([str(k), *cells]) + " |")
    return "\n".join(out)


def verdict(df: pd.DataFrame, cand: str) -> tuple[bool, str]:
    """The docstring's decision rule for one candidate against the default."""
    per_set = df.groupby(["family", "dataset", "cand"])["auc"].mean().reset_index()
    fam = per_set.groupby(["cand", "family"])["auc"].mean().unstack()
    per_seed = df.groupby(["cand", "seed", "family"])["auc"].mean().unstack().mean(axis=1).unstack()
    a = all(fam.loc[cand, f] >= fam.loc["default", f] - 0.2 for f in fam.columns)
    b = fam.loc[cand].mean() > fam.loc["default"].mean()
    wins = int((per_seed.loc[cand] > per_seed.loc["default"]).sum())
    c = wins >= 2
    diffs = ", ".join(f"{f} {fam.loc[cand, f] - fam.loc['default', f]:+.2f}" for f in fam.columns)
    base = fam.loc["default"].mean()
    text = (f"(a) every family >= default - 0.2: {'yes' if a else 'NO'} ({diffs}); "
            f"(b) mean of family means {fam.loc[cand].mean():.2f} vs default {base:.2f}: "
            f"{'yes' if b else 'NO'}; (c) higher on {wins} of {len(per_seed.columns)} seeds: {'yes' if c else 'NO'}")
    return a and b and c, text


def family_tables(df: pd.DataFrame) -> tuple[list[str], list[str], pd.DataFrame, pd.DataFrame]:
    """The families present, the data-sets-per-family table's lines, each data set's mean AUC per candidate (over
    seeds) and each family's mean of those with their mean: what every confirmatory summary starts from."""
    fams = [f for f in FAMILIES if f in set(df.family)]
    sets = df[(df.cand == "default") & (df.seed == df.seed.min())]
    cnt = sets.groupby("family").agg(data_sets=("dataset", "size"), rows=("rows", "sum"), anomalies=("anomalies", "sum"))
    per_set = df.groupby(["family", "dataset", "cand"])["auc"].mean().reset_index()
    fam = per_set.groupby(["cand", "family"])["auc"].mean().unstack()[fams]
    fam["mean of families"] = fam.mean(axis=1)
    fam.index.name = "candidate (mean over seeds 0-2)"
    return fams, ["Data sets per family:", "", _md(cnt.loc[fams], "{}"), ""], per_set, fam


def summarize(paths: list[str]) -> str:
    df = pd.concat([pd.read_csv(p) for p in paths])
    order = ["default", "kde_add0.5", "kde_add1", "kde_alone", "grid_add0.5", "grid_add1"]
    fams, out, per_set, fam = family_tables(df)
    out += ["Family means (AUC-ROC x100):", "", _md(fam.loc[[c for c in order if c in fam.index]]), ""]
    ps = df.groupby(["cand", "seed", "family"])["auc"].mean().unstack()[fams]
    ps["mean of families"] = ps.mean(axis=1)
    ps = ps.reset_index()
    ps["cand"] = pd.Categorical(ps["cand"], order)
    ps = ps.sort_values(["seed", "cand"]).set_index(["seed", "cand"])
    ps.index = [f"seed {s}: {c}" for s, c in ps.index]
    ps.index.name = "seed: candidate"
    out += ["Family means per seed:", "", _md(ps), ""]
    out.append("Verdict (decision rule of bench/confirm_kde.py):")
    out.append("")
    for w in ("0.5", "1"):
        ok, text = verdict(df, f"kde_add{w}")
        out.append(f"- W={w}: {'CONFIRMED' if ok else 'NOT CONFIRMED'}. {text}")
    out += ["", "Grid (ONNX-buildable, G=256) against the exact term: AUC(grid_addW) - AUC(kde_addW) per data set and "
            "seed; Spearman correlation of the two scaled terms over a data set's rows:", ""]
    piv = df.pivot_table(index=["family", "dataset", "seed"], columns="cand", values="auc")
    rho = df[df.cand == "default"].term_spearman
    lines = ["| W | mean diff | mean abs diff | max abs diff (where) | runs with abs diff > 0.1 |", "|---|---|---|---|---|"]
    for w in ("0.5", "1"):
        d = piv[f"grid_add{w}"] - piv[f"kde_add{w}"]
        k = d.abs().idxmax()
        lines.append(f"| {w} | {d.mean():+.4f} | {d.abs().mean():.4f} | {d.abs().max():.4f} ({k[0]}/{k[1]} seed {k[2]}) "
                     f"| {int((d.abs() > 0.1).sum())} of {len(d)} |")
    out += lines
    out += ["", f"Term Spearman rho: median {rho.median():.5f}, min {rho.min():.5f}.", ""]
    t = df[df.cand == "default"].groupby("family").agg(runs=("fit_s", "size"), fit_s_mean=("fit_s", "mean"),
                                                      fit_s_max=("fit_s", "max"), fit_s_total=("fit_s", "sum"),
                                                      kde_s_mean=("kde_s", "mean"), grid_s_mean=("grid_s", "mean"))
    out += ["Times (seconds, per run; 2 workers, 1 torch thread each):", "", _md(t.loc[fams]), ""]
    ds = per_set.pivot_table(index=["family", "dataset"], columns="cand", values="auc")
    ds = ds[[c for c in order if c in ds.columns]]
    for w in ("0.5", "1"):
        ds[f"kde_add{w} - default"] = ds[f"kde_add{w}"] - ds["default"]
    ds.index = [f"{f}/{n}" for f, n in ds.index]
    ds.index.name = "data set (mean over seeds)"
    out += ["Per data set:", "", _md(ds)]
    return "\n".join(out)


def parse_args(doc: str | None, add: Any, summarize: Any) -> argparse.Namespace | None:
    """The options of this script and of those run on its data sets (baselines_other.py): ``add(ap)`` adds a
    script's own; None when --summarize printed the tables instead."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="CSV of per-run AUCs (appended to; runs already in it are skipped)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    add(ap)
    ap.add_argument("--only", nargs="*", help="family/name of the data sets to run (default: all)")
    ap.add_argument("--summarize", nargs="+", metavar="CSV", help="print the results tables instead")
    a = ap.parse_args()
    if a.summarize:
        print(summarize(a.summarize))
        return None
    if not a.out:
        ap.error("--out is required to run")
    return a


Candidates = Callable[[Any, np.ndarray, np.ndarray, int], tuple[dict[str, np.ndarray], dict[str, Any]]]


def stage1_rows(candidates: Candidates, task: tuple[str, str, int]) -> list[dict[str, Any]]:
    """One ADBench run of a two-stage experiment: the default fitted as bench/global_terms.fit_default fits it, then
    ``candidates(det, X_train, X_scored, seed)``'s scores (and extra columns), one result row per candidate."""
    path, protocol, seed = task
    import torch

    torch.set_num_threads(1)  # (and torch imported before the clock starts, as stage 2 does)
    from global_terms import fit_default

    from ad_duckdb.metrics import auc_roc

    c0 = time.process_time()  # (the file's read is in it too: milliseconds against the fit)
    det, X, y, tr, te, _ = fit_default(path, protocol, seed)
    model_cpu = time.process_time() - c0
    scores, extra = candidates(det, X[tr], X[te], seed)
    base = {"file": Path(path).stem, "protocol": protocol, "seed": seed, "n_train": len(tr), "n_scored": len(te),
            "features": X.shape[1], "model_cpu": round(model_cpu, 4), **extra}
    return [{**base, "cand": c, "auc": auc_roc(v, y[te]) * 100} for c, v in scores.items()]


def stage2_rows(candidates: Candidates, task: tuple[str, str, int]) -> list[dict[str, Any]]:
    """One run on these data sets: the default fitted unlabelled on all rows (robust), all rows scored."""
    fam, name, seed = task
    import torch

    torch.set_num_threads(1)
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.metrics import auc_roc

    X, y = load(fam, name)
    c0 = time.process_time()
    det = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=True).fit(X)
    model_cpu = time.process_time() - c0
    scores, extra = candidates(det, X, X, seed)
    base = {"family": fam, "dataset": name, "seed": seed, "rows": len(y), "anomalies": int(y.sum()),
            "features": X.shape[1], "model_cpu": round(model_cpu, 4), "fit_s": round(model_cpu, 4), **extra}
    return [{**base, "cand": c, "auc": auc_roc(v, y) * 100} for c, v in scores.items()]


def summarize_stages(paths: list[str], summarize1: Callable[[pd.DataFrame], tuple[list[str], list[str]]],
                     summarize2: Callable[[pd.DataFrame, list[str]], list[str]]) -> str:
    """The tables of a two-stage experiment's CSVs: stage 1's (ADBench rows, a ``file`` column; ``summarize1`` gives
    its lines and the candidates that pass) then stage 2's (rows of these data sets, a ``family`` column)."""
    dfs = [pd.read_csv(p) for p in paths]
    s1 = [d for d in dfs if "file" in d.columns]
    s2 = [d for d in dfs if "family" in d.columns]
    out, passed = summarize1(pd.concat(s1)) if s1 else ([], [])
    if s2:
        out += summarize2(pd.concat(s2), passed)
    return "\n".join(out)


def run_adbench(out: str, jobs: int, seeds: list[int], files: list[str] | None, protocols: tuple[str, ...],
                run_one: Callable[[tuple[str, str, int]], list[dict[str, Any]]],
                describe: Callable[[dict[str, Any]], str]) -> None:
    """``run_one`` on every (ADBench file, protocol, seed) not yet in ``out``; ``files``: substrings of the names."""
    paths = sorted((DATA / "adbench").glob("*.npz"), key=lambda f: -f.stat().st_size)  # largest first, as run()
    if files:
        paths = [f for f in paths if any(s.lower() in f.name.lower() for s in files)]
    done: set[tuple[str, str, int]] = set()
    if Path(out).exists():
        prev = pd.read_csv(out)
        done = set(zip(prev.file, prev.protocol, prev.seed, strict=True))
    tasks = [(str(f), p, s) for f in paths for p in protocols for s in seeds if (f.stem, p, s) not in done]
    print(f"{len(paths)} files, {len(tasks)} runs to do", file=sys.stderr, flush=True)
    run_pool(out, tasks, run_one, jobs, describe)


def staged_main(doc: str | None, protocols: tuple[str, ...],
                run_stage1: Callable[[tuple[str, str, int]], list[dict[str, Any]]],
                describe1: Callable[[dict[str, Any]], str],
                run_stage2: Callable[[tuple[str, str, int]], list[dict[str, Any]]],
                describe2: Callable[[dict[str, Any]], str], summarize: Callable[[list[str]], str]) -> None:
    """The command line of a two-stage experiment (bench/isolation_term.py, bench/refit_clean.py): ``--stage 1``
    runs ``run_stage1`` on ADBench under ``protocols``, ``--stage 2`` ``run_stage2`` on these data sets."""
    def add(ap: argparse.ArgumentParser) -> None:
        ap.add_argument("--stage", type=int, choices=[1, 2], default=1)
        ap.add_argument("--files", nargs="*", help="stage 1: ADBench files whose name contains one of these")
        ap.add_argument("--nab-cut", action="store_true", help="stage 2: NAB only from " + ", ".join(NAB_CUT))

    a = parse_args(doc, add, summarize)
    if a is None:
        return
    if a.stage == 1:
        run_adbench(a.out, min(a.jobs, 2), a.seeds, a.files, protocols, run_stage1, describe1)
    else:
        run(a.out, min(a.jobs, 2), a.seeds, a.nab_cut, a.only, run_one=run_stage2, describe=describe2)


def main() -> None:
    a = parse_args(__doc__, lambda ap: ap.add_argument("--nab-cut", action="store_true",
                                                       help="NAB only from " + ", ".join(NAB_CUT)), summarize)
    if a is not None:
        run(a.out, min(a.jobs, 2), a.seeds, a.nab_cut, a.only)


if __name__ == "__main__":
    main()
