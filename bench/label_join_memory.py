"""evaluate's peak memory (the process's peak RSS) and time on a label join of 10 million rows: a table of rows with
an integer id and three features, a table of the ids of the known anomalies (1 in 500), LEFT JOINed in the source,
as the README's "Labels kept apart from the rows" reads them. Not a test; the numbers are in bench/results.

    PYTHONPATH=. python bench/label_join_memory.py --db /path/big.duckdb            # builds it once, then evaluates
    PYTHONPATH=. python bench/label_join_memory.py --db /path/big.duckdb --rows 2000000

Why the process's peak RSS, not tracemalloc (bench/stat_memory.py): the part measured is DuckDB's query memory
(the join, and the check for ids the join repeats), which numpy's allocation tracing does not see.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

SOURCE = ("SELECT t.*, coalesce(l.is_fraud, 0) AS is_fraud FROM tx t "
          "LEFT JOIN labels l ON l.transaction_id = t.transaction_id")


def build(db: str, rows: int) -> None:
    import ad_duckdb

    con = ad_duckdb.connect(db)
    try:
        con.execute(f"CREATE TABLE tx AS SELECT range AS transaction_id, random() AS a, random() AS b, "
                    f"random() * 3 AS c FROM range({rows})")
        con.execute("CREATE TABLE labels AS SELECT transaction_id, 1 AS is_fraud FROM tx "
                    "WHERE transaction_id % 500 = 0")
        ad_duckdb.train(con, "ae", "SELECT * FROM tx LIMIT 20000", features=["a", "b", "c"], n_models=1,
                        max_steps=600, progress=False)
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    a = ap.parse_args()
    if not Path(a.db).exists():
        build(a.db, a.rows)
    t = time.time()
    got = subprocess.run([sys.executable, "-m", "ad_duckdb", "evaluate", a.db, "ae", SOURCE, "--label", "is_fraud",
                          "--quiet"], capture_output=True, text=True, check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(got.stdout.splitlines()[0])
    print(f"evaluate: peak RSS {peak:.0f} MB, {time.time() - t:.1f} s")


if __name__ == "__main__":
    main()
