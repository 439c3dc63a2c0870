"""Scoring speed: our SQL path and bulk scoring against what users would write instead (issue 4).

Not a test. Prints a table and writes ``bench/results/speed_<date>.md``.

Protocol: fresh random data (10M rows, ``--quick``: 1M) at d=30 and d=2; our default model for the data
(``ad_duckdb.train`` with default parameters); DuckDB's default ``threads`` for every SQL path; each path
timed ``--reps`` times (default 5) interleaved with the others, best time kept; the peak RSS of each path
measured once in its own subprocess (reading the same rows from a Parquet file). Paths (rows/s):

  a   raw onnxruntime on the float32 numpy array, 65536-row batches, 2 threads (the model's own limit)
  a2  the same array in 2048-row runs of a single-threaded session, spread over the cores by a thread pool
      (how our bulk scoring and DuckDB's parallel UDF calls use onnxruntime; reported, not a target)
  b   a no-op Arrow UDF receiving the same columns (DuckDB's hand-off limit)
  c   SELECT sum(anomaly_score('m', ...)) FROM t (our SQL path)
  d   ad_duckdb.score(con, 'm', 't', into=..., columns=['id'], outputs=['anomaly_score']) (our bulk scoring
      into a table of (id, score), as e2 writes)
  e1  pandas round trip for an aggregate: fetch a DataFrame, score with torch (same layer sizes, 2 threads,
      65536-row batches), sum
  e2  the same round trip writing (id, score) back with CREATE TABLE ... AS SELECT * FROM df
  f   PyOD's AutoEncoder.decision_function, same layer sizes, inference batch 2048 (our UDF's batch)
  b1, c1  b and c with SET threads = 1 (reported, not targets: DuckDB's hand-off to Python holds the GIL, so
      a second thread speeds our path, whose model runs without it, far more than the no-op; these two rows
      show how much)

Usage: python bench/speed.py [--quick] [--rows N] [--reps 5] [--dims 30,2] [--big-rows 50000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import ad_duckdb

HERE = Path(__file__).resolve().parent
PATHS = ["a", "a2", "b", "c", "d", "e1", "e2", "f", "b1", "c1"]
# Each path once in its own process for the peak RSS; the one-thread variants would repeat b and c.
RSS_PATHS = [p for p in PATHS if p not in ("b1", "c1")]
CHUNK = 1_000_000


# --- data ---------------------------------------------------------------------------------------

def chunks(n: int, d: int, seed: int = 0) -> Iterator[pa.Table]:
    """Rows with a 3-factor structure plus noise, so the autoencoder has something to learn."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(3, d))
    for s in range(0, n, CHUNK):
        m = min(CHUNK, n - s)
        X = rng.normal(size=(m, 3)) @ mix + 0.3 * rng.normal(size=(m, d))
        yield pa.table({"id": np.arange(s, s + m, dtype=np.int64), **{f"f{j}": X[:, j] for j in range(d)}})


def make_table(con: duckdb.DuckDBPyConnection, n: int, d: int) -> None:
    con.execute("CREATE OR REPLACE TABLE t (id BIGINT, " + ", ".join(f"f{j} DOUBLE" for j in range(d)) + ")")
    for tbl in chunks(n, d):
        con.register("__chunk", tbl)
        con.execute("INSERT INTO t SELECT * FROM __chunk")
        con.unregister("__chunk")


def write_parquet(path: Path, n: int, d: int) -> None:
    writer: pq.ParquetWriter | None = None
    for tbl in chunks(n, d):
        if writer is None:
            writer = pq.ParquetWriter(path, tbl.schema)
        writer.write_table(tbl, row_group_size=122_880)
    assert writer is not None
    writer.close()


# --- the paths ----------------------------------------------------------------------------------

class Bench:
    """Everything one dimension's paths need: connection, model, arrays, competitor networks."""

    def __init__(self, con: duckdb.DuckDBPyConnection, d: int, params: dict[str, Any], n: int,
                 f_rows: int | None = None) -> None:
        self.con, self.d, self.n = con, d, n
        self.f_rows = min(n, f_rows) if f_rows else n
        self.feats = [f"f{j}" for j in range(d)]
        self.args = ", ".join(self.feats)
        self.hidden = list(params["hidden_dims"])
        self.latent = int(params["latent_dim"])
        self.n_models = int(params["n_models"])
        self.X: np.ndarray | None = None
        self._ort: Any = None
        self._ort1: Any = None
        self._torch: Any = None
        self._pyod: Any = None

    def matrix(self) -> np.ndarray:
        if self.X is None:
            self.X = self.con.sql(f"SELECT {self.args} FROM t ORDER BY id").fetchnumpy()
            self.X = np.stack([self.X[f] for f in self.feats], axis=1).astype(np.float32)
        return self.X

    # a
    def path_a(self) -> float:
        from ad_duckdb.ortruns import make_session

        if self._ort is None:
            rec = ad_duckdb.load_model(self.con, "m")
            self._ort = make_session(rec.onnx, model="m", n_features=self.d, threads=2)
        X = self.matrix()
        return float(sum(float(self._ort.run(["score"], {"x": X[i : i + 65536]})[0].sum())
                         for i in range(0, len(X), 65536)))

    def path_a2(self) -> float:
        from ad_duckdb.ortruns import make_session, pool_runs

        if self._ort1 is None:
            rec = ad_duckdb.load_model(self.con, "m")
            self._ort1 = make_session(rec.onnx, model="m", n_features=self.d, threads=1)
        return float(sum(float(r[0].sum()) for r in pool_runs(self._ort1, self.matrix(), ["score"])))

    # b
    def register_noop(self) -> None:
        from duckdb.sqltypes import DOUBLE, VARCHAR

        def noop(model: Any, *cols: Any) -> Any:
            return cols[0]

        try:
            self.con.create_function("bench_noop", noop, [VARCHAR, DOUBLE], DOUBLE, type="arrow",
                                     null_handling="special", side_effects=False)
        except duckdb.Error:
            pass  # already registered on this database

    def path_b(self) -> float:
        self.register_noop()
        return float(self.con.execute(f"SELECT sum(bench_noop('m', {self.args})) FROM t").fetchall()[0][0])

    # c
    def path_c(self) -> float:
        return float(self.con.execute(f"SELECT sum(anomaly_score('m', {self.args})) FROM t").fetchall()[0][0])

    # b1 / c1
    def one_thread(self, fn: Callable[[], float]) -> float:
        self.con.execute("SET threads = 1")
        try:
            return fn()
        finally:
            self.con.execute("RESET threads")

    def path_b1(self) -> float:
        return self.one_thread(self.path_b)

    def path_c1(self) -> float:
        return self.one_thread(self.path_c)

    # d
    def path_d(self) -> float:
        return float(ad_duckdb.score(self.con, "m", "t", into="scores_d", columns=["id"], outputs=["anomaly_score"],
                                     replace=True))

    # e1 / e2
    def torch_net(self) -> Any:
        if self._torch is None:
            import torch
            from torch import nn

            def autoencoder() -> Any:
                sizes = [self.d, *self.hidden, self.latent, *reversed(self.hidden)]
                layers: list[Any] = []
                for i, o in zip(sizes[:-1], sizes[1:], strict=True):
                    layers += [nn.Linear(i, o), nn.ReLU()]
                return nn.Sequential(*layers, nn.Linear(sizes[-1], self.d)).eval()

            torch.manual_seed(0)
            self._torch = [autoencoder() for _ in range(self.n_models)]
        return self._torch

    def torch_scores(self, X: np.ndarray) -> np.ndarray:
        import torch

        torch.set_num_threads(2)
        nets = self.torch_net()
        X = np.require(X, requirements=["W"])  # torch warns on read-only arrays
        out = np.empty(len(X), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(X), 65536):
                xb = torch.from_numpy(X[i : i + 65536])
                err = sum(((m(xb) - xb) ** 2) for m in nets) / len(nets)
                out[i : i + 65536] = err.mean(dim=1).numpy()
        return out

    def path_e1(self) -> float:
        df = self.con.sql("SELECT * FROM t").df()
        s = self.torch_scores(df[self.feats].to_numpy(dtype=np.float32))
        return float(s.sum())

    def path_e2(self) -> float:
        import pandas as pd

        df = self.con.sql("SELECT * FROM t").df()
        s = self.torch_scores(df[self.feats].to_numpy(dtype=np.float32))
        out = pd.DataFrame({"id": df["id"].to_numpy(), "score": s.astype(np.float64)})
        self.con.register("__e2_df", out)
        try:
            self.con.execute("CREATE OR REPLACE TABLE scores_e2 AS SELECT * FROM __e2_df")
        finally:
            self.con.unregister("__e2_df")
        return float(len(out))

    # f
    def pyod(self) -> Any:
        if self._pyod is None:
            import torch
            from pyod.models.auto_encoder import AutoEncoder as PyodAE

            torch.set_num_threads(2)
            X = self.matrix()
            m = PyodAE(hidden_neuron_list=[*self.hidden, self.latent], batch_norm=False, dropout_rate=0.0,
                       epoch_num=1, batch_size=2048, verbose=0, random_state=0)
            m.fit(X[:20_000].astype(np.float64))
            self._pyod = m
        return self._pyod

    def path_f(self) -> float:
        import torch

        torch.set_num_threads(2)
        return float(self.pyod().decision_function(self.matrix()[: self.f_rows], batch_size=2048).sum())

    def rows(self, path: str) -> int:
        """Rows a path scores: all, except PyOD's, which may be timed on the first ``--f-rows`` rows."""
        return self.f_rows if path == "f" else self.n

    def run(self, path: str) -> float:
        fn: Callable[[], float] = getattr(self, f"path_{path}")
        return fn()


# --- training time per epoch --------------------------------------------------------------------

def pyod_epoch_seconds(X: np.ndarray, hidden: list[int], latent: int, batch_size: int) -> float:
    import torch
    from pyod.models.auto_encoder import AutoEncoder as PyodAE

    torch.set_num_threads(1)  # as our trainer does; measured faster for these small networks
    m = PyodAE(hidden_neuron_list=[*hidden, latent], batch_norm=False, dropout_rate=0.0, epoch_num=1,
               batch_size=batch_size, verbose=0, random_state=0)
    t0 = time.perf_counter()
    m.fit(X)
    total = time.perf_counter() - t0
    t0 = time.perf_counter()
    m.decision_function(X)  # fit ends with scoring its training rows; that is not training
    return total - (time.perf_counter() - t0)


# --- subprocess: one path, peak RSS -------------------------------------------------------------

def _hwm_kib() -> float:
    """This process's peak RSS (VmHWM).

    Why not ``getrusage().ru_maxrss``: Linux carries it across fork and exec, so a subprocess reports
    its parent's peak when that is higher.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1])
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def child(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    con = ad_duckdb.connect(str(workdir / f"child_{args.child}_{os.getpid()}.duckdb"))
    try:
        ad_duckdb.import_model(con, workdir / f"m{args.d}.onnx", name="m")
        con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{args.parquet}')")
        info = json.loads((workdir / f"m{args.d}.json").read_text())
        b = Bench(con, args.d, info, args.n, args.f_rows)
        base = _hwm_kib()
        t0 = time.perf_counter()
        b.run(args.child)
        secs = time.perf_counter() - t0
        peak = _hwm_kib()
    finally:
        con.close()
    print(json.dumps({"path": args.child, "peak_mib": peak / 1024, "base_mib": base / 1024, "seconds": secs}))


def run_child(path: str, d: int, n: int, parquet: Path, workdir: Path, f_rows: int | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", path, "--d", str(d), "--n", str(n), "--parquet", str(parquet),
           "--workdir", str(workdir), *(["--f-rows", str(f_rows)] if f_rows else [])]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        print(f"  child {path} d={d} failed: {r.stderr[-2000:]}", file=sys.stderr)
        return {"path": path, "peak_mib": float("nan"), "base_mib": float("nan"), "seconds": float("nan")}
    return dict(json.loads(lines[-1]))


# --- main ---------------------------------------------------------------------------------------

def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.platform()}"


def bench_dim(d: int, n: int, reps: int, workdir: Path, rss: bool, f_rows: int | None) -> dict[str, Any]:
    print(f"\n== d={d}, {n:,} rows ==", flush=True)
    con = ad_duckdb.connect()
    out: dict[str, Any] = {"d": d, "n": n}
    try:
        t0 = time.perf_counter()
        make_table(con, n, d)
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        print(f"data {time.perf_counter() - t0:.1f}s; DuckDB threads={threads}", flush=True)
        t0 = time.perf_counter()
        extra = json.loads(os.environ.get("AD_SPEED_TRAIN_PARAMS", "{}"))  # for debugging this script only
        info = ad_duckdb.train(con, "m", "t", features=[f"f{j}" for j in range(d)], progress=False, **extra)
        out["train_wall_s"] = time.perf_counter() - t0
        m = info.metrics
        params = ad_duckdb.load_model(con, "m").params
        out["model"] = (f"{params['n_models']} x [{d}-{'-'.join(map(str, params['hidden_dims']))}-"
                        f"{params['latent_dim']}-...-{d}]")
        bs = int(params["batch_size"])
        if "steps_run" in m:  # the members train together, one batch each per step
            epochs = float(m["steps_run"]) * bs / max(int(m["train_rows_used"]), 1)
            # The optimisation loop only: train_seconds also holds the feature fitting and scoring every row once.
            out["ours_epoch_s"] = float(m.get("loop_seconds", m["train_seconds"])) / max(epochs, 1e-9)
            out["epoch_note"] = f"all {params['n_models']} members together, {epochs:.1f} epochs run"
        else:  # one member after the other
            epochs = float(sum(m["epochs_run"]))
            # The optimisation loop only: train_seconds also holds the feature fitting and scoring every row once.
            out["ours_epoch_s"] = float(m.get("loop_seconds", m["train_seconds"])) / max(epochs, 1e-9) * int(params["n_models"])
            out["epoch_note"] = f"all {params['n_models']} members, one after the other"
        print(f"model {out['model']}; trained in {out['train_wall_s']:.1f}s", flush=True)
        ad_duckdb.export_model(con, "m", workdir / f"m{d}.onnx")
        (workdir / f"m{d}.json").write_text(json.dumps(params, default=str))
        b = Bench(con, d, params, n, f_rows)
        out["f_rows"] = b.f_rows
        b.matrix()
        b.pyod()
        # Training time per epoch against PyOD: same rows (our trainer's sample size) and batch size.
        rows = int(m["train_rows_used"])
        out["pyod_epoch_s"] = pyod_epoch_seconds(b.matrix()[:rows].astype(np.float64), b.hidden, b.latent,
                                                 int(params["batch_size"]))
        out["epoch_rows"], out["epoch_batch"] = rows, int(params["batch_size"])
        best = {p: float("inf") for p in PATHS}
        for r in range(reps):
            for p in PATHS:
                t0 = time.perf_counter()
                b.run(p)
                best[p] = min(best[p], time.perf_counter() - t0)
            print(f"rep {r + 1}/{reps}: " + ", ".join(f"{p} {b.rows(p) / best[p] / 1e6:.2f}M" for p in PATHS),
                  flush=True)
        out["rows_per_s"] = {p: b.rows(p) / best[p] for p in PATHS}
        if rss:
            pqf = workdir / f"t{d}.parquet"
            con.execute(f"COPY t TO '{pqf}' (FORMAT parquet)")
            out["rss"] = {p: run_child(p, d, n, pqf, workdir, f_rows) for p in RSS_PATHS}
            pqf.unlink()
    finally:
        con.close()
    return out


def big_rss(n: int, workdir: Path) -> dict[str, Any]:
    pqf = workdir / "big.parquet"
    need = n * 3 * 8 * 2  # parquet file plus the result table, generously
    free = shutil.disk_usage(workdir).free
    if free < need:
        return {"skipped": f"only {free / 2**30:.1f} GiB free, need {need / 2**30:.1f}"}
    t0 = time.perf_counter()
    write_parquet(pqf, n, 2)
    print(f"\n== bulk scoring {n:,} rows, d=2, from Parquet (written in {time.perf_counter() - t0:.0f}s) ==",
          flush=True)
    res = run_child("d", 2, n, pqf, workdir)
    pqf.unlink()
    res["rows"] = n
    res["rows_per_s"] = n / res["seconds"] if res["seconds"] == res["seconds"] else float("nan")
    return res


def report(results: list[dict[str, Any]], big: dict[str, Any] | None, args: argparse.Namespace,
           started: str, load: tuple[Any, ...]) -> str:
    import onnxruntime
    import torch

    lines = [f"# Scoring speed, {started}", "",
             f"Machine: {machine()}", f"Load average at start / end: {load[0]} / {os.getloadavg()}",
             f"Versions: ad_duckdb {ad_duckdb.__version__}, duckdb {duckdb.__version__}, onnxruntime "
             f"{onnxruntime.__version__}, torch {torch.__version__}, pyarrow {pa.__version__}, numpy {np.__version__}",
             f"Command: `python bench/speed.py {' '.join(sys.argv[1:])}`; best of {args.reps} interleaved runs.", ""]
    if any(r["f_rows"] < r["n"] for r in results):
        lines += [f"Path f (PyOD) was timed on the first {results[0]['f_rows']:,} rows of each table (--f-rows).", ""]
    lines += ["| path | " + " | ".join(f"d={r['d']} rows/s" for r in results) + " |",
              "|---|" + "---|" * len(results)]
    names = {"a": "a raw onnxruntime", "a2": "a2 onnxruntime, 2048-row runs on both cores",
             "b": "b no-op UDF", "c": "c SQL anomaly_score", "d": "d bulk score into",
             "e1": "e1 pandas+torch sum", "e2": "e2 pandas+torch table", "f": "f PyOD decision_function",
             "b1": "b1 no-op UDF, threads = 1", "c1": "c1 SQL anomaly_score, threads = 1"}
    for p in PATHS:
        lines.append(f"| {names[p]} | " + " | ".join(f"{r['rows_per_s'][p] / 1e6:.3f}M" for r in results) + " |")
    lines += ["", "| ratio | target | " + " | ".join(f"d={r['d']}" for r in results) + " |",
              "|---|---|" + "---|" * len(results)]
    targets = {"c/a": "reported", "c/a2": "reported", "c/b": ">= 0.6 (d=30)", "c/e1": ">= 1.2", "d/e2": ">= 1.5", "c/f": ">= 5",
               "c1/b1": "reported (threads = 1)"}
    def rate(r: dict[str, Any], p: str) -> float:
        # e1 does a subset of e2's work, so it is at least as fast; where its best time was not (the 10M-row
        # DataFrame fetch varies 1.7-5s here with the allocator's state), e2's rate stands in for it.
        if p == "e1":
            return max(r["rows_per_s"]["e1"], r["rows_per_s"]["e2"])
        return float(r["rows_per_s"][p])

    for k, tgt in targets.items():
        x, y = k.split("/")
        lines.append(f"| {k} | {tgt} | " + " | ".join(f"{rate(r, x) / rate(r, y):.2f}" for r in results) + " |")
    if any(r["rows_per_s"]["e1"] < r["rows_per_s"]["e2"] for r in results):
        lines += ["", "e1 measured slower than e2, which does more; the ratios use e2's rate for e1 (conservative)."]
    lines += ["", "Models (our default for the data) and training time per epoch "
              "(same rows and batch size; ours includes its validation passes):", ""]
    for r in results:
        lines.append(f"- d={r['d']}: {r['model']}; trained in {r['train_wall_s']:.0f}s; one epoch over "
                     f"{r['epoch_rows']:,} rows, batch {r['epoch_batch']}: ours {r['ours_epoch_s']:.2f}s "
                     f"({r['epoch_note']}), PyOD AutoEncoder (one network) {r['pyod_epoch_s']:.2f}s "
                     f"(ratio PyOD/ours {r['pyod_epoch_s'] / r['ours_epoch_s']:.2f})")
    if any("rss" in r for r in results):
        lines += ["", "Peak RSS, each path once in its own process, reading the same rows from a Parquet file "
                  "(MiB; base = after imports and model load):", "",
                  "| path | " + " | ".join(f"d={r['d']} peak | base" for r in results if "rss" in r) + " |",
                  "|---|" + "---|---|" * sum("rss" in r for r in results)]
        for p in RSS_PATHS:
            lines.append(f"| {names[p]} | " + " | ".join(
                f"{r['rss'][p]['peak_mib']:.0f} | {r['rss'][p]['base_mib']:.0f}" for r in results if "rss" in r) + " |")
        for r in results:
            if "rss" in r:
                q = r["rss"]["d"]["peak_mib"] / r["rss"]["e2"]["peak_mib"]
                lines.append(f"\nd={r['d']}: bulk / round-trip peak RSS = {q:.2f} (target <= 0.25)")
    if big is not None:
        if "skipped" in big:
            lines += ["", f"Bulk scoring from Parquet: skipped ({big['skipped']})."]
        else:
            lines += ["", f"Bulk scoring {big['rows']:,} rows at d=2 from Parquet into a file database: peak RSS "
                      f"{big['peak_mib']:.0f} MiB ({big['peak_mib'] / 1024:.2f} GiB; target < 1.5 GiB), "
                      f"{big['rows_per_s'] / 1e6:.2f}M rows/s."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1M rows instead of 10M; 5M rows for the Parquet RSS run")
    ap.add_argument("--rows", type=int, help="rows per table (default 10M, --quick 1M)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dims", default="30,2")
    ap.add_argument("--big-rows", type=int, help="rows of the Parquet bulk-scoring RSS run (0 = skip)")
    ap.add_argument("--no-rss", action="store_true", help="skip the per-path subprocess RSS runs")
    ap.add_argument("--f-rows", type=int, help="time PyOD (path f) on the first N rows only: its rows/s does not "
                    "depend on the table size, and 10M rows take minutes per repetition")
    ap.add_argument("--out", default=str(HERE / "results"))
    # internal: one path in a subprocess
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--d", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--parquet", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    n = args.rows or (1_000_000 if args.quick else 10_000_000)
    big_n = args.big_rows if args.big_rows is not None else (5_000_000 if args.quick else 50_000_000)
    started = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = (os.getloadavg(),)
    with tempfile.TemporaryDirectory(prefix="ad_speed_") as tmp:
        work = Path(tmp)
        results = [bench_dim(int(d), n, args.reps, work, not args.no_rss, args.f_rows) for d in args.dims.split(",")]
        big = big_rss(big_n, work) if big_n > 0 else None
    text = report(results, big, args, started, load)
    print("\n" + text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    f = out / f"speed_{dt.date.today().isoformat()}{'_quick' if n < 10_000_000 else ''}.md"
    f.write_text(text)
    print(f"wrote {f}")


if __name__ == "__main__":
    main()
