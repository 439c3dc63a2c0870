"""A database file damaged on disk (cut short, a byte changed), and other bad events a job meets half-way: each is
told as what it is, naming the file and the fix, and nothing the user stored is lost or changed.

The commands run as real ``ad-duckdb`` processes on copies of one small database file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

import ad_duckdb
from ad_duckdb import integrity, onnxfile
from ad_duckdb.exceptions import DatabaseUnavailableError, IntegrityError

from conftest import FAST, ROOT, make_transactions


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("damage") / "base.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=500)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    finally:
        con.close()
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ad_duckdb.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})


def _block_offset(path: Path, table: str = "ad_models", column: str = "onnx") -> int:
    """Where in the file the block holding ``table.column`` starts (by default the stored models' ONNX bytes;
    DuckDB's layout: three 4 KiB headers, then blocks of the database's block size)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        block = con.execute("SELECT block_id FROM pragma_storage_info(?) WHERE column_name = ? AND block_id >= 0",
                            [table, column]).fetchall()[0][0]
        size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
    finally:
        con.close()
    return 3 * 4096 + block * size


def _cut_short(path: Path) -> None:
    os.truncate(path, 100)


def _byte_changed(path: Path, table: str = "ad_models", column: str = "onnx") -> None:
    at = _block_offset(path, table, column) + 100
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0xFF]))


@pytest.mark.parametrize(("damage", "said"), [
    (_cut_short, "shorter than its own header says"),
    (_byte_changed, "checksum does not match"),
])
@pytest.mark.parametrize("command", ["list", "score"])
def test_a_damaged_database_file_is_named_as_damaged_with_the_fix_and_left_as_it_is(
        base_db: Path, tmp_path: Path, damage: object, said: str, command: str) -> None:
    # Before: "Error: IO Error: Could not read enough bytes from file ...: attempted to read 3996 bytes from location
    # 100", or "Error: Corrupt database file: computed checksum ... in block at location 274432" (no file named),
    # exit 1 as for any error, and no word of what to do.
    path = tmp_path / "damaged.duckdb"
    path.write_bytes(base_db.read_bytes())
    damage(path)  # type: ignore[operator]
    before = path.read_bytes()
    args = {"list": ("list", str(path)), "score": ("score", str(path), "tx_ae", "transactions", "--top", "3")}[command]
    p = _cli(*args)
    assert p.returncode == 3, p.stderr
    assert p.stderr.startswith(f"Error: Cannot read {str(path)!r}: the database file is damaged"), p.stderr
    assert said in p.stderr and "restore the file from a backup" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert path.read_bytes() == before and not Path(f"{path}.wal").exists()


def test_connect_to_a_file_cut_short_raises_the_damage_naming_the_file(base_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.duckdb"
    path.write_bytes(base_db.read_bytes())
    _cut_short(path)
    for read_only in (True, False):
        with pytest.raises(DatabaseUnavailableError, match=r"Cannot read '.*cut\.duckdb': the database file is "
                                                           r"damaged, it is shorter"):
            ad_duckdb.connect(str(path), read_only=read_only)
    assert path.stat().st_size == 100


def test_connect_to_a_file_whose_model_store_block_changed_raises_the_damage(base_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "flipped.duckdb"
    path.write_bytes(base_db.read_bytes())
    _byte_changed(path)
    with pytest.raises(DatabaseUnavailableError, match=r"the database file is damaged, it holds a block whose "
                                                       r"checksum does not match"):
        con = ad_duckdb.connect(str(path), read_only=True)
        try:
            ad_duckdb.list_models(con)
        finally:
            con.close()


_BAD_METRICS = {
    "score_quantiles": "json_merge_patch(metrics, '{\"score_quantiles\": \"x\"}')",
    "score_quantiles_order": "json_merge_patch(metrics, '{\"score_quantiles\": [3, 2, 1]}')",
    "threshold_ranks": "json_merge_patch(metrics, '{\"threshold_ranks\": [\"a\"]}')",
    "train_score_std": "json_merge_patch(metrics, '{\"train_score_std\": \"wide\"}')",
}


@pytest.mark.parametrize("edit", sorted(_BAD_METRICS))
def test_a_row_whose_metrics_were_edited_by_hand_refuses_that_model_only(base_db: Path, tmp_path: Path,
                                                                        edit: str) -> None:
    # Before: score_quantiles were read as numbers only when the SQL functions loaded every model, so one edited row
    # stopped every command on every model, list included: "ValueError: could not convert string to float: 'x'" and
    # a traceback, exit 1.
    path = tmp_path / "edited.duckdb"
    path.write_bytes(base_db.read_bytes())
    con = ad_duckdb.connect(str(path))
    try:
        ad_duckdb.train(con, "other", "transactions", features=["count"], **FAST)
    finally:
        con.close()
    con = duckdb.connect(str(path))
    con.execute(f"UPDATE ad_models SET metrics = {_BAD_METRICS[edit]} WHERE name = 'tx_ae'")
    con.close()
    listed = _cli("list", str(path), "--format", "json")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    p = _cli("score", str(path), "tx_ae", "transactions", "--top", "1")
    assert p.returncode == 8 and "Traceback" not in p.stderr, p.stderr
    assert "Model 'tx_ae@1': its stored metadata" in p.stderr and f"metrics.{edit.removesuffix('_order')}" in p.stderr
    assert "re-train it or import a good copy" in p.stderr
    ok = _cli("sql", str(path), "SELECT count(anomaly_percentile('other', count)) FROM transactions")
    assert ok.returncode == 0 and "500" in ok.stdout, ok.stderr


def _edited_file(base_db: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """tx_ae exported from ``base_db``, its metadata changed by ``edit`` and signed again, as an editor that knows
    the format would; then the refusal of its import, naming the file, stores nothing."""
    con = ad_duckdb.connect(str(base_db), read_only=True)
    try:
        exported = ad_duckdb.export_model(con, "tx_ae", tmp_path / "tx.onnx")
        graph = ad_duckdb.load_model(con, "tx_ae").onnx
    finally:
        con.close()
    meta = json.loads(integrity.metadata_props(exported.read_bytes())[onnxfile.METADATA_KEY])
    edit(meta)
    meta["metadata_sha256"] = onnxfile.metadata_digest(meta)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(graph + onnxfile.metadata_entry(json.dumps(meta, sort_keys=True)))
    return bad


def _import_refused(path: Path, target: Path, said: str) -> None:
    con = ad_duckdb.connect(str(target))
    try:
        with pytest.raises(IntegrityError, match=rf"^Model file '[^']*{re.escape(path.name)}'.*{said}"):
            ad_duckdb.import_model(con, path)
        assert ad_duckdb.list_models(con) == []
    finally:
        con.close()


def test_an_imported_file_whose_metrics_are_not_numbers_is_refused_and_nothing_stored(base_db: Path,
                                                                                       tmp_path: Path) -> None:
    bad = _edited_file(base_db, tmp_path, lambda meta: meta["metrics"].update(score_quantiles=["x"]))
    _import_refused(bad, tmp_path / "target.duckdb", r"metrics\.score_quantiles must be a list of finite numbers")


def _many_thresholds(meta: dict[str, Any]) -> None:
    one = meta["thresholds"][0]
    meta["thresholds"] = [{**one, "name": f"t{i}"} for i in range(onnxfile.MAX_THRESHOLDS + 1)]


@pytest.mark.parametrize(("edit", "said"), [
    (lambda meta: meta.update(train_rows="many"), "train_rows must be a whole number of rows"),
    (lambda meta: meta.update(train_rows=10**30), "train_rows must be a whole number of rows"),
    (_many_thresholds, "10001 thresholds, over the 10000 a file may hold"),
])
def test_an_imported_file_with_a_bad_row_count_or_too_many_thresholds_is_refused_naming_the_file(
        base_db: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None], said: str) -> None:
    # Before: train_rows 'many' stopped the import at its INSERT with DuckDB's "Conversion Error: Could not convert
    # string 'many' to INT64" (no file named, exit 1); a file listing 100,000 thresholds was stored one row at a
    # time, holding the database's write lock for over ten minutes.
    _import_refused(_edited_file(base_db, tmp_path, edit), tmp_path / "target.duckdb", said)


def test_sql_reading_a_table_whose_block_is_damaged_names_the_file_as_damaged(base_db: Path, tmp_path: Path) -> None:
    # Before: "Error: Corrupt database file: computed checksum ... in block at location ...", exit 1: the file opened
    # (its model store is whole), and only the statement that read the damaged table's block failed.
    path = tmp_path / "table.duckdb"
    path.write_bytes(base_db.read_bytes())
    _byte_changed(path, "transactions", "amount")
    p = _cli("sql", str(path), "SELECT sum(amount) FROM transactions")
    assert p.returncode == 3, p.stderr
    assert p.stderr.startswith(f"Error: Cannot read {str(path)!r}: the database file is damaged"), p.stderr
