"""Messages around a model's versions: an imported model's source in `show`, a dropped pinned version, `compare` of
one model twice, and a feature column renamed upstream."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def _trained_and_exported(path: str, onnx: Path, name: str = "tx_ae") -> duckdb.DuckDBPyConnection:
    """An open connection to ``path``, which holds 400 transactions and ``name``@1 trained on two of their columns,
    exported to ``onnx``."""
    con = ad_duckdb.connect(path)
    make_transactions(con, n=400)
    ad_duckdb.train(con, name, "transactions", features=["count", "amount"], **FAST)
    ad_duckdb.export_model(con, f"{name}@1", onnx)
    return con


def test_show_of_an_imported_model_says_whether_this_database_holds_its_source(tmp_path: Path) -> None:
    """A model promoted by export and import into a database that has its training table said the database "may not
    hold" it, the same as where it does not: now it says the table is here, with the model's columns, or is not."""
    _trained_and_exported(str(tmp_path / "dev.duckdb"), tmp_path / "tm.onnx", "tm").close()
    for db, has_table, said in (("prod", True, "this database has a table 'transactions' with the model's columns"),
                                ("empty", False, "which this one does not hold")):
        path = str(tmp_path / f"{db}.duckdb")
        con = ad_duckdb.connect(path)
        try:
            if has_table:
                make_transactions(con, n=400)
            ad_duckdb.import_model(con, tmp_path / "tm.onnx")
        finally:
            con.close()
        res = CliRunner().invoke(cli, ["show", path, "tm"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        note = next(ln for ln in res.stdout.splitlines() if ln.startswith("  note: this model was imported"))
        assert said in note and "may not hold" not in note, note
        # the head line says where the rows came from in words ("rows of imported from tm.onnx (...)" before)
        head = res.stdout.splitlines()[0]
        assert head.endswith("trained on 400 rows of transactions, as tm@1 (imported from tm.onnx)"), head


def test_a_dropped_pinned_version_points_at_its_stored_copy_or_the_columns_stored_versions_take(tmp_path: Path) -> None:
    """'tx_ae@1' was dropped, then rolled back by importing its exported file (as tx_ae@3): scoring the pinned
    'tx_ae@1' said only that it was dropped and to pin another version, not which one is the same model; for a
    version with no copy, which columns the stored ones take (the drop's note said so, the error did not)."""
    from ad_duckdb.exceptions import ModelNotFoundError

    path = str(tmp_path / "w.duckdb")
    con = _trained_and_exported(path, tmp_path / "v1.onnx")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the notes on other columns than tx_ae@1's
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount", "transaction_id"], **FAST)
            ad_duckdb.drop_model(con, "tx_ae@1")
            ad_duckdb.import_model(con, tmp_path / "v1.onnx")  # the rollback: tx_ae@3
        for call in (lambda: ad_duckdb.score(con, "tx_ae@1", "transactions"),
                     lambda: con.execute("SELECT anomaly_score('tx_ae@1', count, amount) FROM transactions").fetchall()):
            with pytest.raises((ModelNotFoundError, duckdb.Error)) as e:
                call()
            msg = str(e.value)
            assert "was dropped" in msg, msg
            assert ("A stored copy of it, if the file came from this database: 'tx_ae@3' (imported from v1.onnx "
                    "(tx_ae@1; transactions)), an import of a file exported as 'tx_ae@1'; pin 'tx_ae@3' where") in msg, msg
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.drop_model(con, "tx_ae@2")
        with pytest.raises(ModelNotFoundError) as e:
            ad_duckdb.score(con, "tx_ae@2", "transactions")
        msg = str(e.value)
        assert "'tx_ae@3' takes (count, amount)" in msg, msg
        assert "stored copy" not in msg, msg
    finally:
        con.close()


def test_compare_of_two_versions_with_identical_onnx_says_they_are_the_same_model(tmp_path: Path) -> None:
    """A rollback import (tx_ae@1's exported file imported back as tx_ae@2) compared with tx_ae@1 gave a full table,
    the top overlap 100% and rank correlation 1 unexplained; now the first lines say they are one model, whose scores
    are the same row for row, so only their thresholds can differ."""
    import json

    path = str(tmp_path / "w.duckdb")
    con = _trained_and_exported(path, tmp_path / "v1.onnx")
    try:
        # a threshold of the file changed since the export: the import is stored as a version of its own (tx_ae@2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the notes that 'default' is replaced
            ad_duckdb.set_threshold(con, "tx_ae@1", "default", "manual", value=5.0)
            assert ad_duckdb.import_model(con, tmp_path / "v1.onnx").ref == "tx_ae@2"
        r = ad_duckdb.compare_versions(con, "tx_ae@1", "tx_ae@2", "transactions")
        assert r.same_model
        text = str(r)
        assert ("tx_ae@1 and tx_ae@2 are the same model (identical ONNX bytes and features, sha256 "
                in text.splitlines()[1]), text
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], where="transaction_id > 100",
                            **FAST)
        r = ad_duckdb.compare_versions(con, "tx_ae@1", "tx_ae@3", "transactions")
        assert not r.same_model and "same model" not in str(r)
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["compare", path, "tx_ae@1", "tx_ae@2", "transactions", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["same_model"] is True


def test_a_feature_renamed_upstream_is_offered_the_close_column_of_the_source(tmp_path: Path) -> None:
    """Month three's model takes unique_cards; month one's table calls it distinct_cards. Scoring month one said only
    'rename them in a query: SELECT x AS unique_cards': the close name of the source's own is offered now, with the
    query that renames it (which scores)."""
    from ad_duckdb.exceptions import SourceNotFoundError

    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        make_transactions(con, n=400)
        con.execute("CREATE TABLE m3 AS SELECT transaction_id AS merchant_id, count, amount, "
                    "(count % 4)::INTEGER AS unique_cards FROM transactions")
        con.execute("CREATE TABLE m1 AS SELECT * RENAME (unique_cards AS distinct_cards) FROM m3")
        ad_duckdb.train(con, "tx_ae", "m3", features=["count", "amount", "unique_cards"], **FAST)
        con.execute("DROP TABLE m3")
        with pytest.raises(SourceNotFoundError) as e:
            ad_duckdb.score(con, "tx_ae", "m1")
        msg = str(e.value)
        assert ("'m1' has 'distinct_cards', close to 'unique_cards' (renamed upstream?): score "
                "SELECT * RENAME (distinct_cards AS unique_cards) FROM m1") in msg, msg
        assert ad_duckdb.score(con, "tx_ae", "SELECT * RENAME (distinct_cards AS unique_cards) FROM m1").num_rows == 400
        # nothing close (an id shares only '_id'): no guess
        con.execute("CREATE TABLE m0 AS SELECT merchant_id, count, amount FROM m1")
        with pytest.raises(SourceNotFoundError) as e:
            ad_duckdb.score(con, "tx_ae", "m0")
        assert "close to" not in str(e.value), str(e.value)
    finally:
        con.close()
