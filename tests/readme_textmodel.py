"""The README's examples that feed an exported text model to onnxruntime, run as written: the text model tx_ch
(count, amount, channel) trained on the transactions with a text column, its SQL scores of a few rows, its export,
and the README's Python block, shared by the tests of each example."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_review11_textcols import _with_text

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST


def readme_block(after: str) -> str:
    """The README's first ```python block after the text ``after``, as code to run."""
    text = (Path(__file__).parent.parent / "README.md").read_text()
    at = text.index(after)
    start = text.index("```python\n", at) + len("```python\n")
    return textwrap.dedent(text[start: text.index("```", start)])


def readme_scores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: str, export: list[str],
                  after: str) -> tuple[list[float], np.ndarray]:
    """(SQL's scores of ``rows``, a VALUES list of (i, count, amount, channel), in i's order; the ``scores`` of the
    README's block after ``after``), with tx_ch exported by ``ad-duckdb export warehouse.duckdb tx_ch tx_ch.onnx``
    and ``export``'s options into the folder the block runs in. The block runs with warnings as errors."""
    db = tmp_path / "warehouse.duckdb"
    _with_text(db)
    con = ad_duckdb.connect(str(db))
    try:
        ad_duckdb.train(con, "tx_ch", "transactions", features=["count", "amount", "channel"], **FAST)
        sql = [r[0] for r in con.execute(
            f"SELECT anomaly_score('tx_ch', c, a, ch) FROM (VALUES {rows}) AS t(i, c, a, ch) ORDER BY i").fetchall()]
    finally:
        con.close()
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(cli, ["export", "warehouse.duckdb", "tx_ch", "tx_ch.onnx", *export])
    assert run.exit_code == 0, run.output
    scope: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(readme_block(after), "README.md", "exec"), scope)
    return sql, np.asarray(scope["scores"])
