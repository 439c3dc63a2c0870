"""ONNX export at training time: the template path (export.to_onnx_bytes via exporttemplates) against torch's exporter,
byte for byte and in CPU time, in one run.

For each configuration the product trains (default, ``where=``, an ensemble, ``code_sizes``, a VAE, a text column,
2 and 3 columns, a float64 column, logged columns, wide rows, pooled feature errors, knn_k > 1, range_weight), three
models of one shape are trained with different seeds, twice: once as training runs (the templates kept across the
trainings, so the second and later models of a shape are filled in) and once with the templates forgotten before each
training and unused (``exporttemplates.exporter_only``: every file written by torch's exporter, as before the
templates). Every stored sha256 must be the same in
both runs; the script exits 1 otherwise.

Then the CPU time of one export (torch's exporter, against a filled template) and of a small training end to end
(2,000 rows x 4 columns, 3 epochs; the templates used, against torch's exporter only), median of 7, alternated.

    python bench/export_speed.py            # all checks and timings
    python bench/export_speed.py --quick    # fewer configurations, no end-to-end timing
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np

import ad_duckdb
from ad_duckdb import exporttemplates
from ad_duckdb.export import _export, to_onnx_bytes

SEEDS = (0, 1, 2)


def _tables(con: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(0)
    n = 2000
    a = rng.normal(10, 2, n)
    b = a * 3 + rng.normal(0, 1, n)
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS a, unnest(?) AS b, unnest(?) AS c, unnest(?) AS d, "
                "unnest(?) AS e, unnest(?) AS big, unnest(?) AS ch",
                [a.tolist(), b.tolist(), rng.poisson(4, n).astype(float).tolist(),
                 rng.lognormal(3, 2, n).tolist(), rng.lognormal(1, 1.5, n).tolist(),
                 (1.7e9 + rng.normal(0, 50, n)).tolist(), [["web", "store", "phone"][i % 3] for i in range(n)]])
    con.execute("CREATE TABLE wide AS SELECT " + ", ".join(f"hash(range * 40 + {i}) % 1000 / 1000 + {i} * (range % 5) "
                                                           f"AS w{i}" for i in range(40)) + " FROM range(1500)")


# name -> (source, train options); epochs kept small: the graph's shape, not its quality, is what is checked here
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("t", {"features": ["a", "b", "c", "d"]}),
    "where": ("t", {"features": ["a", "b", "c", "d"], "where": "c < 9"}),
    "n_models": ("t", {"features": ["a", "b", "c", "d"], "n_models": 3}),
    "code_sizes": ("t", {"features": ["a", "b", "c", "d"], "code_sizes": (2, 4, 8, 16)}),
    "vae": ("t", {"features": ["a", "b", "c", "d"], "kind": "vae"}),
    "text": ("t", {"features": ["a", "b", "ch"]}),
    "two_columns": ("t", {"features": ["a", "b"]}),
    "three_columns": ("t", {"features": ["a", "b", "c"]}),
    "float64": ("t", {"features": ["a", "big", "c"]}),
    "logged": ("t", {"features": ["d", "e"]}),
    "some_logged": ("t", {"features": ["a", "d", "e"]}),
    "wide": ("wide", {}),
    "pooled": ("t", {"features": ["a", "b", "c", "d"], "feature_errors": "pooled"}),
    "knn_k": ("t", {"features": ["a", "b", "c"], "knn_k": 3, "bank_groups": 4}),
    "range_weight": ("t", {"features": ["a", "b", "c"], "range_weight": 0.5, "n_models": 2}),
    "kmeans_ensemble": ("t", {"features": ["a", "b", "c"], "where": "c < 9", "code_sizes": (2, 4)}),
}
QUICK = ("default", "code_sizes", "vae", "text", "float64")


def _train_all(names: list[str], forget: bool) -> dict[str, str]:
    """The stored sha256 of every configuration and seed, trained in one database (torch's exporter only when
    ``forget``)."""
    con = ad_duckdb.connect(":memory:")
    _tables(con)
    out = {}
    for name in names:
        source, opts = CONFIGS[name]
        for seed in SEEDS:
            model = f"{name}_{seed}"
            with exporttemplates.exporter_only() if forget else contextlib.nullcontext():
                ad_duckdb.train(con, model, source, epochs=2, seed=seed, progress=False, **opts)
            out[model] = con.execute("SELECT sha256 FROM ad_models WHERE name = ?", [model]).fetchone()[0]
    con.close()
    return out


def check(names: list[str]) -> bool:
    exporttemplates.clear()
    before = exporttemplates.stats()
    kept = _train_all(names, forget=False)
    filled = exporttemplates.stats()["filled"] - before["filled"]
    fresh = _train_all(names, forget=True)
    bad = [m for m in kept if kept[m] != fresh[m]]
    print(f"{len(kept)} trainings in {len(names)} configurations: {filled} files filled from a template, "
          f"{len(kept) - len(bad)} of {len(kept)} sha256 equal to torch's export")
    for m in bad:
        print(f"  DIFFERENT: {m}")
    return not bad


def _cpu(fn: Callable[[], object]) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def time_export() -> None:
    """CPU of one export of a default graph: torch's exporter against the template (median of 7, alternated)."""
    det = ad_duckdb.AutoEncoderDetector(epochs=3, progress=False).fit(np.random.default_rng(0).normal(size=(2000, 4)))
    exporttemplates.clear()
    to_onnx_bytes(det.graph_, 4)
    to_onnx_bytes(det.graph_, 4)  # the template is made
    old, new = [], []
    for _ in range(7):
        old.append(_cpu(lambda: _export(det.graph_, 4)))
        new.append(_cpu(lambda: to_onnx_bytes(det.graph_, 4)))
    assert to_onnx_bytes(det.graph_, 4) == _export(det.graph_, 4)
    o, n = statistics.median(old), statistics.median(new)
    print(f"export of one graph, CPU: torch {o * 1e3:.1f} ms, template {n * 1e3:.2f} ms (x{n / o:.3f})")


def time_training() -> None:
    """CPU of a small training end to end, the templates kept against forgotten (median of 7, alternated)."""
    con = ad_duckdb.connect(":memory:")
    con.execute("CREATE TABLE s AS SELECT random() a, random() * 3 b, (range % 7)::DOUBLE c, random() + range / 1000 d "
                "FROM range(2000)")
    runs: dict[bool, list[float]] = {True: [], False: []}
    exporttemplates.clear()
    for i in range(9):
        for kept in (False, True):
            with contextlib.nullcontext() if kept else exporttemplates.exporter_only():
                cpu = _cpu(lambda: ad_duckdb.train(con, f"s{i}_{kept}", "s", epochs=3, progress=False))  # noqa: B023
            if i > 1:  # the first two rounds make the template
                runs[kept].append(cpu)
    o, n = statistics.median(runs[False]), statistics.median(runs[True])
    print(f"training of 2,000 rows x 4 columns, 3 epochs, CPU: torch's exporter {o * 1e3:.0f} ms, template "
          f"{n * 1e3:.0f} ms (x{n / o:.2f})")
    con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # training notes on these synthetic tables are not the point
    ok = check(list(QUICK if args.quick else CONFIGS))
    time_export()
    if not args.quick:
        time_training()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
