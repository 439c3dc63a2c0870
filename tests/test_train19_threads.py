"""Training's own torch passes run in one thread: the same data, options and seed store the same model whatever
torch's thread count (torchthreads)."""

from __future__ import annotations

import numpy as np
import torch

import ad_duckdb


def test_the_same_training_stores_the_same_model_with_one_torch_thread_or_two() -> None:
    # Before: the k-means of the neighbour bank (rows known normal: where=) ran in torch's threads after the one-thread
    # training loop, summed its assignments in another order with two threads than with one, and the same seed stored
    # another graph (and other thresholds) on a machine with another core count, or under OMP_NUM_THREADS.
    rng = np.random.default_rng(0)
    a = rng.normal(size=1000)
    con = ad_duckdb.connect()
    threads = torch.get_num_threads()
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?) AS a, unnest(?) AS b, unnest(?) AS c",
                    [a.tolist(), (2 * a + 0.1 * rng.normal(size=1000)).tolist(), rng.exponential(size=1000).tolist()])
        stored = {}
        for n in (2, 1):
            torch.set_num_threads(n)
            info = ad_duckdb.train(con, f"m{n}", "t", where="a < 5", epochs=1, progress=False)
            assert torch.get_num_threads() == n  # the caller's count is left as it was
            rec = ad_duckdb.load_model(con, info.ref)
            stored[n] = (rec.sha256, sorted((t.name, t.value) for t in rec.thresholds),
                         rec.metrics["parity_max_abs_diff"])
    finally:
        torch.set_num_threads(threads)
        con.close()
    assert stored[2] == stored[1]
