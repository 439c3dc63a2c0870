"""Governance: the same data, options and seed train the same model (same sha256, same thresholds), and a stored
model's record says how to train it again."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb

import ad_duckdb


def _trained(con: object, name: str, **params: object) -> tuple[str, list[tuple[str, float]]]:
    """The sha256 and thresholds of a fresh training of ``name`` on table h."""
    info = ad_duckdb.train(con, name, "h", features=["a", "b"], epochs=2, max_train_rows=500, progress=False,
                           **params)
    sha = con.execute("SELECT sha256 FROM ad_models WHERE name = ? AND version = ?", [name, info.version]).fetchone()
    return sha[0], sorted(info.thresholds.items())


def test_a_connection_without_insertion_order_trains_the_same_model(tmp_path: Path) -> None:
    # Before: with SET preserve_insertion_order = false (DuckDB's advice for large loads), a table of several row
    # groups reached training in another order on each read on 2+ threads, and row order decides the shuffles and
    # the max_train_rows sample: the same call stored another model (sha256 and thresholds) each time.
    path = str(tmp_path / "h.duckdb")
    with duckdb.connect(path) as con:  # several row groups, read back from the file as a warehouse table is
        con.execute("CREATE TABLE h AS SELECT (range % 97)::DOUBLE + random() AS a, "
                    "(range % 13)::DOUBLE * 2 + random() AS b FROM range(600000)")
    con = ad_duckdb.connect(path)
    try:
        con.execute("SET threads = 4")  # a parallel scan, whatever the machine's core count
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # training notes are not the point here
            ordered = _trained(con, "ordered")
            con.execute("SET preserve_insertion_order = false")
            unordered = [_trained(con, f"unordered_{i}") for i in range(3)]
        assert unordered == [ordered] * 3
        # the user's own setting is left as they set it
        assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0] is False
    finally:
        con.close()
