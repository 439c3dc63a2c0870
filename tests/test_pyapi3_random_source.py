"""A training source that draws other rows each time it is read (``random()``, ``USING SAMPLE`` without a seed),
trained by path (the file let go meanwhile): the note says so and how to keep the draw, not that "another process
wrote them while the file was let go", which no one did."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import pytest

import ad_duckdb
from ad_duckdb.exceptions import AdDuckDBWarning

from conftest import FAST


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "readings.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE readings AS SELECT sin(i / 7.0) AS a, cos(i / 11.0) AS b FROM range(20000) t(i)")
    con.close()
    return path


@pytest.mark.parametrize("source", ["SELECT * FROM readings USING SAMPLE 50% (bernoulli)",
                                    "SELECT * FROM readings WHERE random() < 0.5"])
def test_a_source_drawn_at_random_is_said_to_be(db: str, source: str) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        info = ad_duckdb.train(db, "m", source, **FAST)
    said = [str(w.message) for w in seen if issubclass(w.category, AdDuckDBWarning)]
    assert len(said) == 1, said
    msg = said[0]
    assert "another process" not in msg and "Train it again" not in msg, msg
    assert msg.startswith(f"Model 'm': {source} gave other rows each time it was read"), msg
    assert "USING SAMPLE 10% (bernoulli, 42)" in msg and "CREATE TABLE" in msg, msg
    assert info.version == 1  # stored all the same: it learned from the rows it read


def test_a_seeded_sample_says_nothing(db: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdDuckDBWarning)
        ad_duckdb.train(db, "m", "SELECT * FROM readings USING SAMPLE 50% (bernoulli, 42)", **FAST)
