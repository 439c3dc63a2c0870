"""CPU of three passes that did work twice (not a test): compare with a label, training's read of its rows (the
totals-row check), and explaining rows of a 150-column table; new / old code in the same run.

Why kept: ``compare --label`` scored every row twice (once for the counts, once with the label) and sorted each
version's scores seven times; training's totals-row check (``totalsrow.TotalsWatch``) reduced a row-major batch
down its columns, most of the read's CPU; ``explain`` worked a row's spreads out one transform call per value
(half its CPU at 150 columns) and anomaly_explain built its rows to score in float64, then cast them. Measured in
a fresh process per code tree, trees alternated --repeat times, medians of CPU seconds (the machine is shared:
wall seconds move with the other jobs).

    python bench/speed3.py --old aeeeee4

Measures: 'compare' and 'compare_label' (``compare_versions`` of two versions over --rows rows, without and with
label=), 'train_read' (``training._training_rows``: the read training does of --rows rows, a sample and the
totals-row check), 'explain_sql' (``count(anomaly_explain(...))`` of --explain-rows rows of 150 columns),
'explain_cli' (``ad-duckdb explain --limit`` of those rows, the table printed to /dev/null) and 'score_explain'
(``score(..., explain=True)`` of them).
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

ROOT = Path(__file__).resolve().parents[1]
FEATS = ["a", "b", "c", "d", "e", "f"]
WIDE = 150
MEASURES = ["compare", "compare_label", "train_read", "explain_sql", "explain_cli", "score_explain"]


def prepare(db: str, rows: int) -> None:
    """Table tx (six features, 1% anomalies in is_fraud) and two versions of model m; table w (150 columns, a third
    of them heavy-tailed) and model w."""
    sys.path.insert(0, str(ROOT))
    import ad_duckdb

    con = ad_duckdb.connect(db)
    con.execute(f"""CREATE TABLE tx AS SELECT i AS tx_id, random() * 100 AS a, random() * 10 AS b, random() AS c,
        (random() * 50)::INTEGER AS d, random() * random() AS e, random() + i % 3 AS f,
        CASE WHEN random() < 0.01 THEN 1 ELSE 0 END AS is_fraud FROM range({rows}) t(i)""")
    con.execute("UPDATE tx SET a = a * 5 + 300 WHERE is_fraud = 1")
    for seed in (0, 1):
        ad_duckdb.train(con, "m", "tx", features=FEATS, where="is_fraud = 0", progress=False, seed=seed)
    cols = ", ".join(f"CASE WHEN {k} % 3 = 0 THEN exp(random() * 8) ELSE random() * {k % 7 + 1} + i % {k + 2} END "
                     f"AS c{k}" for k in range(WIDE))
    con.execute(f"CREATE TABLE w AS SELECT i AS id, {cols} FROM range(20000) t(i)")
    ad_duckdb.train(con, "w", "w", features=[f"c{k}" for k in range(WIDE)], progress=False, seed=0)
    con.close()


def measure(tree: str, db: str, explain_rows: int) -> dict[str, list[float]]:
    """In a fresh process on ``tree``'s ad_duckdb: [wall s, CPU s] of every measure."""
    code = f"""
import contextlib, io, json, os, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {tree!r})
import ad_duckdb
try:
    from ad_duckdb.training import _training_rows
except ImportError:  # a tree from before api.py was split
    from ad_duckdb.api import _training_rows
from ad_duckdb.cli import cli
con = ad_duckdb.connect({db!r}, read_only=True)
con.execute("SET enable_progress_bar = false")
{TIMED}timed("compare", lambda: ad_duckdb.compare_versions(con, "m@1", "m@2", "tx"))
timed("compare_label", lambda: ad_duckdb.compare_versions(con, "m@1", "m@2", "tx", label="is_fraud"))
cur = con.cursor()
timed("train_read", lambda: _training_rows(cur, "m", "tx", {FEATS!r}, None, {{}}))
cols = ", ".join(f"c{{k}}" for k in range({WIDE}))
timed("explain_sql", lambda: con.execute(
    f"SELECT count(anomaly_explain('w', {{cols}})) FROM (FROM w LIMIT {explain_rows})").fetchall())
con.close()
def explain_cli():
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
        cli.main(["explain", {db!r}, "w", "w", "--where", "id < {explain_rows}", "--limit", "{explain_rows}"],
                 standalone_mode=False)
timed("explain_cli", explain_cli)
con = ad_duckdb.connect({db!r}, read_only=True)
timed("score_explain", lambda: ad_duckdb.score(con, "w", "SELECT * FROM w LIMIT {explain_rows}", columns=["id"],
                                               explain=True))
print("RESULT " + json.dumps(out))
"""
    return run_measured(tree, code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--explain-rows", type=int, default=1000)
    args = tree_args(ap)
    with tempfile.TemporaryDirectory(prefix="speed3_") as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        prepare(db, args.rows)
        trees = prepared(t0, args.old, tmp)
        med = alternated(trees, args.repeat, lambda tree: measure(tree, db, args.explain_rows))
        print(f"{args.rows} rows x {len(FEATS)} features; {args.explain_rows} rows x {WIDE} columns explained; "
              f"medians of {args.repeat} runs; load average now {os.getloadavg()[0]:.1f}")
        print(f"{'measure':14s} {'tree':4s} {'wall s':>8s} {'CPU s':>8s}" + (f" {'new/old CPU':>12s}" if args.old else ""))
        for key in MEASURES:
            for name in trees:
                w, c = med[name][key]
                line = f"{key:14s} {name:4s} {w:8.3f} {c:8.3f}"
                if args.old and name == "new":
                    line += f"       x{c / med['old'][key][1]:5.3f}"
                print(line)


if __name__ == "__main__":
    main()
