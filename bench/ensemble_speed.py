"""Scoring speed of ensembles (n_models > 1 and the opt-in code_sizes): the per-member layers against the batched ones.

Not a test. Prints a table of warm scoring times and the ratios new/old, both measured in this run.

Before (7b84be4): an ensemble's layers ran as one batched MatMul plus an Add over all members ([E, rows, width]),
and a code_sizes member's code was cut by a Mul with its 0/1 mask, its neighbour distances taken over all
``latent_dim`` numbers. Now (nn.ScoringGraph.codes, EnsembleAutoEncoder.members) the exported graph has one Gemm per
member and layer, bias fused, the mask folded into the encoder's last layer (its columns past the cut dropped, and
the decoder's first-layer rows and the bank numbers that only ever met zeros), each member's distances over its own
code numbers. Torch scores an uncut ensemble as before (batched: the same bytes); a cut one member by member.
``old_graph`` below scores the old way (``ScoringGraph.codes`` as ``ae.forward``: the exporter traces through it,
and the graph it writes is byte-identical to 7b84be4's). One member is unchanged (its graph byte-identical).

Protocol: per data set and n_models (and ``--code-sizes``), one ``AutoEncoderDetector(n_models=E, seed=0)`` fitted
on at most ``--train-rows`` rows (scoring cost does not depend on the training rows: the bank is 256 codes); the
fitted graph ("new") and a copy scoring the old way ("old"), each also exported to ONNX. Every row of the data set is
scored, warm, ``--reps`` times with old and new interleaved, best wall and best CPU time kept:
  torch  the graph in its ``chunk_rows`` chunks (as ``decision_function``), torch.set_num_threads(T)
  onnx   onnxruntime in 2048-row runs (the SQL UDF's batch), a session of T intra-op threads
Before timing, the old and new torch scores must agree to 1e-6 relative (a code_sizes graph: or within twice the
old float32 scores' distance from the float64 graph's), and the new ONNX scores with torch as export.parity_check
demands (it raises otherwise); the table says whether the torch scores were bit-equal and how far apart they were.
SQL (``--sql-rows``, default 1M rows x 4 columns, speed.py's data): ``SELECT sum(anomaly_score(...))`` with the
default model and with code_sizes=(2, 4, 8, 16) stored by ``ad_duckdb.train`` as before and as now, interleaved.

Data: an ADBench file from the shared data (default 22_magic.gamma, 19,020 rows x 10) and ``--rows`` synthetic rows
(default 1M, d=30, speed.py's 3-factor data).

Usage: PYTHONPATH=. python bench/ensemble_speed.py [--models 1,2,3,4] [--code-sizes 2,4,8,16] [--threads 1,2]
       [--reps 3] [--rows 1000000] [--adbench PATH] [--train-rows 20000] [--sql-rows 1000000]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ad_duckdb.chunks import row_slices
from ad_duckdb.detector import AutoEncoderDetector
from ad_duckdb.export import parity_check, to_onnx_bytes
from ad_duckdb.nn import ScoringGraph
from ad_duckdb.ortruns import make_session

HERE = Path(__file__).resolve().parent
ADBENCH = HERE.parent.parent / "shared" / "data" / "adbench" / "22_magic.gamma.npz"
UDF_ROWS = 2048


def _old_codes(self: ScoringGraph, z: torch.Tensor) -> Any:
    """``ScoringGraph.codes`` as it was (7b84be4): every member through the batched ``ae.forward``."""
    return self.ae(z)


def old_graph(graph: ScoringGraph) -> ScoringGraph:
    """A copy of ``graph`` scoring the old way (an instance attribute shadows the method, and the TorchScript
    exporter traces through it)."""
    old = copy.deepcopy(graph)
    object.__setattr__(old, "codes", types.MethodType(_old_codes, old))
    return old


@contextlib.contextmanager
def old_scoring() -> Iterator[None]:
    """Within: ``ad_duckdb.train`` exports (and parity-checks) the old graph."""
    new = ScoringGraph.codes
    ScoringGraph.codes = _old_codes  # type: ignore[method-assign]
    try:
        yield
    finally:
        ScoringGraph.codes = new  # type: ignore[method-assign]


def synthetic(n: int, d: int = 30, seed: int = 0) -> np.ndarray:
    """speed.py's rows: a 3-factor structure plus noise."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) @ rng.normal(size=(3, d)) + 0.3 * rng.normal(size=(n, d))


def torch_scores(graph: ScoringGraph, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([graph(torch.from_numpy(X[sl]))[0].numpy()
                               for sl in row_slices(len(X), graph.chunk_rows())])


def rounding(graph: ScoringGraph, X: np.ndarray, scores: np.ndarray) -> float:
    """How far the float32 ``scores`` lie from the same graph's in float64, at most."""
    g64 = copy.deepcopy(graph).double()
    g64.bank_sq = (g64.bank * g64.bank).sum(-1).unsqueeze(1)  # the float32 graph's was rounded to float32
    return float(np.max(np.abs(scores - torch_scores(g64, np.require(X, dtype=np.float64, requirements=["C"])))))


def onnx_scorer(onnx: bytes, X: np.ndarray, threads: int) -> Callable[[], np.ndarray]:
    sess = make_session(onnx, model="bench", n_features=X.shape[1], threads=threads)
    return lambda: np.concatenate([sess.run(["score"], {"x": X[sl]})[0] for sl in row_slices(len(X), UDF_ROWS)])


def best(fns: dict[str, Callable[[], Any]], reps: int) -> dict[str, float]:
    """Best warm wall time (``<name>``) and process CPU time (``<name>_cpu``) of each function, the functions
    interleaved so that load changes hit them alike. Why CPU time too: on a shared machine another process's load
    lengthens the wall time of a one-thread run, but not the CPU time it takes (with two threads, it adds theirs)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            times[k].append(time.perf_counter() - t)
            cpu[k].append(time.process_time() - c)
    return {**{k: min(v) for k, v in times.items()}, **{f"{k}_cpu": min(v) for k, v in cpu.items()}}


def bench_one(name: str, X: np.ndarray, n_models: int, threads: list[int], reps: int,
              train_rows: int, code_sizes: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"code_sizes": code_sizes} if code_sizes else {"n_models": n_models}
    det = AutoEncoderDetector(seed=0, progress=False, **params).fit(X[:train_rows])
    new = det.graph_
    old = old_graph(new)
    Xf = np.require(X, dtype=np.float32, requirements=["C", "W"])
    s_new, s_old = torch_scores(new, Xf), torch_scores(old, Xf)
    # Why a float32 allowance: a cut member's distances over fewer numbers, and its Gemms, add in another order;
    # old and new then differ by float32's own rounding (each as far from the float64 score as the other)
    if not np.allclose(s_new, s_old, rtol=1e-6, atol=2 * rounding(old, X, s_old) if code_sizes else 0.0):
        raise AssertionError(f"{name} E={n_models}: new torch scores differ from old by "
                             f"{float(np.max(np.abs(s_new - s_old))):.3g}")
    onnx_new, onnx_old = to_onnx_bytes(new, X.shape[1]), to_onnx_bytes(old, X.shape[1])
    parity_check(new, onnx_new, Xf[:50_000], model="bench")
    rows = []
    for t in threads:
        torch.set_num_threads(t)  # after the fit: training sets its own
        got = best({"torch_old": lambda: torch_scores(old, Xf), "torch_new": lambda: torch_scores(new, Xf),
                    "onnx_old": onnx_scorer(onnx_old, Xf, t), "onnx_new": onnx_scorer(onnx_new, Xf, t)}, reps)
        label = f"{n_models} code_sizes={','.join(map(str, code_sizes))}" if code_sizes else str(n_models)
        rows.append({"data": name, "rows": len(X), "E": label, "threads": t, **got,
                     "bytes_old": len(onnx_old), "bytes_new": len(onnx_new),
                     "exact": bool(np.array_equal(s_new, s_old)),
                     "rel": float(np.max(np.abs(s_new - s_old) / np.abs(s_old)))})
    return rows


HEAD = ("| data (rows) | n_models | threads | torch old | torch new | torch new/old | ONNX old | ONNX new "
        "| ONNX new/old | CPU time new/old: torch, ONNX | graph bytes old -> new | torch scores bit-equal (max rel. diff) |")


def line(r: dict[str, Any]) -> str:
    return (f"| {r['data']} ({r['rows']:,}) | {r['E']} | {r['threads']} | {r['torch_old'] * 1e3:.1f} ms "
            f"| {r['torch_new'] * 1e3:.1f} ms | x{r['torch_new'] / r['torch_old']:.2f} "
            f"| {r['onnx_old'] * 1e3:.1f} ms | {r['onnx_new'] * 1e3:.1f} ms "
            f"| x{r['onnx_new'] / r['onnx_old']:.2f} "
            f"| x{r['torch_new_cpu'] / r['torch_old_cpu']:.2f}, x{r['onnx_new_cpu'] / r['onnx_old_cpu']:.2f} "
            f"| {r['bytes_old']:,} -> {r['bytes_new']:,} | {r['exact']} ({r['rel']:.1e}) |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="1,2,3,4")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1_000_000, help="synthetic rows (0 = skip)")
    ap.add_argument("--adbench", default=str(ADBENCH), help="an ADBench .npz file ('' = skip)")
    ap.add_argument("--train-rows", type=int, default=20_000)
    ap.add_argument("--code-sizes", default="2,4,8,16", help="a code_sizes row per data set ('' = none)")
    ap.add_argument("--sql-rows", type=int, default=1_000_000, help="SQL rows x 4 columns (0 = skip)")
    args = ap.parse_args()
    data: list[tuple[str, np.ndarray]] = []
    if args.adbench:
        data.append((Path(args.adbench).stem, np.load(args.adbench)["X"].astype(np.float64)))
    if args.rows:
        data.append(("synthetic d=30", synthetic(args.rows)))
    threads = [int(t) for t in args.threads.split(",")]
    print(f"torch {torch.__version__}; best of {args.reps} warm runs; new/old measured in this run")
    print(HEAD + "\n|" + "---|" * (HEAD.count("|") - 1), flush=True)
    for name, X in data:
        for e in (int(m) for m in args.models.split(",")):
            for r in bench_one(name, X, e, threads, args.reps, args.train_rows):
                print(line(r), flush=True)
        if args.code_sizes:
            sizes = tuple(int(c) for c in args.code_sizes.split(","))
            for r in bench_one(name, X, len(sizes), threads, args.reps, args.train_rows, sizes):
                print(line(r), flush=True)
    if args.sql_rows:
        sql_bench(args.sql_rows, tuple(int(c) for c in (args.code_sizes or "2,4,8,16").split(",")), args.reps,
                  args.train_rows)


def sql_bench(n: int, sizes: tuple[int, ...], reps: int, train_rows: int) -> None:
    """``SELECT sum(anomaly_score(...))`` over ``n`` rows x 4 columns: the default model, and code_sizes stored as
    before and as now; DuckDB's default threads, wall and process CPU time, interleaved."""
    import pyarrow as pa

    import ad_duckdb

    con = ad_duckdb.connect()
    feats = [f"f{j}" for j in range(4)]
    X = synthetic(n, 4)
    con.register("__rows", pa.table({f: X[:, j] for j, f in enumerate(feats)}))
    con.execute("CREATE TABLE t AS SELECT * FROM __rows")
    con.unregister("__rows")
    common: dict[str, Any] = {"features": feats, "progress": False, "seed": 0, "max_train_rows": train_rows}
    ad_duckdb.train(con, "m_default", "t", **common)
    with old_scoring():
        ad_duckdb.train(con, "m_cs_old", "t", code_sizes=sizes, **common)
    ad_duckdb.train(con, "m_cs_new", "t", code_sizes=sizes, **common)
    args = ", ".join(feats)

    def query(m: str) -> Callable[[], float]:
        return lambda: float(con.execute(f"SELECT sum(anomaly_score('{m}', {args})) FROM t").fetchall()[0][0])

    sums = {m: query(m)() for m in ("m_cs_old", "m_cs_new")}
    if not np.isclose(sums["m_cs_old"], sums["m_cs_new"], rtol=1e-5):
        raise AssertionError(f"SQL sums differ: {sums}")
    nbytes = {m: con.execute("SELECT octet_length(onnx) FROM ad_models WHERE name = ?", [m]).fetchall()[0][0]
              for m in ("m_default", "m_cs_old", "m_cs_new")}
    got = best({m: query(m) for m in ("m_default", "m_cs_old", "m_cs_new")}, reps)
    print(f"\nSQL: SELECT sum(anomaly_score(...)) over {n:,} rows x 4 columns, DuckDB's default threads, best of "
          f"{reps}")
    print("| model | wall | CPU time | wall / default | graph bytes |\n|---|---|---|---|---|")
    for m, label in (("m_default", "default (one member)"), ("m_cs_old", f"code_sizes={sizes}, before"),
                     ("m_cs_new", f"code_sizes={sizes}, now")):
        print(f"| {label} | {got[m]:.2f} s | {got[m + '_cpu']:.2f} s | x{got[m] / got['m_default']:.2f} "
              f"| {nbytes[m]:,} |", flush=True)
    print(f"code_sizes now/before: wall x{got['m_cs_new'] / got['m_cs_old']:.2f}, "
          f"CPU x{got['m_cs_new_cpu'] / got['m_cs_old_cpu']:.2f}")


if __name__ == "__main__":
    main()
