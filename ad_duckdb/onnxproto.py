"""The few ONNX protobuf fields ad_duckdb reads, read without the ``onnx`` package.

A small reader of the protobuf wire format (varints and length-delimited slices, zero-copy) and of the ModelProto /
GraphProto / NodeProto / TensorProto / ValueInfoProto fields that ``integrity`` checks and ``onnxshapes`` bounds. The
scoring side installs duckdb, pyarrow, numpy and onnxruntime only, so this is what reads a stored model before
onnxruntime does. Nothing here unpickles or executes anything.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import onnxshapes
from .onnxshapes import quote

# Wire types
VARINT, I64, LEN, I32 = 0, 1, 2, 5

# Field numbers (onnx.proto3), only those we read.
MODEL_OPSET, MODEL_GRAPH, MODEL_META, MODEL_TRAINING, MODEL_FUNCTIONS = 8, 7, 14, 20, 25
OPSET_DOMAIN = 1
GRAPH_NODE, GRAPH_INIT, GRAPH_INPUT, GRAPH_OUTPUT, GRAPH_SPARSE_INIT = 1, 5, 11, 12, 15
NODE_OP, NODE_ATTR, NODE_DOMAIN = 4, 5, 7
ATTR_T, ATTR_G, ATTR_TENSORS, ATTR_GRAPHS, ATTR_SPARSE, ATTR_SPARSES = 5, 6, 10, 11, 22, 23
TENSOR_NAME, TENSOR_EXTERNAL, TENSOR_LOCATION = 8, 13, 14
TENSOR_DIMS, TENSOR_TYPE, TENSOR_INT32, TENSOR_INT64, TENSOR_RAW = 1, 2, 5, 7, 9
NODE_IN, NODE_OUT = 1, 2
ATTR_NAME, ATTR_F, ATTR_I, ATTR_FLOATS, ATTR_INTS = 1, 2, 3, 7, 8
SPARSE_VALUES, SPARSE_INDICES = 1, 2
TRAINING_INIT, TRAINING_ALGO = 1, 2
VI_NAME, VI_TYPE = 1, 2
TYPE_TENSOR, TT_ELEM, TT_SHAPE, SHAPE_DIM, DIM_VALUE, DIM_PARAM = 1, 1, 2, 1, 1, 2
KV_KEY, KV_VALUE = 1, 2
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL
# Why these limits: each is far above what ad_duckdb's exporter writes (a few inputs and attributes per node, lists of
# axes or a shape), and each refuses a list before it is built, so a crafted node cannot hold memory or time.
MAX_NODE_NAMES = 4096  # inputs, and outputs, of one node
MAX_ATTRIBUTES = 64  # attributes of one node
MAX_ATTRIBUTE_INTS = 4096  # integers of one ints attribute


class Malformed(Exception):
    """The bytes are not a well-formed protobuf message."""


class Oversized(Malformed):
    """Well-formed, but with more fields or list elements than any ONNX model ad_duckdb reads; the message says which."""


# Why a budget of fields: every field costs the pure-Python reader about a microsecond per pass, and a file at the size
# limit made of 2-byte fields holds 32 million of them (minutes, during a query). ad_duckdb's genuine models read about
# 3,300 fields in all, whatever their size (measured: 16 members of 1555 columns, a VAE, a bank in 1024 groups; weights
# are one raw_data field per tensor), so a hundred times that is already a file no exporter of ours wrote.
MAX_FIELDS = 300_000
_CHARGE_EVERY = 1024  # fields between two charges of the budget, so that a long message is stopped part-way
_budget = threading.local()  # per thread: scoring checks models on DuckDB's threads at once


@contextmanager
def field_budget(limit: int = MAX_FIELDS) -> Iterator[None]:
    """Refuse (Oversized) a reading that visits more than ``limit`` protobuf fields in this thread."""
    _budget.left, _budget.used = limit, 0
    try:
        yield
    finally:
        _budget.left = None


def fields_read() -> int:
    """Fields visited under this thread's latest ``field_budget``: a count tests can bound, where time is noisy."""
    return int(getattr(_budget, "used", 0))


def _charge(n: int) -> None:
    left = getattr(_budget, "left", None)
    if left is None:  # read outside a budget (metadata_props: only a few top-level fields)
        return
    _budget.left, _budget.used = left - n, _budget.used + n
    if left - n < 0:
        raise Oversized(f"it has more than {MAX_FIELDS:,} protobuf fields; ad_duckdb's models have a few thousand")


def varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise Malformed("truncated or overlong varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of one message; LEN values are zero-copy views, the rest ints."""
    pos, n, seen = 0, len(buf), 0
    while pos < n:
        seen += 1
        if seen == _CHARGE_EVERY:
            _charge(seen)
            seen = 0
        key, pos = varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise Malformed("field number 0")
        if wire == VARINT:
            v, pos = varint(buf, pos)
            yield field, wire, v
        elif wire == I64:
            if pos + 8 > n:
                raise Malformed("truncated fixed64")
            yield field, wire, int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == I32:
            if pos + 4 > n:
                raise Malformed("truncated fixed32")
            yield field, wire, int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        elif wire == LEN:
            ln, pos = varint(buf, pos)
            if pos + ln > n:
                raise Malformed("length-delimited field runs past the end")
            yield field, wire, buf[pos : pos + ln]
            pos += ln
        else:  # groups (3, 4) are not used by ONNX
            raise Malformed(f"unsupported wire type {wire}")
    _charge(seen)


def encode_varint(n: int) -> bytes:
    """A non-negative int as a protobuf varint: the writing side of ``varint``."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def len_field(number: int, payload: bytes) -> bytes:
    """A length-delimited field; appended to a serialized message, protobuf merges it in (a repeated field gains
    an element, a message field merges)."""
    return encode_varint(number << 3 | LEN) + encode_varint(len(payload)) + payload


def sub(buf: memoryview, *numbers: int) -> Iterator[tuple[int, memoryview]]:
    """The length-delimited fields of ``buf`` whose number is in ``numbers``."""
    for f, w, v in fields(buf):
        if f in numbers and w == LEN:
            assert isinstance(v, memoryview)
            yield f, v


def text(v: memoryview) -> str:
    return bytes(v).decode("utf-8", errors="replace")


def str_field(buf: memoryview, number: int) -> str:
    out = ""
    for _, v in sub(buf, number):
        out = text(v)  # protobuf: the last occurrence wins
    return out


def int_field(buf: memoryview, number: int) -> int:
    out = 0
    for f, w, v in fields(buf):
        if f == number and w == VARINT:
            assert isinstance(v, int)
            out = v
    return out


def value_info(buf: memoryview) -> tuple[str, int | None, list[int | str | None]]:
    """(name, element type, dims) of a ValueInfoProto; a dim is an int, a symbolic name, or None."""
    name = str_field(buf, VI_NAME)
    elem: int | None = None
    dims: list[int | str | None] = []
    for _, tp in sub(buf, VI_TYPE):
        for _, tt in sub(tp, TYPE_TENSOR):
            elem = int_field(tt, TT_ELEM)
            for _, shape in sub(tt, TT_SHAPE):
                dims = []
                for _, dim in sub(shape, SHAPE_DIM):
                    d: int | str | None = None
                    for f, w, v in fields(dim):
                        if f == DIM_VALUE and w == VARINT:
                            assert isinstance(v, int)
                            d = v
                        elif f == DIM_PARAM and w == LEN:
                            assert isinstance(v, memoryview)
                            d = text(v)
                    dims.append(d)
    return name, elem, dims


def nodes(graph: memoryview) -> list[tuple[memoryview, str, list[str], list[str]]]:
    """Each node of a GraphProto: its bytes, operator, input names and output names."""
    out = []
    for _, node in sub(graph, GRAPH_NODE):
        op, ins, outs = "", list[str](), list[str]()
        for f, v in sub(node, NODE_OP, NODE_IN, NODE_OUT):
            if f == NODE_OP:
                op = text(v)
            else:
                (ins if f == NODE_IN else outs).append(text(v))
        out.append((node, op, ins, outs))
    return out


def signature(graph: memoryview) -> tuple[list[tuple[str, int | None, list[int | str | None]]], list[str]]:
    """Graph inputs (without initializers, which old IR versions list as inputs too) and output names."""
    inits = {str_field(t, TENSOR_NAME) for _, t in sub(graph, GRAPH_INIT)}
    ins = [value_info(v) for _, v in sub(graph, GRAPH_INPUT)]
    outs = [str_field(v, VI_NAME) for _, v in sub(graph, GRAPH_OUTPUT)]
    return [i for i in ins if i[0] not in inits], outs


def int64(x: int) -> int:
    """A varint read as protobuf reads an int64: bits past 64 dropped, the top bit the sign."""
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


# Ten bytes that all continue: a varint longer than protobuf allows (see ``varint``).
_OVERLONG = re.compile(rb"[\x80-\xff]{10}")


def _ints(v: int | memoryview, out: list[int], cap: int) -> None:
    """Append one element of a repeated integer field, packed or not (protobuf accepts both), keeping ``cap`` at most.

    Why a cap: a packed list of a million varints is one field but a million steps; past ``cap`` the callers only need
    to know that there were more, and the rest is checked for damage in C (protobuf refuses the whole file over it).
    """
    if isinstance(v, int):
        if len(out) < cap:
            out.append(int64(v))
        return
    pos = 0
    while pos < len(v) and len(out) < cap:
        x, pos = varint(v, pos)
        out.append(int64(x))
    rest = bytes(v[pos:])
    if rest and (rest[-1] & 0x80 or _OVERLONG.search(rest)):
        raise Malformed("truncated or overlong varint")


def int_list(buf: memoryview, number: int, cap: int = 1 << 62) -> list[int]:
    """A repeated integer field, packed or not, cut to ``cap`` elements."""
    out: list[int] = []
    for f, _, v in fields(buf):
        if f == number:
            _ints(v, out, cap)
    return out


@dataclass
class TensorInfo:
    """What the checks read of a TensorProto, from one pass over its fields."""

    name: str = ""
    dims: list[int] = field(default_factory=list)
    data_type: int = 0
    raw: memoryview | None = None
    int64_data: list[int] = field(default_factory=list)
    int32_data: list[int] = field(default_factory=list)
    location: int = 0
    external: list[memoryview] = field(default_factory=list)  # the first few external_data entries
    n_external: int = 0


_SHOWN_EXTERNAL = 4


def tensor(buf: memoryview) -> TensorInfo:
    """One pass over a TensorProto; more than MAX_RANK dims is refused as soon as it is seen."""
    t = TensorInfo()
    tracked = onnxshapes.SMALL + 1  # only tensors of up to SMALL values have them tracked
    for f, w, v in fields(buf):
        if f == TENSOR_DIMS:
            _ints(v, t.dims, onnxshapes.MAX_RANK + 1)
            if len(t.dims) > onnxshapes.MAX_RANK:
                # the name read so far (writers put it first): a second pass would read every dim
                raise Oversized(f"tensor {quote(t.name)} has more than {onnxshapes.MAX_RANK} dimensions; ad_duckdb's "
                                "tensors have at most 4")
        elif isinstance(v, memoryview):
            if f == TENSOR_NAME:
                t.name = text(v)  # protobuf: the last occurrence wins
            elif f == TENSOR_RAW:
                t.raw = v  # the last occurrence wins, as onnxruntime reads it
            elif f == TENSOR_EXTERNAL:
                t.n_external += 1
                if len(t.external) < _SHOWN_EXTERNAL:
                    t.external.append(v)
            elif f == TENSOR_INT64:
                _ints(v, t.int64_data, tracked)
            elif f == TENSOR_INT32:
                _ints(v, t.int32_data, tracked)
        elif f == TENSOR_TYPE and w == VARINT:
            t.data_type = v
        elif f == TENSOR_LOCATION and w == VARINT:
            t.location = v
        elif f == TENSOR_INT64:
            _ints(v, t.int64_data, tracked)
        elif f == TENSOR_INT32:
            _ints(v, t.int32_data, tracked)
    return t


def shape_tensor(t: TensorInfo) -> onnxshapes.Tensor:
    if any(d < 0 for d in t.dims):
        raise Malformed(f"tensor {quote(t.name)} has a negative dimension in {t.dims[:8]}")
    raw = b"" if t.raw is None else bytes(t.raw[: onnxshapes.MAX_RAW + 1])  # a longer cut still fails the size check
    return onnxshapes.tensor_of(t.dims, t.data_type, raw, t.int64_data or t.int32_data)


def shape_node(buf: memoryview) -> onnxshapes.Node:
    """One pass over a NodeProto (and one over each attribute); long lists are refused before they are built."""
    op = ""
    inputs: list[str] = []
    outputs: list[str] = []
    attrs: list[memoryview] = []
    for f, _, v in fields(buf):
        if not isinstance(v, memoryview):
            continue
        if f == NODE_OP:
            op = text(v)
        elif f in (NODE_IN, NODE_OUT):
            names = inputs if f == NODE_IN else outputs
            if len(names) == MAX_NODE_NAMES:
                raise Oversized(f"a node has more than {MAX_NODE_NAMES:,} inputs or outputs; ad_duckdb's have a few")
            names.append(text(v))
        elif f == NODE_ATTR:
            if len(attrs) == MAX_ATTRIBUTES:
                raise Oversized(f"a node has more than {MAX_ATTRIBUTES} attributes; ad_duckdb's have a few")
            attrs.append(v)
    node = onnxshapes.Node(op, inputs, outputs)
    for attr in attrs:
        ints: list[int] = []
        name, ints_seen, i, t, floats = "", False, None, None, False
        for f, w, v in fields(attr):  # values kept until the end: the name (the last one wins) may come after them
            if f == ATTR_NAME and isinstance(v, memoryview):
                name = text(v)
            elif f == ATTR_I and w == VARINT:
                assert isinstance(v, int)
                i = int64(v)
            elif f == ATTR_INTS:
                ints_seen = True
                _ints(v, ints, MAX_ATTRIBUTE_INTS + 1)
                if len(ints) > MAX_ATTRIBUTE_INTS:
                    raise Oversized(f"attribute {quote(name)} of node {quote(op)} lists more "
                                    f"than {MAX_ATTRIBUTE_INTS} integers; ad_duckdb's list a few")
            elif f == ATTR_T and isinstance(v, memoryview):
                t = v
            elif f in (ATTR_F, ATTR_FLOATS):
                floats = True
        if i is not None:
            node.ints[name] = i
        if ints_seen:
            node.int_lists[name] = ints
        if t is not None:
            node.tensors[name] = shape_tensor(tensor(t))
        if floats:
            node.floats.add(name)
    return node
