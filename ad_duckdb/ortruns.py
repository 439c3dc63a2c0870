"""onnxruntime sessions of a stored model's graph, and their runs on the scoring thread pool. Never imports torch."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from . import chunks, integrity
from .exceptions import IntegrityError
from .shapley import ORT_ALIGN
from .storeload import max_model_bytes

if TYPE_CHECKING:
    import onnxruntime as ort

INPUT_NAME = integrity.INPUT_NAME
OUTPUT_NAMES = list(integrity.OUTPUT_NAMES)
# Bulk scoring splits each large batch into runs of this many rows and scores them on ``ort_pool()``, one
# single-threaded run per core. Measured at d=30 (2 cores): 6.0M rows/s this way, 2.4M with one run of
# 65536 rows on 2 intra-op threads, 3.5M with one thread; small runs also keep the intermediates in cache.
BULK_ORT_ROWS = 2048
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def ort_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="ad_duckdb-ort")
    return _POOL


def input_dtype(sess: ort.InferenceSession) -> type[np.floating[Any]]:
    """The dtype a session's input takes: float64 where a column needs it (see nn.Preprocess), else float32."""
    return np.float64 if sess.get_inputs()[0].type == "tensor(double)" else np.float32


def run_rows(row_bytes: int) -> int:
    """Rows of one onnxruntime run for a graph whose largest intermediate takes ``row_bytes`` per row (what
    ``integrity.check_onnx`` returns): BULK_ORT_ROWS, or fewer where that many rows would take more than
    chunks.CHUNK_BYTES (read at each call) in one intermediate.

    Why: at the training parameters' edge (16 members x 65,536 codes) one 2048-row run asked onnxruntime for
    8.6 GB per intermediate, in a plain SELECT. Rows are independent in the graph, so runs change only the peak.
    Fewer rows are cut to a multiple of ORT_ALIGN (from 16 rows up), so that every row starts where it would
    in a 2048-row run and scores to the same float32 digits (see ORT_ALIGN)."""
    rows = min(BULK_ORT_ROWS, chunks.rows_per_chunk(row_bytes))
    return rows - rows % ORT_ALIGN if rows >= ORT_ALIGN else rows


def pool_runs(sess: ort.InferenceSession, X: np.ndarray, outputs: list[str], rows: int = BULK_ORT_ROWS) -> list[Any]:
    """Run ``sess`` on ``X`` in runs of ``rows`` rows (``run_rows``) spread over ``ort_pool()``; one result per run.

    onnxruntime supports concurrent runs of one session, so the runs share it.
    """
    with np.errstate(over="ignore"):  # beyond float32: +-inf, which the graph clips (see to_matrix)
        X = np.ascontiguousarray(X, dtype=input_dtype(sess))
    if len(X) <= rows:
        return [run_aligned(sess, outputs, X, rows)]
    return list(ort_pool().map(lambda i: run_aligned(sess, outputs, X[i : i + rows], rows), range(0, len(X), rows)))


def run_aligned(sess: ort.InferenceSession, outputs: list[str], X: np.ndarray, rows: int) -> list[Any]:
    """``sess.run`` on ``X``, padded to a multiple of ORT_ALIGN rows with copies of its last row (dropped from
    the results), unless that would exceed ``rows``, the most one run may hold (``run_rows``: a memory bound).

    Why: onnxruntime's vectorized Log (a heavy-tailed column's signed log) computes the last rows of a run whose row
    count is not a multiple of its vector width on another path, which differs in the last float32 digits; so a row
    scored in a point lookup, or after a WHERE that left an odd number of rows, got another score than in a full
    scan, and a stored score no longer equalled the live one. Rows are independent in the graph, so the padding
    changes nothing else; it costs at most 15 rows per run."""
    n = len(X)
    pad = -n % ORT_ALIGN
    if n == 0 or pad == 0 or n + pad > rows:
        return sess.run(outputs, {INPUT_NAME: X})
    out = sess.run(outputs, {INPUT_NAME: np.concatenate([X, np.repeat(X[-1:], pad, axis=0)])})
    return [o[:n] for o in out]


def make_session(onnx: bytes, *, model: str, n_features: int, threads: int = 1) -> ort.InferenceSession:
    """A CPU session; checks that the graph's inputs and outputs are what a stored model must have."""
    return load_session(onnx, model=model, n_features=n_features, threads=threads)[0]


def load_session(onnx: bytes, *, model: str, n_features: int, threads: int = 1) -> tuple[ort.InferenceSession, int]:
    """``make_session``, and the bytes per row of the graph's largest intermediate (for ``run_rows``)."""
    # Why before onnxruntime: ORT would follow external-data paths and load custom-op domains.
    row_bytes = integrity.check_onnx(onnx, model=model, n_features=n_features, max_bytes=max_model_bytes())
    sess = _ort_session(onnx, model, threads)
    # Why again after check_onnx: this is onnxruntime's own reading of the signature; the two parsers must agree.
    ins, outs = sess.get_inputs(), sess.get_outputs()
    shape_ok = len(ins) == 1 and ins[0].name == INPUT_NAME and len(ins[0].shape) == 2
    if not shape_ok or ins[0].shape[1] != n_features or [o.name for o in outs] != OUTPUT_NAMES:
        raise IntegrityError(
            f"Model {model!r}: its ONNX graph takes {[(i.name, i.shape) for i in ins]} and returns "
            f"{[o.name for o in outs]}, but its feature list has {n_features} columns; expected input "
            f"'x' [n, {n_features}] and outputs {OUTPUT_NAMES}. The model will not be used."
        )
    return sess, row_bytes


def _ort_session(onnx: bytes, model: str, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime CPU session on bytes ``integrity.check_onnx`` has passed."""
    # Why imported here: its import is ~0.07 s of CPU, which commands that never score (``ad-duckdb --help``, list,
    # show) need not pay
    import onnxruntime as ort

    so = ort.SessionOptions()
    # Why one thread: DuckDB already runs the function on every core in parallel; ORT threads only contend.
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(onnx, sess_options=so, providers=["CPUExecutionProvider"])
    except Exception as e:
        raise IntegrityError(f"Model {model!r}: onnxruntime cannot load its ONNX graph ({e}).") from e
