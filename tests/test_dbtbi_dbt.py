"""An analytics engineer's dbt project (the dbt package's macros, models in a schema of their own) and the advice the
plugin gives there, checked with the real dbt executable."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ad_duckdb import dbtpackage

from test_dbt import _stored_thresholds, _threshold_project, run_dbt

_BODY = "select * from {{ ref('src') }}\n"


def _with_package(work: Path) -> Path:
    """The dbt package ad_duckdb in place of the copied macro, as `dbt deps` installs a local: package (a link)."""
    shutil.rmtree(work / "macros")
    (work / "dbt_packages").mkdir()
    (work / "dbt_packages" / dbtpackage.PACKAGE_NAME).symlink_to(dbtpackage.package_dir(), target_is_directory=True)
    return work


def test_hook_written_out_for_the_package_macro_runs_as_given(tmp_path: Path) -> None:
    # A post_hook in the node's transaction choosing on `this` is refused with the hook to write instead. Called as
    # the package's ad_duckdb.set_threshold, the hook it wrote out called ad_duckdb_set_threshold, the bare name of a
    # copied macro: pasted into the model, dbt failed with "'ad_duckdb_set_threshold' is undefined".
    call = "{{ ad_duckdb.set_threshold('ae', 'best', 'max_f1', source=this, label='lab') }}"
    work = _with_package(_threshold_project(tmp_path / "pkg", {
        "labelled.sql": "{{ config(post_hook=\"" + call + "\") }}\n" + _BODY}))
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    hook = re.search(r"Write the hook as (\{'sql': .*?'transaction': false\})", out)
    assert hook, out[-4000:]
    assert "ad_duckdb.set_threshold(" in hook.group(1), hook.group(1)
    (work / "models" / "labelled.sql").write_text("{{ config(post_hook=" + hook.group(1) + ") }}\n" + _BODY)
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert _stored_thresholds(work)["best"][0] == "max_f1"
