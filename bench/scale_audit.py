"""An analyst's big table on one core: the example generator, alarm_rate's statistics and scoring, as CPU seconds
and ratios against a baseline measured in the same run (not a test; the machine is shared, so wall time is not
read).

    taskset -c 1 python bench/scale_audit.py                  # 10M rows in a temporary folder, deleted after
    taskset -c 1 python bench/scale_audit.py --rows 2000000   # a smaller table

What it measures, each against what it replaced or a plain DuckDB run over the same rows:
- the generator (examples/transactions/generate.py): the whole run, and the quantile reads of its planted rows
  against ``np.quantile`` over the whole column, which it read for each of them before (a pass over every row each);
- alarm_rate's count of rows sharing a time: a sort against ``np.unique(axis=0)`` of (series, time) pairs;
- alarm_rate's ranks of its scores: once for both correlations against once for each;
- scoring: ``ad_duckdb.score(into=...)`` and ``SELECT sum(anomaly_score(...))`` from Parquet, against a plain
  ``CREATE TABLE AS`` of the same Parquet rows with three columns added.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "examples" / "transactions")]


def cpu(f: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of ``f()`` (every thread of the process), and its result."""
    t0 = time.process_time()
    out = f()
    return time.process_time() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--out", help="also write the lines to this Markdown file")
    a = ap.parse_args()
    import ad_duckdb
    from ad_duckdb import alarmacf, alarmepisodes, alarmperiods, examplerows

    import generate

    lines: list[str] = [f"rows: {a.rows:,}; CPU seconds (one core); ratios against the baseline of the same run", ""]

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    folder = Path(tempfile.mkdtemp(prefix="ad_scale_"))
    try:
        db = folder / "tx.duckdb"
        t, planted = cpu(lambda: generate.generate(db, a.rows, 7))
        say(f"- generate.py, {a.rows:,} rows: {t:.1f} s CPU, peak RSS of the run so far "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        # the quantile reads alone: the new bisection against np.quantile over the whole column (200 reads each)
        col = np.random.default_rng(0).lognormal(3.0, 1.0, a.rows)
        qs = np.random.default_rng(1).uniform(0.8, 0.95, 200)
        t_old, _ = cpu(lambda: [np.quantile(col, q) for q in qs])
        tracked = examplerows.Quantiles(col)
        t_new, _ = cpu(lambda: [tracked.quantile(q) for q in qs])
        reads = sum(v for k, v in planted.items() if k in ("burst", "joint_law", "card_testing"))
        say(f"- a planted row's quantile: np.quantile over the column {t_old / len(qs) * 1e3:.1f} ms, bisection "
            f"{t_new / len(qs) * 1e3:.3f} ms (x{t_old / max(t_new, 1e-9):.0f}); {reads:,} reads here: "
            f"{t_old / len(qs) * reads:.0f} s before, {t_new / len(qs) * reads:.1f} s now")

        rng = np.random.default_rng(3)
        seconds = np.sort(rng.integers(0, 90 * 86400, a.rows)).astype(np.float64)
        series = rng.integers(0, 1000, a.rows).astype(np.float64) * 1e15
        t_old, old = cpu(lambda: a.rows - len(np.unique(np.stack([series, seconds], axis=1), axis=0)))
        t_new, new = cpu(lambda: alarmepisodes.shared_times(seconds, series))
        assert old == new, (old, new)
        say(f"- alarm_rate's rows sharing a time ({a.rows:,} times, 1000 series): np.unique(axis=0) {t_old:.1f} s, "
            f"sort {t_new:.1f} s (x{t_old / max(t_new, 1e-9):.1f})")

        scores = rng.gamma(2.0, 1.0, a.rows).round(4)
        t_old, _ = cpu(lambda: (alarmacf.normal_acf(scores, False), alarmperiods.lag1(scores)))
        t_new, _ = cpu(lambda: (lambda r: (alarmacf.normal_acf(scores, False, r),
                                          alarmperiods.lag1(scores, r)))(alarmacf.mid_ranks(scores)))
        say(f"- alarm_rate's two correlations ({a.rows:,} scores): ranked for each {t_old:.1f} s, ranked once "
            f"{t_new:.1f} s (x{t_old / max(t_new, 1e-9):.2f})")

        con = ad_duckdb.connect(str(db))
        con.execute("SET threads = 1")
        con.execute("SET enable_progress_bar = false")
        pq = folder / "tx.parquet"
        con.execute(f"COPY transactions TO '{pq}' (FORMAT parquet)")
        feats = ["count", "amount", "distinct_cards", "refunds"]
        t_train, _ = cpu(lambda: ad_duckdb.train(con, "tx_ae", "transactions", features=feats, progress=False))
        say(f"- train (default model; above 1,000,000 rows on a sample of that many, thresholds from all): {t_train:.1f} s CPU")
        src = f"'{pq}'"
        t_base, _ = cpu(lambda: con.execute(f"CREATE TABLE plain AS SELECT *, random() AS a, random() AS b, "
                                            f"random() > 0.5 AS c FROM {src}"))
        t_into, _ = cpu(lambda: ad_duckdb.score(con, "tx_ae", src, into="scored"))
        t_id, _ = cpu(lambda: ad_duckdb.score(con, "tx_ae", src, into="scored_id", columns=["transaction_id"]))
        t_sql, _ = cpu(lambda: con.sql(f"SELECT sum(anomaly_score('tx_ae', {', '.join(feats)})) FROM {src}")
                       .fetchall())
        for what, t in (("CREATE TABLE AS of the Parquet rows + 3 columns (baseline)", t_base),
                        ("score(into=), every column", t_into), ("score(into=), columns=['transaction_id']", t_id),
                        ("SELECT sum(anomaly_score(...))", t_sql)):
            say(f"- {what}: {t:.1f} s CPU, {a.rows / t / 1e6:.2f}M rows/s, x{t / t_base:.2f} the baseline")
        con.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if a.out:
        Path(a.out).write_text("# bench/scale_audit.py\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
