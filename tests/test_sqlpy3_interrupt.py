"""Ctrl-C during the user's own query that calls our SQL functions (``con.sql("SELECT anomaly_score(...) ...")``). DuckDB
passes a SQL function's exception on as "Invalid Input Error: Python exception occurred while executing the UDF:
KeyboardInterrupt: " with the exception's own text after it, and a Ctrl-C's was empty: the interrupted query read as a
wrong one. Our functions now give that text: what was stopped, and that the query is fine. (DuckDB keeps its class; a
Ctrl-C that lands as a call of ours begins, before any of our code runs, stays DuckDB's bare text.)"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import duckdb
import pytest

import ad_duckdb

from conftest import FAST


@pytest.fixture()
def sigint_raises() -> Iterator[None]:
    """SIGINT raising KeyboardInterrupt, as in a terminal or a notebook kernel (a test run started in the background
    ignores it)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def test_ctrl_c_in_the_users_own_query_says_it_was_interrupted(sigint_raises: None) -> None:
    import _thread

    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT sin(i / 7.0) AS a, cos(i / 11.0) AS b FROM range(2000) r(i)")
        ad_duckdb.train(con, "valve", "t", **{**FAST, "max_steps": 60})
        con.execute("SET threads = 1")  # the functions then run on this thread, where Python raises the Ctrl-C
        said = []
        for _ in range(5):  # the Ctrl-C lands where it lands: in our Python nearly always, at a call's start now and then
            timer = threading.Timer(0.3, _thread.interrupt_main)
            timer.start()
            try:
                with pytest.raises(duckdb.Error) as e:
                    con.sql("SELECT sum(anomaly_score('valve', random(), random())) FROM range(50000000)").fetchall()
            finally:
                timer.cancel()
            assert "KeyboardInterrupt" in str(e.value), str(e.value)
            said.append(str(e.value))
            if "Ctrl-C stopped the query in anomaly_score('valve', ...); the query itself is fine" in str(e.value):
                break
        else:
            pytest.fail(f"never said: {said}")
        # the connection goes on
        assert con.execute("SELECT anomaly_score('valve', 0.5, 0.5) > 0").fetchone() == (True,)
    finally:
        con.close()
