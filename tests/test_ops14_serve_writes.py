"""A write through a `serve --read-write` server to the store (a threshold INSERTed or UPDATEd, a model row
INSERTed) is seen by the statements after it, of every session, without a SIGHUP; the missing threshold's fix no
longer asks for one. The server and its warehouse come from tests/test_server.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import psycopg
import pytest

import ad_duckdb

import test_server

warehouse = test_server.warehouse

FLAGGED = "SELECT count(*) FILTER (WHERE is_anomaly_at('tx_ae', 'cut', count, amount)) FROM transactions"


def _expected(db: str, cut: float) -> int:
    con = ad_duckdb.connect(db, read_only=True)
    try:
        return int(con.execute("SELECT count(*) FILTER (WHERE anomaly_score('tx_ae', count, amount) > ?) "
                               "FROM transactions", [cut]).fetchall()[0][0])
    finally:
        con.close()


def test_a_threshold_written_through_a_read_write_server_is_used_at_once(warehouse: str, tmp_path: Path) -> None:
    db = str(tmp_path / "rw.duckdb")
    shutil.copy(warehouse, db)
    low, high = _expected(db, 1.0), _expected(db, 3.0)
    assert low != high, (low, high)
    with test_server.serve(db, "--read-write") as s, psycopg.connect(s.url(), autocommit=True) as a, \
            psycopg.connect(s.url(), autocommit=True) as b:
        with pytest.raises(psycopg.Error) as e:
            b.execute(FLAGGED).fetchall()
        said = str(e.value)
        sql = re.search(r"(INSERT INTO ad_thresholds .+?\))", said)
        assert sql is not None and "kill -HUP" not in said, said
        a.execute("INSERT INTO ad_thresholds (model, version, threshold_name, value, method, chosen_on, "
                  "flagged_share, created_at) VALUES ('tx_ae', 1, 'cut', 1.0, 'manual', 'set by hand', NULL, "
                  "now()::TIMESTAMP)")
        assert a.execute(FLAGGED).fetchall()[0][0] == low
        assert b.execute(FLAGGED).fetchall()[0][0] == low  # another session, opened before
        a.execute("UPDATE ad_thresholds SET value = 3.0 WHERE threshold_name = 'cut'")
        assert b.execute(FLAGGED).fetchall()[0][0] == high
        # in a transaction: seen by the others once committed
        a.execute("BEGIN")
        a.execute("UPDATE ad_thresholds SET value = 1.0 WHERE threshold_name = 'cut'")
        assert b.execute(FLAGGED).fetchall()[0][0] == high
        a.execute("COMMIT")
        assert b.execute(FLAGGED).fetchall()[0][0] == low
        # a rolled-back write leaves the cut as committed
        a.execute("BEGIN")
        a.execute("UPDATE ad_thresholds SET value = 3.0 WHERE threshold_name = 'cut'")
        a.execute("ROLLBACK")
        assert b.execute(FLAGGED).fetchall()[0][0] == low
        # a model row stored with SQL (a copy of tx_ae@1 under another name) scores at once
        a.execute("INSERT INTO ad_models SELECT 'tx_copy' AS name, * EXCLUDE (name) FROM ad_models "
                  "WHERE name = 'tx_ae'")
        got = b.execute("SELECT anomaly_score('tx_copy', 3, 120.0) - anomaly_score('tx_ae', 3, 120.0)").fetchall()
        assert abs(got[0][0]) < 1e-4, got
