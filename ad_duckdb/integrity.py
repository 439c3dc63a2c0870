"""Static safety checks on ONNX bytes, before onnxruntime ever sees them.

A stored or imported model is data from someone else. onnxruntime will happily follow an
initializer's external-data path to any file on disk, and will load custom-operator libraries
for custom domains, so both are refused here by reading the protobuf ourselves: a small walker
over the few ModelProto / GraphProto / NodeProto / TensorProto fields that matter, with no
``onnx`` package (the scoring side installs duckdb, pyarrow, numpy and onnxruntime only).

Nothing here unpickles or executes anything: the walker only reads varints and slices bytes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

from . import onnxshapes
from .exceptions import IntegrityError, UnboundedGraphError

ALLOWED_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
# Why refused: a loop's trip count is data (a Loop's count, a Scan's rows of a [2^40, 0] tensor that takes no memory),
# so one node could run for ever in every query scoring the model, and nothing (Ctrl-C, a client's cancel,
# statement_timeout) stops onnxruntime inside a scoring call. Models ad_duckdb exports have no loops.
LOOP_OPS = frozenset({"Loop", "Scan", "SequenceMap"})
INPUT_NAME = "x"
OUTPUT_NAMES = ("score", "feature_error")
# Why a depth limit: subgraphs (If/Loop bodies) nest, and a crafted file could nest them until the
# Python stack overflows; our own models have no subgraphs at all.
MAX_DEPTH = 32
_FLOAT = 1  # TensorProto.DataType.FLOAT: a graph's input unless a column needs float64 (nn.Preprocess)
_DOUBLE = 11  # TensorProto.DataType.DOUBLE

# Wire types
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# Field numbers (onnx.proto3), only those we read.
_MODEL_OPSET, _MODEL_GRAPH, _MODEL_META, _MODEL_TRAINING, _MODEL_FUNCTIONS = 8, 7, 14, 20, 25
_OPSET_DOMAIN = 1
_GRAPH_NODE, _GRAPH_INIT, _GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_SPARSE_INIT = 1, 5, 11, 12, 15
_NODE_OP, _NODE_ATTR, _NODE_DOMAIN = 4, 5, 7
_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES = 5, 6, 10, 11, 22, 23
_TENSOR_NAME, _TENSOR_EXTERNAL, _TENSOR_LOCATION = 8, 13, 14
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_INT32, _TENSOR_INT64, _TENSOR_RAW = 1, 2, 5, 7, 9
_NODE_IN, _NODE_OUT = 1, 2
_ATTR_NAME, _ATTR_F, _ATTR_I, _ATTR_FLOATS, _ATTR_INTS = 1, 2, 3, 7, 8
_SPARSE_VALUES, _SPARSE_INDICES = 1, 2
_TRAINING_INIT, _TRAINING_ALGO = 1, 2
_VI_NAME, _VI_TYPE = 1, 2
_TYPE_TENSOR, _TT_ELEM, _TT_SHAPE, _SHAPE_DIM, _DIM_VALUE, _DIM_PARAM = 1, 1, 2, 1, 1, 2
_KV_KEY, _KV_VALUE = 1, 2
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


class _Malformed(Exception):
    """The bytes are not a well-formed protobuf message."""


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Malformed("truncated or overlong varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of one message; LEN values are zero-copy views, the rest ints."""
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise _Malformed("field number 0")
        if wire == _VARINT:
            v, pos = _varint(buf, pos)
            yield field, wire, v
        elif wire == _I64:
            if pos + 8 > n:
                raise _Malformed("truncated fixed64")
            yield field, wire, int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == _I32:
            if pos + 4 > n:
                raise _Malformed("truncated fixed32")
            yield field, wire, int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        elif wire == _LEN:
            ln, pos = _varint(buf, pos)
            if pos + ln > n:
                raise _Malformed("length-delimited field runs past the end")
            yield field, wire, buf[pos : pos + ln]
            pos += ln
        else:  # groups (3, 4) are not used by ONNX
            raise _Malformed(f"unsupported wire type {wire}")


def _sub(buf: memoryview, *numbers: int) -> Iterator[tuple[int, memoryview]]:
    """The length-delimited fields of ``buf`` whose number is in ``numbers``."""
    for f, w, v in _fields(buf):
        if f in numbers and w == _LEN:
            assert isinstance(v, memoryview)
            yield f, v


def _text(v: memoryview) -> str:
    return bytes(v).decode("utf-8", errors="replace")


def _str_field(buf: memoryview, number: int) -> str:
    out = ""
    for _, v in _sub(buf, number):
        out = _text(v)  # protobuf: the last occurrence wins
    return out


def _int_field(buf: memoryview, number: int) -> int:
    out = 0
    for f, w, v in _fields(buf):
        if f == number and w == _VARINT:
            assert isinstance(v, int)
            out = v
    return out


class _Walk:
    """Collects every refusal found while walking one model."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.problems: list[str] = []

    def tensor(self, buf: memoryview, where: str) -> None:
        name = _str_field(buf, _TENSOR_NAME) or "(unnamed)"
        external = [v for _, v in _sub(buf, _TENSOR_EXTERNAL)]
        if _int_field(buf, _TENSOR_LOCATION) == _EXTERNAL or external:
            paths = [_str_field(e, _KV_VALUE) for e in external if _str_field(e, _KV_KEY) == "location"]
            self.problems.append(
                f"tensor {name!r} in {where} refers to external data {paths or '(no location)'}; a stored model "
                "must carry its weights inside (external paths could read any file on this machine)"
            )

    def sparse(self, buf: memoryview, where: str) -> None:
        for _, t in _sub(buf, _SPARSE_VALUES, _SPARSE_INDICES):
            self.tensor(t, where)

    def node(self, buf: memoryview, where: str, depth: int) -> None:
        domain = _str_field(buf, _NODE_DOMAIN)
        op = _str_field(buf, _NODE_OP)
        if domain not in ALLOWED_DOMAINS:
            self.problems.append(
                f"node {op!r} in {where} uses operator domain {domain!r}; only the standard ONNX domains "
                f"{sorted(ALLOWED_DOMAINS)} are allowed (custom operators run native code)"
            )
        elif op in LOOP_OPS:
            self.problems.append(
                f"node {op!r} in {where} is a loop, which ad_duckdb models never contain (its number of runs is "
                "data: it could run for ever in every query that scores the model, and cannot be interrupted)"
            )
        for _, attr in _sub(buf, _NODE_ATTR):
            for f, v in _sub(attr, _ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES):
                if f in (_ATTR_T, _ATTR_TENSORS):
                    self.tensor(v, f"an attribute of node {op!r}")
                elif f in (_ATTR_SPARSE, _ATTR_SPARSES):
                    self.sparse(v, f"an attribute of node {op!r}")
                else:
                    self.graph(v, f"a subgraph of node {op!r}", depth + 1)

    def graph(self, buf: memoryview, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _Malformed(f"subgraphs nested deeper than {MAX_DEPTH}")
        for f, v in _sub(buf, _GRAPH_NODE, _GRAPH_INIT, _GRAPH_SPARSE_INIT):
            if f == _GRAPH_NODE:
                self.node(v, where, depth)
            elif f == _GRAPH_INIT:
                self.tensor(v, where)
            else:
                self.sparse(v, where)


def _value_info(buf: memoryview) -> tuple[str, int | None, list[int | str | None]]:
    """(name, element type, dims) of a ValueInfoProto; a dim is an int, a symbolic name, or None."""
    name, elem, dims = _str_field(buf, _VI_NAME), None, []
    for _, tp in _sub(buf, _VI_TYPE):
        for _, tt in _sub(tp, _TYPE_TENSOR):
            elem = _int_field(tt, _TT_ELEM)
            for _, shape in _sub(tt, _TT_SHAPE):
                dims = []
                for _, dim in _sub(shape, _SHAPE_DIM):
                    d: int | str | None = None
                    for f, w, v in _fields(dim):
                        if f == _DIM_VALUE and w == _VARINT:
                            assert isinstance(v, int)
                            d = v
                        elif f == _DIM_PARAM and w == _LEN:
                            assert isinstance(v, memoryview)
                            d = _text(v)
                    dims.append(d)
    return name, elem, dims


def _signature(graph: memoryview) -> tuple[list[tuple[str, int | None, list[int | str | None]]], list[str]]:
    """Graph inputs (without initializers, which old IR versions list as inputs too) and output names."""
    inits = {_str_field(t, _TENSOR_NAME) for _, t in _sub(graph, _GRAPH_INIT)}
    ins = [_value_info(v) for _, v in _sub(graph, _GRAPH_INPUT)]
    outs = [_str_field(v, _VI_NAME) for _, v in _sub(graph, _GRAPH_OUTPUT)]
    return [i for i in ins if i[0] not in inits], outs


def _ints(buf: memoryview, number: int) -> list[int]:
    """A repeated integer field, packed or not (protobuf accepts both)."""
    out: list[int] = []
    for f, _, v in _fields(buf):
        if f != number:
            continue
        if isinstance(v, int):
            out.append(v)
        else:
            pos = 0
            while pos < len(v):
                x, pos = _varint(v, pos)
                out.append(x)
    return [x - (1 << 64) if x >= 1 << 63 else x for x in out]


def _tensor(buf: memoryview) -> onnxshapes.Tensor:
    raw = b"".join(bytes(v) for _, v in _sub(buf, _TENSOR_RAW))
    ints = _ints(buf, _TENSOR_INT64) or _ints(buf, _TENSOR_INT32)
    return onnxshapes.tensor_of(_ints(buf, _TENSOR_DIMS), _int_field(buf, _TENSOR_TYPE), raw, ints)


def _node(buf: memoryview) -> onnxshapes.Node:
    node = onnxshapes.Node(_str_field(buf, _NODE_OP), [_text(v) for _, v in _sub(buf, _NODE_IN)],
                           [_text(v) for _, v in _sub(buf, _NODE_OUT)])
    for _, attr in _sub(buf, _NODE_ATTR):
        name = _str_field(attr, _ATTR_NAME)
        for f, w, v in _fields(attr):
            if f == _ATTR_I and w == _VARINT:
                assert isinstance(v, int)
                node.ints[name] = v - (1 << 64) if v >= 1 << 63 else v
            elif f == _ATTR_INTS:
                node.int_lists[name] = _ints(attr, _ATTR_INTS)
            elif f == _ATTR_T and isinstance(v, memoryview):
                node.tensors[name] = _tensor(v)
            elif f in (_ATTR_F, _ATTR_FLOATS):
                node.floats.add(name)
    return node


def _unbounded_node(graph: memoryview, n_features: int) -> tuple[int, onnxshapes.Node, onnxshapes.Unknown] | None:
    """The first node of the main graph whose tensors cannot be bounded before it runs (see onnxshapes), and why."""
    nodes = [_node(v) for _, v in _sub(graph, _GRAPH_NODE)]
    inits = {_str_field(v, _TENSOR_NAME): _tensor(v) for _, v in _sub(graph, _GRAPH_INIT)}
    stored = sum(onnxshapes.size(t) for t in inits.values())
    stored += sum(onnxshapes.size(t) for n in nodes if n.op == "Constant" for t in n.tensors.values())
    shapes = onnxshapes.Shapes(max(onnxshapes.MIN_BUDGET, stored))
    shapes.t.update(inits)
    shapes.t[INPUT_NAME] = onnxshapes.Tensor([(1, 1), (n_features, 0)])
    for i, node in enumerate(nodes):
        try:
            shapes.run(node)
        except onnxshapes.Unknown as e:
            return i, node, e
    return None


# (sha256 hex, n_features) of models that passed: the same bytes always pass, so one walk is enough.
_PASSED: set[tuple[str, int]] = set()
_PASSED_LOCK = threading.Lock()


def check_onnx(data: bytes, *, model: str, n_features: int, max_bytes: int | None = None) -> None:
    """Refuse ONNX bytes that are oversized, malformed, refer to external files, use custom operator
    domains or model-local functions, or whose input / outputs do not fit ``n_features``.

    Raises ``IntegrityError`` naming the model and every problem found.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise IntegrityError(
            f"Model {model!r} is {len(data)} bytes, over the limit of {max_bytes}; "
            "raise AD_DUCKDB_MAX_MODEL_BYTES if you trust it."
        )
    key = (hashlib.sha256(data).hexdigest(), n_features)
    if key in _PASSED:
        return
    walk = _Walk(model)
    view = memoryview(data)
    try:
        graphs = []
        for f, v in _sub(view, _MODEL_OPSET, _MODEL_GRAPH, _MODEL_TRAINING, _MODEL_FUNCTIONS):
            if f == _MODEL_OPSET:
                domain = _str_field(v, _OPSET_DOMAIN)
                if domain not in ALLOWED_DOMAINS:
                    walk.problems.append(
                        f"it imports operator set domain {domain!r}; only {sorted(ALLOWED_DOMAINS)} are allowed"
                    )
            elif f == _MODEL_GRAPH:
                graphs.append(v)
                walk.graph(v, "the main graph", 0)
            elif f == _MODEL_TRAINING:
                for _, g in _sub(v, _TRAINING_INIT, _TRAINING_ALGO):
                    walk.graph(g, "training_info", 1)
            else:
                name = _str_field(v, 1)
                walk.problems.append(
                    f"it defines a model-local function {name!r}; ad_duckdb models never contain functions"
                )
                for _, node in _sub(v, 7):  # FunctionProto.node
                    walk.node(node, f"function {name!r}", 1)
        if len(graphs) != 1:
            raise _Malformed(f"{len(graphs)} graphs instead of one")
        ins, outs = _signature(graphs[0])
    except _Malformed as e:
        raise IntegrityError(
            f"Model {model!r}: its bytes are not a well-formed ONNX model ({e}); the model will not be used. "
            "Re-train it or import a good copy."
        ) from None
    ok_in = (
        len(ins) == 1 and ins[0][0] == INPUT_NAME and ins[0][1] in (_DOUBLE, _FLOAT) and len(ins[0][2]) == 2
        and ins[0][2][1] == n_features and not isinstance(ins[0][2][0], int)
    )
    if not ok_in or tuple(outs) != OUTPUT_NAMES:
        shown = [(n, d) for n, _, d in ins]
        walk.problems.append(
            f"its graph takes {shown} and returns {outs}, but its feature list has {n_features} column(s); "
            f"expected one float input 'x' [n, {n_features}] and outputs {list(OUTPUT_NAMES)}"
        )
    end = ". The model will not be used; re-train it, or import a model exported by ad_duckdb."
    if walk.problems:
        raise IntegrityError(f"Model {model!r} was refused: " + "; ".join(dict.fromkeys(walk.problems)) + end)
    # Why only now: the shape walk trusts the structure checked above (no custom operators, one input x)
    found = _unbounded_node(graphs[0], n_features)
    if found:
        i, node, e = found
        output = (node.outputs or [""])[0]
        raise UnboundedGraphError(
            f"Model {model!r} was refused: node {i} ({node.op!r}, output {output!r}) cannot be bounded before it runs: "
            f"{e} (a model could then exhaust memory or run for hours in every query){end}",
            node=i, op=node.op, output=output, reason=str(e), unknown_operator=isinstance(e, onnxshapes.UnknownOperator))
    with _PASSED_LOCK:
        _PASSED.add(key)


def metadata_props(data: bytes) -> dict[str, str]:
    """ModelProto.metadata_props as a dict, read without loading the model into onnxruntime."""
    out: dict[str, str] = {}
    try:
        for _, entry in _sub(memoryview(data), _MODEL_META):
            out[_str_field(entry, _KV_KEY)] = _str_field(entry, _KV_VALUE)
    except _Malformed as e:
        raise IntegrityError(f"The model file is not a well-formed ONNX model ({e}).") from None
    return out
