"""Experiment: the narrower network, (32, 16), for rows of 4 and 5 columns (not a test, not part of the model).
Results: bench/results/narrow_rows_2026-12-07.md.

Why: the default network is d -> 64 -> 32 -> 8 and back, and (32, 16) up to NARROW_ROWS = 3 columns
(trainer.TrainParams.sizes). On the transactions example's four columns (count, amount, distinct_cards, refunds;
`make demo`), the wide network reconstructs the joint_law rows (a tiny count with a large amount) about as well as
usual rows: the score without its neighbour term (knn_k=0) ranks them at AUC-ROC 51.9 against the usual rows (data
seeds 3-7, model seed 0: no better than chance), so the score finds them only through the neighbour term, and none
is flagged at the default threshold. With (32, 16) the reconstruction term sees them (data seed 3: their median
reconstruction term 11.9 against 1.05 with (64, 32)). Does that hold for rows of 4 and 5
columns in general, so that NARROW_ROWS could be 5?

Two parts, every fit the package's AutoEncoderDetector with its defaults but hidden_dims:
    example  the example's rows (ad_duckdb.examplerows, 20,000 rows, 1% planted) for data seeds 3-7, model seeds
             0-2, trained unlabelled (robust, as `make demo`), on the four columns and on (count, amount) (where
             (32, 16) is already the default and (64, 32) the one before 2026-12-01); AUC-ROC of all planted rows and
             of each kind against the usual rows, the joint_law rows' median rank, and the share of planted rows in
             the top 1% (the default threshold).
    views    every ADBench file (../shared/data/adbench), two random views of 4 and two of 5 of its varying columns
             (rng(1000 x view + k)), both protocols of bench/quality.py (train rows capped at 20,000, test rows at
             40,000), seeds 0-2: AUC-ROC of each network, paired.

Rule, written after one seed's screen of the views (seed 0: semi-supervised lower, unlabelled higher): adopt
(32, 16) for 4-5 columns only if, over the views, the paired mean and median differences are >= 0 under both
protocols; else the default stays and the README says what the example loses.

Usage:
    python bench/narrow_rows.py --part example
    python bench/narrow_rows.py --part views --out bench/results/narrow_rows_views.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "adbench"
NETS = {"wide": (64, 32), "narrow": (32, 16)}
EXAMPLE_COLS = {4: ["count", "amount", "distinct_cards", "refunds"], 2: ["count", "amount"]}


def example_run(task: tuple[int, int, int]) -> list[dict[str, Any]]:
    import torch

    torch.set_num_threads(1)
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.examplerows import KINDS, example_rows
    from ad_duckdb.metrics import auc_roc

    data_seed, model_seed, d = task
    made = example_rows(20_000, data_seed, 0.01)
    X = np.column_stack([made.columns[c].astype(float) for c in EXAMPLE_COLS[d]])
    kind = np.full(len(X), "", dtype=object)
    kind[made.planted] = made.kinds
    out = []
    for net, hidden in NETS.items():
        det = AutoEncoderDetector(seed=model_seed, progress=False, robust=True, hidden_dims=hidden).fit(X)
        s = det.decision_function(X)
        rank = np.empty(len(s), int)
        rank[np.argsort(-s, kind="stable")] = np.arange(1, len(s) + 1)
        row: dict[str, Any] = {"d": d, "data_seed": data_seed, "model_seed": model_seed, "net": net,
                               "all": auc_roc(s, kind != "") * 100}
        for k in KINDS:
            sel = (kind == "") | (kind == k)
            row[k] = auc_roc(s[sel], kind[sel] == k) * 100
        jl = kind == "joint_law"
        row["joint_law_median_rank"] = float(np.median(rank[jl]))
        row["joint_law_flagged_pct"] = float((rank[jl] <= len(s) // 100).mean() * 100)
        row["planted_flagged_pct"] = float((rank[kind != ""] <= len(s) // 100).mean() * 100)
        out.append(row)
    return out


def view_run(task: tuple[str, int, int, str, int]) -> dict[str, Any] | None:
    import torch

    torch.set_num_threads(1)
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.metrics import auc_roc

    path, k, view, protocol, seed = task
    data = np.load(path)
    X, y = data["X"].astype(np.float64), data["y"].astype(np.int64)
    varying = np.nonzero(X.std(0) > 0)[0]
    if len(varying) < k + 1:  # the view would be the whole file, or not exist
        return None
    cols = np.random.default_rng(1000 * view + k).choice(varying, k, replace=False)
    X = X[:, cols]
    rng = np.random.default_rng(seed)
    if protocol == "semi":
        normal = np.nonzero(y == 0)[0]
        rng.shuffle(normal)
        half = len(normal) // 2
        tr, te = normal[:half], np.concatenate([normal[half:], np.nonzero(y == 1)[0]])
    else:
        tr, te = rng.integers(0, len(y), len(y)), np.arange(len(y))
    tr = tr[:20_000]
    if len(te) > 40_000:
        te = np.sort(rng.choice(te, 40_000, replace=False))
    row: dict[str, Any] = {"file": Path(path).name, "k": k, "view": view, "protocol": protocol, "seed": seed}
    for net, hidden in NETS.items():
        det = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=protocol == "unsup",
                                  hidden_dims=hidden).fit(X[tr])
        row[net] = auc_roc(det.decision_function(X[te]), y[te]) * 100
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["example", "views"], required=True)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--views", type=int, nargs="*", default=[0, 1], help="which random views of each file")
    ap.add_argument("--protocols", nargs="*", default=["semi", "unsup"], choices=["semi", "unsup"])
    ap.add_argument("--out", help="CSV of every run")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(args.jobs) as ex:
        if args.part == "example":
            tasks = [(ds, ms, d) for d in (4, 2) for ds in (3, 4, 5, 6, 7) for ms in args.seeds]
            for got in ex.map(example_run, tasks):
                rows.extend(got)
            keys = [c for c in rows[0] if c not in ("d", "data_seed", "model_seed", "net")]
            print("| columns | network | " + " | ".join(keys) + " |")
            print("|---|---|" + "---|" * len(keys))
            for d in (4, 2):
                for net in NETS:
                    sel = [r for r in rows if r["d"] == d and r["net"] == net]
                    print(f"| {d} | {net} {NETS[net]} | " + " | ".join(f"{np.mean([r[c] for r in sel]):.1f}"
                                                                     for c in keys) + " |")
        else:
            tasks = [(str(f), k, v, p, s) for f in sorted(DATA.glob("*.npz")) for k in (4, 5) for v in args.views
                     for p in args.protocols for s in args.seeds]
            for i, got in enumerate(ex.map(view_run, tasks)):
                if got is not None:
                    rows.append(got)
                print(f"\r{i + 1}/{len(tasks)}", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            print("| columns | protocol | views x seeds | wide (64, 32) | narrow (32, 16) | mean diff | median diff "
                  "| narrow better / worse |")
            print("|---|---|---|---|---|---|---|---|")
            for k in (4, 5):
                for p in args.protocols:
                    sel = [r for r in rows if r["k"] == k and r["protocol"] == p]
                    w, n = np.array([r["wide"] for r in sel]), np.array([r["narrow"] for r in sel])
                    print(f"| {k} | {p} | {len(sel)} | {w.mean():.2f} | {n.mean():.2f} | {(n - w).mean():+.2f} | "
                          f"{np.median(n - w):+.2f} | {(n > w).sum()} / {(n < w).sum()} |")
    if args.out:
        with open(args.out, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
