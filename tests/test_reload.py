"""Reloading the stored models after a write reads the versions it stored or changed, not every stored one; what the
user asks to read again (connect, register, ``refresh``) is read and checked whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_ops4_ops import _damage_onnx_block, two_models_db  # noqa: F401  (the fixture, used by name)

import ad_duckdb
from ad_duckdb import store, storeload, udfs
from ad_duckdb.exceptions import IntegrityError

from conftest import copy_tx_ae

VERSIONS = 30
SCORES = "SELECT anomaly_score('{}', count, amount) FROM transactions ORDER BY transaction_id LIMIT 50"


@pytest.fixture
def many(tx_ae_master: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """tx_ae stored as 30 versions (copies of the session's one, as SQL would write them), every one loaded."""
    con = ad_duckdb.connect(copy_tx_ae(tx_ae_master, tmp_path / "many.duckdb"))
    try:
        con.execute(f"INSERT INTO ad_models SELECT m.* REPLACE (r.v AS version) FROM ad_models m, "
                    f"range(2, {VERSIONS + 1}) r(v)")
        con.execute(f"INSERT INTO ad_thresholds SELECT t.* REPLACE (r.v AS version) FROM ad_thresholds t, "
                    f"range(2, {VERSIONS + 1}) r(v)")
        ad_duckdb.refresh(con)
        yield con
    finally:
        con.close()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stored versions whose rows are read and checked from now on ('name@N', in order)."""
    seen: list[str] = []
    real = storeload._from_row

    def counted(row: tuple[Any, ...]) -> store.ModelRecord:
        seen.append(f"{row[0]}@{row[1]}")
        return real(row)

    monkeypatch.setattr(storeload, "_from_row", counted)
    return seen


def test_a_write_reloads_only_the_versions_it_stored_or_changed(many: duckdb.DuckDBPyConnection, reads: list[str],
                                                                 tmp_path: Path) -> None:
    # Before: each reload after a training (an import, a drop, a threshold) read and hashed the ONNX bytes of every
    # stored version, so a store of a few hundred versions paid for all of them at every training.
    exported = ad_duckdb.export_model(many, "tx_ae@3", tmp_path / "tx.onnx")
    reads.clear()
    assert ad_duckdb.import_model(many, exported, name="copy").version == 1
    assert reads == ["copy@1"]
    assert many.execute(SCORES.format("copy")).fetchall() == many.execute(SCORES.format("tx_ae@3")).fetchall()

    reads.clear()
    ad_duckdb.set_threshold(many, "tx_ae@5", "mine", "manual", value=123.0)
    assert reads == []  # its thresholds, not its row: those are read again at every reload
    assert many.execute("SELECT anomaly_threshold('tx_ae@5', 'mine')").fetchall() == [(123.0,)]

    # a row changed by SQL (a dbt hook, `ad-duckdb sql`) is read again, and only that one
    many.execute("UPDATE ad_models SET metrics = json_merge_patch(metrics, '{\"noted\": 1}') "
                 "WHERE name = 'tx_ae' AND version = 7")
    reads.clear()
    cur = many.cursor()
    try:
        udfs.refresh_if_changed(cur)
    finally:
        cur.close()
    assert reads == ["tx_ae@7"]
    assert ad_duckdb.udfs.registry(many).get("tx_ae@7").rec.metrics["noted"] == 1

    reads.clear()
    ad_duckdb.drop_model(many, "tx_ae@30")
    assert reads == []

    reads.clear()
    ad_duckdb.refresh(many)  # asked for: every version read and checked again
    assert sorted(reads) == sorted(["copy@1", *(f"tx_ae@{v}" for v in range(1, VERSIONS))])


def test_bytes_altered_in_place_after_loading_are_never_scored_and_a_full_read_names_them(
        many: duckdb.DuckDBPyConnection) -> None:
    # The loaded model keeps the bytes it checked when it read them: a reload after a write does not read an unchanged
    # version's bytes again, so it neither scores the altered ones nor stops scoring with the good copy; what reads
    # the stored bytes (refresh, load_model, a new connection) checks them and names the version.
    before = many.execute(SCORES.format("tx_ae@2")).fetchall()
    good = ad_duckdb.load_model(many, "tx_ae@2").onnx
    many.execute("UPDATE ad_models SET onnx = ? WHERE name = 'tx_ae' AND version = 2",
                 [good[:200] + bytes([good[200] ^ 0xFF]) + good[201:]])  # its sha256 left as it was
    ad_duckdb.drop_model(many, "tx_ae@30")
    assert many.execute(SCORES.format("tx_ae@2")).fetchall() == before
    damaged = r"Model 'tx_ae@2': the sha256 of its stored ONNX bytes does not match ad_models.sha256"
    with pytest.raises(IntegrityError, match=damaged):
        ad_duckdb.load_model(many, "tx_ae@2")
    ad_duckdb.refresh(many)
    with pytest.raises(duckdb.Error, match=damaged):
        many.execute(SCORES.format("tx_ae@2")).fetchall()
    assert many.execute(SCORES.format("tx_ae@3")).fetchall() == before  # the others still score


def test_a_reload_after_a_write_names_the_models_of_a_damaged_block(two_models_db: tuple[Path, Path],  # noqa: F811
                                                                    tmp_path: Path) -> None:
    # The versions read again (new ones, and those refused before) are read one by one when their block is damaged,
    # as a full read reads them, beside versions kept loaded.
    db = tmp_path / "m.duckdb"
    db.write_bytes(two_models_db[0].read_bytes())
    _damage_onnx_block(db)
    with ad_duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT 3 AS count, 40.0 AS amount")
        ad_duckdb.import_model(con, two_models_db[1], name="c_ae")
        ad_duckdb.import_model(con, two_models_db[1], name="d_ae")  # c_ae kept loaded, the others read again
        reg = ad_duckdb.udfs.registry(con)
        assert sorted(reg.problems) == [("a_ae", 1), ("b_ae", 1)]
        assert all("damaged block" in p for p in reg.problems.values()), reg.problems
        with pytest.raises(duckdb.Error, match=r"a_ae@1.*damaged block"):
            con.execute("SELECT anomaly_score('a_ae', count, amount) FROM t").fetchall()
        scored = con.execute("SELECT anomaly_score('c_ae', count, amount), anomaly_score('d_ae', count, amount) "
                             "FROM t").fetchall()
        assert scored[0][0] == scored[0][1] >= 0


def _check(con: duckdb.DuckDBPyConnection) -> None:
    """The check a dbt node's cursor or a served session's committed write makes (udfs.refresh_if_changed)."""
    cur = con.cursor()
    try:
        udfs.refresh_if_changed(cur)
    finally:
        cur.close()


def test_a_row_edited_by_hand_is_read_again_at_the_check_as_after_a_write(many: duckdb.DuckDBPyConnection,
                                                                          reads: list[str]) -> None:
    # Before: the check compared a stamp of each version's sha256 and metrics only, so a row edited in another column
    # was read again (and refused) after a write of ad_duckdb's own, but dbt nodes after a hook's edit, and the
    # sessions of a server after a client's, went on scoring with it
    many.execute("UPDATE ad_models SET params = '[1]' WHERE name = 'tx_ae' AND version = 9")
    reads.clear()
    _check(many)
    assert reads == ["tx_ae@9"]
    with pytest.raises(duckdb.Error, match=r"Model 'tx_ae@9': its stored metadata .* is malformed"):
        many.execute(SCORES.format("tx_ae@9")).fetchall()
    assert len(many.execute(SCORES.format("tx_ae@8")).fetchall()) == 50  # the others still score
    reads.clear()
    _check(many)  # nothing changed since: nothing read, the refused version left as it is
    assert reads == []


def test_the_check_sees_a_table_made_again_and_a_promotion_by_another_connection(many: duckdb.DuckDBPyConnection,
                                                                                 reads: list[str]) -> None:
    # What the check compares is read in one pass with what a reload keeps (storestamp.stamp): a thresholds table made
    # again by another connection, and a version promoted with SQL, are seen at the next check, no version read again
    name, value = many.execute("SELECT threshold_name, value FROM ad_thresholds WHERE model = 'tx_ae' AND version = 4 "
                               "ORDER BY threshold_name LIMIT 1").fetchall()[0]
    other = many.cursor()
    try:
        other.execute("CREATE OR REPLACE TABLE ad_thresholds AS SELECT * REPLACE (value + 1 AS value) FROM ad_thresholds")
        reads.clear()
        _check(many)
        assert many.execute(f"SELECT anomaly_threshold('tx_ae@4', '{name}')").fetchall() == [(value + 1,)]
        other.execute("INSERT INTO ad_model_current (name, version) VALUES ('tx_ae', 3)")
        _check(many)
        assert many.execute("SELECT anomaly_model('tx_ae')").fetchall() == [("tx_ae@3",)]
        assert reads == []
    finally:
        other.close()


def test_a_check_loads_a_version_refused_for_its_size_once_the_limit_is_raised(tx_ae_master: Path, tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: the check kept a version refused for its size refused after AD_DUCKDB_MAX_MODEL_BYTES was raised in the
    # same process (the store unchanged, so nothing was read again), where refresh(con) loaded it; a dbt run's nodes
    # after the fix went on failing.
    con = ad_duckdb.connect(copy_tx_ae(tx_ae_master, tmp_path / "big.duckdb"))
    try:
        size = len(ad_duckdb.load_model(con, "tx_ae").onnx)
        monkeypatch.setenv("AD_DUCKDB_MAX_MODEL_BYTES", str(size - 1))
        ad_duckdb.refresh(con)
        for _ in range(2):  # the second check: the limit unchanged since, the refusal stays
            with pytest.raises(duckdb.Error, match=rf"tx_ae@1.*over the limit of {size - 1}"):
                con.execute(SCORES.format("tx_ae")).fetchall()
            _check(con)
        monkeypatch.setenv("AD_DUCKDB_MAX_MODEL_BYTES", str(size))
        _check(con)
        assert len(con.execute(SCORES.format("tx_ae")).fetchall()) == 50
        monkeypatch.setenv("AD_DUCKDB_MAX_MODEL_BYTES", "64MB")  # malformed: the check leaves the loaded models be
        _check(con)
        assert len(con.execute(SCORES.format("tx_ae")).fetchall()) == 50
    finally:
        con.close()
