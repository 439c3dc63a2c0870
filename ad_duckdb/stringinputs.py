"""Exported files whose graph takes each text feature as strings (``export_model(..., string_inputs=True)``,
``ad-duckdb export --string-inputs``), and reading the stored graph back out of one.

The stored graph takes the 0/1 inputs of each category (categorical.py), which a program feeding the file to an
ONNX runtime had to build itself. Such a file's graph takes ``numeric`` [n, numeric features] (the stored input's
float type) and one string tensor [n] per text column, and maps them itself: ``ai.onnx.ml`` LabelEncoder reads each
string as its category's number (a NULL, spelled ``NULL_TEXT``, as the first category, as SQL reads a NULL; any
other string as "any other value"), OneHot makes the 0/1 inputs, and Concat joins them into the stored graph's ``x``.

Why built by splicing protobuf bytes: the stored graph is kept byte for byte inside the file (its nodes and weights
untouched; only its ``x`` input is taken out and new nodes, constants and inputs put around it), so that import
restores exactly the stored bytes (``stored_graph``, checked by the stored ``sha256``) without the ``onnx`` package,
which a scoring-only install lacks. The metadata's ``string_inputs`` entry says which inputs are strings, and where
the splice was.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

from . import categorical
from .exceptions import BadInputError, IntegrityError
from .integrity import INPUT_NAME, OUTPUT_NAMES
from .onnxproto import (
    GRAPH_INIT,
    GRAPH_INPUT,
    GRAPH_NODE,
    GRAPH_OUTPUT,
    I32,
    I64,
    LEN,
    MODEL_GRAPH,
    MODEL_OPSET,
    NODE_OUT,
    TENSOR_NAME,
    VARINT,
    VI_NAME,
    Malformed,
    encode_varint,
    len_field,
    str_field,
    sub,
    text,
    value_info,
    varint,
)
from .optionwords import opt

KEY = "string_inputs"  # the metadata entry
NULL_TEXT = ""  # how a NULL is written in a string input: string tensors hold no NULL
NUMERIC_INPUT = "numeric"
PREFIX = "ad_duckdb_text/"  # names of the nodes and constants added around the stored graph
ML_DOMAIN, ML_OPSET = "ai.onnx.ml", 2  # LabelEncoder's keys_strings / values_int64s / default_int64
_FLOAT, _INT64, _STRING, _DOUBLE = 1, 7, 8, 11  # TensorProto.DataType
_ATTR_INT, _ATTR_STRINGS, _ATTR_INTS = 2, 8, 7  # AttributeProto.AttributeType


@dataclass(frozen=True)
class _Span:
    field: int
    start: int  # the field's first byte (its tag)
    body: int  # its value's first byte
    end: int


def _spans(buf: memoryview) -> list[_Span]:
    """The top-level fields of one message, with where each lies (``onnxproto.fields`` gives values only)."""
    out, pos = [], 0
    while pos < len(buf):
        start = pos
        key, pos = varint(buf, pos)
        wire = key & 7
        if wire == VARINT:
            _, pos = varint(buf, pos)
            body = start
        elif wire in (I64, I32):
            body, pos = pos, pos + (8 if wire == I64 else 4)
        elif wire == LEN:
            n, body = varint(buf, pos)
            pos = body + n
        else:
            raise Malformed(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise Malformed("a field runs past the end")
        out.append(_Span(key >> 3, start, body, pos))
    return out


def _int(number: int, value: int) -> bytes:
    return encode_varint(number << 3 | VARINT) + encode_varint(value)


def _text(number: int, value: str) -> bytes:
    return len_field(number, value.encode())


def _attr(name: str, kind: int, body: bytes) -> bytes:
    return len_field(5, _text(1, name) + body + _int(20, kind))  # NodeProto.attribute: name, value, type


def _node(op: str, ins: list[str], outs: list[str], name: str, attrs: bytes, domain: str = "") -> bytes:
    body = b"".join(_text(1, i) for i in ins) + b"".join(_text(2, o) for o in outs) + _text(3, name) + _text(4, op)
    return len_field(GRAPH_NODE, body + attrs + (_text(7, domain) if domain else b""))


def _tensor(name: str, dtype: int, dims: list[int], raw: bytes) -> bytes:
    return len_field(GRAPH_INIT, b"".join(_int(1, d) for d in dims) + _int(2, dtype) + _text(TENSOR_NAME, name)
                     + len_field(9, raw))


def _input(name: str, dtype: int, width: int | None) -> bytes:
    dims = len_field(1, _text(2, "n")) + (len_field(1, _int(1, width)) if width is not None else b"")
    return len_field(GRAPH_INPUT, _text(VI_NAME, name) + len_field(2, len_field(1, _int(1, dtype) + len_field(2, dims))))


def _free(name: str, used: set[str]) -> str:
    """``name``, or it with ``_text`` (and a number) added when the graph already has a tensor of that name."""
    out, i = name, 1
    while out in used:
        out, i = f"{name}_text{'' if i == 1 else i}", i + 1
    used.add(out)
    return out


def build(rec: Any) -> tuple[bytes, dict[str, Any]]:
    """The graph of ``rec`` (a ModelRecord of a text model) taking strings, and its ``string_inputs`` metadata."""
    lay = categorical.layout(rec.features)
    if lay is None:
        raise BadInputError(
            f"Model {rec.ref!r} has no text feature: its graph takes its numbers as they are ({INPUT_NAME} [n, "
            f"{len(rec.features)}]), with nothing to read as strings; export it without {opt('string_inputs', True)}.")
    for column, cats in lay.text:
        if NULL_TEXT in cats:
            raise BadInputError(
                f"Model {rec.ref!r}: text column {column!r} has the empty string '' as a training category, and a "
                "file taking strings spells a NULL as '' (string tensors hold no NULL), so the two could not be told "
                f"apart; export it without {opt('string_inputs', True)} and build the 0/1 inputs "
                "(README, \"Text columns as features\"), or train on NULLIF(" + column + ", '') to read '' as NULL.")
    model = memoryview(rec.onnx)
    try:
        spans = _spans(model)
        (graph,) = [s for s in spans if s.field == MODEL_GRAPH]
        payload = model[graph.body: graph.end]
        gspans = _spans(payload)
        (x,) = [s for s in gspans if s.field == GRAPH_INPUT]
        name, elem, _ = value_info(payload[x.body: x.end])
    except (Malformed, ValueError) as e:  # our own stored graphs have one graph of one input
        raise IntegrityError(f"Model {rec.ref!r}: its stored graph is not one ad_duckdb writes ({e}).") from e
    if name != INPUT_NAME or elem not in (_FLOAT, _DOUBLE):
        raise IntegrityError(f"Model {rec.ref!r}: its stored graph's input is {name!r}, not {INPUT_NAME!r} of floats.")
    used = {INPUT_NAME, *OUTPUT_NAMES}
    for s in gspans:
        if s.field in (GRAPH_NODE, GRAPH_INIT, GRAPH_OUTPUT):
            body = payload[s.body: s.end]
            if s.field == GRAPH_NODE:
                used.update(text(v) for _, v in sub(body, NODE_OUT))
            else:
                used.add(str_field(body, TENSOR_NAME if s.field == GRAPH_INIT else VI_NAME))
    numeric = _free(NUMERIC_INPUT, used)
    nodes, inits, inputs = [], [], [_input(numeric, elem, lay.numeric)]
    joined = [numeric]
    one = struct.pack("<2f", 0.0, 1.0)
    described: list[dict[str, Any]] = [{"name": numeric, "type": "float" if elem == _FLOAT else "double",
                                        "shape": ["n", lay.numeric], "columns": rec.feature_names[:lay.numeric]}]
    for k, (column, cats) in enumerate(lay.text):
        given = _free(column, used)
        code, onehot, depth, values = (f"{PREFIX}{k}/{w}" for w in ("code", "onehot", "depth", "values"))
        keys = b"".join(_text(9, v) for v in (NULL_TEXT, *cats))  # a NULL's spelling first: read as the first category
        nodes.append(_node("LabelEncoder", [given], [code], f"{PREFIX}{k}/LabelEncoder", _attr(
            "keys_strings", _ATTR_STRINGS, keys) + _attr("values_int64s", _ATTR_INTS, b"".join(
                _int(8, i) for i in (0, *range(len(cats))))) + _attr("default_int64", _ATTR_INT, _int(3, len(cats))),
            ML_DOMAIN))
        # Why float, then Cast: onnxruntime has no OneHot of double values ("Could not find an implementation")
        ones = onehot if elem == _FLOAT else f"{PREFIX}{k}/onehot_float"
        nodes.append(_node("OneHot", [code, depth, values], [ones], f"{PREFIX}{k}/OneHot",
                           _attr("axis", _ATTR_INT, _int(3, 1))))
        if elem != _FLOAT:
            nodes.append(_node("Cast", [ones], [onehot], f"{PREFIX}{k}/Cast", _attr("to", _ATTR_INT, _int(3, elem))))
        inits += [_tensor(depth, _INT64, [], struct.pack("<q", len(cats) + 1)), _tensor(values, _FLOAT, [2], one)]
        inputs.append(_input(given, _STRING, None))
        joined.append(onehot)
        described.append({"name": given, "type": "string", "shape": ["n"], "column": column, "categories": list(cats),
                          "null": NULL_TEXT})
    nodes.append(_node("Concat", joined, [INPUT_NAME], f"{PREFIX}Concat", _attr("axis", _ATTR_INT, _int(3, 1))))
    head, tail = b"".join(nodes), b"".join(inits) + b"".join(inputs)
    new_graph = head + payload[: x.start].tobytes() + payload[x.end:].tobytes() + tail
    opset = len_field(MODEL_OPSET, _text(1, ML_DOMAIN) + _int(2, ML_OPSET))
    data = model[: graph.start].tobytes() + len_field(MODEL_GRAPH, new_graph) + model[graph.end:].tobytes() + opset
    restore = {"graph_at": graph.start, "head": len(head), "tail": len(tail), "x_at": x.start,
               "x_input": base64.b64encode(payload[x.start: x.end]).decode(), "opset": len(opset)}
    return data, {"null": NULL_TEXT, "inputs": described, "restore": restore}


def stored_graph(data: bytes, meta: dict[str, Any]) -> bytes:
    """The stored graph inside a file's graph ``data``: ``data`` itself unless the metadata has a ``string_inputs``
    entry, else the graph ``build`` wrapped, as it was (the caller checks it against the metadata's ``sha256``)."""
    entry = meta.get(KEY)
    if entry is None:
        return data
    try:
        r = entry["restore"]
        at, head, tail, x_at, opset = (r[k] for k in ("graph_at", "head", "tail", "x_at", "opset"))
        if not all(type(v) is int and 0 <= v <= len(data) for v in (at, head, tail, x_at, opset)):
            raise ValueError("an offset out of the file")
        x = base64.b64decode(r["x_input"], validate=True)
        view = memoryview(data)
        key, body = varint(view, at)
        n, body = varint(view, body)
        if key != (MODEL_GRAPH << 3 | LEN) or body + n > len(data) - opset or head + tail > n:
            raise ValueError("the graph is not where the metadata says")
        inner = view[body + head: body + n - tail].tobytes()
        if x_at > len(inner):
            raise ValueError("the input is not where the metadata says")
        graph = inner[:x_at] + x + inner[x_at:]
        return view[:at].tobytes() + len_field(MODEL_GRAPH, graph) + view[body + n: len(data) - opset].tobytes()
    except (KeyError, TypeError, ValueError, Malformed) as e:
        raise IntegrityError(f"its {KEY} entry does not lead back to the stored graph ({e}); the file was altered. "
                             "Export it again from the database it came from.") from e


def check(rec: Any, data: bytes, meta: dict[str, Any]) -> None:
    """Refuse a file taking strings whose graph (``data``) or ``string_inputs`` entry is not what ``build`` writes of
    the graph restored from it (``rec``, checked by its sha256). Why: that graph leaves the added nodes out, so an
    edit of those alone would pass, and the file would not be the model it names for a program running it."""
    if meta.get(KEY) is None:
        return
    try:
        same = build(rec) == (data, meta[KEY])
    except (BadInputError, IntegrityError):
        same = False
    if not same:
        raise IntegrityError("its graph taking strings is not the one export writes of its model; the file was "
                             "altered. Export it again from the database it came from.")
