"""The JSON-column lookup of ``ad-duckdb serve`` on a wide catalogue (not a test).

Why kept: a statement with an undecided ``||`` (``c1 || ' ' || c2``, where the server must know whether a name is a
JSON column's) asks which column names are JSON columns', a scan of every column of every table: ~0.12-0.25 s on a
file of 2,000 tables of 31 columns (62,000 columns), for a query of a few ms. The session keeps the names while the
catalogue stays (pgjsoncols, pgcatalogversion). This builds such a file, serves it, and times through psycopg:

  cold   the statement right after a DDL statement (the lookup runs: what every such statement paid before)
  warm   the same statement repeated (the names kept)

and prints the median of each and their ratio (cold / warm). Run it on an older build (PYTHONPATH) to see that
there every statement is cold.

    python bench/serve_json_names.py                      # 2,000 tables x 31 columns
    python bench/serve_json_names.py --tables 500 --reps 9
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psycopg


def build(path: str, tables: int, columns: int) -> None:
    con = duckdb.connect(path)
    cols = ", ".join(f"c{j} VARCHAR" for j in range(columns - 1))
    con.execute("BEGIN")
    for i in range(tables):
        con.execute(f"CREATE TABLE t{i} (id INTEGER, {cols}{', doc JSON' if i % 100 == 0 else ''})")
    con.execute("INSERT INTO t0 (id, c1, c2) VALUES (1, 'a', 'b')")
    con.execute("COMMIT")
    con.close()


def timed(conn: psycopg.Connection, sql: str) -> float:
    start = time.perf_counter()
    conn.execute(sql).fetchall()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", type=int, default=2000)
    ap.add_argument("--columns", type=int, default=31)
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "wide.duckdb")
        build(db, args.tables, args.columns)
        proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "serve", db, "--port", "0", "--read-write"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            host, port = line.rsplit(" on ", 1)[1].strip().rsplit(":", 1)
            url = f"postgresql://analyst@{host}:{port}/warehouse"
            sql = "SELECT c1 || ' ' || c2 || ' ' || id FROM t0"
            with psycopg.connect(url, autocommit=True) as conn:
                timed(conn, sql)  # (the session's first statement: its catalogue macros, ...)
                cold, warm = [], []
                for _ in range(args.reps):
                    conn.execute("CREATE OR REPLACE TABLE scratch (x INTEGER)")  # a change of the catalogue
                    cold.append(timed(conn, sql))
                    warm.append(timed(conn, sql))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    c, w = statistics.median(cold), statistics.median(warm)
    print(f"{args.tables} tables x {args.columns} columns, {args.reps} reps: cold {c * 1000:.1f} ms, "
          f"warm {w * 1000:.1f} ms, ratio cold/warm {c / w:.1f}")


if __name__ == "__main__":
    main()
