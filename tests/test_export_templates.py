"""A trained graph's ONNX file filled in from the export of an earlier graph of its structure (exporttemplates): the
same bytes as torch's exporter writes, for 1% of its CPU time, and torch's exporter whenever that cannot be known."""

from __future__ import annotations

import copy
import threading
from typing import Any

import numpy as np
import onnx
import pytest
import torch

from ad_duckdb import AutoEncoderDetector, exporttemplates
from ad_duckdb.export import to_onnx_bytes
from ad_duckdb.nn import ScoringGraph


def _rows(d: int, *, big: bool = False, logged: bool = False) -> np.ndarray:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, d))
    X[:, 1] = X[:, 0] * 2 + rng.normal(0, 0.1, 500)
    if big:  # epoch seconds: the graph takes float64 rows (nn.Preprocess's offset)
        X[:, -1] = 1.7e9 + rng.normal(0, 50, 500)
    if logged:  # heavy-tailed: a signed log in the graph
        X[:, -1] = rng.lognormal(3, 2, 500)
    return X


def _fresh(graph: Any, d: int) -> bytes:
    with exporttemplates.exporter_only():
        return to_onnx_bytes(graph, d)


def _filled(graph: Any, d: int) -> tuple[bytes, int]:
    before = exporttemplates.stats()["filled"]
    data = to_onnx_bytes(graph, d)
    return data, exporttemplates.stats()["filled"] - before


_CONFIGS: list[tuple[dict[str, Any], dict[str, bool]]] = [
    ({}, {}),
    ({"code_sizes": (2, 4)}, {}),
    ({"variational": True}, {"big": True}),
    ({"n_models": 2, "knn_k": 3, "bank_groups": 2, "range_weight": 0.5}, {"logged": True}),
    ({"feature_errors": "pooled", "bank_kind": "kmeans", "robust": False}, {}),
]


@pytest.mark.parametrize(("params", "rows"), _CONFIGS, ids=["default", "code_sizes", "vae_float64", "ensemble_knn",
                                                            "pooled_kmeans"])
def test_a_second_graph_of_a_structure_gets_the_exporters_bytes_from_a_template(params: dict[str, Any],
                                                                                rows: dict[str, bool]) -> None:
    # Before: every training ran torch's exporter (90 ms of CPU, a third of a small training). Now the second graph of
    # a structure is filled into the first one's file; the bytes must be those torch writes for it, to the byte.
    X = _rows(3, **rows)
    graphs = [AutoEncoderDetector(max_steps=30, seed=seed, progress=False, **params).fit(X).graph_ for seed in (0, 1, 2)]
    exporttemplates.clear()
    first, n_first = _filled(graphs[0], 3)
    assert n_first == 0 and first == _fresh(graphs[0], 3)
    for g in graphs[1:]:
        data, n = _filled(g, 3)
        assert n == 1  # made from the template, not by the exporter
        assert data == _fresh(g, 3)
        assert data != first  # the weights are the graph's own


def _variant(graph: Any, seed: int) -> Any:
    """``graph`` with every float weight moved a little: another graph of its structure."""
    out = copy.deepcopy(graph)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in (*out.parameters(), *out.buffers()):
            if t.dtype == torch.float32:
                t.add_(torch.randn(t.shape, generator=gen) * 0.01)
    return out


@pytest.fixture(scope="module")
def graph() -> Any:
    return AutoEncoderDetector(max_steps=30, progress=False).fit(_rows(3)).graph_


def _equal_diagonals(graph: Any) -> Any:
    """A graph whose scaling matrix equals its range term's identity: torch's exporter stores the two as one
    initializer (it merges initializers of equal values)."""
    out = copy.deepcopy(graph)
    with torch.no_grad():
        out.pre.scale_diag.copy_(out.eye)
    return out


def test_weights_the_exporter_would_merge_are_exported_by_torch(graph: Any) -> None:
    n_inits = [len(onnx.load_from_string(_fresh(g, 3)).graph.initializer) for g in (graph, _equal_diagonals(graph))]
    assert n_inits[1] == n_inits[0] - 1  # what the template cannot know: the file has one initializer less
    exporttemplates.clear()
    for g in (graph, _variant(graph, 1)):  # the template made
        to_onnx_bytes(g, 3)
    merged = _equal_diagonals(_variant(graph, 2))
    data, n = _filled(merged, 3)
    assert n == 0 and data == _fresh(merged, 3)
    # and a structure whose first graph has them merged: the next graph's export is what the tags are checked on
    exporttemplates.clear()
    results = [(_filled(g, 3), g) for g in (_equal_diagonals(graph), *(_variant(graph, s) for s in (3, 4, 5)))]
    assert [n for (_, n), _ in results] == [0, 0, 1, 1]
    assert all(data == _fresh(g, 3) for (data, _), g in results)


def test_a_method_replaced_on_the_class_traces_its_own_graph(graph: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # the structure key holds the classes' methods: a graph whose forward was replaced (as tests and benchmarks do
    # to export an older graph) must not get the file of the forward before
    exporttemplates.clear()
    for g in (graph, _variant(graph, 1)):
        to_onnx_bytes(g, 3)
    plain = ScoringGraph.forward
    monkeypatch.setattr(ScoringGraph, "forward", lambda self, x: (plain(self, x)[0] * 2, plain(self, x)[1]))
    other = _variant(graph, 2)
    data, n = _filled(other, 3)
    assert n == 0 and data == _fresh(other, 3)
    monkeypatch.undo()
    assert data != _fresh(other, 3)


def test_graphs_exported_from_threads_at_once_get_the_exporters_bytes(graph: Any) -> None:
    # trainings run in threads (dbt's threads: N): the templates are shared, the exporter is not re-entrant
    exporttemplates.clear()
    graphs = [_variant(graph, s) for s in range(6)]
    out: dict[int, bytes] = {}

    def export(i: int) -> None:
        out[i] = to_onnx_bytes(graphs[i], 3)

    threads = [threading.Thread(target=export, args=(i,)) for i in range(len(graphs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(out[i] == _fresh(g, 3) for i, g in enumerate(graphs))


def test_the_templates_are_bounded(graph: Any) -> None:
    exporttemplates.clear()
    for extra in range(exporttemplates.MAX_STRUCTURES + 3):  # a structure per range weight
        g = copy.deepcopy(graph)
        g.range_weight = 0.5 + extra
        to_onnx_bytes(g, 3)
    assert exporttemplates.cached() == exporttemplates.MAX_STRUCTURES
