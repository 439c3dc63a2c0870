"""Messages said in the caller's words where they were not: dbt run-operation, SQL functions' errors, notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import FAST
from test_dbt import _threshold_project, run_dbt


def test_dbt_run_operation_unknown_model_says_to_build_the_training_model_first(tmp_path: Path) -> None:
    # `dbt run-operation ad_duckdb.set_threshold` runs no node: the unknown model's message said a model or test must
    # run after its training model (depends_on), which a run-operation has no way to do
    work = _threshold_project(tmp_path / "ro", {})
    for model, said in (("nope", "No model 'nope'"), ("ae@5", "Model 'ae' has no version 5")):
        proc = run_dbt(["run-operation", "ad_duckdb_set_threshold", "--profiles-dir", ".", "--args",
                        f"{{model: '{model}', name: cut, method: manual, value: 3.5}}"], work)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out[-3000:]
        assert said in out, out[-3000:]
        assert "ad_duckdb.train(con" not in out and "depends_on" not in out, out[-3000:]
        assert ("`dbt run-operation` runs no model: build the training model first (`dbt build -s <training model>`), "
                "then run the operation again") in out, out[-3000:]


def test_sql_function_errors_start_with_ours_right_after_duckdbs_wrapper(tmp_path: Path) -> None:
    # DuckDB 2.0 wraps any exception a Python function raises (its own classes too, native and arrow functions alike)
    # in "Python exception occurred while executing the UDF: <class>: ": ours must follow on that same first line, and
    # the wrapper must be there once, so a reader of the first line (a log, dbt's "Runtime Error") reads the fix
    import duckdb

    import ad_duckdb
    from ad_duckdb.exceptions import raised_in_function, without_function_wrapper

    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
    ad_duckdb.train(con, "ae", "t", **FAST)
    for query, ours in (("SELECT anomaly_score('nope', 1.0, 2.0)", "No model 'nope' in table ad_models"),
                        ("SELECT is_anomaly_at('ae', 'cutt', 1.0, 2.0)", "Model 'ae@1' has no threshold 'cutt'"),
                        ("SELECT anomaly_score('ae', 1.0)", "anomaly_score('ae@1', ...) got 1 feature argument(s)"),
                        ("SELECT anomaly_score('ae@7', 1.0, 2.0)", "Model 'ae' has no version 7")):
        with pytest.raises(duckdb.Error) as err:
            con.execute(query).fetchall()
        first = str(err.value).splitlines()[0]
        assert re.fullmatch(r"Invalid Input Error: Python exception occurred while executing the UDF: \w+Error: "
                            + re.escape(ours) + r".*", first), first
        assert raised_in_function(str(err.value)) is not None
        assert without_function_wrapper(str(err.value)).startswith(ours)
