"""What a dbt user is told, without the dbt executable: a source spelled two ways (a dbt ref() renders
``"warehouse"."analytics"."stg_tx"``, and train_model stores ``select * from`` it; the command line's
``main.transactions`` beside ``transactions``), and messages in the words of the macro and of train_model (no Python
variable to pass, no command-line flag)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

import ad_duckdb
from ad_duckdb import dbtpackage

from conftest import FAST


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """An in-memory database with a daily table in schema analytics and model 'ae' trained on all of it, as a dbt
    Python model trains it: on the query its ref() gives."""
    c = duckdb.connect()
    c.execute("CREATE SCHEMA analytics; CREATE TABLE analytics.stg AS SELECT range::DOUBLE AS a, "
              "sqrt(range) + (range % 7) AS b, DATE '2024-01-01' + (range // 20)::INT AS day FROM range(1000)")
    ad_duckdb.train(c, "ae", 'select * from "memory"."analytics"."stg"', features=["a", "b"], **{**FAST, "max_steps": 150})
    return c


@pytest.mark.parametrize("source", ['"memory"."analytics"."stg"', "analytics.stg",
                                    'SELECT * FROM "memory"."analytics"."stg"'])
def test_alarm_rate_on_the_training_rows_says_so_however_the_table_is_spelled(
        con: duckdb.DuckDBPyConnection, source: str) -> None:
    # The note that a rate set on the rows the model trained on flags more on later rows compared the two sources'
    # texts: in a dbt run (ref() of the training model's own source) it never came, nor for main.t beside t
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        th = ad_duckdb.set_threshold(con, "ae", "two_a_day", "alarm_rate", source=source, per_day=2, time="day")
    notes = [str(w.message) for w in said]
    assert any("1000 of the 1000 rows" in n and "are rows ae@1 was trained on" in n for n in notes), notes
    assert "1000 of these rows are rows ae@1 was trained on" in th.chosen_on


def test_alarm_rate_on_a_table_of_the_same_name_in_another_schema_is_not_the_training_rows(
        con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE main.stg AS FROM analytics.stg")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        th = ad_duckdb.set_threshold(con, "ae", "other", "alarm_rate", source="stg", per_day=2, time="day")
    assert not any("was trained on" in str(w.message) for w in said)
    assert "was trained on" not in th.chosen_on


def test_a_dbt_macros_missing_source_offers_no_python_variable(con: duckdb.DuckDBPyConnection) -> None:
    # Through the dbt macro (the function store_anomaly_threshold), a source not found was to be "the name of a pandas
    # or polars DataFrame or Arrow table variable (in quotes: 'df')", "nor ... in the calling Python code": a macro
    # has no Python variables to give. It offers what a macro can pass, and still the table's other schema.
    from ad_duckdb.dbtthreshold import create_threshold_function

    create_threshold_function(con)
    given = json.dumps({"package_version": dbtpackage.package_version(), "source": "nosuch", "label": "lab"})
    with pytest.raises(duckdb.Error) as e:
        con.execute("SELECT store_anomaly_threshold('ae', 'c', 'max_f1', ?)", [given]).fetchall()
    said = str(e.value)
    assert "cannot read the source 'nosuch'" in said and "read_parquet(" in said, said
    assert "DataFrame" not in said and "Python code" not in said and "variable" not in said, said
    given = json.dumps({"package_version": dbtpackage.package_version(), "source": "stg", "label": "lab"})
    con.execute("DROP TABLE IF EXISTS main.stg")
    with pytest.raises(duckdb.Error) as e:
        con.execute("SELECT store_anomaly_threshold('ae', 'c', 'max_f1', ?)", [given]).fetchall()
    said = str(e.value)
    assert "analytics.stg" in said and "DataFrame" not in said, said


def _plugged(c: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``c`` as dbt-duckdb hands it to the plugin (the functions registered, notes relayed as dbt warnings)."""
    from dbt.adapters.duckdb.plugins import BasePlugin

    BasePlugin.create("ad_duckdb.dbt", config={}).configure_connection(c)
    return c


@contextmanager
def _dbt_warnings() -> Iterator[list[str]]:
    """The messages of the dbt warnings logged meanwhile (ad_duckdb's notes shown, as dbt shows them)."""
    from dbt_common.events.event_manager_client import add_callback_to_manager, get_event_manager

    events: list[Any] = []
    said: list[str] = []
    add_callback_to_manager(events.append)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", ad_duckdb.AdDuckDBWarning)
            yield said
    finally:
        get_event_manager().callbacks.remove(events.append)
        said.extend(e.info.msg for e in events if e.info.level == "warn")


def test_notes_in_a_dbt_run_name_no_command_line_flags(tmp_path: Path) -> None:
    # A dbt run's notes (a training model carrying a goal it could not choose again) said "(source=, where=; CLI:
    # --source, --where)": flags of a command line a dbt user does not run. As dbt warnings, in train_model's words.
    from ad_duckdb.dbt import train_model

    fast = {**FAST, "max_steps": 100}
    c = duckdb.connect(str(tmp_path / "n.duckdb"))
    try:
        c.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) + (range % 7) AS b, "
                  "DATE '2024-01-01' + (range // 20)::INT AS day FROM range(600); CREATE TABLE later AS FROM t")
        ad_duckdb.train(c, "ae", "t", features=["a", "b"], **fast)
        ad_duckdb.set_threshold(c, "ae", "biz", "alarm_rate", source="later", per_day=2, time="day")
        c.execute("DELETE FROM later")
        with _dbt_warnings() as warned:
            train_model(_plugged(c), "ae", "t", features=["a", "b"], carry_thresholds=True, **fast)
    finally:
        c.close()
    carried = [m for m in warned if "Threshold 'biz' is carried to ae@2" in m]
    assert carried and "(source=, where=)" in carried[0], warned
    assert not any("CLI:" in m for m in warned), warned


def test_train_models_errors_name_no_command_line_flags(tmp_path: Path) -> None:
    # train_model's refusal, a dbt "Runtime Error", said "where= (CLI: --where)": train_model's keyword, with the flag
    # of a command a dbt user does not run
    from dbt_common.exceptions import DbtRuntimeError

    from ad_duckdb.dbt import train_model

    c = duckdb.connect(str(tmp_path / "e.duckdb"))
    try:
        c.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(50)")
        with pytest.raises(DbtRuntimeError) as e:
            train_model(_plugged(c), "ae", "t", features=["a", "b"], where=5)  # type: ignore[arg-type]
    finally:
        c.close()
    assert "where= must be a SQL condition" in str(e.value) and "CLI" not in str(e.value), e.value
