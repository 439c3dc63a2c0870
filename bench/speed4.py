"""CPU of three scoring paths made cheaper (not a test): rows with NULLs, `explain --format json`'s writing, and
compare with a label it cannot use; NULL / NULL-free and new / old ratios measured in the same run.

Why kept: a table whose rows miss a value took 3-5x the CPU of a NULL-free one to score, though the missing-value
search (missing.fill_missing) adds only 1.4x the model rows at 10% of rows with a NULL: the search ran one model
call, and its numpy work, per column holding a NULL in the batch (21 on cardio). `explain --format json` wrote each
row's anomaly_explain, terms and imputed values through the general JSON walk. compare --label with a label not 0/1
(or of one class, or missing) scored every row with both versions, and with one of them again, before refusing it.
Measured in a fresh process per code tree, trees alternated --repeat times, medians of CPU seconds (the machine is
shared: wall seconds move with the other jobs).

    python bench/speed4.py --old 3c5ea48

Data: ADBench's cardio (--adbench; 21 columns, real values) repeated --copies times: 't_full' as is, 't_nulls10' and
't_nulls50' with 10% / 50% of rows missing one value (a column drawn per row, seeded). Model c (default training) on
't_full', and c@2 (seed 1) for compare. Measures, per table: 'sql' (``sum(anomaly_score(...))``) and 'bulk'
(``score(...)``); 'json' (``jsonvalues.row_objects`` of --explain-rows rows of the columns `explain --format json`
writes: the table's, score, anomaly_explain, anomaly_terms, anomaly_imputed; worked out once, before timing);
'badlabel' (``compare_versions`` with a 0/2 label, a label of one class and a missing one, each refused).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from null_costs import DATA, TIMED, alternated, prepared, run_measured, tree_args  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TABLES = ["t_full", "t_nulls10", "t_nulls50"]


def prepare(db: str, adbench: str, copies: int) -> list[str]:
    """The three tables and models c@1, c@2; returns the feature names."""
    sys.path.insert(0, str(ROOT))
    import ad_duckdb

    X = np.load(DATA / f"{adbench}.npz")["X"].astype(np.float64)
    n, d = X.shape
    names = [f"c{i}" for i in range(d)]
    rng = np.random.default_rng(0)
    con = ad_duckdb.connect(db)
    for table, share in zip(TABLES, (0, 10, 50), strict=True):
        M = np.tile(X, (copies, 1))
        hit = np.nonzero(rng.random(len(M)) < share / 100)[0]
        M[hit, rng.integers(0, d, len(hit))] = np.nan
        con.execute(f"CREATE TABLE {table} AS SELECT row_number() OVER () AS id, "
                    + ", ".join(f"nullif(unnest(?::DOUBLE[]), 'NaN'::DOUBLE) AS {c}" for c in names),
                    [M[:, i].tolist() for i in range(d)])
    con.execute("CREATE TABLE lab AS SELECT *, (id % 50 = 0)::INTEGER * 2 AS two, 0 AS zeros FROM t_full")
    for seed in (0, 1):
        ad_duckdb.train(con, "c", f"(SELECT * FROM t_full LIMIT {n})", features=names, progress=False, seed=seed)
    con.close()
    return names


def measure(tree: str, db: str, names: list[str], explain_rows: int) -> dict[str, list[float]]:
    """In a fresh process on ``tree``'s ad_duckdb: [wall s, CPU s] of every measure."""
    code = f"""
import json, sys, warnings
warnings.simplefilter("ignore")  # drift notes on the holed tables: not what is measured
sys.path.insert(0, {tree!r})
import ad_duckdb
from ad_duckdb import jsonvalues
con = ad_duckdb.connect({db!r}, read_only=True)
con.execute("SET enable_progress_bar = false")
cols = {", ".join(names)!r}
{TIMED}for table in {TABLES!r}:
    timed(f"sql {{table}}", lambda: con.execute(f"SELECT sum(anomaly_score('c@1', {{cols}})) FROM {{table}}").fetchall())
    timed(f"bulk {{table}}", lambda: ad_duckdb.score(con, "c@1", table, columns=["id"]))
rows = con.execute(f"SELECT *, anomaly_score('c@1', {{cols}}) AS anomaly_score, anomaly_explain('c@1', {{cols}}) AS "
                   f"anomaly_explain, anomaly_terms('c@1', {{cols}}) AS anomaly_terms, anomaly_imputed('c@1', {{cols}}) "
                   f"AS anomaly_imputed FROM t_nulls50 LIMIT {explain_rows}")
names = [d[0] for d in rows.description]
data = rows.fetchall()
timed("json", lambda: jsonvalues.row_objects(names, data))
def refused():
    for label in ("two", "zeros", "nope"):
        try:
            ad_duckdb.compare_versions(con, "c@1", "c@2", "lab", label=label)
        except ad_duckdb.AdDuckDBError:
            pass
timed("badlabel", refused)
print("RESULT " + json.dumps(out))
"""
    return run_measured(tree, code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adbench", default="6_cardio", help="ADBench file (name without .npz)")
    ap.add_argument("--copies", type=int, default=30, help="times the file's rows are repeated in each table")
    ap.add_argument("--explain-rows", type=int, default=1000)
    args = tree_args(ap)
    with tempfile.TemporaryDirectory(prefix="speed4_") as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        names = prepare(db, args.adbench, args.copies)
        trees = prepared(t0, args.old, tmp)
        med = alternated(trees, args.repeat, lambda tree: measure(tree, db, names, args.explain_rows))
        print(f"{args.adbench} x {args.copies} ({len(names)} columns); {args.explain_rows} rows written as JSON; "
              f"medians of {args.repeat} runs; load average now {os.getloadavg()[0]:.1f}")
        print(f"{'measure':14s} {'tree':4s} {'wall s':>8s} {'CPU s':>8s} {'/ NULL-free CPU':>16s}"
              + (f" {'new/old CPU':>12s}" if args.old else ""))
        keys = [f"{p} {t}" for p in ("sql", "bulk") for t in TABLES] + ["json", "badlabel"]
        print_rows(med, keys, bool(args.old), lambda key: key.split()[0] + " t_full"
                   if key.split()[-1] in TABLES[1:] else None, 14)


def print_rows(med: dict[str, dict[str, tuple[float, float]]], keys: list[str], old: bool,
               baseline: Callable[[str], str | None], width: int) -> None:
    """A line per measure and tree: wall and CPU seconds, the CPU against the same tree's ``baseline(key)`` measure
    of the same run (where it has one) and, with ``old``, new / old CPU."""
    for key in keys:
        for name in med:
            w, c = med[name][key]
            line = f"{key:{width}s} {name:4s} {w:8.3f} {c:8.3f}"
            base = baseline(key)
            line += f" {'':>10s}x{c / med[name][base][1]:5.2f}" if base else " " * 17
            if old and name == "new":
                line += f"       x{c / med['old'][key][1]:5.3f}"
            print(line)


if __name__ == "__main__":
    main()
