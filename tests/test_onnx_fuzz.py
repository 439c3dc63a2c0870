"""Hostile bytes for the ONNX reader and the shape walk: whatever the bytes, ``check_onnx`` accepts a bounded graph
or raises IntegrityError naming the model, quickly and in little memory, and never another exception.

Graphs are built with the ``onnx`` package (or by hand where it refuses), from a real exported model where the
mutation needs one; the property tests draw small random graphs of the operators the walker knows and random byte
damage to a real model.
"""

from __future__ import annotations

import random
import tracemalloc

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from ad_duckdb import integrity, onnxshapes
from ad_duckdb.exceptions import IntegrityError

_I64_MAX = (1 << 63) - 1


@pytest.fixture(scope="module")
def real() -> bytes:
    """A real exported model (two features), trained on a little data."""
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.export import to_onnx_bytes

    X = np.random.default_rng(0).normal(size=(200, 2))
    det = AutoEncoderDetector(n_models=1, max_steps=20, progress=False).fit(X)
    return to_onnx_bytes(det.graph_, 2)


def _i64(name: str, values: list[int], dims: list[int] | None = None) -> onnx.TensorProto:
    return helper.make_tensor(name, TensorProto.INT64, [len(values)] if dims is None else dims, values)


def _model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto] | None = None) -> bytes:
    """Input x [n, 2], outputs score and feature_error declared (the walk reads every node, used or not)."""
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n"]),
         helper.make_tensor_value_info("feature_error", TensorProto.FLOAT, ["n", 2])],
        initializer=inits or [])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return m.SerializeToString()


def _verdict(data: bytes, model: str = "fuzzed") -> str:
    """'passed' or 'refused'; any other exception fails the test where it happens."""
    integrity._PASSED.clear()
    try:
        integrity.check_onnx(data, model=model, n_features=2)
    except IntegrityError as e:
        assert f"Model {model!r}" in str(e), str(e)
        return "refused"
    return "passed"


def _refused(data: bytes, reason: str) -> None:
    integrity._PASSED.clear()
    with pytest.raises(IntegrityError, match=r"Model 'fuzzed'.*" + reason):
        integrity.check_onnx(data, model="fuzzed", n_features=2)


# --- damaged protobuf inside the parts only the shape walk reads ------------------------------------------------

def test_a_broken_varint_inside_a_packed_initializer_is_an_integrity_error(real: bytes) -> None:
    """int64_data is read only by the shape walk: its damage must be said as a malformed model too."""
    m = onnx.load_from_string(real)
    m.graph.initializer.append(_i64("packed", [1, 2, 3]))
    data = m.SerializeToString()
    packed = _i64("packed", [1, 2, 3]).SerializeToString()
    broken = packed.replace(b"\x01\x02\x03", b"\x01\x02\x83")  # last varint now runs past its field
    assert broken != packed
    _refused(data.replace(packed, broken), r"not a well-formed ONNX model \(truncated or overlong varint\)")


def test_an_overlong_varint_is_read_as_protobuf_does() -> None:
    """A 10-byte varint carries bits beyond 64 that protobuf drops; the walker must not see a number past int64."""
    from ad_duckdb import onnxproto

    ten = bytes([0xFF] * 9 + [0x7F])  # 2^70 - 1 on the wire, -1 as an int64
    assert onnxproto.int_list(memoryview(b"\x08" + ten), 1) == [-1]


# --- operators on shapes they do not take -------------------------------------------------------------------------

@pytest.mark.parametrize("node", [
    helper.make_node("TopK", ["s", "k1"], ["v", "i"]),
    helper.make_node("Squeeze", ["s", "ax0"], ["o"]),
    helper.make_node("Slice", ["s", "z1", "z1", "ax0"], ["o"]),
    helper.make_node("Concat", ["s", "s"], ["o"], axis=0),
    helper.make_node("Gather", ["s", "z1"], ["o"], axis=0),
    helper.make_node("ReduceSum", ["s", "ax0"], ["o"]),
], ids=lambda n: n.op_type)
def test_an_axis_of_a_scalar_is_refused(node: onnx.NodeProto) -> None:
    inits = [_i64("s", [5], dims=[]), _i64("k1", [1]), _i64("ax0", [0]), _i64("z1", [0])]
    _refused(_model([node], inits), r"axis -?\d is outside a tensor of rank 0")


@pytest.mark.parametrize("op", ["Concat", "Add", "Where", "Max"])
def test_an_operator_without_inputs_is_refused(op: str) -> None:
    _refused(_model([helper.make_node(op, [], ["o"], axis=0) if op == "Concat" else helper.make_node(op, [], ["o"])]),
             r"takes \d+ input")


@pytest.mark.parametrize("op", ["Add", "Mul", "Where"])
def test_a_binary_operator_with_an_input_too_many_is_refused(op: str) -> None:
    """Add of three tracked values called its two-argument function with three (a TypeError, found by hypothesis)."""
    _refused(_model([helper.make_node(op, ["c", "c", "c", "c"], ["o"])], [_i64("c", [1])]), r"takes \d inputs, not 4")


@pytest.mark.parametrize("starts, ends, axes, steps, reason", [
    ([0], [1], [1], [0], "a step of 0"),
    ([0, 0], [1], None, None, r"starts, ends, axes and steps of different lengths"),
    ([0], [1], [0, 1], None, r"starts, ends, axes and steps of different lengths"),
    ([0], [1], None, [1, 1], r"starts, ends, axes and steps of different lengths"),
])
def test_slice_arguments_that_do_not_fit_are_refused(starts: list[int], ends: list[int], axes: list[int] | None,
                                                     steps: list[int] | None, reason: str) -> None:
    inits = [_i64("b", starts), _i64("e", ends)]
    names = ["x", "b", "e"]
    for nm, v in (("a", axes), ("st", steps)):
        names.append(nm if v is not None else "")
        if v is not None:
            inits.append(_i64(nm, v))
    _refused(_model([helper.make_node("Slice", names, ["o"])], inits), reason)


def test_slice_to_int64_max_of_a_fixed_axis_passes() -> None:
    inits = [_i64("b", [0]), _i64("e", [_I64_MAX]), _i64("a", [1]), _i64("st", [-1])]
    assert _verdict(_model([helper.make_node("Slice", ["x", "b", "e", "a", "st"], ["o"])], inits)) == "passed"


def test_constant_of_shape_with_an_empty_fill_is_refused() -> None:
    fill = helper.make_tensor("value", TensorProto.INT64, [0], [])
    _refused(_model([helper.make_node("ConstantOfShape", ["shp"], ["o"], value=fill)], [_i64("shp", [3])]),
             r"fill value has 0 elements")


def test_values_broadcast_beyond_their_count_are_not_indexed_past_their_end() -> None:
    """[3] + [2, 1] is [2, 3]: six values, not the three the elementwise sum of the lists gives; a Gather of index 5
    of it reshaped to [6] must not read past the end."""
    inits = [_i64("a", [1, 2, 3]), _i64("b", [10, 20], dims=[2, 1]), _i64("six", [6]), _i64("i5", [5], dims=[])]
    nodes = [helper.make_node("Add", ["a", "b"], ["ab"]), helper.make_node("Reshape", ["ab", "six"], ["flat"]),
             helper.make_node("Gather", ["flat", "i5"], ["pick"], axis=0)]
    assert _verdict(_model(nodes, inits)) == "passed"


# --- sizes: bignums, hangs and memory ---------------------------------------------------------------------------

def _bounded(data: bytes, max_mib: float = 64) -> str:
    tracemalloc.start()
    try:
        verdict = _verdict(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < max_mib * 2**20 + 4 * len(data), f"{peak:,} bytes"
    return verdict


def test_repeated_squaring_of_a_value_does_not_build_a_bignum() -> None:
    """Mul(v, v) doubles the digits of a tracked value: 40 such nodes would ask for 2^40 * 63 bits."""
    nodes = [helper.make_node("Mul", [f"v{i}", f"v{i}"], [f"v{i + 1}"]) for i in range(40)]
    nodes.append(helper.make_node("Expand", ["x", "v40"], ["big"]))
    assert _bounded(_model(nodes, [_i64("v0", [3])])) == "refused"


def test_many_huge_dims_do_not_build_a_bignum() -> None:
    """A stored tensor's declared dims multiplied out: 100k dims of 2^62 is a 6-million-bit number, built one
    multiplication at a time (quadratic)."""
    assert onnxshapes.size(onnxshapes.Tensor([(1 << 62, 0)] * 100_000)) == 1 << 64  # saturated, not exact
    assert _bounded(_model([], [_declared("wide", [1 << 62] * 10_000)])) in ("passed", "refused")


def _declared(name: str, dims: list[int]) -> onnx.TensorProto:
    """A float tensor that declares ``dims`` and holds no data (the onnx package refuses to make one)."""
    t = onnx.TensorProto(name=name, data_type=TensorProto.FLOAT)
    t.dims.extend(dims)
    return t


def test_declared_sizes_without_data_do_not_raise_the_budget() -> None:
    """The per-row budget is the model's stored weights; a tensor that declares 2^40 elements and holds none must not
    let an Expand of 2^30 values per row through."""
    fake = _declared("fake", [1 << 40])
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
             helper.make_node("Concat", ["n", "wide"], ["shp"], axis=0),
             helper.make_node("Unsqueeze", ["x", "ax2"], ["x3"]),
             helper.make_node("Expand", ["x3", "shp3"], ["big"])]
    inits = [fake, _i64("i0", [0]), _i64("wide", [1 << 30]), _i64("ax2", [2]), _i64("shp3", [1, 2, 1 << 30])]
    _refused(_model(nodes, inits), r"more than the model's own")
    negative = _declared("neg", [-(1 << 31), -(1 << 31)])
    _refused(_model(nodes, [negative, *inits[1:]]), r"negative")


def _field(number: int, payload: bytes) -> bytes:
    from ad_duckdb.onnxproto import len_field

    return len_field(number, payload)


def _with_raw_nodes(nodes: list[bytes]) -> bytes:
    """A model whose extra nodes are hand-written bytes (for what the onnx package will not write)."""
    m = onnx.load_from_string(_model([]))
    graph = m.graph.SerializeToString() + b"".join(_field(1, n) for n in nodes)
    m.ClearField("graph")
    return m.SerializeToString() + _field(7, graph)


def test_a_long_unpacked_ints_attribute_is_read_in_linear_time() -> None:
    """Each element of an unpacked repeated field is its own field (the onnx package always packs, protobuf reads
    both): reading the whole list once per element is quadratic (100k elements: 10^10 steps)."""
    from ad_duckdb.onnxproto import encode_varint

    attr = _field(1, b"perm") + b"".join(b"\x40" + encode_varint(i) for i in range(100_000)) + b"\xa0\x01\x07"
    node = _field(1, b"x") + _field(2, b"o") + _field(4, b"Transpose") + _field(5, attr)
    assert _bounded(_with_raw_nodes([node])) == "refused"


def test_rank_cannot_grow_without_bound() -> None:
    """Each Unsqueeze adds as many axes as its (older opsets') axes attribute lists (20 nodes: 200 would be over the
    budget of protobuf fields, a refusal too)."""
    nodes = [helper.make_node("Unsqueeze", [f"t{i}"], [f"t{i + 1}"], axes=list(range(1000))) for i in range(20)]
    _refused(_model(nodes, [helper.make_tensor("t0", TensorProto.FLOAT, [], [1.0])]), r"has rank 1000, over 64")


def test_a_hundred_thousand_nodes_are_walked_in_bounded_memory() -> None:
    """Each node is a few bytes in the file and a few hundred in the walk's memory: a 64 MiB file of them would have
    held gigabytes for minutes."""
    relu = helper.make_node("Relu", ["x"], ["r"]).SerializeToString()
    _refused(_with_raw_nodes([relu] * 100_000), r"more than 20,000 nodes")


# --- graph structure oddities -----------------------------------------------------------------------------------

_NOT_PRODUCED = r"its input '(c|ghost)' is not produced before it"


@pytest.mark.parametrize(("case", "refusal"), [
    ("cycle", _NOT_PRODUCED), ("never_produced", _NOT_PRODUCED),
    ("same_output_twice", None),  # not SSA: onnxruntime refuses the file when it opens a session
    ("topk_k_too_large", r"k=9 does not fit axis 1 of \[n, 2\]"),
    ("gather_out_of_range", r"an index in \[7\] is outside 2 values"),
    ("concat_ranks", r"it joins shapes \[n, 2\] and \[1\]"),
    ("reshape_two_minus_one", r"its target shape has several -1"),
    ("reshape_zero_past_rank", r"a 0 in its target shape refers to no input axis"),
    ("dim_param_shape", ""),  # Expand of x to its own shape: bounded, so it passes
])
def test_odd_graphs_are_refused_or_pass_cleanly(case: str, refusal: str | None) -> None:
    inits = [_i64("k9", [9]), _i64("i7", [7], dims=[]), _i64("shp", [-1, -1]), _i64("zero3", [0, 0, 0])]
    nodes = {
        "cycle": [helper.make_node("Relu", ["c"], ["c"])],
        "never_produced": [helper.make_node("Add", ["x", "ghost"], ["o"])],
        "same_output_twice": [helper.make_node("Relu", ["x"], ["o"]), helper.make_node("Relu", ["x"], ["o"])],
        "topk_k_too_large": [helper.make_node("TopK", ["x", "k9"], ["v", "i"])],
        "gather_out_of_range": [helper.make_node("Shape", ["x"], ["s"]),
                                helper.make_node("Gather", ["s", "i7"], ["o"], axis=0)],
        "concat_ranks": [helper.make_node("Concat", ["x", "k9"], ["o"], axis=0)],
        "reshape_two_minus_one": [helper.make_node("Reshape", ["x", "shp"], ["o"])],
        "reshape_zero_past_rank": [helper.make_node("Reshape", ["x", "zero3"], ["o"])],
        "dim_param_shape": [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Expand", ["x", "s"], ["o"])],
    }[case]
    # Before: any verdict passed here, so a bound the walk stopped checking (k, an index, a -1) went unnoticed.
    if refusal is None:
        assert _verdict(_model(nodes, inits)) in ("passed", "refused")
    elif refusal:
        _refused(_model(nodes, inits), refusal)
    else:
        assert _verdict(_model(nodes, inits)) == "passed"


# --- properties ------------------------------------------------------------------------------------------------

_OPS = sorted(onnxshapes.RULES)
_ATTRS = ["axis", "keepdims", "transA", "transB", "start", "end", "allowzero", "noop_with_empty_axes"]
_EDGE = [0, 1, -1, 2, 3, 5, 64, 65, 1 << 31, _I64_MAX, -_I64_MAX - 1, (1 << 62) + 1]


@st.composite
def _graphs(draw: st.DrawFn) -> bytes:
    ints = st.one_of(st.sampled_from(_EDGE), st.integers(-4, 8))
    inits = [_i64(f"c{i}", draw(st.lists(ints, max_size=4)), dims=None) for i in range(draw(st.integers(0, 4)))]
    names = ["x", "", *(t.name for t in inits)]
    nodes = []
    for i in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(_OPS))
        ins = draw(st.lists(st.sampled_from(names), max_size=4))
        node = helper.make_node(op, ins, [f"o{i}", f"p{i}"][: draw(st.integers(1, 2))])
        for a in draw(st.lists(st.sampled_from(_ATTRS), max_size=2, unique=True)):
            node.attribute.append(helper.make_attribute(a, draw(ints)))
        if draw(st.booleans()):
            key = draw(st.sampled_from(["perm", "axes", "starts", "ends", "value_ints"]))
            node.attribute.append(helper.make_attribute(key, draw(st.lists(ints, min_size=1, max_size=4))))
        if op in ("Constant", "ConstantOfShape") and draw(st.booleans()):
            node.attribute.append(helper.make_attribute("value", _i64("v", draw(st.lists(ints, max_size=3)))))
        nodes.append(node)
        names.extend(node.output)
    return _model(nodes, inits)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_graphs())
def test_any_small_graph_of_known_operators_is_accepted_or_refused_cleanly(data: bytes) -> None:
    _verdict(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.integers(1, 6))
def test_any_damage_to_a_real_model_is_accepted_or_refused_cleanly(real: bytes, rng: random.Random,
                                                                   flips: int) -> None:
    b = bytearray(real)
    for _ in range(flips):
        pos = rng.randrange(len(b))
        b[pos] = rng.choice([0x00, 0x7F, 0x80, 0xFF, rng.randrange(256)])
    _verdict(bytes(b[: rng.choice([len(b), rng.randrange(len(b))])]))


def test_every_truncation_of_a_real_model_is_refused(real: bytes) -> None:
    for end in range(0, len(real), 7):
        assert _verdict(real[:end]) == "refused", end



# --- cost of big crafted files: a counted bound, not a timed one ------------------------------------------------

def _tensor_bytes(fields: bytes) -> bytes:
    """An initializer named 't' made of hand-written fields (unpacked, or unknown to ONNX)."""
    return _field(5, _field(8, b"t") + fields)


def _with_raw_graph_fields(extra: bytes) -> bytes:
    m = onnx.load_from_string(_model([]))
    graph = m.graph.SerializeToString() + extra
    m.ClearField("graph")
    return m.SerializeToString() + _field(7, graph)


def test_a_file_of_millions_of_tiny_fields_is_refused_within_a_budget_of_fields() -> None:
    """Two million unknown 3-byte fields in one tensor (6 MB; a file at the 64 MiB limit holds ten times more): each
    pass of the reader over them cost seconds. The reading stops once it has visited MAX_FIELDS of them."""
    from ad_duckdb import onnxproto

    data = _with_raw_graph_fields(_tensor_bytes(b"\xf8\x07\x01" * 2_000_000))
    _refused(data, r"more than 300,000 protobuf fields")
    assert onnxproto.fields_read() <= onnxproto.MAX_FIELDS + 1024


def test_a_hundred_thousand_unpacked_dims_are_refused_at_the_first_past_the_rank_limit() -> None:
    """1 MB of unpacked dims in one tensor: refused as soon as the 65th is read, not after reading them all."""
    from ad_duckdb import onnxproto
    from ad_duckdb.onnxproto import encode_varint as _varint

    dims = b"".join(b"\x08" + _varint(1 << 62) for _ in range(100_000))
    _refused(_with_raw_graph_fields(_tensor_bytes(dims)), r"tensor 't' has more than 64 dimensions")
    assert onnxproto.fields_read() < 2_000


def test_a_long_packed_list_is_decoded_only_up_to_what_is_needed_and_checked_to_its_end() -> None:
    from ad_duckdb import onnxproto
    from ad_duckdb.onnxproto import encode_varint as _varint

    packed = b"".join(_varint(300) for _ in range(1_000_000))
    field = memoryview(_field(7, packed))
    assert onnxproto.int_list(field, 7, cap=65) == [300] * 65
    damaged = memoryview(_field(7, packed[:-1]))  # the last varint now runs past its field
    with pytest.raises(onnxproto.Malformed, match="truncated or overlong varint"):
        onnxproto.int_list(damaged, 7, cap=65)
    overlong = memoryview(_field(7, packed + b"\xff" * 10 + b"\x01"))
    with pytest.raises(onnxproto.Malformed, match="truncated or overlong varint"):
        onnxproto.int_list(overlong, 7, cap=65)


@pytest.mark.parametrize("what, node, reason", [
    ("inputs", helper.make_node("Max", ["x"] * 5000, ["o"]), r"more than 4,096 inputs or outputs"),
    ("outputs", helper.make_node("Relu", ["x"], [f"o{i}" for i in range(5000)]), r"more than 4,096 inputs or outputs"),
    ("attributes", helper.make_node("Relu", ["x"], ["o"], **{f"a{i}": i for i in range(100)}),
     r"more than 64 attributes"),
    ("ints", helper.make_node("Transpose", ["x"], ["o"], perm=list(range(5000))),
     r"attribute 'perm' of node 'Transpose' lists more than 4096 integers"),
])
def test_long_lists_in_a_node_are_refused_before_they_are_built(what: str, node: onnx.NodeProto, reason: str) -> None:
    _refused(_model([node]), reason)


def test_a_genuine_model_reads_far_fewer_fields_than_the_budget(real: bytes) -> None:
    """The margin of MAX_FIELDS: an exported model reads a few thousand fields, whatever its weights' size."""
    from ad_duckdb import onnxproto

    assert _verdict(real) == "passed"
    assert 0 < onnxproto.fields_read() < onnxproto.MAX_FIELDS // 50


# --- messages stay short whatever the file holds ----------------------------------------------------------------

def _message(data: bytes) -> str:
    integrity._PASSED.clear()
    with pytest.raises(IntegrityError) as e:
        integrity.check_onnx(data, model="fuzzed", n_features=2)
    return str(e.value)


_HOSTILE_NAME = "\x1b[2J\u202e" + "A" * 1_000_000  # a terminal escape, a right-to-left override, then a megabyte


def test_names_from_the_file_are_cut_and_escaped_in_messages() -> None:
    node = helper.make_node(_HOSTILE_NAME, ["x"], ["o"], domain="evil" + _HOSTILE_NAME)
    tensor = helper.make_tensor(_HOSTILE_NAME, TensorProto.FLOAT, [1], [0.0])
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="/etc/" + _HOSTILE_NAME)
    for data in (_model([node]), _model([], [tensor])):
        msg = _message(data)
        assert len(msg) < 2_000, len(msg)
        assert "\x1b" not in msg and "\u202e" not in msg and r"\x1b[2J\u202e" in msg
        assert "A" * 60 + "…'" in msg and "A" * 90 not in msg


@pytest.mark.parametrize("where", ["op", "input", "output"])
def test_names_in_a_refusal_of_the_shape_walk_are_cut(where: str) -> None:
    """An unknown operator, an input never produced, an output the walk refuses: each quotes a name from the file."""
    node = {"op": helper.make_node(_HOSTILE_NAME, ["x"], ["o"]),
            "input": helper.make_node("Relu", [_HOSTILE_NAME], ["o"]),
            "output": helper.make_node("MatMul", ["x", "x"], [_HOSTILE_NAME])}[where]
    msg = _message(_model([node]))
    assert len(msg) < 2_000, len(msg)
    assert r"\x1b[2J\u202e" + "A" * 60 in msg and "A" * 90 not in msg


def test_only_the_first_few_problems_are_listed() -> None:
    nodes = [helper.make_node("Relu", ["x"], [f"o{i}"], domain=f"evil{i}") for i in range(500)]
    msg = _message(_model(nodes))
    assert msg.count("uses operator domain") == integrity.SHOWN_PROBLEMS
    assert "'evil0'" in msg and "'evil4'" in msg and "'evil5'" not in msg
    assert "and 495 more problems" in msg
    assert len(msg) < 2_000, len(msg)


def test_a_long_list_in_a_refusal_of_the_shape_walk_is_cut() -> None:
    """Older opsets' Slice takes its starts as an attribute: 3000 of them were all quoted."""
    msg = _message(_model([helper.make_node("Slice", ["x"], ["o"], starts=list(range(3000)), ends=[1])]))
    assert "different lengths [0, 1, 2, 3, 4, 5, 6, 7, ...], [1]" in msg
    assert len(msg) < 2_000, len(msg)
