"""`SELECT *, anomaly_score(...)` on the example table against what a user would write instead (not a test).

Why kept: the README's first query is ``SELECT *, anomaly_score('tx_ae', count, amount) AS score FROM transactions``;
this measures it on --rows rows of examples/transactions/generate.py's table against, in the same run:

  plain      the same query without the score (DuckDB's own cost of the rows: the baseline of the ratios)
  ours       the query with the score
  ort_loop   what a user writes with the stored ONNX file instead: fetch the table (Arrow), stack count and amount
             as float32, onnxruntime over 65,536-row batches (a default session: every core), append the column
  iforest    PyOD's IForest (default parameters, fitted on the training rows) scoring the same fetched rows (its
             decision_function), the column appended (skipped where PyOD is not installed)

Each in two sinks: 'arrow' (the result fetched as an Arrow table, as a notebook would) and 'table' (``CREATE TABLE
... AS``: the result written into the database; for ort_loop and iforest the fetched table with its new column
written back). Times are the best of --reps interleaved runs, wall and CPU seconds (the machine may be shared: CPU
seconds move less with other jobs). The model is trained (default parameters) on a separate --train-rows table.

    python bench/select_star.py                 # 1M rows
    python bench/select_star.py --rows 200000 --reps 3
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples" / "transactions"))

import ad_duckdb  # noqa: E402

from generate import generate  # noqa: E402

FEATS = ["count", "amount"]


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def best(fn: Callable[[], Any], reps: int, times: dict[str, list[tuple[float, float]]], key: str) -> None:
    for _ in range(reps):
        w, c = time.perf_counter(), cpu()
        fn()
        times.setdefault(key, []).append((time.perf_counter() - w, cpu() - c))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--train-rows", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()

    import onnxruntime as ort
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        from pyod.models.iforest import IForest
    except ImportError:
        IForest = None  # noqa: N806

    with tempfile.TemporaryDirectory(prefix="select_star_") as tmp:
        db = Path(tmp) / "tx.duckdb"
        generate(Path(tmp) / "train.duckdb", args.train_rows, seed=7)
        generate(db, args.rows, seed=8)
        con = ad_duckdb.connect(str(db))
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{Path(tmp) / 'train.duckdb'}' AS tr (READ_ONLY)")
        con.execute("CREATE TABLE train_rows AS FROM tr.transactions")
        con.execute("DETACH tr")
        ad_duckdb.train(con, "tx_ae", "train_rows", features=FEATS, progress=False)
        onnx = ad_duckdb.load_model(con, "tx_ae").onnx
        sess = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])  # what a user makes: the defaults
        forest = None
        if IForest is not None:
            Xtr = con.sql("SELECT count, amount FROM train_rows").fetchnumpy()
            forest = IForest(random_state=0).fit(np.stack([Xtr["count"], Xtr["amount"].astype(np.float64)], 1))
        q_plain = "SELECT * FROM transactions"
        q_ours = "SELECT *, anomaly_score('tx_ae', count, amount) AS score FROM transactions"

        def fetched_matrix() -> tuple[pa.Table, np.ndarray]:
            t = con.sql("SELECT * FROM transactions").to_arrow_table()
            # pyarrow's cast: to_numpy() of a DECIMAL column gives Python Decimal objects (30x slower)
            X = np.stack([pc.cast(t.column(f), pa.float64()).to_numpy().astype(np.float32) for f in FEATS], axis=1)
            return t, X

        def ort_scores(X: np.ndarray) -> np.ndarray:
            return np.concatenate([sess.run(["score"], {"x": X[i : i + 65536]})[0] for i in range(0, len(X), 65536)])

        def ort_loop() -> pa.Table:
            t, X = fetched_matrix()
            return t.append_column("score", pa.array(ort_scores(X).astype(np.float64)))

        def iforest() -> pa.Table:
            assert forest is not None
            t, X = fetched_matrix()
            return t.append_column("score", pa.array(forest.decision_function(X.astype(np.float64))))

        def into_table(make: Callable[[], pa.Table]) -> Callable[[], None]:
            def go() -> None:
                t = make()
                con.register("__result", t)
                try:
                    con.execute("CREATE OR REPLACE TABLE sink AS FROM __result")
                finally:
                    con.unregister("__result")
            return go

        paths: dict[str, Callable[[], Any]] = {
            "plain arrow": lambda: con.sql(q_plain).to_arrow_table(),
            "ours arrow": lambda: con.sql(q_ours).to_arrow_table(),
            "ort_loop arrow": ort_loop,
            "plain table": lambda: con.execute(f"CREATE OR REPLACE TABLE sink AS {q_plain}"),
            "ours table": lambda: con.execute(f"CREATE OR REPLACE TABLE sink AS {q_ours}"),
            "ort_loop table": into_table(ort_loop),
        }
        if forest is not None:
            paths["iforest arrow"] = iforest
            paths["iforest table"] = into_table(iforest)
        # the scores agree: ours (float32 scores as DOUBLE) equals the loop's on every row
        ours = con.sql(f"SELECT score FROM ({q_ours}) ORDER BY transaction_id").fetchnumpy()["score"]
        t, X = fetched_matrix()
        ids = t.column("transaction_id").to_numpy()
        loop = ort_scores(X)[np.argsort(ids)]
        same = bool(np.array_equal(ours, loop.astype(np.float64)))
        for fn in paths.values():
            fn()  # warm up: sessions, caches
        times: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.reps):
            for key, fn in paths.items():
                best(fn, 1, times, key)
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        con.close()

    print(f"{args.rows:,} rows of examples/transactions (model tx_ae on {args.train_rows:,} rows, count and amount); "
          f"DuckDB threads={threads}; best of {args.reps}; load average now {os.getloadavg()[0]:.1f}")
    print(f"ours equals the onnxruntime loop's scores on every row: {same}")
    print(f"{'path':16s} {'wall s':>8s} {'CPU s':>8s} {'M rows/s':>9s} {'wall / ours':>12s} {'CPU / ours':>11s}")
    for sink in ("arrow", "table"):
        w0, c0 = (min(v[i] for v in times[f"ours {sink}"]) for i in (0, 1))
        for who in ("plain", "ours", "ort_loop", "iforest"):
            key = f"{who} {sink}"
            if key not in times:
                continue
            w, c = (min(v[i] for v in times[key]) for i in (0, 1))
            print(f"{key:16s} {w:8.3f} {c:8.3f} {args.rows / w / 1e6:9.2f} {w / w0:12.2f} {c / c0:11.2f}")


if __name__ == "__main__":
    main()
