"""Experiment: an isolation-forest term added to the default score (not a test, not part of the model).
Results: bench/results/isolation_term_2026-12-07.md.

Why: the default score (reconstruction + neighbour + range, each divided by its median on the training rows) beats
PyOD's IForest on ADBench unlabelled (28-file mean 78.06 vs 76.47) but not on the data the defaults were never chosen
with (bench/baselines_other.py: SKAB, NAB, fraud_oracle, mean of the three family means 55.2 vs IForest 57.4, IForest
higher on every seed), nor on 6_cardio (semi-supervised 92.4; IForest published 93.3). An isolation term was never
tried. Trees fit in the model's ONNX graph (ai.onnx.ml TreeEnsembleRegressor, which onnxruntime runs), so a term that
wins could become part of the model. Everything below (protocol, candidates, decision rule) was written down and
committed before any result was seen, apart from a smoke run on one small ADBench file (39_vertebral, seed 0, both
protocols) to check that the code runs.

The default model is fitted exactly as bench/quality.py / bench/global_terms.fit_default fit it (stage 1) and as
bench/confirm_kde.py fits it (stage 2); the term is added after the fact.

Isolation term. Space: the model's transformed features, z = features.transform(X, det.specs_) (what the ONNX graph
computes after preprocessing; a NaN in a training row becomes the column's training median as in training, a NaN in
a scored row is filled as the model fills it when scoring, AutoEncoderDetector._filled; none of these files has
one). Forest: sklearn.ensemble.IsolationForest (Liu et al. 2008; sklearn 1.9) with n_estimators=100,
max_samples=min(256, n) ("auto"), max_features=1.0, no bootstrap, random_state = the model's seed, fitted on the
training rows: in the semi-supervised protocol the rows known normal, in the unlabelled ones every training row (the
bootstrap of bench/quality.py's split, copies included; in stage 2 all rows). Raw score a(x) = 2^(-E[h(x)]/c(psi)),
psi = min(256, n), c(m) = 2 H(m-1) - 2 (m-1)/m the average path length of an unsuccessful binary-search-tree search
(h includes c(leaf size) for unsplit leaves): sklearn's -score_samples. Higher = more isolated.

Candidates (s = the default score, det.decision_function, NaN -> +inf; med = median of a over the training rows,
copies included):
    default    s
    iso_alone  a                                   (reported, not judged)
    iso_add    s + a / med                         (a term as the others are: divided by its median on training rows)
    iso_rank   s + (a / med)^c(psi)                = 2^((E_med - E[h(x)])) when med = 2^(-E_med/c(psi)), i.e. 2 to
                                                   the power of the row's path-length deficit (in tree levels) against
                                                   the median training row.
    Why iso_rank: a ranges in (0, 1] and on training rows typically in about [0.35, 0.7] (Liu et al.), so a / med moves by well under
    one unit between a typical and a very isolated row, while the other terms (errors and distances divided by their
    training median) reach tens or hundreds on anomalies; iso_add can then only break near-ties. 2^(path deficit) is
    1 at the median training row and, since a row's expected depth is about log2 of the training mass sharing its
    cell, grows like the inverse of that mass (a density ratio), the dynamic range the other terms have. Fixed before
    any result; no other exponent or weight is tried.

Stage 1 (ADBench): all 28 files of ../shared/data/adbench, both protocols of bench/quality.py (semi: train on half
of the normal rows, score the other half and every anomaly; unsup: train on a bootstrap of all rows, robust=True,
score all rows), its split(), seeds 0 1 2. AUC-ROC (ad_duckdb.metrics.auc_roc) x 100.
Stage 2 (SKAB, NAB, fraud_oracle): exactly bench/confirm_kde.py's data sets (its datasets()/load()), its protocol
(unlabelled: fit on all rows with robust=True, score all rows), seeds 0 1 2. NAB is not cut (--nab-cut unused):
confirm_kde's full run of the same fits took 149 s wall, and a forest on at most 22,694 rows adds seconds.
Stage 2 is run for the candidates that pass stage 1; if none passes, it is still run if time allows, and reported
only (no verdict).

Decision rule (candidates iso_add and iso_rank, each against default):
    Stage 1 PASS if (a) its semi and unsup 28-file means over seeds 0-2 (a file's mean over the seeds, averaged over
    the 28 files) are each >= the default's - 0.1 and at least one of them is >= the default's + 0.3, and (b) per
    seed (each protocol's 28-file mean of that seed) the same condition holds on at least 2 of the 3 seeds.
    CONFIRMED if it passes stage 1 and in stage 2 satisfies confirm_kde's rule: (a) each family's mean over seeds
    0-2 >= the default's - 0.2, (b) the mean of the three family means is higher than the default's, (c) (b) holds
    per seed on at least 2 of the 3 seeds (confirm_kde.verdict). Otherwise NOT CONFIRMED.
Reported, not judged: 6_cardio, 38_thyroid, 32_shuttle (semi) per candidate; iso_alone; CPU seconds
(time.process_time in the worker, 1 thread) of the model's fit, of the forest's fit, and of its scoring (the
training rows for the median plus the scored rows).

Usage (PYTHONPATH=. OMP_NUM_THREADS=1, the project's venv; runs resume the CSV given to --out):
    python bench/isolation_term.py --stage 1 --out iso1.csv --jobs 2
    python bench/isolation_term.py --stage 1 --files vertebral --seeds 0 --out smoke.csv --jobs 1
    python bench/isolation_term.py --stage 2 --out iso2.csv --jobs 2 [--nab-cut]
    python bench/isolation_term.py --summarize iso1.csv [iso2.csv]
"""

from __future__ import annotations

import math
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from confirm_kde import (  # noqa: E402
    FAMILIES,
    _md,
    stage1_rows,
    stage2_rows,
    staged_main,
    summarize_stages,
    verdict,
)

N_TREES = 100
MAX_SAMPLES = 256
CANDS = ("default", "iso_add", "iso_rank", "iso_alone")
JUDGED = ("iso_add", "iso_rank")
SEMI_FILES = ("6_cardio", "38_thyroid", "32_shuttle")


def c_factor(m: int) -> float:
    """Average path length of an unsuccessful search in a binary search tree of m points (Liu et al.)."""
    if m <= 1:
        return 0.0
    if m == 2:
        return 1.0
    return 2.0 * (math.log(m - 1) + np.euler_gamma) - 2.0 * (m - 1) / m


def candidates(det: Any, Xtr: np.ndarray, Xte: np.ndarray, seed: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Each candidate's scores of the rows Xte, and the forest's CPU seconds and psi."""
    from sklearn.ensemble import IsolationForest

    from ad_duckdb.features import transform

    s = np.nan_to_num(det.decision_function(Xte), nan=np.inf)
    Ztr = transform(Xtr, det.specs_)
    Zte = transform(det._filled(Xte, 65536)[0], det.specs_)
    c0 = time.process_time()
    forest = IsolationForest(n_estimators=N_TREES, max_samples=min(MAX_SAMPLES, len(Ztr)), random_state=seed).fit(Ztr)
    c1 = time.process_time()
    a_tr, a_te = -forest.score_samples(Ztr), -forest.score_samples(Zte)
    c2 = time.process_time()
    psi = int(forest.max_samples_)
    med = float(np.median(a_tr))
    ratio = a_te / med
    scores = {"default": s, "iso_add": s + ratio, "iso_rank": s + ratio ** c_factor(psi), "iso_alone": a_te}
    return scores, {"psi": psi, "iso_fit_cpu": round(c1 - c0, 4), "iso_score_cpu": round(c2 - c1, 4)}


run_stage1 = partial(stage1_rows, candidates)
run_stage2 = partial(stage2_rows, candidates)


def _describe1(r: dict[str, Any]) -> str:
    return (f"{r['file']} {r['protocol']} seed {r['seed']} model {r['model_cpu']:.1f}s "
            f"forest {r['iso_fit_cpu']:.2f}+{r['iso_score_cpu']:.2f}s CPU")


def _describe2(r: dict[str, Any]) -> str:
    return (f"{r['family']}/{r['dataset']} seed {r['seed']} rows {r['rows']} model {r['model_cpu']:.1f}s "
            f"forest {r['iso_fit_cpu']:.2f}+{r['iso_score_cpu']:.2f}s CPU")


def _ok(d_semi: float, d_unsup: float) -> bool:
    return d_semi >= -0.1 and d_unsup >= -0.1 and max(d_semi, d_unsup) >= 0.3


def stage1_verdict(df: pd.DataFrame, cand: str) -> tuple[bool, str]:
    """The docstring's stage-1 rule for one candidate against the default."""
    per_file = df.groupby(["protocol", "file", "cand"])["auc"].mean().reset_index()
    means = per_file.groupby(["cand", "protocol"])["auc"].mean().unstack()
    d = means.loc[cand] - means.loc["default"]
    a = _ok(d["semi"], d["unsup"])
    ps = df.groupby(["cand", "seed", "protocol"])["auc"].mean()
    seeds = sorted(df.seed.unique())
    per_seed = [(s, ps[(cand, s, "semi")] - ps[("default", s, "semi")], ps[(cand, s, "unsup")] - ps[("default", s, "unsup")])
                for s in seeds]
    wins = sum(_ok(ds, du) for _, ds, du in per_seed)
    b = wins >= 2
    seed_text = ", ".join(f"seed {s}: semi {ds:+.2f} unsup {du:+.2f}" for s, ds, du in per_seed)
    text = (f"(a) means semi {d['semi']:+.2f}, unsup {d['unsup']:+.2f}: {'yes' if a else 'NO'}; "
            f"(b) holds on {wins} of {len(seeds)} seeds ({seed_text}): {'yes' if b else 'NO'}")
    return a and b, text


def summarize1(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Stage-1 tables and the candidates that pass."""
    order = [c for c in CANDS if c in set(df.cand)]
    n_files = df.groupby("protocol").file.nunique().to_dict()
    per_file = df.groupby(["protocol", "file", "cand"])["auc"].mean().reset_index()
    means = per_file.groupby(["cand", "protocol"])["auc"].mean().unstack().loc[order]
    means.columns = [f"{p} ({n_files[p]} files)" for p in means.columns]
    means.index.name = "candidate (mean over seeds)"
    out = ["## Stage 1: ADBench", "", "28-file means (AUC-ROC x100; a file's mean over seeds 0-2, averaged over files):",
           "", _md(means), ""]
    ps = df.groupby(["cand", "protocol", "seed"])["auc"].mean().unstack(["protocol", "seed"]).loc[order]
    ps.columns = [f"{p} seed {s}" for p, s in ps.columns]
    ps.index.name = "candidate"
    out += ["Per seed:", "", _md(ps), ""]
    passed = []
    out += ["Verdict, stage 1 (decision rule of bench/isolation_term.py):", ""]
    for c in JUDGED:
        if c not in set(df.cand):
            continue
        ok, text = stage1_verdict(df, c)
        passed += [c] if ok else []
        out.append(f"- {c}: {'PASSES' if ok else 'FAILS'}. {text}")
    semi = df[df.protocol == "semi"]
    sel = semi[semi.file.isin(SEMI_FILES)].pivot_table(index="cand", columns="file", values="auc")
    if not sel.empty:
        sel = sel.loc[order, [f for f in SEMI_FILES if f in sel.columns]]
        sel.index.name = "candidate (semi, mean over seeds)"
        out += ["", "Cardio, thyroid, shuttle (semi; reported, not judged):", "", _md(sel)]
    out.append("")
    for p in ("semi", "unsup"):
        t = per_file[per_file.protocol == p].pivot_table(index="file", columns="cand", values="auc")[order]
        for c in order[1:]:
            if c != "iso_alone":
                t[f"{c} - default"] = t[c] - t["default"]
        t = t.loc[sorted(t.index, key=lambda f: int(f.split("_")[0]))]
        t.index.name = f"file ({p}, mean over seeds)"
        out += [f"Per file, {p}:", "", _md(t), ""]
    r = df[df.cand == "default"]
    cost = r.groupby("protocol").agg(runs=("model_cpu", "size"), model_cpu=("model_cpu", "sum"),
                                     iso_fit_cpu=("iso_fit_cpu", "sum"), iso_score_cpu=("iso_score_cpu", "sum"))
    cost["forest / model"] = (cost.iso_fit_cpu + cost.iso_score_cpu) / cost.model_cpu
    cost.index.name = "protocol (CPU s, summed over runs)"
    out += ["CPU cost (time.process_time, 1 thread; forest scoring covers the training rows and the scored rows):",
            "", _md(cost), ""]
    pf = r.groupby("file").agg(n_train=("n_train", "first"), n_scored=("n_scored", "max"),
                               model_cpu=("model_cpu", "mean"), iso_fit_cpu=("iso_fit_cpu", "mean"),
                               iso_score_cpu=("iso_score_cpu", "mean"))
    pf = pf.loc[sorted(pf.index, key=lambda f: int(f.split("_")[0]))]
    pf.index.name = "file (mean over runs, CPU s)"
    out += ["Per file:", "", _md(pf, "{:.3f}"), ""]
    return out, passed


def summarize2(df: pd.DataFrame, passed: list[str]) -> list[str]:
    order = [c for c in CANDS if c in set(df.cand)]
    fams = [f for f in FAMILIES if f in set(df.family)]
    per_set = df.groupby(["family", "dataset", "cand"])["auc"].mean().reset_index()
    fam = per_set.groupby(["cand", "family"])["auc"].mean().unstack()[fams].loc[order]
    fam["mean of families"] = fam.mean(axis=1)
    fam.index.name = "candidate (mean over seeds 0-2)"
    cnt = df[(df.cand == "default")].groupby("family").agg(data_sets=("dataset", "nunique"), runs=("dataset", "size"))
    out = ["## Stage 2: SKAB, NAB, fraud_oracle (unlabelled)", "", "Data sets per family:", "", _md(cnt.loc[fams], "{}"),
           "", "Family means (AUC-ROC x100):", "", _md(fam), ""]
    ps = df.groupby(["cand", "seed", "family"])["auc"].mean().unstack()[fams]
    ps["mean of families"] = ps.mean(axis=1)
    ps = ps.loc[order].reset_index()
    ps.index = [f"seed {s}: {c}" for c, s in zip(ps.cand, ps.seed, strict=True)]
    ps = ps.drop(columns=["cand", "seed"]).sort_index()
    ps.index.name = "seed: candidate"
    out += ["Family means per seed:", "", _md(ps), ""]
    out += ["Verdict, stage 2 (confirm_kde's rule; only for candidates that passed stage 1):", ""]
    for c in JUDGED:
        ok, text = verdict(df, c)
        if c in passed:
            out.append(f"- {c}: {'CONFIRMED' if ok else 'NOT CONFIRMED'}. {text}")
        else:
            out.append(f"- {c}: failed stage 1, not judged (for information: {text})")
    r = df[df.cand == "default"]
    cost = r.groupby("family").agg(runs=("model_cpu", "size"), model_cpu=("model_cpu", "sum"),
                                   iso_fit_cpu=("iso_fit_cpu", "sum"), iso_score_cpu=("iso_score_cpu", "sum"))
    cost["forest / model"] = (cost.iso_fit_cpu + cost.iso_score_cpu) / cost.model_cpu
    cost.index.name = "family (CPU s, summed over runs)"
    out += ["", "CPU cost:", "", _md(cost.loc[fams]), ""]
    return out


def summarize(paths: list[str]) -> str:
    return summarize_stages(paths, summarize1, summarize2)


def main() -> None:
    staged_main(__doc__, ("semi", "unsup"), run_stage1, _describe1, run_stage2, _describe2, summarize)


if __name__ == "__main__":
    main()
