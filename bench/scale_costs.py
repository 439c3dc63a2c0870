"""What a large or awkward table costs when scoring (not a test): ratios against a baseline measured in the same run.

Why kept: the scale audit of 2026-12-04 found a 5M-row `score --into --explain` running 140 s and SQL scoring of a
table with 30% NULLs in two of seven columns 7x slower than without; this measures both, and that the progress counter
`score(progress=True)` added then costs nothing measurable.

    python bench/scale_costs.py                 # 500k rows x 7 columns (DECIMAL(38,10), HUGEINT, NULLs) in memory
    python bench/scale_costs.py --rows 2000000

Prints, for each case, seconds and the ratio to the baseline (bulk scoring into a table, no explanation, no NULLs;
SQL scoring of the rows without NULLs). Medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ad_duckdb  # noqa: E402

FEATURES = ["cnt", "amount", "x3", "n1", "n2", "dec", "hug"]


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    con = ad_duckdb.connect()
    con.execute(f"""CREATE TABLE t AS SELECT i AS id, (random() * 10)::INTEGER AS cnt, random() * 1000 AS amount,
        random() * 5 + i % 7 AS x3,
        CASE WHEN random() < 0.3 THEN NULL ELSE random() END AS n1,
        CASE WHEN random() < 0.3 THEN NULL ELSE random() * 100 END AS n2,
        (random() * 12345.678)::DECIMAL(38,10) AS dec, (random() * 1e6)::HUGEINT AS hug
        FROM range({args.rows}) t(i)""")
    # the same rows with the NULLs given their column's median: what the model sees without missing values
    con.execute("CREATE TABLE full_t AS SELECT * REPLACE (coalesce(n1, 0.5) AS n1, coalesce(n2, 50.0) AS n2) FROM t")
    ad_duckdb.train(con, "m", "t", features=FEATURES, progress=False)
    cols = ", ".join(f'"{c}"' for c in FEATURES)

    def into(source: str, **kw: object) -> Callable[[], object]:
        return lambda: ad_duckdb.score(con, "m", source, into="s", replace=True, columns=["id"], **kw)  # type: ignore[arg-type]

    def sql(table: str) -> Callable[[], object]:
        return lambda: con.execute(f"SELECT sum(anomaly_score('m', {cols})) FROM {table}").fetchall()

    base_into = timed(into("full_t"), args.repeat)
    base_sql = timed(sql("full_t"), args.repeat)
    print(f"{args.rows} rows x {len(FEATURES)} columns; medians of {args.repeat} runs")
    print(f"  baseline score(into=), no NULLs             {base_into:7.2f} s  x1.00")
    for label, fn in [("score(into=, progress=True), no NULLs", into("full_t", progress=True)),
                      ("score(into=), 30% NULLs in 2 columns", into("t")),
                      ("score(into=, explain=True), no NULLs", into("full_t", explain=True))]:
        s = timed(fn, args.repeat)
        print(f"  {label:42s} {s:7.2f} s  x{s / base_into:.2f}")
    print(f"  baseline SQL sum(anomaly_score), no NULLs   {base_sql:7.2f} s  x1.00")
    s = timed(sql("t"), args.repeat)
    print(f"  {'SQL sum(anomaly_score), 30% NULLs':42s} {s:7.2f} s  x{s / base_sql:.2f}")
    con.close()


if __name__ == "__main__":
    main()
