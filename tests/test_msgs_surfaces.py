"""Messages that name what works where they are read (msgs): the order check's switch, a wrong number of arguments
and a threshold written in an open transaction, in `ad-duckdb sql` and `ad-duckdb serve`. The server and its
warehouse come from tests/test_server.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from ad_duckdb.cli import cli

import test_server
from test_server import Server

SWAPPED = "SELECT anomaly_score('tx_ae', amount, count) FROM transactions"


def _serve_error(server: Server, sql: str) -> str:
    with psycopg.connect(server.url()) as conn:
        with pytest.raises(psycopg.Error) as e:
            conn.execute(sql).fetchall()
        conn.rollback()
    d = e.value.diag
    return f"{d.message_primary} {d.message_detail or ''} {d.message_hint or ''}"


def _sql_error(db: str, sql: str) -> str:
    r = CliRunner().invoke(cli, ["sql", db, sql])
    assert r.exit_code != 0, r.output
    return r.output


def test_order_check_message_names_a_switch_the_surface_has(server: Server, warehouse: str) -> None:
    # Before: serve's message said to turn the check off with ad_duckdb.connect(path, check_order=False) or
    # `ad-duckdb sql --no-order-check`, neither of which a serve client has.
    msg = _serve_error(server, SWAPPED)
    assert "look out of order" in msg
    assert "check_order" not in msg and "--no-order-check" not in msg
    assert "anomaly_score('tx_ae', count, amount)" in msg
    out = _sql_error(warehouse, SWAPPED)
    assert "look out of order" in out and "--no-order-check" in out
    assert "ad_duckdb.connect" not in out and "dbt" not in out


@pytest.mark.parametrize("call", ["anomaly_threshold('tx_ae', 'default', 'p99')", "anomaly_model('tx_ae', 1)",
                                  "anomaly_model()"])
def test_wrong_arity_gets_the_call_shape(server: Server, warehouse: str, call: str) -> None:
    # Before: DuckDB's raw "No function matches the given name and argument types" for too many arguments (too few
    # already got the call's shape).
    func = call.split("(")[0]
    for msg in (_serve_error(server, f"SELECT {call}"), _sql_error(warehouse, f"SELECT {call}")):
        assert "No function matches" in msg
        assert f"{func} takes " in msg, msg
        assert ("name only" in msg) == (func == "anomaly_model"), msg


def test_missing_threshold_in_an_open_transaction_is_said_as_it_is_here(warehouse: str, tmp_path: Path) -> None:
    # Before: `ad-duckdb sql` said a threshold written in an open transaction "is seen here once committed", but its
    # statements see their own transaction's writes.
    out = _sql_error(warehouse, "SELECT anomaly_threshold('tx_ae', 'mine')")
    assert "no threshold 'mine'" in out
    assert "once committed" not in out
    assert "its own transaction's writes" in out
    db = str(tmp_path / "rw.duckdb")
    shutil.copy(warehouse, db)
    with test_server.serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as conn:
        conn.execute("INSERT INTO ad_thresholds SELECT * REPLACE ('mine' AS threshold_name) "
                     "FROM ad_thresholds WHERE threshold_name = 'default'")
        # seen by the next statement, without a SIGHUP: the server loads the store once a write to it commits
        value = conn.execute("SELECT anomaly_threshold('tx_ae', 'mine')").fetchall()[0][0]
        assert value == conn.execute("SELECT anomaly_threshold('tx_ae', 'default')").fetchall()[0][0]
