"""Bulk scoring (``ad_duckdb.score(..., into=...)``): same scores as SQL, one transaction, the table's columns."""

from __future__ import annotations

import shutil
import threading
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from duckdb.sqltypes import BOOLEAN, DOUBLE

import ad_duckdb
from ad_duckdb.exceptions import AdDuckDBWarning, BadInputError

from conftest import FAST, copy_tx_ae

FAILING = (
    "SELECT transaction_id, count, CASE WHEN transaction_id > 2500 THEN error('boom at row ' || transaction_id) "
    "ELSE amount END AS amount FROM transactions"
)


def _table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_bulk_equals_sql_and_table_columns(mem_con: duckdb.DuckDBPyConnection) -> None:
    # Small batches: many batches go through the read-ahead thread and the 2-thread session.
    n = ad_duckdb.score(mem_con, "tx_ae", "transactions", into="bulk_scores", columns=["transaction_id"],
                        replace=True, batch_rows=256)
    try:
        assert n == 3000
        cols = mem_con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'bulk_scores' ORDER BY column_index"
        ).fetchall()
        assert cols == [("transaction_id", "BIGINT"), ("anomaly_score", "DOUBLE"),
                        ("anomaly_percentile", "DOUBLE"), ("is_anomaly", "BOOLEAN")]
        rows = mem_con.execute(
            "SELECT b.anomaly_score, anomaly_score('tx_ae', t.count, t.amount), b.anomaly_percentile, "
            "anomaly_percentile('tx_ae', t.count, t.amount), b.is_anomaly, is_anomaly('tx_ae', t.count, t.amount) "
            "FROM bulk_scores b JOIN transactions t USING (transaction_id) ORDER BY transaction_id"
        ).fetchall()
        assert len(rows) == 3000
        got = np.array([r[:4] for r in rows], dtype=np.float64)
        # float32 sums may round differently with 2 onnxruntime threads than with one.
        np.testing.assert_allclose(got[:, 0], got[:, 1], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(got[:, 2], got[:, 3], rtol=1e-5, atol=1e-7)
        th = mem_con.execute("SELECT anomaly_threshold('tx_ae', 'default')").fetchall()[0][0]
        assert [r[4] for r in rows] == [bool(s > th) for s in got[:, 0]]
    finally:
        mem_con.execute("DROP TABLE IF EXISTS bulk_scores")


def test_bulk_without_into_returns_all_rows(mem_con: duckdb.DuckDBPyConnection) -> None:
    setting = "SELECT current_setting('streaming_buffer_size')"
    before = mem_con.execute(setting).fetchall()
    tbl = ad_duckdb.score(mem_con, "tx_ae", "transactions", batch_rows=1000)
    assert tbl.num_rows == 3000
    assert tbl.column_names[-3:] == ["anomaly_score", "anomaly_percentile", "is_anomaly"]
    assert "amount" in tbl.column_names
    # the read cursor's smaller streaming buffer is its own setting, not the caller's connection's
    assert mem_con.execute(setting).fetchall() == before


def test_columns_to_keep_are_checked_against_the_source(mem_con: duckdb.DuckDBPyConnection) -> None:
    """An unknown column names the source and its columns (not DuckDB's binder error); one string is one column."""
    for into in (None, "kept_scores"):
        with pytest.raises(BadInputError, match=r"Scoring with 'tx_ae@1': columns= names \['nope'\], not in "
                                                r"'transactions' \(its columns: transaction_id, count, amount, amount_d\)"):
            ad_duckdb.score(mem_con, "tx_ae", "transactions", into=into, columns=["transaction_id", "nope"])
    assert "kept_scores" not in _table_names(mem_con)
    tbl = ad_duckdb.score(mem_con, "tx_ae", "transactions", columns="Transaction_ID")
    assert tbl.column_names == ["transaction_id", "anomaly_score", "anomaly_percentile", "is_anomaly"]
    assert tbl.num_rows == 3000
    with pytest.raises(BadInputError, match=r"columns= takes a column name or a list of column names.*got 7"):
        ad_duckdb.score(mem_con, "tx_ae", "transactions", columns=7)  # type: ignore[arg-type]
    # a column named twice (-c id -c ID) was kept twice, the second as transaction_id_1: refused, as features= is
    for into in (None, "kept_scores"):
        with pytest.raises(BadInputError, match=r"columns= names 'transaction_id' twice; list each column "
                                                r"once\."):
            ad_duckdb.score(mem_con, "tx_ae", "transactions", into=into, columns=["transaction_id", "Transaction_ID"])
    assert "kept_scores" not in _table_names(mem_con)


@pytest.mark.parametrize("batch_rows", [0, -5, 2.5, True])
def test_batch_rows_must_be_a_positive_int(mem_con: duckdb.DuckDBPyConnection, batch_rows: object) -> None:
    with pytest.raises(BadInputError, match=rf"Scoring with 'tx_ae': batch_rows= must be a positive int .*got {batch_rows!r}\."):
        ad_duckdb.score(mem_con, "tx_ae", "transactions", batch_rows=batch_rows)  # type: ignore[arg-type]


def test_rescoring_a_scored_table_replaces_its_score_columns(mem_con: duckdb.DuckDBPyConnection) -> None:
    ad_duckdb.score(mem_con, "tx_ae", "transactions", into="s1", explain=True)
    mem_con.execute("UPDATE s1 SET anomaly_score = -1, is_anomaly = NULL")  # stale values
    ad_duckdb.score(mem_con, "tx_ae", "s1", into="s2", outputs=["anomaly_score"])
    cols = [r[0] for r in mem_con.execute("DESCRIBE s2").fetchall()]
    assert cols[-1] == "anomaly_score" and cols.count("anomaly_score") == 1
    assert not any(c.startswith(("anomaly_score_", "is_anomaly")) or c == "anomaly_explain" for c in cols)
    assert mem_con.execute("SELECT min(anomaly_score) FROM s2").fetchall()[0][0] >= 0
    tbl = ad_duckdb.score(mem_con, "tx_ae", "s1", columns=["transaction_id", "anomaly_score"])
    assert tbl.column_names == ["transaction_id", "anomaly_score", "anomaly_percentile", "is_anomaly"]
    with pytest.raises(ad_duckdb.BadInputError, match="names only score columns"):
        ad_duckdb.score(mem_con, "tx_ae", "s1", columns=["Anomaly_Score"])


@pytest.fixture(scope="module")
def tx_ae_file(tmp_path_factory: pytest.TempPathFactory, tx_ae_master: Path) -> Path:
    """A file database with transactions and tx_ae trained on it."""
    return Path(copy_tx_ae(tx_ae_master, tmp_path_factory.mktemp("labelled") / "tx.duckdb"))


def _labelled_db(template: Path, path: Path, label_type: str = "INTEGER") -> duckdb.DuckDBPyConnection:
    """A byte copy of tx_ae_file's database at ``path`` (each test's own to change) with tx_labelled: transactions
    plus the user's own 0/1 label named is_anomaly (the name evaluate's own notes suggest)."""
    shutil.copyfile(template, path)
    con = ad_duckdb.connect(str(path))
    con.execute(f"CREATE TABLE tx_labelled AS SELECT *, (transaction_id % 50 = 0)::{label_type} AS is_anomaly "
                "FROM transactions")
    return con


def _labels(con: duckdb.DuckDBPyConnection, table: str = "tx_labelled") -> list[tuple[object, ...]]:
    return con.execute(f"SELECT transaction_id, is_anomaly FROM {table} ORDER BY transaction_id").fetchall()


def test_a_users_own_score_named_column_is_never_replaced(tmp_path: Path, tx_ae_file: Path) -> None:
    """A label column of the user's named is_anomaly was replaced by the model's flag, in the table written
    (into= the table itself: the labels were lost) and in the rows returned, even when columns= named it."""
    con = _labelled_db(tx_ae_file, tmp_path / "l.duckdb")
    try:
        before = _labels(con)
        refused = (r"Scoring with 'tx_ae@1': 'tx_labelled' has a column 'is_anomaly' \(INTEGER\) of its own \(not "
                   r"one written by scoring\), and the scores would be written under that name.*"
                   r"SELECT \* RENAME \(is_anomaly AS label\) FROM tx_labelled")
        for into in ("tx_labelled", "other", None):
            with pytest.raises(BadInputError, match=refused):
                ad_duckdb.score(con, "tx_ae", "tx_labelled", into=into, replace=into is not None)
        for into in ("k", None):
            with pytest.raises(BadInputError, match=refused):
                ad_duckdb.score(con, "tx_ae", "tx_labelled", into=into, columns=["transaction_id", "Is_Anomaly"])
        with pytest.raises(BadInputError, match=refused):
            ad_duckdb.api.top_scored(con, "tx_ae", "tx_labelled", 5)
        assert _labels(con) == before and not {"other", "k"} & _table_names(con)
        # the fix the message gives: the label renamed in a query, kept beside the model's flag
        ad_duckdb.score(con, "tx_ae", "SELECT * RENAME (is_anomaly AS label) FROM tx_labelled", into="scored")
        got = con.execute("SELECT transaction_id, label, is_anomaly = (anomaly_score > anomaly_threshold('tx_ae', "
                          "'default')) FROM scored ORDER BY transaction_id").fetchall()
        assert [r[:2] for r in got] == before and all(r[2] for r in got)
        # columns= without it, or outputs= that do not write that name: nothing to refuse
        tbl = ad_duckdb.score(con, "tx_ae", "tx_labelled", columns=["transaction_id"])
        assert tbl.column_names == ["transaction_id", "anomaly_score", "anomaly_percentile", "is_anomaly"]
        kept = ad_duckdb.score(con, "tx_ae", "tx_labelled", outputs=["anomaly_score"])
        assert sorted(zip(kept["transaction_id"].to_pylist(), kept["is_anomaly"].to_pylist(), strict=True)) == before
    finally:
        con.close()


def test_earlier_score_columns_kept_beside_new_ones_stay_marked(tmp_path: Path, tx_ae_file: Path) -> None:
    """A scored table's anomaly_explain (or is_anomaly) kept with columns= (CLI: -c) but not written anew was copied
    without its mark, so re-scoring the new table refused it as "a column of its own"; a user's column of a score
    name kept so stays unmarked."""
    con = _labelled_db(tx_ae_file, tmp_path / "k.duckdb")
    try:
        ad_duckdb.score(con, "tx_ae", "transactions", into="s1", explain=True)
        ad_duckdb.score(con, "tx_ae", "s1", into="s2", columns=["transaction_id", "count", "amount", "anomaly_explain"])
        ad_duckdb.score(con, "tx_ae", "s1", into="s3", columns=["transaction_id", "count", "amount", "is_anomaly"],
                        outputs=["anomaly_score"])
        ad_duckdb.score(con, "tx_ae", "tx_labelled", into="s4", columns=["transaction_id", "count", "amount",
                                                                          "is_anomaly"], outputs=["anomaly_score"])
        marked = {(t, c) for t, c in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE comment LIKE 'ad_duckdb:%'").fetchall()}
        assert {("s2", "anomaly_explain"), ("s3", "is_anomaly")} <= marked and ("s4", "is_anomaly") not in marked
        assert ad_duckdb.score(con, "tx_ae", "s2", into="s2", replace=True, explain=True) == 3000
        assert ad_duckdb.score(con, "tx_ae", "s3", into="s3", replace=True) == 3000
        with pytest.raises(BadInputError, match=r"'s4' has a column 'is_anomaly' \(INTEGER\) of its own"):
            ad_duckdb.score(con, "tx_ae", "s4", into="s4", replace=True)
    finally:
        con.close()


def test_a_users_boolean_label_or_explain_column_is_not_taken_for_scores(tmp_path: Path, tx_ae_file: Path) -> None:
    """Our is_anomaly is BOOLEAN: a user's BOOLEAN label alone is not recognised as an earlier scoring's by its type."""
    con = _labelled_db(tx_ae_file, tmp_path / "b.duckdb", "BOOLEAN")
    try:
        before = _labels(con)
        with pytest.raises(BadInputError, match=r"'is_anomaly' \(BOOLEAN\) of its own"):
            ad_duckdb.score(con, "tx_ae", "tx_labelled", into="tx_labelled", replace=True)
        assert _labels(con) == before
        con.execute("CREATE TABLE noted AS SELECT transaction_id, count, amount, 'checked' AS anomaly_explain "
                    "FROM transactions")
        with pytest.raises(BadInputError, match=r"'anomaly_explain' \(VARCHAR\) of its own"):
            ad_duckdb.score(con, "tx_ae", "noted", explain=True)
        assert ad_duckdb.score(con, "tx_ae", "noted")["anomaly_explain"].to_pylist()[:1] == ["checked"]
    finally:
        con.close()


def test_scored_tables_mark_their_score_columns_and_rescoring_replaces_only_marked_ones(tmp_path: Path, tx_ae_file: Path) -> None:
    """Re-scoring replaces the score columns an earlier score(into=) wrote (marked with a column comment), and an
    unmarked table's only when it has all three, of their types (a table written before the marks, or a copy)."""
    con = _labelled_db(tx_ae_file, tmp_path / "m.duckdb")
    try:
        ad_duckdb.score(con, "tx_ae", "transactions", into="s1", explain=True)
        marks = con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 's1' "
                            "AND comment IS NOT NULL ORDER BY column_index").fetchall()
        assert [c for c, _ in marks] == ["anomaly_score", "anomaly_percentile", "is_anomaly", "anomaly_explain",
                                        "anomaly_imputed"]  # with explain: its shares, and the values NULLs took
        assert all(m.startswith("ad_duckdb: written by score") and "tx_ae@1" in m for _, m in marks)
        con.execute("UPDATE s1 SET anomaly_score = -1")
        assert ad_duckdb.score(con, "tx_ae", "s1", into="s1", replace=True) == 3000
        assert con.execute("SELECT min(anomaly_score) FROM s1").fetchall()[0][0] >= 0
        assert [r[0] for r in con.execute("DESCRIBE s1").fetchall()][-3:] == ["anomaly_score", "anomaly_percentile",
                                                                               "is_anomaly"]
        # a copy (no marks) with the three of their types: an earlier scoring's, replaced, and the result marked
        con.execute("CREATE TABLE copied AS SELECT * FROM s1")
        assert ad_duckdb.score(con, "tx_ae", "copied", into="copied", replace=True) == 3000
        assert con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'copied' "
                           "AND comment LIKE 'ad_duckdb:%'").fetchall() == [(3,)]
        # a marked table with a user's column added under a score name: the marks say which are ours
        con.execute("ALTER TABLE s1 DROP COLUMN is_anomaly")
        con.execute("ALTER TABLE s1 ADD COLUMN is_anomaly BOOLEAN DEFAULT false")
        with pytest.raises(BadInputError, match=r"'s1' has a column 'is_anomaly' \(BOOLEAN\) of its own"):
            ad_duckdb.score(con, "tx_ae", "s1", into="s1", replace=True)
        assert con.execute("SELECT count(*) FILTER (WHERE is_anomaly) FROM s1").fetchall() == [(0,)]
    finally:
        con.close()


def test_failing_batch_leaves_no_table(mem_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match="boom at row"):
        ad_duckdb.score(mem_con, "tx_ae", FAILING, into="never_written", batch_rows=256)
    assert "never_written" not in _table_names(mem_con)
    # The read-ahead thread is stopped before score() returns, and the connection still works.
    # Why by name, not threading.active_count(): DuckDB worker threads that ran Python code are counted too.
    assert not [t.name for t in threading.enumerate() if t.name == "ad_duckdb-scan"]
    assert mem_con.execute("SELECT count(*) FROM transactions").fetchall()[0][0] == 3000


def test_failing_batch_keeps_old_table_with_replace(mem_con: duckdb.DuckDBPyConnection) -> None:
    mem_con.execute("CREATE OR REPLACE TABLE old_scores AS SELECT 42 AS answer")
    try:
        with pytest.raises(duckdb.Error, match="boom at row"):
            ad_duckdb.score(mem_con, "tx_ae", FAILING, into="old_scores", replace=True, batch_rows=256)
        assert mem_con.execute("SELECT * FROM old_scores").fetchall() == [(42,)]
        with pytest.raises(BadInputError, match="replace=True"):
            ad_duckdb.score(mem_con, "tx_ae", "transactions", into="old_scores")
        assert mem_con.execute("SELECT * FROM old_scores").fetchall() == [(42,)]
    finally:
        mem_con.execute("DROP TABLE IF EXISTS old_scores")


def test_bulk_outputs_subset(mem_con: duckdb.DuckDBPyConnection) -> None:
    n = ad_duckdb.score(mem_con, "tx_ae", "transactions", into="only_scores", columns=["transaction_id"],
                        outputs=["is_anomaly", "anomaly_score"], replace=True)
    try:
        assert n == 3000
        cols = [r[0] for r in mem_con.execute("DESCRIBE only_scores").fetchall()]
        assert cols == ["transaction_id", "anomaly_score", "is_anomaly"]  # in the documented order
        got = mem_con.execute(
            "SELECT max(abs(o.anomaly_score - anomaly_score('tx_ae', t.count, t.amount))) FROM only_scores o "
            "JOIN transactions t USING (transaction_id)").fetchall()[0][0]
        assert got < 1e-5
    finally:
        mem_con.execute("DROP TABLE IF EXISTS only_scores")
    for bad in (["score"], [], "anomaly_score"):
        with pytest.raises(BadInputError, match="outputs must be"):
            ad_duckdb.score(mem_con, "tx_ae", "transactions", into="never", outputs=bad)  # type: ignore[arg-type]
    # the explanations are asked for with explain=True (CLI --explain); the message named only the three outputs
    with pytest.raises(BadInputError, match=r"anomaly_explain comes with explain=True\."):
        ad_duckdb.score(mem_con, "tx_ae", "transactions", into="never", outputs=["anomaly_score", "anomaly_explain"])
    assert "never" not in _table_names(mem_con)


SCORING_CHILD = """
import sys
import ad_duckdb
con = ad_duckdb.connect({path!r}, read_only=True)
q = ("SELECT sum(anomaly_score('tx_ae', count, amount)), count_if(is_anomaly('tx_ae', count, amount)), "
     "sum(anomaly_percentile('tx_ae', count, amount)), count_if(is_anomaly_at('tx_ae', 'p99', count, amount)), "
     "max(anomaly_threshold('tx_ae', 'default')), "
     "sum(anomaly_score('tx_ae', CASE WHEN transaction_id % 7 = 0 THEN NULL ELSE count END, amount_d)) "
     "FROM transactions")
print(con.execute(q).fetchall())
ad_duckdb.score(con, "tx_ae", "transactions")
print("compute", "pyarrow.compute" in sys.modules)
q = ("SELECT count(anomaly_explain('tx_ae', count, amount)), count(anomaly_explain(CASE WHEN transaction_id % 3 = 0 "
     "THEN 'tx_ae@1' WHEN transaction_id % 3 = 1 THEN 'tx_ae' END, count, amount)) FROM transactions")
print(con.execute(q).fetchall())
t = ad_duckdb.score(con, "tx_ae", "transactions", explain=True)
print(t.num_rows, "pandas" in sys.modules)
"""


def test_scoring_never_loads_pandas(tmp_path: object, tx_ae_master: Path) -> None:
    """Every SQL function and bulk scoring run without importing pandas: pyarrow's Array.to_numpy and pa.array
    import it on first use, which made a scoring process 56 MiB larger (bench/speed.py, peak RSS). Nor, with one
    model per query and no explanations (NULLs and DECIMALs included), pyarrow.compute (9 MiB)."""
    import subprocess
    import sys
    from pathlib import Path

    path = copy_tx_ae(tx_ae_master, Path(str(tmp_path)) / "nopandas.duckdb")
    out = subprocess.run([sys.executable, "-c", SCORING_CHILD.format(path=path)], capture_output=True, text=True,
                         check=False, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines()[-1] == "3000 False", out.stdout
    assert "compute False" in out.stdout.splitlines(), out.stdout


TEXT_SCORING_CHILD = """
import sys
import warnings
import ad_duckdb
warnings.simplefilter("ignore")  # the note on ' Web' (a category but for case and spaces), which other tests check
con = ad_duckdb.connect()
con.execute("CREATE TABLE t AS SELECT range AS id, (range % 50)::DOUBLE AS x, "
            "CASE range % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'pos' ELSE 'atm' END AS channel, "
            "CASE range % 2 WHEN 0 THEN 'DE' ELSE 'FR' END AS country FROM range(2000)")
ad_duckdb.train(con, "m", "t", features=["x", "channel", "country"], n_models=1, max_steps=50, progress=False)
print("trained", "pandas" in sys.modules)
con.execute("CREATE TABLE s AS SELECT * REPLACE (CASE WHEN id % 7 = 0 THEN NULL WHEN id % 11 = 0 THEN ' Web' "
            "WHEN id % 13 = 0 THEN 'kiosk' ELSE channel END AS channel) FROM t")
print(con.execute("SELECT count(anomaly_score('m', x, channel, country)), count(anomaly_explain('m', x, channel, "
                  "country)), count(anomaly_imputed('m', x, channel, country)) FROM s").fetchall())
try:
    con.execute("SELECT anomaly_score('m', x, country, channel) FROM s").fetchall()
except Exception as e:
    print("swapped refused", "country" in str(e))
t = ad_duckdb.score(con, "m", "s", explain=True)
print(t.num_rows, "pandas" in sys.modules)
"""


def test_text_models_train_and_score_without_pandas() -> None:
    """A model with text columns trains and scores (NULLs, values that are no category, two text arguments in each
    other's place, explanations, imputed values) without importing pandas: pa.array of Python values and
    Array.to_numpy import it (0.3-0.5 s and 56 MiB of a scoring process), so the text columns' encoding reads and
    builds Arrow arrays through their buffers, as the numbers' does."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", TEXT_SCORING_CHILD], capture_output=True, text=True, check=False,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    # 286: the rows whose channel is NULL (id % 7 = 0), each scored at the most common category
    assert out.stdout.splitlines() == ["trained False", "[(2000, 2000, 286)]", "swapped refused True",
                                       "2000 False"], out.stdout


def test_into_never_replaces_what_the_source_reads(mem_con: duckdb.DuckDBPyConnection) -> None:
    """Scoring into the table the scores are read from would keep only the scored rows and kept columns."""
    mem_con.execute("CREATE OR REPLACE TABLE tx_copy AS SELECT * FROM transactions")
    mem_con.execute("CREATE OR REPLACE VIEW tx_view AS SELECT * FROM tx_copy WHERE transaction_id > 10")
    try:
        for into, source, kept in [("tx_copy", "tx_copy", ["transaction_id"]), ("TX_COPY", "main.tx_copy", ["count"]),
                                   ("tx_copy", "tx_view", None), ("tx_copy", "SELECT * FROM tx_copy WHERE count > 3", None),
                                   ("main.tx_copy", "SELECT * FROM (SELECT * FROM tx_view)", None)]:
            with pytest.raises(BadInputError, match="(?i)(is what .* reads|is the source scored).*tx_copy_scored"):
                ad_duckdb.score(mem_con, "tx_ae", source, into=into, replace=True, columns=kept)
            assert mem_con.execute("SELECT count(*), count(amount_d) FROM tx_copy").fetchall() == [(3000, 3000)]
        # a view in another schema reads that schema's table, whatever the connection's current schema
        mem_con.execute("CREATE SCHEMA IF NOT EXISTS sc")
        mem_con.execute("CREATE OR REPLACE TABLE sc.tx_copy AS SELECT * FROM transactions")
        mem_con.execute("CREATE OR REPLACE VIEW sc.v AS SELECT * FROM tx_copy WHERE count > 1")
        with pytest.raises(BadInputError, match="is what 'sc.v' reads"):
            ad_duckdb.score(mem_con, "tx_ae", "sc.v", into="sc.tx_copy", replace=True, columns=["transaction_id"])
        assert mem_con.execute("SELECT count(*) FROM sc.tx_copy").fetchall() == [(3000,)]
        # and a view in another schema reading an unqualified name of the session's schema reads that table
        mem_con.execute("CREATE OR REPLACE TABLE tx_main_only AS SELECT * FROM transactions")
        mem_con.execute("CREATE OR REPLACE VIEW sc.w AS SELECT * FROM tx_main_only")
        with pytest.raises(BadInputError, match="is what 'sc.w' reads"):
            ad_duckdb.score(mem_con, "tx_ae", "sc.w", into="tx_main_only", replace=True, columns=["transaction_id"])
        assert mem_con.execute("SELECT count(*), count(amount) FROM tx_main_only").fetchall() == [(3000, 3000)]
        with pytest.raises(BadInputError, match="threshold table into it"):
            ad_duckdb.evaluate(mem_con, "tx_ae", "tx_copy", label="count", into="tx_copy", replace=True)
        # The table itself with every column kept: rewritten whole, with fresh scores (a refresh in place).
        assert ad_duckdb.score(mem_con, "tx_ae", "tx_copy", into="tx_copy", replace=True) == 3000
        cols = [r[0] for r in mem_con.execute("DESCRIBE tx_copy").fetchall()]
        assert cols == ["transaction_id", "count", "amount", "amount_d", "anomaly_score", "anomaly_percentile", "is_anomaly"]
        assert ad_duckdb.score(mem_con, "tx_ae", "tx_copy", into="tx_copy", replace=True) == 3000
        assert [r[0] for r in mem_con.execute("DESCRIBE tx_copy").fetchall()] == cols
    finally:
        mem_con.execute("DROP VIEW IF EXISTS tx_view")
        mem_con.execute("DROP TABLE IF EXISTS tx_copy")
        mem_con.execute("DROP SCHEMA IF EXISTS sc CASCADE")
        mem_con.execute("DROP TABLE IF EXISTS tx_main_only")


def test_a_quoted_table_name_in_a_schema_is_a_source_and_a_target() -> None:
    """A name such as sales."Tx Table" (a plain schema, a quoted table) was quoted whole, as one table called
    'sales."Tx Table"' in the default schema, so training, scoring and writing into it failed with "does not exist"."""
    from conftest import make_transactions

    con = ad_duckdb.connect(":memory:")  # its own: the shared connection's model list is asserted elsewhere
    make_transactions(con)
    con.execute("CREATE SCHEMA IF NOT EXISTS sales")
    con.execute('CREATE OR REPLACE TABLE sales."Tx Table" AS SELECT * FROM transactions')
    try:
        src = 'sales."Tx Table"'
        info = ad_duckdb.train(con, "quoted_ae", src, features=["count", "amount"], **FAST)
        assert info.train_rows == 3000
        assert ad_duckdb.score(con, "quoted_ae", src, into='sales."Scored Tx"', replace=True) == 3000
        got = con.execute('SELECT sum(anomaly_score) FROM sales."Scored Tx"').fetchall()[0][0]
        want = con.execute("SELECT sum(anomaly_score('quoted_ae', count, amount)) FROM sales.\"Tx Table\"").fetchall()
        assert got == pytest.approx(want[0][0], rel=1e-9)
        with pytest.raises(BadInputError, match="is the source scored"):  # the source table itself, spelt another way
            ad_duckdb.score(con, "quoted_ae", src, into='"sales"."Tx Table"', replace=True, columns=["count"])
        assert con.execute('SELECT count(*), count(amount) FROM sales."Tx Table"').fetchall() == [(3000, 3000)]
    finally:
        con.close()


def test_a_qualified_source_that_misses_a_part_names_the_part_and_what_exists(mem_con: duckdb.DuckDBPyConnection,
                                                                               tmp_path: Path) -> None:
    """analytics.nope gave DuckDB's "Did you mean pg_catalog.pg_enum?"; lake.main.tx with lake not attached said
    schema "lake.main" does not exist. Each now names the missing part, what exists there, and the fix."""
    with duckdb.connect(str(tmp_path / "lake.duckdb")) as lake:
        lake.execute("CREATE TABLE tx AS SELECT 1 AS count, 2.0 AS amount")
    mem_con.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    mem_con.execute('CREATE SCHEMA IF NOT EXISTS "Fin.Q1"')
    mem_con.execute("CREATE OR REPLACE TABLE analytics.tx AS SELECT count, amount FROM transactions")
    try:
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"^Model 'tx_ae@1': cannot read the source "
                           r"'analytics.nope': memory.analytics has no table or view 'nope' \(its tables and views: "
                           r"tx\)\.$"):
            ad_duckdb.score(mem_con, "tx_ae", "analytics.nope")
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"'nope' is neither a schema of database memory \(its "
                           r"schemas: analytics, \"Fin.Q1\", main\) nor an attached database \(attached: memory\)"):
            ad_duckdb.score(mem_con, "tx_ae", "nope.tx")
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"'lake.main.tx': no database 'lake' is attached "
                           r"\(attached: memory\)\. Attach it on the connection first: con.execute\(\"ATTACH "
                           r"'path/to/lake.duckdb' AS lake \(READ_ONLY\)\"\)"):
            ad_duckdb.score(mem_con, "tx_ae", "lake.main.tx")
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"database memory has no schema 'nope' \(its schemas: "):
            ad_duckdb.evaluate(mem_con, "tx_ae", "memory.nope.tx", label="label")
        mem_con.execute(f"ATTACH '{tmp_path / 'lake.duckdb'}' AS lake (READ_ONLY)")
        assert ad_duckdb.score(mem_con, "tx_ae", "lake.main.tx").num_rows == 1  # attached, as the message says
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"lake.main has no table or view 'TX2' \(its tables and "
                                                                r"views: tx\)"):
            ad_duckdb.score(mem_con, "tx_ae", "lake.TX2")
    finally:
        mem_con.execute("DETACH DATABASE IF EXISTS lake")
        mem_con.execute("DROP SCHEMA IF EXISTS analytics CASCADE")
        mem_con.execute('DROP SCHEMA IF EXISTS "Fin.Q1" CASCADE')


def test_into_a_view_or_a_missing_schema_is_refused_naming_the_fix(mem_con: duckdb.DuckDBPyConnection) -> None:
    """An existing view as --into was "exists; pass replace=True", and with it DuckDB's "Existing object ... is of
    type View, trying to replace with type Table" after every row was scored; a schema that does not exist gave
    DuckDB's bare "Schema with name nope does not exist!", naming neither the table nor a fix."""
    mem_con.execute("CREATE SCHEMA IF NOT EXISTS rep")
    mem_con.execute("CREATE OR REPLACE VIEW rep.daily AS SELECT 1 AS x")
    try:
        for replace in (False, True):
            with pytest.raises(BadInputError, match=r"'rep.daily' is a view, and the scores are written as a table.*"
                                                    r"into='daily_scored'.*DROP VIEW \"rep\".\"daily\""):
                ad_duckdb.score(mem_con, "tx_ae", "transactions", into="rep.daily", replace=replace)
        with pytest.raises(BadInputError, match="'rep.daily' is a view, and the thresholds are written as a table"):
            ad_duckdb.evaluate(mem_con, "tx_ae", "transactions", label="count", into="rep.daily", replace=True)
        assert mem_con.execute("SELECT * FROM rep.daily").fetchall() == [(1,)]
        with pytest.raises(BadInputError, match=r"to table 'nope.daily': schema 'nope' does not exist. Create it "
                                                r"first \(CREATE SCHEMA \"nope\"\).*into='daily'"):
            ad_duckdb.score(mem_con, "tx_ae", "transactions", into="nope.daily")
        # a new table in an existing schema, and a table that exists, are written as before
        assert ad_duckdb.score(mem_con, "tx_ae", "transactions", into="rep.scored", columns=["transaction_id"]) == 3000
        assert ad_duckdb.score(mem_con, "tx_ae", "transactions", into="rep.scored", replace=True) == 3000
    finally:
        mem_con.execute("DROP SCHEMA IF EXISTS rep CASCADE")


def test_a_uhugeint_column_above_2_pow_127_scores_as_its_value(mem_con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB hands UHUGEINT to Arrow as decimal128(38, 0) and wraps values of 2^127 and above to negatives (the
    # largest, 2^128 - 1, arrives as -1): scored raw, a huge amount scored like an ordinary small one.
    big = "340282366920938463463374607431768211455"
    def scores(amount: str) -> float:
        return ad_duckdb.score(mem_con, "tx_ae", f"SELECT 5 AS count, {amount} AS amount").column("anomaly_score")[0].as_py()

    assert scores(f"{big}::UHUGEINT") == scores(f"{big}::DOUBLE")
    assert scores(f"{big}::UHUGEINT") > scores("-1::HUGEINT")


def test_into_keeps_each_source_columns_type_and_value(mem_con: duckdb.DuckDBPyConnection) -> None:
    # The kept columns went through Arrow as DuckDB hands them to Python by default: a UHUGEINT of 2^128 - 1 was
    # written as -1, a TIME WITH TIME ZONE lost its offset (12:00+01 became 12:00), a BIT became the BLOB of its
    # internal bytes, and UUID, JSON, HUGEINT and ENUM columns changed type, so joins and filters on them changed.
    mem_con.execute(
        "CREATE OR REPLACE TABLE typed AS SELECT transaction_id, count, amount::HUGEINT AS amount, "
        "gen_random_uuid() AS u, TIMETZ '12:00:00+01' AS tz, '0101'::BIT AS bt, '{\"j\": 1}'::JSON AS js, "
        "340282366920938463463374607431768211455::UHUGEINT AS uh, (-transaction_id)::HUGEINT AS h, "
        "(['lo', 'hi'])[1 + transaction_id % 2]::ENUM('lo', 'hi') AS e, 123.45::DECIMAL(38, 2) AS d "
        "FROM transactions")
    try:
        ad_duckdb.score(mem_con, "tx_ae", "typed", into="typed_scores", replace=True, batch_rows=1000)
        types = "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{}' ORDER BY column_index"
        assert mem_con.execute(types.format("typed_scores")).fetchall()[:-3] == \
            mem_con.execute(types.format("typed")).fetchall()
        cols = "transaction_id, count, amount, u, tz, bt, js, uh, h, e, d"
        assert mem_con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM typed EXCEPT "
                               f"SELECT {cols} FROM typed_scores)").fetchall() == [(0,)]
        # a HUGEINT feature still scores as SQL's function scores it
        diff = mem_con.execute(
            "SELECT max(abs(s.anomaly_score - anomaly_score('tx_ae', t.count, t.amount))) "
            "FROM typed_scores s JOIN typed t USING (transaction_id)").fetchall()[0][0]
        assert diff < 1e-4
    finally:
        mem_con.execute("DROP TABLE IF EXISTS typed_scores; DROP TABLE IF EXISTS typed")


def test_replace_without_into_is_refused(tmp_path: Path, tx_ae_file: Path) -> None:
    """replace=True overwrites the into= table; without one it did nothing, silently."""
    con = _labelled_db(tx_ae_file, tmp_path / "r.duckdb")
    try:
        with pytest.raises(ad_duckdb.OptionError, match=r"replace=True overwrites the into= table"):
            ad_duckdb.score(con, "tx_ae", "transactions", replace=True)
        with pytest.raises(ad_duckdb.OptionError, match=r"Evaluating 'tx_ae': replace=True"):
            ad_duckdb.evaluate(con, "tx_ae", "tx_labelled", label="is_anomaly", replace=True)
    finally:
        con.close()


@pytest.mark.parametrize("into", [None, "wide_scores"])
def test_wide_decimals_and_hugeints_score_exactly_as_the_sql_functions(mem_con: duckdb.DuckDBPyConnection,
                                                                       into: str | None) -> None:
    # Bulk scoring read a DECIMAL(38, x) or HUGEINT column through pyarrow's own cast to float64, which can be one
    # unit in the last place off DuckDB's cast, the one the SQL functions' DOUBLE arguments get: 26 of 5000 rows
    # of DECIMAL(38, 18) amounts scored up to 1e-5 apart from anomaly_score() on the same rows.
    mem_con.execute(
        "CREATE OR REPLACE TABLE wide AS SELECT i AS transaction_id, (3 + i % 15)::HUGEINT AS count, "
        "CAST(50 + (abs(hash(i)) % 4000000000) / 1e7 AS DECIMAL(38, 18)) AS amount "
        "FROM range(20000) AS r(i)")
    try:
        with warnings.catch_warnings():  # the drift note: these amounts do not follow the counts as in training
            warnings.simplefilter("ignore", AdDuckDBWarning)
            out = ad_duckdb.score(mem_con, "tx_ae", "wide", into=into, columns=["transaction_id"],
                                  replace=into is not None, batch_rows=1000)
        if into is None:
            mem_con.register("bulk_out", out)
        got = mem_con.execute(
            f"SELECT count(*) FILTER (WHERE b.anomaly_score <> anomaly_score('tx_ae', w.count, w.amount)), count(*) "
            f"FROM {'bulk_out' if into is None else into} b JOIN wide w USING (transaction_id)").fetchall()[0]
        assert got == (0, 20000)
    finally:
        mem_con.execute("DROP TABLE IF EXISTS wide_scores; DROP TABLE IF EXISTS wide")


@pytest.mark.parametrize("into", ["scores.parquet", "out/scores.csv", "scores.json", "existing.parquet"])
def test_into_a_file_name_is_refused_naming_the_copy_that_writes_the_file(
        mem_con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, into: str) -> None:
    """into='scores.parquet' (an analyst wanting a file) was read as table 'parquet' of schema 'scores': DuckDB's
    "No files found that match the pattern", or, when the file existed, "Table 'scores.parquet' exists; pass
    replace=True", and with --replace "Schema with name scores does not exist!"."""
    monkeypatch.chdir(tmp_path)
    mem_con.execute("COPY (SELECT 1 AS x) TO 'existing.parquet' (FORMAT parquet)")
    stem = Path(into).name.split(".")[0]
    for replace in (False, True):
        with pytest.raises(ad_duckdb.OptionError) as e:
            ad_duckdb.score(mem_con, "tx_ae", "transactions", into=into, replace=replace)
        msg = str(e.value)
        assert f"{into!r} is a file name" in msg and f"into={stem!r}" in msg, msg
        assert f"COPY {stem} TO {into!r}" in msg, msg
        with pytest.raises(ad_duckdb.OptionError, match=f"{into!r} is a file name"):
            ad_duckdb.evaluate(mem_con, "tx_ae", "transactions", label="count", into=into, replace=replace)
    assert mem_con.execute("SELECT * FROM 'existing.parquet'").fetchall() == [(1,)]
    # a table in a schema whose table part is named like a file's ending is still a table
    mem_con.execute("CREATE SCHEMA IF NOT EXISTS exports")
    try:
        assert ad_duckdb.score(mem_con, "tx_ae", "transactions", into="exports.csv", columns=["transaction_id"]) == 3000
    finally:
        mem_con.execute("DROP SCHEMA exports CASCADE")


WIDE_CHILD = """
import sys
import ad_duckdb
con = ad_duckdb.connect({path!r})
con.execute("CREATE TABLE wide AS SELECT transaction_id, count::HUGEINT AS count, amount::DECIMAL(38, 10) AS amount "
            "FROM transactions")
print(ad_duckdb.score(con, "tx_ae", "wide", into="wide_scores", columns=["transaction_id"]),
      "pyarrow.compute" in sys.modules)
"""


def test_bulk_scoring_wide_decimals_and_hugeints_leaves_pyarrow_compute_unloaded(tmp_path: Path,
                                                                                    tx_ae_master: Path) -> None:
    """DuckDB casts a DECIMAL(38, x) or HUGEINT feature to DOUBLE in bulk scoring's query, so a warehouse table of
    such columns scores without pyarrow.compute (9 MiB more in every scoring process, and its cast of each batch
    on our side): before, pyarrow cast them, importing it (bench/speed.py, peak RSS)."""
    import subprocess
    import sys

    path = copy_tx_ae(tx_ae_master, tmp_path / "wide.duckdb")
    out = subprocess.run([sys.executable, "-c", WIDE_CHILD.format(path=path)], capture_output=True, text=True,
                         check=False, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["3000", "False"], out.stdout


def test_into_a_file_named_like_the_database_is_refused_not_written_as_a_table(
        mem_con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With scores.duckdb open, into='scores.csv' was read as table 'csv' of database 'scores': the command said
    "wrote 20000 scored rows to scores.csv", and no file was written. A schema of that name stays a table."""
    monkeypatch.chdir(tmp_path)
    # the in-memory database's own name is 'memory', as a file's is its name up to the first dot
    for into in ("memory.csv", "memory.parquet"):
        with pytest.raises(ad_duckdb.OptionError, match=f"{into!r} is a file name"):
            ad_duckdb.score(mem_con, "tx_ae", "transactions", into=into)
    assert mem_con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('csv', 'parquet')"
                           ).fetchall() == [(0,)]
    assert ad_duckdb.score(mem_con, "tx_ae", "transactions", into="memory.main.csv",
                           columns=["transaction_id"]) == 3000
    mem_con.execute("DROP TABLE memory.main.csv")


def test_an_existing_into_table_names_how_to_add_new_rows_rather_than_only_overwrite(
        mem_con: duckdb.DuckDBPyConnection) -> None:
    """Scoring the readings that arrived since the last run into the scores table was refused with "pass
    replace=True to overwrite it" alone, which replaced the earlier rows' scores with the new rows' (the rows were
    lost). The error names append=True (CLI: --append) first, and that way works."""
    try:
        ad_duckdb.score(mem_con, "tx_ae", "SELECT * FROM transactions WHERE transaction_id <= 2000", into="inc_scores")
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(mem_con, "tx_ae", "SELECT * FROM transactions WHERE transaction_id > 2000",
                            into="inc_scores")
        msg = str(e.value)
        assert msg.startswith("Table 'inc_scores' exists; pass append=True to add these rows' scores "
                              "to its 2000 rows"), msg
        assert "or replace=True to overwrite it (its 2000 rows are lost)" in msg, msg
        # the source reads the scores table for the last row scored: refused as such, naming append=True
        new = "SELECT * FROM transactions WHERE transaction_id > (SELECT max(transaction_id) FROM inc_scores)"
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(mem_con, "tx_ae", new, into="inc_scores")
        assert "pass append=True: the source reads" in str(e.value), str(e.value)
        assert ad_duckdb.score(mem_con, "tx_ae", new, into="inc_scores", append=True) == 1000
        assert mem_con.execute("SELECT count(*), count(DISTINCT transaction_id) FROM inc_scores").fetchall() == [
            (3000, 3000)]
    finally:
        mem_con.execute("DROP TABLE IF EXISTS inc_scores")


@pytest.fixture(scope="module")
def append_db(tmp_path_factory: pytest.TempPathFactory, tx_ae_master: Path) -> str:
    """A database file with transactions and tx_ae, for the incremental (append) scoring tests."""
    return copy_tx_ae(tx_ae_master, tmp_path_factory.mktemp("append") / "inc.duckdb")


_SINCE = ("SELECT * FROM transactions WHERE transaction_id > "
          "(SELECT coalesce(max(transaction_id), -1) FROM {t})")


def test_append_adds_the_new_rows_scores_and_the_source_sees_the_table_as_before(append_db: str) -> None:
    """A cron job scores the rows that came since its last run into the same table: --append. The first run creates
    the table; the source may read the table for the last row scored; a source reading the table itself sees it as
    it was before the run (the rows it adds are not read again, in any batch)."""
    con = ad_duckdb.connect(append_db)
    try:
        first = "SELECT * FROM transactions WHERE transaction_id <= 1000"
        assert ad_duckdb.score(con, "tx_ae", first, into="inc", columns=["transaction_id"], append=True) == 1000
        assert ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc"), into="inc", columns=["transaction_id"],
                               append=True, batch_rows=256) == 2000
        assert ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc"), into="inc", columns=["transaction_id"],
                               append=True) == 0
        rows = con.execute(
            "SELECT i.anomaly_score, anomaly_score('tx_ae', t.count, t.amount), i.is_anomaly, "
            "is_anomaly('tx_ae', t.count, t.amount) FROM inc i JOIN transactions t USING (transaction_id)").fetchall()
        assert len(rows) == 3000
        assert con.execute("SELECT count(DISTINCT transaction_id) FROM inc").fetchall() == [(3000,)]
        got = np.array([r[:2] for r in rows], dtype=np.float64)
        np.testing.assert_allclose(got[:, 0], got[:, 1], rtol=1e-5, atol=1e-7)
        assert [r[2] for r in rows] == [r[3] for r in rows]
        # the score columns stay marked as scoring's (a later re-scoring may replace them)
        marked = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'inc' AND "
                             "comment LIKE 'ad_duckdb: written by score%' ORDER BY column_index").fetchall()
        assert marked == [("anomaly_score",), ("anomaly_percentile",), ("is_anomaly",)]
        # a source that reads the very table written, in many batches: each of its 3000 rows once, never the added
        again = ("SELECT t.transaction_id + 100000 AS transaction_id, t.count, t.amount FROM inc "
                 "JOIN transactions t USING (transaction_id)")
        assert ad_duckdb.score(con, "tx_ae", again, into="inc", columns=["transaction_id"], append=True,
                               batch_rows=64) == 3000
        assert con.execute("SELECT count(*), count(DISTINCT transaction_id) FROM inc").fetchall() == [(6000, 6000)]
    finally:
        con.close()
    con = ad_duckdb.connect(append_db)  # committed to the file
    try:
        assert con.execute("SELECT count(*) FROM inc").fetchall() == [(6000,)]
        con.execute("DROP TABLE inc")
    finally:
        con.close()


def test_append_that_fails_mid_way_adds_no_row(append_db: str) -> None:
    con = ad_duckdb.connect(append_db)
    try:
        ad_duckdb.score(con, "tx_ae", "SELECT transaction_id, count, amount FROM transactions WHERE transaction_id "
                        "<= 1000", into="inc_fail", append=True)
        before = con.execute("SELECT * FROM inc_fail ORDER BY transaction_id").fetchall()
        failing = f"SELECT * FROM ({FAILING}) WHERE transaction_id > 1000"
        with pytest.raises(duckdb.Error, match="boom at row"):
            ad_duckdb.score(con, "tx_ae", failing, into="inc_fail", append=True, batch_rows=128)
        assert con.execute("SELECT * FROM inc_fail ORDER BY transaction_id").fetchall() == before
        assert not [t.name for t in threading.enumerate() if t.name == "ad_duckdb-scan"]
        con.execute("DROP TABLE inc_fail")
    finally:
        con.close()


def test_append_to_a_table_of_other_columns_names_them_and_the_fix(append_db: str) -> None:
    """Appending BY NAME into a table another scoring wrote (with --explain, other -c columns, other outputs) would
    leave NULLs in a column or fail on DuckDB's words: refused before any row is scored, naming the columns."""
    from ad_duckdb.exceptions import OptionError

    con = ad_duckdb.connect(append_db)
    first = "SELECT * FROM transactions WHERE transaction_id <= 100"
    try:
        ad_duckdb.score(con, "tx_ae", first, into="inc_x", columns=["transaction_id"], explain=True)
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc_x"), into="inc_x", columns=["transaction_id"],
                            append=True)
        msg = str(e.value)
        assert "'inc_x'" in msg and "anomaly_explain" in msg and "add explain=True," in msg, msg
        # more source columns than the table has
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc_x"), into="inc_x", explain=True, append=True)
        msg = str(e.value)
        assert "'count', 'amount'" in msg and "columns=['transaction_id']" in msg and "-c" not in msg, msg
        # fewer outputs than the table has
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc_x"), into="inc_x", columns=["transaction_id"],
                            explain=True, outputs=["anomaly_score"], append=True)
        assert "'anomaly_percentile', 'is_anomaly'" in str(e.value), str(e.value)
        assert con.execute("SELECT count(*) FROM inc_x").fetchall() == [(100,)]
        # the same options as the table was written with: added
        assert ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc_x"), into="inc_x", columns=["transaction_id"],
                               explain=True, append=True) == 2900
        with pytest.raises(OptionError, match="append=True .* replace=True|replace=True .* append=True"):
            ad_duckdb.score(con, "tx_ae", first, into="inc_x", append=True, replace=True)
        with pytest.raises(OptionError, match="append=True"):
            ad_duckdb.score(con, "tx_ae", first, append=True)
        con.execute("CREATE VIEW inc_v AS SELECT * FROM inc_x")
        with pytest.raises(BadInputError, match="is a view"):
            ad_duckdb.score(con, "tx_ae", first, into="inc_v", columns=["transaction_id"], explain=True, append=True)
        assert con.execute("SELECT count(*) FROM inc_x").fetchall() == [(3000,)]
        con.execute("DROP VIEW inc_v; DROP TABLE inc_x")
    finally:
        con.close()


def test_cli_score_append_from_cron(append_db: str) -> None:
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    def invoke(*args: str) -> tuple[int, str]:
        res = CliRunner().invoke(cli, ["score", append_db, "tx_ae", *args], catch_exceptions=False)
        return res.exit_code, res.output

    since = _SINCE.format(t="cron_scores")
    code, out = invoke("SELECT * FROM transactions WHERE transaction_id <= 2000", "--into", "cron_scores", "--append")
    assert code == 0 and "added 2000 scored rows to cron_scores (now 2000 rows; model tx_ae@1)" in out, out
    # the refusal without --append names it first
    code, out = invoke(since, "--into", "cron_scores")
    assert code == 1 and out.count("\n") == 1, out
    assert "--append" in out and out.index("--append") < out.index("--into"), out
    code, out = invoke("transactions", "--into", "cron_scores")
    assert code == 1 and "--append" in out and out.index("--append") < out.index("--replace"), out
    code, out = invoke(since, "--into", "cron_scores", "--append", "--top", "0")
    assert code == 0 and "added 1000 scored rows to cron_scores (now 3000 rows; model tx_ae@1)" in out, out
    code, out = invoke(since, "--into", "cron_scores", "--append", "--replace")
    assert code == 2 and "--append" in out and "--replace" in out and out.count("\n") == 1, out
    code, out = invoke(since, "--into", "cron_scores", "--append", "--explain")
    assert code == 1 and "anomaly_explain" in out and "--explain" in out and out.count("\n") == 1, out
    code, out = invoke(since, "--append")
    assert code == 2 and "--into" in out, out
    con = ad_duckdb.connect(append_db)
    try:
        assert con.execute("SELECT count(*), count(DISTINCT transaction_id) FROM cron_scores").fetchall() == [
            (3000, 3000)]
        con.execute("DROP TABLE cron_scores")
    finally:
        con.close()


def test_a_first_append_whose_source_reads_the_missing_table_makes_it(append_db: str) -> None:
    """The cron job's source reads the scores table for the last row scored, which the first run has not created:
    DuckDB's "Table with name ... does not exist" stopped the job's first run; it now reads the table as empty."""
    con = ad_duckdb.connect(append_db)
    try:
        n = con.execute("SELECT count(*) FROM transactions").fetchall()[0][0]
        assert ad_duckdb.score(con, "tx_ae", _SINCE.format(t="inc_first"), into="inc_first", append=True) == n
        assert con.execute("SELECT count(DISTINCT transaction_id) FROM inc_first").fetchall() == [(n,)]
    finally:
        con.execute("DROP TABLE IF EXISTS inc_first")
        con.close()


def test_append_to_a_table_of_other_column_types_is_refused_before_any_row_is_scored(append_db: str) -> None:
    """INSERT BY NAME casts each new value to the table's column type: a VARCHAR anomaly_score took the scores as
    text (ORDER BY anomaly_score then sorts '9.5' above '10.2', and --top showed the wrong rows), and an INTEGER id
    column took BIGINT ids until one passed 2^31, when DuckDB's "Type INT64 with value ... can't be cast" came after
    every row was scored. Refused before the source is read, naming the column, both types and the fix."""
    con = ad_duckdb.connect(append_db)
    # fails once its rows are read: refused first, so the check needs no row of it
    failing = f"SELECT transaction_id + 3000000000 AS transaction_id, count, amount FROM ({FAILING})"
    try:
        ad_duckdb.score(con, "tx_ae", "SELECT transaction_id::INTEGER AS transaction_id, count, amount FROM "
                        "transactions WHERE transaction_id <= 100", into="inc_int", columns=["transaction_id"])
        before = con.execute("SELECT * FROM inc_int ORDER BY transaction_id").fetchall()
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", failing, into="inc_int", columns=["transaction_id"], append=True)
        msg = str(e.value)
        assert "Cannot append the scores of 'tx_ae@1' to table 'inc_int'" in msg, msg
        assert "'transaction_id' is INTEGER in the table and BIGINT in the new rows" in msg, msg
        assert 'ALTER TABLE inc_int ALTER COLUMN transaction_id SET DATA TYPE BIGINT' in msg, msg
        assert con.execute("SELECT * FROM inc_int ORDER BY transaction_id").fetchall() == before
        # a type the table's column holds every value of (INTEGER ids into a BIGINT column) is added as ever
        con.execute("ALTER TABLE inc_int ALTER COLUMN transaction_id SET DATA TYPE BIGINT")
        assert ad_duckdb.score(con, "tx_ae", "SELECT transaction_id::INTEGER AS transaction_id, count, amount FROM "
                               "transactions WHERE transaction_id BETWEEN 101 AND 200", into="inc_int",
                               columns=["transaction_id"], append=True) == 100
        # the scores as text
        con.execute("ALTER TABLE inc_int ALTER COLUMN anomaly_score SET DATA TYPE VARCHAR")
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", failing, into="inc_int", columns=["transaction_id"], append=True)
        msg = str(e.value)
        assert "'anomaly_score' is VARCHAR in the table and DOUBLE in the new rows" in msg, msg
        assert "ALTER TABLE inc_int ALTER COLUMN anomaly_score SET DATA TYPE DOUBLE" in msg, msg
        assert "transaction_id" not in msg.split("new rows")[0], msg
        assert con.execute("SELECT count(*) FROM inc_int").fetchall() == [(200,)]
        con.execute("DROP TABLE inc_int")
    finally:
        con.close()


def test_cli_append_top_shows_the_rows_this_run_added(append_db: str) -> None:
    """`score --into T --append --top N` printed the N highest scores of the whole table, from earlier runs too, so
    a cron log showed yesterday's anomalies as today's; and a run that added no row still printed rows."""
    import json

    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    def invoke(*args: str) -> tuple[int, str, str]:
        res = CliRunner().invoke(cli, ["score", append_db, "tx_ae", *args], catch_exceptions=False)
        return res.exit_code, res.stdout, res.stderr

    # the first run holds the oddest rows (amounts far out); the next adds ordinary ones
    odd = "SELECT transaction_id, count, amount * 50 AS amount FROM transactions WHERE transaction_id <= 20"
    code, out, err = invoke(odd, "--into", "top_scores", "-c", "transaction_id", "--append")
    assert code == 0, err
    since = _SINCE.format(t="top_scores")
    code, out, err = invoke(since, "--into", "top_scores", "-c", "transaction_id", "--append", "--top", "5",
                            "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 5 and all(r["transaction_id"] > 20 for r in rows), rows
    con = ad_duckdb.connect(append_db, read_only=True)
    try:
        want = con.execute("SELECT transaction_id, anomaly_score FROM top_scores WHERE transaction_id > 20 "
                           "ORDER BY anomaly_score DESC LIMIT 5").fetchall()
    finally:
        con.close()
    assert [(r["transaction_id"], r["anomaly_score"]) for r in rows] == want
    assert "added 2980 scored rows to top_scores (now 3000 rows; model tx_ae@1)" in err, err
    # nothing new: no rows, rather than the table's old ones
    code, out, err = invoke(since, "--into", "top_scores", "-c", "transaction_id", "--append", "--top", "5",
                            "--format", "json")
    assert code == 0 and json.loads(out) == [], out
    code, out, err = invoke(since, "--into", "top_scores", "-c", "transaction_id", "--append", "--top", "5")
    assert code == 0 and "transaction_id" not in out and "added 0 scored rows" in out, out
    con = ad_duckdb.connect(append_db)
    try:
        con.execute("DROP TABLE top_scores")
    finally:
        con.close()


def test_append_of_numbers_to_a_kept_text_column_is_taken_as_before(append_db: str, tmp_path: Path) -> None:
    """A daily CSV read its 'ref' column as VARCHAR on the day one value was 'A12', and as BIGINT on the next day,
    all digits: the append was refused ("ALTER ... SET DATA TYPE BIGINT", which fails on 'A12' already in the
    table), where it had added the refs as text, every value whole. A kept column of text takes any value as it is
    written; the scores themselves must still be numbers."""
    day1, day2 = tmp_path / "day1.csv", tmp_path / "day2.csv"
    day1.write_text("transaction_id,ref,count,amount\n1,A12,3,10.5\n2,507,1,12.0\n")
    day2.write_text("transaction_id,ref,count,amount\n3,611,2,11.0\n4,612,1,9.5\n")
    con = ad_duckdb.connect(append_db)
    try:
        for day in (day1, day2):
            assert ad_duckdb.score(con, "tx_ae", f"read_csv('{day}')", into="inc_ref", append=True,
                                   columns=["transaction_id", "ref"]) == 2
        assert con.execute("SELECT ref FROM inc_ref ORDER BY transaction_id").fetchall() == \
            [("A12",), ("507",), ("611",), ("612",)]
        assert con.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'inc_ref' AND "
                           "column_name = 'ref'").fetchall() == [("VARCHAR",)]
        con.execute("DROP TABLE inc_ref")
    finally:
        con.close()


def test_append_of_values_a_decimal_column_cannot_hold_is_refused_with_the_widening(append_db: str) -> None:
    """DuckDB casts BIGINT to DECIMAL(18,2) on its own, so BIGINT ids went into a DECIMAL(18,2) column until one
    passed 1e16 and the append failed after every row was scored; DECIMAL(18,4) amounts lost their last two digits
    silently. Refused before the source is read, naming the column, both types and the ALTER TABLE that holds both."""
    con = ad_duckdb.connect(append_db)
    failing = f"SELECT transaction_id + 10000000000000000 AS transaction_id, count, amount FROM ({FAILING})"
    try:
        ad_duckdb.score(con, "tx_ae", "SELECT transaction_id::DECIMAL(18,2) AS transaction_id, count, amount FROM "
                        "transactions WHERE transaction_id <= 100", into="inc_dec", columns=["transaction_id"])
        before = con.execute("SELECT * FROM inc_dec ORDER BY transaction_id").fetchall()
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", failing, into="inc_dec", columns=["transaction_id"], append=True)
        msg = str(e.value)
        assert "'transaction_id' is DECIMAL(18,2) in the table and BIGINT in the new rows" in msg, msg
        assert "ALTER TABLE inc_dec ALTER COLUMN transaction_id SET DATA TYPE DECIMAL(21,2)" in msg, msg
        assert con.execute("SELECT * FROM inc_dec ORDER BY transaction_id").fetchall() == before
        # a type whose every value the column holds (INTEGER into DECIMAL(18,2)) is added as ever
        assert ad_duckdb.score(con, "tx_ae", "SELECT transaction_id::INTEGER AS transaction_id, count, amount FROM "
                               "transactions WHERE transaction_id BETWEEN 101 AND 200", into="inc_dec",
                               columns=["transaction_id"], append=True) == 100
        # digits after the point the column would drop
        with pytest.raises(BadInputError, match=r"'transaction_id' is DECIMAL\(18,2\) in the table and "
                           r"DECIMAL\(18,4\) in the new rows.*SET DATA TYPE DECIMAL\(20,4\)"):
            ad_duckdb.score(con, "tx_ae", "SELECT (transaction_id + 0.0001)::DECIMAL(18,4) AS transaction_id, count, "
                            "amount FROM transactions", into="inc_dec", columns=["transaction_id"], append=True)
        # the ALTER the error gives makes the append work, and keeps every value
        con.execute("ALTER TABLE inc_dec ALTER COLUMN transaction_id SET DATA TYPE DECIMAL(21,2)")
        assert ad_duckdb.score(con, "tx_ae", "SELECT transaction_id + 10000000000000000 AS transaction_id, count, "
                               "amount FROM transactions WHERE transaction_id BETWEEN 201 AND 210", into="inc_dec",
                               columns=["transaction_id"], append=True) == 10
        assert con.execute("SELECT max(transaction_id)::VARCHAR FROM inc_dec").fetchall() == [("10000000000000210.00",)]
        assert con.execute("SELECT count(*) FROM inc_dec").fetchall() == [(210,)]
        con.execute("DROP TABLE inc_dec")
    finally:
        con.close()


def test_append_into_a_double_or_float_column_refuses_only_values_it_would_change(append_db: str) -> None:
    """INSERT BY NAME casts BIGINT to DOUBLE on its own: ids above 2^53 went into a DOUBLE column with their last
    digits changed (9007199254740993 stored as ...992, so it joined back to another row), silently; and a DOUBLE value
    beyond FLOAT's range failed the whole append in DuckDB's words once every row was scored. The values are read,
    not the types: whole numbers the column holds exactly (any INTEGER, a BIGINT below 2^53) and fractions rounded
    to a FLOAT column's precision (what the column is for) are added as ever; a value the column would change or
    cannot hold is refused naming the column, the value and the ALTER TABLE that holds it, and no row is added."""
    con = ad_duckdb.connect(append_db)
    try:
        ad_duckdb.score(con, "tx_ae", "SELECT transaction_id::DOUBLE AS transaction_id, count, amount, "
                        "amount::FLOAT AS x FROM transactions WHERE transaction_id <= 100", into="inc_dbl",
                        columns=["transaction_id", "x"])
        before = con.execute("SELECT * FROM inc_dbl ORDER BY transaction_id").fetchall()

        def add(ids: str, x: str = "amount") -> int:
            return ad_duckdb.score(con, "tx_ae", f"SELECT {ids} AS transaction_id, count, amount, {x} AS x FROM "
                                   "transactions WHERE transaction_id BETWEEN 101 AND 110", into="inc_dbl",
                                   columns=["transaction_id", "x"], append=True)

        # INTEGER ids, BIGINT ids the DOUBLE holds exactly (2^52 + id, and 2^60: even above 2^53), DOUBLE into FLOAT
        assert add("transaction_id::INTEGER") == 10
        assert add("(4503599627370496 + transaction_id)::BIGINT") == 10
        assert add("1152921504606846976::BIGINT + 0 * transaction_id") == 10
        assert add("transaction_id", x="amount_d") == 10
        assert con.execute("SELECT count(*) FROM inc_dbl").fetchall() == [(140,)]
        # a BIGINT id above 2^53 the DOUBLE column would store as another number
        with pytest.raises(BadInputError) as e:
            add("(9007199254740992 + transaction_id)::BIGINT")
        msg = str(e.value)
        assert "Cannot append the scores of 'tx_ae@1' to table 'inc_dbl'" in msg, msg
        assert "column 'transaction_id' is DOUBLE in the table and BIGINT in the new rows" in msg, msg
        assert "9007199254741093" in msg and "9007199254741092" in msg, msg  # the value and what it would become
        assert "ALTER TABLE inc_dbl ALTER COLUMN transaction_id SET DATA TYPE BIGINT" in msg, msg
        assert "Invalid Input Error" not in msg and "Traceback" not in msg, msg
        # a BIGINT above 2^24 into a FLOAT column, likewise
        with pytest.raises(BadInputError, match=r"column 'x' is FLOAT in the table and BIGINT in the new rows.*"
                           r"16777317.*SET DATA TYPE BIGINT"):
            add("transaction_id", x="(16777216 + transaction_id)::BIGINT")
        # a DOUBLE beyond FLOAT's range: DuckDB's conversion error after the scoring, before
        with pytest.raises(BadInputError, match=r"column 'x' is FLOAT in the table and DOUBLE in the new rows.*"
                           r"1e\+39.*SET DATA TYPE DOUBLE"):
            add("transaction_id", x="CASE WHEN transaction_id = 105 THEN 1e39::DOUBLE ELSE amount END")
        assert con.execute("SELECT count(*) FROM inc_dbl").fetchall() == [(140,)]
        assert con.execute("SELECT * FROM inc_dbl WHERE transaction_id <= 100 ORDER BY transaction_id"
                           ).fetchall() == before
        # the ALTER the error gives makes the append work, every digit kept
        con.execute("ALTER TABLE inc_dbl ALTER COLUMN transaction_id SET DATA TYPE BIGINT")
        assert add("(9007199254740992 + transaction_id)::BIGINT") == 10
        assert con.execute("SELECT list(transaction_id - 9007199254740992 ORDER BY transaction_id) FROM inc_dbl "
                           "WHERE transaction_id BETWEEN 9007199254740993 AND 9007199254741200").fetchall() == [
            (list(range(101, 111)),)]
        con.execute("DROP TABLE inc_dbl")
    finally:
        con.close()


def test_append_of_whole_decimals_into_a_double_column_refuses_only_values_it_would_change(append_db: str) -> None:
    """A DECIMAL(18,0) id (NUMERIC(18) read from PostgreSQL or Oracle, a Parquet decimal) into a DOUBLE column went
    in with its last digits changed above 2^53 (9007199254740993 stored as ...992, joining back to another row),
    silently, as BIGINT ids did before their guard: INSERT BY NAME casts a DECIMAL to DOUBLE on its own. Whole
    decimals the column holds exactly and decimals with fractions (amounts) are added as ever."""
    con = ad_duckdb.connect(append_db)
    try:
        ad_duckdb.score(con, "tx_ae", "SELECT transaction_id::DOUBLE AS transaction_id, count, amount, "
                        "amount::DOUBLE AS x FROM transactions WHERE transaction_id <= 100", into="inc_ddec",
                        columns=["transaction_id", "x"])

        def add(ids: str, x: str = "amount") -> int:
            return ad_duckdb.score(con, "tx_ae", f"SELECT {ids} AS transaction_id, count, amount, {x} AS x FROM "
                                   "transactions WHERE transaction_id BETWEEN 101 AND 110", into="inc_ddec",
                                   columns=["transaction_id", "x"], append=True)

        assert add("transaction_id::DECIMAL(18,0)") == 10
        assert add("transaction_id::DECIMAL(38,0)", x="amount::DECIMAL(18,2)") == 10
        assert add("(4503599627370496 + transaction_id)::DECIMAL(38,0)") == 10
        with pytest.raises(BadInputError) as e:
            add("(9007199254740992 + transaction_id)::DECIMAL(38,0)")
        msg = str(e.value)
        assert "column 'transaction_id' is DOUBLE in the table and DECIMAL(38,0) in the new rows" in msg, msg
        assert "9007199254741093" in msg and "9007199254741092" in msg, msg
        assert "ALTER TABLE inc_ddec ALTER COLUMN transaction_id SET DATA TYPE DECIMAL(38,0)" in msg, msg
        assert con.execute("SELECT count(*) FROM inc_ddec").fetchall() == [(130,)]
        # and into a FLOAT column, above 2^24
        con.execute("ALTER TABLE inc_ddec ALTER COLUMN x SET DATA TYPE FLOAT")
        with pytest.raises(BadInputError, match=r"column 'x' is FLOAT in the table and DECIMAL\(18,0\) in the new "
                           r"rows.*16777317"):
            add("transaction_id", x="(16777216 + transaction_id)::DECIMAL(18,0)")
        assert con.execute("SELECT count(*) FROM inc_ddec").fetchall() == [(130,)]
        con.execute("DROP TABLE inc_ddec")
    finally:
        con.close()


def test_append_of_values_a_double_column_would_change_is_refused_before_any_row_is_scored(append_db: str) -> None:
    """A BIGINT id above 2^53 bound for a DOUBLE column was refused inside the INSERT, after the rows were read and
    scored (rolled back, nothing added, but the user waited for the whole scoring). The source's guarded columns are
    read first, alone: the refusal comes before a feature value is read. A record-batch reader, which DuckDB reads
    only once, is not read twice: its values are checked as they are added, as before."""
    con = ad_duckdb.connect(append_db)
    read: list[int] = []

    def features_read(x: pa.Array) -> pa.Array:
        read.append(len(x))
        return x

    try:
        con.create_function("features_read", features_read, [DOUBLE], DOUBLE, type="arrow")
        ad_duckdb.score(con, "tx_ae", "SELECT transaction_id::DOUBLE AS transaction_id, count, amount FROM "
                        "transactions WHERE transaction_id <= 100", into="inc_pre", columns=["transaction_id"])
        # the last of 50,000 new ids is the one the column would change
        late = ("SELECT CASE WHEN i = 49999 THEN 9007199254740993 ELSE 1000 + i END::BIGINT AS transaction_id, "
                "1 + i % 20 AS count, features_read(((1 + i % 20) * (20 + i % 7))::DOUBLE) AS amount FROM range(50000) r(i)")
        with pytest.raises(BadInputError, match=r"column 'transaction_id' is DOUBLE in the table and BIGINT in the "
                           r"new rows, and the value 9007199254740993 would be stored as 9007199254740992.*"
                           r"No row was added"):
            ad_duckdb.score(con, "tx_ae", late, into="inc_pre", columns=["transaction_id"], append=True)
        # DuckDB reads the first vectors as the scoring's reader is made; the rows up to the last were read and
        # scored before
        assert sum(read) <= 4 * 2048, sum(read)
        read.clear()
        big = ("SELECT (9007199254740992 + transaction_id)::BIGINT AS transaction_id, count, "
               "features_read(amount) AS amount FROM transactions WHERE transaction_id > 100")
        assert con.execute("SELECT count(*) FROM inc_pre").fetchall() == [(100,)]
        # ids the column holds exactly: the check lets them through, every row scored and added
        small = "SELECT transaction_id, count, features_read(amount) AS amount FROM transactions WHERE transaction_id > 100"
        n = ad_duckdb.score(con, "tx_ae", small, into="inc_pre", columns=["transaction_id"], append=True)
        assert n > 0 and sum(read) == n
        assert con.execute("SELECT count(*) FROM inc_pre").fetchall() == [(100 + n,)]
        # a reader is read once: the safe one is added whole, the unsafe one refused by the INSERT's own check
        con.execute("DELETE FROM inc_pre WHERE transaction_id > 100")
        rows = con.sql(small.replace("features_read(amount)", "amount"))
        batches = rows.to_arrow_reader(64)  # noqa: F841  (read by its name)
        assert ad_duckdb.score(con, "tx_ae", "batches", into="inc_pre", columns=["transaction_id"], append=True) == n
        batches = con.sql(big.replace("features_read(amount)", "amount")).to_arrow_reader(64)  # noqa: F841
        with pytest.raises(BadInputError, match=r"column 'transaction_id' is DOUBLE in the table and BIGINT"):
            ad_duckdb.score(con, "tx_ae", "batches", into="inc_pre", columns=["transaction_id"], append=True)
        assert con.execute("SELECT count(*) FROM inc_pre").fetchall() == [(100 + n,)]
        con.execute("DROP TABLE inc_pre")
    finally:
        con.close()


def test_append_whose_ids_a_double_column_holds_exactly_runs_the_source_once(append_db: str) -> None:
    """The check before scoring (BIGINT ids bound for a DOUBLE column) read the source's ids in a query of its own:
    a view that joins or filters ran twice, the whole of it, though none of its ids was near 2^53. What DuckDB knows
    of the ids' range (a table's statistics, through the view) now answers for it when it can; the ids it cannot
    place are read as before."""
    con = ad_duckdb.connect(append_db)
    seen: list[int] = []

    def rows_seen(x: pa.Array) -> pa.Array:
        seen.append(len(x))
        return pa.array([True] * len(x))

    try:
        con.create_function("rows_seen", rows_seen, [DOUBLE], BOOLEAN, type="arrow")
        ad_duckdb.score(con, "tx_ae", "SELECT transaction_id::DOUBLE AS transaction_id, count, amount FROM "
                        "transactions WHERE transaction_id <= 100", into="inc_once", columns=["transaction_id"])
        # a window over the rows: a filter on the ids is not pushed below it, so the check ran the whole view
        con.execute("CREATE OR REPLACE VIEW tx_seen AS SELECT transaction_id, count, amount FROM (SELECT *, "
                    "row_number() OVER () AS k FROM transactions WHERE transaction_id > 100 AND "
                    "rows_seen(amount::DOUBLE))")
        n = ad_duckdb.score(con, "tx_ae", "tx_seen", into="inc_once", columns=["transaction_id"], append=True)
        assert n > 0 and sum(seen) == n, (n, sum(seen))
        # an id beyond 2^53 it holds exactly (2^60) is read and let through; one it would change, refused
        seen.clear()
        con.execute(f"CREATE OR REPLACE VIEW tx_big AS SELECT CASE WHEN transaction_id = 101 THEN {2 ** 60} ELSE "
                    "transaction_id END::BIGINT AS transaction_id, count, amount FROM transactions WHERE "
                    "transaction_id > 100")
        assert ad_duckdb.score(con, "tx_ae", "tx_big", into="inc_once", columns=["transaction_id"], append=True) == n
        con.execute("CREATE OR REPLACE VIEW tx_big AS SELECT CASE WHEN transaction_id = 101 THEN "
                    "9007199254740993 ELSE transaction_id END::BIGINT AS transaction_id, count, amount FROM "
                    "transactions WHERE transaction_id > 100")
        with pytest.raises(BadInputError, match=r"the value 9007199254740993 would be stored as 9007199254740992"):
            ad_duckdb.score(con, "tx_ae", "tx_big", into="inc_once", columns=["transaction_id"], append=True)
        assert con.execute("SELECT count(*) FROM inc_once").fetchall() == [(100 + 2 * n,)]
    finally:
        con.execute("DROP TABLE IF EXISTS inc_once")
        con.execute("DROP VIEW IF EXISTS tx_seen")
        con.execute("DROP VIEW IF EXISTS tx_big")
        con.close()


def test_scoring_into_a_table_leaves_the_connections_arrow_export_as_it_was(tmp_path: Path) -> None:
    """score(into=) and the CLI's top rows read the source with DuckDB's lossless Arrow types, set with SET
    arrow_lossless_conversion on their own cursor; that setting is global in DuckDB, so it stayed on for the
    database: afterwards the user's own con.sql(...).arrow() (and .pl()), and score() returning rows, gave a
    HUGEINT id as 16 raw bytes (pandas showed b'(\\xfd...') and a UUID as an extension type, on every connection
    to the file in that process. The setting is now the scoring cursor's session's alone."""
    from ad_duckdb.api import top_scored

    db = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(db)
    other = duckdb.connect(db)
    try:
        con.execute("CREATE TABLE t AS SELECT (range + 170141183460469231731687303715884105000)::HUGEINT AS id, "
                    "(range % 7)::DOUBLE AS a, (range % 17) * 2.0 + range % 3 AS b FROM range(500)")
        ad_duckdb.train(con, "m", "t", features=["a", "b"], **FAST)
        assert ad_duckdb.score(con, "m", "t", into="s") == 500
        top_scored(con, "m", "t", 3)
        for c in (con, other):
            assert c.sql("SELECT current_setting('arrow_lossless_conversion')").fetchall() == [(False,)]
            assert c.sql("SELECT id FROM t").to_arrow_table().schema.field("id").type == pa.decimal128(38, 0)
        rows = ad_duckdb.score(con, "m", "t")
        assert rows.schema.field("id").type == pa.decimal128(38, 0)
        assert rows.to_pandas()["id"].iloc[0] == 170141183460469231731687303715884105000
        # the table written keeps the id whole, as before
        assert con.sql("SELECT max(id) FROM s").fetchall() == [(170141183460469231731687303715884105499,)]
    finally:
        other.close()
        con.close()


@pytest.mark.parametrize("source", ["src.transactions", "src.main.transactions"])
def test_train_from_a_path_of_another_file_s_table_says_what_to_do_with_a_path(tmp_path: Path, source: str) -> None:
    """ad_duckdb.train('models.duckdb', ..., 'src.transactions'): the error said "attach it on the connection first:
    con.execute(...)", but given a path the user holds no connection to attach on. It now says how: open the file
    with ad_duckdb.connect, ATTACH there, and pass that connection (or the command line's --attach); nothing is
    left behind."""
    with duckdb.connect(str(tmp_path / "src.duckdb")) as src:
        src.execute("CREATE TABLE transactions AS SELECT 1 + range % 20 AS count, (1 + range % 20) * (20 + range % 7) AS amount FROM range(300)")
    models = tmp_path / "models.duckdb"
    with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
        ad_duckdb.train(str(models), "tx_ae", source, **FAST)
    said = str(e.value)
    assert "con = ad_duckdb.connect(" in said and repr(str(models)) in said, said
    assert "ATTACH 'path/to/src.duckdb' AS src (READ_ONLY)" in said, said
    assert "ad_duckdb.train(con, 'tx_ae', " in said and "--attach path/to/src.duckdb" in said, said
    assert "attach it on the connection first" not in said.lower(), said
    assert not models.exists()  # the file train created for nothing is removed, as before
    # the way it says works
    con = ad_duckdb.connect(str(models))
    try:
        con.execute(f"ATTACH '{tmp_path / 'src.duckdb'}' AS src (READ_ONLY)")
        assert ad_duckdb.train(con, "tx_ae", source, **FAST).train_rows == 300
    finally:
        con.close()
