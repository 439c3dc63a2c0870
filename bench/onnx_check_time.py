"""By hand: how long check_onnx takes on crafted files of many tiny protobuf fields (not a test: timings are noisy).

    PYTHONPATH=. .venv/bin/python bench/onnx_check_time.py
"""

from __future__ import annotations

import time

import onnx
from onnx import TensorProto, helper

from ad_duckdb import integrity
from ad_duckdb.exceptions import IntegrityError
from ad_duckdb.onnxproto import encode_varint as _varint


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _base() -> onnx.ModelProto:
    graph = helper.make_graph(
        [], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n"]),
         helper.make_tensor_value_info("feature_error", TensorProto.FLOAT, ["n", 2])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _with_graph_extra(extra: bytes) -> bytes:
    m = _base()
    graph = m.graph.SerializeToString() + extra
    m.ClearField("graph")
    return m.SerializeToString() + _field(7, graph)


def cases() -> dict[str, bytes]:
    dims = b"".join(b"\x08" + _varint(1 << 62) for _ in range(100_000))  # 1 MB of unpacked dims
    tensor = _field(8, b"t") + b"\x10\x01" + dims
    junk = b"\xf8\x07\x01" * 2_000_000  # 6 MB of an unknown varint field (127) inside a tensor
    return {
        "100k unpacked dims (1 MB)": _with_graph_extra(_field(5, tensor)),
        "2M unknown fields in a tensor (6 MB)": _with_graph_extra(_field(5, _field(8, b"t") + junk)),
        "2M unknown fields in the graph (6 MB)": _with_graph_extra(junk),
    }


if __name__ == "__main__":
    for name, data in cases().items():
        integrity._PASSED.clear()
        t0 = time.perf_counter()
        try:
            integrity.check_onnx(data, model="crafted", n_features=2)
            verdict = "passed"
        except IntegrityError as e:
            verdict = f"refused ({str(e)[:150]}...)"
        print(f"{name}: {time.perf_counter() - t0:.2f} s, {verdict}")
