"""Experiment: unlabelled training in two passes, the second on the rows the first scored lowest (not a test, not part
of the model). Results: bench/results/refit_clean_2026-12-07.md.

Why: without labels the default trains robustly (an early stop before the network learns the rare rows; 8 random
groups of training codes for the neighbour term; the middle 99% of each column for the range term), yet the
anomalies stay in the training rows. On ADBench the same files score far lower unlabelled than with rows known
normal (28-file means 78.1 against 86.4; 6_cardio 79 against 92, 32_shuttle 95 against 99.98), and PyOD's IForest,
PCA and ECOD beat us unlabelled on cardio, shuttle and mammography (bench/results/quality_2026-11-30.md). Part of
that gap is what the training rows hold: the anomalies in the neighbour bank make each other look normal, the network
partly learns them. A second fit on the rows the first one finds most normal (trimming, as robust estimators and
"refine" steps of unsupervised detectors do) was never tried. Everything below (protocol, candidates, decision rule)
was written down and committed before any result was seen, apart from a smoke run on one small file (39_vertebral,
seed 0) to check that the code runs.

Candidates (the default detector: AutoEncoderDetector(seed, progress=False, constant_columns="keep", robust=True),
fitted as bench/global_terms.fit_default fits it; s1 = its scores of the training rows, decision_scores_):
    default            the first fit alone
    robust_q5, q10     drop the training rows whose s1 is among the highest 5% / 10% (ties by position; a bootstrap
                       copy is a row like any other), fit the same detector again (same parameters and seed,
                       robust=True) on the rest, score with the second fit
    normal_q5, q10     the same, but the second fit with robust=False: the kept rows taken as normal, as a where=
                       filter takes them (full training budget, k-means bank, whole training range)
No other fraction is tried. The rows known normal of the semi-supervised protocol are fitted with robust=False and
the candidates change only robust training, so the semi-supervised figures (and the issue's three files) are the
default's by construction and are not run.

Stage 1 (ADBench): all 28 files of ../shared/data/adbench, bench/quality.py's unlabelled protocol (train on a
bootstrap of all rows, score all rows), its split(), seeds 0 1 2. AUC-ROC (ad_duckdb.metrics.auc_roc) x 100.
Stage 2 (SKAB, NAB, fraud_oracle): bench/confirm_kde.py's data sets and its protocol (fit on all rows with
robust=True, score all rows), seeds 0 1 2.

Decision rule (each judged candidate against default):
    Stage 1 PASS if the unlabelled 28-file mean over seeds 0-2 is >= the default's + 0.5, and per seed (that seed's
    28-file mean) >= the default's + 0.3 on at least 2 of the 3 seeds.
    CONFIRMED if it passes stage 1 and satisfies confirm_kde's rule in stage 2 (each family's mean >= the default's
    - 0.2; the mean of the family means higher than the default's; higher per seed on at least 2 of 3 seeds).
    If several are confirmed, the one with the highest stage-1 mean is the one to adopt. Otherwise NOT CONFIRMED.
Reported, not judged: per-file tables; CPU seconds of both fits (time.process_time in the worker, 1 thread).

Usage (PYTHONPATH=. OMP_NUM_THREADS=1, the project's venv; runs resume the CSV given to --out):
    python bench/refit_clean.py --stage 1 --out refit1.csv --jobs 2
    python bench/refit_clean.py --stage 1 --files vertebral --seeds 0 --out smoke.csv --jobs 1
    python bench/refit_clean.py --stage 2 --out refit2.csv --jobs 2
    python bench/refit_clean.py --summarize refit1.csv [refit2.csv]
"""

from __future__ import annotations

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

FRACTIONS = {"q5": 0.05, "q10": 0.10}
JUDGED = tuple(f"{mode}_{q}" for mode in ("robust", "normal") for q in FRACTIONS)
CANDS = ("default", *JUDGED)


def candidates(det: Any, Xtr: np.ndarray, Xte: np.ndarray, seed: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Each candidate's scores of the rows Xte (det: the default fitted on Xtr), and the second fits' CPU seconds."""
    from ad_duckdb.detector import AutoEncoderDetector

    s1 = np.nan_to_num(det.decision_scores_, nan=np.inf)
    order = np.argsort(-s1, kind="stable")
    scores = {"default": np.nan_to_num(det.decision_function(Xte), nan=np.inf)}
    cpu: dict[str, Any] = {}
    for q, frac in FRACTIONS.items():
        keep = np.sort(order[int(round(frac * len(s1))):])
        for mode in ("robust", "normal"):
            c0 = time.process_time()
            det2 = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep",
                                       robust=mode == "robust").fit(Xtr[keep])
            scores[f"{mode}_{q}"] = np.nan_to_num(det2.decision_function(Xte), nan=np.inf)
            cpu[f"cpu_{mode}_{q}"] = round(time.process_time() - c0, 4)
    return scores, cpu


run_stage1 = partial(stage1_rows, candidates)
run_stage2 = partial(stage2_rows, candidates)


def _describe1(r: dict[str, Any]) -> str:
    return f"{r['file']} seed {r['seed']} first fit {r['model_cpu']:.1f}s CPU"


def _describe2(r: dict[str, Any]) -> str:
    return f"{r['family']}/{r['dataset']} seed {r['seed']} rows {r['rows']} first fit {r['model_cpu']:.1f}s CPU"


def stage1_verdict(df: pd.DataFrame, cand: str) -> tuple[bool, str]:
    """The docstring's stage-1 rule for one candidate against the default."""
    per_file = df.groupby(["file", "cand"])["auc"].mean().unstack()
    d = per_file[cand].mean() - per_file["default"].mean()
    ps = df.groupby(["cand", "seed"])["auc"].mean()
    seeds = sorted(df.seed.unique())
    per_seed = [(s, ps[(cand, s)] - ps[("default", s)]) for s in seeds]
    wins = sum(ds >= 0.3 for _, ds in per_seed)
    ok = d >= 0.5 and wins >= 2
    seed_text = ", ".join(f"seed {s}: {ds:+.2f}" for s, ds in per_seed)
    return ok, (f"(a) mean {d:+.2f} (>= +0.5: {'yes' if d >= 0.5 else 'NO'}); (b) >= +0.3 on {wins} of {len(seeds)} "
                f"seeds ({seed_text}): {'yes' if wins >= 2 else 'NO'}")


def summarize1(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Stage-1 tables and the candidates that pass, best stage-1 mean first."""
    order = [c for c in CANDS if c in set(df.cand)]
    per_file = df.groupby(["file", "cand"])["auc"].mean().unstack()[order]
    means = per_file.mean().to_frame(f"unlabelled ({len(per_file)} files)")
    ps = df.groupby(["cand", "seed"])["auc"].mean().unstack().loc[order]
    ps.columns = [f"seed {s}" for s in ps.columns]
    means = means.join(ps)
    means.index.name = "candidate (mean over seeds)"
    out = ["## Stage 1: ADBench, unlabelled", "", "28-file means (AUC-ROC x100; a file's mean over seeds 0-2, "
           "averaged over files) and per seed:", "", _md(means), "", "Verdict, stage 1:", ""]
    passed = []
    for c in JUDGED:
        if c in set(df.cand):
            ok, text = stage1_verdict(df, c)
            passed += [c] if ok else []
            out.append(f"- {c}: {'PASSES' if ok else 'FAILS'}. {text}")
    passed.sort(key=lambda c: -per_file[c].mean())
    t = per_file.copy()
    for c in order[1:]:
        t[f"{c} - default"] = t[c] - t["default"]
    t = t.loc[sorted(t.index, key=lambda f: int(f.split("_")[0]))]
    t.index.name = "file (unlabelled, mean over seeds)"
    cpu = [c for c in df.columns if c.startswith("cpu_")]
    cost = df[df.cand == "default"][["model_cpu", *cpu]].sum().to_frame("CPU s, summed over runs").T
    out += ["", "Per file:", "", _md(t), "", "CPU cost (time.process_time, 1 thread):", "", _md(cost), ""]
    return out, passed


def summarize2(df: pd.DataFrame, passed: list[str]) -> list[str]:
    order = [c for c in CANDS if c in set(df.cand)]
    fams = [f for f in FAMILIES if f in set(df.family)]
    per_set = df.groupby(["family", "dataset", "cand"])["auc"].mean().reset_index()
    fam = per_set.groupby(["cand", "family"])["auc"].mean().unstack()[fams].loc[order]
    fam["mean of families"] = fam.mean(axis=1)
    fam.index.name = "candidate (mean over seeds 0-2)"
    out = ["## Stage 2: SKAB, NAB, fraud_oracle (unlabelled)", "", "Family means (AUC-ROC x100):", "", _md(fam), ""]
    out += ["Verdict, stage 2 (confirm_kde's rule; judged for candidates that passed stage 1):", ""]
    for c in JUDGED:
        if c not in set(df.cand):
            continue
        ok, text = verdict(df, c)
        if c in passed:
            out.append(f"- {c}: {'CONFIRMED' if ok else 'NOT CONFIRMED'}. {text}")
        else:
            out.append(f"- {c}: failed stage 1, not judged (for information: {text})")
    return out


def summarize(paths: list[str]) -> str:
    return summarize_stages(paths, summarize1, summarize2)


def main() -> None:
    staged_main(__doc__, ("unsup",), run_stage1, _describe1, run_stage2, _describe2, summarize)


if __name__ == "__main__":
    main()
