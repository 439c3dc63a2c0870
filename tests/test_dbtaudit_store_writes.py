"""The dbt plugin and writes to the model store made by SQL during a run (hooks, macros), with the real dbt executable.

A dbt project has no Python at hand in a hook or a macro, so SQL is how it stores a hand-picked threshold
(`insert into ad_thresholds ...` in an on-run-start hook) or prunes versions (`delete from ad_models ...`).
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import duckdb
import pytest
from dbt.adapters.duckdb.plugins import BasePlugin
from dbtrun import run_dbt

import ad_duckdb

from conftest import FAST


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Table t and model ae trained on it."""
    path = tmp_path_factory.mktemp("store") / "w.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
        ad_duckdb.train(con, "ae", "t", **FAST)
    finally:
        con.close()
    return path


def _store(template: Path, path: Path) -> None:
    """A byte copy of store_file's database at ``path`` (each test's own to change)."""
    shutil.copyfile(template, path)


HOOK = ("insert or replace into main.ad_thresholds (model, version, threshold_name, value, method, created_at) "
        "values ('ae', 1, 'cut', {{ var('cut') }}, 'manual', now())")


def _project(work: Path, threads: int) -> None:
    (work / "models").mkdir(parents=True)
    (work / "dbt_project.yml").write_text(
        'name: hooks\nversion: "1.0.0"\nconfig-version: 2\nprofile: hooks\n'
        f'on-run-start:\n  - "{HOOK}"\nflags: {{send_anonymous_usage_stats: false}}\n'
        "models:\n  hooks:\n    +materialized: table\n"
    )
    (work / "profiles.yml").write_text(
        f"hooks:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: w.duckdb\n      threads: {threads}\n"
        "      plugins:\n        - module: ad_duckdb.dbt\n"
    )
    for i in range(3):
        (work / "models" / f"flags_{i}.sql").write_text(
            "select anomaly_threshold('ae', 'cut') as cut, count(*) filter (where is_anomaly_at('ae', 'cut', a, b)) "
            "as flagged from t\n"
        )


def test_threshold_stored_by_an_on_run_start_hook_is_used_by_the_run(tmp_path: Path, store_file: Path) -> None:
    # Before: the functions loaded ad_thresholds when dbt connected, before the hook ran; the models then failed with
    # "Model 'ae' has no threshold 'cut'" on the first run, and on later runs used the value the previous run's hook
    # had stored, silently (flags counted at a threshold the project no longer sets).
    _store(store_file, tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:  # what an earlier run's hook stored
        con.execute(HOOK.replace("{{ var('cut') }}", "5.0"))
    finally:
        con.close()
    _project(tmp_path, threads=4)
    proc = run_dbt(["run", "--profiles-dir", ".", "--vars", json.dumps({"cut": 7.5})], tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        got = {con.execute(f"SELECT cut FROM flags_{i}").fetchall()[0][0] for i in range(3)}
    finally:
        con.close()
    assert got == {7.5}


def test_each_dbt_node_sees_the_store_as_committed(tmp_path: Path, store_file: Path) -> None:
    """In process, as dbt-duckdb calls the plugin: configure_connection once, configure_cursor for each node's cursor."""
    _store(store_file, tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        plugin = BasePlugin.create("ad_duckdb.dbt", config={})
        plugin.configure_connection(con)
        first = con.cursor()
        plugin.configure_cursor(first)
        first.execute("INSERT INTO ad_thresholds (model, version, threshold_name, value, method, created_at) "
                      "VALUES ('ae', 1, 'cut', 3.25, 'manual', now())")
        first.close()
        node = con.cursor()
        plugin.configure_cursor(node)
        assert node.execute("SELECT anomaly_threshold('ae', 'cut')").fetchall() == [(3.25,)]
        # a version deleted by SQL (pruning in a hook) is no longer scored with, as after ad-duckdb drop
        node.execute("DELETE FROM ad_thresholds WHERE model = 'ae'")
        node.execute("DELETE FROM ad_models WHERE name = 'ae'")
        node.close()
        later = con.cursor()
        plugin.configure_cursor(later)
        with pytest.raises(duckdb.Error, match="No model 'ae' in table ad_models"):
            later.execute("SELECT anomaly_score('ae', 1.0, 2.0)").fetchall()
        later.close()
    finally:
        con.close()


def test_model_stored_in_an_attached_database_is_named_where_it_is(tmp_path: Path, store_file: Path) -> None:
    # path: ':memory:' with the models file attached (attach: [{path: models.duckdb, alias: mdl}]): scoring said
    # "No model 'ae' in table ad_models; known models: none yet" and to order the node after its training model,
    # though 'ae' was stored, in the attached file the functions do not read.
    _store(store_file, tmp_path / "models.duckdb")
    con = duckdb.connect(":memory:")
    try:
        plugin = BasePlugin.create("ad_duckdb.dbt", config={})
        plugin.configure_connection(con)
        con.execute(f"ATTACH '{tmp_path / 'models.duckdb'}' AS mdl (READ_ONLY)")  # as dbt-duckdb does, after plugins
        node = con.cursor()
        plugin.configure_cursor(node)
        with pytest.raises(duckdb.Error, match=r"No model 'ae' in table ad_models") as err:
            node.execute("SELECT anomaly_score('ae', 1.0, 2.0)").fetchall()
        message = str(err.value)
        assert "'ae' is stored in the attached database 'mdl'" in message, message
        assert f"path: {tmp_path / 'models.duckdb'}" in message, message
        assert "depends_on" not in message, message
        # a model stored nowhere keeps the advice for one the run trains
        with pytest.raises(duckdb.Error, match=r"No model 'fraud_ae'.*depends_on") as err:
            node.execute("SELECT anomaly_score('fraud_ae', 1.0, 2.0)").fetchall()
        assert "mdl" not in str(err.value)
        node.close()
    finally:
        con.close()


def test_train_model_notes_are_dbt_warnings(tmp_path: Path) -> None:
    # A note (here: the label column taken as a feature) went to stderr as a bare Python warning pointing into
    # ad_duckdb/dbt.py, and not to dbt's log (logs/dbt.log, --log-format json), where a scheduled run is read.
    from dbt_common.events.event_manager_client import add_callback_to_manager, get_event_manager

    from ad_duckdb.dbt import train_model

    events: list[object] = []
    add_callback_to_manager(events.append)
    con = duckdb.connect(str(tmp_path / "n.duckdb"))
    # the suite makes notes errors; dbt shows them, as Python does by default
    with warnings.catch_warnings():
        warnings.simplefilter("default", ad_duckdb.AdDuckDBWarning)
        try:
            con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b, "
                        "(range % 97 = 0)::INTEGER AS label FROM range(400)")
            BasePlugin.create("ad_duckdb.dbt", config={}).configure_connection(con)
            cur = con.cursor()
            try:
                train_model(cur, "ae", "t", **FAST)
            finally:
                cur.close()
        finally:
            con.close()
            get_event_manager().callbacks.remove(events.append)
    warned = [e.info.msg for e in events if e.info.level == "warn"]  # type: ignore[attr-defined]
    assert any("Model 'ae': no features given, so 'label', a 0/1 column named like a label, is a feature" in m
               for m in warned), warned


def test_attached_database_with_an_odd_alias_is_read_quoted(tmp_path: Path, store_file: Path) -> None:
    _store(store_file, tmp_path / "m.duckdb")
    con = duckdb.connect(":memory:")
    try:
        plugin = BasePlugin.create("ad_duckdb.dbt", config={})
        plugin.configure_connection(con)
        con.execute(f"ATTACH '{tmp_path / 'm.duckdb'}' AS \"m; DROP TABLE t; --\" (READ_ONLY)")
        node = con.cursor()
        plugin.configure_cursor(node)
        with pytest.raises(duckdb.Error, match=r"'ae' is stored in the attached database 'm; DROP TABLE t; --'"):
            node.execute("SELECT anomaly_score('ae', 1.0, 2.0)").fetchall()
        node.close()
    finally:
        con.close()
