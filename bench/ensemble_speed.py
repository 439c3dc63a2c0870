"""Scoring speed of ensembles (n_models > 1): the per-member latent-neighbour term against the batched one it replaced.

Not a test. Prints a table of warm scoring times and the ratios new/old, both measured in this run.

Before: ``ScoringGraph.knn_distance`` took every member's bank distances as one batched product over [E, rows, bank]
(``bank_sq - 2 * matmul(h, bank^T)``); ``old_knn_distance`` below keeps that code as the reference. Now each member
has its own Gemm and selection (nn.ScoringGraph.knn_distance). One member is unchanged (its graph byte-identical).

Protocol: per data set and n_models, one ``AutoEncoderDetector(n_models=E, seed=0)`` fitted on at most
``--train-rows`` rows (scoring cost does not depend on the training rows: the bank is 256 codes); the fitted graph
("new") and a copy scoring with the old term ("old"), each also exported to ONNX. Every row of the data set is
scored, warm, ``--reps`` times with old and new interleaved, best wall and best CPU time kept:
  torch  the graph in its ``chunk_rows`` chunks (as ``decision_function``), torch.set_num_threads(T)
  onnx   onnxruntime in 2048-row runs (the SQL UDF's batch), a session of T intra-op threads
Before timing, the old and new torch scores must agree to 1e-6 relative, and the new ONNX scores with torch as
export.parity_check demands (it raises otherwise).

Data: an ADBench file from the shared data (default 22_magic.gamma, 19,020 rows x 10) and ``--rows`` synthetic rows
(default 1M, d=30, speed.py's 3-factor data).

Usage: PYTHONPATH=. python bench/ensemble_speed.py [--models 1,2,3,4] [--threads 1,2] [--reps 3] [--rows 1000000]
       [--adbench PATH] [--train-rows 20000]
"""

from __future__ import annotations

import argparse
import copy
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ad_duckdb.chunks import row_slices
from ad_duckdb.detector import AutoEncoderDetector
from ad_duckdb.export import parity_check, to_onnx_bytes
from ad_duckdb.nn import ScoringGraph, _row_sum
from ad_duckdb.scoring import make_session

HERE = Path(__file__).resolve().parent
ADBENCH = HERE.parent.parent / "shared" / "data" / "adbench" / "22_magic.gamma.npz"
UDF_ROWS = 2048


def old_knn_distance(self: ScoringGraph, h: torch.Tensor) -> torch.Tensor:
    """``ScoringGraph.knn_distance`` as it was before the per-member form (e91e451), for the ratios."""
    h = h + self.code_neg_center
    if h.shape[0] == 1:
        part = torch.addmm(self.bank_sq[0], h[0], self.bank[0].t(), alpha=-2.0).unsqueeze(0)
    else:
        part = self.bank_sq - 2.0 * torch.matmul(h, self.bank.transpose(1, 2))
    part = part.reshape(part.shape[0], -1, self.bank_groups, self.bank.shape[1] // self.bank_groups)
    if self.knn_k == 1:
        near = torch.amin(part, dim=-1, keepdim=True)
    else:
        near = torch.topk(part, self.knn_k, dim=-1, largest=False).values
    near = near + _row_sum(h * h)[..., None, None]
    dist = torch.sqrt(torch.clamp(near, min=0.0) + self.knn_eps.unsqueeze(-1))
    return _row_sum(_row_sum(dist)) / (dist.shape[-1] * dist.shape[-2])


def with_old_term(graph: ScoringGraph) -> ScoringGraph:
    """A copy of ``graph`` whose latent-neighbour term is computed the old way (an instance attribute shadows the
    method, and the TorchScript exporter traces through it)."""
    old = copy.deepcopy(graph)
    object.__setattr__(old, "knn_distance", types.MethodType(old_knn_distance, old))
    return old


def synthetic(n: int, d: int = 30, seed: int = 0) -> np.ndarray:
    """speed.py's rows: a 3-factor structure plus noise."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) @ rng.normal(size=(3, d)) + 0.3 * rng.normal(size=(n, d))


def torch_scores(graph: ScoringGraph, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([graph(torch.from_numpy(X[sl]))[0].numpy()
                               for sl in row_slices(len(X), graph.chunk_rows())])


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
              train_rows: int) -> list[dict[str, Any]]:
    det = AutoEncoderDetector(n_models=n_models, seed=0, progress=False).fit(X[:train_rows])
    new = det.graph_
    old = with_old_term(new)
    Xf = np.require(X, dtype=np.float32, requirements=["C", "W"])
    s_new, s_old = torch_scores(new, Xf), torch_scores(old, Xf)
    if not np.allclose(s_new, s_old, rtol=1e-6, atol=0.0):
        raise AssertionError(f"{name} E={n_models}: new torch scores differ from old by "
                             f"{float(np.max(np.abs(s_new - s_old))):.3g}")
    onnx_new, onnx_old = to_onnx_bytes(new, X.shape[1]), to_onnx_bytes(old, X.shape[1])
    parity_check(new, onnx_new, Xf[:50_000], model="bench")
    rows = []
    for t in threads:
        torch.set_num_threads(t)  # after the fit: training sets its own
        got = best({"torch_old": lambda: torch_scores(old, Xf), "torch_new": lambda: torch_scores(new, Xf),
                    "onnx_old": onnx_scorer(onnx_old, Xf, t), "onnx_new": onnx_scorer(onnx_new, Xf, t)}, reps)
        rows.append({"data": name, "rows": len(X), "E": n_models, "threads": t, **got,
                     "bytes_old": len(onnx_old), "bytes_new": len(onnx_new),
                     "exact": bool(np.array_equal(s_new, s_old))})
    return rows


HEAD = ("| data (rows) | n_models | threads | torch old | torch new | torch new/old | ONNX old | ONNX new "
        "| ONNX new/old | CPU time new/old: torch, ONNX | graph bytes old -> new | torch scores bit-equal |")


def line(r: dict[str, Any]) -> str:
    return (f"| {r['data']} ({r['rows']:,}) | {r['E']} | {r['threads']} | {r['torch_old'] * 1e3:.1f} ms "
            f"| {r['torch_new'] * 1e3:.1f} ms | x{r['torch_new'] / r['torch_old']:.2f} "
            f"| {r['onnx_old'] * 1e3:.1f} ms | {r['onnx_new'] * 1e3:.1f} ms "
            f"| x{r['onnx_new'] / r['onnx_old']:.2f} "
            f"| x{r['torch_new_cpu'] / r['torch_old_cpu']:.2f}, x{r['onnx_new_cpu'] / r['onnx_old_cpu']:.2f} "
            f"| {r['bytes_old']:,} -> {r['bytes_new']:,} | {r['exact']} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="1,2,3,4")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1_000_000, help="synthetic rows (0 = skip)")
    ap.add_argument("--adbench", default=str(ADBENCH), help="an ADBench .npz file ('' = skip)")
    ap.add_argument("--train-rows", type=int, default=20_000)
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


if __name__ == "__main__":
    main()
