"""The few ONNX protobuf fields ad_duckdb reads, read without the ``onnx`` package.

A small reader of the protobuf wire format (varints and length-delimited slices, zero-copy) and of the ModelProto /
GraphProto / NodeProto / TensorProto / ValueInfoProto fields that ``integrity`` checks and ``onnxshapes`` bounds. The
scoring side installs duckdb, pyarrow, numpy and onnxruntime only, so this is what reads a stored model before
onnxruntime does. Nothing here unpickles or executes anything.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import onnxshapes

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


class Malformed(Exception):
    """The bytes are not a well-formed protobuf message."""


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
    pos, n = 0, len(buf)
    while pos < n:
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
    name, elem, dims = str_field(buf, VI_NAME), None, []
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


def int_list(buf: memoryview, number: int) -> list[int]:
    """A repeated integer field, packed or not (protobuf accepts both)."""
    out: list[int] = []
    for f, _, v in fields(buf):
        if f != number:
            continue
        if isinstance(v, int):
            out.append(v)
        else:
            pos = 0
            while pos < len(v):
                x, pos = varint(v, pos)
                out.append(x)
    return [int64(x) for x in out]


def shape_tensor(buf: memoryview) -> onnxshapes.Tensor:
    dims = int_list(buf, TENSOR_DIMS)
    if any(d < 0 for d in dims):
        raise Malformed(f"tensor {str_field(buf, TENSOR_NAME)!r} has a negative dimension in {dims[:8]}")
    raw = b""
    for _, v in sub(buf, TENSOR_RAW):
        raw = v  # protobuf: the last occurrence wins, as onnxruntime reads it
    # Why cut: only small tensors' values are tracked, and a longer cut still fails their size check
    ints = int_list(buf, TENSOR_INT64) or int_list(buf, TENSOR_INT32)
    return onnxshapes.tensor_of(dims, int_field(buf, TENSOR_TYPE), bytes(raw[: onnxshapes.MAX_RAW + 1]), ints)


def shape_node(buf: memoryview) -> onnxshapes.Node:
    node = onnxshapes.Node(str_field(buf, NODE_OP), [text(v) for _, v in sub(buf, NODE_IN)],
                           [text(v) for _, v in sub(buf, NODE_OUT)])
    for _, attr in sub(buf, NODE_ATTR):
        name = str_field(attr, ATTR_NAME)
        for f, w, v in fields(attr):
            if f == ATTR_I and w == VARINT:
                assert isinstance(v, int)
                node.ints[name] = int64(v)
            elif f == ATTR_INTS and name not in node.int_lists:  # once: one call reads every element
                node.int_lists[name] = int_list(attr, ATTR_INTS)
            elif f == ATTR_T and isinstance(v, memoryview):
                node.tensors[name] = shape_tensor(v)
            elif f in (ATTR_F, ATTR_FLOATS):
                node.floats.add(name)
    return node
