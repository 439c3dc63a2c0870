"""Confirmatory run: does the multi-scale ensemble as one model raise unlabelled-training AUC on data other than
ADBench? (An experiment, not a test, not part of the model.) Results: bench/results/confirm_multiscale_2026-12-04.md.

Why: bench/input_views.py found, after the fact, that `multiscale_batched` (today's ensemble with n_models=4 and
latent_dim=16, member m's code cut to its first 2, 4, 8, 16 numbers; input_views' docstring) raised the unlabelled
28-file ADBench mean AUC on every seed (78.96 against 78.06; +0.69 / +0.56 / +1.46) while lowering the
semi-supervised one (-0.22; bench/results/input_views_2026-12-04.md). So it could only become the default for
unlabelled (robust=True) training, and the gain was noticed after seeing ADBench: before adoption it must hold on
other unlabelled data, as bench/confirm_kde.py asked of the KDE term. Everything below (data, protocol, candidate,
decision rule) was written down and committed before any result on these data was seen (apart from a smoke run on
one SKAB file, seed 0, to check that the code runs).

Data sets: exactly bench/confirm_kde.py's (its `datasets` and `load` are imported, not copied): SKAB (34 CSVs),
NAB (the 52 series with a label window; features [value, value - previous value]), fraud_oracle (6 numeric
features); the same skips (fewer than 50 rows, no anomalies, no normal rows).

Protocol: confirm_kde's: fit on ALL rows of the data set (labels unused), score all rows, AUC-ROC
(ad_duckdb.metrics.auc_roc) x 100, NaN scores counted as +inf. Seeds 0, 1, 2. torch.set_num_threads(1),
OMP_NUM_THREADS=1, at most 2 workers. Both fits use score_training_rows=False, so fit_s is training alone for both
(the scores are the same as with a scoring pass; the default's AUC should reproduce confirm_kde's default column,
which --summarize checks); score_s is one decision_function over all rows.
    default             AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=True)
    multiscale_batched  bench/input_views.py's fit_multiscale_batched(X, "unsup", seed) (imported, not copied):
                        the same detector with n_models=4, latent_dim=16 and the code mask, robust=True

Decision rule (multiscale_batched against default; the same kind as confirm_kde's):
    CONFIRMED if, over seeds 0-2, (a) the mean AUC over all data sets of each family is at least the default's
    minus 0.2 for every family, and (b) the mean over the three families' means is higher than the default's, and
    (c) per seed, (b) holds on at least 2 of the 3 seeds. Otherwise NOT CONFIRMED. No other candidate, variant or
    weighting is judged. (A family's mean over seeds 0-2 is the mean over its data sets of each data set's mean over
    the three seeds; a family with one data set, fraud, counts as much as the others.) The verdict is computed by
    confirm_kde.verdict, imported.
Confirmation is necessary, not sufficient, for adoption: the training cost (fit_s ratio) and scoring cost (four
networks per row) are reported beside it, not folded into the rule.

Time box: the full run must end within about 25 minutes; if the smoke run's fit times say it cannot, NAB is cut to
confirm_kde's NAB_CUT series (--nab-cut), decided before any NAB AUC is seen.

Scoring cost (--scoring-cost, added after the full run as a diagnostic; not part of the rule): on one data set,
seed 0, each model's warm scoring time over all rows, torch (decision_function, best of 3) and its ONNX graph under
onnxruntime with one thread (export.to_onnx_bytes, as the DuckDB scoring runs it; best of 5), the graph's size, and
the largest |ONNX - torch| score difference (that the code mask is in the exported graph).

Usage (PYTHONPATH=. OMP_NUM_THREADS=1, the project's venv):
    python bench/confirm_multiscale.py --out confirm_ms.csv --jobs 2       # every data set x seeds 0 1 2 (resumes)
    python bench/confirm_multiscale.py --only skab/valve1/0 --seeds 0 --out smoke.csv --jobs 1
    python bench/confirm_multiscale.py --summarize confirm_ms.csv          # the results tables and the verdict
    python bench/confirm_multiscale.py --scoring-cost nab/realTweets/Twitter_volume_GOOG
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from confirm_kde import NAB_CUT, _md, family_tables, load, parse_args, run, verdict  # noqa: E402
from input_views import fit_multiscale_batched  # noqa: E402

CAND = "multiscale_batched"
ORDER = ("default", CAND)
KDE_CSV = ROOT / "bench" / "results" / "confirm_kde_2026-12-02.csv"


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    fam, name, seed = task
    import torch

    torch.set_num_threads(1)
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.metrics import auc_roc

    X, y = load(fam, name)
    base = {"family": fam, "dataset": name, "seed": seed, "rows": len(y), "anomalies": int(y.sum()),
            "features": X.shape[1]}
    out = []
    # the same order in every run: the first fit in a worker process also pays for its imports (about 1 s, once)
    for cand in ORDER:
        t0 = time.perf_counter()
        if cand == "default":
            det = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=True).fit(
                X, score_training_rows=False)
        else:
            det = fit_multiscale_batched(X, "unsup", seed)
        t1 = time.perf_counter()
        s = np.nan_to_num(det.decision_function(X), nan=np.inf)
        t2 = time.perf_counter()
        out.append({**base, "cand": cand, "fit_s": round(t1 - t0, 3), "score_s": round(t2 - t1, 3),
                    "auc": auc_roc(s, y) * 100})
    return out


def _describe(r: dict[str, Any]) -> str:
    return f"{r['family']}/{r['dataset']} seed {r['seed']} rows {r['rows']} default fit {r['fit_s']:.1f}s"


def summarize(paths: list[str]) -> str:
    df = pd.concat([pd.read_csv(p) for p in paths])
    fams, out, per_set, fam = family_tables(df)
    fam = fam.loc[list(ORDER)]
    fam.loc[f"{CAND} - default"] = fam.loc[CAND] - fam.loc["default"]
    fam.index.name = "candidate (mean over seeds 0-2)"
    out += ["Family means (AUC-ROC x100):", "", _md(fam), ""]
    ps = df.groupby(["seed", "cand", "family"])["auc"].mean().unstack()[fams]
    ps["mean of families"] = ps.mean(axis=1)
    rows = []
    for s in sorted(set(df.seed)):
        d, c = ps.loc[(s, "default")], ps.loc[(s, CAND)]
        rows += [(f"seed {s}: default", d), (f"seed {s}: {CAND}", c), (f"seed {s}: difference", c - d)]
    pst = pd.DataFrame([r for _, r in rows], index=[k for k, _ in rows])
    pst.index.name = "seed: candidate"
    out += ["Family means per seed:", "", _md(pst), ""]
    ok, text = verdict(df, CAND)
    out += ["Verdict (decision rule of bench/confirm_multiscale.py):", "",
            f"- {CAND}: {'CONFIRMED' if ok else 'NOT CONFIRMED'}. {text}", ""]
    ds = per_set.pivot_table(index=["family", "dataset"], columns="cand", values="auc")[list(ORDER)]
    ds["difference"] = ds[CAND] - ds["default"]
    moved = ds.groupby(level="family")["difference"].agg(
        gain_over_0_2=lambda v: int((v > 0.2).sum()), lose_over_0_2=lambda v: int((v < -0.2).sum()),
        gain_over_1=lambda v: int((v > 1).sum()), lose_over_1=lambda v: int((v < -1).sum()),
        median=lambda v: float(v.median()))
    # object dtype, so that _md prints the counts as integers
    out += ["Data sets moving (mean over seeds, candidate - default):", "", _md(moved.loc[fams].astype(object)), ""]
    t = df.groupby(["family", "cand"]).agg(fit_s=("fit_s", "sum"), score_s=("score_s", "sum")).unstack()
    t.loc["all"] = t.sum()
    times = pd.DataFrame({"default fit_s": t[("fit_s", "default")], f"{CAND} fit_s": t[("fit_s", CAND)],
                          "fit ratio": t[("fit_s", CAND)] / t[("fit_s", "default")],
                          "default score_s": t[("score_s", "default")], f"{CAND} score_s": t[("score_s", CAND)],
                          "score ratio": t[("score_s", CAND)] / t[("score_s", "default")]}).loc[[*fams, "all"]]
    times.index.name = "family (seconds summed over runs)"
    out += ["Times (seconds of one process, 1 torch thread, summed over runs):", "", _md(times), ""]
    if KDE_CSV.exists():
        k = pd.read_csv(KDE_CSV)
        k = k[k.cand == "default"].set_index(["family", "dataset", "seed"])["auc"]
        mine = df[df.cand == "default"].set_index(["family", "dataset", "seed"])["auc"]
        both = mine.index.intersection(k.index)
        diff = (mine.loc[both] - k.loc[both]).abs()
        out += [f"Default against confirm_kde_2026-12-02.csv's default: {len(both)} runs in both, max abs AUC diff "
                f"{diff.max():.6f}, runs differing by more than 1e-6: {int((diff > 1e-6).sum())}.", ""]
    ds.index = [f"{f}/{n}" for f, n in ds.index]
    ds.index.name = "data set (mean over seeds)"
    out += ["Per data set:", "", _md(ds)]
    return "\n".join(out)


def _best(f: Callable[[], Any], n: int) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def scoring_cost(which: str) -> None:
    """The docstring's scoring-cost diagnostic on one data set (family/name), seed 0."""
    import onnxruntime as ort
    import torch

    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.export import to_onnx_bytes

    torch.set_num_threads(1)
    fam, name = which.split("/", 1)
    X, _ = load(fam, name)
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    for cand in ORDER:
        det = (AutoEncoderDetector(seed=0, progress=False, constant_columns="keep", robust=True).fit(
            X, score_training_rows=False) if cand == "default" else fit_multiscale_batched(X, "unsup", 0))
        s = det.decision_function(X)
        b = to_onnx_bytes(det.graph_, X.shape[1])
        sess = ort.InferenceSession(b, so, providers=["CPUExecutionProvider"])
        # the graph takes float64 when a column needs it (nn.Preprocess), else float32
        wide = det.graph_.pre.input_dtype == torch.float64
        feed = {sess.get_inputs()[0].name: X.astype(np.float64 if wide else np.float32)}
        o = np.asarray(sess.run(None, feed)[0], dtype=np.float64).reshape(-1)
        print(f"{which} {cand}: {len(X)} rows; torch {_best(partial(det.decision_function, X), 3):.4f}s, "
              f"onnx {_best(partial(sess.run, None, feed), 5):.4f}s, graph {len(b)} bytes, "
              f"max |onnx - torch| {np.nanmax(np.abs(o - s)):.1e}")


def main() -> None:
    if "--scoring-cost" in sys.argv:
        for which in sys.argv[sys.argv.index("--scoring-cost") + 1:]:
            scoring_cost(which)
        return
    a = parse_args(__doc__, lambda ap: ap.add_argument("--nab-cut", action="store_true",
                                                       help="NAB only from " + ", ".join(NAB_CUT)), summarize)
    if a is not None:
        run(a.out, min(a.jobs, 2), a.seeds, a.nab_cut, a.only, run_one, _describe)


if __name__ == "__main__":
    main()
