"""What rows with NULLs cost to score, against NULL-free rows measured in the same run (not a test); new / old code.

Why kept: after bench/speed4.py, rows with NULLs still took x2.0 (10% of rows missing a value) and x3.5 (50%) the
NULL-free CPU in SQL. The missing-value search (missing.fill_missing) scores each missing value at each of its
column's candidates, so its model rows set a floor (1 + 0.5 x ~5.6 model rows a row at 50%); what the code around
them added was its numpy work (a [values x candidates] matrix read back by np.nonzero, row gathers by fancy
indexing, the model's constants gathered from the column specs per call) and the per-feature errors copied out of
every trial run for callers that wanted scores alone. Measured in a fresh process per code tree, trees alternated
--repeat times, medians of CPU seconds (the machine is shared: wall seconds move with the other jobs).

    python bench/speed5.py --old a4a14fb

Data: ADBench's cardio (--adbench; 21 columns, real values) repeated --copies times: 't_full' as is, 't_nulls10' and
't_nulls50' with 10% / 50% of rows missing one value (a column drawn per row, seeded). Model c (default training) on
't_full'. Measures, per table: 'sql' (``sum(anomaly_score(...))``), 'bulk' (``score(...)``), 'imputed'
(``count(anomaly_imputed(...))``) and 'model' (the model's own onnxruntime runs of the same rows, 2048 at a time, one
thread: the floor NULL-free scoring stands on). Each ratio is printed against its NULL-free twin of the same run.
--wide-rows N also explains N rows of a 150-column table (a third heavy-tailed; model w, default training) in SQL
('explain150': ``count(anomaly_explain(...))``), whose coalition rows (1,208 a row) are scored from the graph's
scaled input on (explaingraph) rather than preprocessed value by value, and scores them ('score150', the baseline).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from null_costs import TIMED, alternated, prepared, run_measured, tree_args  # noqa: E402
from speed4 import TABLES, prepare, print_rows  # noqa: E402

MEASURES = ["sql", "bulk", "imputed"]
WIDE = 150


def prepare_wide(db: str) -> None:
    """Table w (20,000 rows x 150 columns, a third heavy-tailed) and model w (default training), as bench/speed3.py."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import ad_duckdb

    con = ad_duckdb.connect(db)
    cols = ", ".join(f"CASE WHEN {k} % 3 = 0 THEN exp(random() * 8) ELSE random() * {k % 7 + 1} + i % {k + 2} END "
                     f"AS c{k}" for k in range(WIDE))
    con.execute("SELECT setseed(0.5)")
    con.execute(f"CREATE TABLE w AS SELECT i AS id, {cols} FROM range(20000) t(i)")
    ad_duckdb.train(con, "w", "w", features=[f"c{k}" for k in range(WIDE)], progress=False, seed=0)
    con.close()


def measure(tree: str, db: str, names: list[str], wide_rows: int) -> dict[str, list[float]]:
    """In a fresh process on ``tree``'s ad_duckdb: [wall s, CPU s] of every measure."""
    code = f"""
import json, sys, warnings
warnings.simplefilter("ignore")  # drift notes on the holed tables: not what is measured
sys.path.insert(0, {tree!r})
import numpy as np
import ad_duckdb
from ad_duckdb.udfs import registry
con = ad_duckdb.connect({db!r}, read_only=True)
con.execute("SET enable_progress_bar = false")
cols = {", ".join(names)!r}
{TIMED}for table in {TABLES!r}:
    timed(f"sql {{table}}", lambda: con.execute(f"SELECT sum(anomaly_score('c@1', {{cols}})) FROM {{table}}").fetchall())
    timed(f"bulk {{table}}", lambda: ad_duckdb.score(con, "c@1", table, columns=["id"]))
    timed(f"imputed {{table}}", lambda: con.execute(
        f"SELECT count(anomaly_imputed('c@1', {{cols}})) FROM {{table}}").fetchall())
lm = registry(con).get("c@1")
D = con.execute(f"SELECT {{cols}} FROM t_full").fetchnumpy()
X = np.stack([np.asarray(D[c], dtype=lm.input_dtype) for c in {names!r}], axis=1)
sess = lm.session
timed("model t_full", lambda: [sess.run(["score"], {{"x": X[i : i + 2048]}}) for i in range(0, len(X), 2048)])
if {wide_rows}:
    wcols = ", ".join(f"c{{k}}" for k in range({WIDE}))
    timed("score150", lambda: con.execute(
        f"SELECT sum(anomaly_score('w', {{wcols}})) FROM (FROM w LIMIT {wide_rows})").fetchall())
    timed("explain150", lambda: con.execute(
        f"SELECT count(anomaly_explain('w', {{wcols}})) FROM (FROM w LIMIT {wide_rows})").fetchall())
print("RESULT " + json.dumps(out))
"""
    return run_measured(tree, code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adbench", default="6_cardio", help="ADBench file (name without .npz)")
    ap.add_argument("--copies", type=int, default=30, help="times the file's rows are repeated in each table")
    ap.add_argument("--wide-rows", type=int, default=0, help="rows of the 150-column table to explain (0: none)")
    args = tree_args(ap)
    with tempfile.TemporaryDirectory(prefix="speed5_") as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        names = prepare(db, args.adbench, args.copies)
        if args.wide_rows:
            prepare_wide(db)
        trees = prepared(t0, args.old, tmp)
        med = alternated(trees, args.repeat, lambda tree: measure(tree, db, names, args.wide_rows))
        print(f"{args.adbench} x {args.copies} ({len(names)} columns); medians of {args.repeat} runs; load average "
              f"now {os.getloadavg()[0]:.1f}")
        print(f"{'measure':18s} {'tree':4s} {'wall s':>8s} {'CPU s':>8s} {'/ NULL-free CPU':>16s}"
              + (f" {'new/old CPU':>12s}" if args.old else ""))
        keys = [f"{p} {t}" for p in MEASURES for t in TABLES] + ["model t_full"]
        keys += ["score150", "explain150"] if args.wide_rows else []
        print_rows(med, keys, bool(args.old), lambda key: "score150" if key == "explain150" else
                   key.split()[0] + " t_full" if key.split()[-1] in TABLES[1:] else None, 18)

if __name__ == "__main__":
    main()
