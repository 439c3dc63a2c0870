"""explain says what its training range is: the values 99% of the training rows held (robust training, the default),
or every training value (robust=False), not a bare "training range"."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import explainwords
from ad_duckdb.cli import cli
from ad_duckdb.features import raw_values

from conftest import FAST, unwrapped


def _explain(path: str, model: str, select: str) -> str:
    res = CliRunner().invoke(cli, ["explain", path, model, select, "--where", "true"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return unwrapped(res.output)


def _line(out: str, column: str) -> str:
    return next(x for x in out.splitlines() if x.lstrip().startswith(column + " "))


def test_explain_says_the_training_range_is_where_99_percent_of_training_values_were(tmp_path: Path) -> None:
    """A value far out read "beyond the training range's top, 84", and the README's word for that range was the
    training range too, though robust training (the default) takes it from the 0.5% and 99.5% quantiles: a reader
    who had a training row of 3,000 took the line for a mistake. It says what the range is; a model trained with
    robust=False, whose range is every training value, says that."""
    rng = np.random.default_rng(0)
    path = str(tmp_path / "r.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS a, unnest(?::DOUBLE[]) AS b",
                    [rng.normal(50, 5, 1500).tolist(), rng.normal(10, 1, 1500).tolist()])
        ad_duckdb.train(con, "rob", "t", **FAST)
        ad_duckdb.train(con, "all", "t", robust=False, **FAST)
        rob = {f.name: f for f in ad_duckdb.load_model(con, "rob").features}["a"]
        low, high = con.execute("SELECT min(a), max(a) FROM t").fetchone()
    finally:
        con.close()
    q_lo, q_hi = (float(v) for v in raw_values(rob, np.array([rob.lo, rob.hi])))
    line = _line(_explain(path, "rob", "SELECT 500.0 AS a, 10.0 AS b"), "a")
    assert "training range" not in line, line
    m = re.search(r"spreads above it, beyond ([-0-9.]+): 99% of training values were between ([-0-9.]+) and "
                  r"([-0-9.]+)\)$", line)
    assert m, line
    assert float(m.group(1)) == float(m.group(3)) and abs(float(m.group(3)) - q_hi) < 0.1, (line, q_lo, q_hi)
    assert abs(float(m.group(2)) - q_lo) < 0.1 and low < q_lo and q_hi < high, (line, low, high)
    line = _line(_explain(path, "all", "SELECT 500.0 AS a, 10.0 AS b"), "a")
    m = re.search(r"beyond ([-0-9.]+): every training value was between ([-0-9.]+) and ([-0-9.]+)\)$", line)
    assert m and abs(float(m.group(2)) - low) < 0.1 and abs(float(m.group(3)) - high) < 0.1, (line, low, high)
    # the range term's meaning, on a row it flags mostly for its range, says the same
    terms = {"reconstruction": 0.5, "neighbour": 0.5, "range": 9.0}
    assert "mostly range (90%: a value lies outside the range 99% of training values were in)" in \
        explainwords._terms_text(terms, True), explainwords._terms_text(terms, True)
    assert "mostly range (90%: a value lies outside every training value's range)" in \
        explainwords._terms_text(terms, True, robust=False)
