"""What a labelled pass costs beyond scoring its rows (not a test): same-run ratios to the scoring alone, and
new / old code.

Why kept: at 2M labelled rows, ``threshold`` with a goal and ``evaluate`` spent more time after scoring than on
it, without a word: the goal's curve and the inverted-label check each sorted the rows (an argsort carrying the
labels along, 0.2-0.5 s each), and the scan for labelled rows repeated by a label join grouped 2M rows by an id
and a hash of their features when a shop's id repeated (0.9 s). Measured in a fresh process per code tree, trees
alternated --repeat times, medians printed (wall and CPU seconds: the machine is shared).

    python bench/labelled_speed.py                    # this tree: 2M rows
    python bench/labelled_speed.py --old e80701f      # and that commit's ad_duckdb, alternated

Measures: 'scoring' (``sum(anomaly_score(...))`` over the table: the baseline each ratio is against), 'repeats'
(``repeatedrows.note`` alone: ids tx_id, unique, and shop_id, a shop's), 'curve' (``thresholds.curve`` of 2M scores),
'goal' (``set_threshold`` min_precision 0.9), 'evaluate', 'score_into' (``score(..., into=)``), 'group_by' (SQL
``avg(anomaly_score(...))`` per shop group).
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
MEASURES = ["scoring", "repeats", "curve", "goal", "evaluate", "score_into", "group_by"]


def prepare(db: str, rows: int) -> None:
    """Table tx (an id, a shop's id, six features, 1% anomalies in is_fraud) and model m, trained on its normal rows."""
    sys.path.insert(0, str(ROOT))
    import ad_duckdb

    con = ad_duckdb.connect(db)
    con.execute(f"""CREATE TABLE tx AS SELECT i AS tx_id, i % 5000 AS shop_id, random() * 100 AS a,
        random() * 10 AS b, random() AS c, (random() * 50)::INTEGER AS d, random() * random() AS e,
        random() + i % 3 AS f, CASE WHEN random() < 0.01 THEN 1 ELSE 0 END AS is_fraud FROM range({rows}) t(i)""")
    con.execute("UPDATE tx SET a = a * 5 + 300 WHERE is_fraud = 1")
    ad_duckdb.train(con, "m", "tx", features=FEATS, where="is_fraud = 0", progress=False)
    con.close()


def measure(tree: str, db: str) -> dict[str, list[float]]:
    """In a fresh process on ``tree``'s ad_duckdb: [wall s, CPU s] of every measure."""
    code = f"""
import json, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {tree!r})
import numpy as np
import ad_duckdb
from ad_duckdb import repeatedrows, thresholds
con = ad_duckdb.connect({db!r})
con.execute("SET enable_progress_bar = false")  # DuckDB's bar shares stdout with the RESULT line
cols = "{', '.join(FEATS)}"
{TIMED}timed("scoring", lambda: con.execute(f"SELECT sum(anomaly_score('m', {{cols}})) FROM tx").fetchall())
types = [("tx_id", "BIGINT"), ("shop_id", "BIGINT"), *[(f, "DOUBLE") for f in {FEATS!r}], ("is_fraud", "INTEGER")]
n = con.execute("SELECT count(*) FROM tx").fetchall()[0][0]
timed("repeats", lambda: repeatedrows.note(con, "tx", None, types, {FEATS!r}, "is_fraud", n))
s, y = (np.asarray(v) for v in zip(*con.execute(f"SELECT anomaly_score('m', {{cols}}), is_fraud FROM tx").fetchall()))
timed("curve", lambda: thresholds.curve(s, y))
timed("goal", lambda: ad_duckdb.set_threshold(con, "m", "g", "min_precision", target=0.9, source="tx",
                                             label="is_fraud"))
timed("evaluate", lambda: ad_duckdb.evaluate(con, "m", "tx", label="is_fraud"))
timed("score_into", lambda: ad_duckdb.score(con, "m", "tx", into="scored", columns=["tx_id"], replace=True))
timed("group_by", lambda: con.execute(f"SELECT shop_id % 10, avg(anomaly_score('m', {{cols}})) FROM tx GROUP BY 1")
      .fetchall())
print("RESULT " + json.dumps(out))
"""
    return run_measured(tree, code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    args = tree_args(ap)
    with tempfile.TemporaryDirectory(prefix="labelled_speed_") as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        prepare(db, args.rows)
        trees = prepared(t0, args.old, tmp)
        med = alternated(trees, args.repeat, lambda tree: measure(tree, db))
        print(f"{args.rows} rows x {len(FEATS)} features; medians of {args.repeat} runs; load average now "
              f"{os.getloadavg()[0]:.1f}")
        head = f"{'measure':11s} {'tree':4s} {'wall s':>8s} {'CPU s':>8s} {'/scoring (wall, CPU)':>22s}"
        print(head + (f" {'new/old (wall, CPU)':>22s}" if args.old else ""))
        for key in MEASURES:
            for name in trees:
                (w, c), (bw, bc) = med[name][key], med[name]["scoring"]
                line = f"{key:11s} {name:4s} {w:8.3f} {c:8.3f}       x{w / bw:6.3f} x{c / bc:6.3f}"
                if args.old and name == "new":
                    ow, oc = med["old"][key]
                    line += f"       x{w / ow:6.3f} x{c / oc:6.3f}"
                print(line)


if __name__ == "__main__":
    main()
