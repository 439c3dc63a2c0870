"""Messages said in the caller's words where they were not: dbt run-operation, SQL functions' errors, notes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import test_dbtaudit_store_writes

from test_dbt import _threshold_project, run_dbt

store_file = test_dbtaudit_store_writes.store_file  # table t and model ae trained on it: each test takes a byte copy


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
        build = ("`dbt run-operation` runs no model: build the training model first (`dbt build -s <training model>`), "
                 "then run the operation again")
        if "@" not in model:
            assert build in out, out[-3000:]
        else:  # a stored model's missing version (msgs5): no build makes version 5; the versions there are, to pin
            assert build not in out and "(versions: 1)" in out and "pin one of the stored versions" in out, out[-3000:]


def test_sql_function_errors_start_with_ours_right_after_duckdbs_wrapper(tmp_path: Path, store_file: Path) -> None:
    # DuckDB 2.0 wraps any exception a Python function raises (its own classes too, native and arrow functions alike)
    # in "Python exception occurred while executing the UDF: <class>: ": ours must follow on that same first line, and
    # the wrapper must be there once, so a reader of the first line (a log, dbt's "Runtime Error") reads the fix
    import duckdb

    import ad_duckdb
    from ad_duckdb.exceptions import raised_in_function, without_function_wrapper

    shutil.copyfile(store_file, tmp_path / "w.duckdb")
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
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


@pytest.mark.parametrize("action", ["default", "error"])
def test_drift_note_from_duckdbs_threads_is_said_once_and_at_no_line_of_ours(tmp_path: Path, store_file: Path,
                                                                             action: str) -> None:
    # DuckDB runs a SQL function on threads of its own, whose stack holds no frame of the caller's: the note pointed
    # at a line of udfs.py (with its source line), and two threads each said it ("said once per column" raced).
    # Under -W error ("error") it is shown, not raised, the same way.
    import warnings

    import duckdb

    import ad_duckdb

    shutil.copyfile(store_file, tmp_path / "w.duckdb")
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE far AS SELECT (range % 1000)::DOUBLE * 1000 + 1e6 AS a, 5.0 AS b FROM range(600000)")
    con.close()
    package = str(Path(ad_duckdb.__file__).parent)
    for _ in range(4):  # which thread scores the first batch varies: four fresh connections, each says it once
        con = duckdb.connect(str(tmp_path / "w.duckdb"))
        ad_duckdb.register(con)
        con.execute("SET threads = 4")
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter(action)
            assert con.execute("SELECT count(*) FROM (SELECT anomaly_score('ae', a, b) AS s FROM far) "
                               "WHERE s > 0").fetchall() == [(600000,)]
        con.close()
        notes = [w for w in said if "lies mostly outside its training range" in str(w.message)]
        assert len(notes) == 1, [(w.filename, w.lineno) for w in notes]
        assert not notes[0].filename.startswith(package), (notes[0].filename, notes[0].lineno)
