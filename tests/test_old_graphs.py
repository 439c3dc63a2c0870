"""ONNX graphs that older ad_duckdb releases stored in users' databases still pass today's load-time checks.

Tests cannot train with old releases, so tests/data/old_graphs holds tiny models each trained (3 epochs, a few
hundred rows) by the commit its name starts with; tests/data/old_graphs/README.md says how they were made. Each is
a graph shape the exporter has since stopped writing: a check that grew stricter (an operator list, a shape rule, a
cost budget) must still accept them, or users upgrading would find their stored models refused.
"""

from __future__ import annotations

import numpy as np
import pytest

from ad_duckdb import integrity
from ad_duckdb.ortruns import make_session

from conftest import ROOT

OLD = ROOT / "tests" / "data" / "old_graphs"
# Why a fixed list, not a glob: a fixture lost from a checkout (an sdist leaving out *.onnx) must fail, not vanish.
GRAPHS = {
    "01bc746_ens3_d3.onnx": 3,  # first release: 3-member ensemble, range term, no latent bank
    "a399e6b_topk_bank_d3.onnx": 3,  # latent-neighbour term as TopK over a bank of training codes
    "1e56d94_sample_groups_d3.onnx": 3,  # ReduceMin over grouped sampled codes
    "3353278_gemm_affine_d1.onnx": 1,  # per-column shifts and scales as Gemms
    "4254588_kmeans_ens2_d3.onnx": 3,  # signed log by clamp, k-means centroids, 2 members
    "f8b5bc4_float64_vae_ens2_d2.onnx": 2,  # float64 input with centre subtraction, VAE, 2 members
    "7b84be4_code_sizes_d3.onnx": 3,  # code_sizes=(2, 4, 8): batched layers, the cut as a Mul by a 0/1 mask
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_a_graph_an_older_release_stored_loads_and_scores(name: str) -> None:
    n_features = GRAPHS[name]
    integrity._PASSED.clear()  # Why: a hash cached by another test would skip the check under test
    sess = make_session((OLD / name).read_bytes(), model=name.removesuffix(".onnx"), n_features=n_features)
    dtype = np.float64 if sess.get_inputs()[0].type == "tensor(double)" else np.float32
    rows = np.random.default_rng(0).normal(size=(5, n_features)).astype(dtype)
    rows[0, 0] = np.nan  # Why: old graphs had their own NULL fill; a NULL must still score
    score = sess.run(None, {"x": rows})[0]
    assert score.shape[0] == 5 and np.isfinite(score).all()
