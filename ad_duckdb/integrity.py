"""Static safety checks on ONNX bytes, before onnxruntime ever sees them.

A stored or imported model is data from someone else. onnxruntime will happily follow an
initializer's external-data path to any file on disk, and will load custom-operator libraries
for custom domains, so both are refused here by reading the protobuf ourselves (``onnxproto``: the
few ModelProto / GraphProto / NodeProto / TensorProto fields that matter, with no ``onnx`` package;
the scoring side installs duckdb, pyarrow, numpy and onnxruntime only). Then ``onnxshapes`` bounds
every tensor's size.

Nothing here unpickles or executes anything: the walker only reads varints and slices bytes.
"""

from __future__ import annotations

import hashlib
import threading

from . import onnxproto as pb
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
# Why a node limit: each node costs the walk a few hundred bytes and some microseconds, so a file of millions of tiny
# nodes would hold gigabytes for minutes; ad_duckdb's largest graphs have a few hundred nodes.
MAX_NODES = 20_000
# Why only the first few problems: a crafted file can hold thousands of distinct ones, and the message reaches logs,
# SQL errors and psql. Up to MAX_KEPT distinct ones are counted for "and N more"; past that the count is a floor.
SHOWN_PROBLEMS = 5
MAX_KEPT = 1000
_FLOAT = 1  # TensorProto.DataType.FLOAT: a graph's input unless a column needs float64 (nn.Preprocess)
_DOUBLE = 11  # TensorProto.DataType.DOUBLE

class _Walk:
    """Collects every refusal found while walking one model."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.problems: dict[str, None] = {}  # distinct, in the order found
        self.more = False  # problems past MAX_KEPT were found and not counted
        self.nodes = self.tensors = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_KEPT:
            self.problems[text] = None
        elif text not in self.problems:
            self.more = True

    def message(self) -> str:
        shown = "; ".join(list(self.problems)[:SHOWN_PROBLEMS])
        rest = len(self.problems) - SHOWN_PROBLEMS
        if rest > 0:
            shown += f"; and {'over ' if self.more else ''}{rest:,} more problem{'s' if rest > 1 or self.more else ''}"
        return shown

    def tensor(self, buf: memoryview, where: str) -> None:
        self.tensors += 1
        if self.tensors > MAX_NODES:
            raise pb.Oversized(f"it has more than {MAX_NODES:,} tensors; ad_duckdb's graphs have a few dozen")
        t = pb.tensor(buf)
        if t.location == pb.EXTERNAL or t.n_external:
            paths = [pb.quote(pb.str_field(e, pb.KV_VALUE)) for e in t.external
                     if pb.str_field(e, pb.KV_KEY) == "location"]
            self.problem(
                f"tensor {pb.quote(t.name or '(unnamed)')} in {where} refers to external data "
                f"[{', '.join(paths) or '(no location)'}{', ...' if t.n_external > len(t.external) else ''}]; "
                "a stored model must carry its weights inside (external paths could read any file on this machine)"
            )

    def sparse(self, buf: memoryview, where: str) -> None:
        for _, t in pb.sub(buf, pb.SPARSE_VALUES, pb.SPARSE_INDICES):
            self.tensor(t, where)

    def node(self, buf: memoryview, where: str, depth: int) -> None:
        domain, raw_op = pb.str_field(buf, pb.NODE_DOMAIN), pb.str_field(buf, pb.NODE_OP)
        op = pb.quote(raw_op)
        if domain not in ALLOWED_DOMAINS:
            self.problem(
                f"node {op} in {where} uses operator domain {pb.quote(domain)}; only the standard ONNX domains "
                f"{sorted(ALLOWED_DOMAINS)} are allowed (custom operators run native code)"
            )
        elif raw_op in LOOP_OPS:
            self.problem(
                f"node {op} in {where} is a loop, which ad_duckdb models never contain (its number of runs is "
                "data: it could run for ever in every query that scores the model, and cannot be interrupted)"
            )
        for _, attr in pb.sub(buf, pb.NODE_ATTR):
            for f, v in pb.sub(attr, pb.ATTR_T, pb.ATTR_G, pb.ATTR_TENSORS, pb.ATTR_GRAPHS, pb.ATTR_SPARSE, pb.ATTR_SPARSES):
                if f in (pb.ATTR_T, pb.ATTR_TENSORS):
                    self.tensor(v, f"an attribute of node {op}")
                elif f in (pb.ATTR_SPARSE, pb.ATTR_SPARSES):
                    self.sparse(v, f"an attribute of node {op}")
                else:
                    self.graph(v, f"a subgraph of node {op}", depth + 1)

    def graph(self, buf: memoryview, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise pb.Malformed(f"subgraphs nested deeper than {MAX_DEPTH}")
        for f, v in pb.sub(buf, pb.GRAPH_NODE, pb.GRAPH_INIT, pb.GRAPH_SPARSE_INIT):
            if f == pb.GRAPH_NODE:
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    raise pb.Oversized(f"it has more than {MAX_NODES:,} nodes; ad_duckdb's graphs have a few hundred")
                self.node(v, where, depth)
            elif f == pb.GRAPH_INIT:
                self.tensor(v, where)
            else:
                self.sparse(v, where)


def _walk_shapes(graph: memoryview, n_features: int) -> tuple[int, onnxshapes.Node, onnxshapes.Unknown] | int:
    """The first node of the main graph whose tensors cannot be bounded before it runs (see onnxshapes), and why;
    or, when every node is bounded, the values per row of the graph's largest tensor."""
    nodes = [pb.shape_node(v) for _, v in pb.sub(graph, pb.GRAPH_NODE)]
    inits = {t.name: pb.shape_tensor(t) for t in (pb.tensor(v) for _, v in pb.sub(graph, pb.GRAPH_INIT))}
    stored = sum(onnxshapes.size(t) for t in inits.values())
    stored += sum(onnxshapes.size(t) for n in nodes if n.op == "Constant" for t in n.tensors.values())
    # Why capped by the bytes: declared dims cost nothing to write, and a tensor declaring 2^40 values it does not
    # hold (never used, so onnxruntime drops it unread) would raise the budget for every other node
    stored = min(stored, 2 * len(graph))  # two int4 values per byte is the densest ONNX stores
    shapes = onnxshapes.Shapes(max(onnxshapes.MIN_BUDGET, stored))
    shapes.t.update(inits)
    shapes.t[INPUT_NAME] = onnxshapes.Tensor([(1, 1), (n_features, 0)])
    for i, node in enumerate(nodes):
        try:
            shapes.run(node)
        except onnxshapes.Unknown as e:
            return i, node, e
    return shapes.row_values


# (sha256 hex, n_features) of models that passed -> their largest intermediate's bytes per row: the same bytes
# always pass, so one walk is enough.
_PASSED: dict[tuple[str, int], int] = {}
_PASSED_LOCK = threading.Lock()


def _malformed(model: str, e: pb.Malformed) -> IntegrityError:
    if isinstance(e, pb.Oversized):
        return IntegrityError(f"Model {model!r} was refused: {e}. The model will not be used; re-train it, or import a "
                              "model exported by ad_duckdb.")
    return IntegrityError(f"Model {model!r}: its bytes are not a well-formed ONNX model ({e}); the model will not be "
                          "used. Re-train it or import a good copy.")


def check_onnx(data: bytes, *, model: str, n_features: int, max_bytes: int | None = None) -> int:
    """Refuse ONNX bytes that are oversized, malformed, refer to external files, use custom operator
    domains or model-local functions, or whose input / outputs do not fit ``n_features``.

    Raises ``IntegrityError`` naming the model and every problem found. Returns the bytes per row of the graph's
    largest intermediate (``onnxshapes.row_bytes``), by which scoring sizes its onnxruntime runs.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise IntegrityError(
            f"Model {model!r} is {len(data)} bytes, over the limit of {max_bytes}; "
            "raise AD_DUCKDB_MAX_MODEL_BYTES if you trust it."
        )
    key = (hashlib.sha256(data).hexdigest(), n_features)
    known = _PASSED.get(key)
    if known is not None:
        return known
    walk = _Walk(model)
    view = memoryview(data)
    with pb.field_budget():
        row_bytes = onnxshapes.row_bytes(_check(walk, view, model, n_features))
    with _PASSED_LOCK:
        _PASSED[key] = row_bytes
    return row_bytes


def _check(walk: _Walk, view: memoryview, model: str, n_features: int) -> int:
    """check_onnx past the size limit and the cache, inside a budget of protobuf fields; the largest tensor's values
    per row."""
    try:
        graphs = []
        for f, v in pb.sub(view, pb.MODEL_OPSET, pb.MODEL_GRAPH, pb.MODEL_TRAINING, pb.MODEL_FUNCTIONS):
            if f == pb.MODEL_OPSET:
                domain = pb.str_field(v, pb.OPSET_DOMAIN)
                if domain not in ALLOWED_DOMAINS:
                    walk.problem(
                        f"it imports operator set domain {pb.quote(domain)}; only {sorted(ALLOWED_DOMAINS)} are allowed"
                    )
            elif f == pb.MODEL_GRAPH:
                graphs.append(v)
                walk.graph(v, "the main graph", 0)
            elif f == pb.MODEL_TRAINING:
                for _, g in pb.sub(v, pb.TRAINING_INIT, pb.TRAINING_ALGO):
                    walk.graph(g, "training_info", 1)
            else:
                name = pb.quote(pb.str_field(v, 1))
                walk.problem(f"it defines a model-local function {name}; ad_duckdb models never contain functions")
                for _, node in pb.sub(v, 7):  # FunctionProto.node
                    walk.node(node, f"function {name}", 1)
        if len(graphs) != 1:
            raise pb.Malformed(f"{len(graphs)} graphs instead of one")
        ins, outs = pb.signature(graphs[0])
    except pb.Malformed as e:
        raise _malformed(model, e) from None
    ok_in = (
        len(ins) == 1 and ins[0][0] == INPUT_NAME and ins[0][1] in (_DOUBLE, _FLOAT) and len(ins[0][2]) == 2
        and ins[0][2][1] == n_features and not isinstance(ins[0][2][0], int)
    )
    if not ok_in or tuple(outs) != OUTPUT_NAMES:
        walk.problem(
            f"its graph takes {_show_inputs(ins)} and returns {_show_names(outs)}, but its feature list has {n_features} column(s); "
            f"expected one float input 'x' [n, {n_features}] and outputs {list(OUTPUT_NAMES)}"
        )
    end = ". The model will not be used; re-train it, or import a model exported by ad_duckdb."
    if walk.problems:
        raise IntegrityError(f"Model {model!r} was refused: " + walk.message() + end)
    # Why only now: the shape walk trusts the structure checked above (no custom operators, one input x)
    try:
        found = _walk_shapes(graphs[0], n_features)
    except pb.Malformed as e:  # tensors' int data and nodes' attributes are read only by the shape walk
        raise _malformed(model, e) from None
    if isinstance(found, tuple):
        i, unbounded, why = found
        output = (unbounded.outputs or [""])[0]
        raise UnboundedGraphError(
            f"Model {model!r} was refused: node {i} ({pb.quote(unbounded.op)}, output {pb.quote(output)}) cannot be "
            "bounded before it runs: "
            f"{why} (a model could then exhaust memory or run for hours in every query){end}",
            node=i, op=unbounded.op, output=output, reason=str(why),
            unknown_operator=isinstance(why, onnxshapes.UnknownOperator))
    return found


_SHOWN_NAMES = 8


def _show_names(names: list[str]) -> str:
    more = f", and {len(names) - _SHOWN_NAMES:,} more" if len(names) > _SHOWN_NAMES else ""
    return "[" + ", ".join(pb.quote(n) for n in names[:_SHOWN_NAMES]) + more + "]"


def _show_inputs(ins: list[tuple[str, int | None, list[int | str | None]]]) -> str:
    def dims(d: list[int | str | None]) -> str:
        shown = [pb.quote(x) if isinstance(x, str) else str(x) for x in d[:_SHOWN_NAMES]]
        return "[" + ", ".join(shown) + (", ..." if len(d) > _SHOWN_NAMES else "") + "]"
    more = f", and {len(ins) - _SHOWN_NAMES:,} more" if len(ins) > _SHOWN_NAMES else ""
    return "[" + ", ".join(f"({pb.quote(n)}, {dims(d)})" for n, _, d in ins[:_SHOWN_NAMES]) + more + "]"


def metadata_props(data: bytes) -> dict[str, str]:
    """ModelProto.metadata_props as a dict, read without loading the model into onnxruntime."""
    out: dict[str, str] = {}
    try:
        for _, entry in pb.sub(memoryview(data), pb.MODEL_META):
            out[pb.str_field(entry, pb.KV_KEY)] = pb.str_field(entry, pb.KV_VALUE)
    except pb.Malformed as e:
        raise IntegrityError(f"The model file is not a well-formed ONNX model ({e}).") from None
    return out
