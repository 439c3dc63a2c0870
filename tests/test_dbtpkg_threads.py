"""The unit-test paragraph of "model not found" in a dbt run with several threads.

Before: with threads: 4, an ordinary model failing on a model not stored, while another model's unit test ran on
another thread, got the paragraph about unit tests' mocked inputs, told as its cause: the functions run on DuckDB's
threads, which know no node, and the plugin only knew that some unit test was running. DuckDB gives a Python function
no caller, so the failing node cannot be told for sure then: the message now says "if", naming the unit tests, and
says it plainly only when every node running is a unit test. dbt's own events (NodeStart, NodeFinished) are fired here
on the real event manager, as dbt fires them on its threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dbt.events.types import NodeFinished, NodeStart
from dbt_common.events.contextvars import log_contextvars
from dbt_common.events.functions import fire_event

from ad_duckdb.dbtnodes import failing_unit_tests

from test_dbt import _dbt_cursor_with_ae

_UNIT = {"unique_id": "unit_test.small.scored.scored_keeps_rows", "resource_type": "unit_test",
         "node_name": "scored_keeps_rows"}
_MODEL = {"unique_id": "model.small.other", "resource_type": "model", "node_name": "other"}
_PLAIN = "A dbt unit test (unit_tests:) mocks the model's inputs"
_IF = "If the failing node is the dbt unit test running at the time (scored::scored_keeps_rows; another node ran beside"


@pytest.fixture
def dbt_cursor(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with _dbt_cursor_with_ae(tmp_path / "m.duckdb") as cur:
        yield cur


def _message(cur: duckdb.DuckDBPyConnection) -> str:
    # a name like no stored one ('ae'): one the run may train, not a typo, which gets no advice but "Did you mean"
    with pytest.raises(duckdb.Error, match="No model 'fraud_model' in table ad_models") as err:
        cur.execute("SELECT anomaly_score('fraud_model', 1.0, 2.0)").fetchall()
    return str(err.value)


def test_unit_test_paragraph_is_a_condition_while_another_node_runs_beside(dbt_cursor: duckdb.DuckDBPyConnection) -> None:
    fire_event(NodeStart(node_info=_UNIT))
    fire_event(NodeStart(node_info=_MODEL))
    try:
        beside = _message(dbt_cursor)
        assert _IF in beside and _PLAIN in beside, beside
        assert failing_unit_tests() == (False, ["scored::scored_keeps_rows"])
        # on the dbt thread of the ordinary model, its own node decides: no paragraph
        with log_contextvars(node_info=_MODEL):
            assert failing_unit_tests() == (True, [])
        with log_contextvars(node_info=_UNIT):
            assert failing_unit_tests() == (True, ["scored::scored_keeps_rows"])
        fire_event(NodeFinished(node_info=_MODEL, run_result={}))
        alone = _message(dbt_cursor)  # only the unit test runs: it failed, said plainly
        assert _PLAIN in alone and "If the failing node" not in alone, alone
    finally:
        fire_event(NodeFinished(node_info=_MODEL, run_result={}))
        fire_event(NodeFinished(node_info=_UNIT, run_result={}))
    after = _message(dbt_cursor)
    assert "unit test" not in after, after
