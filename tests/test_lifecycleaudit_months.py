"""A model's months: scores appended to one history table while the source's columns change upstream (renamed, of
another type), and a model promoted from a dev database to a prod one by export and import."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import ad_duckdb
from ad_duckdb.exceptions import BadInputError

from conftest import FAST, copy_tx_ae, make_transactions


@pytest.fixture(scope="module")
def months_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with month one's transactions (with a refunds column), tx_ae trained on them, and a history table
    of their scores."""
    path = str(tmp_path_factory.mktemp("months") / "prod.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con)
        con.execute("CREATE TABLE month1 AS SELECT transaction_id, count, amount, (count % 3)::INTEGER AS refunds "
                    "FROM transactions WHERE transaction_id <= 1500")
        ad_duckdb.train(con, "tx_ae", "month1", features=["count", "amount"], **FAST)
        assert ad_duckdb.score(con, "tx_ae", "month1", into="tx_hist", append=True) == 1500
    finally:
        con.close()
    return path


def test_append_after_a_column_was_renamed_upstream_suggests_the_rename_not_the_missing_column(months_db: str) -> None:
    """Month two's source calls 'refunds' 'refund_count' (renamed upstream): appending to the history table was
    refused with the fix '-c ... -c refunds', a column the source lacks, which only led to a second error. The
    message gives the rename that writes the table's column: in the source query, or of the table's column."""
    con = ad_duckdb.connect(months_db)
    try:
        con.execute("CREATE TABLE month2 AS SELECT transaction_id + 1500 AS transaction_id, count, amount, "
                    "(count % 3)::INTEGER AS refund_count FROM transactions WHERE transaction_id > 2500")
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", "month2", into="tx_hist", append=True)
        msg = str(e.value)
        assert "the table has 'refunds', which this scoring does not write" in msg, msg
        assert "'month2' lacks 'refunds'" in msg, msg
        assert "SELECT * RENAME (refund_count AS refunds) FROM month2" in msg, msg
        assert "ALTER TABLE tx_hist RENAME COLUMN refunds TO refund_count" in msg, msg
        assert "-c 'refunds'" not in msg and "'refunds'] (CLI" not in msg, msg
        # the source it gives appends
        assert ad_duckdb.score(con, "tx_ae", "SELECT * RENAME (refund_count AS refunds) FROM month2",
                               into="tx_hist", append=True) == 500
        # a query source is shown in parentheses; with two renamed columns, each is named for its own rename
        con.execute("CREATE OR REPLACE TABLE month3 AS SELECT transaction_id + 2000 AS transaction_id, count, amount, "
                    "refund_count AS refunds_n, 1 AS channel FROM month2")
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", "SELECT * FROM month3 WHERE transaction_id > 0", into="tx_hist",
                            append=True)
        msg = str(e.value)
        assert "SELECT * RENAME (x AS refunds) FROM (SELECT * FROM month3 WHERE transaction_id > 0)" in msg, msg
        # -c with the source's own columns is still the fix where the table's columns are all in the source
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", "SELECT *, 0 AS extra FROM month1", into="tx_hist", append=True)
        msg = str(e.value)
        assert "columns=['transaction_id', 'count', 'amount', 'refunds']" in msg and "RENAME" not in msg, msg
        assert con.execute("SELECT count(*) FROM tx_hist").fetchall() == [(2000,)]
    finally:
        con.close()


def test_append_of_decimals_to_an_integer_column_gives_an_alter_that_holds_the_table_too(tmp_path: Path,
                                                                                          tx_ae_master: Path) -> None:
    """A count column that became DECIMAL(10,2) upstream: the append was refused with 'ALTER ... SET DATA TYPE
    DECIMAL(10,2)', which holds 8 digits before the point and fails on the table's own INTEGER values from 1e8 on.
    The type given holds the table's values and the new ones: DECIMAL(12,2)."""
    con = ad_duckdb.connect(copy_tx_ae(tx_ae_master, tmp_path / "w.duckdb"))
    try:
        ad_duckdb.score(con, "tx_ae", "SELECT transaction_id, count, amount, (transaction_id * 100000)::INTEGER AS "
                        "qty FROM transactions WHERE transaction_id <= 2000", into="h", append=True)
        since = ("SELECT transaction_id, count, amount, (transaction_id / 4)::DECIMAL(10,2) AS qty FROM "
                 "transactions WHERE transaction_id > 2000")
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", since, into="h", append=True)
        msg = str(e.value)
        assert "'qty' is INTEGER in the table and DECIMAL(10,2) in the new rows" in msg, msg
        assert "ALTER TABLE h ALTER COLUMN qty SET DATA TYPE DECIMAL(12,2)" in msg, msg
        # the ALTER it gives runs on the table's rows (qty up to 2e8), and the append then adds every row whole
        con.execute("ALTER TABLE h ALTER COLUMN qty SET DATA TYPE DECIMAL(12,2)")
        assert ad_duckdb.score(con, "tx_ae", since, into="h", append=True) == 1000
        assert con.execute("SELECT max(qty)::VARCHAR, count(*) FROM h").fetchall() == [("200000000.00", 3000)]
        # a BIGINT column and DECIMAL(18,2) new rows: DECIMAL(21,2), not DECIMAL(18,2) (16 digits before the point)
        con.execute("CREATE TABLE h2 AS SELECT * REPLACE (qty::BIGINT * 1000000000 AS qty) FROM h")
        with pytest.raises(BadInputError, match=r"SET DATA TYPE DECIMAL\(21,2\)"):
            ad_duckdb.score(con, "tx_ae", since.replace("DECIMAL(10,2)", "DECIMAL(18,2)"), into="h2", append=True)
        with pytest.raises(duckdb.ConversionException):  # what the old advice did
            con.execute("ALTER TABLE h2 ALTER COLUMN qty SET DATA TYPE DECIMAL(18,2)")
    finally:
        con.close()


def test_importing_a_model_from_dev_names_the_thresholds_of_your_own_it_lacks(tmp_path: Path,
                                                                               tx_ae_master: Path) -> None:
    """A model trained in dev, exported and imported into prod, becomes what 'tx_ae' means there; prod's version
    had thresholds of the user's own ('c2', 'cut') that dashboards call with is_anomaly_at('tx_ae', 'c2', ...), and
    the import has none: those queries failed from the next registration on, and the import said nothing."""
    dev = ad_duckdb.connect(str(tmp_path / "dev.duckdb"))
    prod = ad_duckdb.connect(copy_tx_ae(tx_ae_master, tmp_path / "prod.duckdb"))  # tx_ae as dev's, at seed 0
    try:
        make_transactions(dev)
        ad_duckdb.train(dev, "tx_ae", "transactions", features=["count", "amount"], **FAST, seed=1)  # the newer model
        ad_duckdb.set_threshold(prod, "tx_ae", "c2", "contamination", target=0.02)
        ad_duckdb.set_threshold(prod, "tx_ae", "cut", "manual", value=12.0)
        # a rollback copy of prod's own version keeps them: no note
        ad_duckdb.export_model(prod, "tx_ae@1", tmp_path / "v1.onnx")
        ad_duckdb.export_model(dev, "tx_ae", tmp_path / "dev.onnx")
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            info = ad_duckdb.import_model(prod, tmp_path / "dev.onnx")
        assert info.ref == "tx_ae@2"
        said = [str(w.message) for w in caught if "threshold" in str(w.message)]
        assert len(said) == 1, [str(w.message) for w in caught]
        msg = said[0]
        assert "'tx_ae' now means tx_ae@2, which has no threshold 'c2' or 'cut'" in msg, msg
        assert "tx_ae@1 (the latest version until now) has" in msg, msg
        assert "is_anomaly_at('tx_ae', 'c2', ...)" in msg, msg
        assert "'c2' (contamination, " in msg and "contamination 0.02)" in msg and "'cut' (manual, 12" in msg, msg
        # said from Python: the call, not the command (optionwords)
        assert "ad_duckdb.set_threshold(con, 'tx_ae', 'c2', 'contamination', ...)" in msg, msg
        assert "ad-duckdb threshold" not in msg, msg
        assert "pin 'tx_ae@1'" in msg, msg
        # the note's fix: set on the new version, the query runs
        ad_duckdb.set_threshold(prod, "tx_ae", "c2", "contamination", target=0.02)
        assert prod.execute("SELECT count(*) FILTER (WHERE is_anomaly_at('tx_ae', 'c2', count, amount)) > 0 "
                            "FROM transactions").fetchall() == [(True,)]
        # importing prod's own version back (a rollback) brings its thresholds along: nothing is said of them
        import warnings

        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert ad_duckdb.import_model(prod, tmp_path / "v1.onnx").ref == "tx_ae@3"
        assert not [str(w.message) for w in seen if "has no threshold" in str(w.message)], seen
    finally:
        dev.close()
        prod.close()


def test_show_names_the_views_calling_the_version(tmp_path: Path) -> None:
    """Before switching dashboards to a new version, or dropping an old one, an analyst asks which views call it:
    `show` says which views of the database pin the version ('tx_ae@1'), and for the latest, which call the bare
    name; before, only a drop said so, once the views were broken."""
    import json

    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con)
        for _ in range(2):
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        con.execute("CREATE VIEW dash AS SELECT count(*) FILTER (WHERE is_anomaly('tx_ae@1', count, amount)) AS n "
                    "FROM transactions")
        con.execute("CREATE SCHEMA bi; CREATE VIEW bi.live AS SELECT anomaly_score('tx_ae', count, amount) AS s, "
                    "anomaly_score('tx_ae@2', count, amount) AS s2 FROM transactions")
        con.execute("CREATE VIEW other AS SELECT anomaly_score('tx_ae@11', count, amount) AS s FROM transactions")
    finally:
        con.close()

    def show(*args: str) -> str:
        res = CliRunner().invoke(cli, ["show", path, *args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.stdout

    assert "views calling it: dash ('tx_ae@1')\n" in show("tx_ae@1")
    assert "views calling it: bi.live ('tx_ae', 'tx_ae@2')\n" in show("tx_ae")
    assert json.loads(show("tx_ae@1", "--format", "json"))["views_calling"] == [
        {"view": "dash", "calls": ["tx_ae@1"]}]
    con = ad_duckdb.connect(path)
    try:
        con.execute("DROP VIEW dash")
    finally:
        con.close()
    assert "views calling it: none in this database" in show("tx_ae@1")


def test_training_on_a_column_mostly_null_says_what_its_rows_will_score(tmp_path: Path) -> None:
    """A month whose refunds feed broke (NULL in 90% of the rows) trained a version that learned refunds from the
    tenth of rows that had one: the next month, the feed fixed, flagged 9% of its rows where the version before
    flagged 1%, and training had said only 'filled NULL / NaN values with the training median: refunds (5400
    values ...)'. A note names the column, its NULL share and the fixes; a column NULL in a third of the rows
    (as a real feed may be) gets none."""
    import warnings

    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        make_transactions(con)
        con.execute("CREATE TABLE broke AS SELECT transaction_id, count, amount, CASE WHEN transaction_id % 10 = 0 "
                    "THEN count % 3 END AS refunds, CASE WHEN transaction_id % 3 <> 0 THEN count % 4 END AS fees "
                    "FROM transactions")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "tx_ae", "broke", features=["count", "amount", "refunds", "fees"], **FAST)
        said = [str(w.message) for w in seen if "NULL" in str(w.message) and issubclass(w.category,
                                                                                       ad_duckdb.AdDuckDBWarning)]
        assert len(said) == 1, said
        msg = said[0]
        assert "Model 'tx_ae': column 'refunds' is NULL or NaN in 90.00% of the 3000 training rows" in msg, msg
        assert "(and 'fees')" not in msg, msg
        # in Python's words alone (the command line's -f flags are its own callers')
        assert "features=['count', 'amount', 'fees']" in msg and "-f count" not in msg, msg
        assert "where='refunds IS NOT NULL'" in msg, msg
        # its fix trains without the note
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "tx_ae", "broke", features=["count", "amount", "refunds", "fees"],
                            where="refunds IS NOT NULL", **FAST)
        assert not [str(w.message) for w in seen if "NULL or NaN in" in str(w.message)]
    finally:
        con.close()


def test_a_label_threshold_a_retrain_cannot_choose_again_says_how_to_choose_it_on_renamed_columns(
        tmp_path: Path) -> None:
    """A retrain on month two, whose 'refunds' is 'refund_count' upstream, carried the max_f1 threshold at the same
    point of the training scores, as its labelled rows lack the new column; the note's fix was scoring's ('rename
    them in a query'), but a retrain takes no query of the labelled rows: the `threshold` command that chooses it
    again on one (which later retrains then read) is given."""
    import warnings

    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        renamed_months(con, where="count > 2")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "tx_ae", "month2", features=["count", "amount", "refund_count"],
                            carry_thresholds=True, **FAST)
        said = [str(w.message) for w in seen if "not chosen again on its labels" in str(w.message)]
        assert len(said) == 1, [str(w.message) for w in seen]
        msg = said[0]
        assert "'month1' lacks ['refund_count']" in msg, msg
        path = tmp_path / "w.duckdb"
        assert (f"ad-duckdb threshold {path} tx_ae f1 --method max_f1 --source SOURCE --label label --where "
                "'count > 2'") in msg, msg
        assert "SOURCE: a query of month1 giving tx_ae@2's columns (count, amount, refund_count)" in msg, msg
        # the command it gives, with such a query, chooses it on tx_ae@2; the next retrain chooses it again there
        ad_duckdb.set_threshold(con, "tx_ae", "f1", "max_f1", source="SELECT * RENAME (refunds AS refund_count) "
                                "FROM month1", label="label", where="count > 2")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "tx_ae", "month2", features=["count", "amount", "refund_count"],
                            carry_thresholds=True, **FAST)
        assert not [str(w.message) for w in seen if "not chosen again" in str(w.message)]
        assert con.execute("SELECT method FROM ad_thresholds WHERE model = 'tx_ae' AND version = 3 AND "
                           "threshold_name = 'f1'").fetchall() == [("max_f1",)]
    finally:
        con.close()


def renamed_months(con: duckdb.DuckDBPyConnection, where: str | None = None) -> None:
    """Labelled month1 and unlabelled month2, whose 'refunds' is 'refund_count' upstream; tx_ae trained on month1
    with an 'f1' max_f1 threshold chosen on its labels (``where``: of its rows)."""
    make_transactions(con)
    con.execute("CREATE TABLE month1 AS SELECT transaction_id, count, amount, (count % 3)::INTEGER AS refunds, "
                "(amount > 400)::INTEGER AS label FROM transactions")
    con.execute("CREATE TABLE month2 AS SELECT * EXCLUDE (label) RENAME (refunds AS refund_count) FROM month1")
    ad_duckdb.train(con, "tx_ae", "month1", features=["count", "amount", "refunds"], **FAST)
    ad_duckdb.set_threshold(con, "tx_ae", "f1", "max_f1", source="month1", label="label", where=where)
