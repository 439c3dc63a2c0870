"""The SQL functions' messages and transactions, and the Python API's inputs (the sqlpy audit)."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

TINY = {"n_models": 1, "max_steps": 20, "progress": False}


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file database with model tx_ae (count, amount) of one version."""
    path = str(tmp_path_factory.mktemp("sqlpy") / "m.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE transactions AS SELECT i AS transaction_id, 5 + i % 17 AS count, "
                "(20 + (i * 7) % 300)::DECIMAL(14, 2) AS amount FROM range(600) t(i)")
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **TINY)
    con.close()
    return path


@pytest.fixture
def db(small_db: str, tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "copy.duckdb")
    shutil.copy(small_db, path)
    yield path


def _run(*args: str, ok: bool = True) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res.output


def _missing(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    with pytest.raises(duckdb.Error) as e:
        con.sql(sql).fetchall()
    return " ".join(str(e.value).split())


@pytest.mark.parametrize(("name", "method", "option"), [("p97", "quantile", "--target 0.97"),
                                                       ("q995", "quantile", "--target 0.995"),
                                                       ("strict", "quantile", "--target 0.995")])
def test_a_missing_threshold_s_message_gives_the_command_that_stores_it(db: str, name: str, method: str,
                                                                        option: str) -> None:
    """A query naming a threshold the version lacks said to add it "with ad_duckdb.set_threshold(...) or `ad-duckdb
    threshold`", leaving the method and its options to look up. It now writes out the CLI command for this database
    and model, with the method the name reads as (p97: the 0.97 quantile; another name: a quantile to change), and
    the Python call; both run, and the query then works. Each is said where it runs: the command from the command
    line, the call from Python, not both."""
    said = " ".join(_run("sql", db, f"SELECT anomaly_threshold('tx_ae', '{name}')", ok=False).split())
    assert "set_threshold" not in said, said
    m = re.search(r"store it for this one: (ad-duckdb threshold .*?) \(", said)
    assert m is not None, said
    cmd = shlex.split(m.group(1))
    assert cmd[2:] == [db, "tx_ae", name, "--method", method, *option.split()], cmd
    _run(*cmd[1:])
    con = ad_duckdb.connect(db)
    try:
        q = float(option.split()[1])
        value = con.execute(f"SELECT anomaly_threshold('tx_ae', '{name}')").fetchone()[0]
        share = con.execute("SELECT flagged_share FROM ad_thresholds WHERE threshold_name = ?", [name]).fetchone()[0]
        assert share == pytest.approx(1 - q, abs=0.01)
        # the Python call, on a name not stored yet
        con.execute("DELETE FROM ad_thresholds WHERE threshold_name = ?", [name])
        ad_duckdb.refresh(con)
        said = _missing(con, f"SELECT anomaly_threshold('tx_ae', '{name}')")
        call = re.search(r"store it for this one: (ad_duckdb\.set_threshold\(con, .*?\)) \(", said)
        assert call is not None and "ad-duckdb threshold" not in said, said
        eval(call.group(1), {"ad_duckdb": ad_duckdb, "con": con})
        assert con.execute(f"SELECT anomaly_threshold('tx_ae', '{name}')").fetchone()[0] == pytest.approx(value)
    finally:
        con.close()


def test_a_threshold_another_version_holds_is_stored_as_it_was_there(db: str) -> None:
    """After a retrain without carry_thresholds, the new version lacks the cut typed in for the old one: the
    command stores the same cut (manual, its value) for the version the query named."""
    con = ad_duckdb.connect(db)
    try:
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=12.5)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **TINY)
    finally:
        con.close()
    said = " ".join(_run("sql", db, "SELECT anomaly_threshold('tx_ae', 'cut')", ok=False).split())
    m = re.search(r"store it for this one: (ad-duckdb threshold .*?) \(", said)
    assert m is not None and shlex.split(m.group(1))[3:] == ["tx_ae@2", "cut", "--method", "manual", "--value",
                                                             "12.5"], said


_MINE = ("INSERT INTO ad_thresholds (model, version, threshold_name, value, method, created_at) "
         "VALUES ('tx_ae', 1, 'mine', 20.0, 'manual', now())")


def test_sql_inside_begin_commit_sees_its_own_threshold_writes(db: str) -> None:
    """`ad-duckdb sql`: inside BEGIN ... COMMIT the functions saw threshold writes only after COMMIT (an INSERTed
    one was "no threshold 'mine'", an UPDATE's value unused), as they were loaded through a connection of their own.
    They now load what the command's connection sees: its transaction's rows, and after ROLLBACK the committed ones."""
    out = _run("sql", "--write", "--format", "csv", db,
               f"BEGIN; {_MINE}; SELECT anomaly_threshold('tx_ae', 'mine') AS t; "
               "UPDATE ad_thresholds SET value = 30 WHERE threshold_name = 'mine'; "
               "SELECT anomaly_threshold('tx_ae', 'mine') AS t, is_anomaly_at('tx_ae', 'mine', 5, 25) AS f; ROLLBACK; "
               "SELECT count(*) AS n FROM ad_thresholds WHERE threshold_name = 'mine'")
    assert [line for line in out.splitlines() if line][1:] == ["20.0", "t,f", "30.0,false", "n", "0"], out
    out = _run("sql", "--write", db, "BEGIN; " + _MINE + "; ROLLBACK; SELECT anomaly_threshold('tx_ae', 'mine')",
               ok=False)
    assert "has no threshold 'mine'" in out, out
    out = _run("sql", "--write", "--format", "csv", db,
               f"BEGIN; {_MINE}; COMMIT; SELECT anomaly_threshold('tx_ae', 'mine') AS t")
    assert out.splitlines()[-1] == "20.0", out


def test_a_failed_statement_after_a_threshold_write_leaves_the_committed_thresholds(db: str) -> None:
    """At the prompt, a statement failing inside the transaction aborts it: its threshold rows never commit (a COMMIT
    then ends it without them), so the functions go back to the committed ones rather than keep using them."""
    from ad_duckdb import sqlrun

    con = ad_duckdb.connect(db)
    try:
        sqlrun._run_statements(con, f"BEGIN; {_MINE}", "table", True)
        assert con.execute("SELECT anomaly_threshold('tx_ae', 'mine')").fetchall() == [(20.0,)]
        with pytest.raises(Exception, match="Could not convert string 'x'"):
            sqlrun._run_statements(con, "SELECT 'x'::INTEGER FROM range(2)", "table", True)
        sqlrun._run_statements(con, "COMMIT", "table", True)
        assert con.execute("SELECT count(*) FROM ad_thresholds WHERE threshold_name = 'mine'").fetchall() == [(0,)]
        with pytest.raises(duckdb.Error, match="no threshold 'mine'"):
            con.execute("SELECT anomaly_threshold('tx_ae', 'mine')").fetchall()
    finally:
        con.close()


def test_a_python_connection_s_missing_threshold_says_an_open_transaction_s_is_seen_once_committed(db: str) -> None:
    """A Python connection's functions read the store through a connection of their own (shared by every connection
    of the database, so one's uncommitted rows must not reach the others): the message says why a threshold its open
    transaction wrote is missing, and when it is seen."""
    con = ad_duckdb.connect(db)
    try:
        con.execute("BEGIN")
        con.execute(_MINE)
        said = _missing(con, "SELECT anomaly_threshold('tx_ae', 'mine')")
        assert "open transaction (BEGIN without COMMIT) is seen here once committed" in said, said
        con.execute("ROLLBACK")
    finally:
        con.close()


@pytest.mark.parametrize("arg", ["'101'::BIT", "(count * 3)::INTEGER::BIT"])
def test_a_bit_argument_is_named_bit_with_the_cast_that_reads_its_value(db: str, arg: str) -> None:
    """DuckDB hands BIT and BLOB alike to a Python function (bytes), so a BIT in a feature's place after the first
    was "BLOB, not a number" with octet_length(...) as the fix: the bitstring's size, not its value. It is now named
    BIT, with the cast that reads its bits as a number, which then scores; a BLOB stays a BLOB."""
    con = ad_duckdb.connect(db)
    try:
        said = _missing(con, f"SELECT anomaly_score('tx_ae', count, {arg}) FROM transactions")
        assert "feature argument 2 (the model was trained on 'amount' there) is BIT, not a number" in said, said
        fix = re.search(r"into a number: (CAST\(col AS BIGINT\)) reads its bits", said)
        assert fix is not None, said
        fixed = fix.group(1).replace("col", arg)
        assert len(con.execute(f"SELECT anomaly_score('tx_ae', count, {fixed}) FROM transactions").fetchall()) == 600
        said = _missing(con, "SELECT anomaly_score('tx_ae', count, encode(amount::VARCHAR)) FROM transactions")
        assert "is BLOB, not a number" in said and "octet_length(col)" in said, said
    finally:
        con.close()


def test_a_bit_first_argument_gets_the_cast_that_reads_its_value(db: str) -> None:
    """The binder's refusal of a BIT first feature named it BIT, but the fix was octet_length(...), its size in bytes;
    CAST(... AS DOUBLE), the general advice, reads a bitstring's bits as a float's (5 as 2.5e-323)."""
    out = _run("sql", db, "SELECT anomaly_score('tx_ae', (count)::INTEGER::BIT, amount) FROM transactions", ok=False)
    said = " ".join(out.split())
    assert "first feature argument is BIT" in said and "CAST((count)::INTEGER::BIT AS BIGINT)" in said, said
    out = _run("sql", "--format", "csv", db, "SELECT count(anomaly_score('tx_ae', CAST((count)::INTEGER::BIT AS BIGINT), "
               "amount)) AS n FROM transactions")
    assert out.splitlines()[-1] == "600", out


def test_score_names_a_bit_column_with_the_cast_that_reads_it(db: str) -> None:
    """Bulk scoring of a source whose feature column is BIT (or a list, a struct ...) stopped on its first batch with
    "score('tx_ae@1', ...): feature argument 2 ... is BLOB", its fix written for a placeholder `col`; it now names
    the column, its type and feature, with the cast for that column, which then scores."""
    con = ad_duckdb.connect(db)
    try:
        src = "SELECT count, (amount::INTEGER)::BIT AS amount FROM transactions"
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.score(con, "tx_ae", src)
        said = str(e.value)
        assert "column 'amount' of" in said and "is BIT, and feature 'amount' takes numbers" in said, said
        fix = re.search(r'(CAST\("amount" AS BIGINT\)) reads its bits', said)
        assert fix is not None, said
        fixed = f"SELECT * REPLACE ({fix.group(1)} AS amount) FROM ({src})"
        assert ad_duckdb.score(con, "tx_ae", fixed).num_rows == 600
    finally:
        con.close()


def test_a_numpy_array_of_booleans_is_refused_as_a_frame_s_true_false_column_is() -> None:
    """AutoEncoderDetector read a numpy bool array as 0/1, where a frame's True/False column (and SQL's BOOLEAN) is
    refused with the cast: a model fitted on it scored rows no query could pass it. Refused now, with the cast that
    reads them as 1/0, which then fits and scores."""
    rng = np.random.default_rng(0)
    flags = rng.normal(size=(300, 3)) > 0
    for call in (lambda: ad_duckdb.AutoEncoderDetector(**TINY).fit(flags),
                 lambda: ad_duckdb.AutoEncoderDetector(**TINY).fit(flags.astype(np.int8)).decision_function(flags)):
        with pytest.raises(ad_duckdb.BadInputError, match=r"X holds True/False values \(bool\).*X\.astype\(np\.int8\)"):
            call()
    det = ad_duckdb.AutoEncoderDetector(**TINY).fit(flags.astype(np.int8))
    assert det.decision_function(flags.astype(np.int8)).shape == (300,)


def test_a_frame_made_in_the_call_is_told_to_be_assigned_to_a_variable() -> None:
    """A DataFrame or Arrow table built in the call itself (df.assign(y=0), pl.from_pandas(df)) has no variable to
    name, and the refusal gave only "e.g. 'transactions', read_parquet(...) or 'SELECT ...'", as if frames were not
    sources; it now says DuckDB reads them by a variable's name, and the fix runs."""
    import pandas as pd
    import pyarrow as pa

    con = ad_duckdb.connect()
    try:
        df = pd.DataFrame({"a": np.arange(300.0) % 17, "b": np.arange(300.0) % 5})
        ad_duckdb.train(con, "m", "df", **TINY)
        for made in (lambda: df.assign(y=0), lambda: pa.Table.from_pandas(df)):
            with pytest.raises(ad_duckdb.BadInputError, match=r"by the name of a variable holding them: assign it to "
                                                             r"one first \(rows = \.\.\.\), then pass its name"):
                ad_duckdb.score(con, "m", made())
            rows = made()  # noqa: F841  (read by its name)
            assert ad_duckdb.score(con, "m", "rows").num_rows == 300
    finally:
        con.close()


def test_a_missing_threshold_that_looks_like_a_typo_gets_no_command_storing_it(db: str) -> None:
    """'P99' (a typo of 'p99') got "did you mean 'p99'?" and then the command that stores 'P99' as the 0.99
    quantile: a second cut beside the one meant. After a guess the message gives the guess alone."""
    con = ad_duckdb.connect(db)
    try:
        said = _missing(con, "SELECT anomaly_threshold('tx_ae', 'P99')")
        assert "Did you mean 'p99'" in said and "--method" not in said and "store it for" not in said, said
    finally:
        con.close()
