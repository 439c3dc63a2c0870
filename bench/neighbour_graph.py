"""The neighbour term's graph: onnxruntime's throughput of the stored graph against the form it had before
2026-12-07, in one run, and the two graphs' outputs compared bit for bit.

Before, the nearest distance of each group kept an axis of one (``amin(..., keepdim=True)``), and the graph took it
away again, as it did the column of a product by a vector of ones, with ``x[..., 0]``: the TorchScript exporter
writes that as a Gather on the last axis, which onnxruntime runs as an element-by-element copy (a sixth of the whole
graph's time at d=2). Now the minimum keeps no such axis and the sums over an axis of one are ReduceSums. The values
are the same operations on the same numbers, so every score and per-feature error must be equal to the bit; the
script exits 1 where one is not.

For each column count: a default model (``AutoEncoderDetector``, 200 steps) on 20,000 random rows, both graphs
exported from it, each run over 102,400 rows (some NaN) in 2048-row runs (our UDF's batch) on one onnxruntime
thread, alternated, best of 7.

    python bench/neighbour_graph.py                 # d = 2, 4, 8, 30; at d=8 also knn_k=3, robust=False (rows
                                                    # known normal: k-means centroids), n_models=3, code_sizes
    python bench/neighbour_graph.py --dims 2 30
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from ad_duckdb import AutoEncoderDetector
from ad_duckdb import nn as adnn
from ad_duckdb.export import _export

ROWS, RUN = 102_400, 2048


def _row_sum_before(t: torch.Tensor) -> torch.Tensor:
    """nn._row_sum as it was: a width of one, and the product's column, taken with ``[..., 0]``."""
    width = t.shape[-1]
    if width == 1:
        return t[..., 0]
    if width % 4 == 0:
        return t.sum(-1)
    return torch.matmul(t, t.new_ones(width, 1))[..., 0]


class _GraphBefore(adnn.ScoringGraph):
    """The neighbour term as it was: the nearest distances [..., groups, 1], the sums over both axes."""

    def _nearest(self, part: torch.Tensor) -> torch.Tensor:
        if self.knn_k == 1:
            return torch.amin(part, dim=-1, keepdim=True)
        return torch.topk(part, self.knn_k, dim=-1, largest=False).values

    def _group_distances(self, near: torch.Tensor, h: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(torch.clamp(near + adnn._row_sum(h * h)[..., None, None], min=0.0) + eps.unsqueeze(-1))

    def _groups_mean(self, dist: torch.Tensor) -> torch.Tensor:
        return adnn._row_sum(adnn._row_sum(dist)) / (dist.shape[-1] * dist.shape[-2])


@contextlib.contextmanager
def _before(graph: Any) -> Iterator[None]:
    """``graph`` traced as the earlier code traced it (its class and nn._row_sum swapped for the block)."""
    cls, row_sum = graph.__class__, adnn._row_sum
    graph.__class__, adnn._row_sum = _GraphBefore, _row_sum_before
    try:
        yield
    finally:
        graph.__class__, adnn._row_sum = cls, row_sum


def _session(onnx: bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    return ort.InferenceSession(onnx, so, providers=["CPUExecutionProvider"])


def _run_all(sess: ort.InferenceSession, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    outs = [sess.run(None, {"x": X[i:i + RUN]}) for i in range(0, len(X), RUN)]
    return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])


def _best_seconds(sess: ort.InferenceSession, X: np.ndarray) -> float:
    t = time.perf_counter()
    for i in range(0, len(X), RUN):
        sess.run(None, {"x": X[i:i + RUN]})
    return time.perf_counter() - t


def measure(d: int, params: dict[str, Any], reps: int = 7) -> tuple[float, float, bool]:
    """(rows/s before, rows/s now, outputs equal to the bit) for a model of d columns (``params`` beside the
    defaults)."""
    rng = np.random.default_rng(d)
    train = rng.random((20_000, d)) * np.arange(1, d + 1)
    det = AutoEncoderDetector(max_steps=200, progress=False, **params).fit(train)
    now = _export(det.graph_, d)
    with _before(det.graph_):
        before = _export(det.graph_, d)
    X = (rng.random((ROWS, d)) * np.arange(1, d + 1)).astype(np.float32)
    X[::97, 0] = np.nan
    a, b = _session(before), _session(now)
    equal = all(np.array_equal(p.view(np.uint32), q.view(np.uint32))
                for p, q in zip(_run_all(a, X), _run_all(b, X), strict=True))
    ta, tb = [], []
    for _ in range(reps):
        ta.append(_best_seconds(a, X))
        tb.append(_best_seconds(b, X))
    return ROWS / min(ta), ROWS / min(tb), equal


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dims", type=int, nargs="*", default=[2, 4, 8, 30])
    args = ap.parse_args()
    torch.set_num_threads(1)
    cases: list[tuple[int, dict[str, Any]]] = [(d, {}) for d in args.dims] + [(8, {"knn_k": 3}), (8, {"robust": False}),
                                                                              (8, {"n_models": 3}), (8, {"code_sizes": (2, 4, 8, 16)})]
    print("| columns | parameters | before (rows/s) | now (rows/s) | now/before | outputs equal to the bit |")
    print("|---|---|---|---|---|---|")
    ok = True
    for d, params in cases:
        before, now, equal = measure(d, params)
        ok &= equal
        shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "default"
        print(f"| {d} | {shown} | {before / 1e6:.2f}M | {now / 1e6:.2f}M | {now / before:.2f} | {equal} |", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
