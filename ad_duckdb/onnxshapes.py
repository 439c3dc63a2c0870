"""Static cost bound of an ONNX graph: every tensor's shape worked out before onnxruntime runs it.

A small hostile graph can ask onnxruntime for huge tensors on every scored batch (``Expand`` or
``ConstantOfShape`` to [1e5, 1e5], a broadcast ``Add`` of [1e5, 1] and [1, 1e5]), or for tensors whose size is
data (``Range``, ``Tile``, a ``Reshape`` to a computed shape), and a scoring call cannot be interrupted. The
``onnx`` package's shape inference is not available here (the scoring side installs duckdb, pyarrow, numpy and
onnxruntime only), so this module infers shapes itself for the few operators ad_duckdb's exporter writes, with
the batch size as the symbol n:

- an operator outside ``RULES`` is refused (nothing ad_duckdb exports uses it);
- every output shape must be known, each dimension a monomial c * n^p (the exported reshapes and expands take
  their shape from ``Shape`` of the batch, so small integer tensors are evaluated too);
- no tensor may grow faster than the batch (p <= 1), and per row (or in all, for a constant) no tensor and no
  matrix product may exceed the model's own stored weights (``budget``): a model may cost per row what a
  genuine model of its size costs, not more.

The walk also keeps the largest tensor's values per row (``Shapes.row_values``), from which scoring sizes its
onnxruntime runs (``row_bytes``).

Nothing is executed: the walker reads the protobuf with ``onnxproto``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# A dimension or a small integer value: (c, p) meaning c * n^p, n the batch size.
Mono = tuple[int, int]
# Why a floor: a tiny model (2 features) must still be allowed its few hundred intermediate values per row.
MIN_BUDGET = 1 << 16
# All tensors and products of one row together, as a multiple of the budget: a genuine graph touches each
# weight in one product and has a few dozen per-row tensors; a file of thousands of nodes, each at the budget,
# would cost thousands of times a genuine model.
TOTAL_FACTOR = 64
SMALL = 64  # integer tensors up to this many elements have their values tracked (shapes, axes, k)
MAX_RAW = 8 * SMALL  # raw bytes of the largest tensor whose values are tracked (int64)
_INT_TYPES = {6: "<i", 7: "<q", 9: "<?"}  # TensorProto INT32, INT64, BOOL -> struct format
# Bytes per value in ``row_bytes``. Why the widest type: the walker tracks shapes, not element types, and 8 bytes
# (float64, int64: TopK's indices) bounds every type a graph here holds; float32 tensors are counted twice over.
VALUE_BYTES = 8
_I64_MAX = (1 << 63) - 1
_I64_MIN = -(1 << 63)
# Why a ceiling: element counts are products of int64 dims; past it the exact number never matters (it is over any
# budget), and a product of 100k huge dims kept exact would be a bignum of millions of digits built quadratically.
_COUNT_CAP = 1 << 64
# Why a rank limit: an Unsqueeze's axes list is as long as the file makes it, and each node could add thousands of
# axes; ad_duckdb's graphs use rank 4 at most.
MAX_RANK = 64
# Why names and lists are cut in messages: they come from the file, reach logs, SQL errors and psql, and can be
# megabytes long.
MAX_SHOWN_NAME = 80
_SHOWN_INTS = 8


def quote(name: str, limit: int = MAX_SHOWN_NAME) -> str:
    """``name`` as repr shows it (control and other unprintable characters escaped), cut to about ``limit`` characters
    with an ellipsis."""
    width, cut = 0, len(name)
    for k, ch in enumerate(name):
        width += 1 if ch.isprintable() else len(repr(ch)) - 2
        if width > limit:
            cut = k
            break
    shown = repr(name[:cut])
    return shown if cut == len(name) else shown[:-1] + "…" + shown[-1]


def _shown_ints(v: Sequence[int]) -> str:
    return "[" + ", ".join(map(str, v[:_SHOWN_INTS])) + (", ...]" if len(v) > _SHOWN_INTS else "]")


class Unknown(Exception):
    """A shape or value the walker cannot work out; the message says which."""


class UnknownOperator(Unknown):
    """An operator outside ``RULES``: from a hostile file, or from a torch exporter other than the tested one."""


@dataclass
class Tensor:
    shape: list[Mono]
    value: list[Mono] | None = None  # flat values of a small integer tensor, when known


@dataclass
class Node:
    op: str
    inputs: list[str]
    outputs: list[str]
    ints: dict[str, int] = field(default_factory=dict)
    int_lists: dict[str, list[int]] = field(default_factory=dict)
    tensors: dict[str, Tensor] = field(default_factory=dict)
    floats: set[str] = field(default_factory=set)  # names of float / float-list attributes (Constant)


def _count(shape: Sequence[Mono]) -> Mono:
    c, p = 1, 0
    for dc, dp in shape:
        c, p = min(c * dc, _COUNT_CAP), p + dp
    return c, p


def _show(shape: Sequence[Mono]) -> str:
    return "[" + ", ".join(str(c) if p == 0 else ("n" if c == 1 and p == 1 else f"{c}*n^{p}") for c, p in shape) + "]"


def _const(v: Mono, what: str) -> int:
    if v[1] != 0:
        raise Unknown(f"{what} depends on the batch size")
    return v[0]


def _axis(a: int, rank: int) -> int:
    if not -rank <= a < rank:
        raise Unknown(f"axis {a} is outside a tensor of rank {rank}")
    return a % rank


def _broadcast(shapes: Sequence[list[Mono]]) -> list[Mono]:
    rank = max(len(s) for s in shapes)
    out: list[Mono] = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0} - {(1, 0)}
        if len(dims) > 1:
            raise Unknown(f"shapes {' and '.join(_show(s) for s in shapes)} do not broadcast")
        out.append(dims.pop() if dims else (1, 0))
    return out


def _elementwise(vals: Sequence[list[Mono] | None], fn: Callable[..., int]) -> list[Mono] | None:
    if any(v is None for v in vals):
        return None
    vs = [v for v in vals if v is not None]
    size = max(len(v) for v in vs)
    if any(len(v) not in (1, size) for v in vs) or any(x[1] for v in vs for x in v):
        return None
    out = [int(fn(*(v[0 if len(v) == 1 else i][0] for v in vs))) for i in range(size)]
    # Why: onnxruntime's integers are int64, and a chain of Mul(v, v) would double a Python int's digits per node
    if any(not _I64_MIN <= x <= _I64_MAX for x in out):
        return None
    return [(x, 0) for x in out]


class Shapes:
    """Walks one graph's nodes in order and keeps every tensor's shape (and small integer values)."""

    def __init__(self, budget: int) -> None:
        self.t: dict[str, Tensor] = {"": Tensor([])}  # "" is an omitted optional input
        self.budget = budget
        self.total = 0
        self.row_values = 0  # values per row of the largest tensor that grows with the batch

    def get(self, node: Node, i: int) -> Tensor | None:
        if i >= len(node.inputs) or node.inputs[i] == "":
            return None
        name = node.inputs[i]
        if name not in self.t:
            raise Unknown(f"its input {quote(name)} is not produced before it")
        return self.t[name]

    def need(self, node: Node, i: int) -> Tensor:
        t = self.get(node, i)
        if t is None:
            raise Unknown(f"its input {i} is missing")
        return t

    def ints_of(self, node: Node, i: int, attr: str) -> list[int] | None:
        """Axes / pads style integers: from attribute ``attr`` (older opsets) or input ``i``; None when absent."""
        if attr in node.int_lists:
            return node.int_lists[attr]
        t = self.get(node, i)
        if t is None:
            return None
        if t.value is None:
            raise Unknown(f"its {attr} come from data, not from the model")
        return [_const(v, attr) for v in t.value]

    def check(self, shape: list[Mono], what: str, cost: Mono | None = None) -> None:
        if len(shape) > MAX_RANK:
            raise Unknown(f"{what} has rank {len(shape)}, over {MAX_RANK}")
        for (c, p), unit in ((_count(shape), "values"), (cost or (0, 0), "multiplications")):
            if p > 1:
                raise Unknown(f"{what} grows with the square of the batch size ({_show(shape)})")
            if c > self.budget:
                per = "per row" if p else "in all"
                raise Unknown(f"{what} needs {c:,} {unit} {per} ({_show(shape)}), more than the model's own "
                              f"{self.budget:,} stored weights allow")
            self.total += c
        values = _count(shape)
        if values[1] == 1:
            self.row_values = max(self.row_values, values[0])
        if self.total > TOTAL_FACTOR * self.budget:
            raise Unknown(f"the graph up to it needs {self.total:,} values per row, over {TOTAL_FACTOR} times "
                          f"the model's {self.budget:,} stored weights")

    def run(self, node: Node) -> None:
        rule = RULES.get(node.op)
        if rule is None:
            raise UnknownOperator("ad_duckdb models never use this operator")
        outs = rule(self, node)
        for name, t in zip(node.outputs, outs, strict=False):
            if name:
                self.check(t.shape, f"output {quote(name)}")
                # Why: a value list is indexed as the tensor's flat values, so it must have exactly their count
                if t.value is not None and (len(t.value) > SMALL or _count(t.shape) != (len(t.value), 0)):
                    t = Tensor(t.shape)
                self.t[name] = t


def _same(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    return [Tensor(list(t.shape), t.value if n.op in ("Cast", "Identity") else None)]


_FNS: dict[str, Callable[..., int]] = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Equal": lambda a, b: a == b, "Where": lambda c, a, b: a if c else b,
}


def _inputs(s: Shapes, n: Node, least: int) -> list[Tensor]:
    if len(n.inputs) < least:
        raise Unknown(f"it takes {least} input(s), not {len(n.inputs)}")
    return [s.need(n, i) for i in range(len(n.inputs))]


def _pointwise(s: Shapes, n: Node) -> list[Tensor]:
    least = 3 if n.op == "Where" else 1 if n.op in ("Max", "Min") else 2
    if n.op not in ("Max", "Min") and len(n.inputs) > least:  # only Max and Min are variadic
        raise Unknown(f"it takes {least} inputs, not {len(n.inputs)}")
    ins = _inputs(s, n, least)
    shape = _broadcast([t.shape for t in ins])
    fn = _FNS.get(n.op)
    value = _elementwise([t.value for t in ins], fn) if fn and _count(shape) <= (SMALL, 0) else None
    return [Tensor(shape, value)]


def _matmul(s: Shapes, n: Node) -> list[Tensor]:
    a, b = list(s.need(n, 0).shape), list(s.need(n, 1).shape)
    if n.op == "Gemm":
        if len(a) != 2 or len(b) != 2:
            raise Unknown("Gemm takes two matrices")
        a = a[::-1] if n.ints.get("transA") else a
        b = b[::-1] if n.ints.get("transB") else b
    if not a or not b:
        raise Unknown("a matrix product of a scalar")
    a2, b2 = (a if len(a) > 1 else [(1, 0), *a]), (b if len(b) > 1 else [*b, (1, 0)])
    if a2[-1] != b2[-2]:
        raise Unknown(f"matrix shapes {_show(a)} and {_show(b)} do not fit")
    out = [*_broadcast([a2[:-2], b2[:-2]]), a2[-2], b2[-1]]
    if len(b) == 1:
        out.pop(-1)
    if len(a) == 1:
        out.pop(-1 if len(b) == 1 else -2)
    c = s.get(n, 2)
    if c is not None:
        _broadcast([out, c.shape])
    k = a2[-1]
    macs = _count([*out, k])
    s.check(out, f"the product of {_show(a)} and {_show(b)}", cost=macs)
    return [Tensor(out)]


def _unsqueeze(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    axes = s.ints_of(n, 1, "axes")
    if axes is None:
        raise Unknown("Unsqueeze without axes")
    rank = len(t.shape) + len(axes)
    pos = sorted(_axis(a, rank) for a in axes)
    shape = list(t.shape)
    for a in pos:
        shape.insert(a, (1, 0))
    return [Tensor(shape, t.value)]


def _squeeze(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    axes = s.ints_of(n, 1, "axes")
    drop = {_axis(a, len(t.shape)) for a in axes} if axes is not None else {
        i for i, d in enumerate(t.shape) if d == (1, 0)}
    if any(t.shape[i] != (1, 0) for i in drop):
        raise Unknown(f"it squeezes an axis that may not be 1 in {_show(t.shape)}")
    return [Tensor([d for i, d in enumerate(t.shape) if i not in drop], t.value)]


def _reduce(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    axes = s.ints_of(n, 1, "axes")
    if not axes:
        if axes is not None and n.ints.get("noop_with_empty_axes"):
            return [Tensor(list(t.shape))]
        axes = list(range(len(t.shape)))
    red = {_axis(a, len(t.shape)) for a in axes}
    keep = n.ints.get("keepdims", 1)
    return [Tensor([(1, 0) if i in red else d for i, d in enumerate(t.shape) if keep or i not in red])]


def _topk(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    k = s.ints_of(n, 1, "k")
    if not k or len(k) != 1:
        raise Unknown("TopK without a constant k")
    ax = _axis(n.ints.get("axis", -1), len(t.shape))
    if t.shape[ax][1] or not 0 <= k[0] <= t.shape[ax][0]:
        raise Unknown(f"k={k[0]} does not fit axis {ax} of {_show(t.shape)}")
    shape = [(k[0], 0) if i == ax else d for i, d in enumerate(t.shape)]
    return [Tensor(shape), Tensor(list(shape))]


def _shape(s: Shapes, n: Node) -> list[Tensor]:
    dims = s.need(n, 0).shape
    r = len(dims)
    start, end = n.ints.get("start", 0), n.ints.get("end", r)
    value = dims[max(0, start + r if start < 0 else start): max(0, end + r if end < 0 else end)]
    return [Tensor([(len(value), 0)], list(value))]


def _gather(s: Shapes, n: Node) -> list[Tensor]:
    data, idx = s.need(n, 0), s.need(n, 1)
    ax = _axis(n.ints.get("axis", 0), len(data.shape))
    shape = [*data.shape[:ax], *idx.shape, *data.shape[ax + 1:]]
    value = None
    if data.value is not None and idx.value is not None and len(data.shape) == 1:
        size = _const(data.shape[0], "gathered data")
        picks = [_const(i, "an index") for i in idx.value]
        if any(not -size <= i < size for i in picks):
            raise Unknown(f"an index in {_shown_ints(picks)} is outside {size} values")
        value = [data.value[i] for i in picks]
    return [Tensor(shape, value)]


def _add_dims(a: Mono, b: Mono) -> Mono:
    if a[1] != b[1] and a[0] and b[0]:
        raise Unknown(f"dimensions {_show([a])} and {_show([b])} add to no single term")
    return (a[0] + b[0], a[1] if a[0] else b[1])


def _concat(s: Shapes, n: Node) -> list[Tensor]:
    ins = _inputs(s, n, 1)
    rank = len(ins[0].shape)
    ax = _axis(n.ints.get("axis", 0), rank)
    shape = list(ins[0].shape)
    for t in ins[1:]:
        if len(t.shape) != rank or any(d != e for i, (d, e) in enumerate(zip(shape, t.shape, strict=True)) if i != ax):
            raise Unknown(f"it joins shapes {_show(ins[0].shape)} and {_show(t.shape)}")
        shape[ax] = _add_dims(shape[ax], t.shape[ax])
    value = None
    if rank == 1 and all(t.value is not None for t in ins):
        value = [v for t in ins for v in t.value or []]
    return [Tensor(shape, value)]


def _shape_input(s: Shapes, n: Node, i: int) -> list[Mono]:
    t = s.need(n, i)
    if t.value is None:
        raise Unknown("its target shape is computed from data, not fixed by the model or the batch size")
    return t.value


def _reshape(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    target = _shape_input(s, n, 1)
    out: list[Mono | None] = []
    for i, d in enumerate(target):
        if d == (0, 0) and not n.ints.get("allowzero"):
            if i >= len(t.shape):
                raise Unknown("a 0 in its target shape refers to no input axis")
            out.append(t.shape[i])
        elif d == (-1, 0):
            out.append(None)
        elif d[0] < 0:
            raise Unknown(f"its target shape holds {d[0]}")
        else:
            out.append(d)
    total, known = _count(t.shape), _count([d for d in out if d is not None])
    if out.count(None) > 1:
        raise Unknown("its target shape has several -1")
    if None in out:
        if known[0] == 0 or total[0] % known[0] or total[1] < known[1]:
            raise Unknown(f"{_show(t.shape)} does not reshape to {_show(target)}")
        out[out.index(None)] = (total[0] // known[0], total[1] - known[1])
    shape = [d for d in out if d is not None]
    if _count(shape) != total:
        raise Unknown(f"{_show(t.shape)} does not reshape to {_show(shape)}")
    return [Tensor(shape, t.value)]


def _expand(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    target = _shape_input(s, n, 1)
    if any(d[0] < 0 for d in target):
        raise Unknown(f"its target shape {_show(target)} has a negative size")
    return [Tensor(_broadcast([t.shape, target]))]


def _constant_of_shape(s: Shapes, n: Node) -> list[Tensor]:
    target = _shape_input(s, n, 0)
    if any(d[0] < 0 for d in target):
        raise Unknown(f"its shape {_show(target)} has a negative size")
    fill = n.tensors.get("value")
    value = None
    if fill is not None and size(fill) != 1:
        raise Unknown(f"its fill value has {size(fill)} elements, not one")
    if fill is not None and fill.value is not None and _count(target) <= (SMALL, 0):
        value = [fill.value[0]] * _count(target)[0]
    return [Tensor(list(target), value)]


def _constant(s: Shapes, n: Node) -> list[Tensor]:
    if "value" in n.tensors:
        return [n.tensors["value"]]
    if "value_int" in n.ints:
        return [Tensor([], [(n.ints["value_int"], 0)])]
    if "value_ints" in n.int_lists:
        v = n.int_lists["value_ints"]
        return [Tensor([(len(v), 0)], [(x, 0) for x in v])]
    if "value_float" in n.floats:
        return [Tensor([])]
    raise Unknown("a Constant of a kind ad_duckdb models never use")


def _slice(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    starts, ends = s.ints_of(n, 1, "starts"), s.ints_of(n, 2, "ends")
    if starts is None or ends is None:
        raise Unknown("Slice without starts and ends")
    axes = s.ints_of(n, 3, "axes") or list(range(len(starts)))
    steps = s.ints_of(n, 4, "steps") or [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise Unknown(f"starts, ends, axes and steps of different lengths {_shown_ints(starts)}, {_shown_ints(ends)}, "
                      f"{_shown_ints(axes)}, {_shown_ints(steps)}")
    shape, value = list(t.shape), t.value
    for b, e, a, st in zip(starts, ends, axes, steps, strict=True):
        ax = _axis(a, len(shape))
        if st == 0:
            raise Unknown("a step of 0")
        if shape[ax][1]:
            if not (b == 0 and e >= _I64_MAX and st == 1):
                raise Unknown(f"it slices the batch axis of {_show(t.shape)}")
            continue
        size = shape[ax][0]
        shape[ax] = (len(range(*slice(b, e, st).indices(size))), 0)
        value = value[b:e:st] if value is not None and len(t.shape) == 1 else None
    return [Tensor(shape, value)]


def _transpose(s: Shapes, n: Node) -> list[Tensor]:
    t = s.need(n, 0)
    perm = n.int_lists.get("perm", list(range(len(t.shape)))[::-1])
    if sorted(perm) != list(range(len(t.shape))):
        raise Unknown(f"perm {_shown_ints(perm)} does not fit {_show(t.shape)}")
    return [Tensor([t.shape[i] for i in perm])]


# Why Sign, Pow, Div and Identity stay although today's exporter writes none of them: graphs that older releases
# stored use them (tests/test_old_graphs.py), and a stored model must keep loading after an upgrade.
_UNARY = ("Cast", "Identity", "IsNaN", "IsInf", "Relu", "Sqrt", "Abs", "Neg", "Log", "Exp", "Sign", "Clip", "Not",
          "Reciprocal", "Sigmoid", "Tanh", "Softplus", "Floor", "Ceil")
_BINARY = ("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "LessOrEqual", "Greater",
           "GreaterOrEqual", "And", "Or", "Where")
RULES: dict[str, Callable[[Shapes, Node], list[Tensor]]] = {
    **dict.fromkeys(_UNARY, _same), **dict.fromkeys(_BINARY, _pointwise),
    "Gemm": _matmul, "MatMul": _matmul, "Unsqueeze": _unsqueeze, "Squeeze": _squeeze, "TopK": _topk,
    **dict.fromkeys(("ReduceSum", "ReduceMean", "ReduceMin", "ReduceMax"), _reduce),
    "Shape": _shape, "Gather": _gather, "Concat": _concat, "Reshape": _reshape, "Expand": _expand,
    "ConstantOfShape": _constant_of_shape, "Constant": _constant, "Slice": _slice, "Transpose": _transpose,
}


def tensor_of(dims: list[int], elem_type: int, raw: bytes, ints: list[int]) -> Tensor:
    """A Tensor from a TensorProto's dims and data; small integer tensors keep their values."""
    shape = [(d, 0) for d in dims]
    size = _count(shape)[0]
    value = None
    if elem_type in _INT_TYPES and size <= SMALL:
        if raw:
            fmt = _INT_TYPES[elem_type]
            width = struct.calcsize(fmt)
            if len(raw) == size * width:
                value = [(int(x), 0) for x in struct.unpack(f"<{size}{fmt[1]}", raw)]
        elif len(ints) == size:
            value = [(x - (1 << 64) if x > _I64_MAX else x, 0) for x in ints]
    return Tensor(shape, value)


def row_bytes(row_values: int) -> int:
    """Bytes per row of a graph's largest intermediate, from ``Shapes.row_values`` (at least one)."""
    return max(1, VALUE_BYTES * row_values)


def size(t: Tensor) -> int:
    """Elements of a stored (constant) tensor."""
    return _count(t.shape)[0]
