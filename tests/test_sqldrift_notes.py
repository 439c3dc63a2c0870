"""The SQL functions' note of a numeric column that moved out of its training range (batchdrift): a dbt model fed
``count * 50`` (a unit change upstream) had every row flagged and nothing said why; only ``score`` printed a drift
note. Now one note per (model, column) and statement (``ad-duckdb sql``) or connection (Python), none on ordinary
rows."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_textcols2_gaps import _notes_of

import ad_duckdb
from ad_duckdb import batchdrift
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBWarning

from conftest import FAST
from generate import generate  # examples/transactions is on sys.path (conftest)

FUNCS = ("anomaly_score", "is_anomaly", "anomaly_percentile", "anomaly_mse")
# the counts in other units: 50 of the new unit to one of training's
MOVED = "SELECT * REPLACE (count * 50 AS count) FROM transactions"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example transactions (examples/transactions/generate.py) and a model of count and amount."""
    path = tmp_path_factory.mktemp("sqldrift") / "tx.duckdb"
    generate(path, rows=6000, seed=7)
    con = ad_duckdb.connect(str(path))
    try:
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    finally:
        con.close()
    return path


def test_a_column_in_other_units_is_noted_once_per_connection(example: Path) -> None:
    con = ad_duckdb.connect(str(example), read_only=True)
    try:
        said = _notes_of(lambda: con.execute(
            f"SELECT count(*) FILTER (WHERE is_anomaly('tx_ae', count, amount)) FROM ({MOVED})").fetchall())
        ours = [m for m in said if "training range" in m]
        assert len(ours) == 1, said  # 6000 rows: three batches, one note
        msg = ours[0]
        assert msg.startswith("is_anomaly('tx_ae@1', ...)"), msg
        assert "'count'" in msg and "'amount'" not in msg, msg  # the column that moved, not the one that did not
        factor = float(re.search(r"\(([\d.]+)x\)", msg).group(1))  # type: ignore[union-attr]
        assert 30 <= factor <= 80, msg  # by what factor (a batch's median against training's)
        assert "above its training range" in msg and "check 'count' at its source" in msg, msg
        assert "train a model on rows of the new range" in msg, msg
        # said once per connection: the same query, and the other functions, say nothing more
        for func in FUNCS:
            again = _notes_of(lambda f=func: con.execute(f"SELECT {f}('tx_ae', count, amount) FROM ({MOVED})").fetchall())
            assert not again, (func, again)
    finally:
        con.close()
    # a new connection says it again
    con = ad_duckdb.connect(str(example), read_only=True)
    try:
        said = _notes_of(lambda: con.execute(f"SELECT anomaly_score('tx_ae', count, amount) FROM ({MOVED})").fetchall())
        assert [m for m in said if "'count'" in m], said
    finally:
        con.close()


def test_ordinary_rows_say_nothing(example: Path) -> None:
    """The example's rows (with its planted anomalies), by every function, and a batch of the rows it flags."""
    con = ad_duckdb.connect(str(example), read_only=True)
    try:
        for func in FUNCS:
            said = _notes_of(lambda f=func: con.execute(f"SELECT {f}('tx_ae', count, amount) FROM transactions").fetchall())
            assert not said, (func, said)
        said = _notes_of(lambda: con.execute(
            "SELECT anomaly_explain('tx_ae', count, amount) FROM transactions ORDER BY transaction_id LIMIT 300"
        ).fetchall())
        assert not said, said
        # amounts a little larger than usual (inside the range) are no unit change
        said = _notes_of(lambda: con.execute(
            "SELECT anomaly_score('tx_ae', count, amount * 1.2) FROM transactions").fetchall())
        assert not said, said
    finally:
        con.close()


def test_the_sql_command_notes_it_once_per_statement(example: Path) -> None:
    query = f"SELECT count(*) FILTER (WHERE is_anomaly('tx_ae', count, amount)) AS n FROM ({MOVED})"
    out = CliRunner().invoke(cli, ["sql", str(example), f"{query}; {query};"])
    assert out.exit_code == 0, out.output
    notes = [line for line in out.output.splitlines() if line.startswith("note:") and "training range" in line]
    assert len(notes) == 2, out.output  # one per statement, not one per batch
    assert "'count'" in notes[0] and "each statement" in notes[0], notes[0]
    plain = CliRunner().invoke(cli, ["sql", str(example),
                                     "SELECT count(*) FILTER (WHERE is_anomaly('tx_ae', count, amount)) FROM transactions"])
    assert plain.exit_code == 0 and "note:" not in plain.output, plain.output


def test_the_check_costs_little_on_ordinary_batches(example: Path) -> None:
    """Bench-style: the check's CPU time per 2048-row batch of ordinary rows against scoring that batch (printed,
    not asserted: wall time is the machine's); asserted is only that ordinary batches never reach the medians."""
    from ad_duckdb.scoring import LoadedModel
    from ad_duckdb.udfs import registry

    con = ad_duckdb.connect(str(example), read_only=True)
    try:
        lm: LoadedModel = registry(con).get("tx_ae")
        rows = con.execute("SELECT count::DOUBLE AS c, amount::DOUBLE AS a FROM transactions LIMIT 2048").fetchnumpy()
        X = np.stack([rows["c"], rows["a"]], axis=1).astype(lm.input_dtype)
        moved = X.copy()
        moved[:, 0] *= 50
        s, s_moved = lm.scores(X), lm.scores(moved)
        t0 = time.process_time()
        for _ in range(200):
            lm.scores(X)
        t1 = time.process_time()
        for _ in range(200):
            batchdrift.check(lm, X, s, "anomaly_score")
        t2 = time.process_time()
        assert not lm.said  # ordinary batches never reach the medians
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AdDuckDBWarning)
            for _ in range(200):  # the worst case: a moved batch, its note not said yet
                lm.said.clear()
                batchdrift.check(lm, moved, s_moved, "anomaly_score")
        t3 = time.process_time()
        assert lm.said
        per = (t1 - t0) / 200
        print(f"\nper 2048-row batch: scoring {per * 1e6:.0f} us; check, ordinary {(t2 - t1) / 200 * 1e6:.1f} us "
              f"(x{(t2 - t1) / 200 / per:.4f} of scoring), moved {(t3 - t2) / 200 * 1e6:.0f} us "
              f"(x{(t3 - t2) / 200 / per:.3f})")
    finally:
        con.close()


def test_serve_logs_the_note_once(example: Path) -> None:
    """In serve the note is a line of its log (as the text columns' note is), said once for the server's run."""
    import psycopg

    from test_server import serve

    with serve(str(example)) as server:
        with psycopg.connect(server.url(), autocommit=True) as pg:
            for _ in range(2):
                pg.execute(f"SELECT avg(anomaly_score('tx_ae', count, amount)) FROM ({MOVED}) AS t").fetchall()
            pg.execute("SELECT avg(anomaly_score('tx_ae', count, amount)) FROM transactions").fetchall()
        line = server.wait_for_log("training range")
    assert "ad-duckdb serve: note: anomaly_score('tx_ae@1', ...)" in line and "'count'" in line, line
    assert "run of the server" in line, line
    assert server.stderr.count("serve: note:") == 1, server.stderr


def test_warnings_as_errors_still_show_the_note_and_the_query_runs(example: Path) -> None:
    """Under ``python -W error`` the note was raised inside the SQL function, caught there so as not to fail the query
    that scored, and so said nowhere: the rows all flagged with no word of why. Now it is shown (stderr), not raised."""
    import subprocess
    import sys

    code = ("import sys, ad_duckdb\n"
            "con = ad_duckdb.connect(sys.argv[1], read_only=True)\n"
            f"print(con.execute(\"SELECT count(*) FILTER (WHERE is_anomaly('tx_ae', count, amount)) FROM ({MOVED})\""
            ").fetchall()[0][0])\n")
    run = subprocess.run([sys.executable, "-W", "error", "-c", code, str(example)], capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": ":".join(sys.path)}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.split()[-1]) > 5000, run.stdout  # the query ran: most of the 6000 rows flagged
    assert "AdDuckDBWarning" in run.stderr and "'count'" in run.stderr and "training range" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr


def test_explain_says_no_batch_note(example: Path) -> None:
    """explain's rows are the ones its --where picked (often the flagged ones, to see why), and each row's lines name
    its values against their training range: a batch note that the rows "have likely moved away from the training
    data" was noise there."""
    res = CliRunner().invoke(cli, ["explain", str(example), "tx_ae", MOVED, "--where", "transaction_id < 3000",
                                   "--limit", "1"])
    assert res.exit_code == 0, res.output
    assert "count" in res.stdout and "training range" not in res.output, res.output


def test_compare_says_a_moved_column_once_for_both_versions(example: Path, tmp_path: Path) -> None:
    """compare scores every row with both versions: each said the same column's note, one after the other."""
    db = tmp_path / "two.duckdb"
    db.write_bytes(example.read_bytes())
    con = ad_duckdb.connect(str(db))
    try:
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=1, **FAST)
        said = _notes_of(lambda: ad_duckdb.compare_versions(con, "tx_ae@1", "tx_ae@2", MOVED))
        ours = [m for m in said if "training range" in m]
        assert len(ours) == 1 and "'count'" in ours[0], said
        # the versions' own notes afterwards: each once per connection, as before (tx_ae@1's said in compare)
        later = _notes_of(lambda: con.execute(f"SELECT anomaly_score('tx_ae@2', count, amount) FROM ({MOVED})"
                                              ).fetchall())
        assert not [m for m in later if "training range" in m], later
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["compare", str(db), "tx_ae@1", "tx_ae@2", MOVED])
    assert res.exit_code == 0, res.output
    assert res.stderr.count("mostly outside its training range") == 1, res.stderr
