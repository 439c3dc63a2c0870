"""Messages said in the caller's words where they were not: dbt run-operation, SQL functions' errors, notes."""

from __future__ import annotations

from pathlib import Path

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
