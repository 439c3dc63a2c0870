"""The dbt-duckdb plugin and the example dbt project, run with the real dbt executable.

The project is copied to a temporary folder and built with exactly `dbt build --profiles-dir .`,
as a new user would; the resulting .duckdb file is then opened and checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pytest
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError
from dbtrun import run_dbt

import ad_duckdb
from ad_duckdb.dbt import Plugin, train_model

from conftest import FAST

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "examples" / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
DB_NAME = "ad_example.duckdb"
TABLES = ("raw_transactions", "planted_anomalies", "tx_model", "tx_scores", "daily_anomaly_rates", "threshold_report")


def run_dbt_process(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `dbt` executable itself, in a process of its own: for what only a whole process shows (its exit, what it
    prints at shutdown) and the first build a new user runs; the other runs go through dbtrun.run_dbt, in process."""
    # Why a clean environment for DBT_*: a developer's DBT_PROFILES_DIR or DBT_TARGET must not redirect the run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"  # no network
    return subprocess.run([str(DBT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
                          check=False)


def fresh_copy(dest: Path) -> Path:
    shutil.copytree(PROJECT, dest, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb*",
                                                                  ".user.yml"))
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A fresh copy of examples/dbt_project after `dbt build --profiles-dir .` (training included)."""
    work = fresh_copy(tmp_path_factory.mktemp("dbt") / "dbt_project")
    proc = run_dbt_process(["build", "--profiles-dir", "."], work)
    return work, proc


@pytest.fixture(scope="module")
def db(built: tuple[Path, subprocess.CompletedProcess[str]]) -> Iterator[duckdb.DuckDBPyConnection]:
    """The built database, opened by plain DuckDB (no ad_duckdb functions), as a BI tool would."""
    work, proc = built
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    con = duckdb.connect(str(work / DB_NAME), read_only=True)
    try:
        yield con
    finally:
        con.close()


def test_dbt_build_succeeds(built: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    work, proc = built
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "Completed successfully" in proc.stdout
    assert "ERROR=0" in proc.stdout and "SKIP=0" in proc.stdout
    # the dbt tests of the project ran: the budget check and the quality floor
    assert "PASS anomaly_share_under_budget" in proc.stdout
    assert "PASS planted_anomalies_rank_high" in proc.stdout
    # dbt closed the connection that owns the functions (an open one would print nanobind leak lines)
    assert "nanobind" not in out
    assert (work / DB_NAME).is_file()


def test_example_refuses_a_misspelt_ad_retrain(built: tuple[Path, subprocess.CompletedProcess[str]],
                                               tmp_path: Path) -> None:
    # Before: tx_model.py read retrain as `str(retrain).lower() not in ("false", "0", "no")`, so
    # --vars '{ad_retrain: flase}' silently stored a new version, where the README says other text is refused.
    assert built[1].returncode == 0
    work = tmp_path / "dbt_project"
    shutil.copytree(built[0], work, ignore=shutil.ignore_patterns("logs"))  # target/: parsed already (test_dbt14_dbt._copy)
    versions = "SELECT count(*) FROM ad_models"
    con = duckdb.connect(str(work / DB_NAME), read_only=True)
    try:
        before = con.execute(versions).fetchall()
    finally:
        con.close()
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "tx_model", "--vars", "{ad_retrain: flase}"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "retrain= must be true or false" in out and "got 'flase'" in out, out[-4000:]
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "tx_model", "--vars", "{ad_retrain: false}"], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    con = duckdb.connect(str(work / DB_NAME), read_only=True)
    try:
        assert con.execute(versions).fetchall() == before  # reused, not trained again
    finally:
        con.close()


def test_example_builds_with_empty(tmp_path: Path) -> None:
    """`dbt build --empty` (every model with no rows: a schema check, as in CI) passes on a new database: the training
    model trains nothing and stores no version."""
    work = fresh_copy(tmp_path / "dbt_project")
    proc = run_dbt(["build", "--profiles-dir", ".", "--empty"], work)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    assert "ERROR=0" in proc.stdout and "SKIP=0" in proc.stdout
    con = duckdb.connect(str(work / DB_NAME), read_only=True)
    try:
        assert con.execute("SELECT (SELECT count(*) FROM tx_model), (SELECT count(*) FROM ad_models)").fetchall() == \
            [(0, 0)]
    finally:
        con.close()


def test_built_tables_are_plain_and_complete(db: duckdb.DuckDBPyConnection) -> None:
    tables = {r[0] for r in db.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert set(TABLES) | {"ad_models", "ad_thresholds"} <= tables
    n, null_scores, null_pct, flagged = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE anomaly_score IS NULL), "
        "count(*) FILTER (WHERE anomaly_percentile IS NULL), count(*) FILTER (WHERE is_anomaly) FROM tx_scores"
    ).fetchall()[0]
    assert n == 20_000 and null_scores == 0 and null_pct == 0
    assert 0 < flagged <= 0.03 * n
    # the model trained inside dbt is stored in the same file, and tx_model describes that version
    model, version, ref, trained = db.execute("SELECT model, version, model_ref, trained FROM tx_model").fetchall()[0]
    assert (model, ref, trained) == ("tx_ae", f"tx_ae@{version}", True)
    stored = db.execute(
        "SELECT train_rows, octet_length(onnx), json_extract(params, '$.max_steps')::INTEGER FROM ad_models "
        "WHERE name = ? AND version = ?", [model, version]
    ).fetchall()
    assert stored and stored[0][0] == 20_000 and stored[0][1] > 1000 and stored[0][2] == 500
    assert db.execute("SELECT DISTINCT model_ref FROM tx_scores").fetchall() == [(ref,)]


def test_threshold_join_and_daily_rates(db: duckdb.DuckDBPyConnection) -> None:
    report = dict(db.execute("SELECT threshold_name, threshold FROM threshold_report").fetchall())
    stored = dict(db.execute(
        "SELECT th.threshold_name, th.value FROM ad_thresholds th JOIN tx_model m "
        "ON th.model = m.model AND th.version = m.version"
    ).fetchall())
    assert report == stored and "default" in report
    # the default threshold flags exactly the rows tx_scores marks is_anomaly
    flagged_default = db.execute("SELECT flagged FROM threshold_report WHERE threshold_name = 'default'").fetchall()
    assert flagged_default == db.execute("SELECT count(*) FROM tx_scores WHERE is_anomaly").fetchall()
    days, total, anomalies = db.execute(
        "SELECT count(*), sum(transactions), sum(anomalies) FROM daily_anomaly_rates").fetchall()[0]
    assert days == 90 and total == 20_000
    assert anomalies == flagged_default[0][0]


def test_scores_match_sql_functions_after_reopen(built: tuple[Path, subprocess.CompletedProcess[str]],
                                                 db: duckdb.DuckDBPyConnection) -> None:
    """A new process-side connection scores the same values dbt materialized."""
    rows = db.execute(
        "SELECT count, amount, distinct_cards, refunds, anomaly_score FROM tx_scores ORDER BY anomaly_score DESC "
        "LIMIT 50").fetchall()
    ref = db.execute("SELECT model_ref FROM tx_model").fetchall()[0][0]
    con = ad_duckdb.connect(str(built[0] / DB_NAME), read_only=True)
    try:
        again = con.execute(
            "SELECT anomaly_score(?, count, amount, distinct_cards, refunds) FROM tx_scores "
            "ORDER BY anomaly_score DESC LIMIT 50", [ref]).fetchall()
    finally:
        con.close()
    np.testing.assert_allclose([r[0] for r in again], [r[4] for r in rows], rtol=1e-6)


def test_generated_data_matches_generate_py(db: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """raw_transactions reproduces examples/transactions/generate.py for the same rows and seed."""
    from generate import generate  # examples/transactions is on sys.path (conftest)

    path = tmp_path / "gen.duckdb"
    generate(path, rows=20_000, seed=7)
    db.execute(f"ATTACH '{path}' AS gen (READ_ONLY)")
    try:
        cols = "transaction_id, day, merchant_id, count, amount, distinct_cards, refunds"
        for a, b in (("gen.transactions", "raw_transactions"), ("raw_transactions", "gen.transactions")):
            diff = db.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {a} EXCEPT SELECT {cols} FROM {b})").fetchall()
            assert diff == [(0,)], (a, b)
        planted = db.execute(
            "SELECT count(*) FROM (SELECT transaction_id, kind FROM gen.planted_anomalies "
            "EXCEPT SELECT transaction_id, kind FROM planted_anomalies)").fetchall()
        assert planted == [(0,)]
    finally:
        db.execute("DETACH gen")


THREADS_PROJECT = """
name: threads_check
version: "1.0.0"
config-version: 2
profile: threads_check
flags:
  send_anonymous_usage_stats: false
models:
  threads_check:
    +materialized: table
"""
THREADS_PROFILES = """
threads_check:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: ad_example.duckdb
      threads: 4
      plugins:
        - module: ad_duckdb.dbt
          config: {models: [tx_ae]}
    bad:
      type: duckdb
      path: ad_example.duckdb
      threads: 4
      plugins:
        - module: ad_duckdb.dbt
          config: {models: [tx_ea]}
"""
PARTS = 8


@pytest.fixture(scope="module")
def threads_project(built: tuple[Path, subprocess.CompletedProcess[str]],
                    tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second project on a copy of the built file: 8 models that each call the functions, 4 dbt threads."""
    assert built[1].returncode == 0
    work = tmp_path_factory.mktemp("dbt_threads")
    shutil.copy(built[0] / DB_NAME, work / DB_NAME)
    (work / "dbt_project.yml").write_text(THREADS_PROJECT)
    (work / "profiles.yml").write_text(THREADS_PROFILES)
    (work / "models").mkdir()
    for i in range(PARTS):
        (work / "models" / f"part_{i}.sql").write_text(
            "select count(*) as n, sum(anomaly_score('tx_ae', count, amount, distinct_cards, refunds)) as total, "
            "count(*) filter (where is_anomaly('tx_ae', count, amount, distinct_cards, refunds)) as flagged "
            f"from tx_scores where transaction_id % {PARTS} = {i}\n"
        )
    return work


def test_plugin_with_threads(threads_project: Path) -> None:
    proc = run_dbt_process(["run", "--profiles-dir", "."], threads_project)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "nanobind" not in proc.stdout + proc.stderr
    results = json.loads((threads_project / "target" / "run_results.json").read_text())["results"]
    assert len(results) == PARTS and all(r["status"] == "success" for r in results)
    # the models really ran on several dbt threads (each a cursor of the plugin's connection)
    assert len({r["thread_id"] for r in results}) > 1
    con = duckdb.connect(str(threads_project / DB_NAME), read_only=True)
    try:
        union = " UNION ALL ".join(f"SELECT * FROM part_{i}" for i in range(PARTS))
        n, total, flagged = con.execute(f"SELECT sum(n), sum(total), sum(flagged) FROM ({union})").fetchall()[0]
        want = con.execute("SELECT count(*), sum(anomaly_score), count(*) FILTER (WHERE is_anomaly) "
                           "FROM tx_scores").fetchall()[0]
    finally:
        con.close()
    assert (n, flagged) == (want[0], want[2])
    assert total == pytest.approx(want[1], rel=1e-9)


def test_example_builds_with_models_configured_on_a_fresh_database(tmp_path: Path) -> None:
    # profiles.yml says "To restrict it: config: {models: [tx_ae]}"; with that, a first build (no ad_models yet)
    # failed when dbt connected, before tx_model could train tx_ae.
    work = fresh_copy(tmp_path / "dbt_project")
    profiles = work / "profiles.yml"
    profiles.write_text(profiles.read_text() + "          config:\n            models: [tx_ae]\n")
    proc = run_dbt(["build", "--profiles-dir", "."], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    con = duckdb.connect(str(work / DB_NAME), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM tx_scores WHERE anomaly_score IS NOT NULL").fetchall()[0][0] > 0
    finally:
        con.close()


def test_unknown_model_is_a_readable_dbt_error(threads_project: Path) -> None:
    proc = run_dbt(["debug", "--profiles-dir", ".", "--target", "bad"], threads_project)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "ad_duckdb dbt plugin (module: ad_duckdb.dbt): no model 'tx_ea' in table ad_models" in out
    assert "known models: 'tx_ae'" in out
    assert "Traceback" not in out


# --- the plugin in-process: configuration errors and .onnx files, without a dbt run ---

def test_plugin_rejects_unknown_config_key() -> None:
    with pytest.raises(DbtRuntimeError, match=r"unknown config key\(s\) 'model'; the options are 'models'"):
        BasePlugin.create("ad_duckdb.dbt", config={"model": ["tx_ae"]})
    with pytest.raises(DbtRuntimeError, match="'check_order' must be true or false; got 'no'"):
        BasePlugin.create("ad_duckdb.dbt", config={"check_order": "no"})
    with pytest.raises(DbtRuntimeError, match=r"lists model names, not versions; got 'tx_ae@7'. List 'tx_ae'"):
        BasePlugin.create("ad_duckdb.dbt", config={"models": ["tx_ae@7"]})


def test_plugin_check_order_option_reaches_the_functions() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE p AS SELECT 10 + (i % 7) * 0.1 AS lo, 1000 + (i % 11) AS hi FROM range(2000) t(i)")
    ad_duckdb.train(con, "px", "p", features=["lo", "hi"], **FAST)
    swapped = "SELECT count(*) FROM (SELECT hi AS lo, lo AS hi FROM p) WHERE is_anomaly('px', lo, hi)"
    BasePlugin.create("ad_duckdb.dbt", config={}).configure_connection(con)
    with pytest.raises(duckdb.Error, match="look out of order"):
        con.execute(swapped).fetchall()
    BasePlugin.create("ad_duckdb.dbt", config={"check_order": False}).configure_connection(con)
    assert con.execute(swapped).fetchall()[0][0] == 2000
    con.close()


@pytest.mark.parametrize(("text", "expected"), [("false", False), ("False", False), (" TRUE ", True)])
def test_plugin_check_order_reads_text_as_env_var_renders_it(text: str, expected: bool) -> None:
    # check_order: "{{ env_var('AD_CHECK_ORDER', 'true') }}" reaches the plugin as the text 'false'
    plugin = BasePlugin.create("ad_duckdb.dbt", config={"check_order": text})
    assert isinstance(plugin, Plugin) and plugin.check_order is expected


def test_plugin_tolerates_profile_settings() -> None:
    # dbt-duckdb merges the profile's DuckDB `settings:` into every plugin's config
    creds = DuckDBCredentials(path=":memory:", settings={"memory_limit": "1GB"})
    plugin = BasePlugin.create("ad_duckdb.dbt", credentials=creds)
    assert isinstance(plugin, Plugin) and plugin.models is None


@pytest.mark.parametrize("models", [[], [""], [3], {"tx_ae": 1}])
def test_plugin_rejects_bad_models_value(models: object) -> None:
    with pytest.raises(DbtRuntimeError, match="config 'models' must be a non-empty list of model names or .onnx paths"):
        BasePlugin.create("ad_duckdb.dbt", config={"models": models})


@pytest.mark.parametrize("text", ["tx_ae, fraud_ae", " tx_ae ,fraud_ae,", "tx_ae,,fraud_ae"])
def test_plugin_reads_comma_text_as_a_list_of_models(text: str) -> None:
    # models: "{{ env_var('AD_MODELS') }}" (or YAML `models: tx_ae, fraud_ae`) reaches the plugin as one text; it was
    # taken as the single model name 'tx_ae, fraud_ae'. No model name holds a comma (modelnames.valid_name).
    plugin = BasePlugin.create("ad_duckdb.dbt", config={"models": text})
    assert isinstance(plugin, Plugin) and plugin.models == ["tx_ae", "fraud_ae"]


@pytest.mark.parametrize("text", ["", " , ", ","])
def test_plugin_refuses_comma_text_without_a_model(text: str) -> None:
    # an unset env_var('AD_MODELS', '') must not mean "no model at all" silently
    with pytest.raises(DbtRuntimeError, match="config 'models' must be a non-empty list of model names or .onnx paths "
                                              r"\(or one text of them, comma-separated\); got ") as err:
        BasePlugin.create("ad_duckdb.dbt", config={"models": text})
    assert f"got {text!r}." in str(err.value)  # the text as given, not what was left of it


def test_plugin_takes_a_model_not_stored_yet_that_the_run_may_train(tmp_path: Path) -> None:
    # Before: `models: [tx_ae]` on a fresh database (CI) was refused when dbt connected, before the dbt model that
    # trains tx_ae could run, where leaving `models` out allows models trained later in the run.
    con = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    try:
        plugin = BasePlugin.create("ad_duckdb.dbt", config={"models": ["tx_ae"]})
        plugin.configure_connection(con)
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
        with pytest.raises(duckdb.Error, match=r"tx_ae.*must run after its training model"):
            con.execute("SELECT anomaly_score('tx_ae', 1.0, 1.0)").fetchall()
        train_model(con, "tx_ae", "t", max_steps=20)
        # a name the list leaves out is refused before it trains: the run could not score with it
        with pytest.raises(DbtRuntimeError, match=r"training model 'other_ae': the profile's plugin config 'models' "
                                                  r"lists tx_ae"):
            train_model(con, "other_ae", "t", max_steps=20)
        ad_duckdb.train(con, "other_ae", "t", max_steps=20, progress=False)  # stored by another process, say
        cur = con.cursor()  # what a later dbt node gets
        try:
            assert cur.execute("SELECT anomaly_score('tx_ae', 1.0, 1.0)").fetchall()[0][0] >= 0
            # still restricted to the configured names
            with pytest.raises(duckdb.Error, match="other_ae"):
                cur.execute("SELECT anomaly_score('other_ae', 1.0, 1.0)").fetchall()
        finally:
            cur.close()
    finally:
        con.close()


def test_plugin_unknown_model_name_is_kept_for_the_run(mem_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # a name like no stored one ('fraud_ae' beside 'tx_ae') may be trained in the run: kept; the stored one scores
    path = tmp_path / "m.duckdb"
    ad_duckdb.export_model(mem_con, "tx_ae", tmp_path / "tx_ae.onnx")
    con = duckdb.connect(str(path))
    try:
        ad_duckdb.import_model(con, tmp_path / "tx_ae.onnx")
        plugin = BasePlugin.create("ad_duckdb.dbt", config={"models": ["tx_ae", "fraud_ae"]})
        plugin.configure_connection(con)
        assert con.execute("SELECT anomaly_score('tx_ae', 3, 120.5)").fetchall()[0][0] >= 0
        with pytest.raises(duckdb.Error, match=r"No model 'fraud_ae'.*known models: 'tx_ae'"):
            con.execute("SELECT anomaly_score('fraud_ae', 3, 120.5)").fetchall()
    finally:
        con.close()


def test_plugin_misspelt_model_name_says_which_was_meant(mem_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ad_duckdb.export_model(mem_con, "tx_ae", tmp_path / "tx_ae.onnx")
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    try:
        ad_duckdb.import_model(con, tmp_path / "tx_ae.onnx")
        plugin = BasePlugin.create("ad_duckdb.dbt", config={"models": ["tx_ea", "fraud_ae"]})
        with pytest.raises(DbtRuntimeError, match=r"no model 'tx_ea' in table ad_models of this database; "
                                                  r"known models: 'tx_ae'\. Did you mean 'tx_ae' for 'tx_ea'\? Fix") as err:
            plugin.configure_connection(con)
        assert "fraud_ae" not in str(err.value)  # like no stored name: kept, for a model the run may train
    finally:
        con.close()


@pytest.mark.parametrize("file", ["nope.onnx", "nope.ONNX"])  # no model name ends in .onnx, in any case
def test_plugin_missing_onnx_file(tmp_path: Path, file: str) -> None:
    plugin = BasePlugin.create("ad_duckdb.dbt", config={"models": [str(tmp_path / file)]})
    con = duckdb.connect()
    try:
        with pytest.raises(DbtRuntimeError, match=rf"model file '.*{file}' \(looked for .*\) does not exist"):
            plugin.configure_connection(con)
    finally:
        con.close()


def test_plugin_loads_onnx_file_into_empty_database(mem_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """`models: [file.onnx]` scores on a database that stores no model (e.g. a warehouse fed by dbt only)."""
    onnx = ad_duckdb.export_model(mem_con, "tx_ae", tmp_path / "tx_ae.onnx")
    want = mem_con.execute("SELECT anomaly_score('tx_ae', 3, 120.5)").fetchall()
    plugin = BasePlugin.create("ad_duckdb.dbt", config={"models": [str(onnx)]})
    con = duckdb.connect()
    try:
        plugin.configure_connection(con)
        cur = con.cursor()  # what a dbt thread gets
        try:
            got = cur.execute("SELECT anomaly_score('tx_ae', 3, 120.5)").fetchall()
        finally:
            cur.close()
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ad_models'").fetchall() == [(0,)]
    finally:
        con.close()
    assert got[0][0] == pytest.approx(want[0][0], rel=1e-6)


def test_plugin_names_the_model_an_onnx_file_holds(mem_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """A file keeps its model's name whatever it is called: calling the file's name says which name to call."""
    onnx = ad_duckdb.export_model(mem_con, "tx_ae", tmp_path / "fraud_ae.onnx")
    plugin = BasePlugin.create("ad_duckdb.dbt", config={"models": [str(onnx)]})
    con = duckdb.connect()
    try:
        plugin.configure_connection(con)
        with pytest.raises(duckdb.Error, match=r"'fraud_ae' is not among the models these functions were registered "
                                               r"with \(no stored model; .*fraud_ae\.onnx' holds 'tx_ae'.*"
                                               r"anomaly_score\('tx_ae', \.\.\.\)"):
            con.execute("SELECT anomaly_score('fraud_ae', 3, 120.5)").fetchall()
    finally:
        con.close()


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A file database with table t(a, b) of 400 rows, for train_model called as a dbt Python model calls it."""
    c = ad_duckdb.connect(str(tmp_path / "r.duckdb"))
    c.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
    yield c
    c.close()


def test_train_model_without_plugin_is_refused() -> None:
    con = duckdb.connect()
    try:
        with pytest.raises(DbtRuntimeError, match=r"needs the plugin in profiles.yml.*module: ad_duckdb.dbt"):
            train_model(con, "tx_ae", "SELECT 1 AS x")
    finally:
        con.close()


def test_train_model_without_retrain_still_retrains_for_other_features(con: duckdb.DuckDBPyConnection) -> None:
    import ad_duckdb
    from ad_duckdb.dbt import train_model

    con.execute("ALTER TABLE t ADD COLUMN c BIGINT; UPDATE t SET c = a::BIGINT % 7")
    first = train_model(con, "ae", "t", features=["a", "b"], max_steps=20)
    same = train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20)
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'ae@2' takes \(a, c\), but 'ae@1' took \(a, b\)"):
        other = train_model(con, "ae", "t", features=["a", "c"], retrain=False, max_steps=20)
    assert first["version"].to_pylist() == same["version"].to_pylist() == [1]
    assert other["version"].to_pylist() == [2] and other["features"].to_pylist() == ["a, c"]


def test_train_model_reads_retrain_as_dbt_renders_it(con: duckdb.DuckDBPyConnection) -> None:
    # dbt renders a config value such as "{{ var('ad_retrain', true) }}" as text, so dbt.config.get("retrain")
    # returns 'False'; before, that non-empty string counted as true and every run silently stored a new version.
    assert train_model(con, "ae", "t", max_steps=20)["version"].to_pylist() == [1]
    for text in ("False", "false", " FALSE "):
        kept = train_model(con, "ae", "t", max_steps=20, retrain=text)
        assert (kept["version"].to_pylist(), kept["trained"].to_pylist()) == ([1], [False])
    assert train_model(con, "ae", "t", max_steps=20, retrain="True")["version"].to_pylist() == [2]
    for bad in ("nope", "", None, 0):
        with pytest.raises(DbtRuntimeError, match=rf"training model 'ae': retrain= must be true or false "
                                                  rf"\(a bool, or the text 'true'/'false' dbt renders\); "
                                                  rf"got {re.escape(repr(bad))}"):
            train_model(con, "ae", "t", max_steps=20, retrain=bad)
    # an unset config key: dbt.config.get('retrain') is None; the refusal says so and gives the default to add
    with pytest.raises(DbtRuntimeError, match=r"got None \(dbt\.config\.get returns None for a config key that is "
                                              r"not set: give it a default, dbt\.config\.get\('retrain', True\)\)"):
        train_model(con, "ae", "t", max_steps=20, retrain=None)
    assert con.execute("SELECT count(*) FROM ad_models").fetchall() == [(2,)]


def test_train_model_in_dbt_build_empty_stores_nothing(con: duckdb.DuckDBPyConnection) -> None:
    # `dbt build --empty` builds every SQL model with no rows (a schema check in CI); the training model then
    # failed with "has no rows to train on" (or, on a source table, stored a new version from a dry run)
    from argparse import Namespace

    import dbt.flags

    con.execute("CREATE TABLE e AS SELECT * FROM t LIMIT 0")
    before = dbt.flags.get_flags()
    dbt.flags.set_flags(Namespace(EMPTY=True))
    try:
        empty = [train_model(con, "ae", src, features=["a", "b"], max_steps=20) for src in ("e", "t")]
    finally:
        dbt.flags.set_flags(before)
    full = train_model(con, "ae", "t", features=["a", "b"], max_steps=20)
    assert [r.num_rows for r in empty] == [0, 0] and all(r.schema == full.schema for r in empty)
    assert full["version"].to_pylist() == [1]  # the --empty calls stored no version


def test_train_model_in_dbt_build_empty_creates_the_store(tmp_path: Path) -> None:
    # the store's tables are a dbt source (threshold_report, model_stored_in_database): on a new database an
    # --empty build failed on "Table with name ad_models does not exist"
    from argparse import Namespace

    import dbt.flags

    con = ad_duckdb.connect(str(tmp_path / "new.duckdb"))
    before = dbt.flags.get_flags()
    dbt.flags.set_flags(Namespace(EMPTY=True))
    try:
        train_model(con, "ae", "SELECT 1.0 AS a LIMIT 0")
        assert con.execute("SELECT count(*) FROM ad_models").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM ad_thresholds").fetchall() == [(0,)]
    finally:
        dbt.flags.set_flags(before)
        con.close()


def test_train_model_names_an_unset_dbt_config_key(con: duckdb.DuckDBPyConnection) -> None:
    # n_models=dbt.config.get("n_models") with the key misspelt in the model's .yml (n_model:) passes None;
    # "Got None instead" did not say where the None came from
    with pytest.raises(DbtRuntimeError, match=r"The 'n_models' parameter must be an int .* Got None instead\. "
                                              r"dbt\.config\.get returns None for a config key the model's config "
                                              r"does not set: check the key's spelling .* or leave n_models= out"):
        train_model(con, "ae", "t", max_steps=20, n_models=None)
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ad_models'").fetchall() == [(0,)]


def test_train_model_refuses_a_dataframe_source_by_name(con: duckdb.DuckDBPyConnection) -> None:
    # dbt.ref(...).df() is common in dbt Python models; the DataFrame's printout was then read as a table name
    # ("Catalog Error: Table with name a   b\n0  0.0 ..."), and an Arrow object's repr likewise
    for frame, kind in ((con.sql("SELECT * FROM t").df(), "DataFrame"), (con.sql("SELECT * FROM t").arrow(), "pyarrow")):
        with pytest.raises(DbtRuntimeError, match=rf"training model 'ae': source= is a .*{kind}.*, not a table: pass "
                                                  r"the relation dbt\.ref\(\.\.\.\) returns") as err:
            train_model(con, "ae", frame, max_steps=20)
        assert "Catalog Error" not in str(err.value)


def test_train_model_names_dbt_text_for_a_numeric_option(con: duckdb.DuckDBPyConnection) -> None:
    # "{{ var('ad_max_steps') }}" in a dbt config arrives as the text '20'; the refusal alone did not say why it was text.
    with pytest.raises(DbtRuntimeError, match=r"The 'max_steps' parameter must be an int .* Got '20' instead\. "
                                              r"dbt renders config values as text: convert it in the Python model, "
                                              r"e\.g\. max_steps=int\(dbt\.config\.get\('max_steps'\)\)"):
        train_model(con, "ae", "t", max_steps="20")
    with pytest.raises(DbtRuntimeError, match=r"Got '0\.01' instead\. .* contamination=float\("):
        train_model(con, "ae", "t", max_steps=20, contamination="0.01")
    with pytest.raises(DbtRuntimeError, match=r"Got 'lots' instead\.$"):  # not a number: no conversion named
        train_model(con, "ae", "t", max_steps=20, contamination="lots")
    # widths as text: the conversion to a list, as for code_sizes
    with pytest.raises(DbtRuntimeError, match=r"Got '\[8, 4\]' instead\. dbt renders config values as text: .* "
                                              r"hidden_dims=\[int\(n\) for n in"):
        train_model(con, "ae", "t", max_steps=20, hidden_dims="[8, 4]")


def test_unknown_model_in_a_dbt_run_names_the_dependency_on_training(tmp_path: Path) -> None:
    # A singular test calling is_anomaly('tx_ae', ...) with no ref to the training model ran before the training
    # on a first build, and was told only to "Train one with `ad-duckdb train`", though the run was about to.
    q = "SELECT anomaly_score('tx_ae', 1.0, 2.0)"
    con = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    try:
        BasePlugin.create("ad_duckdb.dbt", config={}).configure_connection(con)
        cur = con.cursor()  # what a dbt thread gets
        try:
            with pytest.raises(duckdb.Error, match=r"No model 'tx_ae' in table ad_models.* In a dbt run, a model or test "
                                                   r"that names a model trained in the same run must run after its "
                                                   r"training model: select model_ref from it, or add "
                                                   r"`-- depends_on: \{\{ ref\('<training model>'\) \}\}`\."):
                cur.execute(q).fetchall()
        finally:
            cur.close()
    finally:
        con.close()
    plain = ad_duckdb.connect(str(tmp_path / "plain.duckdb"))
    try:
        with pytest.raises(duckdb.Error, match="No model 'tx_ae'") as err:
            plain.execute(q).fetchall()
        assert "dbt" not in str(err.value)
    finally:
        plain.close()


@pytest.mark.parametrize(("ref", "suggestion"), [("tx_ea", "Did you mean 'tx_ae'?"),
                                                ("TX_AE", "model names are case-sensitive: did you mean 'tx_ae'?")])
def test_misspelt_model_in_a_dbt_run_gets_no_depends_on_hint(tmp_path: Path, ref: str, suggestion: str) -> None:
    # 'tx_ea' for the stored 'tx_ae' is a typo: the depends_on advice (for a model trained later in the run) sent
    # people to reorder nodes that were in the right order
    con = duckdb.connect(str(tmp_path / "typo.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
        ad_duckdb.train(con, "tx_ae", "t", **FAST)
        BasePlugin.create("ad_duckdb.dbt", config={}).configure_connection(con)
        cur = con.cursor()
        try:
            with pytest.raises(duckdb.Error, match=rf"No model '{ref}' in table ad_models") as err:
                cur.execute(f"SELECT anomaly_score('{ref}', 1.0, 2.0)").fetchall()
            assert suggestion in str(err.value)
            assert "depends_on" not in str(err.value) and "In a dbt run" not in str(err.value)
            # a name with no close stored one may be trained later in the run: there the hint stays, no guess
            with pytest.raises(duckdb.Error, match=r"No model 'fraud_ae'.* In a dbt run.*depends_on") as err:
                cur.execute("SELECT anomaly_score('fraud_ae', 1.0, 2.0)").fetchall()
            assert "Did you mean" not in str(err.value)
        finally:
            cur.close()
    finally:
        con.close()


def test_missing_version_in_a_dbt_run_does_not_say_refresh(tmp_path: Path) -> None:
    # dbt opens the file for the run and holds its write lock, so the functions know every stored version; the advice
    # to call ad_duckdb.refresh(con) or SIGHUP a server was no fix a dbt model can apply
    with _dbt_cursor_with_ae(tmp_path / "v.duckdb") as cur:
        with pytest.raises(duckdb.Error, match=r"Model 'ae' has no version 9 \(versions: 1\)\. Use 'ae' \(its promoted "
                                               r"version, else its newest\)\. In a dbt run") as err:
            cur.execute("SELECT anomaly_score('ae@9', 1.0, 2.0)").fetchall()
        assert "refresh" not in str(err.value)


@contextmanager
def _dbt_cursor_with_ae(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor as a dbt thread gets it, of a database at ``path`` with model 'ae' stored and the plugin configured."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
        ad_duckdb.train(con, "ae", "t", **FAST)
        BasePlugin.create("ad_duckdb.dbt", config={}).configure_connection(con)
        cur = con.cursor()
        try:
            yield cur
        finally:
            cur.close()
    finally:
        con.close()


@pytest.mark.parametrize("text", ["a, b", "['a', 'b']"])
def test_train_model_names_dbt_text_for_a_feature_list(con: duckdb.DuckDBPyConnection, text: str) -> None:
    # features: "{{ var('features') }}" in a dbt config arrives as one text; it was looked up as one column.
    with pytest.raises(DbtRuntimeError, match=r"is not in 't'; its columns are: a, b\. features= is one text "
                                              r"\(dbt renders config values as text\): pass a list of column names, "
                                              r"e\.g\. features=\['a', 'b'\]"):
        train_model(con, "ae", "t", features=text, max_steps=20)


def _readme_incremental_model() -> str:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sql\n(-- models/marts/tx_scores_inc\.sql\n.*?)```", readme, re.S)
    assert block, "README lost its incremental scoring example"
    return block.group(1)


def test_readme_incremental_model_scores_every_row_after_dbt_build_empty(tmp_path: Path) -> None:
    """The README's incremental model, built first with `--empty` (the README's schema check): the next build must
    score every row. `max(transaction_id)` of the empty table is NULL, so `id > NULL` kept every row out, for good."""
    work = fresh_copy(tmp_path / "dbt_project")
    (work / "models" / "marts" / "tx_scores_inc.sql").write_text(_readme_incremental_model())
    small = ["--select", "+tx_scores_inc", "--vars", "{tx_rows: 1000}"]
    for extra in (["--empty"], []):
        proc = run_dbt(["run", "--profiles-dir", ".", *small, *extra], work)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    con = duckdb.connect(str(work / DB_NAME), read_only=True)
    try:
        got = con.execute("SELECT count(*), count(DISTINCT model_ref) FROM tx_scores_inc").fetchall()[0]
        want = con.execute("SELECT count(*) FROM stg_transactions").fetchall()[0][0]
    finally:
        con.close()
    assert got == (want, 1)


def test_train_model_failure_prints_its_message_once(con: duckdb.DuckDBPyConnection) -> None:
    """dbt-duckdb prints a failed Python model as traceback.format_exception(err), chained causes included: the
    ad_duckdb frames and the same message came twice ("The above exception was the direct cause ..."), for a mistake
    the message alone explains."""
    import traceback

    with pytest.raises(DbtRuntimeError) as info:
        train_model(con, "m", "t", features=["a", "amount_usd"], **FAST)
    printed = "".join(traceback.format_exception(info.value))
    assert printed.count("Column 'amount_usd' is not in") == 1, printed
    assert "direct cause" not in printed and "ad_duckdb/api.py" not in printed, printed
    assert "ad_duckdb/training.py" not in printed, printed  # where train lives


def test_train_model_names_an_unset_dbt_config_key_for_the_model_name(con: duckdb.DuckDBPyConnection) -> None:
    # name = dbt.config.get("ad_modle") (a misspelt key) is None: "Model name None is not valid: use letters, ..."
    # sent the user to the naming rules instead of to the config key
    with pytest.raises(DbtRuntimeError, match=r"name= is None.*dbt.config.get returns None for a config key"):
        train_model(con, None, "t", features=["a", "b"], **FAST)  # type: ignore[arg-type]


def test_dropped_version_in_a_dbt_run_says_to_rebuild_the_training_model(tmp_path: Path) -> None:
    # `ad-duckdb drop tx_ae@1` between runs, then `dbt build --select tx_scores`: tx_model's table still names tx_ae@1.
    # The message added "must run after its training model: select model_ref from it", which the model already did;
    # a dropped version is never trained again (numbers are not reused), so the fix is to rebuild the training model
    con = duckdb.connect(str(tmp_path / "d.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
        ad_duckdb.train(con, "ae", "t", **FAST)
        ad_duckdb.train(con, "ae", "t", **FAST)
        ad_duckdb.drop_model(con, "ae@1")
        BasePlugin.create("ad_duckdb.dbt", config={}).configure_connection(con)
        cur = con.cursor()
        try:
            with pytest.raises(duckdb.Error, match=r"Model 'ae@1' was dropped") as err:
                cur.execute("SELECT anomaly_score('ae@1', 1.0, 2.0)").fetchall()
            assert "must run after its training model" not in str(err.value)
            assert "dbt build --select <training model>+" in str(err.value)
            # and 'ae@1' written in the node's SQL, which no rebuild fixes, is not said to come from a table
            assert "if it comes from a table (a training model's model_ref), that table was built before the drop" \
                in str(err.value)
            assert "if the node's SQL names it, pin a stored version there" in str(err.value)
        finally:
            cur.close()
    finally:
        con.close()


def test_dropped_model_name_in_a_dbt_run_keeps_the_depends_on_hint(tmp_path: Path) -> None:
    # every version of 'ae' dropped: a node calling 'ae' before the run's training model trains it again needs the
    # depends_on advice, not the advice to rebuild a table that names a dropped version
    con = duckdb.connect(str(tmp_path / "d.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
        ad_duckdb.train(con, "ae", "t", **FAST)
        ad_duckdb.drop_model(con, "ae")
        BasePlugin.create("ad_duckdb.dbt", config={}).configure_connection(con)
        cur = con.cursor()
        try:
            with pytest.raises(duckdb.Error, match=r"was dropped.*must run after its training model") as err:
                cur.execute("SELECT anomaly_score('ae', 1.0, 2.0)").fetchall()
            assert "dbt build --select" not in str(err.value)
        finally:
            cur.close()
    finally:
        con.close()


def _attach_profile(path: str, warehouse: Path) -> DuckDBCredentials:
    """The dbt-duckdb layout whose target database is an attached file: `path:` another database, `database: wh`."""
    return DuckDBCredentials.from_dict({"path": path, "database": "wh", "schema": "analytics",
                                        "attach": [{"path": str(warehouse), "alias": "wh"}]})


def test_train_model_refuses_an_in_memory_store_beside_an_attached_target(tmp_path: Path) -> None:
    # path: ':memory:' with the warehouse attached as the target (database: wh): dbt built its tables in wh, but
    # train_model stored the model in the in-memory database, gone when the run ended, while the score tables kept
    # naming 'ae@1'; `ad-duckdb list warehouse.duckdb` then said no model was ever stored
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as w:
        w.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
    creds = _attach_profile(":memory:", warehouse)
    con = duckdb.connect(creds.path)
    try:
        BasePlugin.create("ad_duckdb.dbt", credentials=creds).configure_connection(con)
        con.execute(f"ATTACH '{warehouse}' AS wh")  # as dbt-duckdb does, after the plugins
        cur = con.cursor()  # what a dbt thread gets
        try:
            with pytest.raises(DbtRuntimeError, match=r"training model 'ae': the profile's path: is ':memory:'.*"
                                                      r"target database is 'wh'.*gone when the run ends.*"
                                                      rf"path: {re.escape(str(warehouse))}.*path: models\.duckdb"):
                train_model(cur, "ae", "wh.main.t", **FAST)
            # scoring a model stored in the warehouse (by `ad-duckdb train`) says where the functions read models
            with pytest.raises(duckdb.Error, match=r"No model 'ae'.*read models from the main schema of the "
                                                   r"database at the profile's path: \(':memory:'\), not from the "
                                                   r"target database 'wh'"):
                cur.execute("SELECT anomaly_score('ae', a, b) FROM wh.main.t").fetchall()
        finally:
            cur.close()
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ad_models'").fetchall() == [(0,)]
    finally:
        con.close()


LAYOUT_PROJECT = """
name: layout
version: "1.0.0"
config-version: 2
profile: layout
flags:
  send_anonymous_usage_stats: false
models:
  layout:
    +materialized: table
"""
# the target database (and schema) of each layout, and where the README says the models are stored in it
LAYOUTS = {
    # keep_open: false closes the file between nodes, and dbt opens it again (the plugin registers anew)
    "schema": ("path: warehouse.duckdb\n      schema: analytics\n      keep_open: false", "warehouse.duckdb"),
    "models_file": ("path: models.duckdb\n      attach: [{path: warehouse.duckdb, alias: wh}]\n      database: wh\n"
                    "      schema: analytics", "models.duckdb"),
    "memory": ("path: ':memory:'\n      attach: [{path: warehouse.duckdb, alias: wh}]\n      database: wh\n"
               "      schema: analytics", None),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_dbt_target_schema_or_attached_database(tmp_path: Path, layout: str) -> None:
    """Most dbt projects build into a schema such as `analytics`, or into an attached database: the models go to the
    main schema of the database at `path:` (a dbt source names it), and an in-memory `path:` is refused for training,
    as the model would be lost at the end of the run."""
    target, store = LAYOUTS[layout]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as w:
        w.execute("CREATE SCHEMA raw; CREATE TABLE raw.orders AS SELECT range AS id, 10 + range % 7 AS amount, "
                  "1 + range % 3 AS items FROM range(500)")
    (tmp_path / "dbt_project.yml").write_text(LAYOUT_PROJECT)
    (tmp_path / "profiles.yml").write_text(
        f"layout:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      {target}\n"
        "      plugins: [{module: ad_duckdb.dbt}]\n")
    models = tmp_path / "models"
    models.mkdir()
    store_db = "models" if layout == "models_file" else "warehouse"
    (models / "sources.yml").write_text(
        "version: 2\nsources:\n  - {name: raw, schema: raw, tables: [{name: orders}]}\n"
        f"  - {{name: ad_duckdb, database: {store_db}, schema: main, tables: [{{name: ad_models}}]}}\n")
    (models / "order_model.py").write_text(
        "def model(dbt, session):\n    from ad_duckdb.dbt import train_model\n"
        "    return train_model(session, 'orders_ae', dbt.ref('stg_orders'), features=['amount', 'items'], "
        "max_steps=50, progress=False)\n")
    (models / "stg_orders.sql").write_text("select * from {{ source('raw', 'orders') }}\n")
    (models / "order_scores.sql").write_text(
        "with m as (select model_ref from {{ ref('order_model') }})\n"
        "select o.id, m.model_ref, anomaly_score(m.model_ref, o.amount, o.items) as score,\n"
        "       anomaly_explain(m.model_ref, o.amount, o.items) as why\n"
        "from {{ ref('stg_orders') }} o cross join m\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "model_is_stored.sql").write_text(
        "select * from {{ ref('order_model') }} m where not exists (select 1 from "
        "{{ source('ad_duckdb', 'ad_models') }} a where a.name = m.model and a.version = m.version)\n")
    proc = run_dbt(["build", "--profiles-dir", "."], tmp_path)
    out = proc.stdout + proc.stderr
    if store is None:
        assert proc.returncode != 0, out[-4000:]
        assert "the profile's path: is ':memory:'" in out and "gone when the run ends" in out, out[-4000:]
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as w:
            assert w.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'ad_%'").fetchall() == [(0,)]
        return
    assert proc.returncode == 0, out[-6000:]
    assert "PASS model_is_stored" in proc.stdout
    con = ad_duckdb.connect(str(tmp_path / store), read_only=True)
    try:
        if store != "warehouse.duckdb":
            con.execute(f"ATTACH '{tmp_path / 'warehouse.duckdb'}' AS wh (READ_ONLY)")
        scores = "wh.analytics.order_scores" if store != "warehouse.duckdb" else "analytics.order_scores"
        ref, n, same = con.execute(
            f"SELECT any_value(model_ref), count(*), bool_and(abs(score - anomaly_score(model_ref, o.amount, o.items)) "
            f"< 1e-9) FROM {scores} s JOIN {scores.replace('order_scores', 'stg_orders')} o USING (id)").fetchall()[0]
        assert (ref, n, same) == ("orders_ae@1", 500, True)
        assert con.execute("SELECT count(*) FROM main.ad_models").fetchall() == [(1,)]
    finally:
        con.close()


def test_plugin_refusing_a_version_says_how_to_pin_one_per_run() -> None:
    # models: [tx_ae@7] in the profile is how a user tries to pin a version for a whole run (a rollback without
    # editing SQL); "pin the version in SQL" alone sent them to edit every model, where a dbt var does it per run
    with pytest.raises(DbtRuntimeError, match=r"per run, name it with a var: anomaly_score\('\{\{ var\(\"ad_model_ref\", "
                                              r"\"tx_ae\"\) \}\}', \.\.\.\) and dbt build --vars '\{ad_model_ref: "
                                              r"tx_ae@7\}'"):
        BasePlugin.create("ad_duckdb.dbt", config={"models": ["tx_ae@7"]})


def test_train_in_a_dbt_python_model_refuses_an_in_memory_store_too(tmp_path: Path) -> None:
    # the plugin's docstring lets a dbt Python model call ad_duckdb.train(session, ...) itself: beside an attached
    # target with path: ':memory:', that stored the model where it was gone at the end of the run, as train_model did
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as w:
        w.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
    con = duckdb.connect(":memory:")
    try:
        BasePlugin.create("ad_duckdb.dbt", credentials=_attach_profile(":memory:", warehouse)).configure_connection(con)
        con.execute(f"ATTACH '{warehouse}' AS wh")
        cur = con.cursor()
        try:
            with pytest.raises(ad_duckdb.BadInputError, match=r"Cannot store model 'ae': the profile's path: is "
                                                              r"':memory:'.*gone when the run ends"):
                ad_duckdb.train(cur, "ae", "wh.main.t", **FAST)
        finally:
            cur.close()
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ad_models'").fetchall() == [(0,)]
    finally:
        con.close()


@pytest.mark.parametrize(("path", "kind"), [("ducklake:meta.ducklake", None), ("dbname=shop", "postgres")])
def test_in_memory_store_refusal_beside_a_lake_or_server_target_names_a_models_file(path: str, kind: str | None) -> None:
    # a DuckLake or PostgreSQL target (database: wh) cannot be `path:` as a DuckDB file: the advice to set path: to
    # the attached entry named a DuckLake URL or a connection string as the file to open
    attach: dict[str, str] = {"path": path, "alias": "wh", **({"type": kind} if kind else {})}
    creds = DuckDBCredentials.from_dict({"path": ":memory:", "database": "wh", "attach": [attach]})
    con = duckdb.connect(":memory:")
    try:
        BasePlugin.create("ad_duckdb.dbt", credentials=creds).configure_connection(con)  # before dbt attaches wh
        with pytest.raises(DbtRuntimeError, match=r"gone when the run ends.*To keep it, give the models a file of "
                                                  r"their own, path: models\.duckdb") as err:
            train_model(con, "ae", "SELECT 1.0 AS a", **FAST)
        assert f"set path: {path}" not in str(err.value)
    finally:
        con.close()


@pytest.mark.parametrize("text", ["2,4,8,16", "[2, 4, 8, 16]"])
def test_train_model_says_how_to_pass_code_sizes_dbt_rendered_as_text(con: duckdb.DuckDBPyConnection,
                                                                      text: str) -> None:
    # code_sizes="{{ var('ad_code_sizes') }}" reaches train as the text dbt renders; the refusal named the tuple to
    # give, not how to get it from that text. The conversion it names trains the multi-scale model.
    with pytest.raises(DbtRuntimeError, match=r"The 'code_sizes' parameter must be .* dbt renders config values as "
                                              r"text: convert it in the Python model, e.g\. code_sizes=\[int\(n\) for "
                                              r"n in dbt\.config\.get\('code_sizes'\)\.strip\('\[\]'\)\.split\(','\)\]") as e:
        train_model(con, "ae", "t", max_steps=20, code_sizes=text)
    call = str(e.value).split("e.g. code_sizes=")[1].split("].")[0] + "]"
    sizes = eval(call, {"dbt": type("dbt", (), {"config": {"code_sizes": text}})})  # noqa: S307 - the fix as named
    train_model(con, "ae", "t", max_steps=20, code_sizes=sizes)
    params = json.loads(con.execute("SELECT params FROM ad_models WHERE name = 'ae'").fetchone()[0])
    assert params["code_sizes"] == [2, 4, 8, 16] and params["n_models"] == 4


def test_train_model_refuses_a_code_wider_than_its_layer(con: duckdb.DuckDBPyConnection) -> None:
    # latent_dim=1000 on t's 2 columns trained; now refused, with the bound and the fix
    with pytest.raises(DbtRuntimeError, match=r"latent_dim=1000 on 2 features \(Model 'ae'\): .* set latent_dim to "
                                              r"at most 16"):
        train_model(con, "ae", "t", max_steps=20, latent_dim=1000)
    with pytest.raises(DbtRuntimeError, match=r"code_sizes=\(1000,\) on 2 features \(Model 'ae'\): .* give sizes of "
                                              r"at most 16"):
        train_model(con, "ae", "t", max_steps=20, code_sizes=[1000])


def test_train_model_without_retrain_trains_when_the_config_asks_for_other_members(
        con: duckdb.DuckDBPyConnection) -> None:
    """A project with ad_retrain false that opts into the multi-scale ensemble (code_sizes: [2, 4, 8, 16] in the
    model's config) or sets ad_n_models: 3 kept the stored single autoencoder at every build, with trained false and
    nothing said: as for other features, the stored version is reused only when it is the model asked for."""
    import ad_duckdb

    first = train_model(con, "ae", "t", features=["a", "b"], max_steps=20)
    multi = train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20, code_sizes=[1, 2])
    kept = [train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20, **given)
            for given in ({"code_sizes": (1, 2)}, {"code_sizes": [1, 2], "n_models": 2}, {})]
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'ae@3' is an ensemble of 3 autoencoders with whole codes, "
                                                       r"but 'ae@2' was a multi-scale ensemble"):
        three = train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20, n_models=3)
    again = train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20, n_models=3)
    assert first["version"].to_pylist() == [1]
    assert (multi["version"].to_pylist(), multi["trained"].to_pylist()) == ([2], [True])
    assert [(k["version"].to_pylist(), k["trained"].to_pylist()) for k in kept] == [([2], [False])] * 3
    assert (three["version"].to_pylist(), again["version"].to_pylist(), again["trained"].to_pylist()) == \
        ([3], [3], [False])


def test_train_model_without_retrain_trains_when_the_config_asks_for_other_layer_widths(
        con: duckdb.DuckDBPyConnection) -> None:
    """hidden_dims (and latent_dim) is what the model is made of too: with retrain false, a config that asks for other widths trains
    a new version, and one that asks for the widths stored (given, or the default for the feature count: (32, 16)
    on two features) reuses it. Widths dbt rendered as text are refused with the conversion to write."""
    first = train_model(con, "ae", "t", features=["a", "b"], max_steps=20)
    narrow = train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20, hidden_dims=[16, 8])
    kept = [train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20, **given)
            for given in ({"hidden_dims": (16, 8)}, {})]
    wide = train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20, hidden_dims=(32, 16))
    # the code's length as well: the default's 8 reuses version 3, 4 numbers train version 4
    codes = [train_model(con, "ae", "t", features=["a", "b"], retrain=False, max_steps=20, latent_dim=n)
             for n in (8, 4, 4)]
    assert [r["version"].to_pylist() + r["trained"].to_pylist() for r in (first, narrow, *kept, wide, *codes)] == \
        [[1, True], [2, True], [2, False], [2, False], [3, True], [3, False], [4, True], [4, False]]
    params = json.loads(con.execute("SELECT params FROM ad_models WHERE name = 'ae' AND version = 2").fetchone()[0])
    assert params["hidden_dims"] == [16, 8]
    with pytest.raises(DbtRuntimeError, match=r"The 'hidden_dims' parameter must be .* dbt renders config values as "
                                              r"text: convert it in the Python model, e\.g\. hidden_dims=\[int\(n\) "
                                              r"for n in dbt\.config\.get\('hidden_dims'\)"):
        train_model(con, "ae", "t", max_steps=20, hidden_dims="16,8")


def _small_project(work: Path, models: dict[str, str], project_extra: str = "") -> Path:
    """A dbt project of its own in ``work``: profile with the plugin, ``src`` (two columns a, b) and ``models``."""
    (work / "models").mkdir(parents=True)
    (work / "dbt_project.yml").write_text(
        f"name: small\nversion: '1.0'\nprofile: small\nmodels:\n  small:\n    +materialized: table\n{project_extra}")
    (work / "profiles.yml").write_text(
        "small:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: small.duckdb\n      threads: 1\n"
        "      plugins:\n        - module: ad_duckdb.dbt\n")
    (work / "models" / "src.sql").write_text("select range::double as a, sqrt(range) as b from range(400)\n")
    for name, text in models.items():
        (work / "models" / name).write_text(text)
    return work


_SCORED = "select a, b, anomaly_score('ae@1', a, b) as s from {{ ref('src') }}\n"
_FLAGGED = "select a, b from {{ ref('scored') }} where s > 10\n"


def _unit_tests(expect_score: bool) -> str:
    scored_row = "{a: 1.0, b: 2.0, s: 0.5}" if expect_score else "{a: 1.0, b: 2.0}"
    return f"""unit_tests:
  - name: scored_keeps_rows
    model: scored
    given:
      - input: ref('src')
        rows: [{{a: 1.0, b: 2.0}}]
    expect:
      rows: [{scored_row}]
  - name: flagged_keeps_high_scores
    model: flagged
    given:
      - input: ref('scored')
        rows: [{{a: 1.0, b: 2.0, s: 0.5}}, {{a: 3.0, b: 4.0, s: 50.0}}]
    expect:
      rows: [{{a: 3.0, b: 4.0}}]
"""


def test_unit_test_of_a_scoring_model_under_build_empty_says_what_to_do(tmp_path: Path) -> None:
    # A dbt unit test mocks a model's inputs, but the model's SQL still calls anomaly_score('ae@1', ...), which needs
    # the model stored; `dbt build --empty` on a new database stores none. The message only said to train one or add
    # depends_on, neither of which a unit test in an --empty build can do.
    work = _small_project(tmp_path / "ut", {"scored.sql": _SCORED, "flagged.sql": _FLAGGED,
                                            "ut.yml": _unit_tests(expect_score=True)})
    proc = run_dbt(["build", "--profiles-dir", ".", "--empty"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "No model 'ae' in table ad_models" in out, out[-4000:]
    assert "A dbt unit test (unit_tests:) mocks the model's inputs, but its SQL still calls the function" in out
    assert "This is a `dbt build --empty` run: its training model stores no model" in out
    assert "list under expect: only columns the functions do not compute" in out
    # the README's pattern: the scoring model's unit test leaves the score out of expect, and the logic on scores is
    # unit-tested downstream with mocked scores; both pass with no model stored
    (work / "models" / "ut.yml").write_text(_unit_tests(expect_score=False))
    shutil.rmtree(work / "target", ignore_errors=True)
    (work / "small.duckdb").unlink()
    proc = run_dbt(["build", "--profiles-dir", ".", "--empty"], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "PASS scored::scored_keeps_rows" in proc.stdout and "PASS flagged::flagged_keeps_high_scores" in proc.stdout


def test_unit_test_hint_says_build_empty_only_in_one() -> None:
    from ad_duckdb.dbt import _unit_test_hint

    assert "dbt build --empty" in _unit_test_hint(True) and "--empty` run" not in _unit_test_hint(False)
    assert "A dbt unit test" in _unit_test_hint(False)


_CUT = ("insert or replace into main.ad_thresholds (model, version, threshold_name, value, method, created_at) "
        "values ('ae', 1, 'cut', 0.5, 'manual', now())")


def test_threshold_stored_by_a_models_own_pre_hook(tmp_path: Path) -> None:
    # dbt-duckdb hands the plugin a node's cursor before the node's hooks run, so the store was read before the
    # model's pre_hook stored 'cut'. With transaction: false the hook commits before the model's SQL: the functions
    # now read the store again on a missing threshold and find it. Inside the model's transaction (the default) it
    # is not committed, and no other cursor can read it: the message said to add the threshold the hook had added.
    hooked = ("{{ config(pre_hook=\"" + _CUT + "\") }}\n"
              "select a, b, is_anomaly_at('ae@1', 'cut', a, b) as f from {{ ref('src') }}\n")
    work = _small_project(tmp_path / "hook", {"hooked.sql": hooked})
    con = duckdb.connect(str(work / "small.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400)")
        ad_duckdb.train(con, "ae", "t", **FAST)
    finally:
        con.close()
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "Model 'ae@1' has no threshold 'cut'" in out, out[-4000:]
    assert ("In a dbt run, a threshold stored by the node's own pre_hook inside its transaction (the default) is not "
            "seen by that node: store it with the macro ad_duckdb_set_threshold") in out
    assert "which commits it at once; or give the hook transaction: false" in out
    for fixed in ("{{ config(pre_hook={'sql': \"" + _CUT + "\", 'transaction': false}) }}\n",  # what it says to do
                  "on-run-start"):
        con = duckdb.connect(str(work / "small.duckdb"))
        try:
            con.execute("DELETE FROM ad_thresholds WHERE threshold_name = 'cut'")
        finally:
            con.close()
        body = hooked.split("\n", 1)[1]
        if fixed == "on-run-start":
            (work / "models" / "hooked.sql").write_text(body)
            (work / "dbt_project.yml").write_text((work / "dbt_project.yml").read_text() + f'on-run-start: ["{_CUT}"]\n')
        else:
            (work / "models" / "hooked.sql").write_text(fixed + body)
        proc = run_dbt(["run", "--profiles-dir", "."], work)
        assert proc.returncode == 0, fixed + proc.stdout[-4000:] + proc.stderr[-4000:]
        con = duckdb.connect(str(work / "small.duckdb"), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM hooked").fetchall() == [(400,)]
        finally:
            con.close()


def test_readme_unit_tests_pass_in_dbt_build_empty_on_a_new_database(tmp_path: Path) -> None:
    """The README's unit tests, added to the example project: `dbt build --empty` on a new database (CI) runs them
    with no model stored, as the README says."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n(# models/marts/unit_tests\.yml\n.*?)```", readme, re.S)
    assert block, "README lost its unit test example"
    work = fresh_copy(tmp_path / "dbt_project")
    (work / "models" / "marts" / "unit_tests.yml").write_text(block.group(1))
    proc = run_dbt(["build", "--profiles-dir", ".", "--empty"], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "PASS tx_scores::tx_scores_keeps_every_row" in proc.stdout
    assert "PASS daily_anomaly_rates::daily_rates_count_flags" in proc.stdout


def test_unit_test_paragraph_only_when_a_unit_test_fails(tmp_path: Path) -> None:
    # The paragraph on unit tests' mocked inputs was added to every "model not found" of a dbt run, though a plain
    # `dbt run` runs no unit test: a model naming a model not stored yet read three fixes, two of them about unit tests.
    work = _small_project(tmp_path / "plain", {"scored.sql": _SCORED, "flagged.sql": _FLAGGED,
                                               "ut.yml": _unit_tests(expect_score=False)})
    for args in (["run"], ["build"]):  # build runs the (passing) unit tests first, then the failing model
        proc = run_dbt([*args, "--profiles-dir", "."], work)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out[-4000:]
        assert "No model 'ae' in table ad_models" in out and "must run after its training model" in out, out[-4000:]
        assert "unit test" not in out.split("No model 'ae'", 1)[1], (args, out[-4000:])
    # the unit test whose expect lists the score does call the function: there it is said
    (work / "models" / "ut.yml").write_text(_unit_tests(expect_score=True))
    proc = run_dbt(["test", "--profiles-dir", ".", "--select", "scored"], work)
    out = proc.stdout + proc.stderr
    assert "A dbt unit test (unit_tests:) mocks the model's inputs" in out, out[-4000:]


_LABELLED_SRC = ("select range::double as a, sqrt(range) as b, (range % 97 = 0)::int as lab, "
                 "DATE '2024-01-01' + (range // 20)::int as day from range(400)\n")


def _threshold_project(work: Path, models: dict[str, str]) -> Path:
    """A small project with model 'ae@1' stored and the example project's macro ad_duckdb_set_threshold."""
    _small_project(work, models)
    (work / "models" / "src.sql").write_text(_LABELLED_SRC)
    (work / "macros").mkdir()
    shutil.copy(PROJECT / "macros" / "ad_duckdb_set_threshold.sql", work / "macros")
    con = duckdb.connect(str(work / "small.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(400); "
                    "CREATE TABLE victim AS SELECT 1 AS x")
        ad_duckdb.train(con, "ae", "t", **FAST)
    finally:
        con.close()
    return work


def _stored_thresholds(work: Path) -> dict[str, tuple[str, float]]:
    con = duckdb.connect(str(work / "small.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM victim").fetchall() == [(1,)]
        return {n: (m, v) for n, m, v in con.execute("SELECT threshold_name, method, value FROM ad_thresholds "
                                                     "WHERE model = 'ae' AND version = 1").fetchall()}
    finally:
        con.close()


def test_dbt_macro_sets_thresholds_in_hooks_and_run_operation(tmp_path: Path) -> None:
    # dbt had no way to store a threshold chosen by a goal (max_f1, alarm_rate, ...): only a Python model calling
    # ad_duckdb.set_threshold, or an INSERT of a value. The macro ad_duckdb_set_threshold mirrors `ad-duckdb
    # threshold`: in a model's own pre_hook (seen by that model, though the hook runs in its transaction), in a
    # post_hook with transaction: false on the rows just built, and from dbt run-operation.
    hooked = ("{{ config(pre_hook=\"{{ ad_duckdb_set_threshold('ae', 'cut', 'contamination', target=0.05) }}\") }}\n"
              "select a, b, is_anomaly_at('ae', 'cut', a, b) as f from {{ ref('src') }}\n")
    labelled = ("{{ config(post_hook={'sql': \"{{ ad_duckdb_set_threshold('ae', 'best', 'max_f1', source=this, "
                "label='lab') }}\", 'transaction': false}) }}\nselect * from {{ ref('src') }}\n")
    work = _threshold_project(tmp_path / "th", {"hooked.sql": hooked, "labelled.sql": labelled})
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert re.search(r"ad_duckdb: stored threshold 'cut' = [\d.]+ \(contamination, training scores \(contamination "
                     r"0\.05\)\) for ae@1", out), out[-4000:]
    assert "stored threshold 'best'" in out and "label lab, 400 rows, 5 anomalies" in out
    stored = _stored_thresholds(work)
    assert stored["cut"][0] == "contamination" and stored["best"][0] == "max_f1"
    con = duckdb.connect(str(work / "small.duckdb"), read_only=True)
    try:  # the model read the threshold its own pre_hook stored: about 5% of training-like rows flagged
        assert 0 < con.execute("SELECT count(*) FILTER (WHERE f) FROM hooked").fetchall()[0][0] < 400
    finally:
        con.close()
    # run-operation: alarm_rate with a period, and names and filters holding quotes (kept whole, never run as SQL)
    odd = "x'; DROP TABLE victim; --"
    args = ("{model: ae, name: \"" + odd + "\", method: alarm_rate, source: src, per_day: 2, time: day, "
            "where: \"day >= '2024-01-05'\"}")
    proc = run_dbt(["run-operation", "ad_duckdb_set_threshold", "--profiles-dir", ".", "--args", args], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert f"stored threshold '{odd}'" in out and "target 2 alarms a day" in out, out[-4000:]
    assert _stored_thresholds(work)[odd][0] == "alarm_rate"
    # a mistake names the method and the fix, as set_threshold's own messages do
    proc = run_dbt(["run-operation", "ad_duckdb_set_threshold", "--profiles-dir", ".", "--args",
                    "{model: ae, name: c2, method: contamination, target: 5}"], work)
    assert proc.returncode != 0 and "got 5 (for 5%, target=0.05)" in proc.stdout + proc.stderr


def test_dbt_macro_refuses_to_choose_on_rows_its_transaction_has_not_committed(tmp_path: Path) -> None:
    # In a post_hook inside the model's transaction (a hook's default), the rows just built are not committed: the
    # threshold was chosen on the previous run's table (or the table was not found). It now says to give the hook
    # transaction: false.
    labelled = ("{{ config(post_hook=\"{{ ad_duckdb_set_threshold('ae', 'best', 'max_f1', source=this, "
                "label='lab') }}\") }}\nselect * from {{ ref('src') }}\n")
    work = _threshold_project(tmp_path / "tx", {"labelled.sql": labelled})
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    # (test_ops3_ops: other relations are chosen on there; the message writes out the hook that works)
    assert "which this node writes in its transaction (a hook's default)" in out and "'transaction': false}" \
        in out, out[-4000:]
    assert "best" not in _stored_thresholds(work)


def test_missing_threshold_in_a_dbt_run_names_the_macro(tmp_path: Path) -> None:
    # An INSERT in a model's own pre_hook runs in the model's transaction, which no other cursor reads: the message
    # names the macro, which stores the threshold committed, so the model sees it (see the test above)
    with _dbt_cursor_with_ae(tmp_path / "m.duckdb") as cur, \
            pytest.raises(duckdb.Error, match=r"no threshold 'cut'.* store it with the macro ad_duckdb_set_threshold "
                                              r".*which commits it at once; or give the hook transaction: false"):
        cur.execute("SELECT is_anomaly_at('ae', 'cut', 1.0, 2.0)").fetchall()


def test_misspelt_threshold_in_a_dbt_run_gets_no_pre_hook_paragraph(tmp_path: Path) -> None:
    # 'cutt' for the stored 'cut' is a typo: the paragraph on pre_hooks inside a transaction (for a threshold stored
    # just before, not seen) sent its author to rework hooks the node may not even have, as the misspelt model name's
    # depends_on advice did before it was left out after a guess
    with _dbt_cursor_with_ae(tmp_path / "typo.duckdb") as cur:
        ad_duckdb.set_threshold(cur, "ae", "cut", "manual", value=3.5)
        with pytest.raises(duckdb.Error, match=r"has no threshold 'cutt'.*Did you mean 'cut'\?") as err:
            cur.execute("SELECT is_anomaly_at('ae', 'cutt', 1.0, 2.0)").fetchall()
        assert "pre_hook" not in str(err.value)
        with pytest.raises(duckdb.Error, match=r"has no threshold 'review'.* In a dbt run, a threshold stored by the "
                                               r"node's own pre_hook"):  # a name like no stored one: still said
            cur.execute("SELECT is_anomaly_at('ae', 'review', 1.0, 2.0)").fetchall()


def test_dbt_macro_without_the_plugin_says_to_add_it(tmp_path: Path) -> None:
    # A profile without the plugin has no store_anomaly_threshold: DuckDB's "Scalar Function ... does not exist" named
    # neither the plugin nor the profile
    work = _threshold_project(tmp_path / "np", {})
    (work / "profiles.yml").write_text((work / "profiles.yml").read_text().split("      plugins:")[0])
    proc = run_dbt(["run-operation", "ad_duckdb_set_threshold", "--profiles-dir", ".", "--args",
                    "{model: ae, name: cut, method: manual, value: 3.5}"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert ("ad_duckdb_set_threshold needs the ad_duckdb dbt plugin in the profile: add "
            "`plugins: [{module: ad_duckdb.dbt}]` under the output this run uses (--target)") in out, out[-4000:]


def test_dbt_macro_takes_weight(tmp_path: Path) -> None:
    # set_threshold's weight= (labelled rows that are a sample) came in the same round as the macro, which knew
    # neither it nor store_anomaly_threshold's options: a dbt run could not choose a goal on sampled rows.
    work = _threshold_project(tmp_path / "w", {})
    args = ("{model: ae, name: best_w, method: max_f1, label: lab, weight: w, source: \"SELECT a, b, "
            "(a::int % 97 = 0)::int AS lab, if(a::int % 97 = 0, 1, 10) AS w FROM t\"}")
    proc = run_dbt(["run-operation", "ad_duckdb_set_threshold", "--profiles-dir", ".", "--args", args], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "stored threshold 'best_w'" in out and "weighted by w: 3955 rows, 5 anomalies" in out, out[-4000:]
    assert _stored_thresholds(work)["best_w"][0] == "max_f1"


def test_dbt_macro_takes_series_and_tz(tmp_path: Path) -> None:
    # set_threshold's series= (several sensors in one table) and tz= (the zone whose days count) came after the macro,
    # which refused both: a dbt run could not count episodes per sensor nor read a Pacific table's days. Each is
    # stored with the threshold's goal, so a retrain and check-threshold read them as the macro gave them.
    work = _threshold_project(tmp_path / "st", {})
    source = ("SELECT (range % 400)::DOUBLE AS a, sqrt(range % 400) AS b, range % 2 AS sensor, "
              "TIMESTAMP '2024-01-01' + to_minutes((range // 2) * 10) AS ts FROM range(2880)")
    args = ("{model: ae, name: two_a_day, method: alarm_rate, per_day: 2, time: ts, series: sensor, "
            f"tz: America/Los_Angeles, source: \"{source}\"}}")
    proc = run_dbt(["run-operation", "ad_duckdb_set_threshold", "--profiles-dir", ".", "--args", args], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "stored threshold 'two_a_day'" in out, out[-4000:]
    assert _stored_thresholds(work)["two_a_day"][0] == "alarm_rate"
    con = duckdb.connect(str(work / "small.duckdb"), read_only=True)
    try:
        metrics = json.loads(con.execute("SELECT metrics::VARCHAR FROM ad_models WHERE name = 'ae'").fetchall()[0][0])
    finally:
        con.close()
    goal = metrics["threshold_goals"]["two_a_day"]
    assert goal["series"] == "sensor" and goal["tz"] == "America/Los_Angeles", goal
    # a misspelt zone is refused by name, through the macro as from Python
    bad = args.replace("America/Los_Angeles", "America/Los_Angles")
    proc = run_dbt(["run-operation", "ad_duckdb_set_threshold", "--profiles-dir", ".", "--args", bad], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "tz='America/Los_Angles' is no time zone" in out, out[-4000:]  # the macro's words


_SENSORS = """{{ config(post_hook={'sql': "{{ ad_duckdb_set_threshold('ae', 'biz', 'alarm_rate', source=this, per_day=3,
                                   time='ts', series='sensor') }}", 'transaction': false}) }}
-- two sensors reading every 5 minutes on weekdays 9:00-16:55 of three weeks, Pacific time
select ((i // 2) % 400)::double as a, sqrt((i // 2) % 400) as b, i % 2 as sensor,
       timezone('America/Los_Angeles', TIMESTAMP '2024-01-08 09:00:00' + to_days(((i // 192) // 5) * 7 + (i // 192) % 5)
                + to_minutes(((i // 2) % 96) * 5)) as ts
from range(2880) r(i)
"""


def test_dbt_macro_reads_days_in_the_profiles_time_zone(tmp_path: Path) -> None:
    # A profile's `settings: {TimeZone: ...}` is SET on each of dbt's cursors, not on the connection the plugin's
    # function stores through: the macro's alarm_rate read a TIMESTAMPTZ's days in the process's zone (UTC), where
    # Pacific business hours run over midnight (17:00-00:55), so the statement said "9 of the 24 hours" and the
    # weekend and volume checks read other days than every model of the run. It now reads the node's zone.
    work = _threshold_project(tmp_path / "tz", {"sensors.sql": _SENSORS})
    profile = work / "profiles.yml"
    profile.write_text(profile.read_text() + "      settings:\n        TimeZone: America/Los_Angeles\n")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "sensors"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    con = duckdb.connect(str(work / "small.duckdb"), read_only=True)
    try:
        on = con.execute("SELECT chosen_on FROM ad_thresholds WHERE threshold_name = 'biz'").fetchall()[0][0]
    finally:
        con.close()
    on = " ".join(on.split())
    assert "its rows fall at 09:00-16:59 of each day" in on and "192 rows a day" in on, on


def test_a_model_fed_a_column_in_other_units_gets_one_note(built: tuple[Path, subprocess.CompletedProcess[str]],
                                                           tmp_path: Path) -> None:
    """A dbt model fed ``count * 50`` (a unit change upstream) had every row flagged, and the run said nothing; the
    SQL functions now note the column once per connection (batchdrift), in dbt's output. The example's own models
    (ordinary rows) get no such note."""
    proc = built[1]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "training range" not in proc.stdout + proc.stderr
    # a copy: the run writes the file, which this process holds open read-only (fixture db)
    work = shutil.copytree(built[0], tmp_path / "dbt_project", ignore=shutil.ignore_patterns("logs"))
    model = work / "models" / "marts" / "drifted_scores.sql"
    model.write_text("with model as (select model_ref from {{ ref('tx_model') }})\n"
                     "select count(*) filter (where is_anomaly(m.model_ref, t.count * 50, t.amount, t.distinct_cards, "
                     "t.refunds)) as n\nfrom {{ ref('stg_transactions') }} as t cross join model as m\n")
    run = run_dbt(["run", "--profiles-dir", ".", "--select", "drifted_scores"], work)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    notes = [line for line in run.stdout.splitlines() if "ad_duckdb adapter: note: is_anomaly(" in line]
    assert len(notes) == 1, out[-4000:]
    assert "'count'" in notes[0] and "(50x)" in notes[0] and "'amount'" not in notes[0], notes[0]
