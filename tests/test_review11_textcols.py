"""Text features as their users meet them (review11): two text arguments swapped in a SQL call, an upstream change of
a text column's case, a value that differs from a category only in case or spaces, and the NULLs training read as
the most common category."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBWarning

from generate import generate

NUMS = ["count", "amount", "refunds"]
ARGS = ", ".join([*NUMS, "channel", "country"])
SWAPPED = ", ".join([*NUMS, "country", "channel"])
# every 20th row's channel is NULL: read as the most common channel, 'web'
NULL_CHANNELS = 200


def _with_text(path: Path) -> None:
    generate(path, rows=4000, seed=7)
    con = duckdb.connect(str(path))
    try:
        con.execute("ALTER TABLE transactions ADD COLUMN channel VARCHAR")
        con.execute("UPDATE transactions SET channel = CASE WHEN transaction_id % 20 = 0 THEN NULL "
                    "WHEN transaction_id % 10 < 6 THEN 'web' WHEN transaction_id % 10 < 9 THEN 'store' ELSE 'phone' END")
        con.execute("ALTER TABLE transactions ADD COLUMN country VARCHAR")
        con.execute("UPDATE transactions SET country = ['US', 'DE', 'FR'][1 + transaction_id % 3]")
    finally:
        con.close()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tx_t_master: tuple[Path, Any]) -> tuple[Path, Any]:
    """A byte copy of conftest's tx_t_master (tx_t on NUMS, channel, country), and its training's TrainInfo."""
    master, info = tx_t_master
    path = tmp_path_factory.mktemp("review11") / "tx.duckdb"
    shutil.copyfile(master, path)
    return path, info


def test_two_text_arguments_swapped_are_named_not_scored(trained: tuple[Path, Any]) -> None:
    """A BI query passing country where channel belongs (both text, so no type tells them apart) scored every row as
    an outlier without a word; it now fails naming both arguments and the call in the right order."""
    path, _ = trained
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        with pytest.raises(duckdb.Error) as err:
            con.execute(f"SELECT avg(anomaly_score('tx_t', {SWAPPED})) FROM transactions").fetchall()
        msg = str(err.value)
        assert "out of order" in msg and "'channel'" in msg and "'country'" in msg, msg
        assert f"anomaly_score('tx_t', {ARGS})" in msg, msg
        # the right order scores as before
        right = con.execute(f"SELECT avg(anomaly_score('tx_t', {ARGS})) FROM transactions").fetchone()[0]
        assert right < 10, right
    finally:
        con.close()
    # the check's off switch lets rows that really hold them so be scored
    off = ad_duckdb.connect(str(path), read_only=True, check_order=False)
    try:
        assert off.execute(f"SELECT avg(anomaly_score('tx_t', {SWAPPED})) FROM transactions").fetchone()[0] > 10
    finally:
        off.close()


def test_the_drift_note_names_a_text_column_of_unseen_values(trained: tuple[Path, Any]) -> None:
    """An upstream change of case ('WEB' for 'web') flagged nearly every row, and the note said no column had moved;
    it names the column, its share of values that are not training categories, and that case counts."""
    path, _ = trained
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        with pytest.warns(AdDuckDBWarning) as caught:
            ad_duckdb.score(con, "tx_t", "SELECT * REPLACE (upper(channel) AS channel) FROM transactions")
    finally:
        con.close()
    msg = " ".join(str(w.message) for w in caught)
    assert "No column's median is far" not in msg, msg
    assert "'channel' (" in msg and "not one of its 3 training categories" in msg, msg
    assert "'WEB' is not 'web'" not in msg or "case" in msg, msg
    assert "case" in msg, msg


def test_explain_says_a_value_differs_from_a_category_only_in_case_or_spaces(trained: tuple[Path, Any]) -> None:
    path, _ = trained
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE odd AS SELECT * REPLACE (CASE transaction_id WHEN 1 THEN 'Web ' WHEN 2 THEN 'fax' "
                    "ELSE channel END AS channel) FROM transactions WHERE transaction_id IN (1, 2)")
    finally:
        con.close()
    out = CliRunner().invoke(cli, ["explain", str(path), "tx_t", "odd", "--where", "true"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "'Web ', not one of its 3 training categories" in text, text
    assert "differs from 'web' only in case or spaces" in text and 'lower(trim(channel)) AS channel' in text, text
    assert "trim" in text.lower(), text
    # a value unlike any category gets no such hint
    fax = text[text.index("'fax'"):]
    assert "only in case" not in fax[:300], fax[:300]


def test_training_counts_a_text_columns_nulls(trained: tuple[Path, Any]) -> None:
    """Training read 200 NULL channels as 'web' and stored filled_values {'channel=web': 0, ...}: show, train's
    output and the mostly-NULL note read 0 NULLs. Now the column's NULLs are counted under its name."""
    path, info = trained
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        filled = ad_duckdb.load_model(con, "tx_t").metrics["filled_values"]
    finally:
        con.close()
    assert filled.get("channel") == NULL_CHANNELS, filled
    assert filled.get("country") == 0 and not any("=" in k for k in filled), filled
    out = CliRunner().invoke(cli, ["show", str(path), "tx_t", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["metrics"]["filled_values"]["channel"] == NULL_CHANNELS


def test_train_says_the_nulls_a_text_column_read_as_its_first_category(tmp_path: Path) -> None:
    path = tmp_path / "tx.duckdb"
    _with_text(path)
    out = CliRunner().invoke(cli, ["train", str(path), "tx_t", "transactions", *sum((["-f", f] for f in
                                   [*NUMS, "channel", "country"]), []), "--epochs", "2", "--quiet"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert f"channel ({NULL_CHANNELS} values, read as 'web', its most common value)" in text, text


def test_a_text_column_passed_first_gets_the_call_in_the_models_order(trained: tuple[Path, Any], tmp_path: Path) -> None:
    """DuckDB refuses a text first feature argument in its binder: the hint said to TRY_CAST it to a number, wrong for
    a model's text feature, and an ENUM argument anywhere in the call (its type's quotes) left DuckDB's error bare."""
    path, _ = trained
    db = tmp_path / "enum.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
        con.execute("CREATE TYPE land AS ENUM ('US', 'DE', 'FR')")
        con.execute("CREATE TABLE tx AS SELECT * REPLACE (country::land AS country) FROM src.transactions")
        for t in ("ad_models", "ad_model_versions", "ad_thresholds"):
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM src.{t}")
    finally:
        con.close()
    for table, db_ in (("transactions", path), ("tx", db)):
        out = CliRunner().invoke(cli, ["sql", str(db_), f"SELECT anomaly_score('tx_t', channel, count, amount, refunds, "
                                       f"country) FROM {table}"])
        assert out.exit_code != 0
        text = " ".join(out.output.split())
        assert f"anomaly_score('tx_t', {ARGS})" in text and "text" in text, text
        assert "TRY_CAST" not in text, text


def test_score_of_a_text_feature_held_as_numbers_says_to_cast_the_column(trained: tuple[Path, Any]) -> None:
    """score reads the columns by name, but a text feature held as numbers (country coded 1, 2, 3 upstream) got the
    SQL functions' fix, "call columns (count, amount, refunds, channel, country)": the columns it already had."""
    path, _ = trained
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        coded = "SELECT * REPLACE (transaction_id % 3 AS country) FROM transactions"
        with pytest.raises(ad_duckdb.BadInputError) as err:
            ad_duckdb.score(con, "tx_t", coded)
        assert str(err.value) == (
            "Scoring with 'tx_t@1': column 'country' is BIGINT, but the model takes text (its categories) there (it "
            "was trained on transactions). Score a query that reads it so: SELECT * REPLACE (CAST(country AS "
            "VARCHAR) AS country) FROM ..., if its values are the categories it was trained on."), str(err.value)
    finally:
        con.close()
