"""Peak memory and time of one default training on a large table (not a test).

Why kept: training on a source above ``max_train_rows`` holds the sampled rows, not the table (training._training_rows);
this measures it. A child process per run, as a peak (VmHWM) is per process.

    python bench/train_memory.py                    # 10M rows x 6 columns in /tmp/ad_train_memory.duckdb
    python bench/train_memory.py --rows 2000000     # a smaller table
    python bench/train_memory.py --code /path/to/other/checkout   # the same run on another version of the code

Prints the seconds, the peak resident memory above the imports, the row count and the stored thresholds (which must
not depend on how the rows were read).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import re, sys, time
sys.path.insert(0, sys.argv[1])
import ad_duckdb

def hwm():
    return int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) / 1024

con = ad_duckdb.connect(sys.argv[2])
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak resident set (VmHWM) to the current one
base = hwm()
t0 = time.perf_counter()
info = ad_duckdb.train(con, "m", "t", progress=False)
th = dict(con.execute("SELECT threshold_name, round(value, 6) FROM ad_thresholds WHERE model = 'm' AND version = ?",
                      [info.version]).fetchall())
print(f"{time.perf_counter() - t0:.1f} s, peak {hwm() - base:.0f} MiB above the imports ({base:.0f} MiB), "
      f"{info.train_rows} rows, thresholds {dict(sorted(th.items()))}")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--db", default="/tmp/ad_train_memory.duckdb")
    ap.add_argument("--code", default=str(ROOT), help="the checkout whose ad_duckdb to run (default: this one)")
    a = ap.parse_args()
    import duckdb

    Path(a.db).unlink(missing_ok=True)
    con = duckdb.connect(a.db)
    con.execute("SELECT setseed(0.1)")
    con.execute("CREATE TABLE t AS SELECT (random() * 20)::INTEGER AS a, random() * 100 AS b, exp(random() * 5) AS c, "
                f"random() AS d, (random() * 3)::INTEGER AS e, random() * random() AS f FROM range({int(a.rows)})")
    con.close()
    subprocess.run([sys.executable, "-c", _CHILD, a.code, a.db], check=True)


if __name__ == "__main__":
    main()
