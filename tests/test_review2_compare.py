"""compare_versions on a connection of duckdb.connect (not ad_duckdb.connect), as score and evaluate take one."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb

import ad_duckdb
from ad_duckdb.compare import compare_versions

from conftest import FAST


def test_compare_versions_registers_the_functions_it_scores_with(tmp_path: Path) -> None:
    # compare scores both versions with the SQL function anomaly_score, which a plain duckdb connection has not:
    # "Scalar Function with name anomaly_score does not exist!", where score, evaluate and set_threshold register
    # the functions themselves (their docs: con = ad_duckdb.connect(...) or duckdb.connect(...)).
    path = str(tmp_path / "c.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range % 7)::DOUBLE AS b, "
                    "(range % 97 = 0)::INT AS y FROM range(1000)")
        for seed in (0, 1):
            ad_duckdb.train(con, "m", "t", features=["a", "b"], **{**FAST, "seed": seed})
    finally:
        con.close()
    for label in (None, "y"):
        plain = duckdb.connect(path)
        try:
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")
                r = compare_versions(plain, "m@1", "m@2", "t", label=label)
            assert r.rows == 1000 and (r.labelled is not None) == (label is not None)
            # with labels, evaluate's note on each version's training rows, which these are
            trained = [str(w.message) for w in said if "of these rows are rows" in str(w.message)]
            assert [t.split(" was trained on")[0] for t in trained] == (
                [] if label is None else ["1000 of these rows are rows m@1", "1000 of these rows are rows m@2"]), trained
        finally:
            plain.close()
