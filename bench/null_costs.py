"""What NULLs cost when scoring (not a test): same-run ratios NULL / NULL-free, and new / old code.

Why kept: the scale audit of 2026-12-04 measured SQL scoring of a table with 30% NULLs in two of seven columns at
x9.9 the NULL-free time (x2.4 at 200k rows, bulk scoring x2.3): on a loaded 2-core machine, in wall time. This
separates what the missing-value policy costs by construction (missing.fill_missing scores each missing value at
each of its column's candidates: 1 + 6 x (the share of rows missing a column), summed over the columns, model passes
per row, 4.6 here) from what the code around it costs, in CPU time as well as wall time (the machine is shared: CPU
time moves far less with the other jobs' load). Found then: CPU x4.0-4.6 for SQL and bulk scoring alike, with wall
ratios from x3.1 to x6.6 between runs of one machine; profiled, the rows with NULLs spend ~90% of their time in
onnxruntime on the candidates (one 2048-row SQL call: 0.5 ms without NULLs, ~3.2 ms with, ~0.6 ms of it numpy), so
no change of the code around the search (tried: scaling each batch once, building the trial block without index
arrays) moved the CPU ratio beyond the noise (new/old x0.96-1.09).
Later (bench/speed4.py, 2026-12-05): on cardio, whose NULLs spread over 21 columns, the search's model run and numpy
work per column holding a NULL, not its trial rows, were most of the cost in the SQL functions' 2048-row calls; one
run per round of every column's values took SQL scoring at 10% / 50% of rows with a NULL from x4.5 / x6.8 to x2.0 /
x3.5 the NULL-free CPU.

    python bench/null_costs.py                        # this tree: 500k synthetic rows, 10_cover (286k x 10)
    python bench/null_costs.py --old e7f4118          # and the same measures of that commit's ad_duckdb, alternated
    python bench/null_costs.py --rows 200000 --repeat 5 --adbench 22_magic.gamma

Cases: 'synthetic' is bench/scale_costs.py's table (7 columns, DECIMAL(38,10), HUGEINT, 30% NULLs in n1 and n2) and
its NULL-free twin (the NULLs replaced by a constant); the ADBench file is read as is (NULL-free) and with 30% of two
of its columns punched out (seeded). Paths: SQL ``sum(anomaly_score(...))``, bulk ``score(...)``, SQL
``anomaly_explain`` and ``score(explain=True)`` ('bulkexpl': with anomaly_imputed) on the first --explain-rows
rows. Each measure runs in a fresh process per code tree, trees alternated --repeat times; medians printed. The
models are trained once, by this tree, into one database file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parents[0] / "shared" / "data" / "adbench"
SYN = ["cnt", "amount", "x3", "n1", "n2", "dec", "hug"]
PATHS = ["sql", "bulk", "explain", "bulkexpl"]


def prepare(db: str, rows: int, adbench: str) -> dict[str, list[str]]:
    """The tables (<case>_nulls, <case>_full) and a model per case (<case>), trained on the NULL-holding table."""
    sys.path.insert(0, str(ROOT))
    import ad_duckdb

    con = ad_duckdb.connect(db)
    con.execute(f"""CREATE TABLE synthetic_nulls AS SELECT i AS id, (random() * 10)::INTEGER AS cnt,
        random() * 1000 AS amount, random() * 5 + i % 7 AS x3,
        CASE WHEN random() < 0.3 THEN NULL ELSE random() END AS n1,
        CASE WHEN random() < 0.3 THEN NULL ELSE random() * 100 END AS n2,
        (random() * 12345.678)::DECIMAL(38,10) AS dec, (random() * 1e6)::HUGEINT AS hug
        FROM range({rows}) t(i)""")
    con.execute("CREATE TABLE synthetic_full AS SELECT * REPLACE (coalesce(n1, 0.5) AS n1, coalesce(n2, 50.0) AS n2) "
                "FROM synthetic_nulls")
    feats = {"synthetic": SYN}
    X = np.load(DATA / f"{adbench}.npz")["X"].astype(np.float64)
    d = X.shape[1]
    names = [f"c{i}" for i in range(d)]
    rng = np.random.default_rng(0)
    holed = X.copy()
    for j in rng.choice(d, 2, replace=False):
        holed[rng.random(len(X)) < 0.3, j] = np.nan
    for suffix, M in (("full", X), ("nulls", holed)):
        con.execute(f"CREATE TABLE real_{suffix} AS SELECT row_number() OVER () AS id, "
                    + ", ".join(f"nullif(unnest(?::DOUBLE[]), 'NaN'::DOUBLE) AS {n}" for n in names),
                    [M[:, i].tolist() for i in range(d)])
    feats["real"] = names
    for case, f in feats.items():
        ad_duckdb.train(con, case, f"{case}_nulls", features=f, progress=False)
    con.close()
    return feats


# A measuring process's timer (its code is text run with ``python -c``): ``timed(key, fn)`` runs ``fn`` once to warm
# up, then again, and keeps (wall s, CPU s) of the second run in ``out[key]``
TIMED = """import resource, time
out = {}
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def timed(key, fn):
    fn()  # warm: session, caches
    t, c = time.perf_counter(), cpu()
    fn()
    out[key] = (time.perf_counter() - t, cpu() - c)
"""


def measure(tree: str, db: str, feats: dict[str, list[str]], explain_rows: int) -> dict[str, float]:
    """In a fresh process on ``tree``'s ad_duckdb: seconds and CPU seconds of every (case, variant, path)."""
    code = f"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")  # drift notes on the holed tables: not what is measured
sys.path.insert(0, {tree!r})
import ad_duckdb
con = ad_duckdb.connect({db!r}, read_only=True)
feats = {feats!r}
{TIMED}for case, names in feats.items():
    cols = ", ".join(names)
    for variant in ("full", "nulls"):
        table = f"{{case}}_{{variant}}"
        timed(f"{{case}} {{variant}} sql", lambda: con.execute(
            f"SELECT sum(anomaly_score('{{case}}', {{cols}})) FROM {{table}}").fetchall())
        timed(f"{{case}} {{variant}} bulk", lambda: ad_duckdb.score(con, case, table, columns=["id"]))
        timed(f"{{case}} {{variant}} explain", lambda: con.execute(
            f"SELECT count(anomaly_explain('{{case}}', {{cols}})) FROM (FROM {{table}} LIMIT {explain_rows})").fetchall())
        timed(f"{{case}} {{variant}} bulkexpl", lambda: ad_duckdb.score(
            con, case, f"SELECT * FROM {{table}} LIMIT {explain_rows}", columns=["id"], explain=True))
print("RESULT " + json.dumps(out))
"""
    return run_measured(tree, code)


def run_measured(tree: str, code: str) -> dict[str, Any]:
    """``code`` run in a fresh process on ``tree``'s ad_duckdb; what it printed after "RESULT ", read as JSON."""
    env = dict(os.environ, PYTHONPATH=tree)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if res.returncode or "RESULT " not in res.stdout:
        raise SystemExit(f"measuring {tree} failed:\n{res.stderr}")
    return json.loads(res.stdout.rsplit("RESULT ", 1)[1])  # type: ignore[no-any-return]


def old_tree(rev: str, into: Path) -> str:
    """``rev``'s ad_duckdb package, extracted (git archive) under ``into``."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "ad_duckdb"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return str(into)


def tree_args(ap: argparse.ArgumentParser) -> argparse.Namespace:
    """The command line, with --repeat and --old (the trees measured) added."""
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--old", help="a git revision whose ad_duckdb to compare with (new / old ratios)")
    return ap.parse_args()


def prepared(t0: float, old: str | None, tmp: str) -> dict[str, str]:
    """The trees to measure (this one, 'new', and ``old``'s, extracted under ``tmp``), once the data, prepared since
    ``t0``, is said to be."""
    print(f"prepared in {time.perf_counter() - t0:.0f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
    trees = {"new": str(ROOT)}
    if old:
        trees["old"] = old_tree(old, Path(tmp) / "old")
    return trees


def alternated(trees: dict[str, str], repeat: int,
               measure: Callable[[str], dict[str, Any]]) -> dict[str, dict[str, tuple[float, float]]]:
    """Per tree, per key, the medians of (wall s, CPU s) of ``repeat`` runs of ``measure(tree)``, the trees taken in
    turn: the machine's load falls on each alike."""
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in trees}
    for _ in range(repeat):
        for name, tree in trees.items():
            runs[name].append(measure(tree))
    return {name: {k: (statistics.median(r[k][0] for r in rs), statistics.median(r[k][1] for r in rs))
                   for k in rs[0]} for name, rs in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=500_000, help="synthetic rows")
    ap.add_argument("--adbench", default="10_cover", help="ADBench file (name without .npz)")
    ap.add_argument("--explain-rows", type=int, default=20_000)
    args = tree_args(ap)
    with tempfile.TemporaryDirectory(prefix="null_costs_") as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        feats = prepare(db, args.rows, args.adbench)
        trees = prepared(t0, args.old, tmp)
        med = alternated(trees, args.repeat, lambda tree: measure(tree, db, feats, args.explain_rows))
        print(f"synthetic: {args.rows} rows x {len(SYN)}; real: {args.adbench} x {len(feats['real'])} columns; "
              f"explain on the first {args.explain_rows} rows; medians of {args.repeat} runs; "
              f"load average now {os.getloadavg()[0]:.1f}")
        head = f"{'case':10s} {'path':8s} {'tree':4s} {'no NULLs':>17s} {'30% NULLs':>17s} {'NULL/none':>17s}"
        if args.old:
            head += f" {'new/old (NULLs)':>17s}"
        print(head + "\n" + " " * 24 + "(wall s, CPU s)" + " " * 5 + "(wall s, CPU s)" + " " * 4 + "(wall, CPU)")
        for case in feats:
            for path in PATHS:
                for name in trees:
                    (fw, fc), (nw, nc) = med[name][f"{case} full {path}"], med[name][f"{case} nulls {path}"]
                    line = (f"{case:10s} {path:8s} {name:4s} {fw:8.2f} {fc:8.2f} {nw:8.2f} {nc:8.2f} "
                            f"   x{nw / fw:5.2f} x{nc / fc:5.2f}")
                    if args.old and name == "new":
                        ow, oc = med["old"][f"{case} nulls {path}"]
                        line += f"    x{nw / ow:5.2f} x{nc / oc:5.2f}"
                    print(line)


if __name__ == "__main__":
    main()
