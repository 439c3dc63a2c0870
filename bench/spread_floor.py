"""Screen: a wider robust spread for spiky columns (experiment; nothing adopted).

Why: on ADBench cardio the sum of squared robust z-scores of the test rows ranks the anomalies at 87.0 AUC-ROC, the
sum of squared standard scores at 96.5. Three of cardio's columns (FM, DS, ALTV: a spike of equal values and a
tail) get a spread from their interquartile range that is 3-10x below their standard deviation, so their tail
values sit 15-90 spreads out. The question: does a spread that cannot fall below a wider quantile range (or a
trimmed standard deviation) lift the default model on cardio, as it lifts that sum?

Candidates (``features._spread`` replaced in each worker; the default model otherwise, bench/quality.py's
protocol and ``run_one``):
  q90      max(IQR / 1.349, (q90 - q10) / 2.563)
  q95      max(IQR / 1.349, (q95 - q5) / 3.290)
  trimstd  max(IQR / 1.349, standard deviation of the values between the 0.5% and 99.5% quantiles)

Rule, written before the run: a candidate goes on to the 28 files only if it raises cardio (semi-supervised,
seeds 0-2) to 95 or more with thyroid and shuttle at or above their published VAE columns.

    OMP_NUM_THREADS=1 python bench/spread_floor.py --out bench/results/spread_floor_2026-12-07.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402

CANDIDATES = ("default", "q90", "q95", "trimstd")
FILES = ("6_cardio", "38_thyroid", "32_shuttle")


def _spread(kind: str):  # type: ignore[no-untyped-def]
    def spread(v: np.ndarray) -> float:
        q5, q10, q25, q75, q90, q95 = np.percentile(v, [5, 10, 25, 75, 90, 95])
        s = float(q75 - q25) / 1.349
        if kind == "q90":
            s = max(s, float(q90 - q10) / 2.563)
        elif kind == "q95":
            s = max(s, float(q95 - q5) / 3.290)
        elif kind == "trimstd":
            lo, hi = np.percentile(v, [0.5, 99.5])
            s = max(s, float(np.std(v[(v >= lo) & (v <= hi)])))
        return s if s > 1e-12 else float(np.std(v))
    return spread


def run(task: tuple[str, str, int]) -> dict[str, object]:
    kind, path, seed = task
    import ad_duckdb.features as features

    # a worker runs several tasks: the package's own spread back for the default
    original = features.__dict__.setdefault("_spread_of_package", features._spread)
    features._spread = original if kind == "default" else _spread(kind)
    row = quality.run_one((path, "semi", seed, kind, {}, True, False))[0]
    return {"file": row["file"], "seed": seed, "candidate": kind, "auc": row["auc"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="CSV of one row per (file, seed, candidate)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    tasks = [(k, str(quality.DATA / "adbench" / f"{f}.npz"), s) for f in FILES for s in (0, 1, 2) for k in CANDIDATES]
    with ProcessPoolExecutor(args.jobs) as ex:
        rows = list(ex.map(run, tasks))
    with open(args.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        by[(str(r["candidate"]), str(r["file"]))].append(float(r["auc"]))  # type: ignore[arg-type]
    print("| candidate | " + " | ".join(FILES) + " |")
    print("|---|" + "---|" * len(FILES))
    for k in CANDIDATES:
        print(f"| {k} | " + " | ".join(f"{np.mean(by[(k, f + '.npz')]):.2f}" for f in FILES) + " |")


if __name__ == "__main__":
    main()
