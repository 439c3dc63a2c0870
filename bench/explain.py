"""Explanation benchmark: does ``anomaly_explain`` name the columns that made a row odd? (not a test)

On each ADBench file (semi-supervised split: a model trained on half the normal rows), held-out normal rows get
one column (``--pushed 1``) or two different columns (``--pushed 2``) moved ``--spreads`` robust spreads up or down.
Of the moved rows the model flags (above its p99 threshold), the share whose first (or first two) explained columns
are exactly the moved ones, for:

    shapley  the product's explanation (LoadedModel.attribution: Shapley values, training medians as baseline)
    drop     how far the score drops when the column alone takes its median (the explanation before 2026-12-01)
    error    the graph's per-feature reconstruction error

Also the time to explain the rows (ms per 1000 rows, one thread, both in this run), as a ratio to scoring them.

Usage:
    python bench/explain.py                                 # 9 files, seeds 0-2, one and two moved columns
    python bench/explain.py --files thyroid cardio --pushed 2 --seeds 0
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import ad_duckdb
from ad_duckdb.scoring import LoadedModel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "adbench"
FILES = ["38_thyroid", "39_vertebral", "29_Pima", "47_yeast", "32_shuttle", "27_PageBlocks", "45_wine", "6_cardio",
         "43_WDBC"]


def drop_parts(lm: LoadedModel, X: np.ndarray) -> np.ndarray:
    s = lm.scores(X, missing=False)
    out = np.empty(X.shape)
    for j in range(X.shape[1]):
        Xj = X.copy()
        Xj[:, j] = np.nan  # the graph's fill: the training median
        out[:, j] = s - lm.scores(Xj, missing=False)
    return out


def run(path: Path, seed: int, pushed: int, spreads: float, n_rows: int) -> dict[str, float]:
    z = np.load(path)
    X, y = z["X"].astype(np.float64), z["y"]
    rng = np.random.default_rng(seed)
    normal = np.nonzero(y == 0)[0]
    rng.shuffle(normal)
    tr, te = normal[: len(normal) // 2], normal[len(normal) // 2:]
    d = X.shape[1]
    con = ad_duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT " + ", ".join(f"unnest(?::DOUBLE[]) AS c{i}" for i in range(d)),
                [X[tr, i].tolist() for i in range(d)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad_duckdb.train(con, "m", "t", features=[f"c{i}" for i in range(d)], where="true", seed=seed,
                        constant_columns="keep", progress=False)
    lm = LoadedModel(ad_duckdb.load_model(con, "m"))
    con.close()
    rows = X[rng.choice(te, min(n_rows, len(te)), replace=False)].copy()
    q1, q3 = np.percentile(X[tr], [25, 75], axis=0)
    spread = np.maximum((q3 - q1) / 1.349, 0.1 * X[tr].std(axis=0))
    usable = np.nonzero(spread > 0)[0]
    truth = np.stack([rng.choice(usable, pushed, replace=False) for _ in rows])  # [n, pushed]
    for k in range(pushed):
        col = truth[:, k]
        rows[np.arange(len(rows)), col] += rng.choice([-1.0, 1.0], len(rows)) * spreads * spread[col]
    rows = rows.astype(lm.input_dtype)
    flagged = lm.scores(rows, missing=False) > lm.thresholds["p99"]
    rows, truth = rows[flagged], truth[flagged]
    out: dict[str, float] = {"flagged": float(len(rows))}
    if not len(rows):
        return out
    t0 = time.perf_counter()
    _, parts = lm.attribution(rows)
    t_explain = time.perf_counter() - t0
    t0 = time.perf_counter()
    lm.scores(rows)
    t_score = time.perf_counter() - t0
    methods = {"shapley": parts, "drop": drop_parts(lm, rows), "error": lm.run(rows, missing=False)[1]}
    want = np.sort(truth, axis=1)
    for name, a in methods.items():
        top = np.sort(np.argsort(-a, axis=1, kind="stable")[:, :pushed], axis=1)
        out[name] = float(np.mean((top == want).all(axis=1)))
    out["ms_per_1000"] = 1e6 * t_explain / len(rows)
    out["x_scoring"] = t_explain / max(t_score, 1e-9)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", nargs="*", default=FILES, help="substrings of file names")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    ap.add_argument("--pushed", nargs="*", type=int, default=[1, 2], help="how many columns each row has moved")
    ap.add_argument("--spreads", type=float, default=4.0, help="how far they move, in robust spreads")
    ap.add_argument("--rows", type=int, default=300, help="held-out rows moved per file and seed")
    a = ap.parse_args()
    paths = [p for f in a.files for p in sorted(DATA.glob("*.npz")) if f in p.stem]
    if not paths:
        sys.exit(f"no ADBench file under {DATA} matches {a.files}")
    methods = ["shapley", "drop", "error"]
    print(f"Share of flagged moved rows whose first explained column(s) are the moved ones; mean over seeds {a.seeds}; "
          f"columns moved {a.spreads:g} robust spreads")
    for pushed in a.pushed:
        print(f"\n## {pushed} column{'s' if pushed > 1 else ''} moved\n")
        print("| file | d | flagged rows | " + " | ".join(methods) + " | explain ms / 1000 rows | x scoring |")
        print("|---" * (len(methods) + 5) + "|")
        means: dict[str, list[float]] = {m: [] for m in methods}
        for p in paths:
            res = [run(p, s, pushed, a.spreads, a.rows) for s in a.seeds]
            res = [r for r in res if r["flagged"] > 0]
            if not res:
                continue
            row = {m: float(np.mean([r[m] for r in res])) for m in [*methods, "ms_per_1000", "x_scoring", "flagged"]}
            for m in methods:
                means[m].append(row[m])
            d = np.load(p)["X"].shape[1]
            print(f"| {p.stem} | {d} | {row['flagged']:.0f} | " + " | ".join(f"{row[m]:.3f}" for m in methods)
                  + f" | {row['ms_per_1000']:.1f} | {row['x_scoring']:.1f} |", flush=True)
        print("| **mean** | | | " + " | ".join(f"**{np.mean(means[m]):.3f}**" for m in methods) + " | | |")


if __name__ == "__main__":
    main()
