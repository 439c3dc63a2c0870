"""Hostile model files and damaged rows: each is refused with a clear error, and the process lives on.

The hostile models are crafted with the ``onnx`` package from a real trained model: external data
pointing at ``../../etc/passwd``, a custom operator domain, a model-local function, a subgraph
hiding external data, a wrong input shape, wrong output names, garbage bytes, a newer
format_version row, tampered bytes, an oversized model and malformed metadata JSON.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import ad_duckdb
from ad_duckdb import integrity, onnxfile, store, storeload, storesave, storetables
from ad_duckdb.exceptions import IntegrityError, ModelNotFoundError
from ad_duckdb.ortruns import make_session

from conftest import ROOT

PACKAGE = ROOT / "ad_duckdb"


@pytest.fixture(scope="module")
def good(mem_con: duckdb.DuckDBPyConnection) -> store.ModelRecord:
    return ad_duckdb.load_model(mem_con, "tx_ae")


def _proto(rec: store.ModelRecord) -> onnx.ModelProto:
    return onnx.load_from_string(rec.onnx)


# --- the hostile models -------------------------------------------------------------------------

def external_data(m: onnx.ModelProto) -> onnx.ModelProto:
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "64")):
        e = t.external_data.add()
        e.key, e.value = k, v
    return m


def external_location_only(m: onnx.ModelProto) -> onnx.ModelProto:
    """external_data entries without data_location=EXTERNAL: refused too (we never write either)."""
    e = m.graph.initializer[0].external_data.add()
    e.key, e.value = "location", "/etc/shadow"
    return m


def custom_domain(m: onnx.ModelProto) -> onnx.ModelProto:
    out = m.graph.output[0].name
    m.graph.node[-1].output[0] = "pre_" + out
    for n in m.graph.node:
        for i, name in enumerate(n.output):
            if name == out:
                n.output[i] = "pre_" + out
    m.graph.node.append(helper.make_node("Exec", ["pre_" + out], [out], domain="evil.custom", cmd="rm -rf /"))
    m.opset_import.append(helper.make_opsetid("evil.custom", 1))
    return m


def custom_opset_import_only(m: onnx.ModelProto) -> onnx.ModelProto:
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return m


def local_function(m: onnx.ModelProto) -> onnx.ModelProto:
    f = helper.make_function("local.fn", "Twice", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
                             [helper.make_opsetid("", 17)])
    m.functions.append(f)
    return m


def subgraph_external(m: onnx.ModelProto) -> onnx.ModelProto:
    """An If node whose branch carries an initializer with external data: the walker must descend."""
    hidden = helper.make_tensor("stolen", TensorProto.FLOAT, [4], [0.0] * 4)
    hidden.ClearField("float_data")
    hidden.data_location = TensorProto.EXTERNAL
    e = hidden.external_data.add()
    e.key, e.value = "location", "../../../root/.ssh/id_rsa"
    out_vi = helper.make_tensor_value_info("branch_out", TensorProto.FLOAT, [4])
    branch = helper.make_graph([helper.make_node("Identity", ["stolen"], ["branch_out"])], "b", [], [out_vi],
                               initializer=[hidden])
    cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
    m.graph.initializer.append(cond)
    m.graph.node.append(helper.make_node("If", ["cond"], ["unused"], then_branch=branch, else_branch=branch))
    return m


def _feeding_the_score(m: onnx.ModelProto, node: onnx.NodeProto, out: str) -> onnx.ModelProto:
    """``node``'s float output ``out`` added (times 0) to the score, so scoring must run it."""
    for n in m.graph.node:
        for i, name in enumerate(n.output):
            if name == "score":
                n.output[i] = "score_inner"
    m.graph.initializer.append(helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]))
    m.graph.node.extend([node, helper.make_node("Mul", [out, "zero"], ["nothing"]),
                         helper.make_node("Add", ["score_inner", "nothing"], ["score"])])
    return m


def endless_loop(m: onnx.ModelProto) -> onnx.ModelProto:
    """A Loop of 2^62 trips feeding the score: every query scoring the model ran for ever, and neither Ctrl-C, a
    client's cancel nor statement_timeout stops onnxruntime inside a scoring call."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"]), helper.make_node("Add", ["v_in", "one"], ["v_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [])],
        [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])])
    m.graph.initializer.extend([helper.make_tensor("trips", TensorProto.INT64, [], [2**62]),
                                helper.make_tensor("go", TensorProto.BOOL, [], [True]),
                                helper.make_tensor("v0", TensorProto.FLOAT, [], [0.0])])
    return _feeding_the_score(m, helper.make_node("Loop", ["trips", "go", "v0"], ["v_end"], body=body), "v_end")


def scan_loop(m: onnx.ModelProto) -> onnx.ModelProto:
    """A Scan runs its body once per row of its input, and a [2^40, 0] tensor has 2^40 rows in no memory."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["s_in"], ["s_out"])], "body",
        [helper.make_tensor_value_info("s_in", TensorProto.FLOAT, []),
         helper.make_tensor_value_info("row", TensorProto.FLOAT, [0])],
        [helper.make_tensor_value_info("s_out", TensorProto.FLOAT, [])])
    m.graph.initializer.extend([helper.make_tensor("s0", TensorProto.FLOAT, [], [0.0]),
                                helper.make_tensor("rows_shape", TensorProto.INT64, [2], [2**40, 0])])
    m.graph.node.append(helper.make_node("ConstantOfShape", ["rows_shape"], ["rows"]))
    scan = helper.make_node("Scan", ["s0", "rows"], ["s_end"], body=body, num_scan_inputs=1)
    return _feeding_the_score(m, scan, "s_end")


def wrong_input_width(m: onnx.ModelProto) -> onnx.ModelProto:
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 3
    return m


def renamed_output(m: onnx.ModelProto) -> onnx.ModelProto:
    m.graph.output[0].name = "secret"
    for n in m.graph.node:
        for i, name in enumerate(n.output):
            if name == "score":
                n.output[i] = "secret"
    return m


def second_input(m: onnx.ModelProto) -> onnx.ModelProto:
    m.graph.input.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2]))
    return m


# --- graphs that would ask onnxruntime for huge tensors (onnxshapes refuses them) ------------------

def _to_scalar(m: onnx.ModelProto, nodes: list[onnx.NodeProto], out: str) -> onnx.ModelProto:
    """``nodes`` (ending in float ``out``) summed to a scalar that feeds the score, so scoring must run them."""
    m.graph.node.extend(nodes)
    return _feeding_the_score(m, helper.make_node("ReduceSum", [out], ["scalar"], keepdims=0), "scalar")


def _i64(name: str, values: list[int]) -> onnx.TensorProto:
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def expand_huge(m: onnx.ModelProto) -> onnx.ModelProto:
    """A one-value tensor expanded to [100000, 100000]: 40 GB, from a few bytes."""
    m.graph.initializer.extend([helper.make_tensor("one_f", TensorProto.FLOAT, [1], [1.0]),
                                _i64("big_shape", [100_000, 100_000])])
    return _to_scalar(m, [helper.make_node("Expand", ["one_f", "big_shape"], ["big"])], "big")


def constant_of_shape_huge(m: onnx.ModelProto) -> onnx.ModelProto:
    m.graph.initializer.append(_i64("big_shape", [100_000, 100_000]))
    return _to_scalar(m, [helper.make_node("ConstantOfShape", ["big_shape"], ["big"])], "big")


def broadcast_outer(m: onnx.ModelProto) -> onnx.ModelProto:
    """[50000, 1] + [1, 50000]: 400 KB of weights, a 10 GB sum (onnxruntime folds constants when it loads)."""
    col = helper.make_tensor("col", TensorProto.FLOAT, [50_000, 1], np.ones(50_000, np.float32).tobytes(), raw=True)
    row = helper.make_tensor("row", TensorProto.FLOAT, [1, 50_000], np.ones(50_000, np.float32).tobytes(), raw=True)
    m.graph.initializer.extend([col, row])
    return _to_scalar(m, [helper.make_node("Add", ["col", "row"], ["big"])], "big")


def expand_per_row(m: onnx.ModelProto) -> onnx.ModelProto:
    """Each row [n, 2, 1] expanded to [n, 2, 1000000]: 16 GB for a batch of 2048 rows."""
    m.graph.initializer.extend([_i64("ax2", [2]), _i64("wide_shape", [1, 1, 1_000_000])])
    return _to_scalar(m, [helper.make_node("Unsqueeze", ["x", "ax2"], ["x3"]),
                          helper.make_node("Expand", ["x3", "wide_shape"], ["big"])], "big")


def square_of_batch(m: onnx.ModelProto) -> onnx.ModelProto:
    """An [n, n] tensor: a 2048-row batch is 4M values, a bulk run of 65536 rows 17 GB."""
    m.graph.initializer.append(_i64("i0", [0]))
    return _to_scalar(m, [
        helper.make_node("Shape", ["x"], ["xs"]), helper.make_node("Gather", ["xs", "i0"], ["rows"]),
        helper.make_node("Concat", ["rows", "rows"], ["nn"], axis=0),
        helper.make_node("ReduceSum", ["x"], ["col"], axes=[1], keepdims=1),
        helper.make_node("Expand", ["col", "nn"], ["big"])], "big")


def reshape_from_data(m: onnx.ModelProto) -> onnx.ModelProto:
    """A shape read from the scored values: a row of x = 1e9 would ask for a billion values."""
    m.graph.initializer.append(_i64("one_col", [1]))
    return _to_scalar(m, [
        helper.make_node("ReduceMax", ["x"], ["top"], keepdims=0),
        helper.make_node("Cast", ["top"], ["top_i"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["top_i", "one_col"], ["shape_1"]),
        helper.make_node("ConstantOfShape", ["shape_1"], ["big"])], "big")


def tile_huge(m: onnx.ModelProto) -> onnx.ModelProto:
    m.graph.initializer.append(_i64("reps", [1, 10_000_000]))
    return _to_scalar(m, [helper.make_node("Tile", ["x", "reps"], ["big"])], "big")


def range_huge(m: onnx.ModelProto) -> onnx.ModelProto:
    m.graph.initializer.extend([helper.make_tensor(n, TensorProto.FLOAT, [], [v])
                                for n, v in (("r0", 0.0), ("r1", 1e12), ("dr", 1.0))])
    return _to_scalar(m, [helper.make_node("Range", ["r0", "r1", "dr"], ["big"])], "big")


def resize_huge(m: onnx.ModelProto) -> onnx.ModelProto:
    m.graph.initializer.append(helper.make_tensor("scales", TensorProto.FLOAT, [2], [1.0, 1e7]))
    return _to_scalar(m, [helper.make_node("Resize", ["x", "", "scales"], ["big"])], "big")


def matmul_cost(m: onnx.ModelProto) -> onnx.ModelProto:
    """[n, 250, 250] @ [250, 250] per row: 15M multiplications a row from a 250 KB weight (3e10 a batch)."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [250, 250], np.ones(250 * 250, np.float32).tobytes(), raw=True)
    m.graph.initializer.extend([w, _i64("ax2", [2]), _i64("sq", [1, 250, 250])])
    return _to_scalar(m, [helper.make_node("ReduceSum", ["x"], ["x1"], axes=[1], keepdims=1),
                          helper.make_node("Unsqueeze", ["x1", "ax2"], ["x3"]),
                          helper.make_node("Expand", ["x3", "sq"], ["cube"]),
                          helper.make_node("MatMul", ["cube", "w"], ["big"])], "big")


_BOUND = r"was refused: node \d+ \((?:'Expand'|'ConstantOfShape'|'Add'|'MatMul'), output 'big'\) cannot be bounded before it runs"
_NEVER = r"cannot be bounded before it runs: ad_duckdb models never use this operator"
HOSTILE: dict[str, tuple[Callable[[onnx.ModelProto], onnx.ModelProto], str]] = {
    "external_data": (external_data, r"external data \['\.\./\.\./etc/passwd'\]"),
    "external_location_only": (external_location_only, r"external data \['/etc/shadow'\]"),
    "custom_domain": (custom_domain, r"operator domain 'evil\.custom'"),
    "custom_opset_import": (custom_opset_import_only, r"operator set domain 'com\.microsoft'"),
    "local_function": (local_function, r"model-local function 'Twice'"),
    "subgraph_external": (subgraph_external, r"subgraph of node 'If'.*id_rsa"),
    "endless_loop": (endless_loop, r"node 'Loop' in the main graph is a loop"),
    "scan_loop": (scan_loop, r"node 'Scan' in the main graph is a loop"),
    "wrong_input_width": (wrong_input_width, r"feature list has 2 column\(s\); expected one float input 'x' \[n, 2\]"),
    "renamed_output": (renamed_output, r"returns \['secret', 'feature_error'\]"),
    "second_input": (second_input, r"takes \[\('x'.*\('y'"),
    "expand_huge": (expand_huge, _BOUND + r": output 'big' needs 10,000,000,000 values in all \(\[100000, 100000\]\)"),
    "constant_of_shape_huge": (constant_of_shape_huge, _BOUND + r".*10,000,000,000 values in all"),
    "broadcast_outer": (broadcast_outer, _BOUND + r".*2,500,000,000 values in all \(\[50000, 50000\]\)"),
    "expand_per_row": (expand_per_row, _BOUND + r".*2,000,000 values per row \(\[n, 2, 1000000\]\)"),
    "square_of_batch": (square_of_batch, _BOUND + r".*grows with the square of the batch size \(\[n, n\]\)"),
    "reshape_from_data": (reshape_from_data, r"node \d+ \('ConstantOfShape'.*shape is computed from data"),
    "tile_huge": (tile_huge, r"node \d+ \('Tile'.*" + _NEVER),
    "range_huge": (range_huge, r"node \d+ \('Range'.*" + _NEVER),
    "resize_huge": (resize_huge, r"node \d+ \('Resize'.*" + _NEVER),
    "matmul_cost": (matmul_cost, _BOUND + r": the product of \[n, 250, 250\] and \[250, 250\] needs 15,625,000 "
                                 r"multiplications per row \(\[n, 250, 250\]\)"),
}


def hostile_bytes(rec: store.ModelRecord, kind: str) -> bytes:
    return HOSTILE[kind][0](copy.deepcopy(_proto(rec))).SerializeToString()


_DROP = object()  # a change to _file_with_metadata that deletes the key (None writes a JSON null)


def _file_with_metadata(exported: Path, graph: bytes, out: Path, **changes: Any) -> Path:
    """``exported``'s metadata with ``changes`` (``_DROP`` deletes a key), its own sha256 made again as export_model
    makes it, after ``graph``, written to ``out``: a file an older or newer ad_duckdb, or an editor, could have written."""
    meta = json.loads(integrity.metadata_props(exported.read_bytes())[onnxfile.METADATA_KEY])
    for key, value in changes.items():
        if value is _DROP:
            meta.pop(key, None)
        else:
            meta[key] = value
    meta["metadata_sha256"] = onnxfile.metadata_digest(meta)
    out.write_bytes(graph + onnxfile.metadata_entry(json.dumps(meta, sort_keys=True)))
    return out


def insert_row(con: duckdb.DuckDBPyConnection, rec: store.ModelRecord, name: str, onnx_bytes: bytes,
               **overrides: object) -> None:
    """Write a row as an attacker with write access would: straight SQL, a matching sha256."""
    r = copy.copy(rec)
    r.name, r.onnx, r.version = name, onnx_bytes, 1
    r.sha256 = store.sha256_hex(onnx_bytes)
    storetables.ensure_schema(con)
    storesave._insert(con, r)
    for col, value in overrides.items():
        con.execute(f"UPDATE ad_models SET {col} = ? WHERE name = ?", [value, name])


# --- each hostile model, refused on every path --------------------------------------------------

@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_graph_refused_by_the_static_check(good: store.ModelRecord, kind: str) -> None:
    data = hostile_bytes(good, kind)
    with pytest.raises(IntegrityError, match=HOSTILE[kind][1]):
        integrity.check_onnx(data, model="evil", n_features=2)
    # make_session runs the same check before onnxruntime sees the bytes.
    with pytest.raises(IntegrityError, match=r"Model 'evil' was refused"):
        make_session(data, model="evil", n_features=2)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_file_refused_at_import(good: store.ModelRecord, kind: str, tmp_path: Path) -> None:
    # a file's graph of another width than its feature list is said to be the file's own fault (graphfills)
    pattern = {"wrong_input_width": r"Model file .*: its graph takes 3 input column\(s\) \(x \[n, 3\]\), but its "
                                    r"ad_duckdb metadata lists 2 feature\(s\)"}.get(kind, HOSTILE[kind][1])
    rec = copy.copy(good)
    rec.onnx = hostile_bytes(good, kind)
    rec.sha256 = store.sha256_hex(rec.onnx)
    meta = json.dumps(onnxfile.record_metadata(rec), sort_keys=True)
    path = tmp_path / f"{kind}.onnx"
    path.write_bytes(rec.onnx + onnxfile.metadata_entry(meta))
    con = ad_duckdb.connect(":memory:")
    try:
        with pytest.raises(IntegrityError, match=pattern):
            ad_duckdb.import_model(con, path)
        assert ad_duckdb.list_models(con) == []  # nothing half-stored
        with pytest.raises(IntegrityError, match=pattern):
            ad_duckdb.register(con, models=[str(path)], replace=True)
    finally:
        con.close()


@pytest.mark.parametrize("kind", ["external_data", "custom_domain", "subgraph_external"])
def test_a_fresh_training_runs_graph_is_checked_before_onnxruntime_sees_it(good: store.ModelRecord, kind: str) -> None:
    """README: every model is checked before onnxruntime sees it, a fresh training run's too. The parity check
    torch vs onnxruntime is the first to load a trained graph; it gave the bytes to onnxruntime unchecked."""
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.export import parity_check

    X = np.random.default_rng(0).normal(size=(200, 2))
    det = AutoEncoderDetector(n_models=1, max_steps=20, progress=False).fit(X)
    with pytest.raises(IntegrityError, match=rf"Model 'fresh'.*{HOSTILE[kind][1]}"):
        parity_check(det.graph_, hostile_bytes(good, kind), X[:50], model="fresh")


def test_damaged_rows_are_refused_and_the_good_model_still_scores(good: store.ModelRecord, tmp_path: Path) -> None:
    path = str(tmp_path / "mixed.duckdb")
    con = duckdb.connect(path)
    insert_row(con, good, "good", good.onnx)
    for kind in HOSTILE:
        insert_row(con, good, f"evil_{kind}", hostile_bytes(good, kind))
    insert_row(con, good, "newer_format", good.onnx, format_version=store.FORMAT_VERSION + 1)
    insert_row(con, good, "tampered", good.onnx)
    flipped = bytearray(good.onnx)
    flipped[len(flipped) // 2] ^= 0x01
    con.execute("UPDATE ad_models SET onnx = ? WHERE name = 'tampered'", [bytes(flipped)])
    insert_row(con, good, "bad_features_json", good.onnx, features='{"not": "a list"}')
    insert_row(con, good, "bad_metrics_json", good.onnx, metrics='"not an object"')
    insert_row(con, good, "garbage_bytes", b"\xff" * 64)
    insert_row(con, good, "empty_features", good.onnx, features="[]")
    con.execute("CREATE TABLE t AS SELECT range::INTEGER + 1 AS count, (range % 50 + 10)::DOUBLE AS amount "
                "FROM range(3000)")
    con.close()

    con = ad_duckdb.connect(path)  # registering loads every row: the damaged ones must not stop it
    try:
        n_ok = con.execute("SELECT count(anomaly_score('good', count, amount)) FROM t").fetchall()[0][0]
        assert n_ok == 3000
        expected = {
            **{f"evil_{k}": v[1] for k, v in HOSTILE.items()},
            "newer_format": r"format_version 2, newer than this ad_duckdb understands \(1\); upgrade ad_duckdb",
            "tampered": r"sha256 of its stored ONNX bytes does not match",
            "bad_features_json": r"stored metadata .* is malformed",
            "bad_metrics_json": r"stored metadata .* is malformed",
            "garbage_bytes": r"not a well-formed ONNX model",
            "empty_features": r"feature list has 0 column",
        }
        for name, pattern in expected.items():
            # the model's own integrity error, not "no such model" and never another version
            with pytest.raises(duckdb.Error, match=rf"IntegrityError: Model '{name}@1'.*{pattern}"):
                con.execute(f"SELECT anomaly_score('{name}', count, amount) FROM t").fetchall()
            with pytest.raises(IntegrityError, match=pattern):
                ad_duckdb.load_model(con, name)
        # After all those refusals the good model still scores, and the same as before.
        again = con.execute("SELECT count(anomaly_score('good', count, amount)) FROM t").fetchall()[0][0]
        assert again == 3000
        names = {m["name"] for m in ad_duckdb.list_models(con)}
        assert len(names) == 1 + len(expected)  # listing never needs to load a model
    finally:
        con.close()


def test_oversized_model_refused_everywhere(good: store.ModelRecord, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "big.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT 3 AS count, 40.0 AS amount")
        insert_row(con, good, "tx", good.onnx)
        ad_duckdb.refresh(con)
        ad_duckdb.export_model(con, "tx", tmp_path / "tx.onnx")
        limit = len(good.onnx) - 1
        monkeypatch.setenv("AD_DUCKDB_MAX_MODEL_BYTES", str(limit))
        with pytest.raises(IntegrityError, match=rf"over the limit of {limit}; raise AD_DUCKDB_MAX_MODEL_BYTES"):
            ad_duckdb.load_model(con, "tx")
        with pytest.raises(IntegrityError, match=r"over the limit"):
            make_session(good.onnx, model="tx", n_features=2)
        with pytest.raises(IntegrityError, match=r"over the limit"):
            ad_duckdb.import_model(con, tmp_path / "tx.onnx", name="tx_copy")
        ad_duckdb.register(con, replace=True)
        with pytest.raises(duckdb.Error, match=r"over the limit"):
            con.execute("SELECT anomaly_score('tx', count, amount) FROM t").fetchall()
        for typo in ("64MB", "1k", "0"):  # never silently the default limit
            monkeypatch.setenv("AD_DUCKDB_MAX_MODEL_BYTES", typo)
            with pytest.raises(ad_duckdb.BadInputError, match=rf"must be a positive whole number of bytes.*'{typo}'"):
                ad_duckdb.load_model(con, "tx")
        monkeypatch.delenv("AD_DUCKDB_MAX_MODEL_BYTES")
        assert storeload.max_model_bytes() == 64 * 2**20  # README: default 64 MiB
        monkeypatch.setenv("AD_DUCKDB_MAX_MODEL_BYTES", str(len(good.onnx)))
        ad_duckdb.refresh(con)
        assert con.execute("SELECT anomaly_score('tx', count, amount) FROM t").fetchall()[0][0] >= 0
    finally:
        con.close()


def test_altered_exported_file_refused(good: store.ModelRecord, tmp_path: Path) -> None:
    con = ad_duckdb.connect(":memory:")
    try:
        insert_row(con, good, "tx", good.onnx)
        ad_duckdb.refresh(con)
        p = ad_duckdb.export_model(con, "tx", tmp_path / "tx.onnx")
        data = bytearray(p.read_bytes())
        data[100] ^= 0x01  # inside the graph, before the metadata
        bad = tmp_path / "bad.onnx"
        bad.write_bytes(bytes(data))
        with pytest.raises(IntegrityError, match=r"sha256 of its graph does not match its metadata|not a well-formed"):
            ad_duckdb.import_model(con, bad)
        # as a newer ad_duckdb would write it
        _file_with_metadata(p, good.onnx, tmp_path / "newer.onnx", format_version=store.FORMAT_VERSION + 1)
        with pytest.raises(IntegrityError, match=r"format_version 2.*Upgrade ad_duckdb"):
            ad_duckdb.import_model(con, tmp_path / "newer.onnx")
        # A good file still imports after the refusals.
        assert ad_duckdb.import_model(con, p, name="tx2").version == 1
    finally:
        con.close()


@pytest.mark.parametrize("blob", [b"", b"\x00", b"\x08", b"\x0a\xff\xff\xff\xff\x0f", b"\x3a\x05abc", b"\x0b" * 10,
                                  bytes(range(256))])
def test_malformed_protobuf_gives_a_clear_error(blob: bytes) -> None:
    with pytest.raises(IntegrityError, match=r"Model 'junk'"):
        integrity.check_onnx(blob, model="junk", n_features=2)


def _len_field(number: int, payload: bytes) -> bytes:
    from ad_duckdb.onnxproto import encode_varint as _varint

    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_deeply_nested_subgraphs_are_refused_without_recursion_error() -> None:
    # Built by hand: the protobuf library itself refuses to build messages this deep.
    graph = b""
    for _ in range(2000):  # GraphProto.node(1) -> NodeProto.attribute(5) -> AttributeProto.g(6) -> GraphProto
        graph = _len_field(1, _len_field(5, _len_field(6, graph)))
    with pytest.raises(IntegrityError, match=r"nested deeper than 32"):
        integrity.check_onnx(_len_field(7, graph), model="deep", n_features=2)


def test_a_real_model_passes_and_the_walker_agrees_with_onnx(good: store.ModelRecord) -> None:
    integrity._PASSED.clear()
    integrity.check_onnx(good.onnx, model="tx", n_features=2)
    m = _proto(good)
    assert {o.domain for o in m.opset_import} <= integrity.ALLOWED_DOMAINS
    meta = integrity.metadata_props(m.SerializeToString())
    assert meta == {p.key: p.value for p in m.metadata_props}


# --- nothing is ever unpickled ----------------------------------------------------------------

_FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
_FORBIDDEN_CALLS = {"torch.load", "np.load", "numpy.load", "pd.read_pickle", "pandas.read_pickle", "eval", "exec",
                    "torch.jit.load", "onnx.load_external_data_for_model"}
_FORBIDDEN_TEXT = re.compile(r"pickle\.loads?\(|torch\.load\(|joblib|read_pickle|allow_pickle\s*=\s*True|__reduce__")


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _package_files() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def test_nothing_is_unpickled_ever() -> None:
    files = list(_package_files())
    assert len(files) > 10
    found: list[str] = []
    for f in files:
        text = f.read_text()
        for m in _FORBIDDEN_TEXT.finditer(text):
            found.append(f"{f.name}: text {m.group(0)!r}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                found += [f"{f.name}: import {a.name}" for a in node.names
                          if a.name.split(".")[0] in _FORBIDDEN_MODULES]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
                found.append(f"{f.name}: from {node.module} import")
            elif isinstance(node, ast.Call) and _dotted(node.func) in _FORBIDDEN_CALLS:
                found.append(f"{f.name}: call {_dotted(node.func)}()")
    assert found == []


def test_scoring_side_modules_never_import_torch_or_onnx() -> None:
    for name in ("integrity", "onnxproto", "onnxshapes", "scoring", "ortruns", "percentiles", "arrownumbers", "argorder",
                 "store", "storetables", "canwrite", "modelnames", "storesave", "thresholdrows", "storedrop", "storeload",
                 "storestamp", "notfound", "typedpaths", "udfs",
                 "udfnames", "udfowners", "udfregistry", "udfargs", "udfbodies"):
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        mods = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        mods |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in mods if m.split(".")[0] in ("torch", "onnx")}, name


_SCORING_ONLY = """
import sys
import ad_duckdb
con = ad_duckdb.connect(":memory:")
ad_duckdb.import_model(con, sys.argv[1])
con.execute("CREATE TABLE t AS SELECT range % 9 + 1 AS count, (range % 9 + 1) * 20.0 AS amount, "
            "(range % 97 = 0)::INTEGER AS label FROM range(3000)")
row = con.execute("SELECT sum(anomaly_score('tx_ae', count, amount)), count_if(is_anomaly('tx_ae', count, amount)), "
                  "count_if(is_anomaly_at('tx_ae', 'p90', count, amount)), max(anomaly_percentile('tx_ae', count, amount)), "
                  "count(anomaly_explain('tx_ae', count, amount)), max(anomaly_threshold('tx_ae', 'p99')) FROM t").fetchall()[0]
assert row[0] > 0 and row[4] == 3000, row
ad_duckdb.score(con, "tx_ae", "t", into="scores", explain=True)
assert con.execute("SELECT count(*) FROM scores").fetchall()[0][0] == 3000
ad_duckdb.evaluate(con, "tx_ae", "t", label="label")
ad_duckdb.set_threshold(con, "tx_ae", "cut", method="manual", value=5.0)
ad_duckdb.export_model(con, "tx_ae", sys.argv[2])
con.close()
print("scored")
"""


def test_scoring_needs_only_duckdb_pyarrow_numpy_and_onnxruntime(mem_con: duckdb.DuckDBPyConnection,
                                                                 tmp_path: Path) -> None:
    """README (Security): scoring needs only duckdb, pyarrow, numpy and onnxruntime. Every other package is made to
    fail on import; the SQL functions, bulk scoring, evaluation, a manual threshold, import and export still work."""
    import os
    import subprocess
    import sys

    blocked = ("torch", "onnx", "onnxscript", "tqdm", "matplotlib", "pandas", "polars", "sklearn", "scipy", "click")
    blocker = tmp_path / "block"
    for name in blocked:
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(f"raise ImportError('No module named {name} (blocked)')\n")
    model = ad_duckdb.export_model(mem_con, "tx_ae", tmp_path / "tx_ae.onnx")
    res = subprocess.run([sys.executable, "-c", _SCORING_ONLY, str(model), str(tmp_path / "again.onnx")],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"})
    assert res.returncode == 0 and res.stdout.strip() == "scored", res.stderr


def test_refused_model_is_named_in_not_found_hint(good: store.ModelRecord) -> None:
    con = ad_duckdb.connect(":memory:")
    try:
        insert_row(con, good, "evil", hostile_bytes(good, "external_data"))
        ad_duckdb.refresh(con)
        with pytest.raises(IntegrityError, match=r"evil@1.*etc/passwd"):
            ad_duckdb.udfs.registry(con).get("evil")
        with pytest.raises(ModelNotFoundError, match=r"evil@1.*etc/passwd"):  # another name lists it in the hint
            ad_duckdb.udfs.registry(con).get("evli")
        x = np.array([[3.0, 40.0]], dtype=np.float32)
        # the session itself refuses the graph, naming the model and why (not onnxruntime's own failure to run it)
        with pytest.raises(IntegrityError, match=r"Model 'evil'.*operator domain 'evil\.custom'"):
            make_session(hostile_bytes(good, "custom_domain"), model="evil", n_features=2).run(None, {"x": x})
    finally:
        con.close()


def test_rows_with_null_bytes_or_format_version_are_refused_and_the_good_model_still_scores(
        good: store.ModelRecord, tmp_path: Path) -> None:
    # Before: a row whose onnx or format_version is NULL (a NOT NULL dropped and a column emptied by hand) raised a bare
    # TypeError while the functions loaded, so no model of the database scored, and `ad-duckdb list` printed a traceback.
    path = str(tmp_path / "nulls.duckdb")
    con = duckdb.connect(path)
    insert_row(con, good, "good", good.onnx)
    for col in ("onnx", "format_version", "sha256", "kind"):
        insert_row(con, good, f"null_{col}", good.onnx)
        con.execute(f"ALTER TABLE ad_models ALTER {col} DROP NOT NULL")
        con.execute(f"UPDATE ad_models SET {col} = NULL WHERE name = ?", [f"null_{col}"])
    con.execute("CREATE TABLE t AS SELECT range::INTEGER + 1 AS count, (range % 50 + 10)::DOUBLE AS amount "
                "FROM range(300)")
    con.close()

    con = ad_duckdb.connect(path)
    try:
        assert con.execute("SELECT count(anomaly_score('good', count, amount)) FROM t").fetchall()[0][0] == 300
        for col, pattern in (("onnx", r"has no onnx \(ad_models\.onnx is NULL\)"),
                             ("format_version", r"has no format_version \(ad_models\.format_version is NULL\)"),
                             ("sha256", r"no sha256 \(ad_models\.sha256 is NULL\)"),
                             ("kind", r"has no kind \(ad_models\.kind is NULL\)")):
            with pytest.raises(duckdb.Error, match=rf"IntegrityError: Model 'null_{col}@1'.*{pattern}"):
                con.execute(f"SELECT anomaly_score('null_{col}', count, amount) FROM t").fetchall()
            with pytest.raises(IntegrityError, match=rf"'null_{col}@1'.*{pattern}.*re-train it or import a good copy"):
                ad_duckdb.load_model(con, f"null_{col}")
        assert len(ad_duckdb.list_models(con)) == 5
    finally:
        con.close()
    rc = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "list", path, "--format", "csv"], capture_output=True,
                        text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert rc.returncode == 0 and "Traceback" not in rc.stderr, rc.stderr
    assert sorted(line.rsplit(",", 1)[1] for line in rc.stdout.splitlines()[1:]) == ["damaged"] * 4 + ["ok"], rc.stdout


DEEP_JSON = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"


def test_deeply_nested_metadata_json_is_refused_and_the_good_model_still_scores(
        good: store.ModelRecord, tmp_path: Path) -> None:
    """JSON nested 100,000 deep raised Python's RecursionError, which no check caught: one such row in ad_models
    stopped ad_duckdb.register for every model of the database (a BI server or dbt run did not start), and such a
    file's import failed with a bare RecursionError."""
    path = str(tmp_path / "deep.duckdb")
    con = duckdb.connect(path)
    insert_row(con, good, "good", good.onnx)
    insert_row(con, good, "deep", good.onnx, metrics=DEEP_JSON)
    con.close()
    con = ad_duckdb.connect(path, read_only=True)
    try:
        assert con.execute("SELECT anomaly_score('good', 3, 120.0) IS NOT NULL").fetchall() == [(True,)]
        with pytest.raises(IntegrityError, match=r"'deep@1'.*metadata.*malformed.*nested too deeply"):
            ad_duckdb.load_model(con, "deep")
    finally:
        con.close()
    file = tmp_path / "deep.onnx"
    file.write_bytes(good.onnx + onnxfile.metadata_entry(DEEP_JSON))
    con = ad_duckdb.connect(":memory:")
    try:
        with pytest.raises(IntegrityError, match=r"deep\.onnx'.*metadata is not valid JSON.*nested too deeply"):
            ad_duckdb.import_model(con, file)
    finally:
        con.close()


def test_every_kind_of_exported_model_passes_the_shape_bound() -> None:
    """The shape walk refuses what it cannot bound, so it must bound every graph ad_duckdb itself exports:
    ensembles (Expand to the members), sampled banks in groups with k > 1 (Reshape, TopK), a VAE (Slice),
    wide rows (broadcast scaling instead of Gemms), float64 input (a centre offset), no neighbour or range term."""
    from conftest import make_transactions

    con = ad_duckdb.connect(":memory:")
    try:
        make_transactions(con, n=800)
        rng = np.random.default_rng(1)
        cols = ", ".join(f"unnest(?)::DOUBLE AS c{i}" for i in range(40))
        con.execute(f"CREATE TABLE wide AS SELECT {cols}", [rng.normal(size=800).tolist() for _ in range(40)])
        con.execute("CREATE TABLE epoch AS SELECT 1.7e9 + count AS ts, amount FROM transactions")
        two = ("transactions", ["count", "amount"])
        variants: dict[str, tuple[str, list[str] | None, dict[str, object]]] = {
            "ens_groups": (*two, {"n_models": 3, "knn_k": 3, "bank_groups": 4, "bank_kind": "sample"}),
            "vae_ens": (*two, {"kind": "vae", "n_models": 2, "knn_k": 2}),
            "plain": (*two, {"knn_k": 0, "range_weight": 0.0}),
            "wide_ens": ("wide", None, {"n_models": 2, "range_weight": 2.5}),
            "deep": ("wide", None, {"hidden_dims": (64, 32, 16), "latent_dim": 4}),
            "epoch": ("epoch", ["ts", "amount"], {}),
        }
        for name, (table, features, params) in variants.items():
            # training already runs the check (its parity check opens a session); a refusal would fail here
            ad_duckdb.train(con, name, table, features=features, max_steps=20, progress=False, **params)
            rec = ad_duckdb.load_model(con, name)
            integrity._PASSED.clear()
            integrity.check_onnx(rec.onnx, model=name, n_features=len(rec.features))
    finally:
        con.close()


def _with_dropout(onnx_bytes: bytes) -> bytes:
    """The graph with an inference-mode Dropout (an identity) on feature_error: an operator outside onnxshapes.RULES
    that an exporter of another torch version could leave in, harmless to run."""
    m = onnx.load_from_string(onnx_bytes)
    for n in m.graph.node:
        n.output[:] = ["fe_inner" if o == "feature_error" else o for o in n.output]
    m.graph.node.append(helper.make_node("Dropout", ["fe_inner"], ["feature_error"]))
    return m.SerializeToString()


def test_an_operator_from_another_torch_exporter_is_named_as_such_at_training(good: store.ModelRecord) -> None:
    """At training the graph comes from this process's own torch exporter, not from a hostile file: a refused operator
    is named with this torch's version and the tested one, and the message says nothing was stored. A stored or
    imported model with the same graph keeps the message written for hostile files."""
    import onnxruntime as ort
    import torch

    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.export import TESTED_TORCH, parity_check, to_onnx_bytes

    X = np.random.default_rng(0).normal(size=(200, 2))
    det = AutoEncoderDetector(n_models=1, max_steps=20, progress=False).fit(X)
    data = _with_dropout(to_onnx_bytes(det.graph_, 2))
    # harmless: onnxruntime itself scores it exactly as the graph without the Dropout
    x = X[:50].astype(np.float32)
    plain = ort.InferenceSession(to_onnx_bytes(det.graph_, 2)).run(None, {"x": x})
    dropped = ort.InferenceSession(data).run(None, {"x": x})
    assert all(np.array_equal(a, b) for a, b in zip(plain, dropped, strict=True))

    with pytest.raises(IntegrityError) as err:
        parity_check(det.graph_, data, X[:50], model="fresh")
    assert re.fullmatch(
        rf"Model 'fresh': the ONNX exporter of torch {re.escape(torch.__version__)} wrote operator 'Dropout' at node "
        rf"\d+ \('Dropout', output 'feature_error'\), which ad_duckdb does not know \(the exporter of torch "
        rf"{re.escape(TESTED_TORCH)}, the version ad_duckdb is tested with, does not write it\); nothing was stored\. "
        rf"Train with torch {re.escape(TESTED_TORCH)} \(pip install 'torch=={re.escape(TESTED_TORCH)}'\), or report "
        r"this with your torch version\.", str(err.value)), str(err.value)
    assert "never use" not in str(err.value)
    with pytest.raises(IntegrityError, match=r"Model 'stored' was refused: node \d+ \('Dropout'.*" + _NEVER):
        integrity.check_onnx(data, model="stored", n_features=2)


def test_a_shape_the_walk_cannot_bound_at_training_names_the_torch_versions(good: store.ModelRecord) -> None:
    """A known operator whose size cannot be worked out, in a freshly exported graph, is said as an exporter
    mismatch too (with the walker's reason), not as a hostile file."""
    import torch

    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.export import TESTED_TORCH, parity_check

    X = np.random.default_rng(0).normal(size=(200, 2))
    det = AutoEncoderDetector(n_models=1, max_steps=20, progress=False).fit(X)
    with pytest.raises(IntegrityError, match=(
            rf"Model 'fresh': the ONNX exporter of torch {re.escape(torch.__version__)} wrote node \d+ \('Expand', "
            r"output 'big'\), whose size ad_duckdb cannot work out before it runs \(.*grows with the square of the "
            rf"batch size \(\[n, n\]\)\); ad_duckdb is tested with torch {re.escape(TESTED_TORCH)}; nothing was "
            r"stored\.")):
        parity_check(det.graph_, hostile_bytes(good, "square_of_batch"), X[:50], model="fresh")


def test_the_tested_torch_is_the_one_the_makefile_pins() -> None:
    from ad_duckdb.export import TESTED_TORCH

    pins = re.findall(r"^TORCH := torch==(\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert pins == [TESTED_TORCH]


# The largest genuine models the training parameters allow: (rows, columns, parameters, what training made of them).
# Why they pass by a margin: every per-row tensor and matrix product of an exported graph is at most the size of one
# stored weight tensor, and the graph holds at least two of that size (an encoder and a decoder layer; the latent bank
# [E, bank, latent] and its squared norms [E, bank]), so the largest is at most half the budget (measured: 0.50 for
# the 65536-code bank with latent size 1 and for 1555 columns, 0.13 for 16 members), and all of a row's tensors
# together stay under a twentieth of TOTAL_FACTOR times it. The bank needs as many rows as codes; 16 members beside
# it would not fit in this machine's memory while training (calibration holds [16, 2048, 65536] distances), and are
# bounded the same way.
LARGEST: dict[str, tuple[int, int, dict[str, object], dict[str, int]]] = {
    "bank_65536_in_1024_groups": (65_536, 2, {"bank_size": 65_536, "bank_kind": "sample", "bank_groups": 1024,
                                              "knn_k": 2, "latent_dim": 1}, {"bank_size": 65_536, "bank_groups": 1024}),
    "16_members_latent_1": (600, 2, {"n_models": 16, "latent_dim": 1, "knn_k": 3}, {"n_models": 16, "latent_dim": 1}),
    "knn_k_whole_bank": (600, 2, {"bank_size": 600, "bank_kind": "sample", "bank_groups": 1, "knn_k": 10**6,
                                  "latent_dim": 1}, {"bank_size": 600, "knn_k": 599}),
    "kmeans_knn_k_whole_bank": (800, 2, {"bank_kind": "kmeans", "knn_k": 10**6, "latent_dim": 1,
                                         "feature_errors": "pooled"}, {"bank_size": 100, "knn_k": 100}),
    "one_feature_one_unit": (300, 1, {"n_models": 16, "hidden_dims": (1,), "latent_dim": 1}, {"n_models": 16}),
    "300_columns": (300, 300, {"n_models": 16, "latent_dim": 1}, {"n_models": 16}),
    "1555_columns_internetads": (200, 1555, {"n_models": 16, "latent_dim": 1}, {"n_models": 16}),
    "vae_16_members": (600, 5, {"variational": True, "n_models": 16, "latent_dim": 1, "knn_k": 5},
                       {"n_models": 16, "knn_k": 5}),
    "float64_input": (600, 3, {"n_models": 16, "latent_dim": 1}, {"n_models": 16}),
}


@pytest.mark.parametrize("case", sorted(LARGEST))
def test_the_largest_genuine_models_pass_the_shape_bound(case: str) -> None:
    """The shape walk's budget comes from the model's own weights; the models at the edges of the training
    parameters (bank size and groups, members, latent size 1, knn_k past the bank, 1555 columns, a VAE, float64
    input) must still pass it, or training them would be refused."""
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.export import to_onnx_bytes

    n, d, params, made = LARGEST[case]
    X = np.random.default_rng(0).normal(size=(n, d))
    if case == "float64_input":
        X[:, 0] += 1.7e9  # epoch seconds: the graph takes float64 rows and subtracts the centre
    det = AutoEncoderDetector(max_steps=5, progress=False, **params).fit(X, score_training_rows=False)
    assert {k: det.history_[k] for k in made} == made  # the edge was reached, not clamped below it
    assert det.graph_.pre.has_offset == (case == "float64_input")
    data = to_onnx_bytes(det.graph_, d)
    integrity._PASSED.clear()
    integrity.check_onnx(data, model=case, n_features=d)


def test_a_file_whose_model_name_is_not_a_name_is_refused_with_a_short_message(good: store.ModelRecord,
                                                                                 tmp_path: Path) -> None:
    # Before: the name from the file's metadata went into messages whole (100,000 characters, escapes included).
    con = ad_duckdb.connect(":memory:")
    try:
        insert_row(con, good, "tx", good.onnx)
        ad_duckdb.refresh(con)
        p = ad_duckdb.export_model(con, "tx", tmp_path / "tx.onnx")
        _file_with_metadata(p, good.onnx, tmp_path / "long.onnx", name="\x1b[2J" + "x" * 100_000)
        with pytest.raises(IntegrityError) as caught:
            ad_duckdb.import_model(con, tmp_path / "long.onnx")
        msg = str(caught.value)
        assert len(msg) < 600 and "\x1b" not in msg and "not a valid model name" in msg, msg[:2000]
        assert [m["name"] for m in ad_duckdb.list_models(con)] == ["tx"]
    finally:
        con.close()


@pytest.mark.parametrize("field, value", [("format_version", "x"), ("format_version", None), ("format_version", [1]),
                                          ("format_version", 1e999), ("format_version", 0), ("version", 1e999)])
def test_a_file_whose_metadata_has_a_bad_number_is_refused_as_not_ours(good: store.ModelRecord, tmp_path: Path,
                                                                         field: str, value: object) -> None:
    # Before: int() of the metadata's format_version ran outside every check, so a file of another tool (or an
    # edited one) stopped `ad-duckdb import` with a ValueError / TypeError / OverflowError traceback (exit 1), and a
    # format_version 0 asked to upgrade ad_duckdb, which reads no such file either.
    con = ad_duckdb.connect(":memory:")
    try:
        insert_row(con, good, "tx", good.onnx)
        ad_duckdb.refresh(con)
        p = ad_duckdb.export_model(con, "tx", tmp_path / "tx.onnx")
        bad = _file_with_metadata(p, good.onnx, tmp_path / "bad.onnx", **{field: value})
        with pytest.raises(IntegrityError, match=rf"{field}.*not written by ad_duckdb's export_model") as caught:
            ad_duckdb.import_model(con, bad)
        assert "Upgrade" not in str(caught.value), caught.value
        assert [m["name"] for m in ad_duckdb.list_models(con)] == ["tx"]
    finally:
        con.close()


def test_a_file_of_a_newer_format_or_with_bad_metadata_is_named_in_the_error(good: store.ModelRecord,
                                                                             tmp_path: Path) -> None:
    # Before: "The model file has format_version 2; this ad_duckdb reads 1..1. Upgrade ad_duckdb." named no file, so
    # register(models=[...]) or a dbt profile listing several files left the user to guess which one to replace.
    con = ad_duckdb.connect(":memory:")
    try:
        insert_row(con, good, "tx", good.onnx)
        ad_duckdb.refresh(con)
        p = ad_duckdb.export_model(con, "tx", tmp_path / "tx.onnx")
        for field, value, stem in (("format_version", store.FORMAT_VERSION + 1, "newer"), ("kind", _DROP, "nokind"),
                                   ("version", "x", "badversion")):
            path = _file_with_metadata(p, good.onnx, tmp_path / f"{stem}.onnx", **{field: value})
            with pytest.raises(IntegrityError, match=rf"^Model file '[^']*{stem}\.onnx'"):
                ad_duckdb.import_model(con, path)
            with pytest.raises(IntegrityError, match=rf"^Model file '[^']*{stem}\.onnx'"):
                ad_duckdb.register(con, models=[str(p), str(path)])
        with pytest.raises(IntegrityError, match=r"format_version 2; this ad_duckdb reads format_version 1 at most"):
            ad_duckdb.import_model(con, tmp_path / "newer.onnx")
    finally:
        con.close()


def test_an_onnx_file_of_another_tool_is_refused_with_what_import_takes(tmp_path: Path) -> None:
    # Before: "has no ad_duckdb metadata; export it with ad_duckdb.export_model." export_model writes a model stored
    # in a database, so for a model trained elsewhere (an sklearn-onnx or PyOD export) the advice led nowhere.
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["score"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
                              [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n", 2])])
    foreign = tmp_path / "other_tool.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(foreign))
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    con = ad_duckdb.connect(":memory:")
    try:
        with pytest.raises(IntegrityError, match=r"'[^']*other_tool\.onnx' has no ad_duckdb metadata: ad_duckdb reads only model "
                                                 r"files written by `ad-duckdb export` .* another tool's model"):
            ad_duckdb.import_model(con, foreign)
        with pytest.raises(IntegrityError, match=r"'[^']*empty\.onnx' is empty"):
            ad_duckdb.import_model(con, empty)
        assert ad_duckdb.list_models(con) == []
    finally:
        con.close()


def test_a_file_exported_under_a_name_ending_in_onnx_imports_with_the_name_to_give(good: store.ModelRecord,
                                                                                    tmp_path: Path) -> None:
    # Before: importing an older release's export of 'fraud.onnx' said "Name it without the ending, e.g. 'fraud'",
    # not how: import keeps the file's name unless given one.
    con = ad_duckdb.connect(":memory:")
    try:
        insert_row(con, good, "tx", good.onnx)
        ad_duckdb.refresh(con)
        p = ad_duckdb.export_model(con, "tx", tmp_path / "tx.onnx")
        # older releases stored such names
        old = _file_with_metadata(p, good.onnx, tmp_path / "old.onnx", name="fraud.onnx")
        with pytest.raises(ad_duckdb.BadInputError, match=r"'old\.onnx' holds model 'fraud\.onnx'.*another name: name='fraud'\.$"):
            ad_duckdb.import_model(con, old)
        assert ad_duckdb.import_model(con, old, name="fraud").version == 1
    finally:
        con.close()
