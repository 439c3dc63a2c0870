"""Models as rows: versions, sha256 checks, drop, .onnx export / import, the shipped schema."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

import ad_duckdb
from ad_duckdb import store

from conftest import FAST, ROOT, make_transactions


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    con = ad_duckdb.connect(str(path))
    make_transactions(con, n=800)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    return path


def test_schema_is_exactly_the_documented_one() -> None:
    assert (ROOT / "sql" / "schema.sql").read_text() == store.schema_sql()
    con = duckdb.connect()
    store.ensure_schema(con)
    cols = [r[0] for r in con.execute("DESCRIBE ad_models").fetchall()]
    assert cols == ["name", "version", "created_at", "format_version", "kind", "features", "source", "train_rows",
                    "params", "metrics", "lib_versions", "onnx", "sha256"]
    cols = [r[0] for r in con.execute("DESCRIBE ad_thresholds").fetchall()]
    assert cols == ["model", "version", "threshold_name", "value", "method", "chosen_on", "precision", "recall", "f1",
                    "flagged_share", "created_at"]
    con.close()


def test_stored_row_contents(db: Path) -> None:
    con = ad_duckdb.connect(str(db), read_only=True)
    try:
        rec = ad_duckdb.load_model(con, "tx_ae")
        assert rec.kind == "autoencoder" and rec.format_version == store.FORMAT_VERSION
        assert rec.sha256 == store.sha256_hex(rec.onnx)
        assert [f.name for f in rec.features] == ["count", "amount"]
        assert rec.features[0].sql_type == "INTEGER" and rec.features[1].sql_type == "DECIMAL(12,2)"
        assert {"torch", "onnxruntime", "duckdb"} <= set(rec.lib_versions)
        names = {t.name for t in rec.thresholds}
        assert {"default", "p90", "p95", "p99", "p999"} <= names
        assert len(rec.metrics["score_quantiles"]) == 1001
    finally:
        con.close()


def test_tampered_row_is_refused_and_others_still_score(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        make_transactions(con, n=800, seed=1)
        ad_duckdb.train(con, "other", "transactions", features=["count", "amount"], **FAST)
        con.execute("UPDATE ad_models SET onnx = onnx || '\\x00'::BLOB WHERE name = 'tx_ae'")
    finally:
        con.close()
    con = ad_duckdb.connect(str(db))
    try:
        with pytest.raises(ad_duckdb.IntegrityError, match="sha256 of its stored ONNX bytes does not match"):
            ad_duckdb.load_model(con, "tx_ae")
        with pytest.raises(duckdb.Error, match="failed their integrity check"):
            con.execute("SELECT anomaly_score('tx_ae', 1, 2)").fetchall()
        assert con.execute("SELECT anomaly_score('other', 5, 100)").fetchall()[0][0] >= 0
    finally:
        con.close()


def test_newer_format_version_refused(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        con.execute("UPDATE ad_models SET format_version = 99")
        with pytest.raises(ad_duckdb.IntegrityError, match="format_version 99, newer .* upgrade ad_duckdb"):
            ad_duckdb.load_model(con, "tx_ae")
    finally:
        con.close()


def test_export_import_roundtrip(db: Path, tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx.onnx")
        info = ad_duckdb.import_model(con, f, name="copy")
        assert info.ref == "copy@1" and info.features == ["count", "amount"]
        a, b = con.execute("SELECT sum(anomaly_score('tx_ae', count, amount)), "
                           "sum(anomaly_score('copy', count, amount)) FROM transactions").fetchall()[0]
        assert a == b
        assert ad_duckdb.load_model(con, "copy").thresholds[0].value == ad_duckdb.load_model(con, "tx_ae").thresholds[0].value
        # a plain ONNX runtime runs the exported file too (metadata is ordinary metadata_props)
        import onnxruntime as ort

        sess = ort.InferenceSession(str(f), providers=["CPUExecutionProvider"])
        out = sess.run(["score"], {"x": np.array([[5, 100.0]], dtype=np.float32)})[0]
        assert out.shape == (1,)
        bad = tmp_path / "bad.onnx"
        data = bytearray(f.read_bytes())
        data[200] ^= 0xFF
        bad.write_bytes(bytes(data))
        with pytest.raises(ad_duckdb.AdDuckDBError):
            ad_duckdb.import_model(con, bad)
    finally:
        con.close()


def test_drop_versions(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        assert ad_duckdb.drop_model(con, "tx_ae@1") == [1]
        assert con.execute("SELECT anomaly_score('tx_ae@2', 5, 100)").fetchall()[0][0] >= 0
        with pytest.raises(duckdb.Error, match="has no version 1"):
            con.execute("SELECT anomaly_score('tx_ae@1', 5, 100)").fetchall()
        assert ad_duckdb.drop_model(con, "tx_ae") == [2]
        assert con.execute("SELECT count(*) FROM ad_thresholds").fetchall()[0][0] == 0
        with pytest.raises(ad_duckdb.ModelNotFoundError, match="known models: none yet"):
            ad_duckdb.drop_model(con, "tx_ae")
    finally:
        con.close()


def test_dropped_versions_are_never_reused(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        assert ad_duckdb.drop_model(con, "tx_ae@2") == [2]
        # a query pinned to 'tx_ae@2' must not be answered by the next model
        assert ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST).version == 3
        assert ad_duckdb.drop_model(con, "tx_ae") == [1, 3]
        assert ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST).version == 4
        with pytest.raises(duckdb.Error, match="has no version 2"):
            con.execute("SELECT anomaly_score('tx_ae@2', 5, 100)").fetchall()
    finally:
        con.close()


def test_store_tables_are_never_write_targets(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        for into in ("ad_models", "AD_THRESHOLDS", "main.ad_models", '"ad_models"'):
            with pytest.raises(ad_duckdb.BadInputError, match="where ad_duckdb keeps its models"):
                ad_duckdb.score(con, "tx_ae", "transactions", into=into, replace=True)
        with pytest.raises(ad_duckdb.BadInputError, match="where ad_duckdb keeps its models"):
            ad_duckdb.evaluate(con, "tx_ae", "SELECT *, 0 AS y FROM transactions", label="y", into="ad_thresholds")
        # nothing was lost: the model still scores
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] >= 0
    finally:
        con.close()


def test_a_users_own_table_named_ad_models_gets_a_clear_error(tmp_path: Path) -> None:
    path = str(tmp_path / "ads.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE ad_models (campaign VARCHAR, budget DOUBLE)")
    con.execute("INSERT INTO ad_models VALUES ('spring', 1200)")
    make_transactions(con, n=300)
    con.close()
    for step in (lambda: ad_duckdb.connect(path),
                 lambda: ad_duckdb.train(duckdb.connect(path), "tx_ae", "transactions", features=["count"], **FAST)):
        with pytest.raises(ad_duckdb.BadInputError, match=r"'ad_models' in this database is not ad_duckdb's model "
                                                          r"store \(it has columns campaign, budget.*RENAME TO"):
            step()
    con = duckdb.connect(path)
    assert con.execute("SELECT * FROM ad_models").fetchall() == [("spring", 1200.0)]
    con.close()
