"""alarm_rate's and evaluate's statistics on 10 million rows: the peak memory numpy allocates in each (tracemalloc,
MB above the inputs) and its CPU seconds. Not a test; the numbers before and after a change are in bench/results.

    python bench/stat_memory.py
    python bench/stat_memory.py --rows 2000000

Why apart from the commands' peak RSS: a command's peak also holds DuckDB's cache of the table's blocks and its
query memory (the label join, the repeated-rows check), which varied by 300 MB between two runs of the same
evaluate on the same 10M rows; the statistics' own arrays are what the code decides.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def peak(name: str, f: Callable[[], Any]) -> Any:
    tracemalloc.start()
    t = time.process_time()
    out = f()
    top = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"- {name}: peak {top:.0f} MB, {time.process_time() - t:.1f} s CPU", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    n = ap.parse_args().rows
    from ad_duckdb import alarmacf, alarmperiods, alarmrate, alarmseason, alarmspan, intervals, metrics, thresholds

    try:
        from ad_duckdb import leancurve
    except ImportError:  # a build before it: the whole curve
        leancurve = None  # type: ignore[assignment]

    rng = np.random.default_rng(0)
    s = rng.gamma(2.0, 1.0, n).astype(np.float32).astype(np.float64)  # scores as the model gives them
    seconds = np.sort(rng.integers(0, 90, n)).astype(np.float64) * 86400.0  # 90 days of daily rows
    y = rng.random(n) < 0.01
    value = float(np.quantile(s, 0.98))
    rows_a_day = n / 90
    w = rng.integers(1, 5, n).astype(np.float64)
    peak("alarm_rate's cut", lambda: alarmrate.cut(s, 0.02))
    peak("its cut with weights", lambda: alarmrate.cut(s, 0.02, w))
    shuffled = rng.permutation(seconds)  # rows not read in time order
    peak("its rows in time order (_in_time)", lambda: alarmrate._in_time(s, shuffled))
    ranks = peak("alarm_rate's ranks (mid_ranks)", lambda: alarmacf.mid_ranks(s))
    raw = peak("its autocorrelation (normal_acf)", lambda: alarmacf.normal_acf(s, debiased=False, ranks=ranks))
    peak("its periods' spread", lambda: alarmperiods.spread(
        s > value, alarmperiods.period_of(seconds, 86400.0), rows_a_day, alarmperiods.lag1(s, ranks), None,
        alarmacf.debias(raw, n)))
    peak("the time its rows cover", lambda: alarmspan.cover(seconds, None, "day", 86400.0, None))
    peak("its season warnings", lambda: alarmseason.warnings(s > value, seconds, raw, rows_a_day, "day", None))

    def report() -> Any:  # as evaluation._report: the curve kept to its counts where leancurve is
        c = leancurve.LeanCurve(s, y) if leancurve else thresholds.curve(s, y)
        metrics.candidate_table(s, y, c=c)
        a = int(y.sum())
        auc = metrics.curve_auc_roc(c, a, n - a)
        metrics.auc_pr(s, y, c=c)
        return intervals.auc_roc(c, a, n - a, auc)

    peak("evaluate's curve, candidate table, AUCs and AUC interval", report)


if __name__ == "__main__":
    main()
