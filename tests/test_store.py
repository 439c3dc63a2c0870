"""Models as rows: versions, sha256 checks, drop, .onnx export / import, the shipped schema."""

from __future__ import annotations

import ast
import re
import shlex
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

import ad_duckdb
from ad_duckdb import api, modelnames, store, storetables

from conftest import FAST, ROOT, make_transactions

README = (ROOT / "README.md").read_text()


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "s.duckdb"
    con = ad_duckdb.connect(str(path))
    make_transactions(con, n=800)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    return path


@pytest.fixture
def db(trained_file: Path, tmp_path: Path) -> Path:
    """A file of its own for each test (they write to it), a byte copy of one trained once for the module."""
    path = tmp_path / "s.duckdb"
    shutil.copyfile(trained_file, path)
    return path


def test_schema_is_exactly_the_documented_one() -> None:
    assert (ROOT / "sql" / "schema.sql").read_text() == storetables.schema_sql()
    con = duckdb.connect()
    storetables.ensure_schema(con)
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
        with pytest.raises(duckdb.Error, match="sha256 of its stored ONNX bytes does not match"):
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
        x = np.array([[5, 100.0]], dtype=np.float64 if sess.get_inputs()[0].type == "tensor(double)" else np.float32)
        out = sess.run(["score"], {"x": x})[0]
        in_sql = con.execute("SELECT anomaly_score('tx_ae', 5, 100.0)").fetchall()[0][0]
        assert out.shape == (1,) and float(out[0]) == pytest.approx(in_sql, rel=1e-6)
        bad = tmp_path / "bad.onnx"
        data = bytearray(f.read_bytes())
        data[200] ^= 0xFF  # inside the graph: the sha256 stored in the metadata no longer matches
        bad.write_bytes(bytes(data))
        models = ad_duckdb.list_models(con)
        with pytest.raises(ad_duckdb.IntegrityError, match=r"bad\.onnx'.*sha256 of its graph does not match"):
            ad_duckdb.import_model(con, bad)
        assert ad_duckdb.list_models(con) == models  # nothing stored from the altered file
    finally:
        con.close()


def test_exported_file_runs_without_ad_duckdb_as_the_readme_says(db: Path, tmp_path: Path) -> None:
    """The README told how to run an exported file (input, outputs) but not where its features, their order and
    its thresholds are, which is what a service scoring with plain onnxruntime needs for is_anomaly."""
    import json

    import onnx
    import onnxruntime as ort

    assert 'custom_metadata_map["ad_duckdb"]' in README and "`score > value`" in README
    con = ad_duckdb.connect(str(db))
    try:
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx.onnx")
        rows = con.execute("SELECT count, amount, anomaly_score('tx_ae', count, amount), is_anomaly('tx_ae', count, "
                           "amount) FROM transactions").fetchall()
    finally:
        con.close()
    db.unlink()  # the file needs nothing of the database it came from
    onnx.checker.check_model(onnx.load(str(f)), full_check=True)
    sess = ort.InferenceSession(str(f), providers=["CPUExecutionProvider"])
    meta = json.loads(sess.get_modelmeta().custom_metadata_map["ad_duckdb"])
    assert [c["name"] for c in meta["features"]] == ["count", "amount"] and meta["name"] == "tx_ae"
    default = next(t["value"] for t in meta["thresholds"] if t["name"] == "default")
    dtype = np.float64 if sess.get_inputs()[0].type == "tensor(double)" else np.float32
    score = sess.run(["score"], {"x": np.array([r[:2] for r in rows], dtype=dtype)})[0]
    np.testing.assert_allclose(score, [r[2] for r in rows], rtol=1e-5)
    assert ((score > default) == np.array([r[3] for r in rows])).all()
    assert [a.shape for a in sess.run(None, {"x": np.zeros((0, 2), dtype)})] == [(0,), (0, 2)]


def test_drop_versions(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        assert ad_duckdb.drop_model(con, "tx_ae@1") == [1]
        assert con.execute("SELECT anomaly_score('tx_ae@2', 5, 100)").fetchall()[0][0] >= 0
        # a dropped version is named as dropped; it was "has no version 1 ... if it was trained in another
        # connection, call ad_duckdb.refresh(con)", which cannot bring it back
        dropped = r"Model 'tx_ae@1' was dropped \(ad-duckdb drop / drop_model\); 'tx_ae' now has version 2\. Version"
        with pytest.raises(duckdb.Error, match=dropped) as e:
            con.execute("SELECT anomaly_score('tx_ae@1', 5, 100)").fetchall()
        assert "refresh" not in str(e.value)
        with pytest.raises(ad_duckdb.ModelNotFoundError, match=dropped):
            ad_duckdb.load_model(con, "tx_ae@1")
        assert ad_duckdb.drop_model(con, "tx_ae") == [2]
        assert con.execute("SELECT count(*) FROM ad_thresholds").fetchall()[0][0] == 0
        gone = r"Model 'tx_ae' \(every version, up to tx_ae@2\) was dropped .*known models: none yet\. Train 'tx_ae' again"
        with pytest.raises(ad_duckdb.ModelNotFoundError, match=gone):
            ad_duckdb.drop_model(con, "tx_ae")
        with pytest.raises(duckdb.Error, match=gone):
            con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()
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
        with pytest.raises(duckdb.Error, match=r"Model 'tx_ae@2' was dropped .*'tx_ae' now has version 4\."):
            con.execute("SELECT anomaly_score('tx_ae@2', 5, 100)").fetchall()
        # a version above every one stored may be trained elsewhere: refresh() is still the advice
        with pytest.raises(duckdb.Error, match=r"has no version 5 .*ad_duckdb\.refresh\(con\)"):
            con.execute("SELECT anomaly_score('tx_ae@5', 5, 100)").fetchall()
    finally:
        con.close()


def test_retraining_a_name_on_other_features_says_what_queries_of_the_name_now_get(db: Path) -> None:
    # Before: silent. anomaly_score('tx_ae', count, amount) kept running on the new version, which reads its second
    # argument as amount_d: the same number of columns, so no error, only other scores.
    con = ad_duckdb.connect(str(db))
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning,
                          match=r"'tx_ae@2' takes \(amount_d, count\), but 'tx_ae@1' took \(count, amount\): "
                                r"once it is stored, queries calling 'tx_ae' get tx_ae@2.*'tx_ae@1'.*another name") as w:
            ad_duckdb.train(con, "tx_ae", "transactions", features=["amount_d", "count"], **FAST)
        assert [r.filename for r in w] == [__file__]  # points at the call of train, as the other notes do
        # the same features again: nothing to say (any warning would fail here, pytest's filterwarnings = error)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["amount_d", "count"], **FAST)
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
    con = ad_duckdb.connect(path)  # connecting works, so the SQL that renames the table can run
    try:
        for step in (lambda: con.execute("SELECT anomaly_score('tx_ae', 1)").fetchall(),
                     lambda: ad_duckdb.train(con, "tx_ae", "transactions", features=["count"], **FAST)):
            with pytest.raises((ad_duckdb.BadInputError, duckdb.Error),
                               match=r"'ad_models' in this database is not ad_duckdb's model store \(it has columns "
                                     r"campaign, budget.*RENAME TO.*ad-duckdb sql DB"):
                step()
        assert con.execute("SELECT * FROM ad_models").fetchall() == [("spring", 1200.0)]
        con.execute("ALTER TABLE ad_models RENAME TO ad_models_data")
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count"], **FAST)
        assert con.execute("SELECT anomaly_score('tx_ae', 1) >= 0").fetchall() == [(True,)]
        assert con.execute("SELECT * FROM ad_models_data").fetchall() == [("spring", 1200.0)]
    finally:
        con.close()


def test_the_way_round_a_users_ad_models_table_that_the_error_offers_works(tmp_path: Path) -> None:
    """The error offered "keep models in another database or schema (USE other_schema)", but ad_duckdb reads and
    writes the store through cursors of its own, which ignore USE: it refused again. It now offers a models file
    that attaches the warehouse, and that works as written."""
    path = str(tmp_path / "ads.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE ad_models (campaign VARCHAR, budget DOUBLE)")
        con.execute("CREATE SCHEMA ml")
        make_transactions(con, n=300)
    con = ad_duckdb.connect(path)
    try:
        con.execute("USE ml")
        with pytest.raises(ad_duckdb.BadInputError, match="is not ad_duckdb's model store") as err:
            ad_duckdb.train(con, "tx_ae", "main.transactions", features=["count"], **FAST)
    finally:
        con.close()
    assert "USE" not in str(err.value)
    fix = re.search(r"con\.execute\((\"ATTACH .*? \(READ_ONLY\)\")\), then train and score on (\S+)\.your_table",
                    str(err.value))
    assert fix is not None, str(err.value)
    con = ad_duckdb.connect(str(tmp_path / "models.duckdb"))
    try:
        con.execute(ast.literal_eval(fix.group(1)))
        ad_duckdb.train(con, "tx_ae", f"{fix.group(2)}.transactions", features=["count"], **FAST)
        assert con.execute("SELECT count(anomaly_score('tx_ae', count)) FROM ads.main.transactions").fetchall() == [(300,)]
        assert con.execute("SELECT * FROM ads.main.ad_models").fetchall() == []  # the user's table untouched
    finally:
        con.close()


def test_damaged_newest_version_is_refused_never_replaced_by_an_older_one(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        v1 = con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0]
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "seed": 5})
        con.execute("UPDATE ad_models SET onnx = onnx || '\\x00'::BLOB WHERE name = 'tx_ae' AND version = 2")
        ad_duckdb.refresh(con)
        for run in (lambda: con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall(),
                    lambda: ad_duckdb.score(con, "tx_ae", "transactions")):
            with pytest.raises((duckdb.Error, ad_duckdb.IntegrityError), match=r"tx_ae@2.*sha256.*load: tx_ae@1"):
                run()
        assert con.execute("SELECT anomaly_score('tx_ae@1', 5, 100)").fetchall()[0][0] == v1
    finally:
        con.close()


def test_export_never_overwrites_without_replace(db: Path, tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        with pytest.raises(ad_duckdb.BadInputError, match="database file in use"):
            ad_duckdb.export_model(con, "tx_ae", db, replace=True)
        out = tmp_path / "m.onnx"
        out.write_bytes(b"keep me")
        with pytest.raises(ad_duckdb.BadInputError, match="exists; pass replace=True"):
            ad_duckdb.export_model(con, "tx_ae", out)
        assert out.read_bytes() == b"keep me"
        ad_duckdb.export_model(con, "tx_ae", out, replace=True)
        assert ad_duckdb.api.read_onnx_file(out).name == "tx_ae"
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
        assert con.execute("SELECT count(*) FROM ad_models").fetchall()[0][0] == 1  # the database is intact
    finally:
        con.close()


def test_a_parquet_path_is_not_taken_for_a_database(tmp_path: Path) -> None:
    pq = tmp_path / "rows.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS a) TO '{pq}'")
    for read_only in (False, True):
        with pytest.raises(ad_duckdb.BadInputError, match=r"not a DuckDB database file.*read_parquet"):
            ad_duckdb.connect(str(pq), read_only=read_only)


def test_into_an_existing_table_in_any_spelling_needs_replace(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        con.execute("CREATE TABLE important AS SELECT 'precious' AS v")
        for into in ("IMPORTANT", "main.important", "Main.Important", "TRANSACTIONS"):
            # the source itself (TRANSACTIONS) is named as such, with replace=True, which keeps its rows, first
            with pytest.raises(ad_duckdb.BadInputError, match=r"exists; pass append=True .* or replace=True"
                                                              r"|is the source scored\. .* pass replace=True"):
                ad_duckdb.score(con, "tx_ae", "transactions", into=into)
        assert con.execute("SELECT v FROM important").fetchall() == [("precious",)]
        assert con.execute("SELECT count(*) FROM transactions").fetchall()[0][0] == 800
    finally:
        con.close()


def test_writes_on_a_read_only_connection_are_refused_up_front(db: Path, tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(db), read_only=True)
    try:
        for what, run in (
            ("Cannot store model 'tx2'", lambda: ad_duckdb.train(con, "tx2", "transactions", **FAST)),
            ("Cannot drop 'tx_ae'", lambda: ad_duckdb.drop_model(con, "tx_ae")),
            ("Cannot write table 'scores'", lambda: ad_duckdb.score(con, "tx_ae", "transactions", into="scores")),
            ("Cannot store threshold 'x' for 'tx_ae@1'", lambda: ad_duckdb.set_threshold(con, "tx_ae", "x", method="manual", value=1.0)),
        ):
            with pytest.raises(ad_duckdb.BadInputError, match=rf"{what}: the database is open read-only"):
                run()
    finally:
        con.close()


def test_bulk_scoring_without_a_default_threshold_is_refused_like_sql(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        con.execute("DELETE FROM ad_thresholds WHERE threshold_name = 'default'")
        ad_duckdb.refresh(con)
        with pytest.raises(duckdb.Error, match="no threshold 'default'"):
            con.execute("SELECT is_anomaly('tx_ae', count, amount) FROM transactions").fetchall()
        with pytest.raises(ad_duckdb.ThresholdNotFoundError, match="no threshold 'default'"):
            ad_duckdb.score(con, "tx_ae", "transactions", into="scores")
        # without is_anomaly among the outputs, nothing needs the threshold
        assert ad_duckdb.score(con, "tx_ae", "transactions", outputs=["anomaly_score"]).num_rows == 800
    finally:
        con.close()


def test_training_in_threads_stores_every_model(tmp_path: Path) -> None:
    # dbt's threads: N trains several models at once in one process; torch's ONNX export is not thread-safe
    import threading

    con = ad_duckdb.connect(str(tmp_path / "threads.duckdb"))
    try:
        make_transactions(con, n=300)
        errors: list[BaseException] = []

        def work(i: int) -> None:
            cur = con.cursor()
            try:
                ad_duckdb.train(cur, "same" if i % 2 else f"m{i}", "transactions", features=["count", "amount"],
                                **{**FAST, "max_steps": 20, "seed": i})
            except BaseException as e:  # noqa: BLE001 - collected and asserted below
                errors.append(e)
            finally:
                cur.close()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(con.execute("SELECT version FROM ad_models WHERE name = 'same'").fetchall()) == [(1,), (2,), (3,), (4,)]
        assert con.execute("SELECT count(*) FROM ad_models").fetchall()[0][0] == 8
    finally:
        con.close()


def test_import_refuses_a_file_whose_metadata_was_altered(db: Path, tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        out = ad_duckdb.export_model(con, "tx_ae", tmp_path / "m.onnx")
        data = out.read_bytes()
        # a same-length edit of the features: the graph's own sha256 still matches
        assert data.count(b'"name": "amount"') == 1
        bad = tmp_path / "bad.onnx"
        bad.write_bytes(data.replace(b'"name": "amount"', b'"name": "amoun2"'))
        with pytest.raises(ad_duckdb.IntegrityError, match="sha256 of its metadata .* does not match"):
            ad_duckdb.import_model(con, bad)
        assert ad_duckdb.import_model(con, out, name="copy").name == "copy"
    finally:
        con.close()


def test_export_model_to_a_path_ending_in_a_slash_makes_the_folder(db: Path, tmp_path: Path) -> None:
    """export_model(con, 'tx_ae', 'pydir2/') wrote a file named 'pydir2'."""
    con = ad_duckdb.connect(str(db))
    try:
        out = ad_duckdb.export_model(con, "tx_ae", f"{tmp_path / 'pydir2'}/")
        assert out == tmp_path / "pydir2" / "tx_ae.onnx" and out.is_file()
        assert api.read_onnx_file(out).name == "tx_ae"
        (tmp_path / "a_file").write_text("")
        with pytest.raises(ad_duckdb.BadInputError, match="names a folder, but .*a_file is a file"):
            ad_duckdb.export_model(con, "tx_ae", f"{tmp_path / 'a_file'}/")
    finally:
        con.close()


def test_register_models_must_name_stored_models(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        with pytest.raises(ad_duckdb.BadInputError, match=r"not stored in this database: \['tx_ea'\]; stored models: tx_ae"):
            ad_duckdb.register(con, models=["tx_ea"], replace=True)
        with pytest.raises(ad_duckdb.BadInputError, match=r"names, not versions.*anomaly_score\('tx_ae@1'"):
            ad_duckdb.register(con, models=["tx_ae@1"], replace=True)
        ad_duckdb.register(con, models=["tx_ae"], replace=True)
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100) > 0").fetchall() == [(True,)]
    finally:
        con.close()


def test_a_model_name_ending_in_onnx_is_refused(db: Path, tmp_path: Path) -> None:
    """register(models=...) and the dbt plugin tell an exported file from a name by the '.onnx' ending, so no name
    may end so: 'fraud.onnx' trained, then listed there, would be looked for as a file."""
    con = ad_duckdb.connect(str(db))
    try:
        for name, suggested in (("fraud.onnx", "fraud"), ("fraud.ONNX", "fraud"), ("v1..onnx", "v1")):
            with pytest.raises(ad_duckdb.BadInputError,
                               match=rf"Model name '{re.escape(name)}' ends in '.onnx', which register\(models=...\) "
                                     rf"and the dbt plugin's 'models' setting read as the path of an exported model "
                                     rf"file. Name it without the ending, e.g. '{suggested}'"):
                ad_duckdb.train(con, name, "transactions", features=["count", "amount"], epochs=2, progress=False)
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx_ae.ONNX")
        with pytest.raises(ad_duckdb.BadInputError, match="ends in '.onnx'"):
            ad_duckdb.import_model(con, f, name="copy.onnx")
        assert [m["name"] for m in ad_duckdb.list_models(con)] == ["tx_ae"]
        # a file entry in any case is read as a file; 'fraud.onnx' (not a name) as a missing one
        ad_duckdb.register(con, models=["tx_ae", str(f)], replace=True)
        with pytest.raises(ad_duckdb.BadInputError, match="does not exist"):
            ad_duckdb.register(con, models=["fraud.onnx"], replace=True)
        assert modelnames.check_name("model.onnx_v2") == "model.onnx_v2"
    finally:
        con.close()



def test_model_names_follow_the_readmes_rule_and_length(db: Path, tmp_path: Path) -> None:
    """README (Security): model names are [A-Za-z_][A-Za-z0-9_.-]*, at most 128 characters."""
    con = ad_duckdb.connect(str(db))
    try:
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx_ae.onnx")
        longest = "_" + "a.b-9" * 25 + "xy"
        assert len(longest) == 128
        assert ad_duckdb.import_model(con, f, name=longest).name == longest
        assert con.execute(f"SELECT count(anomaly_score('{longest}', count, amount)) FROM transactions").fetchall()[0][0]
        for bad in (longest + "z", "9lives", "tx ae", "tx@ae", "tx$ae", "-tx", ".tx", ""):
            with pytest.raises(ad_duckdb.BadInputError, match=r"is not valid: use letters, digits, '_', '-' or '\.', "
                                                              r"starting with a letter or '_' \(at most 128 characters\)"):
                ad_duckdb.import_model(con, f, name=bad)
    finally:
        con.close()


def test_an_error_while_scoring_into_a_table_surfaces_as_itself(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # DuckDB reads the scored batches and wraps an error raised there (or Ctrl-C) as "reading the stream
    # failed" with a traceback in the text; the caller gets the original, and the table is untouched.
    from ad_duckdb.scoring import LoadedModel

    con = ad_duckdb.connect(str(db))
    try:
        con.execute("CREATE TABLE scores AS SELECT 1 AS kept")
        real, calls = LoadedModel.scores, []

        def second_batch_fails(self: LoadedModel, X: np.ndarray, **kw: object) -> np.ndarray:
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return real(self, X, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(LoadedModel, "scores", second_batch_fails)
        with pytest.raises(KeyboardInterrupt):
            ad_duckdb.score(con, "tx_ae", "transactions", into="scores", replace=True, batch_rows=100)
        assert con.execute("SELECT * FROM scores").fetchall() == [(1,)]
    finally:
        con.close()


def test_connect_takes_a_path_object(db: Path) -> None:
    con = ad_duckdb.connect(db, read_only=True)
    try:
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100) > 0").fetchall() == [(True,)]
    finally:
        con.close()


def test_messages_for_a_filtered_registration_and_a_threshold_of_another_version(db: Path) -> None:
    con = ad_duckdb.connect(str(db))
    try:
        ad_duckdb.train(con, "other", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.register(con, models=["tx_ae"], replace=True)
        with pytest.raises(duckdb.Error, match=r"'other' is not among the models these functions were registered "
                                               r"with \(\['tx_ae'\]"):
            con.execute("SELECT anomaly_score('other', 5, 100)").fetchall()
        with pytest.raises(duckdb.Error, match=r"Thresholds belong to one version.*pin the version"):
            con.execute("SELECT is_anomaly_at('tx_ae', 'prec90', 5, 100)").fetchall()
        with pytest.raises(ad_duckdb.BadInputError, match=r"No labelled rows to judge 'tx_ae@1'.*where='count < 0'"):
            ad_duckdb.evaluate(con, "tx_ae", "SELECT *, 0 AS y FROM transactions", label="y", where="count < 0")
        assert "metrics" not in repr(ad_duckdb.api.ModelInfo.of(ad_duckdb.load_model(con, "tx_ae")))
    finally:
        con.close()


def test_a_model_name_in_another_case_is_pointed_to_the_stored_one(tmp_path: Path) -> None:
    # Before: "No model 'tx_ae' ...; known models: 'Tx_AE'. Train one with ...", though column names match in any
    # case and the user had trained it.
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        make_transactions(con, n=300)
        ad_duckdb.train(con, "Tx_AE", "transactions", features=["count", "amount"], **FAST)
        hint = r"No model 'tx_ae' .*case-sensitive: did you mean 'Tx_AE'\?"
        with pytest.raises(duckdb.Error, match=hint):
            con.execute("SELECT anomaly_score('tx_ae', count, amount) FROM transactions").fetchall()
        with pytest.raises(duckdb.Error, match=r"did you mean 'Tx_AE@1'\?"):
            con.execute("SELECT anomaly_score('tx_ae@1', count, amount) FROM transactions").fetchall()
        # a version the stored model lacks is not suggested: its versions are
        with pytest.raises(duckdb.Error, match=r"did you mean 'Tx_AE' \(versions: 1\)\?"):
            con.execute("SELECT anomaly_score('tx_ae@5', count, amount) FROM transactions").fetchall()
        for call in (lambda: ad_duckdb.load_model(con, "tx_ae"), lambda: ad_duckdb.score(con, "tx_ae", "transactions")):
            with pytest.raises(ad_duckdb.ModelNotFoundError, match=hint):
                call()
        assert con.execute("SELECT anomaly_score('Tx_AE', count, amount) FROM transactions LIMIT 1").fetchall()
    finally:
        con.close()


def test_a_csv_path_or_one_with_a_quote_gets_a_source_that_reads_it(tmp_path: Path) -> None:
    # Before: read_parquet('...') for a CSV too, and a path's single quote left unescaped (SQL that does not parse)
    folder = tmp_path / "it's here"
    folder.mkdir()
    for name, reader in (("rows.csv", "read_csv"), ("rows.parquet", "read_parquet")):
        f = folder / name
        duckdb.sql(f"COPY (SELECT 1 AS a) TO '{str(f).replace(chr(39), chr(39) * 2)}'")
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.connect(str(f))
        shown = re.search(r"NAME (.*)\.$", str(e.value)).group(1)
        source = shlex.split(shown)[0]
        assert source.startswith(f"{reader}(")
        assert duckdb.sql(f"SELECT a FROM {source}").fetchall() == [(1,)]


def test_a_store_column_dropped_by_hand_is_named_with_the_statement_that_restores_it(db: Path) -> None:
    # Before: a dropped ad_models.metrics (or params, source, ...) failed every command, `list` included, with
    # DuckDB's bare 'Binder Error: Referenced column "metrics" not found'; a dropped onnx was called "not ad_duckdb's
    # model store: rename yours". And once the column was added back (it then comes last), training stored its values
    # by position, one column over.
    con = ad_duckdb.connect(str(db))
    try:
        con.execute("ALTER TABLE ad_models DROP COLUMN metrics")
        con.close()
        con = ad_duckdb.connect(str(db))  # connecting works, so the statement that adds the column back can run
        for step in (lambda: ad_duckdb.list_models(con), lambda: ad_duckdb.load_model(con, "tx_ae"),
                     lambda: con.execute("SELECT anomaly_score('tx_ae', 1, 2)").fetchall(),
                     lambda: ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)):
            with pytest.raises((ad_duckdb.IntegrityError, duckdb.Error),
                               match=r"ad_models is ad_duckdb's model store, but its column metrics is missing .*"
                                     r"ALTER TABLE ad_models ADD COLUMN metrics JSON"):
                step()
        con.execute("ALTER TABLE ad_models ADD COLUMN metrics JSON")
        ad_duckdb.refresh(con)
        assert ad_duckdb.load_model(con, "tx_ae").metrics == {}
        assert con.execute("SELECT count(anomaly_score('tx_ae', count, amount)) FROM transactions").fetchall() == [(800,)]
        info = ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        rec = ad_duckdb.load_model(con, info.ref)  # its sha256 and graph checked: each value in its own column
        assert rec.metrics["train_source"] == "transactions" and rec.params["seed"] == 0
        assert con.execute("SELECT anomaly_percentile('tx_ae', count, amount) IS NOT NULL FROM transactions LIMIT 1"
                           ).fetchall() == [(True,)]

        con.execute("ALTER TABLE ad_models DROP COLUMN onnx")
        with pytest.raises(ad_duckdb.IntegrityError, match=r"its column onnx is missing.*ADD COLUMN onnx BLOB.*"
                                                           r"re-train or import"):
            ad_duckdb.list_models(con)
    finally:
        con.close()


def test_a_name_with_a_trailing_newline_is_not_a_name() -> None:
    # Before: the pattern's '$' matched before a final newline, so 'tx\n' was stored as a model name, which no
    # anomaly_score('tx', ...) reaches and which `list` prints on two lines.
    from ad_duckdb.exceptions import BadInputError

    with pytest.raises(BadInputError, match="is not valid"):
        modelnames.check_name("tx\n")
    assert modelnames.check_name("tx") == "tx"


def test_export_into_a_folder_writes_the_models_name_there_as_cp_does(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    con = ad_duckdb.connect(str(db))
    try:
        written = ad_duckdb.export_model(con, "tx_ae", folder)
        assert written == folder / "tx_ae.onnx"
        assert ad_duckdb.api.read_onnx_file(written).name == "tx_ae"
        with pytest.raises(ad_duckdb.BadInputError, match=r"models/tx_ae\.onnx' exists; pass replace=True"):
            ad_duckdb.export_model(con, "tx_ae", folder)
        assert ad_duckdb.export_model(con, "tx_ae@1", str(folder), replace=True) == folder / "tx_ae.onnx"
        assert sorted(p.name for p in folder.iterdir()) == ["tx_ae.onnx"]
    finally:
        con.close()


def test_a_loaded_model_prints_as_a_summary_in_a_notebook_not_its_onnx_bytes(db: Path) -> None:
    con = ad_duckdb.connect(str(db), read_only=True)
    try:
        rec = ad_duckdb.load_model(con, "tx_ae")
    finally:
        con.close()
    shown = repr(rec)
    assert len(shown) < 600, shown  # it was 70+ KB: the ONNX bytes, every transform constant, 1001 quantiles
    assert shown.startswith("ModelRecord('tx_ae@1'") and "features=['count', 'amount']" in shown, shown
    assert f"onnx=<{len(rec.onnx)} bytes, sha256 {rec.sha256[:12]}" in shown and "'default': " in shown, shown


def test_register_with_model_files_on_a_connection_that_connect_registered_loads_them(db: Path, tmp_path: Path) -> None:
    # Before: ad_duckdb.connect() had registered every stored model, so a later register(con, models=[file]) returned
    # at once without reading the file; a query then said "No model 'tx_ae' in table ad_models ... Train one".
    con = ad_duckdb.connect(str(db), read_only=True)
    try:
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx.onnx")
        expected = con.execute("SELECT anomaly_score('tx_ae', 5, 100.0)").fetchall()[0][0]
    finally:
        con.close()
    other = ad_duckdb.connect(":memory:")
    try:
        ad_duckdb.register(other, models=[str(f)])
        assert other.execute("SELECT anomaly_score('tx_ae', 5, 100.0)").fetchall()[0][0] == expected
        ad_duckdb.register(other, models=[str(f)])  # the same list again changes nothing
        assert other.execute("SELECT anomaly_score('tx_ae', 5, 100.0)").fetchall()[0][0] == expected
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"nowhere\.onnx' does not exist"):
            ad_duckdb.register(other, models=[str(tmp_path / "nowhere.onnx")])
        # a refused list leaves the functions as they were
        assert other.execute("SELECT anomaly_score('tx_ae', 5, 100.0)").fetchall()[0][0] == expected
    finally:
        other.close()


def test_exported_file_scores_equal_sql_when_runs_are_padded_as_the_readme_says(db: Path, tmp_path: Path) -> None:
    # Before: the README promised "within about 1e-5 relative" for other batches; one row per run was up to 2e-4 off
    # (onnxruntime computes a run's last rows on another path), and it did not say how to get SQL's value exactly,
    # nor that a row with a missing value scores higher in the file (median fill) than in SQL (lowest of its fills).
    import json

    import onnxruntime as ort

    assert "a multiple of 16 rows" in README and "copies of its last row" in README
    assert "scores at least as high as in SQL" in README
    con = ad_duckdb.connect(str(db))
    try:
        con.execute("UPDATE transactions SET amount = NULL WHERE rowid % 7 = 0")
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx.onnx")
        rows = con.execute("SELECT count, amount, anomaly_score('tx_ae', count, amount) FROM transactions "
                           "ORDER BY rowid LIMIT 300").fetchall()
    finally:
        con.close()
    sess = ort.InferenceSession(str(f), providers=["CPUExecutionProvider"])
    names = [c["name"] for c in json.loads(sess.get_modelmeta().custom_metadata_map["ad_duckdb"])["features"]]
    assert names == ["count", "amount"]
    dtype = np.float64 if sess.get_inputs()[0].type == "tensor(double)" else np.float32
    x = np.array([[np.nan if v is None else float(v) for v in r[:2]] for r in rows], dtype=dtype)
    sql = np.array([r[2] for r in rows], dtype=np.float32)
    full = ~np.isnan(x).any(axis=1)
    assert 0 < full.sum() < len(rows)

    def one_row_runs(pad: bool) -> np.ndarray:
        reps = 16 if pad else 1
        return np.array([sess.run(["score"], {"x": np.repeat(x[i : i + 1], reps, axis=0)})[0][0] for i in range(len(x))])

    assert (one_row_runs(pad=True)[full] == sql[full]).all()
    alone = one_row_runs(pad=False)
    np.testing.assert_allclose(alone[full], sql[full], rtol=2e-4)
    assert (alone[~full] >= sql[~full] * (1 - 2e-4)).all()


def test_the_readme_tells_how_to_check_an_exported_files_sha256_without_ad_duckdb(db: Path, tmp_path: Path) -> None:
    # Before: the file's metadata held `sha256` (and `metadata_sha256`), but the README did not list them nor say
    # what bytes the sha256 is of, so a deployment could not check a file, nor match it to an ad_models row.
    import hashlib
    import json

    import onnx

    m = re.search(r"`sha256` is the graph's, as `ad_models\.sha256` stores it \(`([^`]+)`\)", " ".join(README.split()))
    assert m, "README: how to compute an exported file's sha256"
    con = ad_duckdb.connect(str(db))
    try:
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx.onnx")
        stored = con.execute("SELECT sha256 FROM ad_models WHERE name = 'tx_ae'").fetchall()[0][0]
    finally:
        con.close()
    scope: dict[str, object] = {"onnx": onnx, "hashlib": hashlib, "path": str(f)}
    *statements, value = m.group(1).split("; ")
    exec("\n".join(statements), scope)
    assert eval(value, scope) == stored
    meta = json.loads(onnx.load(str(f)).metadata_props[0].value)
    assert meta["sha256"] == stored and set(meta) >= {"metadata_sha256", "kind", "source", "created_at"}


def test_export_model_docstring_example_runs_and_finds_the_default_threshold(db: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: the example read meta["thresholds"][0] as the default one; thresholds are in name order, so a model
    # with a threshold of one's own named before 'default' ('cut', 'budget') gave that one's value for is_anomaly.
    import json

    import onnxruntime

    doc = ad_duckdb.export_model.__doc__ or ""
    lines = [ln.strip() for ln in doc.split("Examples")[1].splitlines() if ln.strip() and not set(ln.strip()) <= {"-"}]
    code = [re.sub(r"\s*# doctest: \+SKIP$", "", ln[4:]) for ln in lines if ln.startswith(">>> ")]
    expected = ast.literal_eval(lines[-1])
    monkeypatch.chdir(tmp_path)
    con = ad_duckdb.connect(str(db))
    try:
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=1.5)
        scope = {"ad_duckdb": ad_duckdb, "onnxruntime": onnxruntime, "json": json, "con": con}
        exec("\n".join(code[:-1]), scope)
        got = eval(code[-1], scope)
        default = con.execute("SELECT value FROM ad_thresholds WHERE threshold_name = 'default'").fetchall()[0][0]
    finally:
        con.close()
    assert got[0] == expected[0] == ["count", "amount"]
    assert got[1] == default and not isinstance(expected[1], str), (got, expected)


def test_register_refuses_a_file_whose_model_name_is_also_listed_as_a_stored_name(db: Path, tmp_path: Path) -> None:
    # Before: register(models=["tx_ae", "wh/tx_ae.onnx"]) mixed the versions of two databases under one name: the
    # stored tx_ae@1 silently won over the file's tx_ae@1 (its scores were never used), and a file of a higher version
    # took 'tx_ae' while 'tx_ae@1' stayed the stored one. Two files of the same name and version: the first won.
    other = tmp_path / "other.duckdb"
    con = ad_duckdb.connect(str(other))
    try:
        make_transactions(con, n=800, seed=5)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 50})
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "wh_tx_ae.onnx")
    finally:
        con.close()
    con = ad_duckdb.connect(str(db))
    try:
        same = ad_duckdb.export_model(con, "tx_ae", tmp_path / "here.onnx")
        with pytest.raises(ad_duckdb.BadInputError, match=r"'tx_ae' is both a stored model named in models= and the "
                                                          r"model of .*wh_tx_ae\.onnx'.*--name"):
            ad_duckdb.register(con, models=["tx_ae", str(f)])
        with pytest.raises(ad_duckdb.BadInputError, match=r"here\.onnx' and .*wh_tx_ae\.onnx' both hold tx_ae@1"):
            ad_duckdb.register(con, models=[str(same), str(f)])
        ad_duckdb.register(con, models=[str(f)])  # the file alone is fine
        file_score = con.execute("SELECT anomaly_score('tx_ae', 5, 100.0)").fetchall()[0][0]
        ad_duckdb.register(con, models=["tx_ae"])
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100.0)").fetchall()[0][0] != file_score
    finally:
        con.close()


def _readme_onnx_io() -> list[tuple[str, str, str, str]]:
    """The README's table of the exported graph's inputs and outputs: (kind, name, shape, type) per row."""
    start = README.index("| in / out | name | shape | type |")
    rows = []
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows


def test_the_readme_documents_the_exported_graphs_inputs_and_outputs_as_a_real_file_has_them(db: Path,
                                                                                             tmp_path: Path) -> None:
    # Before: the README named the outputs but not what `feature_error` holds nor its type, so a service running
    # the file outside DuckDB could not use the second output.
    import onnxruntime as ort

    con = ad_duckdb.connect(str(db))
    try:
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx.onnx")
    finally:
        con.close()
    sess = ort.InferenceSession(str(f), providers=["CPUExecutionProvider"])
    types = {"tensor(float)": "float32", "tensor(double)": "float64"}

    def shape(s: list[int | str]) -> str:
        return "[" + ", ".join("d" if v == 2 else str(v) for v in s) + "]"

    real = [("input", a.name, shape(a.shape), types[a.type]) for a in sess.get_inputs()]
    real += [("output", a.name, shape(a.shape), types[a.type]) for a in sess.get_outputs()]
    documented = _readme_onnx_io()
    assert [r[:3] for r in documented] == [r[:3] for r in real], documented
    for (_, name, _, doc_type), (_, _, _, real_type) in zip(documented, real, strict=True):
        assert real_type in doc_type, (name, doc_type, real_type)
    assert "feature_error" in README[README.index("| in / out | name | shape | type |"):][:2000]
    # the producer the README names is the file's: ad_duckdb leaves torch's, so the graph is the bytes ad_models stores
    import onnx

    assert f"`producer_name` is torch's exporter's (`{onnx.load(str(f)).producer_name}`)" in README


OLD_FILE = ROOT / "tests" / "data" / "old_files" / "aee9dbe_tx_ae.onnx"  # exported by aee9dbe: no threshold_times


def test_imported_thresholds_keep_the_time_they_were_set(db: Path, tmp_path: Path) -> None:
    # Before: every imported threshold took the model's created_at, so one set by hand a week after training looked
    # as old as the model in the database it was copied to (ad_thresholds.created_at is when it was set).
    import json
    import time

    import onnx

    con = ad_duckdb.connect(str(db))
    try:
        time.sleep(0.05)
        ad_duckdb.set_threshold(con, "tx_ae", "by_hand", "manual", value=7.5)
        f = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx.onnx")
        sql = "SELECT threshold_name, created_at FROM ad_thresholds ORDER BY 1"
        was = con.execute(sql).fetchall()
        made = con.execute("SELECT created_at FROM ad_models").fetchall()[0][0]
    finally:
        con.close()
    assert dict(was)["by_hand"] > made
    other = ad_duckdb.connect(str(tmp_path / "other.duckdb"))
    try:
        ad_duckdb.import_model(other, f)
        assert other.execute(sql).fetchall() == was
        # an older release's file has no times of its thresholds: they take its model's, as before
        ad_duckdb.import_model(other, OLD_FILE, name="old")
        old_made = dt_of(json.loads(onnx.load(str(OLD_FILE)).metadata_props[0].value)["created_at"])
        times = other.execute("SELECT DISTINCT created_at FROM ad_thresholds WHERE model = 'old'").fetchall()
        assert times == [(old_made,)]
    finally:
        other.close()


def dt_of(text: str) -> object:
    import datetime as dt

    return dt.datetime.fromisoformat(text)


def test_model_info_documents_every_field() -> None:
    # Before: help(ModelInfo) said only "A stored model version", so a notebook user could not tell what
    # train_rows counted, what thresholds mapped or whose rows flagged_shares were shares of
    import dataclasses

    doc = ad_duckdb.ModelInfo.__doc__ or ""
    fields = [f.name for f in dataclasses.fields(ad_duckdb.ModelInfo)]
    assert [n for n in fields if f"\n    {n} : " not in doc] == []
    assert "``ref``" in doc


def test_a_code_sizes_model_round_trips_in_a_file_db(tmp_path: Path) -> None:
    """A multi-scale model (code_sizes) is stored with its option: SQL scores it, it scores the same after the file
    is reopened, show prints the option, and the retrain call names it (n_models and latent_dim follow from it)."""
    import json

    from click.testing import CliRunner

    from ad_duckdb.cli import cli
    from ad_duckdb.retrain import retrain_call

    path = str(tmp_path / "ms.duckdb")
    query = "SELECT list(anomaly_score('ms', count, amount) ORDER BY transaction_id) FROM transactions"
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=600)
        info = ad_duckdb.train(con, "ms", "transactions", features=["count", "amount"], code_sizes=(2, 4),
                               max_steps=60, progress=False)
        before = con.execute(query).fetchone()[0]
    finally:
        con.close()
    assert info.metrics["code_sizes"] == [2, 4] and info.metrics["n_models"] == 2 and info.metrics["latent_dim"] == 4
    con = ad_duckdb.connect(path)
    try:
        assert con.execute(query).fetchone()[0] == before
        rec = api.load_model(con, "ms")
    finally:
        con.close()
    assert (rec.params["code_sizes"], rec.params["n_models"], rec.params["latent_dim"]) == ([2, 4], 2, 4)
    call = retrain_call(rec)
    assert call is not None and "code_sizes=(2, 4)" in call and "n_models" not in call and "latent_dim" not in call
    res = CliRunner().invoke(cli, ["show", path, "ms"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    params_line = next(ln for ln in res.stdout.splitlines() if ln.startswith("params "))
    assert json.loads(params_line.removeprefix("params").strip())["code_sizes"] == [2, 4]
    assert f"retrain with: {call}" in res.stdout


def test_list_models_says_which_version_is_latest_as_the_cli_list_does(tmp_path: Path) -> None:
    """`ad-duckdb list` showed which version the bare name scores with (latest); Python's list_models had no such
    key. Now both say it, the keys before it unchanged, also after the newest version is dropped."""
    import json

    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    path = str(tmp_path / "l.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=300)
        for name in ("tx_ae", "tx_ae", "tx_ae", "other"):
            ad_duckdb.train(con, name, "transactions", features=["count", "amount"], **{**FAST, "max_steps": 20,
                                                                                        "seed": len(name)})
        models = ad_duckdb.list_models(con)
        assert [list(m) for m in models] == [["name", "version", "created_at", "kind", "n_features", "train_rows",
                                              "source", "onnx_bytes", "latest", "status", "problem"]] * 4
        assert [(m["name"], m["version"], m["latest"]) for m in models] == [
            ("other", 1, True), ("tx_ae", 1, False), ("tx_ae", 2, False), ("tx_ae", 3, True)]
        ad_duckdb.drop_model(con, "tx_ae@3")
        assert [(m["version"], m["latest"]) for m in ad_duckdb.list_models(con) if m["name"] == "tx_ae"] == [
            (1, False), (2, True)]
        python = [(m["name"], m["version"], m["latest"]) for m in ad_duckdb.list_models(con)]
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["list", path, "--format", "json"])
    assert res.exit_code == 0, res.output
    assert [(r["name"], r["version"], r["latest"]) for r in json.loads(res.output)] == python
