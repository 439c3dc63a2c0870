"""anomaly_explain's coalition rows scored from the graph's scaled input on: the stored graph cut in two where its
preprocessing ends, the first part run once per explained row, the second on each of its ~8 d (or 2^d) rows.

Why: a row's explanation scores it with each subset of its values at their medians (shapley.coalitions: 1,208 rows a
row at 150 columns), and the graph's preprocessing (the median fill, signed log, scaling and clip of every value) was
55% of onnxruntime's time on those rows, though each value is one of two per column: the row's own or the median.
Preprocessing is elementwise, so a coalition row's scaled values are the explained row's or the median row's, taken
from a run of those rows alone; the rest of the graph then sees the values it saw before, and scores the same to the
bit (checked when the cut is made, on rows probing every column's range; a graph where it does not is not cut).

Read and written with ``onnxproto`` (the scoring side has no ``onnx`` package). Nothing is stored: the stored graph
and its digest stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import onnxproto as pb
from .integrity import INPUT_NAME, OUTPUT_NAMES

# ValueInfoProto's tensor element type of float32 (TensorProto.FLOAT)
_FLOAT = 1
_CUT_AT = ("Gemm", "MatMul")  # the first layer: its data input is where the preprocessing ends
_VALUE_INFO = 13  # GraphProto.value_info: the shapes of inner tensors, some of them gone from a part


def _field(number: int, wire: int, v: int | memoryview) -> bytes:
    """One field as it was read (``onnxproto.fields``), written back."""
    key = pb.encode_varint(number << 3 | wire)
    if wire == pb.LEN:
        assert isinstance(v, memoryview)
        return key + pb.encode_varint(len(v)) + bytes(v)
    assert isinstance(v, int)
    if wire == pb.VARINT:
        return key + pb.encode_varint(v)
    return key + v.to_bytes(8 if wire == pb.I64 else 4, "little")


def _renamed(node: memoryview, old: str, new: str) -> bytes:
    """A node with its input ``old`` read from ``new``."""
    parts = []
    for f, w, v in pb.fields(node):
        if f == pb.NODE_IN and w == pb.LEN and isinstance(v, memoryview) and pb.text(v) == old:
            parts.append(pb.len_field(pb.NODE_IN, new.encode()))
        else:
            parts.append(_field(f, w, v))
    return b"".join(parts)


def _input(name: str, d: int) -> bytes:
    """ValueInfoProto of a float32 [N, d] input."""
    dims = (pb.len_field(pb.SHAPE_DIM, pb.len_field(pb.DIM_PARAM, b"N"))
            + pb.len_field(pb.SHAPE_DIM, pb.encode_varint(pb.DIM_VALUE << 3 | pb.VARINT) + pb.encode_varint(d)))
    tensor = (pb.encode_varint(pb.TT_ELEM << 3 | pb.VARINT) + pb.encode_varint(_FLOAT)
              + pb.len_field(pb.TT_SHAPE, dims))
    return pb.len_field(pb.VI_NAME, name.encode()) + pb.len_field(pb.VI_TYPE, pb.len_field(pb.TYPE_TENSOR, tensor))


def cut(onnx: bytes, d: int) -> tuple[str, bytes, bytes] | None:
    """(the scaled input's tensor name, the graph up to it (its preprocessing, returning it), the graph from it on
    (taking it as its input ``x`` [N, d] float32)), or None for a graph with no clean cut: the data input of its
    first Gemm / MatMul must be the only tensor of the nodes it is made from that any other node reads, and the
    graph's input must be read by those nodes alone. Each part holds the constants its nodes read, no others (a
    large model's codes are not held three times over)."""
    with pb.field_budget():
        return _cut(onnx, d)


def _cut(onnx: bytes, d: int) -> tuple[str, bytes, bytes] | None:
    graph = next((g for _, g in pb.sub(memoryview(onnx), pb.MODEL_GRAPH)), None)
    if graph is None:
        return None
    nodes = pb.nodes(graph)
    made_by = {o: i for i, (_, _, _, outs) in enumerate(nodes) for o in outs}
    first = next((ins for _, op, ins, _ in nodes if op in _CUT_AT and ins), None)
    if first is None or first[0] not in made_by:
        return None
    z = first[0]
    pre: set[int] = set()
    todo = [made_by[z]]
    while todo:
        i = todo.pop()
        if i not in pre:
            pre.add(i)
            todo += [made_by[t] for t in nodes[i][2] if t in made_by]
    inner = {o for i in pre for o in nodes[i][3]} - {z}
    rest = [n for i, n in enumerate(nodes) if i not in pre]
    if any(t in inner or t == INPUT_NAME for _, _, ins, _ in rest for t in ins):
        return None
    head = [n for i, n in enumerate(nodes) if i in pre]
    head_model = _model(onnx, graph, [bytes(node) for node, _, _, _ in head], None, [_input(z, d)],
                        {t for _, _, ins, _ in head for t in ins})
    rest_model = _model(onnx, graph, [_renamed(node, z, INPUT_NAME) for node, _, _, _ in rest],
                        [_input(INPUT_NAME, d)], None, {t for _, _, ins, _ in rest for t in ins})
    return z, head_model, rest_model


def _model(onnx: bytes, graph: memoryview, nodes: list[bytes], inputs: list[bytes] | None,
           outputs: list[bytes] | None, read: set[str]) -> bytes:
    """``onnx`` with its graph's nodes ``nodes``, its inputs and outputs ``inputs`` / ``outputs`` (None: its own),
    and only the initializers named in ``read`` (onnxruntime warns of one no node reads)."""
    parts = []
    for f, w, v in pb.fields(graph):
        if f in (pb.GRAPH_NODE, _VALUE_INFO) or (f == pb.GRAPH_INPUT and inputs is not None) or (
                f == pb.GRAPH_OUTPUT and outputs is not None):
            continue
        if f == pb.GRAPH_INIT and isinstance(v, memoryview) and pb.str_field(v, pb.TENSOR_NAME) not in read:
            continue
        parts.append(_field(f, w, v))
    parts += [pb.len_field(pb.GRAPH_INPUT, i) for i in inputs or []]
    parts += [pb.len_field(pb.GRAPH_OUTPUT, o) for o in outputs or []]
    parts += [pb.len_field(pb.GRAPH_NODE, n) for n in nodes]
    graph_bytes = b"".join(parts)
    return b"".join(pb.len_field(pb.MODEL_GRAPH, graph_bytes) if f == pb.MODEL_GRAPH else _field(f, w, v)
                    for f, w, v in pb.fields(memoryview(onnx)))


def same_scores(full: Callable[[np.ndarray], np.ndarray], pre: Callable[[np.ndarray], np.ndarray],
                rest: Callable[[np.ndarray], np.ndarray], probe: np.ndarray) -> bool:
    """Whether coalition rows of ``probe`` (each row with every 3rd, every other, and no value at the median) score
    the same to the bit through the cut (``pre`` of the rows, ``rest`` of the scaled values) as through the whole
    graph (``full``)."""
    n, d = probe.shape
    keep = (np.arange(d)[None, :] % np.array([1, 2, 3, 5])[:, None]) != 0
    keep = np.concatenate([keep, ~keep, np.ones((1, d), dtype=bool), np.zeros((1, d), dtype=bool)])
    rows = np.where(keep[None], probe[:, None, :], np.nan).reshape(-1, d)
    Z = pre(np.concatenate([probe, np.full((1, d), np.nan, dtype=probe.dtype)]))
    zrows = np.where(keep[None], Z[:n, None, :], Z[n:][None]).reshape(-1, d)
    a, b = full(rows), rest(zrows)
    return bool(a.shape == b.shape and np.array_equal(a, b, equal_nan=True))


assert OUTPUT_NAMES[0] == "score"  # what ``rest`` is asked for
