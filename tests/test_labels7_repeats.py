"""labels7: whether labelled rows repeat an id is read from the ids' hashes read with the rows, not by a second
count(DISTINCT id) over the source (a label join run again; evaluate's peak at 10M rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import ad_duckdb
from ad_duckdb import repeatedrows

from conftest import FAST


def test_repeated_ids_are_said_from_the_rows_read_and_null_ids_are_no_repeats(tmp_path: Path) -> None:
    """An id beyond 2^53 (a double cannot hold it; its hash's top bits can) repeated by a union is said; rows whose
    id is NULL are not repeats of each other (hash(NULL) is one value for all of them)."""
    con = ad_duckdb.connect(str(tmp_path / "r.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT range + 1152921504606846976 AS id, (range % 37)::DOUBLE AS a, "
                    "(range * 7 % 13)::DOUBLE AS b, (range % 40 = 0)::INT AS lab FROM range(400)")
        ad_duckdb.train(con, "m", "t", features=["a", "b"], **FAST)
        twice = "SELECT * FROM t UNION ALL SELECT * FROM t WHERE lab = 1"
        said = [n for n in ad_duckdb.evaluate(con, "m", twice, label="lab").notes if "repeat" in n]
        assert len(said) == 1 and "10 of these 410 rows repeat another row" in said[0], said
        nulls = ("SELECT if(lab = 1, NULL, id) AS id, a, b, lab FROM t UNION ALL "
                 "SELECT NULL AS id, a, b, lab FROM t WHERE lab = 1")
        assert not [n for n in ad_duckdb.evaluate(con, "m", nulls, label="lab").notes if "repeat" in n]
        assert not [n for n in ad_duckdb.evaluate(con, "m", "t", label="lab").notes if "repeat" in n]
    finally:
        con.close()


def test_repeating_reads_the_hashes_of_each_id_column() -> None:
    h = np.array([[1.0, 5.0], [2.0, np.nan], [np.nan, np.nan], [2.0, 6.0]])
    assert repeatedrows.repeating(["a", "b"], h) == ["a"]
    assert repeatedrows.repeating(["a", "b"], h[:2]) == []
