"""Torch -> ONNX with the preprocessing folded in, and the parity check torch vs onnxruntime."""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import exporttemplates
from .chunks import row_slices
from .exceptions import IntegrityError, UnboundedGraphError
from .integrity import INPUT_NAME, OUTPUT_NAMES
from .torchthreads import one_thread

OPSET = 17
# The torch the Makefile pins and the tests run: its exporter writes only operators and shapes onnxshapes bounds.
# pyproject allows older torch, whose TorchScript exporter may decompose a layer into other operators.
TESTED_TORCH = "2.13.0"


# torch.onnx.export keeps global state while it runs; two exports at once (training in threads, as dbt's
# threads: N does with several training models) fail with "GLOBALS.in_onnx_export must be ...".
_EXPORT_LOCK = threading.Lock()


def to_onnx_bytes(graph: Any, n_features: int) -> bytes:
    """Export a ``ScoringGraph``: input ``x`` [N, d] (float64 when a column needs it, see nn.Preprocess, else
    float32); outputs ``score`` [N], ``feature_error`` [N, d] (float32).

    A graph of a structure exported before in this process gets that file with its own weights copied in, the bytes
    torch writes for it (``exporttemplates``): the exporter's 90 ms of CPU are a third of a small training."""
    return exporttemplates.export(graph, n_features, _locked_export)


def _locked_export(graph: Any, n_features: int) -> bytes:
    with _EXPORT_LOCK, one_thread():  # the trace is a torch pass, as small as training's (torchthreads)
        return _export(graph, n_features)


def _export(graph: Any, n_features: int) -> bytes:
    import torch

    dummy = torch.zeros((2, n_features), dtype=graph.pre.input_dtype)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # Why: the TorchScript exporter warns about its own deprecation; the graph it writes is plain ONNX.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            (dummy,),
            # Why ignored: torch's hint names a path only, but the TorchScript exporter (dynamo=False) writes to any
            # binary file object, and the bytes are wanted in memory.
            buf,  # type: ignore[arg-type]
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes={INPUT_NAME: {0: "n"}, "score": {0: "n"}, "feature_error": {0: "n"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return buf.getvalue()


def parity_check(graph: Any, onnx_bytes: bytes, X: np.ndarray, *, model: str,
                 session: Callable[[], Any] | None = None) -> float:
    """Score ``X`` with torch and with onnxruntime; raise unless they agree. Returns the max abs difference.

    ``session`` gives the onnxruntime session of ``onnx_bytes`` (default: a new one, ``ortruns.make_session``): a
    caller that scores with the graph afterwards (``ad_duckdb.train``, its training rows) checks and loads it once.
    Its three torch passes (float32, float64, the rounding bound) run in one thread, as training's (torchthreads)."""
    with one_thread():
        return _parity_check(graph, onnx_bytes, X, model=model, session=session)


def _parity_check(graph: Any, onnx_bytes: bytes, X: np.ndarray, *, model: str,
                  session: Callable[[], Any] | None) -> float:
    import torch

    from .ortruns import make_session

    Xg = np.require(np.asarray(X, dtype=np.float64 if graph.pre.input_dtype == torch.float64 else np.float32),
                    requirements=["C", "W"])
    # Both sides in the graph's row chunks: a large bank's distances are [members, rows, bank] values in each.
    slices = row_slices(len(Xg), graph.chunk_rows())
    with torch.no_grad():
        torch_out = [graph(torch.from_numpy(Xg[sl])) for sl in slices]
    ts_np = np.concatenate([s.numpy() for s, _ in torch_out])
    te_np = np.concatenate([e.numpy() for _, e in torch_out])
    # Why make_session: it runs the integrity check first, so a fresh graph too is checked before onnxruntime sees it
    try:
        sess = session() if session is not None else make_session(onnx_bytes, model=model, n_features=Xg.shape[1])
    except UnboundedGraphError as e:  # our own exporter wrote it: not a hostile file, but a torch we were not tested on
        raise IntegrityError(_exporter_mismatch(e, model, torch.__version__)) from e
    ort_out = [sess.run(list(OUTPUT_NAMES), {INPUT_NAME: Xg[sl]}) for sl in slices]
    os_ = np.concatenate([s for s, _ in ort_out])
    oe = np.concatenate([e for _, e in ort_out])
    # Why these tolerances: float32 kernels differ between torch and onnxruntime, and the latent-distance
    # term (|a|^2 - 2ab + |b|^2 under a square root) amplifies rounding near zero distance.
    scale = float(np.median(np.abs(ts_np))) if len(ts_np) else 1.0
    atol = 1e-3 * max(scale, 1e-3)
    rs, re_ = _float32_rounding(graph, Xg, slices, ts_np, te_np)
    # Why widened by float32's own rounding: where the codes lie far out (|h|^2 of 10^4, rows 80 robust units from
    # the median) that distance rounds by 10^-3 in either runtime, and a good model was refused. Each float32 pass
    # can be off from the exact score by about what torch's is; an exporter's mistake is off by far more.
    # Why also each row's own bound (ScoringGraph.neighbour_rounding): on a row whose code lies far from the bank's
    # mean but near a bank code, onnxruntime's rounding landed 5x further from the exact score than torch's (credit
    # card rows, |h|^2 of 3,080: 0.0043 on a score of 1.26, over the 0.0042 allowed), and a good model was refused.
    with torch.no_grad():
        slack = np.concatenate([graph.neighbour_rounding(torch.from_numpy(Xg[sl])).numpy() for sl in slices]) \
            if len(Xg) else np.zeros(0)
    if not (np.all(np.isclose(ts_np, os_, rtol=1e-3, atol=np.maximum(max(atol, 4 * rs), slack)))
            and np.allclose(te_np, oe, rtol=1e-3, atol=max(atol, 4 * re_))):
        diff = float(np.max(np.abs(ts_np - os_)))
        raise IntegrityError(
            f"Model {model!r}: the exported ONNX graph disagrees with the trained torch model "
            f"(max score difference {diff:.3g}); the model was not stored. Please report this with your versions."
        )
    return float(np.max(np.abs(ts_np - os_))) if len(Xg) else 0.0


def _float32_rounding(graph: Any, Xg: np.ndarray, slices: Any, scores: np.ndarray,
                      errors: np.ndarray) -> tuple[float, float]:
    """How far the float32 torch pass (``scores``, ``errors``) lies from the same graph in float64, at most over the
    rows: the rounding float32 itself carries on these rows, which onnxruntime's kernels may carry too."""
    import copy

    import torch

    g64 = copy.deepcopy(graph).double()
    X64 = np.require(Xg, dtype=np.float64, requirements=["C", "W"])
    with torch.no_grad():
        out = [g64(torch.from_numpy(X64[sl])) for sl in slices]
    if not out:
        return 0.0, 0.0
    with np.errstate(invalid="ignore"):
        ds = np.abs(scores - np.concatenate([s.numpy() for s, _ in out]))
        de = np.abs(errors - np.concatenate([e.numpy() for _, e in out]))
    # finite ones only: a row that is inf or NaN in either is the allclose comparison's to judge, not a tolerance
    return float(np.max(ds[np.isfinite(ds)], initial=0.0)), float(np.max(de[np.isfinite(de)], initial=0.0))


def _exporter_mismatch(e: UnboundedGraphError, model: str, torch_version: str) -> str:
    """Why a graph this torch just exported was refused, said as what it is: an exporter ad_duckdb was not tested on."""
    where = f"node {e.node} ({e.op!r}, output {e.output!r})"
    if e.unknown_operator:
        what = (f"wrote operator {e.op!r} at {where}, which ad_duckdb does not know (the exporter of torch "
                f"{TESTED_TORCH}, the version ad_duckdb is tested with, does not write it)")
    else:
        what = (f"wrote {where}, whose size ad_duckdb cannot work out before it runs ({e.reason}); ad_duckdb is "
                f"tested with torch {TESTED_TORCH}")
    return (f"Model {model!r}: the ONNX exporter of torch {torch_version} {what}; nothing was stored. Train with "
            f"torch {TESTED_TORCH} (pip install 'torch=={TESTED_TORCH}'), or report this with your torch version.")
